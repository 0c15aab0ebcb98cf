"""The myths study: every myth scenario states claims; the README's verdicts come from its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.config.variants import load_experiment
from sim.experiment.myths import (
    ARGUMENT_BEGIN,
    ARGUMENT_END,
    README_BEGIN,
    README_END,
    argument_block,
    readme_block,
)
from tests.conftest import ROOT, SCENARIOS

MYTHS = SCENARIOS / "myths"


def test_every_myth_states_claims_and_no_prose_conclusions() -> None:
    for path in sorted(MYTHS.glob("*.yaml")):
        if path.name == "centre.yaml":  # the shared centre the myths extend
            continue
        text = path.read_text()
        assert "What the run shows" not in text, path
        exp = load_experiment(path)
        assert exp.claims, f"{path.name} states no claims"
        assert all(c.source for c in exp.claims.values()), f"{path.name}: a claim without its source"


def test_readme_table_is_the_one_generated_from_the_study_output() -> None:
    payload = json.loads((ROOT / "docs" / "myths" / "myths.json").read_text())
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_block(payload)
    # the output covers every claim the myth files state, and nothing else
    stated = {(p.name, n) for p in MYTHS.glob("*.yaml") for n in load_experiment(p).claims}
    assert {(c["file"], c["name"]) for c in payload["claims"]} == stated
    assert not payload["quick"]


@pytest.mark.slow
def test_study_myths_quick_runs_and_writes_one_page(tmp_path: Path) -> None:
    out = tmp_path / "myths"
    result = CliRunner().invoke(main, ["study", "myths", "--quick", "-j", "1", "-q", "--folder", str(MYTHS),
                                       "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "myths.json").read_text())
    stated = {(p.name, n) for p in MYTHS.glob("*.yaml") for n in load_experiment(p).claims}
    assert {(c["file"], c["name"]) for c in payload["claims"]} == stated
    assert {c["verdict"] for c in payload["claims"]} <= {"holds", "does not hold", "undecided"}
    # claims whose truth the model fixes by construction, even with 3 replications
    verdict = {c["name"]: c["verdict"] for c in payload["claims"]}
    assert verdict["auto_reply_answers_at_once"] == "holds"  # an auto-reply answers at once
    assert verdict["dumped_calls_arrive"] == "holds"  # 26 % of answered posts phone in
    turning = [c for c in payload["claims"] if c["turning"]]
    assert turning and all((out / f).exists() for f in ("myths.md", "myths.html"))
    assert len(list(out.glob("turning-*.png"))) == len(turning)
    assert "[holds]" in result.stdout and "source:" in result.stdout


def test_study_myths_on_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["study", "myths", "--folder", str(tmp_path / "nope"), "-q"])
    assert result.exit_code == 2 and "no such folder" in result.stderr


ARGUMENT = SCENARIOS / "argument" / "growing_company.yaml"
SENTENCES = [
    "Good customer service isn't scalable.",
    "Diverting agents to social without hiring makes service worse.",
    "Response is not resolution.",
    "Social raises complaint volume.",
    "Auto-replies backfire.",
    "Social cannot replace phone and email.",
    "Social cases are dumped on the call centre.",
    "Social traffic mixes complaints, questions, feedback and jokes.",
    "There are many platforms.",
]


def test_the_argument_scenario_covers_every_sentence_and_opens_social_three_ways() -> None:
    exp = load_experiment(ARGUMENT)
    sources = [c.source or "" for c in exp.claims.values()]
    for sentence in SENTENCES:
        assert any(s.startswith(sentence.rstrip(".")) for s in sources), sentence
    assert {"no_hire", "hire", "pooled"} <= set(exp.variants)
    assert "social" not in exp.baseline.channels and all(
        "social" in exp.variants[v].channels for v in ("no_hire", "hire", "pooled")
    )


def test_readme_quotes_the_argument_verdicts_from_its_output() -> None:
    payload = json.loads((ROOT / "docs" / "argument" / "compare.json").read_text())
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(ARGUMENT_BEGIN), readme.index(ARGUMENT_END) + len(ARGUMENT_END)
    assert readme[start:end] == argument_block(payload)
    assert [c["name"] for c in payload["claims"]] == list(load_experiment(ARGUMENT).claims)


@pytest.mark.slow
def test_the_argument_output_is_what_compare_computes_today() -> None:
    """Same scenario and seed ⇒ the same verdicts: the README's quotes are current."""
    result = CliRunner().invoke(main, ["compare", str(ARGUMENT), "-j", "1", "-q", "--json"])
    assert result.exit_code == 0, result.output
    now = json.loads(result.stdout)["claims"]
    saved = json.loads((ROOT / "docs" / "argument" / "compare.json").read_text())["claims"]
    assert [(c["name"], c["verdict"], c["evidence"]) for c in now] == [
        (c["name"], c["verdict"], c["evidence"]) for c in saved
    ]

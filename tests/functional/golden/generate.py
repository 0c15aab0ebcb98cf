"""Recompute the golden numbers of every shipped scenario (see README.md beside this file).

Run from the repository root: ``python tests/golden/generate.py [OUT.json.gz]``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import yaml

import sim

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).with_name("shipped_scenarios.json.gz")
SEED, REPLICATIONS = 7, 2
COMPARED = ["variant", "scope", "name", "metric", "baseline_mean", "variant_mean", "diff_mean"]


def scenario_files() -> list[Path]:
    """Every shipped scenario file, relative to the repository root."""
    return sorted(p.relative_to(ROOT) for p in (ROOT / "scenarios").rglob("*.yaml"))


def numbers(relative: Path) -> dict[str, Any]:
    """One scenario's replications, intervals and (with variants) compared means, as JSON."""
    path = ROOT / relative
    result = sim.run(path, replications=REPLICATIONS, seed=SEED)
    frames = {"replications": result.replications(), "intervals": result.intervals()}
    if "variants" in (yaml.safe_load(path.read_text()) or {}):
        frames["compare"] = sim.compare(path, replications=REPLICATIONS, seed=SEED).table()[COMPARED]
    return {
        k: json.loads(v.to_json(orient="split", index=False, double_precision=15)) for k, v in frames.items()
    }


def main() -> None:
    """Write the golden file (or the path given) from the current code."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN
    data = {str(p): numbers(p) for p in scenario_files()}
    out.write_bytes(gzip.compress(json.dumps(data, sort_keys=True).encode(), mtime=0))


if __name__ == "__main__":
    main()

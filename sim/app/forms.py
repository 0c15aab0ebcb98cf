"""Forms for a scenario, generated from its pydantic schema: channels, agent groups, routing.

Each field of a scenario model (`sim.config.schema`) that the draft sets, or that has a
plain default (a group's shrinkage and cost), becomes one widget chosen from the field's
type: a whole number, a number, a choice among a `Literal`'s values, text, a tick box, the
channels for a group's skills, or a list of numbers as text. Nested models are followed
(a channel's arrivals and handle time); long lists and tables (a trace, a staffing table,
shifts) are shown as a summary, to edit in the YAML. Each widget writes one key path of
the draft, and shows the CLI's message for that key path right under it.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import panel as pn
from pydantic import BaseModel

from sim.app.draft import Draft, KeyPath, dotted
from sim.config.schema import AgentGroup, Channel, Routing

MAX_LIST = 200
"""Lists longer than this are summarised, not edited in a text box."""

OnEdit = Callable[[KeyPath, Any], None]


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The field's type without Optional / Annotated, and the union members when a union."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
        return annotation, [_unwrap(m)[0] for m in members]
    return annotation, []


def _model_for(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model a nested mapping is validated by (for a union, the one its `dist` names)."""
    base, members = _unwrap(annotation)
    candidates = members or [base]
    models = [m for m in candidates if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) == 1:
        return models[0]
    if isinstance(value, dict) and "dist" in value:
        for m in models:
            field = m.model_fields.get("dist")
            if field is not None and value["dist"] in typing.get_args(_unwrap(field.annotation)[0]):
                return m
    return None


def css(path: KeyPath) -> str:
    """The CSS class of the widget for a key path (the browser tests find fields by it)."""
    return "f-" + "-".join(str(p) for p in path)


class Field:
    """One widget for one key path, with the CLI's message about that path under it."""

    def __init__(self, path: KeyPath, widget: pn.widgets.Widget, parse: Callable[[Any], Any]) -> None:
        self.path = path
        self.widget = widget
        self.parse = parse
        self.error = pn.pane.HTML("", css_classes=["field-error", css(path) + "-error"], visible=False)
        self.view = pn.Column(widget, self.error, margin=(0, 0, 4, 0))

    def show(self, messages: list[str]) -> None:
        """Show the messages about this field (none: hide)."""
        text = "<br>".join(f"{dotted(self.path)}: {m}" for m in messages)
        self.error.object = (
            f'<span class="field-message" style="color:#b00020">{_escape(text)}</span>' if messages else ""
        )
        self.error.visible = bool(messages)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _numbers(text: Any) -> list[float]:
    parts = [p for p in str(text).replace("[", " ").replace("]", " ").replace(",", " ").split() if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError("write numbers separated by commas") from None


def _widget(path: KeyPath, name: str, annotation: Any, value: Any, channels: list[str]) -> Field | None:
    """The widget for a scalar field, or None when the field is not a plain value."""
    base, members = _unwrap(annotation)
    kw: dict[str, Any] = {"label": name, "css_classes": [css(path)], "width": 220}
    if members:
        return None
    if base is bool:
        return Field(path, pn.widgets.Checkbox(value=bool(value), **kw), bool)
    if base is int:
        return Field(path, pn.widgets.IntInput(value=value, **kw), lambda v: v)
    if base is float:
        return Field(path, pn.widgets.FloatInput(value=value, **kw), lambda v: v)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        options = [e.value for e in base]
        return Field(path, pn.widgets.Select(options=options, value=value, **kw), lambda v: v)
    if typing.get_origin(base) is typing.Literal:
        options = list(typing.get_args(base))
        return Field(path, pn.widgets.Select(options=options, value=value, **kw), lambda v: v)
    if base is str:
        return Field(path, pn.widgets.TextInput(value="" if value is None else str(value), **kw), lambda v: v)
    origin = typing.get_origin(base)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(base) or (Any,)
        item = _unwrap(item)[0]
        if name == "skills":
            opts = list(dict.fromkeys([*channels, *value]))
            return Field(path, pn.widgets.MultiChoice(options=opts, value=list(value), **kw), list)
        if item in (float, int) and len(value) <= MAX_LIST:
            text = ", ".join(f"{v:g}" for v in value)
            kw["width"] = 460
            return Field(path, pn.widgets.TextAreaInput(value=text, rows=2, **kw), _numbers)
        if item is str and len(value) <= MAX_LIST:
            text = ", ".join(value)
            return Field(
                path,
                pn.widgets.TextInput(value=text, **kw),
                lambda v: [s.strip() for s in v.split(",") if s.strip()],
            )
    return None


def model_form(
    model: type[BaseModel], data: dict[str, Any], path: KeyPath, channels: list[str], fields: list[Field]
) -> list[Any]:
    """Widgets for one model's fields (recursively), appending each `Field` to `fields`."""
    items: list[Any] = []
    for name, info in model.model_fields.items():
        present = name in data
        value = data.get(name, info.default if not info.is_required() else None)
        if not present and (value is None or isinstance(value, (dict, list, BaseModel))):
            continue  # unset, no plain default: not part of this scenario
        sub = (*path, name)
        field = _widget(sub, name, info.annotation, value, channels)
        if field is not None:
            fields.append(field)
            items.append(field.view)
            continue
        nested = _model_for(info.annotation, value)
        if nested is not None and isinstance(value, dict):
            inner = model_form(nested, value, sub, channels, fields)
            items.append(pn.Card(*inner, title=name, collapsed=False, margin=(2, 0)))
            continue
        base, _ = _unwrap(info.annotation)
        if typing.get_origin(base) is dict and isinstance(value, dict):
            value_type = _unwrap(typing.get_args(base)[1])[0]
            if isinstance(value_type, type) and issubclass(value_type, BaseModel):
                cards = [
                    pn.Card(*model_form(value_type, v, (*sub, k), channels, fields), title=f"{name}: {k}")
                    for k, v in value.items()
                ]
                items.extend(cards)
                continue
        items.append(pn.pane.Markdown(f"`{name}`: {_summary(value)} (edit in the YAML file)"))
    return items


def _summary(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)} entries"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} keys"
    return repr(value)[:60]


def scenario_forms(draft: Draft, on_edit: OnEdit) -> tuple[pn.Tabs, list[Field]]:
    """Tabs of forms (Channels, Agent groups, Routing) for a draft, and all their fields.

    `on_edit(path, value)` is called with the parsed value when a field changes, or with
    an exception instance when the text cannot be parsed (e.g. letters in a number list).
    """
    fields: list[Field] = []
    channels = draft.channels()
    chan_cards = [
        pn.Card(
            *model_form(Channel, draft.data["channels"][c], ("channels", c), channels, fields),
            title=f"channel: {c}",
        )
        for c in channels
    ]
    group_cards = [
        pn.Card(
            *model_form(AgentGroup, draft.data["agents"][g], ("agents", g), channels, fields),
            title=f"agent group: {g}",
        )
        for g in draft.groups()
    ]
    routing = model_form(Routing, draft.data.get("routing") or {}, ("routing",), channels, fields)
    for f in fields:
        f.widget.param.watch(_handler(f, on_edit), "value")
    tabs = pn.Tabs(
        ("Agent groups", pn.FlexBox(*group_cards)),
        ("Channels", pn.FlexBox(*chan_cards)),
        ("Routing", pn.Column(*routing)),
        dynamic=False,
    )
    return tabs, fields


def _handler(field: Field, on_edit: OnEdit) -> Callable[[Any], None]:
    def changed(event: Any) -> None:
        try:
            value = field.parse(event.new)
        except ValueError as exc:
            on_edit(field.path, exc)
            return
        on_edit(field.path, value)

    return changed

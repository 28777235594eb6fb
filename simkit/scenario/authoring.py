"""Writing scenarios: docs/scenarios.md and the `simkit init` template, both read off the schema.

The schema (`simkit.scenario.schema`) is the one reference: every key's meaning, kind and range is
its field description, and each section's docstring says what the section is. This module walks
it (pydantic's `model_fields`) so that the page and the template name every key there is, and no
key that is not; a field added to the schema appears in both after `make docs`.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simkit.scenario.provenance import Count, Days, NonNegative, Param, Positive, Real, Share
from simkit.scenario.schema import EventBase, Scenario, ScheduledEvent, Section

KINDS: dict[type[Param], tuple[str, float]] = {
    Share: ("share, 0 to 1", 0.5),
    Positive: ("number above 0", 1.0),
    NonNegative: ("number, 0 or more", 1.0),
    Count: ("whole number, 0 or more", 100),
    Days: ("whole number of days, 1 or more", 30),
    Real: ("number", 0.1),
}
"""What each kind of number is called in the docs, and a valid value for the template's event examples."""

PLACEHOLDER = "placeholder from {like}: replace with a source or a reason"
"""The provenance of every number `simkit init` writes: valid, and plainly not yet a reason."""


@dataclass(frozen=True)
class Key:
    """One key of a section: its name, how it is written and what it means."""

    name: str
    info: FieldInfo

    @property
    def param(self) -> type[Param] | None:
        """The kind of number (Share, Count, ...) when the key is a number with provenance."""
        kind = self.info.annotation
        return kind if isinstance(kind, type) and issubclass(kind, Param) else None

    @property
    def section(self) -> type[Section] | None:
        """The section class when the key holds a section, or a list of them."""
        kind = self.info.annotation
        if typing.get_origin(kind) is list:
            kind = typing.get_args(kind)[0]
        return kind if isinstance(kind, type) and issubclass(kind, Section) else None

    @property
    def is_list(self) -> bool:
        """Whether the key holds a list."""
        return typing.get_origin(self.info.annotation) is list

    @property
    def written(self) -> str:
        """How a value is written, for the docs."""
        if self.param is not None:
            kind = next(text for cls, (text, _) in KINDS.items() if issubclass(self.param, cls))
            return f"`{{value: …}}`, {kind}"
        kind = self.info.annotation
        if self.name == "events":
            return "list of events (below)"
        if self.section is not None:
            return "list of sections (below)" if self.is_list else "section (below)"
        names = {str: "text", bool: "`true` or `false`", dt.date: "date, `YYYY-MM-DD`"}
        if kind in names:
            return names[kind]
        if typing.get_origin(kind) is list:
            return "list of text, e.g. `[A, B]`"
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kinds = [arg for arg in typing.get_args(kind) if arg is not type(None)]
            return " or ".join(names.get(arg, str(arg)) for arg in kinds) + " (or none)"
        if typing.get_origin(kind) is typing.Literal:
            return " or ".join(f"`{arg}`" for arg in typing.get_args(kind))
        return str(kind)

    @property
    def meaning(self) -> str:
        """What the key means, its range and why (the field description), and its default if optional."""
        text = self.info.description or ""
        if self.section is not None and not text:  # a section says what it is in its docstring
            summary = _summary(self.section)
            text = summary.split(":` ", 1)[-1]
        if not self.info.is_required():
            default = self.info.get_default(call_default_factory=True)
            shown = "empty" if default in ("", []) else "none" if default is None else json.dumps(default)
            text = f"{text} (optional; default {shown})" if text else f"optional; default {shown}"
        return text


def keys(section: type[BaseModel]) -> list[Key]:
    """The keys of a section, in schema order."""
    return [Key(name, info) for name, info in section.model_fields.items()]


def event_types() -> list[type[EventBase]]:
    """Every kind of scheduled event, in the schema's order."""
    union = typing.get_args(ScheduledEvent)[0]
    return list(typing.get_args(union))


def _event_type(event: type[EventBase]) -> str:
    return typing.get_args(event.model_fields["type"].annotation)[0]


def _summary(cls: type) -> str:
    return " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())


def _sections(root: type[Section] = Scenario, path: str = "") -> Iterator[tuple[str, type[Section]]]:
    """Every section under `root` with its path (`committees[]`, `packages.truce`), depth first."""
    for key in keys(root):
        if key.section is not None and key.name != "events":
            where = f"{path}{key.name}" + ("[]" if key.is_list else "")
            yield where, key.section
            yield from _sections(key.section, f"{where}.")


# ---------------------------------------------------------------- docs/scenarios.md
def scenarios_doc() -> str:
    """docs/scenarios.md: every key of a scenario file, its kind and meaning, from the schema."""
    esc = str.maketrans({"|": "\\|", "\n": " "})

    def table(section: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
        rows = ["| key | written as | meaning |", "| --- | --- | --- |"]
        for key in keys(section):
            if key.name not in skip:
                cells = (f"`{key.name}`", key.written, key.meaning)
                rows.append("| " + " | ".join(cell.translate(esc) for cell in cells) + " |")
        return rows

    out = [
        "# Scenarios: every key of a scenario file",
        "",
        "<!-- generated from simkit/scenario/schema.py by `make docs`; do not edit by hand -->",
        "",
        "A scenario is a YAML file describing one besieged area: its calendar, the regime, the mediator,",
        "the negotiating committees, the armed factions, the resident groups, how households behave, the",
        "detainee list, aid, the terms of the two packages, the events known to happen by date, and the",
        "thresholds that decide the outcome. Start a new one with `simkit init NAME` (a commented template",
        "whose every number is a placeholder to replace) and check it with `simkit validate FILE`.",
        "",
        "Every number (`{value: …}` below) is written with its provenance, exactly one of a source or",
        "a stated assumption:",
        "",
        "```yaml",
        'siege_tightness: {value: 0.9, source: "seed 000 and seed 002: airtight encirclement"}',
        'truce_appetite: {value: 2.0, assumed: "a stretched regime accepts most truce rounds"}',
        "```",
        "",
        "An unknown key is an error (a typo is never ignored; the error suggests the key you may have",
        "meant), and so is a number outside its range; each range and its reason are in the meaning",
        "below. Across fields, a scenario is refused when resident localities repeat, when a locality",
        "has no committee or two, when the factions' fighters (with `behaviour.family_per_fighter`",
        "family members each) outnumber the residents, when an event falls outside the run",
        "(`start` to `start + horizon_days - 1`), or when a truce's first release stage comes after its",
        "final one. `--set PATH=VALUE` and sweeps name the same keys by dotted path",
        "(`regime.siege_tightness`, `committees.0.red_line_firmness`, `residents.Waer.food_days`). The",
        "mechanisms that use each number: [model.md](model.md); the ranges: [inputs.md](inputs.md).",
        "",
        "## The file",
        "",
        _summary(Scenario),
        "",
        *table(Scenario),
    ]
    for path, section in _sections():
        out += ["", f"## `{path}`", "", _summary(section), "", *table(section)]
    out += [
        "",
        "## `events[]`",
        "",
        _summary(EventBase),
        "Every event has these keys, and `type` chooses the others:",
        "",
        *table(EventBase),
    ]
    for event in event_types():
        out += ["", f"### `type: {_event_type(event)}`", "", _summary(event)]
        own = [key.name for key in keys(event) if key.name in EventBase.model_fields or key.name == "type"]
        if len(own) < len(event.model_fields):
            out += ["", *table(event, skip=tuple(own))]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- simkit init
def template(name: str, like: Scenario, like_name: str) -> str:
    """A commented scenario file for a new place, valid as it stands: `simkit init NAME`.

    The structure and every comment come from the schema; the numbers are `like`'s (one committee,
    one faction and one resident group: its first ones, named after the new place), each marked as a
    placeholder to replace. The events list is empty, with a commented example of every event type.

    Args:
        name: The new scenario's name (also its locality, committee and faction names).
        like: A valid scenario whose numbers fill the template.
        like_name: How the placeholders name `like` (e.g. `waer.yaml`).
    """
    placeholder = PLACEHOLDER.format(like=like_name)
    data = like.model_dump()
    data.update(name=name, description=f"TODO: the place, the siege and the period of {name}", events=[])
    data["committees"] = [{**data["committees"][0], "name": f"{name} committee", "localities": [name]}]
    data["factions"] = [{**data["factions"][0], "name": f"{name} fighters"}]
    data["residents"] = [{**data["residents"][0], "locality": name}]
    header = (
        f"Scenario {name}: written by `simkit init` from {like_name}'s numbers. Replace each number and "
        "its `assumed:` placeholder with the value for this place and its `source:` (a seed file, or "
        "outlet and date) or the reason you assume it. Every key is explained in docs/scenarios.md; "
        "check the file with `simkit validate`. A scenario holds only what was known at its start "
        "date, plus documented outside events on their dates, never its ending."
    )
    lines = _comment(header, 0)
    lines += _emit(Scenario, data, 0, placeholder)
    return "\n".join(lines) + "\n"


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent + "# "
    return textwrap.wrap(text, width=104, initial_indent=pad, subsequent_indent=pad) if text else []


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a YAML double-quoted string
    return repr(value)


def _number(value: Any, provenance: str) -> str:
    return f"{{value: {_scalar(value)}, assumed: {_scalar(provenance)}}}"


def _emit(section: type[BaseModel], data: dict, indent: int, placeholder: str) -> list[str]:
    """The keys of one section as YAML lines, each preceded by its description as a comment."""
    pad = " " * indent
    lines: list[str] = []
    for key in keys(section):
        value = data.get(key.name)
        if key.name == "events":
            about = "`events[]:` what is known to happen on a date (outside the negotiation); none yet."
            lines += ["", *_comment(about, indent), f"{pad}events: []"]
            lines += _event_examples(indent)
            continue
        if key.section is not None:
            lines += ["", *_comment(_summary(key.section), indent), f"{pad}{key.name}:"]
            if key.is_list:
                for item in value:
                    body = _emit(key.section, item, indent + 4, placeholder)
                    first = next(i for i, line in enumerate(body) if not line.lstrip().startswith("#"))
                    body[first] = f"{pad}  - {body[first].lstrip()}"
                    lines += body
            else:
                lines += _emit(key.section, value, indent + 2, placeholder)
            continue
        if key.param is not None:
            shown = _number(value["value"], placeholder)
        elif key.name == "note" and not value:
            continue
        else:
            shown = _scalar(value)
        lines += [*_comment(key.meaning, indent), f"{pad}{key.name}: {shown}"]
    return lines


def _event_examples(indent: int) -> list[str]:
    """One commented example per event type (uncommented, each is a valid entry of `events:`)."""
    placeholder = "an example value: replace with a source or a reason"
    pad = " " * indent
    lines = [f"{pad}# Examples, one per type (remove the leading '# ' to use one; dates inside the run):"]
    for event in event_types():
        fields = [f"type: {_event_type(event)}", "date: YYYY-MM-DD"]
        for key in keys(event):
            if key.param is not None:
                sample = next(v for cls, (_, v) in KINDS.items() if issubclass(key.param, cls))
                fields.append(f"{key.name}: {_number(sample, placeholder)}")
        fields.append('note: "what happened, and its source"')
        lines += _comment(_summary(event), indent)
        lines.append(f"{pad}# - {{{', '.join(fields)}}}")
    return lines

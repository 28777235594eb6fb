"""Documented trajectories: what happened in a case, dated and sourced, as validated data.

A trajectory file (`calibration/*_trajectory.yaml`) encodes the documented
timeline of one case: its dated events, typed with the simulation's own
`EventType` names so they can be matched against simulated runs, the figures
reported for them as ranges where sources disagree, documented totals, and the
outcome (absent while a case is open). It is the yardstick for comparing runs
and the target for calibration. Every event and every figure carries its sources.

Dates are real dates; a period reported only as a month ("Dec 2015") is written
as a window `{from: 2015-12-01, to: 2015-12-31}` with a `note` saying so.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from simkit.model.events import EventType
from simkit.yamlio import InputError, YamlPath, dump_yaml, format_validation_error, line_of, read_yaml

__all__ = [
    "Event",
    "Outcome",
    "OutcomeClass",
    "Quantity",
    "Range",
    "Trajectory",
    "Window",
    "dump_trajectory",
    "load_trajectory",
]

OutcomeClass = Literal[
    "surrender_evacuation", "reconciliation", "military_takeover", "durable_ceasefire", "stalemate"
]
"""Outcome classes of the model brief (the same names as the model's outcome classes)."""

_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_DEFER_CROSS_CHECKS = "simkit.calibration.defer_cross_checks"


def _slug(value: Any) -> Any:
    if isinstance(value, str) and not _SLUG.fullmatch(value):
        raise ValueError(
            "expected a short id of lowercase letters, digits and _ starting with a letter "
            "(e.g. waer, first_truce)"
        )
    return value


def _non_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("expected non-blank text")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    if value < 0:
        raise ValueError("expected a number >= 0")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if not isinstance(value, (dt.date, str)):
        raise ValueError("expected a date (YYYY-MM-DD)")
    return value


def _sources(value: Any) -> Any:
    if value == []:
        raise ValueError("expected at least one source (seed file, or outlet and date); found an empty list")
    return value


Slug = Annotated[str, BeforeValidator(_slug)]
Text = Annotated[str, BeforeValidator(_non_blank)]
Number = Annotated[int | float, BeforeValidator(_number)]
Date = Annotated[dt.date, BeforeValidator(_date)]
Sources = Annotated[list[Text], BeforeValidator(_sources)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class Range(_Strict):
    """A documented figure as inclusive bounds.

    An exact figure has `low == high` (a bare number is shorthand for that). Where
    sources disagree, the range spans their figures. A lone "more than X" is
    `low: X, high: null` (no upper bound documented). `approximate` marks a
    figure reported with "about" or "~".
    """

    low: Number
    high: Number | None = Field(description="upper bound; null = none documented (a 'more than' figure)")
    approximate: bool = False
    note: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"low": data, "high": data}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high is not None and self.low > self.high:
            raise ValueError(f"expected low <= high, found low {self.low} > high {self.high}")
        return self

    def contains(self, value: float) -> bool:
        """Whether `value` lies within the bounds (no upper bound when `high` is null)."""
        return self.low <= value and (self.high is None or value <= self.high)


class Quantity(Range):
    """A documented total or setting figure, with its sources."""

    sources: Sources


class Window(_Strict):
    """Inclusive dates between which an event happened (or a period lasted)."""

    from_: Date = Field(alias="from")
    to: Date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.from_ > self.to:
            raise ValueError(f"expected from <= to, found from {self.from_} after to {self.to}")
        return self


class Event(_Strict):
    """One documented event, typed with the simulation's event names.

    Figures are optional `Range`s: `people` (all who left on a convoy), `fighters`,
    `civilians`, `cumulative_people` (evacuated so far, as reported with this
    convoy), `released` (detainees freed), `release_promised` (detainees an
    agreement or offer says will be freed), `detainee_list` (names demanded),
    `killed`, `injured`, `applied_to_leave`, and agreement terms `batch_people`,
    `batch_fighters` (per departure batch) and `military_police`.
    """

    id: Slug
    type: EventType = Field(description="one of simkit.model.events.EventType")
    date: Date | None = None
    span: Window | None = Field(default=None, alias="window", description="when only a period is known")
    key: bool = Field(default=False, description="a key event the calibration must hit")
    detail: Text | None = Field(
        default=None, description="as the model writes it, e.g. truce, surrender, ceasefire"
    )
    description: Text
    ordinal: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        default=None, description="n-th event of its kind as reported (e.g. fourth convoy)"
    )
    people: Range | None = None
    fighters: Range | None = None
    civilians: Range | None = None
    cumulative_people: Range | None = None
    released: Range | None = None
    release_promised: Range | None = None
    detainee_list: Range | None = None
    killed: Range | None = None
    injured: Range | None = None
    applied_to_leave: Range | None = None
    batch_people: Range | None = None
    batch_fighters: Range | None = None
    military_police: Range | None = None
    sources: Sources
    note: Text | None = Field(default=None, description="where the encoding interprets the sources, and how")

    @model_validator(mode="after")
    def _one_date(self) -> Event:
        if (self.date is None) == (self.span is None):
            found = "both" if self.date is not None else "neither"
            raise ValueError(f"expected either `date:` or `window: {{from:, to:}}`, found {found}")
        return self

    def window(self) -> tuple[dt.date, dt.date]:
        """The first and last possible day of the event (the same day when its date is known)."""
        if self.span is not None:
            return self.span.from_, self.span.to
        assert self.date is not None  # guaranteed by validation
        return self.date, self.date


class Outcome(_Strict):
    """How a case ended; absent while it is open."""

    kind: OutcomeClass = Field(alias="class")
    date: Date | None = None
    partial_release: bool = Field(default=False, description="some, but far fewer than demanded, were freed")
    description: Text | None = None
    sources: Sources
    note: Text | None = None


class Trajectory(_Strict):
    """The documented trajectory of one case."""

    case: Slug
    description: Text
    start: Date = Field(description="first day of the documented record")
    end: Date = Field(description="last day of the documented record")
    population: Quantity
    events: list[Event] = Field(min_length=1, description="in date order (by window start)")
    outcome: Outcome | None = Field(default=None, description="null or absent: the case is open")
    quantities: dict[Slug, Quantity] = Field(default_factory=dict, description="documented totals")
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Trajectory:
        if isinstance(info.context, Mapping) and info.context.get(_DEFER_CROSS_CHECKS):
            return self
        problems = consistency_problems(self)
        if problems:
            raise ValueError("; ".join(f"{_dotted(loc)}: {message}" for loc, message in problems))
        return self

    def key_events(self) -> list[Event]:
        """The key events, in date order."""
        return [event for event in self.events if event.key]

    def event(self, event_id: str) -> Event:
        """The event with this id; KeyError naming the known ids if there is none."""
        for event in self.events:
            if event.id == event_id:
                return event
        raise KeyError(f"no event {event_id!r} in trajectory {self.case!r}; ids: {', '.join(self.ids())}")

    def events_of(self, kind: EventType | str) -> list[Event]:
        """The events of one type, in date order."""
        return [event for event in self.events if event.type == kind]

    def ids(self) -> list[str]:
        """Event ids in date order."""
        return [event.id for event in self.events]


def consistency_problems(traj: Trajectory) -> list[tuple[YamlPath, str]]:
    """Problems across fields: dates outside the record, duplicate ids, events out of date order."""
    problems: list[tuple[YamlPath, str]] = []
    record = f"{traj.start}..{traj.end} (start..end)"
    if traj.start > traj.end:
        problems.append((("end",), f"expected a date on or after start {traj.start}, found {traj.end}"))
    first_use: dict[str, int] = {}
    previous: Event | None = None
    for i, event in enumerate(traj.events):
        first, last = event.window()
        if not (traj.start <= first and last <= traj.end):
            field = "date" if event.date is not None else "window"
            found = str(first) if first == last else f"{first}..{last}"
            problems.append((("events", i, field), f"expected a date within {record}, found {found}"))
        if event.id in first_use:
            j = first_use[event.id]
            problems.append((("events", i, "id"), f"duplicate id {event.id!r} (already used by events.{j})"))
        else:
            first_use[event.id] = i
        if previous is not None and first < previous.window()[0]:
            problems.append(
                (
                    ("events", i),
                    f"events must be in date order (by window start): {event.id!r} starts {first}, "
                    f"before {previous.id!r} above it ({previous.window()[0]})",
                )
            )
        previous = event
    outcome_date = traj.outcome.date if traj.outcome is not None else None
    if outcome_date is not None and not traj.start <= outcome_date <= traj.end:
        problems.append((("outcome", "date"), f"expected a date within {record}, found {outcome_date}"))
    return problems


def load_trajectory(path: str | Path) -> Trajectory:
    """Read and validate a trajectory YAML.

    Raises:
        InputError: one line per problem, naming file, line, field path, what was
            expected and what was found.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        traj = Trajectory.model_validate(data, context={_DEFER_CROSS_CHECKS: True})
    except pydantic.ValidationError as err:
        raise InputError(format_validation_error(err, path, lines, data, Trajectory)) from None
    problems = consistency_problems(traj)
    if problems:
        raise InputError("\n".join(_located(path, lines, loc, message) for loc, message in problems))
    return traj


def dump_trajectory(traj: Trajectory, path: str | Path) -> None:
    """Write a trajectory to YAML that `load_trajectory` reads back to an equal object."""
    data = _plain(traj.model_dump(mode="python", by_alias=True, exclude_defaults=True))
    text = dump_yaml(data)
    Path(path).write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- helpers


def _located(path: Path, lines: Mapping[YamlPath, int], loc: YamlPath, message: str) -> str:
    line = line_of(lines, loc)
    return (
        f"{path}:{line}: {_dotted(loc)}: {message}"
        if line is not None
        else f"{path}: {_dotted(loc)}: {message}"
    )


def _dotted(loc: YamlPath) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value

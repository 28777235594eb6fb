"""Case sets: the documented cases `simkit score` runs and scores, as a validated YAML file.

A case set (e.g. `cases/library.yaml`) names, for each documented siege, its
scenario and trajectory files (relative to the case set file), when the siege
began, the documented outcome class, the documented deal and control dates
(windows where the record gives a period) and the documented number
evacuated (a range where sources disagree). Every dated or counted entry
carries its source. The file is validated like a scenario: unknown keys,
missing fields, reversed windows or ranges, duplicate ids, missing files,
unknown outcome classes and counts above the scenarios' limit of people
(`simkit.scenario.schema.PEOPLE`) are errors naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simkit.calibration.trajectory import Date, Number, OutcomeClass, Text
from simkit.calibration.trajectory import Slug as Id
from simkit.scenario.schema import PEOPLE, PEOPLE_WHY
from simkit.yamlio import InputError, format_validation_error, line_of, read_yaml

__all__ = ["Case", "CaseSet", "DateWindow", "LoadedCaseSet", "NumberRange", "load_caseset"]

SETTLED_CLASSES = ("surrender_evacuation", "reconciliation", "military_takeover")
"""Outcome classes that end with a deal (or a takeover): a case of one of them has a deal date."""

_BASE = "simkit.scoring.caseset.base"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)


class DateWindow(_Strict):
    """A documented date as inclusive bounds `from`..`to` (the same day when it is known exactly)."""

    from_: Date = Field(alias="from")
    to: Date
    source: Text
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.from_ > self.to:
            raise ValueError(f"expected from <= to, found from {self.from_} after to {self.to}")
        return self

    @property
    def days(self) -> int:
        """Days from the first to the last possible date (0 for an exact date)."""
        return (self.to - self.from_).days

    @property
    def midpoint(self) -> dt.date:
        """The middle day of the window (the earlier of two middle days)."""
        return self.from_ + dt.timedelta(days=self.days // 2)


class NumberRange(_Strict):
    """A documented count of people as inclusive bounds `low`..`high` (equal when sources agree)."""

    low: Number
    high: Number
    source: Text
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.low > self.high:
            raise ValueError(f"expected low <= high, found low {self.low} > high {self.high}")
        if self.high > PEOPLE:
            raise ValueError(f"expected at most {PEOPLE:,} people ({PEOPLE_WHY}), found high {self.high:g}")
        return self

    @property
    def midpoint(self) -> float:
        """The middle of the range."""
        return (self.low + self.high) / 2.0


class Case(_Strict):
    """One documented case: its files, when the siege began, and how it ended."""

    id: Id
    name: Text
    scenario: Text = Field(description="scenario YAML, relative to the case set file")
    trajectory: Text = Field(description="trajectory YAML, relative to the case set file")
    siege_start: DateWindow
    outcome: OutcomeClass
    deal_date: DateWindow | None = Field(default=None, description="surrender or settlement signed")
    control_date: DateWindow | None = Field(default=None, description="last convoy gone, or the takeover")
    evacuated: NumberRange | None = None
    note: Text | None = None

    @field_validator("scenario", "trajectory")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        base = info.context.get(_BASE) if isinstance(info.context, dict) else None
        if base is not None and not (Path(base) / value).is_file():
            missing = (Path(base) / value).as_posix()
            raise ValueError(f"no such file {missing} (paths are relative to the case set file)")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Case:
        if self.outcome in SETTLED_CLASSES and self.deal_date is None:
            raise ValueError(f"a case that ended in {self.outcome} needs a deal_date")
        if self.outcome not in SETTLED_CLASSES and self.deal_date is not None:
            raise ValueError(f"a case that ended in {self.outcome} has no deal; remove deal_date")
        if self.deal_date is not None and self.deal_date.to < self.siege_start.from_:
            raise ValueError(f"deal_date {self.deal_date.to} is before siege_start {self.siege_start.from_}")
        if self.deal_date and self.control_date and self.control_date.to < self.deal_date.from_:
            raise ValueError(
                f"control_date {self.control_date.to} is before deal_date {self.deal_date.from_}"
            )
        return self


class CaseSet(_Strict):
    """A named set of documented cases."""

    name: Text
    cases: list[Case] = Field(min_length=1)
    note: Text | None = None


@dataclass(frozen=True)
class LoadedCaseSet:
    """A validated case set with its file and the SHA-256 of the file's bytes."""

    caseset: CaseSet
    path: Path
    hash: str

    def resolve(self, relative: str) -> Path:
        """A path written in the case set, relative to the case set file."""
        return self.path.parent / relative


def load_caseset(path: str | Path) -> LoadedCaseSet:
    """Read and validate a case set YAML.

    Raises:
        InputError: one line per problem, naming the file, the line, the field path,
            what was expected and what was found.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        caseset = CaseSet.model_validate(data, context={_BASE: path.parent})
    except pydantic.ValidationError as err:
        raise InputError(format_validation_error(err, path, lines, data, CaseSet)) from None
    first: dict[str, int] = {}
    for i, case in enumerate(caseset.cases):
        if case.id in first:
            line = line_of(lines, ("cases", i, "id"))
            raise InputError(
                f"{path}:{line}: cases.{i}.id: duplicate id {case.id!r} "
                f"(already used by cases.{first[case.id]})"
            )
        first[case.id] = i
    return LoadedCaseSet(caseset, path, hashlib.sha256(path.read_bytes()).hexdigest())

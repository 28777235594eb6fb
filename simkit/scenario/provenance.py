"""Numbers with provenance: every parameter says where it comes from.

A parameter is written in YAML as `{value: 0.95, source: "seed 002: airtight encirclement"}`
or `{value: 0.3, assumed: "no source; mid-range guess, calibrated later"}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator


class Param[T](BaseModel):
    """A number and the reason to believe it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: T
    source: str | None = Field(default=None, description="seed file, or outlet and date")
    assumed: str | None = Field(default=None, description="why this value, when no source gives it")

    @model_validator(mode="after")
    def _has_provenance(self) -> Param[T]:
        given = [bool(self.source and self.source.strip()), bool(self.assumed and self.assumed.strip())]
        if sum(given) != 1:
            raise ValueError(
                "a parameter needs provenance: exactly one of `source:` (seed file, or outlet and date) "
                "or `assumed:` (the reason for the value)"
            )
        return self

    @property
    def provenance(self) -> str:
        """Where the value comes from, as reports show it: `source: ...` or `assumed: ...`."""
        return f"source: {self.source}" if self.source else f"assumed: {self.assumed}"


def _number(value: Any) -> Any:
    """A real number as YAML writes it: not a boolean, not text, not .nan or .inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a valid number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number (not .nan or .inf)")
    return value


def _whole(value: Any) -> Any:
    """A whole number: an int, or a float with nothing after the point (600.0)."""
    value = _number(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value)
    return value


Finite = Annotated[float, BeforeValidator(_number)]
Whole = Annotated[int, BeforeValidator(_whole)]


# Named subclasses (not bare aliases) so scenarios pickle by reference into worker processes.
class Share(Param[Annotated[Finite, Field(ge=0.0, le=1.0)]]):
    """A probability, share or [0, 1] index."""


class Positive(Param[Annotated[Finite, Field(gt=0.0)]]):
    """A strictly positive number."""


class NonNegative(Param[Annotated[Finite, Field(ge=0.0)]]):
    """A number that cannot be negative."""


class Count(Param[Annotated[Whole, Field(ge=0)]]):
    """A whole number of people, names or items."""


class Days(Param[Annotated[Whole, Field(ge=1)]]):
    """A whole number of days, at least one."""


class Real(Param[Finite]):
    """Any finite real number (weights and thresholds on a logit scale)."""


@dataclass(frozen=True)
class Bound:
    """The range of a parameter's value that a run can survive, and why (schema metadata)."""

    low: float | None
    high: float
    why: str

    def check(self, param: Param) -> Param:
        """Pass `param` through if its value lies in the range; else say the range and its reason."""
        value = param.value
        if (self.low is not None and value < self.low) or value > self.high:
            raise ValueError(f"expected {self.text} ({self.why}); found {value!r}")
        return param

    @property
    def text(self) -> str:
        """The range as the error messages and field descriptions write it."""
        high = f"{self.high:,}" if isinstance(self.high, int) else f"{self.high:g}"
        if self.low is None:
            return f"at most {high}"
        low = f"{self.low:,}" if isinstance(self.low, int) else f"{self.low:g}"
        return f"{low} to {high}"


def bounded(kind: type[Param], description: str, *, high: float, why: str, low: float | None = None) -> Any:
    """A parameter type with a range; the range and `why` join the field's description.

    Args:
        kind: the parameter type (Share, Positive, Count, ...), whose own limits also apply.
        description: what the number means.
        high: the largest value a run can survive (or that still changes anything).
        why: the reason for the range, shown in errors and in the field's description.
        low: the smallest value, when the type's own lower limit is not enough.
    """
    bound = Bound(low, high, why)
    return Annotated[
        kind,
        AfterValidator(bound.check),
        bound,
        Field(
            description=f"{description}; range {bound.text}: {why}"
            if description
            else f"range {bound.text}: {why}"
        ),
    ]

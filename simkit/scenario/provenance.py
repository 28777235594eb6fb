"""Numbers with provenance: every parameter says where it comes from.

A parameter is written in YAML as `{value: 0.95, source: "seed 002: airtight encirclement"}`
or `{value: 0.3, assumed: "no source; mid-range guess, calibrated later"}`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


# Named subclasses (not bare aliases) so scenarios pickle by reference into worker processes.
class Share(Param[Annotated[float, Field(ge=0.0, le=1.0)]]):
    """A probability, share or [0, 1] index."""


class Positive(Param[Annotated[float, Field(gt=0.0)]]):
    """A strictly positive number."""


class NonNegative(Param[Annotated[float, Field(ge=0.0)]]):
    """A number that cannot be negative."""


class Count(Param[Annotated[int, Field(ge=0)]]):
    """A whole number of people, names or items."""


class Days(Param[Annotated[int, Field(ge=1)]]):
    """A whole number of days, at least one."""


class Real(Param[float]):
    """Any real number (weights and thresholds on a logit scale)."""

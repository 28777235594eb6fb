"""Prior files: which scenario parameters calibration may move, within what distribution, and why.

A prior file (`calibration/*_priors.yaml`) lists parameters by the same dotted
paths as the scenario YAML and `--set` (`regime.implementation`,
`committees.0.concession_rate`). Each prior names its distribution and gives a
reason: the prior is part of the argument, so it carries its provenance like a
scenario number does.

```yaml
case: waer
priors:
  - path: regime.implementation
    distribution: uniform          # uniform | loguniform | beta | truncnormal
    low: 0.05
    high: 0.95
    reason: documented stages delivered 35 of 270 and 194 of 140-200; anything from rare to usual delivery
```

`beta` takes `a`, `b` and is scaled to [low, high] (default [0, 1]);
`truncnormal` takes `mean`, `sd`, `low`, `high`. Every distribution has finite
bounds, and both bounds must be valid values of the scenario parameter.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from simkit.calibration.trajectory import Text
from simkit.scenario import Scenario
from simkit.scenario.paths import check_parameter_path, parameter_value, set_parameters
from simkit.yamlio import InputError, format_validation_error, read_yaml

__all__ = ["Prior", "PriorFile", "load_priors", "parameter_value", "set_parameters"]


def _finite(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _parameter_path(value: str) -> str:
    problem = check_parameter_path(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Number = Annotated[float, BeforeValidator(_finite)]


class Prior(BaseModel):
    """One calibrated parameter: dotted scenario path, distribution, and the reason for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[Text, AfterValidator(_parameter_path)] = Field(
        description="dotted scenario path, as in --set (e.g. regime.implementation)"
    )
    distribution: Literal["uniform", "loguniform", "beta", "truncnormal"]
    low: Number | None = None
    high: Number | None = None
    a: Number | None = Field(default=None, description="beta shape a")
    b: Number | None = Field(default=None, description="beta shape b")
    mean: Number | None = Field(default=None, description="truncnormal centre")
    sd: Number | None = Field(default=None, description="truncnormal spread")
    reason: Text = Field(description="why this distribution: sources, or the argument for the range")

    @model_validator(mode="after")
    def _complete(self) -> Prior:
        needed = {
            "uniform": ("low", "high"),
            "loguniform": ("low", "high"),
            "beta": ("a", "b"),
            "truncnormal": ("mean", "sd", "low", "high"),
        }[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"a {self.distribution} prior needs {', '.join(needed)}; missing {', '.join(missing)}"
            )
        extra = {"a", "b", "mean", "sd"} - set(needed)
        given = sorted(name for name in extra if getattr(self, name) is not None)
        if given:
            raise ValueError(
                f"a {self.distribution} prior takes {', '.join(needed)}; found also {', '.join(given)}"
            )
        lo, hi = self.support()
        if not lo < hi:
            raise ValueError(f"expected low < high, found low {lo} and high {hi}")
        if self.distribution == "loguniform" and lo <= 0:
            raise ValueError(f"a loguniform prior needs low > 0, found {lo}")
        for name in ("a", "b", "sd"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"expected {name} > 0, found {value}")
        return self

    @property
    def name(self) -> str:
        """Parameter name in pyabc and in the posterior tables: the dotted path itself."""
        return self.path

    def support(self) -> tuple[float, float]:
        """Lowest and highest value the prior can draw."""
        low = 0.0 if self.low is None else self.low
        high = 1.0 if self.high is None else self.high
        return low, high

    def rv(self) -> Any:
        """The prior as a frozen scipy distribution."""
        from scipy import stats  # here, not at import: it costs ~1 s and runs never draw priors

        lo, hi = self.support()
        match self.distribution:
            case "uniform":
                return stats.uniform(lo, hi - lo)
            case "loguniform":
                return stats.loguniform(lo, hi)
            case "beta":
                return stats.beta(self.a, self.b, loc=lo, scale=hi - lo)
            case _:
                return stats.truncnorm(
                    (lo - self.mean) / self.sd, (hi - self.mean) / self.sd, self.mean, self.sd
                )

    @property
    def log_scale(self) -> bool:
        """Whether pyabc samples it on log10 scale (loguniform priors).

        pyabc then sees a flat prior, and its Gaussian perturbation kernel moves
        a rate by factors rather than by amounts that overshoot zero.
        """
        return self.distribution == "loguniform"

    def sampled_support(self) -> tuple[float, float]:
        """Lowest and highest value on the scale pyabc samples (log10 of the bounds for a loguniform)."""
        lo, hi = self.support()
        return (math.log10(lo), math.log10(hi)) if self.log_scale else (lo, hi)

    def to_value(self, sampled: float) -> float:
        """The parameter value for what pyabc sampled (undoes the log10 scale)."""
        return 10.0**sampled if self.log_scale else sampled

    def pyabc_rv(self) -> Any:
        """The distribution pyabc samples from; see `log_scale`.

        Uniform (and loguniform, uniform on log10 scale) priors are `simkit.calibration.pyabc_parts.Flat`,
        scipy's uniform without scipy's cost per call; the others are pyabc's wrappers of scipy.stats.
        """
        import pyabc

        from simkit.calibration.pyabc_parts import Flat

        lo, hi = self.support()
        match self.distribution:
            case "uniform":
                return Flat(lo, hi - lo)
            case "loguniform":
                return Flat(math.log10(lo), math.log10(hi) - math.log10(lo))
            case "beta":
                return pyabc.RV("beta", self.a, self.b, loc=lo, scale=hi - lo)
            case _:
                a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
                return pyabc.RV("truncnorm", a, b, self.mean, self.sd)


class PriorFile(BaseModel):
    """A prior file: the case it is for and its priors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: Text | None = Field(default=None, description="the case (trajectory) these priors are meant for")
    description: Text | None = None
    priors: list[Prior] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> PriorFile:
        paths = [p.path for p in self.priors]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"each path may have one prior; found more than one for {', '.join(dupes)}")
        return self


def load_priors(path: str | Path, scenario: Scenario | None = None) -> PriorFile:
    """Read and validate a prior file; with a scenario, check every path and both bounds against it.

    Raises:
        InputError: one line per problem, naming the file, line and field.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping with `priors:` at the top level")
    try:
        priors = PriorFile.model_validate(data)
    except pydantic.ValidationError as err:
        raise InputError(format_validation_error(err, path, lines, data, PriorFile)) from None
    if scenario is not None:
        problems = []
        for i, prior in enumerate(priors.priors):
            problem = _check_against(prior, scenario)
            if problem:
                line = lines.get(("priors", i, "path"))
                problems.append(f"{path}{f':{line}' if line else ''}: priors.{i}.path: {problem}")
        if problems:
            raise InputError("\n".join(problems))
    return priors


def _check_against(prior: Prior, scenario: Scenario) -> str | None:
    try:
        parameter_value(scenario, prior.path)
    except InputError as err:
        return str(err)
    for bound in prior.support():
        try:
            set_parameters(scenario, {prior.path: bound}, origin="prior bound check")
        except (InputError, pydantic.ValidationError) as err:
            first = str(err).splitlines()[1] if isinstance(err, pydantic.ValidationError) else str(err)
            return f"the prior's bound {bound} is not a valid value of {prior.path} ({first.strip()})"
    return None

"""Sweep specs: which scenario, which parameters over which ranges, which design, how many replicates.

A spec is a YAML file (`sweeps/*.yaml`) or the same thing built in Python as a
`Sweep`. Loading checks the spec in two stages, each failing with one clear
line: the schema (unknown keys, missing fields, bad types), then the spec
against its scenario (every parameter path exists and is a number, every range
lies inside what the scenario accepts, the design has the sizes it needs), so a
typo fails before a single run is spent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simkit.scenario import LoadedScenario, load_scenario, with_overrides
from simkit.scenario.paths import PathError, parameter_value, whole_number
from simkit.scenario.provenance import Finite, Whole
from simkit.yamlio import InputError, YamlPath, line_of, overrides_in, read_yaml, validate_yaml

DESIGNS = ("grid", "lhs", "sobol", "morris")

MAX_RUNS = 10_000_000
RUNS_WHY = (
    "at most 10 million runs in a sweep (points x replicates): weeks of CPU at a fraction of a second "
    "a run, and a runs table of gigabytes"
)
MAX_LEVELS = 1_000
LEVELS_WHY = "at most 1,000 values per parameter; a finer axis is a sampled (lhs, sobol) design's job"
MAX_POINTS = 1_000_000
POINTS_WHY = "at most a million; the design is built in memory before any run"
MAX_PARAMETERS = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """The values of one parameter: `min`/`max` (with `levels` on a grid), or a grid's explicit `values`."""

    min: Finite | None = Field(default=None, description="lowest value")
    max: Finite | None = Field(default=None, description="highest value")
    levels: Whole | None = Field(
        default=None,
        ge=2,
        le=MAX_LEVELS,
        description=f"evenly spaced values from min to max (grid); {LEVELS_WHY}",
    )
    values: list[Finite] | None = Field(
        default=None, min_length=1, max_length=MAX_LEVELS, description=f"explicit values (grid); {LEVELS_WHY}"
    )

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.values is not None:
            if self.min is not None or self.max is not None or self.levels is not None:
                raise ValueError("give either `values` or `min`/`max` (with `levels` on a grid), not both")
            return self
        if self.min is None or self.max is None:
            raise ValueError("needs `min` and `max` (or, on a grid, a list of `values`)")
        if not self.min < self.max:
            raise ValueError(f"`min` must be below `max`, found min {self.min}, max {self.max}")
        return self


class Design(_Strict):
    """How points are placed in the parameter box; only the sizes of the chosen `type` apply."""

    type: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    points: Whole | None = Field(
        default=None, ge=1, le=MAX_POINTS, description=f"lhs: number of points; {POINTS_WHY}"
    )
    n: Whole | None = Field(
        default=None, ge=2, le=MAX_POINTS, description=f"sobol: base sample size, a power of 2; {POINTS_WHY}"
    )
    second_order: bool = Field(default=False, description="sobol: also sample for second-order indices")
    trajectories: Whole | None = Field(
        default=None, ge=2, le=MAX_POINTS, description=f"morris: number of trajectories; {POINTS_WHY}"
    )
    levels: Whole = Field(
        default=4,
        ge=2,
        le=MAX_LEVELS,
        description=f"morris: grid levels of each parameter (even); {LEVELS_WHY}",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data


class Sweep(_Strict):
    """A sweep: a base scenario, the parameters to vary by dotted path, a design, replicates and seeds.

    Attributes:
        scenario: Scenario YAML; in a spec file, relative to that file.
        overrides: Fixed dotted-path overrides applied to the scenario before the sweep's own.
        parameters: Dotted path (as in `simkit run --set`) to its range.
        design: `grid`, `lhs`, `sobol` or `morris` (a name, or a mapping with `type` and sizes).
        replicates: Stochastic runs per design point.
        seed: Master seed; with `seeds: common`, replicate r uses the same seed at every point.
        seeds: `common` (common random numbers across points) or `independent`.
        batch_size: Runs per task; part of the sweep's identity because results are stored per task.
    """

    name: str | None = None
    description: str = ""
    scenario: Path
    overrides: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Range] = Field(min_length=1, max_length=MAX_PARAMETERS)
    design: Design = Field(default_factory=Design)
    replicates: Whole = Field(ge=1, le=MAX_RUNS, description=f"runs per design point; {RUNS_WHY}")
    seed: Whole = Field(default=1, ge=0, le=2**63 - 1, description="master seed (0 to 2^63 - 1)")
    seeds: Literal["common", "independent"] = "common"
    batch_size: Whole = Field(default=100, ge=1, le=MAX_RUNS, description=f"runs per task; {RUNS_WHY}")

    @property
    def label(self) -> str:
        """A name for tables and folders: `name`, else the scenario file's stem."""
        return self.name or self.scenario.stem


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep checked against its scenario, ready to run.

    Attributes:
        sweep: The spec.
        base: The scenario with the spec's fixed overrides (its hash covers them).
        integer: Parameter paths whose scenario values are whole numbers (sampled values are rounded).
        where: Where the spec came from, for messages (a file, or "sweep" when built in Python).
    """

    sweep: Sweep
    base: LoadedScenario
    integer: frozenset[str]
    where: str

    @property
    def names(self) -> list[str]:
        """Parameter paths in spec order (the column order of points.parquet)."""
        return list(self.sweep.parameters)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep YAML and check it against its scenario; the scenario path is relative to the spec file.

    Raises:
        InputError: one line per problem, naming file, line, field, expected and found.
    """
    path = Path(path)
    data, _ = read_yaml(path)
    if isinstance(data, dict) and isinstance(data.get("scenario"), str):
        scenario = Path(data["scenario"])
        if not scenario.is_absolute():
            data = {**data, "scenario": _relative_to_cwd(path.parent / scenario)}
    sweep = validate_yaml(path, Sweep, data)
    sweep = sweep.model_copy(update={"name": sweep.name or path.stem})
    prepare(sweep, path)  # fail now, naming the spec's lines, rather than when the sweep starts
    return sweep


def _relative_to_cwd(path: Path) -> str:
    """Keep paths short and portable in manifests: relative to the working directory when inside it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def prepare(sweep: Sweep, source: str | Path | None = None) -> PreparedSweep:
    """Check a sweep against its scenario: paths, number types, ranges and design sizes.

    Args:
        sweep: The spec (from `load_sweep` or built in Python).
        source: The spec file, if any, so messages can name its lines.

    Raises:
        InputError: naming the spec (file:line), the field and what is wrong.
    """
    where, lines = "sweep", {}
    if source is not None:
        where = str(source)
        _, lines = read_yaml(source)

    def fail(loc: YamlPath, message: str) -> InputError:
        line = line_of(lines, loc)
        field = ".".join(str(part) for part in loc)
        return InputError(f"{where}{f':{line}' if line else ''}: {field}: {message}")

    if not sweep.scenario.exists():
        raise fail(("scenario",), f"no such file {str(sweep.scenario)!r}")
    base = load_scenario(sweep.scenario, sweep.overrides, named=overrides_in(where, lines))
    data = base.scenario.model_dump(mode="json")
    integer = set()
    for name, spec in sweep.parameters.items():
        loc = ("parameters", name)
        try:
            current = parameter_value(data, name)
        except PathError as err:
            unknown = "" if "parameter" in str(err) else f"unknown parameter {name!r}: "
            raise fail(loc, f"{unknown}{err}") from None
        if isinstance(current, int):
            integer.add(name)
            if spec.values is not None and any(v != whole_number(v) for v in spec.values):
                raise fail(loc, f"{name} takes whole numbers, found values {spec.values}")
        for value in _extremes(spec, isinstance(current, int)):
            try:
                with_overrides(base.scenario, {name: value}, origin="sweep")
            except pydantic.ValidationError as err:
                reason = err.errors(include_url=False)[0]["msg"]
                raise fail(loc, f"value {value} is outside what the scenario accepts ({reason})") from None
            except InputError as err:  # with_overrides words them `<where>: <field>: <reason>`
                reason = str(err).splitlines()[0].split(": ", 2)[-1].split("; found")[0]
                raise fail(loc, f"value {value} is outside what the scenario accepts ({reason})") from None
        _check_range_fits_design(sweep.design.type, spec, lambda message, loc=loc: fail(loc, message))
    _check_design(sweep, lambda message: fail(("design",), message))
    return PreparedSweep(sweep, base, frozenset(integer), where)


def _extremes(spec: Range, integer: bool) -> list[float]:
    values = spec.values if spec.values is not None else [spec.min, spec.max]
    return sorted({whole_number(v) if integer else v for v in values})


def _check_range_fits_design(design: str, spec: Range, fail: Any) -> None:
    if design == "grid":
        if spec.values is None and spec.levels is None:
            raise fail("a grid needs `levels` (evenly spaced values from min to max) or a list of `values`")
    elif spec.values is not None or spec.levels is not None:
        raise fail(
            f"`levels`/`values` apply to grid designs; a {design} design samples between `min` and `max`"
        )


def _check_design(sweep: Sweep, fail: Any) -> None:
    design = sweep.design
    needs = {"lhs": "points", "sobol": "n", "morris": "trajectories"}
    field = needs.get(design.type)
    if field and getattr(design, field) is None:
        hint = {"points": "the number of points", "n": "the base sample size, a power of 2",
                "trajectories": "the number of trajectories"}[field]  # fmt: skip
        raise fail(f"a {design.type} design needs `{field}` ({hint})")
    for other in ("points", "n", "trajectories"):
        if other != field and getattr(design, other) is not None:
            raise fail(f"`{other}` does not apply to a {design.type} design")
    if design.type == "sobol" and design.n & (design.n - 1):
        lower = 2 ** int(math.log2(design.n))
        raise fail(f"sobol `n` must be a power of 2 (the sequence is balanced only then), found {design.n}; "
                   f"try {lower} or {2 * lower}")  # fmt: skip
    if design.type == "morris" and design.levels % 2:
        raise fail(f"morris `levels` must be even, found {design.levels}")
    runs = _point_count(sweep) * sweep.replicates
    if runs > MAX_RUNS:
        raise fail(
            f"{_point_count(sweep):,} points x {sweep.replicates:,} replicates = {runs:,} runs; {RUNS_WHY}"
        )


def point_count(prepared: PreparedSweep) -> int:
    """How many design points the sweep has (before any run)."""
    return _point_count(prepared.sweep)


def _point_count(sweep: Sweep) -> int:
    d = len(sweep.parameters)
    match sweep.design.type:
        case "grid":
            return math.prod(
                len(r.values) if r.values is not None else r.levels for r in sweep.parameters.values()
            )
        case "lhs":
            return sweep.design.points
        case "sobol":
            return sweep.design.n * (2 * d + 2 if sweep.design.second_order else d + 2)
        case "morris":
            return sweep.design.trajectories * (d + 1)
    raise AssertionError(sweep.design.type)


def identity(prepared: PreparedSweep, model: str) -> dict[str, Any]:
    """What makes two sweeps the same sweep (resume is allowed only then); name and description do not."""
    sweep = prepared.sweep
    return {
        "scenario_hash": prepared.base.hash,
        "parameters": {name: r.model_dump(exclude_none=True) for name, r in sweep.parameters.items()},
        "design": sweep.design.model_dump(exclude_none=True),
        "replicates": sweep.replicates,
        "seed": sweep.seed,
        "seeds": sweep.seeds,
        "batch_size": sweep.batch_size,
        "model": model,
    }


def as_mapping(sweep: Sweep) -> Mapping[str, Any]:
    """The spec as plain data (for the manifest and for writing it back as YAML)."""
    return sweep.model_dump(mode="json", exclude_none=True)

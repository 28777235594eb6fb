"""What the interactive page (`simkit app`) shows and changes, without any page: knobs, one run, ensembles.

The page (simkit/app/page.py) only draws this state. Knobs are the scenario's numeric parameters
by their dotted paths (as `--set` names them), applied through the one resolver
(`simkit.scenario.with_overrides`), so a knob set on the page is the same scenario as `simkit run
--set path=value`. One run is stepped a day at a time with the model that notes the state at each
event (`simkit.story`), and every day's events are told with `simkit.story.tell`, the same words as
`simkit story`. Ensembles go through `run_ensemble` (worker processes, common random numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.ensemble import run_ensemble
from simkit.scenario import LoadedScenario, Scenario, load_scenario, scenario_hash, with_overrides
from simkit.story import State, _StateRecorder, tell
from simkit.summary import share_interval
from simkit.timing import cumulative_incidence


# ---------------------------------------------------------------- knobs
@dataclass(frozen=True)
class Knob:
    """One numeric parameter of the scenario file: where it is, its value there and why."""

    path: str
    group: str
    value: int | float
    provenance: str

    @property
    def whole(self) -> bool:
        """A count or a number of days: the page offers whole numbers only."""
        return isinstance(self.value, int)


def _is_param(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and ("source" in node or "assumed" in node)


def _walk(node: Any, parts: list[str], group: str) -> Iterator[Knob]:
    if _is_param(node):
        value = node["value"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            why = f"source: {node['source']}" if node.get("source") else f"assumed: {node.get('assumed')}"
            yield Knob(".".join(parts), group, value, why)
        return
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _walk(child, [*parts, str(key)], group or str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            name = item.get("name") or item.get("locality") if isinstance(item, dict) else None
            part = str(name) if name and "." not in str(name) else str(index)
            yield from _walk(item, [*parts, part], f"{group} {part}" if len(parts) == 1 else group)


def knobs(scenario: Scenario) -> list[Knob]:
    """Every numeric parameter of a scenario in file order, grouped by its section (list items apart).

    Paths name list items by their `name` (or `locality`) where they have one, else by position,
    as `--set` accepts them; the group is the top-level section, with the item for lists
    (`regime`, `committees Waer committee`).
    """
    return list(_walk(scenario.model_dump(mode="json"), [], ""))


# ---------------------------------------------------------------- one run, a day at a time
@dataclass(frozen=True)
class Told:
    """One event as it happened: its date and day, type and the story's sentence."""

    date: dt.date
    day: int
    type: str
    text: str


@dataclass(frozen=True)
class Day:
    """The siege at the end of one day (for the panels)."""

    day: int
    date: dt.date
    food_days: float
    hardship: float
    population: int
    evacuated: int
    killed: int
    force: float
    escalation: float
    trust: dict[str, float]
    strain: dict[str, float]


class Run:
    """One run of a scenario and seed, stepped by the page: the model, what it said, and its days."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.model = _StateRecorder(scenario, rng=seed, record_series=False)
        self.model.states = []
        self.told: list[Told] = []
        self.days: list[Day] = []

    @property
    def running(self) -> bool:
        """Whether the run has not ended yet (an outcome or the horizon)."""
        return bool(self.model.running)

    @property
    def date(self) -> dt.date:
        """The date of the next day to be stepped (the scenario's start before the first step)."""
        return self.scenario.start + dt.timedelta(days=len(self.days))

    def step(self) -> list[Told]:
        """Simulate one day; returns that day's events, told (nothing once the run has ended)."""
        if not self.running:
            return []
        seen = len(self.model.events.rows)
        self.model.step()
        lines = tell(self.model.events.rows[seen:], self.model.states[seen:], self.scenario.start)
        new = [Told(line.date, line.day, line.type, line.text) for line in lines]
        self.told.extend(new)
        state: State = self.model._state()
        self.days.append(
            Day(
                day=len(self.days),
                date=self.date,
                food_days=state.food_days,
                hardship=state.hardship,
                population=state.population,
                evacuated=state.evacuated,
                killed=state.killed,
                force=state.force,
                escalation=state.escalation,
                trust={name: c.trust for name, c in state.committees.items()},
                strain={name: c.strain for name, c in state.committees.items()},
            )
        )
        return new

    def agreements(self) -> list[dict[str, Any]]:
        """The agreements in force now, one per committee that has one, with their terms."""
        rows = []
        for committee in self.model.committees:
            deal = committee.agreement
            if deal is None or deal.defunct:
                continue
            rows.append(
                {
                    "committee": committee.name,
                    "kind": str(getattr(deal.kind, "value", deal.kind)),
                    "signed": str(self.scenario.start + dt.timedelta(days=deal.signed_day)),
                    "legitimacy": round(deal.legitimacy, 2),
                    "siege tightness": round(deal.siege_tightness, 2),
                    "aid": "yes" if deal.aid else "no",
                    "detainees promised": deal.release_promised,
                    "fighters to go": deal.fighters_to_go,
                }
            )
        return rows

    def outcome(self) -> str | None:
        """The run's ending once it has one (`surrender_evacuation`, ...), else None."""
        return None if self.model.outcome is None else self.model.outcome.outcome


# ---------------------------------------------------------------- the session: knobs, run, ensembles
@dataclass
class Session:
    """The page's model side: the file's scenario, the knobs set on it, the current run.

    Args:
        loaded: the scenario file as loaded (its values are the baseline and what reset returns to).
        seed: the run's seed and the ensembles' master seed.
    """

    loaded: LoadedScenario
    seed: int = 1
    overrides: dict[str, Any] = field(default_factory=dict)
    run: Run = field(init=False)

    def __post_init__(self) -> None:
        self.scenario = with_overrides(self.loaded.scenario, self.overrides, origin="override")
        self.run = Run(self.scenario, self.seed)

    @classmethod
    def open(cls, path: str | Path, seed: int = 1) -> Session:
        """A session on a scenario file (InputError for a missing or invalid file)."""
        return cls(load_scenario(path), seed)

    def knobs(self) -> list[Knob]:
        """The parameters with their current values and provenance (an override says what it replaced)."""
        return knobs(self.scenario)

    def set(self, path: str, value: float) -> None:
        """Set one knob (`--set path=value` semantics) and restart the run from day 0.

        Raises:
            InputError: the path names no parameter, or the scenario does not accept the value;
                the knobs stay as they were.
        """
        overrides = {**self.overrides, path: value}
        self.scenario = with_overrides(self.loaded.scenario, overrides, origin="override")
        self.overrides = overrides
        self.run = Run(self.scenario, self.seed)

    def reset_knobs(self) -> None:
        """Back to the file's values, and a fresh run."""
        self.overrides = {}
        self.scenario = self.loaded.scenario
        self.run = Run(self.scenario, self.seed)

    def restart(self) -> None:
        """A fresh run of the current knobs (same seed: the same run)."""
        self.run = Run(self.scenario, self.seed)

    def ensemble(
        self,
        runs: int,
        workers: int = 2,
        progress: Callable[[int], None] | None = None,
        baseline: bool = True,
    ) -> Comparison:
        """`runs` runs at the current knobs and, if asked, at the file's values, same master seed.

        Run i of both ensembles uses the same seed (common random numbers), so their difference
        is the knobs' effect, not sampling noise. `progress` gets the runs finished so far (of both).
        """
        current = LoadedScenario(self.scenario, self.loaded.path, dict(self.overrides),
                                 scenario_hash(self.scenario))  # fmt: skip
        todo = [("knobs", current)]
        if baseline and self.overrides:
            todo.append(("file", self.loaded))
        done = 0
        tables: dict[str, pd.DataFrame] = {}

        def tick(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done)

        for label, loaded in todo:  # in memory, on the project's executor (worker processes)
            tables[label] = run_ensemble(loaded, runs, self.seed, workers=workers, progress=tick).runs
        if "file" not in tables:
            tables["file"] = tables["knobs"]
        return Comparison(tables["knobs"], tables["file"], dict(self.overrides))


@dataclass(frozen=True)
class Comparison:
    """An ensemble at the knobs and one at the file's values (the same when no knob is set)."""

    knobs: pd.DataFrame
    file: pd.DataFrame
    overrides: Mapping[str, Any]

    def shares(self) -> pd.DataFrame:
        """Outcome shares with Wilson 95% intervals: one row per outcome class, knobs beside file."""
        rows = []
        names = [*dict.fromkeys([*self.file["outcome"], *self.knobs["outcome"]])]
        for name in sorted(names):
            row: dict[str, Any] = {"outcome": name}
            for label, runs in (("knobs", self.knobs), ("file", self.file)):
                k, n = int((runs["outcome"] == name).sum()), len(runs)
                lo, hi = share_interval(k, n)
                row[f"{label} share"] = k / n
                row[f"{label} 95% interval"] = f"{lo:.2f}-{hi:.2f}"
            rows.append(row)
        return pd.DataFrame(rows)

    def incidence(self) -> pd.DataFrame:
        """Cumulative incidence of each ending by date (`simkit.timing`), column `ensemble` knobs or file."""
        return pd.concat(
            [cumulative_incidence(self.knobs).assign(ensemble="knobs"),
             cumulative_incidence(self.file).assign(ensemble="file")],
            ignore_index=True,
        )  # fmt: skip


__all__ = ["Comparison", "Day", "Knob", "Run", "Session", "Told", "knobs"]

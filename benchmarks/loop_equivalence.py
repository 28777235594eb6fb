"""The plain day loop against the Mesa event-list driver it replaced: identical runs on fixed seeds.

`SiegeModel` steps its days itself (`SiegeModel.step`: a day's dated events, then the agents, then
the rest of the day). Until issue 10 it was driven by Mesa's event list instead: each day's dated
events were events at Mesa time d + 0.5, the rest of the day Mesa's step at time d + 1, and the day
was read off Mesa's clock. `EventListDriven` is that driver, kept here (and only here) on top of the
model's public day: the same phases, put on Mesa's event list as before. This script runs both on
30 seeds of every scenario below and compares event logs, outcomes and daily series, exactly.

With `--against COMMIT`, it also runs the model module of that commit (the retired code itself,
read with `git show COMMIT:simkit/model/model.py`; it must still fit today's agents) on the same
seeds: the proof that the day loop replaced the old driver without changing a run (commit 8aa9c14
is the last one with the old driver).

Prints a line per scenario and exits non-zero on a difference. Usage:
    .venv/bin/python benchmarks/loop_equivalence.py [--seeds 30] [--against 8aa9c14]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from mesa.time import Priority, Schedule

from simkit.model import SiegeModel
from simkit.model.outcomes import RunOutcome
from simkit.scenario import Scenario, load_scenario
from simkit.single_run import run_seed

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("waer", "north_homs", "old_homs", "daraya", "moadamiya", "east_aleppo")


class EventListDriven(SiegeModel):
    """The retired driver: the model's days on Mesa's event list, as before issue 10.

    Dated events fire at Mesa time d + 0.5 and the rest of day d at d + 1 (Mesa's step, high
    priority), each reading its day off Mesa's clock; `run` advances the clock a day at a time.
    """

    def __init__(
        self, scenario: Scenario, rng: int | np.random.Generator | None = None, record_series: bool = True
    ) -> None:
        super().__init__(scenario, rng=rng, record_series=record_series)
        for day in sorted(self.dated_events):
            self.schedule_event(self._fire_from_clock, at=day + 0.5)
        self.schedule_recurring(self._step_from_clock, Schedule(interval=1.0, start=1.0), Priority.HIGH)

    def _clock_day(self) -> int:
        return math.ceil(self.time) - 1

    def _fire_from_clock(self) -> None:
        self._day = self._clock_day()  # the model's day, as the retired driver set it for events too
        SiegeModel.fire_dated_events(self, self._day)

    def fire_dated_events(self, day: int) -> None:
        """Nothing: the day's events already fired from Mesa's event list."""

    def _step_from_clock(self) -> None:
        self.steps = self._clock_day()  # `step` simulates day `steps`: the day on the clock
        self.step()

    def run(self) -> RunOutcome:
        """Advance Mesa's clock a day at a time until an ending or the horizon."""
        while self.running:
            self.run_for(1)
        return self.outcome


def fingerprint(model: SiegeModel) -> str:
    """Everything a run produced, as text: event log, outcome row and daily series (NaN equals NaN)."""
    outcome = model.run()
    days = outcome.outcome_day + 1
    series = {name: values[:days].tolist() for name, values in sorted(model.series.items())}
    return repr((model.events.rows, sorted(outcome.as_row().items()), series))


def old_module(commit: str):
    """`simkit/model/model.py` as it was at `commit`, imported under another name."""
    command = ["git", "show", f"{commit}:simkit/model/model.py"]
    source = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="simkit-old-model-")) / "old_model.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("simkit_old_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(seeds: int, against: str | None) -> int:
    """Run every scenario on `seeds` seeds with each driver; returns the number of runs that differ."""
    drivers = {"event list": EventListDriven}
    if against:
        drivers[f"model.py@{against}"] = old_module(against).SiegeModel
    differ = 0
    for name in SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario
        for label, driver in drivers.items():
            bad = [
                i
                for i in range(seeds)
                if fingerprint(SiegeModel(scenario, rng=run_seed(1, i)))
                != fingerprint(driver(scenario, rng=run_seed(1, i)))
            ]
            differ += len(bad)
            verdict = "identical" if not bad else f"DIFFER on run indices {bad}"
            print(f"  {name:<12} day loop vs {label}: {seeds} seeds {verdict}")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, default=30, help="seeds per scenario (run indices, master seed 1)"
    )
    parser.add_argument("--against", metavar="COMMIT", help="also compare with this commit's model.py")
    args = parser.parse_args()
    print("Day loop against the event-list driver (event logs, outcomes and daily series)")
    sys.exit(1 if compare(args.seeds, args.against) else 0)


if __name__ == "__main__":
    main()

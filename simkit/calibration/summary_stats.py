"""Summary statistics of a run against a documented trajectory: matched event dates and counts.

One module, one job: turn a run's event log (and its outcome row) into numbers
that can be set beside a documented trajectory. `compare` reads the raw
matches (the day each documented event happened in each run), `abc` reads the
statistics vector.

Matching a documented event to a run (the sequence rule). Documented events
are matched in the trajectory's date order, each by its `type` and by the first
word of its `detail` (the model logs `surrender; detainee release dropped`, the
file says `surrender`; no detail matches any detail):

* a *key* event is the first occurrence of its kind after the previous matched
  key event (so "the second deal" is the first truce after the collapse, not the
  first truce of the run);
* another event is the n-th occurrence of its kind after the key event that
  precedes it in the file, n being its `ordinal` ("fourth convoy") or else its
  rank among the documented events of that kind since that key event;
* an exogenous event (scheduled by date in the scenario: mediator entry, aid cut,
  forces change, campaign, detainee list) is the n-th of its kind in the whole
  run, n its rank in the file: it happens on its date whatever came before.

Events that never happen are kept, not dropped: each key event contributes an
indicator (1 = it happened) and a date offset in days from its documented window
(0 inside it, negative if early, positive if late), censored at the horizon: a
missing event counts as happening on the scenario's last day, later than any
event that did happen. Quantities contribute their signed distance outside the
documented range (0 inside), and the outcome class an indicator. The observed
statistics are therefore all 1 (indicators) and 0 (offsets): the documented
trajectory is the point the runs should hit, with its uncertainty (date windows,
ranges where sources disagree) built into the zero.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from simkit.calibration.trajectory import Event, Outcome, Quantity, Range, Trajectory, Window
from simkit.model.events import EventType
from simkit.model.negotiation import PackageKind
from simkit.scenario import Scenario
from simkit.yamlio import InputError

__all__ = [
    "EXOGENOUS",
    "QUANTITIES",
    "Measure",
    "Row",
    "Target",
    "Targets",
    "detail_word",
    "match_events",
    "observed_statistics",
    "quantity_values",
    "summary_statistics",
    "trajectory_from_run",
]

Row = tuple[int, str, str, int, str]
"""One event of a run's log: (day, type, actor, count, detail), as `SiegeModel.events.rows`."""

EXOGENOUS = frozenset(
    {
        EventType.MEDIATOR_ENTRY,
        EventType.FORCES_CHANGE,
        EventType.AID_CUT,
        EventType.CAMPAIGN,
        EventType.DETAINEE_LIST,
    }
)
"""Event types the scenario schedules by date: they happen whatever the run did before."""

_WORD = re.compile(r"[a-z0-9_]+")


@lru_cache(maxsize=4096)  # a run's details repeat (committee names, terms): read each once per process
def detail_word(detail: str | None) -> str | None:
    """First word of a detail (`surrender; detainee release dropped` -> `surrender`); None for none."""
    if not detail:
        return None
    found = _WORD.search(detail.lower())
    return found.group(0) if found else None


# ---------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Measure:
    """How to read one documented quantity off a run.

    Attributes:
        description: what is counted, in words (shown in tables and docs).
        read: function of (event rows, outcome row) giving the simulated value.
        calibrate: whether calibration fits it (False for figures that are inputs
            of the scenario, such as the length of the detainee list).
    """

    description: str
    read: Callable[[Sequence[Row], Mapping], float]
    calibrate: bool = True


def _surrender_convoys(rows: Sequence[Row]) -> list[Row]:
    """Evacuation convoys of signed surrenders, in log order (the documented totals count those).

    The event log is the only record of single convoys: the model keeps run totals of the surrender's
    buses (`surrender_evacuated`, `surrender_fighters`, which the totals above read), not one count per
    convoy, so the first ten convoys can only be read here. Each convoy's detail names the agreement its
    buses serve (`surrender; fighters=300`, `truce; fighters=120`: docs/events.md), so a truce's waves
    of fighters, before or after a surrender was signed, are never counted with the surrender's buses.

    Raises:
        InputError: a convoy whose detail names no agreement (`fighters=300`: a log written by an older
            simkit, which cannot tell a surrender's buses from a truce's waves).
    """
    convoys = [r for r in rows if r[1] == EventType.EVACUATION_CONVOY]
    if any(detail_word(r[4]) not in _AGREEMENTS for r in convoys):
        raise InputError(
            "events written by an older simkit: convoys do not name their agreement; rerun with --overwrite"
        )
    return [r for r in convoys if detail_word(r[4]) == PackageKind.SURRENDER]


_AGREEMENTS = frozenset(kind.value for kind in PackageKind)


QUANTITIES: dict[str, Measure] = {
    "evacuated_total": Measure(
        "people evacuated on convoys under the surrender agreement",
        lambda rows, run: float(run["surrender_evacuated"]),  # the model's count, as scoring reads it
    ),
    "fighters_evacuated_total": Measure(
        "fighters evacuated on convoys under the surrender agreement",
        lambda rows, run: float(run["surrender_fighters"]),  # the model's count, not the log's text
    ),
    "first_ten_convoys_people": Measure(
        "people on the first ten convoys under the surrender agreement",
        lambda rows, run: float(sum(r[3] for r in _surrender_convoys(rows)[:10])),
        calibrate=False,  # overlaps evacuated_total; shown in compare only
    ),
    "detainees_released_total": Measure(
        "detainees released over the run", lambda rows, run: float(run["released"])
    ),
    "detainees_released_share": Measure(
        "share of the detainee list released", lambda rows, run: float(run["released_share"]), calibrate=False
    ),
    "detainees_demanded": Measure(
        "names on the detainee list at the end", lambda rows, run: float(run["listed"]), calibrate=False
    ),
}
"""Documented quantities the model can be read for, by their key in a trajectory's `quantities`."""


def quantity_values(rows: Sequence[Row], run: Mapping, names: Iterable[str]) -> dict[str, float]:
    """Simulated value of each named quantity for one run."""
    return {name: QUANTITIES[name].read(rows, run) for name in names}


def range_offset(value: float, bounds: Range) -> float:
    """Signed distance from a documented range: 0 inside, negative below, positive above."""
    if value < bounds.low:
        return value - bounds.low
    if bounds.high is not None and value > bounds.high:
        return value - bounds.high
    return 0.0


# ---------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A documented event as the runs are searched for it.

    Attributes:
        event: the documented event.
        first_day, last_day: its window in simulated days (0 = scenario start).
        nth: which occurrence after the anchor counts (1 = the first).
        anchor: index (in `Targets.events`) of the key event it is counted from;
            None for key events (chained to the previous key event) and exogenous ones.
        exogenous: scheduled by date in the scenario (matched over the whole run).
    """

    event: Event
    first_day: int
    last_day: int
    nth: int
    anchor: int | None
    exogenous: bool

    @property
    def id(self) -> str:
        """The documented event's id."""
        return self.event.id

    @property
    def key(self) -> bool:
        """Whether it is a key event (chained, and a calibration target)."""
        return self.event.key

    @cached_property
    def kind(self) -> tuple[str, str | None]:
        """(type, first word of detail): what a simulated event must show to match (read once per target)."""
        return self.event.type.value, detail_word(self.event.detail)

    def offset(self, day: int) -> int:
        """Days outside the documented window: 0 inside, negative early, positive late."""
        if day < self.first_day:
            return day - self.first_day
        if day > self.last_day:
            return day - self.last_day
        return 0


@dataclass(frozen=True)
class Targets:
    """What of a trajectory a scenario's runs are compared on: events in its period, quantities, outcome.

    Built once per (trajectory, scenario); applying it to a run is cheap.

    Attributes:
        trajectory: the documented trajectory.
        start: the scenario's start date (simulated day 0).
        horizon: the scenario's number of days; a missing event is censored here.
        events: documented events inside the simulated period, in file order.
        skipped: ids of documented events outside the simulated period.
        quantities: documented quantities the model can be read for (name -> range).
        unmatched_quantities: documented quantities the model has no reading for.
        outcome: the documented outcome class, or None while the case is open.
    """

    trajectory: Trajectory
    start: dt.date
    horizon: int
    events: tuple[Target, ...]
    skipped: tuple[str, ...]
    quantities: dict[str, Quantity]
    unmatched_quantities: tuple[str, ...]
    outcome: str | None

    @classmethod
    def build(cls, trajectory: Trajectory, scenario: Scenario) -> Targets:
        """Match a trajectory to a scenario's period.

        Raises:
            InputError: when no documented event falls inside the scenario's period.
        """
        start, end, horizon = scenario.start, scenario.end, scenario.horizon_days.value
        inside = [e for e in trajectory.events if start <= e.window()[0] and e.window()[1] <= end]
        skipped = tuple(e.id for e in trajectory.events if e not in inside)
        if not inside:
            raise InputError(
                f"trajectory {trajectory.case!r} ({trajectory.start}..{trajectory.end}) has no event in the "
                f"scenario {scenario.name!r} ({start}..{end}); is it the right pair?"
            )
        targets: list[Target] = []
        last_key: int | None = None
        for event in inside:
            first, last = ((d - start).days for d in event.window())
            kind = (event.type.value, detail_word(event.detail))
            exogenous = event.type in EXOGENOUS
            if exogenous:
                nth = 1 + sum(1 for t in targets if t.kind == kind)
                anchor = None
            elif event.key:
                nth, anchor = 1, None
            else:
                since = targets[last_key + 1 :] if last_key is not None else targets
                nth = event.ordinal or 1 + sum(1 for t in since if t.kind == kind and not t.key)
                anchor = last_key
            targets.append(Target(event, first, last, nth, anchor, exogenous))
            if event.key and not exogenous:
                last_key = len(targets) - 1
        quantities = {name: q for name, q in trajectory.quantities.items() if name in QUANTITIES}
        unmatched = tuple(name for name in trajectory.quantities if name not in QUANTITIES)
        outcome = trajectory.outcome.kind if trajectory.outcome is not None else None
        return cls(trajectory, start, horizon, tuple(targets), skipped, quantities, unmatched, outcome)

    @property
    def key_events(self) -> list[Target]:
        """The key events in the simulated period, in date order."""
        return [t for t in self.events if t.key]

    @property
    def calibrated_quantities(self) -> list[str]:
        """Documented quantities that calibration fits (and the distance scores)."""
        return [name for name in self.quantities if QUANTITIES[name].calibrate]


def match_events(targets: Targets, rows: Sequence[Row]) -> dict[str, int | None]:
    """Day on which each documented event happened in one run (None: it never did), by the sequence rule."""
    by_kind: dict[tuple[str, str | None], list[int]] = {}
    wanted = {t.kind for t in targets.events}
    wanted |= {(kind, None) for kind, _ in wanted}
    types = {kind for kind, _ in wanted}
    for i, row in enumerate(rows):
        if row[1] not in types:
            continue  # no target of this type: its detail need not be read
        for kind in ((row[1], detail_word(row[4])), (row[1], None)):
            if kind in wanted:
                by_kind.setdefault(kind, []).append(i)
    days: dict[str, int | None] = {}
    found_at: list[int | None] = []  # log index of each target's match
    cursor = 0  # log index after the last matched key event
    for target in targets.events:
        positions = by_kind.get(target.kind, [])
        if target.exogenous:
            index = positions[target.nth - 1] if len(positions) >= target.nth else None
        elif target.key:
            index = _nth_at_or_after(positions, cursor, 1)
            if index is not None:
                cursor = index + 1
        else:
            anchor = found_at[target.anchor] if target.anchor is not None else None
            since = anchor + 1 if anchor is not None else cursor
            index = _nth_at_or_after(positions, since, target.nth)
        found_at.append(index)
        days[target.id] = rows[index][0] if index is not None else None
    return days


def _nth_at_or_after(positions: list[int], start: int, nth: int) -> int | None:
    later = [p for p in positions if p >= start]
    return later[nth - 1] if len(later) >= nth else None


# ---------------------------------------------------------------- statistics


def summary_statistics(targets: Targets, rows: Sequence[Row], run: Mapping) -> dict[str, float]:
    """One run's statistics: key-event indicators and censored date offsets, quantity offsets, outcome.

    Args:
        targets: the trajectory matched to the scenario.
        rows: the run's event log, (day, type, actor, count, detail) in log order.
        run: the run's outcome row (`RunOutcome.as_row()` or a row of runs.parquet).
    """
    days = match_events(targets, rows)
    stats: dict[str, float] = {}
    for target in targets.key_events:
        day = days[target.id]
        stats[f"{target.id}.happened"] = 0.0 if day is None else 1.0
        stats[f"{target.id}.offset_days"] = float(target.offset(targets.horizon if day is None else day))
    values = quantity_values(rows, run, targets.calibrated_quantities)
    for name, value in values.items():
        stats[f"{name}.offset"] = range_offset(value, targets.quantities[name])
    if targets.outcome is not None:
        stats["outcome.match"] = 1.0 if run["outcome"] == targets.outcome else 0.0
    return stats


def observed_statistics(targets: Targets) -> dict[str, float]:
    """The documented trajectory's statistics: each key event inside its window, each figure in range."""
    stats: dict[str, float] = {}
    for target in targets.key_events:
        stats[f"{target.id}.happened"] = 1.0
        stats[f"{target.id}.offset_days"] = 0.0
    for name in targets.calibrated_quantities:
        stats[f"{name}.offset"] = 0.0
    if targets.outcome is not None:
        stats["outcome.match"] = 1.0
    return stats


# ---------------------------------------------------------------- synthetic trajectories


def trajectory_from_run(
    template: Trajectory,
    scenario: Scenario,
    rows: Sequence[Row],
    run: Mapping,
    label: str,
    tolerance: float = 0.1,
) -> Trajectory:
    """A trajectory as the model itself wrote it: the template's key events as they happened in one run.

    Used to test that comparison and calibration find what they should: a
    trajectory made by the model at known parameters. Key events that the run
    never had are left out (a document cannot report what did not happen);
    quantities are the run's values within +-`tolerance` (sources disagree);
    the outcome is the run's.

    Args:
        template: the documented trajectory whose key events and quantities are re-dated.
        scenario: the scenario the run was made from.
        rows: the run's event log.
        run: the run's outcome row.
        label: source text naming the run (e.g. "synthetic: waer.yaml seed 7").
        tolerance: relative half-width of the quantity ranges.

    Raises:
        InputError: when the run has none of the template's key events.
    """
    targets = Targets.build(template, scenario)
    days = match_events(targets, rows)
    sources = [label]
    events = []
    for target in targets.key_events:
        day = days[target.id]
        if day is None:
            continue
        date = scenario.start + dt.timedelta(days=day)
        events.append(
            Event(
                id=target.id,
                type=target.event.type,
                date=date,
                key=True,
                detail=target.event.detail,
                description=f"{target.event.description} (as simulated)",
                sources=sources,
            )
        )
    if not events:
        raise InputError(f"{label}: the run has none of the key events of {template.case!r}")
    events.sort(key=lambda e: e.window()[0])
    values = quantity_values(rows, run, targets.calibrated_quantities)
    quantities = {
        name: Quantity(
            low=math.floor(v * (1 - tolerance)), high=math.ceil(v * (1 + tolerance)), sources=sources
        )
        for name, value in values.items()
        for v in [max(value, 0.0)]
    }
    end = max(scenario.start + dt.timedelta(days=int(run["outcome_day"])), events[-1].window()[1])
    population = Quantity(
        low=run["population"], high=max(run["population"], template.population.low), sources=sources
    )
    return Trajectory(
        case="synthetic",
        description=f"{template.case} key events as simulated ({label})",
        start=scenario.start,
        end=end,
        population=population,
        events=events,
        outcome=Outcome(kind=run["outcome"], sources=sources),
        quantities=quantities,
    )


def reorder_dates(trajectory: Trajectory, order: Sequence[int]) -> Trajectory:
    """The same events with dates permuted (event i takes the date of event order[i]), re-sorted by date.

    A trajectory whose events happened in the wrong order: the control case
    that a comparison must score worse than the real order.
    """
    windows = [e.window() for e in trajectory.events]
    moved = [
        e.model_copy(update={"date": None, "span": Window(**{"from": windows[j][0], "to": windows[j][1]})})
        for e, j in zip(trajectory.events, order, strict=True)
    ]
    moved.sort(key=lambda e: e.window()[0])
    return trajectory.model_copy(update={"events": moved})

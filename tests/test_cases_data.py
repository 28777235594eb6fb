"""The case library's data (cases/library.yaml) keeps the calibration discipline.

Every case names a scenario that validates, holds only events of the exogenous kinds the schema can
schedule (never a deal, an evacuation or a takeover: the ending must emerge), dated on or after its
start, carries Waer's behaviour as north Homs does, runs, and agrees with its documented trajectory on
the ending. The file is read as plain YAML here, so these checks do not depend on the case-set schema
that `simkit score` validates it with.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from simkit.calibration.forecast import BEHAVIOURAL
from simkit.calibration.trajectory import Event, OutcomeClass, Trajectory, load_trajectory
from simkit.model import OUTCOMES
from simkit.scenario import Scenario, load_scenario
from simkit.single_run import simulate
from tests.conftest import NORTH_HOMS, ROOT

LIBRARY = ROOT / "cases" / "library.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(LIBRARY.read_text(encoding="utf-8"))["cases"]
IDS = [case["id"] for case in CASES]

EXOGENOUS_TYPES = frozenset(
    {
        "mediator_entry",
        "forces_change",
        "aid_convoy",
        "aid_cut",
        "campaign",
        "corridor",  # lines opened by the regime or a mediator (issue 9); who flees emerges
        "outside_agreement",
        "detainee_list",
    }
)
"""Scheduled events a scenario may hold: documented drivers from outside the negotiation.

Written out rather than read from the schema, so that a new event type (say, a humanitarian evacuation
or a signed deal) has to be judged and added here on purpose before a library scenario may use it.
"""

MIN_DAYS_PAST_CONTROL = 60  # "a horizon well past the documented ending"


def _path(case: dict[str, Any], key: str) -> Path:
    return (LIBRARY.parent / case[key]).resolve()


def _scenario(case: dict[str, Any]) -> Scenario:
    return load_scenario(_path(case, "scenario")).scenario


def _trajectory(case: dict[str, Any]) -> Trajectory:
    return load_trajectory(_path(case, "trajectory"))


def _window(entry: dict[str, Any]) -> tuple[dt.date, dt.date]:
    return entry["from"], entry["to"]


def _overlaps(event: Event, window: tuple[dt.date, dt.date]) -> bool:
    first, last = event.window()
    return first <= window[1] and window[0] <= last


def test_library_lists_the_five_cases_once() -> None:
    assert sorted(IDS) == ["daraya", "east_aleppo", "moadamiya", "old_homs", "waer"]
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_entry_values_are_consistent_and_sourced(case: dict[str, Any]) -> None:
    assert case["outcome"] in get_args(OutcomeClass)
    for key in ("siege_start", "deal_date", "control_date"):
        first, last = _window(case[key])
        assert isinstance(first, dt.date) and isinstance(last, dt.date), key
        assert first <= last, key
        assert case[key]["source"].strip(), f"{key} has no source"
    assert case["siege_start"]["to"] <= case["deal_date"]["from"]
    assert case["deal_date"]["from"] <= case["control_date"]["to"]
    evacuated = case["evacuated"]
    assert 0 <= evacuated["low"] <= evacuated["high"]
    assert evacuated["source"].strip() and evacuated["note"].strip()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scenario_schedules_only_exogenous_drivers_from_its_start(case: dict[str, Any]) -> None:
    scenario = _scenario(case)
    used = {event.type for event in scenario.events}
    assert used <= EXOGENOUS_TYPES, f"non-exogenous event types scheduled: {sorted(used - EXOGENOUS_TYPES)}"
    for event in scenario.events:
        assert event.date >= scenario.start, f"{event.type} on {event.date} before the start {scenario.start}"
    # A forecaster stands inside the siege and before its ending, and looks well past it.
    assert case["siege_start"]["from"] <= scenario.start < case["deal_date"]["from"]
    assert (scenario.end - case["control_date"]["to"]).days >= MIN_DAYS_PAST_CONTROL


SHARED_BLOCKS = ("regime", "behaviour", "mediators", "committees.0")
"""Where shared behavioural values live: a faction's or a town's values are the case's own."""


def _node(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _parameters(node: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """Every `{value: ..., source|assumed: ...}` under a block, by dotted path."""
    if isinstance(node, dict) and "value" in node:
        return {prefix: node}
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, dict):
        for key, child in node.items():
            found |= _parameters(child, f"{prefix}.{key}")
    return found


def test_behaviour_is_one_value_with_one_provenance_in_every_scenario() -> None:
    # The five library cases and north Homs, Waer included: every parameter of `BEHAVIOURAL` and every one
    # a file marks behavioural carries the same value and the same provenance in all six files.
    files = [_path(case, "scenario") for case in CASES] + [NORTH_HOMS]
    data = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in files}
    paths = set(BEHAVIOURAL)
    for raw in data.values():
        for block in SHARED_BLOCKS:
            for path, parameter in _parameters(_node(raw, block), block).items():
                if "behavioural" in str(parameter.get("assumed", "")) + str(parameter.get("source", "")):
                    paths.add(path)
    assert len(paths) > len(BEHAVIOURAL)
    for path in sorted(paths):
        seen = {name: _node(raw, path) for name, raw in data.items()}
        assert all(seen.values()), f"{path} missing in {[name for name, node in seen.items() if not node]}"
        distinct = {repr(sorted(node.items())) for node in seen.values()}
        values = ", ".join(f"{name}={node['value']}" for name, node in seen.items())
        assert len(distinct) == 1, f"{path} differs: {values}"


def test_a_mediator_identity_carries_the_same_values_in_every_scenario() -> None:
    # One table of mediator values (numbers and provenance) in every scenario file, Waer's included.
    scenarios = [_scenario(case) for case in CASES] + [load_scenario(NORTH_HOMS).scenario]
    tables = {scenario.name: scenario.mediators.model_dump() for scenario in scenarios}
    first = next(iter(tables.values()))
    for name, table in tables.items():
        assert table == first, f"{name}'s mediators: table differs"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_agrees_with_the_entry_on_the_ending(case: dict[str, Any]) -> None:
    traj = _trajectory(case)
    assert traj.case == case["id"]
    assert traj.outcome is not None and traj.outcome.kind == case["outcome"]
    key = traj.key_events()
    deals = [e for e in key if e.type == "agreement_signed" and e.detail == "surrender"]
    controls = [e for e in key if e.type == "control"]
    assert deals and controls
    assert _overlaps(deals[-1], _window(case["deal_date"]))
    assert _overlaps(controls[-1], _window(case["control_date"]))
    documented = traj.quantities["evacuated_total"]
    assert (documented.low, documented.high) == (case["evacuated"]["low"], case["evacuated"]["high"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scenario_runs_to_one_outcome_class(case: dict[str, Any]) -> None:
    record = simulate(_scenario(case), seed=1)
    assert record.run["outcome"] in OUTCOMES

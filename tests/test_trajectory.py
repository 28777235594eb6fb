"""Documented trajectories: the committed files, the schema's checks and its error messages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calibration import Trajectory, dump_trajectory, load_trajectory
from simkit.model.events import EventType
from simkit.yamlio import InputError, dump_yaml, read_yaml

CALIBRATION = Path(__file__).resolve().parents[1] / "calibration"
WAER = CALIBRATION / "waer_trajectory.yaml"
NORTH_HOMS = CALIBRATION / "north_homs_trajectory.yaml"

# The key events of the Waer sequence (model brief), in order, with their type and the model's detail.
WAER_KEY_EVENTS = {
    "first_truce": (EventType.AGREEMENT_SIGNED, "truce"),
    "truce_collapse": (EventType.CEASEFIRE_COLLAPSED, None),
    "second_deal": (EventType.AGREEMENT_SIGNED, "truce"),
    "token_release": (EventType.DETAINEES_RELEASED, None),
    "mediator_entry": (EventType.MEDIATOR_ENTRY, None),
    "ceasefire": (EventType.CEASEFIRE_DECLARED, "ceasefire"),
    "surrender_agreement": (EventType.AGREEMENT_SIGNED, "surrender"),
    "control": (EventType.CONTROL, None),
}


# ------------------------------------------------------------------ the committed files


@pytest.mark.parametrize("path", [WAER, NORTH_HOMS], ids=["waer", "north_homs"])
def test_committed_file_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    traj = load_trajectory(path)
    assert traj.events and traj.population.sources
    copy = tmp_path / path.name
    dump_trajectory(traj, copy)
    assert load_trajectory(copy) == traj


def test_waer_key_events_present_typed_and_in_sequence() -> None:
    traj = load_trajectory(WAER)
    assert [event.id for event in traj.key_events()] == list(WAER_KEY_EVENTS)
    for event_id, (kind, detail) in WAER_KEY_EVENTS.items():
        event = traj.event(event_id)
        assert event.type is kind, event_id
        if detail is not None:
            assert event.detail == detail, event_id
    starts = [event.window()[0] for event in traj.key_events()]
    assert starts == sorted(starts)


def test_waer_outcome_and_documented_totals_agree_with_the_events() -> None:
    traj = load_trajectory(WAER)
    assert traj.outcome is not None and traj.outcome.kind == "surrender_evacuation" and traj.outcome.sources
    assert traj.outcome.date == traj.event("control").window()[1]
    released = [event.released for event in traj.events_of(EventType.DETAINEES_RELEASED)]
    assert all(r is not None and r.low == r.high for r in released)
    total = sum(r.low for r in released if r is not None)
    assert traj.quantities["detainees_released_total"].contains(total)  # 35 + 194
    # seed 000's "15,000 fighters and families" lies inside the range of reported totals
    assert traj.quantities["evacuated_total"].contains(15_000)
    first = traj.event("first_evacuation")  # AP 272 + 447, AFP ~300 + ~400, TRT ~320 + ~450
    assert first.fighters is not None and first.people is not None
    assert all(first.fighters.contains(n) for n in (272, 300, 320))
    assert all(first.people.contains(n) for n in (719, 700, 770))


def test_waer_evacuation_convoys_of_2017_are_typed_with_people() -> None:
    traj = load_trajectory(WAER)
    surrender = traj.event("surrender_agreement").window()[0]
    convoys = [e for e in traj.events_of(EventType.EVACUATION_CONVOY) if e.window()[0] > surrender]
    assert [e.ordinal for e in convoys if e.ordinal] == sorted(e.ordinal for e in convoys if e.ordinal)
    assert all(e.people is not None for e in convoys if e.ordinal and e.ordinal <= 5)


def test_north_homs_is_open() -> None:
    traj = load_trajectory(NORTH_HOMS)
    assert traj.outcome is None
    assert traj.end == dt.date(2017, 10, 31)
    assert not traj.events_of(EventType.CONTROL)


def test_event_lookup_and_windows() -> None:
    traj = load_trajectory(WAER)
    on_a_day = traj.event("token_release")
    assert on_a_day.window() == (on_a_day.date, on_a_day.date)
    first, last = traj.event("first_truce").window()
    assert (first, last) == (dt.date(2015, 12, 1), dt.date(2015, 12, 31))  # "Dec 2015" as a month window
    with pytest.raises(KeyError, match="first_truce"):
        traj.event("no_such_event")


# ------------------------------------------------------------------ bad files

GOOD = """\
case: demo
description: A small documented case.
start: 2017-01-01
end: 2017-12-31
population: {low: 1000, high: 2000, sources: [seed 000]}
events:
  - id: first_truce
    type: agreement_signed
    detail: truce
    key: true
    date: 2017-02-01
    description: A truce.
    sources: [seed 000]
  - id: evacuation
    type: evacuation_convoy
    window: {from: 2017-03-01, to: 2017-03-31}
    description: A convoy.
    people: {low: 700, high: 770}
    sources: [AP, 9 Dec 2015]
"""


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad_trajectory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_trajectory(path)
    message = str(info.value)
    assert str(path) in message
    return message


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_good_template_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_trajectory(path).ids() == ["first_truce", "evacuation"]


def test_unknown_key_names_path_line_and_allowed_keys(tmp_path: Path) -> None:
    text = GOOD.replace("    people: {low", "    peopel: {low")
    message = _error(tmp_path, text)
    assert f":{_line(text, 'peopel')}: events.1.peopel: unknown key 'peopel'" in message
    assert "people" in message.partition("allowed keys here:")[2]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD + "outcomes: null\n")
    assert f":{len(GOOD.splitlines()) + 1}: outcomes: unknown key" in message


def test_event_without_sources_is_invalid(tmp_path: Path) -> None:
    missing = GOOD.replace("    sources: [seed 000]\n", "")
    assert "events.0.sources: required but missing" in _error(tmp_path, missing)
    empty = GOOD.replace("    sources: [seed 000]\n", "    sources: []\n")
    message = _error(tmp_path, empty)
    assert f":{_line(empty, 'sources: []')}: events.0.sources: expected at least one source" in message


def test_unknown_event_type_lists_allowed_types(tmp_path: Path) -> None:
    text = GOOD.replace("type: agreement_signed", "type: truce_signed")
    message = _error(tmp_path, text)
    assert f":{_line(text, 'truce_signed')}: events.0.type:" in message
    assert "'truce_signed'" in message
    assert all(f"'{kind.value}'" in message for kind in EventType)


@pytest.mark.parametrize("written", ["2017-02-30", "'2017-02-30'"], ids=["yaml_date", "quoted"])
def test_impossible_date(tmp_path: Path, written: str) -> None:
    text = GOOD.replace("date: 2017-02-01", f"date: {written}")
    message = _error(tmp_path, text)
    assert f":{_line(text, '2017-02-30')}: events.0.date:" in message
    assert "2017-02-30" in message


def test_not_a_date(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("date: 2017-02-01", "date: 20170201"))
    assert "events.0.date: expected a date (YYYY-MM-DD); found 20170201" in message


def test_window_from_after_to(tmp_path: Path) -> None:
    text = GOOD.replace("{from: 2017-03-01, to: 2017-03-31}", "{from: 2017-03-31, to: 2017-03-01}")
    message = _error(tmp_path, text)
    assert f":{_line(text, 'window')}: events.1.window: expected from <= to" in message
    assert "2017-03-31" in message


def test_range_low_above_high(tmp_path: Path) -> None:
    text = GOOD.replace("{low: 700, high: 770}", "{low: 800, high: 770}")
    message = _error(tmp_path, text)
    assert (
        f":{_line(text, 'people')}: events.1.people: expected low <= high, found low 800 > high 770"
        in message
    )


def test_duplicate_id(tmp_path: Path) -> None:
    text = GOOD.replace("id: evacuation", "id: first_truce")
    message = _error(tmp_path, text)
    assert re.search(r":\d+: events\.1\.id: duplicate id 'first_truce'", message)


def test_events_out_of_date_order(tmp_path: Path) -> None:
    text = GOOD.replace("date: 2017-02-01", "date: 2017-04-01")
    assert "events.1: events must be in date order" in _error(tmp_path, text)


def test_event_outside_the_record(tmp_path: Path) -> None:
    text = GOOD.replace("to: 2017-03-31}", "to: 2018-01-02}")
    message = _error(tmp_path, text)
    assert "events.1.window: expected a date within 2017-01-01..2017-12-31" in message
    assert "found 2017-03-01..2018-01-02" in message


def test_event_needs_exactly_one_of_date_and_window(tmp_path: Path) -> None:
    both = GOOD.replace(
        "    date: 2017-02-01\n", "    date: 2017-02-01\n    window: {from: 2017-02-01, to: 2017-02-02}\n"
    )
    assert "events.0: expected either `date:` or `window: {from:, to:}`, found both" in _error(tmp_path, both)
    neither = GOOD.replace("    date: 2017-02-01\n", "")
    assert "found neither" in _error(tmp_path, neither)


def test_unknown_outcome_class(tmp_path: Path) -> None:
    text = GOOD + "outcome: {class: victory, sources: [seed 000]}\n"
    assert "outcome.class:" in _error(tmp_path, text)


# ------------------------------------------------------------------ generated trajectories

_text = st.text(
    alphabet=st.characters(
        categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x85\u2028\u2029\ufeff"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() != "")
_slug = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
_number = st.one_of(st.integers(0, 10**7), st.floats(0, 1e7, allow_nan=False, allow_infinity=False))


@st.composite
def _range(draw: st.DrawFn, with_sources: bool = False) -> dict:
    low = draw(_number)
    high = draw(st.one_of(st.none(), _number.map(lambda d: low + d)))
    data: dict = {"low": low, "high": high, "approximate": draw(st.booleans())}
    if draw(st.booleans()):
        data["note"] = draw(_text)
    if with_sources:
        data["sources"] = draw(st.lists(_text, min_size=1, max_size=3))
    return data


@st.composite
def _trajectory(draw: st.DrawFn) -> Trajectory:
    start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)))
    length = draw(st.integers(0, 900))
    end = start + dt.timedelta(days=length)
    ids = draw(st.lists(_slug, min_size=1, max_size=6, unique=True))
    offsets = sorted(draw(st.lists(st.integers(0, length), min_size=len(ids), max_size=len(ids))))
    events = []
    for event_id, offset in zip(ids, offsets, strict=True):
        first = start + dt.timedelta(days=offset)
        event: dict = {
            "id": event_id,
            "type": draw(st.sampled_from(list(EventType))),
            "description": draw(_text),
        }
        if draw(st.booleans()):
            event["date"] = first
        else:
            last = first + dt.timedelta(days=draw(st.integers(0, (end - first).days)))
            event["window"] = {"from": first, "to": last}
        event["key"] = draw(st.booleans())
        for field in ("detail", "note"):
            if draw(st.booleans()):
                event[field] = draw(_text)
        for field in draw(st.sets(st.sampled_from(["people", "fighters", "released", "cumulative_people"]))):
            event[field] = draw(_range())
        if draw(st.booleans()):
            event["ordinal"] = draw(st.integers(1, 20))
        event["sources"] = draw(st.lists(_text, min_size=1, max_size=3))
        events.append(event)
    data: dict = {
        "case": draw(_slug),
        "description": draw(_text),
        "start": start,
        "end": end,
        "population": draw(_range(with_sources=True)),
        "events": events,
        "quantities": draw(st.dictionaries(_slug, _range(with_sources=True), max_size=3)),
    }
    if draw(st.booleans()):
        outcome_date = draw(st.one_of(st.none(), st.dates(start, end)))
        data["outcome"] = {
            "class": draw(st.sampled_from(["surrender_evacuation", "stalemate", "reconciliation"])),
            "date": outcome_date,
            "partial_release": draw(st.booleans()),
            "sources": draw(st.lists(_text, min_size=1, max_size=2)),
        }
    return Trajectory.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(traj=_trajectory())
def test_any_valid_trajectory_round_trips(traj: Trajectory, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("roundtrip") / "trajectory.yaml"
    dump_trajectory(traj, path)
    assert load_trajectory(path) == traj


@settings(max_examples=30, deadline=None)
@given(traj=_trajectory(), days=st.integers(1, 400))
def test_an_event_moved_outside_the_record_is_rejected(
    traj: Trajectory, days: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("outside") / "trajectory.yaml"
    dump_trajectory(traj, path)
    data, _ = read_yaml(path)  # simkit's own reader and writer: text such as '1e5' stays text
    event = data["events"][-1]
    event.pop("window", None)
    event["date"] = traj.end + dt.timedelta(days=days)
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(InputError, match=rf"events\.{len(traj.events) - 1}\.date: expected a date within"):
        load_trajectory(path)

"""Stories of one run: every event told in order, with its state; the event table documented and current."""

from __future__ import annotations

import datetime as dt
import string

import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.ensemble import run_ensemble
from simkit.model.events import EVENTS, EventType
from simkit.scenario import load_scenario
from simkit.story import STATE_COLUMNS, STATE_MEANINGS, sentence, story_of, to_html, to_markdown
from tests.conftest import WAER

runner = CliRunner()

STATE = {
    "committee": "Waer committee", "phase": "siege", "pressure": 0.6, "trust": 0.4, "strain": 1.0,
    "food_days": 12.0, "hardship": 0.5, "force": 0.7, "escalation": 0.3, "listed": 7360,
    "released": 35, "population": 50_000, "killed": 10, "evacuated": 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("story") / "waer"
    run_ensemble(load_scenario(WAER), runs=12, seed=5, out=out)
    return out


def test_every_event_type_is_described_and_every_template_reads():
    assert set(EVENTS) == set(EventType)
    allowed = {"actor", "count", "detail"} | set(STATE_MEANINGS)
    for kind, info in EVENTS.items():
        assert info.meaning and info.actor and info.count and info.detail, kind
        for template in (info.says, *info.variants.values()):
            names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
            assert names <= allowed, (kind, names - allowed)
            assert sentence({"type": kind, "actor": "regime", "count": 3, "detail": "x"}, STATE)


def test_the_regime_declining_its_own_offer_reads_as_declining_to_sign():
    row = {"type": "package_rejected", "actor": "regime", "count": 120, "detail": "truce"}
    assert sentence(row, STATE).startswith("The regime declined to sign a truce at those terms")
    row = {"type": "package_rejected", "actor": "Waer committee", "count": 120, "detail": "truce"}
    assert sentence(row, STATE).startswith("Waer committee turned the truce down: 60% of households")


@pytest.mark.parametrize(("count", "says"), [(1, "1 town under"), (2, "2 towns under")])
def test_a_split_over_terms_counts_its_towns_in_the_right_number(count, says):
    row = {"type": "fragmentation", "actor": "Waer", "count": count, "detail": "towns split over the offer"}
    assert sentence(row, STATE).startswith(f"{says} Waer refused the terms")


def test_a_convoy_says_which_agreement_its_buses_serve():
    truce = {"type": "evacuation_convoy", "actor": "Waer", "count": 400, "detail": "truce; fighters=120"}
    surrender = {**truce, "detail": "surrender; fighters=120"}
    says = "400 people left on the buses {} (120 of them fighters)."
    assert sentence(truce, STATE) == says.format("in a wave of the truce")
    assert sentence(surrender, STATE) == says.format("under the surrender")


def test_an_accepted_surrender_does_not_quote_the_pressure_read_after_the_towns_stopped_holding_out(ensemble):
    # The day's state is read after the signing, when no town holds out (pressure 0): the acceptance line
    # must not say "0% of households wanted a way out" right after the offer line gave the real share.
    told = [story_of(ensemble, run) for run in range(12)]
    accepted = [line for story in told for line in story.lines
                if line.type == "agreement_signed" and "accepted surrender" in line.text]  # fmt: skip
    assert accepted
    assert not [line.text for line in accepted if "households wanted a way out" in line.text]


def test_story_tells_every_logged_event_of_the_run_in_date_order(ensemble):
    for run in (0, 7):
        told = story_of(ensemble, run)
        logged = pd.read_parquet(ensemble / "events.parquet", filters=[("run", "==", run)])
        assert [line.type for line in told.lines] == logged["type"].tolist()
        assert [line.date for line in told.lines] == logged["date"].tolist()
        days = [line.day for line in told.lines]
        assert days == sorted(days)
        outcome = pd.read_parquet(ensemble / "runs.parquet").set_index("run").loc[run, "outcome"]
        assert told.lines[-1].text == f"The run ended in {outcome.replace('_', ' ')}."
        for line in told.lines:
            assert 0 <= line.state["trust"] <= 1 and 0 <= line.state["pressure"] <= 1
            assert line.state["food_days"] >= 0 and line.state["released"] <= line.state["listed"]
        page = to_markdown(told)
        dated_rows = [row for row in page.splitlines() if row.startswith("| 20")]
        assert len(dated_rows) == len({line.day for line in told.lines})
        assert "<table>" in to_html(told)


def test_a_scenario_that_changed_since_the_run_is_refused(ensemble, tmp_path):
    changed = tmp_path / "waer.yaml"
    # Half the people: every count the run logs (killed, registered, evacuated) is drawn from them.
    text = WAER.read_text().replace("population: {value: 60000", "population: {value: 30000")
    assert text != WAER.read_text()
    changed.write_text(text)
    with pytest.raises(Exception, match="does not replay"):
        story_of(ensemble, 0, changed)


def test_story_command(ensemble, tmp_path):
    page = tmp_path / "run3.html"
    result = runner.invoke(app, ["story", str(ensemble), "--run", "3", "--format", "html", "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert page.read_text().startswith("<!doctype html>")
    result = runner.invoke(app, ["story", str(ensemble), "--run", "3"])
    assert result.exit_code == 0 and result.output.startswith("# Waer: the story of run 3")
    for args in (["--run", "99"], ["--format", "pdf"]):
        result = runner.invoke(app, ["story", str(ensemble), *args])
        assert result.exit_code == 2 and result.output.startswith("error: "), result.output


def test_the_pressure_column_agrees_with_the_share_the_days_text_quotes(ensemble):
    """On a surrender's day the column shows the pressure last noted before the signing, not the 0 after it.

    That is the share the day's last earlier line quotes when it quotes one; pressure moves within a day
    (people leave, food is eaten), so a share quoted by an earlier line (an offer before the talks) may be
    a point off.
    """
    import re

    seen = 0
    for run in range(12):
        story = story_of(ensemble, run)
        rows = {row.split(" | ")[0].removeprefix("| "): row for row in to_markdown(story).splitlines()}
        for line in story.lines:
            if line.type != "agreement_signed" or "accepted surrender" not in line.text:
                continue
            seen += 1
            row = rows[str(line.date)]
            cells = [cell.strip() for cell in row.split(" | ")]
            pressure = cells[3 + list(STATE_COLUMNS).index("pressure") + 1]
            day = [other for other in story.lines if other.day == line.day]
            committee = line.state["committee"]  # the day's lines about it before its signing:
            earlier = [other for other in day[: day.index(line)] if other.state["committee"] == committee]
            if earlier:  # its pressure as last noted (under an offensive, talks quote no share)
                last = earlier[-1]
                assert pressure == f"{last.state['pressure']:.2f}" and float(pressure) > 0, row
                quoted = re.findall(r"(\d+)% of households want", last.text)
                assert not quoted or round(float(pressure) * 100) == int(quoted[-1]), row
            else:  # the signing was the day's first line about it: no share was weighed that day before it
                assert pressure == "-", row
    assert seen


def test_surrender_terms_name_their_committee_and_are_told_in_its_state():
    # Terms tabled during a campaign have no ultimatum row before them: the detail names the committee,
    # and the line is told with that committee's pressure, not the first committee's.
    from simkit.story import CommitteeState, State, tell

    committees = {
        "A": CommitteeState("siege", 0.2, 0.5, 0.0),
        "B": CommitteeState("siege", 0.7, 0.5, 0.0),
    }
    state = State(10.0, 0.5, 1000, 0, 0, 0, 100, 1.2, 1.0, committees)
    rows = [(5, "package_offered", "regime", 0, "surrender: evacuation (B)")]
    (line,) = tell(rows, [state], dt.date(2016, 1, 1))
    assert line.state["committee"] == "B"
    assert line.text == (
        "The regime put surrender terms to B: the fighters and whoever will not stay leave on the buses, "
        "detainees off the table (70% of households wanted a way out)."
    )


def _pressure_shown(*lines: tuple[str, str, str, float]) -> str:
    """The pressure cell of a one-day story made of (committee, type, detail, pressure) lines, in order."""
    from simkit.story import Line, Story

    day = dt.date(2016, 3, 1)
    told = [
        Line(10, day, kind, f"{committee}: {kind}.", {**STATE, "committee": committee, "pressure": pressure},
             detail)
        for committee, kind, detail, pressure in lines
    ]  # fmt: skip
    (row,) = [row for row in to_markdown(Story("t", [], told)).splitlines() if row.startswith("| 2016")]
    cells = [cell.strip() for cell in row.split(" | ")]
    return cells[3 + list(STATE_COLUMNS).index("pressure") + 1]


def test_another_committees_surrender_does_not_set_the_pressure_of_the_row():
    # The row is about B (its last line); A's surrender that day says nothing of B's households.
    shown = _pressure_shown(
        ("A", "talks_held", "A", 0.8),
        ("A", "agreement_signed", "surrender: evacuation", 0.0),
        ("B", "violation", "B", 0.4),
    )
    assert shown == "0.40"


def test_a_committees_surrender_shows_its_own_pressure_before_the_signing_not_another_committees():
    shown = _pressure_shown(
        ("A", "talks_held", "A", 0.8),
        ("B", "violation", "B", 0.4),
        ("A", "agreement_signed", "surrender: evacuation", 0.0),
    )
    assert shown == "0.80"
    assert _pressure_shown(("B", "violation", "B", 0.4), ("A", "agreement_signed", "surrender", 0.0)) == "-"


def test_a_surrender_some_towns_refused_shows_the_pressure_of_the_towns_still_holding_out():
    # The model logs the split before the signing; after it the committee's pressure is that of the towns
    # that refused (0.3 here), not the share quoted while all towns weighed the terms.
    shown = _pressure_shown(
        ("A", "talks_held", "A", 0.8),
        ("A", "fragmentation", "towns split over the offer", 0.8),
        ("A", "agreement_signed", "surrender: evacuation", 0.3),
    )
    assert shown == "0.30"


def test_an_offensive_row_tells_one_bombardment_level(ensemble):
    """An offensive's row says one level: not "100% of full intensity" beside "stepped up to 58%".

    The model raises the bombardment to the offensive's level before the launch ends a truce, so the
    collapse's escalation step is logged from that level (COERCE9: before, it was logged from the level
    before and the story corrected it); the story tells the log as it is.
    """
    import re

    seen = 0
    for run in range(12):
        for row in to_markdown(story_of(ensemble, run)).splitlines():
            if not row.startswith("| 20") or "launched an offensive" not in row:
                continue
            cells = [cell.strip() for cell in row.split(" | ")]
            after = cells[2].split("launched an offensive", 1)[1]
            level = int(re.match(r"[^(]*\((\d+)% of full intensity", after).group(1))
            steps = [int(n) for n in re.findall(r"bombardment to (\d+)% of full intensity", after)]
            seen += len(steps)
            assert all(step >= level for step in steps), row
            escalation = float(cells[3 + list(STATE_COLUMNS).index("escalation") + 1].rstrip(" |"))
            assert escalation >= level / 100, row
    assert seen

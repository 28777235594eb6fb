"""The story of one run: its dated events as plain sentences, with the state of the siege at each turn.

The event log (`events.parquet`) holds what happened: `(day, type, actor, count, detail)`. The state
behind each event (food, hardship, pressure, trust, strain, force) is not stored; a run is reproducible
from its scenario and seed, so the story re-simulates the run with a model that notes the state every
time it logs an event, and checks that the replayed log equals the stored one. The stored log stays
the one record of what happened; the replay only adds what the model knew at that moment, and a replay
that differs (the scenario file or simkit changed since) is refused rather than told.

`sentence(event, state)` is the one function from an event row and a state to its sentence, read
from the `EVENTS` table next to `EventType` (simkit/model/events.py), so a new event type is told as
soon as it has its table entry, and any page (Markdown, HTML, an interactive view) prints the same text.
`tell(rows, states, start)` turns a day's rows into those sentences, each in the state of the committee
it concerns, as the log and the state noted with it say.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simkit.manifest import scenario_label, scenario_of
from simkit.model import SiegeModel
from simkit.model.events import EVENTS, EventType
from simkit.scenario import Scenario
from simkit.yamlio import InputError

STATE_COLUMNS: dict[str, str] = {
    "food_days": "food (days)",
    "hardship": "hardship",
    "pressure": "pressure",
    "trust": "trust",
    "strain": "strain",
    "force": "force",
    "escalation": "escalation",
}
"""State shown beside each day of a story, with its column heading."""

STATE_MEANINGS: dict[str, str] = {
    "committee": "the committee the event concerns (the actor or the detail if it names one, else the first)",
    "phase": "that committee's phase: siege, truce, evacuation or settled",
    "pressure": "share of its households that want a way out (0-1)",
    "trust": "its belief that the regime implements what it signs (mean of a Beta belief, 0-1)",
    "strain": "violations weighing on its truce (collapse beyond collapse_tolerance x legitimacy)",
    "food_days": "days of food per resident among those not yet settled",
    "hardship": "households' mean hardship among those not yet settled (0-1)",
    "force": "the regime's force here, as a share of what a full offensive needs",
    "escalation": "the regime's escalation level (0-1): its bombardment of areas under siege",
    "listed": "detainees on the committee's list",
    "released": "detainees freed so far",
    "population": "people inside",
    "value": "the number after `=` in a detail such as `fighters=300` (empty if none)",
    "s": "`s` unless `count` is 1: a plural ending, as in `town{s}`",
}
"""Placeholders a sentence template may use besides {actor}, {count} and {detail}."""


# ---------------------------------------------------------------- state and replay
@dataclass(frozen=True)
class CommitteeState:
    """One committee at one moment."""

    phase: str
    pressure: float
    trust: float
    strain: float


@dataclass(frozen=True)
class State:
    """The siege at the moment an event was logged."""

    food_days: float
    hardship: float
    population: int
    killed: int
    evacuated: int
    released: int
    listed: int
    force: float
    escalation: float
    committees: dict[str, CommitteeState]

    def about(self, committee: str | None = None) -> dict[str, Any]:
        """Flat placeholders for a sentence: the siege, and the named committee (else the first)."""
        name = committee if committee in self.committees else next(iter(self.committees))
        flat = {key: value for key, value in asdict(self).items() if key != "committees"}
        return {**flat, "committee": name, **asdict(self.committees[name])}


class _StateRecorder(SiegeModel):
    """The model, unchanged, noting the state each time it logs an event (reads only; draws nothing)."""

    def log(self, day: int, kind: EventType, actor: str, count: int = 0, detail: str = "") -> None:
        super().log(day, kind, actor, count, detail)
        if not hasattr(self, "states"):
            self.states: list[State] = []
        self.states.append(self._state())

    def _state(self) -> State:
        held = [g for g in self.groups if g.status != "settled"]
        people = sum(g.population for g in held)
        return State(
            food_days=sum(g.food for g in held) / people if people else 0.0,
            hardship=sum(g.hardship * g.population for g in held) / people if people else 0.0,
            population=sum(g.population for g in self.groups),
            killed=sum(g.killed for g in self.groups),
            evacuated=sum(g.evacuated for g in self.groups),
            released=self.released,
            listed=self.listed,
            force=self.regime.force,
            escalation=self.regime.escalation,
            committees={
                c.name: CommitteeState(c.phase.value, c.pressure(), c.trust, c.strain)
                for c in self.committees
            },
        )


@dataclass(frozen=True)
class Replay:
    """A re-simulated run: event rows `(day, type, actor, count, detail)`, the state at each, its ending."""

    rows: list[tuple[int, str, str, int, str]]
    states: list[State]
    outcome: dict[str, Any]


def replay(scenario: Scenario, seed: int) -> Replay:
    """Run the model once from `seed`, noting the state at every event (same run as `simkit.simulate`)."""
    model = _StateRecorder(scenario, rng=seed, record_series=False)
    outcome = model.run()
    return Replay(list(model.events.rows), model.states, outcome.as_row())


# ---------------------------------------------------------------- sentences
def sentence(event: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    """The plain sentence for one event row (`type`, `actor`, `count`, `detail`) in a state.

    The template is the event type's entry in `EVENTS`: a variant for its detail when there is one
    (tried as "regime <detail>" when the regime acts, then "<detail>", then the same without a closing
    "(<committee>)", then with the detail's first word), else its `says`. `state` holds the placeholders
    of `STATE_MEANINGS` (`State.about`).
    """
    info = EVENTS[EventType(event["type"])]
    actor, detail = str(event["actor"]), str(event["detail"] or "")
    word = detail.split(";")[0].split(":")[0].split(" ")[0].split("=")[0]
    keys = [detail, _unnamed(detail)[0], word]
    if actor == "regime":  # each form as the regime's, then as anyone's
        keys = [form for key in keys for form in (f"regime {key}", key)]
    template = next((info.variants[k] for k in keys if k in info.variants), info.says)
    value = detail.partition("=")[2]
    count = int(event["count"])
    text = template.format(
        **state,
        actor=_actor(actor),
        count=count,
        detail=detail.replace("_", " "),
        value=value,
        s="" if count == 1 else "s",
    )
    return text[:1].upper() + text[1:]


def _unnamed(detail: str) -> tuple[str, str]:
    """A detail without a closing "(<committee>)", and the name in it; the detail itself twice if none.

    `surrender: evacuation (Waer committee)` -> (`surrender: evacuation`, `Waer committee`).
    """
    head, sep, name = detail.removesuffix(")").rpartition(" (")
    return (head, name) if sep and detail.endswith(")") else (detail, detail)


def _actor(actor: str) -> str:
    return {"regime": "the regime", "model": "the model", "direct": "directly", "aid": "aid"}.get(
        actor, actor
    )


# ---------------------------------------------------------------- a run of a results folder
@dataclass(frozen=True)
class Line:
    """One event of a story: when, what (type and sentence), and the state it happened in."""

    day: int
    date: dt.date
    type: str
    text: str
    state: dict[str, Any]
    detail: str = ""


@dataclass(frozen=True)
class Story:
    """A run told: what was run (scenario, overrides, seed), how it ended, and its events in order."""

    title: str
    facts: list[tuple[str, str]]
    lines: list[Line]


def story_of(results: str | Path, run: int, scenario_file: str | Path | None = None) -> Story:
    """Tell run `run` of a results folder of `simkit run`, `compare` or `forecast`.

    Args:
        results: the folder (runs.parquet, events.parquet, manifest.json).
        run: the run index (as in runs.parquet).
        scenario_file: the scenario YAML, if it is no longer where the manifest says.

    Raises:
        InputError: no such folder or run, no scenario file, or a replay that differs from the log.
    """
    results = Path(results)
    manifest_path = results / "manifest.json"
    if not (results / "runs.parquet").exists() or not manifest_path.exists():
        raise InputError(f"{results}: no runs.parquet and manifest.json here; is it a simkit results folder?")
    manifest = json.loads(manifest_path.read_text())
    if "scenario" not in manifest or "master_seed" not in manifest:
        raise InputError(f"{results}: not the result of simkit run, compare or forecast (a sweep?)")
    runs = pd.read_parquet(results / "runs.parquet", filters=[("run", "==", run)])
    if runs.empty:
        total = pd.read_parquet(results / "runs.parquet", columns=["run"])["run"]
        raise InputError(f"--run {run}: {results} holds runs {total.min()} to {total.max()}")
    row = runs.iloc[0]
    scenario = _scenario_of_run(manifest, results, row, scenario_file)
    played = replay(scenario, int(row["seed"]))
    logged = pd.read_parquet(results / "events.parquet", filters=[("run", "==", run)])
    stored = [
        (int(r.day), str(r.type), str(r.actor), int(r.count), str(r.detail)) for r in logged.itertuples()
    ]
    if stored != played.rows:
        raise InputError(
            f"run {run} of {results} does not replay: {manifest['scenario']} or simkit changed since the "
            f"results were written (simkit {manifest.get('packages', {}).get('simkit', '?')} then); "
            "rerun the ensemble, or pass the scenario file as it was with --scenario"
        )
    lines = tell(played.rows, played.states, scenario.start)
    outcome = played.outcome
    facts = [
        ("scenario", f"{scenario_label(manifest)} ({manifest['scenario']})"),
        (
            "results",
            f"{results}, run {run} of {manifest.get('runs', '?')}, master seed "
            f"{manifest['master_seed']}, run seed {int(row['seed'])}",
        ),
        (
            "outcome",
            f"{outcome['outcome'].replace('_', ' ')} on {outcome['outcome_date']} "
            f"(day {outcome['outcome_day']})",
        ),
        ("detainees", f"{outcome['released']:,} of {outcome['listed']:,} freed"),
        ("people", f"{outcome['evacuated']:,} evacuated, {outcome['killed']:,} killed"),
    ]
    drawn = manifest.get("drawn_parameters") or []
    if drawn:
        facts.insert(1, ("drawn", ", ".join(f"{p}={row[p]:.4g}" for p in drawn)))
    title = f"{scenario_label(manifest)}: the story of run {run}"
    return Story(title, facts, lines)


def tell(
    rows: Sequence[tuple[int, str, str, int, str]], states: Sequence[State], start: dt.date
) -> list[Line]:
    """Event rows `(day, type, actor, count, detail)` with the state noted at each, as dated lines.

    The one place rows become sentences (`simkit story` and the app's stepped run): each is told in the
    state of the committee it concerns (its actor, its detail, or the "(<committee>)" closing its detail,
    as surrender terms name theirs). Give whole days: a day's lines are told together.
    """
    lines = []
    for (day, kind, actor, count, detail), state in zip(rows, states, strict=True):
        concerned = actor if actor in state.committees else _unnamed(detail)[1]
        flat = state.about(concerned)
        event = {"type": kind, "actor": actor, "count": count, "detail": detail}
        when = start + dt.timedelta(days=day)
        lines.append(Line(day, when, kind, sentence(event, flat), flat, str(detail or "")))
    return lines


def _scenario_of_run(
    manifest: Mapping[str, Any], results: Path, row: pd.Series, scenario_file: str | Path | None
) -> Scenario:
    """The scenario run `row` was simulated with: the file and overrides of the manifest, and any draws."""
    scenario = scenario_of(manifest, results, scenario_file)
    drawn = manifest.get("drawn_parameters") or []
    if drawn:
        from simkit.calibration.priors import set_parameters

        scenario = set_parameters(scenario, {p: float(row[p]) for p in drawn}, origin="drawn")
    return scenario


# ---------------------------------------------------------------- pages
def _by_day(story: Story) -> list[tuple[dt.date, int, list[Line]]]:
    days: dict[int, list[Line]] = {}
    for line in story.lines:
        days.setdefault(line.day, []).append(line)
    return [(lines[0].date, day, lines) for day, lines in days.items()]


def _weighed(lines: list[Line]) -> dict[str, Any] | None:
    """The state whose pressure a day's row shows: its committee's, as last read while its towns held out.

    The row is about the committee of the day's last line. When that committee signed a surrender that
    day which left none of its towns holding out, the pressure read after the signing is 0: the row shows
    the pressure of the day's last line about that committee before the signing (None if the signing
    came first). A surrender signed by another committee, or one some of the committee's towns refused
    (they still hold out: the pressure read after it is theirs), does not cut the day.
    """
    committee = lines[-1].state["committee"]
    for i in range(len(lines)):
        if _gave_up(lines, i, committee):
            before = [earlier for earlier in lines[:i] if earlier.state["committee"] == committee]
            return before[-1].state if before else None
    return lines[-1].state


def _gave_up(lines: list[Line], i: int, committee: str) -> bool:
    """Whether line `i` is `committee` signing a surrender that leaves none of its towns holding out.

    The model logs a split (`fragmentation`: the towns that refused) right before a surrender only some
    towns adopted.
    """
    line = lines[i]
    if line.type != EventType.AGREEMENT_SIGNED.value or not line.detail.startswith("surrender"):
        return False
    if line.state["committee"] != committee:
        return False
    previous = lines[i - 1] if i else None
    return not (
        previous is not None
        and previous.type == EventType.FRAGMENTATION.value
        and previous.state["committee"] == committee
    )


def _state_cells(lines: list[Line]) -> list[str]:
    """The state after the day's last event; its pressure as last read while the towns held out (`_weighed`).

    On the day a committee's surrender leaves none of its towns holding out, the pressure read after the
    signing is 0: the cell shows the pressure noted at the day's last earlier line about that committee
    (the share it quotes, if it quotes one: talks held under an offensive quote none), or "-" if the
    signing came first.
    """
    state = lines[-1].state
    weighed = _weighed(lines)
    return [
        state["phase"],
        f"{state['food_days']:.0f}",
        f"{state['hardship']:.2f}",
        f"{weighed['pressure']:.2f}" if weighed and weighed["phase"] in ("siege", "truce") else "-",
        f"{state['trust']:.2f}",
        f"{state['strain']:.1f}",
        f"{state['force']:.2f}",
        f"{state['escalation']:.2f}",
    ]


STATE_NOTE = (
    "State after the day's last event; on a day a surrender leaves none of a committee's towns holding out, "
    "its pressure as the terms were weighed (after the signing no town holds out)"
)


def _legend() -> str:
    columns = {"phase": "phase", **STATE_COLUMNS}
    return "; ".join(f"{label}: {STATE_MEANINGS[key]}" for key, label in columns.items())


def to_markdown(story: Story) -> str:
    """The story as Markdown: facts, then one table row per day (its events in order, the state after)."""
    out = [f"# {story.title}", ""]
    out += [f"- **{key}**: {value}" for key, value in story.facts]
    out += ["", f"{STATE_NOTE} ({_legend()}).", ""]
    header = ["date", "day", "what happened", "phase", *STATE_COLUMNS.values()]
    out += [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * 4 + ["---:"] * len(STATE_COLUMNS)) + "|",
    ]
    for date, day, lines in _by_day(story):
        text = " ".join(line.text for line in lines).replace("|", "\\|")
        out.append(f"| {date} | {day} | {text} | " + " | ".join(_state_cells(lines)) + " |")
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:#f3f3f3;position:sticky;top:0}td.d{white-space:nowrap}p.legend{font-size:.85rem;color:#555}"""


def to_html(story: Story) -> str:
    """The story as one self-contained HTML page (no external assets): the same text as the Markdown."""
    esc = html.escape
    rows = []
    for date, day, lines in _by_day(story):
        text = "<br>".join(esc(line.text) for line in lines)
        cells = "".join(f'<td class="n">{c}</td>' for c in _state_cells(lines))
        rows.append(f'<tr><td class="d">{date}</td><td class="n">{day}</td><td>{text}</td>{cells}</tr>')
    facts = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in story.facts)
    heads = "".join(
        f"<th>{esc(h)}</th>" for h in ("date", "day", "what happened", "phase", *STATE_COLUMNS.values())
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(story.title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{esc(story.title)}</h1><ul>{facts}</ul>"
        f'<p class="legend">{esc(STATE_NOTE)} ({esc(_legend())}).</p>'
        f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


# ---------------------------------------------------------------- documentation
def events_doc() -> str:
    """docs/events.md: every event type's meaning, actor, count and detail, from `EVENTS` (`make docs`)."""
    esc = str.maketrans({"|": "\\|", "\n": " "})
    out = [
        "# Events: what every row of events.parquet means",
        "",
        "<!-- generated from simkit/model/events.py (EVENTS) by `make docs`; do not edit by hand -->",
        "",
        "Every run logs dated events as rows `run, day, date, type, actor, count, detail`. What `actor`,",
        "`count` and `detail` hold depends on the type:",
        "",
        "| type | what happened | actor | count | detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, info in EVENTS.items():
        cells = (f"`{kind.value}`", info.meaning, info.actor, info.count, info.detail)
        out.append("| " + " | ".join(cell.translate(esc) for cell in cells) + " |")
    out += [
        "",
        "## Stories",
        "",
        "`simkit story RESULTS --run N` tells one run with these events as sentences (each type's",
        "`says` template in the same table, with variants by detail), and the state at each turn. The",
        "state is not stored: the run is re-simulated from its scenario and seed and checked against",
        "the stored log. Placeholders a template may use besides `{actor}`, `{count}` and `{detail}`:",
        "",
        "| placeholder | meaning |",
        "| --- | --- |",
    ]
    out += [f"| `{{{key}}}` | {meaning} |" for key, meaning in STATE_MEANINGS.items()]
    return "\n".join(out) + "\n"

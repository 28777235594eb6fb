"""The page of `simkit app` (solara): one run day by day, the knobs, and an ensemble tab.

Everything the page knows lives in `simkit.app.state.Session`; this module only draws it. The
scenario file and seed come from the environment (`SIMKIT_APP_SCENARIO`, `SIMKIT_APP_SEED`), which
`simkit app` sets before it starts solara on this file.

Mesa's `SolaraViz` is not used: when it rebuilds a model it passes a `mesa.experimental` scenario
object as the model's `scenario` argument (ours is a simkit `Scenario`), and its parameter inputs
are constructor keywords without room for a dotted path's group or provenance. The page uses
solara directly with the same controls (play/pause, step, reset) and matplotlib figures, which
render offline (docs/app.md).
"""

from __future__ import annotations

import html
import os
import threading
import time

import matplotlib.dates as mdates
import pandas as pd
import solara
import solara.lab
from matplotlib.figure import Figure

from simkit.app.state import Comparison, Knob, Session
from simkit.timing import ENDINGS
from simkit.yamlio import InputError

PLAY_INTERVAL = 0.4
"""Seconds between days while playing (a redraw takes a good part of it)."""


def _table(frame: pd.DataFrame, css_class: str) -> None:
    """A plain HTML table (no front-end component beyond solara's own)."""
    solara.HTML(tag="div", unsafe_innerHTML=frame.to_html(index=False, classes=css_class, border=0))


def _bold(head: str, rest: str = "") -> None:
    """A bold heading and plain text after it (HTML: solara.Markdown would fetch KaTeX from a CDN)."""
    solara.HTML(tag="p", unsafe_innerHTML=f"<b>{html.escape(head)}</b>{html.escape(rest)}")


def _run_figure(session: Session) -> Figure:
    days = session.run.days
    fig = Figure(figsize=(11, 6), dpi=80)
    axes = fig.subplots(2, 3, sharex=True)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.95, bottom=0.12, wspace=0.25, hspace=0.2)
    dates = [d.date for d in days]
    panels = [
        (axes[0, 0], "food (days per resident)", {"food": [d.food_days for d in days]}),
        (axes[0, 1], "hardship (0-1)", {"hardship": [d.hardship for d in days]}),
        (
            axes[0, 2],
            "people",
            {
                "population": [d.population for d in days],
                "evacuated": [d.evacuated for d in days],
                "killed": [d.killed for d in days],
            },
        ),
        (axes[1, 0], "trust (0-1)", {name: [d.trust[name] for d in days] for name in _committees(session)}),
        (axes[1, 1], "strain", {name: [d.strain[name] for d in days] for name in _committees(session)}),
        (
            axes[1, 2],
            "regime (0-1)",
            {"force": [d.force for d in days], "escalation": [d.escalation for d in days]},
        ),
    ]
    for ax, title, lines in panels:
        ax.set_title(title, fontsize=10)
        for label, values in lines.items():
            ax.plot(dates, values, label=label, linewidth=1.4)
        if len(lines) > 1:
            ax.legend(fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
    locator = mdates.AutoDateLocator(maxticks=6)
    axes[1, 0].xaxis.set_major_locator(locator)
    axes[1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig


def _committees(session: Session) -> list[str]:
    return [c.name for c in session.scenario.committees]


def _incidence_figure(comparison: Comparison) -> Figure:
    table = comparison.incidence()
    fig = Figure(figsize=(10, 4), dpi=80)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.12)
    colours = dict(zip(ENDINGS, ("#0072B2", "#009E73", "#D55E00"), strict=True))
    for (ensemble, ending), rows in table.groupby(["ensemble", "ending"], sort=False):
        if not rows["incidence"].any():
            continue
        style = "-" if ensemble == "knobs" else "--"
        ax.step(rows["date"], rows["incidence"], where="post", linestyle=style, color=colours[ending],
                label=f"{ending.replace('_', ' ')} ({ensemble})")  # fmt: skip
        if ensemble == "knobs":
            ax.fill_between(rows["date"], rows["low"], rows["high"], step="post", alpha=0.15,
                            color=colours[ending], linewidth=0)  # fmt: skip
    ax.set_ylabel("share of runs ended")
    ax.set_ylim(0, 1)
    ax.set_title("cumulative incidence of each ending (solid: knobs, 95% band; dashed: file values)",
                 fontsize=10)  # fmt: skip
    if ax.get_legend_handles_labels()[0]:  # no run may have ended yet
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no run reached an ending", transform=ax.transAxes, ha="center")
    ax.grid(alpha=0.3)
    return fig


@solara.component
def KnobInput(knob: Knob, on_set) -> None:
    """One parameter: its dotted path and value, and its provenance beside it."""
    with solara.Column(gap="0px", style={"margin-bottom": "10px"}):
        if knob.whole:
            solara.InputInt(knob.path, value=int(knob.value), on_value=lambda v: on_set(knob.path, v),
                            continuous_update=False)  # fmt: skip
        else:
            solara.InputFloat(knob.path, value=float(knob.value), on_value=lambda v: on_set(knob.path, v),
                              continuous_update=False)  # fmt: skip
        solara.Text(knob.provenance, style={"font-size": "0.75rem", "color": "#555", "margin-top": "4px"})


@solara.component
def Knobs(session: Session, version: solara.Reactive[int]) -> None:
    """The knobs, grouped by the scenario's sections, with a reset to the file's values."""
    _ = version.value
    error = solara.use_reactive("")

    def on_set(path: str, value) -> None:
        if value is None:
            return
        try:
            session.set(path, value)
            error.set("")
        except InputError as err:
            error.set(f"{path}: {err}")
        version.set(version.value + 1)

    def on_reset() -> None:
        session.reset_knobs()
        error.set("")
        version.set(version.value + 1)

    solara.Button("Reset to the file's values", on_click=on_reset, color="primary", outlined=True)
    if session.overrides:
        solara.Text("set: " + ", ".join(f"{p}={v}" for p, v in session.overrides.items()))
    if error.value:
        solara.Error(error.value)
    groups: dict[str, list[Knob]] = {}
    for knob in session.knobs():
        groups.setdefault(knob.group, []).append(knob)
    for group, items in groups.items():
        with solara.Details(f"{group} ({len(items)})").key(group):
            for knob in items:
                KnobInput(knob, on_set).key(f"{knob.path}={knob.value}")


@solara.component
def RunTab(session: Session, version: solara.Reactive[int]) -> None:
    """Play/pause/step through one run; the date, the panels, the agreements and the events."""
    _ = version.value  # drawn again whenever the session changes
    playing = solara.use_reactive(False)
    lock = solara.use_memo(threading.Lock, [])

    def play() -> None:
        while playing.value and session.run.running:
            time.sleep(PLAY_INTERVAL)
            with lock:
                session.run.step()
            version.set(version.value + 1)
        if not session.run.running:
            playing.set(False)

    # as Mesa's ModelController plays a model: a threaded task restarted whenever play/pause changes
    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def step() -> None:
        with lock:
            session.run.step()
        version.set(version.value + 1)

    def restart() -> None:
        playing.set(False)
        with lock:
            session.restart()
        version.set(version.value + 1)

    run = session.run
    with solara.Row(style={"align-items": "center"}):
        solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                      color="primary", disabled=not run.running)  # fmt: skip
        solara.Button("Step", on_click=step, disabled=playing.value or not run.running)
        solara.Button("Restart", on_click=restart)
        last = run.days[-1] if run.days else None
        readout = f"{last.date:%d %b %Y} (day {last.day})" if last else f"{run.date:%d %b %Y}, not started"
        solara.HTML(tag="b", unsafe_innerHTML=html.escape(readout), classes=["simkit-date"])
        ending = run.outcome()
        if ending:
            solara.Text(f"ended: {ending.replace('_', ' ')}")
        solara.Text(f"seed {session.seed}")
    if run.days:
        solara.FigureMatplotlib(_run_figure(session), format="png", dependencies=[version.value])
    deals = run.agreements()
    _bold("Agreements in force", "" if deals else ": none")
    if deals:
        _table(pd.DataFrame(deals), "simkit-agreements")
    _bold("What happened", f" ({len(run.told)} events, latest first)")
    told = [f"<li><b>{t.date}</b> {html.escape(t.text)}</li>" for t in reversed(run.told[-200:])]
    solara.HTML(tag="ul", unsafe_innerHTML="".join(told), classes=["simkit-events"])


@solara.component
def EnsembleTab(session: Session) -> None:
    """N runs at the current knobs against the file's values (common random numbers), with progress."""
    runs = solara.use_reactive(100)
    busy = solara.use_reactive(False)
    done = solara.use_reactive(0)
    result = solara.use_reactive(None)
    error = solara.use_reactive("")
    start = solara.use_reactive(0)

    def work() -> None:
        if not start.value:
            return
        busy.set(True)
        done.set(0)
        error.set("")
        try:
            workers = int(os.environ.get("SIMKIT_APP_WORKERS", "2"))
            result.set(session.ensemble(runs.value, workers=workers, progress=done.set))
        except InputError as err:
            error.set(str(err))
        finally:
            busy.set(False)

    solara.use_thread(work, dependencies=[start.value])
    with solara.Row(style={"align-items": "center"}):
        solara.InputInt("runs", value=runs, continuous_update=False)
        solara.Button("Run ensemble", on_click=lambda: start.set(start.value + 1), color="primary",
                      disabled=busy.value)  # fmt: skip
        knobs = ", ".join(f"{p}={v}" for p, v in session.overrides.items()) or "none (file values)"
        solara.Text(f"master seed {session.seed}; knobs: {knobs}")
    if error.value:
        solara.Error(error.value)
    total = runs.value * (2 if session.overrides else 1)
    if busy.value:
        solara.ProgressLinear(value=100 * done.value / max(total, 1))
        solara.Text(f"{done.value} of {total} runs")
    comparison: Comparison | None = result.value
    if comparison is not None and not busy.value:
        shown = ", ".join(f"{p}={v}" for p, v in comparison.overrides.items()) or "no knobs set"
        _bold("Outcome shares", f", {len(comparison.knobs)} runs each ({shown}; same master seed)")
        _table(comparison.shares().round(3), "simkit-shares")
        solara.FigureMatplotlib(_incidence_figure(comparison), format="png")


@solara.component
def Page() -> None:
    """The whole page: title, knobs in the sidebar, the run and ensemble tabs."""
    path = os.environ.get("SIMKIT_APP_SCENARIO", "scenarios/waer.yaml")
    seed = int(os.environ.get("SIMKIT_APP_SEED", "1"))
    session = solara.use_memo(lambda: Session.open(path, seed), [])
    version = solara.use_reactive(0)
    _ = version.value  # re-render whenever the session changes
    solara.Title(f"simkit: {session.loaded.scenario.name}")
    solara.Style(
        "table.simkit-shares td, table.simkit-shares th, table.simkit-agreements td,"
        " table.simkit-agreements th {padding: 2px 12px; text-align: right}"
    )
    with solara.Sidebar():
        _bold("Knobs", f" of {path}: dotted paths as in --set; provenance below each")
        Knobs(session, version)
    with solara.lab.Tabs():
        with solara.lab.Tab("Run"):
            RunTab(session, version)
        with solara.lab.Tab("Ensemble"):
            EnsembleTab(session)

"""One self-contained HTML page for a results folder: what was run, what came out, and on what grounds.

The page holds the scenario with its overrides, a provenance table of every parameter (sourced or
assumed, and why; drawn per run from a posterior, with its spread over the runs, where the folder is a
forecast), the outcome, timing and attribute tables, the figures (PNG embedded as base64, so the file
needs nothing beside it), the forecast's endings by date and their split between chance and the
parameters where the folder holds one (`simkit forecast`: forecast.json), and the comparison with the
documented record where the folder holds one (`simkit compare`). Tables come from the same summaries
the terminal prints.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from simkit.ensemble import Ensemble, load_ensemble
from simkit.manifest import scenario_label, scenario_of
from simkit.report import ATTRIBUTE_LABELS, horizon_at
from simkit.scenario.provenance import Param

FIGURES = {
    "outcomes.png": "Outcome shares with 95% intervals",
    "endings.png": "When runs end: cumulative incidence of each ending",
    "timeline.png": "Event timelines of the first runs",
    "series.png": "Daily series across runs",
    "compare_events.png": "Documented events over the simulated timelines",
    "compare_fan.png": "Documented quantities against the simulated spread",
}
"""Figures a results folder may hold, in page order, with their captions."""


def scenario_parameters(node: Any, path: str = "") -> Iterator[tuple[str, Param]]:
    """Every parameter of a scenario with its dotted path (list items by `name`/`locality`, else index)."""
    if isinstance(node, Param):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from scenario_parameters(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            key = getattr(item, "name", None) or getattr(item, "locality", None) or str(i)
            yield from scenario_parameters(item, f"{path}.{key}")


def named_path(scenario: Any, path: str) -> str:
    """A dotted path as `--set` writes it (`committees.0.concession_rate`) as the report names it."""
    node, named = scenario, []
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            part = getattr(node, "name", None) or getattr(node, "locality", None) or part
        else:
            node = getattr(node, part, None)
        named.append(part)
    return ".".join(named)


def value_text(value: Any) -> str:
    """A parameter's value as a reader expects it: whole numbers without decimals, others to 6 digits."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def provenance_table(scenario: Any, drawn: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per parameter: path, value, `sourced`, `assumed` or `drawn`, and the source or the reason.

    Args:
        scenario: the scenario as run.
        drawn: parameters drawn per run from a posterior, by the path `--set` writes: (their spread
            over the runs, where they were drawn from). These show the spread, not the scenario's value.
    """
    drawn = {named_path(scenario, path): how for path, how in (drawn or {}).items()}
    rows = []
    for path, param in scenario_parameters(scenario):
        if path in drawn:
            spread, origin = drawn[path]
            rows.append({"parameter": path, "value": spread, "basis": "drawn", "source or reason": origin})
        else:
            rows.append({
                "parameter": path, "value": value_text(param.value),
                "basis": "sourced" if param.source else "assumed",
                "source or reason": param.source or param.assumed,
            })  # fmt: skip
    return pd.DataFrame(rows)


def drawn_spread(runs: pd.DataFrame, manifest: dict) -> dict[str, tuple[str, str]]:
    """The parameters a forecast drew per run: their median and 80% range over the runs, and their origin."""
    origin = (
        f"drawn per run from {manifest.get('posterior', 'a posterior')} "
        f"({manifest.get('posterior_particles', '?')} particles, ESS {manifest.get('posterior_ess', '?')})"
    )
    spread = {}
    for path in manifest.get("drawn_parameters") or []:
        if path in runs:
            p10, p50, p90 = runs[path].quantile([0.1, 0.5, 0.9])
            spread[path] = (f"median {p50:.3g} (p10 {p10:.3g}, p90 {p90:.3g})", origin)
    return spread


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, na_rep="-", border=0, escape=True)


def _outcome_table(summary: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "outcome": name,
                "runs": round(s["share"] * summary["runs"]),
                "share": f"{s['share']:.1%}",
                "95% CI": f"{s['ci95'][0]:.1%} to {s['ci95'][1]:.1%}",
            }
            for name, s in summary["outcomes"].items()
        ]
    )


def _timing_table(summary: dict) -> pd.DataFrame:
    rows = []
    for name, row in summary["timing"]["endings"].items():
        rows.append(
            {
                "ending": name.replace("_", " "),
                "runs": row["runs"],
                "share": f"{row['share']:.1%}",
                "p10": row["date_p10"],
                "median": row["date_p50"],
                "p90": row["date_p90"],
                "median days": "-" if row["day_p50"] is None else f"{row['day_p50']:,}",
            }
        )
    return pd.DataFrame(rows)


def _attribute_table(summary: dict) -> pd.DataFrame:
    rows = []
    for name, q in summary["attributes"].items():
        if name == "outcome_day":
            continue  # the timing table gives days to an ending over the runs that reached one
        fmt = "{:.1%}" if name == "released_share" else "{:,.0f}"
        rows.append(
            {
                "attribute": ATTRIBUTE_LABELS.get(name, name),
                **{k: fmt.format(q[k]) for k in ("p10", "p50", "p90")},
            }
        )
    return pd.DataFrame(rows)


def _figures(out: Path) -> str:
    parts = []
    for name, caption in FIGURES.items():
        path = out / name
        if path.exists():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(caption)} ({name})</figcaption></figure>"
            )
    return "\n".join(parts)


def _forecast(out: Path) -> str:
    """The forecast's endings by date, split between chance and the parameters, where the folder holds one."""
    from simkit.calibration.forecast import forecast_tables

    if not (out / "forecast.json").exists():
        return ""
    report = json.loads((out / "forecast.json").read_text())
    by, deal, evacuated = forecast_tables(report)
    parts = [
        "<h2>Forecast: endings with the deal signed by each date</h2>",
        f"<p>{report['runs']:,} runs on {report['particles_drawn']:,} posterior particles. <i>chance</i> is "
        "the share of the spread from run to run at fixed parameters, <i>parameters</i> the share due to "
        "the parameters drawn (docs/forecast.md).</p>",
        _table(by),
        "<h3>Deal dates of the runs ending so (p10, median, p90)</h3>",
        _table(deal),
    ]
    if evacuated:
        parts.append(f"<p>{html.escape(evacuated)}</p>")
    return "\n".join(parts)


def _comparison(out: Path) -> str:
    """The comparison with the record, where `simkit compare` left one in the folder."""
    if not (out / "comparison.json").exists():
        return ""
    result = json.loads((out / "comparison.json").read_text())
    parts = ["<h2>Against the documented record</h2>"]
    distance = result.get("distance")
    if distance is not None:
        parts.append(
            f"<p>Distance D = {distance:.3f} (0 = every run on the record, 1 = none near it; "
            "docs/calibration.md).</p>"
        )
    for name, caption in (("compare_events.csv", "Events"), ("compare_quantities.csv", "Quantities")):
        if (out / name).exists():
            parts += [f"<h3>{caption}</h3>", _table(pd.read_csv(out / name))]
    return "\n".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}img{max-width:100%}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}
td:nth-child(n+2){font-variant-numeric:tabular-nums}"""


def build_report(results: str | Path, scenario_file: str | Path | None = None) -> str:
    """The report page of a results folder of `simkit run`, `compare` or `forecast`, as HTML text.

    Figures missing from the folder (run with --no-plots) are drawn into it first.
    """
    out = Path(results)
    ensemble: Ensemble = load_ensemble(out)
    manifest = ensemble.manifest
    if not any((out / name).exists() for name in ("outcomes.png", "endings.png")):
        from simkit.plots import write_figures

        write_figures(ensemble, out)
    scenario = scenario_of(manifest, out, scenario_file)
    label = scenario_label(manifest)
    summary = ensemble.summary
    esc = html.escape
    provenance = provenance_table(scenario, drawn_spread(ensemble.runs, manifest))
    sourced = int((provenance["basis"] == "sourced").sum())
    drawn = int((provenance["basis"] == "drawn").sum())
    overrides = manifest.get("overrides") or {}
    facts = {
        "scenario file": manifest.get("scenario", "?"),
        "scenario hash": manifest.get("scenario_hash", "?"),
        "period": f"{scenario.start} to {scenario.end}",
        "runs": f"{summary['runs']:,}",
        "master seed": manifest.get("master_seed", "?"),
        "command": manifest.get("command", "?"),
        "simkit": manifest.get("packages", {}).get("simkit", "?"),
        "finished": manifest.get("finished", "?"),
    }
    if manifest.get("drawn_parameters"):
        facts["drawn per run from a posterior"] = ", ".join(manifest["drawn_parameters"])
    left = summary["timing"]["unresolved"]
    when = (
        "deal that decided each ending, or the takeover"
        if summary["timing"].get("day_of") == "deal"
        else "day each ending was complete (these results predate deal dates)"
    )
    title = f"{label}: {summary['runs']:,} runs, seed {manifest.get('master_seed', '?')}"
    body = [
        f"<h1>{esc(title)}</h1>",
        "<table>"
        + "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts.items())
        + "</table>",
        "<h2>Overrides</h2>",
        _table(pd.DataFrame({"parameter": list(overrides), "value": list(overrides.values())}))
        if overrides
        else "<p>None: the scenario file as written.</p>",
        "<h2>Outcomes</h2>",
        "<p>Every run ends in exactly one class; shares add up to 100% (95% Wilson intervals).</p>",
        _table(_outcome_table(summary)),
        "<h2>When runs end</h2>",
        f"<p>Dates of the {when}, over the runs that reached it. Unresolved at the horizon"
        f"{esc(horizon_at(left['censored_at']))}: {left['runs']:,} runs ({left['share']:.1%}), censored "
        "there rather than counted as ending then.</p>",
        _table(_timing_table(summary)),
        "<h2>Run attributes</h2>",
        _table(_attribute_table(summary)),
        _forecast(out),
        "<h2>Figures</h2>",
        _figures(out),
        _comparison(out),
        "<h2>Provenance of the parameters</h2>",
        f"<p>{len(provenance)} parameters: {sourced} sourced, {len(provenance) - sourced - drawn} assumed "
        "(with the reason)"
        + (f", {drawn} drawn per run from the posterior (their spread over the runs)" if drawn else "")
        + ". Overridden values read <i>assumed: override (was ...)</i>.</p>",
        _table(provenance),
        f"<p><small>Written by simkit report on {dt.date.today()}.</small></p>",
    ]
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )

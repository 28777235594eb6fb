"""One self-contained HTML page for a results folder: what was run, what came out, and on what grounds.

The page holds the scenario with its overrides, a provenance table of every parameter (sourced or
assumed, and why), the outcome, timing and attribute tables, the figures (PNG embedded as base64, so
the file needs nothing beside it), and the comparison with the documented record where the folder
holds one (`simkit compare`). Tables come from the same summary the terminal prints.
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
from simkit.report import ATTRIBUTE_LABELS
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


def provenance_table(scenario: Any) -> pd.DataFrame:
    """One row per parameter: path, value, `sourced` or `assumed`, and the source or the reason."""
    rows = [
        {
            "parameter": path,
            "value": param.value,
            "basis": "sourced" if param.source else "assumed",
            "source or reason": param.source or param.assumed,
        }
        for path, param in scenario_parameters(scenario)
    ]
    return pd.DataFrame(rows)


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
    scenario = scenario_of(manifest, scenario_file)
    label = scenario_label(manifest)
    summary = ensemble.summary
    esc = html.escape
    provenance = provenance_table(scenario)
    sourced = int((provenance["basis"] == "sourced").sum())
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
        f"<p>Dates of the {when}, over the runs that reached it. Unresolved at the horizon "
        f"({esc(left['censored_at'])}): {left['runs']:,} runs ({left['share']:.1%}), censored there "
        "rather than counted as ending then.</p>",
        _table(_timing_table(summary)),
        "<h2>Run attributes</h2>",
        _table(_attribute_table(summary)),
        "<h2>Figures</h2>",
        _figures(out),
        _comparison(out),
        "<h2>Provenance of the parameters</h2>",
        f"<p>{len(provenance)} parameters: {sourced} sourced, {len(provenance) - sourced} assumed "
        "(with the reason). Overridden values read <i>assumed: override (was ...)</i>.</p>",
        _table(provenance),
        f"<p><small>Written by simkit report on {dt.date.today()}.</small></p>",
    ]
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )

"""SALib sensitivity through the sweep code recovers known answers; the command prints and writes them."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.sweep import Sweep, run_sweep, sensitivity
from simkit.sweep.reference import ishigami, ishigami_indices, linear
from simkit.yamlio import InputError

WAER = Path(__file__).resolve().parents[1] / "scenarios" / "waer.yaml"
# Behaviour weights take any real number, so they can carry the test functions' inputs through the
# scenario checks and overrides like any swept parameter.
X = ("behaviour.weight_hardship", "behaviour.weight_loss", "behaviour.weight_detainee_tie")
runner = CliRunner()


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    """Ishigami on [-pi, pi]^3: S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244) analytically."""
    sweep = Sweep(
        scenario=WAER,
        parameters={x: {"min": -math.pi, "max": math.pi} for x in X},
        design={"type": "sobol", "n": 1024},
        replicates=1,
        batch_size=1024,
    )
    result = run_sweep(sweep, out=tmp_path / "ishigami", model=ishigami)
    table = sensitivity(result)
    assert table.attrs["method"] == "sobol" and list(table["parameter"]) == list(X)
    known = ishigami_indices()
    assert np.allclose(table["S1"], known["S1"], atol=0.05), table
    assert np.allclose(table["ST"], known["ST"], atol=0.05), table
    assert (table["S1_conf"] > 0).all() and (table["S1_conf"] < 0.15).all()
    # x3 acts only through its interaction with x1: no first-order effect, a clear total effect
    assert abs(table["S1"].iloc[2]) < 0.05 < 0.15 < table["ST"].iloc[2]


def test_morris_mu_star_of_a_linear_function_and_a_seed_only_flag(tmp_path):
    """Linear y = x1 + 2 x2 + 3 x3 over ranges 2, 1, 0.5: mu* = 2, 2, 1.5 exactly, sigma = 0."""
    ranges = {X[0]: (0.0, 2.0), X[1]: (-1.0, 0.0), X[2]: (1.0, 1.5)}
    sweep = Sweep(
        scenario=WAER,
        parameters={x: {"min": lo, "max": hi} for x, (lo, hi) in ranges.items()},
        design={"type": "morris", "trajectories": 8, "levels": 4},
        replicates=5,
    )
    table = sensitivity(run_sweep(sweep, out=tmp_path / "linear", model=linear))
    assert table.attrs["method"] == "morris"
    assert np.allclose(table["mu_star"], [2.0, 2.0, 1.5])
    assert np.allclose(table["sigma"], 0.0, atol=1e-9)
    # the coin depends on the seed only, and seeds are common to all points: its share never varies
    assert table.attrs["constant"] == ["share_heads"]


def write(tmp_path: Path, design: dict, parameters: dict, overrides: dict | None = None) -> Path:
    path = tmp_path / "spec.yaml"
    # enough replicates that every point's outcome shares are a mix, not the fate of two or three seeds
    spec = {"scenario": str(WAER), "parameters": parameters, "design": design, "replicates": 10, "seed": 2}
    if overrides:
        spec["overrides"] = overrides
    path.write_text(yaml.safe_dump(spec))
    return path


def test_sensitivity_command_on_a_small_sobol_sweep_of_waer(tmp_path):
    path = write(
        tmp_path,
        {"type": "sobol", "n": 4},
        {
            "mediators.russia.leverage": {"min": 0.0, "max": 0.6},
            "committees.0.red_line_firmness": {"min": 0.2, "max": 0.95},
            "packages.truce.release_due_days": {"min": 30, "max": 120},
        },
        # runs stop on 1 Mar 2017 (as sweeps/waer_discovery.yaml), so whether Waer has settled varies
        {"horizon_days": 456},
    )
    out = tmp_path / "out"
    assert runner.invoke(app, ["sweep", str(path), "-o", str(out), "-q"]).exit_code == 0
    result = runner.invoke(
        app,
        ["sensitivity", str(out), "-y", "share_surrender_evacuation", "-y", "killed_mean", "--rare", "0"],
        env={"COLUMNS": "80"},  # a log or CI
    )
    assert result.exit_code == 0, result.output
    assert "Sobol indices" in result.output and "P(surrender_evacuation)" in result.output
    assert "mediators.russia.leverage" in result.output and "sensitivity.png" in result.output
    # at 80 columns, parameter paths longer than a third of the screen stay whole, and so do the numbers
    lines = [line for line in result.output.splitlines() if not line.startswith("wrote ")]  # a path
    assert max(map(len, lines)) <= 80 and "…" not in result.output
    for name in ("committees.0.red_line_firmness", "packages.truce.release_due_days"):
        rows = [line for line in lines if name in line]
        assert len(rows) == 2 and all(len(re.findall(r"-?\d+\.\d\d ± \d+\.\d\d", row)) == 2 for row in rows)
    assert (out / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    import pandas as pd

    written = pd.read_parquet(out / "sensitivity.parquet")
    assert set(written["output"]) == {"share_surrender_evacuation", "killed_mean"}
    assert list(written.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    with pytest.raises(InputError, match="unknown output"):
        sensitivity(out, ["share_victory"])


def test_grid_sweep_has_heat_maps_but_no_indices(tmp_path):
    path = write(
        tmp_path,
        "grid",
        {
            "mediators.russia.leverage": {"values": [0.0, 0.6]},
            "regime.siege_tightness": {"values": [0.5, 0.9]},
        },
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "-o", str(out)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if not line.startswith("wrote ")]
    assert max(map(len, table)) <= 80 and "…" not in result.output  # headers wrap, numbers whole
    assert "heatmaps.png" in result.output and (out / "heatmaps.png").read_bytes()[:4] == b"\x89PNG"
    manifest = json.loads((out / "manifest.json").read_text())
    # waer.yaml's values, marked on the heat maps
    assert manifest["base"] == {"mediators.russia.leverage": 0.165, "regime.siege_tightness": 0.9}
    words = " ".join(result.output.split())  # the title may wrap at 80 columns
    assert "share of runs ending in each outcome" in words and "%" in result.output  # the table
    result = runner.invoke(app, ["sensitivity", str(out)])
    assert result.exit_code == 2
    assert "need a sobol or morris design; this sweep used grid" in result.stderr


def rare_ending(scenario, params, seed) -> dict:
    """A model whose settlement is rare (about 5% of runs: x1 above 0.9, then a coin) and y = x1 + x2 / 10."""
    x1, x2, _ = list(params.values())[:3]
    settles = x1 > 0.9 and np.random.default_rng(seed).random() < 0.5
    return {"outcome": "surrender_evacuation" if settles else "stalemate", "y": x1 + 0.1 * x2}


def test_shares_too_rare_to_estimate_are_left_out_and_named_at_80_columns(tmp_path):
    sweep = Sweep(
        scenario=WAER,
        parameters={x: {"min": 0.0, "max": 1.0} for x in X},
        design={"type": "sobol", "n": 16},
        replicates=10,
    )
    out = tmp_path / "rare"
    result = run_sweep(sweep, out=out, model=rare_ending)
    settled = int((result.runs["outcome"] == "surrender_evacuation").sum())
    assert 0 < settled < 0.1 * len(result.runs)  # the premise: rare, but it happens
    table = sensitivity(result)
    # both shares are left out: one is rare, the other is its complement (rare on its 'without' side)
    assert set(table["output"]) == {"y_mean"}
    assert table.attrs["rare"]["share_surrender_evacuation"] == (settled, len(result.runs), "with")
    assert table.attrs["rare"]["share_stalemate"] == (settled, len(result.runs), "without")
    assert set(sensitivity(result, rare=0.0)["output"]) >= {"share_surrender_evacuation", "y_mean"}

    shown = runner.invoke(app, ["sensitivity", str(out)], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if not line.startswith("wrote ")]  # a path
    assert max(map(len, lines)) <= 80 and "…" not in shown.output
    assert "too rare to estimate" in shown.output
    assert f"P(surrender_evacuation) ({settled} of {len(result.runs)} runs with it)" in " ".join(lines)
    # every parameter is whole on one line, and every index is a number with its interval
    for name in X:
        assert any(line.strip().startswith(name) for line in lines), name
    assert len(re.findall(r"-?\d\.\d\d ± \d\.\d\d", shown.output)) == 2 * len(X)


def test_the_sobol_figure_draws_estimates_outside_0_1_where_they_fall():
    """ST above 1 and S1 below 0 are noise, drawn with their intervals rather than clipped."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from simkit.sweep.figures import plot_sensitivity

    table = pd.DataFrame({"output": ["share_stalemate"] * 2, "parameter": ["a", "b"], "S1": [-0.3, 0.4],
                          "S1_conf": [0.2, 0.1], "ST": [1.4, 0.5], "ST_conf": [0.3, 0.1]})  # fmt: skip
    table.attrs = {"method": "sobol", "constant": [], "rare": {"share_military_takeover": (3, 400, "with")}}
    fig = plot_sensitivity(table)
    ax = fig.axes[0]
    left, right = ax.get_xlim()
    assert left <= -0.5 and right >= 1.7  # the whole of both intervals is on the axis
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "P(military_takeover) (3 of 400 runs with it)" in texts
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_heat_map_cells_carry_wilson_half_widths_and_the_base_scenario_is_ringed():
    """By hand: 50 of 100 runs -> Wilson 95% interval 40.4%-59.6% (±10 points); 100 of 200 -> ±7."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from simkit.sweep.figures import plot_heatmap

    a, b = "mediators.russia.leverage", "regime.siege_tightness"
    grid = pd.DataFrame({"point": range(4), a: [0.0, 0.2, 0.0, 0.2], b: [0.5, 0.5, 1.0, 1.0], "runs": 100,
                         "share_stalemate": [0.5, 0.5, 0.5, 0.0]})  # fmt: skip
    ax = plot_heatmap(grid, "share_stalemate", base={a: 0.05, b: 1.0})
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("50%\n±10") == 3 and "0%\n±2" in texts  # 0 of 100: Wilson 0%-3.7%
    (ring,) = ax.lines
    assert ring.get_xdata()[0] == pytest.approx(0.25) and ring.get_ydata()[0] == pytest.approx(1.0)
    plt.close(ax.figure)
    # a third parameter: the cell pools its points' runs (100 of 200) into one interval
    pooled = pd.concat([grid.assign(c=0.0, share_stalemate=0.4), grid.assign(c=1.0, share_stalemate=0.6)])
    pooled = pooled[["point", a, b, "c", "runs", "share_stalemate"]]
    ax = plot_heatmap(pooled, "share_stalemate", x=a, y=b, base={a: 0.9, b: 1.0})
    assert [t.get_text() for t in ax.texts] == ["50%\n±7"] * 4
    assert not ax.lines  # the base lies outside the grid: no ring
    plt.close(ax.figure)

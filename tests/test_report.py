"""simkit report: one self-contained HTML page, checked in a real headless browser (the system's Chromium)."""

from __future__ import annotations

import html

import pytest
from typer.testing import CliRunner

from simkit.cli import app
from simkit.ensemble import run_ensemble
from simkit.html_report import build_report, provenance_table
from simkit.scenario import load_scenario
from tests.conftest import BROWSER_ARGS, CHROMIUM, WAER

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "waer"
    run_ensemble(load_scenario(WAER, {"mediators.russia.leverage": 0.5}), runs=15, seed=3, out=out)
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "waer-vs-record"
    result = runner.invoke(
        app,
        [
            "compare",
            str(WAER),
            "--against",
            str(WAER.parents[1] / "calibration" / "waer_trajectory.yaml"),
            "-n",
            "10",
            "-o",
            str(out),
            "-q",
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_provenance_table_marks_every_parameter_and_the_override():
    scenario = load_scenario(WAER, {"mediators.russia.leverage": 0.5}).scenario
    table = provenance_table(scenario).set_index("parameter")
    assert set(table["basis"]) == {"sourced", "assumed"}
    assert table["source or reason"].str.len().min() > 0
    assert table.loc["mediators.russia.leverage", "value"] == "0.5"
    assert table.loc["mediators.russia.leverage", "source or reason"].startswith("override")


def test_report_names_what_was_run_and_embeds_everything(folder):
    page = build_report(folder)
    assert "Waer with mediators.russia.leverage=0.5: 15 runs, seed 3" in page
    assert 'src="data:image/png;base64,' in page and "http://" not in page and "https://" not in page
    assert "Against the documented record" not in page
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0 and (folder / "report.html").exists()
    result = runner.invoke(app, ["report", str(folder.parent / "nothing")])
    assert result.exit_code == 2 and result.output.startswith("error: ")


def test_report_of_a_comparison_shows_the_record(compared):
    page = build_report(compared)
    assert "Against the documented record" in page and "Distance D" in page


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: `apt-get install -y chromium` (.ci/run does)")
def test_the_page_renders_its_tables_and_images_in_a_browser(folder, compared):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        # facts, outcomes, timing, attributes, provenance; + overrides (folder); + events and quantities
        for out, tables in ((folder, 6), (compared, 7)):
            path = out / "report.html"
            path.write_text(build_report(out), encoding="utf-8")
            page = browser.new_page()
            outside = []
            page.on(
                "request",
                lambda r, seen=outside: (
                    seen.append(r.url) if not r.url.startswith(("file:", "data:")) else None
                ),
            )
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("h1").inner_text().startswith("Waer")
            assert page.locator("table").count() == tables
            assert page.locator("table tr").count() > 60  # the provenance table alone has a row per parameter
            widths = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
            )
            assert len(widths) >= 2 and min(widths) > 0
            assert outside == []
            page.close()
        browser.close()


def test_whole_numbers_read_as_whole_numbers():
    table = provenance_table(load_scenario(WAER).scenario).set_index("parameter")
    assert table.loc["horizon_days", "value"] == "610"
    assert not table["value"].str.fullmatch(r"-?\d+\.0+").any()


def test_a_forecast_report_shows_the_forecast_and_marks_drawn_parameters(tmp_path):
    """A forecast folder: endings by date with the chance/parameter split, drawn parameters as drawn."""
    import pandas as pd

    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"regime.implementation": [0.3, 0.9], "committees.0.concession_rate": [0.1, 3.0],
                  "weight": [0.5, 0.5]}).to_parquet(posterior, index=False)  # fmt: skip
    out = tmp_path / "fc"
    result = runner.invoke(app, ["forecast", str(WAER), "-p", str(posterior), "-n", "8", "-o", str(out),
                                 "--by", "2017-01-01", "-q", "--no-plots"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = build_report(out)
    assert "endings with the deal signed by each date" in page and "<td>2017-01-01</td>" in page
    assert "<th>chance</th>" in page and "<th>parameters</th>" in page
    table = provenance_table(
        load_scenario(WAER).scenario, {"regime.implementation": ("median 0.6", "drawn per run from p")}
    ).set_index("parameter")
    assert table.loc["regime.implementation", "basis"] == "drawn"
    assert table.loc["regime.implementation", "value"] == "median 0.6"
    # in the page: both drawn parameters (the committee by its name) show their spread, not a point value
    rows = [line for line in page.split("<tr>") if "<td>drawn</td>" in line]
    assert len(rows) == 2 and all("median" in row and "p10" in row for row in rows)
    assert any("regime.implementation" in row for row in rows)


def test_a_forecast_folders_report_shows_the_forecast_before_the_figures(folder, tmp_path):
    """The forecast section, with the wording `simkit forecast` prints, comes before the Figures heading."""
    import datetime as dt
    import json
    import shutil

    from simkit.calibration.forecast import forecast_summary, forecast_tables
    from tests.test_forecast import hand_made_forecast_runs

    out = tmp_path / "forecast"
    shutil.copytree(folder, out)
    report = forecast_summary(hand_made_forecast_runs(), [dt.date(2018, 4, 11)])
    (out / "forecast.json").write_text(json.dumps(report))
    page = build_report(out)
    assert page.index("<h2>Forecast: endings") < page.index("<h2>Figures</h2>")
    evacuated = forecast_tables(report)[2]
    assert "truce departures not counted" in evacuated
    assert html.escape(evacuated) in page

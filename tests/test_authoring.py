"""Writing scenarios: the generated docs are current, and `simkit init` writes a valid, commented template."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.docs import GENERATED, render
from simkit.html_report import scenario_parameters
from simkit.scenario import load_scenario
from simkit.scenario.authoring import _sections, event_types, keys
from simkit.scenario.schema import EventBase, Scenario
from simkit.store import write_new_bytes
from simkit.yamlio import InputError
from tests.conftest import ROOT, WAER

runner = CliRunner()


@pytest.mark.parametrize("page", sorted(GENERATED))
def test_generated_docs_are_current(page):
    assert (ROOT / page).read_text() == render(page), f"{page} is stale: run `make docs`"


def test_docs_scenarios_md_has_a_row_for_every_key_of_every_section():
    page = (ROOT / "docs" / "scenarios.md").read_text()
    parts = {"The file": Scenario} | {f"`{path}`": section for path, section in _sections()}
    parts["`events[]`"] = EventBase
    for event in event_types():
        parts[f"`type: {event.model_fields['type'].annotation.__args__[0]}`"] = event
    for heading, section in parts.items():
        start = page.index(f" {heading}\n")
        body = page[start : page.find("\n## ", start + 1)]
        for key in keys(section):
            if (key.name in EventBase.model_fields and section is not EventBase) or key.name == "type":
                continue  # an event type's own table lists only its own keys
            assert re.search(rf"^\| `{key.name}` \|", body, re.M), (heading, key.name)
    assert "regime.siege_tightness" in page and "{value:" in page


def test_init_writes_a_commented_valid_template_with_every_number_a_placeholder(tmp_path):
    out = tmp_path / "rastan.yaml"
    result = runner.invoke(app, ["init", "Rastan", "--out", str(out), "--like", str(WAER)])
    assert result.exit_code == 0, result.output
    assert "simkit validate" in result.output
    loaded = load_scenario(out)
    assert loaded.scenario.name == "Rastan"
    assert [group.locality for group in loaded.scenario.residents] == ["Rastan"]
    params = list(scenario_parameters(loaded.scenario))
    assert params and all(p.source is None and "placeholder from waer.yaml" in p.assumed for _, p in params)
    text = out.read_text()
    # every key of the schema that holds a number is preceded by a comment saying what it means
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "{value:" in line and not line.lstrip().startswith("#"):
            assert lines[i - 1].lstrip().startswith("#"), line
    assert "siege_tightness" in text and "share of normal food supply blocked" in text
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    # the file runs as it stands
    ran = runner.invoke(app, ["run", str(out), "-n", "3", "-o", str(tmp_path / "r"), "-q", "--no-plots"])
    assert ran.exit_code == 0, ran.output


def test_each_commented_event_example_is_a_valid_event(tmp_path):
    out = tmp_path / "t.yaml"
    assert runner.invoke(app, ["init", "T", "--out", str(out), "--like", str(WAER)]).exit_code == 0
    data = yaml.safe_load(out.read_text())
    lines = [line.strip() for line in out.read_text().splitlines()]
    examples = [line.removeprefix("# - ") for line in lines if line.startswith("# - {type:")]
    assert len(examples) == len(event_types())
    day = (data["start"]).isoformat()
    data["events"] = [yaml.safe_load(example.replace("YYYY-MM-DD", day)) for example in examples]
    filled = tmp_path / "filled.yaml"
    filled.write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = load_scenario(filled).scenario
    assert sorted(event.type for event in scenario.events) == sorted(
        event.model_fields["type"].annotation.__args__[0] for event in event_types()
    )


def test_init_never_overwrites_and_bad_names_are_one_line(tmp_path):
    out = tmp_path / "mine.yaml"
    out.write_text("my own work\n")
    result = runner.invoke(app, ["init", "Mine", "--out", str(out), "--like", str(WAER)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and out.read_text() == "my own work\n"
    bad = runner.invoke(app, ["init", "../x", "--out", str(tmp_path / "x.yaml"), "--like", str(WAER)])
    assert bad.exit_code == 2 and "scenario name" in bad.stderr
    with pytest.raises(InputError, match="already exists"):
        write_new_bytes(out, b"other")
    assert out.read_text() == "my own work\n" and not list(tmp_path.glob(".*.tmp"))


def test_init_by_name_writes_under_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "Tal Bisa", "--like", str(WAER)])
    assert result.exit_code == 0, result.output
    assert load_scenario(tmp_path / "scenarios" / "tal_bisa.yaml").scenario.name == "Tal Bisa"

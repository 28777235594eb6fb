"""Sweep specs: the shipped ones load; a bad one fails before any run, in one line that says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.sweep import Sweep, load_sweep
from simkit.sweep.spec import point_count, prepare
from simkit.yamlio import InputError

ROOT = Path(__file__).resolve().parents[1]
WAER = ROOT / "scenarios" / "waer.yaml"
GOOD = {
    "scenario": str(WAER),
    "parameters": {"mediators.russia.leverage": {"min": 0.0, "max": 0.6, "levels": 3}},
    "design": "grid",
    "replicates": 2,
}


def write_spec(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("name", "points"), [("waer_leverage_siege", 42), ("waer_sobol", 64 * 8), ("waer_morris", 20 * 7)]
)
def test_shipped_specs_load_with_their_point_counts(name, points):
    sweep = load_sweep(ROOT / "sweeps" / f"{name}.yaml")
    assert sweep.name == name
    assert sweep.scenario.resolve() == WAER.resolve()  # relative to the spec file, not the working directory
    assert point_count(prepare(sweep)) == points


def test_python_spec_equals_yaml_spec(tmp_path):
    from_yaml = load_sweep(write_spec(tmp_path, GOOD))
    from_python = Sweep(**GOOD)
    ignore = {"name", "scenario"}
    assert from_yaml.model_dump(exclude=ignore) == from_python.model_dump(exclude=ignore)


def with_(**changes) -> dict:
    spec = {**GOOD, **changes}
    return {key: value for key, value in spec.items() if value is not None}


BAD = [
    pytest.param(
        with_(parameters={"mediators.russia.levrage": {"min": 0, "max": 1, "levels": 2}}),
        [
            "spec.yaml:",
            "parameters.mediators.russia.levrage: unknown parameter",
            "no field 'mediators.russia.levrage'",
            "leverage, ",
        ],
        id="unknown-path-names-what-exists",
    ),
    pytest.param(
        with_(parameters={"committees.Waer council.resolve": {"min": 0.5, "max": 2, "levels": 2}}),
        ["no item named 'Waer council'", "Waer negotiating committee"],
        id="unknown-list-item",
    ),
    pytest.param(
        with_(parameters={"regime": {"min": 0, "max": 1, "levels": 2}}),
        ["'regime' is a section, not a parameter", "siege_tightness"],
        id="section-not-parameter",
    ),
    pytest.param(
        with_(parameters={"mediator.present_at_start": {"min": 0, "max": 1, "levels": 2}}),
        ["not a numeric parameter"],
        id="not-a-number",
    ),
    pytest.param(
        with_(parameters={"mediators.russia.leverage": {"min": 0.6, "max": 0.2, "levels": 2}}),
        ["parameters.mediators.russia.leverage", "`min` must be below `max`, found min 0.6, max 0.2"],
        id="min-above-max",
    ),
    pytest.param(
        with_(parameters={"regime.siege_tightness": {"min": 0.5, "max": 1.2, "levels": 2}}),
        ["value 1.2 is outside what the scenario accepts", "less than or equal to 1"],
        id="out-of-domain",
    ),
    pytest.param(
        with_(parameters={"residents.Waer.population": {"values": [1000, 2500.5]}}),
        ["takes whole numbers"],
        id="fraction-for-a-count",
    ),
    pytest.param(
        with_(design="latin"),
        ["spec.yaml:", "design.type", "'grid', 'lhs', 'sobol' or 'morris'"],
        id="unknown-design",
    ),
    pytest.param(with_(replicates=None), ["replicates: required but missing"], id="missing-replicates"),
    pytest.param({**GOOD, "replicate": 3}, ["replicate: unknown key"], id="typo-key"),
    pytest.param(
        with_(parameters={"mediators.russia.leverage": {"min": 0, "max": 0.5}}),
        ["a grid needs `levels`"],
        id="grid-no-levels",
    ),
    pytest.param(
        with_(
            parameters={"mediators.russia.leverage": {"min": 0, "max": 0.5}},
            design={"type": "sobol", "n": 100},
        ),
        ["design: sobol `n` must be a power of 2", "found 100; try 64 or 128"],
        id="sobol-n",
    ),
    pytest.param(
        with_(design={"type": "sobol", "n": 64}),
        ["`levels`/`values` apply to grid designs"],
        id="levels-on-sobol",
    ),
    pytest.param(
        with_(parameters={"mediators.russia.leverage": {"min": 0, "max": 0.5}}, design={"type": "lhs"}),
        ["a lhs design needs `points`"],
        id="lhs-without-size",
    ),
    pytest.param(with_(scenario="nowhere/waer.yaml"), ["scenario: no such file"], id="missing-scenario"),
    pytest.param(with_(replicates=0), ["replicates", "greater than or equal to 1"], id="zero-replicates"),
]


@pytest.mark.parametrize(("spec", "expected"), BAD)
def test_bad_spec_is_one_clear_line(tmp_path, spec, expected):
    with pytest.raises(InputError) as err:
        load_sweep(write_spec(tmp_path, spec))
    message = str(err.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_errors_point_at_the_line_of_the_spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"scenario: {WAER}\n"
        "parameters:\n"
        "  mediators.russia.leverage: {min: 0, max: 0.5, levels: 3}\n"
        "  regime.siege_tightnes: {min: 0.5, max: 1.0, levels: 3}\n"
        "replicates: 5\n"
    )
    with pytest.raises(InputError, match=r"spec\.yaml:4: parameters\.regime\.siege_tightnes: unknown param"):
        load_sweep(path)


def test_bad_spec_on_the_command_line_exits_2_without_traceback(tmp_path):
    path = write_spec(tmp_path, with_(parameters={"mediator.levrage": {"min": 0, "max": 1, "levels": 2}}))
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "mediator.levrage" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written


def test_bad_spec_built_in_python_is_caught_before_running(tmp_path):
    from simkit.sweep import run_sweep

    sweep = Sweep(**with_(parameters={"regime.siege_tightness": {"min": 0.5, "max": 1.5, "levels": 2}}))
    with pytest.raises(InputError, match=r"^sweep: parameters.regime.siege_tightness: value 1.5 is outside"):
        run_sweep(sweep, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_bad_override_in_a_spec_names_the_spec_and_its_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"scenario: {WAER}\n"
        "parameters:\n"
        "  mediators.russia.leverage: {min: 0, max: 0.5, levels: 3}\n"
        "overrides:\n"
        "  regime.siege_tightness: abc\n"
        "replicates: 5\n"
    )
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert str(err.value) == (
        f"{path}:5 overrides.regime.siege_tightness=abc: regime.siege_tightness.value: "
        "expected a valid number; found 'abc'"
    )
    path.write_text(path.read_text().replace("regime.siege_tightness: abc", "regime.siege_tightnes: 0.5"))
    with pytest.raises(InputError, match=rf"^{path}:5 overrides.regime.siege_tightnes=0.5: no field"):
        load_sweep(path)
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}:5 overrides.")
    assert "--set" not in result.stderr and result.stderr.count("\n") == 1


def test_a_point_a_scenario_refuses_is_named_by_its_point():
    from simkit.scenario import load_scenario
    from simkit.sweep.task import Task, run_task

    task = Task(3, 4, 1, 1, "common", 3, ({"regime.siege_tightness": 2.0},))
    named = r"^sweep point 3 regime.siege_tightness=2.0: regime.siege_tightness.value: "
    with pytest.raises(InputError, match=named):
        run_task(load_scenario(WAER).scenario, task)

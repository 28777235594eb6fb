"""Hostile inputs from issue 13 end in one clear line.

Encodings, nesting, alias bombs, duplicate keys, non-finite and out-of-range numbers, sizes no run can
survive, and paths that name nothing.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from simkit.calibration.forecast import load_posterior
from simkit.cli import app
from simkit.scenario import load_scenario, with_overrides
from simkit.scenario.paths import parameter_value, set_parameters, whole_number
from simkit.sweep import load_sweep
from simkit.yamlio import MAX_DEPTH, InputError, parse_override, read_yaml
from tests.conftest import ROOT, WAER
from tests.fuzzing import alias_bomb, deep_nesting

runner = CliRunner()


def error_of(call, *args) -> str:
    with pytest.raises(InputError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def cli_error(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


# ---------------------------------------------------------------- reading YAML


def test_a_file_that_is_not_utf8_names_the_byte_and_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"name: ok\nnote: caf\xe9\n")
    assert (
        error_of(read_yaml, path)
        == f"{path}:2: not UTF-8 text: byte 0xe9 at position 18; save the file as UTF-8"
    )
    path.write_bytes(b"\xff")
    assert "not UTF-8 text" in cli_error("validate", str(path))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le"])
def test_a_utf16_or_utf32_file_is_named_as_such(tmp_path, encoding):
    path = tmp_path / "wide.yaml"
    path.write_bytes(WAER.read_text(encoding="utf-8").encode(encoding))
    message = error_of(read_yaml, path)
    assert "UTF-16" in message or "UTF-32" in message
    assert "save" in message and "UTF-8" in message


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + WAER.read_bytes())
    assert load_scenario(path).scenario.name == "Waer"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text(f"name: {deep_nesting(depth)}\n")
    assert f"nested more than {MAX_DEPTH} levels deep" in error_of(read_yaml, path)


def test_nesting_within_the_limit_is_read(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(f"name: {deep_nesting(MAX_DEPTH - 1)}\n")
    data, _ = read_yaml(path)
    assert isinstance(data["name"], list)


@pytest.mark.parametrize("levels", [7, 9, 30])  # 10^7, 10^9, 10^30 values once expanded
def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path, levels):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels) + WAER.read_text())
    assert "expands to more than 100,000 values" in error_of(load_scenario, path)


def test_aliases_that_expand_to_little_are_fine(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text("a: &x [1, 2]\nb: *x\n")
    assert read_yaml(path)[0] == {"a": [1, 2], "b": [1, 2]}


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("a: &x [1, *x]\n")
    assert "alias refers to itself" in error_of(read_yaml, path)


def test_a_duplicate_key_names_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    text = WAER.read_text().replace(
        "  siege_tightness:", "  siege_tightness: {value: 0.1, assumed: twice}\n  siege_tightness:", 1
    )
    path.write_text(text)
    lines = [i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  siege_tightness:")]
    message = error_of(load_scenario, path)
    assert message == (
        f"{path}:{lines[1]}: regime.siege_tightness: duplicate key 'siege_tightness' "
        f"(first at line {lines[0]}); a mapping may give each key once"
    )


@pytest.mark.parametrize("kind", ["scenarios/waer.yaml", "calibration/waer_trajectory.yaml",
                                  "calibration/waer_priors.yaml", "sweeps/waer_sobol.yaml"])  # fmt: skip
def test_every_input_file_goes_through_the_same_reader(tmp_path, kind):
    from simkit.calibration.priors import load_priors
    from simkit.calibration.trajectory import load_trajectory

    load = {"scenarios": load_scenario, "calibration/waer_trajectory": load_trajectory,
            "calibration/waer_priors": load_priors, "sweeps": load_sweep}  # fmt: skip
    loader = next(f for prefix, f in load.items() if kind.startswith(prefix))
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xff\xfe" + (ROOT / kind).read_bytes())
    assert "UTF-16" in error_of(loader, path)


def test_yaml_12_exponents_are_numbers(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("a: 1e9\nb: -2.5E-3\nc: 1e\n")
    assert read_yaml(path)[0] == {"a": 1e9, "b": -2.5e-3, "c": "1e"}


def test_many_problems_are_one_line_on_the_command_line(tmp_path):
    path = tmp_path / "bad.yaml"
    text = WAER.read_text()
    path.write_text(text.replace("siege_tightness: {value: 0.9", "siege_tightness: {value: high")
                        .replace("lethality: {value: 0.15", "lethality: {value: .nan"))  # fmt: skip
    stderr = cli_error("validate", str(path))
    assert (
        "regime.siege_tightness.value" in stderr and "(and 1 more problem: regime.lethality.value)" in stderr
    )


# ---------------------------------------------------------------- --set values


def test_set_value_nested_5000_deep_is_one_line():
    message = error_of(parse_override, f"name={deep_nesting(5000)}")
    assert message.startswith("--set name, line 1: not valid YAML (nested more than")


def test_set_impossible_date_says_what_the_file_loader_says(tmp_path):
    path = tmp_path / "feb.yaml"
    path.write_text(WAER.read_text().replace("start: 2015-12-01", "start: 2017-02-30"))
    from_file = error_of(load_scenario, path).split(": ", 1)[1]
    from_set = error_of(load_scenario, WAER, dict([parse_override("start=2017-02-30")])).split(": ", 1)[1]
    expected = "start: Input should be a valid date or datetime, day value is outside expected range"
    assert from_file == from_set == f"{expected}; found '2017-02-30'"
    assert "start" in cli_error("validate", str(WAER), "--set", "start=2017-02-30")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("horizon_days=100000000", "horizon_days: expected at most 3,650"),
        ("start=9999-12-31", "start: Input should be less than or equal to 2100-12-31; found 9999-12-31"),
        ("regime.lethality=.inf", "regime.lethality.value: expected a finite number (not .nan or .inf)"),
        ("committees.0.truce_threshold=.nan", "expected a finite number (not .nan or .inf); found nan"),
        ("residents.Waer.area_km2=1e-300", "residents.0.area_km2: expected 0.01 to 100000"),
        ("behaviour.reserve_spread=711.0", "behaviour.reserve_spread: expected at most 5"),
        ("behaviour.households_per_group=100000000", "behaviour.households_per_group: expected 1 to 10,000"),
        ("regime.lethality=true", "regime.lethality.value: expected a valid number; found True"),
        ("residents.Waer.population=1000.5", "expected a whole number; found 1000.5"),
        ("regime.lethality=10001.0", "regime.lethality: expected at most 10000 (10,000 per 10,000 kills"),
    ],
)
def test_values_no_run_survives_are_refused_with_the_reason(override, expected):
    assert expected in cli_error("validate", str(WAER), "--set", override)


def test_a_bare_number_where_a_parameter_belongs_says_how_to_write_it(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text(re.sub(r"(?m)^  lethality: .*$", "  lethality: 0.15", WAER.read_text()))
    message = error_of(load_scenario, path)
    assert "regime.lethality: a parameter needs provenance: write {value: 0.15, source: " in message
    assert 'or {value: 0.15, assumed: "why"}' in message


def test_value_true_in_a_file_is_not_a_number(tmp_path):
    path = tmp_path / "true.yaml"
    path.write_text(WAER.read_text().replace("lethality: {value: 0.15", "lethality: {value: true"))
    assert "regime.lethality.value: expected a valid number; found True" in error_of(load_scenario, path)


# ---------------------------------------------------------------- sweeps and posteriors


def _spec(tmp_path, body: str):
    path = tmp_path / "spec.yaml"
    path.write_text(f"scenario: {WAER}\n{body}")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("parameters:\n  mediators.russia.leverage: {min: 0, max: 0.5, levels: 3}\nreplicates: 1e9\n",
         "replicates: Input should be less than or equal to 10000000"),
        ("parameters:\n  mediators.russia.leverage: {min: 0, max: 0.5, levels: 1e9}\nreplicates: 2\n",
         "levels: Input should be less than or equal to 1000"),
        ("parameters:\n  mediators.russia.leverage: {min: 0, max: 0.5, levels: 1000}\n"
         "  mediators.russia.bias: {min: 0, max: 0.5, levels: 1000}\nreplicates: 20\n",
         "1,000,000 points x 20 replicates = 20,000,000 runs; at most 10 million runs"),
        ("parameters:\n  mediators.russia.leverage: {min: .nan, max: 0.5, levels: 3}\nreplicates: 2\n",
         "min: expected a finite number"),
        ("parameters:\n  mediators.russia.leverage: {min: 0, max: .inf, levels: 3}\nreplicates: 2\n",
         "max: expected a finite number"),
    ],
)  # fmt: skip
def test_sweep_sizes_and_ranges_are_bounded(tmp_path, body, expected):
    assert expected in error_of(load_sweep, _spec(tmp_path, body))


def test_posterior_columns_must_name_parameters(tmp_path):
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"regime.implementation": [0.5], "regime.lethalty": [0.1], "weight": [1.0]}).to_parquet(path)
    message = error_of(load_posterior, path)
    assert message.startswith(f"{path}: column 'regime.lethalty' names no scenario parameter")


# ---------------------------------------------------------------- one resolver, one rounding rule


def test_one_path_resolver_for_set_sweeps_priors_and_posteriors(waer):
    scenario = waer.scenario
    assert parameter_value(scenario, "residents.Waer.population") == scenario.residents[0].population.value
    assert (
        parameter_value(scenario, "committees.0.concession_rate")
        == scenario.committees[0].concession_rate.value
    )
    same = "no field 'regime.lethalty' (fields there:"
    assert same in error_of(parameter_value, scenario, "regime.lethalty")
    assert same in error_of(with_overrides, scenario, {"regime.lethalty": 1.0})
    assert same in error_of(load_scenario, WAER, {"regime.lethalty": 1.0})


@pytest.mark.parametrize(
    ("value", "whole"), [(7002.5, 7002), (7003.5, 7004), (6999.5, 7000), (7000.49, 7000)]
)
def test_whole_numbers_round_half_to_even_everywhere(waer, value, whole):
    import numpy as np

    assert whole_number(value) == whole == int(np.round(value)) == round(value)
    rounded = set_parameters(waer.scenario, {"detainees.listed": value}, origin="test")
    assert rounded.detainees.listed.value == whole


def test_whole_number_refuses_non_finite():
    with pytest.raises(InputError, match="finite"):
        whole_number(float("nan"))


def test_usage_mistakes_are_one_line():
    assert "Invalid value for '--runs'" in cli_error("run", str(WAER), "--runs", "1e30")
    assert "No such option: --bogus" in cli_error("run", str(WAER), "--bogus", "1")
    assert "No such command" in cli_error("nonsense")


def test_fighters_and_their_families_must_fit_in_the_population():
    message = cli_error("validate", str(WAER), "--set", "behaviour.family_per_fighter=20")
    assert "5,800 fighters with 20 family members each (behaviour.family_per_fighter)" in message
    assert "are 121,800 people" in message
    assert "more than the 60,000 residents" in message


def test_the_ranges_in_docs_inputs_are_the_schemas():
    from tests.test_invariants import PARAMETERS

    documented = {}
    for line in (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            documented[cells[0].strip("`").replace("[]", ".0")] = float(cells[3].replace(",", ""))
    assert set(PARAMETERS) <= set(documented)
    for path, (_, high, _) in PARAMETERS.items():
        assert documented[path] == high, path

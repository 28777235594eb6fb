"""Bad scenario files and overrides get one clear message naming file, line, field, expected and found."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from simkit.scenario import load_scenario, with_overrides
from simkit.yamlio import InputError
from tests.conftest import NORTH_HOMS, ROOT, WAER


def write_variant(tmp_path: Path, edit) -> Path:
    """Copy waer.yaml with `edit(data)` applied, keeping it a plain YAML file."""
    data = yaml.safe_load(WAER.read_text())
    edit(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def error_for(path: Path, overrides=None) -> str:
    with pytest.raises(InputError) as info:
        load_scenario(path, overrides)
    return str(info.value)


def test_repository_scenarios_are_valid(waer, north_homs):
    assert waer.scenario.name == "Waer"
    assert north_homs.scenario.start.isoformat() == "2017-07-01"


def test_wrong_type_names_file_line_field_and_found_value(tmp_path):
    path = write_variant(tmp_path, lambda d: d["regime"]["siege_tightness"].update(value="tight"))
    message = error_for(path)
    assert message.startswith(f"{path}:{line_of(path, 'value: tight')}: regime.siege_tightness.value:")
    assert "valid number" in message and "'tight'" in message


def test_out_of_range_share_is_rejected(tmp_path):
    path = write_variant(tmp_path, lambda d: d["regime"]["siege_tightness"].update(value=1.5))
    assert "less than or equal to 1" in error_for(path)


def test_unknown_key_is_an_error_not_ignored(tmp_path):
    path = write_variant(
        tmp_path, lambda d: d["regime"].update(siege_tightnes={"value": 0.5, "assumed": "typo"})
    )
    message = error_for(path)
    assert f":{line_of(path, 'siege_tightnes:')}: regime.siege_tightnes: unknown key" in message
    assert "did you mean 'siege_tightness'?" in message
    reference = message.partition("every key: ")[2].split(")")[0]
    assert reference == "docs/scenarios.md" and (ROOT / reference).is_file()  # the page it names exists


def test_missing_provenance_is_invalid(tmp_path):
    path = write_variant(tmp_path, lambda d: d["regime"]["lethality"].pop("source"))
    message = error_for(path)
    assert "regime.lethality" in message and "needs provenance" in message


def test_both_source_and_assumption_is_invalid(tmp_path):
    path = write_variant(tmp_path, lambda d: d["regime"]["lethality"].update(assumed="also a guess"))
    assert "exactly one of `source:`" in error_for(path)


def test_missing_required_section(tmp_path):
    path = write_variant(tmp_path, lambda d: d.pop("detainees"))
    assert f"{path}: detainees: required but missing" in error_for(path)


@pytest.mark.parametrize("bad", ["2016-02-30", "30/11/2016", "soon"])
def test_bad_event_date(tmp_path, bad):
    path = tmp_path / "variant.yaml"
    path.write_text(WAER.read_text().replace("date: 2016-10-27", f"date: {bad}"))
    message = error_for(path)
    line = line_of(path, bad)
    assert message.startswith((f"{path}:{line}: events.0.date:", f"{path}, line {line}:"))
    assert "date" in message


def test_event_outside_the_run_is_rejected(tmp_path):
    path = write_variant(tmp_path, lambda d: d["events"][0].update(date="2030-01-01"))
    assert "outside the run" in error_for(path)


def test_committee_for_unknown_locality(tmp_path):
    path = write_variant(tmp_path, lambda d: d["committees"][0].update(localities=["Nowhere"]))
    assert "unknown locality 'Nowhere'" in error_for(path)


def test_unknown_event_type_lists_the_known_ones(tmp_path):
    path = write_variant(tmp_path, lambda d: d["events"][0].update(type="earthquake"))
    message = error_for(path)
    assert "events.0" in message and "mediator_entry" in message


def test_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    assert error_for(path).startswith(f"{path}, line")


def test_missing_file(tmp_path):
    assert "cannot read file" in error_for(tmp_path / "absent.yaml")


def test_override_sets_value_and_records_provenance():
    loaded = load_scenario(WAER, {"regime.siege_tightness": 0.5, "factions.Waer rebels.veto": 0.1})
    assert loaded.scenario.regime.siege_tightness.value == 0.5
    assert loaded.scenario.regime.siege_tightness.assumed.startswith("override (was 0.9")
    assert loaded.scenario.factions[0].veto.value == 0.1


def test_override_changes_the_hash(waer):
    assert load_scenario(WAER, {"regime.siege_tightness": 0.5}).hash != waer.hash
    assert load_scenario(WAER).hash == waer.hash


def test_python_overrides_equal_cli_overrides(waer):
    in_memory = with_overrides(waer.scenario, {"regime.siege_tightness": 0.5})
    from_file = load_scenario(WAER, {"regime.siege_tightness": 0.5}).scenario
    assert in_memory == from_file


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("regime.siege_tightnes", "no field 'regime.siege_tightnes'"),
        ("factions.HTS.veto", "no item named 'HTS'"),
        ("factions.7.veto", "index out of range"),
    ],
)
def test_bad_override_path(path, expected):
    with pytest.raises(InputError, match=expected):
        load_scenario(WAER, {path: 0.5})


def test_override_with_invalid_value_is_reported():
    with pytest.raises(InputError, match=r"regime\.siege_tightness\.value"):
        load_scenario(WAER, {"regime.siege_tightness": 2.0})


def test_a_bad_override_value_names_the_override_not_the_files_line():
    # The file's line 16 holds a good value: the error is the override's.
    message = error_for(WAER, {"regime.siege_tightness": "abc"})
    assert message == (
        "--set regime.siege_tightness=abc: regime.siege_tightness.value: expected a valid number; found 'abc'"
    )
    # an item named by its name, or a quoted number, is named as it was given
    message = error_for(NORTH_HOMS, {"factions.HTS.veto": "0.5"})
    assert message.startswith("--set factions.HTS.veto='0.5': factions.")


@pytest.mark.parametrize("typed", ["", "null", "~"])
def test_an_empty_set_value_is_shown_empty_however_it_was_typed(typed):
    """`PATH=`, `PATH=null` and `PATH=~` are the same YAML null: each is shown `PATH=`, "an empty value"."""
    from typer.testing import CliRunner

    from simkit.cli import app
    from simkit.manifest import scenario_label

    result = CliRunner().invoke(app, ["validate", str(WAER), "--set", f"regime.siege_tightness={typed}"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --set regime.siege_tightness=: regime.siege_tightness.value: expected a valid number; "
        "found an empty value"
    ]
    assert scenario_label({"scenario_name": "Waer", "overrides": {"description": None, "a": True}}) == (
        "Waer with description=, a=true"
    )


def test_an_error_elsewhere_names_the_file_and_the_overrides_it_was_read_with():
    message = error_for(WAER, {"start": dt.date(2099, 1, 1)})
    assert message.startswith(f"{WAER} (with --set start=2099-01-01): (top level): "), message


def test_a_bad_set_on_the_command_line_is_one_line_naming_it(tmp_path):
    from typer.testing import CliRunner

    from simkit.cli import app

    result = CliRunner().invoke(
        app, ["run", str(WAER), "--set", "regime.siege_tightness=abc", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --set regime.siege_tightness=abc: regime.siege_tightness.value: expected a valid number; "
        "found 'abc'"
    ]


def test_an_override_in_memory_is_named_as_the_caller_says(waer):
    # with_overrides words a bad value as --set does, or as its caller names its overrides
    bad = {"regime.siege_tightness": "abc"}
    assert error_of_memory(waer.scenario, bad) == error_for(WAER, bad)
    named = error_of_memory(waer.scenario, bad, named=lambda key, value: f"knob {key}")
    assert named == (
        "knob regime.siege_tightness: regime.siege_tightness.value: expected a valid number; found 'abc'"
    )


def test_overrides_stored_in_a_results_manifest_are_named_by_it(tmp_path):
    from simkit.manifest import scenario_of

    manifest = {"scenario": str(WAER), "overrides": {"regime.siege_tightness": 2.0}}
    with pytest.raises(InputError) as info:
        scenario_of(manifest, tmp_path / "results")
    where = f"{tmp_path / 'results' / 'manifest.json'} overrides.regime.siege_tightness=2.0: "
    assert str(info.value).startswith(where + "regime.siege_tightness.value: "), str(info.value)
    assert "--set" not in str(info.value)
    manifest["overrides"] = {"regime.siege_tightnes": 0.5}  # a path the scenario file no longer has
    manifest_json = tmp_path / "results" / "manifest.json"
    stored = re.escape(f"{manifest_json} overrides.regime.siege_tightnes=0.5: no field")
    with pytest.raises(InputError, match=f"^{stored}"):
        scenario_of(manifest, tmp_path / "results")


def test_an_override_finds_an_item_by_the_name_an_earlier_override_gave_it():
    loaded = load_scenario(NORTH_HOMS, {"factions.HTS.name": "Tahrir", "factions.Tahrir.veto": 0.1})
    faction = next(f for f in loaded.scenario.factions if f.name == "Tahrir")
    assert faction.veto.value == 0.1
    assert with_overrides(load_scenario(NORTH_HOMS).scenario, loaded.overrides) == loaded.scenario


def error_of_memory(scenario, overrides, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        with_overrides(scenario, overrides, **kwargs)
    return str(info.value)


def test_uninhabited_locality_is_rejected(tmp_path):
    path = write_variant(tmp_path, lambda d: d["residents"][0]["population"].update(value=0))
    assert "needs a population of at least 1" in error_for(path)


@pytest.mark.parametrize("designated", ["2015-12-01", "2016-06-01"])
def test_a_faction_designated_outside_every_deal_on_or_after_the_start_is_rejected(tmp_path, designated):
    # A scenario holds only what was known at its start (Waer starts on 1 Dec 2015).
    def edit(data):
        data["factions"][0]["outside_every_deal"] = {"designated": designated, "source": "test"}

    message = error_for(write_variant(tmp_path, edit))
    assert "outside_every_deal" in message and "before the start" in message


def test_a_faction_designated_before_the_start_is_outside_every_deal(tmp_path):
    def edit(data):
        data["factions"][0]["outside_every_deal"] = {"designated": "2013-05-14", "source": "test"}

    loaded = load_scenario(write_variant(tmp_path, edit))
    assert loaded.scenario.factions[0].outside_every_deal.designated.isoformat() == "2013-05-14"


def test_the_old_spoiler_switch_is_an_unknown_key(tmp_path):
    path = write_variant(tmp_path, lambda d: d["factions"][0].update(spoiler=True))
    assert "spoiler" in error_for(path)


def test_a_corridor_guaranteed_by_an_unknown_actor_is_rejected(tmp_path):
    corridor = {"date": "2016-01-10", "type": "corridor", "days": {"value": 3, "assumed": "test"},
                "detained_share": {"value": 0.0, "assumed": "test"}, "guarantor": "Iran"}  # fmt: skip
    message = error_for(write_variant(tmp_path, lambda d: d["events"].append(corridor)))
    assert "guarantor 'Iran'" in message and "neither `regime` nor a mediator" in message


def test_a_corridor_guaranteed_by_a_mediator_of_identity_none_is_rejected(tmp_path):
    corridor = {"date": "2016-01-10", "type": "corridor", "days": {"value": 3, "assumed": "test"},
                "detained_share": {"value": 0.0, "assumed": "test"}, "guarantor": "Nobody"}  # fmt: skip

    def edit(data):
        data["other_mediators"].append({"name": "Nobody", "identity": "none", "present_at_start": False})
        data["events"].append(corridor)

    message = error_for(write_variant(tmp_path, edit))
    assert "guarantor 'Nobody' has identity none" in message and "\n" not in message


def test_a_mediators_values_live_in_the_mediators_table_not_on_the_mediator(tmp_path):
    path = write_variant(tmp_path, lambda d: d["mediator"].update(leverage={"value": 0.5, "assumed": "x"}))
    assert "mediator.leverage" in error_for(path)

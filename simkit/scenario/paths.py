"""Dotted paths into a scenario: the one resolver behind `--set`, sweep parameters, priors and posteriors.

A path names mapping keys and list items as the YAML does: `regime.siege_tightness`,
`committees.0.concession_rate` (a list position), `factions.HTS.veto` (a list item
by its `name`, or a resident group by its `locality`). A parameter is a
`{value: ..., source|assumed: ...}` mapping; its path ends at the parameter, not
at `value`.

Whole-number parameters (counts and days) take sampled or calibrated values
through `whole_number`, the single rounding rule of the project.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from simkit.scenario.provenance import Param
from simkit.scenario.schema import Scenario
from simkit.yamlio import InputError, OverrideNaming

__all__ = [
    "OverridePlan",
    "PathError",
    "apply_overrides",
    "check_parameter_path",
    "locate",
    "override_sections",
    "parameter_value",
    "set_parameters",
    "takes_whole_numbers",
    "whole_number",
]


class PathError(InputError):
    """A dotted path that names nothing (or nothing of the right kind) in the scenario."""


def whole_number(value: float) -> int:
    """The whole number a sampled or calibrated value stands for: the nearest, halves to even.

    This is Python's `round` and numpy's `rint`/`round`, so a value rounds the same
    wherever it is rounded (sweep designs, priors, posterior draws).

    Raises:
        InputError: the value is not finite.
    """
    if not math.isfinite(value):
        raise InputError(f"expected a finite number for a whole-number parameter, found {value}")
    return round(value)


def _is_param(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and ("source" in node or "assumed" in node)


def _step(node: Any, part: str, parts: list[str], depth: int) -> Any:
    """The child `part` of `node` (parts[:depth] lead to `node`), or PathError saying what is there."""
    key = _key(node, part, parts, depth)
    return getattr(node, key) if isinstance(node, BaseModel) else node[key]


def _field(item: Any, name: str) -> Any:
    """A field of scenario data (a mapping) or of a scenario section (a model); None if it has none."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _key(node: Any, part: str, parts: list[str], depth: int) -> int | str:
    """The list index, mapping key or section field that `part` names in `node`."""
    here = ".".join(parts[: depth + 1])
    if isinstance(node, list):
        if part.lstrip("-").isdigit():
            index = int(part)
            if -len(node) <= index < len(node):
                return index
            raise PathError(f"path {here!r}: index out of range (list has {len(node)} items)")
        labels = [
            (_field(item, "name"), _field(item, "locality")) if isinstance(item, (dict, BaseModel)) else ()
            for item in node
        ]
        for index, label in enumerate(labels):
            if part in label:
                return index
        names = [str(label[0] or label[1]) for label in labels if label]
        raise PathError(f"path {here!r}: no item named {part!r} (items: {', '.join(names) or 'none'})")
    if isinstance(node, BaseModel):
        if part in type(node).model_fields:
            return part
        raise PathError(f"no field {here!r}")  # the data path (`apply_overrides`) words it for users
    if isinstance(node, dict):
        if part in node:
            return part
        if _is_param(node):
            raise PathError(f"{'.'.join(parts[:depth])!r} is a parameter; it has no field {part!r}")
        known = ", ".join(sorted(map(str, node))) or "none"
        raise PathError(f"no field {here!r} (fields there: {known})")
    raise PathError(f"{'.'.join(parts[:depth]) or 'the scenario'!r} has no fields (it is {node!r})")


def _parts(dotted: str) -> list[str]:
    parts = dotted.split(".")
    if not dotted or any(not part for part in parts):
        raise PathError(f"path {dotted!r}: expected dotted names such as regime.siege_tightness")
    return parts


def locate(data: Any, dotted: str) -> Any:
    """The node at a dotted path in scenario data (a scenario's `model_dump(mode="json")` or its YAML)."""
    node = data
    parts = _parts(dotted)
    for depth, part in enumerate(parts):
        node = _step(node, part, parts, depth)
    return node


def _resolve(data: Any, dotted: str) -> tuple[Any, int | str, tuple[int | str, ...]]:
    """Where a dotted path lands: the node holding it, its key there, and its place from the top.

    The one walk behind overrides: `path.value` is the same as `path`, and a list item named by its
    `name` or `locality` (or a negative position) is given by its position, as validation errors
    locate it. `data` is scenario data (mappings and lists) or a scenario in memory.

    Raises:
        PathError: the path names nothing in `data`.
    """
    parts = _parts(dotted)
    if len(parts) > 1 and parts[-1] == "value":
        parts = parts[:-1]
    parent, place = data, []
    for depth, part in enumerate(parts):
        if depth:
            parent = _child(parent, place[-1])
        key = _key(parent, part, parts, depth)
        if isinstance(key, int) and key < 0:
            key += len(parent)
        place.append(key)
    return parent, place[-1], tuple(place)


def apply_overrides(
    data: Any,
    overrides: Mapping[str, Any],
    *,
    origin: str = "override",
    named: OverrideNaming | None = None,
    places: dict[tuple[str | int, ...], str] | None = None,
) -> Any:
    """Return a copy of scenario data with dotted-path overrides applied, one after another.

    Setting a parameter (a mapping with `value`) replaces its value and records the
    override as its provenance, so a changed number never keeps a source that no
    longer backs it; `path.value` is the same as `path`. Each path is resolved on the
    data as the overrides before it left it (a renamed item is found by its new name).

    Args:
        data: scenario data (a scenario's `model_dump(mode="json")` or its YAML).
        overrides: {dotted path: value}.
        origin: the provenance written for a parameter set, `"<origin> (was <value>: <source>)"`.
        named: how the caller's overrides are named in errors (`simkit.yamlio.override_text` for
            `--set`); without it, `override 'path'`.
        places: filled with the data path of each override's node (list items by position), to
            its dotted path, so an error inside an overridden node can name the override.

    Raises:
        PathError: a path names nothing in the data (`<override as named>: ...`).
    """
    data = copy.deepcopy(data)
    for dotted, value in overrides.items():
        try:
            parent, key, place = _resolve(data, dotted)
        except PathError as err:
            where = named(dotted, value) if named is not None else f"override {dotted!r}"
            raise PathError(f"{where}: {err}") from None
        target = parent[key]
        if _is_param(target) and not isinstance(value, dict):
            was = target.get("source") or target.get("assumed")
            value = {"value": value, "assumed": f"{origin} (was {target['value']!r}: {was})"}
        parent[key] = value
        if places is not None:
            places[place] = dotted
    return data


def override_sections(
    scenario: Scenario, overrides: Mapping[str, Any], *, origin: str = "override"
) -> Scenario:
    """`apply_overrides` on a scenario in memory, rebuilding only the sections on the paths.

    Every section on an overridden path, up to the scenario, is validated once
    with all its changes and its untouched fields as they are (pydantic does not
    revalidate instances), so field checks, ranges and every section's
    cross-field checks along the paths run as in a full validation; the sections
    off the paths were valid and are shared. The provenance written is
    `apply_overrides`' own. A success is the scenario a full validation of the
    overridden data gives; a failure may be worded differently, so callers that
    report errors (`simkit.scenario.with_overrides`) take the full path then.
    Setting the same paths many times (a calibration's particles): `OverridePlan`.

    Raises:
        PathError: a path names nothing in the scenario.
        pydantic.ValidationError: a value (or the overrides together) that a section rejects.
        ValueError: overrides that depend on each other (one path inside another, a `name` or
            `locality` changed): apply them one at a time to data (`apply_overrides`).
    """
    return OverridePlan(scenario, overrides).apply(overrides, origin=origin)


class OverridePlan:
    """Dotted paths resolved once against a scenario, to be set to new values many times.

    What `override_sections` works out before it validates anything (the list
    positions and fields the paths name, that no path lies inside another, the
    provenance each parameter had) is the same for every calibration particle of a
    case, so a plan holds it; `apply` then only validates the sections on the paths,
    as `override_sections` does.

    Attributes:
        scenario: the scenario the paths were resolved against (the one `apply` overrides).
        paths: the dotted paths, in the order given.

    Raises:
        PathError: a path names nothing in the scenario.
        ValueError: paths that depend on each other (see `override_sections`).
    """

    def __init__(self, scenario: Scenario, paths: Iterable[str]) -> None:
        self.scenario = scenario
        self.paths = tuple(paths)
        self._was: list[str | None] = []  # a parameter's "value: provenance" before, per path; None: not one
        changes: dict[Any, Any] = {}  # a tree of keys (list positions, field names) down to path indices
        for index, dotted in enumerate(self.paths):
            parent, key, place = _resolve(scenario, dotted)
            if key in ("name", "locality"):
                raise ValueError(f"override {dotted!r} renames an item that other paths may name")
            node, branch = _child(parent, key), changes
            for step in place[:-1]:
                branch = branch.setdefault(step, {})
                if not isinstance(branch, dict):
                    raise ValueError(f"override {dotted!r} lies inside another override")
            if key in branch:
                raise ValueError(f"override {dotted!r} overlaps another override")
            self._was.append(
                f"{node.value!r}: {node.source or node.assumed}" if isinstance(node, Param) else None
            )
            branch[key] = _Leaf(index)
        self._root = _Section.of(scenario, changes)

    def apply(self, values: Mapping[str, Any], *, origin: str = "override") -> Scenario:
        """The plan's scenario with its paths set to `values` (a value for each path, by path).

        Raises:
            KeyError: a path without a value.
            pydantic.ValidationError: a value (or the values together) that a section rejects.
        """
        leaves = []
        for dotted, was in zip(self.paths, self._was, strict=True):
            value = values[dotted]
            if was is not None and not isinstance(value, dict):
                value = {"value": value, "assumed": f"{origin} (was {was})"}
            leaves.append(value)
        return self._root.rebuilt(leaves)


class _Leaf:
    """A path's place in a plan's tree of changes: the index of its new value."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Section:
    """A section (or list) on the paths of an `OverridePlan`, with the changes below it."""

    __slots__ = ("changes", "fields", "node")

    def __init__(self, node: Any, changes: tuple[tuple[Any, _Leaf | _Section], ...]) -> None:
        self.node = node
        self.changes = changes
        self.fields = None if isinstance(node, list) else tuple(type(node).model_fields)

    @classmethod
    def of(cls, node: Any, changes: dict[Any, Any]) -> _Section:
        """The tree of sections below `node` that the changes (keys down to `_Leaf`s) touch."""
        return cls(
            node,
            tuple(
                (key, change if isinstance(change, _Leaf) else cls.of(_child(node, key), change))
                for key, change in changes.items()
            ),
        )

    def rebuilt(self, leaves: list[Any]) -> Any:
        """The section with the new values below it, each touched section validated once."""
        new = {
            key: leaves[change.index] if isinstance(change, _Leaf) else change.rebuilt(leaves)
            for key, change in self.changes
        }
        node = self.node
        if self.fields is None:
            return [new.get(index, item) for index, item in enumerate(node)]
        now = node.__dict__
        fields = {name: now[name] for name in self.fields}
        fields.update(new)
        return type(node).model_validate(fields)


def _child(node: Any, key: Any) -> Any:
    return getattr(node, key) if isinstance(node, BaseModel) else node[key]


def parameter_value(source: Scenario | Any, dotted: str) -> int | float:
    """The current value of the numeric parameter at a dotted path.

    Args:
        source: a scenario, or scenario data (a dump or a YAML mapping).
        dotted: the path, as in `--set`.

    Raises:
        PathError: the path names nothing, a section, or a parameter that is not a number.
    """
    data = source.model_dump(mode="json") if isinstance(source, BaseModel) else source
    node = locate(data, dotted)
    if _is_param(node):
        value = node["value"]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise PathError(f"{dotted!r} is not a numeric parameter (its value is {value!r})")
    if isinstance(node, (dict, list)):
        inside = ", ".join(sorted(map(str, node))) if isinstance(node, dict) else f"{len(node)} items"
        raise PathError(f"{dotted!r} is a section, not a parameter; name one inside it ({inside})")
    raise PathError(
        f"{dotted!r} is not a numeric parameter (it is {node!r}); only `{{value: ...}}` numbers qualify"
    )


def takes_whole_numbers(scenario: Scenario | Any, dotted: str) -> bool:
    """Whether the parameter at `dotted` is a count or a number of days (its values are whole numbers)."""
    value = parameter_value(scenario, dotted)
    return isinstance(value, int)


def set_parameters(scenario: Scenario, values: Mapping[str, float], origin: str) -> Scenario:
    """The scenario with parameters set, whole-number ones through `whole_number`, validated.

    Every changed number gets `origin` as its provenance (e.g. "calibrated:
    posterior median, calibration/waer/posterior_summary.csv").

    Raises:
        PathError: a path names no numeric parameter.
        InputError: a value the scenario does not accept.
    """
    from simkit.scenario.loader import with_overrides

    data = scenario.model_dump(mode="json")
    fixed = {
        path: whole_number(value) if takes_whole_numbers(data, path) else float(value)
        for path, value in values.items()
    }
    return with_overrides(scenario, fixed, origin=origin)


def check_parameter_path(dotted: str) -> str | None:
    """What is wrong with a dotted path as the name of a numeric scenario parameter, by the schema alone.

    List items may be named by position or by name (which only a scenario can
    confirm), so this catches paths that can name no parameter in any scenario,
    e.g. a posterior column `foo` or `regime.lethalty`.

    Returns:
        None for a path that can name a parameter, else the reason it cannot.
    """
    try:
        parts = _parts(dotted)
    except PathError as err:
        return str(err)
    if len(parts) > 1 and parts[-1] == "value":
        parts = parts[:-1]
    candidates: list[Any] = [Scenario]
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        following: list[Any] = []
        for annotation in candidates:
            for kind in _members(annotation):
                if get_origin(kind) is list:
                    following.append(get_args(kind)[0])  # any item: by position or by name
                elif isinstance(kind, type) and issubclass(kind, BaseModel) and not issubclass(kind, Param):
                    field = kind.model_fields.get(part)
                    if field is not None:
                        following.append(field.annotation)
        if not following:
            return f"no field {here!r} in a scenario"
        candidates = following
    for annotation in candidates:
        for kind in _members(annotation):
            if isinstance(kind, type) and issubclass(kind, Param):
                return None
    return f"{dotted!r} is not a numeric parameter of any scenario"


def _members(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (a union's members, an Annotated's type, or itself)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or type(annotation).__name__ == "UnionType":
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]

"""YAML input with line numbers, dotted-path overrides and readable validation errors.

Scenario, trajectory and prior files all go through here, so every user-facing
input error names the file, the field path, the YAML line, what was expected
and what was found, in one line, without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

type YamlPath = tuple[str | int, ...]


class InputError(Exception):
    """A user mistake in an input file or option; the CLI prints it as one line and exits 2."""


class _Loader(yaml.SafeLoader):
    """SafeLoader keeping an impossible date (2017-02-30) as text: the schema reports it by field and line."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(path: str | Path) -> tuple[Any, dict[YamlPath, int]]:
    """Parse a YAML file and map every key path to its 1-based line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"{path}: cannot read file ({err.strerror})") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader subclass
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InputError(f"{path}{where}: not valid YAML ({problem})") from None
    lines: dict[YamlPath, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def _index_lines(node: yaml.Node, prefix: YamlPath, lines: dict[YamlPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = key_node.start_mark.line + 1
            _index_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, i)
            lines[path] = item.start_mark.line + 1
            _index_lines(item, path, lines)


def line_of(lines: Mapping[YamlPath, int], loc: YamlPath) -> int | None:
    """Line of the deepest ancestor of `loc` present in the file (missing keys point at their parent)."""
    for end in range(len(loc), 0, -1):
        if (line := lines.get(tuple(loc[:end]))) is not None:
            return line
    return None


def format_validation_error(
    err: pydantic.ValidationError, path: str | Path, lines: Mapping[YamlPath, int], data: Any = None
) -> str:
    """One line per problem: `file:line: field.path: expected ..., found ...`."""
    out = []
    for problem in err.errors(include_url=False):
        loc = _data_path(problem["loc"], data)
        line = line_of(lines, loc)
        where = f"{path}:{line}" if line is not None else str(path)
        field = ".".join(str(p) for p in loc) or "(top level)"
        out.append(f"{where}: {field}: {_describe(problem)}")
    return "\n".join(out)


def _data_path(loc: tuple, data: Any) -> YamlPath:
    """The error location as a path in the user's data.

    pydantic inserts union tags (a discriminator value, a generic model's name)
    into locations; a part absent from the data is such a tag, unless it is the
    last part, which names a missing key.
    """
    kept: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if present:
            node = node[part]
        elif i < len(loc) - 1 and isinstance(node, (dict, list)):
            continue
        kept.append(part)
    return tuple(kept)


def _describe(problem: Mapping[str, Any]) -> str:
    kind, found = problem["type"], problem.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; allowed keys are in docs/scenarios.md)"
    if kind == "missing":
        return "required but missing"
    message = problem["msg"].removeprefix("Value error, ")
    if isinstance(found, (dict, list)):
        return message
    return f"{message}; found {found!r}"


def validate_yaml[M: pydantic.BaseModel](path: str | Path, model: type[M], data: Any = None) -> M:
    """Read (or take already-read `data` for) `path` and validate it as `model`, raising InputError."""
    raw, lines = read_yaml(path)
    if data is None:
        data = raw
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        raise InputError(format_validation_error(err, path, lines, data)) from None


def parse_override(text: str) -> tuple[str, Any]:
    """Split `path.to.field=VALUE`; VALUE is read as YAML so numbers, dates and lists work."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"override {text!r}: expected PATH=VALUE, e.g. regime.siege_tightness=0.9")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        raise InputError(f"override {text!r}: the value is not valid YAML") from None


def apply_overrides(data: Any, overrides: Mapping[str, Any], *, origin: str = "override") -> Any:
    """Return a copy of `data` with dotted-path overrides applied.

    Path parts address mapping keys, list positions (`factions.0`) or list items
    by their `name` or `locality` (`factions.HTS.hardness`). Setting a parameter
    (a mapping with `value`) replaces its value and records the override as its
    provenance, so a changed number never keeps a source that no longer backs it.
    """
    import copy

    data = copy.deepcopy(data)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = data
        for depth, part in enumerate(parts):
            here = ".".join(parts[: depth + 1])
            last = depth == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part, here)
                if last:
                    node[index] = value
                node = node[index]
            elif isinstance(node, dict):
                if part not in node:
                    known = ", ".join(sorted(map(str, node))) or "none"
                    raise InputError(f"override {dotted!r}: no field {here!r} (fields here: {known})")
                if last:
                    target = node[part]
                    if isinstance(target, dict) and "value" in target and not isinstance(value, dict):
                        was = target.get("source") or target.get("assumed")
                        node[part] = {"value": value, "assumed": f"{origin} (was {target['value']!r}: {was})"}
                    else:
                        node[part] = value
                node = node[part]
            else:
                raise InputError(f"override {dotted!r}: {'.'.join(parts[:depth])!r} has no fields")
    return data


def _list_index(items: list, part: str, here: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if -len(items) <= index < len(items):
            return index
        raise InputError(f"override path {here!r}: index out of range (list has {len(items)} items)")
    for i, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("name"), item.get("locality")):
            return i
    names = [str(item.get("name") or item.get("locality")) for item in items if isinstance(item, dict)]
    raise InputError(f"override path {here!r}: no item named {part!r} (items: {', '.join(names)})")

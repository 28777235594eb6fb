"""YAML input with line numbers and readable validation errors: the one reader of every file users write.

Scenarios, trajectories, sweep specs, prior files and case sets, and the values
of `--set`, are all read here, so every user-facing input error names the
file, the field path, the YAML line, what was expected and what was found, in
one line, without a traceback. Reading is hardened against hostile or broken
files: text must be UTF-8, nesting is limited to `MAX_DEPTH` levels, aliases
may not expand the document beyond `MAX_NODES` nodes (an "alias bomb"), a file
may not exceed `MAX_BYTES`, and a key given twice in one mapping is an error
naming both lines (YAML would silently keep the last).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

type YamlPath = tuple[str | int, ...]

MAX_BYTES = 5_000_000
"""Largest input file read (5 MB); simkit's own files are a few kB, a documented trajectory some 50 kB."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists; scenarios need 4 levels, trajectories 5."""

MAX_NODES = 100_000
"""Most values a document may hold once its aliases are expanded (the largest shipped file has ~3,000)."""


class InputError(Exception):
    """A user mistake in an input file or option; the CLI prints it as one line and exits 2."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with limits: nesting depth, and impossible dates (2017-02-30) kept as text.

    An impossible date stays text so that the schema reports it by field and line,
    the same way for a file and for a `--set` value.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as err:
            # e.g. `!!float abc` or `!!bool maybe`: PyYAML raises a bare Python error
            value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise ConstructorError(
                None, None, f"cannot read {value!r} as {node.tag.rsplit(':', 1)[-1]} ({err})", node.start_mark
            ) from None

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
# YAML 1.2 reads `1e9` and `1e-3` as numbers; PyYAML (YAML 1.1) would keep them as text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def read_yaml(path: str | Path) -> tuple[Any, dict[YamlPath, int]]:
    """Read a YAML file (UTF-8, within the limits above) and map every key path to its 1-based line.

    Raises:
        InputError: one line naming the file (and line): unreadable, not UTF-8, not YAML, too deep,
            too large once aliases are expanded, or a duplicate key.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as err:
        raise InputError(f"{path}: cannot read file ({err.strerror or type(err).__name__})") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB; simkit input files are small")
    return parse_yaml(_decode(raw, path), str(path))


def _decode(raw: bytes, path: Path) -> str:
    """The file's text; UTF-8 (with or without a byte-order mark) only."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError(f"{path}: the file is UTF-32 text; save it as UTF-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{path}: the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        hint = " (it looks like UTF-16)" if b"\x00" in raw[:200] else ""
        raise InputError(
            f"{path}:{line}: not UTF-8 text{hint}: byte 0x{raw[err.start]:02x} at position {err.start}; "
            "save the file as UTF-8"
        ) from None


def parse_yaml(text: str, where: str) -> tuple[Any, dict[YamlPath, int]]:
    """Parse YAML text (a file's, or a `--set` value) within the limits; `where` names it in errors.

    Returns:
        The data, and the 1-based line of every key path.

    Raises:
        InputError: not YAML, too deep, too large once aliases are expanded, or a duplicate key.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _check_nodes(node, where)
        return loader.construct_document(node), lines
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{where}{at}: not valid YAML ({problem})") from None
    except RecursionError:  # the depth limit should make this unreachable; never a traceback
        raise InputError(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: yaml.Node, where: str) -> dict[YamlPath, int]:
    """Bound the expanded size (aliases counted each time they are used), then index lines and check keys."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            if size[key] > MAX_NODES:
                raise InputError(
                    f"{where}, line {node.start_mark.line + 1}: the document expands to more than "
                    f"{MAX_NODES:,} values (aliases `*name` repeat what they point at); simkit's files need "
                    "far fewer"
                )
            continue
        if key in size:
            continue
        if key in open_:
            raise InputError(f"{where}, line {node.start_mark.line + 1}: an alias refers to itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
    lines: dict[YamlPath, int] = {}
    todo: list[tuple[yaml.Node, YamlPath]] = [(root, ())]
    while todo:
        node, prefix = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    name = (key_node.tag, key_node.value)
                    if name in seen:
                        field = ".".join(str(p) for p in (*prefix, key_node.value))
                        raise InputError(
                            f"{where}:{line}: {field}: duplicate key {key_node.value!r} (first at line "
                            f"{seen[name]}); a mapping may give each key once"
                        )
                    seen[name] = line
                path = (*prefix, key_node.value)
                lines.setdefault(path, line)
                todo.append((value_node, path))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                path = (*prefix, i)
                lines.setdefault(path, item.start_mark.line + 1)
                todo.append((item, path))
    return lines


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
    if isinstance(found, (dict, list, pydantic.BaseModel)) or "; found " in message:
        return message
    if isinstance(found, dt.date):
        return f"{message}; found {found.isoformat()}"
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
    """Split `path.to.field=VALUE`; VALUE is read as YAML (numbers, dates, lists), within the same limits.

    Raises:
        InputError: no `=`, an empty path, or a value that is not YAML or exceeds the limits.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"override {text!r}: expected PATH=VALUE, e.g. regime.siege_tightness=0.9")
    data, _ = parse_yaml(value, f"--set {key.strip()}")
    return key.strip(), data

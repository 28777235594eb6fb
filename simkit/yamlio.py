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
import difflib
import json
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

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
"""Most values a document may hold once its aliases are expanded (the largest shipped file: ~1,000)."""


class InputError(Exception):
    """A user mistake in an input file or option; the CLI prints it as one line and exits 2.

    The message may hold one line per problem (a file with several mistakes); `one_line` is what the
    command line prints.
    """


def one_line(message: str) -> str:
    """A message of one line per problem as one line: the first problem, then the fields of the others."""
    problems = [line.strip() for line in str(message).splitlines() if line.strip()]
    if len(problems) <= 1:
        return problems[0] if problems else ""
    fields = [line.split(": ")[1] for line in problems[1:] if line.count(": ") >= 2]
    listed = ", ".join(dict.fromkeys(fields[:6])) + (", ..." if len(fields) > 6 else "")
    more = len(problems) - 1
    plural = "s" if more > 1 else ""
    return f"{problems[0]} (and {more} more problem{plural}{': ' + listed if listed else ''})"


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


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes what `_Loader` would read back as something else (text such as '1e5')."""


# YAML 1.2 reads `1e9` and `1e-3` as numbers; PyYAML (YAML 1.1) would keep them as text.
_EXPONENT = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+$")
for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT, list("-+0123456789"))


def dump_yaml(data: Any) -> str:
    """YAML text of `data` that `read_yaml` reads back equal (the writer of scenarios and trajectories)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


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
    if "\x00" in text:
        raise InputError(f"{where}: contains NUL characters (is it UTF-16 or binary?); save it as UTF-8 text")
    loader = None
    try:
        loader = _Loader(text)
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
        if loader is not None:
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
    err: pydantic.ValidationError,
    path: str | Path,
    lines: Mapping[YamlPath, int],
    data: Any = None,
    model: type[pydantic.BaseModel] | None = None,
    overridden: Mapping[YamlPath, str] | None = None,
) -> str:
    """One line per problem: `file:line: field.path: expected ..., found ...`.

    With the `model` validated, an unknown key lists the keys allowed there and the likeliest one meant.
    A problem inside a node an override set (`overridden`: its data path to how the user gave it, such
    as `--set regime.siege_tightness=abc`) names the override instead of the file's line.
    """
    out = []
    problems = err.errors(include_url=False)  # unknown keys first: a typo explains the key then missing
    for problem in sorted(problems, key=lambda p: p["type"] != "extra_forbidden"):
        loc = _data_path(problem["loc"], data)
        line = line_of(lines, loc)
        where = f"{path}:{line}" if line is not None else str(path)
        if overridden:
            setters = [text for place, text in overridden.items() if loc[: len(place)] == place]
            where = setters[0] if setters else f"{where} (with {', '.join(overridden.values())})"
        field = ".".join(str(p) for p in loc) or "(top level)"
        if problem["type"] == "extra_forbidden" and model is not None:
            message = _unknown_key(str(problem["loc"][-1]), allowed_keys(model, problem["loc"][:-1]),
                                   KEY_REFERENCE.get(model.__name__))  # fmt: skip
        else:
            message = _describe(problem)
        out.append(f"{where}: {field}: {message}")
    return "\n".join(out)


KEY_REFERENCE = {"Scenario": "docs/scenarios.md"}
"""The page that explains every key of a kind of file, named in its unknown-key errors."""


def _unknown_key(key: str, allowed: list[str], reference: str | None = None) -> str:
    see = f"; every key: {reference}" if reference else ""
    if not allowed:
        return f"unknown key {key!r} (check the spelling{see})"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r} ({guess}allowed keys here: {', '.join(allowed)}{see})"


def allowed_keys(model: type[pydantic.BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at pydantic location `loc` inside `model` may have, found by walking the schema."""
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    inner = _strip(annotation, None)
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        return [field.alias or name for name, field in inner.model_fields.items()]
    return []


def _strip(annotation: Any, tag: Any) -> Any:
    """The model (or type) inside Annotated, Optional and unions; a union member by its tag if it has one."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            models = [arg for arg in members if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel)]
            tagged = [m for m in models if tag is not None and _tag_of(m) == tag]
            annotation = (tagged or models or members)[0]
        else:
            return annotation


def _tag_of(model: type[pydantic.BaseModel]) -> Any:
    field = model.model_fields.get("type")
    args = get_args(field.annotation) if field is not None else ()
    return args[0] if len(args) == 1 else None


def _step(annotation: Any, part: Any) -> Any:
    bare = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    union = get_origin(bare) in (Union, types.UnionType)
    inner = _strip(annotation, part)
    if union and isinstance(inner, type) and _tag_of(inner) == part:
        return inner  # a discriminated union's tag in the location: the member itself
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        for name, field in inner.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin = get_origin(inner)
    if origin is list and isinstance(part, int):
        return get_args(inner)[0]
    if origin is dict and isinstance(part, str):
        return get_args(inner)[1]
    return None


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
        return "unknown key (check the spelling)"
    if kind == "missing":
        return "required but missing"
    bare = isinstance(found, (int, float, str)) and not isinstance(found, bool)
    if kind == "model_type" and bare and _is_parameter(problem.get("ctx", {}).get("class_name")):
        return (
            f'a parameter needs provenance: write {{value: {found!r}, source: "seed file, or outlet and '
            f'date"}} or {{value: {found!r}, assumed: "why"}}'
        )
    message = problem["msg"].removeprefix("Value error, ")
    if isinstance(found, (dict, list, pydantic.BaseModel)) or "; found " in message:
        return message
    if isinstance(found, dt.date):
        return f"{message}; found {found.isoformat()}"
    if found is None:
        return f"{message}; found an empty value"
    return f"{message}; found {found!r}"


def _is_parameter(class_name: str | None) -> bool:
    from simkit.scenario.provenance import Param  # here: simkit.scenario imports this module

    todo, seen = [Param], set()
    while todo:
        cls = todo.pop()
        if cls.__name__ == class_name:
            return True
        seen.add(cls)
        todo.extend(sub for sub in cls.__subclasses__() if sub not in seen)
    return False


def validate_yaml[M: pydantic.BaseModel](
    path: str | Path,
    model: type[M],
    data: Any = None,
    lines: Mapping[YamlPath, int] | None = None,
    overridden: Mapping[YamlPath, str] | None = None,
) -> M:
    """Validate `data` (else the file read) as `model`, raising InputError naming file, line and field.

    Args:
        path: the file, named in errors.
        model: the pydantic model.
        data: the data read from `path` (possibly overridden); read from `path` when None.
        lines: the line of every key path of `path` (`read_yaml`); read again when None.
        overridden: data paths set by overrides, to how the user gave them (`format_validation_error`).
    """
    if data is None or lines is None:
        raw, lines = read_yaml(path)
        data = raw if data is None else data
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        raise InputError(format_validation_error(err, path, lines, data, model, overridden)) from None


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


type OverrideNaming = Callable[[str, Any], str]
"""How a caller's overrides are named in errors: (dotted path, value) to the text the user wrote them as."""


def override_value(value: Any) -> str:
    """An override's value as YAML that reads back equal, without ": " (one line, compact JSON for a mapping).

    The text holds no ": ", which separates the place, the field and the message of an error line
    (`one_line`). An empty value, which YAML reads as null whether typed `--set PATH=`, `PATH=null` or
    `PATH=~`, is shown empty (`PATH=`), and a check that needs a value says it found an empty value.
    """
    if value is None:
        return ""
    shown = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10**6).strip()
    shown = shown.removesuffix("...").strip()
    if ": " in shown:
        shown = json.dumps(value, separators=(",", ":"), default=str)
    return shown


def override_text(key: str, value: Any) -> str:
    """An override as given on the command line, `--set PATH=VALUE` (the naming of `--set` overrides)."""
    return f"--set {key}={override_value(value)}"


def overrides_in(source: str | Path, lines: Mapping[YamlPath, int] | None = None) -> OverrideNaming:
    """The naming of overrides a file holds under its `overrides:` key: `FILE:LINE overrides.PATH=VALUE`.

    Args:
        source: the file (a sweep spec, a result folder's manifest.json), named in errors.
        lines: the line of every key path of the file (`read_yaml`); without them no line is named.
    """

    def named(key: str, value: Any) -> str:
        line = line_of(lines or {}, ("overrides", key))
        return f"{source}{f':{line}' if line else ''} overrides.{key}={override_value(value)}"

    return named

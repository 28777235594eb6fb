"""Seeded mutation fuzzing of everything a user hands simkit, through the real command line.

Each case takes one shipped input (a scenario, a trajectory, a sweep spec, a prior
file, a posterior, a case set, a `--set` value or a command-line option), mutates it the way
a careless or hostile user might (flipped bytes, other encodings, deep nesting,
alias bombs, duplicate keys, missing or unknown keys, NaN, infinities, huge,
negative and wrongly typed values, impossible dates) and runs the matching
`simkit` command in-process (typer's CliRunner). Every case must end in one of:

* `accepted`: exit 0;
* `clean`: exit 2 with exactly one line on stderr, starting `error: `;

anything else is a failure: `traceback` (an exception escaped), `unclear` (another
exit code, or an error message that is not one line) or `hang` (no answer within
the time bound). Used by tests/test_fuzz_inputs.py and benchmarks/fuzz_inputs.py.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from typer.testing import CliRunner

from simkit.cli import app
from simkit.model import OUTCOMES

ROOT = Path(__file__).resolve().parents[1]
WAER = ROOT / "scenarios" / "waer.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TRAJECTORIES = sorted((ROOT / "calibration").glob("*_trajectory.yaml"))
SWEEPS = sorted((ROOT / "sweeps").glob("*.yaml"))
PRIORS = sorted((ROOT / "calibration").glob("*_priors.yaml"))
POSTERIOR = ROOT / "calibration" / "waer" / "posterior.parquet"
WAER_TRAJECTORY = ROOT / "calibration" / "waer_trajectory.yaml"
CASESET = ROOT / "cases" / "library.yaml"
LIBRARY_PRIORS = ROOT / "calibration" / "library_priors.yaml"

KINDS = ("scenario", "trajectory", "sweep", "priors", "posterior", "caseset", "set", "options")
VERDICTS = ("clean", "accepted", "traceback", "unclear", "hang")

HOSTILE: list[Any] = [
    None, True, False, 0, -1, -0.5, 0.5, 1.5, 1e308, -1e308, float("nan"), float("inf"), float("-inf"),
    10**30, 2**63, 1e-300, 1e9, 100_000_000, "", "x" * 2000, "2017-02-30", "9999-12-31", "1e9", [], {},
    [1, 2], {"value": 1}, {"value": True, "assumed": "fuzz"}, {"value": float("nan"), "assumed": "fuzz"},
]  # fmt: skip
"""Values a user might write where a number, text, date, list or mapping is expected."""

HOSTILE_TEXT = [
    ".nan", ".inf", "-.inf", "1e309", "-1e309", "true", "null", "", "2017-02-30", "9999-12-31", "0001-01-01",
    "{value: 1}", "{value: .nan, assumed: x}", "!!python/object/apply:os.system [echo]", "!!float abc",
    "!!int 1.5", "!!bool maybe", "&a [*a]", "0x10", "1_000", "'1'", "{", "[", "-1", "1e-300", "100000000",
    "1e9", "10000000000000000000000000000000", "[1, 2]", "{a: 1, a: 2}", "\x00", "\ufeff1", "0.5", "3",
]  # fmt: skip
"""`--set` values as typed on a command line (read as YAML)."""


@dataclass
class Case:
    """One mutated input and the command that reads it."""

    kind: str
    mutation: str
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Outcome:
    """How the command ended."""

    verdict: str
    seconds: float
    exit_code: int | None
    message: str


# ------------------------------------------------------------------ text and data mutations


def deep_nesting(depth: int) -> str:
    return "[" * depth + "]" * depth


def alias_bomb(levels: int) -> str:
    lines = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _scalars(node: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _scalars(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from _scalars(value, (*path, i))


def _parent(data: Any, path: tuple) -> tuple[Any, Any]:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


def mutate_data(data: Any, rng: random.Random) -> tuple[Any, str]:
    """A structural mutation of parsed YAML: a hostile value, a missing or unknown key, a type change."""
    data = copy.deepcopy(data)
    paths = list(_scalars(data))
    if not paths:
        return data, "unchanged"
    path = rng.choice(paths)
    parent, key = _parent(data, path)
    where = ".".join(map(str, path))
    op = rng.choice(["hostile", "hostile", "hostile", "delete", "unknown", "scale", "unwrap", "retype"])
    if op == "hostile":
        parent[key] = copy.deepcopy(rng.choice(HOSTILE))
        return data, f"hostile value at {where}: {parent[key]!r:.40}"
    if op == "delete":
        del parent[key]
        return data, f"deleted {where}"
    if op == "unknown" and isinstance(parent, dict):
        parent[f"{key}_typo"] = parent[key]
        return data, f"unknown key beside {where}"
    value = parent[key]
    if op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
        factor = rng.choice([-1, 0, 10, 1e6, 1e-6, 1e300])
        parent[key] = value * factor
        return data, f"{where} x {factor}"
    if op == "unwrap" and isinstance(value, dict) and "value" in value:
        parent[key] = value["value"]
        return data, f"bare number at {where}"
    parent[key] = rng.choice([[value], {"x": value}, str(value)])
    return data, f"retyped {where}"


def mutate_text(text: str, rng: random.Random) -> tuple[bytes, str]:
    """A textual mutation: bytes, encodings, lines, nesting and aliases."""
    raw = text.encode()
    lines = text.splitlines(keepends=True)
    op = rng.choice(
        [
            "flip",
            "invalid_utf8",
            "utf16",
            "truncate",
            "dup_line",
            "drop_line",
            "indent",
            "deep",
            "bomb",
            "tab",
        ]
    )
    if op == "flip":
        buf = bytearray(raw)
        for _ in range(rng.randint(1, 5)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf), "flipped bytes"
    if op == "invalid_utf8":
        at = rng.randrange(len(raw))
        return raw[:at] + rng.choice([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80"]) + raw[at:], "invalid UTF-8"
    if op == "utf16":
        return text.encode(rng.choice(["utf-16", "utf-16-le", "utf-32"])), "UTF-16/32 file"
    if op == "truncate":
        return raw[: rng.randrange(len(raw))], "truncated"
    i = rng.randrange(len(lines))
    if op == "dup_line":
        lines.insert(i, lines[i])
        return "".join(lines).encode(), f"line {i + 1} twice"
    if op == "drop_line":
        del lines[i]
        return "".join(lines).encode(), f"line {i + 1} dropped"
    if op == "indent":
        lines[i] = rng.choice(["  ", " ", ""]) + lines[i].lstrip(" ")
        return "".join(lines).encode(), f"line {i + 1} re-indented"
    if op == "tab":
        lines[i] = "\t" + lines[i]
        return "".join(lines).encode(), f"tab on line {i + 1}"
    if op == "deep":
        depth = rng.choice([60, 1000, 5000])
        return (text + f"deep_fuzz: {deep_nesting(depth)}\n").encode(), f"nested {depth} deep"
    levels = rng.choice([5, 7, 9])
    return (alias_bomb(levels) + text).encode(), f"alias bomb 10^{levels}"


def mutate_yaml(
    path: Path, rng: random.Random, prepare: Callable[[Any], Any] | None = None
) -> tuple[bytes, str]:
    """Half structural (parse, mutate, dump), half textual mutations of a shipped YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if prepare is not None:
        data = prepare(data)
    if rng.random() < 0.5:
        mutated, what = mutate_data(data, rng)
        return yaml.safe_dump(mutated, sort_keys=False, allow_unicode=True).encode(), what
    return mutate_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), rng)


# ------------------------------------------------------------------ cases per kind


def _small_sweep(data: Any) -> Any:
    """A shipped sweep spec at a size that runs in a second: few points, one replicate."""
    data = dict(data)
    data["scenario"] = str(WAER)
    data["replicates"] = 1
    design = data.get("design")
    if isinstance(design, dict) and design.get("type") == "morris":
        data["design"] = {**design, "trajectories": 2}
    elif isinstance(design, dict) and design.get("type") == "sobol":
        data["design"] = {**design, "n": 2}
    for spec in data["parameters"].values():
        if "levels" in spec:
            spec["levels"] = 2
    return data


def make_case(kind: str, rng: random.Random) -> Case:
    """A mutated input of `kind` and the command that reads it (paths relative to the case folder)."""
    quick = ["-n", "2", "-o", "out", "-q", "--no-plots"]
    if kind == "scenario":
        body, what = mutate_yaml(rng.choice(SCENARIOS), rng)
        command = ["validate", "input.yaml"] if rng.random() < 0.7 else ["run", "input.yaml", *quick]
        return Case(kind, what, command, {"input.yaml": body})
    if kind == "trajectory":
        body, what = mutate_yaml(rng.choice(TRAJECTORIES), rng)
        return Case(
            kind, what, ["compare", str(WAER), "--against", "input.yaml", *quick], {"input.yaml": body}
        )
    if kind == "sweep":
        body, what = mutate_yaml(rng.choice(SWEEPS), rng, _small_sweep)
        return Case(
            kind, what, ["sweep", "input.yaml", "-o", "out", "-q", "--no-plots"], {"input.yaml": body}
        )
    if kind == "priors":
        body, what = mutate_yaml(rng.choice(PRIORS), rng)
        command = ["calibrate", str(WAER), "--against", str(WAER_TRAJECTORY), "--priors", "input.yaml",
                   "--budget", "20", "--population", "10", "--max-generations", "1", "--point", "median",
                   "-o", "out", "-q"]  # fmt: skip
        return Case(kind, what, command, {"input.yaml": body})
    if kind == "posterior":
        body, what = mutate_posterior(rng)
        command = ["forecast", str(WAER), "--posterior", "input.parquet", *quick]
        return Case(kind, what, command, {"input.parquet": body})
    if kind == "caseset":
        body, what = mutate_caseset(rng)
        if rng.random() < 0.7:
            command = ["score", "input.yaml", *quick]
        else:  # a budget no case set can use: the whole set (and the priors on every case) is read first
            command = ["calibrate", "input.yaml", "--priors", str(LIBRARY_PRIORS), "--budget", "1", "-o",
                       "out", "-q"]  # fmt: skip
        return Case(kind, what, command, {"input.yaml": body})
    if kind == "set":
        path, value, what = mutate_override(rng)
        command = ["validate", str(WAER)] if rng.random() < 0.7 else ["run", str(WAER), *quick]
        return Case(kind, what, [*command, "--set", f"{path}={value}"])
    if kind == "options":
        return mutate_options(rng)
    raise ValueError(kind)


def _library() -> dict:
    """The shipped case set with its files named absolutely (a mutated copy is written elsewhere)."""
    data = yaml.safe_load(CASESET.read_text(encoding="utf-8"))
    for case in data["cases"]:
        for key in ("scenario", "trajectory"):
            case[key] = (CASESET.parent / case[key]).resolve().as_posix()
    return data


CASESET_ENDS: list[bytes] = [
    b"", b"\n", b"# nothing but a comment\n", b"{}\n", b"[]\n", b"null\n", b"cases: []\n", b"cases:\n",
    b"name: x\n", b"name: x\ncases: {}\n", b"name: x\ncases: [1, 2]\n", b"name: x\ncases: [{}]\n",
]  # fmt: skip
"""Case sets that are empty or all but empty."""

BAD_DATES: list[Any] = [
    "2017-02-30", "2017-13-01", "17-03-13", "2017-03-13T10:00:00", "13/03/2017", 20170313, "yesterday",
    "0001-01-01", "9999-12-31", None, "", [2017, 3, 13], {"year": 2017},
]  # fmt: skip
"""What a user might write for a date."""


def mutate_caseset(rng: random.Random) -> tuple[bytes, str]:
    """A case set (cases/library.yaml) with missing files, bad dates, wrong types or nothing in it.

    Half the cases are the generic YAML mutations (`mutate_yaml`), half are aimed at what a case set
    holds: its file names, its dated windows and counts, its outcome classes and ids.
    """
    if rng.random() < 0.5:
        return mutate_yaml(CASESET, rng, lambda _: _library())
    data = _library()
    case = rng.choice(data["cases"])
    op = rng.choice(["file", "file", "date", "date", "order", "empty", "duplicate", "outcome", "count"])
    if op == "file":
        key = rng.choice(["scenario", "trajectory"])
        case[key] = rng.choice([
            "missing.yaml", "/nonexistent/x.yaml", "", ".", "input.yaml", "../" * 40 + "x.yaml",
            (ROOT / "scenarios").as_posix(), (ROOT / "scenarios" / "waer.yaml").as_posix(),
            WAER_TRAJECTORY.as_posix(), LIBRARY_PRIORS.as_posix(), POSTERIOR.as_posix(), "/dev/null",
        ])  # fmt: skip
        return _dump(data), f"{case['id']}.{key}: {case[key]:.40}"
    if op in ("date", "order"):
        field_name = rng.choice([k for k in ("siege_start", "deal_date", "control_date") if case.get(k)])
        window = case[field_name]
        if op == "date":
            bound = rng.choice(["from", "to"])
            window[bound] = copy.deepcopy(rng.choice(BAD_DATES))
            return _dump(data), f"{case['id']}.{field_name}.{bound}: {window[bound]!r:.40}"
        window["from"], window["to"] = dt.date(2030, 1, 1), dt.date(1990, 1, 1)
        return _dump(data), f"{case['id']}.{field_name}: 2030 to 1990"
    if op == "empty":
        body = rng.choice(CASESET_ENDS)
        return body, f"case set {body!r:.40}"
    if op == "duplicate":
        data["cases"].append(copy.deepcopy(case))
        return _dump(data), f"{case['id']} twice"
    if op == "outcome":
        case["outcome"] = rng.choice([*OUTCOMES, "surrender", "", 3, None, ["stalemate"]])
        return _dump(data), f"{case['id']}.outcome: {case['outcome']!r}"
    value = rng.choice([-1, 0, 1e308, float("nan"), float("inf"), "many", 10**30, None, [1, 2]])
    evacuated = case.setdefault("evacuated", {"low": 1, "high": 2, "source": "fuzz"})
    evacuated[rng.choice(["low", "high"])] = value
    return _dump(data), f"{case['id']}.evacuated: {value!r:.40}"


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def _parameter_paths() -> list[str]:
    from simkit.scenario import load_scenario

    data = load_scenario(WAER).scenario.model_dump(mode="json")
    paths = []
    for path in _scalars(data):
        node = data
        for part in path:
            node = node[part]
        if not (isinstance(path[-1], str) and path[-1] in ("value", "source", "assumed")):
            paths.append(".".join(map(str, path)))
    return paths


_PATHS: list[str] = []


def mutate_override(rng: random.Random) -> tuple[str, str, str]:
    """A `--set PATH=VALUE`: a real or broken path, a hostile or plausible value."""
    if not _PATHS:
        _PATHS.extend(_parameter_paths())
    path = rng.choice(_PATHS)
    op = rng.random()
    if op < 0.15:
        broken = [path + "x", path + ".value", path + ".", "." + path, path.replace(".", "..")]
        path = rng.choice([*broken, "factions.99.veto", "factions.-9.veto", "residents.No.x", "", "regime"])
    choice = rng.random()
    if choice < 0.7:
        value = rng.choice(HOSTILE_TEXT)
    elif choice < 0.8:
        value = deep_nesting(rng.choice([60, 5000]))
    elif choice < 0.85:
        value = "{" + alias_bomb(7).replace("\n", ", ").rstrip(", ") + "}"
    else:
        value = repr(rng.uniform(-10, 10))
    return path, value, f"--set {path}={value:.30}"


def mutate_posterior(rng: random.Random) -> tuple[bytes, str]:
    """A posterior.parquet with broken bytes, columns or values."""
    frame = pd.read_parquet(POSTERIOR)
    op = rng.choice(
        ["bytes", "truncate", "rename", "value", "value", "weight", "drop_weight", "strings", "empty"]
    )
    if op in ("bytes", "truncate"):
        raw = bytearray(POSTERIOR.read_bytes())
        if op == "truncate":
            return bytes(raw[: rng.randrange(len(raw))]), "truncated parquet"
        for _ in range(rng.randint(1, 20)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), "flipped parquet bytes"
    column = rng.choice([c for c in frame.columns if c != "weight"])
    if op == "rename":
        new = rng.choice(["foo", "regime.lethalty", "", "regime", "start", column + ".source", "0"])
        frame = frame.rename(columns={column: new})
        what = f"column {column} renamed {new!r}"
    elif op == "value":
        value = rng.choice([float("nan"), float("inf"), -1.0, 1e308, 5.0, -1e9, 0.5, 1e-300])
        frame.loc[rng.randrange(len(frame)), column] = value
        frame[column] = frame[column] * (1 if rng.random() < 0.5 else value if abs(value) < 1e9 else 1)
        what = f"{column} values set to {value}"
    elif op == "weight":
        value = rng.choice([-1.0, 0.0, float("nan"), 1e308])
        frame["weight"] = value if rng.random() < 0.5 else frame["weight"].where(frame.index != 0, value)
        what = f"weight {value}"
    elif op == "drop_weight":
        frame = frame.drop(columns="weight")
        what = "no weight column"
    elif op == "strings":
        frame[column] = frame[column].astype(str)
        what = f"{column} as text"
    else:
        frame = frame.iloc[0:0]
        what = "no particles"
    buffer = __import__("io").BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue(), what


OPTION_VALUES: dict[str, list[str]] = {
    "--runs": ["0", "-1", "1e30", "abc", "", str(10**30), "2.5"],
    "--seed": ["-1", str(2**64), "1e3", "x", str(2**63)],
    "--workers": ["0", "-1", "many", "2.0"],
    "--out": ["", "input.yaml", "/proc/x", "/dev/null", "out/../../x", "a" * 300],
    "--set": ["novalue", "=1", "regime.siege_tightness", "regime.siege_tightness=="],
    "--bogus": ["1"],
}
"""Option values a user might type (each case mutates one option of a quick, valid command)."""


def mutate_options(rng: random.Random, options: dict[str, list[str]] | None = None) -> Case:
    """A quick valid command with one option given a bad value."""
    options = options or OPTION_VALUES
    name = rng.choice(sorted(options))
    value = rng.choice(options[name])
    command = rng.choice(["run", "compare", "forecast"])
    base = {
        "run": ["run", str(WAER)],
        "compare": ["compare", str(WAER), "--against", str(WAER_TRAJECTORY)],
        "forecast": ["forecast", str(WAER), "--posterior", str(POSTERIOR)],
    }[command]
    given = {"--runs": "2", "--out": "out", **({name: value})}
    args = [*base, "-q", "--no-plots"]
    for option, text in given.items():
        args += [option, text]
    files = {"input.yaml": b"not a folder\n"}
    return Case("options", f"{command} {name} {value!r:.30}", args, files)


# ------------------------------------------------------------------ running a case


class _Timeout(BaseException):
    """Raised in the main thread by SIGALRM when a case takes too long."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def _alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_case(case: Case, folder: Path, timeout: float = 60.0) -> Outcome:
    """Run the case's command in `folder` (its files written there first) and judge how it ended."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in case.files.items():
        (folder / name).write_bytes(body)
    runner = CliRunner()
    start = time.perf_counter()
    with contextlib.chdir(folder):
        try:
            with _time_limit(timeout):
                result = runner.invoke(app, case.args)
        except _Timeout:
            return Outcome("hang", time.perf_counter() - start, None, f"no answer within {timeout:.0f} s")
    seconds = time.perf_counter() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = result.exception
        return Outcome("traceback", seconds, result.exit_code, f"{type(error).__name__}: {error}"[:300])
    stderr = result.stderr.strip()
    if result.exit_code == 0:
        return Outcome("accepted", seconds, 0, "")
    if (
        result.exit_code == 2
        and stderr.startswith("error: ")
        and "\n" not in stderr
        and "Traceback" not in stderr
    ):
        return Outcome("clean", seconds, 2, stderr)
    return Outcome("unclear", seconds, result.exit_code, stderr[:300])


def fuzz(
    kinds: tuple[str, ...],
    per_kind: int,
    seed: int,
    folder: Path,
    timeout: float = 60.0,
    options: dict[str, list[str]] | None = None,
) -> Iterator[tuple[Case, Outcome]]:
    """`per_kind` seeded cases of each kind, each run in its own sub-folder of `folder`."""
    for kind in kinds:
        rng = random.Random(f"{seed}-{kind}")
        for i in range(per_kind):
            case = mutate_options(rng, options) if kind == "options" else make_case(kind, rng)
            yield case, run_case(case, folder / f"{kind}-{i}", timeout)

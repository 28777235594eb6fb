"""The result store: every folder run, compare, forecast, diff, sweep and calibrate write goes through here.

Rules, in one place:

* **Identity from the manifest.** A folder is simkit's own when its
  `manifest.json` says so (`"written_by": "simkit"`); its `kind` and its
  identity fields say which results it holds. An empty (or missing) folder is
  new; a folder that is neither empty nor simkit's own is refused with one line.
* **Nothing simkit did not write is removed.** The manifest lists the files
  simkit wrote at the top of the folder (`files`); part files have fixed names
  (`parts/<kind>-<first run>-<end run>.parquet`). `--overwrite` removes exactly
  those and nothing else, never a folder wholesale; parts are merged, then only
  simkit's part files are deleted and `parts/` goes only if it is empty.
* **Never through a symbolic link.** A folder holding a symbolic link (at its
  top or in `parts/`) is refused; every file is written to a fresh temporary
  file (created exclusively, never following a link) and moved into place with
  `os.replace`, which replaces a name rather than writing through it, so a
  reader or a resume sees a whole file or none.
* **Names stay inside their base folder** (`inside`): a sweep called
  `../../x` or `/tmp/x` is refused.
* **One writer at a time.** The folder is locked (`fcntl.flock` on
  `.simkit.lock` inside it) for as long as a command writes into it; a second
  process gets one line saying who holds it. The lock is released by the
  kernel when the holder exits, however it exits, so a killed run never leaves
  a stale lock (only its file, still naming the dead holder's pid, which the
  next writer takes over and writes its own pid into). A
  holder that finishes removes the lock file while still holding the lock, so
  a finished folder holds only what its manifest lists; a process that opened
  the old file meanwhile sees that it is no longer the folder's lock and
  starts again on a fresh one. Within one process the lock is re-entrant
  (`hold`), so a command can hold it across the ensemble and the files it
  adds afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from simkit.yamlio import InputError

MANIFEST = "manifest.json"
LOCK = ".simkit.lock"
PARTS = "parts"
WRITTEN_BY = "simkit"
PART_FILE = re.compile(r"^(runs|events|series)-\d+-\d+\.parquet$")
"""Names of simkit's part files (kind, first run, one past the last run); nothing else in parts/ is ours."""
OTHERS = "{out} holds other results ({differences}); choose another --out, or add --overwrite to replace them"
"""How a folder holding another result of simkit's is refused (formatted with `out` and `differences`)."""
TEMPORARY = re.compile(r"^\..+\.tmp$")


def _one_line(err: OSError) -> str:
    return err.strerror or type(err).__name__


def check_out(out: str | Path | None, option: str = "--out") -> Path:
    """A result folder given by a user, checked before anything runs.

    Raises:
        InputError: an empty name, an existing file, or a place where no folder can be made.
    """
    if out is None or str(out).strip() == "":
        raise InputError(f"{option} is empty; give a folder to write the results to")
    path = Path(out)
    try:
        if path.exists() and not path.is_dir():
            raise InputError(f"{option} {path} is a file, not a folder; choose a folder")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # e.g. a name too long for the file system, or a read-only place
        raise InputError(f"{option} {path}: cannot create this folder ({_one_line(err)})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: cannot write in this folder (permission denied)")
    return path


def inside(base: str | Path, name: str, what: str = "name") -> Path:
    """`base / name`, refused if `name` is empty, absolute or climbs out of `base` (`..`).

    Raises:
        InputError: the name would leave its base folder.
    """
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or ".." in parts or name.strip() in ("", "."):
        raise InputError(
            f"{what} {name!r} must be a plain relative name inside {base}/ (no '..', not absolute)"
        )
    return Path(base) / name


# ---------------------------------------------------------------- locking
_held: dict[str, tuple[int, int]] = {}  # folder (resolved) -> (lock fd, depth) held by this process
_held_lock = threading.Lock()


@contextlib.contextmanager
def hold(out: str | Path) -> Iterator[None]:
    """Hold the folder's write lock for the block (re-entrant within this process).

    Raises:
        InputError: another process holds it, or the lock file cannot be made.
    """
    out = Path(out)
    key = str(out.resolve())
    with _held_lock:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            _held[key] = (_acquire(out), 1)
    try:
        yield
    finally:
        with _held_lock:
            fd, depth = _held[key]
            if depth == 1:
                del _held[key]
                _release(out, fd)
            else:
                _held[key] = (fd, depth - 1)


def _release(out: Path, fd: int) -> None:
    """Remove the lock file while holding its lock, then close it (closing releases the lock)."""
    with contextlib.suppress(FileNotFoundError):
        if _is_current(out / LOCK, fd):
            (out / LOCK).unlink()
    os.close(fd)


def _is_current(path: Path, fd: int) -> bool:
    """Whether `fd` is the file now at `path` (not one a finished holder removed meanwhile)."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _acquire(out: Path) -> int:
    while True:
        fd = _lock(out)
        if _is_current(out / LOCK, fd):
            _write_pid(fd)
            return fd
        os.close(fd)  # locked a file its holder removed as it finished: lock the folder's new one


def _lock(out: Path) -> int:
    """Open (or make) the lock file and take its lock; the caller checks it is still the folder's."""
    path = out / LOCK
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; simkit never writes through links: remove it")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as err:
        raise InputError(f"{out}: cannot write its lock file ({_one_line(err)})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EACCES):
            raise InputError(
                f"{out} is being written by another simkit process (pid {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        raise InputError(f"{out}: cannot lock it ({_one_line(err)})") from None
    return fd


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


@contextlib.contextmanager
def claim(out: str | Path) -> Iterator[Path]:
    """Check that `out` is usable (`check_out`), empty or simkit's own, then hold its lock for the block.

    The check comes before the lock file is made, so a folder that is refused is left as it was.

    Raises:
        InputError: a bad place, a folder that is not simkit's, or one another process is writing.
    """
    out = check_out(out)
    refuse_foreign(out)
    with hold(out):
        yield out


def refuse_foreign(out: Path) -> None:
    """Refuse a folder that is neither empty nor simkit's own.

    Raises:
        InputError: one line naming the folder.
    """
    if read_manifest(out) is None and _user_entries(out):
        raise InputError(
            f"{out} is not empty and holds no simkit results; choose another --out "
            "(simkit writes only into an empty folder or one of its own)"
        )


# ---------------------------------------------------------------- writing
def write_bytes(path: Path, data: bytes) -> None:
    """Write atomically: a fresh temporary file beside `path` (never through a link), then rename over it."""
    tmp = path.parent / f".{path.name}.tmp"
    _unlink_temporary(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(tmp, path)


def write_figure(path: Path, fig: Any, dpi: int = 110) -> Path:
    """Write a matplotlib figure as PNG atomically (`write_bytes`), then close it; returns `path`."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def write_new_bytes(path: Path, data: bytes) -> None:
    """Write atomically, as `write_bytes`, but never replace anything: a file already at `path` stays.

    Raises:
        InputError: something already exists at `path`.
    """
    tmp = path.parent / f".{path.name}.tmp"
    _unlink_temporary(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.link(tmp, path, follow_symlinks=False)  # fails, whole, if the name is taken meanwhile
    except FileExistsError:
        raise InputError(f"{path} already exists; simkit does not overwrite it") from None
    finally:
        _unlink_temporary(tmp)


def write_table(path: Path, table: pa.Table) -> None:
    """Write an Arrow table as Parquet, atomically and never through a link."""
    tmp = path.parent / f".{path.name}.tmp"
    _unlink_temporary(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as file:
        pq.write_table(table, file)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    """Write JSON (indented, one trailing newline) atomically."""
    write_bytes(path, (json.dumps(data, indent=2, default=str) + "\n").encode())


@contextlib.contextmanager
def parquet_writer(path: Path, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A streaming Parquet writer into a temporary file, moved onto `path` only if the block succeeds."""
    tmp = path.parent / f".{path.name}.tmp"
    _unlink_temporary(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as file:
        writer = pq.ParquetWriter(file, schema)
        try:
            yield writer
        finally:
            writer.close()
    os.replace(tmp, path)


def _unlink_temporary(tmp: Path) -> None:
    """Remove a leftover temporary file of ours (or a link planted at its name: the link, not its target)."""
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


# ---------------------------------------------------------------- folders
class ResultFolder:
    """A result folder opened for writing: locked, its identity checked, its files recorded.

    Use as a context manager; `opened` is what the folder held before (None when new).

    Args:
        out: The folder (created if missing).
        manifest: The manifest of what is about to be written; must hold `kind`.
        identity: Manifest keys that must match for the folder's results to be resumed or reused.
        overwrite: Replace a different result of simkit's (only its listed files and parts go).
        others: How to refuse a different result of simkit's when not `overwrite`: a text formatted
            with `out` and `differences`, or a function of (out, previous manifest, new manifest).
    """

    def __init__(
        self,
        out: str | Path,
        manifest: dict,
        identity: Sequence[str],
        overwrite: bool = False,
        others: str | Callable[[Path, dict, dict], str] = OTHERS,
    ):
        self.out = check_out(out)
        self.manifest = {"written_by": WRITTEN_BY, **manifest}
        self.identity = tuple(identity)
        self.overwrite = overwrite
        self.others = others
        self.previous: dict | None = None
        self._stack = contextlib.ExitStack()

    @property
    def parts(self) -> Path:
        """The folder of part files."""
        return self.out / PARTS

    def __enter__(self) -> ResultFolder:
        self._stack.enter_context(claim(self.out))
        try:
            self._open()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _open(self) -> None:
        refuse_links(self.out)
        previous = read_manifest(self.out)
        if previous is not None and not self.same(previous):
            if not self.overwrite:
                if callable(self.others):
                    raise InputError(self.others(self.out, previous, self.manifest))
                changed = differences(previous, self.manifest, self.identity)
                raise InputError(self.others.format(out=self.out, differences=changed))
            remove_written(self.out, previous)
            previous = None
        self.previous = previous
        self.manifest["files"] = sorted(set((previous or {}).get("files", [])) | {MANIFEST})

    def same(self, previous: dict) -> bool:
        """Whether a folder's manifest holds the results this one is about to write (kind and identity)."""
        keys = ("kind", *self.identity)
        return all(previous.get(key) == self.manifest.get(key) for key in keys)

    def start(self) -> None:
        """Write the manifest first (so the folder is recognised as this result) and make `parts/`."""
        self.manifest.pop("finished", None)
        if self.parts.exists() and not self.parts.is_dir():
            raise InputError(f"{self.parts} is a file; simkit keeps its part files in a folder of that name")
        self.save()
        self.parts.mkdir(exist_ok=True)
        for stale in self.parts.iterdir():
            if TEMPORARY.match(stale.name):
                stale.unlink()

    def save(self) -> None:
        """Write the manifest as it is now."""
        write_json(self.out / MANIFEST, self.manifest)

    def finish(self) -> None:
        """Stamp the manifest `finished` (UTC, to the second) and write it: the folder's results are whole."""
        self.manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.save()

    def drop_files(self) -> None:
        """Remove the top-level files listed in the manifest (all but the manifest itself) and unlist them.

        For a result whose top-level files are computed whole on every run (a score): what an earlier
        run wrote is removed before this one writes its own, so nothing stale stays listed.
        """
        _remove_listed(self.out, [name for name in self.manifest["files"] if name != MANIFEST])
        self.manifest["files"] = [MANIFEST]

    def path(self, name: str) -> Path:
        """Where to write top-level file `name`; it is recorded as simkit's (listed in the manifest)."""
        path = inside(self.out, name, "file name")
        if name not in self.manifest["files"]:
            self.manifest["files"] = sorted({*self.manifest["files"], name})
        return path

    def write_table(self, name: str, table: pa.Table) -> Path:
        """Write a top-level Parquet file atomically and record it."""
        path = self.path(name)
        write_table(path, table)
        return path

    def write_json(self, name: str, data: Any) -> Path:
        """Write a top-level JSON file atomically and record it."""
        path = self.path(name)
        write_json(path, data)
        return path

    def part(self, kind: str, start: int, stop: int, width: int = 8) -> Path:
        """The part file of `kind` for runs start..stop-1."""
        return self.parts / f"{kind}-{start:0{width}d}-{stop:0{width}d}.parquet"

    def drop_parts(self) -> None:
        """Remove simkit's part files (and `parts/` if nothing else is left in it)."""
        drop_parts(self.out)


def read_manifest(out: Path) -> dict | None:
    """The manifest of a simkit result folder; None when there is none.

    Raises:
        InputError: a `manifest.json` that simkit did not write (or a link in its place).
    """
    path = out / MANIFEST
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; simkit never writes through links: remove it")
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or not _is_simkits(manifest):
        raise InputError(f"{out} holds a manifest.json that simkit did not write; choose another --out")
    return manifest


def _is_simkits(manifest: dict) -> bool:
    """Simkit's manifests say so; older ones are recognised by their recorded simkit version and command."""
    if manifest.get("written_by") == WRITTEN_BY:
        return True
    packages = manifest.get("packages")
    return isinstance(packages, dict) and "simkit" in packages and "command" in manifest


def _user_entries(out: Path) -> list[str]:
    if not out.exists():
        return []
    return [entry.name for entry in out.iterdir() if entry.name != LOCK]


def refuse_links(out: Path) -> None:
    """Refuse a folder holding a symbolic link at its top or in parts/ (simkit never writes through one).

    Raises:
        InputError: naming the first link found.
    """
    places = [out, out / PARTS] if (out / PARTS).is_dir() and not (out / PARTS).is_symlink() else [out]
    for place in places:
        for entry in sorted(place.iterdir()):
            if entry.is_symlink():
                raise InputError(
                    f"{entry} is a symbolic link; simkit never writes through links: "
                    "remove it or choose another --out"
                )


def remove_written(out: Path, manifest: dict) -> None:
    """Remove what a manifest says simkit wrote: its listed files and its part files; nothing else."""
    drop_parts(out)
    _remove_listed(out, manifest.get("files", []))


def _remove_listed(out: Path, names: Iterable[str]) -> None:
    """Remove the files `names` at the top of `out` (a link: the link); a name leaving `out` is skipped."""
    for name in names:
        try:
            path = inside(out, name, "file name")
        except InputError:
            continue  # a manifest naming a file outside its folder: not ours to remove
        if path.parent == out and (path.is_file() or path.is_symlink()):
            path.unlink()


def drop_parts(out: Path) -> None:
    """Remove simkit's part and temporary files from `out/parts`; the folder only if then empty."""
    parts = out / PARTS
    if parts.is_symlink() or not parts.is_dir():
        return
    for entry in parts.iterdir():
        if PART_FILE.match(entry.name) or TEMPORARY.match(entry.name):
            entry.unlink()
    with contextlib.suppress(OSError):
        parts.rmdir()  # only when empty: a file of the user's keeps it


def differences(old: dict, new: dict, keys: Iterable[str]) -> str:
    """`differs in key: old there, new here, ...` for the keys that differ."""
    changed = [key for key in ("kind", *keys) if old.get(key) != new.get(key)]
    return "differs in " + ", ".join(
        f"{key}: {_short(old.get(key))} there, {_short(new.get(key))} here" for key in changed
    )


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def record(out: str | Path, names: Iterable[str]) -> None:
    """Add files a command wrote after its results (figures, comparison tables) to the folder's manifest."""
    out = Path(out)
    with hold(out):
        manifest = read_manifest(out)
        if manifest is None:
            return
        manifest["files"] = sorted({*manifest.get("files", []), *names})
        write_json(out / MANIFEST, manifest)

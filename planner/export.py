"""Writing outputs safely: build in a temporary folder, then move the files into place."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would execute (= + - @ tab CR) with a quote.

    Numbers are left alone: only strings are rewritten.
    """
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(c) for c in columns])  # compare.csv's header holds scenario names
        for row in rows:
            writer.writerow(["" if row.get(c) is None else neutralise(row.get(c)) for c in columns])


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


MANIFEST = ".planner-output.json"  # the files the last run wrote into a folder
TEMP_MARK = ".planner-tmp-"  # a run's temporary folder beside its output: .<name>.planner-tmp-XXXX


def write_outputs(target: Path, writers: dict[str, Callable[[Path], None]]) -> Path:
    """Run each writer on its file in a temporary folder beside ``target``, then move the
    files into ``target``.

    A writer that fails leaves ``target`` untouched. ``target`` may be a folder that holds
    other files: only the files this run writes are replaced, and the files the previous
    run wrote (listed in MANIFEST) that this run does not write are removed; nothing
    else in the folder is touched. A new folder is renamed into place whole.
    """
    from planner.errors import InputError, Problem, display_path

    target = Path(target)
    if target.is_symlink() and not target.exists():
        raise InputError([Problem(display_path(target), "", "is a dangling symbolic link",
                                  hint="give the output a folder name")])
    if target.exists() and not target.is_dir():
        raise InputError([Problem(display_path(target), "", "exists and is not a folder",
                                  hint="give the output a folder name")])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock(target)
    except OSError as exc:
        raise InputError([Problem(display_path(target), "", f"cannot write here: {exc.strerror or exc}")]) from None
    try:
        _remove_stale_temps(target)
        return _write_locked(target, writers)
    finally:
        _unlock(lock)


def _lock(target: Path):
    """An exclusive lock on ``target``'s output, held by this run until :func:`_unlock`:
    a second run into the same folder is refused, not mixed in. The lock file is removed
    when the run ends; a run that locked a file another run had just removed notices (the
    path no longer names its file) and refuses too."""
    import fcntl

    from planner.errors import InputError, Problem, display_path

    path = target.parent / f".{target.name}.lock"
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(handle.fileno()).st_ino != os.stat(path).st_ino:
            raise BlockingIOError
    except (BlockingIOError, FileNotFoundError):
        handle.close()
        raise InputError([Problem(display_path(target), "", "another planner run is writing this output folder",
                                  hint="wait for it to finish, or give another -o")]) from None
    return handle


def _unlock(handle) -> None:
    """Remove the lock file, then release it (in that order: a run that opens the old file
    in between finds it gone)."""
    with contextlib.suppress(OSError):
        os.unlink(handle.name)
    handle.close()


def _remove_stale_temps(target: Path) -> None:
    """Temporary folders a killed run left beside ``target`` (this run holds the lock, so
    no live run owns them)."""
    import glob

    for stale in target.parent.glob(f".{glob.escape(target.name)}{TEMP_MARK}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _write_locked(target: Path, writers: dict[str, Callable[[Path], None]]) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_MARK}", dir=target.parent))
    try:
        for name, write in writers.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        written = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        (tmp / MANIFEST).write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        for path in tmp.rglob("*"):
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_umask())
        if not target.exists():
            os.replace(tmp, target)
            return target
        _merge(tmp, target, written)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _merge(tmp: Path, target: Path, written: list[str]) -> None:
    """Move the run's files from ``tmp`` into the existing folder ``target``, then remove
    what the previous run wrote and this one did not."""
    from planner.errors import InputError, Problem, display_path

    try:
        if not (target / MANIFEST).is_file():  # a FIFO or a folder by that name is no manifest
            raise OSError("no manifest")
        previous = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        previous = [p for p in previous if isinstance(p, str)] if isinstance(previous, list) else []
    except (OSError, ValueError):
        previous = []
    for name in written:
        dest = target / name
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / name, dest)
        except OSError as exc:
            raise InputError([Problem(display_path(dest), "", f"cannot write: {exc.strerror or exc}")]) from None
    for name in sorted(set(previous) - set(written)):
        stale = (target / name).resolve()
        if target.resolve() in stale.parents and stale.is_file():
            stale.unlink()
            if stale.parent != target.resolve() and not any(stale.parent.iterdir()):
                stale.parent.rmdir()
    os.replace(tmp / MANIFEST, target / MANIFEST)

"""Writing outputs safely: build in a temporary folder, then move the files into place.

An output set is written as one transaction: the temporary folder, the manifest that ties
its files to one run, the check of a folder against it, and the lock that keeps a second
run out share their guarantees (a failed or killed run leaves the old set whole). The
figures' background writer, whose jobs :func:`write_outputs` waits for, is
:mod:`planner.outputs.figure_writer`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from planner.outputs.figure_writer import Job

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import pandas as pd

FORMULA_STARTS = (  # a text cell a spreadsheet would run as a formula begins with one
    "=", "+", "-", "@", "\t", "\r")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would execute (= + - @ tab CR) with a quote.

    Numbers are left alone: only strings are rewritten.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(c) for c in columns])  # compare.csv's header holds scenario names
        for row in rows:
            writer.writerow(["" if row.get(c) is None else neutralise(row.get(c)) for c in columns])


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """A pandas DataFrame as CSV, written from its columns by Arrow (ten times pandas'
    speed: a million rows in half a second): header and text cells neutralised as in
    :func:`write_csv`, numbers in their shortest exact spelling (a whole number without
    ".0"), CRLF line ends, nothing quoted. A text holding a comma, a quote or a line break
    cannot go unquoted: then pandas writes the file, quoting as needed."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    header = [neutralise(str(c)) for c in frame.columns]
    dangerous = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"
    structural = any(re.search(r'[,"\r\n]', h) for h in header)
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = table.column(i)
            if pc.any(pc.match_substring_regex(column, dangerous)).as_py():
                column = pc.replace_substring_regex(column, pattern=f"({dangerous})", replacement="'\\1")
                table = table.set_column(i, field.name, column)
            structural = structural or pc.any(pc.match_substring_regex(column, r'[,"\r\n]')).as_py()
    if structural:
        out = table.to_pandas()
        out.columns = header
        out.to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8")
        return
    with path.open("wb") as handle:
        handle.write((",".join(header) + "\r\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", eol="\r\n")
        pacsv.write_csv(table, handle, options)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``. A place
    that cannot take the file (a folder that is a file or a dangling link, a target that is
    a folder, a read-only folder, a name too long) is an :class:`InputError` naming it."""
    from planner.errors import InputError, Problem, display_path

    target = Path(target)
    try:
        _check_folder(target.parent)
        if target.is_dir():
            raise InputError([Problem(display_path(target), "", "is a folder", hint="move it, or give another -o")])
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise InputError([Problem(display_path(target), "", f"cannot write here: {exc.strerror or exc}")]) from None
    tmp = Path(name)
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError([Problem(display_path(target), "", f"cannot write: {exc.strerror or exc}")]) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def make_folder(folder: Path) -> None:
    """Create an output folder and its parents; one that is a file or a dangling link, or
    that cannot be made (under a file, read-only, a name too long), is an InputError."""
    from planner.errors import InputError, Problem, display_path

    try:
        _check_folder(folder)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError([Problem(display_path(folder), "", f"cannot write here: {exc.strerror or exc}")]) from None


def _check_folder(folder: Path) -> None:
    """An output folder that is a dangling link or not a folder is refused (exit 2)."""
    from planner.errors import InputError, Problem, display_path

    if folder.is_symlink() and not folder.exists():
        raise InputError([Problem(display_path(folder), "", "is a dangling symbolic link",
                                  hint="give the output a folder name")])
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem(display_path(folder), "", "exists and is not a folder",
                                  hint="give the output a folder name")])


@dataclass(frozen=True)
class Last:
    """A writer that reads the set's other files (report.html embeds the figures): it runs
    after every other writer and job has written its file into the temporary folder, so
    ``fn(path)`` finds them beside ``path``."""

    fn: Callable[[Path], None]

    def __call__(self, path: Path) -> None:
        self.fn(path)


MANIFEST = ".planner-output.json"  # the output set of the last run in a folder: run id, state, files
TEMP_MARK = ".planner-tmp-"  # a run's temporary folder beside its output: .<name>.planner-tmp-XXXX
COMPLETE, REPLACING = "complete", "replacing"


def new_run_id() -> str:
    """A run's id: UTC time and a random part, so that ids sort by time and never repeat."""
    import datetime as dt
    import uuid

    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _digest(path: Path) -> dict:
    import hashlib

    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return {"bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def _write_manifest(path: Path, data: dict) -> None:
    """Replace the manifest in one step (write beside it, then rename over it)."""
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def read_manifest(folder: Path) -> dict | None:
    """The manifest of ``folder`` as {run_id, state, files: {name: {bytes, sha256}}}, or None
    when there is none or it cannot be read. The list of names an earlier version wrote
    reads as a complete set without digests."""
    path = Path(folder) / MANIFEST
    try:
        if not path.is_file():  # a FIFO or a folder by that name is no manifest
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, list):
        data = {"run_id": None, "state": COMPLETE, "files": {n: {} for n in data if isinstance(n, str)}}
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    if not all(_written_name(name) for name in data["files"]):  # edited by hand, or not a planner's
        return None
    return data


def _written_name(name: str) -> bool:
    """A name a run could have written: relative, inside its folder, no NUL, every part
    within the file system's 255 bytes."""
    from pathlib import PurePosixPath

    path = PurePosixPath(name)
    return (bool(name) and "\x00" not in name and not path.is_absolute() and ".." not in path.parts
            and all(len(part.encode("utf-8", "surrogatepass")) <= 255 for part in path.parts))


def check_outputs(folder: Path) -> tuple[dict | None, list[str]]:
    """Whether ``folder`` holds one complete output set: (manifest, problems). A run killed
    while it moved its files leaves the manifest in the state "replacing" (some files new,
    some old); a file changed or removed since its run no longer matches its digest."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None, [f"{MANIFEST} is missing or unreadable: this is not a planner output folder, "
                      "or its run did not finish"]
    problems = []
    if manifest.get("state") != COMPLETE:
        problems.append(f"run {manifest.get('run_id')} stopped while it replaced the files: the set is mixed; "
                        "solve again")
    for name, want in sorted(manifest["files"].items()):
        path = Path(folder) / name
        if not path.is_file():
            if manifest.get("state") == COMPLETE:
                problems.append(f"{name}: missing")
            continue
        if want and manifest.get("state") == COMPLETE and _digest(path) != want:
            problems.append(f"{name}: changed since run {manifest.get('run_id')} wrote it")
    return manifest, problems


def write_outputs(target: Path, writers: dict[str, Callable[[Path], None]], run_id: str | None = None,
                  pool: ProcessPoolExecutor | None = None) -> Path:
    """Run each writer on its file in a temporary folder beside ``target``, then move the
    files into ``target``.

    A writer that fails leaves ``target`` untouched. ``target`` may be a folder that holds
    other files: only the files this run writes are replaced, and the files the previous
    run wrote (listed in MANIFEST) that this run does not write are removed; nothing
    else in the folder is touched. A new folder is renamed into place whole.

    The set is marked as a whole: MANIFEST names the run and the digest of each of its
    files, and says "replacing" while files are being moved into an existing folder, then
    "complete". A run killed in between leaves a set that :func:`check_outputs` (and
    ``planner check-output``) reports as mixed, and the next run replaces it.

    With a ``pool`` (:func:`background_writer`), the :class:`Job` writers run there while
    the others run here; the files are moved into place only when all are written.
    """
    from planner.errors import InputError, Problem, display_path

    target = Path(target)
    try:
        _check_folder(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock(target)
    except OSError as exc:
        raise InputError([Problem(display_path(target), "", f"cannot write here: {exc.strerror or exc}")]) from None
    try:
        _remove_stale_temps(target)
        return _write_locked(target, writers, run_id or new_run_id(), pool)
    finally:
        _unlock(lock)


def _lock(target: Path) -> TextIO:
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


def _unlock(handle: TextIO) -> None:
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


def _write_locked(target: Path, writers: dict[str, Callable[[Path], None]], run_id: str,
                  pool: ProcessPoolExecutor | None = None) -> Path:
    from concurrent.futures.process import BrokenProcessPool

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_MARK}", dir=target.parent))
    try:
        pending = []
        for name, write in writers.items():  # the jobs first, so they run beside the rest
            if pool is not None and isinstance(write, Job):
                path = tmp / name
                path.parent.mkdir(parents=True, exist_ok=True)
                pending.append((path, write, pool.submit(write.fn, path=path, **write.kwargs)))
        for name, write in writers.items():
            if (pool is not None and isinstance(write, Job)) or isinstance(write, Last):
                continue
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        for path, write, future in pending:
            try:
                future.result()  # a job's error is the run's error, as in process
            except BrokenProcessPool:  # the background process died (killed, out of memory): write here
                write(path)
        for name, write in writers.items():  # what reads the other files (the report) runs last
            if isinstance(write, Last):
                write.fn(tmp / name)
        written = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        manifest = {"run_id": run_id, "state": COMPLETE, "files": {n: _digest(tmp / n) for n in written}}
        _write_manifest(tmp / MANIFEST, manifest)
        os.chmod(tmp, 0o777 & ~_umask())
        for path in tmp.rglob("*"):
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~_umask())
        if not target.exists():
            os.replace(tmp, target)
            return target
        _merge(tmp, target, manifest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _merge(tmp: Path, target: Path, manifest: dict) -> None:
    """Move the run's files from ``tmp`` into the existing folder ``target``, then remove
    what the previous run wrote and this one did not. The folder's manifest says
    "replacing" (with every name of both sets, so that a later run removes the leftovers
    of either) from before the first file moves until the last has."""
    from planner.errors import InputError, Problem, display_path

    written = list(manifest["files"])
    old = read_manifest(target)
    previous = list(old["files"]) if old else []
    _mark(target, {"run_id": manifest["run_id"], "state": REPLACING,
                   "files": {n: {} for n in sorted(set(previous) | set(written))}})
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
    _mark(target, manifest)


def _mark(target: Path, manifest: dict) -> None:
    """Write ``target``'s manifest; a folder that refuses it is named (exit 2)."""
    from planner.errors import InputError, Problem, display_path

    try:
        _write_manifest(target / MANIFEST, manifest)
    except OSError as exc:
        problem = Problem(display_path(target / MANIFEST), "", f"cannot write: {exc.strerror or exc}")
        raise InputError([problem]) from None

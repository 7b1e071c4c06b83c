"""A sweep's finisher: the end of ``planner sweep`` (results.parquet and the plots, from the
complete results.csv) in a process of its own, forked as the command starts
(:func:`start_early`, from :mod:`planner.app.entry`, before the command line or any of the
planner is imported). It imports numpy, the parquet writer and matplotlib (about a third of a
second of one core) while the sweep's process imports its own libraries and reads its files,
when the machine's second core has nothing else to do, instead of beside the sweep's seed,
which two processes work out (:func:`planner.model.options._work_out_plans`) on both; then it
waits for the results. Without fork or a second core, or should the process die, the files are
written in the sweep's process (:func:`finish`).

This module imports nothing beyond the standard library at its top, and the finisher nothing
of the planner but the plots and the output helpers (writing a file whole, dying with the
run): it is sent the results' path, the base site's name and the axes, not the sweep's
records (pydantic, the model). It reads the results with the csv module into numpy arrays,
not with pandas, whose import alone was a fifth of a second of the example sweep's CPU."""

from __future__ import annotations

import contextlib
import csv
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.process

    import numpy as np


def can_fork() -> bool:
    """Processes can be forked from this one: on Linux. (On macOS Python starts processes by
    spawning, as system libraries can break in a forked child.)"""
    import multiprocessing
    import sys

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


TEXT_COLUMNS = ("scenario", "kind", "status")
WHOLE_COLUMNS = ("variant", "gpus", "miners", "months_to_first_revenue")  # whole numbers when none is missing


def sorted_results(csv_path: Path) -> tuple[list[str], list[list[str]]]:
    """results.csv's header and its rows sorted by variant and scenario (the order in which
    the workers finished them is not the file's meaning)."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, sorted(reader, key=lambda r: (int(r[0]), r[1]))


def results_columns(header: list[str], rows: list[list[str]]) -> dict[str, np.ndarray]:
    """The results as columns of numpy arrays, typed as a reader of the file takes them
    (pandas' read_csv): the scenario, plan kind and status as text; the counts (variant,
    GPUs, miners, months to first revenue) as int64 when none is missing; every other column
    float64, a missing value NaN. A column holding a text that is not a number stays text."""
    import numpy as np

    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        if name in TEXT_COLUMNS:
            columns[name] = np.array(cells, dtype=object)
            continue
        try:
            numbers = np.array([float(c) if c != "" else math.nan for c in cells], dtype=float)
        except ValueError:
            columns[name] = np.array(cells, dtype=object)
            continue
        whole = name in WHOLE_COLUMNS and not np.isnan(numbers).any() and bool((numbers == np.trunc(numbers)).all())
        columns[name] = numbers.astype(np.int64) if whole else numbers
    return columns


def write_parquet(path: Path, header: list[str], rows: list[list[str]], columns: dict[str, np.ndarray]) -> None:
    """The rows as a Parquet file, each column of its type in ``columns`` (text, int64 or
    float64; an empty cell missing), written whole or not at all. The rows go through
    pyarrow's CSV reader: pyarrow's other ways in from Python (its arrays from lists or numpy)
    import pandas, which the finisher does without."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from planner.outputs.export import atomic_file

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    types = {name: pa.string() if values.dtype == object else pa.int64() if values.dtype.kind == "i" else pa.float64()
             for name, values in columns.items()}
    table = pa_csv.read_csv(io.BytesIO(text.getvalue().encode("utf-8")),
                            convert_options=pa_csv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                                  quoted_strings_can_be_null=False))
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)


PLOTS = {"npv": "npv-distribution.png", "tornado": "tornado.png", "crossover": "btc-crossover.png"}  # in plots/


def finish(csv_path: Path, site_name: str, axes: list[str], two_cores: bool = False) -> list[Path]:
    """results.parquet and the plots from the complete results (``axes``: the sweep's axis
    names; ``site_name``: the base site's file name, in the plots' titles); the files written.

    ``two_cores``: draw the plots in as many processes, children forked from this one (the
    finisher's, which runs no thread; never the sweep's own, which holds Dask's), beside the
    parquet file written here; a plot a child could not draw is drawn here, so that its error
    is raised here as without the children."""
    import numpy as np

    from planner.outputs import plots as figs

    header, rows = sorted_results(csv_path)
    columns = results_columns(header, rows)
    folder = csv_path.parent / "plots"
    folder.mkdir(exist_ok=True)
    remove_partial_plots(folder)
    optimal = columns["status"] == "optimal"
    ok = {name: values[optimal] for name, values in columns.items()}
    jobs: list[tuple[Path, Callable[[], None]]] = []
    if optimal.any():
        jobs.append(_job(folder / PLOTS["npv"], figs.npv_distribution, ok, title=f"NPV by plan: {site_name}"))
        varied = [a for a in axes if np.unique(ok[a]).size > 1]
        if varied:
            jobs.append(_job(folder / PLOTS["tornado"], figs.tornado, ok, varied,
                             title=f"What moves the NPV: {site_name}"))
        if "btc_price_usd" in varied and np.unique(ok["kind"]).size > 1:
            jobs.append(_job(folder / PLOTS["crossover"], figs.crossover, ok,
                             title=f"NPV against the BTC price: {site_name}"))
    # each plot 0.1 s: one child each when drawn on two cores, the parquet file here meanwhile
    children = [(draw, _draw_in_child(draw) if two_cores else None) for _, draw in jobs]
    parquet = csv_path.with_suffix(".parquet")
    write_parquet(parquet, header, rows, columns)  # after the forks: the parquet writer may start threads
    for draw, child in children:
        if child is None or not _child_succeeded(child):
            draw()
    return [parquet] + [path for path, _ in jobs]


def remove_partial_plots(folder: Path) -> None:
    """Remove the hidden, half-drawn plots (:func:`_job`) of sweeps killed while they drew
    them (SIGKILL leaves no chance to): a ``.STEM-PID.png`` of a sweep plot whose process is
    gone. Anything else in the folder is left."""
    import re

    from planner.outputs.figure_writer import process_gone

    names = set(PLOTS.values())
    for path in folder.iterdir():
        match = re.fullmatch(r"\.(.+)-(\d+)(\.\w+)", path.name)  # _job's part file of plot NAME: .STEM-PID.SUFFIX
        if match and match.group(1) + match.group(3) in names and int(match.group(2)) != os.getpid() \
                and process_gone(int(match.group(2))) and path.is_file() and not path.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _job(path: Path, figure: Callable[..., None], *data: object, title: str) -> tuple[Path, Callable[[], None]]:
    """A plot and how to draw it: ``figure(*data, file, title)`` into a hidden file beside
    ``path``, put in its place whole (a sweep stopped while its plots are drawn leaves none
    half written)."""
    def draw() -> None:
        part = path.with_name(f".{path.stem}-{os.getpid()}{path.suffix}")  # the suffix names the format
        try:
            figure(*data, part, title)
            os.replace(part, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()

    return path, draw


def _draw_in_child(draw: Callable[[], None]) -> int | None:
    """Fork a child that runs ``draw`` and exits 0 when it succeeded; its pid, or None where
    this process cannot fork (the caller then draws it itself)."""
    if not can_fork():
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: draw, and leave without running this process's exit handlers
        code = 1
        try:
            draw()
            code = 0
        finally:
            os._exit(code)
    return pid


def _child_succeeded(pid: int) -> bool:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.waitstatus_to_exitcode(status) == 0


def _load_libraries() -> None:
    """Import what :func:`finish` reads, draws and writes with (numpy, the parquet writer,
    matplotlib), and draw a small figure (fonts, text and the PNG writer loaded, inherited by
    the children that draw the plots), in the finisher's process while the sweep works. An
    import that fails here fails again, with its message, in :func:`finish`."""
    with contextlib.suppress(Exception):
        import pyarrow.csv
        import pyarrow.parquet  # noqa: F401

        from planner.outputs import export, plots  # noqa: F401
        from planner.outputs.figure_writer import warm_pyplot

        warm_pyplot()


class Finisher:
    """The finisher process and its pipe. A plain process and a pipe, not the figures' writer's
    process pool: the pool keeps a thread in this process, and the sweep's workers are forked
    from it later (a fork copies no thread, but can copy a lock a thread holds). The process
    never outlives the sweep (see :func:`planner.outputs.figure_writer.die_with`)."""

    def __init__(self) -> None:
        import multiprocessing

        self.process: multiprocessing.process.BaseProcess | None = None
        if not can_fork() or (os.cpu_count() or 1) < 2:
            return
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        process = context.Process(target=_finisher_main, args=(child, os.getpid()), daemon=True)
        try:
            process.start()
        except OSError:  # no process to be had: finish here
            return
        child.close()
        self.process = process

    sent: tuple[Path, str, list[str]] | None = None  # what the finisher was asked to finish

    def start(self, csv_path: Path, site_name: str, axes: list[str]) -> None:
        """Ask the finisher for :func:`finish` now (results.csv is complete), without waiting:
        the sweep's process stops its cluster meanwhile. :meth:`finish` waits for the files."""
        if self.process is None or self.sent is not None:
            return
        try:
            self.conn.send((csv_path, site_name, axes))
        except OSError:  # the process died: finish() finishes here
            self.close()
            return
        self.sent = (csv_path, site_name, axes)

    def finish(self, csv_path: Path, site_name: str, axes: list[str]) -> list[Path]:
        """:func:`finish` in the finisher's process (asked now, or by :meth:`start`), or here
        without one."""
        self.start(csv_path, site_name, axes)
        if self.process is None or self.sent != (csv_path, site_name, axes):
            self.close()
            return finish(csv_path, site_name, axes)
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory): finish here
            self.close()
            return finish(csv_path, site_name, axes)
        self.close()
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop the process (its work done, or not wanted: the sweep failed)."""
        if self.process is None:
            return
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process = None


_EARLY: list[Finisher] = []  # a finisher the entry point started, not yet taken


def start_early() -> Finisher:
    """Start the sweep's finisher now, before the command is parsed: :func:`take` hands it to
    the sweep instead of a new one."""
    finisher = Finisher()
    _EARLY.append(finisher)
    return finisher


def take() -> Finisher:
    """The finisher started early (:func:`start_early`), else one started now."""
    return _EARLY.pop() if _EARLY else Finisher()


def stop_unused(finisher: Finisher) -> None:
    """A finisher started early that the command never took (help, bad input): stopped."""
    if finisher in _EARLY:
        _EARLY.remove(finisher)
        finisher.close()


def _finisher_main(conn: Any, parent: int) -> None:
    """The finisher's life: let go of the run's streams and die with it, load the libraries,
    then finish the one sweep it is sent and send back the files (or the error)."""
    from planner.outputs.figure_writer import die_with

    die_with(parent)
    # should its imports run into the seed, which the sweep and a child work out on both
    # cores, they yield to it: they are needed only at the end
    with contextlib.suppress(OSError):
        os.nice(10)
    _load_libraries()
    try:
        csv_path, site_name, axes = conn.recv()
    except (EOFError, OSError):  # the sweep ended without results
        os._exit(0)
    try:
        reply: tuple[str, object] = ("ok", finish(csv_path, site_name, axes, two_cores=True))
    except Exception as exc:  # the sweep's process raises it as its own
        reply = ("error", exc)
    try:
        conn.send(reply)
    except Exception:  # an error that does not pickle: its text
        conn.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    os._exit(0)

"""A sweep's finisher: :func:`planner.app.sweep.finish` (the parquet file and the plots) in a
process of its own, forked as the ``planner sweep`` command starts (:func:`start_early`, from
:mod:`planner.app.entry`, before the command line or any of the planner is imported). It
imports pandas, the parquet writer and matplotlib (about a second of one core) while the
sweep's process imports its own libraries and reads its files on the other, instead of beside
the sweep's seed, which two processes work out (:func:`planner.model.options._work_out_plans`);
then it waits for the results. Without fork or a second core, or should the process die,
:func:`~planner.app.sweep.finish` runs in the sweep's process.

This module imports nothing beyond the standard library at its top, so that the entry point
can fork the finisher before anything heavy is loaded."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.process

    from planner.app.sweep import Sweep


def _load_finish_libraries() -> None:
    """Import what :func:`~planner.app.sweep.finish` draws and writes with (pandas, the parquet
    writer, matplotlib) and the sweep's records it is sent, in the finisher's process: about a
    second the sweep would otherwise spend after its last variant. An import that fails here
    fails again, with its message, in ``finish``."""
    with contextlib.suppress(Exception):
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import planner.app.sweep  # noqa: F401
        from planner.outputs import plots

        plots._pyplot()


class Finisher:
    """The finisher process and its pipe. A plain process and a pipe, not the figures' writer's
    process pool: the pool keeps a thread in this process, and the sweep's workers are forked
    from it later (a fork copies no thread, but can copy a lock a thread holds). The process
    never outlives the sweep (see :func:`planner.outputs.figure_writer.die_with`)."""

    def __init__(self) -> None:
        import multiprocessing

        from planner.outputs.figure_writer import can_fork

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

    def finish(self, csv_path: Path, sweep: Sweep) -> list[Path]:
        from planner.app.sweep import finish

        if self.process is None:
            return finish(csv_path, sweep)
        try:
            self.conn.send((csv_path, sweep))
            status, value = self.conn.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory): finish here
            self.close()
            return finish(csv_path, sweep)
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
    """A finisher started early that the command never took (help, a usage error): stopped."""
    if finisher in _EARLY:
        _EARLY.remove(finisher)
        finisher.close()


def _finisher_main(conn: Any, parent: int) -> None:
    """The finisher's life: let go of the run's streams and die with it, load the libraries,
    then finish the one sweep it is sent and send back the files (or the error)."""
    from planner.outputs.figure_writer import die_with

    die_with(parent)
    _load_finish_libraries()
    try:
        csv_path, sweep = conn.recv()
    except (EOFError, OSError):  # the sweep ended without results
        os._exit(0)
    try:
        from planner.app.sweep import finish

        reply: tuple[str, object] = ("ok", finish(csv_path, sweep, two_cores=True))
    except Exception as exc:  # the sweep's process raises it as its own
        reply = ("error", exc)
    try:
        conn.send(reply)
    except Exception:  # an error that does not pickle: its text
        conn.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    os._exit(0)

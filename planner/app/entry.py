"""The ``planner`` command's entry point (and ``python -m planner``'s).

A ``planner solve`` is one run from start to exit, and two things make it faster here:

- Its figures are drawn in a second process (:mod:`planner.outputs.figure_writer`), which
  spends most of its time importing matplotlib before it can draw. That process is forked
  here, before the command line library or any of the planner is imported, so that its
  imports run beside everything this process does before the solve, not only beside the
  solve.
- Python's cyclic garbage collector is off for the run (both processes), and the objects
  left at the end are frozen so that the interpreter's exit does not walk them. Nearly all
  of a solve's memory is freed by reference counting: on the Xinjiang mine the peak grew
  from 174 to 181 MiB, while the collector's passes over the libraries' import-time
  objects took about a sixth of the plain ERCOT run.

A ``planner sweep`` forks its finisher here in the same way (:mod:`planner.app.finisher`: it
imports numpy, pyarrow and matplotlib for the parquet file and the plots, on the second core
while this process imports its own libraries and reads its files). Its collector is off for
its start-up (the imports, reading its files, the seed); :func:`planner.app.sweep.run_sweep`
freezes what the start-up made and turns the collector on before its long part, before the
workers are forked where it forks them (a sweep of thousands of variants runs for long). What
is left at its end is frozen too: the exit's collection walked the plan cache and the
libraries for about 0.3 s of a 3.5 s example sweep.

Any other command (the TUI runs for long), and ``--help``, changes nothing.
"""

from __future__ import annotations

import sys


def main() -> int:
    import gc

    from planner.outputs import figure_writer

    command = _command(sys.argv[1:])
    solves = command == "solve"
    if command in ("solve", "sweep"):
        gc.disable()  # before the fork: the writer (the finisher) runs without it too
    early = figure_writer.start_early() if solves else None
    finisher = None
    if command == "sweep":
        from planner.app import finisher as finishers

        _one_blas_thread()  # before numpy is imported, here or in the finisher
        finisher = finishers.start_early()
    try:
        from planner.app.cli import main as run

        return run()
    finally:
        if early is not None:
            figure_writer.stop_unused(early)
        if finisher is not None:
            finishers.stop_unused(finisher)
        if command in ("solve", "sweep"):
            gc.freeze()  # the exit's last collection need not walk what the run made
            gc.enable()  # as it was, for a caller that goes on (a test calling main)


def _one_blas_thread() -> None:
    """A sweep runs one process per core (its workers, its finisher, the seed's helper), as
    Dask runs its workers with one BLAS thread each (its nannies' ``pre-spawn-environ``): so
    numpy's BLAS, imported after this, starts no thread pool of its own, whose threads spin
    on the other core for a while after numpy's import (0.05 to 0.1 s of CPU a process, while
    the finisher imports its libraries there). The planner's vectors are short (a few hundred
    options or months): BLAS would run them on one thread anyway. A value the user set wins."""
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _command(args: list[str]) -> str | None:
    """The command the command line runs (the first word that is not an option: ``solve``
    is one that writes figures), or None when it asks for help or completion. An option
    value that looks like a word before the command (none of the top-level options takes
    one) would at worst start a writer the run does not use, which stops with the run."""
    import os

    if any(a in ("--help", "-h") for a in args) or "_PLANNER_COMPLETE" in os.environ:
        return None
    words = [a for a in args if not a.startswith("-")]
    return words[0] if words else None


if __name__ == "__main__":
    sys.exit(main())

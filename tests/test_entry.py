"""The ``planner`` command's entry point (planner/app/entry.py): a solve starts its figures'
writer and a sweep its finisher before anything is parsed, both start up without the cyclic
collector, and leave nothing behind whatever way they end; every other command starts
nothing."""

from __future__ import annotations

import gc
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from planner.app import entry
from planner.outputs import figure_writer

from .conftest import SITES


@pytest.mark.parametrize(("args", "command"), [
    (["solve", "site.toml"], "solve"),
    (["solve", "site.toml", "-q", "-o", "out"], "solve"),
    (["--no-color", "solve", "site.toml"], "solve"),
    (["solve", "--help"], None),
    (["solve", "site.toml", "-h"], None),
    (["--help"], None),
    ([], None),
    (["validate", "site.toml"], "validate"),
    (["compare", "site.toml"], "compare"),
    (["tui", "site.toml"], "tui"),
    (["sweep", "sweep.toml"], "sweep"),
    (["catalog", "solve"], "catalog"),  # a word after the command is not the command
])
def test_only_a_solve_starts_a_writer(args, command):
    assert entry._command(args) == command


def _run(monkeypatch, args: list[str]) -> int:
    monkeypatch.setattr(sys, "argv", ["planner", *args])
    return entry.main()


def _starts(monkeypatch, module) -> list[object]:
    """What ``module.start_early`` starts from now on (the figures' writer, the finisher)."""
    started: list[object] = []
    real = module.start_early

    def spy():
        made = real()
        started.append(made)
        return made

    monkeypatch.setattr(module, "start_early", spy)
    return started


def test_a_solve_through_the_entry_uses_the_early_writer_and_ends_clean(monkeypatch, tmp_path):
    """The writer forked at the entry is the one the solve takes (none is left waiting), the
    output set is whole, and the collector is on again when main returns."""
    started = _starts(monkeypatch, figure_writer)
    monkeypatch.delenv("PLANNER_SERIAL_OUTPUTS", raising=False)
    assert _run(monkeypatch, ["solve", str(SITES / "sichuan-hydro.toml"), "-q", "-o", str(tmp_path / "o")]) == 0
    # forked where a second core and fork are to be had (figure_writer.background_writer)
    assert len(started) == 1 and (started[0] is not None) == ((os.cpu_count() or 1) >= 2 and sys.platform != "win32")
    assert figure_writer._EARLY == []  # taken by the solve, not left over
    assert multiprocessing.active_children() == []
    assert gc.isenabled()
    from planner.outputs.export import check_outputs

    manifest, problems = check_outputs(tmp_path / "o")
    assert problems == [] and manifest is not None
    assert {"plots/capex.png", "plan.xlsx", "summary.json", "bom.csv"} <= set(manifest["files"])


@pytest.mark.parametrize("args", [
    ["solve", "{missing}"],          # fails inside the command, after the writer was taken
    ["solve", "{site}", "--graphml", "sometimes"],  # a bad option value, named by the command
    ["solve"],                       # a usage error: the command never runs, the writer is never taken
])
def test_a_failed_solve_stops_its_writer_at_once(monkeypatch, tmp_path, capsys, args):
    """Whatever way a solve fails, exit code 2, the fault named, no traceback, and no writer
    process left running (it is killed, not waited for while it imports matplotlib)."""
    monkeypatch.delenv("PLANNER_SERIAL_OUTPUTS", raising=False)
    args = [a.format(missing=tmp_path / "none.toml", site=SITES / "sichuan-hydro.toml") for a in args]
    assert _run(monkeypatch, [*args, "-o", str(tmp_path / "o")] if len(args) > 1 else args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()
    assert figure_writer._EARLY == []
    assert multiprocessing.active_children() == []
    assert gc.isenabled()
    assert not (tmp_path / "o").exists()


def test_python_dash_m_planner_solves_as_the_command_does(tmp_path):
    """``python -m planner`` goes through the same entry: a whole solve in a real process,
    every file of the set written, and check-output agrees."""
    out = tmp_path / "o"
    done = subprocess.run([sys.executable, "-m", "planner", "solve", str(SITES / "sichuan-hydro.toml"), "-q",
                           "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    check = subprocess.run([sys.executable, "-m", "planner", "check-output", str(out)], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    assert (out / "plots" / "capex.png").stat().st_size > 0 and (out / "plan.xlsx").stat().st_size > 0


def test_a_sweep_through_the_entry_takes_its_early_finisher_and_ends_clean(monkeypatch, tmp_path, capsys):
    """The finisher forked at the entry is the one the sweep takes (none left waiting): the
    parquet file and the plots are written, no process is left, and the collector (off for
    the sweep's start-up, on from the workers' fork) is on when main returns. A sweep that
    fails on its input stops its finisher at once: exit code 2, no traceback, nothing left."""
    from planner.app import finisher

    from .test_sweep import SITE, SWEEP

    (tmp_path / "site.toml").write_text(SITE)
    (tmp_path / "sweep.toml").write_text(SWEEP.format(mode="grid"))
    started = _starts(monkeypatch, finisher)
    assert _run(monkeypatch, ["sweep", str(tmp_path / "sweep.toml"), "-q", "-o", str(tmp_path / "o")]) == 0
    assert len(started) == 1 and finisher._EARLY == []
    assert sorted(p.name for p in (tmp_path / "o").rglob("*") if p.is_file()) == [
        "btc-crossover.png", "npv-distribution.png", "results.csv", "results.parquet", "tornado.png"]
    assert multiprocessing.active_children() == []
    assert gc.isenabled()

    (tmp_path / "bad.toml").write_text('base = "site.toml"\n[[axes]]\nname = "btc_prise_usd"\nvalues = [1]\n')
    assert _run(monkeypatch, ["sweep", str(tmp_path / "bad.toml"), "-q", "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "btc_prise_usd" in err and "Traceback" not in err
    assert len(started) == 2 and finisher._EARLY == []
    assert multiprocessing.active_children() == []
    assert gc.isenabled()
    assert not (tmp_path / "bad").exists()


def test_a_sweep_runs_one_blas_thread_a_process_unless_told_otherwise(monkeypatch):
    """A sweep's processes run one BLAS thread each, as Dask's nannies give their workers; a
    value the user set is kept. A fresh interpreter through the entry point has numpy's BLAS
    start no thread of its own (one thread in the process)."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    entry._one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "3"
    if not os.path.isdir("/proc/self/task"):
        return
    code = ("import os, sys; sys.argv = ['planner', 'sweep', 'x.toml']; from planner.app import entry; "
            "entry._one_blas_thread(); import numpy; print(len(os.listdir('/proc/self/task')))")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]


def _draw_slowly(path, marker):
    """A figure job that writes half a file, then takes its time (a writer stopped meanwhile)."""
    path.write_bytes(b"\x89PNG half")
    marker.write_text(str(path))
    time.sleep(30)


def _draw_quickly(path):
    path.write_bytes(b"\x89PNG whole")


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="needs fork and a second core")
def test_a_writer_stopped_while_it_draws_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """The figures' writer draws inside a temporary folder its run makes when it sends the
    first figure; a run that stops the writer mid-figure (it failed) removes the folder,
    half-drawn file and all, one that shuts it down after its figures removes it too, and one
    that sends none makes none."""
    monkeypatch.delenv("PLANNER_SERIAL_OUTPUTS", raising=False)
    pool = figure_writer.background_writer()
    assert pool is not None
    marker = tmp_path / "drawing"
    drawn = figure_writer.Drawn.submit(pool, figure_writer.Job(_draw_slowly, {"marker": marker}), "plot.png")
    folder = figure_writer._FOLDERS[id(pool)]
    for _ in range(600):  # the job has started and written its half file
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists() and marker.read_text().startswith(folder)
    figure_writer._stop(pool)
    assert drawn.future.done() and not os.path.exists(folder) and id(pool) not in figure_writer._FOLDERS

    with figure_writer.figure_writer() as pool:
        assert pool is not None and id(pool) not in figure_writer._FOLDERS  # nothing sent: no folder
        figure_writer.Drawn.submit(pool, figure_writer.Job(_draw_quickly, {}), "plot.png")(tmp_path / "plot.png")
        folder = figure_writer._FOLDERS[id(pool)]
        assert os.path.isdir(folder) and os.listdir(folder) == []
    assert not os.path.exists(folder) and (tmp_path / "plot.png").read_bytes() == b"\x89PNG whole"


def test_the_figures_folders_of_killed_runs_are_removed_by_the_next_run(tmp_path, monkeypatch):
    """A run killed with SIGKILL cannot remove its figures' folder: the next run that makes
    one removes the folders named for process ids no process has, and leaves a live run's,
    its own and anything else."""
    import subprocess
    import sys
    import tempfile

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = int(gone.stdout)  # a process that has ended
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        prefix = figure_writer.FOLDER_PREFIX
        orphan = tmp_path / f"{prefix}{dead}-a1b2"
        (orphan / "planner-figure-x").mkdir(parents=True)
        (orphan / "planner-figure-x" / "figure.png").write_bytes(b"\x89PNG half")
        kept = [tmp_path / f"{prefix}{live.pid}-c3d4", tmp_path / f"{prefix}{os.getpid()}-e5f6",
                tmp_path / f"{prefix}notapid", tmp_path / "something-else"]
        for k in kept:
            k.mkdir()
        (tmp_path / f"{prefix}{dead}-file").write_text("a file, not a folder")
        figure_writer.remove_orphans(str(tmp_path))
        assert not orphan.exists() and all(k.is_dir() for k in kept)
        assert (tmp_path / f"{prefix}{dead}-file").exists()

        # a run's writer does it when it makes its own folder (and removes that when it ends)
        orphan.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        monkeypatch.delenv("PLANNER_SERIAL_OUTPUTS", raising=False)
        with figure_writer.figure_writer() as pool:
            if pool is None:
                pytest.skip("no background writer here (one core, or no fork)")
            figure_writer.Drawn.submit(pool, figure_writer.Job(_draw_quickly, {}), "plot.png")(tmp_path / "p.png")
            own = figure_writer._FOLDERS[id(pool)]
            assert os.path.dirname(own) == str(tmp_path) and os.path.basename(own).startswith(
                f"{prefix}{os.getpid()}-")
            assert not orphan.exists()
        assert not os.path.exists(own)
    finally:
        live.kill()
        live.wait()

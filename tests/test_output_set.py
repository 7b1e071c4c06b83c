"""An output folder holds one run's set as a whole (issue 16 point 6): the manifest names the
run and each file's digest, says "replacing" while files move into an existing folder, and a
run killed in between is seen as a mixed set, then replaced by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import tomllib

import pytest

from planner.app.cli import main
from planner.outputs.export import MANIFEST, check_outputs, write_outputs

from .conftest import ROOT, SITES


def _writers(tag: str, names=("summary.json", "bom.csv", "plots/a.png")):
    return {n: (lambda p, n=n: p.write_text(f"{tag} {n}\n")) for n in names}


def test_a_complete_set_names_its_run_and_the_digest_of_each_file(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, _writers("one"), run_id="run-1")
    manifest, problems = check_outputs(out)
    assert problems == [] and manifest["run_id"] == "run-1" and manifest["state"] == "complete"
    assert sorted(manifest["files"]) == ["bom.csv", "plots/a.png", "summary.json"]
    import hashlib

    text = b"one bom.csv\n"
    assert manifest["files"]["bom.csv"] == {"bytes": len(text), "sha256": hashlib.sha256(text).hexdigest()}
    # a file edited or removed afterwards is named
    (out / "bom.csv").write_text("edited\n")
    (out / "plots" / "a.png").unlink()
    _, problems = check_outputs(out)
    assert any(p.startswith("bom.csv: changed since run run-1") for p in problems)
    assert "plots/a.png: missing" in problems


KILLED_MID_MOVE = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from planner.outputs import export
    moved = []
    real = os.replace
    def slow(src, dst):
        real(src, dst)
        if "planner-tmp" in str(src) and "planner-tmp" not in str(dst):  # a file moving into the folder
            moved.append(dst)
            if len(moved) == 1:
                print("moved", flush=True)
                time.sleep(60)  # killed here: one new file in place, the others old
    export.os.replace = slow
    writers = {n: (lambda p, n=n: p.write_text("two " + n + "\\n"))
               for n in ("summary.json", "bom.csv", "dispatch.csv")}
    export.write_outputs(Path(sys.argv[1]), writers, run_id="run-2")
""")


def test_a_run_killed_while_it_moves_its_files_leaves_a_set_marked_mixed_and_the_next_run_mends_it(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, _writers("one"), run_id="run-1")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_MID_MOVE, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "moved"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    texts = {p.name: p.read_text() for p in out.iterdir() if p.is_file() and p.name != MANIFEST}
    assert any(t.startswith("two") for t in texts.values()) and any(t.startswith("one") for t in texts.values())
    manifest, problems = check_outputs(out)
    assert manifest["state"] == "replacing" and manifest["run_id"] == "run-2"
    assert problems and "mixed" in problems[0]
    # the set the killed run named holds both runs' files, so the next run can clear either
    assert {"summary.json", "bom.csv", "dispatch.csv", "plots/a.png"} <= set(manifest["files"])
    write_outputs(out, _writers("three", ("summary.json", "bom.csv")), run_id="run-3")
    manifest, problems = check_outputs(out)
    assert problems == [] and manifest["run_id"] == "run-3"
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == sorted([MANIFEST, "summary.json", "bom.csv"])  # the killed run's dispatch.csv and old plot gone
    assert not list(tmp_path.glob(".out.planner-tmp-*"))


def test_check_output_through_the_cli(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["solve", str(SITES / "sichuan-hydro.toml"), "-o", str(out), "-q"]) == 0
    run_id = json.loads((out / "summary.json").read_text())["run_id"]
    capsys.readouterr()
    assert main(["check-output", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run_id"] == run_id and doc["problems"] == [] and "bom.csv" in doc["files"]
    with (out / "bom.csv").open("a") as handle:
        handle.write("x\n")
    assert main(["check-output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bom.csv: changed since run " + run_id in err and "Traceback" not in err
    assert main(["check-output", str(tmp_path / "nothing")]) == 2
    assert main(["check-output", str(SITES)]) == 2  # a folder with no manifest
    assert "not a planner output folder" in capsys.readouterr().err


def test_a_manifest_an_earlier_version_wrote_still_reads(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "bom.csv").write_text("old\n")
    (out / "stale.csv").write_text("old\n")
    (out / MANIFEST).write_text(json.dumps(["bom.csv", "stale.csv"]))
    assert check_outputs(out)[1] == []
    write_outputs(out, _writers("new", ("bom.csv",)), run_id="r")
    assert not (out / "stale.csv").exists() and check_outputs(out)[1] == []


PARENT = os.getpid()


def _square(path, side):
    path.write_text(str(side * side))


def _dies_in_the_background(path):
    if os.getpid() != PARENT:
        os._exit(9)  # the background process dies, as one killed or out of memory would
    path.write_text("written in process")


@pytest.mark.parametrize("name", ["sichuan-hydro.toml", "greenfield-campus.toml"])
def test_background_figures_equal_those_drawn_in_process(capsys, tmp_path, monkeypatch, name):
    """planner solve draws its figures in a background process, each scenario's as soon as
    it is solved (a floor plan too): the same bytes as drawn in process
    (PLANNER_SERIAL_OUTPUTS=1)."""
    from planner.app.cli import main
    from planner.outputs.figure_writer import background_writer

    from .conftest import SITES

    pool = background_writer()
    if pool is None:
        pytest.skip("no background process on this machine (one core, or no fork)")
    pool.shutdown()
    site = str(SITES / name)
    assert main(["solve", site, "-q", "-o", str(tmp_path / "bg")]) == 0
    monkeypatch.setenv("PLANNER_SERIAL_OUTPUTS", "1")
    assert background_writer() is None
    assert main(["solve", site, "-q", "-o", str(tmp_path / "fg")]) == 0
    figures = sorted(p.relative_to(tmp_path / "fg") for p in (tmp_path / "fg" / "plots").glob("*.png"))
    assert len(figures) >= 3
    for rel in figures:
        assert (tmp_path / "bg" / rel).read_bytes() == (tmp_path / "fg" / rel).read_bytes(), rel


@pytest.mark.parametrize("how", ["job", "sent ahead"])
@pytest.mark.parametrize("case", ["ok", "died", "raises"])
def test_background_jobs_are_written_replaced_or_fail_the_run(tmp_path, case, how):
    """A job runs in the background process; a job whose process dies is written in process
    instead; a job that raises fails the run and leaves no folder. The same for a figure
    sent to the writer ahead of the output (Drawn: a scenario's figures, sent as soon as it
    is solved), which comes back as bytes into its file."""
    from planner.outputs.export import write_outputs
    from planner.outputs.figure_writer import Drawn, Job, _shut, background_writer

    pool = background_writer()
    if pool is None:
        pytest.skip("no background process on this machine (one core, or no fork)")
    jobs = {"ok": Job(_square, {"side": 3}), "died": Job(_dies_in_the_background, {}),
            "raises": Job(_square, {"side": "x"})}
    try:
        job = jobs[case] if how == "job" else Drawn.submit(pool, jobs[case], "a.txt")
        writers = {"b.txt": lambda p: p.write_text("b"), "a.txt": job}
        if case == "raises":
            with pytest.raises(TypeError):
                write_outputs(tmp_path / case, writers, pool=pool)
            assert not (tmp_path / case).exists()
            return
        write_outputs(tmp_path / case, writers, pool=pool)
    finally:
        _shut(pool)  # as a run does: its figures' temporary folder goes with it
    assert (tmp_path / case / "a.txt").read_text() == ("9" if case == "ok" else "written in process")
    assert (tmp_path / case / "b.txt").read_text() == "b"


def test_a_scenarios_figures_are_sent_before_the_next_scenario_is_sized(tmp_path, monkeypatch):
    """With a writer process, each scenario's figures (here power, and price against dispatch)
    go to it when the scenario is solved, before the next scenario's options are sized (so they are drawn
    while it is); the capex figure, which needs every scenario, goes with the output."""
    import planner.model.inputs as inputs
    from planner.outputs import figure_writer

    from .conftest import SITES

    events: list[str] = []
    real_submit, real_prepare = figure_writer.Drawn.submit.__func__, inputs.prepare

    def submit(cls, pool, job, name):
        events.append(f"sent {name}")
        return real_submit(cls, pool, job, name)

    def prepare(loaded, catalog, scenario, *args, **kwargs):
        events.append(f"sizing {scenario}")
        return real_prepare(loaded, catalog, scenario, *args, **kwargs)

    if figure_writer.background_writer() is None:
        pytest.skip("no background process on this machine (one core, or no fork)")
    monkeypatch.setattr(figure_writer.Drawn, "submit", classmethod(submit))
    monkeypatch.setattr(inputs, "prepare", prepare)
    assert main(["solve", str(SITES / "sichuan-hydro.toml"), "-q", "-o", str(tmp_path / "o")]) == 0
    first, second = list(tomllib.loads((SITES / "sichuan-hydro.toml").read_text())["scenarios"])
    for figure in ("power", "price-dispatch"):
        assert events.index(f"sent plots/{figure}-{first}.png") < events.index(f"sizing {second}")
        assert f"sent plots/{figure}-{second}.png" in events
        assert (tmp_path / "o" / "plots" / f"{figure}-{first}.png").is_file()
    assert not any("capex" in e for e in events)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), None when gone."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and (_stat(int(e)) or [None, None])[1] == str(pid)]


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the writer process")
def test_a_run_killed_takes_its_background_writer_with_it(tmp_path):
    """SIGKILL a solve while its figure writer lives: the writer ends too, and the killed
    run's standard error closes (a caller reading it is not left waiting by the writer)."""
    import time

    from planner.outputs.figure_writer import background_writer

    pool = background_writer()
    if pool is None:
        pytest.skip("no background process on this machine (one core, or no fork)")
    pool.shutdown()
    proc = subprocess.Popen([sys.executable, "-m", "planner.app.cli", "solve", str(SITES / "xinjiang-mine.toml"), "-q",
                             "-o", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    writers: list[int] = []
    deadline = time.monotonic() + 60
    while not writers and time.monotonic() < deadline and proc.poll() is None:
        writers = _children(proc.pid)
        time.sleep(0.05)
    assert writers, "the run started no background writer"
    time.sleep(0.3)  # the writer is importing its libraries
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=20)  # would wait for ever while the writer held stderr open
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in writers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in writers)

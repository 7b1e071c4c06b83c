"""Sweeps: variants, resume, serial against Dask, real scheduler and worker processes."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from planner.app.sweep import finish, load_sweep, run_sweep
from planner.model.cache import PlanCache
from planner.outputs.plots import crossover_btc_price

from .conftest import ROOT
from .sitebuilder import S19_XP, flat, site

SITE = site(
    "sweep site", capacity_mw=1.0, price=flat(40), cooling={"mining_pue": 1.0, "ai_pue": 1.25},
    miners=[{"model": S19_XP, "count": 400}],
    ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 64,
        "lease_usd_per_gpu_hour": 3.0},
    economics={"discount_rate": 0.1, "horizon_years": 3, "btc_price_usd": 90000, "network_hashrate_ehs": 1000},
    scenarios={"retrofit": {"kind": "retrofit", "build_months": 6}, "hybrid": {"kind": "hybrid", "build_months": 6}},
    costs={"dgx-h100": 250000})

SWEEP = """
base = "site.toml"
mode = "{mode}"
samples = 6
seed = 7
[[axes]]
name = "btc_price_usd"
values = [40000, 90000, 140000]
[[axes]]
name = "lease_usd_per_gpu_hour"
values = [1.0, 4.0]
"""


def _sweep(tmp_path, mode="grid"):
    (tmp_path / "site.toml").write_text(SITE)
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(mode=mode))
    return load_sweep(path)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda r: (int(r["variant"]), r["scenario"]))


def test_variants_grid_list_random(tmp_path):
    grid = _sweep(tmp_path).variants()
    assert len(grid) == 6 and grid[0] == {"variant": 0, "btc_price_usd": 40000.0, "lease_usd_per_gpu_hour": 1.0}
    (tmp_path / "sweep.toml").write_text(SWEEP.format(mode="random"))
    a, b = load_sweep(tmp_path / "sweep.toml").variants(), load_sweep(tmp_path / "sweep.toml").variants()
    assert a == b and len(a) == 6  # seeded: the same draws every time


def test_bad_axis_is_named(tmp_path):
    from planner.errors import InputError

    (tmp_path / "sweep.toml").write_text('base = "site.toml"\n[[axes]]\nname = "btc_prise_usd"\nvalues = [1]\n')
    with pytest.raises(InputError) as info:
        load_sweep(tmp_path / "sweep.toml")
    assert "did you mean 'btc_price_usd'" in str(info.value) and "sweep.toml:3" in str(info.value)


def test_resume_solves_only_what_is_missing(tmp_path):
    sweep = _sweep(tmp_path)
    out = tmp_path / "out"
    full = run_sweep(sweep, out, serial=True)
    reference = _rows(full)
    lines = full.read_text().splitlines()
    full.write_text("\n".join(lines[:5]) + "\n")  # an interrupted run: two variants done
    seen = []
    run_sweep(sweep, out, serial=True, progress=lambda done, total: seen.append(done))
    assert seen[0] == 2  # it starts from the two already done
    assert _rows(full) == reference
    assert len({(r["variant"], r["scenario"]) for r in _rows(full)}) == len(reference)


def test_a_run_killed_mid_write_is_repaired(tmp_path):
    """A partial last line and a variant with only one of its two rows are dropped and
    solved again; the final file equals the uninterrupted run."""
    sweep = _sweep(tmp_path)
    out = tmp_path / "out"
    full = run_sweep(sweep, out, serial=True)
    reference = _rows(full)
    text = full.read_text().splitlines()
    full.write_text("\n".join(text[:4]) + "\n" + text[4][: len(text[4]) // 2])  # variant 1 half written
    run_sweep(sweep, out, serial=True)
    assert _rows(full) == reference


@pytest.mark.parametrize("fork", [True, False])
def test_dask_local_cluster_equals_serial_and_finishes(tmp_path, monkeypatch, fork):
    """A local cluster's rows equal the serial run's, its workers forked from the sweep's
    process once the seed is made (Linux) or spawned while it is made (elsewhere)."""
    from planner.app import sweep as sweep_module

    made: list[bool] = []
    real = sweep_module._local_cluster

    def cluster(workers, fork):
        made.append(fork)
        return real(workers, fork)

    monkeypatch.setattr(sweep_module, "_can_fork", lambda: fork)
    monkeypatch.setattr(sweep_module, "_local_cluster", cluster)
    sweep = _sweep(tmp_path)
    seen: list[int] = []  # the rows results.csv holds when the sweep says it is complete

    def complete(path: Path) -> None:
        seen.append(len(_rows(path)))

    import gc

    try:  # the entry point keeps the collector off through a sweep's start-up: each way turns it on
        gc.disable()
        serial = _rows(run_sweep(sweep, tmp_path / "serial", serial=True, complete=complete))
        assert gc.isenabled()
        gc.disable()
        parallel_path = run_sweep(sweep, tmp_path / "dask", workers=2, complete=complete)
        assert gc.isenabled()
    finally:
        gc.enable()
    assert _rows(parallel_path) == serial
    assert seen == [len(serial), len(serial)]
    written = finish(parallel_path, sweep)
    assert (tmp_path / "dask" / "results.parquet").exists()
    assert any(p.name == "npv-distribution.png" for p in written)
    assert made == [fork]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "dask"
    return subprocess.Popen([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from dask.distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.fixture
def scheduler():
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    yield address, procs
    for p in procs:
        p.kill()
        p.wait(timeout=30)


def test_real_scheduler_and_workers_and_a_killed_worker(tmp_path, scheduler):
    """A scheduler and two worker processes on 127.0.0.1; one worker is killed once the
    first rows are on disk: the sweep still finishes, every row once, equal to serial."""
    address, procs = scheduler
    (tmp_path / "site.toml").write_text(SITE)
    (tmp_path / "sweep.toml").write_text(SWEEP.format(mode="grid").replace(
        "values = [40000, 90000, 140000]", "values = [40000, 50000, 60000, 70000, 80000, 90000, 100000, 110000, "
        "120000, 130000, 140000, 150000]"))
    for _ in range(2):
        procs.append(_dask("worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                           "--host", "127.0.0.1"))
    _wait_for_workers(address, 2)
    sweep = load_sweep(tmp_path / "sweep.toml")
    serial = _rows(run_sweep(sweep, tmp_path / "serial", serial=True))
    out = tmp_path / "dist"
    done = threading.Event()
    error: list[BaseException] = []

    def go():
        try:
            run_sweep(sweep, out, scheduler=address)
        except BaseException as exc:  # surfaced below
            error.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=go)
    thread.start()
    results = out / "results.csv"
    killed_at = None
    deadline = time.time() + 120
    while time.time() < deadline and not done.is_set():
        if results.exists() and len(results.read_text().splitlines()) > 1:
            killed_at = len(results.read_text().splitlines()) - 1
            procs[1].kill()  # a worker dies mid-sweep
            break
        time.sleep(0.01)
    assert done.wait(timeout=180), "the sweep did not finish"
    assert killed_at is not None and killed_at < len(serial), "the worker was not killed mid-sweep"
    assert not error, error
    rows = _rows(results)
    assert rows == serial
    assert len({(r["variant"], r["scenario"]) for r in rows}) == len(rows)


def test_crossover_by_hand():
    import pandas as pd

    frame = pd.DataFrame({
        "btc_price_usd": [50e3, 50e3, 100e3, 100e3],
        "kind": ["retrofit", "greenfield", "retrofit", "greenfield"],
        "npv_usd": [-10.0, 0.0, 10.0, 0.0],
    })
    # retrofit - greenfield goes from -10 to +10 between 50k and 100k: crosses at 75k
    assert crossover_btc_price(frame) == pytest.approx(75_000)


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_a_row_cut_inside_its_last_value_is_not_taken_as_complete(tmp_path, keep):
    """The cut falls inside the last field ('...,0.' for '0.8'): the row has all its fields
    and its number parses, but it lacks its line terminator. It is dropped and solved again;
    the next row starts on a line of its own; a second rerun finds nothing to do."""
    sweep = _sweep(tmp_path)
    out = tmp_path / "out"
    full = run_sweep(sweep, out, serial=True)
    reference = _rows(full)
    raw = full.read_bytes()
    lines = raw.split(b"\r\n")
    # the file ends inside the second (last) row of variant keep - 1, a few bytes short:
    # counted by rows, that variant would look complete
    cut = b"\r\n".join(lines[: 2 * keep]) + b"\r\n" + lines[2 * keep][:-keep]
    full.write_bytes(cut)
    run_sweep(sweep, out, serial=True)
    assert _rows(full) == reference
    assert full.read_bytes().endswith(b"\r\n")
    seen = []
    run_sweep(sweep, out, serial=True, progress=lambda done, total: seen.append(done))
    assert seen == [len(reference) // 2]  # everything already done


def test_variants_that_change_only_the_value_of_the_ai_reuse_its_options_and_floor_plan(catalog):
    """The lease price, utilisation, interruptibility and average draw price the cluster but
    do not shape its options: a variant changing them reuses the cached options (the same
    objects) and their floor plans, and its summary equals one worked out from scratch."""
    from planner.app.sweep import apply
    from planner.model.build import build_model
    from planner.model.inputs import prepare
    from planner.model.optimize import solve
    from planner.model.options import options_key
    from planner.outputs.summary import scenario_summary
    from planner.site.load import LoadedSite, load_site

    from .conftest import SITES

    loaded = load_site(SITES / "sichuan-hydro.toml")
    variant = {"lease_usd_per_gpu_hour": 3.1}
    other = LoadedSite(site=apply(loaded.site, variant), path=loaded.path, lines=loaded.lines)
    assert other.site.ai.lease_usd_per_gpu_hour == 3.1 != loaded.site.ai.lease_usd_per_gpu_hour
    assert options_key(loaded, "hybrid", catalog) == options_key(other, "hybrid", catalog)
    changed = LoadedSite(site=loaded.site.model_copy(update={"ai": loaded.site.ai.model_copy(update={"planes": 2})}),
                         path=loaded.path, lines=loaded.lines)
    assert options_key(changed, "hybrid", catalog) != options_key(loaded, "hybrid", catalog)

    cache = PlanCache()
    first = solve(build_model(prepare(loaded, catalog, "hybrid", cache=cache)))
    scenario_summary(first, catalog)
    second = solve(build_model(prepare(other, catalog, "hybrid", cache=cache)))
    assert second.inputs.options is first.inputs.options or all(
        a is b for a, b in zip(second.inputs.options, first.inputs.options, strict=True))
    assert second.option_index == first.option_index and second.option.servers
    laid_out = second.option.memo.layout
    cached = scenario_summary(second, catalog)
    assert second.option.memo.layout is laid_out  # the same option's plan, not a new one
    fresh = scenario_summary(solve(build_model(prepare(other, catalog, "hybrid"))), catalog)
    assert cached.layout == fresh.layout
    assert cached.npv_usd == fresh.npv_usd != scenario_summary(first, catalog).npv_usd


def test_workers_start_from_the_base_site_prepared_once(tmp_path):
    """The sweep prepares the base site once and hands each worker a copy: the copy holds
    the scenarios' cluster options for the catalog it carries (so a worker's first variant
    finds them), and a worker's variant solved from it equals one solved from scratch. A
    base that does not prepare gives plain states (the variants report the fault)."""
    from planner.app.sweep import SweepState, seeded_state, solve_variant

    (tmp_path / "site.toml").write_text(SITE)
    base = str((tmp_path / "site.toml").resolve())
    factory = seeded_state(base, ["retrofit", "hybrid"])
    state = factory()
    assert isinstance(state, SweepState) and list(state.sites) == [base]
    assert len(state.plans.options) == 2  # one entry per scenario's options
    state.plans.use_catalog(state.base(base)[0])  # the cache belongs to the catalog that came with it
    assert len(state.plans.options) == 2
    variant = {"variant": 0, "btc_price_usd": 40000.0, "lease_usd_per_gpu_hour": 4.0}
    assert solve_variant(base, variant, None, "highs", state) == solve_variant(base, variant, None, "highs",
                                                                                SweepState())
    (tmp_path / "broken.toml").write_text(SITE.replace("capacity_mw = 1.0", "capacity_mw = -1"))
    assert seeded_state(str(tmp_path / "broken.toml"), ["retrofit"]) is SweepState


def test_the_collector_pause_restores_what_it_found():
    """A seed or a chunk of variants runs with the cyclic collector off; after it (and after
    one that raises) the collector is as it was: on stays on, off stays off."""
    import gc

    from planner.app.sweep import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), _collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_finisher_writes_what_finish_writes_and_falls_back(tmp_path):
    """The finisher (a process forked before the sweep's work, its libraries loaded beside
    it) writes the same parquet file and plots, byte for byte, as finish() in process; a
    finisher whose process died finishes in process; an error in finish() is raised here;
    and the process is gone once the sweep ends, finished or not."""
    import os
    import shutil

    from planner.app.finisher import Finisher, can_fork

    if not can_fork() or (os.cpu_count() or 1) < 2:
        pytest.skip("the finisher needs fork and a second core; finish() runs in process without them")
    sweep = _sweep(tmp_path)
    path = run_sweep(sweep, tmp_path / "a", serial=True)
    (tmp_path / "b").mkdir()
    shutil.copy(path, tmp_path / "b" / "results.csv")
    here = finish(path, sweep)
    finisher = Finisher()
    assert finisher.process is not None and finisher.process.is_alive()  # Linux, two cores
    names = (sweep.base.name, [a.name for a in sweep.spec.axes])
    there = finisher.finish(tmp_path / "b" / "results.csv", *names)
    assert finisher.process is None
    assert [p.relative_to(tmp_path / "b") for p in there] == [p.relative_to(tmp_path / "a") for p in here]
    for a, b in zip(here, there, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name

    dead = Finisher()
    assert dead.process is not None
    dead.process.kill()
    dead.process.join()
    (tmp_path / "c").mkdir()
    shutil.copy(path, tmp_path / "c" / "results.csv")
    assert [p.name for p in dead.finish(tmp_path / "c" / "results.csv", *names)] == [p.name for p in here]

    failing = Finisher()
    with pytest.raises(FileNotFoundError):
        failing.finish(tmp_path / "nowhere" / "results.csv", *names)
    assert failing.process is None

    early = Finisher()  # asked as the last row is written, waited for after the cluster stops
    (tmp_path / "d").mkdir()
    shutil.copy(path, tmp_path / "d" / "results.csv")
    early.start(tmp_path / "d" / "results.csv", *names)
    assert [p.read_bytes() for p in early.finish(tmp_path / "d" / "results.csv", *names)] == [
        p.read_bytes() for p in here]
    assert early.process is None

    unused = Finisher()
    process = unused.process
    unused.close()
    assert process is not None and not process.is_alive()


@pytest.mark.parametrize("name", ["core-scientific-host", "greenfield-campus", "texas-interim-power",
                                  "texas-phased", "texas-power-contract", "metro-campus"])
def test_a_sweep_row_holds_the_summarys_own_figures(name):
    """A sweep's row takes its figures from :func:`headline`, not from the whole summary
    record: on sites with a hosting contract (capex in the host's scope), a greenfield plan,
    an interim supply, phases, power contracts and a campus interconnect, every figure of
    the row equals summary.json's, and a row with no plan has none."""
    from planner.app.pipeline import load, solve_site
    from planner.app.sweep import COLUMNS, solve_variant
    from planner.outputs.summary import scenario_summary

    from .conftest import SITES

    loaded, catalog = load(SITES / f"{name}.toml")  # with the site's own catalog folders
    run = solve_site(loaded, catalog, cache=PlanCache())
    assert run is not None
    rows = {r["scenario"]: r for r in solve_variant(str(SITES / f"{name}.toml"), {"variant": 0}, None)}
    for scenario, result in run.results.items():
        s = scenario_summary(result, catalog)
        expected = {k: getattr(s, k, None) for k in COLUMNS[4:]}
        assert {k: rows[scenario][k] for k in COLUMNS[4:]} == expected, scenario
        assert rows[scenario]["status"] == s.status and rows[scenario]["kind"] == s.kind
    hosted = [r for r in run.results.values() if r.inputs.hosting is not None]
    if name == "core-scientific-host":  # the host's scope differs from the whole capex
        assert hosted and any(scenario_summary(r, catalog).capex_by_scope_usd["tenant"] > 0 for r in hosted)


def test_a_sweep_reads_the_sites_own_catalog_folders(tmp_path):
    """A base site that names its own catalog folders (the metro campus's 400G switch) is
    swept with them, as ``planner solve`` reads it, on Dask and through the command line:
    the row's NPV is the solve's."""
    from planner.app.pipeline import load, solve_site
    from planner.outputs.summary import scenario_summary

    from .conftest import SITES

    path = SITES / "metro-campus.toml"
    (tmp_path / "sweep.toml").write_text(f'base = "{path.as_posix()}"\nmode = "grid"\n'
                                         '[[axes]]\nname = "btc_price_usd"\nvalues = [60000, 90000]\n')
    rows = _rows(run_sweep(load_sweep(tmp_path / "sweep.toml"), tmp_path / "out", workers=1))
    loaded, catalog = load(path)
    run = solve_site(loaded, catalog, cache=PlanCache())
    assert run is not None
    npv = scenario_summary(run.results["campus"], catalog).npv_usd
    assert [float(r["npv_usd"]) for r in rows] == [npv, npv]  # no miners: BTC does not move it
    done = subprocess.run([sys.executable, "-m", "planner", "sweep", str(tmp_path / "sweep.toml"), "--serial", "-q",
                           "-o", str(tmp_path / "cli")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [float(r["npv_usd"]) for r in _rows(tmp_path / "cli" / "results.csv")] == [npv, npv]


def test_a_refused_variant_is_reported_as_bad_input_without_dask_noise(tmp_path):
    """A site that loads but whose scenarios cannot be prepared (one server draws more than
    ai.it_load_mw): the Dask sweep exits 2 with the problem named by file, line and key, as
    the serial one does, with no worker traceback or log on stderr and nothing on stdout."""
    bad = SITE.replace('max_gpus = 64\n', 'it_load_mw = 0.001\n')
    assert bad != SITE
    (tmp_path / "site.toml").write_text(bad)
    (tmp_path / "sweep.toml").write_text(SWEEP.format(mode="grid"))
    for how in (["--workers", "2"], ["--serial"]):
        done = subprocess.run([sys.executable, "-m", "planner", "sweep", str(tmp_path / "sweep.toml"), "-q",
                               "-o", str(tmp_path / how[0].strip("-")), *how],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert done.returncode == 2, (how, done.stderr)
        assert done.stdout == ""
        assert done.stderr.startswith("error: site.toml:") and "ai.it_load_mw: one dgx-h100" in done.stderr
        assert "Traceback" not in done.stderr and "distributed" not in done.stderr, done.stderr


RESULTS = (
    "variant,scenario,kind,status,npv_usd,irr,payback_years,capex_usd,gpus,miners,it_power_mw,"
    "months_to_first_revenue,btc_price_usd,power_price_multiplier\n"
    "1,retrofit,retrofit,optimal,-5.5,,,0.0,0,0,0.0,,50000.0,1.25\n"
    "0,hybrid,hybrid,optimal,120000000.25,0.183,4.5,9.5e7,8192,1200,12.5,6,50000.0,0.8\n"
    "0,retrofit,retrofit,optimal,1.0,,,0.0,0,0,0.0,,50000.0,0.8\n"
    "1,hybrid,hybrid,infeasible,,,,,,,,,50000.0,1.25\n"
)


def test_the_finisher_reads_and_writes_the_results_as_pandas_would(tmp_path):
    """The finisher reads results.csv without pandas: its columns, rows sorted by variant and
    scenario, have pandas' read_csv types and values (a whole-number column with a missing
    value is float, a column with none missing int, an all-missing column float), and the
    parquet file reads back into the frame pandas would have written."""
    import pandas as pd

    from planner.app.finisher import results_columns, sorted_results, write_parquet

    path = tmp_path / "results.csv"
    path.write_text(RESULTS)
    expected = pd.read_csv(path).sort_values(["variant", "scenario"]).reset_index(drop=True)
    header, rows = sorted_results(path)
    columns = results_columns(header, rows)
    assert list(columns) == list(expected.columns)
    for name, values in columns.items():
        want = expected[name].to_numpy()
        if name in ("scenario", "kind", "status"):
            assert list(values) == list(want), name
        else:
            assert values.dtype == want.dtype, name
            np.testing.assert_array_equal(values, want, err_msg=name)
    assert columns["gpus"].dtype.kind == "f" and columns["variant"].dtype.kind == "i"
    write_parquet(tmp_path / "results.parquet", header, rows, columns)
    expected.to_parquet(tmp_path / "pandas.parquet", index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"),
                                  pd.read_parquet(tmp_path / "pandas.parquet"))


def test_the_finisher_never_imports_pandas(tmp_path):
    """The parquet file and the plots are written without pandas (its import was a fifth of a
    second of the example sweep's CPU), in process and on two cores."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.csv").write_text(RESULTS)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.csv").write_text(RESULTS)
    code = ("import sys; from pathlib import Path; from planner.app.finisher import finish\n"
            f"a = finish(Path({str(tmp_path / 'a' / 'results.csv')!r}), 'site.toml', ['power_price_multiplier'])\n"
            f"b = finish(Path({str(tmp_path / 'b' / 'results.csv')!r}), 'site.toml', ['power_price_multiplier'], "
            "two_cores=True)\n"
            "print([p.name for p in a] == [p.name for p in b], len(a), 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "3", "False"]  # the parquet file, the histogram, the tornado


def test_a_plot_is_put_in_place_whole_or_not_at_all(tmp_path):
    """A plot is drawn into a hidden file beside its name and moved there when complete: a
    drawing that fails half way (a sweep stopped while it finishes) leaves neither a
    truncated plot nor the hidden file; one that succeeds leaves the plot alone."""
    from planner.app.finisher import _job

    def half(data, path, title):
        path.write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    def whole(data, path, title):
        path.write_bytes(b"\x89PNG " + title.encode())

    target, draw = _job(tmp_path / "tornado.png", half, {}, title="t")
    with pytest.raises(KeyboardInterrupt):
        draw()
    assert list(tmp_path.iterdir()) == []
    target, draw = _job(tmp_path / "tornado.png", whole, {}, title="whole")
    draw()
    assert [p.name for p in tmp_path.iterdir()] == ["tornado.png"] and target.read_bytes() == b"\x89PNG whole"


def test_the_half_drawn_plots_of_a_killed_sweep_are_removed_when_the_next_one_finishes(tmp_path):
    """A sweep killed with SIGKILL while it draws leaves its hidden part files (.STEM-PID.png)
    in plots/: the next finish into the folder removes those of processes that are gone, and
    leaves a live process's, other files and the plots themselves."""
    import os
    import subprocess
    import sys

    from planner.app.finisher import finish as finish_plots

    sweep = _sweep(tmp_path)
    path = run_sweep(sweep, tmp_path / "out", serial=True)
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        plots = tmp_path / "out" / "plots"
        plots.mkdir()
        stale = [plots / f".tornado-{dead}.png", plots / f".npv-distribution-{dead}.png"]
        kept = [plots / f".tornado-{live.pid}.png", plots / f".notes-{dead}.png", plots / "mine.txt"]
        for f in stale + kept:
            f.write_bytes(b"\x89PNG half")
        written = finish_plots(path, sweep.base.name, [a.name for a in sweep.spec.axes])
        assert not any(f.exists() for f in stale) and all(f.exists() for f in kept)
        assert {p.name for p in written if p.parent == plots} <= {p.name for p in plots.iterdir()}
        assert not [p for p in plots.iterdir() if p.name.startswith(".") and p not in kept]
    finally:
        live.kill()
        live.wait()
    assert os.path.exists(path)


@pytest.mark.parametrize("base, found", [("nope.toml", "no such file"), (".", "is a folder, not a site file")])
def test_a_missing_base_site_is_named_at_the_sweep_files_key(tmp_path, capsys, base, found):
    from planner.app.cli import main

    (tmp_path / "sweep.toml").write_text(f'mode = "grid"\nbase = "{base}"\n[[axes]]\nname = "btc_price_usd"\n'
                                         'values = [1, 2]\n')
    code = main(["sweep", str(tmp_path / "sweep.toml"), "-q", "-o", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert "sweep.toml:2: base: " in err and found in err  # the sweep file's key and line, not the site's
    assert not (tmp_path / "out").exists()


def test_a_variant_is_the_site_validated_whole_with_its_values():
    """apply() validates again only the sections a variant changes, taking the rest of the base
    site as it is: the same Site as the whole site dumped, changed and validated, and the same
    error where a value breaks a limit (random variants of every axis on every example site)."""
    import numpy as np
    from pydantic import ValidationError

    from planner.app.pipeline import load
    from planner.app.sweep import AXES, apply
    from planner.site.schema import Site

    def whole(site, variant):
        data = site.model_dump(by_alias=True)
        for name, value in variant.items():
            section, key = AXES[name]
            if section == "scenarios.*":
                for sc in data["scenarios"].values():
                    sc[key] = round(value) if key.endswith("months") else value
            else:
                data[section][key] = value
        return Site.model_validate(data)

    def outcome(fn, site, variant):
        try:
            return fn(site, variant).model_dump()
        except ValidationError as exc:
            return [(e["loc"], e["msg"]) for e in exc.errors()]

    rng = np.random.default_rng(9)
    errors = 0
    for path in sorted((ROOT / "sites").glob("*.toml")):
        site = load(path)[0].site
        axes = [a for a, (section, _) in AXES.items() if section != "hosting" or site.hosting is not None]
        for _ in range(12):
            variant = {str(a): float(rng.choice([rng.uniform(0, 2e5), rng.uniform(-1, 1), rng.uniform(0, 50)]))
                       for a in rng.choice(axes, size=int(rng.integers(1, 4)), replace=False)}
            want = outcome(whole, site, variant)
            assert outcome(apply, site, variant) == want, (path.name, variant)
            errors += isinstance(want, list)
    assert errors > 5  # some values broke a limit

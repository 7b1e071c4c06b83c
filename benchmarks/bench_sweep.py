"""Sweep throughput by worker count (issue 9): 1,000 scenarios (500 variants x 2 plans)
of a small site, on a local Dask cluster of 1 and of 2 worker processes.
Target: throughput with 2 workers at least 1.7 times that with 1."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path


def _test_site() -> str:
    """The small site the sweep tests use (built by tests/sitebuilder.py)."""
    import sys

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.test_sweep import SITE as site

    return site


SITE = _test_site()
SWEEP = """
base = "site.toml"
mode = "random"
samples = {n}
seed = 11
[[axes]]
name = "btc_price_usd"
distribution = "uniform"
low = 40000
high = 150000
[[axes]]
name = "lease_usd_per_gpu_hour"
distribution = "uniform"
low = 1.0
high = 4.0
[[axes]]
name = "power_price_multiplier"
distribution = "uniform"
low = 0.5
high = 2.0
"""


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "sites" / "sweeps" / "xinjiang-btc.toml"
ISSUE_17_VARIANTS_PER_S = 45 / 120  # issue 17: "a 45-variant sweep takes over 2 minutes"


BASELINE_ENV = "PLANNER_BENCH_BASELINE"  # a checkout of older code with its own .venv (see example_sweep)


def _sweep_run(root: Path, planner: list[str], out: Path) -> float:
    """Seconds of one whole ``planner sweep`` of the example at ``root`` (its own sites);
    ``planner``: the command that runs that checkout's planner."""
    import subprocess

    t0 = time.perf_counter()
    subprocess.run([*planner, "sweep", str(root / "sites" / "sweeps" / "xinjiang-btc.toml"),
                    "--workers", "2", "-q", "-o", str(out)], check=True, capture_output=True, cwd=root)
    return time.perf_counter() - t0


def example_sweep(repeat: int) -> dict:
    """The README's example sweep as a user runs it: a whole ``planner sweep
    sites/sweeps/xinjiang-btc.toml --workers 2`` process (45 variants x 2 plans of the
    Xinjiang site, the Dask cluster's start-up included), in variants per second against
    issue 17's figure (45 variants in over 2 minutes; target at least 10 times that).

    With ``PLANNER_BENCH_BASELINE`` naming a checkout of older code that has its own
    ``.venv`` (e.g. the commit before issue 17's first change, a45cc0d: ``git worktree add
    ../baseline a45cc0d``, then ``python -m venv ../baseline/.venv`` and ``pip install -e``
    it), that checkout's same sweep runs in turn with this one (A B A B ...) and the ratio
    is taken pair by pair: "than today" measured side by side on this machine."""
    import os
    import statistics
    import sys

    base = os.environ.get(BASELINE_ENV)
    base_root = Path(base).resolve() if base else None
    base_planner = [str(base_root / ".venv" / "bin" / "planner")] if base_root else []  # its own entry point
    times, base_times, ratios = [], [], []
    for i in range(repeat):
        out = Path(tempfile.mkdtemp())
        times.append(_sweep_run(ROOT, [sys.executable, "-m", "planner"], out / f"run{i}"))
        if base_root is not None:
            base_times.append(_sweep_run(base_root, base_planner, out / f"base{i}"))
            ratios.append(base_times[-1] / times[-1])
        shutil.rmtree(out, ignore_errors=True)
    median = statistics.median(times)
    found = {"variants": 45, "median_s": median, "min_s": min(times), "max_s": max(times),
             "variants_per_s": 45 / median, "ratio_to_issue": 45 / median / ISSUE_17_VARIANTS_PER_S}
    if base_root is not None:
        import subprocess

        commit = subprocess.run(["git", "-C", str(base_root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or base_root.name
        found |= {"baseline": commit, "baseline_median_s": statistics.median(base_times),
                  "speedup_side_by_side": statistics.median(ratios)}
    return found


def main(argv: list[str] | None = None) -> dict:
    from planner.app.sweep import load_sweep, run_sweep

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=500)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "site.toml").write_text(SITE)
    (tmp / "sweep.toml").write_text(SWEEP.format(n=args.variants))
    sweep = load_sweep(tmp / "sweep.toml")
    from dask.distributed import Client, LocalCluster

    out = {}
    for workers in (1, 2):
        t_start = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            client.run(lambda: __import__("planner.app.sweep"))  # workers import the planner first
            startup = time.perf_counter() - t_start
            t0 = time.perf_counter()
            run_sweep(sweep, tmp / f"w{workers}", client=client)
            seconds = time.perf_counter() - t0
        out[workers] = {"seconds": seconds, "startup_seconds": startup,
                        "scenarios_per_s": 2 * args.variants / seconds}
    out["speedup"] = out[2]["scenarios_per_s"] / out[1]["scenarios_per_s"]
    out["scenarios"] = 2 * args.variants
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

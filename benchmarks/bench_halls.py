"""Hall plans (issue 17 point 3): the cost of ``prepare`` as the halls a scenario may use grow.

A scenario whose halls may each be left out has 2^halls - 1 hall plans (which halls the
AI takes, in fill order); each one used to get its own floor-plan fit for every cluster
size. Cases: the Xinjiang mine's hybrid (4 halls, 15 plans) and retrofit, and a synthetic
hybrid mine of 6 and 8 halls (:func:`synthetic_site`, 63 and 255 plans) with the plan
cap lifted so that every plan is tried (with the default cap of 32 plans per family
those sites fall back to their halls in order, which the "capped" rows show).

Measured per case, in fresh processes, medians: the ``prepare`` wall time, the floor-plan
fits it made (one per hall plan and cluster size whose racks are placed: the size fits;
placements shared between plans count once) and the options it returned. With
``--against REV`` the same cases run on that revision's planner package (extracted with
``git archive``) in the same run, interleaved, and each row gives both and their ratio.

Run: python benchmarks/bench_halls.py [--repeat 5] [--against a64c213]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In a fresh process: load, then time prepare; count the size fits by wrapping the layout
# functions that make one (the names differ between revisions: whichever exist).
CHILD = r"""
import json, sys, time
from planner.model import inputs, options
from planner.network import layout
try:
    from planner.network import plan_fits  # the hall-plan fitter, apart from the layout since issue 18
except ImportError:
    plan_fits = layout
from planner.parts.catalog import load_catalog
from planner.site.load import load_site
site, scenario, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
if cap:
    options.MAX_HALL_PLANS = cap  # the cap lives with the hall plans (model/options.py since issue 18)
counts = {}
NAMES = ("_prefix_fit", "_switch_points", "lay_out", "_lay_out_in", "lay_out_in", "_su_prefix", "_place_su", "place_su")
for module in {layout, plan_fits}:  # a name is counted where it is called from (each module's own binding)
    for name in NAMES:
        if hasattr(module, name):
            def wrap(f, name=name):
                def counted(*a, **k):
                    counts[name.lstrip("_")] = counts.get(name.lstrip("_"), 0) + 1
                    return f(*a, **k)
                return counted
            setattr(module, name, wrap(getattr(module, name)))
catalog = load_catalog()
loaded = load_site(site)
t0 = time.perf_counter()
inp = inputs.prepare(loaded, catalog, scenario)
t1 = time.perf_counter()
full = counts.get("lay_out_in", 0) if hasattr(plan_fits, "lay_out_in") or hasattr(layout, "_lay_out_in") \
    else counts.get("lay_out", 0)
size_fits = counts.get("switch_points", counts.get("prefix_fit", 0)) + full
print(json.dumps({"prepare": t1 - t0, "size_fits": size_fits, "counts": counts, "options": len(inp.options),
                  "groups": len({o.group for o in inp.options}), "warnings": len(inp.warnings)}))
"""


def synthetic_site(halls: int, capacity_mw: float = 70.0) -> str:
    """A hybrid mine of ``halls`` identical air-cooled halls (60 m x 24 m, side by side
    40 m apart), each holding miners whose positions a hybrid plan may keep, so that any
    hall may be left out: 2^halls - 1 hall plans. Hall 1 holds the meet-me room; a duct
    bank along the east walls joins every pair of halls. At 70 MW the largest DGX H100
    cluster fills two halls and part of a third, so plans of up to three halls offer
    options."""
    head = f"""schema = 1
name = "synthetic {halls}-hall mine"
[grid]
capacity_mw = {capacity_mw}
[power_price]
kind = "flat"
usd_per_mwh = 40
[cooling]
mining_pue = 1.05
ai_pue = 1.3
[[fleet.miners]]
model = "antminer-s19j-pro"
count = {halls * 1500}
buildings = {{ {", ".join(f'"h{i}" = 1500' for i in range(1, halls + 1))} }}
[ai]
server = "dgx-h100"
leaf_switch = "qm9700"
step = "su"
lease_usd_per_gpu_hour = 3.0
[economics]
discount_rate = 0.1
horizon_years = 5
btc_price_usd = 90000
network_hashrate_ehs = 1000
[scenarios.hybrid]
kind = "hybrid"
build_months = 12
facility_usd_per_mw = 9.5e6
"""
    parts = [head]
    for i in range(1, halls + 1):
        y = 40 * (i - 1)
        mmr = '\nmeet_me_room = { name = "MMR", polygon = [[50, 0], [60, 0], [60, 8], [50, 8]] }' if i == 1 else ""
        parts.append(f"""
[[buildings]]
name = "h{i}"
polygon = [[0, 0], [60, 0], [60, 24], [0, 24]]
origin = [0, {y}]
max_kw_per_rack = 40
miner_positions = 1500{mmr}
""")
    for i in range(1, halls + 1):
        for j in range(i + 1, halls + 1):
            yi, yj = 40 * (i - 1) + 4, 40 * (j - 1) + 4
            parts.append(f"""
[[routes]]
from = "h{j}"
to = "h{i}"
polyline = [[60, {yj}], [66, {yj}], [66, {yi}], [60, {yi}]]
""")
    return "".join(parts)


def cases(tmp: Path) -> list[tuple[str, Path, str, int]]:
    """(label, site, scenario, plan cap: 0 keeps the default)."""
    out = [("xinjiang hybrid (4 halls)", ROOT / "sites" / "xinjiang-mine.toml", "hybrid", 0),
           ("xinjiang retrofit (4 halls)", ROOT / "sites" / "xinjiang-mine.toml", "retrofit", 0)]
    for n in (6, 8):
        path = tmp / f"synthetic-{n}.toml"
        path.write_text(synthetic_site(n))
        out.append((f"synthetic {n} halls, every plan ({2 ** n - 1})", path, "hybrid", 10**6))
        out.append((f"synthetic {n} halls, capped (default)", path, "hybrid", 0))
    return out


def _run(pythonpath: Path | None, site: Path, scenario: str, cap: int) -> dict:
    env = None
    if pythonpath is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(site), scenario, str(cap)], check=True,
                         capture_output=True, text=True, cwd=pythonpath or ROOT, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def _extract(rev: str, into: Path) -> Path:
    """The planner package and catalogs of revision ``rev``, for a side-by-side run."""
    archive = subprocess.run(["git", "archive", rev, "planner", "catalogs"], check=True, capture_output=True,
                             cwd=ROOT).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", default=None, help="a git revision to measure beside this tree")
    parser.add_argument("--only", default="", help="run the cases whose label contains this text")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = _extract(args.against, Path(tmp) / "against") if args.against else None
        for label, site, scenario, cap in cases(Path(tmp)):
            if args.only not in label:
                continue
            now, before = [], []
            for _ in range(args.repeat):  # interleaved: both see the same machine load
                now.append(_run(None, site, scenario, cap))
                if old is not None:
                    before.append(_run(old, site, scenario, cap))
            row = {"case": label, "prepare_s": statistics.median(r["prepare"] for r in now),
                   "prepare_min_s": min(r["prepare"] for r in now), "prepare_max_s": max(r["prepare"] for r in now),
                   "size_fits": now[0]["size_fits"], "options": now[0]["options"], "groups": now[0]["groups"]}
            if before:
                row.update({"against": args.against,
                            "before_prepare_s": statistics.median(r["prepare"] for r in before),
                            "before_size_fits": before[0]["size_fits"], "before_options": before[0]["options"]})
                row["ratio"] = row["prepare_s"] / row["before_prepare_s"]
                row["same_options"] = row["options"] == row["before_options"]
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()

"""Peer comparisons (issue 10), each measured side by side in one run.

1. Dispatch and sizing against PyPSA (HiGHS): the Texas hybrid site on its 35,040-step
   synthetic series, one year, no discounting, the AI cluster fixed (min = max GPUs) and
   the miners sized (kept count, with a yearly cost per MW) and dispatched. PyPSA: one
   bus; the grid a generator of the connection's size at each step's price; the AI a
   constant load; the miners an extendable generator that only consumes (p in [-p_nom, 0])
   with a negative cost, their revenue per MWh, and a capital cost per MW-year. Ours: the
   planner's own model. Compared: the yearly operating cost (energy less mining revenue
   plus the miners' yearly cost), which both minimise; and the time of model build + solve.
2. Fabric counts against a straightforward networkx construction of the same fat tree:
   every server, leaf, spine and core a node, every link an edge of a MultiGraph, counts
   read off degrees.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _site_text() -> str:
    text = (ROOT / "sites" / "texas-hybrid.toml").read_text()
    text = text.replace('file = "data/texas-synthetic-2025-15min.csv"',
                        f'file = "{(ROOT / "sites" / "data" / "texas-synthetic-2025-15min.csv").as_posix()}"')
    text = text.replace("discount_rate = 0.10", "discount_rate = 0.0").replace("horizon_years = 5", "horizon_years = 1")
    text = text.replace("max_gpus = 8192", "min_gpus = 2048\nmax_gpus = 2048")
    text = text.replace("count = 24000", "count = 12000")  # all fit beside the AI: an integral optimum
    text = text.replace("pool_fee = 0.02", "pool_fee = 0.02\nmining_opex_usd_per_mw_year = 20000.0")
    text = text.replace("build_months = 9", "build_months = 0")
    return text


def ours(path: Path) -> dict:
    from planner.app.pipeline import Progress, solve_scenario
    from planner.parts.catalog import load_catalog

    catalog = load_catalog()
    t0 = time.perf_counter()
    from planner.site.load import load_site

    class Prepared(Progress):  # the pipeline's hook stamps the end of prepare
        def prepared(self, name, inputs):
            self.at = time.perf_counter()

    stamp = Prepared()
    result, _ = solve_scenario(load_site(path), catalog, "hybrid", cache=None, progress=stamp)
    t1, t2 = stamp.at, time.perf_counter()
    inputs = result.inputs
    p, h = inputs.profile.price_usd_per_mwh, inputs.profile.hours
    ai = result.option.it_power_w / 1e6 * result.option.pue
    b = inputs.miners[0]
    run = result.running[b.key]
    kept = result.miners_with_ai[b.key]
    cost = float((h * p * (ai + b.facility_mw * run)).sum() - (h * run).sum() * b.revenue_usd_per_hour) \
        + 12 * b.opex_usd_per_month * kept
    return {"cost": cost, "prepare_s": t1 - t0, "build_solve_s": t2 - t1, "ai_mw": ai, "kept": kept,
            "inputs": inputs}


def pypsa_model(inputs, ai_mw: float) -> dict:
    import pandas as pd
    import pypsa

    t0 = time.perf_counter()
    prof = inputs.profile
    b = inputs.miners[0]
    u = float(b.facility_mw[0])
    n = pypsa.Network()
    n.set_snapshots(pd.RangeIndex(prof.steps))
    n.snapshot_weightings = n.snapshot_weightings.astype(float) * 0 + float(prof.hours[0])
    n.add("Bus", "site")
    n.add("Generator", "grid", bus="site", p_nom=float(prof.capacity_mw[0]),
          marginal_cost=pd.Series(prof.price_usd_per_mwh, index=n.snapshots))
    n.add("Load", "ai", bus="site", p_set=ai_mw)
    n.add("Generator", "miners", bus="site", p_nom_extendable=True, p_nom_max=b.count * u,
          p_min_pu=-1.0, p_max_pu=0.0, marginal_cost=b.revenue_usd_per_hour / u,
          capital_cost=12 * b.opex_usd_per_month / u)
    status = n.optimize(solver_name="highs", io_api="direct", log_to_console=False)
    t1 = time.perf_counter()
    return {"cost": float(n.objective) + 0.0, "build_solve_s": t1 - t0, "status": status,
            "kept_mw": float(n.generators.p_nom_opt["miners"])}


ERCOT = ROOT.parent / "shared" / "data" / "ercot_hb_south_15min_2024-06_2025-03.csv"

PLAIN_SITE = """schema = 1
name = "ERCOT plain dispatch"
[grid]
capacity_mw = 100.0
[power_price]
kind = "series"
file = "{file}"
timestamp_column = "timestamp_central"
price_column = "hb_south_rtm_usd_per_mwh"
step_minutes = 15
[cooling]
mining_pue = 1.0
ai_pue = 1.3
[[fleet.miners]]
model = "antminer-s19-xp"
count = {miners}
[ai]
server = "dgx-h100"
leaf_switch = "qm9700"
it_load_mw = {it_mw}
lease_usd_per_gpu_hour = 2.0
[economics]
discount_rate = 0.0
horizon_years = 1
btc_price_usd = 100000
network_hashrate_ehs = 1000
block_subsidy_btc = 3.125
[scenarios.hybrid]
kind = "hybrid"
"""

PYPSA_WHOLE = r"""
import json, logging, sys
from pathlib import Path
import pandas as pd
import pypsa
for name in ("pypsa", "linopy"):
    logging.getLogger(name).setLevel(logging.WARNING)
series, out = sys.argv[1], Path(sys.argv[2])
ai_mw, unit_mw, units, revenue_per_h, opex_month = map(float, sys.argv[3:])
prices = pd.read_csv(series)["hb_south_rtm_usd_per_mwh"].to_numpy(dtype=float)
n = pypsa.Network()
n.set_snapshots(pd.RangeIndex(prices.size))
n.snapshot_weightings = n.snapshot_weightings.astype(float) * 0 + 0.25 * 8760 / (prices.size * 0.25)
n.add("Bus", "site")
n.add("Generator", "grid", bus="site", p_nom=100.0, marginal_cost=pd.Series(prices, index=n.snapshots))
n.add("Load", "ai", bus="site", p_set=ai_mw)
n.add("Generator", "miners", bus="site", p_nom_extendable=True, p_nom_max=units * unit_mw, p_min_pu=-1.0,
      p_max_pu=0.0, marginal_cost=revenue_per_h / unit_mw, capital_cost=12 * opex_month / unit_mw)
status = n.optimize(solver_name="highs", io_api="direct", log_to_console=False)
out.mkdir(parents=True, exist_ok=True)
n.generators_t.p.to_csv(out / "dispatch.csv")
(out / "summary.json").write_text(json.dumps({"status": status, "objective": float(n.objective),
                                              "miners_mw": float(n.generators.p_nom_opt["miners"])}))
"""


PLAIN_PAIRS = 7  # rounds of ours against PyPSA at least: a whole process of about 1 s moves by a tenth with the machine


def plain_dispatch(repeat: int) -> dict | None:
    """The plain dispatch of the real ERCOT series (100 MW grid, about 60 MW of firm AI
    facility load, 50 MW of miners), whole processes from the command line with their
    outputs: ``planner solve -q`` (fabric, floor plan, BOM, plots, dispatch.csv) against a
    PyPSA script that reads the series, builds, solves and writes its dispatch; and every
    example site's whole ``planner solve`` in the same run. None without the shared data."""
    import subprocess
    import sys
    import tempfile

    if not ERCOT.exists():
        return None
    from planner.model.inputs import prepare
    from planner.parts.catalog import load_catalog
    from planner.site.load import load_site

    tmp = Path(tempfile.mkdtemp())
    catalog = load_catalog()
    unit = float(catalog.watts("antminer-s19-xp") + catalog.watts("sn2201") / 48) / 1e6
    site = tmp / "ercot-plain.toml"
    site.write_text(PLAIN_SITE.format(file=ERCOT.as_posix(), miners=int(50 / unit), it_mw=round(60 / 1.3, 3)))
    inputs = prepare(load_site(site), catalog, "hybrid")
    option = inputs.options[-1]
    ai_mw = option.it_power_w / 1e6 * option.pue
    b = inputs.miners[0]
    pypsa_args = [str(ERCOT), str(tmp / "pypsa-out"), str(ai_mw), str(float(b.facility_mw[0])), str(b.count),
                  str(b.revenue_usd_per_hour), str(b.opex_usd_per_month)]

    def timed(cmd: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - t0

    ours_cmd = [sys.executable, "-m", "planner", "solve", str(site), "-q", "-o", str(tmp / "ours-out")]
    pypsa_cmd = [sys.executable, "-c", PYPSA_WHOLE, *pypsa_args]
    sites = sorted((ROOT / "sites").glob("*.toml"))
    times: dict[str, list[float]] = {"ours": [], "pypsa": [], **{p.name: [] for p in sites}}
    pairs = max(repeat, PLAIN_PAIRS)
    for i in range(pairs):  # interleaved: each round runs every command once (the sites in `repeat` rounds)
        times["ours"].append(timed(ours_cmd))
        times["pypsa"].append(timed(pypsa_cmd))
        for p in sites if i < repeat else ():
            times[p.name].append(timed([sys.executable, "-m", "planner", "solve", str(p), "-q", "-o",
                                        str(tmp / f"out-{p.stem}")]))
    imports = _import_profile(ours_cmd)
    floor = {name: statistics.median(timed([sys.executable, "-c", f"import {module}"]) for _ in range(3))
             for name, module in (("python", "sys"), ("numpy", "numpy"), ("highspy", "highspy"),
                                  ("matplotlib", "matplotlib.pyplot"), ("pydantic", "pydantic"), ("typer", "typer"))}
    ours_doc = json.loads((tmp / "ours-out" / "summary.json").read_text())["scenarios"]["hybrid"]
    theirs = json.loads((tmp / "pypsa-out" / "summary.json").read_text())
    med = {k: statistics.median(v) for k, v in times.items()}
    paired = [a / b for a, b in zip(times["ours"], times["pypsa"], strict=True)]
    return {"steps": inputs.profile.steps, "ai_mw": ai_mw, "ours_s": med["ours"], "pypsa_s": med["pypsa"],
            "pairs": pairs, "ratio_ours_over_pypsa": statistics.median(paired),
            "ratio_of_medians": med["ours"] / med["pypsa"], "paired_min_max": (min(paired), max(paired)),
            "ours_miners_mw": ours_doc["miners"] * float(b.facility_mw[0]), "pypsa_miners_mw": theirs["miners_mw"],
            "sites": {p.name: med[p.name] for p in sites},
            "min_max": {k: (min(v), max(v)) for k, v in times.items()}, "imports": imports,
            "library_floor_s": floor}


def _import_profile(cmd: list[str]) -> dict:
    """Where a whole ``planner solve`` spends its start: Python's own import timer
    (``-X importtime``) on one run drawn in process, the cumulative time of each top-level
    package it imports, and the run's wall time, in seconds."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PLANNER_SERIAL_OUTPUTS": "1"}
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True, cwd=ROOT,
                         env=env, check=True)
    wall = time.perf_counter() - t0
    packages: dict[str, float] = {}
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # a top-level import (one space of indent)
            try:
                packages[name.strip().split(".")[0]] = packages.get(name.strip().split(".")[0], 0.0) \
                    + int(cumulative) / 1e6
            except ValueError:
                continue
    top = dict(sorted(packages.items(), key=lambda kv: -kv[1])[:8])
    return {"wall_s": wall, "imports_s": sum(packages.values()), "top": top}


def fabric_networkx(servers: int, rails: int, k: int) -> dict:
    """A plain 2-tier rail-optimised fat tree: k/2 down and k/2 up per leaf, leaf-spine
    links spread round-robin over the spines (k ports each)."""
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.MultiGraph()
    down = k // 2
    sus = -(-servers // down)
    leaves = [(su, r) for su in range(sus) for r in range(rails)]
    spines = -(-len(leaves) * down // k)
    for s in range(servers):
        for r in range(rails):
            g.add_edge(("srv", s), ("leaf", s // down, r))
    for i, (su, r) in enumerate(leaves):
        for j in range(down):
            g.add_edge(("leaf", su, r), ("spine", (i * down + j) % spines))
    counts = {"leaf": len(leaves), "spine": spines,
              "node_leaf": sum(1 for u, v in g.edges() if "srv" in (u[0], v[0])),
              "leaf_spine": sum(1 for u, v in g.edges() if "spine" in (u[0], v[0]))}
    return {"counts": counts, "seconds": time.perf_counter() - t0}


def fabric_ours(servers: int) -> dict:
    from planner.network.fabric import FabricSpec, count_fabric
    from planner.network.graph import build_graph
    from planner.parts.catalog import load_catalog

    catalog = load_catalog()
    spec = FabricSpec(servers=servers, server="dgx-b200", leaf_switch="qm9700")
    t0 = time.perf_counter()
    f = count_fabric(spec, catalog)
    analytic = time.perf_counter() - t0
    build_graph(spec, catalog, f)
    explicit = time.perf_counter() - t0
    return {"counts": {"leaf": f.switches["leaf"], "spine": f.switches["spine"],
                       "node_leaf": f.links["node_leaf"], "leaf_spine": f.links["leaf_spine"]},
            "analytic_s": analytic, "explicit_s": explicit}


def main(argv: list[str] | None = None) -> dict:
    import logging
    import tempfile

    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.WARNING)

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp()) / "texas-compare.toml"
    tmp.write_text(_site_text())
    rows = []
    for _ in range(args.repeat):
        a = ours(tmp)
        b = pypsa_model(a["inputs"], a["ai_mw"])
        unit_mw = float(a["inputs"].miners[0].facility_mw[0])
        rows.append({"ours_cost": a["cost"], "pypsa_cost": b["cost"], "ours_s": a["build_solve_s"],
                     "pypsa_s": b["build_solve_s"], "kept_mw_ours": a["kept"] * unit_mw,
                     "kept_mw_pypsa": b["kept_mw"]})
    r0 = rows[0]
    dispatch = {
        "steps": 35040,
        "ours_cost_usd": r0["ours_cost"], "pypsa_cost_usd": r0["pypsa_cost"],
        "relative_difference": abs(r0["ours_cost"] - r0["pypsa_cost"]) / abs(r0["pypsa_cost"]),
        "kept_mw_ours": r0["kept_mw_ours"], "kept_mw_pypsa": r0["kept_mw_pypsa"],
        "ours_s": statistics.median(r["ours_s"] for r in rows),
        "pypsa_s": statistics.median(r["pypsa_s"] for r in rows),
    }
    dispatch["time_ratio_pypsa_over_ours"] = dispatch["pypsa_s"] / dispatch["ours_s"]
    fabric = []
    for servers in (128, 256):  # two-tier sizes of a 64-port leaf (k^2/2 = 2,048 endpoints)
        o, x = fabric_ours(servers), fabric_networkx(servers, 8, 64)
        fabric.append({"servers": servers, "ours": o["counts"], "networkx": x["counts"],
                       "equal": o["counts"] == x["counts"], "ours_explicit_s": o["explicit_s"],
                       "ours_analytic_s": o["analytic_s"], "networkx_s": x["seconds"]})
    out = {"dispatch": dispatch, "fabric": fabric, "plain": plain_dispatch(args.repeat)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

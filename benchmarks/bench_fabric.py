"""Fabric build benchmarks: explicit graph with full counts, and analytic counts.

Run: python benchmarks/bench_fabric.py [--repeat 5]
Each case runs in a fresh subprocess so its peak resident memory is its own.
Targets (issue 4): explicit build for 131,072 GPUs in <= 2 s and <= 1 GB; analytic counts
for 1,048,576 GPUs in <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CASES = {
    # name: (gpus, server, leaf switch, mode)
    "explicit-1k": (1_024, "dgx-b200", "qm9700", "explicit"),
    "explicit-16k": (16_384, "dgx-b200", "qm9700", "explicit"),
    "explicit-131k": (131_072, "dgx-b200", "sn5600", "explicit"),
    "explicit-1m": (1_048_576, "dgx-b300", "sn6800", "explicit"),
    "analytic-1k": (1_024, "dgx-b200", "qm9700", "analytic"),
    "analytic-16k": (16_384, "dgx-b200", "qm9700", "analytic"),
    "analytic-131k": (131_072, "dgx-b200", "sn5600", "analytic"),
    "analytic-1m": (1_048_576, "dgx-b300", "sn6800", "analytic"),
}

CHILD = r"""
import json, resource, sys, time
gpus, server, leaf, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
from planner.parts.catalog import load_catalog
from planner.network.fabric import FabricSpec, count_fabric
from planner.network.graph import build_graph, counts_from_graph
catalog = load_catalog()
spec = FabricSpec(servers=-(-int(gpus) // catalog.servers[server].gpus), server=server, leaf_switch=leaf)
t0 = time.perf_counter()
counts = count_fabric(spec, catalog)
extra = {}
if mode == "explicit":
    graph = build_graph(spec, catalog, counts)
    derived = counts_from_graph(graph, counts)
    extra = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
seconds = time.perf_counter() - t0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_mb, "tiers": counts.tiers,
                  "switches": counts.switches, **extra}))
"""


def run_case(name: str, repeat: int) -> dict:
    gpus, server, leaf, mode = CASES[name]
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(gpus), server, leaf, mode],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out))
    secs = [r["seconds"] for r in runs]
    mem = [r["peak_rss_mb"] for r in runs]
    return {"case": name, "gpus": gpus, "server": server, "switch": leaf, "mode": mode,
            "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
            "peak_rss_mb_median": statistics.median(mem), "tiers": runs[0]["tiers"],
            "switches": runs[0]["switches"], "nodes": runs[0].get("nodes"), "edges": runs[0].get("edges")}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    args = parser.parse_args(argv)
    results = [run_case(name, args.repeat) for name in (args.case or CASES)]
    for r in results:
        print(json.dumps(r))
    return results


if __name__ == "__main__":
    main()

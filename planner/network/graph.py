"""The explicit fabric: a networkx graph with a node per server and switch.

Node attributes: ``kind`` (server, leaf, spine, core), ``model``, ``system`` (servers: the
server or rack a scale-out endpoint belongs to), ``plane``, ``su``,
``pod``, ``rail`` (leaves), ``group`` (spines: their core group), ``pos`` (added by the
floor plan). Edge attributes: ``tier``, ``plane``, ``speed_gbps``, ``bundle`` (links in
the bundle), ``medium`` (optic class). Node-to-leaf links are one edge per link; switch
to switch links are one edge per bundle.

:func:`counts_from_graph` re-derives every count from degrees and bundles alone; the
tests assert it equals :func:`planner.network.fabric.count_fabric` for many shapes.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from planner.network.fabric import FabricCounts, FabricSpec, count_fabric
from planner.parts.catalog import Catalog

if TYPE_CHECKING:
    from planner.network.layout import Layout


def build_graph(spec: FabricSpec, catalog: Catalog, counts: FabricCounts | None = None) -> nx.Graph:
    """Build the fabric graph for ``spec`` (deterministic node order)."""
    counts = counts or count_fabric(spec, catalog)
    shape = counts.shape
    g: nx.Graph = nx.Graph(name=f"{spec.server} x {shape.servers}", tiers=shape.tiers, planes=shape.planes)
    models = counts.switch_models
    classes = {t: m.optic_class for t, m in counts.media.items()}
    per = shape.endpoints_per_system
    g.add_nodes_from((f"srv{i}", {"kind": "server", "model": spec.server, "system": i // per,
                                  "su": i // shape.servers_per_su if shape.servers_per_su else 0})
                     for i in range(shape.servers))
    for p in range(shape.planes):
        pre = f"p{p}/"
        leaves = []
        for su in range(shape.scalable_units):
            pod = su // shape.sus_per_pod if shape.sus_per_pod else 0
            for r in range(shape.rails):
                leaves.append((f"{pre}leaf{su}.{r}", su, pod, r))
        g.add_nodes_from((name, {"kind": "leaf", "model": models["leaf"], "plane": p, "su": su,
                                 "pod": pod, "rail": r}) for name, su, pod, r in leaves)
        edges = []
        for i in range(shape.servers):
            su = i // shape.servers_per_su
            for r in range(shape.rails):
                edges.append((f"srv{i}", f"{pre}leaf{su}.{r}"))
        g.add_edges_from(edges, tier="node_leaf", plane=p, speed_gbps=shape.link_gbps, bundle=1,
                         medium=classes["node_leaf"])
        if shape.tiers < 2:
            continue
        spines = [(f"{pre}spine{pod}.{j}", pod, j) for pod in range(shape.pods)
                  for j in range(shape.spines_per_pod)]
        g.add_nodes_from((name, {"kind": "spine", "model": models["spine"], "plane": p, "pod": pod,
                                 "group": j}) for name, pod, j in spines)
        g.add_edges_from(
            ((leaf, f"{pre}spine{pod}.{j}") for leaf, _su, pod, _r in leaves
             for j in range(shape.spines_per_pod)),
            tier="leaf_spine", plane=p, speed_gbps=shape.up_gbps,
            bundle=shape.bundle_leaf_spine, medium=classes["leaf_spine"],
        )
        if shape.tiers < 3:
            continue
        cores = [(f"{pre}core{j}.{c}", j) for j in range(shape.spines_per_pod)
                 for c in range(shape.cores_per_group)]
        g.add_nodes_from((name, {"kind": "core", "model": models["core"], "plane": p, "group": j})
                         for name, j in cores)
        g.add_edges_from(
            ((spine, f"{pre}core{j}.{c}") for spine, _pod, j in spines
             for c in range(shape.cores_per_group)),
            tier="spine_core", plane=p, speed_gbps=shape.up_gbps,
            bundle=shape.bundle_spine_core, medium=classes["spine_core"],
        )
    return g


def set_positions(g: nx.Graph, layout: Layout) -> None:
    """Give every node the ``pos`` (x, y) of its rack on the floor plan, in metres."""
    for node, data in g.nodes(data=True):
        kind = data["kind"]
        if kind == "server":
            rack = int(layout.endpoint_rack[int(node[3:])])
        elif kind == "leaf":
            rack = layout.leaf_rack[(data["plane"], data["su"], data["rail"])]
        elif kind == "spine":
            _, rest = node.split("/spine")
            pod, j = rest.split(".")
            rack = layout.spine_rack[(data["plane"], int(pod), int(j))]
        else:
            _, rest = node.split("/core")
            j, c = rest.split(".")
            rack = layout.core_rack[(data["plane"], int(j), int(c))]
        r = layout.racks[rack]
        data["pos"] = (r["x"], r["y"])
        data["hall"] = r["building"]


def counts_from_graph(g: nx.Graph, counts: FabricCounts) -> dict:
    """Switches, links, free ports and media units re-derived from the graph.

    Uses only the graph (degrees and bundles) and the per-unit media geometry of
    ``counts`` (links per module or connector, fibres per link); never its totals.
    """
    radix = counts.shape.radix
    switches: Counter[str] = Counter()
    links: Counter[str] = Counter()
    ports_free: Counter[str] = Counter()
    units: dict[tuple[str, str], int] = Counter()  # (tier, end) -> modules / connectors / plugs
    per_server_links: Counter[str] = Counter()
    for _u, _v, d in g.edges(data=True):
        links[d["tier"]] += d["bundle"]
    lower_of = {"node_leaf": "server", "leaf_spine": "leaf", "spine_core": "spine"}
    upper_of = {"node_leaf": "leaf", "leaf_spine": "spine", "spine_core": "core"}
    for node, data in g.nodes(data=True):
        kind = data["kind"]
        by_tier: Counter[str] = Counter()
        for _n, _m, d in g.edges(node, data=True):
            by_tier[d["tier"]] += d["bundle"]
        if kind == "server":
            per_server_links[node] = sum(by_tier.values())
            m = counts.media["node_leaf"].lower
            units[("node_leaf", "lower")] += math.ceil(per_server_links[node] / m.links_per_unit)
            continue
        switches[kind] += 1
        width = counts.shape.up_width if kind == "leaf" else 1  # an up port's width in down ports
        ports_free[kind] += radix[kind] - by_tier["node_leaf"] - width * by_tier["leaf_spine"] \
            - by_tier["spine_core"] if kind == "leaf" else radix[kind] - sum(by_tier.values())
        for tier, n in by_tier.items():
            end = "upper" if upper_of[tier] == kind else "lower"
            assert (lower_of[tier] if end == "lower" else upper_of[tier]) == kind
            media = counts.media[tier].lower if end == "lower" else counts.media[tier].upper
            units[(tier, end)] += math.ceil(n / media.links_per_unit)
    fibers = sum(counts.media[t].fibers_per_link * n for t, n in links.items())
    return {
        "switches": {r: switches.get(r, 0) for r in ("leaf", "spine", "core")},
        "links": {t: links.get(t, 0) for t in ("node_leaf", "leaf_spine", "spine_core")},
        "ports_free": {r: ports_free.get(r, 0) for r in ("leaf", "spine", "core")},
        "units": dict(units),
        "fibers": fibers,
    }


def counts_from_analytic(counts: FabricCounts) -> dict:
    """The same dictionary as :func:`counts_from_graph`, from the analytic counts."""
    units = {}
    for tier, m in counts.media.items():
        if m.links:
            units[(tier, "lower")] = m.lower.units
            units[(tier, "upper")] = m.upper.units
    return {"switches": dict(counts.switches), "links": dict(counts.links),
            "ports_free": dict(counts.ports_free), "units": units, "fibers": counts.fibers}


def to_graphml(g: nx.Graph, path: str | Path) -> None:
    """Write GraphML (attributes that GraphML cannot hold are turned into text)."""
    h = g.copy()
    for _n, d in h.nodes(data=True):
        for k, v in list(d.items()):
            if isinstance(v, tuple | list | dict):
                d[k] = str(v)
    try:
        nx.write_graphml_lxml(h, path)
    except ImportError:
        nx.write_graphml_xml(h, path)

"""The explicit fabric: a networkx graph with a node per server and switch.

Node attributes: ``kind`` (server, leaf, spine, core), ``model``, ``system`` (servers: the
server or rack a scale-out endpoint belongs to), ``plane``, ``su``,
``pod``, ``rail`` (leaves), ``group`` (spines: their core group), ``pos`` (added by the
floor plan). Edge attributes: ``tier``, ``plane``, ``speed_gbps``, ``bundle`` (links in
the bundle), ``medium`` (optic class), ``ports_u`` and ``ports_v`` (the ports at each end).
Node-to-leaf links are one edge per link; switch to switch links are one edge per bundle.
:func:`write_graphml` streams the same nodes and edges to a file (with rack positions and
link lengths from a floor plan) without building the graph.

:func:`counts_from_graph` re-derives every count from degrees and bundles alone; the
tests assert it equals :func:`planner.network.fabric.count_fabric` for many shapes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.network.fabric import FabricCounts, FabricSpec, count_fabric
from planner.parts.catalog import Catalog

if TYPE_CHECKING:
    import networkx as nx

    from planner.network.layout import Layout


def build_graph(spec: FabricSpec, catalog: Catalog, counts: FabricCounts | None = None) -> nx.Graph:
    """Build the fabric graph for ``spec`` (deterministic node order)."""
    counts = counts or count_fabric(spec, catalog)
    shape = counts.shape
    import networkx as nx  # the explicit graph only: the streamed writer never needs it

    g: nx.Graph = nx.Graph(name=f"{spec.server} x {shape.servers}", tiers=shape.tiers, planes=shape.planes)
    g.add_nodes_from(fabric_nodes(spec, counts))
    g.add_edges_from(fabric_edges(counts))
    return g


def fabric_nodes(spec: FabricSpec, counts: FabricCounts) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of the fabric with its attributes: servers, then per plane the leaves,
    spines and cores (the order of :func:`build_graph`)."""
    shape = counts.shape
    models = counts.switch_models
    per = shape.endpoints_per_system
    for i in range(shape.servers):
        yield f"srv{i}", {"kind": "server", "model": spec.server, "system": i // per,
                          "su": i // shape.servers_per_su if shape.servers_per_su else 0}
    for p in range(shape.planes):
        pre = f"p{p}/"
        for su in range(shape.scalable_units):
            pod = su // shape.sus_per_pod if shape.sus_per_pod else 0
            for r in range(shape.rails):
                yield f"{pre}leaf{su}.{r}", {"kind": "leaf", "model": models["leaf"], "plane": p, "su": su,
                                             "pod": pod, "rail": r}
        if shape.tiers < 2:
            continue
        for pod in range(shape.pods):
            for j in range(shape.spines_per_pod):
                yield f"{pre}spine{pod}.{j}", {"kind": "spine", "model": models["spine"], "plane": p, "pod": pod,
                                               "group": j}
        if shape.tiers < 3:
            continue
        for j in range(shape.spines_per_pod):
            for c in range(shape.cores_per_group):
                yield f"{pre}core{j}.{c}", {"kind": "core", "model": models["core"], "plane": p, "group": j}


def _ports(kind: str, first: int, bundle: int) -> str:
    """A link's ports at one end: the ``first``-th to the last of its bundle, counted from 0
    among that end's down or up ports ("down3", "up4-5")."""
    return f"{kind}{first}" if bundle == 1 else f"{kind}{first}-{first + bundle - 1}"


def fabric_edges(counts: FabricCounts) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every link (a bundle of ``bundle`` parallel links between the same two switches is
    one edge) with its tier, plane, speed, medium and ports: ``ports_u`` and ``ports_v``
    name the ports at each end, counted from 0 among the server's NIC ports (one per
    rail; ``nic3/p1`` is NIC port 3's share in plane 1) and each switch's down and up
    ports in the order the fabric wires them (a logical numbering: front-panel numbers are
    the vendor's)."""
    for u, v, shared, ports_u, ports_v in fabric_links(counts):
        yield u, v, {**dict(zip(EDGE_SHARED, shared, strict=True)), "ports_u": ports_u, "ports_v": ports_v}


EDGE_SHARED = ("tier", "plane", "speed_gbps", "bundle", "medium")  # the same for every edge of a tier and plane


def fabric_links(counts: FabricCounts) -> Iterator[tuple[str, str, tuple, str, str]]:
    """:func:`fabric_edges` as plain tuples (u, v, the attributes of :data:`EDGE_SHARED`,
    ports at u, ports at v): the streamed writer's form, without a dict per edge."""
    shape = counts.shape
    classes = {t: m.optic_class for t, m in counts.media.items()}
    per_su = shape.servers_per_su
    for p in range(shape.planes):
        pre = f"p{p}/"
        shared = ("node_leaf", p, shape.link_gbps, 1, classes["node_leaf"])
        # a NIC port split across planes gives each plane its share: port r's plane p
        nic = [f"nic{r}" if shape.planes == 1 else f"nic{r}/p{p}" for r in range(shape.rails)]
        for su in range(shape.scalable_units):
            leaves = [f"{pre}leaf{su}.{r}" for r in range(shape.rails)]
            for i in range(su * per_su, min(shape.servers, (su + 1) * per_su)):
                server, down = f"srv{i}", f"down{i - su * per_su}"
                for r in range(shape.rails):
                    yield server, leaves[r], shared, nic[r], down
        if shape.tiers < 2:
            continue
        b = shape.bundle_leaf_spine
        shared = ("leaf_spine", p, shape.up_gbps, b, classes["leaf_spine"])
        ups = [_ports("up", j * b, b) for j in range(shape.spines_per_pod)]
        for su in range(shape.scalable_units):
            pod = su // shape.sus_per_pod if shape.sus_per_pod else 0
            spines = [f"{pre}spine{pod}.{j}" for j in range(shape.spines_per_pod)]
            for r in range(shape.rails):
                at = (su - pod * shape.sus_per_pod) * shape.rails + r  # the leaf's place among the pod's
                leaf, down = f"{pre}leaf{su}.{r}", _ports("down", at * b, b)
                for j in range(shape.spines_per_pod):
                    yield leaf, spines[j], shared, ups[j], down
        if shape.tiers < 3:
            continue
        b = shape.bundle_spine_core
        shared = ("spine_core", p, shape.up_gbps, b, classes["spine_core"])
        ups = [_ports("up", c * b, b) for c in range(shape.cores_per_group)]
        for pod in range(shape.pods):
            down = _ports("down", pod * b, b)
            for j in range(shape.spines_per_pod):
                spine = f"{pre}spine{pod}.{j}"
                for c in range(shape.cores_per_group):
                    yield spine, f"{pre}core{j}.{c}", shared, ups[c], down


def node_rack(name: str, data: dict[str, Any], layout: Layout) -> int:
    """The rack a fabric node stands in on the floor plan (its index in ``layout.racks``)."""
    kind = data["kind"]
    if kind == "server":
        return int(layout.endpoint_rack[int(name[3:])])
    if kind == "leaf":
        return layout.leaf_rack[(data["plane"], data["su"], data["rail"])]
    if kind == "spine":
        pod, j = name.split("/spine")[1].split(".")
        return layout.spine_rack[(data["plane"], int(pod), int(j))]
    j, c = name.split("/core")[1].split(".")
    return layout.core_rack[(data["plane"], int(j), int(c))]


def set_positions(g: nx.Graph, layout: Layout) -> None:
    """Give every node the ``pos`` (x, y) of its rack on the floor plan, in metres, and its hall."""
    for node, data in g.nodes(data=True):
        r = layout.racks[node_rack(node, data, layout)]
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
    import networkx as nx

    h = g.copy()
    for _n, d in h.nodes(data=True):
        for k, v in list(d.items()):
            if isinstance(v, tuple | list | dict):
                d[k] = str(v)
    try:
        nx.write_graphml_lxml(h, path)
    except ImportError:
        nx.write_graphml_xml(h, path)


# GraphML keys of the streamed file: (id, for, name, type)
GRAPHML_KEYS = (
    ("g0", "graph", "name", "string"), ("g1", "graph", "tiers", "long"), ("g2", "graph", "planes", "long"),
    ("n0", "node", "kind", "string"), ("n1", "node", "model", "string"), ("n2", "node", "system", "long"),
    ("n3", "node", "su", "long"), ("n4", "node", "plane", "long"), ("n5", "node", "pod", "long"),
    ("n6", "node", "rail", "long"), ("n7", "node", "group", "long"), ("n8", "node", "hall", "string"),
    ("n9", "node", "x", "double"), ("n10", "node", "y", "double"),
    ("e0", "edge", "tier", "string"), ("e1", "edge", "plane", "long"), ("e2", "edge", "speed_gbps", "double"),
    ("e3", "edge", "bundle", "long"), ("e4", "edge", "medium", "string"), ("e5", "edge", "ports_u", "string"),
    ("e6", "edge", "ports_v", "string"), ("e7", "edge", "length_m", "double"),
)
_CHUNK = 50_000
_PLAIN_ID = re.compile(r"[A-Za-z0-9./]+")  # the fabric's node names: written without escaping
EDGE_SHARED = ("tier", "plane", "speed_gbps", "bundle", "medium")  # the same for every edge of a tier and plane


ROUTE_KEY = ("e8", "edge", "route", "string")  # declared only when links ride a route's interconnect


def write_graphml(spec: FabricSpec, counts: FabricCounts, path: Path, layout: Layout | None = None,
                  compress: bool = False, far: Mapping[tuple[str, str, str], str] | None = None) -> None:
    """Stream the fabric to GraphML without building a graph in memory: nodes with their
    attributes (and, with a floor plan, the hall and the numeric ``x`` and ``y`` of their
    rack in metres), edges with tier, plane, speed, bundle, medium, the ports at each end
    and, with a floor plan, the length of each of the bundle's links in metres (the
    cable route the floor plan measures: trays, risers, duct banks, slack). ``far`` ((tier,
    hall, hall), halls sorted -> the route's name) marks a tier's links across a route beyond its
    grey reach: they ride the route's interconnect, so their medium is ``interconnect`` and
    ``route`` names the route (their length is the fibre path's, not a tier cable's).
    ``compress`` writes gzip (a ``.graphml.gz`` that networkx and most tools open as it is)."""
    import gzip
    from html import escape  # xml.sax.saxutils' escape would import urllib and ssl (0.1 s)

    shape = counts.shape
    declared = GRAPHML_KEYS + ((ROUTE_KEY,) if far and layout is not None else ())
    keys = {(kind, name): key for key, kind, name, _type in declared}
    text_cache: dict[str, str] = {}

    def text(value: object) -> str:
        if isinstance(value, float):
            return repr(round(value, 6))
        plain = str(value)
        if plain not in text_cache:
            text_cache[plain] = escape(plain, quote=False)  # &, < and >, as XML text needs
        return text_cache[plain]

    def data(kind: str, attrs: dict[str, Any]) -> str:
        return "".join(f'<data key="{keys[(kind, k)]}">{text(v)}</data>' for k, v in attrs.items()
                       if (kind, k) in keys)

    racks: dict[str, int] = {}
    edge_heads: dict[tuple, str] = {}

    def head_of(shared: tuple, route: str | None) -> str:
        attrs = dict(zip(EDGE_SHARED, shared, strict=True))
        if route is None:
            head = edge_heads[shared] = data("edge", attrs)
        else:
            head = edge_heads[(*shared, route)] = data("edge", {**attrs, "medium": "interconnect", "route": route})
        return head

    opener = gzip.open(path, "wt", encoding="utf-8", compresslevel=3) if compress \
        else open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by the with below
    with opener as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.'
                  'graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        for key, kind, name, kind_type in declared:
            out.write(f'<key id="{key}" for="{kind}" attr.name="{name}" attr.type="{kind_type}"/>\n')
        out.write('<graph edgedefault="undirected">'
                  + data("graph", {"name": f"{spec.server} x {shape.servers}", "tiers": shape.tiers,
                                   "planes": shape.planes}) + "\n")
        for name, attrs in fabric_nodes(spec, counts):
            if layout is not None:
                rack = racks[name] = node_rack(name, attrs, layout)
                r = layout.racks[rack]
                attrs = {**attrs, "hall": r["building"], "x": float(r["x"]), "y": float(r["y"])}
            assert _PLAIN_ID.fullmatch(name), name
            out.write(f'<node id="{name}">{data("node", attrs)}</node>\n')
        edges = fabric_links(counts)
        while True:
            chunk = list(islice(edges, _CHUNK))
            if not chunk:
                break
            lengths = None
            routes: list[str | None] = [None] * len(chunk)
            if layout is not None:
                a = np.fromiter((racks[link[0]] for link in chunk), dtype=np.int64, count=len(chunk))
                b = np.fromiter((racks[link[1]] for link in chunk), dtype=np.int64, count=len(chunk))
                lengths = np.round(layout.link_lengths(a, b), 6).tolist()
                if far:
                    routes = [far.get((link[2][0], *sorted((layout.racks[i]["building"], layout.racks[j]["building"]))))
                              for link, i, j in zip(chunk, a.tolist(), b.tolist(), strict=True)]
            # the attributes an edge shares with its tier and plane (and route), formatted once
            heads = [edge_heads.get(shared if route is None else (*shared, route)) or head_of(shared, route)
                     for (_u, _v, shared, _pu, _pv), route in zip(chunk, routes, strict=True)]
            # node ids are the fabric's own names (letters, digits, '.', '/'): nothing to escape
            if lengths is None:
                rows = [f'<edge source="{u}" target="{v}">{head}<data key="e5">{ports_u}</data>'
                        f'<data key="e6">{ports_v}</data></edge>\n'
                        for (u, v, _s, ports_u, ports_v), head in zip(chunk, heads, strict=True)]
            else:
                rows = [f'<edge source="{u}" target="{v}">{head}<data key="e5">{ports_u}</data>'
                        f'<data key="e6">{ports_v}</data><data key="e7">{length!r}</data></edge>\n'
                        for (u, v, _s, ports_u, ports_v), head, length in zip(chunk, heads, lengths, strict=True)]
            out.write("".join(rows))
            del rows, heads  # before the next chunk's are made: one chunk's text in memory at a time
        out.write("</graph></graphml>\n")

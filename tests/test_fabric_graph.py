"""The explicit graph and the analytic counts agree on every count, over many shapes."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.network.fabric import FabricError, FabricSpec, count_fabric
from planner.network.graph import build_graph, counts_from_analytic, counts_from_graph

COMBOS = [
    ("dgx-h100", "qm9700", None),
    ("dgx-b200", "qm9700", None),
    ("dgx-a100", "qm9700", None),
    ("dgx-h100", "sn5600", None),
    ("dgx-b300", "sn5600", None),
    ("dgx-b200", "bailly-th5-cpo", None),
    ("dgx-b200", "qm9700", "sn5600"),
    ("gb200-nvl72", "qm9700", None),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    combo=st.sampled_from(COMBOS),
    servers=st.integers(min_value=1, max_value=700),
    oversubscription=st.sampled_from([1.0, 1.0, 2.0, 3.0]),
    planes=st.sampled_from([1, 1, 2]),
    tiers=st.sampled_from([None, None, 3]),
    optics=st.sampled_from(["auto", "dsp"]),
)
def test_graph_and_analytic_agree(catalog, combo, servers, oversubscription, planes, tiers, optics):
    server, leaf, spine = combo
    spec = FabricSpec(servers=servers, server=server, leaf_switch=leaf, spine_switch=spine,
                      tiers=tiers, planes=planes, oversubscription=oversubscription, optics=optics)
    try:
        counts = count_fabric(spec, catalog)
    except FabricError:
        assume(False)
    graph = build_graph(spec, catalog, counts)
    assert counts_from_graph(graph, counts) == counts_from_analytic(counts)
    # identities on every built graph
    for node, data in graph.nodes(data=True):
        if data["kind"] != "server":
            used = sum(d["bundle"] for _a, _b, d in graph.edges(node, data=True))
            assert used <= counts.shape.radix[data["kind"]], node
    ls = [d["bundle"] for _a, _b, d in graph.edges(data=True) if d["tier"] == "leaf_spine"]
    assert len(set(ls)) <= 1  # one bundle size: whole-number, uniform
    sc = [d["bundle"] for _a, _b, d in graph.edges(data=True) if d["tier"] == "spine_core"]
    assert len(set(sc)) <= 1
    if counts.tiers >= 2:
        # every leaf reaches every spine of its pod (per plane)
        for node, data in graph.nodes(data=True):
            if data["kind"] == "leaf":
                spines = [n for n in graph.neighbors(node) if graph.nodes[n]["kind"] == "spine"]
                assert len(spines) == counts.shape.spines_per_pod
                assert {graph.nodes[n]["pod"] for n in spines} == {data["pod"]}
    assert graph.number_of_nodes() == counts.endpoints + sum(counts.switches.values())


def test_graph_and_analytic_agree_on_a_dual_tor_fabric_with_200g_breakout_media():
    """Two HPN segments (dual-ToR, two planes, 200G down on 4 x 200G twin-port modules,
    400G up): the graph's media counts equal the analytic ones."""
    from planner.parts.catalog import load_catalog

    from .conftest import DATA

    cat = load_catalog([DATA / "hpn_catalog"])
    spec = FabricSpec(servers=256, server="alibaba-hpn-host", leaf_switch="arista-7060x6-64pe", planes=2,
                      dual_tor=True, uplink_gbps=400, servers_per_su=128, spare_down_ports=8,
                      spine_oversubscription=15)
    counts = count_fabric(spec, cat)
    graph = build_graph(spec, cat, counts)
    assert counts_from_graph(graph, counts) == counts_from_analytic(counts)
    # 256 hosts x 16 ports, one 200G module each; four links on each ToR twin-port module
    assert counts.transceivers["qsfp112-400g-sr4-200g"] == 256 * 16
    assert counts.transceivers["osfp-800g-2xsr4-4x200g"] == 256 * 16 // 4


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(combo=st.sampled_from(COMBOS), servers=st.integers(min_value=1, max_value=300),
       planes=st.sampled_from([1, 2]), tiers=st.sampled_from([None, 3]))
def test_ports_are_each_used_once_and_fill_each_switch_in_order(catalog, combo, servers, planes, tiers):
    """Every port named on an edge is used by one link only, and each switch's down and up
    ports are numbered 0, 1, ... without gaps (as many as its down and up links)."""
    import re
    from collections import defaultdict

    server, leaf, spine = combo
    spec = FabricSpec(servers=servers, server=server, leaf_switch=leaf, spine_switch=spine, tiers=tiers,
                      planes=planes)
    try:
        counts = count_fabric(spec, catalog)
    except FabricError:
        assume(False)
    graph = build_graph(spec, catalog, counts)
    used: dict[tuple[str, str], list[int]] = defaultdict(list)
    for u, v, d in graph.edges(data=True):
        for node, ports in ((u, d["ports_u"]), (v, d["ports_v"])):
            kind, first, last, plane = re.fullmatch(r"(nic|down|up)(\d+)(?:-(\d+))?(/p\d+)?", ports).groups()
            numbers = list(range(int(first), int(last or first) + 1))
            assert len(numbers) == (1 if kind == "nic" else d["bundle"])
            assert (plane is not None) == (kind == "nic" and planes > 1)
            used[(node, kind + (plane or ""))] += numbers
    for (node, kind), numbers in used.items():
        assert sorted(numbers) == list(range(len(numbers))), (node, kind)
        if kind.startswith("nic"):  # every rail's port, in each plane
            assert len(numbers) == counts.shape.rails


def test_streamed_graphml_holds_the_graph_with_positions_and_lengths(tmp_path, catalog):
    """The streamed file read back by networkx: the same nodes and edges as the graph (and
    so the same counts), numeric x and y inside the hall, and each bundle's link length
    equal to the floor plan's lengths of that tier (as multisets)."""
    import networkx as nx
    import numpy as np
    from shapely.geometry import Point, Polygon

    from planner.network.graph import write_graphml
    from planner.network.layout import lay_out
    from planner.site.schema import Building, Cabling

    from .test_layout import SMALL

    spec = FabricSpec(servers=6, server="dgx-h100", leaf_switch="qm9700")
    counts = count_fabric(spec, catalog)
    lay = lay_out(catalog, "dgx-h100", counts.shape, [Building(**SMALL)], [], Cabling())
    for compress, name in ((False, "t.graphml"), (True, "t.graphml.gz")):
        write_graphml(spec, counts, tmp_path / name, lay, compress=compress)
        back = nx.read_graphml(tmp_path / name)
        graph = build_graph(spec, catalog, counts)
        assert list(back.nodes) == list(graph.nodes)
        assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in graph.edges}
        assert counts_from_graph(back, counts) == counts_from_analytic(counts)
        hall = Polygon(SMALL["polygon"])
        for _n, d in back.nodes(data=True):
            assert isinstance(d["x"], float) and hall.contains(Point(d["x"], d["y"])) and d["hall"] == "small"
        for tier in ("node_leaf", "leaf_spine"):
            mine = np.sort(np.repeat([d["length_m"] for *_e, d in back.edges(data=True) if d["tier"] == tier],
                                     [d["bundle"] for *_e, d in back.edges(data=True) if d["tier"] == tier]))
            assert mine == __import__("pytest").approx(np.sort(lay.lengths[tier]), abs=1e-6)

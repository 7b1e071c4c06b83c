"""cables.csv, the cable schedule, as a user reads it (pandas): both ends of every link of
the fabric graph once, no port used twice, and, re-added, the BOM's cable, trunk and
jumper lines."""

from __future__ import annotations

import re

import networkx as nx
import pandas as pd
import pytest

from planner.app.cli import main
from planner.app.pipeline import load, solve_site
from planner.model.cache import PlanCache
from planner.network.graph import build_graph

from .conftest import SITES


def expand(ports: str) -> frozenset[str]:
    """The ports a graph edge names: "up4-5" is up4 and up5, "down3" is down3."""
    head, first, last = re.fullmatch(r"([a-z]+)(\d+)(?:-(\d+))?", ports).groups()
    return frozenset(f"{head}{i}" for i in range(int(first), int(last or first) + 1))


LENGTH = re.compile(r"cable, \d+ fibres lit, ([0-9.]+) m")


@pytest.fixture(scope="module")
def greenfield(tmp_path_factory):
    """The greenfield campus (two halls, structured cabling) solved by the CLI."""
    out = tmp_path_factory.mktemp("greenfield")
    assert main(["solve", "-q", str(SITES / "greenfield-campus.toml"), "-o", str(out), "--cables", "always"]) == 0
    cables = pd.read_csv(out / "cables.csv", keep_default_na=False, na_values=[""], low_memory=False)
    return cables, pd.read_csv(out / "bom.csv"), out


def check_schedule_readds(out) -> None:
    """cables.csv re-added gives bom.csv's cable lines (every example site: test_cli)."""
    cables = pd.read_csv(out / "cables.csv", keep_default_na=False, na_values=[""], low_memory=False)
    bom = pd.read_csv(out / "bom.csv")
    with_cluster = set(bom.scenario[bom.category == "gpu_server"])
    assert set(cables.scenario) == with_cluster
    for scenario, sched in cables.groupby("scenario"):
        lines = bom[bom.scenario == scenario]
        # a link across a route beyond grey reach rides the interconnect: no cable, its module
        far = sched[sched.medium == "interconnect"]
        assert far.cable.isna().all() and all(str(t).startswith("routes[") for t in far.trunk)
        sched = sched[sched.medium != "interconnect"]
        direct = sched[sched.trunk.isna()].drop_duplicates("cable")
        cable_lines = lines[lines.category == "cable"].copy()
        # cables per part equal the BOM's cable lines
        assert direct.groupby("part").size().to_dict() == cable_lines.groupby("part").quantity.sum().to_dict()
        if sched.length_m.isna().all():  # no floor plan: no length on either side
            assert cable_lines.description.str.contains("length not modelled").all()
            assert (sched.a_rack == "not placed").all()
            continue
        # their total ordered length (metres) per part and per medium equal the BOM's
        cable_lines["length"] = cable_lines.description.str.extract(LENGTH, expand=False).astype(float)
        assert cable_lines.length.notna().all()
        ordered = direct.groupby("part").length_ordered_m.sum()
        from_bom = (cable_lines.quantity * cable_lines.length).groupby(cable_lines.part).sum()
        assert ordered.to_dict() == pytest.approx(from_bom.to_dict())
        medium_of_part = direct.groupby("part").medium.agg(set)
        assert (medium_of_part.map(len) == 1).all()  # a part is one medium
        by_medium = direct.groupby("medium").length_ordered_m.sum()
        medium = {part: next(iter(m)) for part, m in medium_of_part.items()}
        bom_by_medium = from_bom.groupby(from_bom.index.map(medium)).sum()
        assert by_medium.to_dict() == pytest.approx(bom_by_medium.to_dict())
        # links over structured cabling: trunks per tier and two jumpers per link
        trunked = sched[sched.trunk.notna()]
        for tier, group in trunked.groupby("tier"):
            name = tier.replace("_", "-")
            trunks = lines[(lines.category == "structured_cabling") & lines.description.str.startswith(
                f"{name} MPO trunk")]
            jumpers = lines[lines.description.str.startswith(f"{name} jumper")]
            assert group.trunk.nunique() == trunks.quantity.sum()
            assert 2 * len(group) == jumpers.quantity.sum()
            assert (group.part == trunks.part.iloc[0]).all()
        assert not lines.description.str.contains("jumper").any() or len(trunked)


def test_schedule_readds_into_the_bom(greenfield):
    _cables, _bom, out = greenfield
    check_schedule_readds(out)
    cables = _cables
    assert (cables.trunk.notna()).any(), "the campus's spines stand in the meet-me room: some links leave their row"
    assert {"MMF", "SMF"} <= set(cables.medium)


def test_schedule_ends_are_the_graphs_links_once(greenfield):
    cables, _bom, _out = greenfield
    loaded, cat = load(SITES / "greenfield-campus.toml")
    run = solve_site(loaded, cat, cache=PlanCache())
    assert run is not None
    for name, result in run.results.items():
        sched = cables[cables.scenario == name]
        fab = result.chosen.fabric
        g = build_graph(fab.spec, cat, fab)
        # every link of the graph once: rows per node pair = the edge's bundle
        rows = sched.groupby(["a_device", "b_device"]).size().to_dict()
        edges = {(u, v) if (u, v) in rows else (v, u): d["bundle"] for u, v, d in g.edges(data=True)}
        assert rows == edges
        # no port used twice, at either end
        ends = pd.concat([sched[["a_device", "a_port"]].set_axis(["device", "port"], axis=1),
                          sched[["b_device", "b_port"]].set_axis(["device", "port"], axis=1)])
        assert not ends.duplicated().any()
        # closed form: every server NIC port has one node-leaf link (one plane here)
        server = cat.servers[result.chosen.server]
        assert fab.shape.planes == 1
        assert (sched.tier == "node_leaf").sum() == result.chosen.servers * server.compute_ports
        # labels are unique; every row has both racks and a length on a floor plan
        assert not sched.label.duplicated().any()
        assert sched.a_rack.str.fullmatch(r"R\d{5}").all() and sched.b_rack.str.fullmatch(r"R\d{5}").all()
        assert (sched.length_m > 0).all()
        direct = sched[sched.trunk.isna()]
        assert (direct.length_ordered_m >= direct.length_m - 1e-9).all()
        assert nx.number_connected_components(g) == 1


def test_schedule_without_halls_says_not_placed(tmp_path):
    """Texas has no halls: the ends are known, racks and lengths are not."""
    assert main(["solve", "-q", str(SITES / "texas-hybrid.toml"), "-o", str(tmp_path)]) == 0
    cables = pd.read_csv(tmp_path / "cables.csv", keep_default_na=False, na_values=[""], low_memory=False)
    bom = pd.read_csv(tmp_path / "bom.csv")
    assert len(cables)
    assert (cables.a_rack == "not placed").all() and (cables.b_rack == "not placed").all()
    assert cables.length_m.isna().all() and cables.length_ordered_m.isna().all()
    assert cables.route.str.startswith("not placed").all()
    assert bom[bom.category == "cable"].description.str.contains("length not modelled").all()
    check_schedule_readds(tmp_path)


def test_multi_link_cables_group_at_their_device_in_port_order():
    """Two links to a cable (a twin-port plug or a 1:2 breakout): each device's links in
    port order (down2, down3 | down10), a device's odd link alone on a cable of its own."""
    import numpy as np

    from planner.outputs.cables import _cables_of

    dev = np.array(["L0", "L0", "L0", "L1", "L1"], dtype=object)
    ports = np.array(["down10", "down2", "down3", "down1", "down0"], dtype=object)
    assert _cables_of(dev, ports, 2).tolist() == [1, 0, 0, 2, 2]
    assert _cables_of(dev, ports, 1).tolist() == [0, 1, 2, 3, 4]


def test_lengths_round_up_to_the_stock_length():
    import numpy as np

    from planner.outputs.cables import stock_round

    got = stock_round(np.array([0.5, 2.0, 2.0 + 1e-12, 4.2, 7.3]), [3.0, 1.0, 2.0, 5.0])
    assert got.tolist() == [1.0, 2.0, 2.0, 5.0, 8.0]  # above the longest stock: the next whole metre
    assert stock_round(np.array([2.2, 3.0]), []).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("servers, tiers", [(64, None), (300, 3)])
def test_link_table_expands_each_bundle_port_by_port(catalog, servers, tiers):
    """A bundle of b parallel links (one graph edge, ports "up4-5") is b rows, the k-th
    on the k-th port at both ends; every other edge is one row."""
    from planner.network.fabric import FabricSpec, count_fabric
    from planner.outputs.cables import link_table

    spec = FabricSpec(servers=servers, server="dgx-h100", leaf_switch="qm9700", tiers=tiers)
    counts = count_fabric(spec, catalog)
    g = build_graph(spec, catalog, counts)
    links = pd.DataFrame(link_table(counts))
    assert len(links) == sum(counts.links.values())
    assert max(d["bundle"] for *_e, d in g.edges(data=True)) > 1, "the shape has bundles to expand"
    got = links.groupby(["u", "v"])[["port_u", "port_v"]].agg(list)
    assert len(got) == g.number_of_edges()
    for (u, v), row in got.iterrows():
        d = g.edges[u, v]
        assert frozenset(row.port_u) == expand(d["ports_u"]) and frozenset(row.port_v) == expand(d["ports_v"])
        assert len(row.port_u) == d["bundle"]
        # the k-th link on the k-th port at both ends
        assert [int(re.sub(r"\D", "", p)) for p in row.port_u] == sorted(int(re.sub(r"\D", "", p))
                                                                          for p in row.port_u)


def test_unique_inverse_is_numpys_unique_with_its_inverse():
    """unique_inverse gives np.unique's distinct values and inverse, the same arrays to the
    bit: whole numbers (room pairs), lengths, and floats numpy treats specially (0.0 and -0.0,
    NaN, infinities), on a few thousand random arrays."""
    import numpy as np

    from planner.network.cabling import unique_inverse

    rng = np.random.default_rng(7)
    pools = [None, [0.5, 1.0, 3.0, 7.25, 10.0], [0.0, -0.0, 1.0, 2.0], [1.0, np.nan, 2.0, np.inf, -np.inf]]
    for trial in range(4000):
        size = int(rng.integers(0, 50))
        pool = pools[trial % len(pools)]
        values = rng.integers(-3, 30, size) if pool is None else rng.choice(pool, size)
        want, got = np.unique(values, return_inverse=True), unique_inverse(values)
        assert got[0].dtype == want[0].dtype and got[0].tobytes() == want[0].tobytes()
        assert got[1].dtype == want[1].dtype and np.array_equal(got[1], want[1])


def test_sums_by_value_is_unique_inverse_and_bincount():
    """sums_by_value gives unique_inverse's distinct values and the weights summed by np.bincount
    over its inverse, the same arrays to the bit: whole-metre lengths (counted into bins),
    stock lengths with fractions, room-pair codes of narrow and wide spans, and values that
    must go the sorting way (0.0 and -0.0, NaN, infinities, negatives)."""
    import numpy as np

    from planner.network.cabling import sums_by_value, unique_inverse

    rng = np.random.default_rng(5)
    pools = [None, None, [0.5, 1.0, 3.0, 7.25, 10.0], [0.0, -0.0, 1.0, 2.0], [1.0, np.nan, 2.0, np.inf],
             [-3.0, 4.0, 9.0], [2.0 ** 60, 1.0, 5.0]]
    for trial in range(4000):
        size = int(rng.integers(0, 80))
        pool = pools[trial % len(pools)]
        if pool is None:
            span = int(rng.choice([5, 300, 100_000]))
            values = rng.integers(0, span, size)
            if trial % 3 == 0:
                values = np.ceil(values + rng.random(size) * 0.999).astype(float)  # whole metres as floats
        else:
            values = rng.choice(pool, size)
        weights = rng.integers(1, 9, size).astype(np.int64)
        distinct, inverse = unique_inverse(values)
        want = (distinct, np.bincount(inverse, weights=weights))
        got = sums_by_value(values, weights)
        for w, g in zip(want, got, strict=True):
            assert g.dtype == w.dtype and g.tobytes() == w.tobytes(), (values, weights, want, got)

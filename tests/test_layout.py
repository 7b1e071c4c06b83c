"""Floor plan and cabling: lengths by hand, media by reach, racks inside halls."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from planner.network.fabric import FabricError, FabricSpec, count_fabric, plan_shape
from planner.network.halls import LayoutError, rack_slots
from planner.network.layout import lay_out
from planner.network.plan_fits import fit_sizes
from planner.site.schema import Building, Cabling

from .sitebuilder import flat, site

SMALL = dict(name="small", polygon=[(0, 0), (10, 0), (10, 6), (0, 6)], max_kw_per_rack=40,
             meet_me_room={"name": "MMR", "polygon": [(7.4, 2.8), (9.6, 2.8), (9.6, 5.6), (7.4, 5.6)]})


def test_slots_of_a_small_hall_by_hand():
    # 10 x 6 m, 0.5 m clearance -> usable 9 x 5 m; racks 0.6 x 1.2 m, aisle 1.2 m (pitch 2.4):
    # 15 racks a row, rows at y = 0.5 and 2.9 (a third would end at 6.5 > 5.5): 30 slots.
    slots = rack_slots(Building(**SMALL))
    assert len(slots) == 30
    assert (slots[0].x, slots[0].y) == pytest.approx((0.8, 1.1))
    assert (slots[15].x, slots[15].y) == pytest.approx((0.8, 3.5))
    # the meet-me room (x 7.4-9.6, y 2.8-5.6) holds the last three racks of row 1
    assert [round(s.x, 2) for s in slots if s.in_mmr] == [8.0, 8.6, 9.2]


def test_lengths_by_hand(catalog):
    # Two DGX H100 (10.2 kW; 3 fit a 40 kW rack): one compute rack at (0.8, 1.1), the SU's
    # leaf rack beside it at (1.4, 1.1), the spine in the MMR at (8.0, 3.5).
    # rise = tray 3.0 - ports 1.2 = 1.8 m a side; slack 10 %; service loops 2 m:
    # node-leaf  = (1.8 + 0.6 + 1.8) * 1.1 + 2 = 6.62 m
    # leaf-spine = (1.8 + 6.6 + 2.4 + 1.8) * 1.1 + 2 = 15.86 m
    shape = plan_shape(FabricSpec(servers=2, server="dgx-h100", leaf_switch="qm9700"), catalog)
    lay = lay_out(catalog, "dgx-h100", shape, [Building(**SMALL)], [], Cabling())
    assert lay.lengths["node_leaf"] == pytest.approx([6.62] * 16)
    assert shape.up_per_leaf == 2 and shape.spines_per_pod == 1
    assert lay.lengths["leaf_spine"] == pytest.approx([15.86] * 16)
    assert [r["role"] for r in lay.racks] == ["compute", "leaf", "spine"]


def test_cross_hall_route_by_hand(catalog):
    # hall B 30 m north of hall A; the duct bank runs from (10, 36) to (10, 6): 30 m.
    # Rack in B at (0.8, 31.1) to the spine in A's MMR at (8.0, 3.5):
    # to the route start |0.8-10| + |31.1-36| = 14.1; route 30; from its end
    # |10-8.0| + |6-3.5| = 4.5; horizontal 48.6; (1.8 + 48.6 + 1.8) * 1.1 + 2 = 59.42 m
    from planner.network.halls import route_length
    from planner.site.schema import Route

    a = Building(**SMALL)
    b = Building(name="b", polygon=SMALL["polygon"], max_kw_per_rack=40, origin=(0, 30))
    route = Route(**{"from": "b", "to": "small", "polyline": [(10, 36), (10, 6)]})
    length = route_length(("b", 0.8, 31.1), ("small", 8.0, 3.5), {"small": a, "b": b},
                          {("b", "small"): route}, Cabling())
    assert length == pytest.approx(59.42)


@pytest.mark.parametrize(
    ("length", "cls", "module"),
    [
        (2.0, "dac", "dac-800g"), (2.01, "acc", "acc-800g"), (5.0, "acc", "acc-800g"),
        (5.01, "sr", "osfp-800g-2xsr4"), (50.0, "sr", "osfp-800g-2xsr4"),
        (50.01, "dr", "osfp-800g-2xdr4"), (100.0, "dr", "osfp-800g-2xdr4"),
        (100.01, "dr", "osfp-800g-2xdr4-500m"), (500.0, "dr", "osfp-800g-2xdr4-500m"),
        (500.01, "fr", "osfp-800g-2xfr4"), (2000.0, "fr", "osfp-800g-2xfr4"),
    ],
)
def test_reach_boundaries_change_the_medium(catalog, length, cls, module):
    # Leaf-spine links of a QM9700 fabric are 400G, two to a twin-port cage. Reaches from
    # the catalog: passive DAC 2 m, ACC 5 m, 2xSR4 50 m (OM4), 2xDR4 100 m, 2xDR4 500 m
    # variant, 2xFR4 2 km.
    f = count_fabric(FabricSpec(servers=64, server="dgx-h100", leaf_switch="qm9700",
                                lengths_m={"leaf_spine": length}), catalog)
    tier = f.media["leaf_spine"]
    assert tier.optic_class == cls
    assert (tier.upper.part or tier.cable_kind) == module


def test_beyond_every_reach_is_an_error(catalog):
    with pytest.raises(FabricError, match="no optic"):
        count_fabric(FabricSpec(servers=64, server="dgx-h100", leaf_switch="qm9700",
                                lengths_m={"leaf_spine": 2000.01}), catalog)


@settings(max_examples=25, deadline=None)
@given(
    w=st.floats(12, 60), h=st.floats(8, 30), kx=st.floats(0.1, 0.8), ky=st.floats(0.1, 0.8),
    servers=st.integers(1, 96),
)
def test_no_rack_in_a_keep_out_or_outside_its_hall(catalog, w, h, kx, ky, servers):
    col = [(kx * w, ky * h), (kx * w + 2, ky * h), (kx * w + 2, ky * h + 2), (kx * w, ky * h + 2)]
    hall = Building(name="h", polygon=[(0, 0), (w, 0), (w, h), (0, h)], keep_out=[col], max_kw_per_rack=40)
    shape = plan_shape(FabricSpec(servers=servers, server="dgx-h100", leaf_switch="qm9700"), catalog)
    try:
        lay = lay_out(catalog, "dgx-h100", shape, [hall], [], Cabling())
    except LayoutError:
        return  # too small: covered by its own test
    outline, blocked = Polygon(hall.polygon), Polygon(col)
    for r in lay.racks:
        rect = box(r["x"] - 0.3, r["y"] - 0.6, r["x"] + 0.3, r["y"] + 0.6)
        assert outline.contains(rect)
        assert not rect.intersects(blocked)
    assert lay.lengths["node_leaf"].size == servers * 8


def test_hall_too_small_is_a_clear_error(catalog):
    tiny = Building(name="closet", polygon=[(0, 0), (4, 0), (4, 3), (0, 3)], max_kw_per_rack=40)
    shape = plan_shape(FabricSpec(servers=64, server="dgx-h100", leaf_switch="qm9700"), catalog)
    with pytest.raises(LayoutError, match=r"closet\) hold \d+ rack positions.*need about \d+"):
        lay_out(catalog, "dgx-h100", shape, [tiny], [], Cabling())


def test_a_clearance_that_leaves_no_floor_is_a_clear_error(catalog):
    # 10 x 6 m with 3 m kept from the walls: nothing is left (the inner polygon is empty;
    # its bounds were NaN and the run ended in an internal error before)
    walled = Building(**{**SMALL, "clearance_m": 3.0})
    assert rack_slots(walled) == []
    shape = plan_shape(FabricSpec(servers=8, server="dgx-h100", leaf_switch="qm9700"), catalog)
    with pytest.raises(LayoutError, match=r"small\) hold 0 rack positions"):
        lay_out(catalog, "dgx-h100", shape, [walled], [], Cabling())


def test_too_hot_for_the_hall_is_a_clear_error(catalog):
    # a GB200 NVL72 rack draws about 120 kW (DGX GB user guide): an air-cooled 40 kW hall cannot take it
    shape = plan_shape(FabricSpec(servers=1, server="gb200-nvl72", leaf_switch="qm9700"), catalog)
    with pytest.raises(LayoutError, match="cannot take gb200-nvl72"):
        lay_out(catalog, "gb200-nvl72", shape, [Building(**SMALL)], [], Cabling())


def test_fast_maxima_equal_full_layouts(catalog):
    halls = [Building(name="a", polygon=[(0, 0), (60, 0), (60, 10), (0, 10)], max_kw_per_rack=40,
                      meet_me_room={"polygon": [(50, 0), (60, 0), (60, 6), (50, 6)]}),
             Building(name="b", polygon=[(0, 0), (60, 0), (60, 40), (0, 40)], max_kw_per_rack=40, origin=(0, 60))]
    from planner.site.schema import Route

    routes = [Route(**{"from": "b", "to": "a", "polyline": [(60, 80), (70, 80), (70, 3), (60, 3)]})]
    shapes = [plan_shape(FabricSpec(servers=n, server="dgx-h100", leaf_switch="qm9700"), catalog)
              for n in (1, 31, 32, 64, 95, 256, 288, 512, 1024, 1200)]
    fast = fit_sizes(catalog, "dgx-h100", shapes, halls, routes, Cabling())
    for shape, m in zip(shapes, fast, strict=True):
        if isinstance(m, LayoutError):
            with pytest.raises(LayoutError):
                lay_out(catalog, "dgx-h100", shape, halls, routes, Cabling())
            continue
        full = lay_out(catalog, "dgx-h100", shape, halls, routes, Cabling())
        for tier, value in m.lengths.items():
            assert value == pytest.approx(full.max_length(tier) or 0.0), (shape.servers, tier)
        # endpoints per hall and the halls used, counted from the full layout's racks
        by_hall = {}
        for rack in full.endpoint_rack:
            by_hall[full.racks[rack]["building"]] = by_hall.get(full.racks[rack]["building"], 0) + 1
        assert m.endpoints == by_hall, shape.servers
        assert sum(m.endpoints.values()) == shape.servers
        assert m.halls == {r["building"] for r in full.racks}, shape.servers
    # asked for the sizes that reach hall b only: the others are None, the rest unchanged
    only_b = fit_sizes(catalog, "dgx-h100", shapes, halls, routes, Cabling(), need_hall="b")
    for m, mb in zip(fast, only_b, strict=True):
        if isinstance(m, LayoutError):
            assert isinstance(mb, LayoutError)
        elif "b" in m.halls:
            assert mb == m
        else:
            assert mb is None
    assert any(mb is None for mb in only_b) and any(isinstance(mb, type(fast[0])) and mb for mb in only_b)


def test_copper_splitter_joins_single_and_twin_cages(catalog):
    # GB200 compute trays have single-port 400G OSFP NICs; a QM9700 cage takes two 400G
    # ports. At 2.5 m only the MCP7Y00 splitter (twin-port OSFP to 2 x 400G OSFP, up to
    # 3 m) reaches: one cable per switch cage, i.e. one per two links.
    f = count_fabric(FabricSpec(servers=2, server="gb200-nvl72", leaf_switch="qm9700",
                                lengths_m={"node_leaf": 2.5}), catalog)
    tier = f.media["node_leaf"]
    assert tier.cable_kind == "dac-800g-2x400g"
    assert tier.cables * 2 == tier.links == 144
    assert f.transceivers.get("dac-800g-2x400g") is None  # a cable, not a transceiver


def test_structured_cabling_conserves_links(catalog):
    """Links between racks of one row run direct; the others over trunks and panels. Every
    switch-to-switch link is one or the other; panels and trunks follow the lit fibres."""
    from planner.network.cabling import structured_cabling

    halls = [Building(name="a", polygon=[(0, 0), (40, 0), (40, 20), (0, 20)], max_kw_per_rack=40,
                      meet_me_room={"polygon": [(34, 0), (40, 0), (40, 6), (34, 6)]})]
    spec = FabricSpec(servers=512, server="dgx-h100", leaf_switch="qm9700")
    shape = plan_shape(spec, catalog)
    lay = lay_out(catalog, "dgx-h100", shape, halls, [], Cabling())
    f = count_fabric(FabricSpec(servers=512, server="dgx-h100", leaf_switch="qm9700",
                                lengths_m={t: lay.max_length(t) for t in lay.lengths if lay.lengths[t].size}), catalog)
    structured = {s["tier"]: s for s in structured_cabling(lay, shape, f, catalog)}
    for tier in ("leaf_spine", "spine_core"):
        direct = int(lay.same_room[tier].sum())
        assert direct + structured.get(tier, {"links": 0})["links"] == f.links[tier]
    s = structured["leaf_spine"]
    assert s["jumpers"] == 2 * s["links"]
    assert s["lit_fibers"] == s["links"] * f.media["leaf_spine"].fibers_per_link
    trunk = catalog.entries["cables"][s["trunk"]].item
    assert s["trunks"] >= s["lit_fibers"] / trunk.fibers


def conversion_site(server: str, usd_per_mw: float) -> str:
    """One 40 kW air hall of a mine that may be converted to 132 kW direct liquid cooling."""
    return site(
        "conversion", capacity_mw=3.0, price=flat(40), cooling={"ai_pue": 1.4},
        ai={"server": server, "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": 4.0},
        economics={"discount_rate": 0.1, "horizon_years": 5, "btc_price_usd": 90000, "network_hashrate_ehs": 1000},
        scenarios={"retrofit": {"kind": "retrofit"}},
        buildings=[{"name": "mine-hall", "polygon": [[0, 0], [40, 0], [40, 20], [0, 20]], "max_kw_per_rack": 40,
                    "conversion": {"cooling": "direct-liquid", "max_kw_per_rack": 132, "usd_per_mw": usd_per_mw,
                                   "pue": 1.15}}])


def test_too_hot_racks_make_the_conversion_a_requirement(write_site, catalog):
    """A GB200 NVL72 rack (about 120 kW) cannot stand in a 40 kW air hall; converted to
    direct liquid (132 kW) it can: the plan converts, and the conversion is in its capex."""
    from planner.model.build import build_model
    from planner.model.inputs import prepare
    from planner.model.optimize import solve
    from planner.outputs.bom import bom_rows
    from planner.site.load import load_site

    path = write_site(conversion_site("gb200-nvl72", 2.0e6))
    result = solve(build_model(prepare(load_site(path), catalog, "retrofit")))
    assert result.option.servers >= 1
    assert result.option.plan == (("mine-hall", "converted"),)
    assert result.option.pue == 1.15
    it_mw = result.option.it_power_w / 1e6
    assert result.option.capex_usd["cooling_conversion"] == pytest.approx(it_mw * 2.0e6)
    assert any(r.part == "cooling-conversion" for r in bom_rows(result, catalog))


def test_conversion_is_chosen_only_when_it_pays(write_site, catalog):
    """DGX H100 fit the air hall as built: a conversion that costs more than it saves is
    left alone; a free one (lower PUE, more IT power under the same grid) is taken."""
    from planner.model.build import build_model
    from planner.model.inputs import prepare
    from planner.model.optimize import solve
    from planner.site.load import load_site

    dear = write_site(conversion_site("dgx-h100", 1.0e9), "dear.toml")
    free = write_site(conversion_site("dgx-h100", 0.0), "free.toml")
    for path, use in ((dear, "as built"), (free, "converted")):
        assert solve(build_model(prepare(load_site(path), catalog, "retrofit"))).option.plan == (("mine-hall", use),)


def test_graph_positions_and_floorplan_figure(tmp_path, catalog):
    """Every node gets the (x, y) of its rack; the floor plan renders to a PNG."""
    from planner.network.graph import build_graph, set_positions
    from planner.outputs.plots import floorplan

    hall = Building(**SMALL)
    spec = FabricSpec(servers=6, server="dgx-h100", leaf_switch="qm9700")
    shape = plan_shape(spec, catalog)
    lay = lay_out(catalog, "dgx-h100", shape, [hall], [], Cabling())
    graph = build_graph(spec, catalog)
    set_positions(graph, lay)
    outline = Polygon(hall.polygon)
    from shapely.geometry import Point

    for _node, data in graph.nodes(data=True):
        assert outline.contains(Point(data["pos"]))
    # the two servers of rack 0 share its position; the spine sits in the meet-me room
    assert graph.nodes["srv0"]["pos"] == graph.nodes["srv2"]["pos"]
    spine = next(n for n, d in graph.nodes(data=True) if d["kind"] == "spine")
    assert Polygon(SMALL["meet_me_room"]["polygon"]).contains(Point(graph.nodes[spine]["pos"]))
    path = tmp_path / "floorplan.png"
    floorplan(lay, path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_a_hall_known_only_by_its_area(catalog):
    """area_m2 = 400 becomes a 20 m x 20 m square: with 0.5 m clearance 19 m usable, 31
    racks a row (0.6 m), rows at 0.5, 2.9, ... while 1.2 m fits: 8 rows, 248 positions."""
    hall = Building(name="by-area", area_m2=400, max_kw_per_rack=40)
    assert Polygon(hall.polygon).area == pytest.approx(400)
    assert len(rack_slots(hall)) == 31 * 8
    with pytest.raises(ValueError, match="polygon"):
        Building(name="nothing", max_kw_per_rack=40)


def test_cable_prices_by_hand(catalog):
    """A fibre cable costs fibres x length x the price per fibre-metre plus its plugs
    (catalogs/estimates.toml: OS2 0.2175 USD per fibre-metre, an MPO-12/APC plug 57 USD,
    an MPO-16/APC plug taken at 57 USD too). The Q3450's CPO breakout: one MPO-16 (16
    fibres) to two MPO-12: 16 x 20 m x 0.2175 + 57 + 2 x 57 = 240.6 USD."""
    from planner.network.cabling import cable_price
    from planner.network.fabric import FabricSpec, count_fabric

    f = count_fabric(FabricSpec(servers=72, server="dgx-b300", leaf_switch="q3450"), catalog)
    usd, basis = cable_price(catalog, f.media["node_leaf"], 20.0)
    assert usd == pytest.approx(16 * 20 * 0.2175 + 57 + 2 * 57)
    assert basis.startswith("ESTIMATE")
    # straight single-mode MPO-12 between two DR4 modules: 12 fibres, two plugs
    g = count_fabric(FabricSpec(servers=72, server="dgx-b300", leaf_switch="q3400-ra"), catalog)
    assert cable_price(catalog, g.media["leaf_spine"], 50.0)[0] == pytest.approx(12 * 50 * 0.2175 + 2 * 57)
    # no length, no price (never a zero)
    assert cable_price(catalog, g.media["leaf_spine"], float("nan")) is None


def test_trunk_price_by_hand(catalog):
    """A 144-fibre OS2 trunk of 50 m with 12 MPO-12/APC plugs a side: 31.32 USD/m (its
    estimate) x 50 m + 24 x 57 USD = 2,934 USD; no length, no price."""
    from planner.network.cabling import trunk_price

    usd, basis = trunk_price(catalog, "mpo-trunk-144f-os2", 50.0)
    assert usd == pytest.approx(31.32 * 50 + 24 * 57)
    assert "ESTIMATE" in basis
    assert trunk_price(catalog, "mpo-trunk-144f-os2", float("nan")) is None


def test_cables_of_a_site_without_halls_are_priced_at_their_assumed_length(tmp_path, catalog):
    """No halls, no measured lengths: each tier's cables are priced at the length its media
    were chosen for (node-leaf 30 m, leaf-spine 100 m by default), marked as an estimate,
    never left without a price. 8 DGX H100 on QM9700 leaves: node-leaf runs SR4-class
    multimode MPO-12 cables (OM4 0.5733 USD per fibre-metre, catalogs/estimates.toml):
    12 x 30 x 0.5733 + 2 x 57 = 320.388 USD each."""
    from planner.app.pipeline import load, solve_scenario
    from planner.outputs.bom import bom_rows

    path = tmp_path / "nohalls.toml"
    path.write_text(site(capacity_mw=5.0, price=flat(50),
                         economics={"discount_rate": 0.0, "horizon_years": 1, "btc_price_usd": 100000,
                                    "network_hashrate_ehs": 1000},
                         ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "min_gpus": 64,
                             "max_gpus": 64, "lease_usd_per_gpu_hour": 3.0},
                         scenarios={"plan": {"kind": "greenfield"}}))
    loaded, cat = load(path, None)
    result, _ = solve_scenario(loaded, cat, "plan", cache=None)
    cables = [r for r in bom_rows(result, cat) if r.category == "cable"]
    assert cables and all(r.unit_cost_usd is not None and r.unit_cost_usd > 0 for r in cables)
    assert all("assumed" in r.description and "ESTIMATE" in r.source for r in cables)
    node_leaf = [r for r in cables if r.description.startswith("node-leaf")]
    assert [r.part for r in node_leaf] == ["mmf-mpo-12-apc"]
    assert node_leaf[0].unit_cost_usd == pytest.approx(12 * 30 * 0.5733 + 2 * 57, abs=0.005)  # to the cent
    assert node_leaf[0].quantity == 64  # one cable per GPU port: 8 servers x 8 rails
    # the cables are in the plan's capex, priced before the solve: node-leaf 64 x 320.388 =
    # 20,504.83 USD; leaf-spine 64 single-mode MPO-12 at its 100 m default (OS2 0.2175 USD per
    # fibre-metre): 64 x (12 x 100 x 0.2175 + 2 x 57) = 64 x 375 = 24,000 USD
    opt = result.chosen
    hand = round(64 * (12 * 30 * 0.5733 + 2 * 57), 2) + 64 * (12 * 100 * 0.2175 + 2 * 57)
    assert opt.capex_usd["cabling"] == pytest.approx(hand, abs=0.005)
    assert sum(r.extended_cost_usd for r in cables) == pytest.approx(hand, abs=0.005)
    # and in its cash flows: month 0 pays every capex line, the cables included
    from planner.outputs.physics import cash_flows

    assert cash_flows(result)[0] == pytest.approx(-sum(opt.capex_usd.values()), abs=0.01)
    assert set(opt.capex_usd) >= {"servers", "network", "cabling", "facility"}


def test_cable_capex_of_a_small_hall_by_hand(catalog):
    """The SMALL hall of test_lengths_by_hand (two DGX H100): 16 node-leaf links of 6.62 m
    and 16 leaf-spine links of 15.86 m, both multimode (SR). Node-leaf cables run direct,
    rounded up to 7 m (no stock lengths: the next metre): 16 x (12 x 7 x 0.5733 + 2 x 57) =
    16 x 162.1572 = 2,594.52 USD. The leaf-spine links leave the row for the meet-me room:
    128 lit fibres in 16-fibre OM4 trunks (the largest OM4 trunk): 8 trunks at the mean
    15.86 m, 9.17 USD/m x 15.86 + 2 MPO-16 plugs x 57 = 259.4362 USD each, 2,075.49 USD;
    the 576-fibre panels have no price, jumpers none. 4,670.01 USD, the same from the
    fitter's links (the option's capex, before the solve) and from the floor plan's."""
    from planner.network.cabling import cable_bill
    from planner.network.plan_fits import PlanFits

    shape = plan_shape(FabricSpec(servers=2, server="dgx-h100", leaf_switch="qm9700"), catalog)
    hall = Building(**SMALL)
    lay = lay_out(catalog, "dgx-h100", shape, [hall], [], Cabling())
    f = count_fabric(FabricSpec(servers=2, server="dgx-h100", leaf_switch="qm9700",
                                lengths_m={"node_leaf": 6.62, "leaf_spine": 15.86}), catalog)
    assert f.media["node_leaf"].optic_class == f.media["leaf_spine"].optic_class == "sr"
    hand = round(16 * (12 * 7 * 0.5733 + 2 * 57), 2) + round(8 * (9.17 * 15.86 + 2 * 57), 2)
    assert hand == pytest.approx(4670.01)
    fitter = PlanFits(catalog, "dgx-h100", [shape], [], Cabling())
    assert fitter.fits([hall])[0] is not None
    for links in (lay.links, fitter.links([hall], 0)):
        bill = cable_bill(links, f, catalog)
        assert sum(line.extended_usd for line in bill) == pytest.approx(hand, abs=0.005)
        trunk = next(line for line in bill if line.item == "trunk")
        assert (trunk.part, trunk.quantity) == ("mpo-trunk-16f-om4", 8)
        assert [line.unit_cost_usd for line in bill if line.item in ("panel", "jumper")] == [None, None]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_pair_lengths_equal_the_sum_of_each_pair_by_hand(data):
    """Every rack pair's length is the formula of its own pair, to the last bit, whatever the
    other pairs of the call: in one hall (|dx| + |dy|); between halls over the route's start
    s, end e and path p, ((|x_a - s_x| + |y_a - s_y|) + p) + (|x_b - e_x| + |y_b - e_y|); then
    (rise_a + horizontal + rise_b) x (1 + slack) + service loop. Links per pair of halls are
    counted; a missing route is named, the first pair of halls (in hall order) that lacks one."""
    import math

    import numpy as np

    from planner.network.halls import route_terms
    from planner.network.layout import _Geometry, pair_lengths
    from planner.site.schema import Route

    coord = st.floats(-500, 500, allow_nan=False).map(lambda v: round(v, 2))
    k = data.draw(st.integers(1, 4))
    names = [f"hall-{i}" for i in range(k)]
    racks = data.draw(st.integers(1, 12))
    hall = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=racks, max_size=racks)))
    xy = np.array(data.draw(st.lists(st.tuples(coord, coord), min_size=racks, max_size=racks)), dtype=float)
    rise = np.array(data.draw(st.lists(st.floats(0, 5).map(lambda v: round(v, 2)), min_size=k, max_size=k)))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, racks - 1), st.integers(0, racks - 1), st.integers(1, 9)),
                               min_size=1, max_size=40))
    a, b, n = (np.array(c, dtype=np.int64) for c in zip(*pairs, strict=True))
    routes = {}
    for i in range(k):
        for j in range(i + 1, k):
            if data.draw(st.booleans()):
                ends = (names[i], names[j]) if data.draw(st.booleans()) else (names[j], names[i])
                line = data.draw(st.lists(st.tuples(coord, coord), min_size=2, max_size=4))
                routes[ends] = Route(**{"from": ends[0], "to": ends[1], "polyline": line})
    cabling = Cabling(slack_ratio=data.draw(st.sampled_from([0.0, 0.1, 0.15])),
                      service_loop_m=data.draw(st.sampled_from([0.0, 2.0, 3.5])))
    geo = _Geometry(hall, xy, rise, names)
    crossings = sorted({int(hall[p] * k + hall[q]) for p, q in zip(a, b, strict=True) if hall[p] != hall[q]})
    missing = [c for c in crossings if (names[c // k], names[c % k]) not in routes
               and (names[c % k], names[c // k]) not in routes]
    counted: dict[tuple[str, str], int] = {}
    if missing:
        with pytest.raises(LayoutError) as info:
            pair_lengths(geo, a, b, n, routes, cabling, counted)
        first = missing[0]
        assert f"{names[first // k]!r} and {names[first % k]!r}" in str(info.value)
        return
    got = pair_lengths(geo, a, b, n, routes, cabling, counted)
    expected, links = [], {}
    for p, q, m in pairs:
        (xa, ya), (xb, yb) = xy[p].tolist(), xy[q].tolist()
        ha, hb = int(hall[p]), int(hall[q])
        if ha == hb:
            horizontal = abs(xa - xb) + abs(ya - yb)
        else:
            start, end, path = route_terms(names[ha], names[hb], routes)
            horizontal = ((abs(xa - start[0]) + abs(ya - start[1])) + path) + (abs(xb - end[0]) + abs(yb - end[1]))
            key = tuple(sorted((names[ha], names[hb])))
            links[key] = links.get(key, 0) + m
        expected.append((rise[ha] + horizontal + rise[hb]) * (1 + cabling.slack_ratio) + cabling.service_loop_m)
    assert got.tolist() == expected and all(math.isfinite(v) for v in expected)
    assert counted == links


def test_runs_is_numpys_unique_with_its_counts():
    """layout.runs gives np.unique(values, return_counts=True), the same arrays and dtypes: whole
    numbers of several widths in any order (shuffled, sorted, in runs, as the floor plan's rack
    and code arrays come), empty and single arrays, and floats none of which is zero or NaN."""
    import numpy as np

    from planner.network.layout import runs

    rng = np.random.default_rng(11)
    for trial in range(3000):
        size = int(rng.integers(0, 60))
        dtype = (np.int64, np.int32, np.intp, np.int16)[trial % 4]
        values = rng.integers(-5, int(rng.integers(1, 40)), size).astype(dtype)
        if trial % 3 == 1:
            values = np.sort(values)
        elif trial % 3 == 2:
            values = np.repeat(values[: size // 3], rng.integers(1, 4, size // 3))
        if trial % 7 == 0:
            values = rng.choice([0.25, 1.5, 3.0, -2.0, 1e9, 7.125], size)
        want, got = np.unique(values, return_counts=True), runs(values)
        for w, g in zip(want, got, strict=True):
            assert g.dtype == w.dtype and g.tobytes() == w.tobytes(), (values, want, got)

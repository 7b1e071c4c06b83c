"""The map-like figure of sites and the interconnect between them (planner/outputs/interconnect_map.py)."""

from __future__ import annotations

import math

import pytest

from planner.outputs.interconnect_map import (
    MapRoute,
    campus_map_routes,
    interconnect_map,
    place_from_distances,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _routes():
    return [MapRoute("mine-a", "mine-b", 40, "400zr"), MapRoute("mine-b", "greenfield", 60, "400zr"),
            MapRoute("mine-a", "greenfield", 80, "400zr-plus")]


def test_three_sites_placed_from_their_route_lengths_keep_those_lengths():
    """40, 60 and 80 km obey the triangle inequality (40 + 60 > 80): a plane triangle has
    exactly these sides, so the placed points are 40, 60 and 80 km apart."""
    pos = place_from_distances(["mine-a", "mine-b", "greenfield"], _routes())
    for r in _routes():
        assert math.dist(pos[r.a], pos[r.b]) == pytest.approx(r.km, rel=1e-9)


def test_a_chain_of_two_routes_is_placed_on_a_line():
    """a-b 30 km and b-c 50 km, no a-c route: the shortest path a-c is 80 km = 30 + 50, so the
    three points fall on one line with b between."""
    pos = place_from_distances(["a", "b", "c"], [MapRoute("a", "b", 30, "x"), MapRoute("b", "c", 50, "x")])
    assert math.dist(pos["a"], pos["c"]) == pytest.approx(80)
    assert math.dist(pos["a"], pos["b"]) == pytest.approx(30)


def test_the_map_is_written_with_or_without_coordinates(tmp_path):
    interconnect_map(tmp_path / "d.png", _routes(), title="from distances")
    interconnect_map(tmp_path / "c.png", _routes(), sites=[("mine-a", 0, 0), ("mine-b", 40, 0),
                                                           ("greenfield", 70, 52)])
    for name in ("d.png", "c.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="greenfield"):
        interconnect_map(tmp_path / "x.png", _routes(), sites=[("mine-a", 0, 0), ("mine-b", 40, 0)])


def test_a_campus_route_over_10_km_becomes_a_map_route():
    """The 30 km campus route of test_interconnect: 100 links x 400G = 40 Tb/s; 400ZR with
    100 wavelengths on 3 pairs and 12 EDFAs, 200 x 4,000 + 6 x 1,701 + 12 x 1,466 = 827,798 USD
    and 9 fibres laid / 2 x 30 km x 398.92 USD per fibre-pair-km = 53,854.20 USD of dark fibre,
    all estimates; 30 x 4.897 us."""
    from planner.network.cabling import campus_trunks
    from planner.network.layout import Layout
    from planner.parts.catalog import load_catalog
    from planner.site.schema import Route

    far = Route.model_validate({"from": "hall-a", "to": "hall-b", "polyline": [[0, 0], [30_000, 0]]})
    trunks = campus_trunks(Layout(inter_building={("hall-a", "hall-b"): 100}), {"leaf_spine": 8}, [far],
                           catalog=load_catalog(), link_gbps=400)
    (route,) = campus_map_routes(trunks, [far])
    assert (route.a, route.b, route.km, route.gbps) == ("hall-a", "hall-b", 30, 40_000)
    assert route.option == "400zr: 200 modules, 100 waves on 3 pair(s), 12 EDFAs"
    assert route.cost_usd == pytest.approx(827_798 + 53_854.20) and route.estimated
    assert route.latency_us == pytest.approx(30 * 1.468 / 299_792.458 * 1e6, abs=0.01)
    assert route.path == ((0.0, 0.0), (30.0, 0.0))

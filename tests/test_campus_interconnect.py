"""The buildings of one site joined over a route beyond grey reach (planner/network/campus.py):
the far links ride the route's interconnect, priced in the option's capex before the solve.

Figures used, from the bundled catalog (each price a labelled estimate):

    400zr       400 Gb/s, reach 120 km, 22.5 W, 4,000 USD     osfp-800g-2xdr4-500m  2 links a module
    mux         40 channels, passive 0 W (FS AAWG), 1,701 USD edfa  80 km span, 10 W, 1,466 USD
    dark fibre  398.92 USD per fibre-pair-km (City of Lawrence 2014: 275-367 USD per strand-mile)
    grey reach  10 km (400g-lr4, the longest grey single-mode module)

    wavelengths = ceil(Gb/s / 400); modules = 2 x wavelengths; pairs = ceil(wavelengths / 40);
    muxes = 2 x pairs; in-line sites = ceil(km / 80) - 1; EDFAs = pairs x 2 x (in-line + 2);
    fibres laid = ceil(2 x pairs x (1 + spare)); dark fibre = fibres laid / 2 x km;
    replaced tier modules = per module end of a crossing tier, crossing links // links a module
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from planner.network.campus import campus_interconnect, crossing, far_routes, local_lengths, local_links
from planner.network.layout import TierLinks
from planner.network.media import EndMedia, TierMedia
from planner.parts.catalog import load_catalog
from planner.site.schema import Route

from .conftest import SITES
from .sitebuilder import edit

FIBRE = 398.92
TWIN = EndMedia("module", "osfp-800g-2xdr4-500m", 2, 0, "mpo-12-apc", 0)
FR4 = EndMedia("module", "400g-fr4", 1, 0, "lc-duplex-upc", 0)
S9321 = {"leaf": "ufispace-s9321-64e", "spine": "ufispace-s9321-64e", "core": "ufispace-s9321-64e"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_the_far_links_of_a_tier_are_the_interconnect_s_by_hand(catalog):
    """Four rack pairs of leaf-spine links, 400G between UfiSpace S9321-64E switches run at one
    400G port a QSFP-DD cage (the cages run 200/400/800G) on 400G-FR4 modules: 10 links in hall-a
    (30 m), 100 + 20 across the 40 km route (either way round), 5 in hall-b (50 m). A 5 km route to
    hall-c is within grey reach and stays a tier link.

    The 400ZR fits those ports: Ethernet, QSFP-DD in a QSFP-DD cage, 22.5 W within the cage's
    30 W, one 400G link a cage. On site: 15 links, the longest 50 m (what the tier's media must
    reach). Across: 120 links, 48,000 Gb/s: 120 wavelengths of 400ZR, 240 modules,
    ceil(120 / 40) = 3 pairs, 6 muxes, ceil(40 / 80) - 1 = 0 in-line sites, 3 x 2 x 2 = 12
    EDFAs, ceil(6 x 1.5) = 9 fibres laid, 9 / 2 x 40 = 180 fibre-pair-km. 240 x 4,000 + 6 x 1,701
    + 12 x 1,466 + 180 x 398.92 = 1,059,603.60 USD; 240 x 22.5 + 6 x 0 + 12 x 10 = 5,520 W (the
    athermal mux is passive: FS's sourced 0 W, counted, not left out). The tier loses 120 // 1 =
    120 modules at each end: 240."""
    far = Route.model_validate({"from": "hall-a", "to": "hall-b", "polyline": [[0, 0], [40_000, 0]],
                                "spare_ratio": 0.5})
    near = Route.model_validate({"from": "hall-a", "to": "hall-c", "polyline": [[0, 0], [0, 5_000]]})
    routes = far_routes([near, far], catalog)
    assert list(routes) == [("hall-a", "hall-b")] and routes[("hall-a", "hall-b")].index == 1
    routes = {"leaf_spine": routes}
    tl = TierLinks(np.array([30.0, 40_200.0, 40_300.0, 50.0, 5_100.0]), np.array([10, 100, 20, 5, 7]),
                   np.array([0, 0, 1, 2, 0]), np.array([0, 1, 0, 2, 3]),
                   np.array([0, 0, 1, 1, 0]), np.array([0, 1, 0, 1, 2]), ("hall-a", "hall-b", "hall-c"))
    links = {"leaf_spine": tl}
    assert local_lengths(links, routes) == {"leaf_spine": 5_100.0}
    assert int(local_links(links, routes)["leaf_spine"].links.sum()) == 10 + 5 + 7
    assert crossing(links, routes) == {"leaf_spine": {("hall-a", "hall-b"): 120}}
    media = {"leaf_spine": TierMedia("leaf_spine", 142, 400, 50, "fr", FR4, FR4, "smf-lc", 142, 2)}
    campus = campus_interconnect(links, routes, media, catalog, S9321, "site.toml")
    assert campus is not None and not campus.unpriced
    (route,) = campus.routes
    chosen = route.sized.chosen
    assert route.gbps == 48_000 and chosen.module == "400zr"
    assert (chosen.wavelengths, chosen.modules, chosen.fibre_pairs, chosen.muxes, chosen.inline_sites,
            chosen.amplifiers, chosen.fibres, chosen.fibre_pair_km) == (120, 240, 3, 6, 0, 12, 9, 180)
    assert campus.capex_usd == pytest.approx(240 * 4000 + 6 * 1701 + 12 * 1466 + 180 * FIBRE, abs=0.005)
    assert campus.capex_usd == pytest.approx(1_059_603.60, abs=0.005)
    assert campus.power_w == pytest.approx(240 * 22.5 + 6 * 0.0 + 12 * 10)
    assert campus.power_w == pytest.approx(5_520.0)
    assert campus.no_power == ()
    assert campus.replaced == {"400g-fr4": 2 * (120 // 1)}


def test_links_joined_from_plans_of_other_halls_keep_their_halls():
    """Two parts numbered in their own hall lists join with each end in the joined list."""
    one = TierLinks(np.array([1.0]), np.array([1]), np.array([0]), np.array([0]), np.array([0]), np.array([0]),
                    ("hall-b",))
    two = TierLinks(np.array([2.0]), np.array([1]), np.array([0]), np.array([1]), np.array([0]), np.array([1]),
                    ("hall-a", "hall-b"))
    joined = TierLinks.join([one, two])
    assert joined.halls == ("hall-a", "hall-b")
    assert [joined.halls[i] for i in joined.hall_a] == ["hall-b", "hall-a"]
    assert [joined.halls[i] for i in joined.hall_b] == ["hall-b", "hall-b"]


def test_dark_fibre_is_a_labelled_estimate_a_user_can_override(catalog, tmp_path):
    """The bundled figure: 2 strands x 321 USD per strand-mile (the mid-point of 275-367) /
    1.609344 km per mile = 398.92 USD per fibre-pair-km, with its source and date. An overlay
    at 1,000 USD: 8 x 400G over 40 km by 400ZR is 16 x 4,000 + 2 x 1,701 + 4 x 1,466 + 2 fibres
    / 2 x 40 km x 1,000 = 113,266 USD."""
    from planner.network.interconnect import Need, size_interconnect

    est = catalog.estimate("dark-fibre-pair-km")
    assert est.unit_cost_usd == pytest.approx(round(2 * (275 + 367) / 2 / 1.609344, 2))
    assert (est.low_usd, est.high_usd) == (round(2 * 275 / 1.609344, 2), round(2 * 367 / 1.609344, 2))
    assert "http" in est.source and est.as_of is not None and "Confidence" in est.notes
    assert catalog.unit_cost("dark-fibre-pair-km")[1].startswith("ESTIMATE: ")
    (tmp_path / "estimates.toml").write_text(
        '[[estimate]]\nkey = "dark-fibre-pair-km"\nunit_cost_usd = 1000\nbasis = "a quote"\nsource = "test"\n'
        'as_of = 2026-12-03\n', encoding="utf-8")
    sized = size_interconnect(load_catalog([tmp_path]), Need(3200, 40))
    assert sized.chosen.module == "400zr"
    assert sized.chosen.cost_usd == pytest.approx(16 * 4000 + 2 * 1701 + 4 * 1466 + 40 * 1000)


# The UfiSpace S9321-64E run at one 400G port a QSFP-DD cage, the example metro campus's overlay
# (its figures are the bundled entry's and sources'; its power and price the bundled estimates')
S9321_400 = SITES / "overlays" / "s9321-64e-400g"


def _far_campus(tmp_path, laps: int = 0, gpus: int = 24_576, switch: str = "s9321-64e-400g"):
    """The greenfield campus with hall-a held to 11 kW racks and exactly ``gpus`` GPUs (24,576 is
    more than hall-a holds, so the plan spans both halls), on ``switch`` (the S9321-64E at 400G
    a cage, from the metro campus's overlay, or a bundled key). Without ``laps``, hall-b is moved 40 km
    north (origin [0, 40,000]) and its duct bank runs 10 m east, 40,013 m south, 10 m west:
    40,033 m. With ``laps``, hall-b stays where it is and the route runs out 20 km and back
    ``laps`` times (the site file keeps coordinates within 100 km)."""
    changes: dict = {"buildings[0].max_kw_per_rack": 11.0, "ai.leaf_switch": switch}
    add: dict = {"ai.min_gpus": gpus, "ai.max_gpus": gpus}
    if switch == "s9321-64e-400g":
        add["catalog"] = [str(S9321_400)]
    if not laps:
        changes["buildings[1].origin"] = [0, 40_000]
        changes["routes[0].polyline"] = [[120, 40_020], [130, 40_020], [130, 7], [120, 7]]
    else:
        line: list[list[float]] = [[120, 120]]
        for lap in range(laps):
            y = 120 - lap * 113 / laps
            line += ([[20_120, y], [20_120, y - 113 / laps / 2], [120, y - 113 / laps / 2]] if lap < laps - 1
                     else [[20_120, y], [20_120, 7], [120, 7]])
        changes["routes[0].polyline"] = line
    site = tmp_path / "far-campus.toml"
    site.write_text(edit(SITES / "greenfield-campus.toml", changes, add=add), encoding="utf-8")
    return site


def test_a_campus_40_km_apart_solves_with_its_interconnect_in_the_capex(tmp_path, catalog):
    """The plan crosses the 40.033 km route with leaf-spine links between S9321-64E switches run
    at one 400G port a QSFP-DD cage (their tier's 400G-FR4 modules reach 2 km; the 400ZR fits
    the cage: Ethernet, QSFP-DD, 22.5 W of the cage's 30 W). With L crossing links (the floor
    plan's count) of 400G:
    400ZR x 2L, ceil(L / 40) pairs, 2 muxes a pair, pairs x 2 x 2 EDFAs (no in-line site under
    80 km), ceil(2 x pairs x 1.5) fibres laid, fibres / 2 x 40.033 fibre-pair-km. The BOM's
    interconnect rows re-add to capex_usd["interconnect"] to the cent; the transceivers (summary
    and BOM) are the fabric's less L 400G-FR4 modules at each end; every capex dollar and
    IT watt is a BOM row."""
    from planner.app.cli import main
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache
    from planner.outputs.physics import layout_for

    site = _far_campus(tmp_path)
    out = tmp_path / "out"
    assert main(["solve", str(site), "-o", str(out), "-q", "--cables", "always", "--netbox"]) == 0
    doc = json.loads((out / "summary.json").read_text())
    (name, plan), = doc["scenarios"].items()
    assert plan["status"] == "optimal" and plan["gpus"] == 24_576
    assert plan["hall_plan"] == "hall-a new, hall-b new"

    # the crossing links, from the floor plan laid out after the solve
    loaded, cat = load(site)
    result = next(iter(solve_site(loaded, cat, cache=PlanCache()).results.values()))
    lay = layout_for(result, cat)
    (pair, crossing_links), = lay.inter_building.items()
    assert lay.inter_building_by_tier == {"leaf_spine": {pair: crossing_links}}
    fab = result.chosen.fabric
    assert fab.media["leaf_spine"].optic_class == "fr" and lay.max_length("leaf_spine") > 40_033
    assert fab.media["leaf_spine"].lower.part == fab.media["leaf_spine"].upper.part == "400g-fr4"
    km = (10 + 40_013 + 10) / 1000
    waves = math.ceil(crossing_links * 400 / 400)
    pairs = math.ceil(waves / 40)
    amps = pairs * 2 * (math.ceil(km / 80) - 1 + 2)
    laid = math.ceil(2 * pairs * 1.5)
    pair_km = round(laid / 2 * km, 3)
    with (out / "bom.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["scenario"] == name]
    ic = {r["part"]: r for r in rows if r["category"] == "interconnect"}
    assert {p: float(r["quantity"]) for p, r in ic.items()} == {
        "400zr": 2 * waves, "dwdm-mux-40ch-100ghz": 2 * pairs, "edfa-c-band-module": amps,
        "dark-fibre-pair-km": pair_km}
    expected = 2 * waves * 4000 + 2 * pairs * 1701 + amps * 1466 + round(pair_km * FIBRE, 2)
    assert sum(float(r["extended_cost_usd"]) for r in ic.values()) == pytest.approx(expected, abs=0.005)
    assert plan["capex_breakdown_usd"]["interconnect"] == pytest.approx(expected, abs=0.005)
    assert all("ESTIMATE" in r["source"] for r in ic.values())
    assert "leaves out" not in " ".join(plan["warnings"])  # every part has a power figure
    ic_w = {p: float(r["extended_power_w"]) for p, r in ic.items()}
    assert ic_w == pytest.approx({"400zr": 2 * waves * 22.5, "dwdm-mux-40ch-100ghz": 2 * pairs * 0.0,
                                  "edfa-c-band-module": amps * 10.0, "dark-fibre-pair-km": 0.0})
    assert any(w.startswith("capex_breakdown_usd.interconnect") and "ESTIMATES" in w and "dark-fibre-pair-km" in w
               for w in plan["warnings"])
    # the tier modules the interconnect replaces: L // 1 at each end, off summary and BOM alike
    gone = 2 * (crossing_links // 1)
    optics = {r["part"]: float(r["quantity"]) for r in rows if r["category"] == "transceiver"}
    assert plan["transceivers"]["400g-fr4"] == fab.transceivers["400g-fr4"] - gone
    assert optics == {k: float(v) for k, v in plan["transceivers"].items()}
    # every capex dollar and every IT watt of the plan is a BOM row
    assert sum(float(r["extended_cost_usd"]) for r in rows if r["extended_cost_usd"]) == pytest.approx(
        plan["capex_usd"], abs=0.01)
    watts = sum(float(r["extended_power_w"]) for r in rows if r["extended_power_w"])
    assert watts == pytest.approx(plan["it_power_mw"] * 1e6, abs=1.0)
    # cables.csv: the far links ride the interconnect (no cable); the rest re-add to the BOM's cables
    from .test_cables import check_schedule_readds

    check_schedule_readds(out)
    with (out / "cables.csv").open(newline="") as handle:
        far = [r for r in csv.DictReader(handle) if r["medium"] == "interconnect"]
    assert len(far) == crossing_links and {r["part"] for r in far} == {"400zr"}
    assert all(r["tier"] == "leaf_spine" and not r["cable"] for r in far)
    # summary.json's cables, lit fibres and MPO: the far links have no tier cable and light the
    # interconnect's pairs, not 2 fibres each (400G-FR4: duplex LC, 2 fibres a link, no MPO)
    fibres_a_link = {t: catalog.optics[m.lower.part].fibers_lit // catalog.optics[m.lower.part].ports
                     for t, m in fab.media.items() if m.links}
    assert fibres_a_link["leaf_spine"] == 2
    assert plan["fibers"] == sum((fab.links[t] - (crossing_links if t == "leaf_spine" else 0)) * f
                                 for t, f in fibres_a_link.items()) + 2 * pairs
    assert plan["mpo_connectors"] == fab.mpo_connectors  # the crossing tier's modules are LC duplex
    kind = fab.media["leaf_spine"].cable_kind
    assert plan["cables"][kind] == fab.cables[kind] - crossing_links
    # the topology: the far bundles ride the interconnect and name the route
    import gzip

    import networkx as nx

    with gzip.open(out / "topology.graphml.gz") as handle:
        g = nx.read_graphml(handle)
    far_edges = [d for _u, _v, d in g.edges(data=True) if d["medium"] == "interconnect"]
    assert sum(d["bundle"] for d in far_edges) == crossing_links
    assert {(d["tier"], d["route"]) for d in far_edges} == {("leaf_spine", "routes[0]")}
    assert sum(d["bundle"] for _u, _v, d in g.edges(data=True) if d["tier"] == "leaf_spine"
               and d["medium"] == "fr") == fab.links["leaf_spine"] - crossing_links
    # NetBox: a far link is no tier cable (no type, no length); its description names the route
    with (out / "netbox" / name / "cables.csv").open(newline="") as handle:
        boxed = [r for r in csv.DictReader(handle) if r["description"].startswith("interconnect over routes[0]")]
    assert len(boxed) == crossing_links
    assert all(not r["type"] and not r["length"] and not r["length_unit"] for r in boxed)
    # the campus trunk shows the same interconnect as the capex
    (trunk,) = plan["layout"]["campus_trunks"]
    assert trunk["dci_optics"] and trunk["interconnect"]["chosen"]["modules"] == 2 * waves
    assert trunk["interconnect"]["crossing_links_by_tier"] == {"leaf_spine": crossing_links}


def test_a_route_no_optic_reaches_refuses_the_plans_across_it(tmp_path):
    """A route of 26 laps of 40 km, over 1,000 km (OpenZR+'s reach, the longest): no plan may
    cross it; the plan that fits hall-a alone is still solved."""
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache

    site = _far_campus(tmp_path, laps=26, gpus=8192)
    loaded, cat = load(site)
    result = next(iter(solve_site(loaded, cat, cache=PlanCache()).results.values()))
    assert str(result.status) == "optimal" and result.chosen.variant == "hall-a new"
    assert result.chosen.interconnect is None


def test_a_plan_that_must_cross_a_route_no_optic_reaches_is_infeasible(tmp_path, capsys):
    """24,576 GPUs need both halls: with the route beyond every reach, exit 1 naming what binds,
    and the refused route among the warnings."""
    from planner.app.cli import main

    site = _far_campus(tmp_path, laps=26)
    assert main(["solve", str(site), "-o", str(tmp_path / "out"), "--json"]) == 1
    plan = json.loads(capsys.readouterr().out)["scenarios"]["greenfield"]
    assert plan["status"] == "infeasible" and "min GPUs: 24576 required" in " ".join(plan["binding_constraints"])
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache

    loaded, cat = load(site)
    result = next(iter(solve_site(loaded, cat, cache=PlanCache()).results.values()))
    assert any(w.startswith("plans across routes[0] are refused: no optic or line system in the catalog reaches")
               for w in result.inputs.warnings)


def test_which_switch_ports_take_the_interconnect_s_modules(catalog):
    """The rule, switch by switch, from the catalog's own figures (400ZR and OpenZR+: QSFP-DD,
    22.5 W, one 400G link; 800ZR: QSFP-DD800 or OSFP, 28 W, one 800G link):

    - QM9700 (InfiniBand): no Ethernet module, whatever its cage;
    - SN5600 (Ethernet, OSFP, 18 W a port with dual 3 kW PSUs): 400ZR is QSFP-DD, not OSFP; 800ZR
      is OSFP but 28 W > 18 W;
    - Arista 7060X6-64PE (Ethernet, OSFP, no power class in the catalog): 800ZR not assumed to fit;
    - S9321-64E (Ethernet, QSFP-DD, 30 W): 400ZR and OpenZR+ fit a cage carrying one 400G link,
      not a cage carrying 2 x 400G (its 800G mode's breakout);
    - Bailly (co-packaged optics): no cage; a server's end: not a switch port."""
    from planner.network.campus import port_refusal
    from planner.network.media import form_factors

    zr, zrp, zr8 = (catalog.optics[k] for k in ("400zr", "400zr-plus", "800zr"))
    one = EndMedia("module", "400g-fr4", 1, 0, "lc-duplex-upc", 0)
    assert form_factors(zr8.form_factor) == {"QSFP-DD800", "OSFP"} and form_factors(zr.form_factor) == {"QSFP-DD"}
    assert "qm9700 runs InfiniBand" in port_refusal(catalog, zr, "qm9700", one, 400)
    assert "400zr is QSFP-DD; sn5600's cages are OSFP" in port_refusal(catalog, zr, "sn5600", one, 400)
    assert "800zr draws 28 W, more than the 18 W a sn5600 cage takes" in port_refusal(catalog, zr8, "sn5600", one, 800)
    assert "no module power class for arista-7060x6-64pe" in port_refusal(catalog, zr8, "arista-7060x6-64pe", one, 800)
    assert port_refusal(catalog, zr, "ufispace-s9321-64e", one, 400) is None
    assert port_refusal(catalog, zrp, "ufispace-s9321-64e", one, 400) is None
    assert "runs 2 x 400G links in each ufispace-s9321-64e cage" in port_refusal(
        catalog, zr, "ufispace-s9321-64e", TWIN, 400)
    assert "no pluggable cages" in port_refusal(catalog, zr, "bailly-th5-cpo", one, 400)
    assert "a server NIC is not a switch of the catalog" in port_refusal(catalog, zr, None, one, 400)


def test_infiniband_switches_refuse_the_plans_across_a_far_route(tmp_path, capsys):
    """The greenfield campus on its own QM9700s, 40 km apart: no module of the catalog that
    reaches 40 km plugs into an InfiniBand port, so the plan across is refused with a warning
    naming the switch; 8,192 GPUs fit hall-a alone and are solved; 24,576 need both halls: exit 1
    naming the GPU bound."""
    from planner.app.cli import main
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache

    site = _far_campus(tmp_path, gpus=8192, switch="qm9700")
    loaded, cat = load(site)
    result = next(iter(solve_site(loaded, cat, cache=PlanCache()).results.values()))
    assert str(result.status) == "optimal" and result.chosen.variant == "hall-a new"
    assert result.chosen.interconnect is None
    site = _far_campus(tmp_path, switch="qm9700")
    assert main(["solve", str(site), "-o", str(tmp_path / "out"), "--json"]) == 1
    plan = json.loads(capsys.readouterr().out)["scenarios"]["greenfield"]
    assert plan["status"] == "infeasible" and "min GPUs: 24576 required" in " ".join(plan["binding_constraints"])
    loaded, cat = load(site)
    result = next(iter(solve_site(loaded, cat, cache=PlanCache()).results.values()))
    (warning,) = [w for w in result.inputs.warnings if w.startswith("plans across routes[0] are refused")]
    assert "no module that reaches 40.033 km plugs into the ports" in warning
    assert "400zr: leaf_spine's leaf end: qm9700 runs InfiniBand; 400zr is an Ethernet module" in warning
    assert "400zr-plus: leaf_spine's leaf end: qm9700 runs InfiniBand" in warning


def test_far_links_count_the_interconnect_s_fibres_not_the_tier_s_by_hand(catalog):
    """ridden_counts, as summary.json counts cables, lit fibres and MPO connectors: a leaf-spine
    tier of 142 400G links on twin-port DR4 modules (2 links, 2 MPO-12 and 16 fibres a module:
    8 fibres a link), 120 of them across a 40 km route (sized without the port check, to count
    MPO): cables 142 - 120 = 22; lit fibres 22 x 8 = 176 plus 3 pairs x 2 = 182; MPO-12 at each end
    71 modules x 2 = 142, less 120 // 2 = 60 modules x 2 = 120: 22 a side, 44 in all; the
    interconnect's 240 400ZR modules bring one LC duplex each."""
    from planner.network.campus import CampusLinks, FarRoute, RouteLink, ridden_counts
    from planner.network.interconnect import Need, size_interconnect

    end = EndMedia("module", "osfp-800g-2xdr4-500m", 2, 71, "mpo-12-apc", 142)
    media = {"leaf_spine": TierMedia("leaf_spine", 142, 400, 50, "dr", end, end, "smf-mpo-12-apc", 142, 8)}
    sized = size_interconnect(catalog, Need(120 * 400, 40, 0.5))
    assert sized.chosen.module == "400zr" and sized.chosen.fibre_pairs == 3
    campus = CampusLinks((RouteLink(FarRoute(("hall-a", "hall-b"), 0, 40, 0.5), {"leaf_spine": 120}, 48_000, sized),),
                         {"osfp-800g-2xdr4-500m": 120})
    counts = ridden_counts(media, campus, catalog)
    assert counts.cables == {"smf-mpo-12-apc": 22}
    assert counts.fibers == 22 * 8 + 3 * 2
    assert counts.mpo_connectors == {"mpo-12-apc": 2 * (71 * 2 - 60 * 2)}
    assert counts.connectors == {"lc-duplex-upc": 240, "mpo-12-apc": 44}
    whole = ridden_counts(media, None, catalog)
    assert (whole.cables, whole.fibers, whole.connectors) == ({"smf-mpo-12-apc": 142}, 142 * 8, {"mpo-12-apc": 284})


def test_grey_reach_is_each_tier_s_own_by_hand(catalog):
    """Grey reach by link speed, from the bundled optics (longest non-coherent module of that
    speed a port): 400G: 400G-LR4, 10 km; 800G: OSFP 2xFR4 at 1.6T over 2 ports, 2 km; 1.6T: DR8,
    500 m; 200G: only the multimode SR4 at 200G, 50 m; a speed no module has (3.2T): the
    catalog's longest grey single-mode reach, 10 km (the media choice then says what is missing).

    A 5 km route between hall-a and hall-b is beyond an 800G leaf-spine's 2 km but within a 400G
    node-leaf's 10 km: only the leaf-spine links across it ride the interconnect; 3 of the
    leaf-spine tier's 4 links stay on site, every node-leaf link does."""
    from planner.network.campus import tier_far
    from planner.network.interconnect import grey_reach_m

    assert [grey_reach_m(catalog, g) for g in (400, 800, 1600, 200, 3200)] == [10_000, 2_000, 500, 50, 10_000]
    assert grey_reach_m(catalog) == 10_000
    route = Route.model_validate({"from": "hall-b", "to": "hall-a", "polyline": [[0, 0], [3_000, 0], [3_000, 2_000]]})
    far = tier_far([route], catalog, {"node_leaf": 400, "leaf_spine": 800, "spine_core": 800})
    assert set(far) == {"leaf_spine", "spine_core"} and far["leaf_spine"][("hall-a", "hall-b")].km == 5
    two = TierLinks(np.array([30.0, 5_050.0]), np.array([3, 1]), np.array([0, 0]), np.array([0, 1]),
                    np.array([0, 0]), np.array([0, 1]), ("hall-a", "hall-b"))
    links = {"node_leaf": two, "leaf_spine": two}
    assert crossing(links, far) == {"leaf_spine": {("hall-a", "hall-b"): 1}}
    assert {t: int(tl.links.sum()) for t, tl in local_links(links, far).items()} == {"node_leaf": 4, "leaf_spine": 3}
    assert local_lengths(links, far) == {"node_leaf": 5_050.0, "leaf_spine": 30.0}


def test_the_metro_campus_example_by_hand(tmp_path, capsys):
    """sites/metro-campus.toml: 256 DGX H100 (2,048 GPUs, 8 x 400G NICs each) on 64-port 400G
    switches: 2,048 / 32 = 64 leaves of 32 down and 32 up ports, 2,048 leaf-spine links. The route
    is 10 + 40,004 + 24 m = 40.038 km. With L leaf-spine links across (whole leaves in hall-b send
    their 32 uplinks to the spines in hall-a's meet-me room: L is a multiple of 32): 400ZR 2L,
    ceil(L / 40) pairs, 2 muxes and 2 x 2 EDFAs a pair (no in-line site under 80 km), ceil(2 x
    pairs x 1.5) fibres laid, and the capex closed form; stdout is only the JSON."""
    from planner.app.cli import main

    assert main(["solve", str(SITES / "metro-campus.toml"), "-o", str(tmp_path / "out"), "-q", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    plan = doc["scenarios"]["campus"]
    assert plan["status"] == "optimal" and plan["gpus"] == 2048 and plan["hall_plan"] == "hall-a new, hall-b new"
    assert plan["switches"] == {"leaf": 64, "spine": 32, "core": 0} and plan["links"]["leaf_spine"] == 2048
    (trunk,) = plan["layout"]["campus_trunks"]
    ic = trunk["interconnect"]
    crossing_links = ic["crossing_links_by_tier"]["leaf_spine"]
    assert set(ic["crossing_links_by_tier"]) == {"leaf_spine"} and crossing_links % 32 == 0
    assert 0 < crossing_links < 2048 and ic["route_km"] == 40.038
    pairs = math.ceil(crossing_links / 40)
    laid = math.ceil(2 * pairs * 1.5)
    pair_km = round(laid / 2 * 40.038, 3)
    chosen = ic["chosen"]
    assert (chosen["module"], chosen["modules"], chosen["fibre_pairs"], chosen["muxes"], chosen["amplifiers"],
            chosen["fibres"], chosen["fibre_pair_km"]) == ("400zr", 2 * crossing_links, pairs, 2 * pairs,
                                                           pairs * 2 * 2, laid, pair_km)
    expected = 2 * crossing_links * 4000 + 2 * pairs * 1701 + pairs * 4 * 1466 + round(pair_km * FIBRE, 2)
    assert plan["capex_breakdown_usd"]["interconnect"] == pytest.approx(expected, abs=0.005)
    # the layout counts the far links on the interconnect, as the BOM does: the trunk between the
    # halls is the interconnect's fibres laid (every link across rides it), the tier's cable
    # lengths and structured cabling are the links that stay on site
    assert trunk["interconnect_links"] == trunk["links"] == crossing_links
    assert (trunk["fibers_needed"], trunk["cable_fibers"], trunk["cables"]) == (laid, 864, 1)
    lengths = plan["layout"]["cable_lengths"]["leaf_spine"]
    assert lengths["links"] == 2048 - crossing_links and lengths["interconnect_links"] == crossing_links
    assert lengths["max_m"] < 100 and "> 10000 m" not in lengths["histogram"]
    (structured,) = plan["layout"]["structured_cabling"]
    with (tmp_path / "out" / "bom.csv").open(newline="") as handle:
        bom = {r["part"]: float(r["quantity"]) for r in csv.DictReader(handle) if r["category"] == "structured_cabling"}
    assert structured["links"] <= 2048 - crossing_links and structured["jumpers"] == 2 * structured["links"]
    assert (bom[structured["trunk"]], bom[structured["panel"]], bom["jumper-" + structured["jumper_connector"]]) == (
        structured["trunks"], structured["panels"], structured["jumpers"])

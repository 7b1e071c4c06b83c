"""The interconnect between sites and buildings (planner/network/interconnect.py).

Every expected count is derived here by hand from the catalog's sourced figures, written out
once below, and the closed forms of the line system:

    400g-lr4    400 Gb/s, reach 10 km, 2 fibres lit, 10 W      (Ascent QSFP-DD-LR4-10)
    400g-fr4    400 Gb/s, reach 2 km                           (Wavesplitter WST-QD4-FR4-C)
    400zr       400 Gb/s, reach 120 km, 100 GHz slot, 22.5 W   (OIF 400ZR; F-tone power)
    400zr-plus  400 Gb/s, reach 1,000 km, 75 GHz slot, 22.5 W  (OpenZR+ per NTT; F-tone power)
    800zr       800 Gb/s, reach 120 km, 150 GHz slot           (Smartoptics TD8005)
    mux         40 channels at 100 GHz, passive: 0 W           (FS C21-C60 AAWG)
    amplifier   80 km span, 10 W per module (one direction)    (GLHC EDFA)

    links = wavelengths = ceil(Gb/s / module Gb/s); modules = 2 x links
    grey:     fibre pairs = ceil(links x fibres lit / 2)
    coherent: fibre pairs = ceil(wavelengths / 40); muxes = 2 x pairs;
              in-line sites = ceil(km / 80) - 1; amplifiers = pairs x 2 x (in-line + 2)
    latency = km x 1.468 / 299,792.458 km/s

Prices: no vendor list price exists for any of these; the bundled labelled estimates
(catalogs/estimates.toml, each shown as ESTIMATE) are

    400g-lr4 800, 400zr 4,000, 400zr-plus 4,000, 800zr 8,000,
    dwdm-mux-40ch-100ghz 1,701, edfa-c-band-module 1,466 USD per unit,
    dark fibre 398.92 USD per fibre-pair-km (fibres laid / 2 x km)
"""

from __future__ import annotations

import math

import pytest

from planner.errors import InputError
from planner.network.interconnect import Need, crossing_gbps, latency_us, size_interconnect
from planner.parts.catalog import load_catalog

US_PER_KM = 1.468 / 299_792.458 * 1e6  # about 4.897 us per km


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _option(result, module, mux=None):
    found = [o for o in result.options if o.module == module and (mux is None or o.mux == mux)]
    assert len(found) == 1, [o.module for o in result.options]
    return found[0]


def _priced(tmp_path, prices: dict[str, float]):
    """The bundled catalog with an overlay of test prices (labelled estimates)."""
    rows = [f'[[estimate]]\nkey = "{k}"\nunit_cost_usd = {v}\nbasis = "test price"\nsource = "test"\n'
            f'as_of = 2026-12-03\n' for k, v in prices.items()]
    (tmp_path / "estimates.toml").write_text("\n".join(rows), encoding="utf-8")
    return load_catalog([tmp_path])


def test_5_km_grey_lr4_counts_by_hand(catalog):
    """3.2 Tb/s over 5 km: FR4 (2 km) cannot; LR4 (10 km) can: 3,200 / 400 = 8 links,
    16 modules, ceil(8 x 2 / 2) = 8 fibre pairs, 16 fibres in one 864-fibre cable,
    16 x 10 W = 160 W, 5 x 4.897 = 24.5 us."""
    result = size_interconnect(catalog, Need(3200, 5))
    lr4 = _option(result, "400g-lr4")
    assert (lr4.kind, lr4.links, lr4.modules, lr4.wavelengths) == ("grey", 8, 16, 0)
    assert (lr4.fibre_pairs, lr4.fibres, lr4.cable_fibers, lr4.cables) == (8, 16, 864, 1)
    assert (lr4.muxes, lr4.amplifiers) == (0, 0)
    assert lr4.power_w == pytest.approx(16 * 10.0)
    assert lr4.latency_us == pytest.approx(5 * US_PER_KM)
    assert "400g-fr4" not in {o.module for o in result.options}
    assert any(r.startswith("400g-fr4: reach 2 km < route 5 km") for r in result.refused)
    # the same 8 links as 400ZR wavelengths: one fibre pair (8 <= 40), 2 muxes, no in-line
    # amplifier (ceil(5/80) - 1 = 0), a booster and a pre-amplifier per direction: 1 x 2 x 2 = 4
    zr = _option(result, "400zr")
    assert (zr.wavelengths, zr.fibre_pairs, zr.muxes, zr.inline_sites, zr.amplifiers) == (8, 1, 2, 0, 4)


def test_60_km_takes_coherent_and_40_vs_41_wavelengths_is_one_vs_two_fibre_pairs(catalog):
    """16 Tb/s = 40 x 400G fills the 40-channel mux exactly: 1 pair, 2 muxes,
    ceil(60/80) - 1 = 0 in-line, 1 x 2 x 2 = 4 amplifiers. 16.4 Tb/s = 41 wavelengths:
    2 pairs, 4 muxes, 2 x 2 x 2 = 8 amplifiers. No grey module reaches 60 km."""
    exact = size_interconnect(catalog, Need(16_000, 60))
    assert {o.kind for o in exact.options} == {"coherent"}
    zr = _option(exact, "400zr")
    assert (zr.links, zr.modules, zr.wavelengths, zr.fibre_pairs, zr.muxes, zr.amplifiers) == (40, 80, 40, 1, 2, 4)
    over = _option(size_interconnect(catalog, Need(16_400, 60)), "400zr")
    assert (over.wavelengths, over.fibre_pairs, over.muxes, over.amplifiers) == (41, 2, 4, 8)
    assert zr.latency_us == pytest.approx(60 * US_PER_KM)
    # the athermal mux is passive (FS: 0 W, a sourced figure, not an estimate): 80 modules x
    # 22.5 W + 2 muxes x 0 W + 4 EDFAs x 10 W = 1,840 W, every part counted
    assert zr.missing_power == () and zr.power_w == pytest.approx(80 * 22.5 + 2 * 0.0 + 4 * 10.0)
    assert zr.power_w == pytest.approx(1_840.0)
    mux = next(p for p in zr.parts if p.key == "dwdm-mux-40ch-100ghz")
    assert (mux.quantity, mux.unit_w) == (2, 0.0) and "passive" in mux.power_basis
    assert catalog.power("dwdm-mux-40ch-100ghz").estimated is False


def test_300_km_needs_zr_plus_with_in_line_amplifiers(catalog):
    """8 Tb/s over 300 km: 400ZR (120 km) cannot; OpenZR+ can: 20 wavelengths, 1 pair,
    ceil(300/80) - 1 = 3 in-line sites, 1 x 2 x (3 + 2) = 10 amplifiers of 10 W, 40 modules."""
    result = size_interconnect(catalog, Need(8_000, 300))
    assert {o.module for o in result.options} == {"400zr-plus"}
    zrp = result.options[0]
    assert (zrp.wavelengths, zrp.modules, zrp.fibre_pairs, zrp.inline_sites, zrp.amplifiers) == (20, 40, 1, 3, 10)
    parts = {p.key: p for p in zrp.parts}
    assert parts["edfa-c-band-module"].quantity * parts["edfa-c-band-module"].unit_w == pytest.approx(10 * 10.0)
    assert parts["400zr-plus"].quantity * parts["400zr-plus"].unit_w == pytest.approx(40 * 22.5)
    assert any(r.startswith("400zr: reach 120 km < route 300 km") for r in result.refused)


@pytest.mark.parametrize(("km", "inline"), [(80, 0), (80.001, 1), (160, 1), (160.5, 2), (240, 2), (241, 3)])
def test_in_line_amplifier_sites_at_span_boundaries(catalog, km, inline):
    """In-line sites = ceil(km / 80) - 1: a route of exactly n spans needs n - 1 sites."""
    zrp = _option(size_interconnect(catalog, Need(400, km)), "400zr-plus")
    assert zrp.inline_sites == inline == math.ceil(km / 80) - 1
    assert zrp.amplifiers == 1 * 2 * (inline + 2)


def test_800zr_needs_a_150_ghz_grid_and_is_sized_when_one_is_given(catalog, tmp_path):
    """800ZR's 150 GHz slot does not fit the 100 GHz mux: refused, saying why. With a
    32-channel 150 GHz mux in an overlay (4.8 THz / 150 GHz = 32): 12.8 Tb/s = 16
    wavelengths, 1 pair; 25.6 Tb/s = 32, 1 pair; 26.4 Tb/s = 33, 2 pairs."""
    assert "800zr" not in {o.module for o in size_interconnect(catalog, Need(3200, 50)).options}
    assert any(r.startswith("800zr: no line system") for r in size_interconnect(catalog, Need(3200, 50)).refused)
    (tmp_path / "line-systems.toml").write_text(
        '[[line_system]]\nkey = "test-mux-150"\nvendor = "test"\nmodel = "test"\nrole = "mux"\n'
        'channels = 32\nspacing_ghz = 150\nsource = "test"\nas_of = 2026-12-03\n', encoding="utf-8")
    wide = load_catalog([tmp_path])
    for gbps, waves, pairs in ((12_800, 16, 1), (25_600, 32, 1), (26_400, 33, 2)):
        o = _option(size_interconnect(wide, Need(gbps, 50)), "800zr", "test-mux-150")
        assert (o.wavelengths, o.fibre_pairs, o.muxes) == (waves, pairs, 2 * pairs)
    # 400ZR (100 GHz) fits both muxes; 400ZR+ (75 GHz) too: each mux is its own option
    assert {o.mux for o in size_interconnect(wide, Need(400, 50)).options if o.module == "400zr"} == {
        "dwdm-mux-40ch-100ghz", "test-mux-150"}


def test_cheapest_priced_option_is_chosen(tmp_path):
    """Test prices: LR4 1,000, 400ZR 5,000, OpenZR+ 7,000, mux 2,000, amplifier 3,000 USD,
    dark fibre 100 USD per fibre-pair-km. 3.2 Tb/s over 5 km: LR4 16 x 1,000 + 8 pairs x 5 km
    x 100 = 20,000; 400ZR 16 x 5,000 + 2 x 2,000 + 4 x 3,000 + 1 pair x 5 x 100 = 96,500;
    OpenZR+ 128,500: LR4. Over 60 km (no grey): 400ZR 96,000 + 6,000 < OpenZR+ 128,000 + 6,000."""
    priced = _priced(tmp_path, {"400g-lr4": 1000, "400zr": 5000, "400zr-plus": 7000,
                                "dwdm-mux-40ch-100ghz": 2000, "edfa-c-band-module": 3000,
                                "dark-fibre-pair-km": 100})
    near = size_interconnect(priced, Need(3200, 5))
    assert near.chosen is not None and near.chosen.module == "400g-lr4"
    assert near.chosen.cost_usd == pytest.approx(16 * 1000 + 8 * 5 * 100)
    assert _option(near, "400zr").cost_usd == pytest.approx(16 * 5000 + 2 * 2000 + 4 * 3000 + 5 * 100)
    assert _option(near, "400zr").estimated == ("400zr", "dwdm-mux-40ch-100ghz", "edfa-c-band-module",
                                                "dark-fibre-pair-km")
    far = size_interconnect(priced, Need(3200, 60))
    assert far.chosen is not None and far.chosen.module == "400zr"
    assert far.chosen.cost_usd == pytest.approx(96_000 + 60 * 100)
    assert _option(far, "400zr-plus").cost_usd == pytest.approx(16 * 7000 + 2 * 2000 + 4 * 3000 + 60 * 100)


PRICE = {"400g-lr4": 800, "400zr": 4000, "400zr-plus": 4000, "800zr": 8000,
         "dwdm-mux-40ch-100ghz": 1701, "edfa-c-band-module": 1466, "dark-fibre-pair-km": 398.92}
FIBRE = PRICE["dark-fibre-pair-km"]


def test_the_bundled_price_estimates_are_labelled_and_dated(catalog):
    """Each interconnect part is priced only by a labelled estimate with a source and a date."""
    for key, usd in PRICE.items():
        price = catalog.unit_cost(key)
        assert price is not None and price[0] == usd and price[1].startswith("ESTIMATE: "), key
        estimate = catalog.estimate(key)
        assert "http" in estimate.source and estimate.as_of is not None


@pytest.mark.parametrize(("km", "chosen", "cost"), [
    # 3.2 Tb/s = 8 links. 5 km: LR4 reaches: 16 modules x 800 + 8 pairs x 5 km of dark fibre
    # (400ZR would be 16 x 4,000 + 2 muxes x 1,701 + 4 amplifiers x 1,466 + 1 pair x 5 km)
    (5, "400g-lr4", 16 * 800 + 8 * 5 * FIBRE),
    # 60 km: no grey module reaches; 400ZR and OpenZR+ both cost 73,266 + 60 pair-km and draw
    # the same (unknown mux power): the shorter-reach module that suffices, 400ZR, is kept
    (60, "400zr", 16 * 4000 + 2 * 1701 + 4 * 1466 + 60 * FIBRE),
    # 300 km: only OpenZR+; ceil(300/80) - 1 = 3 in-line sites: 1 pair x 2 x (3 + 2) = 10 EDFAs
    (300, "400zr-plus", 16 * 4000 + 2 * 1701 + 10 * 1466 + 300 * FIBRE),
])
def test_the_cheapest_option_changes_as_the_route_grows(catalog, km, chosen, cost):
    result = size_interconnect(catalog, Need(3200, km))
    assert result.chosen is not None and result.chosen.module == chosen
    assert result.chosen.cost_usd == pytest.approx(cost)
    assert result.chosen.estimated  # every part's price is an estimate, and says so
    for o in result.options:  # each option's cost from the counts and the prices, by hand
        assert o.cost_usd == pytest.approx(sum(p.quantity * PRICE[p.key] for p in o.parts))
        assert o.cost_usd >= result.chosen.cost_usd


def test_at_60_km_each_option_costs_what_its_counts_say():
    """12 Tb/s over 60 km: 30 wavelengths, one pair; 400ZR 60 x 4,000 + 2 x 1,701 + 4 x 1,466
    = 249,266 USD + 1 pair x 60 km x 398.92 = 23,935.20 of dark fibre; OpenZR+ the same; 240 km:
    OpenZR+ alone, ceil(240/80) - 1 = 2 in-line sites, 1 x 2 x 4 = 8 EDFAs: 240,000 + 3,402 +
    11,728 = 255,130 + 240 x 398.92 = 95,740.80."""
    cat = load_catalog()
    near = size_interconnect(cat, Need(12_000, 60))
    assert _option(near, "400zr").cost_usd == pytest.approx(249_266 + 23_935.20)
    assert _option(near, "400zr-plus").cost_usd == pytest.approx(249_266 + 23_935.20)
    assert near.chosen.module == "400zr"
    far = size_interconnect(cat, Need(12_000, 240))
    assert far.chosen.module == "400zr-plus" and far.chosen.cost_usd == pytest.approx(255_130 + 95_740.80)


def test_a_part_without_a_price_leaves_its_option_unpriced_never_zero(catalog, tmp_path):
    """A 150 GHz mux with no price: 800ZR over it is sized but not priced, and not chosen;
    the cheapest priced option (400ZR, 73,266 USD + 50 pair-km of dark fibre at 3.2 Tb/s over
    50 km) still is."""
    (tmp_path / "line-systems.toml").write_text(
        '[[line_system]]\nkey = "test-mux-150"\nvendor = "test"\nmodel = "test"\nrole = "mux"\n'
        'channels = 32\nspacing_ghz = 150\nsource = "test"\nas_of = 2026-12-03\n', encoding="utf-8")
    result = size_interconnect(load_catalog([tmp_path]), Need(3200, 50))
    zr800 = _option(result, "800zr", "test-mux-150")
    assert zr800.cost_usd is None and zr800.missing_price == ("test-mux-150",)
    assert result.chosen.module == "400zr" and result.chosen.cost_usd == pytest.approx(73_266 + 50 * FIBRE)


def test_a_distance_no_option_reaches_is_refused_naming_file_key_and_line(catalog):
    with pytest.raises(InputError) as err:
        size_interconnect(catalog, Need(400, 1500), file="site.toml", key="routes[0].polyline", line=42)
    problem = err.value.problems[0]
    assert (problem.file, problem.key, problem.line) == ("site.toml", "routes[0].polyline", 42)
    assert "1500 km" in problem.message and "1000 km" in problem.message  # the longest reach
    assert str(problem).startswith("site.toml:42: routes[0].polyline:")


@pytest.mark.parametrize(("gbps", "km"), [(0, 10), (-1, 10), (400, 0), (float("nan"), 10), (400, float("inf"))])
def test_bad_need_is_an_input_error(catalog, gbps, km):
    with pytest.raises(InputError, match="bandwidth > 0 and a route > 0 km"):
        size_interconnect(catalog, Need(gbps, km))


def test_spare_fibres_and_cable_sizes(catalog):
    """Grey LR4 for 400 Tb/s over 5 km: 1,000 links, 1,000 pairs, 2,000 lit fibres; with
    half again spare, ceil(2,000 x 1.5) = 3,000 fibres: one 3,456-fibre cable. For 800 Tb/s:
    6,000 fibres: two 3,456-fibre cables."""
    one = _option(size_interconnect(catalog, Need(400_000, 5, spare=0.5)), "400g-lr4")
    assert (one.fibre_pairs, one.fibres, one.cable_fibers, one.cables) == (1000, 3000, 3456, 1)
    two = _option(size_interconnect(catalog, Need(800_000, 5, spare=0.5)), "400g-lr4")
    assert (two.fibres, two.cable_fibers, two.cables) == (6000, 3456, 2)


def test_crossing_bandwidth_and_latency():
    """A quarter of a 51.2 Tb/s bisection is 12.8 Tb/s; 100 km of fibre is ~489.7 us one way."""
    assert crossing_gbps(51_200, 0.25) == pytest.approx(12_800)
    with pytest.raises(ValueError):
        crossing_gbps(51_200, 0)
    assert latency_us(100) == pytest.approx(100 * 1.468 / 299_792.458 * 1e6)
    assert latency_us(100) == pytest.approx(489.7, abs=0.1)


def test_a_campus_route_over_10_km_gets_a_sized_interconnect(catalog):
    """100 links of 400G between two halls over a 30 km duct bank, spare 0.5: 40 Tb/s;
    no grey module reaches 30 km; 400ZR: 100 wavelengths, ceil(100/40) = 3 fibre pairs,
    6 muxes, ceil(30/80) - 1 = 0 in-line sites, 3 x 2 x 2 = 12 amplifiers, ceil(6 x 1.5) = 9
    fibres laid in one 864-fibre cable. A 5 km route keeps the old row, with no interconnect."""
    from planner.network.cabling import campus_trunks
    from planner.network.layout import Layout
    from planner.site.schema import Route

    far = Route.model_validate({"from": "hall-a", "to": "hall-b", "polyline": [[0, 0], [30_000, 0]]})
    near = Route.model_validate({"from": "hall-a", "to": "hall-c", "polyline": [[0, 0], [0, 5_000]]})
    layout = Layout(inter_building={("hall-a", "hall-b"): 100, ("hall-a", "hall-c"): 100})
    rows = campus_trunks(layout, {"leaf_spine": 8}, [far, near], catalog=catalog, link_gbps=400)
    by_to = {r["to"]: r for r in rows}
    ic = by_to["hall-b"]["interconnect"]
    assert by_to["hall-b"]["dci_optics"] and (ic["gbps"], ic["route_km"]) == (40_000, 30)
    zr = next(o for o in ic["options"] if o["module"] == "400zr")
    assert (zr["wavelengths"], zr["fibre_pairs"], zr["muxes"], zr["inline_amplifier_sites"], zr["amplifiers"]) == (
        100, 3, 6, 0, 12)
    assert (zr["fibres"], zr["cable_fibers"], zr["cables"]) == (9, 864, 1)
    assert zr["latency_us"] == pytest.approx(30 * US_PER_KM, abs=0.01)
    # priced by the estimates: 200 x 4,000 + 6 x 1,701 + 12 x 1,466 = 827,798 USD, and 9 fibres
    # laid / 2 x 30 km = 135 fibre-pair-km of dark fibre x 398.92 = 53,854.20, both coherent
    # modules alike; 400ZR (120 km) kept over OpenZR+ as the shorter reach
    assert zr["fibre_pair_km"] == 135
    assert ic["chosen"]["module"] == "400zr" and ic["chosen"]["cost_usd"] == pytest.approx(827_798 + 53_854.20)
    assert ic["chosen"]["estimated"] == ["400zr", "dwdm-mux-40ch-100ghz", "edfa-c-band-module", "dark-fibre-pair-km"]
    assert {o["module"] for o in ic["options"]} == {"400zr", "400zr-plus"}
    assert "interconnect" not in by_to["hall-c"] and not by_to["hall-c"]["dci_optics"]
    # the trunk row itself is unchanged: 100 x 8 x 1.5 = 1,200 fibres in one 1,728-fibre cable
    assert (by_to["hall-b"]["fibers_needed"], by_to["hall-b"]["cable_fibers"], by_to["hall-b"]["cables"]) == (
        1200, 1728, 1)
    # without the catalog (the old call) a far route is only flagged
    assert "interconnect" not in campus_trunks(layout, {"leaf_spine": 8}, [far, near])[0]


def test_bom_rows_of_a_far_route_replace_the_crossing_tier_optics(catalog):
    """The 30 km route above, its 100 crossing links all leaf-spine links of twin-port 800G
    modules (2 links per module) at both ends. The interconnect's rows re-added: 400ZR 2 x 100 =
    200 modules, 2 x 3 = 6 muxes, 3 x 2 x 2 = 12 EDFAs, priced 4,000 / 1,701 / 1,466 USD each
    and marked ESTIMATE; the fabric loses 100 // 2 = 50 modules at each end = 100 modules."""
    from planner.network.cabling import campus_trunks
    from planner.network.layout import Layout
    from planner.network.media import EndMedia, TierMedia
    from planner.outputs.bom_interconnect import interconnect_rows
    from planner.site.schema import Route

    far = Route.model_validate({"from": "hall-a", "to": "hall-b", "polyline": [[0, 0], [30_000, 0]]})
    near = Route.model_validate({"from": "hall-a", "to": "hall-c", "polyline": [[0, 0], [0, 5_000]]})
    layout = Layout(inter_building={("hall-a", "hall-b"): 100, ("hall-a", "hall-c"): 40},
                    inter_building_by_tier={"leaf_spine": {("hall-a", "hall-b"): 100, ("hall-a", "hall-c"): 40}})
    trunks = campus_trunks(layout, {"leaf_spine": 8}, [far, near], catalog=catalog, link_gbps=400)
    twin = EndMedia("module", "osfp-800g-2xdr4", 2, 0, "mpo-12-apc", 0)
    media = {"leaf_spine": TierMedia("leaf_spine", 1000, 400, 50, "dr", twin, twin, "smf-mpo-12-apc", 1000, 8)}
    rows, replaced = interconnect_rows("s", trunks, catalog, layout.inter_building_by_tier, media)
    by_part = {r.part: r for r in rows}
    assert {p: r.quantity for p, r in by_part.items()} == {
        "400zr": 200, "dwdm-mux-40ch-100ghz": 6, "edfa-c-band-module": 12, "dark-fibre-pair-km": 135}
    assert {p: r.extended_cost_usd for p, r in by_part.items()} == {
        "400zr": 200 * 4000, "dwdm-mux-40ch-100ghz": 6 * 1701, "edfa-c-band-module": 12 * 1466,
        "dark-fibre-pair-km": 53_854.20}
    assert by_part["dark-fibre-pair-km"].extended_power_w == 0  # glass
    assert all("ESTIMATE" in r.source and r.category == "interconnect" for r in rows)
    assert by_part["400zr"].extended_power_w == pytest.approx(200 * 22.5)
    assert (by_part["dwdm-mux-40ch-100ghz"].unit_power_w, by_part["dwdm-mux-40ch-100ghz"].extended_power_w) \
        == (0.0, 0.0)  # passive (FS AAWG): a sourced 0 W
    assert by_part["edfa-c-band-module"].extended_power_w == pytest.approx(12 * 10.0)
    assert "30 km" in by_part["400zr"].description
    # the 5 km route keeps its grey optics: only the far route's links are replaced
    assert replaced == {"osfp-800g-2xdr4": 2 * (100 // 2)}


def test_a_solved_campus_as_if_its_route_were_30_km(monkeypatch, tmp_path):
    """The greenfield campus with hall-a held to 11 kW racks (one DGX H100 each) and at least
    2,048 GPUs, so that the plan spans both halls (0.2 km apart), solved as it is; its real
    crossing links and tier media, with the route stretched to 30 km for the interconnect
    (the post-solve path of bom_interconnect; tests/test_campus_interconnect.py solves a campus whose
    route is 40 km): the BOM's
    transceiver rows lose, per tier and module end, crossing links // links per module, and
    the interconnect's rows are added. The crossing links by tier add up to the layout's
    links per hall pair."""
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache
    from planner.network.cabling import campus_trunks, fastest
    from planner.outputs import bom_interconnect
    from planner.outputs.bom import bom_rows
    from planner.outputs.physics import layout_for
    from planner.site.schema import Route

    from .conftest import SITES
    from .sitebuilder import edit

    site = tmp_path / "two-halls.toml"
    site.write_text(edit(SITES / "greenfield-campus.toml", {"buildings[0].max_kw_per_rack": 11.0},
                         add={"ai.min_gpus": 2048}), encoding="utf-8")
    loaded, cat = load(site)
    run = solve_site(loaded, cat, cache=PlanCache())
    result = next(iter(run.results.values()))
    lay = layout_for(result, cat)
    fab = result.chosen.fabric
    (pair, links), = lay.inter_building.items()
    assert links > 0 and sum(t.get(pair, 0) for t in lay.inter_building_by_tier.values()) == links
    far = Route.model_validate({"from": pair[0], "to": pair[1], "polyline": [[0, 0], [30_000, 0]]})
    trunks = campus_trunks(lay, {t: m.fibers_per_link for t, m in fab.media.items()}, [far], catalog=cat,
                           link_gbps=fastest(fab.media))
    rows, replaced = bom_interconnect.interconnect_rows(result.inputs.scenario, trunks, cat,
                                                        lay.inter_building_by_tier, fab.media)
    expected: dict[str, int] = {}
    for tier, by_pair in lay.inter_building_by_tier.items():
        for end in (fab.media[tier].lower, fab.media[tier].upper):
            if end.kind == "module":
                expected[end.part] = expected.get(end.part, 0) + by_pair.get(pair, 0) // end.links_per_unit
    assert replaced == expected and sum(replaced.values()) > 0
    monkeypatch.setattr(bom_interconnect, "plan_interconnect_rows", lambda _r, _c: (rows, replaced))
    bom = bom_rows(result, cat)
    optics = {r.part: r.quantity for r in bom if r.category == "transceiver"}
    for key, n in fab.transceivers.items():  # re-added, the fabric's count
        assert optics.get(key, 0) + replaced.get(key, 0) == n
    chosen = trunks[0]["interconnect"]["chosen"]
    added = [r for r in bom if r.category == "interconnect"]
    assert sum(r.extended_cost_usd for r in added) == pytest.approx(chosen["cost_usd"])
    assert {r.part: r.quantity for r in added}[chosen["module"]] == chosen["modules"]

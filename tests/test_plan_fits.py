"""Hall plans share their floor-plan work (issue 17 point 3) without changing any option.

``PlanFits`` places the racks of a family's largest cluster once per branch of the plan
tree and skips the sizes that the first halls of a plan already hold; ``FabricMemo``
counts a fabric once per size and choice of media. Both must be invisible in the results:

- every option, warning and capped reason of a scenario equals the brute-force
  enumeration, in which every hall plan is fitted on its own from its first SU and every
  fabric is counted afresh;
- every fit of every plan agrees with a full :func:`lay_out` of that size in that plan's
  halls, derived without any of the shared machinery;
- the memoised fabric counts equal :func:`count_fabric` at any length, reach boundaries
  included.

Random small sites come from :func:`sites` (hypothesis); the cases that once needed a
condition of the sharing (a later meet-me room drawing the spines away, a later hall
with fewer switches per network rack, a missing route in a later hall) are fixed
examples, so the check does not depend on the draw.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import partial
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.model.cache import PlanCache
from planner.model.inputs import prepare
from planner.model.options import hall_plans, scenario_halls
from planner.network.fabric import (
    DEFAULT_LENGTH_M,
    TIERS,
    FabricError,
    FabricMemo,
    FabricSpec,
    count_fabric,
    plan_shape,
)
from planner.network.halls import LayoutError
from planner.network.layout import Fit, lay_out
from planner.network.plan_fits import PlanFits
from planner.parts.catalog import load_catalog
from planner.site.load import load_site
from planner.site.schema import Route

from .conftest import ROOT

CATALOG = load_catalog()  # not the fixture: hypothesis would print its repr (200 kB) with every failure

HEAD = """
schema = 1
name = "random halls"
[grid]
capacity_mw = {capacity}
[power_price]
kind = "flat"
usd_per_mwh = 40
[cooling]
ai_pue = 1.3
[ai]
server = "{server}"
leaf_switch = "qm9700"
step = "{step}"
{bounds}
lease_usd_per_gpu_hour = 3.0
[economics]
discount_rate = 0.1
horizon_years = 5
btc_price_usd = 90000
network_hashrate_ehs = 1000
[scenarios.s]
kind = "{kind}"
facility_usd_per_mw = 9.0e6
{order}
"""

HALL = """
[[buildings]]
name = "h{i}"
polygon = [[0, 0], [{w}, 0], [{w}, {d}], [0, {d}]]
origin = [0, {y}]
status = "{status}"
max_kw_per_rack = {kw}
switches_per_network_rack = {per_rack}
leaf_position = "{leaf}"
{extra}
"""


def render(site: dict) -> str:
    """Site text from the parameters :func:`sites` draws (and the fixed examples give)."""
    text = HEAD.format(**site)
    for i, h in enumerate(site["halls"]):
        extra = []
        if h.get("positions"):
            extra.append(f"miner_positions = {h['positions']}")
        if h.get("mmr"):
            w = h["w"]
            extra.append(f'meet_me_room = {{ name = "MMR{i}", polygon = [[{w - 3}, 0], [{w}, 0], [{w}, 3], '
                         f'[{w - 3}, 3]] }}')
        if h.get("convert"):
            extra.append('conversion = { cooling = "direct-liquid", max_kw_per_rack = 132, usd_per_mw = 1.5e6, '
                         'pue = 1.15 }')
        text += HALL.format(i=i, y=40 * i, extra="\n".join(extra), **{k: h[k] for k in
                                                                     ("w", "d", "status", "kw", "per_rack", "leaf")})
    for a, b in site["routes"]:
        ya, yb = 40 * a + 2, 40 * b + 2
        wa, wb = site["halls"][a]["w"], site["halls"][b]["w"]
        text += (f'\n[[routes]]\nfrom = "h{b}"\nto = "h{a}"\n'
                 f"polyline = [[{wb}, {yb}], [40, {yb}], [40, {ya}], [{wa}, {ya}]]\n")
    return text


@st.composite
def sites(draw) -> dict:
    """A small site: 2 to 4 halls of a few SUs each, some too hot until converted, some
    with a meet-me room, some with miners a hybrid may keep (so any may be left out),
    fewer switches per network rack here and there, routes between some pairs only; DGX
    H100 in whole SUs (sometimes with a partial last SU to meet min_gpus), one server at
    a time, or GB200 NVL72 racks."""
    kind = draw(st.sampled_from(["retrofit", "hybrid", "greenfield"]))
    server, step = draw(st.sampled_from([("dgx-h100", "su"), ("dgx-h100", "su"), ("dgx-h100", "server"),
                                         ("gb200-nvl72", "server")]))
    n = draw(st.integers(2, 4))
    halls = []
    for _ in range(n):
        halls.append({
            "w": draw(st.integers(8, 30)), "d": draw(st.integers(4, 12)),
            "status": "new" if kind == "greenfield" or draw(st.integers(0, 4)) == 0 else "existing",
            "kw": draw(st.sampled_from([8, 20, 40, 40, 132])), "per_rack": draw(st.sampled_from([16, 16, 16, 2])),
            "leaf": draw(st.sampled_from(["end", "end", "middle"])),
            "positions": draw(st.sampled_from([0, 100])) if kind == "hybrid" else 0,
            "mmr": draw(st.integers(0, 2)) == 0, "convert": draw(st.booleans()),
        })
    routes = [(a, b) for a in range(n) for b in range(a + 1, n) if draw(st.integers(0, 3))]
    if server == "gb200-nvl72":
        bounds = f"max_gpus = {72 * draw(st.integers(2, 10))}"
    elif step == "server":
        bounds = f"max_gpus = {8 * draw(st.integers(8, 48))}"
    else:
        bounds = f"min_gpus = {8 * draw(st.integers(0, 60))}"
    order = ""
    if draw(st.booleans()):  # the scenario lists its halls (existing and new together), in a drawn order
        names = draw(st.permutations([f"h{i}" for i in range(n)]))
        order = "buildings = [" + ", ".join(f'"{x}"' for x in names) + "]"
    return {"kind": kind, "server": server, "step": step, "bounds": bounds, "order": order, "halls": halls,
            "routes": routes, "capacity": draw(st.sampled_from([1.5, 4.0, 8.0, 14.0]))}


def _hall(**kw) -> dict:
    return {"w": 20, "d": 8, "status": "existing", "kw": 40, "per_rack": 16, "leaf": "end", "positions": 100,
            "mmr": False, "convert": False, **kw}


def _fixed(halls: list[dict], routes: list[tuple[int, int]], capacity: float = 14.0) -> dict:
    return {"kind": "hybrid", "server": "dgx-h100", "step": "su", "bounds": "", "order": "", "halls": halls,
            "routes": routes, "capacity": capacity}


# A size held by h0 has its spines in h0's room; with h1 (which has a meet-me room) after
# it, they move to h1's MMR, so (h0, h1) offers that size although h0 holds all its SUs.
LATER_MMR = _fixed([_hall(d=12), _hall(mmr=True)], [(0, 1)])
# h1 puts 2 switches in a network rack: SUs in (h0, h1) take more racks than in h0 alone.
FEWER_PER_RACK = _fixed([_hall(d=12), _hall(per_rack=2)], [(0, 1)])
# no route between h1 and h2, and h2's rows (10 positions) are too short for an SU (12
# racks): in (h1, h2) the SU after h1's last wraps into h2, its links need the route, and
# the plan offers no size, not even those h1 holds; plans through h0 are fine
MISSING_ROUTE = _fixed([_hall(d=6, mmr=True), _hall(d=6), _hall(w=7, d=12)], [(0, 1), (0, 2)])
# a big grid, every hall needed: nothing held early, every plan fitted
ALL_NEEDED = _fixed([_hall(d=6, mmr=True), _hall(d=6), _hall(d=6)], [(0, 1), (0, 2), (1, 2)], capacity=40.0)


def _outcome(path, catalog, shared: bool):
    """What prepare gives: every option before and after merging look-alikes, warnings,
    capped reasons, minimum GPUs; or the input error. ``shared=False`` is the brute
    force: each plan fitted on its own, each fabric counted afresh."""
    patches = [] if shared else [patch("planner.network.plan_fits.PlanFits", partial(PlanFits, share=False)),
                                 patch("planner.model.options.FabricMemo", _Recount)]
    for p in patches:
        p.start()
    try:
        cache = PlanCache()
        inputs = prepare(load_site(path), catalog, "s", cache)
    except InputError as exc:
        return ("input error", str(exc))
    finally:
        for p in patches:
            p.stop()
    every = next(iter(cache.options.values())).options
    return every, inputs.options, inputs.warnings, inputs.capped_by, inputs.min_gpus


class _Recount:
    """FabricMemo without the memo."""

    def __init__(self, catalog):
        self.catalog = catalog

    def count(self, spec: FabricSpec):
        return count_fabric(spec, self.catalog)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(site=sites())
@example(site=LATER_MMR)
@example(site=FEWER_PER_RACK)
@example(site=MISSING_ROUTE)
@example(site=ALL_NEEDED)
def test_options_equal_the_brute_force_enumeration(write_site, site):
    path = write_site(render(site))
    shared, alone = _outcome(path, CATALOG, True), _outcome(path, CATALOG, False)
    assert shared == alone


def _family_shapes(catalog, server: str, sizes: list[int]) -> list:
    return [plan_shape(FabricSpec(servers=n, server=server, leaf_switch="qm9700"), catalog) for n in sizes]


def _check_fits_against_layouts(catalog, path, sizes: list[int]) -> PlanFits:
    """Every plan's fits from one shared PlanFits, each against the size laid out in full
    in that plan's halls.

    Where the site lacks a route that a size's links need, the full layout fails; where
    its racks stand is then taken from a full layout with a stand-in route between every
    pair of halls (placing racks never reads routes). Such a size is None where it does
    not reach the plan's last hall (the fit asks no route of a size it drops), else the
    missing route's error."""
    loaded = load_site(path)
    site = loaded.site
    server = site.ai.server
    halls = scenario_halls(loaded, "s")
    plans, _ = hall_plans(loaded, catalog, server, halls, "s")
    shapes = _family_shapes(catalog, server, sizes)
    fitter = PlanFits(catalog, server, shapes, site.routes, site.cabling)
    alone = PlanFits(catalog, server, shapes, site.routes, site.cabling, share=False)
    every_pair = [Route(**{"from": a.name, "to": b.name, "polyline": [(0, 0), (0, 1)]})
                  for i, a in enumerate(halls) for b in halls[i + 1:]]
    for plan in plans:
        used = [b for b, _ in plan]
        if not used:  # no hall in the scenario: options without a floor plan, nothing to fit
            continue
        need = used[-1].name if len(used) > 1 else None
        fits = fitter.fits(used, need)
        assert _words(fits) == _words(alone.fits(used, need)), "as the plan fitted on its own"
        for i, (shape, fit) in enumerate(zip(shapes, fits, strict=True)):
            where = (tuple(b.name for b in used), shape.servers)
            try:
                full, missing = lay_out(catalog, server, shape, used, site.routes, site.cabling), None
            except LayoutError as exc:
                if not str(exc).startswith("no route between halls"):  # the racks do not fit
                    assert isinstance(fit, LayoutError), where
                    continue
                full, missing = lay_out(catalog, server, shape, used, every_pair, site.cabling), exc
            racks_in = {r["building"] for r in full.racks}
            if isinstance(fit, LayoutError):
                # this size's links need a missing route, or the largest size's do within an SU:
                # a plan whose SUs span two halls without a route offers no size at all
                assert str(fit).startswith("no route between halls"), where
                continue
            if need is not None and need not in racks_in:
                assert fit is None, where
                continue
            assert missing is None and isinstance(fit, Fit), where
            assert fit.halls == racks_in, where
            servers = {}
            for rack in full.endpoint_rack:
                servers[full.racks[rack]["building"]] = servers.get(full.racks[rack]["building"], 0) + 1
            assert fit.endpoints == servers, where
            for tier, value in fit.lengths.items():
                assert value == pytest.approx(full.max_length(tier) or 0.0, rel=1e-9), (where, tier)
            _check_links(fitter.links(used, i), full, where)
    return fitter


def _fixed_sizes(test):
    """The fixed sites with the sizes that reach their cases (in SUs), as hypothesis examples of
    a test drawing a site and sizes."""
    for site, sizes in ((LATER_MMR, [1, 4, 8, 12, 16, 20, 24, 28, 32]), (FEWER_PER_RACK, [2, 4, 8, 12, 16, 20, 24]),
                        (MISSING_ROUTE, [1, 2, 4, 6, 8, 10, 12])):
        test = example(site=site, sizes=sizes)(test)
    return test


def _check_links(links: dict, full, where) -> None:
    """The links a fitter measured for one size (its cables' price before the solve) are
    the full layout's: per tier, every link's length and whether it stays in its room, and
    for a switch tier the links per pair of rooms (room numbers are each one's own)."""
    import numpy as np

    for tier, lengths in full.lengths.items():
        tl = links[tier]
        mine = np.repeat(tl.length_m, tl.links)
        assert np.sort(mine) == pytest.approx(np.sort(lengths), rel=1e-12), (where, tier)
        assert np.sort(np.repeat(tl.length_m[tl.same_room], tl.links[tl.same_room])) == pytest.approx(
            np.sort(lengths[full.same_room[tier]]), rel=1e-12), (where, tier)
        if tier == "node_leaf":
            continue

        def per_room_pair(t) -> list[int]:
            cross = ~t.same_room
            out: dict[tuple, int] = {}
            for a, b, n in zip(t.room_a[cross], t.room_b[cross], t.links[cross], strict=True):
                key = (min(a, b), max(a, b))
                out[key] = out.get(key, 0) + int(n)
            return sorted(out.values())

        assert per_room_pair(tl) == per_room_pair(full.links[tier]), (where, tier)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(site=sites().filter(lambda s: s["server"] == "dgx-h100"),
       sizes=st.lists(st.integers(1, 24), min_size=1, max_size=6))
@_fixed_sizes
def test_every_plan_fits_like_its_full_layouts(write_site, site, sizes):
    """Sizes in SUs of 32 DGX H100 (and some partial SUs), every plan of the scenario."""
    sizes = sorted({32 * k for k in sizes} | {32 * k - 5 for k in sizes[:2] if k > 1})
    _check_fits_against_layouts(CATALOG, write_site(render(site)), sizes)


def _same_links(got: dict, want: dict, where) -> None:
    """Two sizes' links are the same arrays, to the bit and the dtype."""
    assert set(got) == set(want), where
    for tier, tl in want.items():
        for field in ("length_m", "links", "room_a", "room_b", "hall_a", "hall_b"):
            a, b = getattr(got[tier], field), getattr(tl, field)
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), (where, tier, field)
        assert got[tier].halls == tl.halls, (where, tier)


def _check_links_in_batches(catalog, path, sizes: list[int]) -> int:
    """Every plan's links of its prefix sizes, measured together (_prefix_links_many, as the
    options ask for them: PlanFits.links) and one size at a time (_prefix_links): the same
    arrays, or the same error raised for the same size. The sizes compared in batches."""
    from planner.network import plan_fits as pf

    loaded = load_site(path)
    site = loaded.site
    server = site.ai.server
    plans, _ = hall_plans(loaded, catalog, server, scenario_halls(loaded, "s"), "s")
    shapes = _family_shapes(catalog, server, sizes)
    fitter, alone = (PlanFits(catalog, server, shapes, site.routes, site.cabling) for _ in range(2))
    compared = 0
    for plan in plans:
        used = [b for b, _ in plan]
        if not used:
            continue
        need = used[-1].name if len(used) > 1 else None
        fits = fitter.fits(used, need)
        alone.fits(used, need)
        node = fitter.placement(used)
        prefix = [i for i in range(len(shapes)) if fitter.prefix_ok[i] and isinstance(node._fits.get(i), Fit)]
        batch = pf._prefix_links_many(node, [shapes[i] for i in prefix]) if prefix else []
        for i, together in zip(prefix, batch, strict=True):
            where = (tuple(b.name for b in used), shapes[i].servers)
            try:
                want = pf._prefix_links(node, shapes[i])
            except LayoutError:
                assert together is None, where  # a batch holding a missing route leaves each size alone
                continue
            if together is not None:
                _same_links(together, want, where)
                compared += 1
        for i, fit in enumerate(fits):  # as the options ask: in order, through the batches ahead
            if isinstance(fit, Fit) and shapes[i].servers:
                where = (tuple(b.name for b in used), shapes[i].servers)
                try:
                    with patch.object(pf, "LINKS_AHEAD", 1):  # one size at a time
                        want = alone.links(used, i)
                except LayoutError as exc:
                    with pytest.raises(LayoutError, match=re.escape(str(exc))):
                        fitter.links(used, i)
                    continue
                _same_links(fitter.links(used, i), want, where)
    return compared


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(site=sites().filter(lambda s: s["server"] == "dgx-h100"),
       sizes=st.lists(st.integers(1, 24), min_size=2, max_size=8))
@_fixed_sizes
@example(site=ALL_NEEDED, sizes=[1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24])
def test_links_measured_in_batches_are_each_sizes_own(write_site, site, sizes):
    """The links of several sizes of a plan measured at once are each size's own, bit for bit,
    and a size whose links need a missing route raises as on its own (sizes in SUs of 32 DGX
    H100 and some partial SUs, every plan of the scenario)."""
    sizes = sorted({32 * k for k in sizes} | {32 * k - 5 for k in sizes[:2] if k > 1})
    _check_links_in_batches(CATALOG, write_site(render(site)), sizes)


def test_links_in_batches_on_the_example_sites():
    """The same on the example sites' hall plans (the Xinjiang mine's 617 sizes of 2 and 3
    tiers among them): every size's links measured with the others equal its own."""
    from planner.app.pipeline import load
    from planner.network import plan_fits as pf

    compared = 0
    for name in ("xinjiang-mine", "metro-campus", "greenfield-campus", "sichuan-hydro"):
        loaded, catalog = load(ROOT / "sites" / f"{name}.toml")
        cache = PlanCache()
        for scenario in loaded.site.scenarios:
            prepare(loaded, catalog, scenario, cache)
        for work in cache.fitters.values():
            for node in list(work.fitter._placements.values()):
                owner = work.fitter
                prefix = [i for i in range(len(owner.shapes))
                          if owner.prefix_ok[i] and isinstance(node._fits.get(i), Fit)]
                for i, together in zip(prefix, pf._prefix_links_many(node, [owner.shapes[i] for i in prefix]),
                                       strict=True):
                    assert together is not None, (name, i)
                    _same_links(together, pf._prefix_links(node, owner.shapes[i]), (name, i))
                    compared += 1
    assert compared > 800


def _words(fits: list) -> list:
    """Fits with each error as its message (errors compare by identity)."""
    return [("error", str(f)) if isinstance(f, LayoutError) else f for f in fits]


def test_sharing_skips_work_where_it_can(write_site, catalog):
    """Both fitters agree on every plan. Sharing places each hall's SUs once per branch of
    the plan tree (fewer SUs placed); where the first halls hold a size with its spines in
    their meet-me room (MISSING_ROUTE: h0 has one), the longer plans do not fit it again.
    Where a later hall's meet-me room draws every size's spines away (LATER_MMR), every
    size of (h0, h1) is fitted again, and the sizes held by h0 do reach h1."""
    sizes = [32 * k for k in range(1, 13)]
    shapes = _family_shapes(catalog, "dgx-h100", sizes)
    stats = {}
    for name, site in (("later mmr", LATER_MMR), ("missing route", MISSING_ROUTE)):
        loaded = load_site(write_site(render(site), f"{name.replace(' ', '-')}.toml"))
        plans, _ = hall_plans(loaded, catalog, "dgx-h100", scenario_halls(loaded, "s"), "s")
        shared = PlanFits(catalog, "dgx-h100", shapes, loaded.site.routes, loaded.site.cabling)
        alone = PlanFits(catalog, "dgx-h100", shapes, loaded.site.routes, loaded.site.cabling, share=False)
        for plan in plans:
            used = [b for b, _ in plan]
            need = used[-1].name if len(used) > 1 else None
            assert _words(shared.fits(used, need)) == _words(alone.fits(used, need))
        assert shared.stats["sus_placed"] < alone.stats["sus_placed"], name
        stats[name] = (shared.stats, alone.stats)
    shared, alone = stats["missing route"]
    assert shared["size_fits"] < alone["size_fits"] and shared["sizes_shared"] > 0
    loaded = load_site(write_site(render(MISSING_ROUTE), "route.toml"))
    _h0, h1, h2 = loaded.site.buildings
    fitter = PlanFits(catalog, "dgx-h100", shapes, loaded.site.routes, loaded.site.cabling)
    assert any(isinstance(f, Fit) for f in fitter.fits([h1]))
    assert str(fitter.placement([h1, h2]).failed()).startswith("no route between halls 'h1' and 'h2'")
    shared, alone = stats["later mmr"]
    assert shared["size_fits"] == alone["size_fits"] and shared["sizes_shared"] == 0
    loaded = load_site(write_site(render(LATER_MMR), "mmr.toml"))
    h0, h1 = loaded.site.buildings
    fitter = PlanFits(catalog, "dgx-h100", shapes, loaded.site.routes, loaded.site.cabling)
    alone, both = fitter.fits([h0]), fitter.fits([h0, h1], "h1")
    moved = [a for a, b in zip(alone, both, strict=True) if isinstance(a, Fit) and isinstance(b, Fit)
             and b.endpoints == a.endpoints and b.halls == {"h0", "h1"}]
    assert moved, "some size held by h0 reaches h1 through its meet-me room"


@pytest.mark.parametrize("optics", ["auto", "dsp"])
def test_memoised_fabric_counts_at_every_reach(optics):
    """One memo, each tier's length at, just below and just above every catalog reach in
    turn (the others at their defaults): a length equal to a reach still takes the optic
    of that reach, one above it does not."""
    catalog = CATALOG
    reaches = sorted({o.reach_m for o in catalog.optics.values() if o.reach_m is not None})
    for n in (8, 512):
        memo = FabricMemo(catalog)
        classes = set()
        for tier in TIERS:
            for r in reaches:
                for length in (r * (1 - 1e-12), r, r * (1 + 1e-12)):
                    spec = FabricSpec(servers=n, server="dgx-h100", leaf_switch="qm9700", optics=optics,
                                      lengths_m={tier: length})
                    try:
                        expected = count_fabric(spec, catalog)
                    except FabricError:
                        with pytest.raises(FabricError):
                            memo.count(spec)
                        continue
                    got = memo.count(spec)
                    assert got == expected, (n, tier, r, length)
                    classes.add((tier, got.media[tier].optic_class))
        assert memo.reused > 0 and len(classes) > 3  # the boundaries change the media, and counts are reused


@settings(max_examples=40, deadline=None)
@given(n=st.sampled_from([1, 8, 32, 100, 512, 2048]),
       lengths=st.lists(st.tuples(*[st.one_of(st.sampled_from(["reach", "reach-", "reach+"]),
                                              st.floats(0.5, 3000.0)) for _ in TIERS]), min_size=2, max_size=8),
       optics=st.sampled_from(["auto", "dsp", "lpo"]))
def test_memoised_fabric_counts_equal_fresh_ones(n, lengths, optics):
    catalog = CATALOG
    """Lengths at, just below and just above each catalog reach, and anywhere between."""
    reaches = sorted({o.reach_m for o in catalog.optics.values() if o.reach_m is not None})
    memo = FabricMemo(catalog)
    for i, triple in enumerate(lengths):
        given_lengths = {}
        for j, (tier, v) in enumerate(zip(TIERS, triple, strict=True)):
            if isinstance(v, str):
                r = reaches[(i + 3 * j) % len(reaches)]
                v = {"reach": r, "reach-": r * (1 - 1e-12), "reach+": r * (1 + 1e-12)}[v]
            if v != DEFAULT_LENGTH_M[tier] or i % 2:
                given_lengths[tier] = v
        spec = FabricSpec(servers=n, server="dgx-h100", leaf_switch="qm9700", optics=optics, lengths_m=given_lengths)
        try:
            expected = count_fabric(spec, catalog)
        except FabricError as exc:
            with pytest.raises(FabricError, match=None) as got:
                memo.count(spec)
            assert str(got.value) == str(exc)
            continue
        assert memo.count(spec) == expected
    assert memo.counted + memo.reused <= len(lengths)


def _option_figures(options) -> list[tuple]:
    return [(o.server, o.optics, o.servers, o.gpus, o.server_power_w, o.network_power_w, o.pue,
             sorted(o.capex_usd.items()), o.halls, o.fabric.media if o.fabric else None,
             o.interconnect.capex_usd if o.interconnect else None) for o in options]


@pytest.mark.parametrize("name", ["xinjiang-mine", "sichuan-hydro"])
def test_scenarios_sharing_the_fitter_get_the_options_they_get_alone(catalog, name):
    """A site's scenarios share one floor-plan fitter, its fabric counts and its cable prices
    (PlanCache.fitters): each scenario's options, prepared after the others in either order,
    equal those it gets prepared on its own, without a cache; the store holds one site's
    entries, and another site object (an edited site) replaces them."""
    from .conftest import SITES

    loaded = load_site(SITES / f"{name}.toml")
    names = list(loaded.site.scenarios)
    alone = {n: _option_figures(prepare(loaded, catalog, n).options) for n in names}
    for order in (names, names[::-1]):
        cache = PlanCache()
        for n in order:
            assert _option_figures(prepare(loaded, catalog, n, cache=cache).options) == alone[n], (order, n)
        assert cache.fitters and all(w.site is loaded.site for w in cache.fitters.values())
    edited = load_site(SITES / f"{name}.toml")  # another object of the same file
    cache.options.clear()  # (its options, the same content, would be found cached)
    prepare(edited, catalog, names[0], cache=cache)
    assert cache.fitters and all(w.site is edited.site for w in cache.fitters.values())


def _every_plan_worked_out(loaded, halls):
    """hall_twins as if no two halls were alike: every single-hall plan is worked out."""
    return {b.name: b.name for b in halls}


@pytest.mark.parametrize("scenario", ["retrofit", "hybrid"])
def test_a_twin_halls_plan_is_not_worked_out_and_the_options_are_the_same(catalog, scenario):
    """Xinjiang's hall-2, hall-3 and hall-4 are one hall at three places (hall-1 holds the meet-me
    room), each with 10,000 miners: AI in hall-3 alone is AI in hall-2 alone to the model.
    Skipping the twins' single-hall plans gives the very options that working every plan out
    and merging the look-alikes gives, and the twins' plans are never fitted."""
    from planner.model import options as options_module

    from .conftest import SITES

    loaded = load_site(SITES / "xinjiang-mine.toml")
    assert options_module.hall_twins(loaded, scenario_halls(loaded, scenario)) == {
        "hall-1": "hall-1", "hall-2": "hall-2", "hall-3": "hall-2", "hall-4": "hall-2"}
    tried: list[tuple[str, ...]] = []
    real = options_module._options_for

    def spy(loaded, catalog, specs, plan, *args, **kwargs):
        tried.append(tuple(b.name for b, _ in plan))
        return real(loaded, catalog, specs, plan, *args, **kwargs)

    with patch.object(options_module, "_options_for", spy):
        skipped = prepare(loaded, catalog, scenario)
    with patch.object(options_module, "hall_twins", _every_plan_worked_out):
        every = prepare(loaded, catalog, scenario)
    assert _option_figures(skipped.options) == _option_figures(every.options)
    groups = {o.group for o in every.options}  # why each offered group stops where it does
    assert skipped.warnings == every.warnings
    assert ({g: why for g, why in skipped.capped_by.items() if g in groups}
            == {g: why for g, why in every.capped_by.items() if g in groups})
    if scenario == "hybrid":  # a hybrid may leave halls to the miners: single-hall plans of each
        assert ("hall-2",) in tried and ("hall-1", "hall-3") in tried
        assert ("hall-3",) not in tried and ("hall-4",) not in tried


def test_halls_holding_other_miners_are_not_twins(catalog, tmp_path):
    """Take 4,000 of hall-3's miners away (6,000 left, 10,000 in each other hall): AI in hall-3
    alone now displaces other miners than in hall-2 or hall-4, so its plan is worked out and its
    options kept, the same as with every plan worked out; the options' cache key sees the
    change."""
    from planner.model import options as options_module
    from planner.model.options import options_key

    from .conftest import SITES

    text = (SITES / "xinjiang-mine.toml").read_text(encoding="utf-8")
    moved = text.replace("hall-3 = 10000, hall-4 = 10000", "hall-3 = 6000, hall-4 = 10000").replace(
        "count = 40000", "count = 36000")
    assert moved != text
    path = tmp_path / "site.toml"
    path.write_text(moved, encoding="utf-8")
    loaded, original = load_site(path), load_site(SITES / "xinjiang-mine.toml")
    assert options_module.hall_twins(loaded, scenario_halls(loaded, "hybrid")) == {
        "hall-1": "hall-1", "hall-2": "hall-2", "hall-3": "hall-3", "hall-4": "hall-2"}
    assert options_key(loaded, "hybrid", catalog) != options_key(original, "hybrid", catalog)
    skipped = prepare(loaded, catalog, "hybrid")
    with patch.object(options_module, "hall_twins", _every_plan_worked_out):
        every = prepare(loaded, catalog, "hybrid")
    assert _option_figures(skipped.options) == _option_figures(every.options)
    alone = {tuple(h.name for h in o.halls) for o in skipped.options}
    assert {("hall-2",), ("hall-3",)} <= alone and ("hall-4",) not in alone


def test_a_hall_that_differs_in_anything_but_name_and_place_is_no_twin(catalog, write_site):
    """The twin test reads every key of a [[buildings]] entry but its name and origin."""
    from planner.model.options import hall_twins

    from .conftest import SITES

    loaded = load_site(SITES / "xinjiang-mine.toml")
    halls = scenario_halls(loaded, "hybrid")
    for change in ({"max_kw_per_rack": 30.0}, {"keep_out": [[(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)]]},
                   {"polygon": [(0.0, 0.0), (100.0, 0.0), (100.0, 31.0), (0.0, 31.0)]}, {"miner_positions": 9000}):
        other = [halls[0], halls[1], halls[2].model_copy(update=change), halls[3]]
        assert hall_twins(loaded, other)["hall-3"] == "hall-3", change
        assert hall_twins(loaded, other)["hall-4"] == "hall-2", change
    moved = [halls[0], halls[1], halls[2].model_copy(update={"origin": (500.0, -80.0)}), halls[3]]
    assert hall_twins(loaded, moved)["hall-3"] == "hall-2"


def _xinjiang_seed(fork: bool) -> dict:
    """Xinjiang's scenarios prepared as a sweep's seed prepares them (the one with the most hall
    plans first), the hall plans shared with a forked child or not: each one's options,
    warnings, capped reasons and priced parts."""
    from planner.app.sweep import _most_plans_first

    from .conftest import SITES

    catalog = load_catalog()
    loaded = load_site(SITES / "xinjiang-mine.toml")
    cache, out = PlanCache(fork_plans=fork), {}
    order = _most_plans_first(loaded, catalog, ["retrofit", "hybrid"])
    assert order == ["hybrid", "retrofit"]  # 13 hall plans against 4
    for name in order:
        got = prepare(loaded, catalog, name, cache=cache)
        assert all(o.memo.hall_slots is not None for o in got.options)
        out[name] = (_option_figures(got.options), got.warnings, got.capped_by, sorted(got.prices))
    return out


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="needs fork and a second core")
def test_a_seed_working_plans_out_in_two_processes_gets_what_one_gets():
    """A sweep's seed works each scenario's hall plans out in its process and a forked child
    (PlanCache.fork_plans), and keeps the floor-plan work the child did (PlanFits.adopt): what
    it gets equals what one process gets, on Xinjiang's 13 hybrid plans, then its retrofit's 4
    (all among them). Run in a fresh interpreter, which runs no other thread (else no child is
    forked)."""
    code = ("import threading; from tests.test_plan_fits import _xinjiang_seed; "
            "assert threading.active_count() == 1; print(_xinjiang_seed(True) == _xinjiang_seed(False))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]


def _in_a_fresh_interpreter(code: str) -> str:
    """What ``code`` prints, run by a new Python from the repository's root (a process with no
    thread but its own, as a sweep's seed)."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _outcomes(plans, fork, fail_in_child=False, parent=None, fail_in_parent=False, meanwhile=None, done=None,
              order=None, taken=None):
    import os
    import time

    from planner.errors import Problem
    from planner.model.options import PlanOutcome, _work_out_plans

    def work_out(plan):
        if fail_in_child and os.getpid() != parent:
            raise RuntimeError("the child breaks")
        if fail_in_parent and os.getpid() == parent and plan >= 6:
            raise RuntimeError("the parent breaks")
        if taken is not None and os.getpid() == me:
            taken.append(plan)
        time.sleep(0.02)  # a plan takes a while: the child, once forked, takes some
        if done is not None and os.getpid() == me:
            done.append(plan)
        out = PlanOutcome(capped=[f"capped {plan}"], warned={f"warned {plan}"}, priced=[(f"part-{plan}", ("ai",))])
        if plan == 5:
            out.raised = InputError([Problem("site.toml", "ai.server", f"plan {plan}", 7)])
        elif plan % 2:
            out.error = LayoutError(f"plan {plan} does not fit")
        return out

    me = os.getpid()
    return _work_out_plans(plans, work_out, fork, meanwhile=meanwhile, order=order)


def test_plans_worked_out_in_two_processes_come_back_in_order_with_their_errors():
    """Each plan's outcome, in the plans' order, whichever process took it: its capped reasons,
    warnings, priced parts, a layout error as such and an input error with its problems; the
    child's are marked as worked out elsewhere. A child that fails leaves its plans to this
    process."""
    import os

    plans = list(range(12))
    alone = _outcomes(plans, fork=False)
    for got in (_outcomes(plans, fork=True), _outcomes(plans, fork=True, fail_in_child=True, parent=os.getpid())):
        assert [o.capped for o in got] == [o.capped for o in alone] == [[f"capped {p}"] for p in plans]
        assert [o.warned for o in got] == [o.warned for o in alone]
        assert [o.priced for o in got] == [o.priced for o in alone]
        assert [str(o.error) if o.error else None for o in got] == [str(o.error) if o.error else None for o in alone]
        assert all(isinstance(o.error, LayoutError) for o in got if o.error is not None)
        assert isinstance(got[5].raised, InputError) and got[5].raised.problems == alone[5].raised.problems
    assert not any(o.elsewhere for o in _outcomes(plans, fork=True, fail_in_child=True, parent=os.getpid()))


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="needs fork and a second core")
def test_a_forked_child_takes_plans_in_a_process_without_threads():
    """In a process that runs no other thread (a sweep's seed; here a fresh interpreter) the
    child takes some of the plans; a fault in this process raises with the child stopped; in a
    process that runs another thread, none is forked (a fork can copy a lock another thread
    holds)."""
    code = ("import os, threading, time; from tests.test_plan_fits import _outcomes; "
            "print(sum(o.elsewhere for o in _outcomes(list(range(12)), fork=True)))\n"
            "try:\n    _outcomes(list(range(12)), fork=True, parent=os.getpid(), fail_in_parent=True)\n"
            "except RuntimeError as exc:\n    print(str(exc).replace(' ', '-'))\n"
            "try:\n    os.waitpid(-1, os.WNOHANG); print('a-child-is-left')\n"
            "except ChildProcessError:\n    print('no-child-left')\n"
            "t = threading.Thread(target=time.sleep, args=(1,)); t.start()\n"
            "print(sum(o.elsewhere for o in _outcomes(list(range(12)), fork=True)))")
    alone, failed, left, beside_a_thread = _in_a_fresh_interpreter(code).split()
    assert int(alone) > 0 and int(beside_a_thread) == 0
    # a fault in this process stops the child at once: the fault is raised, no child is left
    assert (failed, left) == ("the-parent-breaks", "no-child-left")


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="needs fork and a second core")
def test_the_parent_does_its_other_work_after_its_first_plan():
    """``meanwhile`` (a sweep's imports): with the plans shared with a child, this process does
    each job once, after its first plan (whose floor-plan work the plans after it share) and
    before its next, while the child takes plans; it empties the list; a job that fails is left
    to its caller (the list is still emptied, the plans still come back). Without a child the
    list is left for the caller to do."""
    code = ("import os, time; from tests.test_plan_fits import _outcomes\n"
            "import tests.test_plan_fits as t\n"
            "seen, done = [], []\n"
            "def job(): seen.append((os.getpid(), time.monotonic(), len(done)))\n"
            "def broken(): raise ImportError('no such library')\n"
            "jobs = [job, broken, job]\n"
            "got = _outcomes(list(range(12)), fork=True, meanwhile=jobs, done=done)\n"
            "print(len(seen), {p for p, _, _ in seen} == {os.getpid()}, jobs == [], len(got),\n"
            "      sum(o.elsewhere for o in got) > 0, [n for _, _, n in seen], len(done) > 1)\n"
            "jobs = [job]\n"
            "_outcomes(list(range(12)), fork=False, meanwhile=jobs)\n"
            "print(len(seen), jobs == [job])")
    shared, alone = _in_a_fresh_interpreter(code).splitlines()
    # the jobs ran once this process had done one plan, and it did more after them
    assert shared.split() == ["2", "True", "True", "12", "True", "[1,", "1]", "True"]
    assert alone.split() == ["2", "True"]


def test_plans_are_taken_in_the_order_given_and_come_back_in_their_own():
    """With a work order (a sweep's seed: plans of fewer halls first), each process takes its
    plans in that order, and the outcomes come back in the plans' own order."""
    code = ("import os; from tests.test_plan_fits import _outcomes\n"
            "taken = []\n"
            "order = [11, 3, 7, 0, 5, 9, 1, 10, 2, 8, 4, 6]\n"
            "got = _outcomes(list(range(12)), fork=True, order=order, taken=taken)\n"
            "print([o.capped for o in got] == [[f'capped {p}'] for p in range(12)])\n"
            "mine = [order.index(p) for p in taken]\n"
            "print(mine == sorted(mine), len(taken) < 12)")
    ordered, per_process = _in_a_fresh_interpreter(code).splitlines()
    assert ordered == "True"
    assert per_process == "True True"  # this process's plans in the work order; the child took some


def test_an_adopted_plan_gives_its_fits_and_a_longer_plan_through_it_is_placed_as_ever(catalog):
    """PlanFits.adopt: a fitter that keeps another's fits and plan memo of (hall-1, hall-2)
    answers them without placing that plan; a longer plan through it, and the plan's links,
    are then worked out as a fitter that placed everything itself works them out."""
    from .conftest import SITES

    loaded = load_site(SITES / "xinjiang-mine.toml")
    site = loaded.site
    halls = scenario_halls(loaded, "retrofit")
    shapes = _family_shapes(catalog, "dgx-h100", [32 * k for k in (1, 100, 150, 160, 180, 200)])
    done = PlanFits(catalog, "dgx-h100", shapes, site.routes, site.cabling)
    pair, three = halls[:2], halls[:3]
    fits = done.fits(pair, "hall-2")
    done.plan_memo(pair)["cabling", 0] = 123.0
    fresh = PlanFits(catalog, "dgx-h100", shapes, site.routes, site.cabling)
    fresh.adopt(pair, "hall-2", fits, done.plan_memo(pair))
    assert fresh.fits(pair, "hall-2") is fits and fresh.plan_memo(pair)["cabling", 0] == 123.0
    assert fresh.stats["placements"] == 0  # nothing placed yet
    assert _words(fresh.fits(three, "hall-3")) == _words(done.fits(three, "hall-3"))
    sized = [i for i, f in enumerate(fits) if isinstance(f, Fit)]
    assert sized
    i = sized[-1]
    ours, theirs = fresh.links(pair, i), done.links(pair, i)
    assert ours.keys() == theirs.keys()
    for tier in ours:
        assert np.array_equal(ours[tier].length_m, theirs[tier].length_m)
        assert np.array_equal(ours[tier].links, theirs[tier].links)


def test_options_told_apart_by_every_field_of_their_media_but_its_length():
    """distinct_options tells two options' media apart by every field of a tier's media but
    its length (options._media_look): a field added to TierMedia is not silently ignored, and
    two media that differ only in length look alike, any other field apart."""
    import dataclasses

    from planner.model.options import _media_look
    from planner.network.media import EndMedia, TierMedia

    names = [f.name for f in dataclasses.fields(TierMedia)]
    end = EndMedia(kind="module", part="osfp-800g-2xdr4", links_per_unit=2, units=8, connector="mpo-12",
                   connectors=8)
    media = TierMedia("leaf_spine", 8, 400.0, 12.0, "dr", end, end, "smf-mpo12", 8, 8)
    assert len(_media_look(media)) == len(names) - 1
    assert _media_look(dataclasses.replace(media, length_m=300.0)) == _media_look(media)
    other = {"tier": "spine_core", "links": 9, "link_gbps": 800.0, "optic_class": "fr",
             "lower": dataclasses.replace(end, units=9), "upper": dataclasses.replace(end, connectors=9),
             "cable_kind": "smf-lc", "cables": 9, "fibers_per_link": 2}
    assert set(other) == set(names) - {"length_m"}
    for name, value in other.items():
        assert _media_look(dataclasses.replace(media, **{name: value})) != _media_look(media), name


def _check_node_leaf_as_each_su(fitter) -> int:
    """Every SU a plan placed itself has the node-leaf links su_node_leaf_links gives it on its own
    (measured with the plan's other SUs where every two of its halls have a route): the same
    lengths, links and halls to the bit, and the same pairs within their rooms. The SUs checked."""
    from planner.network.layout import su_node_leaf_links

    big, checked = fitter.big, 0
    for node in list(fitter._placements.values()):
        for su in range(node.shared, len(node.su_links)):
            got = node.su_links[su]
            leaves = [node.layout.leaf_rack[(p, su, r)] for p in range(big.planes) for r in range(big.rails)]
            want = su_node_leaf_links(node.layout, su, big.servers_per_su, leaves, fitter.routes, fitter.cabling)
            for field in ("length_m", "links", "hall_a", "hall_b"):
                a, b = getattr(got, field), getattr(want, field)
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (node.halls, su, field)
            assert np.array_equal(got.same_room, want.same_room) and got.halls == want.halls, (node.halls, su)
            checked += 1
    return checked


def test_node_leaf_links_measured_together_are_each_sus_own(write_site):
    """The node-leaf links of SUs placed in plans of routed halls (measured together, _node_leaf_many)
    and of plans that lack a route (one SU at a time, as a missing route stops the placement) are
    each SU's own: fixed sites of both kinds and two example sites."""
    from planner.app.pipeline import load

    checked = 0
    for site in (ALL_NEEDED, MISSING_ROUTE, LATER_MMR, FEWER_PER_RACK):
        fitter = _check_fits_against_layouts(CATALOG, write_site(render(site)), [32, 64, 96, 128, 160, 192])
        checked += _check_node_leaf_as_each_su(fitter)
    for name in ("xinjiang-mine", "metro-campus"):
        loaded, catalog = load(ROOT / "sites" / f"{name}.toml")
        cache = PlanCache()
        for scenario in loaded.site.scenarios:
            prepare(loaded, catalog, scenario, cache)
        for work in cache.fitters.values():
            checked += _check_node_leaf_as_each_su(work.fitter)
    assert checked > 1000

"""The first model's results re-derived by hand for tiny sites."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.model.build import build_model
from planner.model.cache import PlanCache
from planner.model.inputs import prepare
from planner.model.optimize import Status, facility_mw, outcome, solve
from planner.outputs.bom import bom_rows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .sitebuilder import ONE_YEAR, S19_XP, edit, flat, site

THREE_YEARS = {k: v for k, v in ONE_YEAR.items() if k != "block_subsidy_btc"} | {"horizon_years": 3}

def miner_site(price: float) -> str:
    """400 S19 XP behind 1 MW at a flat price; no AI; one undiscounted year."""
    return site("tiny mine", capacity_mw=1.0, price=flat(price), cooling={"mining_pue": 1.0, "ai_pue": 1.25},
                miners=[{"model": S19_XP, "count": 400}],
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"hybrid": {"kind": "hybrid"}})


def _solve(path, catalog, scenario, solver="highs"):
    loaded = load_site(path)
    inputs = prepare(loaded, catalog, scenario)
    return solve(build_model(inputs), solver=solver)


# An S19 XP draws 3,010 W and its share of a 48-port SN2201 miner access switch: 80 W / 48
# (the switch's power is a labelled estimate: catalogs/power-estimates.toml).
MINER_W = 3010 + 80 / 48
FIT = 1e6 / MINER_W  # miners' worth of average power under 1 MW: 332.0416


@pytest.mark.parametrize(("price", "expected"), [(50.0, FIT), (86.0, FIT), (88.0, 0), (150.0, 0)])
def test_miner_runs_iff_hashprice_beats_breakeven(write_site, catalog, price, expected):
    """S19 XP: 140 TH/s, 3,010 W. Hashprice = 144 * 3.125 * 100,000 / 1e9 = 0.045 USD/TH/day,
    so a miner earns 6.30 USD a day and uses 72.24 kWh: breakeven 87.21 USD/MWh.
    Below it, run as many as the grid holds on average over the step: 1 MW / 3,011.67 W
    (the miner and its access-switch share) = 332.04 miners (dispatch is an average power
    per step; miners curtail continuously)."""
    result = _solve(write_site(miner_site(price)), catalog, "hybrid")
    assert result.status is Status.OPTIMAL
    assert result.running["antminer-s19-xp"][0] == pytest.approx(expected)
    assert result.miners_with_ai["antminer-s19-xp"] >= expected


def test_miners_that_never_run_are_sold(write_site, catalog):
    """With a resale value, the 67 miners that can never run under 1 MW are sold (333 are
    kept for 332.23 miners' worth of average power); at 150 USD/MWh (above breakeven) all
    400 are."""
    def salvaged(price: float) -> str:
        return edit(miner_site(price), add={"fleet.miners[0].salvage_usd": 10.0})

    assert _solve(write_site(salvaged(50.0)), catalog, "hybrid").miners_with_ai["antminer-s19-xp"] == 333
    assert _solve(write_site(salvaged(150.0)), catalog, "hybrid").miners_with_ai["antminer-s19-xp"] == 0


def test_miner_npv_by_hand(write_site, catalog):
    """At 50 USD/MWh, no discounting, one year: per miner 6.30 - 72.28 kWh * 0.05 = 2.686
    USD/day (3,011.67 W with its access-switch share); 365 days * 332.0416 miners."""
    result = _solve(write_site(miner_site(50.0)), catalog, "hybrid")
    assert result.objective_usd == pytest.approx(FIT * 365 * (6.30 - MINER_W * 24 / 1e3 * 0.05), rel=1e-9)
    summary = scenario_summary(result, catalog)
    assert summary.revenue_usd_per_year == pytest.approx(FIT * 365 * 6.30)
    assert summary.facility_power_mw == pytest.approx(1.0)
    assert "grid capacity" in summary.binding_constraints[0]


AI_SITE = site(
    "tiny AI", capacity_mw=0.1, price=flat(50), cooling={"ai_pue": 1.25},
    ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": 3.0,
        "utilization": 1.0},
    economics=THREE_YEARS, scenarios={"greenfield": {"kind": "greenfield"}},
    costs={"dgx-h100": 200000, "qm9700": 30000, "osfp-800g-2xsr4": 1000, "osfp-800g-2xdr4": 1200})


def test_ai_sizing_under_grid_by_hand(write_site, catalog):
    """DGX H100 draws 10.2 kW max. Seven servers: 71.4 kW, plus 8 leaves and 1 spine
    (7 uplinks per leaf in one bundle) of QM9700 at 747 W (an estimate) = 6,723 W, plus
    120 twin-port modules (60 SR4 at 15 W on the 30 m tier, 60 DR4 at 17 W on the 100 m
    tier: 4 per leaf and 28 on the other side of each tier) = 1,920 W, plus one SN2201
    out-of-band switch (80 W, an estimate) = 80,123 W; x 1.25 = 100.15 kW > 100 kW. So at
    most 6 (6 x 10.2 = 61.2 kW + 6,723 + 1,640 + 80 W, x 1.25 = 87.1 kW). A server leases
    8 GPUs * 3 USD * 8,760 h = 210,240 USD a year, far above its 200,000 USD cost over 3
    years, so the plan builds all 6. The power balance is re-derived from the BOM."""
    result = _solve(write_site(AI_SITE), catalog, "greenfield")
    assert result.status is Status.OPTIMAL
    option = result.option
    assert option.servers == 6 and option.gpus == 48
    rows = bom_rows(result, catalog)
    it_w = sum(r.extended_power_w or 0 for r in rows)
    with_ai, _ = facility_mw(result.inputs, result.option_index, result.miners_before,
                             result.miners_with_ai, result.running)
    assert with_ai == pytest.approx(it_w * 1.25 / 1e6)
    assert with_ai <= 0.1
    # 8 rails x 6 servers: 48 server links, each leaf (one per rail) reaches one spine
    assert option.fabric.links["node_leaf"] == 48
    assert option.fabric.switches == {"leaf": 8, "spine": 1, "core": 0}
    servers_row = next(r for r in rows if r.category == "gpu_server")
    assert servers_row.quantity == 6
    assert servers_row.extended_cost_usd == 6 * 200000
    switch_rows = [r for r in rows if r.category == "switch"]
    assert sum(r.extended_power_w for r in switch_rows) == pytest.approx(9 * 747)
    assert all("ESTIMATE" in r.power_basis for r in switch_rows)
    summary = scenario_summary(result, catalog)
    assert summary.gpus == 48
    assert summary.revenue_usd_per_year == pytest.approx(48 * 3.0 * 8760)


def test_min_gpus_beyond_grid_is_infeasible_and_named(write_site, catalog):
    text = edit(AI_SITE, add={"ai.min_gpus": 160})
    result = _solve(write_site(text), catalog, "greenfield")
    assert result.status is Status.INFEASIBLE
    assert any(r.startswith("grid capacity") and "160 GPUs" in r for r in result.infeasibility)


def test_highs_and_cbc_agree(write_site, catalog):
    path = write_site(miner_site(50.0))
    a = _solve(path, catalog, "hybrid", "highs")
    b = _solve(path, catalog, "hybrid", "cbc")
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-9)


def test_model_names_are_unique_and_survive_pulp(write_site, catalog):
    loaded = load_site(write_site(AI_SITE))
    model = build_model(prepare(loaded, catalog, "greenfield"))
    names = model.lp.col_names
    assert len(names) == len(set(names))
    import re

    from planner.model.lp import to_pulp

    constraints = model.lp.row_names()
    assert len(constraints) == len(set(constraints))
    # every name maps to a meaning (per-step families by their pattern, step T)
    assert {re.sub(r"__\d+$", "__T", n) for n in constraints} <= set(model.meaning)
    # PuLP (CBC, the LP/MPS export) keeps every name as it is
    prob, _ = to_pulp(model.lp)
    assert {v.name for v in prob.variables()} <= set(names)
    assert {c.name for c in prob.constraints()} == set(constraints)


@pytest.mark.parametrize("scenario", ["retrofit", "hybrid"])
def test_objective_equals_npv_of_the_cash_flows(write_site, catalog, scenario):
    """Two independent routes to the same number: the MILP objective (annuity-factor
    coefficients) and the NPV of the month-by-month cash flows of the chosen plan, with a
    salvage value and a build period so every term is exercised."""
    from planner.energy.economics import npv
    from planner.outputs.physics import cash_flows

    from .conftest import SITES

    text = edit(SITES / "xinjiang-mine.toml", {
        "fleet.miners[0].salvage_usd": 150.0, "fleet.miners[0].count": 5000,
        # some stand where the AI goes
        "fleet.miners[0].buildings": {"hall-1": 2000, "hall-2": 1000, "hall-3": 1000, "hall-4": 1000}})
    result = _solve(write_site(text), catalog, scenario)
    assert result.status is Status.OPTIMAL
    flows = cash_flows(result)
    assert npv(flows, result.inputs.discount_rate) == pytest.approx(result.objective_usd, rel=1e-9)
    if scenario == "retrofit":
        assert sum(result.miners_with_ai.values()) == 0
    # miners beside the AI were already running before it
    for key, n in result.miners_with_ai.items():
        assert n <= result.miners_before[key] or not result.inputs.miners_before_ai


@pytest.mark.parametrize("site", ["sichuan-hydro.toml", "texas-hybrid.toml"])
@pytest.mark.parametrize("scenario", ["retrofit", "hybrid"])
def test_objective_equals_npv_with_prices_in_time(catalog, site, scenario):
    """Seasonal capacity (miners dispatched before and beside the AI) and a 35,040-step
    series: the objective and the NPV of the monthly cash flows agree, and the grid holds
    at every step in both periods."""
    import numpy as np

    from planner.energy.economics import npv
    from planner.model.optimize import grid_load
    from planner.outputs.physics import cash_flows

    from .conftest import SITES

    result = _solve(SITES / site, catalog, scenario)
    assert result.status is Status.OPTIMAL
    assert npv(cash_flows(result), result.inputs.discount_rate) == pytest.approx(result.objective_usd, rel=1e-7)
    inp = result.inputs
    load, pre = grid_load(inp, result.option_index, result.miners_before, result.miners_with_ai,
                          result.running, result.running_before)
    caps = inp.profile.capacity_mw
    assert (load <= caps + 1e-6).all()
    assert (np.asarray(pre) <= caps + 1e-6).all()


def test_highs_and_cbc_agree_on_a_dispatch_model(tmp_path, catalog):
    """The hourly dispatch model on which CBC's preprocessing once lost the optimum
    (it is now off); both solvers within their default MIP gaps."""
    from .conftest import SITES

    text = (SITES / "sichuan-hydro.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(text)
    a = _solve(path, catalog, "hybrid", "highs")
    b = _solve(path, catalog, "hybrid", "cbc")
    assert b.objective_usd == pytest.approx(a.objective_usd, rel=1e-4)


def test_hashprice_path_by_hand(write_site, catalog):
    """Network hashrate +30 %/yr and a halving 12 months out: in month 24 a TH/s earns
    (1.5625 + 0.02) / (3.125 + 0.02) / 1.3^2 = 0.29799 of today's revenue."""
    from .conftest import SITES

    text = edit(SITES / "xinjiang-mine.toml",
                add={"economics.network_hashrate_growth_per_year": 0.3, "economics.months_to_next_halving": 12})
    inp = prepare(load_site(write_site(text)), catalog, "hybrid")
    assert inp.revenue_factor(0) == pytest.approx(1.0)
    assert inp.revenue_factor(11) == pytest.approx(1 / 1.3 ** (11 / 12))
    assert inp.revenue_factor(24) == pytest.approx(1.5825 / 3.145 / 1.3**2)
    assert inp.revenue_factor(60) == pytest.approx((0.78125 + 0.02) / 3.145 / 1.3**5)


@pytest.mark.parametrize("scenario", ["retrofit", "hybrid"])
def test_objective_equals_npv_with_a_hashprice_path(write_site, catalog, scenario):
    from planner.energy.economics import npv
    from planner.outputs.physics import cash_flows

    from .conftest import SITES

    text = edit(SITES / "xinjiang-mine.toml", {"fleet.miners[0].salvage_usd": 120.0},
                add={"economics.network_hashrate_growth_per_year": 0.25, "economics.months_to_next_halving": 20})
    result = _solve(write_site(text), catalog, scenario)
    assert npv(cash_flows(result), result.inputs.discount_rate) == pytest.approx(result.objective_usd, rel=1e-9)


def test_transformers_limit_the_connection_under_n_minus_1(write_site, catalog):
    """Two 80 MVA transformers at power factor 0.9: 144 MW with both, 72 MW under N-1,
    whatever the 130 MW connection says."""
    from .conftest import SITES

    both = edit(SITES / "xinjiang-mine.toml", add={"grid.power_factor": 0.9})
    n1 = edit(both, add={"grid.n_minus_1": True})
    assert prepare(load_site(write_site(both, "a.toml")), catalog, "hybrid").capacity_mw == pytest.approx(130.0)
    inp = prepare(load_site(write_site(n1, "b.toml")), catalog, "hybrid")
    assert inp.capacity_mw == pytest.approx(72.0)


def choice_site(h100_usd: float) -> str:
    """A DGX H100 or a DGX B200 (100,000 USD) under 0.2 MW, leased for three years."""
    return site("choice", capacity_mw=0.2, price=flat(40), cooling={"ai_pue": 1.0},
                ai={"server": "dgx-h100", "server_choices": ["dgx-b200"], "leaf_switch": "qm9700", "step": "server",
                    "lease_usd_per_gpu_hour": 3.0, "utilization": 1.0},
                economics={**THREE_YEARS, "btc_price_usd": 90000},
                scenarios={"greenfield": {"kind": "greenfield"}}, costs={"dgx-h100": h100_usd, "dgx-b200": 100000})


@pytest.mark.parametrize(("h100_cost", "expected"), [(100000, "dgx-h100"), (10000000, "dgx-b200")])
def test_the_optimizer_chooses_the_server(write_site, catalog, h100_cost, expected):
    """Same GPUs per server and the same lease: at equal prices the 10.2 kW DGX H100 fits
    more GPUs under 0.2 MW than the 14.3 kW DGX B200 (at most 19 against 13 servers), so
    it wins; priced out, the B200 is chosen. Counts follow the chosen server."""
    result = _solve(write_site(choice_site(h100_cost)), catalog, "greenfield")
    opt = result.option
    assert opt.server == expected
    assert opt.fabric.spec.server == expected
    assert opt.servers <= (19 if expected == "dgx-h100" else 13)
    assert opt.it_power_w <= 0.2e6
    summary = scenario_summary(result, catalog)
    assert summary.server == expected
    assert summary.gpus == opt.servers * 8


def test_new_miners_are_bought_when_they_pay(write_site, catalog):
    """An empty 1 MW site at 20 USD/MWh may buy up to 400 S19 XP. At 1,000 USD each over
    a year they pay (6.30 - 72.28 kWh x 0.02 = 4.85 USD a day, 1,771 USD a year), so the
    grid fills: 1 MW / 3,011.67 W (with the access-switch share) = 332.04 miners' worth of power; at 10,000 USD
    each they do not, and none are bought. The capex and the cash flows carry them."""
    # The 333rd miner would run 4 % of the time (1 MW / 3,011.67 W = 332.04): it would earn
    # 0.04 x 1,771 = 74 USD in the year, less than its 1,000 USD price, so 332 are bought.
    from planner.energy.economics import npv
    from planner.outputs.physics import cash_flows

    text = edit(miner_site(20.0), remove=["fleet.miners"],
                add={"fleet.buy": [{"model": S19_XP, "max_count": 400}]})
    cheap = edit(text, add={"costs": {S19_XP: 1000}})
    dear = edit(text, add={"costs": {S19_XP: 10000}})
    r = _solve(write_site(cheap, "cheap.toml"), catalog, "hybrid")
    assert r.miners_with_ai["antminer-s19-xp-new"] == 332
    summary = scenario_summary(r, catalog)
    assert summary.miners_bought == 332
    assert summary.capex_usd == pytest.approx(332 * 1000)
    assert npv(cash_flows(r), 0.0) == pytest.approx(r.objective_usd, rel=1e-9)
    assert _solve(write_site(dear, "dear.toml"), catalog, "hybrid").miners_with_ai["antminer-s19-xp-new"] == 0


def test_grid_expansion_is_bought_when_it_pays(write_site, catalog):
    """The tiny AI site (0.1 MW, 6 DGX H100 at most) may add 0.05 MW: with it, 10 servers
    fit. Eleven would need 112.2 kW + 10 QM9700 (8 leaves, 2 spines for 12 uplinks a leaf in
    bundles of 6) at 747 W + 92 SR4 modules at 15 W + 96 DR4 at 17 W + 80 W out-of-band =
    122,762 W, x 1.25 = 153.5 kW > 150 kW. At 1 USD it is bought; at 10 M USD it is not."""
    cheap = edit(AI_SITE, add={"grid.expansion": {"add_mw": 0.05, "usd": 1}})
    dear = edit(AI_SITE, add={"grid.expansion": {"add_mw": 0.05, "usd": 1e7}})
    r = _solve(write_site(cheap, "cheap.toml"), catalog, "greenfield")
    assert r.expanded and r.option.servers == 10
    summary = scenario_summary(r, catalog)
    assert summary.facility_power_mw <= 0.15
    assert summary.capex_breakdown_usd["grid_expansion"] == 1
    d = _solve(write_site(dear, "dear.toml"), catalog, "greenfield")
    assert not d.expanded and d.option.servers == 6


def test_cluster_options_are_reused_only_while_they_apply(write_site, catalog):
    """A price or BTC edit reuses the cached options and gives the same plan as a fresh
    solve; a server edit does not hit the cache."""
    from .conftest import SITES

    cache = PlanCache()
    base = (SITES / "sichuan-hydro.toml").read_text()
    first = prepare(load_site(write_site(base, "a.toml")), catalog, "hybrid", cache=cache)
    edited = edit(base, {"economics.btc_price_usd": 120000.0})
    cached = prepare(load_site(write_site(edited, "b.toml")), catalog, "hybrid", cache=cache)
    assert cached.options is first.options  # reused
    fresh = prepare(load_site(write_site(edited, "c.toml")), catalog, "hybrid")
    a, b = solve(build_model(cached)), solve(build_model(fresh))
    assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-12)
    other = edit(base, {"ai.server": "dgx-b200"})
    changed = prepare(load_site(write_site(other, "d.toml")), catalog, "hybrid", cache=cache)
    assert changed.options is not first.options and changed.options[1].server == "dgx-b200"


def it_load_site(mw: float, lease: float) -> str:
    """The tiny AI site with 1 MW of grid and a stated IT load instead of a step."""
    return edit(AI_SITE, {"grid.capacity_mw": 1.0, "ai.lease_usd_per_gpu_hour": lease}, remove=["ai.step"],
                add={"ai.it_load_mw": mw})


@pytest.mark.parametrize("lease", [3.0, 0.0])
def test_a_stated_ai_it_load_is_built_as_the_largest_cluster_within_it(write_site, catalog, lease):
    """0.5 MW of critical IT (a hosting contract's terms): servers alone allow
    floor(500 / 10.2) = 49 DGX H100; with the fabric (QM9700 switches, modules) and the
    out-of-band switches counted, fewer fit. The plan builds the largest cluster whose IT
    load, re-derived from the BOM, is within 0.5 MW, and one more server would exceed it;
    it builds it even when the lease would not pay (the load is contracted)."""
    result = _solve(write_site(it_load_site(0.5, lease)), catalog, "greenfield")
    assert result.status is Status.OPTIMAL
    n = result.option.servers
    rows = bom_rows(result, catalog)
    it_w = sum(r.extended_power_w or 0 for r in rows)
    assert it_w == pytest.approx(result.option.it_power_w)
    assert it_w <= 0.5e6
    network_w = it_w - n * 10_200
    assert network_w > 0  # switches and optics are counted
    assert (n + 1) * 10_200 + network_w > 0.5e6  # the network only grows with the cluster
    assert n < 49


def test_it_load_and_a_gpu_bound_are_one_too_many(write_site, capsys):
    from planner.app.cli import main

    path = write_site(edit(it_load_site(0.5, 3.0), add={"ai.min_gpus": 8}))
    assert main(["validate", str(path)]) == 2
    assert "it_load_mw sets the cluster size" in capsys.readouterr().err


def test_a_plan_without_capex_has_no_payback(write_site, catalog):
    """Miners already on site, a price above their breakeven: no capex and nothing earned;
    payback is not 0 years, it does not exist."""
    result = _solve(write_site(miner_site(150.0)), catalog, "hybrid")
    summary = scenario_summary(result, catalog)
    assert summary.capex_usd == 0
    assert summary.payback_years is None


def _sites_and_scenarios():
    from .conftest import SITES

    for path in sorted(SITES.glob("*.toml")):
        if path.name == "xinjiang-mine.toml":
            continue  # one price step: nothing to reduce (and its options take seconds to prepare)
        for name in load_site(path).site.scenarios:
            yield path, name


@pytest.mark.parametrize(("path", "scenario"), list(_sites_and_scenarios()),
                         ids=lambda v: getattr(v, "name", v))
def test_the_reduced_model_has_the_optimum_of_the_per_step_model(catalog, path, scenario):
    """Steps the model cannot tell apart share one dispatch column and one grid row: the
    objective equals the per-step reference model's to 1e-9, and the per-step dispatch
    rebuilt from the classes keeps the grid within its capacity in every step."""
    from planner.app.pipeline import load
    from planner.model.optimize import grid_load

    loaded = load_site(path)
    if loaded.site.catalog:  # a site with its own overlay folders (metro-campus) is solved with them
        loaded, catalog = load(path)
    inp = prepare(loaded, catalog, scenario)
    full, reduced = build_model(inp, reduce=False), build_model(inp)
    a, b = solve(full), solve(reduced)
    assert a.status is Status.OPTIMAL and b.status is Status.OPTIMAL
    assert b.objective_usd == pytest.approx(a.objective_usd, rel=1e-9, abs=1e-3)
    assert reduced.lp.num_rows <= full.lp.num_rows
    load, _ = grid_load(inp, b.option_index, b.miners_before, b.miners_with_ai, b.running)
    assert (load <= inp.profile.capacity_mw + (inp.expansion_mw if b.expanded else 0) + 1e-6).all()


@pytest.mark.skipif(not (__import__("tests.conftest", fromlist=["SHARED_DATA"]).SHARED_DATA
                         / "ercot_hb_south_15min_2024-06_2025-03.csv").exists(), reason="no shared ERCOT series")
@pytest.mark.parametrize("interruptible", [False, True])
def test_the_reduction_is_exact_on_the_real_ercot_series(write_site, catalog, interruptible):
    """28,800 real quarter hours, a firm or an interruptible AI block beside miners: the
    reduced model's objective equals the reference's; presolve on and off agree."""
    from planner.model import optimize
    from planner.model.lp import solve_highs

    from .conftest import SHARED_DATA

    series = SHARED_DATA / "ercot_hb_south_15min_2024-06_2025-03.csv"
    text = edit(miner_site(0), {"grid.capacity_mw": 1.5, "ai.max_gpus": 8,
                                "power_price": {"kind": "series", "file": series.as_posix(),
                                                "timestamp_column": "timestamp_central",
                                                "price_column": "hb_south_rtm_usd_per_mwh", "step_minutes": 15}},
                add={"ai.min_gpus": 8, **({"ai.interruptible": True} if interruptible else {})})
    inp = prepare(load_site(write_site(text)), catalog, "hybrid")
    assert inp.profile.steps == 28_800 and inp.options[-1].gpus == 8 and inp.ai_interruptible == interruptible
    reference = solve(build_model(inp, reduce=False))
    reduced_model = build_model(inp)
    reduced = solve(reduced_model)
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9)
    assert reduced_model.lp.num_rows < 100  # 28,800 steps fall into a few classes
    for model in (reduced_model, build_model(inp, reduce=False)):
        for presolve in (True, False):
            sol = solve_highs(model.lp, presolve=presolve)
            assert sol.objective / optimize.OBJECTIVE_SCALE == pytest.approx(reference.objective_usd, rel=1e-9)


@pytest.mark.parametrize(("status", "words"), [
    (Status.NOT_SOLVED, "Time limit reached"),
    (Status.NOT_SOLVED, "Iteration limit reached"),
    (Status.UNBOUNDED, "Unbounded"),
    (Status.ERROR, "Solve error"),
])
def test_a_solver_that_stops_without_an_answer_is_not_called_infeasible(write_site, catalog, monkeypatch,
                                                                         status, words):
    import numpy as np

    import planner.model.optimize
    from planner.model.lp import Solution

    monkeypatch.setattr(planner.model.optimize, "run_solver",
                        lambda lp, solver="highs": (Solution(status, np.zeros(lp.num_cols), None, words), "highs"))
    result = _solve(write_site(miner_site(50.0)), catalog, "hybrid")
    assert result.status is status
    assert result.solver_status == f"highs: {words}"
    assert result.infeasibility == [] and result.option is None
    message = outcome(result)
    assert message.startswith(f"no answer ({status}): ") and words in message and "--solver cbc" in message
    assert "infeasible:" not in message
    summary = scenario_summary(result, catalog)
    assert summary.status == str(status) and summary.message == message
    assert summary.binding_constraints == []


def test_a_time_limit_in_highs_is_reported_as_such(write_site, catalog, monkeypatch):
    """A real HiGHS run with no time at all: it stops at once, without a plan."""
    import planner.model.optimize
    from planner.model.lp import solve_highs

    monkeypatch.setattr(planner.model.optimize, "run_solver",
                        lambda lp, solver="highs": (solve_highs(lp, time_limit=0.0), "highs"))
    result = _solve(write_site(AI_SITE), catalog, "greenfield")
    assert result.status is Status.NOT_SOLVED
    assert result.solver_status == "highs: Time limit reached"
    assert "Time limit reached" in outcome(result) and "not known to be infeasible" in outcome(result)


def test_cbc_stopped_before_a_proven_optimum_is_not_optimal():
    """PuLP's "optimal" with a solution that is only feasible (CBC at a limit) is NOT_SOLVED."""
    import pulp

    from planner.model.lp import LinearProgram, solve_pulp

    class Stops:
        def actualSolve(self, lp):
            lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
            return pulp.LpStatusOptimal

    lp = LinearProgram("p")
    lp.add_cost(lp.column("x", 0, 1, integer=True), 1.0)
    sol = solve_pulp(lp, Stops())
    assert sol.status is Status.NOT_SOLVED and sol.detail == "Solution Found"


def test_a_solver_that_says_infeasible_of_a_feasible_model_is_not_believed(write_site, catalog, monkeypatch):
    """HiGHS can answer "infeasible or unbounded"; when the re-solve with slack on every
    family needs none, the plan is not infeasible, and is not called so."""
    import numpy as np

    import planner.model.optimize
    from planner.model.lp import Solution

    real = planner.model.optimize.run_solver
    calls = []

    def first_says_infeasible(lp, solver="highs"):
        calls.append(solver)
        if len(calls) == 1:
            return Solution(Status.INFEASIBLE, np.zeros(lp.num_cols), None, "Primal infeasible or unbounded"), "highs"
        return real(lp, solver)

    monkeypatch.setattr(planner.model.optimize, "run_solver", first_says_infeasible)
    result = _solve(write_site(miner_site(50.0)), catalog, "hybrid")
    assert len(calls) == 2  # the plan, then the re-solve with slack
    assert result.status is Status.NOT_SOLVED and result.infeasibility == []
    assert "a plan needs none" in result.solver_status and "infeasible:" not in outcome(result)


def test_a_truly_infeasible_plan_says_infeasible_and_names_what_binds(write_site, catalog):
    text = edit(AI_SITE, add={"ai.min_gpus": 160})
    result = _solve(write_site(text), catalog, "greenfield")
    assert result.status is Status.INFEASIBLE and result.solver_status == "highs: Infeasible"
    assert outcome(result).startswith("infeasible: grid capacity")


def _random_site(tmp_path, prices, capacity, miners, gpus, interruptible) -> object:
    """A small site on an hourly series of the given prices (a week at least) with an AI
    block of up to ``gpus`` leased at a price that pays for it over five years."""
    import datetime as dt

    start = dt.datetime(2025, 1, 1)
    rows = ["timestamp,price"] + [f"{(start + dt.timedelta(hours=h)).isoformat()},{p}" for h, p in enumerate(prices)]
    (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
    text = edit(miner_site(0), {
        "grid.capacity_mw": capacity, "fleet.miners[0].count": miners, "ai.max_gpus": gpus,
        "ai.lease_usd_per_gpu_hour": 20.0, "economics.horizon_years": 5,
        "power_price": {"kind": "series", "file": "prices.csv", "timestamp_column": "timestamp",
                        "price_column": "price", "step_minutes": 60}},
        add={"ai.step": "server", **({"ai.interruptible": True} if interruptible else {})})
    (tmp_path / "site.toml").write_text(text)
    return tmp_path / "site.toml"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.sampled_from([-20.0, 0.0, 15.0, 40.0, 86.0, 88.0, 120.0, 900.0]), min_size=168, max_size=240),
       capacity=st.sampled_from([0.5, 1.0, 1.5, 3.0]), miners=st.integers(0, 900),
       gpus=st.sampled_from([0, 8, 16]), interruptible=st.booleans())
def test_the_reduction_equals_the_reference_on_random_sites(tmp_path_factory, prices, capacity, miners,
                                                            gpus, interruptible):
    """Random small sites (a week or more of hourly prices with repeats, negative and spike prices, fleets,
    AI blocks firm or interruptible): the reduced model's objective equals the per-step
    reference's to 1e-9, with the same cluster and the same miners kept; the per-step
    dispatch rebuilt from the classes keeps the grid within its capacity in every step."""
    from planner.model.optimize import grid_load
    from planner.parts.catalog import load_catalog

    catalog = load_catalog()  # not the fixture: a failing example would print the whole catalog
    path = _random_site(tmp_path_factory.mktemp("site"), prices, capacity, miners, gpus, interruptible)
    inp = prepare(load_site(path), catalog, "hybrid")
    reference, reduced = solve(build_model(inp, reduce=False)), solve(build_model(inp))
    assert reduced.status is reference.status
    if reference.status is not Status.OPTIMAL:
        return
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9, abs=1e-3)
    assert inp.options[reduced.option_index].gpus == inp.options[reference.option_index].gpus
    assert sum(reduced.miners_with_ai.values()) == sum(reference.miners_with_ai.values())
    load, _ = grid_load(inp, reduced.option_index, reduced.miners_before, reduced.miners_with_ai, reduced.running)
    assert (load <= inp.profile.capacity_mw + 1e-6).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.sampled_from([5, 2048, 2049, 6000]), seed=st.integers(0, 2**32 - 1),
       kinds=st.lists(st.sampled_from(["small", "bool", "scalar", "signed_zero", "wide"]), min_size=1, max_size=6))
def test_step_classes_are_the_rows_of_equal_values_in_order_of_first_appearance(steps, seed, kinds):
    """The classes by their definition: rows of the columns (as float64, -0.0 = 0.0) equal as
    tuples, numbered 0, 1, 2... in the order their first row comes; both of _classes' ways
    (whole rows up to 2,048 steps, column by column beyond) against a dict of tuples."""
    import numpy as np

    from planner.model.build import _classes

    rng = np.random.default_rng(seed)
    make = {"small": lambda: rng.integers(0, 3, steps).astype(float), "bool": lambda: rng.random(steps) < 0.3,
            "scalar": lambda: np.float64(rng.integers(0, 5)), "wide": lambda: rng.integers(0, 10**6, steps) * 0.5,
            "signed_zero": lambda: rng.choice([0.0, -0.0, 2.5], steps)}
    columns = [make[k]() for k in kinds]
    rows = zip(*(np.broadcast_to(np.asarray(c, dtype=float) + 0.0, (steps,)).tolist() for c in columns), strict=True)
    number: dict[tuple, int] = {}
    expected = [number.setdefault(row, len(number)) for row in rows]
    first = [expected.index(k) for k in range(len(number))]
    cls, got_first = _classes(columns, steps)
    assert cls.tolist() == expected
    assert got_first.tolist() == first


def test_presolve_on_and_off_agree_on_every_example_sites_model():
    """HiGHS's presolve is a speed choice (:func:`presolve_pays`): on every example site's
    scenario models both ways give the same optimum (1e-9), and it is off for the option
    MIPs but on for the phased plans' (whose size choices it is kept for)."""
    from planner.app.pipeline import load
    from planner.model.lp import solve_highs
    from planner.model.optimize import presolve_pays

    from .conftest import SITES

    kept = {}
    for path in sorted(SITES.glob("*.toml")):
        loaded, catalog = load(path)
        cache = PlanCache()
        for name in loaded.site.scenarios:
            lp = build_model(prepare(loaded, catalog, name, cache=cache)).lp
            on, off = solve_highs(lp, presolve=True), solve_highs(lp, presolve=False)
            assert on.status is off.status is Status.OPTIMAL, (path.stem, name)
            assert off.objective == pytest.approx(on.objective, rel=1e-9, abs=1e-9), (path.stem, name)
            kept[path.stem, name] = presolve_pays(lp)
    assert kept["texas-phased", "hybrid"] and kept["texas-phased", "retrofit"]
    assert not kept["xinjiang-mine", "hybrid"] and not kept["greenfield-campus", "greenfield"]


def test_the_options_columns_are_each_options_own_figures(write_site, catalog):
    """OptionColumns holds, per option and in order, the figures the option itself gives (the
    very floats); its per-hall sums are each option's miner positions taken and miners to
    move, as ScenarioInputs counts them one option at a time; a sweep's next variant (a price
    edit, the options cached) shares the columns; options replaced later get their own."""
    import dataclasses

    import numpy as np

    from .conftest import SITES

    cache = PlanCache()
    base = (SITES / "xinjiang-mine.toml").read_text()
    inp = prepare(load_site(write_site(base, "a.toml")), catalog, "hybrid", cache=cache)
    cols = inp.option_columns()
    opts = inp.options
    assert len(opts) > 100 and cols.options is opts
    for name, attr in (("servers", "servers"), ("gpus", "gpus"), ("required_gpus", "required_gpus"),
                       ("server_w", "server_power_w"), ("network_w", "network_power_w"), ("it_w", "it_power_w"),
                       ("pue", "pue"), ("capex", "capex_total_usd")):
        assert getattr(cols, name).tolist() == [float(getattr(o, attr)) for o in opts], name
    assert inp.hall_positions and any(b.placed for b in inp.miners)
    assert cols.per_option(inp.hall_positions).tolist() == [float(inp.positions_taken(o)) for o in opts]
    for b in inp.miners:
        assert cols.per_option(b.placed).tolist() == [float(inp.must_move(b, o)) for o in opts]
    assert cols.meanings["size__3"] == f"build {opts[3].servers} servers ({opts[3].gpus} GPUs)"
    assert sorted(k for ks in cols.by_plan.values() for k in ks.tolist()) == list(range(len(opts)))
    edited = edit(base, {"economics.btc_price_usd": 120000.0})
    again = prepare(load_site(write_site(edited, "b.toml")), catalog, "hybrid", cache=cache)
    assert again.option_columns() is cols  # shared through the cache
    fewer = dataclasses.replace(inp, options=opts[:10])
    assert fewer.option_columns().options is fewer.options and fewer.option_columns().servers.size == 10
    fresh = prepare(load_site(write_site(base, "c.toml")), catalog, "hybrid")  # no cache: its own, equal
    a, b = build_model(inp).lp.arrays(), build_model(fresh).lp.arrays()
    assert all(np.array_equal(a[key], b[key]) for key in a)


def test_next_option_is_the_smallest_larger_cluster_of_the_plan_or_a_longer_one(write_site, catalog):
    """next_option by its definition, option by option: among the options of a plan that begins
    with the chosen one's (any option with servers, for no cluster), those with more servers,
    the fewest servers first, then the cheapest, then the first listed."""
    from planner.model.optimize import next_option

    from .conftest import SITES

    inp = prepare(load_site(SITES / "xinjiang-mine.toml"), catalog, "hybrid")
    opts = inp.options
    assert len({o.plan for o in opts}) > 3
    for k, here in enumerate(opts):
        larger = [o for o in opts if (here.servers == 0 and o.servers > 0)
                  or (here.servers > 0 and o.plan[:len(here.plan)] == here.plan and o.servers > here.servers)]
        best = None
        for o in larger:
            if best is None or (o.servers, o.capex_total_usd) < (best.servers, best.capex_total_usd):
                best = o
        assert next_option(inp, k) is best, k


def _sichuan_needing_16384_gpus(write_site, grid_mw: float, budget_usd: float | None = None):
    from .conftest import SITES

    text = (SITES / "sichuan-hydro.toml").read_text()
    text = text.replace("capacity_mw = 60.0", f"capacity_mw = {grid_mw}", 1)
    text = text.replace('leaf_switch = "qm9700"', 'leaf_switch = "qm9700"\nmin_gpus = 16384', 1)
    if budget_usd is not None:
        text = text.replace("[economics]", f"[economics]\ncapex_budget_usd = {budget_usd:.0f}", 1)
    return write_site(text)


def test_min_gpus_that_the_halls_hold_but_the_grid_cannot_carry_names_the_grid(write_site, capsys):
    """The Sichuan halls hold 16,384 GPUs (the example plan builds them, 29.45 MW of facility
    power); required on a 0.5 MW connection the plan is infeasible, and the reason is the grid,
    not the halls: the message gives the least the AI of such a plan draws and the grid's
    0.5 MW (it used to say "at most 16384 can be built within the switches' tiers and the
    halls", as if 16,384 could not be built)."""
    import json
    import re

    from planner.app.cli import main

    from .conftest import SITES

    assert main(["solve", str(SITES / "sichuan-hydro.toml"), "-o", str(write_site("").parent / "ok"), "--json"]) == 0
    ok = json.loads(capsys.readouterr().out)["scenarios"]["retrofit"]
    assert ok["gpus"] == 16384
    site = _sichuan_needing_16384_gpus(write_site, 0.5)
    assert main(["solve", str(site), "-o", str(site.parent / "out"), "--json"]) == 1
    for name, plan in json.loads(capsys.readouterr().out)["scenarios"].items():
        said = " ".join(plan["binding_constraints"])
        assert plan["status"] == "infeasible", name
        assert "min GPUs: 16384 required" in said and "can be built within" not in said
        drawn = float(re.search(r"draws is ([\d.]+) MW", said).group(1))
        assert drawn == pytest.approx(ok["facility_power_mw"], abs=0.05)  # the same plan's AI, as solved above
        assert "the grid gives 0.5 MW" in said


def test_min_gpus_that_the_grid_carries_but_the_budget_cannot_pay_names_the_budget(write_site, capsys):
    """With the grid as built and a 100 M USD budget, the 16,384 GPUs' plan (897.7 M USD of
    capex in the example) is refused by the budget, and the message says so with both figures."""
    import json
    import re

    from planner.app.cli import main

    site = _sichuan_needing_16384_gpus(write_site, 60.0, budget_usd=100e6)
    assert main(["solve", str(site), "-o", str(site.parent / "out"), "--json"]) == 1
    for plan in json.loads(capsys.readouterr().out)["scenarios"].values():
        said = " ".join(plan["binding_constraints"])
        assert plan["status"] == "infeasible" and "min GPUs: 16384 required" in said
        assert re.search(r"costs 897,\d{3},\d{3} USD \(16384 GPUs\), the capex budget is 100,000,000 USD", said)

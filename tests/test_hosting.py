"""The host business model (issue 19): contract values, tenant risk and the fall-backs
derived by hand, the optimizer's objective against the hand-derived host value, the BOM's
scope, the per-MW comparison's break-evens, and the site file's checks."""

from __future__ import annotations

import numpy as np
import pytest

from planner.energy.economics import monthly_rate, npv
from planner.energy.hosting import HostTerms, mining_margin_by_month, value_contract
from planner.errors import InputError
from planner.model.build import build_model
from planner.model.inputs import prepare
from planner.model.optimize import Status, solve
from planner.outputs.bom import bom_rows
from planner.outputs.physics import cash_flows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .sitebuilder import S19_XP, flat, site

# ---- the contract alone ----------------------------------------------------------------


def test_core_scientific_contract_value_undiscounted():
    """200 MW at 121.53 USD/kW-month for 144 months, no escalator, undiscounted:
    200,000 x 121.53 x 144 = 3.50 billion USD, Core Scientific's "over 3.5 billion"."""
    v = value_contract(HostTerms(121.53, 144), start=0, horizon=144, discount_rate=0.0)
    assert 200_000 * v.expected_usd_per_kw == pytest.approx(3_500_064_000.0)
    assert v.probability.tolist() == [0.0] * 144 + [1.0]  # no risk: the tenant pays every month


def test_constant_rent_discounted_is_an_annuity():
    """r paid at the end of each of T months from month S: r (1 - (1+r_m)^-T) / r_m x (1+r_m)^-S."""
    r, t, s, d = 100.0, 120, 6, 0.08
    rm = (1 + d) ** (1 / 12) - 1
    hand = r * (1 - (1 + rm) ** -t) / rm * (1 + rm) ** -s
    v = value_contract(HostTerms(r, t), start=s, horizon=s + t, discount_rate=d)
    assert v.expected_usd_per_kw == pytest.approx(hand, rel=1e-12)


def test_escalator_and_ramp():
    """Escalator 10 %: 12 x 100 + 12 x 110 = 2,520. A ramp of half for 6 months, then all:
    6 x 50 + 18 x 100 = 2,100 (undiscounted)."""
    v = value_contract(HostTerms(100.0, 24, escalator_per_year=0.10), 0, 24, 0.0)
    assert v.expected_usd_per_kw == pytest.approx(2520.0)
    v = value_contract(HostTerms(100.0, 24, ramp=((0, 0.5), (6, 1.0))), 0, 24, 0.0)
    assert v.expected_usd_per_kw == pytest.approx(2100.0)


def test_power_and_opex_terms():
    """The host nets e - o a kW-month while leased: with rent included power of 30 and opex 10,
    12 x (100 - 30 - 10) = 720."""
    v = value_contract(HostTerms(100.0, 12, power_usd_per_kw_month=-30.0, opex_usd_per_kw_month=10.0), 0, 12, 0.0)
    assert v.expected_usd_per_kw == pytest.approx(720.0)


@pytest.mark.parametrize("d", [0.0, 0.1])
def test_yearly_termination_probability_weights_by_survival(d):
    """Hazard p a year: month j's rent is paid with probability (1-p)^((j+1)/12), so with no
    fee and idle halls the expected value is r sum_j q^(j+1) = r q (1 - q^T) / (1 - q), with
    q = (1-p)^(1/12) / (1+r_m)."""
    r, t, p = 100.0, 60, 0.2
    q = (1 - p) ** (1 / 12) / (1 + monthly_rate(d))
    hand = r * q * (1 - q**t) / (1 - q)
    v = value_contract(HostTerms(r, t, termination_probability_per_year=p), 0, t, d)
    assert v.expected_usd_per_kw == pytest.approx(hand, rel=1e-12)
    assert v.probability.sum() == pytest.approx(1.0)
    # after one year the tenant is still there with probability 1 - p
    assert v.probability[12:].sum() == pytest.approx(1 - p)
    # the expected value is the NPV of the expected cash flows
    assert npv(list(v.expected_flows), d) == pytest.approx(hand, rel=1e-12)


def test_termination_fee_telescopes():
    """Undiscounted, a fee of k months paid by a tenant that leaves after M < T months:
    sum_M (U_M - U_{M+1}) k r = k r (1 - U_T), U_M = (1-p)^(M/12)."""
    r, t, p, k = 100.0, 36, 0.3, 6.0
    u = (1 - p) ** (np.arange(t + 1) / 12)
    rent = r * u[1:].sum()  # month j paid with probability U_{j+1}
    hand = rent + k * r * (1 - u[t])
    v = value_contract(HostTerms(r, t, termination_probability_per_year=p, termination_fee_months=k), 0, t, 0.0)
    assert v.expected_usd_per_kw == pytest.approx(hand, rel=1e-12)


def test_stated_termination_with_re_lease_and_worst_time():
    """The tenant leaves after 12 months (fee 3 months); the halls are re-leased after 6
    empty months at 80 for the rest of a 60-month horizon; term 48 months, undiscounted:
    12 x 100 + 3 x 100 + (60 - 12 - 6) x 80 = 4,860. Leaving after M months is worth
    100 M + 300 + (54 - M) 80 = 4,620 + 20 M, worst at M = 0 (4,620); staying the term is
    4,800 + (60 - 54) x 80 = 5,280 (re-leased after the term too)."""
    terms = HostTerms(100.0, 48, termination_month=12, termination_fee_months=3, fallback="release",
                      release_after_months=6, release_rent_usd_per_kw_month=80.0)
    v = value_contract(terms, 0, 60, 0.0)
    assert v.expected_usd_per_kw == pytest.approx(4860.0)
    assert v.worst_exit == 0 and v.worst_usd_per_kw == pytest.approx(4620.0)
    assert v.value[-1] == pytest.approx(5280.0)
    assert v.value[30] == pytest.approx(4620.0 + 20 * 30)


def test_fallback_to_mining_only_when_it_pays():
    """The tenant leaves at once (month 0 of the contract, which starts at month 2); the
    miners need 3 months and cost C = 500 a kW, then earn 40 a kW-month to month 24:
    -500 + 40 x (24 - 2 - 3) = 260. With C = 1,000 mining loses (-240): the halls stay idle (0)."""
    margin = np.full(24, 40.0)
    terms = HostTerms(100.0, 12, termination_month=0, fallback="mine", fallback_cost_usd_per_kw=500.0,
                      fallback_delay_months=3, fallback_margin_usd_per_kw_month=margin)
    assert value_contract(terms, 2, 24, 0.0).expected_usd_per_kw == pytest.approx(260.0)
    costly = HostTerms(**{**terms.__dict__, "fallback_cost_usd_per_kw": 1000.0})
    v = value_contract(costly, 2, 24, 0.0)
    assert v.expected_usd_per_kw == 0.0 and v.fallback_value[0] == 0.0


def test_mining_margin_follows_the_hashprice_path():
    """mu_m = sum_t max(R f_m - u p_t, 0) h_t / 12 - opex: one miner, 1 USD/h at f = 1,
    0.01 MW, prices 50 and 150 USD/MWh for 4,380 h each. At f = 1: (0.5 x 4,380 + 0) / 12 - 10;
    at f = 0.5 the first step earns 0 and so does the second: -10."""
    mu = mining_margin_by_month(1.0, np.array(0.01), np.array([50.0, 150.0]), np.array([4380.0, 4380.0]), 10.0,
                                np.array([1.0, 1.0, 0.5]))
    assert mu.tolist() == pytest.approx([0.5 * 4380 / 12 - 10, 0.5 * 4380 / 12 - 10, -10.0])


# ---- the contract in the plan model -----------------------------------------------------------

ECON = {"btc_price_usd": 100000, "network_hashrate_ehs": 1000, "block_subsidy_btc": 3.125}


def host_site(hosting: dict, *, kind: str = "greenfield", discount: float = 0.0, years: int = 2,
              build: int = 3, facility: float = 2.0e6, capacity: float = 1.0, miners: list | None = None,
              ai: dict | None = None) -> str:
    """A 1 MW site whose one scenario hosts a tenant's DGX H100 (sized by the grid)."""
    return site("host site", capacity_mw=capacity, price=flat(40.0), cooling={"mining_pue": 1.0, "ai_pue": 1.25},
                miners=miners or [],
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server",
                    "lease_usd_per_gpu_hour": 2.0, **(ai or {})},
                economics={"discount_rate": discount, "horizon_years": years, **ECON},
                scenarios={"host": {"kind": kind, "model": "host", "build_months": build,
                                    "facility_usd_per_mw": facility}},
                hosting=hosting)


def _solve(path, catalog, scenario="host"):
    inputs = prepare(load_site(path), catalog, scenario)
    return solve(build_model(inputs))


def test_objective_equals_the_hand_derived_host_value(write_site, catalog):
    """Rent 150 USD/kW-month, 24-month horizon, AI from month 3, undiscounted, power passed
    through, no opex: the host earns kW x 150 x 21 and pays 2 M USD per MW of IT. The plan
    builds the largest cluster the 1 MW grid holds (value grows with the MW), and the
    objective, the NPV of the cash flows and the summary agree with that figure."""
    hosting = {"rent_usd_per_kw_month": 150.0, "term_months": 120, "host_opex_usd_per_mw_year": 0.0}
    result = _solve(write_site(host_site(hosting)), catalog)
    assert result.status is Status.OPTIMAL
    opt = result.option
    kw = opt.it_power_w / 1e3
    hand = kw * 150.0 * 21 - 2.0e6 * kw / 1e3
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)
    # the largest option the 1 MW grid holds
    assert max(o.servers for o in result.inputs.options if o.it_power_w * o.pue <= 1e6) == opt.servers
    doc = scenario_summary(result, catalog).model_dump()
    assert doc["business_model"] == "host"
    assert doc["capex_usd"] == pytest.approx(2.0e6 * kw / 1e3)  # the host pays no servers
    # the tenant pays its servers and the fabric: switches, optics and their cables
    assert opt.capex_usd["cabling"] > 0
    assert doc["capex_by_scope_usd"]["tenant"] == pytest.approx(opt.capex_usd["servers"] + opt.capex_usd["network"]
                                                                + opt.capex_usd["cabling"])
    assert doc["hosting"]["contracted_it_mw"] == pytest.approx(kw / 1e3)


def test_discounted_host_value_with_termination_risk(write_site, catalog):
    """Discount 10 %, hazard 25 % a year, fee 2 months, halls idle: per kW the expected value is
    sum_j q^(j+1) r (1+r_m)^-S ... derived term by term here from survival weights; the
    objective equals kW x that - capex. The worst time is to lose the tenant at once:
    kW x 2 r (1+r_m)^-S - capex, and the capex at risk is what that leaves unrecovered."""
    r, p, k, d, s, horizon = 150.0, 0.25, 2.0, 0.10, 3, 24
    hosting = {"rent_usd_per_kw_month": r, "term_months": 120, "host_opex_usd_per_mw_year": 0.0,
               "termination_probability_per_year": p, "termination_fee_months": k}
    result = _solve(write_site(host_site(hosting, discount=d)), catalog)
    assert result.status is Status.OPTIMAL
    rm = (1 + d) ** (1 / 12) - 1
    m_max = horizon - s
    per_kw = 0.0
    for j in range(m_max):  # rent of contract month j, paid if the tenant stays to its end
        per_kw += (1 - p) ** ((j + 1) / 12) * r * (1 + rm) ** -(s + j + 1)
    for m in range(m_max):  # leaves after m months: P = U_m - U_{m+1}, fee at month s + m
        per_kw += ((1 - p) ** (m / 12) - (1 - p) ** ((m + 1) / 12)) * k * r * (1 + rm) ** -(s + m)
    opt = result.option
    kw, capex = opt.it_power_w / 1e3, 2.0e6 * opt.it_power_w / 1e6
    assert result.objective_usd == pytest.approx(kw * per_kw - capex, rel=1e-9)
    assert npv(cash_flows(result), d) == pytest.approx(result.objective_usd, rel=1e-9)
    block = scenario_summary(result, catalog).hosting
    worst = kw * k * r * (1 + rm) ** -s - capex
    assert block["worst_exit_after_months_paid"] == 0
    assert block["npv_if_tenant_leaves_at_worst_time_usd"] == pytest.approx(worst, rel=1e-6)
    assert block["capex_at_risk_usd"] == pytest.approx(-worst, rel=1e-6)
    stays = sum(r * (1 + rm) ** -(s + j + 1) for j in range(m_max))
    assert block["npv_if_tenant_stays_usd"] == pytest.approx(kw * stays - capex, rel=1e-6)


def test_a_contract_that_does_not_pay_is_not_built(write_site, catalog):
    """At 20 USD/kW-month for 21 months (420 a kW) against 2,000 a kW of capex the host
    builds nothing."""
    hosting = {"rent_usd_per_kw_month": 20.0, "term_months": 120, "host_opex_usd_per_mw_year": 0.0}
    result = _solve(write_site(host_site(hosting)), catalog)
    assert result.status is Status.OPTIMAL and result.option.servers == 0
    assert result.objective_usd == pytest.approx(0.0, abs=1e-6)


# An S19 XP draws 3,010 W plus its share of a 48-port SN2201 access switch, 80 W / 48 (an
# estimate); 140 TH/s. Hashprice at 100,000 USD and 1,000 EH/s: 0.045 USD/TH/day.
MINER_MW = (3010 + 80 / 48) / 1e6


def test_option_to_mine_by_hand(write_site, catalog):
    """The tenant leaves at once; the host goes back to mining with miners kept from the
    fleet (salvage 0) after a reconversion of 100,000 USD per MW of facility power and 2
    months. Miners per kW of IT: PUE / 1,000 / their MW; each earns (140 x 0.045 / 24 -
    MINER_MW x 40) USD an hour, all 8,760 h a year (40 USD/MWh is below their breakeven).
    Undiscounted, from month 3 + 2 to month 24. The option to mine is that value (idle would be 0)."""
    hosting = {"rent_usd_per_kw_month": 150.0, "term_months": 120, "host_opex_usd_per_mw_year": 0.0,
               "termination_month": 0, "termination_fee_months": 12, "fallback": "mine",
               "reconversion_usd_per_mw": 1e5, "reconversion_months": 2, "fallback_miners": "kept"}
    # the 12-month fee (1,800 USD a kW) pays for the 100 USD a kW of works: the host builds
    text = host_site(hosting, kind="retrofit", facility=1e5,
                     miners=[{"model": S19_XP, "count": 10, "salvage_usd": 0.0}])
    result = _solve(write_site(text), catalog)
    assert result.status is Status.OPTIMAL
    opt = result.option
    assert opt.servers > 0
    kw = opt.it_power_w / 1e3
    per_kw_miners = opt.pue / 1000 / MINER_MW
    hourly = 140 * 0.045 / 24 - MINER_MW * 40.0
    mine = kw * (-1e5 * opt.pue / 1000 + per_kw_miners * hourly * 8760 / 12 * (24 - 3 - 2))
    block = scenario_summary(result, catalog).hosting
    assert block["option_to_mine_usd"] == pytest.approx(mine, rel=1e-6)
    assert block["fallback_miner"] == S19_XP


def test_bom_scope_and_fabric_given_to_the_host(write_site, catalog):
    """Servers and the fabric are the tenant's by default; the facility the host's. With
    host_pays_fabric the switches and optics move to the host's scope and capex."""
    hosting = {"rent_usd_per_kw_month": 150.0, "term_months": 120, "host_opex_usd_per_mw_year": 0.0}
    result = _solve(write_site(host_site(hosting)), catalog)
    scope = {r.category: r.scope for r in bom_rows(result, catalog)}
    assert scope["gpu_server"] == "tenant" and scope["switch"] == "tenant" and scope["facility"] == "host"
    # at 400 USD/kW-month the rent also pays for the fabric
    given = _solve(write_site(host_site({**hosting, "rent_usd_per_kw_month": 400.0, "host_pays_fabric": True}),
                              "b.toml"), catalog)
    scope = {r.category: r.scope for r in bom_rows(given, catalog)}
    assert scope["gpu_server"] == "tenant" and scope["switch"] == "host" and scope["transceiver"] == "host"
    assert scope["cable"] == "host"
    o = given.option
    assert scenario_summary(given, catalog).capex_usd == pytest.approx(o.capex_usd["facility"]
                                                                          + o.capex_usd["network"]
                                                                          + o.capex_usd["cabling"])


def test_owner_gpu_life_and_resale(write_site, catalog):
    """Owner model, free power, utilisation 1: a GPU earns 4 USD an hour, 730 h a month, for
    a 24-month life from month 3, then the servers are sold for 20 % of their price:
    objective = G x 4 x 730 x 24 + 0.2 x servers - capex (undiscounted); the horizon's last 9
    months earn nothing."""
    text = site("owner", capacity_mw=1.0, price=flat(0.0), cooling={"ai_pue": 1.25},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": 4.0,
                    "utilization": 1.0, "gpu_life_years": 2, "gpu_resale_share": 0.2},
                economics={"discount_rate": 0.0, "horizon_years": 3, **ECON},
                scenarios={"own": {"kind": "greenfield", "build_months": 3, "facility_usd_per_mw": 2e6}})
    result = _solve(write_site(text), catalog, "own")
    opt = result.option
    assert opt.servers > 0
    hand = opt.gpus * 4.0 * 730 * 24 + 0.2 * opt.capex_usd["servers"] - opt.capex_total_usd
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)


def test_per_mw_break_even_rent_and_btc_price(write_site, catalog):
    """Undiscounted one-year horizon (the capital charge is the capex itself). Mining per MW
    of grid: (140 x 0.045 / 24 - MINER_MW x 40) x 8,760 / MINER_MW. Hosting: 12,000 r / PUE
    - capex per MW of grid. The break-even rent makes them equal; at the break-even BTC price
    the miner's hourly revenue scales with the price and mining equals hosting."""
    hosting = {"rent_usd_per_kw_month": 200.0, "term_months": 120, "host_opex_usd_per_mw_year": 0.0}
    text = host_site(hosting, kind="retrofit", years=1, build=0,
                     miners=[{"model": S19_XP, "count": 10, "salvage_usd": 0.0}])
    result = _solve(write_site(text), catalog)
    doc = scenario_summary(result, catalog).per_mw
    rep = result.option if result.option.servers else max(result.inputs.options, key=lambda o: o.servers)
    pue = rep.pue
    capex_grid = 2.0e6 / pue  # 2 M USD per MW of IT
    mining = (140 * 0.045 / 24 - MINER_MW * 40.0) * 8760 / MINER_MW
    hosting_mw = 12_000 * 200.0 / pue - capex_grid
    assert 0 < hosting_mw < mining  # a break-even below today's BTC price
    assert doc["mining_margin_usd_per_mw_year"] == pytest.approx(mining, rel=1e-6)
    assert doc["hosting_margin_usd_per_mw_year"] == pytest.approx(hosting_mw, rel=1e-6)
    rent = (mining + capex_grid) * pue / 12_000
    assert doc["break_even"]["rent_usd_per_kw_month_hosting_equals_mining"] == pytest.approx(rent, rel=1e-6)
    btc = doc["break_even"]["btc_price_usd_mining_equals_hosting"]
    at_btc = (140 * 0.045 * btc / 100_000 / 24 - MINER_MW * 40.0) * 8760 / MINER_MW
    assert at_btc == pytest.approx(hosting_mw, rel=1e-6)
    assert doc["break_even"]["hashprice_usd_per_th_day_mining_equals_hosting"] == pytest.approx(
        0.045 * btc / 100_000, rel=1e-5)


# ---- the site file ------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"fallback": "release"}, "hosting", "needs release_rent_usd_per_kw_month"),
    ({"termination_month": 12, "termination_probability_per_year": 0.1}, "hosting", "not both"),
    ({"rent_usd_per_kw_month": -1.0}, "hosting.rent_usd_per_kw_month", "greater than 0"),
    ({"fallbak": "mine"}, "hosting.fallbak", "unknown key"),
    ({"power": "free"}, "hosting.power", ""),
])
def test_bad_hosting_sections(write_site, change, key, words):
    hosting = {"rent_usd_per_kw_month": 150.0, "term_months": 120}
    text = host_site({**hosting, **change})
    with pytest.raises(InputError) as info:
        load_site(write_site(text))
    problem = info.value.problems[0]
    assert problem.key == key, problem
    assert words in problem.message
    if key.startswith("hosting."):
        assert problem.line is not None
    if key == "hosting.fallbak":
        assert "fallback" in (problem.hint or "")


def test_host_scenario_needs_a_hosting_section(write_site, catalog):
    text = host_site({}).replace("[hosting]\n", "")
    path = write_site(text)
    with pytest.raises(InputError) as info:
        prepare(load_site(path), catalog, "host")
    problem = info.value.problems[0]
    assert problem.key == "scenarios.host.model" and "no [hosting] section" in problem.message
    assert text.splitlines()[problem.line - 1].startswith("model = ")


def test_fallback_miner_must_be_known(write_site, catalog):
    text = host_site({"rent_usd_per_kw_month": 150.0, "term_months": 120, "fallback": "mine",
                      "fallback_miner": "antminer-s21x"})
    with pytest.raises(InputError) as info:
        prepare(load_site(write_site(text)), catalog, "host")
    problem = info.value.problems[0]
    assert problem.key == "hosting.fallback_miner" and "did you mean" in (problem.hint or "")


def test_compare_prints_the_per_mw_comparison(capsys, tmp_path):
    """The example site: hosting against keeping the miners and against owning the GPUs."""
    from planner.app.cli import main

    from .conftest import SITES

    out = tmp_path / "c"
    code = main(["compare", str(SITES / "core-scientific-host.toml"), "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "margin per MW of grid" in text and "capex at risk" in text
    import csv

    with (out / "compare.csv").open(newline="") as handle:
        rows = {r[0]: r[1:] for r in csv.reader(handle)}
    assert rows["metric"] == ["host", "mine", "own-gpus"]
    assert rows["business model"] == ["host", "owner", "owner"]
    # the grid (100 MW) at the Muskogee ratio (PUE 1.43) holds about 70 MW of critical IT
    assert float(rows["contracted IT, MW"][0]) == pytest.approx(69.9, abs=0.5)
    # keeping the miners: no GPUs, the fleet kept
    assert float(rows["GPUs"][1]) == 0 and float(rows["miners (with AI)"][1]) == 26000


def test_renewals_extend_the_term_only_when_exercised(write_site):
    """A 24-month term with two 12-month options runs 24 months, or 48 when they are valued
    as exercised; undiscounted over a 60-month horizon: 2,400 against 4,800 a kW at 100."""
    text = host_site({"rent_usd_per_kw_month": 100.0, "term_months": 24, "renewals": 2, "renewal_months": 12})
    contract = load_site(write_site(text)).site.hosting
    assert contract.contract_months == 24
    exercised = contract.model_copy(update={"renewals_exercised": True})
    assert exercised.contract_months == 48
    for months, value in ((24, 2400.0), (48, 4800.0)):
        assert value_contract(HostTerms(100.0, months), 0, 60, 0.0).expected_usd_per_kw == pytest.approx(value)


def test_the_summary_says_whether_the_renewals_are_counted(write_site, catalog):
    """By default the NPV counts the base term only and the summary says so; valued as
    exercised, the NPV grows by the renewed months' rent. Rent 200, 12-month term and one
    12-month option from month 3 on a 24-month horizon, undiscounted: the base term pays
    (200 x 12 = 2,400 USD a kW against 2,000 of capex) and the option adds the 9 months
    left before the horizon, kW x 200 x 9."""
    hosting = {"rent_usd_per_kw_month": 200.0, "term_months": 12, "renewals": 1, "renewal_months": 12,
               "host_opex_usd_per_mw_year": 0.0}
    base = _solve(write_site(host_site(hosting)), catalog)
    doc = scenario_summary(base, catalog)
    assert doc.hosting["renewals"] == ("not counted: the NPV values the 12-month base term only; 1 option of "
                                       "12 months not valued (hosting.renewals_exercised = true counts them)")
    renewed = _solve(write_site(host_site({**hosting, "renewals_exercised": True}), "renewed.toml"), catalog)
    assert scenario_summary(renewed, catalog).hosting["renewals"] == (
        "counted as exercised: 12 + 1 option of 12 months = 24 months, cut at the 24-month horizon")
    assert renewed.option.servers == base.option.servers > 0
    kw = base.option.it_power_w / 1e3
    assert renewed.objective_usd - base.objective_usd == pytest.approx(kw * 200.0 * 9, rel=1e-9)


def test_example_host_objective_equals_npv_of_its_cash_flows(catalog):
    """The example site's host scenario (a ramp, hazard, fee, miners before the AI, a
    fall-back to mining): the objective and the NPV of the expected monthly flows agree."""
    from .conftest import SITES

    result = _solve(SITES / "core-scientific-host.toml", catalog)
    assert result.status is Status.OPTIMAL and result.option.servers
    assert npv(cash_flows(result), result.inputs.discount_rate) == pytest.approx(result.objective_usd, rel=1e-9)


def test_sweep_axis_of_the_contract_needs_a_hosting_section(tmp_path):
    from planner.app.sweep import check_axes, load_sweep
    from planner.site.load import load_site as load

    from .conftest import SITES

    for base, problems in (("core-scientific-host.toml", 0), ("texas-hybrid.toml", 1)):
        path = tmp_path / "sweep.toml"
        path.write_text(f'base = "{SITES / base}"\n[[axes]]\nname = "rent_usd_per_kw_month"\nvalues = [100.0, 150.0]\n')
        sweep = load_sweep(path)
        found = check_axes(sweep, load(sweep.base).site)
        assert len(found) == problems
        if problems:
            assert "no [hosting] section" in found[0].message and found[0].key == "axes[0]"

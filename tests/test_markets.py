"""Power contracts and markets (issue 20): fixed-price blocks with resale, reserve offers,
coincident peaks and monthly demand charges, each against cash flows derived by hand on a
small series (docs/research-contracts-markets.md, sections 6-9), the reduced model against
the per-step reference, and the real ERCOT series."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.app.cli import main
from planner.energy.economics import npv
from planner.model.build import build_model
from planner.model.inputs import prepare
from planner.model.optimize import Status, grid_load, solve
from planner.outputs.physics import cash_flows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .conftest import SHARED_DATA
from .sitebuilder import ONE_YEAR, S19_XP, edit, site

# An S19 XP (140 TH/s, 3,010 W) with its share of a 48-port SN2201 access switch (80 W / 48):
# at 100,000 USD/BTC and 1,000 EH/s it earns 6.30 USD a day (tests/test_optimize.py), so its
# value per MWh (the breakeven price) is 6.30 / 24 / 3,011.67e-6 = 87.16 USD/MWh.
MINER_W = 3010 + 80 / 48
V = 6.30 / 24 / (MINER_W / 1e6)
N = 3000  # miners: 3,000 x 3,011.67 W = 9.035 MW at mining PUE 1.0
F = N * MINER_W / 1e6
PATTERN = [20.0, 50.0, 200.0, -10.0]  # the research doc's four 15-minute prices, repeated
CYCLES = 7 * 24  # a week of one-hour cycles; a year of them is 8,760 (every step weighs 8,760 / 168)
ERCOT = SHARED_DATA / "ercot_hb_south_15min_2024-06_2025-03.csv"


def write_series(folder, prices, **columns) -> str:
    """A 15-minute series from 2025-07-01 00:00 (a Tuesday in July) in ``folder``."""
    t = pd.date_range("2025-07-01", periods=len(prices), freq="15min")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), "price": prices, **columns}).to_csv(
        folder / "s.csv", index=False)
    return "s.csv"


def market_site(power: str = "", *, count: int = N, capacity: float = 10.0, ai: dict | None = None,
                scenario: dict | None = None) -> str:
    """Miners (and an AI block when given) on the 15-minute series s.csv, one undiscounted year,
    with the ``[power]`` tables in ``power``."""
    text = site("markets", capacity_mw=capacity, price={"kind": "series", "file": "s.csv", "step_minutes": 15},
                cooling={"mining_pue": 1.0, "ai_pue": 1.25},
                miners=[{"model": S19_XP, "count": count}] if count else (),
                ai=ai or {"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"plan": scenario or {"kind": "hybrid"}})
    return text + "\n" + power


def solved(path, catalog, scenario="plan"):
    inp = prepare(load_site(path), catalog, scenario)
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    return result, scenario_summary(result, catalog).model_dump()


CONTRACT = """
[[power.contracts]]
mw = 10.0
usd_per_mwh = 30.0
"""


def test_a_fixed_price_block_is_resold_when_mining_pays_less(tmp_path, write_site, catalog):
    """The research doc's case: Q = 10 MW at 30 USD/MWh, steps at 20, 50, 200, -10 USD/MWh,
    miners worth 87.16 USD/MWh. They run in steps 1, 2 and 4 and stop in step 3; each
    one-hour cycle the block costs 10 x 30 = 300 USD, resells 10 x 0.25 x 200 = 500 USD in
    step 3 and the (10 - 9.035) MW the miners leave in the others: 0.965 x 0.25 x (20 + 50 -
    10). A year is 8,760 cycles. Against buying at the real-time price, the block is worth
    8,760 x (10 x 0.25 x (20 + 50 + 200 - 10) - 300) = 3,066,000 USD."""
    write_series(tmp_path, PATTERN * CYCLES)
    _plain, plain_summary = solved(write_site(market_site()), catalog)
    result, summary = solved(write_site(market_site(CONTRACT), "c.toml"), catalog)
    run = result.running["antminer-s19-xp"][:4]
    assert run.tolist() == pytest.approx([N, N, 0, N])
    lines = summary["power_markets"]["with_ai"]
    assert lines["contract_fixed_cost_usd"] == pytest.approx(8760 * 300)
    assert lines["energy_bought_usd"] == pytest.approx(0.0)
    assert summary["contract_credits_usd_per_year"] == pytest.approx(8760 * (500 + (10 - F) * 0.25 * 60))
    assert summary["npv_usd"] - plain_summary["npv_usd"] == pytest.approx(3_066_000, abs=0.05)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)
    # the bill less the credits is what the load costs at the real-time price, plus the block's premium
    spot = F * 0.25 * (20 + 50 - 10) * 8760
    assert lines["energy_cost_usd"] - lines["contract_credits_usd"] == pytest.approx(spot - 3_066_000)


def test_a_block_shaped_by_hours_and_a_term(tmp_path, write_site, catalog):
    """A block only from 14:00 to 20:00 (6 of 24 hours) and for 6 months of a 12-month plan:
    its premium over spot counts 6 hours a day for half the year. The cycle's mean price is
    65 USD/MWh, so each block hour saves 10 x (65 - 30) = 350 USD: 6 x 365 x 350 / 2."""
    write_series(tmp_path, PATTERN * CYCLES)
    block = CONTRACT + "start_hour = 14\nend_hour = 20\nterm_months = 6\n"
    plain, _ = solved(write_site(market_site()), catalog)
    result, _summary = solved(write_site(market_site(block), "c.toml"), catalog)
    assert result.objective_usd - plain.objective_usd == pytest.approx(6 * 365 * 350 / 2, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_a_contract_needs_a_series_price(write_site, capsys):
    text = site("flat", capacity_mw=1.0, price={"kind": "flat", "usd_per_mwh": 40.0},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                miners=[{"model": S19_XP, "count": 10}], economics=ONE_YEAR, scenarios={"plan": {"kind": "hybrid"}})
    path = write_site(text + CONTRACT)
    assert main(["solve", str(path), "-q", "-o", str(path.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert "power.contracts[0]" in err and "series" in err and "Traceback" not in err


@pytest.mark.parametrize(("spike_price", "runs"), [(150.0, True), (100.0, False)])
def test_reserves_keep_miners_running_when_the_offer_pays_more_than_the_loss(tmp_path, write_site, catalog,
                                                                             spike_price, runs):
    """A capacity price only in the 200 USD/MWh step: running there loses 200 - 87.16 =
    112.84 USD per MWh, and offering the running MW earns the capacity price per MW-hour.
    At 150 the miners run and offer all 9.035 MW (150 x 9.035 x 0.25 a cycle, 8,760 cycles);
    at 100 they stop and offer nothing. Flat 10 USD/MW-h elsewhere, capped at 5 MW."""
    write_series(tmp_path, PATTERN * CYCLES, rrs=[10.0, 10.0, spike_price, 10.0] * CYCLES)
    power = '[power.reserves]\ncolumn = "rrs"\n'
    result, summary = solved(write_site(market_site(power)), catalog)
    offered = result.markets["offer_after"][:4]
    expected = [F, F, F if runs else 0.0, F]
    assert offered.tolist() == pytest.approx(expected)
    assert summary["reserve_revenue_usd_per_year"] == pytest.approx(
        8760 * 0.25 * (10 * F * 3 + (spike_price * F if runs else 0.0)))
    capped, capped_summary = solved(write_site(market_site(power + "max_mw = 5.0\n"), "c.toml"), catalog)
    # capped at 5 MW the offer no longer pays for running at a loss beyond 5 MW: 5 MW run
    assert capped.markets["offer_after"][:4].tolist() == pytest.approx([5, 5, 5 if runs else 0, 5])
    if runs:
        assert capped.running["antminer-s19-xp"][2] * MINER_W / 1e6 == pytest.approx(5.0)
    assert npv(cash_flows(capped), 0.0) == pytest.approx(capped.objective_usd, rel=1e-9)
    assert capped_summary["reserve_revenue_usd_per_year"] == pytest.approx(
        8760 * 0.25 * 5 * (30 + (spike_price if runs else 0.0)))


def test_the_ai_offers_its_interruptible_share(tmp_path, write_site, catalog):
    """A firm AI block, no miners, a flat 8 USD/MW-h: it offers 40 % x its power fraction
    (0.9) of its facility load in every step, 8 x 0.36 x facility MW x 8,760 USD a year."""
    write_series(tmp_path, [40.0] * 96 * 7)
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8, "min_gpus": 8,
          "lease_usd_per_gpu_hour": 3.0, "power_fraction": 0.9}
    power = "[power.reserves]\nusd_per_mw_hour = 8.0\nai_interruptible_share = 0.4\n"
    result, summary = solved(write_site(market_site(power, count=0, ai=ai, scenario={"kind": "greenfield"})),
                             catalog)
    facility = result.option.it_power_w / 1e6 * 1.25  # at max power, AI PUE 1.25
    assert summary["facility_power_mw"] == pytest.approx(facility, abs=1e-6)
    assert result.markets["offer_after"] == pytest.approx(np.full(96 * 7, 0.36 * facility))
    assert summary["reserve_revenue_usd_per_year"] == pytest.approx(8 * 0.36 * facility * 8760, abs=0.01)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


PEAKS = ["2025-07-01 17:00", "2025-07-02 17:00", "2025-07-03 16:45", "2025-07-04 17:15"]


@pytest.mark.parametrize(("rate", "curtail"), [(50.0, True), (1.0, False)])
def test_coincident_peaks_are_curtailed_when_the_charge_exceeds_the_mining(tmp_path, write_site, catalog,
                                                                           rate, curtail):
    """Four peak quarter hours at 20 USD/MWh: a MW imported in one costs rate x 1000 / 4 a
    year; running there earns (87.16 - 20) x 0.25 h x 8,760 / 168 = 875.5 USD a year. At
    50 USD/kW-year (12,500 per MW) the miners stop in exactly those four steps (tag 0); at
    1 USD/kW-year (250) they run (tag 9.035 MW, charge 9,035 USD)."""
    write_series(tmp_path, [20.0] * 96 * 7)
    intervals = ", ".join(f'"{t}"' for t in PEAKS)
    power = f"[power.coincident_peak]\nusd_per_kw_year = {rate}\nintervals = [{intervals}]\n"
    result, summary = solved(write_site(market_site(power)), catalog)
    run = result.running["antminer-s19-xp"]
    peak_steps = [17 * 4, 96 + 17 * 4, 2 * 96 + 16 * 4 + 3, 3 * 96 + 17 * 4 + 1]
    if curtail:
        assert np.flatnonzero(run < N - 1e-6).tolist() == peak_steps
        assert summary["coincident_peak_tag_mw"] == pytest.approx(0.0)
    else:
        assert run == pytest.approx(np.full(run.size, N))
        assert summary["coincident_peak_tag_mw"] == pytest.approx(F)
        assert summary["coincident_peak_usd_per_year"] == pytest.approx(F * 1000 * rate)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_the_tag_is_the_mean_import_in_the_peaks():
    """The research doc's case: imports 100, 0, 100, 50 MW in the four intervals at 50
    USD/kW-year: tag 62.5 MW, 3,125,000 USD a year; a 30-minute interval is the mean of its
    two quarter hours. Demand charges: one month at 40, 60, 55 MW and 10 USD/kW: 600,000 USD."""
    from planner.energy.markets import Markets

    weights = np.zeros(8)
    weights[[0, 2, 4, 6]] = 50 * 1000 / 4
    m = Markets(cp_usd_per_mw_year=weights, cp_rate_usd_per_kw_year=50.0)
    assert m.cp_charge(np.array([100, 7, 0, 7, 100, 7, 50, 7.0])) == pytest.approx((62.5, 3_125_000))
    half = np.zeros(8)
    half[[0, 1]] = 50 * 1000 / 2
    m = Markets(cp_usd_per_mw_year=half, cp_rate_usd_per_kw_year=50.0)
    assert m.cp_charge(np.array([100, 0, 9, 9, 9, 9, 9, 9.0]))[0] == pytest.approx(50.0)
    dc = Markets(demand_usd_per_kw_month=10.0, month=np.zeros(3, dtype=np.int64), months_a_year=np.array([1.0]))
    assert dc.demand_charge(np.array([40.0, 60.0, 55.0])) == pytest.approx(600_000)


def test_peaks_found_from_a_system_load_column(tmp_path, write_site, catalog):
    """The month's highest 30-minute interval of the system load (Friday 4 July 17:00-17:30):
    both its quarter hours are the peak, each half of the tag."""
    n = 96 * 7
    load = np.full(n, 50_000.0)
    at = 3 * 96 + 17 * 4
    load[at], load[at + 1], load[at + 2] = 80_000.0, 79_000.0, 81_000.0  # 17:30-17:45 alone is higher
    load[at + 3] = 60_000.0  # but 17:30-18:00 averages 70,500 < 79,500
    write_series(tmp_path, [20.0] * n, sysload=load)
    power = ('[power.coincident_peak]\nusd_per_kw_year = 50\nsystem_load_column = "sysload"\n'
             "interval_minutes = 30\nmonths = [7]\n")
    inp = prepare(load_site(write_site(market_site(power))), catalog, "plan")
    assert [s.tolist() for s in inp.markets.cp_steps] == [[at, at + 1]]
    assert np.flatnonzero(inp.markets.cp_usd_per_mw_year).tolist() == [at, at + 1]
    assert inp.markets.cp_usd_per_mw_year[at] == pytest.approx(25_000)


def test_a_firm_ai_pays_its_tag(tmp_path, write_site, catalog):
    """A firm AI block alone: its facility load at max power is the tag in every peak."""
    write_series(tmp_path, [40.0] * 96 * 7)
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8, "min_gpus": 8,
          "lease_usd_per_gpu_hour": 3.0}
    intervals = ", ".join(f'"{t}"' for t in PEAKS)
    power = f"[power.coincident_peak]\nusd_per_kw_year = 40\nintervals = [{intervals}]\n"
    plain, _ = solved(write_site(market_site(count=0, ai=ai, scenario={"kind": "greenfield"})), catalog)
    result, summary = solved(write_site(market_site(power, count=0, ai=ai, scenario={"kind": "greenfield"}),
                                        "c.toml"), catalog)
    facility = result.option.it_power_w / 1e6 * 1.25  # at max power, AI PUE 1.25
    assert summary["coincident_peak_tag_mw"] == pytest.approx(facility, abs=1e-6)
    assert plain.objective_usd - result.objective_usd == pytest.approx(facility * 1000 * 40, rel=1e-9)


def test_the_coincident_peak_charge_is_billed_the_following_year(tmp_path, write_site, catalog):
    """PUCT 16 TAC 25.192(b)(1): each month's transmission charge is the monthly rate times the
    previous year's 4CP tag. A firm AI block from month 0 over two years at 10 % a year, tag T
    (its facility MW at max power), 40 USD/kW-year: the charge for month m's load, 40,000 T / 12,
    is paid in month m + 12, so nothing in the first year, 40,000 T / 12 a month in the second,
    and the second year's tag, billed in months 24-35, past the horizon, is owed all the same:

        PV = 40,000 T / 12 x sum_{m=12}^{35} (1 + r_m)^-(m+1),  r_m = 1.1^(1/12) - 1

    which the NPV loses against the same plan without peaks, and the last cash flow carries
    the part past the horizon at its value then."""
    write_series(tmp_path, [40.0] * 96 * 7)
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8, "min_gpus": 8,
          "lease_usd_per_gpu_hour": 3.0}
    intervals = ", ".join(f'"{t}"' for t in PEAKS)
    power = f"[power.coincident_peak]\nusd_per_kw_year = 40\nintervals = [{intervals}]\n"
    two_years = {"economics.horizon_years": 2, "economics.discount_rate": 0.1}
    plain_text = edit(market_site(count=0, ai=ai, scenario={"kind": "greenfield"}), two_years)
    plain, _ = solved(write_site(plain_text), catalog)
    text = edit(market_site(power, count=0, ai=ai, scenario={"kind": "greenfield"}), two_years)
    result, summary = solved(write_site(text, "c.toml"), catalog)
    tag = result.option.it_power_w / 1e6 * 1.25
    assert summary["coincident_peak_tag_mw"] == pytest.approx(tag, abs=1e-6)
    rm = 1.1 ** (1 / 12) - 1
    monthly = 40_000 * tag / 12
    pv = monthly * sum((1 + rm) ** -(m + 1) for m in range(12, 36))
    assert plain.objective_usd - result.objective_usd == pytest.approx(pv, rel=1e-9)
    assert npv(cash_flows(result), 0.1) == pytest.approx(result.objective_usd, rel=1e-9)
    gap = [a - b for a, b in zip(cash_flows(plain), cash_flows(result), strict=True)]
    assert gap[:13] == pytest.approx([0.0] * 13, abs=1e-6)  # month 0 and the first year: no charge
    assert gap[13:24] == pytest.approx([monthly] * 11, rel=1e-9)
    past = monthly * sum((1 + rm) ** -(m + 1 - 24) for m in range(24, 36))
    assert gap[24] == pytest.approx(monthly + past, rel=1e-9)


@pytest.mark.parametrize(("rate", "runs"), [(30.0, True), (40.0, False)])
def test_a_demand_charge_against_the_months_mining(tmp_path, write_site, catalog, rate, runs):
    """One month of the 20, 50, 200, -10 cycle: a MW of miners running in the three steps
    that pay earns (67.16 + 37.16 + 97.16) x 0.25 h per cycle, 730 cycles a month: 36,770
    USD per MW-month. A demand charge of 30 USD/kW-month (30,000 per MW) leaves it running,
    40 (40,000) stops it: the peak is all or nothing. The series is one month, standing for
    12 a year."""
    write_series(tmp_path, PATTERN * CYCLES)
    power = f"[power.demand_charge]\nusd_per_kw_month = {rate}\n"
    result, summary = solved(write_site(market_site(power)), catalog)
    peak = F if runs else 0.0
    assert summary["power_markets"]["with_ai"]["monthly_peaks_mw"] == {"2025-07": pytest.approx(peak, abs=1e-6)}
    assert summary["demand_charge_usd_per_year"] == pytest.approx(rate * 1000 * peak * 12, abs=1e-3)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_markets_before_the_ai_start(tmp_path, write_site, catalog):
    """A retrofit that starts its AI after 6 months: the miners run before it with the
    reserve offer and the demand charge (per-step dispatch before the AI, forced by the
    markets). The objective is the NPV of the monthly cash flows and the reduced model's
    optimum is the per-step reference's."""
    write_series(tmp_path, PATTERN * CYCLES, rrs=[5.0, 5.0, 150.0, 5.0] * CYCLES)
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8,
          "lease_usd_per_gpu_hour": 3.0}
    power = CONTRACT + '[power.reserves]\ncolumn = "rrs"\n[power.demand_charge]\nusd_per_kw_month = 20\n'
    text = market_site(power, ai=ai, scenario={"kind": "retrofit", "build_months": 6, "facility_usd_per_mw": 1e6})
    inp = prepare(load_site(write_site(text)), catalog, "plan")
    assert inp.dispatch_before
    result, reference = solve(build_model(inp)), solve(build_model(inp, reduce=False))
    assert result.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)
    before = scenario_summary(result, catalog).model_dump()["power_markets"]["before_ai"]
    assert before["reserve_revenue_usd"] == pytest.approx(8760 * 0.25 * F * (5 * 3 + 150))


def test_the_outputs_carry_the_market_lines(tmp_path, write_site):
    """summary.json's lines, compare's rows, dispatch.csv's columns and the peak-week figure."""
    write_series(tmp_path, PATTERN * CYCLES)
    intervals = ", ".join(f'"{t}"' for t in PEAKS)
    power = (CONTRACT + "[power.reserves]\nusd_per_mw_hour = 2.0\n"
             f"[power.coincident_peak]\nusd_per_kw_year = 50\nintervals = [{intervals}]\n")
    path = write_site(market_site(power))
    out = tmp_path / "out"
    assert main(["solve", str(path), "-q", "-o", str(out)]) == 0
    doc = json.loads((out / "summary.json").read_text())["scenarios"]["plan"]
    assert {"contract_credits_usd_per_year", "reserve_revenue_usd_per_year", "coincident_peak_usd_per_year",
            "demand_charge_usd_per_year"} <= doc.keys()
    frame = pd.read_csv(out / "dispatch.csv")
    assert {"contract_mw", "resale_mw", "reserve_offered_mw"} <= set(frame.columns)
    # resold: the block less the load, in the step the miners stop the whole block
    assert frame["resale_mw"].iloc[2] == pytest.approx(10.0)
    assert frame["resale_mw"].iloc[0] == pytest.approx(10 - F, abs=1e-6)
    credits = (frame["resale_mw"] * frame["price_usd_per_mwh"] * frame["hours_per_year"]).sum()
    assert credits == pytest.approx(doc["contract_credits_usd_per_year"], rel=1e-6)
    assert (out / "plots" / "peak-week-plan.png").stat().st_size > 0
    assert main(["compare", str(path), "-q", "-o", str(tmp_path / "cmp")]) == 0
    rows = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert "contract credits, M USD/yr" in set(rows["metric"])


@pytest.mark.parametrize(("power", "key", "words"), [
    ('[power.reserves]\ncolumn = "rss"\n', "power.reserves.column", "did you mean"),
    ('[power.coincident_peak]\nusd_per_kw_year = 5\nintervals = ["2030-01-01 00:00"]\n',
     "power.coincident_peak.intervals[0]", "outside the price series"),
    ('[power.coincident_peak]\nusd_per_kw_year = 5\nintervals = ["2025-07-01"]\nsystem_load_column = "x"\n',
     "power.coincident_peak", "exactly one of"),
    ('[power.reserves]\nusd_per_mw_hour = 5\nmax_mw = -1\n', "power.reserves.max_mw", "greater than 0"),
])
def test_bad_market_terms_name_their_key(tmp_path, write_site, capsys, power, key, words):
    write_series(tmp_path, [20.0] * 96 * 7, rrs=1.0)
    path = write_site(market_site(power))
    assert main(["solve", str(path), "-q", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert key in err and words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.sampled_from([-20.0, 15.0, 40.0, 86.0, 88.0, 120.0, 900.0]), min_size=24, max_size=48),
       reserve=st.lists(st.sampled_from([0.0, 7.0, 40.0, 120.0]), min_size=24, max_size=24),
       cap=st.sampled_from([None, 0.3]), share=st.sampled_from([0.0, 0.5]), peaks=st.sets(st.integers(0, 167),
                                                                                           max_size=4),
       cp_rate=st.sampled_from([0.0, 5.0, 80.0]), demand=st.sampled_from([0.0, 4.0, 40.0]),
       miners=st.integers(0, 600), gpus=st.sampled_from([0, 8]), start=st.sampled_from([0, 3]),
       interruptible=st.booleans(), contract=st.booleans(), interim=st.booleans())
def test_the_reduction_equals_the_reference_with_markets(tmp_path_factory, prices, reserve, cap, share, peaks,
                                                         cp_rate, demand, miners, gpus, start, interruptible,
                                                         contract, interim):
    """Random hourly weeks (repeated price and reserve patterns, spikes, negatives), reserve
    offers capped or not, the AI's share offered, coincident peaks, demand charges, a block,
    before and beside the AI: the reduced model's optimum is the per-step reference's to
    1e-9, the objective is the NPV of the cash flows, and the grid holds in every step.

    The capacity prices keep clear of ties with the miners' loss per MWh (breakeven 87.16 /
    1.05 = 83.01 USD/MWh at PUE 1.05): at 88 USD/MWh and 5 USD/MW-h a miner gains 0.003 USD a
    year by running to be offered, below the solver's tolerance (1e-7 of the million USD it
    sees), and the per-step model may leave it off where the class's summed column runs it.
    With ``interim`` the scenario is a new build whose grid comes 6 months after its hall, and
    an interim supply (issue 20, point 4) may carry the AI until then."""
    from planner.parts.catalog import load_catalog

    catalog = load_catalog()
    folder = tmp_path_factory.mktemp("site")
    n = 168
    t = pd.date_range("2025-07-01", periods=n, freq="60min")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), "price": (prices * n)[:n],
                  "rrs": (reserve * n)[:n]}).to_csv(folder / "s.csv", index=False)
    power = '[power.reserves]\ncolumn = "rrs"\n' + (f"max_mw = {cap}\n" if cap else "") \
        + f"ai_interruptible_share = {share}\n"
    if peaks and cp_rate:
        intervals = ", ".join(f'"{t[i].strftime("%Y-%m-%d %H:%M")}"' for i in sorted(peaks))
        power += f"[power.coincident_peak]\nusd_per_kw_year = {cp_rate}\nintervals = [{intervals}]\n"
    if demand:
        power += f"[power.demand_charge]\nusd_per_kw_month = {demand}\n"
    if contract:
        power += "[[power.contracts]]\nmw = 0.4\nusd_per_mwh = 35.0\n"
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": gpus,
          "lease_usd_per_gpu_hour": 3.0, "interruptible": interruptible, "power_fraction": 0.8}
    text = site("random", capacity_mw=1.5, price={"kind": "series", "file": "s.csv", "step_minutes": 60},
                cooling={"mining_pue": 1.05, "ai_pue": 1.25}, miners=[{"model": S19_XP, "count": miners}],
                ai=ai, economics={**ONE_YEAR, "horizon_years": 2, "discount_rate": 0.1},
                scenarios={"hybrid": {"kind": "hybrid", "build_months": start},
                           "new": {"kind": "greenfield", "build_months": start, "grid_queue_months": start + 6}}
                ) + power
    if interim:
        text += "[power.interim]\ncapacity_mw = 0.05\nusd_per_mwh = 60.0\nfixed_usd_per_kw_year = 200.0\n"
    (folder / "site.toml").write_text(text)
    inp = prepare(load_site(folder / "site.toml"), catalog, "new" if interim else "hybrid")
    reference, reduced = solve(build_model(inp, reduce=False)), solve(build_model(inp))
    assert reduced.status is reference.status is Status.OPTIMAL
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9, abs=1e-3)
    assert npv(cash_flows(reduced), 0.1) == pytest.approx(reduced.objective_usd, rel=1e-7, abs=1e-2)
    load, _ = grid_load(inp, reduced.option_index, reduced.miners_before, reduced.miners_with_ai, reduced.running)
    assert (load <= 1.5 + 1e-6).all()


@pytest.mark.skipif(not ERCOT.exists(), reason="no shared ERCOT series")
def test_a_block_on_the_real_ercot_series(write_site, catalog):
    """28,800 real HB_SOUTH quarter hours (10 months, each step weighing 8,760 / 7,200 of its
    quarter hour), a block of exactly the miners' load: the credits are the block resold
    whenever the price is above the miners' value, sum_{p_t > v} Q x 0.25 x p_t x 8,760 /
    7,200. With reserves, four assumed summer peaks (not ERCOT's published 2024 list) and a
    demand charge on top, the reduced model's optimum is the per-step reference's."""
    prices = pd.read_csv(ERCOT)["hb_south_rtm_usd_per_mwh"].to_numpy()
    text = market_site(f"[[power.contracts]]\nmw = {F!r}\nusd_per_mwh = 30.0\n", capacity=12.0)
    text = text.replace('file = "s.csv"', f'file = "{ERCOT.as_posix()}"').replace(
        "step_minutes = 15", 'step_minutes = 15\ntimestamp_column = "timestamp_central"\n'
        'price_column = "hb_south_rtm_usd_per_mwh"')
    _result, summary = solved(write_site(text), catalog)
    factor = 8760 / 7200
    expected = (F * 0.25 * prices[prices > V]).sum() * factor
    assert summary["contract_credits_usd_per_year"] == pytest.approx(expected, rel=1e-6)
    assert summary["power_markets"]["with_ai"]["contract_fixed_cost_usd"] == pytest.approx(30 * F * 8760)
    more = ('[power.reserves]\nusd_per_mw_hour = 9.62\nmax_mw = 6.0\n'  # ECRS 2024 mean (IMM, section 7)
            '[power.coincident_peak]\nusd_per_kw_year = 50\n'
            'intervals = ["2024-06-30 20:00", "2024-07-01 17:00", "2024-08-20 17:00", "2024-09-05 16:45"]\n'
            '[power.demand_charge]\nusd_per_kw_month = 5\n')
    inp = prepare(load_site(write_site(text + more, "m.toml")), catalog, "plan")
    reduced_model = build_model(inp)
    reduced, reference = solve(reduced_model), solve(build_model(inp, reduce=False))
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9)
    assert reduced_model.lp.num_rows < 400
    assert npv(cash_flows(reduced), 0.0) == pytest.approx(reduced.objective_usd, rel=1e-9)
    lines = scenario_summary(reduced, catalog).model_dump()
    assert lines["coincident_peak_tag_mw"] == pytest.approx(0.0, abs=1e-6)  # 12,500 USD/MW of tag: curtailed


@pytest.mark.parametrize(("rate", "runs"), [(20.0, True), (30.0, False)])
def test_a_demand_charge_on_a_flat_price(write_site, catalog, rate, runs):
    """One price all year (one step standing for every month): a MW of miners earns (87.16 -
    50) x 730 h = 27,127 USD a month, so 20 USD/kW-month leaves 300 miners (0.9035 MW) running
    at a charge of 20 x 1000 x 0.9035 x 12 a year and 30 stops them."""
    text = site("flat", capacity_mw=1.0, price={"kind": "flat", "usd_per_mwh": 50.0},
                cooling={"mining_pue": 1.0, "ai_pue": 1.25}, miners=[{"model": S19_XP, "count": 300}],
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"plan": {"kind": "hybrid"}})
    result, summary = solved(write_site(text + f"\n[power.demand_charge]\nusd_per_kw_month = {rate}\n"), catalog)
    peak = 300 * MINER_W / 1e6 if runs else 0.0
    assert summary["power_markets"]["with_ai"]["monthly_peaks_mw"] == {"every month": pytest.approx(peak, abs=1e-6)}
    assert summary["demand_charge_usd_per_year"] == pytest.approx(rate * 1000 * peak * 12, abs=1e-3)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


@pytest.mark.parametrize(("discount", "stated"), [(0.0, None), (0.1, None), (0.0, 0), (0.0, 2)])
def test_a_greenfield_block_starts_at_the_grid_connection(tmp_path, write_site, catalog, discount, stated):
    """A greenfield build whose connection is energised at month 4 (grid queue) of a 12-month
    plan, no load: the block (10 MW at 30 USD/MWh on the 20, 50, 200, -10 pattern) is all
    resold, so against no contract it is worth, a year, 8,760 x 10 x 0.25 x (20 + 50 + 200 - 10)
    - 8,760 x 10 x 30 = 3,066,000 USD, counted in the months it is in force: from the
    connection, [4, 12), unless the site states a start_month (a financial hedge before the
    connection, with a warning). Present value: 3,066,000 / 12 x sum_m (1 + r_m)^-(m+1).
    The credits before the AI (months 0-3) are those of the first month with a block in force."""
    write_series(tmp_path, PATTERN * CYCLES)
    economics = {**ONE_YEAR, "discount_rate": discount}
    text = site("gf", capacity_mw=10.0, price={"kind": "series", "file": "s.csv", "step_minutes": 15},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=economics, scenarios={"plan": {"kind": "greenfield", "grid_queue_months": 4}})
    block = CONTRACT + ("" if stated is None else f"start_month = {stated}\n")
    plain, _ = solved(write_site(text), catalog)
    result, summary = solved(write_site(text + block, "c.toml"), catalog)
    start = 4 if stated is None else stated
    rm = (1 + discount) ** (1 / 12) - 1
    value = 8760 * (10 * 0.25 * 260 - 10 * 30)
    assert value == 3_066_000
    expected = value / 12 * sum((1 + rm) ** -(m + 1) for m in range(start, 12))
    assert result.objective_usd - plain.objective_usd == pytest.approx(expected, rel=1e-9)
    assert npv(cash_flows(result), discount) == pytest.approx(result.objective_usd, rel=1e-9)
    contract = summary["power_markets"]["contracts"][0]
    assert (contract["start_month"], contract["end_month"]) == (start, None)
    before = summary["power_markets"]["before_ai"]
    assert before["contract_credits_usd"] == pytest.approx(8760 * 10 * 0.25 * 260 if start < 4 else 0.0)
    assert summary["power_markets"]["with_ai"]["contract_credits_usd"] == pytest.approx(8760 * 10 * 0.25 * 260)
    warned = any("before the grid connection" in w for w in result.inputs.warnings)
    assert warned == (stated is not None and stated < 4)


def test_a_greenfield_block_term_runs_from_the_connection(tmp_path, write_site, catalog):
    """term_months counts from the block's start: a 6-month block of a greenfield build
    connected at month 4 is in force in months 4-9, 6 of 12: 3,066,000 x 6 / 12 undiscounted."""
    write_series(tmp_path, PATTERN * CYCLES)
    text = site("gf", capacity_mw=10.0, price={"kind": "series", "file": "s.csv", "step_minutes": 15},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"plan": {"kind": "greenfield", "grid_queue_months": 4}})
    plain, _ = solved(write_site(text), catalog)
    result, summary = solved(write_site(text + CONTRACT + "term_months = 6\n", "c.toml"), catalog)
    assert result.objective_usd - plain.objective_usd == pytest.approx(3_066_000 * 6 / 12, rel=1e-9)
    contract = summary["power_markets"]["contracts"][0]
    assert (contract["start_month"], contract["end_month"]) == (4, 10)


def test_the_example_new_build_block_starts_at_its_connection(write_site, catalog):
    """sites/texas-interim-power.toml, scenario new_build: its connection is energised at month
    36 (grid queue), so its 40-month block (65 MW at 28 USD/MWh, no start_month) is in force in
    months 36-75, cut at the 60-month horizon. The AI and the engines do not change its cost
    (a constant beyond spot), so the NPV with the block less without it is
    -sum_t (28 - p_t) x 65 x 0.25 / 12 x sum_{m=36}^{59} (1.1)^-((m+1)/12), p_t read from the
    series file."""
    from .conftest import SITES

    path = SITES / "texas-interim-power.toml"
    text = path.read_text(encoding="utf-8")
    inp = prepare(load_site(path), catalog, "new_build")
    (block,) = inp.markets.contracts
    assert (block.start_month, block.end_month) == (36, 76)
    prices = pd.read_csv(SITES / "data" / "texas-synthetic-2025-15min.csv")["price_usd_per_mwh"].to_numpy()
    assert prices.size == 365 * 96
    net = float(((28.0 - prices) * 65.0 * 0.25).sum())
    rm = 1.1 ** (1 / 12) - 1
    expected = -net / 12 * sum((1 + rm) ** -(m + 1) for m in range(36, 60))
    start, end = text.index("[[power.contracts]]"), text.index("[power.reserves]")
    without = write_site(text[:start] + text[end:]).parent / "data"
    without.symlink_to(SITES / "data")
    with_block = solve(build_model(inp))
    plain = solve(build_model(prepare(load_site(without.parent / "site.toml"), catalog, "new_build")))
    assert with_block.objective_usd - plain.objective_usd == pytest.approx(expected, rel=1e-9)


def test_step_calendar_without_pandas_matches_pandas():
    """The steps' calendar is read with numpy (no pandas on a markets site's path): month,
    hour and month group of every step of the real ERCOT series (June 2024 to March 2025,
    quarter hours) equal pandas' reading of the same labels, and a year of hourly labels
    over a leap day and both year ends does too."""
    from planner.energy.markets import _hours, _month_groups, _months, step_times

    frame = pd.read_csv(ERCOT)
    labels = pd.to_datetime(frame["timestamp_central"]).dt.strftime("%Y-%m-%d %H:%M").tolist()
    hourly = pd.date_range("2023-12-31 00:00", "2025-01-01 23:00", freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    for chosen in (labels, hourly):
        profile = type("P", (), {"labels": chosen, "source": "series", "steps": len(chosen)})()
        times = step_times(profile)
        reference = pd.to_datetime(pd.Series(chosen), format="%Y-%m-%d %H:%M")
        assert (_months(times) == reference.dt.month.to_numpy()).all()
        assert (_hours(times) == reference.dt.hour.to_numpy()).all()
        codes, per_year, names = _month_groups(profile, times)
        key = (reference.dt.year * 100 + reference.dt.month).to_numpy()
        ref_codes, ref_uniques = pd.factorize(key, sort=True)
        assert (codes == ref_codes).all()
        assert names == tuple(f"{u // 100}-{u % 100:02d}" for u in ref_uniques)
        assert per_year.tolist() == [12.0 / len(ref_uniques)] * len(ref_uniques)


@pytest.mark.parametrize("text", [
    "2025-06-24 16:45", "2025-06-24T16:45", "2025-06-24 16:45:30", "2025-06-24T16:45:00.250",
    "2025-06-24 16:45-05:00", "2025-06-24T21:45:00Z", "2025-06-24T16:45+09:30", "2025-06-24",
    "24 June 2025 4:45pm", "06/24/2025 16:45", "2025/06/24 16:45"])
def test_peak_interval_text_is_read_as_pandas_reads_it(text):
    """An interval's start: ISO 8601 is read by the standard library, anything else by pandas
    (imported only then); either way the instant is pandas' (an offset converted to UTC)."""
    from planner.energy.markets import _timestamp

    stamp = pd.Timestamp(text)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    assert _timestamp(text) == np.datetime64(stamp.to_datetime64(), "us")


@pytest.mark.parametrize("text", ["", "NaT", "soon", "2025-13-01 00:00", "2025-06-31 10:00"])
def test_unreadable_peak_interval_is_none(text):
    from planner.energy.markets import _timestamp

    assert _timestamp(text) is None

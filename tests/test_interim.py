"""Time to power as a price (issue 20, point 4): an interim supply ([power.interim]) lets the AI
start before the grid connection, at the supply's energy price and fixed cost. Each case is
derived by hand from the inputs (docs/research-contracts-markets.md, section 10), the reduced
model against the per-step reference, and the real ERCOT series."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from planner.app.cli import main
from planner.energy.economics import npv
from planner.model.build import build_model
from planner.model.inputs import prepare
from planner.model.optimize import Status, solve
from planner.outputs.physics import cash_flows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .conftest import SHARED_DATA
from .sitebuilder import ONE_YEAR, flat, site

ERCOT = SHARED_DATA / "ercot_hb_south_15min_2024-06_2025-03.csv"
LEASE, PUE, FRACTION = 3.0, 1.25, 0.8
# the research document's case: engines leased at 30 USD/kW-month (360 a year), 40 USD/MWh variable
ENGINES = {"capacity_mw": 1.0, "from_month": 0, "usd_per_mwh": 40.0, "fixed_usd_per_kw_year": 360.0}


def ai_site(interim: dict | None, *, build: int = 2, queue: int = 5, price: dict | None = None,
            economics: dict | None = None) -> str:
    """One DGX H100 server (8 GPUs) at a new build that waits ``queue`` months for its grid
    connection, ``build`` months for its hall; one undiscounted year; the interim supply given."""
    text = site("interim", capacity_mw=1.0, price=price or flat(50.0), cooling={"ai_pue": PUE},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8, "min_gpus": 8,
                    "lease_usd_per_gpu_hour": LEASE, "utilization": 1.0, "power_fraction": FRACTION},
                economics=economics or ONE_YEAR,
                scenarios={"new": {"kind": "greenfield", "build_months": build, "grid_queue_months": queue}},
                costs={"dgx-h100": 200000, "qm9700": 30000, "osfp-800g-2xsr4": 1000, "osfp-800g-2xdr4": 1200})
    if interim is None:
        return text
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in interim.items())
    return text + "\n[power.interim]\n" + lines + "\n"


def solved(path, catalog, scenario="new", reduce=True):
    result = solve(build_model(prepare(load_site(path), catalog, scenario), reduce=reduce))
    assert result.status is Status.OPTIMAL
    return result, scenario_summary(result, catalog).model_dump()


def test_the_ai_starts_on_leased_engines_by_hand(write_site, catalog):
    """Hall ready at month 2, grid at month 5, engines from month 0: the server runs on them in
    months 2, 3 and 4. With P_s, P_n the server's and the network's power (the catalog's), it
    needs L = (P_s + P_n) x 1.25 MW at max power and draws (0.8 P_s + P_n) x 1.25 MW on average:
    E = that x 8,760 / 12 x 3 MWh at 40 USD/MWh; the lease is 30 USD/kW-month x 1,000 x L x 3.
    Undiscounted, the NPV gains 3 months of 8 x 3 USD x 730 h of lease less the fixed opex
    (100,000 USD per MW of IT a year), less E x 40 and the lease."""
    economics = {**ONE_YEAR, "ai_opex_usd_per_mw_year": 100_000.0}
    result, s = solved(write_site(ai_site(ENGINES, economics=economics)), catalog)
    opt = result.chosen
    ps, pn = opt.server_power_w / 1e6, opt.network_power_w / 1e6
    assert opt.gpus == 8
    load = (ps + pn) * PUE
    energy = (FRACTION * ps + pn) * PUE * 8760 / 12 * 3
    assert s["ai_start_month"] == 2 and s["grid_start_month"] == 5 and s["months_to_first_revenue"] == 2
    assert s["interim_supply_mw"] == pytest.approx(load, abs=5e-7)  # rounded to the W
    assert s["interim_energy_mwh"] == pytest.approx(energy, abs=1e-3)
    assert s["interim_energy_cost_usd"] == pytest.approx(energy * 40.0, abs=0.01)
    assert s["interim_fixed_cost_usd"] == pytest.approx(30.0 * 1000 * load * 3, abs=0.01)
    _, w = solved(write_site(ai_site(None, economics=economics), "wait.toml"), catalog)
    assert w["months_to_first_revenue"] == 5 and "interim_supply_mw" not in w
    opex = (ps + pn) * 100_000.0 / 12  # fixed AI opex a month, per MW of IT
    gain = 3 * (8 * LEASE * 8760 / 12 - opex) - energy * 40.0 - 30.0 * 1000 * load * 3
    assert s["npv_usd"] - w["npv_usd"] == pytest.approx(gain, abs=0.05)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_fuel_and_heat_rate_price_the_energy(write_site, catalog):
    """3 USD/MMBtu x 8,425 Btu/kWh / 1,000 + 15 USD/MWh O&M = 40.275 USD/MWh (the research
    document's derived engine, REopt's 0.405 efficiency), capex 2,120 USD/kW paid at month 0."""
    engines = {"capacity_mw": 1.0, "fuel_usd_per_mmbtu": 3.0, "heat_rate_btu_per_kwh": 8425,
               "variable_om_usd_per_mwh": 15.0, "capex_usd_per_kw": 2120.0}
    result, s = solved(write_site(ai_site(engines)), catalog)
    opt = result.chosen
    energy = (FRACTION * opt.server_power_w + opt.network_power_w) / 1e6 * PUE * 8760 / 12 * 3
    assert s["interim_energy_cost_usd"] == pytest.approx(energy * 40.275, abs=0.01)
    load = (opt.server_power_w + opt.network_power_w) / 1e6 * PUE
    assert s["interim_fixed_cost_usd"] == pytest.approx(2120 * 1000 * load, abs=0.01)
    assert cash_flows(result)[0] == pytest.approx(-(result.chosen.capex_total_usd + s["interim_fixed_cost_usd"]))


@pytest.mark.parametrize(("change", "why"), [({"usd_per_mwh": 5000.0}, "energy dearer than the lease"),
                                             ({"capacity_mw": 0.005}, "too small for the server"),
                                             ({"from_month": 5}, "available only from the grid start"),
                                             ({"capex_usd_per_kw": 5000.0}, "engines dearer than the margin")])
def test_the_ai_waits_when_the_interim_supply_does_not_pay_or_fit(write_site, catalog, change, why):
    """A server earns 8 x 3 x 730 = 17,520 USD a month and needs about 21.7 kW at max power
    (19 kW on average): at 5,000 USD/MWh its 14 MWh or so a month cost about 70,000 USD; 5 kW
    cannot carry it; from month 5 there is no month to bridge; engines bought at 5,000 USD/kW
    cost 108,500 USD for 3 months that earn at most 52,560 USD."""
    result, s = solved(write_site(ai_site({**ENGINES, **change})), catalog)
    assert s["months_to_first_revenue"] == 5, why
    assert not result.interim_start
    small = "capacity_mw" in change
    assert any(b.startswith("interim supply: the cluster needs") for b in s["binding_constraints"]) is small
    if change.get("from_month") == 5:
        assert "interim_supply_mw" not in s  # no bridge month: the scenario cannot use it
        assert any(w.startswith("power.interim: no month to bridge") for w in s["warnings"])
    else:
        assert s["interim_supply_mw"] == 0 and s["interim_energy_mwh"] == 0 and s["ai_start_month"] == 5


def test_the_supply_stops_at_its_to_month(write_site, catalog):
    """to_month = 4: months 2 and 3 on the engines, month 4 idle, the grid from month 5."""
    result, s = solved(write_site(ai_site({**ENGINES, "to_month": 4})), catalog)
    opt = result.chosen
    energy = (FRACTION * opt.server_power_w + opt.network_power_w) / 1e6 * PUE * 8760 / 12 * 2
    assert s["interim_energy_mwh"] == pytest.approx(energy, abs=1e-3)
    flows = cash_flows(result)
    assert flows[5] == 0.0 and flows[4] != 0.0 and flows[3] != 0.0  # month m's flow is at index m + 1


@pytest.mark.parametrize(("interim", "key", "words"), [
    ({"capacity_mw": 1.0}, "power.interim", "exactly one of usd_per_mwh"),
    ({"capacity_mw": 1.0, "usd_per_mwh": 40.0, "fuel_usd_per_mmbtu": 3.0, "heat_rate_btu_per_kwh": 8000},
     "power.interim", "exactly one of usd_per_mwh"),
    ({"capacity_mw": 1.0, "fuel_usd_per_mmbtu": 3.0}, "power.interim", "together"),
    ({"capacity_mw": 1.0, "usd_per_mwh": 40.0, "from_month": 6, "to_month": 6}, "power.interim",
     "to_month must be after from_month"),
    ({"capacity_mw": 0.0, "usd_per_mwh": 40.0}, "power.interim.capacity_mw", "greater than 0"),
    ({"capacity_mw": 1.0, "fuel_usd_per_mmbtu": 3.0, "heat_rate_btu_per_kwh": 2000}, "power.interim.heat_rate",
     "greater than or equal to 3412"),
    ({"capacity_mw": 1.0, "usd_per_mwh": 40.0, "capacity_kw": 5}, "power.interim.capacity_kw", "capacity_mw"),
])
def test_bad_interim_supplies_name_their_key(tmp_path, write_site, capsys, interim, key, words):
    path = write_site(ai_site(interim))
    assert main(["solve", str(path), "-q", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert key in err and words in err and "Traceback" not in err
    assert re.search(r"site\.toml:\d+: ", err)  # the line of the table or the key
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("demand", [0.0, 20.0])
@pytest.mark.parametrize("interim", [False, True])
def test_the_reduction_equals_the_reference_with_an_interim_supply(tmp_path, write_site, catalog, demand, interim):
    """A week of hourly prices with spikes, a reserve offer of the AI's interruptible share and
    a demand charge beside the interim supply, discounted: the reduced model's optimum is the
    per-step reference's to 1e-9, the objective is the NPV of the cash flows."""
    t = pd.date_range("2025-07-01", periods=168, freq="60min")
    prices = ([20.0, 45.0, 900.0, -10.0, 60.0, 60.0] * 28)[:168]
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), "price": prices}).to_csv(tmp_path / "s.csv",
                                                                                      index=False)
    text = ai_site(ENGINES if interim else None, price={"kind": "series", "file": "s.csv", "step_minutes": 60},
                   economics={**ONE_YEAR, "horizon_years": 2, "discount_rate": 0.1})
    text += "\n[power.reserves]\nusd_per_mw_hour = 7.0\nai_interruptible_share = 0.5\n"
    if demand:
        text += f"[power.demand_charge]\nusd_per_kw_month = {demand}\n"
    path = write_site(text)
    reduced, _ = solved(path, catalog)
    reference, _ = solved(path, catalog, reduce=False)
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9)
    assert reduced.interim_start is reference.interim_start is interim
    assert npv(cash_flows(reduced), 0.1) == pytest.approx(reduced.objective_usd, rel=1e-9)


@pytest.mark.skipif(not ERCOT.exists(), reason="no shared ERCOT series")
def test_interim_engines_on_the_real_ercot_series(write_site, catalog):
    """28,800 real HB_SOUTH quarter hours (each weighing 8,760 / 7,200 of its quarter hour, so
    a year's hours sum to 8,760): the hall is ready at month 3, the grid at month 9; the engines
    carry the server in months 3-8, E = (0.8 P_s + P_n) x 1.25 x 8,760 / 12 x 6 MWh, and the AI
    starts 6 months early. The reduced model equals the per-step reference."""
    text = ai_site(ENGINES, build=3, queue=9,
                   price={"kind": "series", "file": ERCOT.as_posix(), "timestamp_column": "timestamp_central",
                          "price_column": "hb_south_rtm_usd_per_mwh", "step_minutes": 15})
    path = write_site(text)
    result, s = solved(path, catalog)
    assert result.inputs.profile.steps == 28_800
    opt = result.chosen
    energy = (FRACTION * opt.server_power_w + opt.network_power_w) / 1e6 * PUE * 8760 / 12 * 6
    assert s["ai_start_month"] == 3 and s["grid_start_month"] == 9
    assert s["interim_energy_mwh"] == pytest.approx(energy, abs=5e-4)  # rounded to the kWh
    assert s["interim_energy_cost_usd"] == pytest.approx(energy * 40.0, abs=0.01)
    reference, _ = solved(path, catalog, reduce=False)
    assert reference.objective_usd == pytest.approx(result.objective_usd, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_compare_shows_when_the_ai_starts(tmp_path, capsys):
    """The example site: the new build's hall is ready at month 12, its grid at month 36, and
    the engines (from month 12) carry it: compare prints and writes the interim rows."""
    from .conftest import SITES

    assert main(["compare", str(SITES / "texas-interim-power.toml"), "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "AI start (month)" in out and "interim energy cost" in out
    rows = {r["metric"]: r for r in pd.read_csv(tmp_path / "compare.csv").to_dict("records")}
    assert float(rows["AI start (month)"]["new_build"]) == 12 and float(rows["grid start (month)"]["new_build"]) == 36
    assert float(rows["interim supply, MW"]["new_build"]) > 0 and pd.isna(rows["interim supply, MW"]["retrofit"])


def upgrade_site(interim: dict | None, *, ready: int, capacity: float = 0.006, kind: str = "retrofit",
                 miners: tuple = (), price: dict | None = None) -> str:
    """One DGX H100 server (8 GPUs, required) in an existing hall ready at month 2, on an
    existing ``capacity`` MW connection with a 1 MW expansion ready at month ``ready``; one
    undiscounted year, a flat 50 USD/MWh; the interim supply given."""
    text = site("upgrade", capacity_mw=capacity, price=price or flat(50.0), cooling={"ai_pue": PUE},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "max_gpus": 8, "min_gpus": 8,
                    "lease_usd_per_gpu_hour": LEASE, "utilization": 1.0, "power_fraction": FRACTION},
                economics=ONE_YEAR, miners=miners,
                grid={"expansion": {"add_mw": 1.0, "usd": 1000.0, "ready_months": ready}},
                scenarios={"new": {"kind": kind, "build_months": 2}},
                costs={"dgx-h100": 200000, "qm9700": 30000, "osfp-800g-2xsr4": 1000, "osfp-800g-2xdr4": 1200})
    if interim is None:
        return text
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in interim.items())
    return text + "\n[power.interim]\n" + lines + "\n"


@pytest.mark.parametrize("energy_price", [40.0, 70.0])
def test_engines_bridge_an_existing_connection_until_its_expansion_by_hand(write_site, catalog, energy_price):
    """A retrofit on a 6 kW connection whose 1 MW expansion is ready at month 5, the hall at
    month 2: the server (load L = (P_s + P_n) x 1.25 MW at max power, L_avg = (0.8 P_s + P_n) x
    1.25 on average, both above 6 kW) starts at month 2 with the engines carrying what the
    connection cannot, in months 2, 3 and 4. They are contracted for L - 0.006 MW, at 30
    USD/kW-month (360 a year) x 3 months plus 100 USD/kW of capex, and give (L_avg - 0.006) x
    8,760 / 12 MWh a month at their price instead of 50 USD/MWh. Against the same plan with the
    expansion ready at month 2 (nothing to bridge), undiscounted:

        NPV change = -3 x (L_avg - 0.006) x 730 x (c_i - 50) - (L - 0.006) x 1,000 x (3 x 30 + 100)
    """
    engines = {**ENGINES, "usd_per_mwh": energy_price, "capex_usd_per_kw": 100.0}
    result, s = solved(write_site(upgrade_site(engines, ready=5)), catalog)
    _, ready = solved(write_site(upgrade_site(engines, ready=2), "ready.toml"), catalog)
    opt = result.chosen
    assert opt.gpus == 8 and result.expanded
    ps, pn = opt.server_power_w / 1e6, opt.network_power_w / 1e6
    load, avg = (ps + pn) * PUE, (FRACTION * ps + pn) * PUE
    assert avg > 0.006
    assert s["ai_start_month"] == 2 and s["grid_start_month"] == 5 and s["months_to_first_revenue"] == 2
    assert s["interim_supply_mw"] == pytest.approx(load - 0.006, abs=5e-7)
    energy = (avg - 0.006) * 8760 / 12 * 3
    assert s["interim_energy_mwh"] == pytest.approx(energy, abs=1e-3)
    assert s["interim_energy_cost_usd"] == pytest.approx(energy * energy_price, abs=0.01)
    assert s["interim_fixed_cost_usd"] == pytest.approx((load - 0.006) * 1000 * (3 * 30 + 100), abs=0.01)
    change = -energy * (energy_price - 50.0) - (load - 0.006) * 1000 * (3 * 30 + 100)
    assert s["npv_usd"] - ready["npv_usd"] == pytest.approx(change, abs=0.05)
    assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)


def test_an_upgrade_bridge_too_small_leaves_the_cluster_out(tmp_path, write_site, capsys):
    """Engines of 1 kW cannot carry the server's load (over 10 kW) above the 6 kW connection:
    with 8 GPUs required the plan is infeasible (exit 1) and names the interim supply."""
    engines = {**ENGINES, "capacity_mw": 0.001}
    path = write_site(upgrade_site(engines, ready=5))
    assert main(["solve", str(path), "-q", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "interim supply" in err and "power.interim.capacity_mw" in err and "month 5" in err


@pytest.mark.parametrize(("interim", "kind", "miners", "key", "words"), [
    (None, "retrofit", (), "grid.expansion.ready_months", "[power.interim]"),
    (ENGINES, "greenfield", (), "grid.expansion.ready_months", "greenfield"),
    (ENGINES, "hybrid", ({"model": "antminer-s19-xp", "count": 1},), "grid.expansion.ready_months", "miners"),
    ({**ENGINES, "from_month": 3}, "retrofit", (), "power.interim.from_month", "from_month <= 2"),
    ({**ENGINES, "to_month": 4}, "retrofit", (), "power.interim.to_month", "to_month >= 5"),
])
def test_an_expansion_after_the_ai_start_is_bridged_or_refused(tmp_path, write_site, capsys, interim, kind, miners,
                                                             key, words):
    path = write_site(upgrade_site(interim, ready=5, kind=kind, miners=miners))
    assert main(["solve", str(path), "-q", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert key in err and words in err and "Traceback" not in err

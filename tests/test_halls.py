"""Hall plans (which halls to convert, which to build new, which to leave to the miners)
and the miners' floor space, checked against hand calculations on tiny sites."""

from __future__ import annotations

import pytest

from planner.energy.economics import npv
from planner.model.build import build_model
from planner.model.inputs import prepare
from planner.model.optimize import Status, solve
from planner.model.options import hall_plans
from planner.outputs.bom import bom_rows
from planner.outputs.physics import cash_flows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .sitebuilder import edit, flat, site


def nvl72_site(*, gpus: int, conversion: float, order: list[str], server: str = "gb200-nvl72",
               step: str = "server", kind: str = "retrofit", halls: bool = True) -> str:
    """A 5 MW site on a flat 40 USD/MWh: a fixed cluster of ``gpus`` and three halls (an old
    40 kW air hall convertible to 132 kW liquid at ``conversion`` USD/MW, a new liquid hall
    at 11.7 M USD/MW, a tiny liquid hall joined to the old one by a duct bank); the
    scenario "retrofit" (of ``kind``) builds in the halls of ``order``. ``halls=False``: the
    same site without halls."""
    return site(
        "convert or build", capacity_mw=5.0, price=flat(40),
        ai={"server": server, "leaf_switch": "qm9700", "step": step, "min_gpus": gpus, "max_gpus": gpus,
            "lease_usd_per_gpu_hour": 4.0},
        economics={"discount_rate": 0.1, "horizon_years": 5, "btc_price_usd": 90000, "network_hashrate_ehs": 1000},
        scenarios={"retrofit": {"kind": kind, "facility_usd_per_mw": 8.0e6, **({"buildings": order} if halls else {})}},
        buildings=[
            {"name": "old", "polygon": [[0, 0], [40, 0], [40, 20], [0, 20]], "max_kw_per_rack": 40,
             "conversion": {"cooling": "direct-liquid", "max_kw_per_rack": 132, "usd_per_mw": conversion,
                            "pue": 1.15}},
            {"name": "new", "polygon": [[0, 0], [40, 0], [40, 20], [0, 20]], "origin": [0, 100], "status": "new",
             "cooling": "direct-liquid", "max_kw_per_rack": 132, "pue": 1.15, "facility_usd_per_mw": 11.7e6},
            {"name": "liquid", "polygon": [[0, 0], [2.3, 0], [2.3, 3], [0, 3]], "origin": [0, 200],
             "cooling": "direct-liquid", "max_kw_per_rack": 132, "pue": 1.15},
        ] if halls else (),
        routes=[{"from": "liquid", "to": "old", "polyline": [[5, 201], [45, 201], [45, 10], [40, 10]]}]
        if halls else (),
    )


def _retrofit(write_site, catalog, **values):
    text = nvl72_site(**{"gpus": 72, "conversion": 2.0e6, "order": ["old", "new"], **values})
    result = solve(build_model(prepare(load_site(write_site(text)), catalog, "retrofit")))
    assert result.status is Status.OPTIMAL
    return result


@pytest.mark.parametrize(("conversion", "plan"), [
    (2.0e6, (("old", "converted"),)),  # 8.0 + 2.0 = 10.0 M USD/MW beats 11.7 new
    (5.0e6, (("new", "new"),)),  # 8.0 + 5.0 = 13.0 M USD/MW loses to 11.7 new
])
def test_convert_or_build_new_follows_the_cost_per_mw(write_site, catalog, conversion, plan):
    """One NVL72 rack (120 kW) cannot stand in the 40 kW air hall as built. Converting it
    costs the scenario's 8.0 M USD per MW plus the conversion; the new hall costs its own
    11.7 M USD per MW. Both give PUE 1.15 and the same geometry, so the cheaper per MW wins
    and the capex is the IT load times the per-MW figures."""
    result = _retrofit(write_site, catalog, conversion=conversion)
    opt = result.option
    assert opt.plan == plan
    it_mw = opt.it_power_w / 1e6
    assert opt.pue == pytest.approx(1.15)
    if plan[0][1] == "converted":
        assert opt.capex_usd["facility"] == pytest.approx(it_mw * 8.0e6)
        assert opt.capex_usd["cooling_conversion"] == pytest.approx(it_mw * conversion)
    else:
        assert opt.capex_usd["facility"] == pytest.approx(it_mw * 11.7e6)
        assert "cooling_conversion" not in opt.capex_usd
    assert result.objective_usd == pytest.approx(npv(cash_flows(result), 0.1), rel=1e-9)


def test_only_the_hall_that_needs_it_is_converted(write_site, catalog):
    """Two SUs of DGX H100 (64 servers, 10.2 kW each). The small liquid hall (listed first)
    has one row of 10 positions: SU 0 (7 racks of 5 servers and a leaf rack) stands there
    as built; SU 1 does not fit the 2 positions left and moves to the old hall, whose 8 kW
    positions cannot take an H100 until converted. Half the servers stand in each hall, so
    the conversion is charged on half the IT load (network by server share)."""
    text = edit(nvl72_site(gpus=512, conversion=2.0e6, order=["liquid", "old"], server="dgx-h100", step="su"),
                {"buildings[2].polygon": [[0, 0], [7, 0], [7, 2.2], [0, 2.2]], "buildings[0].max_kw_per_rack": 8})
    result = solve(build_model(prepare(load_site(write_site(text)), catalog, "retrofit")))
    opt = result.option
    assert opt.servers == 64
    assert opt.plan == (("liquid", "as built"), ("old", "converted"))
    assert sum(h.it_w for h in opt.halls) == pytest.approx(opt.it_power_w)
    # servers per hall, counted from the full floor plan of the chosen halls
    from planner.network.layout import lay_out

    inp = result.inputs
    lay = lay_out(catalog, opt.server, opt.fabric.shape, inp.halls_for(opt), inp.routes, inp.cabling)
    servers = {}
    for rack in lay.endpoint_rack:
        servers[lay.racks[rack]["building"]] = servers.get(lay.racks[rack]["building"], 0) + 1
    assert servers == {"liquid": 32, "old": 32}
    old = next(h for h in opt.halls if h.name == "old")
    assert old.it_w == pytest.approx(opt.it_power_w / 2)
    assert opt.capex_usd["cooling_conversion"] == pytest.approx(opt.it_power_w / 2 / 1e6 * 2.0e6)
    assert opt.pue == pytest.approx(1.15)  # both halls run at 1.15
    rows = [r for r in bom_rows(result, catalog) if r.part == "cooling-conversion"]
    assert len(rows) == 1 and "old" in rows[0].description


def test_hall_plans_enumerated(write_site, catalog):
    """Two existing air halls that can each be converted: in a retrofit the racks fill them
    in order, each as built or converted (2 + 2 x 2 = 6 plans, none leaving a hall out);
    in a hybrid whose halls hold miners either may be left to the miners (3 x 3 - 1 = 8)."""
    text = nvl72_site(gpus=72, conversion=1e6, order=["old"], server="dgx-h100")
    text += """
[[buildings]]
name = "old2"
polygon = [[0, 0], [40, 0], [40, 20], [0, 20]]
origin = [0, 300]
max_kw_per_rack = 40
conversion = { cooling = "direct-liquid", max_kw_per_rack = 132, usd_per_mw = 1e6 }
[scenarios.hybrid]
kind = "hybrid"
buildings = ["old", "old2"]
"""
    loaded = load_site(write_site(text.replace('buildings = ["old"]', 'buildings = ["old", "old2"]')))
    halls = [b for b in loaded.site.buildings if b.name in ("old", "old2")]
    plans, note = hall_plans(loaded, catalog, "dgx-h100", halls, "retrofit")
    named = {tuple((b.name, use) for b, use in p) for p in plans}
    assert named == {(("old", u),) for u in ("as built", "converted")} | {
        (("old", u), ("old2", v)) for u in ("as built", "converted") for v in ("as built", "converted")}
    assert note == ""
    plans, _ = hall_plans(loaded, catalog, "dgx-h100", halls, "hybrid")
    assert len(plans) == 6  # no miner positions given: no hall is worth leaving out
    with_positions = text.replace("max_kw_per_rack = 40\nconversion", "max_kw_per_rack = 40\nminer_positions = 100"
                                  "\nconversion")
    loaded = load_site(write_site(with_positions, "positions.toml"))
    halls = [b for b in loaded.site.buildings if b.name in ("old", "old2")]
    plans, _ = hall_plans(loaded, catalog, "dgx-h100", halls, "hybrid")
    assert len(plans) == 8
    assert {tuple(b.name for b, _ in p) for p in plans} == {("old",), ("old2",), ("old", "old2")}


def test_many_halls_are_capped_with_a_note(write_site, catalog):
    """Six convertible halls whose miner positions a hybrid could keep: 3^6 - 1 = 728
    plans. Without leaving halls out, 2 + 4 + ... + 64 = 126, still too many; used in order
    and alike, 2 per number of halls: 12 plans, and a note that says so."""
    halls = "".join(f"""
[[buildings]]
name = "h{i}"
polygon = [[0, 0], [40, 0], [40, 20], [0, 20]]
origin = [0, {30 * i}]
max_kw_per_rack = 40
miner_positions = 100
conversion = {{ cooling = "direct-liquid", max_kw_per_rack = 132, usd_per_mw = 1e6 }}
""" for i in range(6))
    text = nvl72_site(gpus=8, conversion=1e6, order=[], server="dgx-h100", kind="hybrid", halls=False)
    loaded = load_site(write_site(text + halls))
    plans, note = hall_plans(loaded, catalog, "dgx-h100", list(loaded.site.buildings), "retrofit")
    assert len(plans) == 12
    assert "728 hall plans" in note and "only 12 were tried" in note
    assert all(len({use for _, use in p}) == 1 for p in plans)


MOVE_SITE = """
schema = 1
name = "room for miners"
[grid]
capacity_mw = 6.0
[power_price]
kind = "flat"
usd_per_mwh = 50
[cooling]
mining_pue = 1.0
ai_pue = 1.25
[fleet]
move_usd_per_miner = {move}
[[fleet.miners]]
model = "antminer-s19-xp"
count = 1500
buildings = {{ h1 = 1000, h2 = 500 }}
[ai]
server = "dgx-h100"
leaf_switch = "qm9700"
step = "server"
min_gpus = 8
max_gpus = 8
lease_usd_per_gpu_hour = 2.0
[economics]
discount_rate = 0.0
horizon_years = 1
btc_price_usd = 100000
network_hashrate_ehs = 1000
block_subsidy_btc = 3.125
[scenarios.hybrid]
kind = "hybrid"
[[buildings]]
name = "h1"
polygon = [[0, 0], [20, 0], [20, 10], [0, 10]]
max_kw_per_rack = 40
miner_positions = 1000
[[buildings]]
name = "h2"
polygon = [[0, 0], [20, 0], [20, 10], [0, 10]]
origin = [0, 50]
max_kw_per_rack = 40
miner_positions = 1500
"""


def test_miners_move_out_of_the_ai_hall_when_it_pays(write_site, catalog):
    """S19 XP at 50 USD/MWh earn (breakeven 87.2 USD/MWh) and the grid holds them all.
    One DGX H100 takes a whole hall. In h1 it leaves h2's 1,500 positions: all 1,500
    miners stay, the 1,000 in h1 moved. In h2 it leaves h1's 1,000: 1,000 stay, none
    moved, 500 sold. Moving is free, so the AI goes to h1."""
    result = solve(build_model(prepare(load_site(write_site(MOVE_SITE.format(move=0.0))), catalog, "hybrid")))
    assert result.status is Status.OPTIMAL
    assert result.option.plan == (("h1", "as built"),)
    assert result.miners_with_ai == {"antminer-s19-xp": 1500}
    assert result.miners_moved == {"antminer-s19-xp": 1000}
    summary = scenario_summary(result, catalog)
    assert summary.miners_moved == 1000 and summary.miner_positions_free == 1500


def test_miners_stay_when_moving_costs_more_than_they_earn(write_site, catalog):
    """At 1 M USD a move no miner is worth moving: the AI takes h2 and the 1,000 miners of
    h1 stay where they are, filling its positions (named as binding); 500 are sold. The
    move cost is in the objective and in the month-by-month cash flows alike."""
    result = solve(build_model(prepare(load_site(write_site(MOVE_SITE.format(move=1e6))), catalog, "hybrid")))
    assert result.option.plan == (("h2", "as built"),)
    assert result.miners_with_ai == {"antminer-s19-xp": 1000}
    assert result.miners_moved == {"antminer-s19-xp": 0}
    assert any(b.startswith("miner space: 1,000 miners beside the AI fill the 1,000 free miner positions")
               for b in result.binding)
    assert result.objective_usd == pytest.approx(npv(cash_flows(result), 0.0), rel=1e-9)


def test_a_small_move_cost_is_paid_and_counted(write_site, catalog):
    """At 10 USD a move the AI still goes to h1 (500 more miners earn far more than 10,000
    USD); the moves are a BOM row and in the cash flows."""
    result = solve(build_model(prepare(load_site(write_site(MOVE_SITE.format(move=10.0))), catalog, "hybrid")))
    assert result.option.plan == (("h1", "as built"),)
    rows = [r for r in bom_rows(result, catalog) if r.part == "miner-move"]
    assert rows[0].quantity == 1000 and rows[0].extended_cost_usd == pytest.approx(10_000.0)
    assert result.objective_usd == pytest.approx(npv(cash_flows(result), 0.0), rel=1e-9)
    assert scenario_summary(result, catalog).capex_breakdown_usd["miner_moves"] == pytest.approx(10_000.0)


@pytest.mark.parametrize(("edit", "needle", "expected"), [
    ("buildings = { h1 = 1000, h2 = 500 }", "buildings = { h1 = 1000, h2 = 400 }",
     ["site.toml:14", "fleet.miners[0]", "place 1400 miners but count is 1500"]),
    ("buildings = { h1 = 1000, h2 = 500 }", "buildings = { h1 = 1000, h9 = 500 }",
     ["site.toml:17", "fleet.miners[0].buildings.h9", "unknown building"]),
    ("miner_positions = 1000", "miner_positions = 900",
     ["site.toml:37", "buildings[0].miner_positions", "1000 fleet miners stand in 'h1'", "900 miner positions"]),
    ("count = 1500", "count = 3000\n", ["fleet.miners", "3000 miners but the buildings give 2500 miner positions"]),
])
def test_bad_miner_placement_is_a_clear_error(write_site, capsys, edit, needle, expected):
    """Miners per hall that do not add up, an unknown hall, a hall holding more miners than
    its positions, a fleet larger than all positions: exit 2 with one line each."""
    from planner.app.cli import main

    text = MOVE_SITE.format(move=0.0).replace(edit, needle)
    if needle.startswith("count = 3000"):
        text = text.replace("buildings = { h1 = 1000, h2 = 500 }", "")
    code = main(["validate", str(write_site(text))])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, (text, err)


def test_redispatch_uplift_is_zero_without_a_hashprice_path_and_positive_with_one(catalog, tmp_path):
    """With a constant hashprice, the plan's dispatch is already each month's best (the
    threshold rule), so re-dispatching adds nothing. With a halving and network growth, a
    month-by-month threshold beats one dispatch for all years, by a positive amount, and
    the hourly NPV of the plan itself is unchanged (the check only reads the result)."""
    from planner.outputs.physics import redispatch_uplift

    from .conftest import SITES

    text = (SITES / "texas-hybrid.toml").read_text()
    text = text.replace('file = "data/', f'file = "{(SITES / "data").as_posix()}/')
    flat = tmp_path / "flat.toml"
    flat.write_text(text)
    result = solve(build_model(prepare(load_site(flat), catalog, "hybrid")))
    assert redispatch_uplift(result) == pytest.approx(0.0, abs=1e-3)
    path = tmp_path / "path.toml"
    path.write_text(text.replace("pool_fee = 0.02", "pool_fee = 0.02\nnetwork_hashrate_growth_per_year = 0.25\n"
                                 "months_to_next_halving = 17"))
    result = solve(build_model(prepare(load_site(path), catalog, "hybrid")))
    uplift = redispatch_uplift(result)
    assert uplift > 1e-4 * result.objective_usd
    summary = scenario_summary(result, catalog)
    assert summary.redispatch_uplift_usd == pytest.approx(uplift, abs=0.01)

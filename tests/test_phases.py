"""Phased builds (issue 19, point 3): the phase schedule, the miners retired for the phases'
room and the NPV derived by hand on small sites; the objective equals the NPV of the cash
flows; the reduced model equals the per-step reference with phases; the site file's checks."""

from __future__ import annotations

import math

import pytest

from planner.energy.economics import monthly_rate, npv
from planner.errors import InputError
from planner.model.build import build_model
from planner.model.inputs import prepare
from planner.model.optimize import Status, solve
from planner.outputs.physics import cash_flows
from planner.outputs.summary import scenario_summary
from planner.site.load import load_site

from .sitebuilder import S19_XP, flat, site

ECON = {"btc_price_usd": 100000, "network_hashrate_ehs": 1000, "block_subsidy_btc": 3.125}
HOURS_A_MONTH = 8760 / 12  # 730
# hashprice: 144 blocks a day x 3.125 BTC x 100,000 USD / (1,000 EH/s = 1e9 TH/s) = 0.045 USD per TH/s-day
HASHPRICE = 144 * 3.125 * 100000 / 1e9


def annuity(rate: float, lo: int, hi: int) -> float:
    """sum_{m=lo}^{hi-1} (1 + r_m)^-(m+1): closed form of a geometric series."""
    if hi <= lo:
        return 0.0
    rm = monthly_rate(rate)
    if rm == 0:
        return float(hi - lo)
    return ((1 + rm) ** -lo - (1 + rm) ** -hi) / rm


def phased_site(kind: str, phases: list[dict], *, capacity: float = 1.0, discount: float = 0.0,
                miners: int = 0, max_gpus: int | None = None, extra: dict | None = None) -> str:
    """Free power (so the margins are the lease and the hashprice alone), utilisation 1, a
    4 USD GPU-hour, a 24-month horizon; miners S19 XP with no salvage."""
    ai = {"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": 4.0,
          "utilization": 1.0}
    if max_gpus is not None:
        ai["max_gpus"] = max_gpus
    return site("phased", capacity_mw=capacity, price=flat(0.0), cooling={"mining_pue": 1.0, "ai_pue": 1.25},
                miners=[{"model": S19_XP, "count": miners, "salvage_usd": 0.0}] if miners else [],
                ai=ai, economics={"discount_rate": discount, "horizon_years": 2, **ECON},
                scenarios={"plan": {"kind": kind, "facility_usd_per_mw": 2e6, "phases": phases, **(extra or {})}})


@pytest.mark.parametrize("discount", [0.0, 0.1])
def test_two_phases_of_a_greenfield_cluster_by_hand(write_site, catalog, discount):
    """Containers online at month 3 may hold half the cluster, the hall at month 12 the rest.
    Each GPU earns 4 USD x 730 h a month from its phase's online month to month 24, so the
    plan puts all it may in the early phase: shares (1/2, 1/2) and

        NPV = G x 4 x 730 x (A[3, 24) + A[12, 24)) / 2 - capex

    The first revenue is at month 3; the objective is the NPV of the cash flows."""
    phases = [{"name": "containers", "build_months": 3, "max_share": 0.5}, {"name": "hall", "build_months": 12}]
    inp = prepare(load_site(write_site(phased_site("greenfield", phases, discount=discount))), catalog, "plan")
    assert inp.ai_start_month == 12
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    opt = result.chosen
    assert opt.servers > 0
    hand = opt.gpus * 4.0 * HOURS_A_MONTH * (annuity(discount, 3, 24) + annuity(discount, 12, 24)) / 2 \
        - opt.capex_total_usd
    assert result.phase_shares == pytest.approx([0.5, 0.5])
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), discount) == pytest.approx(hand, rel=1e-9)
    doc = scenario_summary(result, catalog)
    assert doc.months_to_first_revenue == 3
    assert doc.phases is not None
    assert [(p.name, p.online_month, p.gpus) for p in doc.phases] == [("containers", 3, opt.gpus / 2),
                                                                        ("hall", 12, opt.gpus / 2)]
    assert doc.phase_plan == "containers m3 50 %, hall m12 50 %"


def test_a_later_phase_is_left_empty_and_the_start_is_the_last_phase(write_site, catalog):
    """With no limit on the early phase the whole cluster goes there: one phase used, the
    other empty, NPV = G x 4 x 730 x 21 - capex (undiscounted)."""
    phases = [{"name": "early", "start_month": 1, "build_months": 2}, {"name": "late", "build_months": 12}]
    result = solve(build_model(prepare(load_site(write_site(phased_site("greenfield", phases))), catalog, "plan")))
    opt = result.chosen
    assert result.phase_shares == pytest.approx([1.0, 0.0])
    assert result.objective_usd == pytest.approx(opt.gpus * 4.0 * HOURS_A_MONTH * 21 - opt.capex_total_usd,
                                                 rel=1e-9)


def test_miners_retire_to_give_the_first_phase_room(write_site, catalog):
    """A retrofit of a 1 MW site whose 300 S19 XP fill most of the grid. The AI (capped at 64
    GPUs, facility F MW at PUE 1.25) may come online whole at month 3 in containers, or at
    month 12 in the hall. A GPU-hour earns 4 USD, a miner 140 TH/s x 0.045 USD a day, so the
    AI goes first and the fewest miners retire at month 3 that give it room:

        z = ceil((F + 300 f - 1) / f)

    f: a miner's facility MW (3,010 W and its share of the access switches, PUE 1.0). The
    others run until month 12 (the AI start), when a retrofit retires them. Undiscounted:

        NPV = G x 4 x 730 x 21 - capex + m x (300 x 3 + (300 - z) x 9),  m = 140 x 0.045 / 24 x 730
    """
    phases = [{"name": "containers", "build_months": 3}, {"name": "hall", "build_months": 12}]
    text = phased_site("retrofit", phases, miners=300, max_gpus=64)
    inp = prepare(load_site(write_site(text)), catalog, "plan")
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    opt = result.chosen
    assert opt.gpus == 64
    block = inp.miners[0]
    f = float(block.facility_mw.max())
    assert f == pytest.approx((3010 + block.network_w) / 1e6)
    big_f = opt.it_power_w / 1e6 * 1.25
    z = math.ceil((big_f + 300 * f - 1.0) / f - 1e-9)
    assert z > 0  # the grid binds at month 3: the check is not vacuous
    assert result.phase_shares == pytest.approx([1.0, 0.0])
    assert result.miners_before == {block.key: 300}
    assert result.retired == {block.key: [z]}
    m = 140 * HASHPRICE / 24 * HOURS_A_MONTH
    hand = opt.gpus * 4.0 * HOURS_A_MONTH * 21 - opt.capex_total_usd + m * (300 * 3 + (300 - z) * 9)
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)
    doc = scenario_summary(result, catalog)
    assert doc.phases is not None and doc.phases[0].miners_retired == z
    assert any(line.startswith("grid capacity at month 3 (containers online)") and "miners retired" in line
               for line in doc.binding_constraints)


def test_a_phase_grid_below_the_cluster_holds_it_back(write_site, catalog):
    """The containers' grid gives only 0.05 MW from month 3: the early share is what fits,
    u = 0.05 / F, and the rest waits for the hall (grid 1 MW at month 12). Undiscounted:
    NPV = G x 4 x 730 x (u x 21 + (1 - u) x 12) - capex."""
    phases = [{"name": "containers", "build_months": 3, "grid_mw": 0.05}, {"name": "hall", "build_months": 12}]
    inp = prepare(load_site(write_site(phased_site("greenfield", phases, max_gpus=64))), catalog, "plan")
    result = solve(build_model(inp))
    opt = result.chosen
    u = 0.05 / (opt.it_power_w / 1e6 * 1.25)
    assert 0 < u < 1
    assert result.phase_shares == pytest.approx([u, 1 - u], rel=1e-9)
    hand = opt.gpus * 4.0 * HOURS_A_MONTH * (u * 21 + (1 - u) * 12) - opt.capex_total_usd
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)


def test_reduced_model_equals_the_per_step_reference_with_phases(catalog):
    """The phased example site on its 15-minute series: the reduced model's objective is the
    per-step reference's (phases add no per-step column or row)."""
    from .conftest import SITES

    inp = prepare(load_site(SITES / "texas-phased.toml"), catalog, "hybrid")
    assert inp.phases
    a, b = solve(build_model(inp, reduce=False)), solve(build_model(inp))
    assert a.status is Status.OPTIMAL and b.status is Status.OPTIMAL
    assert b.objective_usd == pytest.approx(a.objective_usd, rel=1e-9)
    assert b.phase_shares == pytest.approx(a.phase_shares)
    assert npv(cash_flows(b), inp.discount_rate) == pytest.approx(b.objective_usd, rel=1e-9)


def test_phases_are_refused_where_not_modelled(write_site, catalog):
    """A host scenario with phases, and phases whose shares cannot hold a whole cluster: the
    message names the scenario's phases key and its line."""
    phases = [{"name": "a", "build_months": 3, "max_share": 0.5}, {"name": "b", "build_months": 6, "max_share": 0.4}]
    path = write_site(phased_site("greenfield", phases))
    with pytest.raises(InputError) as err:
        prepare(load_site(path), catalog, "plan")
    problem = err.value.problems[0]
    assert problem.key == "scenarios.plan.phases" and "add up to 0.9" in problem.message
    assert problem.line is not None
    text = phased_site("greenfield", [{"build_months": 3}], extra={"model": "host"})
    text += "\n[hosting]\nrent_usd_per_kw_month = 100.0\nterm_months = 24\n"
    with pytest.raises(InputError) as err:
        prepare(load_site(write_site(text, "host.toml")), catalog, "plan")
    assert err.value.problems[0].key == "scenarios.plan.phases" and "host" in err.value.problems[0].message


def test_halls_are_built_whole_and_the_phases_take_whole_halls(write_site, catalog):
    """128 GPUs in two small new halls (the cluster needs both), and an early phase (month 3)
    that may hold at most half the cluster: halls are built whole, so the early phase takes
    the halls whose IT shares a_h (servers in the hall, the network by server share) add up
    to the most that stays within one half,

        s = max { sum_{h in S} a_h : sum_{h in S} a_h <= 1/2 },

    and the rest waits for the late phase (month 12). Free power, utilisation 1, so
    undiscounted NPV = G x 4 x 730 x (s x 21 + (1 - s) x 12) - capex."""
    from itertools import combinations

    text = site("halls", capacity_mw=5.0, price=flat(0.0), cooling={"ai_pue": 1.25},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "min_gpus": 128,
                    "max_gpus": 128, "lease_usd_per_gpu_hour": 4.0, "utilization": 1.0},
                economics={"discount_rate": 0.0, "horizon_years": 2, **ECON},
                scenarios={"plan": {"kind": "greenfield", "facility_usd_per_mw": 8.0e6,
                                    "buildings": ["hall-a", "hall-b"],
                                    "phases": [{"name": "early", "build_months": 3, "max_share": 0.5},
                                               {"name": "late", "build_months": 12}]}},
                buildings=[{"name": "hall-a", "polygon": [[0, 0], [2.3, 0], [2.3, 3], [0, 3]], "status": "new",
                            "cooling": "direct-liquid", "max_kw_per_rack": 132},
                           {"name": "hall-b", "polygon": [[0, 0], [2.3, 0], [2.3, 6], [0, 6]], "origin": [0, 100],
                            "status": "new", "cooling": "direct-liquid", "max_kw_per_rack": 132}],
                routes=[{"from": "hall-a", "to": "hall-b", "polyline": [[1, 1], [1, 101]]}])
    result = solve(build_model(prepare(load_site(write_site(text)), catalog, "plan")))
    assert result.status is Status.OPTIMAL
    opt = result.chosen
    assert opt.gpus == 128 and len(opt.halls) == 2
    total = sum(h.it_w for h in opt.halls)
    a = {h.name: h.it_w / total for h in opt.halls}
    subsets = [set(c) for n in range(len(a) + 1) for c in combinations(a, n)]
    early = max((c for c in subsets if sum(a[h] for h in c) <= 0.5), key=lambda c: sum(a[h] for h in c))
    s = sum(a[h] for h in early)
    assert 0 < s < 0.5  # one hall goes first, and the early phase is not filled to its half
    assert result.phase_halls == [sorted(early), sorted(set(a) - early)]
    assert result.phase_shares == pytest.approx([s, 1 - s], rel=1e-9)
    hand = opt.gpus * 4.0 * HOURS_A_MONTH * (s * 21 + (1 - s) * 12) - opt.capex_total_usd
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)
    doc = scenario_summary(result, catalog)
    assert doc.phases is not None and [p.halls for p in doc.phases] == result.phase_halls


def test_a_greenfield_phase_waits_for_the_grid_queue(write_site, catalog):
    """A new connection 6 months in the queue: containers built in 3 months come online at
    max(3, 6) = 6, the hall at max(12, 6) = 12, which is the AI start; a phase's own grid
    readiness (month 9) holds it back the same way: max(0 + 3, 9) = 9."""
    phases = [{"name": "containers", "build_months": 3, "max_share": 0.5}, {"name": "hall", "build_months": 12},
              {"name": "late grid", "build_months": 3, "grid_ready_month": 9, "max_share": 0.1}]
    text = phased_site("greenfield", phases, extra={"grid_queue_months": 6})
    inp = prepare(load_site(write_site(text)), catalog, "plan")
    assert [(p.name, p.online_month) for p in inp.phases] == [("containers", 6), ("late grid", 9), ("hall", 12)]
    assert inp.ai_start_month == 12
    assert inp.phase_months() == [6, 9]


@pytest.mark.parametrize("discount", [0.0, 0.1])
def test_phases_with_a_gpu_life_by_hand(write_site, catalog, discount):
    """As the two-phase case, with servers that earn for 18 months from their own online month
    and are then sold at 30 % of their price (R) when that is within the 24 months. Half the
    cluster online at month 3 earns in [3, 21) and is sold at 21; the half online at month 12
    earns in [12, 24) and is not sold (12 + 18 > 24). Earlier is worth more, so shares (1/2, 1/2):

        NPV = G x 4 x 730 x (A[3, 21) + A[12, 24)) / 2 + R / 2 x (1 + r_m)^-21 - capex
    """
    phases = [{"name": "containers", "build_months": 3, "max_share": 0.5}, {"name": "hall", "build_months": 12}]
    text = phased_site("greenfield", phases, discount=discount, max_gpus=8)
    # one server, required (18 months of lease do not repay it: the plan is about its timing)
    text = text.replace('utilization = 1.0', 'utilization = 1.0\nmin_gpus = 8\ngpu_life_years = 1.5\n'
                        'gpu_resale_share = 0.3')
    assert "gpu_life_years" in text
    inp = prepare(load_site(write_site(text)), catalog, "plan")
    assert inp.gpu_life_months == 18
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    opt = result.chosen
    assert opt.gpus == 8
    assert result.phase_shares == pytest.approx([0.5, 0.5], rel=1e-9)
    resale = 0.3 * opt.capex_usd["servers"]
    rm = monthly_rate(discount)
    hand = (opt.gpus * 4.0 * HOURS_A_MONTH * (annuity(discount, 3, 21) + annuity(discount, 12, 24)) / 2
            + resale / 2 * (1 + rm) ** -21 - opt.capex_total_usd)
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), discount) == pytest.approx(result.objective_usd, rel=1e-9)
    reference = solve(build_model(inp, reduce=False))
    assert reference.objective_usd == pytest.approx(result.objective_usd, rel=1e-9)


def test_phases_with_a_fixed_price_block_on_the_example_site(catalog, tmp_path):
    """sites/texas-phased.toml (hybrid) with a 65 MW block at 28 USD/MWh for its 60 months: the
    block is a constant beyond spot, sum_t (28 - p_t) x 65 x 0.25 a year (p_t read from the
    series file), so the phased plan is the same with it and its NPV lower by that over 12 x
    A[0, 60); the reduced model equals the per-step reference."""
    import pandas as pd

    from .conftest import SITES

    text = (SITES / "texas-phased.toml").read_text(encoding="utf-8")
    text = text.replace("[cooling]", "[[power.contracts]]\nmw = 65.0\nusd_per_mwh = 28.0\n\n[cooling]", 1)
    (tmp_path / "data").symlink_to(SITES / "data")
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    inp = prepare(load_site(path), catalog, "hybrid")
    assert inp.phases and inp.markets is not None and not inp.markets.per_step
    plain = solve(build_model(prepare(load_site(SITES / "texas-phased.toml"), catalog, "hybrid")))
    reduced, reference = solve(build_model(inp)), solve(build_model(inp, reduce=False))
    assert reduced.status is Status.OPTIMAL and reference.status is Status.OPTIMAL
    assert reduced.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9)
    assert reduced.phase_shares == pytest.approx(plain.phase_shares)
    prices = pd.read_csv(SITES / "data" / "texas-synthetic-2025-15min.csv")["price_usd_per_mwh"].to_numpy()
    net = float(((28.0 - prices) * 65.0 * 0.25).sum())
    assert reduced.objective_usd - plain.objective_usd == pytest.approx(-net / 12 * annuity(0.1, 0, 60), rel=1e-9)
    assert npv(cash_flows(reduced), 0.1) == pytest.approx(reduced.objective_usd, rel=1e-9)


@pytest.mark.parametrize(("kind", "miners", "power", "words"), [
    ("greenfield", 0, "[power.reserves]\nusd_per_mw_hour = 5.0\nai_interruptible_share = 0.5\n",
     "reserves ([power.reserves]) with miners or an interruptible AI share"),
    ("retrofit", 10, "[power.demand_charge]\nusd_per_kw_month = 5.0\n",
     "demand charges ([power.demand_charge]) with miners"),
])
def test_phases_with_per_step_market_terms_are_refused(tmp_path, write_site, capsys, kind, miners, power, words):
    """Reserves, coincident peaks and demand charges are split by phase for the AI load alone:
    with miners, or an interruptible AI share offered as reserve, exit 2 naming the scenario's
    phases key, its line and the feature."""
    from planner.app.cli import main

    text = phased_site(kind, [{"build_months": 3, "max_share": 0.5}, {"build_months": 12}], miners=miners)
    text += "\n" + power
    path = write_site(text)
    assert main(["solve", str(path), "-q", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "scenarios.plan.phases" in err and words in err and "Traceback" not in err
    assert f"site.toml:{text.splitlines().index('[scenarios.plan]') + 1}:" in err


PHASES = [{"name": "containers", "build_months": 3, "max_share": 0.5}, {"name": "hall", "build_months": 12}]


@pytest.mark.parametrize("discount", [0.0, 0.1])
def test_phases_with_a_demand_charge_by_hand(write_site, catalog, discount):
    """The two-phase greenfield case with a demand charge of 5 USD/kW-month on a flat (free)
    price: the grid import is the AI's load L = P (PUE 1.25) MW (one server, required), half of
    it from month 3, all of it from month 12, so against no charge

        NPV change = -5 x 1,000 x L x (A[3, 12) / 2 + A[12, 24))

    and the shares stay (1/2, 1/2); the reduced model equals the per-step reference."""
    def plan(extra: str, name: str):
        text = phased_site("greenfield", PHASES, discount=discount, max_gpus=8)
        text = text.replace("utilization = 1.0", "utilization = 1.0\nmin_gpus = 8") + extra
        inp = prepare(load_site(write_site(text, name)), catalog, "plan")
        result = solve(build_model(inp))
        assert result.status is Status.OPTIMAL
        assert npv(cash_flows(result), discount) == pytest.approx(result.objective_usd, rel=1e-9)
        return inp, result

    _, plain = plan("", "plain.toml")
    inp, charged = plan("\n[power.demand_charge]\nusd_per_kw_month = 5.0\n", "charged.toml")
    assert charged.phase_shares == pytest.approx([0.5, 0.5], rel=1e-9)
    load = charged.chosen.it_power_w / 1e6 * 1.25
    change = -5 * 1000 * load * (annuity(discount, 3, 12) / 2 + annuity(discount, 12, 24))
    assert charged.objective_usd - plain.objective_usd == pytest.approx(change, rel=1e-9)
    assert solve(build_model(inp, reduce=False)).objective_usd == pytest.approx(charged.objective_usd, rel=1e-9)


def test_phases_with_a_coincident_peak_by_hand(tmp_path, write_site, catalog):
    """The two-phase greenfield case on a free 15-minute week with one coincident-peak interval
    at 50 USD/kW-year: the AI's load L in that interval is tagged, each month's charge billed a
    year later. Half of L from month 3, all of it from month 12 (to 24), undiscounted:

        NPV change = -50 x 1,000 x L / 12 x (9 / 2 + 12)

    (the last year's charges fall past the horizon and count: they are owed for its load)."""
    pd = pytest.importorskip("pandas")
    t = pd.date_range("2025-07-01", periods=4 * 7 * 24, freq="15min")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), "price": 0.0}).to_csv(tmp_path / "s.csv", index=False)
    base = phased_site("greenfield", PHASES, max_gpus=8).replace("utilization = 1.0", "utilization = 1.0\nmin_gpus = 8")
    start, end = base.index("[power_price]"), base.index("[cooling]")
    base = base[:start] + '[power_price]\nkind = "series"\nfile = "s.csv"\nstep_minutes = 15\n\n' + base[end:]
    cp = '\n[power.coincident_peak]\nusd_per_kw_year = 50.0\nintervals = ["2025-07-01 17:00"]\n'
    results = []
    for text, name in ((base, "plain.toml"), (base + cp, "cp.toml")):
        inp = prepare(load_site(write_site(text, name)), catalog, "plan")
        result = solve(build_model(inp))
        assert result.status is Status.OPTIMAL
        assert npv(cash_flows(result), 0.0) == pytest.approx(result.objective_usd, rel=1e-9)
        results.append((inp, result))
    (_, plain), (inp, charged) = results
    assert charged.phase_shares == pytest.approx([0.5, 0.5], rel=1e-9)
    load = charged.chosen.it_power_w / 1e6 * 1.25
    assert charged.objective_usd - plain.objective_usd == pytest.approx(-50 * 1000 * load / 12 * (4.5 + 12),
                                                                         rel=1e-9)
    assert solve(build_model(inp, reduce=False)).objective_usd == pytest.approx(charged.objective_usd, rel=1e-9)


def test_phases_on_a_grid_that_varies_over_the_year_by_hand(write_site, catalog):
    """The retiring case on a grid of 1 MW in January-June (181 days, 4,344 h) and 0.8 MW in
    July-December (184 days, 4,416 h), free power. Before the containers' month 3 the 300 kept
    miners are dispatched step by step: all 300 in the first half, 0.8 / f in the second. From
    month 3 the AI (F MW) and the miners left must fit the lower capacity in every step, so
    z = ceil((F + 300 f - 0.8) / f) retire then and the 300 - z left run in every step until
    month 12. Undiscounted, with m_h = 140 x 0.045 / 24 USD a miner-hour:

        NPV = G x 4 x 730 x 21 - capex + m_h x (3 x (300 x 4,344 + 0.8 / f x 4,416) / 12
                                                + 9 x (300 - z) x 8,760 / 12)

    and the reduced model equals the per-step reference."""
    phases = [{"name": "containers", "build_months": 3}, {"name": "hall", "build_months": 12}]
    text = phased_site("retrofit", phases, miners=300, max_gpus=64)
    seasonal = ('[power_price]\nkind = "seasonal"\n\n[[power_price.seasons]]\nmonths = [1, 2, 3, 4, 5, 6]\n'
                'usd_per_mwh = 0.0\n\n[[power_price.seasons]]\nmonths = [7, 8, 9, 10, 11, 12]\nusd_per_mwh = 0.0\n'
                'capacity_mw = 0.8\n\n')
    start, end = text.index("[power_price]"), text.index("[cooling]")
    text = text[:start] + seasonal + text[end:]
    inp = prepare(load_site(write_site(text)), catalog, "plan")
    assert inp.dispatch_before
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    opt, block = result.chosen, inp.miners[0]
    assert opt.gpus == 64
    f = (3010 + block.network_w) / 1e6
    big_f = opt.it_power_w / 1e6 * 1.25
    z = math.ceil((big_f + 300 * f - 0.8) / f - 1e-9)
    assert z > 0 and 300 * f > 0.8  # both the phase row and the dispatch before it bind
    assert result.phase_shares == pytest.approx([1.0, 0.0])
    assert result.miners_before == {block.key: 300}
    assert result.retired == {block.key: [z]}
    mh = 140 * HASHPRICE / 24
    mining = mh * (3 * (300 * 4344 + 0.8 / f * 4416) / 12 + 9 * (300 - z) * 8760 / 12)
    hand = opt.gpus * 4.0 * HOURS_A_MONTH * 21 - opt.capex_total_usd + mining
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)
    reference = solve(build_model(inp, reduce=False))
    assert reference.objective_usd == pytest.approx(result.objective_usd, rel=1e-9)


def test_phases_with_an_interruptible_ai_by_hand(write_site, catalog):
    """The two-phase greenfield case with an interruptible AI load and power free in January-June
    (4,344 h) but at 5,000 USD/MWh in July-December, when an hour of a server (8 GPUs x 4 USD =
    32 USD) earns less than its energy (over 10 kW x 5,000 USD/MWh): it runs 4,344 h a year, so

        NPV = G x 4 x 4,344 / 12 x (21 + 12) / 2 - capex   (undiscounted, shares 1/2, 1/2)."""
    text = phased_site("greenfield", PHASES, max_gpus=8)
    text = text.replace("utilization = 1.0", "utilization = 1.0\nmin_gpus = 8\ninterruptible = true")
    seasonal = ('[power_price]\nkind = "seasonal"\n\n[[power_price.seasons]]\nmonths = [1, 2, 3, 4, 5, 6]\n'
                'usd_per_mwh = 0.0\n\n[[power_price.seasons]]\nmonths = [7, 8, 9, 10, 11, 12]\n'
                'usd_per_mwh = 5000.0\n\n')
    start, end = text.index("[power_price]"), text.index("[cooling]")
    inp = prepare(load_site(write_site(text[:start] + seasonal + text[end:])), catalog, "plan")
    assert inp.ai_interruptible
    result = solve(build_model(inp))
    assert result.status is Status.OPTIMAL
    opt = result.chosen
    assert opt.gpus == 8 and inp.ai_on(opt).tolist() == [True] * 6 + [False] * 6
    assert result.phase_shares == pytest.approx([0.5, 0.5], rel=1e-9)
    hand = opt.gpus * 4.0 * 4344 / 12 * (21 + 12) / 2 - opt.capex_total_usd
    assert result.objective_usd == pytest.approx(hand, rel=1e-9)
    assert npv(cash_flows(result), 0.0) == pytest.approx(hand, rel=1e-9)
    assert solve(build_model(inp, reduce=False)).objective_usd == pytest.approx(hand, rel=1e-9)

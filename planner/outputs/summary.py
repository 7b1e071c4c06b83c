"""summary.json's document, derived from solved :class:`Result` objects: one record per
scenario (the contract's keys), the recommendation with its reason, and the rows and cell
formats of the summary table that the CLI and the TUI print. The BOM is
:mod:`planner.outputs.bom`; what the plan does, re-derived, :mod:`planner.outputs.physics`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.constants import HOURS_PER_YEAR
from planner.energy.economics import irr, npv, payback_years
from planner.model.optimize import Result, Status, facility_mw, outcome
from planner.outputs.interim import interim_summary
from planner.outputs.markets import market_summary, summary_lines
from planner.outputs.phases import phase_schedule
from planner.outputs.physics import (
    cash_flows,
    extra_capex,
    layout_summary,
    miners_capex,
    moves_cost,
    other_networks,
    redispatch_uplift,
    yearly_mining,
)
from planner.outputs.records import (
    AccessNetworkSummary,
    HallUse,
    NoPlanSummary,
    PhaseSummary,
    PlanSummary,
    PowerFigureSummary,
    PriceCoverage,
    Recommendation,
    Solver,
    SummaryDocument,
)
from planner.parts.catalog import Catalog

if TYPE_CHECKING:
    from planner.model.scenario import ClusterOption

# The summary's rows for tables: (label, field of PlanSummary, format)
SUMMARY_ROWS = [
    ("status", "status", "str"), ("server", "server", "str"), ("GPUs", "gpus", "int"),
    ("GPU servers", "gpu_servers", "int"), ("miners (with AI)", "miners", "int"),
    ("miners before AI", "miners_before_ai", "int"), ("miners bought", "miners_bought", "int"),
    ("miners moved", "miners_moved", "int"), ("AI halls", "hall_plan", "str"),
    ("hashrate, TH/s", "hashrate_ths", "int"), ("IT power, MW", "it_power_mw", "f2"),
    ("facility power, MW", "facility_power_mw", "f2"), ("grid capacity, MW", "grid_capacity_mw", "f1"),
    ("energy, MWh/yr", "energy_mwh_per_year", "int"), ("capex, M USD", "capex_usd", "musd"),
    ("opex, M USD/yr", "opex_usd_per_year", "musd"), ("revenue, M USD/yr", "revenue_usd_per_year", "musd"),
    ("NPV, M USD", "npv_usd", "musd"), ("IRR", "irr", "f2"), ("payback, years", "payback_years", "f2"),
    ("months to first revenue", "months_to_first_revenue", "int"),
    ("switches", "switches", "dict"), ("transceivers", "transceivers", "dict"),
    ("lit fibres", "fibers", "int"), ("MPO connectors", "mpo_connectors", "dict"),
]


# the interim supply's rows ([power.interim]), when some scenario can use one
INTERIM_ROWS = [
    ("AI start (month)", "ai_start_month", "int"), ("grid start (month)", "grid_start_month", "int"),
    ("interim supply, MW", "interim_supply_mw", "f1"), ("interim energy, MWh", "interim_energy_mwh", "int"),
    ("interim energy cost, M USD", "interim_energy_cost_usd", "musd"),
    ("interim fixed cost, M USD", "interim_fixed_cost_usd", "musd"),
]


def summary_rows(doc: SummaryDocument) -> list[tuple[str, str, str]]:
    """The table's rows for a summary document: SUMMARY_ROWS, the power-market lines
    (outputs.markets.MARKET_ROWS) and the interim supply's (INTERIM_ROWS) when some scenario
    has them."""
    from planner.outputs.markets import MARKET_ROWS

    has = any(getattr(s, "power_markets", None) is not None for s in doc.scenarios.values())
    phased = any(getattr(s, "phases", None) is not None for s in doc.scenarios.values())
    bridges = any(getattr(s, "interim_supply_mw", None) is not None for s in doc.scenarios.values())
    return SUMMARY_ROWS + (PHASE_ROWS if phased else []) + (MARKET_ROWS if has else []) \
        + (INTERIM_ROWS if bridges else [])


# the phased build's row, when some scenario has phases (scenarios.*.phases)
PHASE_ROWS = [("build phases (month, share)", "phase_plan", "str")]


def row_value(scenario: PlanSummary | NoPlanSummary, name: str) -> Any:
    """A scenario's value for a SUMMARY_ROWS row; None where the scenario has no such field
    (a scenario without a plan has no GPUs)."""
    return getattr(scenario, name, None)


def plan_parts(result: Result, catalog: Catalog) -> list[str]:
    """Keys of the powered parts the chosen plan buys or keeps running: server, switches,
    modules, the access switches (the catalog's) and the miners."""
    access = catalog.access_switch
    inp, opt = result.inputs, result.chosen
    keys: set[str] = set()
    fab = opt.fabric
    if opt.servers and fab is not None:
        keys |= {opt.server, access} | {fab.switch_models[r] for r, n in fab.switches.items() if n}
        keys |= {end.part for m in fab.media.values() for end in (m.lower, m.upper)
                 if end.kind in ("module", "copper") and end.units and end.part is not None}
    for b in inp.miners:
        if result.miners_with_ai.get(b.key, 0) or result.miners_before.get(b.key, 0):
            keys |= {b.name or b.key, access}
    return sorted(keys)


def scenario_summary(result: Result, catalog: Catalog) -> PlanSummary | NoPlanSummary:
    """The per-scenario record of summary.json (keys per DESIGN.md; declared in
    :mod:`planner.outputs.records`)."""
    inp = result.inputs
    base: dict[str, Any] = {
        "status": str(result.status),
        "kind": inp.kind,
        "grid_capacity_mw": inp.capacity_mw,
        "solve_seconds": round(result.solve_seconds, 4),
        "scenario_seconds": None if result.scenario_seconds is None else round(result.scenario_seconds, 2),
    }
    if result.status is not Status.OPTIMAL:
        return NoPlanSummary(**base, binding_constraints=result.infeasibility, solver_status=result.solver_status,
                             message=outcome(result))
    opt = result.option
    assert opt is not None and result.option_index is not None, "an optimal result has a chosen option"
    figures = {k: inp.power[k].doc() for k in plan_parts(result, catalog) if k in inp.power}
    before_kept = result.miners_before
    steady_miners = result.miners_with_ai
    with_ai, before = facility_mw(inp, result.option_index, before_kept, steady_miners, result.running)
    it_mw = _it_mw(result)
    ai_energy = inp.ai_energy_mwh_year(opt)
    mining = yearly_mining(result)
    energy = ai_energy + mining["energy_mwh"]
    revenue_ai = opt.gpus * inp.lease_usd_per_gpu_hour * inp.utilization * inp.ai_hours_year(opt)
    hashrate = sum(b.hashrate_ths * steady_miners.get(b.key, 0) for b in inp.miners)
    revenue_btc = mining["revenue"]
    fixed = opt.it_power_w / 1e6 * inp.ai_opex_usd_per_mw_year + mining["opex"]
    energy_cost = inp.ai_energy_cost_year(opt) + mining["energy_cost"]
    markets = market_summary(result)  # power contracts and markets: their own lines
    lines = summary_lines(markets)
    charges = reserves = 0.0  # peak and demand charges less the contracts' credits; reserve revenue
    if markets is not None and markets["with_ai"] is not None:
        energy_cost = markets["with_ai"]["energy_cost_usd"]  # the bill: fixed blocks and energy bought
        charges = lines["coincident_peak_usd_per_year"] + lines["demand_charge_usd_per_year"] \
            - lines["contract_credits_usd_per_year"]
        reserves = lines["reserve_revenue_usd_per_year"]
    fab = opt.fabric
    ridden = _ridden(opt, catalog)
    schedule = phase_schedule(result) if inp.phases else None
    first = _first_revenue_month(result, schedule)
    up = redispatch_uplift(result)
    plan = PlanSummary(
        **base,
        gpus=opt.gpus,
        gpu_servers=opt.servers,
        server=opt.server or inp.server_key,
        optics=opt.optics,
        miners=sum(steady_miners.values()),
        miners_by_model=dict(sorted(steady_miners.items())),
        miners_before_ai=sum(before_kept.values()),
        hashrate_ths=hashrate,
        it_power_mw=round(it_mw, 6),
        facility_power_mw=round(with_ai, 6),
        facility_power_before_ai_mw=round(before, 6),
        energy_mwh_per_year=round(energy, 3),
        capex_usd=_plan_capex_usd(result),
        capex_breakdown_usd={**{k: round(v, 2) for k, v in opt.capex_usd.items()},
                             "new_miners": round(miners_capex(result), 2),
                             "grid_expansion": round(inp.expansion_usd if result.expanded else 0.0, 2),
                             "miner_moves": round(moves_cost(result), 2)},
        grid_expansion_mw=inp.expansion_mw if result.expanded else 0.0,
        miners_bought=sum(inp.bought(b, result.miners_before, result.miners_with_ai) for b in inp.miners),
        cooling="converted" if opt.converts else "as built",
        halls=[HallUse.model_validate({"name": h.name, "use": h.use, "ai_it_mw": round(h.it_w / 1e6, 6)})
               for h in opt.halls],
        hall_plan=opt.variant or "-",
        miners_moved=sum(result.miners_moved.values()),
        miner_positions_free=(sum(inp.hall_positions.values()) - inp.positions_taken(opt)
                              if inp.miner_space else None),
        ai_pue=opt.pue,
        opex_usd_per_year=round(energy_cost + fixed + charges, 2),
        energy_cost_usd_per_year=round(energy_cost, 2),
        mean_price_usd_per_mwh=round(inp.price_usd_per_mwh, 4),
        price_profile=inp.profile.source,
        price_coverage=PriceCoverage(**inp.profile.coverage.as_dict()) if inp.profile.coverage else None,
        redispatch_uplift_usd=None if up is None else round(up, 2),
        miner_utilisation=round(mining["hash_hours"] / (hashrate * HOURS_PER_YEAR), 6) if hashrate else None,
        revenue_usd_per_year=round(revenue_ai + revenue_btc + reserves, 2),
        **_returns(result),
        months_to_first_revenue=first,
        hashprice_usd_per_th_day=round(inp.hashprice_usd_per_th_day, 6),
        tiers=fab.tiers if fab else 0,
        switches=dict(fab.switches) if fab else {"leaf": 0, "spine": 0, "core": 0},
        links=dict(fab.links) if fab else {"node_leaf": 0, "leaf_spine": 0, "spine_core": 0},
        transceivers=_transceivers(opt) if fab else {},
        cables=ridden.cables if ridden else {},
        fibers=ridden.fibers if ridden else 0,
        mpo_connectors=ridden.mpo_connectors if ridden else {},
        networks={name: AccessNetworkSummary(**net) for name, net in other_networks(result, catalog).items()},
        layout=layout_summary(result, catalog),
        binding_constraints=result.binding,
        warnings=list(inp.warnings) + [
            f"{k}: power is an estimate, {f['watts']:,.6g} W per unit (basis in power_figures; set your own "
            "under [power_w])" for k, f in figures.items() if f["kind"] == "estimate"] + _interconnect_warnings(opt),
        power_figures={k: PowerFigureSummary(**f) for k, f in figures.items()},
        ai_hours_shed_per_year=round(HOURS_PER_YEAR - inp.ai_hours_year(opt), 3) if opt.servers else 0.0,
        workload_gpus=inp.workload_gpus,
        phases=[PhaseSummary(**p) for p in schedule] if schedule is not None else None,
        **({"power_markets": markets, **lines} if markets is not None else {}),
        **interim_summary(result),
    )
    from planner.outputs.business import business_summary  # the business model's keys (issue 19)

    return plan.model_copy(update=business_summary(result, plan.model_dump()))


def headline(result: Result) -> dict[str, Any]:
    """The figures of an optimal result that a sweep's row keeps, each as summary.json gives it
    (:func:`scenario_summary`, whose record a sweep does not need): ``gpus``, ``miners`` (kept
    with the AI), ``it_power_mw``, ``capex_usd`` (the host's scope under a hosting contract),
    ``npv_usd``, ``irr``, ``payback_years`` and ``months_to_first_revenue``."""
    from planner.outputs.business import scoped_capex_usd

    inp, opt = result.inputs, result.chosen
    return {
        **_returns(result), "capex_usd": scoped_capex_usd(result, _plan_capex_usd(result)),
        "gpus": opt.gpus, "miners": sum(result.miners_with_ai.values()), "it_power_mw": round(_it_mw(result), 6),
        "months_to_first_revenue": _first_revenue_month(result, phase_schedule(result) if inp.phases else None),
    }


def _returns(result: Result) -> dict[str, Any]:
    """NPV, IRR and payback of the plan's cash flows, as summary.json rounds them."""
    flows = cash_flows(result)
    rate = irr(flows)
    return {"npv_usd": round(npv(flows, result.inputs.discount_rate), 2),
            "irr": None if rate is None else round(rate, 6), "payback_years": payback_years(flows)}


def _plan_capex_usd(result: Result) -> float:
    """The plan's capex, all scopes: the option's, the extra of the power contracts and
    markets, and the miners' moves."""
    return round(result.chosen.capex_total_usd + extra_capex(result) + moves_cost(result), 2)


def _it_mw(result: Result) -> float:
    """IT power with the AI: the cluster's and the miners' kept beside it (with their network)."""
    inp = result.inputs
    miner_it_w = sum((b.power_w + b.network_w) * result.miners_with_ai.get(b.key, 0) for b in inp.miners)
    return (result.chosen.it_power_w + miner_it_w) / 1e6


def _first_revenue_month(result: Result, schedule: list[dict] | None) -> int | None:
    """The month the plan first earns: 0 with miners kept from the start, else when the AI
    (its first phase online, or the interim supply's start) or the miners beside it begin;
    None for a plan that earns nothing."""
    inp, opt = result.inputs, result.chosen
    before_kept, steady_miners = result.miners_before, result.miners_with_ai
    start = inp.interim.start_month if inp.interim is not None and result.interim_start else inp.ai_start_month
    first = 0 if any(before_kept.values()) or (any(steady_miners.values()) and not start) \
        else (start if opt.servers or any(steady_miners.values()) else None)
    if schedule and first and opt.servers:  # the first phase online earns first
        first = min(p["online_month"] for p in schedule if p["share"] > 1e-9)
    return first


def _transceivers(opt: ClusterOption) -> dict[str, int]:
    """The fabric's transceivers by key, less the modules the interconnect of a route beyond grey
    reach replaces (as bom.csv's transceiver rows; the interconnect's own modules are its rows)."""
    fab = opt.fabric
    if fab is None:
        return {}
    gone = opt.interconnect.replaced if opt.interconnect is not None else {}
    return {k: n - min(gone.get(k, 0), n) for k, n in fab.transceivers.items()}


def _ridden(opt: ClusterOption, catalog: Catalog) -> Any:
    """The fabric's cables, lit fibres and MPO connectors (``cables``, ``fibers``,
    ``mpo_connectors``), its links across routes beyond grey reach on their interconnect
    (:func:`planner.network.campus.ridden_counts`; as bom.csv counts them). None without a fabric."""
    fab = opt.fabric
    if fab is None or opt.interconnect is None:
        return fab
    from planner.network.campus import ridden_counts

    return ridden_counts(fab.media, opt.interconnect, catalog)


def _interconnect_warnings(opt: ClusterOption) -> list[str]:
    """What the plan's interconnect across routes beyond grey reach rests on: its prices are
    estimates, and a part without a power figure is left out of the power."""
    ic = opt.interconnect
    if ic is None:
        return []
    estimated = sorted({k for r in ic.routes if r.sized.chosen for k in r.sized.chosen.estimated})
    out = [f"capex_breakdown_usd.interconnect ({ic.capex_usd:,.2f} USD) is priced from ESTIMATES: "
           f"{', '.join(estimated)} (bases in bom.csv)"] if estimated else []
    if ic.no_power:
        out.append(f"the interconnect's power leaves out {', '.join(ic.no_power)}: no power figure in the catalog "
                   "(not counted as zero)")
    return out


def summary(site_name: str, results: dict[str, Result], catalog: Catalog, solver: str) -> SummaryDocument:
    """The whole summary.json document, with a recommendation."""
    scenarios = {name: scenario_summary(r, catalog) for name, r in results.items()}
    share = next((r.inputs.materiality_share for r in results.values()), 0.01)
    return SummaryDocument(site=site_name, planner_version=__version__, solver=_solver(solver),
                           scenarios=scenarios, recommendation=recommend(scenarios, share))


def _solver(name: str) -> Solver:
    """A solver's name as summary.json declares it (the CLI has checked it)."""
    if name == "highs":
        return "highs"
    if name == "cbc":
        return "cbc"
    raise ValueError(f"unknown solver {name!r}")


# what to compare when two plans' NPVs are equal within the materiality: (label, key, unit)
TIE_BREAKERS = (("months to first revenue", "months_to_first_revenue", ""), ("capex", "capex_usd", "M USD"),
                ("GPUs", "gpus", ""), ("miners kept", "miners", ""))


def recommend(scenarios: Mapping[str, PlanSummary | NoPlanSummary],
              materiality_share: float = 0.01) -> Recommendation:
    """The feasible scenario with the highest NPV, and why. When the runner-up is within
    the materiality (a share of the larger NPV's magnitude, ``economics.materiality_share``)
    the two are reported as equal, with what differs between them instead of a winner."""
    ok = {n: s for n, s in scenarios.items() if isinstance(s, PlanSummary)}
    if not ok:
        if all(s.status == Status.INFEASIBLE for s in scenarios.values()):
            return Recommendation(scenario=None, reason="no scenario is feasible")
        return Recommendation(scenario=None, reason="no scenario has a plan: " + ", ".join(
            f"{n} {s.status}" for n, s in scenarios.items()))
    best = max(ok, key=lambda n: ok[n].npv_usd)
    others = [n for n in ok if n != best]
    reason = f"highest NPV: {ok[best].npv_usd / 1e6:,.1f} M USD"
    if not others:
        return Recommendation(scenario=best, reason=reason, equal_to=[])
    runner = max(others, key=lambda n: ok[n].npv_usd)
    a, b = ok[best].npv_usd, ok[runner].npv_usd
    gap, threshold = a - b, materiality_share * max(abs(a), abs(b))
    if gap >= threshold:
        return Recommendation(scenario=best, reason=reason + f", {gap / 1e6:,.1f} M USD above {runner}",
                              equal_to=[])
    differs = []
    for label, name, unit in TIE_BREAKERS:
        x, y = getattr(ok[best], name, None), getattr(ok[runner], name, None)
        if x != y and x is not None and y is not None:
            fx, fy = ((f"{x / 1e6:,.1f}", f"{y / 1e6:,.1f}") if unit == "M USD" else (f"{x:,}", f"{y:,}"))
            differs.append(f"{label} {fx} against {fy}" + (f" {unit}" if unit else ""))
    reason = (f"{best} and {runner} are equal within the materiality ({materiality_share:.0%} of the NPV, "
              f"{threshold / 1e6:,.1f} M USD): {best} is {gap / 1e6:,.1f} M USD ahead; they differ in "
              + ("; ".join(differs) if differs else "nothing the summary shows"))
    return Recommendation(scenario=best, reason=reason, equal_to=[runner])

"""Summaries and the bill of materials, derived from a solved :class:`Result`."""

from __future__ import annotations

from typing import Any

import numpy as np

from planner import __version__
from planner.energy.economics import HOURS_PER_YEAR, irr, npv, payback_years
from planner.model.optimize import Result, Status, ai_load_mw, facility_mw, outcome
from planner.parts.catalog import Catalog

BOM_COLUMNS = [
    "scenario", "category", "part", "description", "quantity", "unit_cost_usd",
    "extended_cost_usd", "unit_power_w", "extended_power_w", "source", "power_basis",
]


# The summary's rows for tables: (label, summary key, format)
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


def in_label_unit(value, kind: str):
    """A summary value in the unit its SUMMARY_ROWS label names (M USD for "musd")."""
    return value / 1e6 if kind == "musd" and isinstance(value, int | float) else value


def format_cell(value, kind: str) -> str:
    """A summary value as the tables show it, in its label's unit."""
    if value is None:
        return "-"
    if kind == "musd":
        return f"{value / 1e6:,.1f}"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "f1":
        return f"{value:,.1f}"
    if kind == "f2":
        return f"{value:,.2f}"
    if kind == "dict":
        return ", ".join(f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}"
                         for k, v in value.items() if v) or "0"
    return str(value)


def miner_running(result: Result) -> dict[str, np.ndarray]:
    """Miners running beside the AI in each step (the dispatch, or all kept ones)."""
    inp = result.inputs
    steps = inp.profile.steps
    return {b.key: result.running.get(b.key, np.full(steps, float(result.miners_with_ai.get(b.key, 0))))
            for b in inp.miners}


def yearly_mining(result: Result) -> dict[str, float]:
    """Revenue, energy (MWh), energy cost and fixed opex of the miners beside the AI, a year."""
    inp = result.inputs
    hours, price = inp.profile.hours, inp.profile.price_usd_per_mwh
    out = {"revenue": 0.0, "energy_mwh": 0.0, "energy_cost": 0.0, "opex": 0.0, "hash_hours": 0.0}
    running = miner_running(result)
    for b in inp.miners:
        run = running[b.key]
        out["revenue"] += float((run * hours).sum()) * b.revenue_usd_per_hour
        energy = run * hours * b.facility_mw
        out["energy_mwh"] += float(energy.sum())
        out["energy_cost"] += float((energy * price).sum())
        out["opex"] += 12 * b.opex_usd_per_month * result.miners_with_ai.get(b.key, 0)
        out["hash_hours"] += float((run * hours).sum()) * b.hashrate_ths
    return out


def _mining_month(result: Result, period: str) -> tuple[float, float]:
    """(revenue at today's hashprice, energy and fixed opex) of the kept miners, per month."""
    inp = result.inputs
    hours, price = inp.profile.hours, inp.profile.price_usd_per_mwh
    revenue = cost = 0.0
    running = miner_running(result) if period != "before" else {}
    for b in inp.miners:
        if period == "before":
            kept = result.miners_before.get(b.key, 0)
            run = result.running_before.get(b.key) if result.running_before else None
            if run is None:
                run = np.where(b.margin_usd_per_hour(price) > 0, float(kept), 0.0)
        else:
            kept = result.miners_with_ai.get(b.key, 0)
            run = running[b.key]
        revenue += b.revenue_usd_per_hour * float((run * hours).sum()) / 12
        cost += float((b.facility_mw * run * hours * price).sum()) / 12 + b.opex_usd_per_month * kept
    return revenue, cost


def miners_capex(result: Result) -> float:
    """Price of the new miners bought."""
    inp = result.inputs
    return sum(b.unit_cost_usd * inp.bought(b, result.miners_before, result.miners_with_ai) for b in inp.miners)


def extra_capex(result: Result) -> float:
    """Capex outside the cluster option: new miners and a grid expansion."""
    return miners_capex(result) + (result.inputs.expansion_usd if result.expanded else 0.0)


def moves_cost(result: Result) -> float:
    """Cost of moving miners out of the halls the AI takes (paid at the AI start)."""
    return result.inputs.move_usd_per_miner * sum(result.miners_moved.values())


def facility_rows(result: Result) -> list[dict[str, Any]]:
    """BOM rows of the facility: the cooling conversion of each converted hall, the shell,
    cooling and electrical capex, and the miners moved out of the AI halls."""
    inp, opt = result.inputs, result.option
    rows = []

    def row(part: str, description: str, usd: float, source: str, quantity: int = 1) -> None:
        rows.append({"scenario": inp.scenario, "category": "facility", "part": part, "description": description,
                     "quantity": quantity, "unit_cost_usd": usd / quantity if quantity else None,
                     "extended_cost_usd": usd, "unit_power_w": None, "extended_power_w": None, "source": source})

    by_name = {b.name: b for b in inp.halls}
    for h in opt.halls:
        if h.use == "converted":
            row("cooling-conversion", f"cooling conversion of {h.name} to {by_name[h.name].conversion.cooling} "
                f"for {h.it_w / 1e6:.3f} MW of AI IT load", h.conversion_usd,
                "site file buildings.*.conversion.usd_per_mw")
    facility = opt.capex_usd["facility"]
    if facility:
        where = f" in {', '.join(f'{h.name} ({h.use})' for h in opt.halls)}" if opt.halls else ""
        own = any(by_name[h.name].facility_usd_per_mw is not None for h in opt.halls)
        row(f"{inp.kind}-facility", f"{inp.kind} shell, cooling and electrical for "
            f"{opt.it_power_w / 1e6:.3f} MW of AI IT load{where}", facility,
            "site file scenarios.*.facility_usd_per_mw" + (" and buildings.*.facility_usd_per_mw" if own else ""))
    moved = sum(result.miners_moved.values())
    if moved:
        row("miner-move", "miners moved out of the halls the AI takes to free miner positions",
            moves_cost(result), "site file fleet.move_usd_per_miner", moved)
    return rows


def cash_flows(result: Result) -> list[float]:
    """Monthly cash flows of the chosen plan.

    Month 0: -capex + salvage of miners not kept. Then the AI lease margin from the AI
    start; miners' margins while they run (before the AI: every step that pays, or as
    dispatched when the capacity varies; beside it: as dispatched), their revenue scaled
    month by month by the hashprice path (network growth, halvings); and the salvage of
    miners retired at the AI start.
    """
    inp, opt = result.inputs, result.option
    start, horizon = min(inp.ai_start_month, inp.horizon_months), inp.horizon_months
    before, with_ai = result.miners_before, result.miners_with_ai
    sold_now = sum(b.salvage_usd * (b.count - before.get(b.key, 0)) for b in inp.miners if not b.new)
    flows = [0.0] * (horizon + 1)
    flows[0] = -(opt.capex_total_usd + extra_capex(result) - sold_now)
    ai = inp.ai_margin_usd_per_month(opt) if opt.servers else 0.0
    pre, post = _mining_month(result, "before"), _mining_month(result, "after")
    for m in range(horizon):
        revenue, cost = pre if m < start else post
        flows[m + 1] += revenue * inp.revenue_factor(m) - cost + (ai if m >= inp.ai_start_month else 0.0)
    flows[start] += sum(b.salvage_usd * (before.get(b.key, 0) - with_ai.get(b.key, 0)) for b in inp.miners
                        if inp.miners_before_ai or not b.new)
    flows[start] -= moves_cost(result)
    return flows


def redispatch_uplift(result: Result) -> float | None:
    """What re-dispatching the kept miners month by month would add to the NPV, USD.

    The plan runs one dispatch of the price year in every year (its value follows the
    hashprice path, but the steps in which a miner runs do not). Here, with the same AI
    load and the same kept miners, each month m is dispatched again at its own hashprice:
    in each step the blocks run in order of margin per MW while the headroom lasts,

        run_bt(m) = min(x1_b, headroom left / u_bt)   if  R_b f(m) > u_bt p_t,  else 0

    which is the best dispatch of that month (a fractional knapsack per step). The sum of
    the discounted monthly gains over the plan's dispatch is >= 0, and 0 when the
    hashprice does not change (no growth, no halving). None without a dispatch.
    """
    from planner.energy.economics import monthly_rate

    inp = result.inputs
    if result.status is not Status.OPTIMAL or not result.running or not inp.miners_with_ai:
        return None
    p = inp.profile
    ai = ai_load_mw(inp, result.option)
    caps = p.capacity_mw + (inp.expansion_mw if result.expanded else 0.0)
    rm = monthly_rate(inp.discount_rate)
    start = min(inp.ai_start_month, inp.horizon_months)
    uplift = 0.0
    for m in range(start, inp.horizon_months):
        f = inp.revenue_factor(m)
        left = np.maximum(caps - ai, 0.0)
        margins = {b.key: b.revenue_usd_per_hour * f - b.facility_mw * p.price_usd_per_mwh for b in inp.miners}
        best = np.zeros(p.steps)
        # in each step, the blocks by margin per MW, best first
        per_mw = np.array([np.broadcast_to(margins[b.key] / b.facility_mw, (p.steps,)) for b in inp.miners])
        ranks = np.argsort(-per_mw, axis=0)
        for rank in ranks:
            for i, b in enumerate(inp.miners):
                sel = (rank == i) & (margins[b.key] > 0)
                run = np.minimum(float(result.miners_with_ai.get(b.key, 0)), left / b.facility_mw) * sel
                best += run * margins[b.key]
                left = left - run * b.facility_mw
        plan = sum(result.running[b.key] * margins[b.key] for b in inp.miners)
        uplift += (1 + rm) ** -(m + 1) * float(((best - plan) * p.hours).sum()) / 12
    return uplift


def dispatch_frame(result: Result):
    """Per step: price, AI load, miner load, grid import and capacity (MW), one row per step
    as a pandas DataFrame built from the arrays (a year of 15-minute steps is 35,040 rows)."""
    import pandas as pd

    if result.status is not Status.OPTIMAL:
        return pd.DataFrame(columns=DISPATCH_COLUMNS)
    inp = result.inputs
    steps = inp.profile.steps
    ai = np.broadcast_to(ai_load_mw(inp, result.option), (steps,)).astype(float)
    running = miner_running(result)
    miners = sum(b.facility_mw * running[b.key] for b in inp.miners) if inp.miners else np.zeros(steps)
    miners = np.broadcast_to(miners, (steps,)).astype(float)
    return pd.DataFrame({
        "scenario": inp.scenario, "step": list(inp.profile.labels),
        "hours_per_year": np.round(np.broadcast_to(inp.profile.hours, (steps,)).astype(float), 6),
        "price_usd_per_mwh": np.broadcast_to(inp.profile.price_usd_per_mwh, (steps,)).astype(float),
        "ai_load_mw": np.round(ai, 6), "miner_load_mw": np.round(miners, 6),
        "grid_import_mw": np.round(ai + miners, 6),
        "grid_capacity_mw": np.broadcast_to(inp.profile.capacity_mw, (steps,)).astype(float)
        + (inp.expansion_mw if result.expanded else 0.0),
    }, columns=DISPATCH_COLUMNS)


DISPATCH_COLUMNS = ["scenario", "step", "hours_per_year", "price_usd_per_mwh", "ai_load_mw", "miner_load_mw",
                    "grid_import_mw", "grid_capacity_mw"]


def _option_memo(result: Result, catalog: Catalog):
    """The chosen option's memo with its floor plan laid out, once per option (the summary,
    the BOM and the plots all ask, and the re-solves of the TUI and the variants of a sweep
    reuse the options while their halls, routes and cabling stay the same: see
    inputs.options_key); None without halls or without a cluster."""
    opt = result.option
    if result.status is not Status.OPTIMAL or not opt or not opt.servers or not result.inputs.halls:
        return None
    if opt.memo.layout is None:
        from planner.network.layout import lay_out

        inp = result.inputs
        opt.memo.layout = lay_out(catalog, opt.server, opt.fabric.shape, inp.halls_for(opt), inp.routes,
                                  inp.cabling)
    return opt.memo


def layout_for(result: Result, catalog: Catalog):
    """The floor plan of the chosen cluster (None without halls or without a cluster)."""
    memo = _option_memo(result, catalog)
    return None if memo is None else memo.layout


def layout_summary(result: Result, catalog: Catalog) -> dict[str, Any] | None:
    """Racks by role, rack positions, cable lengths by tier and campus trunks (worked out
    once per cluster option and catalog; a copy is returned)."""
    import copy

    memo = _option_memo(result, catalog)
    if memo is None:
        return None
    found = next((s for cat, s in memo.summaries if cat is catalog), None)
    if found is None:
        found = _layout_summary(result, catalog, memo.layout)
        memo.summaries.append((catalog, found))
    return copy.deepcopy(found)


def _layout_summary(result: Result, catalog: Catalog, lay) -> dict[str, Any]:
    from collections import Counter

    from planner.network.layout import campus_trunks, structured_cabling

    roles = Counter(r["role"] for r in lay.racks)
    fab = result.option.fabric
    return {
        "halls": [f"{b.name} ({b.cooling})" for b in result.inputs.halls_for(result.option)],
        "racks": dict(sorted(roles.items())),
        "rack_positions": lay.slots_total,
        "rack_positions_used": lay.slots_used,
        "cable_lengths": {t: {"links": int(lay.lengths[t].size), "max_m": round(lay.max_length(t) or 0, 2),
                              "medium": fab.media[t].optic_class, "histogram": lay.histogram(t)}
                          for t in ("node_leaf", "leaf_spine", "spine_core") if lay.lengths[t].size},
        "campus_trunks": campus_trunks(lay, {t: m.fibers_per_link for t, m in fab.media.items()},
                                       result.inputs.routes),
        "structured_cabling": structured_cabling(lay, fab.shape, fab, catalog),
    }


def cable_rows_by_length(result: Result, catalog: Catalog) -> list[tuple[str, str, float, int, int]]:
    """(tier, cable kind, length m, cables, fibres per cable) from the floor plan.

    Lengths are rounded up to the next stock length where the catalog gives stock lengths
    for the cable, else to the next whole metre. Cables per length follow the links per
    length; the tier's cable total is kept exactly.
    """
    import math

    import numpy as np

    lay = layout_for(result, catalog)
    fab = result.option.fabric
    out = []
    for tier, media in fab.media.items():
        if not media.cables:
            continue
        if lay is None or not lay.lengths[tier].size:
            out.append((tier, media.cable_kind, float("nan"), media.cables, media.fibers_per_link))
            continue
        stock = sorted(catalog.optics[media.cable_kind].lengths_m) if media.cable_kind in catalog.optics else []
        lengths = lay.lengths[tier]
        if tier != "node_leaf" and media.optic_class not in ("dac", "acc", "aec"):
            lengths = lengths[lay.same_room[tier]]  # the rest run over trunks (structured cabling)
            if not lengths.size:
                continue

        def rounded(x: float, stock=stock) -> float:
            fit = [s for s in stock if s >= x - 1e-9]
            return float(fit[0]) if fit else float(math.ceil(x - 1e-9))

        values, counts = np.unique([rounded(x) for x in lengths], return_counts=True)
        total_links = lengths.size
        total_cables = round(media.cables * total_links / media.links)
        assigned = 0
        for i, (length, links) in enumerate(zip(values.tolist(), counts.tolist(), strict=True)):
            n = total_cables - assigned if i == len(values) - 1 else round(links * total_cables / total_links)
            assigned += n
            if n:
                out.append((tier, media.cable_kind, length, n, media.fibers_per_link * media.links // media.cables))
    return out


def other_networks(result: Result, catalog: Catalog) -> dict[str, Any]:
    """Out-of-band management for the AI servers and fabric switches, and the miners'
    access network (one port per miner on 48-port access switches)."""
    from planner.network.access import ACCESS_SWITCH, access_network, miner_endpoints, oob_endpoints

    out: dict[str, Any] = {}
    opt = result.option
    if opt.servers:
        endpoints = oob_endpoints(catalog, opt.server, opt.servers,
                                  sum(opt.fabric.switches.values()))
        out["oob"] = access_network(catalog, "oob", endpoints, ACCESS_SWITCH).as_dict()
    names = {b.key: b.name or b.key for b in result.inputs.miners}
    fleet: dict[str, int] = {}
    for k, v in result.miners_with_ai.items():
        fleet[names[k]] = fleet.get(names[k], 0) + max(v, result.miners_before.get(k, 0))
    miners = miner_endpoints(catalog, fleet)
    if miners:
        out["mining_access"] = access_network(catalog, "mining", miners, ACCESS_SWITCH).as_dict()
    return out



def plan_parts(result: Result) -> list[str]:
    """Keys of the powered parts the chosen plan buys or keeps running: server, switches,
    modules, the access switches and the miners."""
    from planner.network.access import ACCESS_SWITCH

    inp, opt = result.inputs, result.option
    keys: set[str] = set()
    if opt.servers:
        fab = opt.fabric
        keys |= {opt.server, ACCESS_SWITCH} | {fab.switch_models[r] for r, n in fab.switches.items() if n}
        keys |= {end.part for m in fab.media.values() for end in (m.lower, m.upper)
                 if end.kind in ("module", "copper") and end.units}
    for b in inp.miners:
        if result.miners_with_ai.get(b.key, 0) or result.miners_before.get(b.key, 0):
            keys |= {b.name or b.key, ACCESS_SWITCH}
    return sorted(keys)


def scenario_summary(result: Result, catalog: Catalog) -> dict[str, Any]:
    """The per-scenario block of summary.json (keys per DESIGN.md)."""
    inp = result.inputs
    base: dict[str, Any] = {
        "status": str(result.status),
        "kind": inp.kind,
        "grid_capacity_mw": inp.capacity_mw,
        "solve_seconds": round(result.solve_seconds, 4),
    }
    if result.status is not Status.OPTIMAL:
        base["binding_constraints"] = result.infeasibility
        base["solver_status"] = result.solver_status
        base["message"] = outcome(result)
        return base
    opt = result.option
    figures = {k: inp.power[k].doc() for k in plan_parts(result) if k in inp.power}
    before_kept = result.miners_before
    steady_miners = result.miners_with_ai
    with_ai, before = facility_mw(inp, result.option_index, before_kept, steady_miners, result.running)
    miner_it_w = sum((b.power_w + b.network_w) * steady_miners.get(b.key, 0) for b in inp.miners)
    it_mw = (opt.it_power_w + miner_it_w) / 1e6
    ai_energy = inp.ai_energy_mwh_year(opt)
    mining = yearly_mining(result)
    energy = ai_energy + mining["energy_mwh"]
    revenue_ai = opt.gpus * inp.lease_usd_per_gpu_hour * inp.utilization * inp.ai_hours_year(opt)
    hashrate = sum(b.hashrate_ths * steady_miners.get(b.key, 0) for b in inp.miners)
    revenue_btc = mining["revenue"]
    fixed = opt.it_power_w / 1e6 * inp.ai_opex_usd_per_mw_year + mining["opex"]
    energy_cost = inp.ai_energy_cost_year(opt) + mining["energy_cost"]
    flows = cash_flows(result)
    fab = opt.fabric
    first = 0 if any(before_kept.values()) or (any(steady_miners.values()) and not inp.ai_start_month) \
        else (inp.ai_start_month if opt.servers or any(steady_miners.values()) else None)
    rate = irr(flows)
    base.update({
        "gpus": opt.gpus,
        "gpu_servers": opt.servers,
        "server": opt.server or inp.server_key,
        "optics": opt.optics,
        "miners": sum(steady_miners.values()),
        "miners_by_model": dict(sorted(steady_miners.items())),
        "miners_before_ai": sum(before_kept.values()),
        "hashrate_ths": hashrate,
        "it_power_mw": round(it_mw, 6),
        "facility_power_mw": round(with_ai, 6),
        "facility_power_before_ai_mw": round(before, 6),
        "energy_mwh_per_year": round(energy, 3),
        "capex_usd": round(opt.capex_total_usd + extra_capex(result) + moves_cost(result), 2),
        "capex_breakdown_usd": {**{k: round(v, 2) for k, v in opt.capex_usd.items()},
                                "new_miners": round(miners_capex(result), 2),
                                "grid_expansion": round(inp.expansion_usd if result.expanded else 0.0, 2),
                                "miner_moves": round(moves_cost(result), 2)},
        "grid_expansion_mw": inp.expansion_mw if result.expanded else 0.0,
        "miners_bought": sum(inp.bought(b, result.miners_before, result.miners_with_ai) for b in inp.miners),
        "cooling": "converted" if opt.converts else "as built",
        "halls": [{"name": h.name, "use": h.use, "ai_it_mw": round(h.it_w / 1e6, 6)} for h in opt.halls],
        "hall_plan": opt.variant or "-",
        "miners_moved": sum(result.miners_moved.values()),
        "miner_positions_free": (sum(inp.hall_positions.values()) - inp.positions_taken(opt)
                                 if inp.miner_space else None),
        "ai_pue": opt.pue,
        "opex_usd_per_year": round(energy_cost + fixed, 2),
        "energy_cost_usd_per_year": round(energy_cost, 2),
        "mean_price_usd_per_mwh": round(inp.price_usd_per_mwh, 4),
        "price_profile": inp.profile.source,
        "price_coverage": inp.profile.coverage.as_dict() if inp.profile.coverage else None,
        "redispatch_uplift_usd": None if (up := redispatch_uplift(result)) is None else round(up, 2),
        "miner_utilisation": round(mining["hash_hours"] / (hashrate * HOURS_PER_YEAR), 6) if hashrate else None,
        "revenue_usd_per_year": round(revenue_ai + revenue_btc, 2),
        "npv_usd": round(npv(flows, inp.discount_rate), 2),
        "irr": None if rate is None else round(rate, 6),
        "payback_years": payback_years(flows),
        "months_to_first_revenue": first,
        "hashprice_usd_per_th_day": round(inp.hashprice_usd_per_th_day, 6),
        "tiers": fab.tiers if fab else 0,
        "switches": dict(fab.switches) if fab else {"leaf": 0, "spine": 0, "core": 0},
        "links": dict(fab.links) if fab else {"node_leaf": 0, "leaf_spine": 0, "spine_core": 0},
        "transceivers": fab.transceivers if fab else {},
        "cables": fab.cables if fab else {},
        "fibers": fab.fibers if fab else 0,
        "mpo_connectors": fab.mpo_connectors if fab else {},
        "networks": other_networks(result, catalog),
        "layout": layout_summary(result, catalog),
        "binding_constraints": result.binding,
        "warnings": list(inp.warnings) + [
            f"{k}: power is an estimate, {f['watts']:,.6g} W per unit (basis in power_figures; set your own "
            "under [power_w])" for k, f in figures.items() if f["kind"] == "estimate"],
        "power_figures": figures,
        "ai_hours_shed_per_year": round(HOURS_PER_YEAR - inp.ai_hours_year(opt), 3) if opt.servers else 0.0,
        "workload_gpus": inp.workload_gpus,
    })
    return base


def summary(site_name: str, results: dict[str, Result], catalog: Catalog, solver: str) -> dict:
    """The whole summary.json document, with a recommendation."""
    scenarios = {name: scenario_summary(r, catalog) for name, r in results.items()}
    share = next((r.inputs.materiality_share for r in results.values()), 0.01)
    return {
        "site": site_name,
        "planner_version": __version__,
        "solver": solver,
        "scenarios": scenarios,
        "recommendation": recommend(scenarios, share),
    }


# what to compare when two plans' NPVs are equal within the materiality: (label, key, unit)
TIE_BREAKERS = (("months to first revenue", "months_to_first_revenue", ""), ("capex", "capex_usd", "M USD"),
                ("GPUs", "gpus", ""), ("miners kept", "miners", ""))


def recommend(scenarios: dict[str, dict], materiality_share: float = 0.01) -> dict[str, Any]:
    """The feasible scenario with the highest NPV, and why. When the runner-up is within
    the materiality (a share of the larger NPV's magnitude, ``economics.materiality_share``)
    the two are reported as equal, with what differs between them instead of a winner."""
    ok = {n: s for n, s in scenarios.items() if s["status"] == Status.OPTIMAL}
    if not ok:
        if all(s["status"] == Status.INFEASIBLE for s in scenarios.values()):
            return {"scenario": None, "reason": "no scenario is feasible"}
        return {"scenario": None, "reason": "no scenario has a plan: " + ", ".join(
            f"{n} {s['status']}" for n, s in scenarios.items())}
    best = max(ok, key=lambda n: ok[n]["npv_usd"])
    others = [n for n in ok if n != best]
    reason = f"highest NPV: {ok[best]['npv_usd'] / 1e6:,.1f} M USD"
    if not others:
        return {"scenario": best, "reason": reason, "equal_to": []}
    runner = max(others, key=lambda n: ok[n]["npv_usd"])
    a, b = ok[best]["npv_usd"], ok[runner]["npv_usd"]
    gap, threshold = a - b, materiality_share * max(abs(a), abs(b))
    if gap >= threshold:
        return {"scenario": best, "reason": reason + f", {gap / 1e6:,.1f} M USD above {runner}", "equal_to": []}
    differs = []
    for label, key, unit in TIE_BREAKERS:
        x, y = ok[best].get(key), ok[runner].get(key)
        if x != y and x is not None and y is not None:
            fx, fy = ((f"{x / 1e6:,.1f}", f"{y / 1e6:,.1f}") if unit == "M USD" else (f"{x:,}", f"{y:,}"))
            differs.append(f"{label} {fx} against {fy}" + (f" {unit}" if unit else ""))
    reason = (f"{best} and {runner} are equal within the materiality ({materiality_share:.0%} of the NPV, "
              f"{threshold / 1e6:,.1f} M USD): {best} is {gap / 1e6:,.1f} M USD ahead; they differ in "
              + ("; ".join(differs) if differs else "nothing the summary shows"))
    return {"scenario": best, "reason": reason, "equal_to": [runner]}


def bom_rows(result: Result, catalog: Catalog) -> list[dict[str, Any]]:
    """One row per part of the chosen plan; quantities equal the fabric's counts."""
    if result.status is not Status.OPTIMAL:
        return []
    inp, opt = result.inputs, result.option
    rows: list[dict[str, Any]] = []

    def part_row(category: str, key: str, qty: float, description: str, powered: bool = True,
                 unit_cost: float | None = None, basis: str | None = None) -> None:
        if qty <= 0:
            return
        power = inp.power.get(key) if powered else None
        power_w = power.watts if power else None
        entry = catalog.find(key)
        spec = entry.item.source if entry else ""
        if unit_cost is None and key in inp.prices:
            unit_cost, basis = inp.prices[key].unit_cost_usd, inp.prices[key].basis
        source = f"spec: {spec}" + (f"; price: {basis}" if basis else "")
        rows.append({
            "scenario": inp.scenario, "category": category, "part": key,
            "description": description, "quantity": qty,
            "unit_cost_usd": unit_cost, "extended_cost_usd": None if unit_cost is None else unit_cost * qty,
            "unit_power_w": power_w, "extended_power_w": None if power_w is None else power_w * qty,
            "source": source, "power_basis": power.basis if power else None,
        })

    if opt.servers:
        server = catalog.servers[opt.server]
        part_row("gpu_server", server.key, opt.servers, f"{server.vendor} {server.model}")
        fab = opt.fabric
        for tier, n in fab.switches.items():
            if n:
                sw = catalog.switches[fab.switch_models[tier]]
                part_row("switch", sw.key, n, f"{tier} switch: {sw.vendor} {sw.model}")
        for key, n in fab.transceivers.items():
            o = catalog.optics[key]
            part_row("transceiver", key, n, f"{o.vendor} {o.model}")
        from planner.network.layout import cable_price, trunk_price

        for tier, kind, length, n, fibers in cable_rows_by_length(result, catalog):
            known = length == length  # NaN without a floor plan
            priced = cable_price(catalog, fab.media[tier], length)
            rows.append({
                "scenario": inp.scenario, "category": "cable", "part": kind,
                "description": f"{tier.replace('_', '-')} cable, {fibers} fibres lit, "
                               + (f"{length:g} m" if known else "length not modelled (no halls in the site)")
                               + ("" if priced is None else "; priced after the solve, not in the plan's capex"),
                "quantity": n, "unit_cost_usd": priced[0] if priced else None,
                "extended_cost_usd": priced[0] * n if priced else None,
                "unit_power_w": None, "extended_power_w": None,
                "source": "fabric count and floor plan" + (f"; price: {priced[1]}" if priced else
                                                           "; no cable price (length or a figure missing)"),
            })
        lay_doc = layout_summary(result, catalog)
        lay = layout_for(result, catalog) if lay_doc else None
        for sc in (lay_doc or {}).get("structured_cabling", []):
            tier = sc["tier"].replace("_", "-")
            across = lay.lengths[sc["tier"]][~lay.same_room[sc["tier"]]] if lay is not None else []
            mean = float(np.mean(across)) if len(across) else float("nan")
            for key, qty, what in ((sc["trunk"], sc["trunks"], f"{tier} MPO trunk between rooms"),
                                   (sc["panel"], sc["panels"], f"{tier} patch panel (both ends of each trunk)")):
                if key and qty:
                    priced = trunk_price(catalog, key, mean) if key == sc["trunk"] else catalog.unit_cost(key)
                    note = "; priced after the solve, not in the plan's capex" if priced else ""
                    part_row("structured_cabling", key, qty, f"{what}; {sc['lit_fibers']:,} lit fibres{note}",
                             False, priced[0] if priced else None,
                             priced[1] if priced else "no price in the catalog")
            rows.append({
                "scenario": inp.scenario, "category": "structured_cabling", "part": f"jumper-{sc['jumper_connector']}",
                "description": f"{tier} jumper, switch port to patch panel (2 per link leaving its row)",
                "quantity": sc["jumpers"], "unit_cost_usd": None, "extended_cost_usd": None,
                "unit_power_w": None, "extended_power_w": None, "source": "floor plan",
            })
        if result.expanded:
            rows.append({
                "scenario": inp.scenario, "category": "electrical", "part": "grid-expansion",
                "description": f"transformer or substation addition, +{inp.expansion_mw:g} MW",
                "quantity": 1, "unit_cost_usd": inp.expansion_usd, "extended_cost_usd": inp.expansion_usd,
                "unit_power_w": None, "extended_power_w": None, "source": "site file grid.expansion",
            })
        rows += facility_rows(result)
    for name, net in other_networks(result, catalog).items():
        key, n = net["access_switch"], net["access_switches"]
        sw = catalog.switches[key]
        if name == "mining_access":
            part_row(f"switch_{name}", key, n, f"miner access switch: {sw.vendor} {sw.model} (existing, "
                     f"{net['uplinks']} x {net['uplink_gbps']:g}G uplinks to the site aggregation)",
                     True, 0.0, "existing network")
        else:
            part_row(f"switch_{name}", key, n, f"out-of-band access switch: {sw.vendor} {sw.model} "
                     f"({net['uplinks']} x {net['uplink_gbps']:g}G uplinks to the site aggregation; "
                     "not in the plan's capex)", True, None,
                     "no price in the catalog")
    for b in inp.miners:
        m = catalog.miners[b.name or b.key]
        kept = result.miners_with_ai.get(b.key, 0)
        until = result.miners_before.get(b.key, 0) - kept
        if b.new:
            basis = inp.prices[m.key].basis if m.key in inp.prices else None
            part_row("miner_new", m.key, inp.bought(b, result.miners_before, result.miners_with_ai),
                     f"{m.vendor} {m.model} (new, bought now)", True, b.unit_cost_usd, basis)
            continue
        part_row("miner", m.key, kept, f"{m.vendor} {m.model} (existing, kept beside the AI)",
                 True, 0.0, "existing fleet")
        part_row("miner_retired", m.key, until,
                 f"{m.vendor} {m.model} (existing, runs until the AI start, then retired)",
                 False, 0.0, "existing fleet")
    rows.sort(key=lambda r: (r["scenario"], r["category"], r["part"]))
    return rows

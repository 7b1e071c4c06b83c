"""What a solved plan does, re-derived from its result for the summary, the BOM and the
figures: miners running per step, mining yields, cash flows, the dispatch per step, the
re-dispatch check, and the chosen cluster's floor plan (laid out once per option: the
option's memo), cable lengths and other networks.

Why over 450 lines: the plan's physics for every output (dispatch, cash-flow terms, floor
plan, cable lengths, other networks) in one place, each re-derived from the Result; split
by output it would repeat the floor-plan memo and the dispatch arrays."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.constants import MONTHS_PER_YEAR, W_PER_MW
from planner.model.optimize import Result, Status, ai_load_mw, miner_running
from planner.outputs.csv_columns import mw_column
from planner.outputs.records import BomRow
from planner.parts.catalog import Catalog

if TYPE_CHECKING:
    import pandas as pd

    from planner.model.scenario import ClusterOption, OptionMemo
    from planner.network.campus import CampusLinks
    from planner.network.fabric import FabricCounts
    from planner.network.layout import Layout


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
        out["opex"] += MONTHS_PER_YEAR * b.opex_usd_per_month * result.miners_with_ai.get(b.key, 0)
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
        revenue += b.revenue_usd_per_hour * float((run * hours).sum()) / MONTHS_PER_YEAR
        cost += float((b.facility_mw * run * hours * price).sum()) / MONTHS_PER_YEAR + b.opex_usd_per_month * kept
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


def facility_rows(result: Result) -> list[BomRow]:
    """BOM rows of the facility: the cooling conversion of each converted hall, the shell,
    cooling and electrical capex, and the miners moved out of the AI halls."""
    inp, opt = result.inputs, result.chosen
    rows: list[BomRow] = []

    def row(part: str, description: str, usd: float, source: str, quantity: int = 1) -> None:
        rows.append(BomRow(scenario=inp.scenario, category="facility", part=part, description=description,
                           quantity=quantity, unit_cost_usd=usd / quantity if quantity else None,
                           extended_cost_usd=usd, unit_power_w=None, extended_power_w=None, source=source))

    by_name = {b.name: b for b in inp.halls}
    for h in opt.halls:
        conversion = by_name[h.name].conversion
        if h.use == "converted" and conversion is not None:  # a hall is converted only when it has a conversion
            row("cooling-conversion", f"cooling conversion of {h.name} to {conversion.cooling} "
                f"for {h.it_w / W_PER_MW:.3f} MW of AI IT load", h.conversion_usd,
                "site file buildings.*.conversion.usd_per_mw")
    facility = opt.capex_usd["facility"]
    if facility:
        where = f" in {', '.join(f'{h.name} ({h.use})' for h in opt.halls)}" if opt.halls else ""
        own = any(by_name[h.name].facility_usd_per_mw is not None for h in opt.halls)
        row(f"{inp.kind}-facility", f"{inp.kind} shell, cooling and electrical for "
            f"{opt.it_power_w / W_PER_MW:.3f} MW of AI IT load{where}", facility,
            "site file scenarios.*.facility_usd_per_mw" + (" and buildings.*.facility_usd_per_mw" if own else ""))
    moved = sum(result.miners_moved.values())
    if moved:
        row("miner-move", "miners moved out of the halls the AI takes to free miner positions",
            moves_cost(result), "site file fleet.move_usd_per_miner", moved)
    return rows


def cash_flows(result: Result) -> list[float]:
    """Monthly cash flows of the chosen plan.

    Month 0: -capex + salvage of miners not kept. Then the AI lease margin from the AI
    start (for a host: the contract's expected flows, host capex at month 0); miners'
    margins while they run (before the AI: every step that pays, or as
    dispatched when the capacity varies; beside it: as dispatched), their revenue scaled
    month by month by the hashprice path (network growth, halvings); and the salvage of
    miners retired at the AI start.
    """
    inp, opt = result.inputs, result.chosen
    start, horizon = min(inp.ai_start_month, inp.horizon_months), inp.horizon_months
    before, with_ai = result.miners_before, result.miners_with_ai
    sold_now = sum(b.salvage_usd * (b.count - before.get(b.key, 0)) for b in inp.miners if not b.new)
    flows = [0.0] * (horizon + 1)
    own = opt.capex_total_usd if inp.hosting is None else 0.0  # a host's capex is in its contract's flows
    flows[0] = -(own + extra_capex(result) - sold_now)
    ai = inp.ai_margin_usd_per_month(opt) if opt.servers and inp.hosting is None else 0.0
    pre, post = _mining_month(result, "before"), _mining_month(result, "after")
    for m in range(horizon):
        revenue, cost = pre if m < start else post
        flows[m + 1] += revenue * inp.revenue_factor(m) - cost + (ai if inp.ai_start_month <= m < inp.gpu_end_month
                                                                   else 0.0)
    flows[start] += sum(b.salvage_usd * (before.get(b.key, 0) - with_ai.get(b.key, 0)) for b in inp.miners
                        if inp.miners_before_ai or not b.new)
    flows[start] -= moves_cost(result)
    if inp.phases:  # the phases' shares online before S, the miners retired then (outputs.phases)
        from planner.outputs.phases import phase_flows

        flows = phase_flows(result, flows, ai)
    if inp.hosting is None and opt.servers:
        flows[inp.gpu_end_month] += inp.gpu_resale_usd(opt)  # the owner's servers sold at the end of their life
    if inp.hosting is not None:  # the expected flows of the contract (planner.model.hosting)
        from planner.model.hosting import host_flows

        flows = [f + float(h) for f, h in zip(flows, host_flows(inp, opt), strict=True)]
    if inp.interim is not None:  # the AI on the interim supply before the grid start (model.interim)
        from planner.outputs.interim import interim_flows

        flows = [a + b for a, b in zip(flows, interim_flows(result), strict=True)]
    if inp.markets is not None:  # contracts, reserves, peak and demand charges (outputs.markets)
        from planner.outputs.markets import market_flows

        flows = [a + b for a, b in zip(flows, market_flows(result), strict=True)]
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
    if inp.markets is not None and inp.markets.per_step:  # the re-dispatch knows no reserves or peaks
        return None
    p = inp.profile
    ai = ai_load_mw(inp, result.chosen)
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
        uplift += (1 + rm) ** -(m + 1) * float(((best - plan) * p.hours).sum()) / MONTHS_PER_YEAR
    return uplift


def dispatch_arrays(result: Result) -> dict[str, np.ndarray] | None:
    """The dispatch's base columns per step as arrays (no pandas: a run of a one-step site
    draws its figures from these and never imports it); None without an optimal plan."""
    if result.status is not Status.OPTIMAL:
        return None
    inp = result.inputs
    steps = inp.profile.steps
    ai = np.broadcast_to(ai_load_mw(inp, result.chosen), (steps,)).astype(float)
    running = miner_running(result)
    miners = sum(b.facility_mw * running[b.key] for b in inp.miners) if inp.miners else np.zeros(steps)
    miners = np.broadcast_to(miners, (steps,)).astype(float)
    return {
        "step": np.array(list(inp.profile.labels)),
        "hours_per_year": np.round(np.broadcast_to(inp.profile.hours, (steps,)).astype(float), 6),
        "price_usd_per_mwh": np.broadcast_to(inp.profile.price_usd_per_mwh, (steps,)).astype(float),
        "ai_load_mw": mw_column(ai), "miner_load_mw": mw_column(miners),
        "grid_import_mw": mw_column(ai + miners),
        "grid_capacity_mw": np.broadcast_to(inp.profile.capacity_mw, (steps,)).astype(float)
        + (inp.expansion_mw if result.expanded else 0.0),
    }


def dispatch_table(result: Result) -> dict[str, np.ndarray]:
    """dispatch.csv's columns for one scenario, by name in order (no pandas): the scenario,
    :func:`dispatch_arrays`, and with power contracts or markets their columns
    (outputs.markets.dispatch_columns); every column empty without an optimal plan."""
    from planner.outputs.markets import dispatch_columns

    arrays = dispatch_arrays(result)
    if arrays is None:
        return {c: np.zeros(0) for c in DISPATCH_COLUMNS}
    steps = result.inputs.profile.steps
    return dispatch_columns(result, {"scenario": np.full(steps, result.inputs.scenario, dtype=object), **arrays})


def dispatch_frame(result: Result) -> pd.DataFrame:
    """Per step: price, AI load, miner load, grid import and capacity (MW), one row per step
    as a pandas DataFrame of :func:`dispatch_table` (a year of 15-minute steps is 35,040 rows)."""
    import pandas as pd

    table = dispatch_table(result)
    if not len(table["step"]):
        return pd.DataFrame(columns=DISPATCH_COLUMNS)
    return pd.DataFrame(table)


DISPATCH_COLUMNS = ["scenario", "step", "hours_per_year", "price_usd_per_mwh", "ai_load_mw", "miner_load_mw",
                    "grid_import_mw", "grid_capacity_mw"]


def _fabric(opt: ClusterOption) -> FabricCounts:
    """The fabric of an option with servers (the empty option has none)."""
    if opt.fabric is None:
        raise ValueError("the option without a cluster has no fabric")
    return opt.fabric


def _option_memo(result: Result, catalog: Catalog) -> OptionMemo | None:
    """The chosen option's memo with its floor plan laid out, once per option (the summary,
    the BOM and the plots all ask, and the re-solves of the TUI and the variants of a sweep
    reuse the options while their halls, routes and cabling stay the same: see
    inputs.options_key); None without halls or without a cluster."""
    opt = result.option
    if result.status is not Status.OPTIMAL or not opt or not opt.servers or not result.inputs.halls:
        return None
    if opt.memo.layout is None:
        from functools import reduce

        from planner.network.halls import hall_slots_of
        from planner.network.layout import lay_out_in
        from planner.site.schema import Cabling

        inp = result.inputs
        assert isinstance(inp.cabling, Cabling), "prepare() gives a scenario the site's cabling"
        halls = inp.halls_for(opt)
        # the rack positions the fitter found (one walk of each hall's geometry per run)
        slots = reduce(lambda a, b: a.then(b), [hall_slots_of(b, opt.memo.hall_slots) for b in halls])
        opt.memo.layout = lay_out_in(catalog, opt.server, _fabric(opt).shape, halls, inp.routes, inp.cabling,
                                     slots)
    return opt.memo


def layout_for(result: Result, catalog: Catalog) -> Layout | None:
    """The floor plan of the chosen cluster (None without halls or without a cluster)."""
    memo = _option_memo(result, catalog)
    return None if memo is None else memo.layout


def layout_summary(result: Result, catalog: Catalog) -> dict[str, Any] | None:
    """Racks by role, rack positions, cable lengths by tier and campus trunks (worked out
    once per cluster option and catalog; a copy is returned)."""
    import copy

    memo = _option_memo(result, catalog)
    if memo is None or memo.layout is None:  # _option_memo lays the plan out
        return None
    found = next((s for cat, s in memo.summaries if cat is catalog), None)
    if found is None:
        found = _layout_summary(result, catalog, memo.layout)
        memo.summaries.append((catalog, found))
    return copy.deepcopy(found)


def _layout_summary(result: Result, catalog: Catalog, lay: Layout | None) -> dict[str, Any]:
    from collections import Counter

    from planner.network.cabling import campus_trunks, fastest, structured_cabling

    if lay is None:
        raise ValueError("a layout summary needs the floor plan")  # layout_summary lays it out first
    roles = Counter(r["role"] for r in lay.racks)
    fab = _fabric(result.chosen)
    ic = result.chosen.interconnect
    return {
        "halls": [f"{b.name} ({b.cooling})" for b in result.inputs.halls_for(result.chosen)],
        "racks": dict(sorted(roles.items())),
        "rack_positions": lay.slots_total,
        "rack_positions_used": lay.slots_used,
        "cable_lengths": ({t: {"links": int(lay.lengths[t].size), "max_m": round(lay.max_length(t) or 0, 2),
                               "medium": fab.media[t].optic_class, "histogram": lay.histogram(t)}
                           for t in ("node_leaf", "leaf_spine", "spine_core") if lay.lengths[t].size}
                          if ic is None else _local_cable_lengths(lay, fab, ic)),
        "campus_trunks": campus_trunks(lay, {t: m.fibers_per_link for t, m in fab.media.items()}, result.inputs.routes,
                                       catalog=catalog, site_file=result.inputs.site, link_gbps=fastest(fab.media),
                                       sized=_campus_sized(result.chosen)),
        "structured_cabling": structured_cabling(lay, fab.shape, fab, catalog,
                                                 far=ic.far if ic is not None else None),
    }


def _local_cable_lengths(lay: Layout, fab: FabricCounts, ic: CampusLinks) -> dict[str, Any]:
    """cable_lengths when links ride a route's interconnect: each tier's cables are its links
    that stay on site (the far ones are counted apart, ``interconnect_links``: no tier cable)."""
    import numpy as np

    from planner.network.campus import local_links
    from planner.network.layout import length_histogram

    local = local_links(lay.links, ic.far)
    far = {t: sum(r.by_tier.get(t, 0) for r in ic.routes) for t in local}
    out: dict[str, Any] = {}
    for t in ("node_leaf", "leaf_spine", "spine_core"):
        tl = local.get(t)
        arr = np.repeat(tl.length_m, tl.links) if tl is not None else np.zeros(0)
        if not arr.size and not far.get(t):
            continue
        out[t] = {"links": int(arr.size), "max_m": round(float(arr.max()), 2) if arr.size else 0.0,
                  "medium": fab.media[t].optic_class, "histogram": length_histogram(arr)}
        if far.get(t):
            out[t]["interconnect_links"] = far[t]
    return out


def _campus_sized(option: ClusterOption) -> dict[tuple[str, str], dict] | None:
    """The option's interconnect per far route (priced before the solve), as campus_trunks shows it."""
    from planner.network.interconnect import interconnect_doc

    if option.interconnect is None:
        return None
    return {r.route.pair: {**interconnect_doc(r.sized), "crossing_links_by_tier": dict(r.by_tier)}
            for r in option.interconnect.routes}


def other_networks(result: Result, catalog: Catalog) -> dict[str, Any]:
    """Out-of-band management for the AI servers and fabric switches, and the miners'
    access network (one port per miner on 48-port access switches)."""
    from planner.network.access import access_network, miner_endpoints, oob_endpoints

    out: dict[str, Any] = {}
    opt = result.chosen
    if opt.servers:
        endpoints = oob_endpoints(catalog, opt.server, opt.servers,
                                  sum(_fabric(opt).switches.values()))
        out["oob"] = access_network(catalog, "oob", endpoints, catalog.access_switch).as_dict()
    names = {b.key: b.name or b.key for b in result.inputs.miners}
    fleet: dict[str, int] = {}
    for k, v in result.miners_with_ai.items():
        fleet[names[k]] = fleet.get(names[k], 0) + max(v, result.miners_before.get(k, 0))
    miners = miner_endpoints(catalog, fleet)
    if miners:
        out["mining_access"] = access_network(catalog, "mining", miners, catalog.access_switch).as_dict()
    return out


def site_plan(result: Result) -> dict[str, Any]:
    """What the floor plan draws beside the AI racks: every hall of the site that the plan
    leaves to other uses, with what stands in it after the AI start, and the duct banks.

    ``halls``: (name, outline in campus metres, use, label) for each hall the AI does not
    take: "miners" when the plan keeps miners beside the AI (the kept miners are shown
    filling the free halls' positions in the site's order of halls), else "idle" (its
    miners run until the AI start, then are sold). ``routes``: (from, to, polyline, length
    in m). ``miners_kept``: miners beside the AI."""
    inp, opt = result.inputs, result.option
    taken = {h.name for h in opt.halls} if opt is not None else set()
    kept = sum(result.miners_with_ai.values())
    before = sum(result.miners_before.values())
    left = kept
    halls = []
    for b in inp.halls:
        if b.name in taken or not b.polygon:
            continue
        ox, oy = b.origin
        ring = [(x + ox, y + oy) for x, y in b.polygon]
        positions = inp.hall_positions.get(b.name, 0)
        here = min(left, positions) if positions else 0
        left -= here
        if here:
            use, label = "miners", f"{b.name}: {here:,} miners beside the AI"
        elif before and positions:
            use, label = "idle", f"{b.name}: miners until the AI start only"
        else:
            use, label = "idle", f"{b.name}: unused"
        halls.append((b.name, ring, use, label))
    routes = []
    for r in inp.routes:
        pts = [(float(x), float(y)) for x, y in r.polyline]
        length = sum(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 for (x0, y0), (x1, y1) in pairwise(pts))
        routes.append((r.from_building, r.to_building, pts, length))
    return {"halls": halls, "routes": routes, "miners_kept": kept}


def monthly_power(result: Result) -> dict[str, np.ndarray]:
    """Grid import month by month over the horizon, MW, each month at the year's
    hour-weighted mean: before the AI start the miners kept until then (as dispatched, or
    every step that pays), from it the AI and the miners beside it; and the grid capacity
    (with the expansion from the AI start when it is bought). For profiles of a few steps
    (flat, time of use, seasonal) this is the picture of the plan over time."""
    inp = result.inputs
    hours = np.asarray(inp.profile.hours, dtype=float)
    weight = hours / hours.sum()
    price = inp.profile.price_usd_per_mwh
    start, horizon = min(inp.ai_start_month, inp.horizon_months), inp.horizon_months
    before = 0.0
    for b in inp.miners:
        run = result.running_before.get(b.key) if result.running_before else None
        if run is None:
            run = np.where(b.margin_usd_per_hour(price) > 0, float(result.miners_before.get(b.key, 0)), 0.0)
        before += float((b.facility_mw * run * weight).sum())
    running = miner_running(result)
    after = sum(float((b.facility_mw * running[b.key] * weight).sum()) for b in inp.miners)
    ai = float((np.broadcast_to(ai_load_mw(inp, result.option), hours.shape) * weight).sum()) \
        if result.option is not None else 0.0
    cap = float((inp.profile.capacity_mw * weight).sum())
    months = np.arange(horizon)
    on = months >= start
    if inp.phases and result.option is not None:  # the phases' shares online, the miners left running
        from planner.outputs.phases import phase_months_power

        ai_mw, miners_mw = phase_months_power(result, months, ai, before, after)
        return {"month": months, "ai_mw": ai_mw, "miners_mw": miners_mw,
                "capacity_mw": cap + np.where(on, inp.expansion_mw if result.expanded else 0.0, 0.0),
                "ai_start_month": np.array([start])}
    return {"month": months, "ai_mw": np.where(on, ai, 0.0), "miners_mw": np.where(on, after, before),
            "capacity_mw": cap + np.where(on, inp.expansion_mw if result.expanded else 0.0, 0.0),
            "ai_start_month": np.array([start])}

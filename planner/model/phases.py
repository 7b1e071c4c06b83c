"""Phased builds: the share of the cluster each candidate phase brings online, the miners
retired as the phases need their room, and the grid of every month in between (site key
``scenarios.*.phases``; records :class:`planner.model.scenario.PhaseTerm`).

The periods of the plan are cut at the phases' online months o_1 < ... < o_Q < S, where S,
the AI start, is the last phase's online month. Before o_1 only miners run (the family
``grid_capacity_before_ai`` of :mod:`planner.model.build`); from S the whole cluster runs
(``grid_capacity_with_ai``, with the grid of the phases online by then). In between, the
load changes only at the o_q, so one grid row per o_q holds the grid of every month of
[o_q, o_q+1): the load is constant over those months. No family here has a column or row per
price step, so the per-step reference model and the reduced model carry the same rows; except
on a grid that varies over the year with miners, where the phase rows are per class of steps
before the AI (exact with the classes: :func:`add_phase_grid`).

What phases are modelled with (the rest is refused in :func:`planner.model.inputs._check_phases`):
a GPU life (each phase's servers earn for their life from its online month,
:func:`phase_life`), fixed-price blocks (a constant), coincident-peak and demand charges of
the AI alone (:func:`phase_market_cost_usd`), an interruptible AI (:func:`phase_peak_mw`).
"""

from __future__ import annotations

import numpy as np

from planner.constants import MONTHS_PER_YEAR, W_PER_MW
from planner.energy.economics import annuity_factor, monthly_rate
from planner.energy.markets import CP_BILLING_LAG_MONTHS
from planner.model.lp import safe
from planner.model.plan import PlanModel
from planner.model.scenario import ClusterOption, MinerBlock, PhaseTerm, ScenarioInputs


def add_phases(model: PlanModel, scale: float) -> None:
    """The phase columns and families, in order (nothing without phases)."""
    inp = model.inputs
    if not inp.phases:
        return
    add_phase_columns(model)
    add_phase_value(model, scale)
    add_phase_shares(model)
    add_hall_phases(model)
    add_miner_retirement(model)
    add_phase_grid(model)


def phase_life(inp: ScenarioInputs, online: int) -> tuple[int, bool]:
    """(E, sold) for servers brought online at month ``online``: they earn until E = min(H,
    online + life) and are sold at E when that is within the horizon (without a GPU life:
    (H, False), they earn to the horizon)."""
    h, life = inp.horizon_months, inp.gpu_life_months
    if life is None:
        return h, False
    return min(h, online + life), online + life <= h


def phase_bonus_usd(inp: ScenarioInputs, option: ClusterOption, phase: PhaseTerm) -> float:
    """Present value of bringing the whole of ``option`` online at ``phase``'s online
    month o_p instead of the AI start S (the last phase), owner model:

        margin_k x (A[o_p, E_p) - A[S, E_S)) + R_k ((1+r_m)^-E_p [sold_p] - (1+r_m)^-E_S [sold_S])

    E_p, sold_p: the end of the servers' life counted from their own online month, within the
    horizon, and whether they are sold then (:func:`phase_life`; R_k: their resale, ai.gpu_life_years
    and gpu_resale_share). Without a GPU life E_p = E_S = H and this is margin_k x A[o_p, S).
    The value of a share u of the option in phase p is u times this (every term of the margin,
    lease, energy and opex, and the servers' resale are proportional to the IT load brought
    online).
    """
    start = min(inp.ai_start_month, inp.horizon_months)
    lo = min(phase.online_month, start)
    margin = inp.ai_margin_usd_per_month(option)
    if inp.gpu_life_months is None:
        return margin * annuity_factor(inp.discount_rate, lo, start)
    (e_p, sold_p), (e_s, sold_s) = phase_life(inp, lo), phase_life(inp, start)
    resale = inp.gpu_resale_share * option.capex_usd.get("servers", 0.0)
    d = 1 + monthly_rate(inp.discount_rate)
    return (margin * (annuity_factor(inp.discount_rate, lo, e_p) - annuity_factor(inp.discount_rate, start, e_s))
            + resale * (sold_p * d ** -e_p - sold_s * d ** -e_s))


def phase_market_year_usd(inp: ScenarioInputs, option: ClusterOption) -> tuple[float, float]:
    """(coincident-peak charge, demand charges) a year of the whole of ``option``'s AI load
    alone on the grid, USD: sum_t cp_t L_kt and D x 1000 x sum_g w_g max_{t in g} L_kt, with
    L_kt = P_k (PUE_k + d_t) on_t its facility MW at max power (the grid rows' load). A share u
    online before the AI start pays u times these (no miners then: phases with per-step market
    terms are modelled without them, :func:`planner.model.inputs._check_phases`)."""
    m = inp.markets
    if m is None or not m.per_step or not option.servers:
        return 0.0, 0.0
    load = option.it_power_w / W_PER_MW * (option.pue + inp.profile.delta()) * inp.ai_on(option)
    cp = float((m.cp_usd_per_mw_year * load).sum()) if m.cp_usd_per_mw_year is not None else 0.0
    return cp, m.demand_charge(load) if m.demand_usd_per_kw_month else 0.0


def phase_market_cost_usd(inp: ScenarioInputs, option: ClusterOption, phase: PhaseTerm) -> float:
    """Present value of the market charges of the whole of ``option`` online from o_p to the AI
    start S (:func:`phase_market_year_usd`): the coincident-peak charge of each month's load billed
    a year later, and the month's demand charge:

        cp_k / 12 x A[o_p + 12, S + 12) + dc_k / 12 x A[o_p, S)"""
    cp, dc = phase_market_year_usd(inp, option)
    if not cp and not dc:
        return 0.0
    start = min(inp.ai_start_month, inp.horizon_months)
    lo = min(phase.online_month, start)
    lag = CP_BILLING_LAG_MONTHS
    return (cp * annuity_factor(inp.discount_rate, lo + lag, start + lag)
            + dc * annuity_factor(inp.discount_rate, lo, start)) / MONTHS_PER_YEAR


def kept_value_usd(inp: ScenarioInputs, block: MinerBlock) -> float:
    """With a per-step dispatch before the AI (a grid that varies over the year), present value of
    one miner kept from the first phase month o_1 to the AI start S, running in every step
    that pays (the phase rows hold every kept miner in every step):

        rev x MA[o_1, S) - energy x A[o_1, S)

    (its opex is in the miner's own coefficient over [0, S); the dispatch values [0, o_1)).
    0 when the dispatch before the AI is not per step (the kept miner's value covers [0, S))."""
    if not inp.dispatch_before:
        return 0.0
    start, first = min(inp.ai_start_month, inp.horizon_months), inp.dispatch_before_end()
    prices, hours = inp.profile.price_usd_per_mwh, inp.profile.hours
    runs = block.margin_usd_per_hour(prices) > 0
    revenue = block.revenue_usd_per_hour * float((runs * hours).sum()) / MONTHS_PER_YEAR
    energy = float((np.broadcast_to(block.facility_mw, prices.shape) * runs * hours * prices).sum()) / MONTHS_PER_YEAR
    return revenue * inp.mining_annuity_between(first, start) - energy * inp.annuity_between(first, start)


def retire_value_usd(inp: ScenarioInputs, block: MinerBlock, month: int) -> float:
    """Present value of retiring one miner kept before the AI start at ``month`` instead
    of at the start S: the margin of [month, S) lost, its salvage received earlier:

        -(rev x MA[month, S) - (energy + opex) x A[month, S)) + s ((1+r_m)^-month - (1+r_m)^-S)

    rev, energy: per month of a miner running in every step that pays (the grid holds
    all kept miners in every phase: see :func:`add_phase_grid`)."""
    start = min(inp.ai_start_month, inp.horizon_months)
    rm = monthly_rate(inp.discount_rate)
    prices, hours = inp.profile.price_usd_per_mwh, inp.profile.hours
    runs = block.margin_usd_per_hour(prices) > 0
    revenue = block.revenue_usd_per_hour * float((runs * hours).sum()) / MONTHS_PER_YEAR
    energy = float((block.facility_mw * runs * hours * prices).sum()) / MONTHS_PER_YEAR
    mined = sum((1 + rm) ** -(m + 1) * inp.revenue_factor(m) for m in range(month, start))
    lost = revenue * mined - (energy + block.opex_usd_per_month) * annuity_factor(inp.discount_rate, month, start)
    return -lost + block.salvage_usd * ((1 + rm) ** -month - (1 + rm) ** -start)


def _built(model: PlanModel) -> list[int]:
    """Indices of the options that build a cluster (the no-cluster option has no phases)."""
    return [i for i, o in enumerate(model.inputs.options) if o.servers]


def add_phase_columns(model: PlanModel) -> None:
    """u_kp in [0, U_p]: share of option k's IT load brought online in phase p; z_bq >= 0
    (integer): miners of block b retired at the q-th phase month (before the AI start)."""
    inp, lp = model.inputs, model.lp
    built = _built(model)
    caps = np.array([p.max_share for p in inp.phases], dtype=float)
    model.phase_share = {k: lp.columns([f"phase_share__{k}__{p}" for p in range(len(inp.phases))], 0, caps)
                         for k in built}
    model.meaning["phase_share__K__P"] = "share of cluster option K's IT load brought online in phase P"
    for k in built:
        halls = inp.options[k].halls
        if halls:
            names = [f"hall_phase__{k}__{safe(h.name)}__{p}" for h in halls for p in range(len(inp.phases))]
            model.hall_phase[k] = lp.columns(names, 0, 1, integer=True).reshape(len(halls), len(inp.phases))
    if model.hall_phase:
        model.meaning["hall_phase__K__H__P"] = "hall H of cluster option K is built in phase P"
    months = inp.phase_months()
    if inp.miners_before_ai and months:
        for b in inp.miners:
            name = f"retire__{safe(b.key)}__"
            model.retire[b.key] = lp.columns([f"{name}{m}" for m in months], 0, b.count, integer=True)
            model.meaning[name + "M"] = f"{b.key} miners retired at month M (a phase comes online)"


def add_phase_value(model: PlanModel, scale: float) -> None:
    """maximise ... + sum_kp B_kp u_kp + sum_bq R_bq z_bq

    B_kp = margin_k x A[o_p, S): the AI margin of the months by which phase p comes online
    before the AI start (with a GPU life, its servers' earlier end and resale too:
    :func:`phase_bonus_usd`), less the coincident-peak and demand charges of that share in those
    months (:func:`phase_market_cost_usd`); the option's value from S on
    stays in v_k of :func:`planner.model.build.add_objective`. R_bq: what retiring a miner at
    o_q instead of S is worth, its margin of [o_q, S) lost and its salvage received earlier
    (:func:`retire_value_usd`). With a per-step dispatch before the AI (a grid that varies),
    that dispatch values the months before o_1 and each kept miner adds its running margin
    of [o_1, S) (:func:`kept_value_usd`)."""
    inp, lp = model.inputs, model.lp
    for k, cols in model.phase_share.items():
        option = inp.options[k]
        lp.add_cost(cols, scale * np.array([phase_bonus_usd(inp, option, p) - phase_market_cost_usd(inp, option, p)
                                            for p in inp.phases], dtype=float))
    months = inp.phase_months()
    for b in inp.miners:
        if b.key in model.retire:
            lp.add_cost(model.retire[b.key], scale * np.array([retire_value_usd(inp, b, m) for m in months]))
        if inp.dispatch_before and months:
            lp.add_cost([model.keep_before[b.key]], [scale * kept_value_usd(inp, b)])


def add_phase_shares(model: PlanModel) -> None:
    """sum_p u_kp - y_k = 0: the chosen option is brought online in full, over the phases
    (and an option not chosen in none)."""
    lp = model.lp
    for k, cols in model.phase_share.items():
        lp.row(f"phase_shares__{k}", np.concatenate([cols, [model.size[k]]]),
               np.concatenate([np.ones(cols.size), [-1.0]]), 0.0, 0.0)
    model.meaning["phase_shares__K"] = "cluster option K is brought online in full over the phases"


def add_hall_phases(model: PlanModel) -> None:
    """Halls are built whole, each in one phase (options whose racks stand in the site's halls):

        u_kp - sum_h a_kh w_khp = 0     for each phase p
        sum_p w_khp - y_k = 0           for each hall h of option k

    w_khp binary: hall h of option k is built in phase p; a_kh: the hall's share of the
    option's IT load (its servers, and the network by server share). So the model chooses
    which halls go first, and the phases' shares are sums of whole halls."""
    inp, lp = model.inputs, model.lp
    for k, w in model.hall_phase.items():
        option = inp.options[k]
        total = sum(h.it_w for h in option.halls)
        share = np.array([h.it_w / total if total else 1.0 / len(option.halls) for h in option.halls])
        n_h, n_p = w.shape
        u = model.phase_share[k]
        rows = np.concatenate([np.arange(n_p), np.repeat(np.arange(n_p), n_h)])
        cols = np.concatenate([u, w.T.ravel()])
        vals = np.concatenate([np.ones(n_p), -np.tile(share, n_p)])
        lp.rows(f"hall_phase_shares__{k}", list(range(n_p)), rows, cols, vals, 0.0, 0.0)
        rows = np.concatenate([np.repeat(np.arange(n_h), n_p), np.arange(n_h)])
        cols = np.concatenate([w.ravel(), np.full(n_h, model.size[k])])
        vals = np.concatenate([np.ones(n_h * n_p), -np.ones(n_h)])
        lp.rows(f"hall_built_once__{k}", [safe(h.name) for h in option.halls], rows, cols, vals, 0.0, 0.0)
    if model.hall_phase:
        model.meaning["hall_phase_shares__K__P"] = "phase P of option K brings online whole halls"
        model.meaning["hall_built_once__K__H"] = "hall H of option K is built in one phase"


def add_miner_retirement(model: PlanModel) -> None:
    """sum_q z_bq + x1_b - x0_b <= 0: miners are retired from those kept before the AI, at
    most once, and those beside the AI (hybrid) were never retired."""
    inp, lp = model.inputs, model.lp
    for b in inp.miners:
        cols = model.retire.get(b.key)
        if cols is None:
            continue
        terms: list[np.ndarray] = [cols, np.array([model.keep_before[b.key]])]
        vals: list[np.ndarray] = [np.ones(cols.size), np.array([-1.0])]
        if inp.miners_with_ai:
            terms.append(np.array([model.keep_with_ai[b.key]]))
            vals.append(np.array([1.0]))
        lp.row(f"miner_retirement__{safe(b.key)}", np.concatenate(terms), np.concatenate(vals), None, 0.0)
        model.meaning[f"miner_retirement__{safe(b.key)}"] = f"{b.key} miners retired were kept before the AI"


def add_phase_grid(model: PlanModel) -> None:
    """For each phase month o_q before the AI start:

        sum_k sum_{p: o_p <= o_q} F_k u_kp + sum_b f_b (x0_b - sum_{j <= q} z_bj) <= min(min_t C_t, G(o_q))

    F_k = IT_k x (PUE_k + max_t d_t) over the steps it runs (:func:`phase_peak_mw`): option k's facility
    power at its peak step; f_b =
    max_t u_bt: a miner's; C_t the site's capacity, G(o_q) the grid of the phases online by
    o_q. Kept miners fit in every step, so each runs in every step that pays, as valued.

    When the capacity varies over the year (miners dispatched step by step before the AI),
    one row per phase month and class c of the steps before the AI (:func:`planner.model.build.step_classes`):

        sum_k sum_{p: o_p <= o_q} IT_k (PUE_k + d_c) u_kp + sum_b u_bc (x0_b - sum_{j <= q} z_bj) <= min(C_c, G(o_q))

    Exact with the classes: C_c, d_c and u_bc are the same in every step of a class."""
    inp, lp = model.inputs, model.lp
    months = inp.phase_months()
    if not months:
        return
    if inp.dispatch_before and "before" in model.classes:
        _add_phase_grid_by_class(model, months)
        return
    cap = float(inp.profile.capacity_mw.min())
    labels, rows, cols, vals = [], [], [], []
    for q, month in enumerate(months):
        for k, share in model.phase_share.items():
            o = inp.options[k]
            peak = phase_peak_mw(inp, o)
            for p, phase in enumerate(inp.phases):
                if phase.online_month <= month:
                    rows.append(q)
                    cols.append(int(share[p]))
                    vals.append(peak)
        if inp.miners_before_ai:
            for b in inp.miners:
                f = float(np.max(b.facility_mw))
                rows.append(q)
                cols.append(model.keep_before[b.key])
                vals.append(f)
                for j in range(q + 1):
                    if b.key in model.retire:
                        rows.append(q)
                        cols.append(int(model.retire[b.key][j]))
                        vals.append(-f)
        labels.append(month)
    upper = np.array([min(cap, inp.phase_grid_mw(m)) for m in months])
    lp.rows("grid_capacity_phases", labels, np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
            np.asarray(vals, dtype=float), None, upper)
    model.meaning["grid_capacity_phases__M"] = "grid capacity from month M (a phase comes online) to the next"


def phase_peak_mw(inp: ScenarioInputs, option: ClusterOption) -> float:
    """F_k = IT_k x (PUE_k + max_{t: on_kt} d_t): the option's facility MW in the step it runs
    that needs most (all steps for a firm load; an interruptible one draws nothing when off)."""
    on = inp.ai_on(option)
    if not on.any():
        return 0.0
    return option.it_power_w / W_PER_MW * (option.pue + float(np.max(inp.profile.delta()[on])))


def _add_phase_grid_by_class(model: PlanModel, months: list[int]) -> None:
    """:func:`add_phase_grid` per class of the steps before the AI (a grid that varies)."""
    inp, lp = model.inputs, model.lp
    first = model.classes["before"][1]
    n = first.size
    delta = inp.profile.delta()[first]
    caps = inp.profile.capacity_mw[first]
    c = np.arange(n)
    rows, cols, vals, upper, labels = [], [], [], [], []
    for q, month in enumerate(months):
        base = q * n
        for k, share in model.phase_share.items():
            o = inp.options[k]
            load = o.it_power_w / W_PER_MW * (o.pue + delta)
            for p, phase in enumerate(inp.phases):
                if phase.online_month <= month:
                    rows.append(base + c)
                    cols.append(np.full(n, int(share[p])))
                    vals.append(load)
        for b in inp.miners:
            u = np.broadcast_to(b.facility_mw, inp.profile.capacity_mw.shape)[first]
            rows.append(base + c)
            cols.append(np.full(n, model.keep_before[b.key]))
            vals.append(u)
            if b.key in model.retire:
                for j in range(q + 1):
                    rows.append(base + c)
                    cols.append(np.full(n, int(model.retire[b.key][j])))
                    vals.append(-u)
        upper.append(np.minimum(caps, inp.phase_grid_mw(month)))
        labels += [f"{month}__{t}" for t in first.tolist()]
    lp.rows("grid_capacity_phases", labels, np.concatenate(rows).astype(np.int64),
            np.concatenate(cols).astype(np.int64), np.concatenate(vals).astype(float), None, np.concatenate(upper))
    model.meaning["grid_capacity_phases__M__T"] = ("grid capacity from month M (a phase comes online) to the next, "
                                                   "in step T" + (" (and every step of its class)" if model.reduced
                                                                  else ""))


def phase_binding(inp: ScenarioInputs, chosen: int, before: dict[str, int], shares: list[float],
                  retired: dict[str, list[int]]) -> list[str]:
    """The phase months whose grid binds the plan: full (less than one miner's room left, or
    none at all) while a share of the cluster waits for a later phase or miners retire then."""
    option = inp.options[chosen]
    if not inp.phases or not option.servers:
        return []
    months = inp.phase_months()
    cap = float(inp.profile.capacity_mw.min())
    peak = phase_peak_mw(inp, option)
    room = min((float(np.max(b.facility_mw)) for b in inp.miners), default=0.0)
    out = []
    for q, month in enumerate(months):
        online = sum(u for u, p in zip(shares, inp.phases, strict=True) if p.online_month <= month)
        miners = sum(float(np.max(b.facility_mw)) * (before.get(b.key, 0) - sum(retired.get(b.key, [])[:q + 1]))
                     for b in inp.miners) if inp.miners_before_ai else 0.0
        load, limit = online * peak + miners, min(cap, inp.phase_grid_mw(month))
        waits = online < 1 - 1e-6
        retires = any(r[q] > 0 for r in retired.values())
        if (waits or retires) and limit - load < max(room, 1e-6 * limit):
            names = ", ".join(p.name for p in inp.phases if p.online_month == month)
            out.append(f"grid capacity at month {month} ({names} online): {load:.3f} MW of {limit:g} MW used"
                       + (f", {1 - online:.0%} of the cluster waits for a later phase" if waits else "")
                       + (", miners retired to make room" if retires else ""))
    return out

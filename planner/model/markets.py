"""The power-market terms of the plan model (:mod:`planner.energy.markets` gives them per step):
the contracts' constant, reserve offers, coincident-peak adders and monthly demand-charge
peaks, each period (before the AI start, beside it) where it applies.

Exactness of the step classes (:func:`planner.model.build.step_classes`) with these terms:
for fixed first-stage choices (cluster, kept miners, the month's peak), each step's dispatch
is a fractional knapsack whose value per MW is the miner's value per MW plus the reserve
price while the offer is below its cap. The blocks' order by value per MW is the same in
every step (the price and reserve terms are the same for every block), the offer cap and
the grid headroom are the same within a class, so the greedy fill, which is optimal, is
the same in every step of a class when its steps agree on the sign of each block's value
without the reserve payment and with it (the features added here), on whether reserves
are paid, on whether the step is a coincident peak and on the month (demand charges). One
offer column per class with a reserve price, valued at the sum of its steps' payments, then
has the optimum of the per-step model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.energy.economics import annuity_factor
from planner.energy.markets import CP_BILLING_LAG_MONTHS, KW_PER_MW
from planner.model.lp import safe
from planner.model.scenario import ClusterOption, MinerBlock, ScenarioInputs

if TYPE_CHECKING:
    from planner.model.plan import PlanModel


def cp_annuity(inp: ScenarioInputs, period: str) -> float:
    """Annuity factor of the coincident-peak charges of a period's load: the charge for the
    load of month m is paid in month m + L (L = 12: the tag of a summer is billed through the
    following year), so for the period's months [a, b)

        A_cp = sum_{m=a}^{b-1} (1 + r_m)^-(m + L + 1)

    which runs past the horizon for the last year's peaks: that charge is owed for load within
    the horizon, so it counts (the cash flows put its present value at the horizon's end)."""
    start, h = min(inp.ai_start_month, inp.horizon_months), inp.horizon_months
    lo, hi = (0, start) if period == "before" else (start, h)
    return annuity_factor(inp.discount_rate, lo + CP_BILLING_LAG_MONTHS, hi + CP_BILLING_LAG_MONTHS)


def dispatch_values(inp: ScenarioInputs, block: MinerBlock, period: str) -> np.ndarray:
    """Present value of one miner running in each step (:meth:`ScenarioInputs.dispatch_coefficients`)
    less the coincident-peak charge its load adds, billed a year later: cp_t x u_bt x A_cp / 12
    (:func:`cp_annuity`)."""
    g = inp.dispatch_coefficients(block, period)
    m = inp.markets
    if m is None or m.cp_usd_per_mw_year is None:
        return g
    return g - m.cp_usd_per_mw_year * block.facility_mw * cp_annuity(inp, period) / 12


def reserve_values(inp: ScenarioInputs, period: str) -> np.ndarray | None:
    """Present value of one MW offered in each step over the period: pi_t h_t annuity / 12."""
    m = inp.markets
    if m is None or m.reserve_usd_per_mw_hour is None:
        return None
    return m.reserve_usd_per_mw_hour * inp.profile.hours * inp.annuity(period) / 12


def class_features(inp: ScenarioInputs, period: str) -> list[np.ndarray]:
    """What steps of one class must share besides the dispatch's own features."""
    m = inp.markets
    if m is None or not m.per_step:
        return []
    out: list[np.ndarray] = []
    if m.cp_usd_per_mw_year is not None:
        out.append(m.cp_usd_per_mw_year > 0)
    if m.demand_usd_per_kw_month > 0:
        out.append(m.month)
    w = reserve_values(inp, period)
    if w is not None:
        out.append(w > 0)
        out += [dispatch_values(inp, b, period) + w * b.facility_mw > 0 for b in inp.miners]
    return out


def needs_classes(inp: ScenarioInputs, period: str) -> bool:
    """Rows per step class in the period even without a miner dispatch (the AI's offers and peaks)."""
    m = inp.markets
    return period == "after" and m is not None and ((m.reserve_usd_per_mw_hour is not None and m.ai_share > 0)
                                                     or m.demand_usd_per_kw_month > 0)


def ai_cp_cost(inp: ScenarioInputs, option: ClusterOption) -> float:
    """Present value of the coincident-peak charge of the option's AI load beside it:
    sum_t cp_t x facility MW at max power in step t, a year, over the annuity of the charges
    (billed a year later, :func:`cp_annuity`)."""
    m = inp.markets
    if m is None or m.cp_usd_per_mw_year is None or not option.servers:
        return 0.0
    load = option.it_power_w / 1e6 * (option.pue + inp.profile.delta()) * inp.ai_on(option)
    return float((m.cp_usd_per_mw_year * load).sum()) * cp_annuity(inp, "after") / 12


def contracts_cost(inp: ScenarioInputs) -> float:
    """Present value of the fixed-price blocks beyond their energy at the real-time price:
    sum over contracts and months in force of (1 + r_m)^-(m+1) sum_t (c - p_t) Q_t h_t / 12."""
    from planner.energy.economics import monthly_rate

    m = inp.markets
    if m is None:
        return 0.0
    rm = monthly_rate(inp.discount_rate)
    total = 0.0
    for c in m.contracts:
        months = c.months_in_force(inp.horizon_months)
        total += c.net_cost_year(inp.profile) / 12 * sum((1 + rm) ** -(k + 1) for k in months)
    return total


def _ai_terms(model: PlanModel, steps: np.ndarray, share: float) -> tuple[list, list, list]:
    """(rows, columns, values) of share x (A_g + d_t I_g) for each AI group on in step ``steps[r]``."""
    delta = model.inputs.profile.delta()[steps]
    r = np.arange(steps.size)
    rows, cols, vals = [], [], []
    for on, fac, it in model.ai_groups:
        live = on[steps]
        warm = live & (delta != 0)
        rows += [r[live], r[warm]]
        cols += [np.full(int(live.sum()), fac), np.full(int(warm.sum()), it)]
        vals += [np.full(int(live.sum()), share), share * delta[warm]]
    return rows, cols, vals


def _load_terms(model: PlanModel, period: str, ai_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries (class row, column, MW) of the load of each class of the period: the miners
    running, and (beside the AI) ``ai_share`` of the AI's facility load."""
    cls, first = model.classes[period]
    runs = model.run if period == "after" else model.run_before
    c = np.arange(first.size)
    rows, cols, vals = [], [], []
    for b in model.inputs.miners:
        if b.key in runs:
            rows.append(c)
            cols.append(runs[b.key])
            vals.append(np.broadcast_to(b.facility_mw, cls.shape)[first])
    if period == "after" and ai_share > 0:
        r, k, v = _ai_terms(model, first, ai_share)
        rows += r
        cols += k
        vals += v
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(vals).astype(float))


def add_power_markets(model: PlanModel, scale: float) -> None:
    """The market terms, in the solver's unit (``scale`` USD):

    objective  - sum_k PV(contracts)                 (a constant: the blocks beyond spot)
               - sum_k cp_k y_k                      (coincident-peak charge of each cluster option,
                                                      billed the year after the peaks)
               + sum_c w_c o_c                       (reserve offers, w_c = sum_{t in c} pi_t h_t A / 12)
               - sum_m D w_m A / 12 peak_m            (demand charge, w_m months a year of group m)
    rows       o_c - sum_b u_bc r_bc - s f (A_g + d_c I_g) <= 0,  0 <= o_c <= cap    (reserves)
               peak_m - sum_b u_bc r_bc - (A_g + d_c I_g) >= 0   for every class c of month m

    per period (before the AI start: miners only); s: the AI's interruptible share, f its
    power fraction (its average draw is at least f x its max). The miners' coincident-peak charge is in
    their dispatch values (:func:`dispatch_values`).
    """
    inp, lp = model.inputs, model.lp
    m = inp.markets
    if m is None:
        return
    lp.offset -= scale * contracts_cost(inp)
    if m.cp_usd_per_mw_year is not None:
        lp.add_cost(model.size, -scale * np.array([ai_cp_cost(inp, o) for o in inp.options], dtype=float))
    for period in ("after", "before"):
        if period not in model.classes:
            continue
        runs = model.run if period == "after" else model.run_before
        has_ai = period == "after"
        if not runs and not has_ai:
            continue
        cls, first = model.classes[period]
        tag = "" if period == "after" else "_before"
        w = reserve_values(inp, period)
        if w is not None and (runs or m.ai_share > 0):
            _add_reserves(model, period, tag, np.bincount(cls, weights=w, minlength=first.size), scale)
        if m.demand_usd_per_kw_month > 0:
            _add_peaks(model, period, tag, scale)


def _add_reserves(model: PlanModel, period: str, tag: str, value: np.ndarray, scale: float) -> None:
    inp, lp, m = model.inputs, model.lp, model.inputs.markets
    assert m is not None
    first = model.classes[period][1]
    paid = np.flatnonzero(value > 0)
    if not paid.size:
        return
    cap = m.reserve_max_mw if m.reserve_max_mw is not None else None
    offers = lp.columns([f"reserve_offer{tag}__{t}" for t in first[paid].tolist()], 0, cap)
    lp.add_cost(offers, scale * value[paid])
    row_of = np.full(first.size, -1, dtype=np.int64)
    row_of[paid] = np.arange(paid.size)
    # the AI's average draw is at least power_fraction x its max (the network runs at max):
    # what may be offered of it, conservatively
    r, c, v = _load_terms(model, period, m.ai_share * inp.power_fraction)
    keep = row_of[r] >= 0
    rows = np.concatenate([np.arange(paid.size), row_of[r[keep]]])
    cols = np.concatenate([offers, c[keep]])
    vals = np.concatenate([np.ones(paid.size), -v[keep]])
    family = f"reserve_offer{tag}"
    lp.rows(family, first[paid].tolist(), rows, cols, vals, None, 0.0)
    when = "beside the AI" if period == "after" else "before the AI start"
    model.meaning[f"{family}__T"] = f"reserve offered {when} in step T is load running that can drop"
    model.meaning[f"reserve_offer{tag}__T"] = f"MW of reserve offered {when} in step T" + (
        " (and every step of its class)" if model.reduced else "")
    model.markets[f"offer_{period}"] = (paid, offers)


def _add_peaks(model: PlanModel, period: str, tag: str, scale: float) -> None:
    inp, lp, m = model.inputs, model.lp, model.inputs.markets
    assert m is not None
    first = model.classes[period][1]
    month = m.month[first]
    groups = np.unique(month)
    peaks = lp.columns([f"monthly_peak{tag}__{safe(m.month_labels[g])}" for g in groups.tolist()], 0, None)
    per_mw = m.demand_usd_per_kw_month * KW_PER_MW * m.months_a_year[groups] * inp.annuity(period) / 12
    lp.add_cost(peaks, -scale * per_mw)
    col_of = np.zeros(m.months_a_year.size, dtype=np.int64)
    col_of[groups] = peaks
    r, c, v = _load_terms(model, period, 1.0)
    n = first.size
    rows = np.concatenate([np.arange(n), r])
    cols = np.concatenate([col_of[month], c])
    vals = np.concatenate([np.ones(n), -v])
    family = f"monthly_peak{tag}"
    lp.rows(family, first.tolist(), rows, cols, vals, 0.0, None)
    when = "beside the AI" if period == "after" else "before the AI start"
    model.meaning[f"{family}__T"] = f"the month's peak {when} is at least the grid import in step T"
    for g in groups.tolist():
        model.meaning[f"monthly_peak{tag}__{safe(m.month_labels[g])}"] = (
            f"highest grid import {when} in {m.month_labels[g]}, MW")
    model.markets[f"peak_{period}"] = (groups, peaks)


def read_back(model: PlanModel, x: np.ndarray) -> dict[str, np.ndarray]:
    """The solved market columns per step: ``offer_<period>`` (MW offered in each step) and
    ``peak_<period>`` (each month group's peak, MW)."""
    out: dict[str, np.ndarray] = {}
    steps = model.inputs.profile.steps
    for key, (index, cols) in model.markets.items():
        if key.startswith("offer_"):
            period = key.removeprefix("offer_")
            cls, first = model.classes[period]
            per_class = np.zeros(first.size)
            per_class[index] = x[cols]
            out[key] = per_class[cls] if steps else per_class
        else:
            m = model.inputs.markets
            assert m is not None
            peaks = np.zeros(m.months_a_year.size)
            peaks[index] = x[cols]
            out[key] = peaks
    return out

"""What a solved plan's power contracts and markets come to, re-derived from the per-step
dispatch: energy bill, contract credits (resale), reserve revenue, coincident-peak tag and
charge, monthly demand charges; their monthly cash flows; the per-step columns of
dispatch.csv; and the peak week's figure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.model.optimize import Result, Status, ai_load_mw
from planner.outputs.csv_columns import mw_column

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _loads(result: Result, period: str) -> tuple[np.ndarray, np.ndarray]:
    """(grid import at the AI's max power, energy load at its average draw), MW per step, in
    the period: the peaks are measured on the first (as the grid rows and dispatch.csv), the
    energy (and so the contracts' resale) on the second (as the energy cost)."""
    from planner.model.optimize import miner_running

    inp = result.inputs
    steps = inp.profile.steps
    if period == "before":
        miners = np.zeros(steps)
        for b in inp.miners:
            run = result.running_before.get(b.key)
            if run is None:  # without a per-step dispatch: every kept miner runs when it pays
                run = np.where(b.margin_usd_per_hour(inp.profile.price_usd_per_mwh) > 0,
                               float(result.miners_before.get(b.key, 0)), 0.0)
            miners = miners + b.facility_mw * run
        return miners, miners
    running = miner_running(result)
    miners = sum((b.facility_mw * running[b.key] for b in inp.miners), np.zeros(steps))
    opt = result.chosen
    peak = np.broadcast_to(ai_load_mw(inp, opt), (steps,)) + miners
    energy = inp.average_it_mw(opt) * (opt.pue + inp.profile.delta()) * inp.ai_on(opt) + miners \
        if opt.servers else miners
    return peak, np.broadcast_to(energy, (steps,)).astype(float)


def _has_period(result: Result, period: str) -> bool:
    inp = result.inputs
    start = min(inp.ai_start_month, inp.horizon_months)
    return start > 0 if period == "before" else start < inp.horizon_months


def period_lines(result: Result, period: str) -> dict[str, Any]:
    """A year of the period (before the AI start, or beside it) with the contracts in force at
    its first month (before the AI: its first month with a contract in force, e.g. a greenfield
    connection's, if any): USD a year unless the key says otherwise."""
    inp = result.inputs
    m = inp.markets
    assert m is not None
    p = inp.profile
    peak, energy = _loads(result, period)
    start = min(inp.ai_start_month, inp.horizon_months)
    month = start
    if period == "before":
        month = min((c.start_month for c in m.contracts if c.months_in_force(inp.horizon_months, 0, start)),
                    default=0)
    q = m.contract_mw(p.steps, month)
    fixed = sum(float((c.usd_per_mwh * c.mw * p.hours).sum()) for c in m.contracts
                if c.months_in_force(inp.horizon_months, month, month + 1))
    bought = float((p.price_usd_per_mwh * np.maximum(energy - q, 0.0) * p.hours).sum())
    credits = float((p.price_usd_per_mwh * np.maximum(q - energy, 0.0) * p.hours).sum())
    offer = result.markets.get(f"offer_{period}")
    reserve = 0.0 if offer is None else float((m.reserve_usd_per_mw_hour * offer * p.hours).sum())
    tag, cp = m.cp_charge(peak)
    peaks = m.monthly_peaks(peak)
    out: dict[str, Any] = {
        "energy_mwh": round(float((energy * p.hours).sum()), 3),
        "contract_mw_mean": round(float((q * p.hours).sum() / p.hours.sum()), 6),
        "contract_fixed_cost_usd": round(fixed, 2),
        "energy_bought_usd": round(bought, 2),
        "energy_cost_usd": round(fixed + bought, 2),
        "contract_credits_usd": round(credits, 2),
        "reserve_offered_mwh": round(0.0 if offer is None else float((offer * p.hours).sum()), 3),
        "reserve_revenue_usd": round(reserve, 2),
        "coincident_peak_tag_mw": round(tag, 6) if m.cp_usd_per_mw_year is not None else None,
        "coincident_peak_usd": round(cp, 2),
        "demand_charge_usd": round(m.demand_charge(peak), 2) if m.demand_usd_per_kw_month else 0.0,
    }
    if m.demand_usd_per_kw_month:
        out["monthly_peaks_mw"] = {label: round(float(v), 6) for label, v in zip(m.month_labels, peaks, strict=True)}
    return out


def market_summary(result: Result) -> dict[str, Any] | None:
    """summary.json's ``power_markets`` block: each period's yearly lines (None where the
    plan has no such period)."""
    if result.inputs.markets is None or result.status is not Status.OPTIMAL:
        return None
    return {"with_ai": period_lines(result, "after") if _has_period(result, "after") else None,
            "before_ai": period_lines(result, "before") if _has_period(result, "before") else None,
            "contracts": [{"name": c.name, "usd_per_mwh": c.usd_per_mwh, "mw_max": float(c.mw.max(initial=0.0)),
                           "start_month": c.start_month, "end_month": c.end_month}
                          for c in result.inputs.markets.contracts]}


def market_flows(result: Result) -> list[float]:
    """Monthly cash flows of the markets (index m + 1 for month m, as the plan's flows): reserve
    revenue less demand charges of the period the month is in; the coincident-peak charge of
    the month's load a year later, in month m + 12 (CP_BILLING_LAG_MONTHS), its present value
    put at the horizon's end where that falls past it; less each contract's cost beyond spot,
    sum_t (c - p_t) Q_t h_t / 12, in the months it is in force. Energy at the real-time price
    is in the miners' and the AI's own flows."""
    from planner.energy.economics import monthly_rate
    from planner.energy.markets import CP_BILLING_LAG_MONTHS

    inp = result.inputs
    m = inp.markets
    h = inp.horizon_months
    flows = [0.0] * (h + 1)
    if m is None:
        return flows
    start = min(inp.ai_start_month, h)
    yearly, peaks = {}, {}
    for period in ("before", "after"):
        if not _has_period(result, period):
            continue
        peak, _ = _loads(result, period)
        offer = result.markets.get(f"offer_{period}")
        reserve = 0.0 if offer is None else float((m.reserve_usd_per_mw_hour * offer * inp.profile.hours).sum())
        yearly[period] = reserve - (m.demand_charge(peak) if m.demand_usd_per_kw_month else 0.0)
        peaks[period] = m.cp_charge(peak)[1]
    rm = monthly_rate(inp.discount_rate)
    for month in range(h):
        period = "before" if month < start else "after"
        flows[month + 1] += yearly.get(period, 0.0) / 12
        billed = month + CP_BILLING_LAG_MONTHS  # the charge for this month's load, a year later
        cp = peaks.get(period, 0.0) / 12
        if billed < h:
            flows[billed + 1] -= cp
        else:  # past the horizon: its present value, put at the horizon's end
            flows[h] -= cp * (1 + rm) ** -(billed + 1 - h)
    for c in m.contracts:
        cost = c.net_cost_year(inp.profile) / 12
        for month in c.months_in_force(inp.horizon_months):
            flows[month + 1] -= cost
    return flows


MARKET_ROWS = [
    ("energy cost, M USD/yr", "energy_cost_usd_per_year", "musd"),
    ("contract credits, M USD/yr", "contract_credits_usd_per_year", "musd"),
    ("reserve revenue, M USD/yr", "reserve_revenue_usd_per_year", "musd"),
    ("coincident-peak tag, MW", "coincident_peak_tag_mw", "f2"),
    ("coincident-peak charge, M USD/yr", "coincident_peak_usd_per_year", "musd"),
    ("demand charges, M USD/yr", "demand_charge_usd_per_year", "musd"),
]


def summary_lines(block: dict[str, Any] | None) -> dict[str, Any]:
    """The summary's top-level market keys (MARKET_ROWS) from the with-AI period's lines
    (before the AI when the plan has no period beside it)."""
    if block is None:
        return {}
    lines = block["with_ai"] or block["before_ai"] or {}
    return {"contract_credits_usd_per_year": lines.get("contract_credits_usd", 0.0),
            "reserve_revenue_usd_per_year": lines.get("reserve_revenue_usd", 0.0),
            "coincident_peak_tag_mw": lines.get("coincident_peak_tag_mw"),
            "coincident_peak_usd_per_year": lines.get("coincident_peak_usd", 0.0),
            "demand_charge_usd_per_year": lines.get("demand_charge_usd", 0.0)}


def dispatch_columns(result: Result, table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """dispatch.csv's market columns beside the AI: contracted MW, MW resold (contracted less
    the energy load, at the AI's average draw), reserve offered, and the coincident-peak
    marker; ``table``: the dispatch's columns by name (a new dict is returned)."""
    inp = result.inputs
    m = inp.markets
    steps = inp.profile.steps
    if m is None or result.status is not Status.OPTIMAL or not table or not len(next(iter(table.values()))):
        return table
    _, energy = _loads(result, "after")
    q = m.contract_mw(steps, min(inp.ai_start_month, inp.horizon_months))
    table = dict(table)
    table["contract_mw"] = mw_column(np.broadcast_to(q, (steps,)).astype(float))
    table["resale_mw"] = mw_column(np.broadcast_to(np.maximum(q - energy, 0.0), (steps,)).astype(float))
    table["reserve_offered_mw"] = mw_column(result.markets.get("offer_after", np.zeros(steps)))
    if m.reserve_usd_per_mw_hour is not None:
        table["reserve_usd_per_mw_hour"] = np.broadcast_to(np.asarray(m.reserve_usd_per_mw_hour, dtype=float),
                                                           (steps,))
    if m.cp_usd_per_mw_year is not None:
        table["coincident_peak_usd_per_mw_year"] = np.broadcast_to(
            np.round(np.asarray(m.cp_usd_per_mw_year, dtype=float), 6), (steps,))
    return table


def peak_week_rows(result: Result, frame: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The week (7 days of steps) around the step whose import costs the most in peak and
    demand charges (or, without them, the highest price), as arrays for :func:`peak_week`;
    ``frame``: the dispatch's columns as arrays."""
    inp = result.inputs
    m = inp.markets
    if m is None or inp.profile.steps < 2 or inp.profile.coverage is None:
        return None
    imp = np.asarray(frame["grid_import_mw"], dtype=float)
    cost = np.zeros(imp.size)
    if m.cp_usd_per_mw_year is not None:
        cost += m.cp_usd_per_mw_year * imp
    if m.demand_usd_per_kw_month:
        peaks = m.monthly_peaks(imp)
        cost += np.where(imp >= peaks[m.month] - 1e-9, imp, 0.0) * m.demand_usd_per_kw_month
    at = int(np.argmax(cost)) if cost.any() else int(np.argmax(inp.profile.price_usd_per_mwh))
    per_week = round(7 * 24 / inp.profile.step_hours)
    lo = max(0, min(at - per_week // 2, imp.size - per_week))
    sel = slice(lo, lo + per_week)
    cols = ["step", "price_usd_per_mwh", "ai_load_mw", "miner_load_mw", "grid_capacity_mw", "contract_mw",
            "reserve_offered_mw"]
    rows = {c: np.asarray(frame[c])[sel] for c in cols}
    rows["peak"] = np.array([at - lo])
    return rows


def _day_axis(ax: Axes) -> None:
    """A week's time axis: a labelled tick at each midnight ("Sat 21 Jun"), minor ticks
    every six hours, the year under the axis once (matplotlib's date locators: no label is
    repeated however many steps the week has)."""
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=[6, 12, 18]))
    left = mdates.num2date(ax.get_xlim()[0])
    ax.set_xlabel(f"{left:%Y}, by the price series' time stamps")
    for label in ax.get_xticklabels():
        label.set_fontsize(8)


def peak_week(rows: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Load (AI, miners), the contracted block and the reserve offered over the peak week,
    with the price on a second axis and the highest-charge step marked."""
    from planner.outputs.plots import _label_axis, _legend, _pyplot, _save

    plt = _pyplot()
    ai, miners, cap, q, offer, price = (np.asarray(rows[c], dtype=float) for c in (
        "ai_load_mw", "miner_load_mw", "grid_capacity_mw", "contract_mw", "reserve_offered_mw",
        "price_usd_per_mwh"))
    labels = [str(s) for s in rows["step"]]
    try:  # the steps' times ("2025-06-21 00:15"): a date axis, a tick a day
        x: np.ndarray = np.array([s.replace(" ", "T") for s in labels], dtype="datetime64[m]")
    except ValueError:
        x = np.arange(ai.size)
    dated = x.dtype.kind == "M"
    fig, ax = plt.subplots(figsize=(11, 4.8), dpi=110)
    ax.stackplot(x, ai, miners, labels=["AI", "miners"], colors=["#4c78a8", "#f58518"], alpha=0.85)
    ax.plot(x, cap, color="black", lw=1.0, label="grid capacity")
    if q.any():
        ax.step(x, q, where="post", color="#54a24b", lw=1.4, label="contracted block")
    if offer.any():
        ax.plot(x, offer, color="#b279a2", lw=1.0, ls="--", label="reserve offered")
    at = int(rows["peak"][0])
    ax.axvline(x[at], color="#e45756", lw=1.2, ls=":", label="highest-charge step")
    ax.set_ylabel("MW")
    ax.set_ylim(0, max(1e-9, float(max(cap.max(), q.max(initial=0.0)))) * 1.1)
    twin = ax.twinx()
    twin.plot(x, price, color="#7f7f7f", lw=0.7, alpha=0.8)
    twin.set_ylabel("price, USD/MWh (grey)")
    if dated:
        ax.set_xlim(x[0], x[-1])
        _day_axis(ax)
    else:
        _label_axis(ax, labels, "")
    _legend(ax, loc="upper left", fontsize=8, ncol=3)
    ax.set_title(title)
    _save(fig, path)

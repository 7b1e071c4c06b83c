"""A phased build's schedule and cash flows, re-derived from its result (site key
``scenarios.*.phases``; the model's families are :mod:`planner.model.phases`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.constants import MONTHS_PER_YEAR, W_PER_MW
from planner.model.optimize import Result
from planner.model.scenario import ClusterOption, MinerBlock, ScenarioInputs


def _miner_month(inp: ScenarioInputs, block: MinerBlock) -> tuple[float, float]:
    """(revenue at today's hashprice, energy and fixed opex) of one miner a month, running
    in every step that pays."""
    hours, price = inp.profile.hours, inp.profile.price_usd_per_mwh
    runs = block.margin_usd_per_hour(price) > 0
    revenue = block.revenue_usd_per_hour * float((runs * hours).sum()) / MONTHS_PER_YEAR
    energy = float((block.facility_mw * runs * hours * price).sum()) / MONTHS_PER_YEAR
    return revenue, energy + block.opex_usd_per_month


def phase_flows(result: Result, flows: list[float], ai: float) -> list[float]:
    """The flows of a phased build added to those of a build that starts whole at S (the last
    phase): with a per-step dispatch before the AI (a varying grid), the kept miners running in
    every step that pays from the first phase month instead of as dispatched; the AI margin of
    each phase's share from its online month (with a GPU life, to the
    end of that share's life, E_p, instead of E_S, and its resale at E_p:
    :func:`planner.model.phases.phase_life`), and the miners retired at a phase month: their
    margin lost until S, their salvage received then instead of at S."""
    from planner.model.phases import phase_life

    inp, out = result.inputs, list(flows)
    start = min(inp.ai_start_month, inp.horizon_months)
    e_s, sold_s = phase_life(inp, start)
    opt = result.chosen
    resale = inp.gpu_resale_share * opt.capex_usd.get("servers", 0.0) if inp.gpu_life_months is not None else 0.0
    for u, phase in zip(result.phase_shares, inp.phases, strict=True):
        lo = min(phase.online_month, start)
        e_p, sold_p = phase_life(inp, lo)
        for m in range(lo, e_p):
            out[m + 1] += ai * u
        for m in range(start, e_s):
            out[m + 1] -= ai * u
        out[e_p] += u * resale * sold_p
        out[e_s] -= u * resale * sold_s
        _phase_market_flows(inp, opt, u, lo, start, out)
    months = inp.phase_months()
    if inp.dispatch_before and months:  # from the first phase month the kept miners run in every step that pays
        hours, price = inp.profile.hours, inp.profile.price_usd_per_mwh
        gain = [0.0, 0.0]  # revenue, energy: every kept miner in every step that pays, less as dispatched
        for b in inp.miners:
            kept = result.miners_before.get(b.key, 0)
            full = np.where(b.margin_usd_per_hour(price) > 0, float(kept), 0.0)
            run = full - result.running_before.get(b.key, full)
            gain[0] += b.revenue_usd_per_hour * float((run * hours).sum()) / MONTHS_PER_YEAR
            gain[1] += float((b.facility_mw * run * hours * price).sum()) / MONTHS_PER_YEAR
        for m in range(months[0], start):
            out[m + 1] += gain[0] * inp.revenue_factor(m) - gain[1]
    for b in inp.miners:
        revenue, cost = _miner_month(inp, b)
        for month, n in zip(months, result.retired.get(b.key, []), strict=False):
            for m in range(month, start):
                out[m + 1] -= n * (revenue * inp.revenue_factor(m) - cost)
            out[month] += n * b.salvage_usd
            out[start] -= n * b.salvage_usd
    return out


def _phase_market_flows(inp: ScenarioInputs, opt: ClusterOption, u: float, lo: int, start: int,
                        out: list[float]) -> None:
    """The market charges of a share u online in months [lo, S) (planner.model.phases.
    phase_market_year_usd): each month's demand charge, and its coincident-peak charge a year
    later (its present value at the horizon's end when that falls past it)."""
    from planner.energy.economics import monthly_rate
    from planner.energy.markets import CP_BILLING_LAG_MONTHS
    from planner.model.phases import phase_market_year_usd

    cp, dc = phase_market_year_usd(inp, opt)
    if not u or not (cp or dc):
        return
    h, rm = inp.horizon_months, monthly_rate(inp.discount_rate)
    for m in range(lo, start):
        out[m + 1] -= u * dc / MONTHS_PER_YEAR
        billed = m + CP_BILLING_LAG_MONTHS
        if billed < h:
            out[billed + 1] -= u * cp / MONTHS_PER_YEAR
        else:
            out[h] -= u * cp / MONTHS_PER_YEAR * (1 + rm) ** -(billed + 1 - h)


def phase_schedule(result: Result) -> list[dict[str, Any]]:
    """The phases of the chosen plan, by online month: the share of the cluster, its IT MW and
    GPUs (the share of the option's), the grid from then, and the miners retired then."""
    inp = result.inputs
    if not inp.phases or result.option is None:
        return []
    opt = result.chosen
    months = inp.phase_months()
    out: list[dict[str, Any]] = []
    for phase, share in zip(inp.phases, result.phase_shares, strict=True):
        retired = 0
        if phase.online_month in months:
            q = months.index(phase.online_month)
            retired = sum(r[q] for r in result.retired.values())
        share = round(share, 9)  # the solver's share, to the last digit it means
        out.append({"name": phase.name, "online_month": phase.online_month, "share": share,
                    "ai_it_mw": round(share * opt.it_power_w / W_PER_MW, 6), "gpus": round(share * opt.gpus, 6),
                    "grid_mw": inp.phase_grid_mw(phase.online_month), "miners_retired": retired,
                    "halls": result.phase_halls[len(out)] if result.phase_halls else []})
    return out


def phase_months_power(result: Result, months: np.ndarray, ai_mw: float, before_mw: float, after_mw: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(AI, miners) grid import month by month of a phased plan, MW at the year's mean: the AI
    at the share of the cluster online (all of it from the AI start); before it, the miners
    kept less those retired at the phase months so far (as a share of those kept)."""
    inp = result.inputs
    start = min(inp.ai_start_month, inp.horizon_months)
    online = np.zeros(months.size)
    for share, phase in zip(result.phase_shares, inp.phases, strict=True):
        online += share * (months >= phase.online_month)
    ai = np.where(months >= start, ai_mw, ai_mw * np.minimum(online, 1.0))
    kept = sum(result.miners_before.values())
    left = np.full(months.size, float(kept))
    for month, *retired in zip(inp.phase_months(), *result.retired.values(), strict=False):
        left -= sum(retired) * (months >= month)
    share_left = left / kept if kept else np.zeros(months.size)
    return ai, np.where(months >= start, after_mw, before_mw * share_left)

"""Discounting and the cash-flow figures reported for a plan."""

from __future__ import annotations

import math
from collections.abc import Sequence

from planner.constants import HOURS_PER_YEAR as HOURS_PER_YEAR  # re-exported: outputs/summary.py imports it from here
from planner.constants import MONTHS_PER_YEAR


def monthly_rate(yearly: float) -> float:
    """Monthly rate equivalent to a yearly discount rate: (1 + r)^(1/12) - 1."""
    return (1 + yearly) ** (1 / MONTHS_PER_YEAR) - 1


def annuity_factor(yearly_rate: float, start_month: int, end_month: int) -> float:
    """Present value of 1 USD received at the end of each month in [start, end).

    sum over m = start .. end-1 of (1 + r_m)^-(m + 1), r_m the monthly rate.
    """
    if end_month <= start_month:
        return 0.0
    rm = monthly_rate(yearly_rate)
    if rm == 0:
        return float(end_month - start_month)
    return sum((1 + rm) ** -(m + 1) for m in range(start_month, end_month))


def npv(flows: Sequence[float], yearly_rate: float) -> float:
    """Net present value of monthly flows, flow m discounted by (1 + r_m)^-m."""
    rm = monthly_rate(yearly_rate)
    return sum(f * (1 + rm) ** -m for m, f in enumerate(flows))


def payback_years(flows: Sequence[float]) -> float | None:
    """Years until cumulative undiscounted cash turns non-negative for good.

    None when there is nothing to pay back (the cumulative cash never goes below zero: a
    plan with no capex) and when it never pays back (it ends below zero). Within the month
    it turns, the month's flow is taken as spread evenly.

    >>> payback_years([-120.0] + [10.0] * 24)
    1.0
    >>> payback_years([0.0, -5.0, -5.0]) is None, payback_years([0.0, 5.0]) is None
    (True, True)
    """
    total, last_negative = 0.0, None
    for m, f in enumerate(flows):
        total += f
        if total < 0:
            last_negative = m
    if last_negative is None or total < 0:
        return None
    m = last_negative + 1
    before = sum(flows[:m])
    frac = -before / flows[m]
    return round((m - 1 + frac) / MONTHS_PER_YEAR, 4)


def irr(flows: Sequence[float]) -> float | None:
    """Yearly internal rate of return of monthly flows (bisection on the monthly rate)."""
    if not any(f < 0 for f in flows) or not any(f > 0 for f in flows):
        return None

    import numpy as np

    cash = np.asarray(flows, dtype=float)
    months = np.arange(cash.size, dtype=float)

    def value(rm: float) -> float:  # the flows' present value at monthly rate rm
        return float((cash / (1 + rm) ** months).sum())

    lo, hi = -0.99, 1.0
    at_lo = value(lo)
    if at_lo * value(hi) > 0:
        return None
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):  # no float between them: every further halving keeps them (about 60 halvings)
            break
        at_mid = value(mid)
        if at_lo * at_mid <= 0:
            hi = mid
        else:
            lo, at_lo = mid, at_mid
    rm = (lo + hi) / 2
    return (1 + rm) ** MONTHS_PER_YEAR - 1 if math.isfinite(rm) else None

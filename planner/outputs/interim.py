"""The interim supply's part of a solved plan ([power.interim], :mod:`planner.model.interim`):
its monthly cash flows and its summary.json keys."""

from __future__ import annotations

from typing import Any

from planner.constants import MONTHS_PER_YEAR
from planner.model.interim import bridge_margin_usd_per_month, interim_energy_mwh_year, upgrade_need
from planner.model.optimize import Result


def interim_flows(result: Result) -> list[float]:
    """Monthly cash flows of the bridge (index m + 1 for month m, as the plan's flows): capex
    of the MW contracted at month 0, then in each bridge month the margin on the interim
    supply less its fixed cost (an upgrade bridge: the energy above the existing grid at the
    supply's price less the real-time price, and the fixed cost)."""
    inp = result.inputs
    flows = [0.0] * (inp.horizon_months + 1)
    i = inp.interim
    if i is None or not result.interim_start:
        return flows
    flows[0] -= i.capex_usd_per_mw * result.interim_mw
    if i.upgrade:  # the energy above the existing grid at the supply's price, not the real-time price
        month = -upgrade_need(inp, result.chosen)[2] / MONTHS_PER_YEAR - i.fixed_usd_per_mw_month * result.interim_mw
    else:
        month = bridge_margin_usd_per_month(inp, result.chosen) - i.fixed_usd_per_mw_month * result.interim_mw
    for m in range(i.start_month, min(i.end_month, inp.horizon_months)):
        flows[m + 1] += month
    return flows


def interim_summary(result: Result) -> dict[str, Any]:
    """summary.json's interim keys (none where the site states no interim supply the scenario
    can use): when the AI starts and when it could start on the grid, the MW contracted, the
    energy drawn and its cost, and the fixed cost (capex and fixed charges), undiscounted
    totals over the bridge months. An upgrade bridge: the grid start is the expansion's month."""
    inp = result.inputs
    i = inp.interim
    if i is None:
        return {}
    used = result.interim_start
    months = min(i.end_month, inp.horizon_months) - i.start_month if used else 0
    a_year = upgrade_need(inp, result.chosen)[1] if i.upgrade else interim_energy_mwh_year(inp, result.chosen)
    energy = a_year * months / MONTHS_PER_YEAR
    return {"ai_start_month": i.start_month if used or i.upgrade else inp.ai_start_month,
            "grid_start_month": i.end_month if i.upgrade else inp.ai_start_month,
            "interim_supply_mw": round(result.interim_mw if used else 0.0, 6),
            "interim_energy_mwh": round(energy, 3),
            "interim_energy_cost_usd": round(energy * i.usd_per_mwh, 2),
            "interim_fixed_cost_usd": round((i.capex_usd_per_mw + i.fixed_usd_per_mw_month * months)
                                            * (result.interim_mw if used else 0.0), 2)}

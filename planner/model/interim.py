"""Time to power as a price: an interim supply ([power.interim]: on-site generation or a
smaller interconnect) that lets the AI load start before the scenario's grid connection.

The scenario's grid start S (its build, or the grid queue for a new build) is when the AI
runs on the grid. With an interim supply available from month F (to month T, default S),
the chosen cluster may instead start at s = max(F, build) and run on the interim supply in
the bridge months [s, min(T, S)), paying the supply's energy price for its energy, and the
supply's fixed cost and capex for the MW contracted. Before s and in any gap up to S it earns
nothing. The bridge is part of the one model (:func:`add_interim_supply`): a binary per
cluster option says whether it starts early, a column the MW contracted. Neither touches
the per-step rows, so the step classes (:func:`planner.model.build.step_classes`) stay exact.

The AI runs in the bridge months in the same steps as on the grid (all of them when firm)
and is valued with the price year's hours, like the months beside the grid. A host scenario
(rent from a tenant) does not use the interim supply: its contract's flows start at the
grid start (a warning says so).

An existing connection waiting for its upgrade (a retrofit whose [grid.expansion] is ready
at month M, after the AI start S) is the other bridge (:func:`add_upgrade_bridge`): the AI
starts at S as planned, the existing grid carries what it can of its load and the interim
supply the rest, up to month M. The grid is used first: in step t the supply gives the AI's
average draw above the existing capacity, max(0, P_avg (PUE + d_t) - C_t), at its energy price
instead of the real-time price, and its MW contracted cover the AI's load at max power above
C_t. These are constants of each cluster option, so again no per-step row is added.
Limits, each refused with the key named (planner.model.inputs): a hybrid with miners (they
would share the bridged months with a dispatch of their own), a greenfield build, a host
scenario, phases, a supply that does not cover [S, M). Coincident-peak and demand charges of
the bridged months are counted on the whole load, as after M (an upper bound: the supply
lowers the grid import then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.constants import MONTHS_PER_YEAR, W_PER_MW
from planner.energy.economics import annuity_factor
from planner.model.lp import safe
from planner.model.scenario import ClusterOption, Interim, ScenarioInputs

if TYPE_CHECKING:
    from planner.model.plan import PlanModel

KW_PER_MW = 1000.0


def interim_terms(name: str, kind: str, capacity_mw: float, from_month: int, to_month: int | None,
                  usd_per_mwh: float, fixed_usd_per_kw_year: float, capex_usd_per_kw: float,
                  build_months: int, grid_start: int) -> Interim | None:
    """The bridge a scenario can use: months [max(from, build), min(to, grid start)); None
    when that is empty (the grid is ready as soon as the AI hall is)."""
    lo = max(from_month, build_months)
    hi = grid_start if to_month is None else min(to_month, grid_start)
    if lo >= hi:
        return None
    return Interim(name, kind, capacity_mw, lo, hi, usd_per_mwh, fixed_usd_per_kw_year * KW_PER_MW / MONTHS_PER_YEAR,
                   capex_usd_per_kw * KW_PER_MW)


def upgrade_terms(name: str, kind: str, capacity_mw: float, usd_per_mwh: float, fixed_usd_per_kw_year: float,
                  capex_usd_per_kw: float, ai_start: int, ready_month: int) -> Interim:
    """The bridge of an existing connection to its expansion: months [ai_start, ready_month)."""
    return Interim(name, kind, capacity_mw, ai_start, ready_month, usd_per_mwh,
                   fixed_usd_per_kw_year * KW_PER_MW / MONTHS_PER_YEAR, capex_usd_per_kw * KW_PER_MW, upgrade=True)


def upgrade_need(inp: ScenarioInputs, option: ClusterOption) -> tuple[float, float, float]:
    """What option k needs of the interim supply while the expansion is not there, from the
    existing grid C_t (the profile's capacity) and its load per step (on_t: it runs):

        need_k    = max_t max(0, P (PUE + d_t) on_t - C_t)              MW at max power
        E_k       = sum_t max(0, P_avg (PUE + d_t) on_t - C_t) h_t      MWh a year from the supply
        premium_k = sum_t (c_i - p_t) max(0, P_avg (PUE + d_t) on_t - C_t) h_t   USD a year

    (P: IT power at max, P_avg: its average draw; c_i the supply's price, p_t the real-time
    price the plan otherwise values that energy at). Returns (need_k, E_k, premium_k)."""
    i = inp.interim
    if i is None or not option.servers:
        return 0.0, 0.0, 0.0
    p = inp.profile
    factor = (option.pue + p.delta()) * inp.ai_on(option)
    need = float(np.max(option.it_power_w / W_PER_MW * factor - p.capacity_mw, initial=0.0))
    above = np.maximum(inp.average_it_mw(option) * factor - p.capacity_mw, 0.0)
    return max(need, 0.0), float((above * p.hours).sum()), float(((i.usd_per_mwh - p.price_usd_per_mwh)
                                                                  * above * p.hours).sum())


def bridge_annuity(inp: ScenarioInputs) -> float:
    """Annuity factor of the bridge months: sum_{m=s}^{e-1} (1 + r_m)^-(m+1)."""
    i = inp.interim
    if i is None:
        return 0.0
    return annuity_factor(inp.discount_rate, i.start_month, min(i.end_month, inp.horizon_months))


def interim_load_mw(inp: ScenarioInputs, option: ClusterOption) -> float:
    """The MW the option needs from the interim supply: its facility power at max power in the
    step that needs most, max_t P (PUE + d_t) on_t (the grid rows' load)."""
    if not option.servers:
        return 0.0
    load = option.it_power_w / W_PER_MW * (option.pue + inp.profile.delta()) * inp.ai_on(option)
    return float(np.max(load, initial=0.0))


def interim_energy_mwh_year(inp: ScenarioInputs, option: ClusterOption) -> float:
    """Energy the AI draws from the interim supply a year: as on the grid (average IT draw x
    (PUE + d_t) over the hours it runs)."""
    return inp.ai_energy_mwh_year(option) if option.servers else 0.0


def bridge_margin_usd_per_month(inp: ScenarioInputs, option: ClusterOption) -> float:
    """Lease revenue less the interim energy and fixed opex of the option, per bridge month:

        G lease u H_on / 12 - E c_i / 12 - P opex / 12

    (E: interim energy a year, c_i: its price; the grid's price plays no part)."""
    i = inp.interim
    if i is None or not option.servers:
        return 0.0
    revenue = option.gpus * inp.lease_usd_per_gpu_hour * inp.utilization * inp.ai_hours_year(option)
    energy = interim_energy_mwh_year(inp, option) * i.usd_per_mwh
    opex = option.it_power_w / W_PER_MW * inp.ai_opex_usd_per_mw_year
    return (revenue - energy - opex) / MONTHS_PER_YEAR


def bridge_value_usd(inp: ScenarioInputs, option: ClusterOption) -> float:
    """Present value of running the option on the interim supply in the bridge months (its
    margin there x their annuity), before the cost of the MW contracted."""
    return bridge_margin_usd_per_month(inp, option) * bridge_annuity(inp)


def cost_per_mw_usd(inp: ScenarioInputs) -> float:
    """Present cost of one MW contracted: capex at the decision plus the fixed cost in each
    bridge month, K + f A_bridge."""
    i = inp.interim
    if i is None:
        return 0.0
    return i.capex_usd_per_mw + i.fixed_usd_per_mw_month * bridge_annuity(inp)


def add_interim_supply(model: PlanModel, scale: float) -> None:
    """The AI may start on the interim supply before the grid start:

    objective  + sum_k V_k z_k - (K + f A_b) x
    rows       z_k - y_k <= 0                      for every option k with servers
               sum_k L_k z_k - x <= 0,  0 <= x <= X

    z_k (binary): option k runs on the interim supply in the bridge months; y_k: option k is
    built; V_k: :func:`bridge_value_usd`; x: MW contracted, at most the supply's X; K: capex
    per MW; f: fixed cost per MW-month; A_b: annuity of the bridge months; L_k: the option's
    facility MW at max power (:func:`interim_load_mw`). One cluster is built (sum_k y_k = 1),
    so at most one z_k is 1 and the cheapest x is that option's L_k. The solver sees
    ``scale`` USD.
    """
    inp, lp = model.inputs, model.lp
    if inp.interim is None:
        return
    if inp.interim.upgrade:
        add_upgrade_bridge(model, scale)
        return
    opts = [k for k, o in enumerate(inp.options) if o.servers]
    if not opts:
        return
    name = safe(inp.interim.name or "interim")
    idx = np.asarray(opts, dtype=np.int64)
    early = lp.columns([f"interim_on__{k}" for k in opts], 0, 1, integer=True)
    mw = lp.column("interim_mw", 0, inp.interim.capacity_mw)
    lp.add_cost(early, scale * np.array([bridge_value_usd(inp, inp.options[k]) for k in opts], dtype=float))
    lp.add_cost(mw, -scale * cost_per_mw_usd(inp))
    n = len(opts)
    r = np.arange(n)
    lp.rows("interim_start", opts, np.concatenate([r, r]), np.concatenate([early, model.size[idx]]),
            np.concatenate([np.ones(n), -np.ones(n)]), None, 0.0)
    load = np.array([interim_load_mw(inp, inp.options[k]) for k in opts], dtype=float)
    lp.row("interim_supply", np.concatenate([early, [mw]]), np.concatenate([load, [-1.0]]), None, 0.0)
    model.interim = (early, mw)
    model.meaning["interim_on__T"] = (f"cluster option T starts on the interim supply ({name}) in months "
                                         f"{inp.interim.start_month}-{inp.interim.end_month - 1}")
    model.meaning["interim_mw"] = f"MW contracted from the interim supply ({name})"
    model.meaning["interim_start__T"] = "cluster option T starts early only if it is built"
    model.meaning["interim_supply"] = "the AI's load in the bridge months is within the MW contracted"


def add_upgrade_bridge(model: PlanModel, scale: float) -> None:
    """The interim supply carries the AI's load above the existing grid until the expansion
    (months [S, M), annuity A_b; :func:`upgrade_need`):

    objective  - sum_k premium_k A_b / 12 y_k - (K + f A_b) x
    rows       sum_k need_k y_k - x <= 0,  0 <= x <= X

    y_k: option k is built (one is: sum_k y_k = 1, so x is the chosen option's need_k);
    an option whose need exceeds the supply's X cannot be built (its load does not fit before
    the expansion). The option's load above the existing grid also needs the expansion from
    M on: the grid rows beside the AI (:func:`planner.model.build.add_grid_capacity`) hold
    it with the expansion's MW, as when it is ready at S. The solver sees ``scale`` USD."""
    inp, lp = model.inputs, model.lp
    i = inp.interim
    assert i is not None
    needs = [upgrade_need(inp, o) for o in inp.options]
    annuity = bridge_annuity(inp)
    mw = lp.column("interim_mw", 0, i.capacity_mw)
    lp.add_cost(mw, -scale * cost_per_mw_usd(inp))
    lp.add_cost(model.size, -scale * np.array([n[2] * annuity / MONTHS_PER_YEAR for n in needs], dtype=float))
    load = np.array([n[0] for n in needs], dtype=float)
    lp.row("interim_upgrade_supply", np.concatenate([model.size, [mw]]), np.concatenate([load, [-1.0]]), None, 0.0)
    model.interim = (np.zeros(0, dtype=np.int64), mw)
    name = safe(i.name or "interim")
    model.meaning["interim_mw"] = f"MW contracted from the interim supply ({name}) until the grid expansion"
    model.meaning["interim_upgrade_supply"] = (f"the AI's load above the existing grid in months {i.start_month}-"
                                               f"{i.end_month - 1} is within the MW contracted")


def read_back(model: PlanModel, x: np.ndarray) -> tuple[bool, float]:
    """(the chosen cluster runs on the interim supply, MW contracted): before the grid start,
    or (an upgrade bridge) above the existing grid until the expansion."""
    if model.interim is None:
        return False, 0.0
    early, mw = model.interim
    inp = model.inputs
    if inp.interim is not None and inp.interim.upgrade:
        chosen = int(np.argmax(x[model.size]))
        return upgrade_need(inp, inp.options[chosen])[0] > 0, float(x[mw])
    return bool(np.any(x[early] > 0.5)), float(x[mw])


def interim_binding(inp: ScenarioInputs, chosen: int, started: bool, mw: float) -> list[str]:
    """What the interim supply's capacity stops, in words: the chosen cluster would pay to
    start early but needs more than the supply gives, or it runs on all of it."""
    i = inp.interim
    if i is None:
        return []
    option = inp.options[chosen]
    bridge = f"months {i.start_month}-{i.end_month - 1}"
    if i.upgrade:
        if option.servers and mw >= i.capacity_mw - 1e-9:
            return [f"interim supply: all its {i.capacity_mw:g} MW carry the AI above the existing grid in {bridge} "
                    f"(the expansion is ready at month {i.end_month}); a larger cluster would need more"]
        return []
    need = interim_load_mw(inp, option)
    if not option.servers:
        return []
    if started and mw >= i.capacity_mw - 1e-9:
        return [f"interim supply: {need:.3f} MW of its {i.capacity_mw:g} MW carry the AI in {bridge}"]
    if not started and need > i.capacity_mw and bridge_value_usd(inp, option) > cost_per_mw_usd(inp) * need:
        return [f"interim supply: the cluster needs {need:.3f} MW to start early, the supply gives "
                f"{i.capacity_mw:g} MW (the AI waits for the grid at month {inp.ai_start_month})"]
    return []

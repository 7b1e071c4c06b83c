"""Solving the plan model and explaining what it gives: run HiGHS or CBC on the arrays
(:func:`run_solver`), read the solution back into a typed :class:`Result`, name the
constraint families that bind an optimal plan (:func:`binding_families`), and, for an
infeasible one, re-solve with slack on each family to say which cannot be met
(:func:`explain_infeasible`). Building the model is :mod:`planner.model.build`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.constants import W_PER_MW
from planner.model.build import OBJECTIVE_SCALE, build_model
from planner.model.hosting import plan_capex_usd
from planner.model.interim import interim_binding, upgrade_need
from planner.model.interim import read_back as interim_read_back
from planner.model.lp import LinearProgram, Solution, Status, solve_highs, solve_pulp
from planner.model.markets import read_back
from planner.model.phases import phase_binding
from planner.model.plan import PlanModel
from planner.model.scenario import ClusterOption, MinerBlock, ScenarioInputs


@dataclass
class Result:
    """A solved scenario: status, objective and the chosen values."""

    inputs: ScenarioInputs
    status: Status
    solver: str
    objective_usd: float | None
    option_index: int | None
    miners_before: dict[str, int]
    miners_with_ai: dict[str, int]
    binding: list[str]
    infeasibility: list[str]
    build_seconds: float
    solve_seconds: float
    running: dict[str, Any] = field(default_factory=dict)  # block -> miners running per step
    running_before: dict[str, Any] = field(default_factory=dict)  # before the AI start
    expanded: bool = False  # the grid expansion is bought
    miners_moved: dict[str, int] = field(default_factory=dict)  # block -> miners moved out of AI halls
    solver_status: str = ""  # the solver's own words for how it stopped ("Time limit reached")
    solver_log: str = ""  # the solver's log, when asked for (--solver-log)
    markets: dict[str, Any] = field(default_factory=dict)  # reserve offers per step, monthly peaks (model.markets)
    phase_shares: list[float] = field(default_factory=list)  # share of the cluster per phase (inputs.phases)
    retired: dict[str, list[int]] = field(default_factory=dict)  # block -> miners retired per phase month
    phase_halls: list[list[str]] = field(default_factory=list)  # the halls built in each phase (with halls)
    interim_start: bool = False  # the AI starts on the interim supply before the grid start (model.interim)
    interim_mw: float = 0.0  # MW contracted from the interim supply
    scenario_seconds: float | None = None  # inputs, model and solve, timed by the pipeline (what stderr reports)

    @property
    def option(self) -> ClusterOption | None:
        """The chosen cluster option; None when the solve found no plan."""
        return None if self.option_index is None else self.inputs.options[self.option_index]

    @property
    def chosen(self) -> ClusterOption:
        """The chosen cluster option of a result that has a plan (what the outputs describe)."""
        if self.option_index is None:
            raise ValueError(f"{self.inputs.scenario}: no plan ({self.status})")
        return self.inputs.options[self.option_index]


PRESOLVE_MAX_ROWS = 5000  # HiGHS presolve spends seconds on long per-step models for no gain
# MIP families whose branch and bound needs HiGHS's presolve: the phases' size choices tied by
# their share rows took 50 times longer without it (texas-phased: 2 ms against 120 to 190)
PRESOLVE_FAMILIES = frozenset({"phase_shares"})


def presolve_pays(lp: LinearProgram) -> bool:
    """Whether HiGHS's presolve runs. Off for per-step models above PRESOLVE_MAX_ROWS rows
    (seconds for no gain); off for the MIPs that choose one cluster option among hundreds
    and a fleet (their root relaxation is nearly the answer, and presolve's probing cost more
    than the rest of the solve: Xinjiang's hybrid 23 ms against 11, its retrofit 13 against
    3, measured in docs/benchmarks.md); on for LPs below that size and for MIPs of
    :data:`PRESOLVE_FAMILIES`. On or off, the optimum is the same (tests/test_optimize.py)."""
    if lp.num_rows > PRESOLVE_MAX_ROWS:
        return False
    return not lp.has_integers or any(b.family.split("__")[0] in PRESOLVE_FAMILIES for b in lp.blocks)


def _cbc() -> Any:  # a PuLP solver object (PuLP has no type hints)
    """CBC (through PuLP): the cbcbox binary (``pulp[cbc]``), else one on PATH, else PuLP's
    bundled one."""
    import shutil
    import warnings

    import pulp

    try:
        import cbcbox

        # CBC's preprocessing can lose the optimum on these models ("postprocessing changed
        # objective ... possible tolerance issue"): seen on the hourly Texas site.
        return pulp.COIN_CMD(msg=False, path=cbcbox.cbc_bin_path(), options=["preprocess off"])
    except (ImportError, AttributeError, OSError):
        pass
    if shutil.which("cbc"):
        return pulp.COIN_CMD(msg=False, options=["preprocess off"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False)


def run_solver(lp: LinearProgram, solver: str = "highs", keep_log: bool = False) -> tuple[Solution, str]:
    """Solve the arrays with HiGHS (highspy), or with CBC through PuLP: (solution, solver used).
    With ``keep_log`` the solution carries the solver's log."""
    if solver == "highs":
        try:
            import highspy  # noqa: F401
        except ImportError:  # pragma: no cover - highspy is a dependency
            solver = "cbc"
        else:
            return solve_highs(lp, presolve=presolve_pays(lp), keep_log=keep_log), "highs"
    if solver == "cbc":
        return solve_pulp(lp, _cbc(), keep_log=keep_log), "cbc"
    raise ValueError(f"unknown solver {solver!r} (use 'highs' or 'cbc')")

# a scenario without an answer, by status: what happened and what to try ({words}: the solver's
# own status, {other}: the other solver)
NO_ANSWER = {
    Status.NOT_SOLVED: "the solver stopped ({words}) before it found the best plan or proved there is none, so the "
                       "plan is not known to be infeasible; try --solver {other}, a shorter price series (or one "
                       "resampled to hourly steps), or fewer cluster options (ai.min_gpus and ai.max_gpus closer "
                       "together); figures of very different sizes (a cost of 1e12 beside one of 0.01) can trouble "
                       "a solver",
    Status.UNBOUNDED: "the solver found the NPV unbounded ({words}): some revenue grows without a cost or a limit; "
                      "check the lease price, the BTC price, the power prices and the grid capacity, or try "
                      "--solver {other}",
    Status.ERROR: "the solver failed ({words}), so the plan is not known to be infeasible; try --solver {other}",
}


def solve(model: PlanModel, solver: str = "highs", keep_log: bool = False) -> Result:
    """Solve; on infeasibility re-solve elastically and name the binding families. A solver
    that stops without an answer (a limit, numerical trouble, unbounded) gives its status,
    not "infeasible". With ``keep_log`` the result carries the solver's log."""
    t0 = time.perf_counter()
    sol, used = run_solver(model.lp, solver, keep_log=keep_log) if keep_log else run_solver(model.lp, solver)
    seconds = time.perf_counter() - t0
    inp = model.inputs
    status, words = sol.status, f"{used}: {sol.detail}"
    if status is not Status.OPTIMAL:
        reasons = explain_infeasible(inp, solver) if status is Status.INFEASIBLE else []
        if status is Status.INFEASIBLE and not reasons:  # a plan needs no slack: not infeasible after all
            status, words = Status.NOT_SOLVED, f"{words}, yet with slack on every constraint family a plan needs none"
        return Result(inp, status, used, None, None, {}, {}, [], reasons, model.build_seconds,
                      seconds, solver_status=words, solver_log=sol.log)
    x = sol.x
    chosen = int(np.argmax(x[model.size]))
    before, with_ai = _values(model.keep_before, x), _values(model.keep_with_ai, x)
    assert sol.objective is not None, "an optimal solution has an objective"
    objective = sol.objective / OBJECTIVE_SCALE
    expanded = bool(model.expand is not None and x[model.expand] > 0.5)
    running, running_before = _series_values(model, "after", x), _series_values(model, "before", x)
    with_ai = _trim_idle(inp, with_ai, running)
    moved = {b.key: moved_miners(inp, b, inp.options[chosen], with_ai.get(b.key, 0)) for b in inp.miners
             if b.placed and inp.miners_with_ai}
    shares = model.phase_share.get(chosen)
    phase_shares = [] if not inp.phases else ([float(v) for v in x[shares]] if shares is not None
                                              else [0.0] * len(inp.phases))
    retired = {k: [round(float(v)) for v in x[cols]] for k, cols in model.retire.items()}
    halls = model.hall_phase.get(chosen)
    phase_halls = [] if halls is None else [
        [h.name for h, on in zip(inp.options[chosen].halls, x[halls[:, p]] > 0.5, strict=True) if on]
        for p in range(len(inp.phases))]
    early, early_mw = interim_read_back(model, x)
    binding = binding_families(inp, chosen, before, with_ai, running, running_before, expanded)
    binding += phase_binding(inp, chosen, before, phase_shares, retired)
    binding += interim_binding(inp, chosen, early, early_mw)
    return Result(inp, status, used, objective, chosen, before, with_ai, binding, [],
                  model.build_seconds, seconds, running, running_before, expanded, moved, words, sol.log,
                  read_back(model, x), phase_shares, retired, phase_halls, interim_start=early, interim_mw=early_mw)


def outcome(result: Result) -> str:
    """One line for a scenario without a plan: what binds when it is infeasible; else the
    solver's status and what to try."""
    if result.status is Status.INFEASIBLE:
        return "infeasible: " + "; ".join(result.infeasibility)
    text = NO_ANSWER.get(result.status, NO_ANSWER[Status.ERROR])
    return f"no answer ({result.status}): " + text.format(words=result.solver_status,
                                                          other="cbc" if result.solver == "highs" else "highs")


def moved_miners(inp: ScenarioInputs, block: MinerBlock, option: ClusterOption, kept: int) -> int:
    """Miners of an existing block kept beside the AI that stood in halls the AI takes:
    the kept ones are first those already in free halls."""
    return max(0, kept - (block.count - inp.must_move(block, option)))


def _trim_idle(inp: ScenarioInputs, kept: dict[str, int], running: dict[str, np.ndarray]) -> dict[str, int]:
    """Miners kept beside the AI that never run, when keeping them costs nothing (no opex,
    no resale value), are an equally optimal choice to not keeping them: report the
    smaller, ceil(most running at once), so that the summary does not count idle miners."""
    out = dict(kept)
    for b in inp.miners:
        if b.key in running and inp.miner_coefficients(b)[1] == 0:
            out[b.key] = min(kept.get(b.key, 0), math.ceil(float(running[b.key].max(initial=0.0)) - 1e-6))
    return out


def _values(columns: dict[str, int], x: np.ndarray) -> dict[str, int]:
    return {k: round(float(x[c])) for k, c in columns.items()}


def _series_values(model: PlanModel, period: str, x: np.ndarray) -> dict[str, np.ndarray]:
    """Miners running in each step, from the solved column of each step's class."""
    runs = model.run if period == "after" else model.run_before
    if not runs:
        return {}
    cls = model.classes[period][0]
    return {k: x[cols][cls] for k, cols in runs.items()}


def miner_running(result: Result) -> dict[str, np.ndarray]:
    """Miners running beside the AI in each step (the dispatch, or all kept ones)."""
    inp = result.inputs
    steps = inp.profile.steps
    return {b.key: result.running.get(b.key, np.full(steps, float(result.miners_with_ai.get(b.key, 0))))
            for b in inp.miners}


def ai_load_mw(inp: ScenarioInputs, option: ClusterOption) -> np.ndarray:
    """Facility power of the AI cluster in each step, MW: IT at max power x (PUE + the
    temperature term), in the steps it runs."""
    return option.it_power_w / W_PER_MW * (option.pue + inp.profile.delta()) * inp.ai_on(option)


def grid_load(inp: ScenarioInputs, option_index: int, before: dict[str, int], with_ai: dict[str, int],
              running: dict[str, np.ndarray] | None = None,
              running_before: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, float | np.ndarray]:
    """Facility power drawn from the grid, re-derived from the choice, MW:
    (per step once the AI runs, before the AI start). The AI counts at max power; miners
    beside it as dispatched (all kept ones when there is no dispatch)."""
    option = inp.options[option_index]
    load = ai_load_mw(inp, option)
    for b in inp.miners:
        if running and b.key in running:
            load = load + b.facility_mw * running[b.key]
        else:
            load = load + b.facility_mw * with_ai.get(b.key, 0)
    if running_before:
        pre = sum(b.facility_mw * running_before[b.key] for b in inp.miners)
    else:
        pre = sum(float(np.max(b.facility_mw)) * before.get(b.key, 0) for b in inp.miners)
    return load, pre


def facility_mw(inp: ScenarioInputs, option_index: int, before: dict[str, int], with_ai: dict[str, int],
                running: dict[str, np.ndarray] | None = None) -> tuple[float, float]:
    """(peak with the AI, before the AI) facility power, MW."""
    load, pre = grid_load(inp, option_index, before, with_ai, running)
    return float(load.max()), float(np.max(pre))


def next_option(inp: ScenarioInputs, chosen: int) -> ClusterOption | None:
    """The next larger cluster of the same hall plan, or of a plan that extends it into
    more halls (None at the largest)."""
    here, cols = inp.options[chosen], inp.option_columns()
    n = len(here.plan)
    if here.servers == 0:
        at = np.flatnonzero(cols.servers > 0)
    else:  # the options of the plans that begin with this one, in their order
        at = np.sort(np.concatenate([ks for plan, ks in cols.by_plan.items() if plan[:n] == here.plan]))
        at = at[cols.servers[at] > here.servers]
    if not at.size:
        return None
    # the fewest servers, then the cheapest; of equals the first listed (a stable sort)
    return inp.options[int(at[np.lexsort((cols.capex[at], cols.servers[at]))[0]])]


def binding_families(inp: ScenarioInputs, chosen: int, before: dict[str, int], with_ai: dict[str, int],
                     running: dict[str, np.ndarray] | None = None,
                     running_before: dict[str, np.ndarray] | None = None, expanded: bool = False) -> list[str]:
    """Families that stop the plan from growing: the next larger option, or one more
    miner that would pay in some step, would break them."""
    out = []
    load, pre = grid_load(inp, chosen, before, with_ai, running, running_before)
    caps = inp.profile.capacity_mw + (inp.expansion_mw if expanded else 0.0)
    headroom = caps - load
    nxt = next_option(inp, chosen)
    tight = np.zeros(inp.profile.steps, dtype=bool)
    if nxt is not None:
        tight |= headroom < ai_load_mw(inp, nxt) - ai_load_mw(inp, inp.options[chosen]) - 1e-9
    for b in inp.miners:
        if not inp.miners_with_ai:
            continue
        run = running[b.key] if running and b.key in running else np.full(inp.profile.steps, with_ai.get(b.key, 0))
        cap_b = before.get(b.key, 0) if inp.miners_before_ai else b.count
        pays = b.margin_usd_per_hour(inp.profile.price_usd_per_mwh) > 0
        tight |= pays & (run < cap_b - 1e-6) & (headroom < b.facility_mw - 1e-9)
    if tight.any():
        worst = int(np.argmin(np.where(tight, headroom, np.inf)))
        where = f" at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
        extra = f" ({int(tight.sum())} of {inp.profile.steps} steps)" if inp.profile.steps > 1 else ""
        out.append(f"grid capacity: {load[worst]:.3f} MW of {caps[worst]:g} MW used with the AI load{where}{extra}")
    if inp.miner_space and inp.miners_with_ai and inp.miners:
        here = inp.options[chosen]
        free = sum(inp.hall_positions.values()) - inp.positions_taken(here)
        kept = sum(with_ai.values())
        wants = any(with_ai.get(b.key, 0) < (before.get(b.key, 0) if inp.miners_before_ai else b.count)
                    and bool(np.any(b.margin_usd_per_hour(inp.profile.price_usd_per_mwh) > 0)) for b in inp.miners)
        if wants and kept >= free:
            taken = ", ".join(h.name for h in here.halls if inp.hall_positions.get(h.name))
            out.append(f"miner space: {kept:,} miners beside the AI fill the {free:,} free miner positions"
                       + (f" (the AI takes {taken})" if taken else ""))
    steps_before = [float(np.max(b.facility_mw)) for b in inp.miners if inp.miners_before_ai
                    and before.get(b.key, 0) < b.count and inp.miner_before_value(b) > 0]
    caps = inp.profile.capacity_mw
    pre_room = caps - pre
    if steps_before and pre_room.min() < min(steps_before) - 1e-9:
        worst = int(np.argmin(pre_room)) if np.ndim(pre) else int(np.argmin(caps))
        used = float(np.asarray(pre)[worst]) if np.ndim(pre) else float(pre)
        where = f" at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
        out.append(f"grid capacity before the AI start: {used:.3f} MW of {caps[worst]:g} MW used{where}")
    option = inp.options[chosen]
    reason = inp.capped_by.get(option.group)
    if nxt is None and option.servers and reason:
        out.append(f"cluster size: {option.gpus} GPUs is the largest option ({reason})")
    if option.required_gpus and option.gpus == option.required_gpus:
        out.append(f"min GPUs: {option.gpus} built, {option.required_gpus} required")
    if inp.capex_budget_usd is not None and nxt is not None \
            and plan_capex_usd(inp, nxt) > inp.capex_budget_usd >= plan_capex_usd(inp, option):
        out.append(f"capex budget: {plan_capex_usd(inp, option):,.0f} of "
                   f"{inp.capex_budget_usd:,.0f} USD; the next size needs {plan_capex_usd(inp, nxt):,.0f}")
    return out


def _min_gpus_refused(inp: ScenarioInputs, need: int) -> str:
    """Why none of the plans of at least ``need`` GPUs can be chosen, when the halls and the
    switches' tiers do build some: the grid cannot carry the AI of any (the one that comes
    closest is named, at the step where it overdraws most), or the capex budget cannot pay
    for any that the grid carries."""
    built = [o for o in inp.options if o.gpus >= need]
    capacity = np.atleast_1d(np.asarray(inp.profile.capacity_mw, dtype=float))  # per step
    loads = [np.broadcast_to(np.asarray(ai_load_mw(inp, o), dtype=float), capacity.shape) for o in built]
    over = [float(np.max(load - capacity)) for load in loads]
    fits = [o for o, x in zip(built, over, strict=True) if x <= 1e-9]
    if not fits:
        k = int(np.argmin(over))
        worst = int(np.argmax(loads[k] - capacity))
        at = f", at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
        return (f"min GPUs: {need} required: the least the AI of a plan with them draws is {loads[k][worst]:.1f} MW "
                f"({built[k].gpus} GPUs, facility power), the grid gives {capacity[worst]:g} MW{at}")
    if inp.capex_budget_usd is not None:
        cheapest = min(fits, key=lambda o: plan_capex_usd(inp, o))
        if plan_capex_usd(inp, cheapest) > inp.capex_budget_usd:
            return (f"min GPUs: {need} required: the cheapest plan with them that the grid carries costs "
                    f"{plan_capex_usd(inp, cheapest):,.0f} USD ({cheapest.gpus} GPUs), the capex budget is "
                    f"{inp.capex_budget_usd:,.0f} USD")
    return (f"min GPUs: {need} required: plans of up to {max(o.gpus for o in built)} GPUs fit the halls and the "
            "switches' tiers, but the site's other limits refuse each of them")


def explain_infeasible(inp: ScenarioInputs, solver: str = "highs") -> list[str]:
    """Re-solve with slack on each family; one actionable sentence per family that binds.
    Empty when the re-solve needs no slack (the model was not infeasible)."""
    model = build_model(inp, elastic=True)
    sol, used = run_solver(model.lp, solver)
    if sol.status is Status.INFEASIBLE:  # a family without slack binds
        return ["the problem is infeasible, but no single constraint family explains it"]
    if sol.status is not Status.OPTIMAL:
        return [f"the re-solve with slack that names what binds stopped without an answer "
                f"({sol.status}; {used}: {sol.detail})"]
    x = sol.x
    out = []
    chosen = int(np.argmax(x[model.size]))
    option = inp.options[chosen]
    running = _series_values(model, "after", x)
    load, before = grid_load(inp, chosen, _values(model.keep_before, x), _values(model.keep_with_ai, x), running)
    over = load - inp.profile.capacity_mw
    worst = int(np.argmax(over))
    with_ai = float(load[worst])
    at = f", at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
    for family, col in model.elastic.items():
        amount = float(x[col])
        if amount <= 1e-6:
            continue
        if family == "grid_capacity_with_ai":
            out.append(f"grid capacity: {with_ai:.1f} MW needed for {option.gpus} GPUs, "
                       f"{inp.profile.capacity_mw[worst]:g} MW available{at}")
        elif family == "grid_capacity_before_ai":
            out.append(f"grid capacity before the AI start: {before:.1f} MW needed, "
                       f"{inp.profile.capacity_mw.min():g} MW available")
        elif family == "min_gpus":
            best = max((o.gpus for o in inp.options), default=0)
            need = max((o.required_gpus for o in inp.options), default=inp.min_gpus)
            i = inp.interim
            blocked = [upgrade_need(inp, o)[0] for o in inp.options
                       if i is not None and i.upgrade and o.required_gpus and o.gpus >= o.required_gpus
                       and upgrade_need(inp, o)[0] > i.capacity_mw]
            if i is not None and blocked:
                out.append(f"interim supply: the required GPUs need {min(blocked):.3f} MW above the existing grid "
                           f"until the expansion at month {i.end_month}, the supply gives {i.capacity_mw:g} MW "
                           "(power.interim.capacity_mw)")
            elif best >= need:  # plans with the GPUs exist: something else refuses every one of them
                out.append(_min_gpus_refused(inp, need))
            else:
                # a plan refused across a route beyond grey reach says why (campus interconnect, issue 22)
                routes = sorted(w for w in inp.warnings if w.startswith("plans across routes["))
                out.append(f"min GPUs: {need} required, at most {best} can be built within the switches' "
                           f"tiers and the halls" + "".join(f"; {w}" for w in routes))
        elif family == "capex_budget":
            out.append(f"capex budget: {plan_capex_usd(inp, option):,.0f} USD needed, "
                       f"{inp.capex_budget_usd:,.0f} USD available")
    return out

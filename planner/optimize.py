"""The PuLP model: choose a cluster size (binaries over the fabric builder's options)
and the miners to keep, under grid capacity, PUE, GPU bounds and budget, maximising NPV.

Constraint families each have one ``add_*`` function; :func:`build_model` calls them in
order. Names are built from sanitised keys with ``__`` as separator, so they survive
PuLP's renaming; :attr:`PlanModel.meaning` maps each name back.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from planner.inputs import ScenarioInputs


class Status(StrEnum):
    """Solve outcome (never a bare solver integer)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NOT_SOLVED = "not_solved"
    ERROR = "error"


def safe(text: str) -> str:
    """A PuLP-safe name fragment: characters PuLP rewrites become '_'."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


@dataclass
class PlanModel:
    """A built (not yet solved) problem with its named variables."""

    inputs: ScenarioInputs
    problem: Any
    size: dict[int, Any]  # option index -> binary
    keep_before: dict[str, Any]  # miner block key -> miners running before the AI start
    keep_with_ai: dict[str, Any]  # miner block key -> miners running beside the AI
    ai_groups: list = field(default_factory=list)  # (steps on, facility MW var, IT MW var) per group
    expand: Any = None  # binary: buy the grid expansion
    run: dict[str, list] = field(default_factory=dict)  # block -> miners running, one column per step class
    run_before: dict[str, list] = field(default_factory=dict)  # the same, before the AI start
    elastic: dict[str, Any] = field(default_factory=dict)  # family -> slack variable
    meaning: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0
    moved: dict[str, Any] = field(default_factory=dict)  # block -> miners moved to another hall
    classes: dict[str, tuple] = field(default_factory=dict)  # period -> (class of each step, first step of each)


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

    @property
    def option(self):
        return None if self.option_index is None else self.inputs.options[self.option_index]


OBJECTIVE_SCALE = 1e-6  # the solver sees million USD: better-scaled costs
FAMILIES = ("grid_capacity_with_ai", "grid_capacity_before_ai", "min_gpus", "capex_budget")



def step_classes(inputs: ScenarioInputs, period: str = "after") -> tuple[np.ndarray, np.ndarray]:
    """(class of each step, first step of each class): steps the model cannot tell apart.

    Two steps fall in one class when they have the same grid capacity, the same PUE term,
    the AI on in the same option groups (after the start) and the same miner blocks worth
    running (positive dispatch value). Within a class the optimal dispatch is the same in
    every step: for a kept fleet, each step's dispatch is a fractional knapsack over the
    same headroom, filled in the order of value per MW, and that order is the same in
    every step (a miner's value per MW is its revenue per MW less the price, scaled by the
    step's hours, and its MW scales with the step's PUE alike for every block). So one
    column per block and class, valued at the sum of its steps' values, with one dispatch
    row and one grid row per class, has the same optimum as the per-step model.
    """
    p = inputs.profile
    features = [p.capacity_mw, p.delta()]
    if period == "after":
        features += [inputs.ai_on(o) for o in inputs.options]
    features += [inputs.dispatch_coefficients(b, period) > 0 for b in inputs.miners]
    return _classes(features, p.steps)


def _classes(columns: list[np.ndarray], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal values across ``columns``, numbered by first appearance: (class of each
    row, first row of each class). Hash factorisation, one column at a time, in O(rows x
    columns): a sort of the rows as tuples costs ten times more on a year of 15-minute steps."""
    import pandas as pd

    key = np.zeros(steps, dtype=np.int64)
    count = 1
    for column in columns:
        codes, uniques = pd.factorize(np.broadcast_to(np.asarray(column), (steps,)), sort=False)
        if count * max(len(uniques), 1) >= 2**62:  # keep the mixed-radix key within int64
            key, _ = pd.factorize(key, sort=False)
            count = int(key.max()) + 1 if steps else 1
        key = key * max(len(uniques), 1) + codes
        count *= max(len(uniques), 1)
    cls, uniques = pd.factorize(key, sort=False)  # numbered by first appearance
    first = np.full(len(uniques), steps, dtype=np.int64)
    np.minimum.at(first, cls, np.arange(steps))
    return cls.astype(np.int64), first


def build_model(inputs: ScenarioInputs, *, elastic: bool = False, reduce: bool = True) -> PlanModel:
    """Create variables, objective and every constraint family.

    With ``elastic=True`` each family gets a non-negative slack priced far above any
    plan value, so the problem is always feasible and the slacks name what binds. With
    ``reduce`` (the default) the dispatch runs per class of steps the model cannot tell
    apart (:func:`step_classes`), an exact reduction; ``reduce=False`` builds the
    reference model with a column per step.
    """
    import pulp

    t0 = time.perf_counter()
    prob = pulp.LpProblem(safe(f"plan__{inputs.scenario}"), pulp.LpMaximize)
    size = {i: _var(prob, f"size__{i}", 0, 1, "Binary") for i in range(len(inputs.options))}
    before_cap = (lambda b: b.count) if inputs.miners_before_ai else (lambda b: 0)
    with_cap = (lambda b: b.count) if inputs.miners_with_ai else (lambda b: 0)
    keep_before = {b.key: _var(prob, f"miners_before__{safe(b.key)}", 0, before_cap(b), "Integer")
                   for b in inputs.miners}
    keep_with = {b.key: _var(prob, f"miners_with_ai__{safe(b.key)}", 0, with_cap(b), "Integer")
                 for b in inputs.miners}
    model = PlanModel(inputs, prob, size, keep_before, keep_with)
    if inputs.expansion_mw:
        model.expand = _var(prob, "grid_expansion", 0, 1, "Binary")
        model.meaning["grid_expansion"] = f"buy the grid expansion (+{inputs.expansion_mw:g} MW)"
    steps = inputs.profile.steps
    for period, wanted, runs, label in (("after", inputs.dispatch, model.run, "beside the AI"),
                                        ("before", inputs.dispatch_before, model.run_before, "before the AI start")):
        if not wanted:
            continue
        cls, first = step_classes(inputs, period) if reduce else (np.arange(steps), np.arange(steps))
        model.classes[period] = (cls, first)
        prefix = "run__" if period == "after" else "run_before__"
        for b in inputs.miners:
            name = f"{prefix}{safe(b.key)}__"
            runs[b.key] = [_var(prob, f"{name}{t}", 0, b.count, "Continuous") for t in first]  # per class
            model.meaning[name + "T"] = (f"{b.key} miners running {label} in step T"
                                         + (" (and every step of its class)" if reduce else ""))
    for i, opt in enumerate(inputs.options):
        model.meaning[f"size__{i}"] = f"build {opt.servers} servers ({opt.gpus} GPUs)"
    for b in inputs.miners:
        model.meaning[f"miners_before__{safe(b.key)}"] = f"existing {b.key} miners run before the AI start"
        model.meaning[f"miners_with_ai__{safe(b.key)}"] = f"existing {b.key} miners run beside the AI"
    if inputs.miners_with_ai and inputs.miner_space:
        for b in inputs.miners:
            if b.placed:
                name = f"moved__{safe(b.key)}"
                model.moved[b.key] = _var(prob, name, 0, b.count, "Continuous")
                model.meaning[name] = f"{b.key} miners moved out of halls the AI takes"
    if elastic:
        model.elastic = {f: _var(prob, f"slack__{f}", 0, None, "Continuous") for f in FAMILIES}

    add_objective(model)
    add_one_cluster_size(model)
    add_ai_power(model)
    add_miner_continuity(model)
    add_miner_dispatch(model)
    add_grid_capacity(model)
    add_miner_space(model)
    add_miner_moves(model)
    add_min_gpus(model)
    add_capex_budget(model)
    model.build_seconds = time.perf_counter() - t0
    return model


def _var(prob, name: str, low: float | None, up: float | None, cat: str):
    """A variable attached to ``prob`` (PuLP >= 3.3 API, older PuLP as a fallback)."""
    import pulp

    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, low, up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)


def _slack(model: PlanModel, family: str):
    return model.elastic.get(family, 0)


def add_objective(model: PlanModel) -> None:
    """maximise  sum_k v_k y_k + sum_b (a_b x0_b + c_b x1_b + sum_t g_bt r_bt) + sum_b s_b n_b - M sum_f e_f

    v_k: present value of cluster option k (discounted lease margin from the AI start,
    less its capex); x0_b, x1_b: miners of block b kept before and beside the AI, with
    coefficients from :meth:`ScenarioInputs.miner_coefficients`; r_bt: miners of block b
    running in step t beside the AI, worth g_bt (:meth:`ScenarioInputs.dispatch_coefficients`);
    s_b n_b: salvage of the whole block (a constant); e_f: elastic slack of family f
    (elastic re-solve only).
    """
    import pulp

    inp = model.inputs
    expr = pulp.lpSum(inp.ai_value_usd(o) * model.size[i] for i, o in enumerate(inp.options))
    for b in inp.miners:
        before, with_ai = inp.miner_coefficients(b)
        expr += before * model.keep_before[b.key] + with_ai * model.keep_with_ai[b.key]
        for period, runs in (("after", model.run), ("before", model.run_before)):
            if b.key in runs:
                cls, first = model.classes[period]
                coef = np.bincount(cls, weights=inp.dispatch_coefficients(b, period), minlength=first.size)
                expr += pulp.LpAffineExpression(list(zip(runs[b.key], coef.tolist(), strict=True)))
    expr += sum(b.salvage_usd * b.count for b in inp.miners if not b.new)
    for b in inp.miners:
        if b.key in model.moved:
            expr -= inp.move_usd_per_miner * inp.start_discount() * model.moved[b.key]
    if model.expand is not None:
        expr -= inp.expansion_usd * model.expand
    if model.elastic:
        penalty = 1e12
        expr -= pulp.lpSum(penalty * s for s in model.elastic.values())
    model.problem += OBJECTIVE_SCALE * expr, "npv_musd"


def add_miner_continuity(model: PlanModel) -> None:
    """x1_b <= x0_b when miners run before the AI: a miner sold cannot come back."""
    inp = model.inputs
    if not (inp.miners_before_ai and inp.miners_with_ai):
        return
    for b in inp.miners:
        name = f"miner_continuity__{safe(b.key)}"
        model.problem += model.keep_with_ai[b.key] <= model.keep_before[b.key], name
        model.meaning[name] = f"{b.key} miners beside the AI were running before it"


def add_one_cluster_size(model: PlanModel) -> None:
    """sum_k y_k = 1: exactly one cluster option (option 0 is no cluster)."""
    import pulp

    model.problem += pulp.lpSum(model.size.values()) == 1, "one_cluster_size"
    model.meaning["one_cluster_size"] = "exactly one cluster size is built"


def add_ai_power(model: PlanModel) -> None:
    """A = sum_k P_k PUE_ai y_k: the AI cluster's facility power at max power, MW.

    P_k: IT power of option k (servers + switches + optics). One definition, so the
    per-step grid constraints carry one term for the AI instead of one per option.
    """
    import pulp

    inp = model.inputs
    # options grouped by the steps in which their AI runs (one group when the AI is firm)
    groups: dict[bytes, list[int]] = {}
    for i, o in enumerate(inp.options):
        groups.setdefault(inp.ai_on(o).tobytes(), []).append(i)
    model.ai_groups = []
    for g, (pattern, members) in enumerate(sorted(groups.items(), key=lambda kv: kv[1][0])):
        fac = _var(model.problem, f"ai_facility_mw__{g}", 0, None, "Continuous")
        it = _var(model.problem, f"ai_it_mw__{g}", 0, None, "Continuous")
        terms = [(model.size[i], inp.options[i].it_power_w / 1e6 * inp.options[i].pue) for i in members]
        model.problem += pulp.LpAffineExpression(terms) - fac == 0, f"ai_power__{g}"
        terms = [(model.size[i], inp.options[i].it_power_w / 1e6) for i in members]
        model.problem += pulp.LpAffineExpression(terms) - it == 0, f"ai_it_power__{g}"
        model.ai_groups.append((np.frombuffer(pattern, dtype=bool), fac, it))
    model.meaning["ai_power__T"] = "facility power of the AI cluster (options whose AI runs in the same steps)"
    model.meaning["ai_it_power__T"] = "IT power of the AI cluster (options whose AI runs in the same steps)"
    model.meaning["ai_facility_mw__T"] = "facility power of the AI cluster at max power, MW"
    model.meaning["ai_it_mw__T"] = "IT power of the AI cluster at max power, MW"


def add_miner_dispatch(model: PlanModel) -> None:
    """r_bt <= x1_b: in each step, at most the kept miners run (they curtail freely)."""
    import pulp

    for prefix, period, runs_of, keeps in (("dispatch", "after", model.run, model.keep_with_ai),
                                           ("dispatch_before", "before", model.run_before, model.keep_before)):
        for b in model.inputs.miners:
            runs = runs_of.get(b.key)
            if not runs:
                continue
            keep = keeps[b.key]
            for c, t in enumerate(model.classes[period][1]):  # one row per class (its first step names it)
                model.problem += pulp.LpAffineExpression([(runs[c], 1.0), (keep, -1.0)]) <= 0, \
                    f"{prefix}__{safe(b.key)}__{t}"
            model.meaning[f"{prefix}__{safe(b.key)}__T"] = f"{b.key} miners running in step T are kept miners"


def add_grid_capacity(model: PlanModel) -> None:
    """Facility power within the grid capacity at every step.

    With AI:    A + d_t I + sum_b u_bt r_bt <= C_t   for every step t (hybrid: miners dispatched)
                A + d_t I <= C_t                     (no miners beside the AI; distinct (d_t, C_t) only)
    Before AI:  sum_b u_bt r0_bt <= C_t, or sum_b max_t u_bt x0_b <= min_t C_t

    A, I: the AI cluster's facility and IT power; d_t: PUE added by the temperature in
    step t; u_bt: facility MW of one miner of block b in step t.
    """
    import pulp

    inp = model.inputs
    caps = inp.profile.capacity_mw
    delta = inp.profile.delta()
    slack = _slack(model, "grid_capacity_with_ai")

    def ai_terms(t: int) -> list:
        terms = []
        for on, fac, it in model.ai_groups:
            if on[t]:
                terms.append((fac, 1.0))
                if delta[t]:
                    terms.append((it, float(delta[t])))
        if model.expand is not None:
            terms.append((model.expand, -inp.expansion_mw))
        if model.elastic:
            terms.append((slack, -1.0))
        return terms

    if model.run:
        for c, t in enumerate(model.classes["after"][1]):  # the steps of a class share their row
            terms = ai_terms(t) + [(model.run[b.key][c], float(b.facility_mw[t])) for b in inp.miners]
            model.problem += pulp.LpAffineExpression(terms) <= float(caps[t]), f"grid_capacity_with_ai__{t}"
        model.meaning["grid_capacity_with_ai__T"] = "grid capacity in step T once the AI load runs"
    else:
        _, firsts = _classes([delta, caps, *(g[0] for g in model.ai_groups)], inp.profile.steps)
        for t in firsts.tolist():  # distinct (d_t, C_t, AI on) only, by their first step
            model.problem += pulp.LpAffineExpression(ai_terms(t)) <= float(caps[t]), f"grid_capacity_with_ai__{t}"
        model.meaning["grid_capacity_with_ai__T"] = "grid capacity once the AI load runs (step T)"
    if inp.miners and inp.miners_before_ai:
        slack = _slack(model, "grid_capacity_before_ai")
        if model.run_before:
            for c, t in enumerate(model.classes["before"][1]):
                terms = [(model.run_before[b.key][c], float(b.facility_mw[t])) for b in inp.miners]
                if model.elastic:
                    terms.append((slack, -1.0))
                model.problem += pulp.LpAffineExpression(terms) <= float(caps[t]), f"grid_capacity_before_ai__{t}"
            model.meaning["grid_capacity_before_ai__T"] = "grid capacity in step T before the AI load runs"
        else:
            expr = pulp.lpSum(float(np.max(b.facility_mw)) * model.keep_before[b.key] for b in inp.miners)
            model.problem += expr <= float(caps.min()) + slack, "grid_capacity_before_ai"
            model.meaning["grid_capacity_before_ai"] = "grid capacity before the AI load runs"


def add_miner_space(model: PlanModel) -> None:
    """Miners stand only on miner positions (when the halls give them):

    before the AI:  sum_b x0_b <= P
    beside the AI:  sum_b x1_b + sum_k L_k y_k <= P

    P: the site's miner positions; L_k: the positions of the halls cluster option k puts
    racks in (a hall that takes AI racks holds no miners).
    """
    import pulp

    inp = model.inputs
    if not inp.miner_space or not inp.miners:
        return
    total = sum(inp.hall_positions.values())
    if inp.miners_before_ai:
        model.problem += pulp.lpSum(model.keep_before.values()) <= total, "miner_space_before_ai"
        model.meaning["miner_space_before_ai"] = "miner positions before the AI start"
    if inp.miners_with_ai:
        taken = [(model.size[i], float(inp.positions_taken(o))) for i, o in enumerate(inp.options)
                 if inp.positions_taken(o)]
        expr = pulp.lpSum(model.keep_with_ai.values()) + pulp.LpAffineExpression(taken)
        model.problem += expr <= total, "miner_space_with_ai"
        model.meaning["miner_space_with_ai"] = "miner positions left by the AI halls"


def add_miner_moves(model: PlanModel) -> None:
    """x1_b - m_b + sum_k N_bk y_k <= n_b, i.e. m_b >= x1_b - (n_b - sum_k N_bk y_k): miners
    kept beside the AI beyond those already standing in halls the AI leaves free are moved
    (and pay the move cost).

    n_b: miners of block b; N_bk: those of them standing in halls cluster option k takes.
    """
    import pulp

    inp = model.inputs
    for b in inp.miners:
        moved = model.moved.get(b.key)
        if moved is None:
            continue
        terms = [(model.size[i], float(inp.must_move(b, o))) for i, o in enumerate(inp.options)
                 if inp.must_move(b, o)]
        expr = pulp.LpAffineExpression([(model.keep_with_ai[b.key], 1.0), (moved, -1.0), *terms])
        name = f"miner_moves__{safe(b.key)}"
        model.problem += expr <= b.count, name
        model.meaning[name] = f"{b.key} miners kept in halls the AI takes are moved"


def add_min_gpus(model: PlanModel) -> None:
    """sum_k (G_k / R_k) y_k >= 1: the chosen cluster has at least the GPUs its server needs.

    R_k: the minimum for option k's server (min_gpus, or the workload's GPUs on that
    server, whichever is larger); options of a server with no minimum count as 1.
    """
    import pulp

    inp = model.inputs
    if not any(o.required_gpus > 0 for o in inp.options):
        return
    met = pulp.lpSum((min(1.0, o.gpus / o.required_gpus) if o.required_gpus else (1.0 if o.servers else 0.0))
                     * model.size[i] for i, o in enumerate(inp.options))
    model.problem += met + _slack(model, "min_gpus") >= 1, "min_gpus"
    model.meaning["min_gpus"] = "minimum GPUs (or the workload's, or the stated AI IT load)"


def add_capex_budget(model: PlanModel) -> None:
    """sum_k capex_k y_k <= budget (existing miners cost nothing to keep)."""
    import pulp

    inp = model.inputs
    if inp.capex_budget_usd is None:
        return
    capex = pulp.lpSum(o.capex_total_usd * model.size[i] for i, o in enumerate(inp.options))
    model.problem += capex <= inp.capex_budget_usd + _slack(model, "capex_budget"), "capex_budget"
    model.meaning["capex_budget"] = "capex budget"


def _solver(name: str, rows: int = 0):
    import pulp

    if name == "highs":
        # HiGHS presolve spends seconds on long dispatch models (35,040 steps) for no gain
        solver = pulp.HiGHS(msg=False, **({"presolve": "off"} if rows > 5000 else {}))
        if solver.available():
            return solver, "highs"
        name = "cbc"
    if name == "cbc":
        return _cbc(), "cbc"
    raise ValueError(f"unknown solver {name!r} (use 'highs' or 'cbc')")


def _cbc():
    """CBC: the cbcbox binary (``pulp[cbc]``), else one on PATH, else PuLP's bundled one."""
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


_STATUS = {1: Status.OPTIMAL, -1: Status.INFEASIBLE, -2: Status.UNBOUNDED, 0: Status.NOT_SOLVED}

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


def _run(problem, impl, used: str) -> tuple[Status, str]:
    """Solve ``problem``: (status, the solver's words). OPTIMAL only for a proven optimum:
    a solver stopped at a limit with a plan it has not proven best is NOT_SOLVED."""
    import pulp

    try:
        code = problem.solve(impl)
    except pulp.PulpSolverError as exc:  # the solver program failed or gave no solution file
        return Status.ERROR, f"{used}: {exc}"
    status = _STATUS.get(code, Status.ERROR)
    if status is Status.OPTIMAL and problem.sol_status != pulp.LpSolutionOptimal:
        status = Status.NOT_SOLVED
    highs = getattr(problem, "solverModel", None)
    if used == "highs" and hasattr(highs, "getModelStatus"):
        words = highs.modelStatusToString(highs.getModelStatus())
    else:  # PuLP's words ("Optimal" alone says nothing of a plan that is not proven best)
        solution = pulp.LpSolution.get(problem.sol_status, str(problem.sol_status))
        words = solution if code == 1 else f"{pulp.LpStatus.get(code, code)}, {solution}"
    return status, f"{used}: {words}"


def solve(model: PlanModel, solver: str = "highs") -> Result:
    """Solve; on infeasibility re-solve elastically and name the binding families. A solver
    that stops without an answer (a limit, numerical trouble, unbounded) gives its status,
    not "infeasible"."""
    import pulp

    impl, used = _solver(solver, rows=len(model.problem.constraints()))
    t0 = time.perf_counter()
    status, words = _run(model.problem, impl, used)
    seconds = time.perf_counter() - t0
    inp = model.inputs
    if status is not Status.OPTIMAL:
        reasons = explain_infeasible(inp, solver) if status is Status.INFEASIBLE else []
        if status is Status.INFEASIBLE and not reasons:  # a plan needs no slack: not infeasible after all
            status, words = Status.NOT_SOLVED, f"{words}, yet with slack on every constraint family a plan needs none"
        return Result(inp, status, used, None, None, {}, {}, [], reasons, model.build_seconds,
                      seconds, solver_status=words)
    chosen = max(model.size, key=lambda i: model.size[i].value() or 0)
    before, with_ai = _values(model.keep_before), _values(model.keep_with_ai)
    objective = pulp.value(model.problem.objective) / OBJECTIVE_SCALE
    expanded = bool(model.expand is not None and (model.expand.value() or 0) > 0.5)
    running, running_before = _series_values(model, "after"), _series_values(model, "before")
    with_ai = _trim_idle(inp, with_ai, running)
    moved = {b.key: moved_miners(inp, b, inp.options[chosen], with_ai.get(b.key, 0)) for b in inp.miners
             if b.placed and inp.miners_with_ai}
    return Result(inp, status, used, objective, chosen, before, with_ai,
                  binding_families(inp, chosen, before, with_ai, running, running_before, expanded), [],
                  model.build_seconds, seconds, running, running_before, expanded, moved, words)


def outcome(result: Result) -> str:
    """One line for a scenario without a plan: what binds when it is infeasible; else the
    solver's status and what to try."""
    if result.status is Status.INFEASIBLE:
        return "infeasible: " + "; ".join(result.infeasibility)
    text = NO_ANSWER.get(result.status, NO_ANSWER[Status.ERROR])
    return f"no answer ({result.status}): " + text.format(words=result.solver_status,
                                                          other="cbc" if result.solver == "highs" else "highs")


def moved_miners(inp: ScenarioInputs, block, option, kept: int) -> int:
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


def _values(variables: dict[str, Any]) -> dict[str, int]:
    return {k: round(v.value() or 0) for k, v in variables.items()}


def _series_values(model: PlanModel, period: str) -> dict[str, np.ndarray]:
    """Miners running in each step, from the solved column of each step's class."""
    runs = model.run if period == "after" else model.run_before
    if not runs:
        return {}
    cls = model.classes[period][0]
    return {k: np.array([v.value() or 0.0 for v in cols])[cls] for k, cols in runs.items()}


def ai_load_mw(inp: ScenarioInputs, option) -> np.ndarray:
    """Facility power of the AI cluster in each step, MW: IT at max power x (PUE + the
    temperature term), in the steps it runs."""
    return option.it_power_w / 1e6 * (option.pue + inp.profile.delta()) * inp.ai_on(option)


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


def next_option(inp: ScenarioInputs, chosen: int):
    """The next larger cluster of the same hall plan, or of a plan that extends it into
    more halls (None at the largest)."""
    here = inp.options[chosen]
    n = len(here.plan)
    larger = [o for o in inp.options if o.plan[:n] == here.plan and o.servers > here.servers]
    if here.servers == 0:
        larger = [o for o in inp.options if o.servers > 0]
    return min(larger, key=lambda o: (o.servers, o.capex_total_usd), default=None)


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
                    and bool((b.margin_usd_per_hour(inp.profile.price_usd_per_mwh) > 0).any()) for b in inp.miners)
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
        used = float(pre[worst]) if np.ndim(pre) else float(pre)
        where = f" at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
        out.append(f"grid capacity before the AI start: {used:.3f} MW of {caps[worst]:g} MW used{where}")
    option = inp.options[chosen]
    reason = inp.capped_by.get(option.group)
    if nxt is None and option.servers and reason:
        out.append(f"cluster size: {option.gpus} GPUs is the largest option ({reason})")
    if option.required_gpus and option.gpus == option.required_gpus:
        out.append(f"min GPUs: {option.gpus} built, {option.required_gpus} required")
    if inp.capex_budget_usd is not None and nxt is not None \
            and nxt.capex_total_usd > inp.capex_budget_usd >= option.capex_total_usd:
        out.append(f"capex budget: {option.capex_total_usd:,.0f} of "
                   f"{inp.capex_budget_usd:,.0f} USD; the next size needs {nxt.capex_total_usd:,.0f}")
    return out


def explain_infeasible(inp: ScenarioInputs, solver: str = "highs") -> list[str]:
    """Re-solve with slack on each family; one actionable sentence per family that binds.
    Empty when the re-solve needs no slack (the model was not infeasible)."""
    model = build_model(inp, elastic=True)
    impl, used = _solver(solver, rows=len(model.problem.constraints()))
    status, words = _run(model.problem, impl, used)
    if status is Status.INFEASIBLE:  # a family without slack binds
        return ["the problem is infeasible, but no single constraint family explains it"]
    if status is not Status.OPTIMAL:
        return [f"the re-solve with slack that names what binds stopped without an answer ({status}; {words})"]
    out = []
    chosen = max(model.size, key=lambda i: model.size[i].value() or 0)
    option = inp.options[chosen]
    running = _series_values(model, "after")
    load, before = grid_load(inp, chosen, _values(model.keep_before), _values(model.keep_with_ai), running)
    over = load - inp.profile.capacity_mw
    worst = int(np.argmax(over))
    with_ai = float(load[worst])
    at = f", at {inp.profile.labels[worst]}" if inp.profile.steps > 1 else ""
    for family, var in model.elastic.items():
        amount = var.value() or 0.0
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
            out.append(f"min GPUs: {need} required, at most {best} can be built within the switches' "
                       f"tiers and the halls")
        elif family == "capex_budget":
            out.append(f"capex budget: {option.capex_total_usd:,.0f} USD needed, "
                       f"{inp.capex_budget_usd:,.0f} USD available")
    return out

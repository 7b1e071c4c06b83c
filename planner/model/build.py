"""Building the plan model: choose a cluster size (binaries over the fabric builder's options)
and the miners to keep, under grid capacity, PUE, GPU bounds and budget, maximising NPV.

The model is built as arrays (:class:`planner.model.lp.LinearProgram`): constraint families each
have one ``add_*`` function that adds its block of rows, vectorised over steps (or classes
of steps) and blocks; :func:`build_model` calls them in order. HiGHS reads the arrays
directly; CBC and the LP/MPS export go through PuLP (:mod:`planner.model.lp`). Names are built
from sanitised keys with ``__`` as separator; :attr:`PlanModel.meaning` maps each name
(with its step or index as ``T``) back to words. Solving is :mod:`planner.model.optimize`.

At about 400 lines: one ``add_*`` per constraint family and the order they are called in,
kept in one module as the style guide asks (PyPSA's constraints module).
"""

from __future__ import annotations

import time

import numpy as np

from planner.constants import W_PER_MW
from planner.model.hosting import option_values_usd, plan_capex_usd
from planner.model.interim import add_interim_supply
from planner.model.lp import LinearProgram, safe
from planner.model.markets import add_power_markets, class_features, dispatch_values, needs_classes
from planner.model.phases import add_phases
from planner.model.plan import PlanModel
from planner.model.scenario import ScenarioInputs

OBJECTIVE_SCALE = 1e-6  # the solver sees million USD: better-scaled costs


FAMILIES = ("grid_capacity_with_ai", "grid_capacity_before_ai", "min_gpus", "capex_budget")


ELASTIC_PENALTY_USD = 1e12  # per unit of slack: far above any plan's value


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
    row and one grid row per class, has the same optimum as the per-step model. Power
    markets add their features (:func:`planner.model.markets.class_features`, where the
    argument continues).
    """
    p = inputs.profile
    if p.steps == 1:  # one step (a flat price) is one class: no feature can split it
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    features = [p.capacity_mw, p.delta()]
    if period == "after":
        features += [inputs.ai_on(o) for o in inputs.options]
    features += [dispatch_values(inputs, b, period) > 0 for b in inputs.miners]
    features += class_features(inputs, period)
    return _classes(features, p.steps)


def _classes(columns: list[np.ndarray], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal values across ``columns``, numbered by first appearance: (class of each
    row, first row of each class). A short profile (a site without a price series has one
    step) is sorted as rows at once (:func:`_classes_small`). A long one is coded a column at
    a time: each column's values by their sorted order (numpy's unique), folded into one
    mixed-radix key per row (re-coded whenever the radix product would leave int64), and the
    keys numbered by first appearance, in O(rows log rows x columns). A column that holds one
    value (a scalar, or an AI that is never off) cannot split a class and is skipped.
    Values are compared as float64, -0.0 as 0.0."""
    if steps <= _SMALL_PROFILE:
        return _classes_small(columns, steps)
    key = np.zeros(steps, dtype=np.int64)
    count = 1
    for column in columns:
        values = np.asarray(column)
        if values.size <= 1:
            continue
        if values.dtype == bool:
            codes, n = values.astype(np.int64), 2
        else:
            uniques, codes = np.unique(values.astype(float) + 0.0, return_inverse=True)
            n = uniques.size
        if n == 1:
            continue
        if count * n >= 2**62:  # keep the mixed-radix key within int64
            _, key = np.unique(key, return_inverse=True)
            count = int(key.max()) + 1
        key = key * n + codes.reshape(-1)
        count *= n
    _, first_sorted, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first_sorted, kind="stable")  # classes by their first step
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)].astype(np.int64), first_sorted[order].astype(np.int64)


_SMALL_PROFILE = 2048  # steps up to which _classes sorts whole rows rather than coding column by column


def _classes_small(columns: list[np.ndarray], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_classes` by a sort of the rows (numpy's unique over rows), renumbered by first
    appearance. Values are compared as float64 (booleans and counts are exact in it)."""
    if not columns or steps == 0:
        return np.zeros(steps, dtype=np.int64), np.zeros(1 if steps else 0, dtype=np.int64)
    table = np.column_stack([np.broadcast_to(np.asarray(c, dtype=float), (steps,)) for c in columns])
    table = table + 0.0  # -0.0 becomes 0.0: equal values share a class, as the hashing path has them
    _, first_sorted, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first_sorted, kind="stable")  # classes by their first step
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)].astype(np.int64), first_sorted[order].astype(np.int64)


def build_model(inputs: ScenarioInputs, *, elastic: bool = False, reduce: bool = True) -> PlanModel:
    """Create the columns, the objective and every constraint family.

    With ``elastic=True`` each family gets a non-negative slack priced far above any
    plan value, so the problem is always feasible and the slacks name what binds. With
    ``reduce`` (the default) the dispatch runs per class of steps the model cannot tell
    apart (:func:`step_classes`), an exact reduction; ``reduce=False`` builds the
    reference model with a column per step.
    """
    t0 = time.perf_counter()
    lp = LinearProgram(safe(f"plan__{inputs.scenario}"), maximise=True)
    n_opt = len(inputs.options)
    size = lp.columns([f"size__{i}" for i in range(n_opt)], 0, 1, integer=True)
    keys = [safe(b.key) for b in inputs.miners]
    counts = [b.count for b in inputs.miners]
    before = lp.columns([f"miners_before__{k}" for k in keys], 0, counts if inputs.miners_before_ai else 0,
                        integer=True)
    with_ai = lp.columns([f"miners_with_ai__{k}" for k in keys], 0, counts if inputs.miners_with_ai else 0,
                         integer=True)
    model = PlanModel(inputs, lp, size, dict(zip((b.key for b in inputs.miners), before.tolist(), strict=True)),
                      dict(zip((b.key for b in inputs.miners), with_ai.tolist(), strict=True)), reduced=reduce)
    if inputs.expansion_mw:
        model.expand = lp.column("grid_expansion", 0, 1, integer=True)
        model.meaning["grid_expansion"] = f"buy the grid expansion (+{inputs.expansion_mw:g} MW)"
    steps = inputs.profile.steps
    for period, wanted, runs, label in (("after", inputs.dispatch, model.run, "beside the AI"),
                                        ("before", inputs.dispatch_before, model.run_before, "before the AI start")):
        if not (wanted or needs_classes(inputs, period)):
            continue
        cls, first = step_classes(inputs, period) if reduce else (np.arange(steps), np.arange(steps))
        model.classes[period] = (cls, first)
        if not wanted:
            continue
        prefix = "run__" if period == "after" else "run_before__"
        for b in inputs.miners:
            name = f"{prefix}{safe(b.key)}__"
            runs[b.key] = lp.columns([f"{name}{t}" for t in first.tolist()], 0, b.count)  # one per class
            model.meaning[name + "T"] = (f"{b.key} miners running {label} in step T"
                                         + (" (and every step of its class)" if reduce else ""))
    model.meaning.update(inputs.option_columns().meanings)
    for b in inputs.miners:
        model.meaning[f"miners_before__{safe(b.key)}"] = f"existing {b.key} miners run before the AI start"
        model.meaning[f"miners_with_ai__{safe(b.key)}"] = f"existing {b.key} miners run beside the AI"
    if inputs.miners_with_ai and inputs.miner_space:
        for b in inputs.miners:
            if b.placed:
                name = f"moved__{safe(b.key)}"
                model.moved[b.key] = lp.column(name, 0, b.count)
                model.meaning[name] = f"{b.key} miners moved out of halls the AI takes"
    if elastic:
        model.elastic = {f: lp.column(f"slack__{f}", 0, None) for f in FAMILIES}
        for f in FAMILIES:
            model.meaning[f"slack__{f}"] = f"how far the plan must break {f.replace('_', ' ')}"

    add_objective(model)
    add_one_cluster_size(model)
    add_ai_power(model)
    add_miner_continuity(model)
    add_miner_dispatch(model)
    add_grid_capacity(model)
    add_power_markets(model, OBJECTIVE_SCALE)
    add_miner_space(model)
    add_miner_moves(model)
    add_min_gpus(model)
    add_capex_budget(model)
    add_phases(model, OBJECTIVE_SCALE)
    add_interim_supply(model, OBJECTIVE_SCALE)
    model.build_seconds = time.perf_counter() - t0
    return model


def _slack(model: PlanModel, family: str) -> list[tuple[int, float]]:
    """The family's slack as a (column, coefficient) term to subtract, when elastic."""
    return [(model.elastic[family], -1.0)] if family in model.elastic else []


def _terms(terms: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(columns, values) of a one-row list of terms."""
    if not terms:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    cols, vals = zip(*terms, strict=True)
    return np.asarray(cols, dtype=np.int64), np.asarray(vals, dtype=float)


def add_objective(model: PlanModel) -> None:
    """maximise  sum_k v_k y_k + sum_b (a_b x0_b + c_b x1_b + sum_t g_bt r_bt) + sum_b s_b n_b - M sum_f e_f

    v_k: present value of cluster option k (discounted lease margin from the AI start,
    less its capex); x0_b, x1_b: miners of block b kept before and beside the AI, with
    coefficients from :meth:`ScenarioInputs.miner_coefficients`; r_bt: miners of block b
    running in step t beside the AI, worth g_bt (:meth:`ScenarioInputs.dispatch_coefficients`),
    summed over the steps of its class; s_b n_b: salvage of the whole block (a constant);
    e_f: elastic slack of family f (elastic re-solve only). The solver sees million USD
    (``OBJECTIVE_SCALE``).
    """
    inp, lp, k = model.inputs, model.lp, OBJECTIVE_SCALE
    lp.add_cost(model.size, k * option_values_usd(inp))
    for b in inp.miners:
        before, with_ai = inp.miner_coefficients(b)
        lp.add_cost([model.keep_before[b.key], model.keep_with_ai[b.key]], [k * before, k * with_ai])
        for period, runs in (("after", model.run), ("before", model.run_before)):
            if b.key in runs:
                cls, first = model.classes[period]
                coef = np.bincount(cls, weights=dispatch_values(inp, b, period), minlength=first.size)
                lp.add_cost(runs[b.key], k * coef)
        if b.key in model.moved:
            lp.add_cost(model.moved[b.key], -k * inp.move_usd_per_miner * inp.start_discount())
    lp.offset = k * sum(b.salvage_usd * b.count for b in inp.miners if not b.new)
    if model.expand is not None:
        lp.add_cost(model.expand, -k * inp.expansion_usd)
    for col in model.elastic.values():
        lp.add_cost(col, -k * ELASTIC_PENALTY_USD)


def add_miner_continuity(model: PlanModel) -> None:
    """x1_b - x0_b <= 0 when miners run before the AI: a miner sold cannot come back."""
    inp = model.inputs
    if not (inp.miners_before_ai and inp.miners_with_ai):
        return
    for b in inp.miners:
        name = f"miner_continuity__{safe(b.key)}"
        model.lp.row(name, [model.keep_with_ai[b.key], model.keep_before[b.key]], [1.0, -1.0], upper=0.0)
        model.meaning[name] = f"{b.key} miners beside the AI were running before it"


def add_one_cluster_size(model: PlanModel) -> None:
    """sum_k y_k = 1: exactly one cluster option (option 0 is no cluster)."""
    model.lp.row("one_cluster_size", model.size, 1.0, lower=1.0, upper=1.0)
    model.meaning["one_cluster_size"] = "exactly one cluster size is built"


def add_ai_power(model: PlanModel) -> None:
    """sum_k P_k PUE_k y_k - A_g = 0 and sum_k P_k y_k - I_g = 0 for each group g of
    options whose AI runs in the same steps: the cluster's facility and IT power at max
    power, MW (P_k: IT power of option k, servers + switches + optics). One definition, so
    the per-step grid rows carry one term per group instead of one per option.
    """
    inp, lp = model.inputs, model.lp
    groups: dict[bytes, list[int]] = {}  # one group when the AI is firm
    if inp.ai_interruptible:
        for i, o in enumerate(inp.options):
            groups.setdefault(inp.ai_on(o).tobytes(), []).append(i)
    elif inp.options:  # firm: every option runs in every step (ScenarioInputs.ai_on)
        groups[inp.ai_on(inp.options[0]).tobytes()] = list(range(len(inp.options)))
    ordered = sorted(groups.items(), key=lambda kv: kv[1][0])
    n = len(ordered)
    fac = lp.columns([f"ai_facility_mw__{g}" for g in range(n)], 0, None)
    it = lp.columns([f"ai_it_mw__{g}" for g in range(n)], 0, None)
    cols = inp.option_columns()
    it_mw, pue = cols.it_w / W_PER_MW, cols.pue
    group_of = np.empty(len(inp.options), dtype=np.int64)
    for g, (_, members) in enumerate(ordered):
        group_of[members] = g
    opts = np.arange(len(inp.options))
    for family, coef, total in (("ai_power", it_mw * pue, fac), ("ai_it_power", it_mw, it)):
        lp.rows(family, range(n), np.concatenate([group_of, np.arange(n)]),
                np.concatenate([model.size[opts], total]), np.concatenate([coef, -np.ones(n)]), 0.0, 0.0)
    model.ai_groups = [(np.frombuffer(pattern, dtype=bool), int(fac[g]), int(it[g]))
                       for g, (pattern, _) in enumerate(ordered)]
    model.meaning["ai_power__T"] = "facility power of the AI cluster (options whose AI runs in the same steps)"
    model.meaning["ai_it_power__T"] = "IT power of the AI cluster (options whose AI runs in the same steps)"
    model.meaning["ai_facility_mw__T"] = "facility power of the AI cluster at max power, MW"
    model.meaning["ai_it_mw__T"] = "IT power of the AI cluster at max power, MW"


def add_miner_dispatch(model: PlanModel) -> None:
    """r_bt - x1_b <= 0: in each step (class), at most the kept miners run (they curtail freely)."""
    for prefix, period, runs_of, keeps in (("dispatch", "after", model.run, model.keep_with_ai),
                                           ("dispatch_before", "before", model.run_before, model.keep_before)):
        for b in model.inputs.miners:
            runs = runs_of.get(b.key)
            if runs is None or not runs.size:
                continue
            first = model.classes[period][1]  # one row per class (its first step names it)
            c = np.arange(first.size)
            model.lp.rows(f"{prefix}__{safe(b.key)}", first.tolist(), np.concatenate([c, c]),
                          np.concatenate([runs, np.full(c.size, keeps[b.key])]),
                          np.concatenate([np.ones(c.size), -np.ones(c.size)]), None, 0.0)
            model.meaning[f"{prefix}__{safe(b.key)}__T"] = f"{b.key} miners running in step T are kept miners"


def _ai_entries(model: PlanModel, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matrix entries (row, column, value) of the AI, the expansion and the slack in the
    grid rows of ``steps`` (row r is step ``steps[r]``): A_g + d_t I_g for each group on
    in step t, less the expansion's MW and the slack."""
    inp = model.inputs
    delta = inp.profile.delta()[steps]
    r = np.arange(steps.size)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(row: np.ndarray, col: np.ndarray, val: np.ndarray) -> None:
        rows.append(row)
        cols.append(col)
        vals.append(val)

    for on, fac, it in model.ai_groups:
        live = on[steps]
        add(r[live], np.full(int(live.sum()), fac), np.ones(int(live.sum())))
        warm = live & (delta != 0)
        add(r[warm], np.full(int(warm.sum()), it), delta[warm])
    if model.expand is not None:
        add(r, np.full(r.size, model.expand), np.full(r.size, -inp.expansion_mw))
    for col, coef in _slack(model, "grid_capacity_with_ai"):
        add(r, np.full(r.size, col), np.full(r.size, coef))
    return _cat(rows, cols, vals)


def _cat_parts(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_cat` of (rows, cols, vals) blocks."""
    return _cat([p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts])


def _cat(rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray]
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(vals).astype(float))


def add_grid_capacity(model: PlanModel) -> None:
    """Facility power within the grid capacity at every step.

    With AI:    A + d_t I + sum_b u_bt r_bt <= C_t   for every step t (hybrid: miners dispatched)
                A + d_t I <= C_t                     (no miners beside the AI; distinct (d_t, C_t) only)
    Before AI:  sum_b u_bt r0_bt <= C_t, or sum_b max_t u_bt x0_b <= min_t C_t

    A, I: the AI cluster's facility and IT power; d_t: PUE added by the temperature in
    step t; u_bt: facility MW of one miner of block b in step t. The steps of a class share
    their row (its first step names it). With phases, C_t with the AI is min(C_t, G(S)), the
    grid of the phases online at the AI start (the months between are
    :func:`planner.model.phases.add_phase_grid`).
    """
    inp, lp = model.inputs, model.lp
    caps = inp.profile.capacity_mw
    if inp.phases:  # from the AI start, the grid of the phases online by then
        caps = np.minimum(caps, inp.phase_grid_mw(inp.ai_start_month))
    if model.run:
        first = model.classes["after"][1]
        rows, cols, vals = _ai_entries(model, first)
        c = np.arange(first.size)
        parts = [(rows, cols, vals)] + [(c, model.run[b.key], b.facility_mw[first]) for b in inp.miners]
        lp.rows("grid_capacity_with_ai", first.tolist(), *_cat_parts(parts), None, caps[first])
        model.meaning["grid_capacity_with_ai__T"] = "grid capacity in step T once the AI load runs"
    else:
        _, first = _classes([inp.profile.delta(), caps, *(g[0] for g in model.ai_groups)], inp.profile.steps)
        lp.rows("grid_capacity_with_ai", first.tolist(), *_ai_entries(model, first), None, caps[first])
        model.meaning["grid_capacity_with_ai__T"] = "grid capacity once the AI load runs (step T)"
    caps = inp.profile.capacity_mw
    if inp.miners and inp.miners_before_ai:
        slack = _slack(model, "grid_capacity_before_ai")
        if model.run_before:
            first = model.classes["before"][1]
            c = np.arange(first.size)
            parts = [(c, model.run_before[b.key], b.facility_mw[first]) for b in inp.miners]
            parts += [(c, np.full(c.size, col), np.full(c.size, coef)) for col, coef in slack]
            lp.rows("grid_capacity_before_ai", first.tolist(), *_cat_parts(parts), None, caps[first])
            model.meaning["grid_capacity_before_ai__T"] = "grid capacity in step T before the AI load runs"
        else:
            cols, vals = _terms([(model.keep_before[b.key], float(np.max(b.facility_mw))) for b in inp.miners] + slack)
            lp.row("grid_capacity_before_ai", cols, vals, None, float(caps.min()))
            model.meaning["grid_capacity_before_ai"] = "grid capacity before the AI load runs"


def add_miner_space(model: PlanModel) -> None:
    """Miners stand only on miner positions (when the halls give them):

    before the AI:  sum_b x0_b <= P
    beside the AI:  sum_b x1_b + sum_k L_k y_k <= P

    P: the site's miner positions; L_k: the positions of the halls cluster option k puts
    racks in (a hall that takes AI racks holds no miners).
    """
    inp, lp = model.inputs, model.lp
    if not inp.miner_space or not inp.miners:
        return
    total = sum(inp.hall_positions.values())
    if inp.miners_before_ai:
        lp.row("miner_space_before_ai", list(model.keep_before.values()), 1.0, None, total)
        model.meaning["miner_space_before_ai"] = "miner positions before the AI start"
    if inp.miners_with_ai:
        taken = inp.option_columns().per_option(inp.hall_positions)  # inp.positions_taken of each option
        cols = np.concatenate([np.asarray(list(model.keep_with_ai.values()), dtype=np.int64), model.size])
        lp.row("miner_space_with_ai", cols, np.concatenate([np.ones(len(model.keep_with_ai)), taken]), None, total)
        model.meaning["miner_space_with_ai"] = "miner positions left by the AI halls"


def add_miner_moves(model: PlanModel) -> None:
    """x1_b - m_b + sum_k N_bk y_k <= n_b, i.e. m_b >= x1_b - (n_b - sum_k N_bk y_k): miners
    kept beside the AI beyond those already standing in halls the AI leaves free are moved
    (and pay the move cost).

    n_b: miners of block b; N_bk: those of them standing in halls cluster option k takes.
    """
    inp = model.inputs
    for b in inp.miners:
        moved = model.moved.get(b.key)
        if moved is None:
            continue
        must = inp.option_columns().per_option(b.placed)  # inp.must_move(b, option) of each option
        name = f"miner_moves__{safe(b.key)}"
        model.lp.row(name, np.concatenate([[model.keep_with_ai[b.key], moved], model.size]),
                     np.concatenate([[1.0, -1.0], must]), None, b.count)
        model.meaning[name] = f"{b.key} miners kept in halls the AI takes are moved"


def add_min_gpus(model: PlanModel) -> None:
    """sum_k (G_k / R_k) y_k >= 1: the chosen cluster has at least the GPUs its server needs.

    R_k: the minimum for option k's server (min_gpus, or the workload's GPUs on that
    server, whichever is larger); options of a server with no minimum count as 1.
    """
    inp = model.inputs
    options = inp.option_columns()
    if not (options.required_gpus > 0).any():
        return
    required = np.where(options.required_gpus > 0, options.required_gpus, 1.0)
    met = np.where(options.required_gpus > 0, np.minimum(1.0, options.gpus / required),
                   np.where(options.servers > 0, 1.0, 0.0))
    slack = [(col, 1.0) for col, _ in _slack(model, "min_gpus")]
    cols, vals = _terms(slack)
    model.lp.row("min_gpus", np.concatenate([model.size, cols]), np.concatenate([met, vals]), 1.0, None)
    model.meaning["min_gpus"] = "minimum GPUs (or the workload's, or the stated AI IT load)"


def add_capex_budget(model: PlanModel) -> None:
    """sum_k capex_k y_k <= budget (existing miners cost nothing to keep; a host counts its own
    scope only)."""
    inp = model.inputs
    if inp.capex_budget_usd is None:
        return
    capex = np.array([plan_capex_usd(inp, o) for o in inp.options], dtype=float)
    cols, vals = _terms(_slack(model, "capex_budget"))
    model.lp.row("capex_budget", np.concatenate([model.size, cols]), np.concatenate([capex, vals]), None,
                 inp.capex_budget_usd)
    model.meaning["capex_budget"] = "capex budget"

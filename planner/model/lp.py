"""The linear program as arrays, and the solvers that read it.

:class:`LinearProgram` is the one record of a model: columns (name, bounds, integrality,
objective coefficient), and rows in blocks, one block per constraint family, each with
named rows and its part of the sparse matrix as coordinate arrays. The model's families
(planner.model.optimize) fill it with numpy arrays, with no Python loop over steps or options.

Backends:

- :func:`solve_highs` hands the arrays to HiGHS through highspy (the default: no
  per-row Python objects, no file);
- :func:`to_pulp` builds the same model in PuLP, for CBC and for the readable LP and
  MPS exports (``planner solve --write-model``), so PuLP stays the model's readable form.

Row and column names are ``family__label`` with characters PuLP would rewrite made ``_``,
so a name reads the same in every backend and in an exported file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

INF = float("inf")
Bound = ArrayLike | None  # a bound per column or row, or one for all; None (or inf) for none


class Status(StrEnum):
    """Solve outcome (never a bare solver integer)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NOT_SOLVED = "not_solved"
    ERROR = "error"


def safe(text: str) -> str:
    """A name fragment every backend keeps as it is: other characters become '_'."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


@dataclass(frozen=True)
class RowBlock:
    """The rows of one constraint family: rows ``start`` to ``start + count - 1``."""

    family: str
    labels: tuple[str | int, ...]  # one per row (a name or a step); "" for a family of one unlabelled row
    start: int

    @property
    def count(self) -> int:
        return len(self.labels)

    def names(self) -> list[str]:
        return [f"{self.family}__{label}" if label else self.family for label in self.labels]


@dataclass
class Solution:
    """What a backend returns: the status, the column values and the objective."""

    status: Status
    x: np.ndarray
    objective: float | None
    detail: str = ""  # the solver's own word for a status that is not optimal
    log: str = ""  # the solver's log, when asked for (``--solver-log``)


@dataclass
class LinearProgram:
    """max (or min) c'x + offset  s.t.  row_lower <= A x <= row_upper,  lower <= x <= upper,
    x_j integer where ``integer[j]``.

    Columns and rows are added in blocks (:meth:`columns`, :meth:`rows`); the matrix is
    kept as coordinate arrays per block and assembled once, row-wise, for the solver.
    """

    name: str
    maximise: bool = True
    offset: float = 0.0
    col_names: list[str] = field(default_factory=list)
    blocks: list[RowBlock] = field(default_factory=list)
    _lower: list[np.ndarray] = field(default_factory=list)
    _upper: list[np.ndarray] = field(default_factory=list)
    _integer: list[np.ndarray] = field(default_factory=list)
    _cost: dict[int, float] = field(default_factory=dict)  # column -> objective coefficient (sparse)
    _coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)

    # ------------------------------------------------------------------ building
    @property
    def num_cols(self) -> int:
        return len(self.col_names)

    @property
    def num_rows(self) -> int:
        return sum(b.count for b in self.blocks)

    @property
    def has_integers(self) -> bool:
        """Some column is integer (a MIP), known without assembling the arrays."""
        return any(part.any() for part in self._integer)

    def columns(self, names: Sequence[str], lower: Bound, upper: Bound, integer: bool = False) -> np.ndarray:
        """Add columns (bounds broadcast to their number; None or inf for no bound) and
        return their indices."""
        n = len(names)
        first = self.num_cols
        self.col_names.extend(names)
        self._lower.append(_bound(lower, n, -INF))
        self._upper.append(_bound(upper, n, INF))
        self._integer.append(np.full(n, bool(integer)))
        return np.arange(first, first + n, dtype=np.int64)

    def column(self, name: str, lower: Bound, upper: Bound, integer: bool = False) -> int:
        return int(self.columns([name], lower, upper, integer)[0])

    def add_cost(self, cols: ArrayLike, coefs: ArrayLike) -> None:
        """Add to the objective coefficients of ``cols`` (repeated columns add up)."""
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        coefs = np.broadcast_to(np.asarray(coefs, dtype=float), cols.shape)
        for j, v in zip(cols.tolist(), coefs.tolist(), strict=True):
            self._cost[j] = self._cost.get(j, 0.0) + v

    def rows(self, family: str, labels: Sequence[str | int], row: ArrayLike, col: ArrayLike, val: ArrayLike,
             lower: Bound = None, upper: Bound = None) -> RowBlock:
        """Add a family's rows: ``labels`` name them (one each); (``row``, ``col``, ``val``)
        are the matrix entries with ``row`` counted within the block; ``lower`` and
        ``upper`` bound each row (broadcast; None for no bound)."""
        labels = tuple(str(x) for x in labels)
        n = len(labels)
        row = np.asarray(row, dtype=np.int64).ravel()
        col = np.asarray(col, dtype=np.int64).ravel()
        val = np.broadcast_to(np.asarray(val, dtype=float), row.shape).ravel()
        if row.size and (row.min() < 0 or row.max() >= n):
            raise ValueError(f"{family}: a matrix entry outside its {n} rows")
        if col.size and (col.min() < 0 or col.max() >= self.num_cols):
            raise ValueError(f"{family}: a matrix entry on a column that does not exist")
        block = RowBlock(family, labels, self.num_rows)
        self.blocks.append(block)
        self._coo.append((row + block.start, col, val.astype(float)))
        self._row_lower.append(_bound(lower, n, -INF))
        self._row_upper.append(_bound(upper, n, INF))
        return block

    def row(self, family: str, cols: ArrayLike, vals: ArrayLike, lower: Bound = None, upper: Bound = None
            ) -> RowBlock:
        """One unlabelled row: sum_j vals_j x_cols_j within [lower, upper]."""
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        return self.rows(family, [""], np.zeros(cols.size, dtype=np.int64), cols, vals, lower, upper)

    # ------------------------------------------------------------------ reading
    def arrays(self) -> dict[str, np.ndarray]:
        """The assembled model: bounds, cost, integrality and the row-wise (CSR) matrix
        with duplicate entries summed."""
        n, m = self.num_cols, self.num_rows
        cost = np.zeros(n)
        if self._cost:
            cost[np.fromiter(self._cost, dtype=np.int64)] = np.fromiter(self._cost.values(), dtype=float)
        rows = np.concatenate([c[0] for c in self._coo]) if self._coo else np.zeros(0, np.int64)
        cols = np.concatenate([c[1] for c in self._coo]) if self._coo else np.zeros(0, np.int64)
        vals = np.concatenate([c[2] for c in self._coo]) if self._coo else np.zeros(0)
        keep = vals != 0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        key = rows * max(n, 1) + cols
        unique, inverse = np.unique(key, return_inverse=True)  # sorted by row, then column
        summed = np.bincount(inverse, weights=vals, minlength=unique.size)
        rows, cols = unique // max(n, 1), unique % max(n, 1)
        start = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=m), out=start[1:])
        empty = np.zeros(0)
        return {"cost": cost,
                "lower": np.concatenate(self._lower) if self._lower else empty,
                "upper": np.concatenate(self._upper) if self._upper else empty,
                "integer": np.concatenate(self._integer) if self._integer else np.zeros(0, bool),
                "row_lower": np.concatenate(self._row_lower) if self._row_lower else empty,
                "row_upper": np.concatenate(self._row_upper) if self._row_upper else empty,
                "start": start, "index": cols.astype(np.int64), "value": summed}

    def row_names(self) -> list[str]:
        return [name for b in self.blocks for name in b.names()]

    def block(self, family: str) -> RowBlock | None:
        return next((b for b in self.blocks if b.family == family), None)

    def value(self, x: np.ndarray) -> float:
        """The objective at ``x`` (offset included)."""
        a = self.arrays()
        return float(a["cost"] @ x) + self.offset


def _bound(value: Bound, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    out = np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,)), dtype=float)
    return np.where(np.isnan(out), default, out)


# ---------------------------------------------------------------------- backends
DUAL_TOLERANCE = 1e-10  # HiGHS's least; its default is 1e-7
def solve_highs(lp: LinearProgram, presolve: bool = True, mip_rel_gap: float | None = None,
                time_limit: float | None = None, keep_log: bool = False) -> Solution:
    """Solve with HiGHS through highspy, the arrays passed as they are. With ``keep_log``
    the solver's log is written to a file of its own (never to the console) and returned
    in the solution."""
    with _log_file(keep_log) as log_path:
        a = lp.arrays()
        h = _new_highs()
        h.setOptionValue("output_flag", log_path is not None)
        # the solver sees million USD: one miner in one quarter hour near its breakeven is worth
        # 1e-8 of that, below HiGHS's default dual tolerance (1e-7), which would leave such
        # columns at either bound (hundreds of USD on a year of 15-minute steps)
        h.setOptionValue("dual_feasibility_tolerance", DUAL_TOLERANCE)
        for name, value in MIP_OPTIONS.items():
            h.setOptionValue(name, value)
        if _THREADS is not None:
            h.setOptionValue("threads", _THREADS)
        if log_path is not None:
            h.setOptionValue("log_to_console", False)
            h.setOptionValue("log_file", str(log_path))
        solution = _run_highs(h, lp, a, presolve, mip_rel_gap, time_limit)
        if log_path is not None:
            h.setOptionValue("output_flag", False)  # HiGHS lets go of the file
            solution.log = log_path.read_text(errors="replace")
    return solution


# HiGHS's MIP options (its defaults otherwise). The plan's MIPs are small (a choice of one
# cluster option among a few hundred, a fleet size, phase shares) and HiGHS proves most of them
# at its root node, where its fixed costs dominate:
# - ``mip_rel_gap`` 0: the best plan, not one within HiGHS's default 0.01 % of it (52,000 USD on
#   a 520 M USD plan); on every example site this costs nothing, as they close at the root;
# - the feasibility-jump heuristic and symmetry detection off: neither changes the optimum
#   (they find a first plan sooner, or prune look-alike branches); on the example sites' models
#   they took a third of HiGHS's time (Xinjiang's 381 options: 19 to 13 ms a solve; measured in
#   docs/benchmarks.md). Presolve stays on: without it the phased plans' branch and bound takes
#   50 times longer.
MIP_OPTIONS: dict[str, Any] = {"mip_rel_gap": 0.0, "mip_heuristic_run_feasibility_jump": False,
                               "mip_detect_symmetry": False}

# HiGHS's threads in this process (None: its own choice, one per core). HiGHS keeps one pool of
# threads per process, so this is a setting of the process: a sweep's Dask worker, one of a
# single-threaded worker per core, sets 1 (:func:`use_one_thread`), and its solves no longer
# spin threads against the other workers' (measured: 0.92x the sweep's CPU).
_THREADS: int | None = None
_RAN = False  # HiGHS has solved in this process (or the one it was forked from): its pool is sized


def use_one_thread() -> bool:
    """Solve with one HiGHS thread in this process from now on, if HiGHS has not solved here
    yet: it sizes its pool once, and a solve asking another size fails. Whether it took effect."""
    global _THREADS
    if not _RAN:
        _THREADS = 1
    return _THREADS == 1


def _new_highs() -> Any:
    """A HiGHS object that has written nothing on standard output. highspy's constructor
    prints HiGHS's banner on file descriptor 1 from C before any option can be set (an open
    HiGHS issue, ERGO-Code/HiGHS#2749), so a program using the planner as a library would
    find it in its own output: the descriptor points at the null device while the object is
    made, C's buffered output is flushed into it, and the descriptor is put back. (The
    command line points descriptor 1 away for the whole run; this is for library use.)"""
    import ctypes
    import os
    import sys

    import highspy

    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no descriptor 1 to guard
        return highspy.Highs()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        try:
            return highspy.Highs()
        finally:
            with suppress(OSError, AttributeError):
                ctypes.CDLL(None).fflush(None)  # C's stdio buffer, while it still goes to the null device
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


@contextmanager
def _log_file(wanted: bool) -> Iterator[Path | None]:
    """A temporary file for a solver's log (None when no log is wanted), removed after."""
    if not wanted:
        yield None
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="planner-solver-log-") as folder:
        yield Path(folder) / "solver.log"


def _run_highs(h: Any, lp: LinearProgram, a: dict, presolve: bool, mip_rel_gap: float | None,
               time_limit: float | None) -> Solution:
    import highspy

    if not presolve:
        h.setOptionValue("presolve", "off")
    if mip_rel_gap is not None:
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_cols, lp.num_rows
    inf = highspy.kHighsInf
    model.col_cost_ = a["cost"]
    model.col_lower_ = np.where(np.isinf(a["lower"]), -inf, a["lower"])
    model.col_upper_ = np.where(np.isinf(a["upper"]), inf, a["upper"])
    model.row_lower_ = np.where(np.isinf(a["row_lower"]), -inf, a["row_lower"])
    model.row_upper_ = np.where(np.isinf(a["row_upper"]), inf, a["row_upper"])
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = lp.num_cols, lp.num_rows
    model.a_matrix_.start_ = a["start"].astype(np.int32)
    model.a_matrix_.index_ = a["index"].astype(np.int32)
    model.a_matrix_.value_ = a["value"]
    model.sense_ = highspy.ObjSense.kMaximize if lp.maximise else highspy.ObjSense.kMinimize
    model.offset_ = lp.offset
    if a["integer"].any():
        model.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                              for i in a["integer"].tolist()]
    h.passModel(model)
    global _RAN
    _RAN = True
    h.run()
    code = h.getModelStatus()
    S = highspy.HighsModelStatus
    # OPTIMAL only for a proven optimum: a plan found before a limit is NOT_SOLVED; "infeasible
    # or unbounded" is taken as infeasible (the caller's re-solve with slack checks it)
    status = {S.kOptimal: Status.OPTIMAL, S.kInfeasible: Status.INFEASIBLE, S.kUnbounded: Status.UNBOUNDED,
              S.kUnboundedOrInfeasible: Status.INFEASIBLE, S.kModelEmpty: Status.OPTIMAL,
              S.kSolveError: Status.ERROR, S.kModelError: Status.ERROR, S.kLoadError: Status.ERROR,
              S.kPresolveError: Status.ERROR, S.kPostsolveError: Status.ERROR}.get(code, Status.NOT_SOLVED)
    detail = h.modelStatusToString(code)
    if status is not Status.OPTIMAL:
        return Solution(status, np.zeros(lp.num_cols), None, detail)
    x = np.asarray(h.getSolution().col_value, dtype=float)
    if x.size != lp.num_cols:  # an empty model reports no values
        x = np.zeros(lp.num_cols)
    return Solution(status, x, float(h.getInfo().objective_function_value) if lp.num_cols else lp.offset, detail)


def to_pulp(lp: LinearProgram) -> Any:  # a pulp.LpProblem (PuLP has no type hints)
    """The same model as a PuLP problem (for CBC, and for LP or MPS files)."""
    import pulp

    a = lp.arrays()
    prob = pulp.LpProblem(safe(lp.name), pulp.LpMaximize if lp.maximise else pulp.LpMinimize)
    cols = []
    for j, name in enumerate(lp.col_names):
        low = None if np.isinf(a["lower"][j]) else float(a["lower"][j])
        up = None if np.isinf(a["upper"][j]) else float(a["upper"][j])
        cat = "Integer" if a["integer"][j] else "Continuous"
        cols.append(prob.add_variable(name, low, up, cat=cat) if hasattr(prob, "add_variable")
                    else pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat))  # PuLP before 3.3
    objective = pulp.LpAffineExpression([(cols[j], float(c)) for j, c in enumerate(a["cost"].tolist()) if c])
    prob += objective + lp.offset, "objective"
    start, index, value = a["start"], a["index"], a["value"]
    for i, name in enumerate(lp.row_names()):
        lo, hi = start[i], start[i + 1]
        expr = pulp.LpAffineExpression([(cols[j], v) for j, v in
                                        zip(index[lo:hi].tolist(), value[lo:hi].tolist(), strict=True)])
        low, up = float(a["row_lower"][i]), float(a["row_upper"][i])
        if low == up:
            prob += expr == up, name
            continue
        if not np.isinf(up):
            prob += expr <= up, name if np.isinf(low) else name + "__upper"
        if not np.isinf(low):
            prob += expr >= low, name if np.isinf(up) else name + "__lower"
    return prob, cols


_PULP_STATUS = {1: Status.OPTIMAL, -1: Status.INFEASIBLE, -2: Status.UNBOUNDED, 0: Status.NOT_SOLVED}


def solve_pulp(lp: LinearProgram, solver: Any, keep_log: bool = False) -> Solution:  # solver: a PuLP object
    """Solve through PuLP with a PuLP solver object (CBC). OPTIMAL only for a proven
    optimum: a plan found before a limit is NOT_SOLVED; a solver program that fails is ERROR.
    With ``keep_log`` the solver's log (CBC's own output) is returned in the solution."""
    with _log_file(keep_log) as log_path:
        if log_path is not None and hasattr(solver, "optionsDict"):
            solver.optionsDict["logPath"] = str(log_path)
        solution = _solve_pulp(lp, solver)
        if log_path is not None and log_path.exists():
            solution.log = log_path.read_text(errors="replace")
    return solution


def _solve_pulp(lp: LinearProgram, solver: Any) -> Solution:
    import pulp

    prob, cols = to_pulp(lp)
    try:
        code = prob.solve(solver)
    except pulp.PulpSolverError as exc:  # the solver program failed or wrote no solution
        return Solution(Status.ERROR, np.zeros(lp.num_cols), None, str(exc))
    status = _PULP_STATUS.get(code, Status.ERROR)
    solution = pulp.LpSolution.get(prob.sol_status, str(prob.sol_status))
    if status is Status.OPTIMAL and prob.sol_status != pulp.LpSolutionOptimal:
        status = Status.NOT_SOLVED
    if status is not Status.OPTIMAL:
        words = solution if code == 1 else f"{pulp.LpStatus.get(code, code)}, {solution}"
        return Solution(status, np.zeros(lp.num_cols), None, words)
    x = np.array([v.value() or 0.0 for v in cols], dtype=float)
    return Solution(status, x, float(pulp.value(prob.objective)), solution)


def write_model(lp: LinearProgram, path: str | Path, kind: str) -> None:
    """The model as an LP or MPS file (PuLP writes both). The files keep the sense (MPS
    with its OBJSENSE section) and carry the objective's constant as a column fixed at 1,
    ``objective_constant``, since neither format keeps a bare constant everywhere: a solver
    reading the file finds the model's own optimum."""
    if kind not in ("lp", "mps"):
        raise ValueError(f"unknown model format {kind!r} (lp or mps)")
    prob, _ = to_pulp(lp)
    if lp.offset:
        import pulp

        one = prob.add_variable("objective_constant", 1, 1) if hasattr(prob, "add_variable") \
            else pulp.LpVariable("objective_constant", 1, 1)
        prob.setObjective(prob.objective - lp.offset + lp.offset * one)
    if kind == "lp":
        prob.writeLP(str(path))
    else:
        prob.writeMPS(str(path), with_objsense=True)

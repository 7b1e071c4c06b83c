"""The portfolio as a small MILP: which plan each site uses, and when it starts.

A column is one (site, plan, start delay) with a binary x; each site also has a "do
nothing" column (all its figures 0). The site-level solves give a column's figures
(:class:`Column`): the plan's NPV shifted by the delay, its capex and the portfolio year it
falls in, its GPUs and critical IT MW and the month they come online, the MW it contracts
to a tenant. Maximise the portfolio's NPV

    max  sum_c npv_c x_c          (million USD)

under one function per constraint family (``add_*``, the maths in each docstring). The
timing rule (a delay of s months moves every monthly flow s months later):

    npv_c = npv_plan x (1 + r_m)^-s,   year_c = floor(s / 12) + 1,   online_c = ai_start + s

The interconnect on a route between two sites is in the model (:func:`add_links`): for
each pair of the two sites' columns whose plans both run an AI cluster, a link variable
y >= x_a + x_b - 1 carries the link sized for that pair of plans, its cost paid when the
later of the two starts (in that portfolio year's budget, and discounted to month 0 in the
objective). The link's parts draw power at each end; each end's energy, at its site's prices
and PUE, is a running cost from the later of the two AI starts to the earlier end of the two
plans' horizons, discounted at that site's rate and taken off the objective too; a link whose
power does not fit a site's grid beside that site's firm AI load cannot be chosen.

An infeasible portfolio is re-solved with a slack on every row of the shared families
(:func:`explain_infeasible`): the families whose slack is used are what binds, with by how
much. HiGHS solves it through :mod:`planner.model.lp`.

Why about 500 lines: the constraint families, the links' columns (their cost, energy and
grid fit) and their read-back, and the re-solves that explain an infeasible portfolio all
read one model; split, they would import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.constants import MONTHS_PER_YEAR
from planner.energy.economics import annuity_factor, monthly_rate
from planner.model.lp import LinearProgram, Solution, Status, safe, solve_highs

MUSD = 1e6  # the model's money unit: million USD (USD figures near 1e9 would strain the tolerances)
DO_NOTHING = "do nothing"


def shifted_npv(npv_usd: float, yearly_rate: float, months: int) -> float:
    """A plan's NPV when all its flows start ``months`` later: npv x (1 + r_m)^-months."""
    return npv_usd * (1 + monthly_rate(yearly_rate)) ** -months


def capex_year(months: int) -> int:
    """The portfolio year (1 = months 0-11) in which a plan started ``months`` late spends its
    capex (the site model spends it at the plan's month 0)."""
    return months // MONTHS_PER_YEAR + 1


@dataclass(frozen=True)
class Column:
    """One candidate of one site: a plan (scenario) started ``start_month`` late, or doing nothing."""

    site: str
    scenario: str  # DO_NOTHING for the site's empty column
    start_month: int
    npv_usd: float  # already shifted by the delay
    capex_usd: float
    gpus: int
    it_mw: float  # the AI's critical IT (servers and fabric)
    online_month: int  # the AI load's start, delay included
    contracted_mw: float = 0.0  # critical IT contracted to a tenant (host plans)
    discount_rate: float = 0.0  # the site's yearly rate (a link paid at its start is discounted by it)
    plan: str = ""  # the plan's key when a scenario offers several sizes (default: the scenario)

    @property
    def year(self) -> int:
        return capex_year(self.start_month)

    @property
    def plan_key(self) -> str:
        return self.plan or self.scenario

    @property
    def name(self) -> str:
        return safe(f"{self.site}__{self.plan_key}__m{self.start_month}")


@dataclass(frozen=True)
class Link:
    """The interconnect on one route sized for one pair of plans (``plan_a`` of ``site_a``,
    ``plan_b`` of ``site_b``, each a :attr:`Column.plan_key`): its cost is paid when both
    sites take those plans. ``power_w`` is the IT power of its parts at each end (site_a,
    site_b: modules, mux/demux units, booster and pre-amplifiers), ``inline_w`` that of its
    in-line amplifier sites between them (on neither site's grid); ``energy_usd_per_month``
    each end's energy cost while it runs (its MW x the site's USD per MW-month at its PUE);
    ``horizons`` the two plans' horizons in months from their own start; ``fits`` False when
    an end's power does not fit its site's grid beside the firm AI load."""

    route: str
    site_a: str
    plan_a: str
    site_b: str
    plan_b: str
    cost_usd: float
    power_w: tuple[float, float] = (0.0, 0.0)
    inline_w: float = 0.0
    energy_usd_per_month: tuple[float, float] = (0.0, 0.0)
    horizons: tuple[int, int] = (0, 0)
    fits: bool = True
    power_known: bool = True  # False: a part has no power figure (power_w and the energy are not counted)

    def __post_init__(self) -> None:
        if any(self.energy_usd_per_month) and min(self.horizons) <= 0:
            raise ValueError("a link with an energy cost needs both plans' horizons (months > 0)")

    def joins(self, a: Column, b: Column) -> bool:
        return (a.site, a.plan_key, b.site, b.plan_key) == (self.site_a, self.plan_a, self.site_b, self.plan_b)


@dataclass(frozen=True)
class LinkSpend:
    """A link paid in a solution: the month it is paid (the later start of its two sites), its
    portfolio year, its cost discounted to month 0 (at the lower of the two sites' rates), the
    months [run_from, run_to) it runs and its ends' energy over them discounted to month 0."""

    link: Link
    month: int
    year: int
    npv_cost_usd: float
    run_from: int = 0
    run_to: int = 0
    energy_npv_usd: float = 0.0

    @property
    def npv_total_usd(self) -> float:
        """What the link takes off the portfolio's NPV: its discounted cost and energy."""
        return self.npv_cost_usd + self.energy_npv_usd

    @property
    def runs(self) -> bool:
        """The two plans run together for at least a month: else no link is needed between them.
        Without both plans' horizons (``Link.horizons`` not given) the link is taken to run."""
        return min(self.link.horizons) <= 0 or self.run_to > self.run_from


def link_spend(link: Link, a: Column, b: Column) -> LinkSpend:
    """When a link between columns ``a`` and ``b`` is paid, what it costs at month 0, and its
    ends' energy at month 0:

        month = max(s_a, s_b),   year = floor(month / 12) + 1,
        pv = cost x (1 + r_m)^-month,   r_m from min(rate_a, rate_b)
        runs in [L, E): L = max(online_a, online_b), E = min(s_a + H_a, s_b + H_b)
        energy pv = e_a x A(rate_a, L, E) + e_b x A(rate_b, L, E)

    (the lower rate gives the larger present cost; e the end's energy USD a month, H the
    plan's horizon, A the annuity factor: sum over months m in [L, E) of (1 + r_m)^-(m + 1),
    as a site values its own monthly flows)."""
    month = max(a.start_month, b.start_month)
    run_from = max(a.online_month, b.online_month)
    run_to = max(run_from, min(a.start_month + link.horizons[0], b.start_month + link.horizons[1]))
    e_a, e_b = link.energy_usd_per_month
    energy = (e_a * annuity_factor(a.discount_rate, run_from, run_to) if e_a else 0.0) \
        + (e_b * annuity_factor(b.discount_rate, run_from, run_to) if e_b else 0.0)
    return LinkSpend(link, month, capex_year(month),
                     shifted_npv(link.cost_usd, min(a.discount_rate, b.discount_rate), month), run_from, run_to,
                     energy)


def links_of(chosen: dict[str, Column], links: Sequence[Link]) -> list[LinkSpend]:
    """The links a set of choices pays for: each whose two plans are both chosen and run
    together (two plans whose months never overlap need no link)."""
    out = []
    for k in links:
        a, b = chosen.get(k.site_a), chosen.get(k.site_b)
        if a is not None and b is not None and k.joins(a, b):
            spend = link_spend(k, a, b)
            if spend.runs:
                out.append(spend)
    return out


@dataclass(frozen=True)
class Shared:
    """The portfolio's shared constraints (None: not given)."""

    capex_usd_total: float | None = None
    capex_usd_per_year: tuple[float, ...] | None = None
    target_month: int | None = None
    target_gpus: int | None = None
    target_it_mw: float | None = None
    tenant_max_mw: float | None = None
    tenant_min_mw: float | None = None


@dataclass
class PortfolioModel:
    lp: LinearProgram
    columns: list[Column]
    cols: np.ndarray
    slacks: dict[str, np.ndarray] = field(default_factory=dict)  # family -> slack columns (elastic model)
    spends: list[LinkSpend] = field(default_factory=list)  # one per link column (add_links)
    link_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


@dataclass(frozen=True)
class PortfolioSolution:
    """The chosen column of each site, or the families that make the portfolio infeasible."""

    status: Status
    chosen: dict[str, Column]
    npv_usd: float | None  # the chosen plans' NPVs less the links' discounted cost and energy
    binding: tuple[str, ...]
    infeasibility: tuple[str, ...]
    links: tuple[LinkSpend, ...] = ()  # the links the chosen plans pay for


def add_one_choice(lp: LinearProgram, model: PortfolioModel, sites: Sequence[str]) -> None:
    """Each site takes exactly one of its columns (a plan at a start, or doing nothing):

        sum_{c of site i} x_c = 1     for every site i
    """
    rows, cols = [], []
    for i, site in enumerate(sites):
        for j, c in enumerate(model.columns):
            if c.site == site:
                rows.append(i)
                cols.append(model.cols[j])
    lp.rows("one_choice", [f"s{i}_{safe(s)}" for i, s in enumerate(sites)], rows, cols, 1.0, 1.0, 1.0)


def add_links(lp: LinearProgram, model: PortfolioModel, links: Sequence[Link], elastic: bool = False) -> None:
    """A link column y_ab in [0, 1] for each pair of columns (a of site_a with plan_a, b of
    site_b with plan_b) a :class:`Link` joins, forced on when both are chosen:

        x_a + x_b - y_ab <= 1

    and its cost in the objective, paid at month_ab = max(s_a, s_b) and discounted at the
    lower of the two sites' rates, with its ends' discounted energy (:func:`link_spend`):

        max  ... - sum_ab (cost_ab (1 + r_m)^-month_ab + energy_ab) y_ab

    A link whose power does not fit a site's grid beside the firm AI load (``fits`` False)
    gets y_ab <= 0, so its two plans cannot both be chosen (x_a + x_b <= 1).

    With x binary and a positive cost, y_ab = max(0, x_a + x_b - 1) at the optimum, so y_ab
    needs no integrality. The budgets count cost_ab y_ab (:func:`add_budget_total`,
    :func:`add_budget_per_year`, the year of month_ab); the energy is a running cost, not capex.
    A pair whose two plans never run in the same month (one's horizon ends before the other
    comes online: :attr:`LinkSpend.runs`) needs no link and gets no column."""
    if not links:
        return
    pairs, spends = [], []
    for k in links:
        side_a = [j for j, c in enumerate(model.columns) if (c.site, c.plan_key) == (k.site_a, k.plan_a)]
        side_b = [j for j, c in enumerate(model.columns) if (c.site, c.plan_key) == (k.site_b, k.plan_b)]
        for ja in side_a:
            for jb in side_b:
                spend = link_spend(k, model.columns[ja], model.columns[jb])
                if spend.runs:
                    pairs.append((k, ja, jb))
                    spends.append(spend)
    if not pairs:
        return
    model.spends = spends
    model.link_cols = lp.columns([f"y{n}__{safe(k.route)}" for n, (k, _, _) in enumerate(pairs)], 0.0,
                                 [1.0 if k.fits else 0.0 for k, _, _ in pairs])
    if not elastic:
        lp.add_cost(model.link_cols, [-s.npv_total_usd / MUSD for s in model.spends])
    rows, cols, vals = [], [], []
    for n, (_, ja, jb) in enumerate(pairs):
        rows += [n, n, n]
        cols += [int(model.cols[ja]), int(model.cols[jb]), int(model.link_cols[n])]
        vals += [1.0, 1.0, -1.0]
    lp.rows("link", [f"l{n}" for n in range(len(pairs))], rows, cols, vals, None, 1.0)


def _elastic(lp: LinearProgram, model: PortfolioModel, family: str, n: int, sign: float,
             elastic: bool) -> tuple[list[int], list[int], list[float]]:
    """The slack entries of a family's ``n`` rows in the elastic model (sign +1 relaxes an
    upper bound, -1 a lower bound), none otherwise: (rows, cols, values)."""
    if not elastic or n == 0:
        return [], [], []
    slack = lp.columns([f"slack__{family}__{k}" for k in range(n)], 0.0, None)
    model.slacks[family] = slack
    return list(range(n)), slack.tolist(), [-sign] * n


def add_budget_total(lp: LinearProgram, model: PortfolioModel, limit_usd: float | None,
                     elastic: bool = False) -> None:
    """Capex over all years, the links' included, within the total budget B (million USD):

        sum_c capex_c x_c + sum_ab cost_ab y_ab <= B
    """
    if limit_usd is None:
        return
    er, ec, ev = _elastic(lp, model, "budget_total", 1, 1.0, elastic)
    vals = [c.capex_usd / MUSD for c in model.columns] + [s.link.cost_usd / MUSD for s in model.spends]
    cols = model.cols.tolist() + model.link_cols.tolist()
    lp.rows("budget_total", [""], [0] * len(vals) + er, cols + ec, vals + ev, None, limit_usd / MUSD)


def add_budget_per_year(lp: LinearProgram, model: PortfolioModel, limits_usd: Sequence[float] | None,
                        elastic: bool = False) -> None:
    """Capex in each portfolio year k within that year's budget B_k (a plan spends its capex
    in the year of its start, year_c = floor(s_c / 12) + 1; a link in the year of the later
    start of its two sites, year_ab = floor(max(s_a, s_b) / 12) + 1):

        sum_{c: year_c = k} capex_c x_c + sum_{ab: year_ab = k} cost_ab y_ab <= B_k      for k = 1 .. len(B)
    """
    if not limits_usd:
        return
    n = len(limits_usd)
    er, ec, ev = _elastic(lp, model, "budget_year", n, 1.0, elastic)
    rows, cols, vals = [], [], []
    for j, c in enumerate(model.columns):
        if c.year <= n and c.capex_usd:
            rows.append(c.year - 1)
            cols.append(int(model.cols[j]))
            vals.append(c.capex_usd / MUSD)
    for m, spend in enumerate(model.spends):
        if spend.year <= n and spend.link.cost_usd:
            rows.append(spend.year - 1)
            cols.append(int(model.link_cols[m]))
            vals.append(spend.link.cost_usd / MUSD)
    lp.rows("budget_year", [f"y{k + 1}" for k in range(n)], rows + er, cols + ec, vals + ev, None,
            np.asarray(limits_usd, dtype=float) / MUSD)


def add_gpu_target(lp: LinearProgram, model: PortfolioModel, gpus: int | None, by_month: int | None,
                   elastic: bool = False) -> None:
    """GPUs online by the target month T at least G (a plan's GPUs count when its AI load
    starts by T, online_c = ai_start + s_c <= T):

        sum_{c: online_c <= T} gpus_c x_c >= G
    """
    _add_target(lp, model, "gpu_target", gpus, by_month, lambda c: float(c.gpus), elastic)


def add_it_target(lp: LinearProgram, model: PortfolioModel, mw: float | None, by_month: int | None,
                  elastic: bool = False) -> None:
    """Critical IT online by the target month T at least M MW:

        sum_{c: online_c <= T} it_mw_c x_c >= M
    """
    _add_target(lp, model, "it_target", mw, by_month, lambda c: c.it_mw, elastic)


def _add_target(lp: LinearProgram, model: PortfolioModel, name: str, least: float | None, by_month: int | None,
                size: Callable[[Column], float], elastic: bool) -> None:
    """The one row of a delivery target: the size of every plan online by the month, at least
    ``least`` (no row without a target or a month)."""
    if least is None or by_month is None:
        return
    er, ec, ev = _elastic(lp, model, name, 1, -1.0, elastic)
    idx = [j for j, c in enumerate(model.columns) if size(c) and c.online_month <= by_month]
    lp.rows(name, [""], [0] * len(idx) + er, [int(model.cols[j]) for j in idx] + ec,
            [size(model.columns[j]) for j in idx] + ev, float(least), None)


def add_tenant(lp: LinearProgram, model: PortfolioModel, max_mw: float | None, elastic: bool = False) -> None:
    """The host plans' contracted critical IT within the tenant's total C MW:

        sum_c contracted_mw_c x_c <= C
    """
    if max_mw is None:
        return
    er, ec, ev = _elastic(lp, model, "tenant", 1, 1.0, elastic)
    idx = [j for j, c in enumerate(model.columns) if c.contracted_mw]
    lp.rows("tenant", [""], [0] * len(idx) + er, [int(model.cols[j]) for j in idx] + ec,
            [model.columns[j].contracted_mw for j in idx] + ev, None, float(max_mw))


def add_tenant_min(lp: LinearProgram, model: PortfolioModel, min_mw: float | None, elastic: bool = False) -> None:
    """The host plans' contracted critical IT at least what the tenant signed for, T MW:

        sum_c contracted_mw_c x_c >= T
    """
    if min_mw is None:
        return
    er, ec, ev = _elastic(lp, model, "tenant_min", 1, -1.0, elastic)
    idx = [j for j, c in enumerate(model.columns) if c.contracted_mw]
    lp.rows("tenant_min", [""], [0] * len(idx) + er, [int(model.cols[j]) for j in idx] + ec,
            [model.columns[j].contracted_mw for j in idx] + ev, float(min_mw), None)


def build_portfolio(columns: Sequence[Column], shared: Shared, elastic: bool = False,
                    links: Sequence[Link] = ()) -> PortfolioModel:
    """The MILP: a binary per column, a link column per pair of columns a link joins, the NPV
    less the links' cost as objective (or, ``elastic``, the slack of the shared families to
    minimise, each row's slack weighed by 1 / its bound)."""
    sites = list(dict.fromkeys(c.site for c in columns))
    lp = LinearProgram("portfolio", maximise=not elastic)
    # the column's index first: two site names that differ only in characters safe() rewrites stay apart
    names = [f"x{j}__{c.name}" for j, c in enumerate(columns)]
    model = PortfolioModel(lp, list(columns), lp.columns(names, 0.0, 1.0, integer=True))
    if not elastic:
        lp.add_cost(model.cols, [c.npv_usd / MUSD for c in columns])
    add_one_choice(lp, model, sites)
    add_links(lp, model, links, elastic)
    add_budget_total(lp, model, shared.capex_usd_total, elastic)
    add_budget_per_year(lp, model, shared.capex_usd_per_year, elastic)
    add_gpu_target(lp, model, shared.target_gpus, shared.target_month, elastic)
    add_it_target(lp, model, shared.target_it_mw, shared.target_month, elastic)
    add_tenant(lp, model, shared.tenant_max_mw, elastic)
    add_tenant_min(lp, model, shared.tenant_min_mw, elastic)
    for family, slack in model.slacks.items():
        lp.add_cost(slack, 1.0 / np.maximum(_bounds(lp, family), 1e-9))
    return model


def _bounds(lp: LinearProgram, family: str) -> np.ndarray:
    """The magnitude of each row's finite bound in a family (the slack's weight)."""
    block = lp.block(family)
    assert block is not None
    a = lp.arrays()
    span = slice(block.start, block.start + block.count)
    lo, up = a["row_lower"][span], a["row_upper"][span]
    return np.abs(np.where(np.isfinite(up), up, lo))


# what each family's slack means, in the family's unit
_SHORT = {"budget_total": ("the total capex budget", "over by {:,.1f} M USD"),
          "budget_year": ("the capex budget of year {}", "over by {:,.1f} M USD"),
          "gpu_target": ("the GPU target", "short by {:,.0f} GPUs"),
          "it_target": ("the critical IT target", "short by {:,.2f} MW"),
          "tenant": ("the tenant's contracted MW", "over by {:,.2f} MW"),
          "tenant_min": ("the tenant's signed MW", "short by {:,.2f} MW")}


def _solve(lp: LinearProgram) -> Solution:
    """HiGHS to a proven optimum (no relative gap: the model is small, and a gap of 1e-4 on a
    portfolio worth billions could pick a plan worth less by hundreds of thousands)."""
    return solve_highs(lp, mip_rel_gap=0.0)


def solve_portfolio(columns: Sequence[Column], shared: Shared, links: Sequence[Link] = ()) -> PortfolioSolution:
    """Solve the MILP; read back the chosen column of each site, the links they pay for and
    the shared families at their bound; an infeasible portfolio is explained by
    :func:`explain_infeasible`."""
    model = build_portfolio(columns, shared, links=links)
    sol = _solve(model.lp)
    if sol.status is not Status.OPTIMAL:
        why = explain_infeasible(columns, shared, links) if sol.status is Status.INFEASIBLE else (sol.detail,)
        return PortfolioSolution(sol.status, {}, None, (), tuple(why))
    chosen = {c.site: c for j, c in enumerate(model.columns) if sol.x[model.cols[j]] > 0.5}
    paid = links_of(chosen, links)
    npv = sum(c.npv_usd for c in chosen.values()) - sum(s.npv_total_usd for s in paid)
    return PortfolioSolution(sol.status, chosen, npv, tuple(binding(model, sol.x)
                                                             + costly(columns, shared, npv, links)), (), tuple(paid))


def costly(columns: Sequence[Column], shared: Shared, npv_usd: float, links: Sequence[Link] = ()) -> list[str]:
    """The shared families that cost NPV: the portfolio re-solved without each, one at a
    time; a family binds when dropping it raises the NPV (by more than 1 USD), named with
    that gain. In a choice among whole plans a family can bind without being at its bound."""
    from dataclasses import replace

    drops = {"budget_total": {"capex_usd_total": None}, "budget_year": {"capex_usd_per_year": None},
             "gpu_target": {"target_gpus": None}, "it_target": {"target_it_mw": None},
             "tenant": {"tenant_max_mw": None}, "tenant_min": {"tenant_min_mw": None}}
    out = []
    for family, change in drops.items():
        if all(getattr(shared, k) is None for k in change):
            continue
        relaxed = replace(shared, **change)
        model = build_portfolio(columns, relaxed, links=links)
        sol = _solve(model.lp)
        if sol.status is Status.OPTIMAL and sol.objective is not None and sol.objective * MUSD > npv_usd + 1.0:
            out.append(f"{family}: without it the portfolio's NPV would be "
                       f"{(sol.objective * MUSD - npv_usd) / MUSD:,.1f} M USD higher")
    if any(not k.fits for k in links):  # the links' grid fit (add_links), dropped the same way
        sol = _solve(build_portfolio(columns, shared, links=_all_fit(links)).lp)
        if sol.status is Status.OPTIMAL and sol.objective is not None and sol.objective * MUSD > npv_usd + 1.0:
            out.append(f"link_grid: were every link's power to fit its sites' grids, the portfolio's NPV would be "
                       f"{(sol.objective * MUSD - npv_usd) / MUSD:,.1f} M USD higher")
    return out


def _all_fit(links: Sequence[Link]) -> list[Link]:
    from dataclasses import replace

    return [replace(k, fits=True) for k in links]


def binding(model: PortfolioModel, x: np.ndarray) -> list[str]:
    """The shared families at their bound (within 1e-6 of it, relative) in a solution, each
    named with its row: family or family__label."""
    a = model.lp.arrays()
    out = []
    for block in model.lp.blocks:
        if block.family in ("one_choice", "link"):
            continue
        for k, label in enumerate(block.labels):
            i = block.start + k
            span = slice(a["start"][i], a["start"][i + 1])
            value = float(a["value"][span] @ x[a["index"][span]])
            for bound in (a["row_lower"][i], a["row_upper"][i]):
                if np.isfinite(bound) and abs(value - bound) <= 1e-6 * max(1.0, abs(bound)):
                    out.append(block.family + (f"__{label}" if label else ""))
    return sorted(set(out))


def explain_infeasible(columns: Sequence[Column], shared: Shared, links: Sequence[Link] = ()) -> list[str]:
    """What binds an infeasible portfolio. Each shared family is first tried alone: one no
    choice of plans can meet is named with the least shortfall (the elastic re-solve of that
    family alone). When each can be met alone, the elastic re-solve of all of them names the
    families that conflict, each with the shortfall of the least weighted relaxation."""
    from dataclasses import replace

    alone = {"budget_total": replace(Shared(), capex_usd_total=shared.capex_usd_total),
             "budget_year": replace(Shared(), capex_usd_per_year=shared.capex_usd_per_year),
             "gpu_target": replace(Shared(), target_gpus=shared.target_gpus, target_month=shared.target_month),
             "it_target": replace(Shared(), target_it_mw=shared.target_it_mw, target_month=shared.target_month),
             "tenant": replace(Shared(), tenant_max_mw=shared.tenant_max_mw),
             "tenant_min": replace(Shared(), tenant_min_mw=shared.tenant_min_mw)}
    out = []
    for one in alone.values():
        if one != Shared() and _solve(build_portfolio(columns, one, links=links).lp).status is not Status.OPTIMAL:
            out += [f"{line} by any choice of plans" for line in _shortfalls(columns, one, links)]
    if any(not k.fits for k in links) and \
            _solve(build_portfolio(columns, shared, links=_all_fit(links)).lp).status is Status.OPTIMAL:
        out.append("link_grid: a link's power does not fit its sites' grids beside their AI loads, so its two plans "
                   "cannot both be chosen; with it they could (see interconnect_notes)")
    if out:
        return out
    given = [f for f, one in alone.items() if one != Shared()]
    conflict = _shortfalls(columns, shared, links)
    return [f"{line} together with {', '.join(f for f in given if not line.startswith(f))} (each can be met "
            "alone)" for line in conflict] or [
        "no shared constraint: the sites' plans cannot be combined"]


def _shortfalls(columns: Sequence[Column], shared: Shared, links: Sequence[Link] = ()) -> list[str]:
    model = build_portfolio(columns, shared, elastic=True, links=links)
    sol = _solve(model.lp)
    if sol.status is not Status.OPTIMAL:
        return [f"the portfolio has no solution even with every shared constraint relaxed ({sol.detail})"]
    out = []
    for family, slack in model.slacks.items():
        for k, v in enumerate(sol.x[slack].tolist()):
            if v > 1e-6:
                what, amount = _SHORT[family]
                what = what.format(k + 1) if "{}" in what else what
                out.append(f"{family}: {what} cannot be met ({amount.format(v)})")
    return out

"""A portfolio from its file to portfolio.json: every site solved alone by the one pipeline
(one PlanCache for the run), its plans turned into the MILP's columns at each start delay,
the links on every route sized for every pair of the two sites' AI plans
(:func:`planner.network.interconnect.size_interconnect`), the portfolio solved together with
those links in its budget and NPV (:mod:`planner.model.portfolio`), and the same sites one
by one (each its own best plan started now)::

    load_portfolio(file)                      -> LoadedPortfolio      site/portfolio
    solve_sites(portfolio, overlays, ...)     -> [SitePlans]          app/pipeline, per site and size
    columns(sites, portfolio)                 -> [Column]             start delays, the timing rule
    route_links(portfolio, sites, overlays)   -> RouteLinks           a link per route and pair of plans
    solve_portfolio(columns, shared, links)   -> PortfolioSolution    model/portfolio
    portfolio_document(...)                   -> PortfolioDocument    outputs/portfolio

A site may offer several sizes (``sizes_gpus`` in the portfolio file): each caps its
cluster's GPUs and is another solve of the site by its own optimizer, whose best plan
within the cap is one more plan for the portfolio.

The link rule (exact, not a bound): a route's bandwidth is its stated gbps, or the share of
the bisection of the smaller of the two plans' clusters, so each pair of plans has its own
need, sized and priced on its own; the MILP pays the link of the pair it chooses.

The CLI's ``planner portfolio`` and the TUI's portfolio pane both call :func:`run_portfolio`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planner.constants import W_PER_MW
from planner.errors import InputError, Problem, did_you_mean
from planner.model.portfolio import (
    DO_NOTHING,
    Column,
    LinkSpend,
    Shared,
    capex_year,
    links_of,
    shifted_npv,
    solve_portfolio,
)

if TYPE_CHECKING:
    from planner.app.pipeline import SiteRun
    from planner.app.portfolio_links import EnergyTerms, RouteLinks
    from planner.model.portfolio import PortfolioSolution
    from planner.outputs.portfolio import PortfolioCandidate, PortfolioDocument, PortfolioTotals
    from planner.parts.catalog import Catalog
    from planner.site.load import LoadedSite
    from planner.site.portfolio import LoadedPortfolio

TIMING_RULE = ("a plan started s months late has every monthly flow moved s months later: NPV x (1 + r_m)^-s "
               "(r_m = (1 + the site's discount rate)^(1/12) - 1), its capex in portfolio year floor(s / 12) + 1, "
               "its AI load online at its AI start month + s; the months of the delay earn nothing here. A link "
               "between two sites is paid when the later of them starts (month max(s_a, s_b), in that portfolio "
               "year's budget) and discounted from then at the lower of the two sites' rates; its ends' energy "
               "runs from the later of the two AI loads' online months to the earlier end of the two plans' "
               "horizons, each end discounted at its site's rate")


@dataclass
class Plan:
    """A site's scenario with a plan, as the MILP reads it (started now)."""

    scenario: str
    npv_usd: float
    capex_usd: float
    gpus: int
    it_mw: float
    ai_start_month: int
    discount_rate: float
    contracted_mw: float
    gbps_per_gpu: float  # the cluster's scale-out bandwidth per GPU (for the bisection)
    cap_gpus: int | None = None  # the size it was solved under (sizes_gpus); None: the site's own bounds
    # what a link's end at this plan's site costs and may draw (planner.app.portfolio_links):
    energy: EnergyTerms | None = None

    @property
    def key(self) -> str:
        """The plan's name in the portfolio: the scenario, and its cap when it is a smaller size."""
        return self.scenario if self.cap_gpus is None else f"{self.scenario} at most {self.cap_gpus:,} GPUs"


@dataclass
class SitePlans:
    """One site of the portfolio solved alone: its run, its candidates and its plans."""

    name: str
    file: str
    run: SiteRun
    candidates: list[PortfolioCandidate]
    plans: list[Plan]
    starts: list[int]


def solve_sites(portfolio: LoadedPortfolio, overlays: Sequence[Path] | None = None, solver: str = "highs",
                on_site: Callable[[str], None] | None = None) -> list[SitePlans]:
    """Load every site file (each valid alone, its problems named in its own file) and solve
    the scenarios the portfolio lets it use, sharing one PlanCache."""
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache

    cache = PlanCache()
    loaded_sites = []
    problems: list[Problem] = []
    for i in range(len(portfolio.spec.sites)):
        try:
            loaded, catalog = load(portfolio.site_path(i), overlays)
        except InputError as exc:
            problems += exc.problems
            continue
        problems += entry_problems(portfolio, i, loaded)
        loaded_sites.append((i, loaded, catalog))
    if problems:
        raise InputError(problems)
    out = []
    for i, loaded, catalog in loaded_sites:
        entry = portfolio.spec.sites[i]
        if on_site is not None:
            on_site(entry.label)
        run = solve_site(loaded, catalog, entry.scenarios, cache=cache, solver=solver)
        assert run is not None  # no progress hook: the run always ends
        candidates, plans = _site_plans(run, catalog)
        for cap in sorted(entry.sizes_gpus or [], reverse=True):
            if on_site is not None:
                on_site(f"{entry.label} at most {cap:,} GPUs")
            capped = solve_site(capped_site(loaded, cap), catalog, entry.scenarios, cache=cache, solver=solver)
            assert capped is not None
            more_candidates, more = _site_plans(capped, catalog, cap)
            for cand, plan in zip(more_candidates, _aligned(more_candidates, more), strict=True):
                if plan is not None and any(p.scenario == plan.scenario and p.gpus == plan.gpus for p in plans):
                    continue  # the cap changes nothing: the same plan is already offered
                candidates.append(cand)
                if plan is not None:
                    plans.append(plan)
        out.append(SitePlans(entry.label, entry.file, run, candidates, plans, portfolio.starts(i)))
    return out


def entry_problems(portfolio: LoadedPortfolio, i: int, loaded: LoadedSite) -> list[Problem]:
    """What the portfolio's ``sites[i]`` asks of its (valid) site file that the site cannot
    give: a scenario it does not have, a size below its ai.min_gpus or for a site sized in MW."""
    entry = portfolio.spec.sites[i]
    problems = []
    for k, name in enumerate(entry.scenarios or []):
        if name not in loaded.site.scenarios:
            problems.append(Problem(portfolio.shown, f"sites[{i}].scenarios[{k}]", f"site {entry.label!r} has "
                                    f"no scenario {name!r}", portfolio.line("sites", i, "scenarios"),
                                    did_you_mean(name, loaded.site.scenarios)))
    for k, cap in enumerate(entry.sizes_gpus or []):
        where = (portfolio.shown, f"sites[{i}].sizes_gpus[{k}]")
        ai = loaded.site.ai
        if ai.it_load_mw is not None:
            problems.append(Problem(*where, f"site {entry.label!r} sets its size by ai.it_load_mw: sizes in "
                                    "GPUs cannot cap it", portfolio.line("sites", i, "sizes_gpus"),
                                    "give the site ai.max_gpus instead of it_load_mw, or leave sizes_gpus out"))
        elif cap < ai.min_gpus:
            problems.append(Problem(*where, f"{cap:,} GPUs is below the ai.min_gpus of site {entry.label!r} "
                                    f"({ai.min_gpus:,})", portfolio.line("sites", i, "sizes_gpus")))
    return problems


def validate_portfolio(path: Path, overlays: Sequence[Path] | None = None
                       ) -> tuple[LoadedPortfolio | None, list[Problem]]:
    """Every problem ``planner validate`` finds in a portfolio file and the site files it
    lists, at once where they are independent: the portfolio's schema (nothing more when it
    fails), its references, each existing site file as ``planner validate`` checks it alone
    (its problems named in its own file), and what the portfolio asks of each valid site."""
    from planner.app.pipeline import validate_site
    from planner.model.cache import PlanCache
    from planner.site.load import load_site
    from planner.site.portfolio import read_portfolio, reference_problems

    try:
        portfolio = read_portfolio(path)
    except InputError as exc:
        return None, exc.problems
    problems = reference_problems(portfolio)
    cache = PlanCache()
    for i in range(len(portfolio.spec.sites)):
        site_path = portfolio.site_path(i)
        if not site_path.is_file():
            continue  # named by reference_problems
        found = validate_site(site_path, overlays, cache)
        problems += [p for p in found if p not in problems]
        if not found:
            problems += entry_problems(portfolio, i, load_site(site_path))
    return portfolio, problems


def capped_site(loaded: LoadedSite, cap: int) -> LoadedSite:
    """The site with its cluster capped at ``cap`` GPUs: ai.max_gpus and every scenario's
    own max_gpus become at most ``cap`` (a scenario's 0, no AI, stays 0)."""
    site = loaded.site
    ai = site.ai.model_copy(update={"max_gpus": cap if site.ai.max_gpus is None else min(cap, site.ai.max_gpus)})
    scenarios = {n: sc if sc.max_gpus is None else sc.model_copy(update={"max_gpus": min(cap, sc.max_gpus)})
                 for n, sc in site.scenarios.items()}
    return loaded.model_copy(update={"site": site.model_copy(update={"ai": ai, "scenarios": scenarios})})


def _aligned(candidates: Sequence[PortfolioCandidate], plans: Sequence[Plan]) -> list[Plan | None]:
    """Each candidate's plan (None for a candidate without one), in the candidates' order."""
    by = {p.scenario: p for p in plans}
    return [by.get(c.scenario) if c.npv_usd is not None else None for c in candidates]


def _site_plans(run: SiteRun, catalog: Catalog, cap: int | None = None
                ) -> tuple[list[PortfolioCandidate], list[Plan]]:
    """Each scenario as a candidate, and those with a plan as the MILP's plans (solved under
    ``cap`` GPUs, or the site's own bounds). The capex the budget counts is the owner's
    (capex_usd), or under a hosting contract the host's."""
    from planner.app.portfolio_links import energy_terms
    from planner.outputs.portfolio import PortfolioCandidate
    from planner.outputs.records import PlanSummary

    doc = run.summary()
    candidates, plans = [], []
    for name, sc in doc.scenarios.items():
        result = run.results[name]
        if not isinstance(sc, PlanSummary):
            candidates.append(PortfolioCandidate(scenario=name, max_gpus=cap, status=sc.status, npv_usd=None,
                                                 capex_usd=None, gpus=0, critical_it_mw=0.0, ai_start_month=None,
                                                 contracted_mw=0.0, message=sc.message))
            continue
        opt = result.chosen
        it_mw = opt.it_power_w / W_PER_MW if opt.servers else 0.0
        capex = float(sc.capex_by_scope_usd.get("host", sc.capex_usd)) if sc.business_model == "host" \
            else float(sc.capex_usd)
        contracted = float(sc.hosting["contracted_it_mw"]) if sc.hosting and sc.business_model == "host" else 0.0
        start = sc.ai_start_month if sc.ai_start_month is not None else int(result.inputs.ai_start_month)
        server = catalog.entries["servers"].get(opt.server) if opt.server else None
        per_gpu = (server.item.compute_ports * (server.item.compute_nic_gbps or 0.0) / server.item.gpus
                   if server is not None else 0.0)
        plans.append(Plan(name, float(sc.npv_usd), capex, sc.gpus, it_mw, start, result.inputs.discount_rate,
                          contracted, per_gpu, cap, energy_terms(result) if opt.servers else None))
        candidates.append(PortfolioCandidate(scenario=name, max_gpus=cap, status="optimal", npv_usd=sc.npv_usd,
                                             capex_usd=capex,
                                             gpus=sc.gpus, critical_it_mw=round(it_mw, 6), ai_start_month=start,
                                             contracted_mw=contracted, message=None))
    return candidates, plans


def columns(sites: Sequence[SitePlans]) -> list[Column]:
    """The MILP's columns: each plan at each start delay (the timing rule), and a "do
    nothing" column per site. A plan with no AI load and no positive NPV (the site's own
    solve built nothing) is doing nothing, and is left to that column."""
    out = []
    for s in sites:
        for p in s.plans:
            if not p.gpus and not p.it_mw and not p.contracted_mw and p.npv_usd <= 0:
                continue
            for m in s.starts:
                out.append(Column(s.name, p.scenario, m, shifted_npv(p.npv_usd, p.discount_rate, m), p.capex_usd,
                                  p.gpus, p.it_mw, p.ai_start_month + m, p.contracted_mw, p.discount_rate, p.key))
        out.append(Column(s.name, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0, 0.0))
    return out


def shared_of(portfolio: LoadedPortfolio) -> Shared:
    spec = portfolio.spec
    b, t = spec.budget, spec.target
    return Shared(capex_usd_total=b.capex_usd_total if b else None,
                  capex_usd_per_year=tuple(b.capex_usd_per_year) if b and b.capex_usd_per_year else None,
                  target_month=t.by_month if t else None, target_gpus=t.gpus if t else None,
                  target_it_mw=t.critical_it_mw if t else None,
                  tenant_max_mw=spec.tenant.max_contracted_mw if spec.tenant else None,
                  tenant_min_mw=spec.tenant.min_contracted_mw if spec.tenant else None)


def one_by_one(sites: Sequence[SitePlans]) -> dict[str, Column]:
    """Each site's own best plan started now (the highest NPV), or nothing when no plan has
    a positive NPV: the sites solved one by one, ignoring the shared constraints."""
    out = {}
    for s in sites:
        best = max(s.plans, key=lambda p: p.npv_usd, default=None)
        if best is None or best.npv_usd <= 0:
            out[s.name] = Column(s.name, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0, 0.0)
        else:
            out[s.name] = Column(s.name, best.scenario, 0, best.npv_usd, best.capex_usd, best.gpus, best.it_mw,
                                 best.ai_start_month, best.contracted_mw, best.discount_rate, best.key)
    return out


def breaks(chosen: dict[str, Column], shared: Shared, paid: Sequence[LinkSpend] = ()) -> list[str]:
    """The shared constraints a set of choices breaks (the links it pays for in its capex),
    each with its figures."""
    out = []
    used = [c for c in chosen.values() if c.scenario != DO_NOTHING]
    capex = sum(c.capex_usd for c in used) + sum(k.link.cost_usd for k in paid)
    if shared.capex_usd_total is not None and capex > shared.capex_usd_total * (1 + 1e-9):
        out.append(f"budget_total: capex {capex / 1e6:,.1f} M USD > {shared.capex_usd_total / 1e6:,.1f} M USD")
    for k, limit in enumerate(shared.capex_usd_per_year or (), 1):
        spent = sum(c.capex_usd for c in used if c.year == k) + sum(p.link.cost_usd for p in paid if p.year == k)
        if spent > limit * (1 + 1e-9):
            out.append(f"budget_year__y{k}: capex in year {k} {spent / 1e6:,.1f} M USD > {limit / 1e6:,.1f} M USD")
    if shared.target_month is not None:
        on = [c for c in used if c.online_month <= shared.target_month]
        gpus, mw = sum(c.gpus for c in on), sum(c.it_mw for c in on)
        if shared.target_gpus is not None and gpus < shared.target_gpus:
            out.append(f"gpu_target: {gpus:,} GPUs online by month {shared.target_month} < {shared.target_gpus:,}")
        if shared.target_it_mw is not None and mw < shared.target_it_mw * (1 - 1e-9):
            out.append(f"it_target: {mw:,.2f} MW online by month {shared.target_month} < {shared.target_it_mw:,.2f}")
    contracted = sum(c.contracted_mw for c in used)
    if shared.tenant_max_mw is not None and contracted > shared.tenant_max_mw * (1 + 1e-9):
        out.append(f"tenant: {contracted:,.2f} MW contracted > {shared.tenant_max_mw:,.2f} MW")
    if shared.tenant_min_mw is not None and contracted < shared.tenant_min_mw * (1 - 1e-9):
        out.append(f"tenant_min: {contracted:,.2f} MW contracted < {shared.tenant_min_mw:,.2f} MW signed")
    for spend in paid:
        if not spend.link.fits:
            out.append(f"link_grid: the {spend.link.route} link's power does not fit a site's grid beside its AI "
                       "load")
    return out


def site_link_power_w(site: str, paid: Sequence[LinkSpend]) -> float | None:
    """W of a site's ends of the links it pays for (None when one of them has a part without a
    power figure: named in the notes, never counted as zero)."""
    mine = [k for k in paid if site in (k.link.site_a, k.link.site_b)]
    if any(not k.link.power_known for k in mine):
        return None
    return sum(k.link.power_w[0] if k.link.site_a == site else k.link.power_w[1] for k in mine)


def totals(chosen: dict[str, Column], shared: Shared, paid: Sequence[LinkSpend] = ()) -> PortfolioTotals:
    """A set of choices summed, the links it pays for included: their cost in the capex (in
    the year of the later start), their power, and their discounted cost and energy taken off
    the NPV."""
    from planner.outputs.portfolio import PortfolioTotals

    used = [c for c in chosen.values() if c.scenario != DO_NOTHING]
    years: dict[str, float] = {}
    spends = [(c.year, c.capex_usd) for c in used] + [(k.year, k.link.cost_usd) for k in paid]
    for year, usd in sorted(spends, key=lambda t: t[0]):
        years[str(year)] = years.get(str(year), 0.0) + usd
    links_usd = sum(k.link.cost_usd for k in paid)
    on = [c for c in used if shared.target_month is not None and c.online_month <= shared.target_month]
    power = None if any(not k.link.power_known for k in paid) else \
        sum(sum(k.link.power_w) + k.link.inline_w for k in paid)
    return PortfolioTotals(
        npv_usd=round(sum(c.npv_usd for c in used) - sum(k.npv_total_usd for k in paid), 2),
        capex_usd=round(sum(c.capex_usd for c in used) + links_usd, 2),
        capex_by_year_usd={k: round(v, 2) for k, v in years.items()},
        interconnect_capex_usd=round(links_usd, 2),
        interconnect_power_w=None if power is None else round(power, 3),
        interconnect_energy_npv_usd=round(sum(k.energy_npv_usd for k in paid), 2), gpus=sum(c.gpus for c in used),
        critical_it_mw=round(sum(c.it_mw for c in used), 6),
        gpus_by_target=sum(c.gpus for c in on) if shared.target_month is not None else None,
        critical_it_mw_by_target=round(sum(c.it_mw for c in on), 6) if shared.target_month is not None else None,
        sites_used=[c.site for c in used], breaks=breaks(chosen, shared, paid))


def why_not(site: SitePlans, chosen: Column | None, alone: Column, shared: Shared) -> tuple[bool, str | None]:
    """(can the site help, the reason its choice is nothing or differs from its own best)."""
    if not site.plans:
        bad = "; ".join(f"{c.scenario}: {c.message}" for c in site.candidates)
        return False, f"no scenario has a plan ({bad})"
    best = max(site.plans, key=lambda p: p.npv_usd)
    if best.npv_usd <= 0:
        return False, (f"its plans add no value: the best, {best.scenario}, has an NPV of {best.npv_usd / 1e6:,.1f} "
                       f"M USD" + (" (its own solve builds nothing)" if not best.gpus else " (it loses money)"))
    if shared.capex_usd_total is not None and all(p.capex_usd > shared.capex_usd_total for p in site.plans):
        cheapest = min(site.plans, key=lambda p: p.capex_usd)
        return False, (f"every plan breaks the budget: the cheapest, {cheapest.scenario}, needs "
                       f"{cheapest.capex_usd / 1e6:,.1f} M USD of capex, the total budget is "
                       f"{shared.capex_usd_total / 1e6:,.1f} M USD")
    if chosen is None:
        return True, None
    if chosen.scenario == DO_NOTHING:
        return True, (f"left out: its best plan ({best.scenario}, NPV {best.npv_usd / 1e6:,.1f} M USD, capex "
                      f"{best.capex_usd / 1e6:,.1f} M USD) is worth less to the portfolio than the other sites' "
                      "plans within the shared constraints")
    if (chosen.plan_key, chosen.start_month) != (alone.plan_key, alone.start_month):
        return True, (f"{chosen.plan_key} started at month {chosen.start_month} instead of its own best, "
                      f"{alone.plan_key} now, to meet the shared constraints or pay for its links")
    return True, None


def run_portfolio(portfolio: LoadedPortfolio, overlays: Sequence[Path] | None = None, solver: str = "highs",
                  on_site: Callable[[str], None] | None = None) -> tuple[PortfolioDocument, PortfolioSolution]:
    """Solve a loaded portfolio: every site alone (at each of its sizes), the links of every
    route for every pair of plans, then the sites together; the document and the MILP's solution."""
    from planner.app.portfolio_links import route_links

    sites = solve_sites(portfolio, overlays, solver, on_site)
    shared = shared_of(portfolio)
    links = route_links(portfolio, sites, overlays)
    solution = solve_portfolio(columns(sites), shared, links.links)
    return portfolio_document(portfolio, sites, shared, solution, solver, links), solution


def portfolio_document(portfolio: LoadedPortfolio, sites: Sequence[SitePlans], shared: Shared,
                       solution: PortfolioSolution, solver: str, links: RouteLinks) -> PortfolioDocument:
    from planner import __version__
    from planner.app.portfolio_links import link_records
    from planner.model.lp import Status
    from planner.outputs.portfolio import PortfolioDocument, PortfolioSiteResult
    from planner.outputs.summary import _solver

    alone = one_by_one(sites)
    rows = []
    for s in sites:
        c = solution.chosen.get(s.name)
        link_w = site_link_power_w(s.name, solution.links)
        helps, reason = why_not(s, c, alone[s.name], shared)
        used = c is not None and c.scenario != DO_NOTHING
        a = alone[s.name]
        rows.append(PortfolioSiteResult(
            site=s.name, file=s.file, scenario=c.scenario if used and c else None,
            max_gpus=_cap(s, c) if used and c else None,
            start_month=c.start_month if used and c else None, npv_usd=round(c.npv_usd, 2) if c else 0.0,
            capex_usd=c.capex_usd if c else 0.0, capex_year=capex_year(c.start_month) if used and c else None,
            gpus=c.gpus if c else 0, critical_it_mw=round(c.it_mw, 6) if c else 0.0,
            interconnect_power_w=None if link_w is None else round(link_w, 3),
            total_it_mw=None if link_w is None else round((c.it_mw if c else 0.0) + link_w / W_PER_MW, 6),
            online_month=c.online_month if used and c else None,
            alone_scenario=None if a.scenario == DO_NOTHING else a.scenario, alone_npv_usd=round(a.npv_usd, 2),
            can_help=helps, reason=reason, candidates=s.candidates))
    optimal = solution.status is Status.OPTIMAL
    together = totals(solution.chosen, shared, solution.links) if optimal else None
    apart = totals(alone, shared, links_of(alone, links.links))
    records, notes = link_records(portfolio, solution.chosen if optimal else {}, solution.links, links)
    spec = portfolio.spec
    return PortfolioDocument(
        portfolio=spec.name, planner_version=__version__, solver=_solver(solver), status=solution.status.value,
        timing_rule=TIMING_RULE,
        shared=spec.model_dump(mode="json", include={"timing", "budget", "target", "tenant"}, exclude_none=True),
        binding_constraints=list(solution.binding if optimal else solution.infeasibility), sites=rows,
        together=together, one_by_one=apart,
        difference=None if together is None else {
            "npv_usd": round(together.npv_usd - apart.npv_usd, 2),
            "capex_usd": round(together.capex_usd - apart.capex_usd, 2), "gpus": together.gpus - apart.gpus,
            "critical_it_mw": round(together.critical_it_mw - apart.critical_it_mw, 6)},
        interconnect=records, interconnect_notes=links.notes + notes)


def _cap(site: SitePlans, column: Column) -> int | None:
    """The GPU cap of a chosen column's plan (None: the site's own bounds)."""
    return next((p.cap_gpus for p in site.plans if p.key == column.plan_key), None)

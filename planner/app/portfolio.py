"""A portfolio from its file to portfolio.json: every site solved alone by the one pipeline
(one PlanCache for the run), its plans turned into the MILP's columns at each start delay,
the portfolio solved together (:mod:`planner.model.portfolio`), the same sites one by one
(each its own best plan started now), and the links between the chosen sites sized
(:func:`planner.network.interconnect.size_interconnect`)::

    load_portfolio(file)                      -> LoadedPortfolio      site/portfolio
    solve_sites(portfolio, overlays, ...)     -> [SitePlans]          app/pipeline, per site
    columns(sites, portfolio)                 -> [Column]             start delays, the timing rule
    solve_portfolio(columns, shared)          -> PortfolioSolution    model/portfolio
    portfolio_document(...)                   -> PortfolioDocument    outputs/portfolio

The CLI's ``planner portfolio`` and the TUI's portfolio pane both call :func:`run_portfolio`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.constants import W_PER_MW
from planner.errors import InputError, Problem, did_you_mean
from planner.model.portfolio import DO_NOTHING, Column, Shared, capex_year, shifted_npv, solve_portfolio

if TYPE_CHECKING:
    from planner.app.pipeline import SiteRun
    from planner.model.portfolio import PortfolioSolution
    from planner.outputs.portfolio import PortfolioCandidate, PortfolioDocument, PortfolioTotals
    from planner.parts.catalog import Catalog
    from planner.site.portfolio import LoadedPortfolio

TIMING_RULE = ("a plan started s months late has every monthly flow moved s months later: NPV x (1 + r_m)^-s "
               "(r_m = (1 + the site's discount rate)^(1/12) - 1), its capex in portfolio year floor(s / 12) + 1, "
               "its AI load online at its AI start month + s; the months of the delay earn nothing here")


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
    for i, entry in enumerate(portfolio.spec.sites):
        try:
            loaded, catalog = load(portfolio.site_path(i), overlays)
        except InputError as exc:
            problems += exc.problems
            continue
        for k, name in enumerate(entry.scenarios or []):
            if name not in loaded.site.scenarios:
                problems.append(Problem(portfolio.shown, f"sites[{i}].scenarios[{k}]", f"site {entry.label!r} has "
                                        f"no scenario {name!r}", portfolio.line("sites", i, "scenarios"),
                                        did_you_mean(name, loaded.site.scenarios)))
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
        out.append(SitePlans(entry.label, entry.file, run, candidates, plans, portfolio.starts(i)))
    return out


def _site_plans(run: SiteRun, catalog: Catalog) -> tuple[list[PortfolioCandidate], list[Plan]]:
    """Each scenario as a candidate, and those with a plan as the MILP's plans. The capex the
    budget counts is the owner's (capex_usd), or under a hosting contract the host's."""
    from planner.outputs.portfolio import PortfolioCandidate
    from planner.outputs.records import PlanSummary

    doc = run.summary()
    candidates, plans = [], []
    for name, sc in doc.scenarios.items():
        result = run.results[name]
        if not isinstance(sc, PlanSummary):
            candidates.append(PortfolioCandidate(scenario=name, status=sc.status, npv_usd=None, capex_usd=None,
                                                 gpus=0, critical_it_mw=0.0, ai_start_month=None,
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
                          contracted, per_gpu))
        candidates.append(PortfolioCandidate(scenario=name, status="optimal", npv_usd=sc.npv_usd, capex_usd=capex,
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
                                  p.gpus, p.it_mw, p.ai_start_month + m, p.contracted_mw))
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
                                 best.ai_start_month, best.contracted_mw)
    return out


def breaks(chosen: dict[str, Column], shared: Shared) -> list[str]:
    """The shared constraints a set of choices breaks, each with its figures."""
    out = []
    used = [c for c in chosen.values() if c.scenario != DO_NOTHING]
    capex = sum(c.capex_usd for c in used)
    if shared.capex_usd_total is not None and capex > shared.capex_usd_total * (1 + 1e-9):
        out.append(f"budget_total: capex {capex / 1e6:,.1f} M USD > {shared.capex_usd_total / 1e6:,.1f} M USD")
    for k, limit in enumerate(shared.capex_usd_per_year or (), 1):
        spent = sum(c.capex_usd for c in used if c.year == k)
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
    return out


def totals(chosen: dict[str, Column], shared: Shared) -> PortfolioTotals:
    from planner.outputs.portfolio import PortfolioTotals

    used = [c for c in chosen.values() if c.scenario != DO_NOTHING]
    years: dict[str, float] = {}
    for c in sorted(used, key=lambda c: c.year):
        years[str(c.year)] = years.get(str(c.year), 0.0) + c.capex_usd
    on = [c for c in used if shared.target_month is not None and c.online_month <= shared.target_month]
    return PortfolioTotals(
        npv_usd=round(sum(c.npv_usd for c in used), 2), capex_usd=round(sum(c.capex_usd for c in used), 2),
        capex_by_year_usd={k: round(v, 2) for k, v in years.items()}, gpus=sum(c.gpus for c in used),
        critical_it_mw=round(sum(c.it_mw for c in used), 6),
        gpus_by_target=sum(c.gpus for c in on) if shared.target_month is not None else None,
        critical_it_mw_by_target=round(sum(c.it_mw for c in on), 6) if shared.target_month is not None else None,
        sites_used=[c.site for c in used], breaks=breaks(chosen, shared))


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
    if (chosen.scenario, chosen.start_month) != (alone.scenario, alone.start_month):
        return True, (f"{chosen.scenario} started at month {chosen.start_month} instead of its own best, "
                      f"{alone.scenario} now, to meet the shared constraints")
    return True, None


def run_portfolio(portfolio: LoadedPortfolio, overlays: Sequence[Path] | None = None, solver: str = "highs",
                  on_site: Callable[[str], None] | None = None) -> tuple[PortfolioDocument, PortfolioSolution]:
    """Solve a loaded portfolio: every site alone, then together; the document and the MILP's solution."""
    sites = solve_sites(portfolio, overlays, solver, on_site)
    shared = shared_of(portfolio)
    solution = solve_portfolio(columns(sites), shared)
    return portfolio_document(portfolio, sites, shared, solution, solver, overlays), solution


def portfolio_document(portfolio: LoadedPortfolio, sites: Sequence[SitePlans], shared: Shared,
                       solution: PortfolioSolution, solver: str,
                       overlays: Sequence[Path] | None = None) -> PortfolioDocument:
    from planner import __version__
    from planner.model.lp import Status
    from planner.outputs.portfolio import PortfolioDocument, PortfolioSiteResult
    from planner.outputs.summary import _solver

    alone = one_by_one(sites)
    rows = []
    for s in sites:
        c = solution.chosen.get(s.name)
        helps, reason = why_not(s, c, alone[s.name], shared)
        used = c is not None and c.scenario != DO_NOTHING
        a = alone[s.name]
        rows.append(PortfolioSiteResult(
            site=s.name, file=s.file, scenario=c.scenario if used and c else None,
            start_month=c.start_month if used and c else None, npv_usd=round(c.npv_usd, 2) if c else 0.0,
            capex_usd=c.capex_usd if c else 0.0, capex_year=capex_year(c.start_month) if used and c else None,
            gpus=c.gpus if c else 0, critical_it_mw=round(c.it_mw, 6) if c else 0.0,
            online_month=c.online_month if used and c else None,
            alone_scenario=None if a.scenario == DO_NOTHING else a.scenario, alone_npv_usd=round(a.npv_usd, 2),
            can_help=helps, reason=reason, candidates=s.candidates))
    optimal = solution.status is Status.OPTIMAL
    together = totals(solution.chosen, shared) if optimal else None
    apart = totals(alone, shared)
    links, notes = interconnect(portfolio, sites, solution.chosen if optimal else {}, overlays)
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
        interconnect=links, interconnect_notes=notes)


def interconnect(portfolio: LoadedPortfolio, sites: Sequence[SitePlans], chosen: dict[str, Column],
                 overlays: Sequence[Path] | None) -> tuple[list[Any], list[str]]:
    """Size the links on every route of the file whose two sites both have a plan with an AI
    cluster (a plan that only mines needs no link): the
    route's gbps, or the share of the bisection of the smaller chosen cluster (GPUs x its
    scale-out Gb/s per GPU / 2). The bundled catalog and the overlays give the parts."""
    from planner.network.interconnect import Need, interconnect_doc, size_interconnect
    from planner.outputs.portfolio import PortfolioLink
    from planner.parts.catalog import load_catalog

    spec = portfolio.spec
    by_name = {s.name: s for s in sites}
    links, notes = [], []
    catalog = None
    for i, r in enumerate(spec.routes):
        ends = [chosen.get(r.from_), chosen.get(r.to)]
        if any(c is None or c.scenario == DO_NOTHING for c in ends):
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, one of its sites does nothing")
            continue
        idle = [c.site for c in ends if c is not None and not c.gpus]
        if idle:
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, {' and '.join(idle)} has no AI cluster in its plan")
            continue
        if r.gbps is not None:
            gbps, basis = r.gbps, "the route's gbps"
        else:
            share = spec.interconnect.share_of_bisection
            assert share is not None  # load_portfolio refuses a route with neither
            halves = []
            for c in ends:
                assert c is not None
                plan = next(p for p in by_name[c.site].plans if p.scenario == c.scenario)
                halves.append(c.gpus * plan.gbps_per_gpu / 2)
            gbps = share * min(halves)
            basis = (f"{share:g} x the bisection of the smaller cluster ({min(halves):,.0f} Gb/s: GPUs x scale-out "
                     "Gb/s per GPU / 2)")
        if gbps <= 0:  # a server without a scale-out NIC speed in the catalog
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, no scale-out bandwidth known for its clusters")
            continue
        if catalog is None:
            catalog = load_catalog(list(overlays or []))
        sized = size_interconnect(catalog, Need(gbps, r.km, spec.interconnect.spare), file=portfolio.shown,
                                  key=f"routes[{i}]", line=portfolio.line("routes", i))
        links.append(PortfolioLink(from_site=r.from_, to_site=r.to, route_km=r.km, gbps=gbps, basis=basis,
                                   sized=interconnect_doc(sized)))
    return links, notes

"""The links between the portfolio's sites, sized before the portfolio is solved so that their
cost is in its budget and NPV (:func:`planner.model.portfolio.add_links`).

For every route of the portfolio file and every pair of plans of its two sites that both
run an AI cluster, the bandwidth that must cross is the route's gbps, or
``share_of_bisection`` x the bisection of the smaller of the two clusters (GPUs x scale-out
Gb/s per GPU / 2); that need is sized by
:func:`planner.network.interconnect.size_interconnect` (the cheapest priced option) and
becomes one :class:`~planner.model.portfolio.Link` with its cost. Exact, not a bound: each
pair of plans has its own link (equal needs are sized once). A plan that only mines needs no
link. A pair whose need no option prices fully (a part without a price) cannot be put in
the budget: it is left out of the model and said so in the notes, never counted as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from planner.model.portfolio import DO_NOTHING, Column, Link, LinkSpend

if TYPE_CHECKING:
    from planner.outputs.portfolio import PortfolioLink
    from planner.site.portfolio import LoadedPortfolio


class PlanLike(Protocol):
    """What sizing a link reads of a plan (planner.app.portfolio.Plan)."""

    @property
    def key(self) -> str: ...
    @property
    def gpus(self) -> int: ...
    @property
    def gbps_per_gpu(self) -> float: ...


class SiteLike(Protocol):
    """What sizing a link reads of a site's plans (planner.app.portfolio.SitePlans)."""

    @property
    def name(self) -> str: ...
    @property
    def plans(self) -> Sequence[PlanLike]: ...


@dataclass(frozen=True)
class Sized:
    """One route's link for one pair of plans: the need's bandwidth, where it comes from, and
    the sized interconnect's document (:func:`planner.network.interconnect.interconnect_doc`)."""

    gbps: float
    basis: str
    doc: dict[str, Any]


@dataclass
class RouteLinks:
    """The model's links, each pair's sizing by (route index, plan a, plan b), and the pairs
    left out of the model with why."""

    links: list[Link] = field(default_factory=list)
    sized: dict[tuple[int, str, str], Sized] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def route_links(portfolio: LoadedPortfolio, sites: Sequence[SiteLike],
                overlays: Sequence[Path] | None = None) -> RouteLinks:
    """Size the link of every route for every pair of the two sites' AI plans (the module's
    rule); the bundled catalog and the overlays give the parts."""
    from planner.network.interconnect import Need, interconnect_doc, size_interconnect
    from planner.parts.catalog import load_catalog

    spec = portfolio.spec
    by_name = {s.name: s for s in sites}
    out = RouteLinks()
    catalog = None
    memo: dict[tuple[int, float], dict[str, Any]] = {}
    for i, r in enumerate(spec.routes):
        ends = by_name.get(r.from_), by_name.get(r.to)
        if ends[0] is None or ends[1] is None:
            continue
        unpriced = 0
        for pa in [p for p in ends[0].plans if p.gpus]:
            for pb in [p for p in ends[1].plans if p.gpus]:
                if r.gbps is not None:
                    gbps, basis = r.gbps, "the route's gbps"
                else:
                    share = spec.interconnect.share_of_bisection
                    assert share is not None  # load_portfolio refuses a route with neither
                    half = min(pa.gpus * pa.gbps_per_gpu, pb.gpus * pb.gbps_per_gpu) / 2
                    gbps = share * half
                    basis = (f"{share:g} x the bisection of the smaller cluster ({half:,.0f} Gb/s: GPUs x scale-out "
                             "Gb/s per GPU / 2)")
                if gbps <= 0:  # a server without a scale-out NIC speed in the catalog
                    continue
                if (i, gbps) not in memo:
                    catalog = catalog or load_catalog(list(overlays or []))
                    memo[i, gbps] = interconnect_doc(size_interconnect(
                        catalog, Need(gbps, r.km, spec.interconnect.spare), file=portfolio.shown,
                        key=f"routes[{i}]", line=portfolio.line("routes", i)))
                doc = memo[i, gbps]
                out.sized[i, pa.key, pb.key] = Sized(gbps, basis, doc)
                if doc["chosen"] is None:
                    unpriced += 1
                    continue
                out.links.append(Link(f"{r.from_}-{r.to}", r.from_, pa.key, r.to, pb.key,
                                      float(doc["chosen"]["cost_usd"])))
        if unpriced:
            out.notes.append(f"routes[{i}] {r.from_}-{r.to}: {unpriced} pair(s) of plans have no fully priced link "
                             "option: their link is not in the budget nor the NPV (see its options)")
    return out


def link_records(portfolio: LoadedPortfolio, chosen: dict[str, Column], paid: Sequence[LinkSpend],
                 links: RouteLinks) -> tuple[list[PortfolioLink], list[str]]:
    """The links between the chosen sites, as portfolio.json lists them (with the cost the
    MILP paid, its month and year), and a note for each route not sized."""
    from planner.outputs.portfolio import PortfolioLink

    spent = {(k.link.site_a, k.link.site_b): k for k in paid}
    records, notes = [], []
    for i, r in enumerate(portfolio.spec.routes):
        ends = [chosen.get(r.from_), chosen.get(r.to)]
        if any(c is None or c.scenario == DO_NOTHING for c in ends):
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, one of its sites does nothing")
            continue
        idle = [c.site for c in ends if c is not None and not c.gpus]
        if idle:
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, {' and '.join(idle)} has no AI cluster in its plan")
            continue
        a, b = ends
        assert a is not None and b is not None
        sized = links.sized.get((i, a.plan_key, b.plan_key))
        if sized is None:
            notes.append(f"routes[{i}] {r.from_}-{r.to}: not sized, no scale-out bandwidth known for its clusters")
            continue
        spend = spent.get((r.from_, r.to))
        records.append(PortfolioLink(
            from_site=r.from_, to_site=r.to, route_km=r.km, gbps=sized.gbps, basis=sized.basis, sized=sized.doc,
            cost_usd=None if spend is None else round(spend.link.cost_usd, 2),
            paid_month=None if spend is None else spend.month, capex_year=None if spend is None else spend.year,
            npv_cost_usd=None if spend is None else round(spend.npv_cost_usd, 2)))
    return records, notes

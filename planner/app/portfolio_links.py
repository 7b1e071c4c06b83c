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

The link's power (:func:`end_power`): at each end its modules, mux/demux units and the booster
and pre-amplifier of each fibre pair; between them the in-line amplifier sites. Each end's
power is on its site's grid: priced as that site prices its own network power and checked
against the grid its AI leaves (:class:`EnergyTerms`); a link that does
not fit cannot join those two plans. The in-line sites' power is counted in the link's power
but is on neither site's grid: its energy is not priced (said in the notes). A part without a
power figure leaves the link's power unknown: not priced nor checked, and said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from planner.constants import MONTHS_PER_YEAR, W_PER_MW
from planner.model.portfolio import DO_NOTHING, Column, Link, LinkSpend, link_spend

if TYPE_CHECKING:
    from planner.model.optimize import Result
    from planner.outputs.portfolio import PortfolioLink
    from planner.parts.catalog import Catalog
    from planner.site.portfolio import LoadedPortfolio


@dataclass(frozen=True)
class EnergyTerms:
    """How a plan's site prices a firm load added beside its AI cluster (a link's end), as the
    site model prices its own network power (:meth:`ScenarioInputs.owner_values_usd`), and how
    much of one its grid still holds.

        usd_per_mw_year = PUE x sum_t h_t p_t + sum_t d_t h_t p_t
        mwh_per_mw_year = PUE x sum_t h_t + sum_t d_t h_t
        room_w = min_t (C_t - A_t) / (PUE + d_t)   (W of IT that fits beside the AI at every step)

    h_t, p_t, d_t: the hours, price and temperature PUE term of step t of the site's profile;
    C_t its grid capacity (the expansion's MW when bought; with phases, the grid at the AI
    start); A_t the AI's facility power at max power in the steps it runs. Miners beside the
    AI (hybrid) are taken to give way to the link: their lost margin is not counted."""

    usd_per_mw_year: float
    mwh_per_mw_year: float
    room_w: float
    horizon_months: int


def energy_terms(result: Result) -> EnergyTerms:
    """A solved plan's :class:`EnergyTerms` (the rule in its docstring)."""
    import numpy as np

    from planner.model.optimize import ai_load_mw

    inp, opt = result.inputs, result.chosen
    p = inp.profile
    d = p.delta()
    weighted = p.hours * p.price_usd_per_mwh
    caps = p.capacity_mw + (inp.expansion_mw if result.expanded else 0.0)
    if inp.phases:
        caps = np.minimum(caps, inp.phase_grid_mw(inp.ai_start_month))
    room = float(np.min((caps - ai_load_mw(inp, opt)) / (opt.pue + d))) * W_PER_MW
    return EnergyTerms(opt.pue * float(weighted.sum()) + float((d * weighted).sum()),
                       opt.pue * float(p.hours.sum()) + float((d * p.hours).sum()), room, inp.horizon_months)


class PlanLike(Protocol):
    """What sizing a link reads of a plan (planner.app.portfolio.Plan)."""

    @property
    def key(self) -> str: ...
    @property
    def gpus(self) -> int: ...
    @property
    def gbps_per_gpu(self) -> float: ...
    @property
    def energy(self) -> EnergyTerms | None: ...


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
    power: EndPower | None = None  # None: the chosen option has a part without a power figure (or none chosen)
    energy_usd_per_year: tuple[float, float] = (0.0, 0.0)  # each end's, at its site's prices and PUE
    energy_mwh_per_year: tuple[float, float] = (0.0, 0.0)
    fits: tuple[bool, bool] = (True, True)  # each end within its site's grid beside the firm AI load


@dataclass(frozen=True)
class EndPower:
    """A link's power, W: at each end (the same parts at both) and at its in-line sites."""

    end_w: float
    inline_w: float

    @property
    def total_w(self) -> float:
        return 2 * self.end_w + self.inline_w


def end_power(catalog: Catalog, chosen: dict[str, Any]) -> tuple[EndPower | None, list[str]]:
    """The power of a sized option's parts (its document, :func:`interconnect_doc`), and the
    parts without a power figure (then None):

        end    = modules / 2 x W_module + muxes / 2 x W_mux + 2 x pairs x W_amplifier
        inline = 2 x pairs x in-line sites x W_amplifier

    (one module and one mux/demux per pair at each end; per pair and direction a booster at
    the sending end and a pre-amplifier at the receiving one, so two amplifiers per pair at
    each end; amplifiers = pairs x 2 x (in-line + 2) in all; a grey option has modules only)."""
    counts = [(chosen["module"], chosen["modules"] / 2, 0.0)]
    if chosen["mux"]:
        counts.append((chosen["mux"], chosen["muxes"] / 2, 0.0))
    if chosen["amplifier"]:
        pairs = chosen["fibre_pairs"]
        counts.append((chosen["amplifier"], 2 * pairs, 2 * pairs * chosen["inline_amplifier_sites"]))
    end = inline = 0.0
    missing = []
    for key, at_end, between in counts:
        figure = catalog.power(key)
        if figure is None:
            missing.append(key)
            continue
        end += at_end * figure.watts
        inline += between * figure.watts
    return (None if missing else EndPower(end, inline)), missing


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
    powers: dict[tuple[int, float], tuple[EndPower | None, list[str]]] = {}
    for i, r in enumerate(spec.routes):
        ends = by_name.get(r.from_), by_name.get(r.to)
        if ends[0] is None or ends[1] is None:
            continue
        unpriced = 0
        unknown: set[str] = set()
        inline = tight = 0
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
                if doc["chosen"] is None:
                    out.sized[i, pa.key, pb.key] = Sized(gbps, basis, doc)
                    unpriced += 1
                    continue
                if (i, gbps) not in powers:
                    assert catalog is not None
                    powers[i, gbps] = end_power(catalog, doc["chosen"])
                power, missing = powers[i, gbps]
                unknown.update(missing)
                if pa.energy is None or pb.energy is None:  # an AI plan always has them; never priced as zero
                    power = None
                    unknown.add(f"(no energy terms for {pa.key if pa.energy is None else pb.key})")
                sized = _priced_power(gbps, basis, doc, power, (pa.energy, pb.energy))
                out.sized[i, pa.key, pb.key] = sized
                inline += bool(power and power.inline_w)
                tight += not all(sized.fits)
                horizons = (pa.energy.horizon_months if pa.energy else 0, pb.energy.horizon_months if pb.energy else 0)
                out.links.append(Link(
                    f"{r.from_}-{r.to}", r.from_, pa.key, r.to, pb.key, float(doc["chosen"]["cost_usd"]),
                    (power.end_w, power.end_w) if power else (0.0, 0.0), power.inline_w if power else 0.0,
                    (sized.energy_usd_per_year[0] / MONTHS_PER_YEAR, sized.energy_usd_per_year[1] / MONTHS_PER_YEAR),
                    horizons, all(sized.fits), power is not None))
        if unpriced:
            out.notes.append(f"routes[{i}] {r.from_}-{r.to}: {unpriced} pair(s) of plans have no fully priced link "
                             "option: their link is not in the budget nor the NPV (see its options)")
        if unknown:
            out.notes.append(f"routes[{i}] {r.from_}-{r.to}: no power figure for {', '.join(sorted(unknown))}: the "
                             "link's power is not counted, priced nor checked against the sites' grids (never "
                             "counted as zero)")
        if inline:
            out.notes.append(f"routes[{i}] {r.from_}-{r.to}: the in-line amplifier sites' power is in the link's "
                             "power but on neither site's grid: its energy is not priced")
        if tight:
            out.notes.append(f"routes[{i}] {r.from_}-{r.to}: {tight} pair(s) of plans cannot both be chosen: the "
                             "link's power at a site does not fit its grid beside the AI load")
    return out


def _priced_power(gbps: float, basis: str, doc: dict[str, Any], power: EndPower | None,
                  terms: tuple[EnergyTerms | None, EnergyTerms | None]) -> Sized:
    """A pair's sizing with each end's energy a year (end MW x the site's USD per MW-year,
    :class:`EnergyTerms`) and whether it fits each site's grid
    (end W <= the W of IT the grid still holds beside the AI)."""
    if power is None:
        return Sized(gbps, basis, doc)
    mw = power.end_w / W_PER_MW

    def usd(t: EnergyTerms | None) -> float:
        return mw * t.usd_per_mw_year if t else 0.0

    def mwh(t: EnergyTerms | None) -> float:
        return mw * t.mwh_per_mw_year if t else 0.0

    def fits(t: EnergyTerms | None) -> bool:
        return t is None or power.end_w <= t.room_w

    a, b = terms
    return Sized(gbps, basis, doc, power, (usd(a), usd(b)), (mwh(a), mwh(b)), (fits(a), fits(b)))


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
        power = sized.power
        names = (r.from_, r.to)
        apart: list[int] | None = None  # two plans that never run together need no link: their window
        if spend is None:
            link = next((k for k in links.links if k.route == f"{r.from_}-{r.to}" and k.joins(a, b)), None)
            would = link_spend(link, a, b) if link is not None else None
            if would is not None and not would.runs:
                apart = [would.run_from, would.run_to]
                notes.append(f"routes[{i}] {r.from_}-{r.to}: no link is paid: the two plans never run together "
                             f"({r.from_} online at month {a.online_month}, {r.to} at {b.online_month}; the earlier "
                             f"horizon ends at month {would.run_to})")
        records.append(PortfolioLink(
            from_site=r.from_, to_site=r.to, route_km=r.km, gbps=sized.gbps, basis=sized.basis, sized=sized.doc,
            cost_usd=None if spend is None else round(spend.link.cost_usd, 2),
            paid_month=None if spend is None else spend.month, capex_year=None if spend is None else spend.year,
            npv_cost_usd=None if spend is None else round(spend.npv_cost_usd, 2),
            power_w=None if power is None else round(power.total_w, 3),
            power_by_site_w=None if power is None else {e: round(power.end_w, 3) for e in names},
            inline_power_w=None if power is None else round(power.inline_w, 3),
            energy_mwh_per_year_by_site=None if power is None else {
                e: round(v, 3) for e, v in zip(names, sized.energy_mwh_per_year, strict=True)},
            energy_usd_per_year_by_site=None if power is None else {
                e: round(v, 2) for e, v in zip(names, sized.energy_usd_per_year, strict=True)},
            runs_months=apart if spend is None or power is None else [spend.run_from, spend.run_to],
            energy_npv_usd=((0.0 if apart else None) if spend is None or power is None
                            else round(spend.energy_npv_usd, 2)),
            fits_grid=None if power is None else all(sized.fits)))
    return records, notes

"""The typed records of a portfolio's portfolio.json (``planner portfolio``): each site's
choice with its candidates and why a site cannot help, the portfolio's totals solved
together and one by one, and the interconnect sized between the chosen sites.

Frozen, strict and closed like :mod:`planner.outputs.records`; ``docs/portfolio-reference.md``
is generated from them with the portfolio file's keys (``python -m planner.app.docs_gen``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from planner.network.interconnect import fibre_pairs_text
from planner.outputs.records import COUNTS, Number, Record, Solver, key

if TYPE_CHECKING:
    from planner.outputs.interconnect_map import MapRoute


class PortfolioCandidate(Record):
    """One scenario of a site as its own solve gave it (started now)."""

    scenario: Annotated[str, key("the scenario's name in the site file")]
    max_gpus: Annotated[int | None, key("the cap on its cluster's GPUs it was solved under (the portfolio "
                                        "file's sizes_gpus; null: the site's own bounds)", COUNTS)]
    status: Annotated[str, key("how the site's solve of it ended: optimal, infeasible, ...")]
    npv_usd: Annotated[Number | None, key("its NPV started now (null without a plan)", "USD")]
    capex_usd: Annotated[Number | None, key("the capex the portfolio's budget counts: the owner's, or a host "
                                            "plan's host capex (null without a plan)", "USD")]
    gpus: Annotated[int, key("GPUs of its AI cluster (0 without a plan)", COUNTS)]
    critical_it_mw: Annotated[Number, key("the AI's critical IT load: servers and fabric", "MW")]
    ai_start_month: Annotated[int | None, key("month its AI load starts when started now (null without a plan)",
                                              "months")]
    contracted_mw: Annotated[Number, key("critical IT contracted to a tenant (host plans; else 0)", "MW")]
    message: Annotated[str | None, key("why it has no plan (null with one)")]


class PortfolioSiteResult(Record):
    """One site: the plan the portfolio chose for it and when, or why it cannot help."""

    site: Annotated[str, key("the site's name in the portfolio")]
    file: Annotated[str, key("the site file, as the portfolio file names it")]
    scenario: Annotated[str | None, key("the chosen scenario (null: the site does nothing)")]
    max_gpus: Annotated[int | None, key("the cap of the chosen size (sizes_gpus; null: the site's own bounds or "
                                        "nothing)", COUNTS)]
    start_month: Annotated[int | None, key("the chosen start delay (null: the site does nothing)", "months")]
    npv_usd: Annotated[Number, key("the chosen plan's NPV, discounted for its delay (0: nothing)", "USD")]
    capex_usd: Annotated[Number, key("the chosen plan's capex", "USD")]
    capex_year: Annotated[int | None, key("the portfolio year its capex falls in (1 = months 0-11)")]
    gpus: Annotated[int, key("GPUs of the chosen plan", COUNTS)]
    critical_it_mw: Annotated[Number, key("critical IT of the chosen plan", "MW")]
    interconnect_power_w: Annotated[Number | None, key("its ends of the chosen links to other sites (modules, "
                                                       "mux/demux units, booster and pre-amplifiers), on its grid "
                                                       "(null: a link's part has no power figure)", "W")]
    total_it_mw: Annotated[Number | None, key("critical IT of the chosen plan and its ends of the links (null: "
                                              "their power is not known)", "MW")]
    online_month: Annotated[int | None, key("month its AI load comes online, the delay included", "months")]
    alone_scenario: Annotated[str | None, key("the site's own best plan solved alone, started now (null: none "
                                              "with a positive NPV)")]
    alone_npv_usd: Annotated[Number, key("that plan's NPV (0: nothing)", "USD")]
    can_help: Annotated[bool, key("false when the site has no plan that adds value to the portfolio")]
    reason: Annotated[str | None, key("why the site does nothing, or why its plan differs from its own best "
                                      "(null when it is the same)")]
    candidates: Annotated[list[PortfolioCandidate], key("every scenario the site may use, as solved alone")]


class PortfolioTotals(Record):
    """A set of choices over all the sites, summed."""

    npv_usd: Annotated[Number, key("NPV of the chosen plans, each discounted for its delay, less the links' "
                                   "cost discounted from the later start of their sites and their ends' "
                                   "discounted energy", "USD")]
    capex_usd: Annotated[Number, key("capex of the chosen plans and of the links they pay for", "USD")]
    capex_by_year_usd: Annotated[dict[str, Number], key("capex by portfolio year (\"1\" = months 0-11), the "
                                                        "links' in the year of the later start of their sites",
                                                        "USD")]
    interconnect_capex_usd: Annotated[Number, key("of which the links between the sites (in capex_usd; their "
                                                  "discounted cost is taken off npv_usd)", "USD")]
    interconnect_power_w: Annotated[Number | None, key("power of the links they pay for: both ends and the in-line "
                                                       "amplifier sites (null: a link's part has no power figure)",
                                                       "W")]
    interconnect_energy_npv_usd: Annotated[Number, key("the links' ends' energy, discounted (in npv_usd)", "USD")]
    gpus: Annotated[int, key("GPUs of the chosen plans", COUNTS)]
    critical_it_mw: Annotated[Number, key("critical IT of the chosen plans", "MW")]
    gpus_by_target: Annotated[int | None, key("GPUs online by the target month (null without a target)", COUNTS)]
    critical_it_mw_by_target: Annotated[Number | None, key("critical IT online by the target month (null "
                                                           "without a target)", "MW")]
    sites_used: Annotated[list[str], key("the sites with a plan")]
    breaks: Annotated[list[str], key("the shared constraints these choices break (empty: none)")]


class PortfolioLink(Record):
    """The interconnect sized between two chosen sites on a route of the portfolio file."""

    from_site: Annotated[str, key("one end: a site's name")]
    to_site: Annotated[str, key("the other end")]
    route_km: Annotated[Number, key("the route's length", "km")]
    gbps: Annotated[Number, key("bandwidth that must cross each way", "Gb/s")]
    basis: Annotated[str, key("where the bandwidth comes from: the route's gbps or the share of the bisection")]
    sized: Annotated[dict[str, Any], key("the sized interconnect (planner.network.interconnect): the chosen "
                                         "option with its modules, wavelengths, fibre pairs, amplifiers, latency, "
                                         "power and cost, every option and why others do not reach")]
    cost_usd: Annotated[Number | None, key("the link's cost in the portfolio's capex and NPV (null: no option "
                                           "fully priced, not in the budget)", "USD")]
    paid_month: Annotated[int | None, key("month it is paid: the later start of its two sites", "months")]
    capex_year: Annotated[int | None, key("the portfolio year its cost falls in (1 = months 0-11)")]
    npv_cost_usd: Annotated[Number | None, key("its cost discounted to month 0 at the lower of its sites' "
                                               "rates (taken off the NPV)", "USD")]
    power_w: Annotated[Number | None, key("power of its parts: modules, mux/demux units and amplifiers at both "
                                          "ends and at the in-line sites (null: a part without a power figure)",
                                          "W")]
    power_by_site_w: Annotated[dict[str, Number] | None, key(
        "each end's power, on that site's grid: modules / 2 x W + muxes / 2 x W + 2 x fibre pairs x W of an "
        "amplifier (a booster and a pre-amplifier per pair)", "W")]
    inline_power_w: Annotated[Number | None, key("the in-line amplifier sites' power (on neither site's grid; "
                                                 "its energy is not priced)", "W")]
    energy_mwh_per_year_by_site: Annotated[dict[str, Number] | None, key(
        "each end's facility energy a year: end MW x (PUE x hours + the temperature term's hours)", "MWh")]
    energy_usd_per_year_by_site: Annotated[dict[str, Number] | None, key(
        "each end's energy cost a year, at its site's prices as the site prices its own network power", "USD")]
    runs_months: Annotated[list[int] | None, key("[from, to): the later AI start of its two sites to the earlier "
                                                 "end of their horizons", "months")]
    energy_npv_usd: Annotated[Number | None, key("the ends' energy over those months discounted to month 0, each "
                                                 "at its site's rate (taken off the NPV)", "USD")]
    fits_grid: Annotated[bool | None, key("each end's power fits its site's grid beside the firm AI load at every "
                                          "step (null: power unknown); a pair that does not is never chosen")]

    @property
    def never_runs(self) -> bool:
        """Its two plans never run in the same month: no link is needed, paid or bought."""
        return self.runs_months is not None and self.runs_months[1] <= self.runs_months[0]


class PortfolioDocument(Record):
    """portfolio.json: the sites' choices solved together, the same sites one by one, and the links."""

    portfolio: Annotated[str, key("the portfolio's name (name in the portfolio file)")]
    planner_version: Annotated[str, key("version of the planner that wrote the file")]
    solver: Annotated[Solver, key("the solver of the sites' own solves (the portfolio's MILP is solved by "
                                  "HiGHS)")]
    status: Annotated[Literal["optimal", "infeasible", "unbounded", "not_solved", "error"], key(
        "how the portfolio's MILP ended")]
    timing_rule: Annotated[str, key("how a start delay changes a plan's NPV, capex year and online month")]
    shared: Annotated[dict[str, Any], key("the shared constraints as the file gives them")]
    binding_constraints: Annotated[list[str], key("the shared constraint families at their bound (optimal), or "
                                                  "what makes the portfolio infeasible")]
    sites: Annotated[list[PortfolioSiteResult], key("each site, in the file's order")]
    together: Annotated[PortfolioTotals | None, key("the portfolio's choice (null when infeasible)")]
    one_by_one: Annotated[PortfolioTotals, key("each site's own best plan, started now, ignoring the shared "
                                               "constraints")]
    difference: Annotated[dict[str, Number] | None, key(
        "together minus one by one: npv_usd, capex_usd, gpus (null when infeasible)")]
    interconnect: Annotated[list[PortfolioLink], key("the links between chosen sites that have a route")]
    interconnect_notes: Annotated[list[str], key("routes not sized, and why")]
    run_id: Annotated[str | None, key("the run that wrote the file (the output folder's manifest has the same id)")
                      ] = None

    def data(self) -> dict[str, Any]:
        """The document as plain JSON values, keys in the file's order."""
        return self.model_dump(mode="python")

    @classmethod
    def read(cls, text: str | bytes) -> PortfolioDocument:
        """A portfolio.json's text checked strictly against the records (ValidationError if not)."""
        return cls.model_validate_json(text, strict=True)


# ---- the tables of the CLI and the TUI -----------------------------------------------------

def musd(usd: float | None) -> str:
    return "-" if usd is None else f"{usd / 1e6:,.1f}"


def plan_label(scenario: str | None, max_gpus: int | None) -> str:
    """A plan as the tables show it: its scenario, and its size cap when it is a smaller size."""
    if scenario is None:
        return "nothing"
    return scenario if max_gpus is None else f"{scenario} \u2264{max_gpus:,}"


def site_rows(doc: PortfolioDocument) -> list[tuple[str, ...]]:
    """The per-site table's rows (the CLI and the TUI), in :data:`SITE_COLUMNS`' order: site,
    plan (with its GPU cap when a smaller size), start month, capex in M USD (its portfolio
    year), NPV in M USD, GPUs, online month, and its own best plan alone with its NPV."""
    return [(s.site, plan_label(s.scenario, s.max_gpus), "-" if s.start_month is None else str(s.start_month),
             musd(s.capex_usd) + ("" if s.capex_year is None else f" y{s.capex_year}"), musd(s.npv_usd),
             f"{s.gpus:,}", "-" if s.online_month is None else str(s.online_month),
             f"{s.alone_scenario or 'nothing'} {musd(s.alone_npv_usd)}") for s in doc.sites]


def site_notes(doc: PortfolioDocument) -> list[str]:
    """A line per site that cannot help or whose plan differs from its own best alone."""
    return [f"{s.site}: {'cannot help: ' if not s.can_help else ''}{s.reason}" for s in doc.sites if s.reason]


# short headers, so that the table fits a 140-column terminal; SITE_LEGEND says what each means
SITE_COLUMNS = ("site", "plan", "start", "capex", "NPV", "GPUs", "online", "alone")
SITE_LEGEND = ("start, online: month the plan starts and its AI load comes online (0 = now); capex, NPV: M USD, "
               "yN the portfolio year of the capex; plan \u2264N: a smaller size capped at N GPUs; alone: the "
               "site's own best plan started now, and its NPV")


def link_lines(doc: PortfolioDocument) -> list[str]:
    """A line per link between the chosen sites: bandwidth, route, the chosen option, and
    its cost in the budget with the month and year it is paid."""
    out = []
    for link in doc.interconnect:
        c = link.sized.get("chosen")
        if c is None and link.sized.get("options"):  # none fully priced: the fewest fibre pairs, unpriced
            c = min(link.sized["options"], key=lambda o: (o["fibre_pairs"], o["modules"]))
        what = (f"{c['links']} x {c['module']} ({c['kind']}), {fibre_pairs_text(c['fibre_pairs'])}, "
                f"{c['amplifiers']} amplifiers, {c['latency_us']:,.0f} us one way" if c else "not sized")
        if link.cost_usd is not None:
            what += (f", {musd(link.cost_usd)} M USD in the budget (paid at month {link.paid_month}, year "
                     f"{link.capex_year}; {musd(link.npv_cost_usd)} M USD off the NPV)")
        elif link.never_runs:
            what += ", not paid nor bought: the two plans never run together"
        else:
            what += f", not in the budget: {link.sized.get('why')}"
        what += link_power_text(link)
        out.append(f"link {link.from_site}-{link.to_site}: {link.gbps:,.0f} Gb/s over {link.route_km:g} km: {what}")
    return out


def link_power_text(link: PortfolioLink) -> str:
    """A link's power at each end and in-line, and its ends' energy (for :func:`link_lines`)."""
    if link.power_w is None or link.power_by_site_w is None:
        return "; power not counted: a part has no power figure"
    ends = ", ".join(f"{w:,.0f} W at {site}" for site, w in link.power_by_site_w.items())
    inline = f", {link.inline_power_w:,.0f} W in-line" if link.inline_power_w else ""
    text = f"; power {link.power_w:,.0f} W ({ends}{inline})"
    if link.energy_usd_per_year_by_site is not None:
        text += f", its ends' energy {sum(link.energy_usd_per_year_by_site.values()):,.0f} USD a year"
    if link.energy_npv_usd is not None and link.runs_months is not None:
        start, end = link.runs_months
        text += (f" over months {start}-{end}, {link.energy_npv_usd:,.0f} USD off the NPV" if end > start else
                 f", but it never runs: one plan's horizon ends (month {end}) before both AI loads are on")
    return text


def total_rows(doc: PortfolioDocument) -> list[tuple[str, str, str, str]]:
    """The totals table's rows (the CLI and the TUI): together, one by one, the difference."""
    apart, together = doc.one_by_one, doc.together
    diff = doc.difference or {}

    def cell(value: float | None, fmt: str) -> str:
        if value is None:
            return "-"
        return format(value / 1e6 if fmt == "m" else value / 1e3 if fmt == "k" else value,
                      "," if fmt == "d" else ",.1f")

    rows = []
    for label, attr, fmt in (("NPV, M USD", "npv_usd", "m"), ("capex, M USD", "capex_usd", "m"),
                             ("of which links, M USD", "interconnect_capex_usd", "m"),
                             ("links' power, kW", "interconnect_power_w", "k"), ("GPUs", "gpus", "d"),
                             ("critical IT, MW", "critical_it_mw", "f"),
                             ("GPUs by the target month", "gpus_by_target", "d")):
        mine = getattr(together, attr) if together is not None else None
        theirs = getattr(apart, attr)
        d = diff.get(attr, None if mine is None or theirs is None else mine - theirs)
        rows.append((label, cell(mine, fmt), cell(theirs, fmt), cell(d, fmt)))
    rows.append(("sites used", ", ".join(together.sites_used) if together else "-", ", ".join(apart.sites_used), ""))
    rows.append(("shared constraints broken", str(len(together.breaks)) if together else "-", str(len(apart.breaks)),
                 ""))
    return rows


def map_routes(routes: Sequence[tuple[str, str, float]], links: Sequence[PortfolioLink]) -> list[MapRoute]:
    """The portfolio's routes for :func:`planner.outputs.interconnect_map.interconnect_map`:
    ``routes`` are the file's (from, to, km); a route with a sized link carries its chosen
    option (module, wavelengths, fibre pairs, amplifiers, latency, cost, estimate or not), one
    without says it is not sized (its sites' plans need no link, or no option is priced)."""
    from planner.outputs.interconnect_map import MapRoute

    sized = {frozenset((k.from_site, k.to_site)): k for k in links}
    out = []
    for a, b, km in routes:
        link = sized.get(frozenset((a, b)))
        chosen = link.sized.get("chosen") if link is not None else None
        if link is None:
            out.append(MapRoute(a, b, km, "not sized (a site's plan needs no link)"))
        elif link.never_runs:
            out.append(MapRoute(a, b, km, "no link: the two plans never run together", gbps=link.gbps))
        elif chosen is None:
            out.append(MapRoute(a, b, km, f"no option priced: {link.sized.get('why', '')}", gbps=link.gbps))
        else:
            option = (f"{chosen['links']} x {chosen['module']}, {chosen.get('wavelengths') or 0} waves, "
                      f"{fibre_pairs_text(chosen['fibre_pairs'])}, {chosen.get('amplifiers') or 0} amplifiers")
            out.append(MapRoute(a, b, km, option, gbps=link.gbps, latency_us=chosen.get("latency_us"),
                                cost_usd=chosen.get("cost_usd"), estimated=bool(chosen.get("estimated"))))
    return out

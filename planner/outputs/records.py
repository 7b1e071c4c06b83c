"""The typed records of a solved plan's outputs: summary.json's document (one
:class:`PlanSummary` or :class:`NoPlanSummary` per scenario, the :class:`Recommendation`,
the :class:`SummaryDocument` around them) and bom.csv's :class:`BomRow`.

These frozen pydantic models are the one declaration of those files: the order of their
fields is the order of the keys written, ``docs/summary.schema.json`` and
``docs/summary-reference.md`` are generated from them (``python -m planner.app.docs_gen``),
and a summary.json read back through :meth:`SummaryDocument.read` is checked against them
(unknown keys, missing keys and wrong types are refused). Each field says its unit (where
its name does not) and its meaning. The records are built by :mod:`planner.outputs.summary`
and :mod:`planner.outputs.bom`; plain dicts appear only where a file is written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.fields import FieldInfo

# A JSON number kept as it was computed: an int stays an int and a float a float, so that
# summary.json and bom.csv spell each value as the planner computed it (100 and 100.0).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


def key(meaning: str, unit: str = "", **kwargs: Any) -> Any:
    """A field's meaning and unit (shown in the JSON Schema and the reference)."""
    return Field(description=meaning, json_schema_extra={"unit": unit} if unit else None, **kwargs)


def unit_of(field: FieldInfo) -> str:
    """The unit :func:`key` gave a field ("" when it has none)."""
    extra = field.json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _absent(value: object) -> bool:
    return value is None


class Record(BaseModel):
    """Frozen, strict, and closed: a key that is not declared is refused."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class HallUse(Record):
    """A hall the AI cluster uses."""

    name: Annotated[str, key("the hall's name in the site file ([[buildings]] name)")]
    use: Annotated[Literal["as built", "converted", "new"], key(
        "as built (its cooling as it is), converted (its cooling converted for the AI) or new (built)")]
    ai_it_mw: Annotated[Number, key("AI IT load placed in the hall", "MW")]


class PriceCoverage(Record):
    """The period a price series covers and how it is extended to one year."""

    start: Annotated[str, key("time of the series' first step")]
    end: Annotated[str, key("time of the series' last step (its start)")]
    hours_covered: Annotated[Number, key("hours the series' rows cover (rows x step)", "h")]
    year: Annotated[Literal["scale", "repeat"], key(
        "how the series becomes a year: every step weighed (scale) or the series repeated (repeat)")]
    factor: Annotated[Number, key("8,760 h divided by the hours covered", "ratio")]
    description: Annotated[str, key("the coverage in words")]


class AccessNetworkSummary(Record):
    """Counts of a two-layer access network (out-of-band management, miners' access)."""

    name: Annotated[str, key("oob or mining")]
    endpoints: Annotated[int, key("devices with one access port each", "ports")]
    access_switch: Annotated[str, key("catalog key of the access switch")]
    access_ports: Annotated[int, key("access ports of one access switch", "ports")]
    access_switches: Annotated[int, key("access switches", "switches")]
    uplinks_per_access: Annotated[int, key("uplinks of each access switch to distinct aggregation switches",
                                           "links")]
    uplink_gbps: Annotated[Number, key("speed of an uplink", "Gb/s")]
    aggregation_switch: Annotated[str | None, key("catalog key of the aggregation switch (null: left to the site)")]
    aggregation_switches: Annotated[int, key("aggregation switches", "switches")]
    access_links: Annotated[int, key("links from the endpoints to the access switches", "links")]
    uplinks: Annotated[int, key("links from the access switches to the aggregation layer", "links")]
    access_ports_free: Annotated[int, key("access ports left free", "ports")]
    aggregation_ports_free: Annotated[int, key("aggregation ports left free", "ports")]


class PowerFigureSummary(Record):
    """The power per unit used for a part, and where it comes from."""

    watts: Annotated[Number, key("power of one unit", "W")]
    kind: Annotated[Literal["datasheet", "estimate", "site override"], key(
        "datasheet (a vendor document), estimate (the catalog's labelled estimate) or site override "
        "(the site file's [power_w])")]
    basis: Annotated[str, key("the source or the estimate's basis")]


ScenarioKind = Literal["retrofit", "greenfield", "hybrid"]
Solver = Literal["highs", "cbc"]
COUNTS = "count"


class PhaseSummary(Record):
    """One candidate build phase of the plan (site key scenarios.*.phases) and what the plan puts in it."""

    name: Annotated[str, key("the phase's name (phase N when the site gives none)")]
    online_month: Annotated[int, key("month its AI load starts: max(start + build, grid ready)", "months")]
    share: Annotated[Number, key("share of the cluster's IT load it brings online (0: the phase is not used)",
                                 "ratio 0-1")]
    ai_it_mw: Annotated[Number, key("AI IT load it brings online", "MW")]
    gpus: Annotated[Number, key("GPUs it brings online (the share of the cluster's; may be fractional)", COUNTS)]
    grid_mw: Annotated[Number, key("grid capacity from its online month on", "MW")]
    miners_retired: Annotated[int, key("miners retired when it comes online, to give its load room "
                                       "(in a retrofit the rest retire at the last phase)", COUNTS)]
    halls: Annotated[list[str], key("the halls it builds, whole (empty when the site's halls do not place the "
                                    "cluster)")]


class ScenarioSummary(Record):
    """What every scenario of summary.json says, with a plan or without one."""

    status: Annotated[str, key("how the solve ended: optimal, infeasible, unbounded, not_solved or error")]
    kind: Annotated[ScenarioKind, key("the scenario's kind: retrofit, greenfield or hybrid")]
    grid_capacity_mw: Annotated[Number, key("the grid capacity the scenario may import (before any "
                                            "expansion)", "MW")]
    solve_seconds: Annotated[Number, key("time the solver took on the scenario's model", "s")]
    scenario_seconds: Annotated[Number | None, key(
        "time from the scenario's start to its solution (inputs, model, solve): the time the run reports on "
        "stderr; null when the scenario was solved outside a run", "s")]


class NoPlanSummary(ScenarioSummary):
    """A scenario without a plan: infeasible, or the solver stopped without an answer."""

    status: Annotated[Literal["infeasible", "unbounded", "not_solved", "error"], key(
        "how the solve ended without a plan")]
    binding_constraints: Annotated[list[str], key(
        "the constraint families that make the plan infeasible (named by the elastic re-solve)")]
    solver_status: Annotated[str, key("the solver's own words for how it stopped")]
    message: Annotated[str, key("why there is no plan, in a line")]


class PlanSummary(ScenarioSummary):
    """A scenario with a plan (status optimal): its cluster, miners, power, money and counts."""

    status: Annotated[Literal["optimal"], key("the solve found the optimal plan")]
    gpus: Annotated[int, key("GPUs of the AI cluster", COUNTS)]
    gpu_servers: Annotated[int, key("GPU servers of the AI cluster", COUNTS)]
    server: Annotated[str, key("catalog key of the GPU server (the site's choice when there is no cluster)")]
    optics: Annotated[str, key("the fabric's optics choice (auto, cpo or a catalog key)")]
    miners: Annotated[int, key("miners running beside the AI", COUNTS)]
    miners_by_model: Annotated[dict[str, int], key("miners running beside the AI by miner block", COUNTS)]
    miners_before_ai: Annotated[int, key("miners kept running until the AI starts", COUNTS)]
    hashrate_ths: Annotated[Number, key("hashrate of the miners beside the AI", "TH/s")]
    it_power_mw: Annotated[Number, key("IT power of the AI cluster and the miners beside it", "MW")]
    facility_power_mw: Annotated[Number, key("peak facility power with the AI (IT x PUE)", "MW")]
    facility_power_before_ai_mw: Annotated[Number, key("peak facility power before the AI starts", "MW")]
    energy_mwh_per_year: Annotated[Number, key("energy of the AI and the miners in a year", "MWh/yr")]
    capex_usd: Annotated[Number, key("capital cost: the cluster (its cables included), its halls, new miners, "
                                     "grid expansion and miner moves", "USD")]
    capex_breakdown_usd: Annotated[dict[str, Number], key(
        "capex by component (servers, network: switches and optics, cabling: the fabric's cables, trunks and "
        "panels as priced in bom.csv, facility, cooling conversion, new_miners, grid_expansion, miner_moves, ...)",
        "USD")]
    grid_expansion_mw: Annotated[Number, key("grid capacity added by the plan (0 without an expansion)", "MW")]
    miners_bought: Annotated[int, key("new miners bought", COUNTS)]
    cooling: Annotated[Literal["converted", "as built"], key(
        "whether the AI halls' cooling is converted or used as built")]
    halls: Annotated[list[HallUse], key("the halls the AI cluster uses (empty without halls in the site)")]
    hall_plan: Annotated[str, key('the cluster\'s hall plan ("-" without one)')]
    miners_moved: Annotated[int, key("miners moved out of the halls the AI takes", COUNTS)]
    miner_positions_free: Annotated[int | None, key(
        "miner positions left free in the halls (null when no hall gives miner positions)", COUNTS)]
    ai_pue: Annotated[Number, key("power usage effectiveness of the AI halls", "ratio")]
    opex_usd_per_year: Annotated[Number, key("operating cost a year: energy and fixed opex", "USD/yr")]
    energy_cost_usd_per_year: Annotated[Number, key("cost of the energy a year", "USD/yr")]
    mean_price_usd_per_mwh: Annotated[Number, key("mean power price over the year's hours", "USD/MWh")]
    price_profile: Annotated[str, key("where the power price comes from (flat, time of use, seasonal, a file)")]
    price_coverage: Annotated[PriceCoverage | None, key(
        "the period a price series covers (null without a series file)")]
    redispatch_uplift_usd: Annotated[Number | None, key(
        "NPV the kept miners would add if re-dispatched month by month at each month's hashprice "
        "(null without a dispatch)", "USD")]
    miner_utilisation: Annotated[Number | None, key(
        "hashrate-weighted share of the year's hours the miners beside the AI run (null without miners)",
        "ratio 0-1")]
    revenue_usd_per_year: Annotated[Number, key("AI lease and mining revenue a year", "USD/yr")]
    npv_usd: Annotated[Number, key("net present value of the monthly cash flows over the horizon", "USD")]
    irr: Annotated[Number | None, key("yearly internal rate of return (null when the flows do not change "
                                      "sign)", "ratio per year")]
    payback_years: Annotated[Number | None, key(
        "years until the cumulative cash turns non-negative for good (null: nothing to pay back, or never)",
        "years")]
    months_to_first_revenue: Annotated[int | None, key(
        "months until the first revenue (0: miners running from the start; null: no revenue)", "months")]
    hashprice_usd_per_th_day: Annotated[Number, key("hashprice today", "USD per TH/s per day")]
    tiers: Annotated[int, key("switch tiers of the AI fabric (0 without a fabric)", COUNTS)]
    switches: Annotated[dict[str, int], key("fabric switches by tier (leaf, spine, core)", COUNTS)]
    links: Annotated[dict[str, int], key("fabric links by tier (node_leaf, leaf_spine, spine_core)", COUNTS)]
    transceivers: Annotated[dict[str, int], key(
        "transceivers by catalog key (both ends of each link), less the modules the interconnect of a route "
        "beyond grey reach replaces (its own modules are in layout.campus_trunks)", COUNTS)]
    cables: Annotated[dict[str, int], key("fabric cables by kind (links across a route beyond grey reach ride its "
                                          "interconnect: no tier cable)", COUNTS)]
    fibers: Annotated[int, key("lit fibres of the fabric (a route beyond grey reach: its interconnect's fibre pairs "
                               "x 2, not its links' own)", COUNTS)]
    mpo_connectors: Annotated[dict[str, int], key("MPO connectors by type (less those of the modules an "
                                                  "interconnect replaces)", COUNTS)]
    networks: Annotated[dict[str, AccessNetworkSummary], key(
        "the other networks: oob (out-of-band management) and mining_access (the miners' access network)")]
    layout: Annotated[dict[str, Any] | None, key(
        "the AI cluster's floor plan: halls, racks by role, rack positions, cable lengths by tier, campus "
        "trunks (a route beyond a tier's grey reach, 10 km at 400G and 2 km at 800G with the bundled catalog, "
        "with the interconnect priced in capex_breakdown_usd.interconnect: optics, wavelengths, fibre pairs, "
        "amplifiers, dark fibre, latency, power, cost, the crossing links by tier; the links riding it are "
        "interconnect_links, out of the tier's cable lengths and structured cabling) and structured cabling "
        "(null without halls in the site or without a cluster)")]
    binding_constraints: Annotated[list[str], key("the constraint families at their bound in the plan")]
    warnings: Annotated[list[str], key("what the user should know about the inputs (estimates, assumptions)")]
    power_figures: Annotated[dict[str, PowerFigureSummary], key(
        "the power per unit of each powered part the plan buys or keeps running, by catalog key")]
    ai_hours_shed_per_year: Annotated[Number, key("hours a year the AI cluster does not run (0 without a cluster)",
                                                  "h/yr")]
    workload_gpus: Annotated[int | None, key("GPUs the site's workload needs (null without a workload)",
                                             COUNTS)]
    power_markets: Annotated[dict[str, Any] | None, key(
        "the site's power contracts and markets ([power]) per period: energy cost, contract credits, "
        "reserve revenue, coincident-peak tag and charge, demand charges (absent without [power])",
        exclude_if=_absent)] = None
    contract_credits_usd_per_year: Annotated[Number | None, key(
        "contracted energy not used, resold at the real-time price, a year (absent without [power])", "USD/yr",
        exclude_if=_absent)] = None
    reserve_revenue_usd_per_year: Annotated[Number | None, key(
        "reserve (demand response) offers' revenue a year (absent without [power])", "USD/yr",
        exclude_if=_absent)] = None
    coincident_peak_tag_mw: Annotated[Number | None, key(
        "mean grid import in the coincident-peak intervals (absent without [power] or without peaks)", "MW",
        exclude_if=_absent)] = None
    coincident_peak_usd_per_year: Annotated[Number | None, key(
        "transmission charge of the coincident peaks a year, billed through the following year (absent "
        "without [power])", "USD/yr",
        exclude_if=_absent)] = None
    demand_charge_usd_per_year: Annotated[Number | None, key(
        "monthly demand charges a year (absent without [power])", "USD/yr", exclude_if=_absent)] = None
    business_model: Annotated[Literal["owner", "host"], key(
        "owner: the site owner buys the GPUs and leases GPU-hours; host: a tenant's GPUs for rent per kW-month "
        "of critical IT ([hosting])")] = "owner"
    capex_by_scope_usd: Annotated[dict[str, Number], key(
        "capex by who pays it: host (the site's owner) and tenant (its GPUs and, by default, the fabric)",
        "USD")] = Field(default_factory=dict)
    hosting: Annotated[dict[str, Any] | None, key(
        "a host scenario's contract and tenant risk: contracted IT MW, rent, whether the renewal options are "
        "counted (renewals: by default they are not), expected NPV, the NPV if the "
        "tenant stays or leaves at the worst time, capex at risk, the option to mine (absent for the owner "
        "model)", exclude_if=_absent)] = None
    phases: Annotated[list[PhaseSummary] | None, key(
        "the phased build: each candidate phase by online month with the share of the cluster it brings online "
        "(absent without scenarios.*.phases)", exclude_if=_absent)] = None
    per_mw: Annotated[dict[str, Any], key(
        "margin a year per MW of grid of mining, hosting and operating GPUs, and the break-even BTC price, "
        "hashprice, rent and GPU-hour price between them")] = Field(default_factory=dict)
    ai_start_month: Annotated[int | None, key(
        "month the AI load starts: on the interim supply when the plan bridges, else at the grid start (absent "
        "without an interim supply the scenario can use)", "months", exclude_if=_absent)] = None
    grid_start_month: Annotated[int | None, key(
        "month the AI load could start on the grid (the build, or the grid queue for a new build; with an "
        "expansion bridged by the interim supply, the month the expansion is ready; absent "
        "without an interim supply the scenario can use)", "months", exclude_if=_absent)] = None
    interim_supply_mw: Annotated[Number | None, key(
        "MW contracted from the interim supply ([power.interim]; 0: the AI waits for the grid; absent without "
        "one the scenario can use)", "MW", exclude_if=_absent)] = None
    interim_energy_mwh: Annotated[Number | None, key(
        "energy the AI draws from the interim supply over the bridge months (absent without one)", "MWh",
        exclude_if=_absent)] = None
    interim_energy_cost_usd: Annotated[Number | None, key(
        "cost of that energy over the bridge months, undiscounted (absent without one)", "USD",
        exclude_if=_absent)] = None
    interim_fixed_cost_usd: Annotated[Number | None, key(
        "capex and fixed charges of the MW contracted over the bridge months, undiscounted (absent without "
        "one)", "USD", exclude_if=_absent)] = None


    @property
    def phase_plan(self) -> str | None:
        """The phases used, in words ("containers m5 25 %, hall m24 75 %", with their halls when the site's
        halls place the cluster; None without phases)."""
        if self.phases is None:
            return None
        return ", ".join(f"{p.name} m{p.online_month} {100 * p.share:.0f} %"
                         + (f" ({' '.join(p.halls)})" if p.halls else "") for p in self.phases
                         if p.share > 1e-9) or "-"


# A scenario of summary.json: which record by its status.
AnyScenarioSummary = Annotated[PlanSummary | NoPlanSummary, Field(discriminator="status")]


class Recommendation(Record):
    """The feasible scenario with the highest NPV, and why."""

    scenario: Annotated[str | None, key("the recommended scenario (null when no scenario has a plan)")]
    reason: Annotated[str, key("why, in a sentence: the NPV and its margin, or why there is no plan")]
    equal_to: Annotated[list[str] | None, key(
        "scenarios equal to the recommended one within the materiality (absent when none is recommended)",
        exclude_if=_absent)] = None


class SummaryDocument(Record):
    """summary.json: the site's scenarios, one record each, and the recommendation."""

    site: Annotated[str, key("the site's name (name in the site file)")]
    planner_version: Annotated[str, key("version of the planner that wrote the file")]
    solver: Annotated[Solver, key("the MILP solver used")]
    scenarios: Annotated[dict[str, AnyScenarioSummary], key(
        "each solved scenario by name, in the site file's order")]
    recommendation: Annotated[Recommendation, key("the recommended scenario and why")]
    model: Annotated[str | None, key(
        "the model solved, when it is not the default reduced one (planner solve --reference-model)",
        exclude_if=_absent)] = None
    run_id: Annotated[str | None, key(
        "the run that wrote the file; the output folder's manifest carries the same id (absent where no "
        "output set is written)", exclude_if=_absent)] = None
    notes: Annotated[list[str] | None, key(
        "what the run left out and why (e.g. a topology too large to write)", exclude_if=_absent)] = None

    def data(self) -> dict[str, Any]:
        """The document as plain JSON values, keys in the file's order (where it is written)."""
        return self.model_dump(mode="python")

    @classmethod
    def read(cls, text: str | bytes) -> SummaryDocument:
        """A summary.json's text, checked strictly against the records (unknown keys, missing
        keys and values of the wrong type raise pydantic's ValidationError)."""
        return cls.model_validate_json(text, strict=True)


class BomRow(Record):
    """One part of a plan in bom.csv: what, how many, its cost and power, and its sources."""

    scenario: Annotated[str, key("the scenario whose plan buys or keeps the part")]
    category: Annotated[str, key("gpu_server, switch, transceiver, cable, structured_cabling, facility, "
                                 "electrical, miner, ...")]
    part: Annotated[str, key("catalog key of the part (or the facility item's name)")]
    description: Annotated[str, key("the part in words")]
    quantity: Annotated[Number, key("units of the part", COUNTS)]
    unit_cost_usd: Annotated[Number | None, key("price of one unit (null: no price known)", "USD")]
    extended_cost_usd: Annotated[Number | None, key("quantity x unit cost", "USD")]
    unit_power_w: Annotated[Number | None, key("power of one unit (null: not powered)", "W")]
    extended_power_w: Annotated[Number | None, key("quantity x unit power", "W")]
    source: Annotated[str, key("the sources of the part's specification and price")]
    power_basis: Annotated[str | None, key("the basis of the unit power figure")] = None
    scope: Annotated[Literal["owner", "host", "tenant"], key(
        "who pays for the row: the site's owner (owner model), or under a hosting contract the host or the "
        "tenant")] = "owner"
    total_cost_usd: Annotated[Number | None, key(
        "on a scenario's total row (category \"total\") only: the sum of its rows' extended cost; kept out of "
        "extended_cost_usd so that summing that column counts every part once", "USD")] = None
    total_power_w: Annotated[Number | None, key(
        "on a scenario's total row only: the sum of its rows' extended power", "W")] = None

    def data(self) -> dict[str, Any]:
        """The row as plain values, by bom.csv's column names."""
        return self.model_dump(mode="python")

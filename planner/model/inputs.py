"""Turn a validated site and the catalog into the numbers one scenario's model needs.

Pure: no solver here. Cluster sizes are enumerated with the fabric builder, so every
candidate carries the builder's exact counts, cost and power.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from planner.energy.economics import annuity_factor, monthly_rate
from planner.energy.mining import difficulty_from_hashrate, hashprice_usd_per_th_day
from planner.energy.prices import PriceProfile, price_profile
from planner.errors import InputError, Problem, display_path
from planner.network.fabric import FabricCounts, FabricError, FabricMemo, FabricSpec, count_fabric, plan_shape
from planner.parts.catalog import Catalog, MissingPower, PowerFigure
from planner.site.schema import LoadedSite, check_parts

if TYPE_CHECKING:
    from planner.cache import PlanCache
    from planner.network.layout import Layout, PlanFits

DAYS_PER_MONTH = 365.0 / 12


@dataclass(frozen=True)
class PricedPart:
    key: str
    unit_cost_usd: float
    basis: str


@dataclass(frozen=True)
class HallUse:
    """One hall of a cluster option: how it is used and the AI IT load placed in it."""

    name: str
    use: str  # "as built", "converted" (its cooling conversion) or "new" (a new hall built)
    it_w: float  # AI IT power placed in the hall (servers exactly; the network by server share)
    conversion_usd: float = 0.0  # its cooling conversion: usd_per_mw x the IT load placed in it


@dataclass
class OptionMemo:
    """What is worked out once about a chosen option: its floor plan, and that plan's
    summary for the catalog it was priced with (a list of (catalog, summary): the catalog
    is compared by identity)."""

    layout: Layout | None = None
    summaries: list[tuple[Catalog, dict]] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterOption:
    """One buildable AI cluster size with its exact fabric."""

    servers: int
    gpus: int
    fabric: FabricCounts | None
    server_power_w: float
    network_power_w: float
    capex_usd: dict[str, float]  # servers, network, facility, cooling conversion
    pue: float = 1.0
    server: str = ""
    optics: str = "auto"
    required_gpus: int = 0  # the minimum (min_gpus or the workload) for this server
    halls: tuple[HallUse, ...] = ()  # the halls its racks stand in, in fill order
    # its floor plan once laid out (outputs.report.layout_for): kept with the option, so it
    # lives as long as the option does (in the caller's PlanCache or in one run's results)
    memo: OptionMemo = field(default_factory=lambda: OptionMemo(), init=False, compare=False, repr=False)

    @property
    def plan(self) -> tuple[tuple[str, str], ...]:
        """The hall plan: (hall, use) in fill order."""
        return tuple((h.name, h.use) for h in self.halls)

    @property
    def variant(self) -> str:
        """The hall plan in words ("" without halls)."""
        return ", ".join(f"{h.name} {h.use}" for h in self.halls)

    @property
    def converts(self) -> bool:
        return any(h.use == "converted" for h in self.halls)

    @property
    def group(self) -> tuple:
        """Options of one group differ only in size."""
        return (self.server, self.optics, self.plan)

    @property
    def label(self) -> str:
        parts = [f"{self.servers} x {self.server}" if self.server else "no cluster"]
        if self.optics != "auto":
            parts.append(f"{self.optics} optics")
        if self.converts:
            parts.append("converts " + " and ".join(h.name for h in self.halls if h.use == "converted"))
        return ", ".join(parts)

    @property
    def it_power_w(self) -> float:
        return self.server_power_w + self.network_power_w

    @property
    def capex_total_usd(self) -> float:
        return sum(self.capex_usd.values())


@dataclass(frozen=True)
class MinerBlock:
    """Identical existing miners and their economics per running hour."""

    key: str
    count: int
    power_w: float
    hashrate_ths: float
    salvage_usd: float
    revenue_usd_per_hour: float  # after pool fee
    facility_mw: np.ndarray  # per miner and step: (power + network share) x (mining PUE + temperature term)
    opex_usd_per_month: float  # fixed, per miner kept
    unit_cost_usd: float = 0.0  # 0 for miners already on site
    name: str = ""  # unique block name (several blocks may share a model)
    network_w: float = 0.0  # per miner: its share of the miner access switches' power
    placed: dict[str, int] = field(default_factory=dict)  # existing miners per hall

    @property
    def new(self) -> bool:
        return self.unit_cost_usd > 0

    def margin_usd_per_hour(self, price_usd_per_mwh):
        """Revenue less energy per running hour at a price (array or number)."""
        return self.revenue_usd_per_hour - self.facility_mw * price_usd_per_mwh


@dataclass
class ScenarioInputs:
    """Everything one scenario's model is built from."""

    site: str
    scenario: str
    kind: str
    capacity_mw: float
    profile: PriceProfile
    ai_pue: float
    mining_pue: float
    horizon_months: int
    ai_start_month: int
    discount_rate: float
    lease_usd_per_gpu_hour: float
    utilization: float
    power_fraction: float
    ai_opex_usd_per_mw_year: float
    mining_opex_usd_per_mw_year: float
    min_gpus: int
    capex_budget_usd: float | None
    hashprice_usd_per_th_day: float
    pool_fee: float
    options: list[ClusterOption]
    miners: list[MinerBlock]
    subsidy_btc: float = 3.125
    fees_btc: float = 0.0
    hashrate_growth: float = 0.0
    months_to_halving: int | None = None
    prices: dict[str, PricedPart] = field(default_factory=dict)
    power: dict[str, PowerFigure] = field(default_factory=dict)  # W per unit of every part the plans may buy
    server_key: str = ""
    warnings: list[str] = field(default_factory=list)
    capped_by: dict[tuple, str] = field(default_factory=dict)  # option group -> why it stops there
    ai_interruptible: bool = False
    expansion_mw: float = 0.0  # capacity a grid expansion would add from the AI start
    expansion_usd: float = 0.0
    workload_gpus: int | None = None
    halls: list = field(default_factory=list)  # Building models this scenario builds in

    routes: list = field(default_factory=list)
    cabling: object | None = None
    hall_positions: dict[str, int] = field(default_factory=dict)  # miner positions per site hall
    move_usd_per_miner: float = 0.0
    materiality_share: float = 0.01  # NPV gaps below this share of the NPV are a tie

    def halls_for(self, option: ClusterOption) -> list:
        """The halls the option's racks stand in, in fill order, as it uses them (after
        the cooling conversion where it converts)."""
        by_name = {b.name: b for b in self.halls}
        return [_converted(by_name[h.name]) if h.use == "converted" else by_name[h.name] for h in option.halls]

    @property
    def miner_space(self) -> bool:
        """Miner floor space is modelled (some hall gives miner_positions)."""
        return bool(self.hall_positions)

    def positions_taken(self, option: ClusterOption) -> int:
        """Miner positions lost to the AI: every position of a hall that takes its racks."""
        return sum(self.hall_positions.get(h.name, 0) for h in option.halls)

    def must_move(self, block: MinerBlock, option: ClusterOption) -> int:
        """Miners of an existing block standing in halls the option takes."""
        return sum(block.placed.get(h.name, 0) for h in option.halls)

    @property
    def miners_before_ai(self) -> bool:
        """Existing miners may run until the AI load starts (retrofit and hybrid)."""
        return self.kind in ("retrofit", "hybrid") and self.ai_start_month > 0

    @property
    def miners_with_ai(self) -> bool:
        """Existing miners may run beside the AI load (hybrid only)."""
        return self.kind == "hybrid"

    def start_discount(self) -> float:
        """Present value of 1 USD at the AI start: (1 + r_m)^-start."""
        return (1 + monthly_rate(self.discount_rate)) ** -min(self.ai_start_month, self.horizon_months)

    @property
    def price_usd_per_mwh(self) -> float:
        """Hour-weighted mean price of the profile."""
        return self.profile.mean_price

    @property
    def dispatch_before(self) -> bool:
        """Per-step dispatch before the AI start: only needed when the capacity varies
        (with a constant capacity every kept miner fits and runs whenever it pays)."""
        caps = self.profile.capacity_mw
        return self.miners_before_ai and bool(self.miners) and bool(caps.min() < caps.max())

    @property
    def dispatch(self) -> bool:
        """Per-step miner dispatch beside the AI (hybrid with existing miners)."""
        return self.miners_with_ai and bool(self.miners)

    def annuity(self, period: str) -> float:
        """Annuity factor of the months before or after the AI start."""
        start, h = min(self.ai_start_month, self.horizon_months), self.horizon_months
        return annuity_factor(self.discount_rate, *((0, start) if period == "before" else (start, h)))

    def revenue_factor(self, month: int) -> float:
        """Mining revenue in month m relative to today: the network hashrate grows (each
        TH/s earns a shrinking share) and the subsidy halves every 48 months:

            f(m) = (subsidy(m) + fees) / (subsidy(0) + fees) / (1 + growth)^(m / 12)
        """
        sub = self.subsidy_btc
        if self.months_to_halving is not None and month >= self.months_to_halving:
            sub = sub / 2 ** (1 + (month - self.months_to_halving) // 48)
        base = self.subsidy_btc + self.fees_btc
        share = (sub + self.fees_btc) / base if base else 0.0
        return share / (1 + self.hashrate_growth) ** (month / 12)

    def mining_annuity(self, period: str) -> float:
        """Annuity factor of mining revenue: sum of (1 + r_m)^-(m+1) f(m) over the period."""
        start, h = min(self.ai_start_month, self.horizon_months), self.horizon_months
        lo, hi = (0, start) if period == "before" else (start, h)
        rm = monthly_rate(self.discount_rate)
        return sum((1 + rm) ** -(m + 1) * self.revenue_factor(m) for m in range(lo, hi))

    def miner_before_value(self, block: MinerBlock) -> float:
        """Present value of one miner kept until the AI start (not counting salvage): it
        runs in every step that pays (the grid holds all kept miners then), less opex.
        Revenue is discounted with the hashprice path, energy with the plain annuity."""
        prices, hours = self.profile.price_usd_per_mwh, self.profile.hours
        runs = block.margin_usd_per_hour(prices) > 0
        revenue = block.revenue_usd_per_hour * float((runs * hours).sum()) / 12
        energy = float((block.facility_mw * runs * hours * prices).sum()) / 12
        return (revenue * self.mining_annuity("before") - (energy + block.opex_usd_per_month)
                * self.annuity("before"))

    def miner_coefficients(self, block: MinerBlock) -> tuple[float, float]:
        """Objective coefficients of one miner kept before the AI start (x0) and beside it (x1).

        With s the salvage, d the discount factor at the AI start and A the annuity
        factors, the plan's miner value is (plus the constant s * count and the dispatch
        terms of :meth:`dispatch_coefficients`):

            x0 * (m0 * A[0, start) - s + s * d)  +  x1 * (-opex * A[start, H) - s * d)

        m0: monthly margin before the AI start. A miner not kept is sold now; one kept
        until the AI start is sold then; one kept beside the AI is never sold.
        """
        s, d = block.salvage_usd, self.start_discount()
        value = -block.opex_usd_per_month * self.annuity("before") if self.dispatch_before \
            else self.miner_before_value(block)
        # a new miner costs its price when bought (now) and is not sold now: it was never
        # owned. With no period before the AI it is bought for the period beside it.
        if block.new:
            if self.miners_before_ai:
                return value - block.unit_cost_usd + s * d, -block.opex_usd_per_month * self.annuity("after") - s * d
            return 0.0, -block.opex_usd_per_month * self.annuity("after") - block.unit_cost_usd
        before = value - s + s * d
        with_ai = -block.opex_usd_per_month * self.annuity("after") - s * d
        return before, with_ai

    def bought(self, block: MinerBlock, before: dict[str, int], with_ai: dict[str, int]) -> int:
        """New miners bought under a plan (0 for the existing fleet)."""
        if not block.new:
            return 0
        return (before if self.miners_before_ai else with_ai).get(block.key, 0)

    def dispatch_coefficients(self, block: MinerBlock, period: str = "after") -> np.ndarray:
        """Present value of one miner running in step t (beside the AI, or before it),
        for every t: (revenue per hour x mining annuity - energy per hour x annuity) x hours
        a year / 12. One representative year of dispatch is valued over the whole period."""
        energy = block.facility_mw * self.profile.price_usd_per_mwh
        return (block.revenue_usd_per_hour * self.mining_annuity(period) - energy * self.annuity(period)) \
            * self.profile.hours / 12

    def average_it_mw(self, option: ClusterOption) -> float:
        """Average IT draw of the AI load, MW: servers at the power fraction, network at max."""
        return (option.server_power_w * self.power_fraction + option.network_power_w) / 1e6

    def ai_on(self, option: ClusterOption) -> np.ndarray:
        """Steps in which the AI runs: all of them when it is firm; when interruptible, those
        where an hour of it earns more than its energy costs (the threshold rule):

            run_t  iff  G x lease x utilisation > P_avg x (PUE + d_t) x price_t
        """
        p = self.profile
        if not self.ai_interruptible or not option.servers:
            return np.ones(p.steps, dtype=bool)
        revenue = option.gpus * self.lease_usd_per_gpu_hour * self.utilization
        it = self.average_it_mw(option)
        return revenue > it * (option.pue + p.delta()) * p.price_usd_per_mwh

    def ai_energy_mwh_year(self, option: ClusterOption) -> float:
        """Facility energy of the AI load a year: average IT draw x (PUE + temperature
        term) over the hours it runs."""
        it = self.average_it_mw(option)
        on = self.ai_on(option)
        return it * float(((option.pue + self.profile.delta()) * self.profile.hours * on).sum())

    def ai_energy_cost_year(self, option: ClusterOption) -> float:
        """Energy cost of the AI load a year, each step at its price."""
        it = self.average_it_mw(option)
        p = self.profile
        on = self.ai_on(option)
        return it * float(((option.pue + p.delta()) * p.hours * p.price_usd_per_mwh * on).sum())

    def ai_hours_year(self, option: ClusterOption) -> float:
        """Hours a year the AI runs (8,760 when firm)."""
        return float((self.profile.hours * self.ai_on(option)).sum())

    def ai_margin_usd_per_month(self, option: ClusterOption) -> float:
        """Lease revenue less energy and fixed opex of one cluster option, per month."""
        revenue = option.gpus * self.lease_usd_per_gpu_hour * self.utilization * self.ai_hours_year(option) / 12
        energy = self.ai_energy_cost_year(option) / 12
        opex = option.it_power_w / 1e6 * self.ai_opex_usd_per_mw_year / 12
        return revenue - energy - opex

    def ai_value_usd(self, option: ClusterOption) -> float:
        """Present value of an option: discounted margins from the AI start, less capex."""
        return self.ai_margin_usd_per_month(option) * self.annuity("after") - option.capex_total_usd


def price_of(key: str, catalog: Catalog, overrides: dict[str, float]) -> PricedPart | None:
    """Site override, else the catalog's list price or estimate."""
    if key in overrides:
        return PricedPart(key, overrides[key], "site file [costs]")
    found = catalog.unit_cost(key)
    return PricedPart(key, found[0], found[1]) if found else None


@dataclass(frozen=True)
class OptionsEntry:
    """The cluster options of a scenario as :func:`prepare` keeps them in a PlanCache."""

    options: list[ClusterOption]
    prices: dict[str, PricedPart]  # the parts the options priced
    warnings: set[str]
    capped_by: dict[tuple, str]
    min_gpus: int
    workload_gpus: int | None


def _cluster_options(loaded: LoadedSite, catalog: Catalog, scenario: str, capacity: float, need_price,
                     hall_slots: dict | None = None):
    """Every cluster option of the scenario (server choices x optics x cooling x size)."""
    site, ai = loaded.site, loaded.site.ai
    sc = site.scenarios[scenario]
    server_keys = [ai.server] + [k for k in ai.server_choices if k != ai.server]
    warnings: set[str] = set()
    capped_by: dict[tuple, str] = {}
    options = [ClusterOption(0, 0, None, 0.0, 0.0, {"servers": 0.0, "network": 0.0, "facility": 0.0},
                             pue=site.cooling.ai_pue)]
    halls = scenario_halls(loaded, scenario)
    min_gpus = ai.min_gpus
    workload_gpus = None
    for key in server_keys:
        loc = ("ai", "server") if key == ai.server else ("ai", "server_choices", ai.server_choices.index(key))
        server_cost = need_price(key, loc)
        required = ai.min_gpus
        if ai.workload is not None:
            need = _workload_gpus(loaded, catalog, key)
            workload_gpus = need if key == ai.server else workload_gpus
            required = max(required, need)
        if key == ai.server:
            min_gpus = required
        for optics in ai.optics:
            options += _enumerate_options(loaded, catalog, key, optics,
                                          capacity + (site.grid.expansion.add_mw if site.grid.expansion else 0.0),
                                          server_cost,
                                          sc.facility_usd_per_mw, need_price, warnings, capped_by, required, halls,
                                          scenario, hall_slots)
    return options, warnings, capped_by, min_gpus, workload_gpus


# keys of [ai] that price or run the cluster (ScenarioInputs) but do not shape its options
AI_VALUATION_KEYS = ("lease_usd_per_gpu_hour", "utilization", "interruptible", "power_fraction")


def options_key(loaded: LoadedSite, scenario: str, catalog: Catalog) -> str:
    """What the cluster options depend on: the AI block, halls, routes, cabling, grid,
    cooling, costs and the scenario (never the economics), and the catalog."""
    import hashlib
    import json

    site = loaded.site
    parts = {k: site.model_dump(mode="json", by_alias=True)[k]
             for k in ("ai", "buildings", "routes", "cabling", "grid", "cooling", "costs", "power_w")}
    for key in AI_VALUATION_KEYS:  # the value of the AI, not its options
        parts["ai"].pop(key, None)
    parts["scenario"] = site.scenarios[scenario].model_dump(mode="json")
    parts["catalog"] = catalog.dirs  # one PlanCache serves one catalog (PlanCache.use_catalog)
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def prepare(loaded: LoadedSite, catalog: Catalog, scenario: str, cache: PlanCache | None = None) -> ScenarioInputs:
    """Derive one scenario's inputs; raise InputError for anything missing.

    ``cache`` (a :class:`~planner.cache.PlanCache` kept by the caller) reuses the cluster
    options (fabric counts, floor plans) when only values they do not depend on changed,
    e.g. prices or economics between two solves in the TUI or the variants of a sweep.
    """
    site = loaded.site
    shown = display_path(loaded.path)
    problems = check_parts(loaded, catalog) + _check_access_switch(catalog)
    if scenario not in site.scenarios:
        from planner.errors import did_you_mean

        problems.append(Problem(shown, "scenarios", f"no scenario {scenario!r}",
                                loaded.line("scenarios"), did_you_mean(scenario, site.scenarios)))
    if problems:
        raise InputError(problems)
    sc = site.scenarios[scenario]
    ai, econ = site.ai, site.economics
    catalog = catalog.with_power_overrides(site.power_w)
    server_keys = [ai.server] + [k for k in ai.server_choices if k != ai.server]
    for i, key in enumerate(server_keys):
        if catalog.power(key) is None:
            loc = ("ai", "server") if i == 0 else ("ai", "server_choices", ai.server_choices.index(key))
            raise InputError([Problem(shown, ".".join(map(str, loc)), f"server {key!r} has no power figure "
                                      "in the catalog", loaded.line(*loc), _power_hint(key))])

    prices: dict[str, PricedPart] = {}

    def need_price(key: str, loc: tuple) -> float:
        priced = price_of(key, catalog, site.costs)
        if priced is None:
            raise InputError([Problem(shown, ".".join(map(str, loc)), f"no unit cost for {key!r}",
                                      loaded.line(*loc),
                                      f"add it under [costs] as \"{key}\" = USD, or in an "
                                      "estimates overlay")])
        prices[key] = priced
        return priced.unit_cost_usd

    capacity = site.grid.usable_mw(sc.grid_capacity_mw)
    d = econ.difficulty or difficulty_from_hashrate(econ.network_hashrate_ehs or 0)
    hp = hashprice_usd_per_th_day(d, econ.block_subsidy_btc, econ.fees_btc_per_block, econ.btc_price_usd)
    if cache is not None:
        cache.use_catalog(catalog)
    profile = price_profile(loaded, capacity, cache)

    key = okey = options_key(loaded, scenario, catalog) if cache is not None else None
    if key is not None and key in cache.options:
        entry = cache.options[key]
        options, warnings, capped_by = entry.options, entry.warnings, entry.capped_by
        min_gpus, workload_gpus = entry.min_gpus, entry.workload_gpus
        prices.update(entry.prices)
    else:
        options, warnings, capped_by, min_gpus, workload_gpus = _cluster_options(
            loaded, catalog, scenario, capacity, need_price, cache.hall_slots if cache is not None else None)
        if key is not None:
            cache.options[key] = OptionsEntry(options, dict(prices), warnings, capped_by, min_gpus, workload_gpus)
    miners: list[MinerBlock] = []
    if sc.kind != "greenfield":
        blocks = [("miners", i, b.model, b.count, b.salvage_usd) for i, b in enumerate(site.fleet.miners)]
        blocks += [("buy", i, b.model, b.max_count, b.salvage_usd) for i, b in enumerate(site.fleet.buy)]
        for section, i, key, count, salvage in blocks:
            m = catalog.miners[key]
            fig = catalog.power(key)
            if fig is None:
                raise InputError([Problem(shown, f"fleet.{section}[{i}].model",
                                          f"miner {m.key!r} has no power figure in the catalog",
                                          loaded.line("fleet", section, i, "model"), _power_hint(key))])
            cost = need_price(key, ("fleet", section, i, "model")) if section == "buy" else 0.0
            watts = fig.watts
            try:
                network = miner_network_w(catalog, key)
            except MissingPower as exc:
                raise InputError([Problem(shown, f"fleet.{section}[{i}].model", str(exc),
                                          loaded.line("fleet", section, i, "model"), _power_hint(exc.key))]) from None
            miners.append(MinerBlock(
                f"{m.key}-new" if section == "buy" else m.key, count, watts, m.hashrate_ths, salvage,
                revenue_usd_per_hour=m.hashrate_ths * hp * (1 - econ.pool_fee) / 24,
                facility_mw=(watts + network) / 1e6 * (site.cooling.mining_pue + profile.delta()),
                network_w=network,
                opex_usd_per_month=watts / 1e6 * econ.mining_opex_usd_per_mw_year / 12,
                unit_cost_usd=cost, name=m.key,
                placed=dict(site.fleet.miners[i].buildings) if section == "miners" else {},
            ))
        keys = [b.key for b in miners]
        if len(keys) != len(set(keys)):
            raise InputError([Problem(shown, "fleet", "each miner model may appear once in fleet.miners and "
                                      "once in fleet.buy", loaded.line("fleet"))])
    start = sc.build_months if sc.kind != "greenfield" else max(sc.build_months, sc.grid_queue_months)
    expansion = site.grid.expansion
    if expansion is not None and expansion.ready_months > start:
        raise InputError([Problem(shown, "grid.expansion.ready_months",
                                  f"the expansion is ready after {expansion.ready_months} months but scenario "
                                  f"{scenario!r} starts its AI load at month {start}",
                                  loaded.line("grid", "expansion"),
                                  "lengthen the scenario's build_months or shorten ready_months")])
    positions = ({b.name: b.miner_positions or 0 for b in site.buildings}
                 if any(b.miner_positions is not None for b in site.buildings) else {})
    distinct_key = (okey, tuple(sorted(positions.items())), tuple(tuple(sorted(b.placed.items())) for b in miners))
    if cache is not None and distinct_key in cache.distinct:
        options = cache.distinct[distinct_key]
    else:
        options = _distinct(options, positions, miners)
        if cache is not None:
            cache.distinct[distinct_key] = options
    power = power_figures(catalog, options, miners)
    if profile.coverage is not None and not profile.coverage.full_year:
        warnings = warnings | {f"power_price: the series covers {profile.coverage.describe()} "
                               "(power_price.year chooses 'scale' or 'repeat')"}
    return ScenarioInputs(
        site=site.name, scenario=scenario, kind=sc.kind, capacity_mw=capacity,
        profile=profile, ai_pue=site.cooling.ai_pue, mining_pue=site.cooling.mining_pue,
        horizon_months=econ.horizon_years * 12, ai_start_month=start,
        discount_rate=econ.discount_rate, lease_usd_per_gpu_hour=ai.lease_usd_per_gpu_hour,
        utilization=ai.utilization, power_fraction=ai.power_fraction,
        ai_opex_usd_per_mw_year=econ.ai_opex_usd_per_mw_year,
        mining_opex_usd_per_mw_year=econ.mining_opex_usd_per_mw_year,
        min_gpus=min_gpus, workload_gpus=workload_gpus, capex_budget_usd=econ.capex_budget_usd,
        hashprice_usd_per_th_day=hp, pool_fee=econ.pool_fee, subsidy_btc=econ.block_subsidy_btc,
        fees_btc=econ.fees_btc_per_block, hashrate_growth=econ.network_hashrate_growth_per_year,
        months_to_halving=econ.months_to_next_halving, options=options, miners=miners,
        prices=prices, power=power, server_key=ai.server, warnings=sorted(warnings), capped_by=capped_by,
        halls=scenario_halls(loaded, scenario), routes=list(site.routes), cabling=site.cabling,
        ai_interruptible=ai.interruptible, expansion_mw=expansion.add_mw if expansion else 0.0,
        expansion_usd=expansion.usd if expansion else 0.0,
        hall_positions=positions,
        move_usd_per_miner=site.fleet.move_usd_per_miner,
        materiality_share=econ.materiality_share,
    )


def _check_access_switch(catalog: Catalog) -> list[Problem]:
    """The out-of-band and miner access networks are counted with one switch model: an
    overlay that replaces it must keep its ports and uplinks."""
    from planner.network.access import ACCESS_SWITCH

    entry = catalog.entries["switches"].get(ACCESS_SWITCH)
    if entry is None:
        return [Problem("catalog", ACCESS_SWITCH, "the access switch the planner counts the out-of-band and miner "
                        "networks with is missing", hint="keep it in the catalog, or give it in an overlay")]
    if not entry.item.uplink_ports or not entry.item.uplink_gbps:
        name = "uplink_ports" if not entry.item.uplink_ports else "uplink_gbps"
        return [Problem(display_path(Path(entry.file)), f"{ACCESS_SWITCH}.{name}",
                        "the access switch of the out-of-band and miner networks needs uplink_ports and uplink_gbps",
                        entry.line(name), hint="give both: the SN2201 has 4 uplinks of 100 Gb/s")]
    return []


def oob_power_w(catalog: Catalog, server: str, servers: int, fabric: FabricCounts) -> float:
    """Power of the out-of-band network's access switches: one port per BMC and per
    fabric switch (:func:`planner.network.access.access_network`)."""
    from planner.network.access import ACCESS_SWITCH, access_network, oob_endpoints

    endpoints = oob_endpoints(catalog, server, servers, sum(fabric.switches.values()))
    n = access_network(catalog, "oob", endpoints, ACCESS_SWITCH).access_switches
    return n * catalog.watts(ACCESS_SWITCH) if n else 0.0


def miner_network_w(catalog: Catalog, miner: str) -> float:
    """A miner's share of its access switch's power: its ports / the switch's ports."""
    from planner.network.access import ACCESS_SWITCH

    ports = catalog.miners[miner].network_ports or 1
    return ports * catalog.watts(ACCESS_SWITCH) / catalog.switches[ACCESS_SWITCH].ports


def power_figures(catalog: Catalog, options: list[ClusterOption], miners: list[MinerBlock]
                  ) -> dict[str, PowerFigure]:
    """The power figure of every part the scenario's plans may buy (servers, switches,
    optics, miners): sourced, estimated or the site's own."""
    from planner.network.access import ACCESS_SWITCH

    keys = {b.name or b.key for b in miners}
    if miners:
        keys.add(ACCESS_SWITCH)
    for o in options:
        if o.fabric is not None:
            keys |= {o.server, ACCESS_SWITCH}
            keys |= {o.fabric.switch_models[r] for r, n in o.fabric.switches.items() if n}
            keys |= {end.part for m in o.fabric.media.values() for end in (m.lower, m.upper)
                     if end.kind in ("module", "copper") and end.units}
    return {k: catalog.power(k) for k in sorted(keys)}


def _power_hint(key: str) -> str:
    return (f"give it a power figure with its source, a [[power_estimate]] with its basis in an overlay "
            f"catalog, or [power_w] \"{key}\" = W in the site file")


def _distinct(options: list[ClusterOption], positions: dict[str, int], miners: list[MinerBlock]
              ) -> list[ClusterOption]:
    """Drop an option that the model cannot tell from an earlier one: the same size,
    server, optics, capex, power, PUE and floor space for the miners, in other halls
    (e.g. AI in hall-1 and hall-4 against hall-1 and hall-2). The earlier plan, in the
    halls' listed order, is kept, so that ties go to the first halls and not to the solver."""
    seen: set = set()
    out = []
    for o in options:
        key = (o.server, o.optics, o.servers, o.gpus, o.required_gpus, o.server_power_w, o.network_power_w, o.pue,
               tuple(sorted(o.capex_usd.items())),
               sum(positions.get(h.name, 0) for h in o.halls),
               tuple(sum(b.placed.get(h.name, 0) for h in o.halls) for b in miners),
               tuple(sorted((t, dataclasses.replace(m, length_m=0.0)) for t, m in o.fabric.media.items()))
               if o.fabric is not None else None)  # the same media (the longest link may differ)
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


def _workload_gpus(loaded: LoadedSite, catalog: Catalog, server: str) -> int:
    """GPUs the site's workload needs on ``server`` (whole servers)."""
    from planner.energy.compute import ComputeError, inference_demand, training_demand

    w = loaded.site.ai.workload
    try:
        if w.kind == "train":
            d = training_demand(catalog, server, w.params, w.tokens, w.runs_per_month,
                                w.utilization, w.precision, w.sparse, 1.0, w.days_per_month)
        else:
            d = inference_demand(catalog, server, w.params, w.tokens_per_day, w.utilization,
                                 w.precision, w.sparse, 1.0)
    except ComputeError as exc:
        raise InputError([Problem(display_path(loaded.path), "ai.workload", str(exc),
                                  loaded.line("ai", "workload"))]) from None
    return d.gpus


def _enumerate_options(loaded: LoadedSite, catalog: Catalog, server_key: str, optics: str, capacity_mw: float,
                       server_cost: float, facility_usd_per_mw: float, need_price, warnings: set[str],
                       capped_by: dict, min_gpus: int, halls: list, scenario: str,
                       hall_slots: dict | None = None) -> list[ClusterOption]:
    """Cluster sizes of one server and optics family, from one step up to what the grid
    (or min/max GPUs, the fabric, the halls) allows, for every hall plan (which halls,
    as built or converted: :func:`hall_plans`)."""
    site, ai = loaded.site, loaded.site.ai
    server = catalog.servers[server_key]
    shown = display_path(loaded.path)
    pues = [site.cooling.ai_pue] + [p for b in halls for p in (b.pue, b.conversion.pue if b.conversion else None)
                                    if p is not None]
    per_server_mw = catalog.power(server.key).watts / 1e6 * min(pues)
    ratio = capacity_mw / per_server_mw if per_server_mw else 0.0
    by_grid = math.floor(ratio) if math.isfinite(ratio) and ratio < 1e15 else 10**15  # counted, never listed
    by_min = math.ceil(min_gpus / server.gpus)
    limit = max(by_grid, by_min)
    capped = ["the grid capacity at max server power"]
    if ai.max_gpus is not None and ai.max_gpus // server.gpus < limit:
        limit = ai.max_gpus // server.gpus
        capped = [f"ai.max_gpus = {ai.max_gpus}"]
    base = dict(server=server.key, leaf_switch=ai.leaf_switch, spine_switch=ai.spine_switch,
                core_switch=ai.core_switch, oversubscription=ai.oversubscription, optics=optics,
                planes=ai.planes, dual_tor=ai.dual_tor, uplink_gbps=ai.uplink_gbps,
                servers_per_su=ai.servers_per_su, spare_down_ports=ai.spare_down_ports,
                spine_oversubscription=ai.spine_oversubscription)
    try:
        step = plan_shape(FabricSpec(servers=1, **base), catalog).servers_per_su if ai.step == "su" else 1
    except FabricError as exc:
        raise InputError([Problem(shown, "ai", f"{server.key}: {exc}", loaded.line("ai"))]) from None
    if ai.it_load_mw is not None:
        sizes = _sizes_near_it_load(catalog, base, server.key, ai.it_load_mw * 1e6, shown, loaded)
    else:
        count = limit // step if limit >= step else 0
        if count > MAX_SIZES:  # counted before a list of them, a fabric or a floor plan is built
            raise InputError([Problem(shown, "ai.step", f"{server.key}: {count:,} cluster sizes to try (steps of "
                                      f"{step} servers up to {limit:,}); at most {MAX_SIZES:,} are enumerated",
                                      loaded.line("ai"), "give ai.max_gpus, ai.step = \"su\" or ai.it_load_mw")])
        sizes = list(range(step, limit + 1, step))
        if ai.step == "su" and by_min > 0 and by_min % step:
            sizes.append(by_min)  # a partial last SU to meet the minimum exactly
    specs = []
    for n in sorted(set(sizes)):
        spec = FabricSpec(servers=n, **base)
        try:
            specs.append((spec, plan_shape(spec, catalog)))
        except FabricError as exc:
            if not specs:
                raise InputError([Problem(shown, "ai", f"{server.key}: {exc}", loaded.line("ai"))]) from None
            capped.append(f"larger fabrics do not fit: {exc}")
            break
    options: list[ClusterOption] = []
    plans, note = hall_plans(loaded, catalog, server.key, halls, scenario)
    if note:
        warnings.add(note)
    first_error = None
    if not plans:  # no hall takes the server, as built or converted: the layout says why
        from planner.network.layout import fit_sizes

        first_error = fit_sizes(catalog, server.key, [specs[0][1]], halls[:1], site.routes, site.cabling)[0]
    from planner.network.layout import PlanFits

    fitter = PlanFits(catalog, server.key, [sh for _, sh in specs], site.routes, site.cabling, hall_slots=hall_slots)
    fabrics = FabricMemo(catalog)
    for plan in plans:
        group_capped = list(capped)
        found, error = _options_for(loaded, catalog, specs, plan, server, server_cost, facility_usd_per_mw,
                                    need_price, warnings, group_capped, site.cooling.ai_pue, optics, min_gpus,
                                    fitter, fabrics)
        first_error = first_error or error
        if ai.it_load_mw is not None:
            found = _at_it_load(found, ai.it_load_mw * 1e6)
            group_capped.append(f"ai.it_load_mw = {ai.it_load_mw:g} MW of critical IT")
            if not found and first_error is None:
                first_error = InputError([Problem(shown, "ai.it_load_mw", f"{server.key}: no cluster fits within "
                                                  f"{ai.it_load_mw:g} MW of IT load", loaded.line("ai", "it_load_mw"))])
        if found:
            capped_by[found[0].group] = group_capped[-1]
        options += found
    if not options and first_error is not None:
        if isinstance(first_error, InputError):
            raise first_error
        if optics != "auto" or len(ai.optics) > 1:
            warnings.add(f"{server.key} with {optics} optics: {first_error}")
        else:
            raise InputError([Problem(shown, "buildings", str(first_error), loaded.line("buildings"))])
    return options


def _sizes_near_it_load(catalog: Catalog, base: dict, server: str, target_w: float, shown: str,
                        loaded: LoadedSite) -> list[int]:
    """Server counts around the largest cluster whose IT load (servers, fabric at its
    default lengths, management network) stays within ``target_w``: the floor plan's
    lengths may change the optics a little, so a few sizes either side are tried."""
    def it_w(n: int) -> float:
        fabric = count_fabric(FabricSpec(servers=n, **base), catalog)
        power, _ = fabric.power_w(catalog)
        return n * catalog.watts(server) + power["switches"] + power["optics"] + oob_power_w(
            catalog, server, n, fabric)

    lo, hi = 0, max(1, math.floor(target_w / catalog.watts(server)))
    try:
        while lo < hi:  # the largest n with it_w(n) <= target (IT power grows with n)
            mid = (lo + hi + 1) // 2
            if it_w(mid) <= target_w:
                lo = mid
            else:
                hi = mid - 1
    except FabricError as exc:
        raise InputError([Problem(shown, "ai.it_load_mw", f"{server}: {exc}", loaded.line("ai", "it_load_mw"))]
                         ) from None
    if lo == 0:
        raise InputError([Problem(shown, "ai.it_load_mw", f"one {server} takes {it_w(1) / 1e6:.4g} MW of IT load, "
                                  f"above {target_w / 1e6:g} MW", loaded.line("ai", "it_load_mw"))])
    return [n for n in range(lo - 3, lo + 4) if n >= 1]


def _at_it_load(options: list[ClusterOption], target_w: float) -> list[ClusterOption]:
    """The largest option within the IT load, which the plan must then build."""
    within = [o for o in options if o.it_power_w <= target_w]
    if not within:
        return []
    best = max(within, key=lambda o: o.servers)
    return [dataclasses.replace(best, required_gpus=best.gpus)]


MAX_HALL_PLANS = 32  # hall plans enumerated per server and optics family
MAX_SIZES = 20_000  # cluster sizes per server and optics family (each one a fabric count)


def hall_plans(loaded: LoadedSite, catalog: Catalog, server_key: str, halls: list, scenario: str,
               ) -> tuple[list[tuple[tuple, ...]], str]:
    """The ways a cluster may use the scenario's halls: for each hall in the listed order,
    left out, used as built (or built, when new) or used after its cooling conversion.
    A plan is a tuple of (building as used, use). Racks fill a plan's halls in order.

    A hall may be left out (and the next one used) where that can pay: a hall whose miner
    positions a hybrid plan could keep, any hall when the scenario lists both existing
    and new halls (convert or build new), and a hall that cannot take the server either
    way. Above MAX_HALL_PLANS plans, halls are no longer left out, then every hall is
    used alike; the note says so.
    """
    from planner.network.layout import systems_per_rack

    if not halls:
        return [()], ""
    sc = loaded.site.scenarios[scenario]
    mixed = len({b.status for b in halls}) > 1
    choices = []
    for b in halls:
        uses = []
        if systems_per_rack(catalog, server_key, b) >= 1:
            uses.append((b, "new" if b.status == "new" else "as built"))
        if b.conversion is not None and systems_per_rack(catalog, server_key, _converted(b)) >= 1:
            uses.append((_converted(b), "converted"))
        may_skip = (not uses or mixed or (sc.kind == "hybrid" and bool(b.miner_positions)))
        choices.append((uses, may_skip))

    def enumerate_plans(skips: bool, alike: bool) -> list[tuple]:
        """Every plan, as the halls it uses in order (a plan stops at its last hall: the
        halls after it are not reached)."""
        plans: list[tuple] = [()]
        out: list[tuple] = []
        for uses, may_skip in choices:
            grown = []
            for plan in plans:
                if (skips and may_skip) or not uses:
                    grown.append(plan)
                if alike and plan:
                    same = [u for u in uses if u[1] == plan[-1][1]]
                    grown += [(*plan, u) for u in (same or uses[:1])]
                else:
                    grown += [(*plan, u) for u in uses]
            plans = grown
            out += [p for p in grown if p and any(p[-1] is u for u in uses)]  # plans ending here
        unique = {tuple((id(b), use) for b, use in p): p for p in out}  # halls are not hashable
        return list(unique.values())

    plans = enumerate_plans(True, False)
    note = ""
    if len(plans) > MAX_HALL_PLANS:
        total = len(plans)
        plans = enumerate_plans(False, False)
        if len(plans) > MAX_HALL_PLANS:
            plans = enumerate_plans(False, True)
            how = "used in order, all as built or all converted"
        else:
            how = "used in order (none left out)"
        note = (f"scenario {scenario!r}: the {len(halls)} halls give {total} hall plans for {server_key}; "
                f"only {len(plans)} were tried, halls {how}: list fewer halls in scenarios.{scenario}.buildings")
    return plans, note


def _converted(b):
    """The hall after its cooling conversion (unchanged when it has none)."""
    if b.conversion is None:
        return b
    c = b.conversion
    return b.model_copy(update={"cooling": c.cooling, "max_kw_per_rack": c.max_kw_per_rack,
                                "pue": c.pue or b.pue})


def _options_for(loaded, catalog, specs, plan, server, server_cost, facility_usd_per_mw, need_price,
                 warnings, capped, default_pue, optics, required, fitter: PlanFits, fabrics: FabricMemo,
                 ) -> tuple[list[ClusterOption], Exception | None]:
    """Cluster options of one hall plan, smallest first: the sizes whose racks reach the
    plan's last hall (smaller ones are the same plan without that hall). ``fitter`` (a
    :class:`planner.network.layout.PlanFits` of the family's sizes) and ``fabrics`` share the
    floor-plan work and the fabric counts between the family's plans. Returns the
    options and, when there are none, why."""
    site = loaded.site
    options: list[ClusterOption] = []
    halls = [b for b, _ in plan]
    uses = {b.name: use for b, use in plan}
    by_name = {b.name: b for b in halls}
    if halls:
        fits = fitter.fits(halls, need_hall=halls[-1].name if len(halls) > 1 else None)
    else:
        from planner.network.layout import Fit

        fits = [Fit({}, {}, frozenset())] * len(specs)
    error = None
    for (spec, _shape), fit in zip(specs, fits, strict=True):
        if fit is None:
            continue
        if isinstance(fit, Exception):
            if options:
                capped.append(f"space: {fit}")
            else:
                error = fit
            break
        if fit.lengths:
            spec = dataclasses.replace(spec, lengths_m={t: v for t, v in fit.lengths.items() if v})
        n = spec.servers
        try:
            fabric = fabrics.count(spec)
        except FabricError as exc:
            if options:
                capped.append(f"larger fabrics do not fit: {exc}")
            else:
                error = exc if optics != "auto" or len(site.ai.optics) > 1 else InputError(
                    [Problem(display_path(loaded.path), "ai", f"{server.key}: {exc}", loaded.line("ai"))])
            break
        try:
            power, _ = fabric.power_w(catalog)
            oob_w = oob_power_w(catalog, server.key, n, fabric)
        except MissingPower as exc:
            raise InputError([Problem(display_path(loaded.path), "ai", str(exc), loaded.line("ai"),
                                      _power_hint(exc.key))]) from None
        network = 0.0
        for tier, count in fabric.switches.items():
            if count:
                network += count * need_price(fabric.switch_models[tier], ("ai", f"{tier}_switch"
                                              if tier != "leaf" else "leaf_switch"))
        for key, count in fabric.transceivers.items():
            network += count * need_price(key, ("ai", "leaf_switch"))
        server_w = n * catalog.power(server.key).watts
        network_w = power["switches"] + power["optics"] + oob_w
        it_w = server_w + network_w
        endpoints = sum(fit.endpoints.values())
        used = []
        for b in halls:
            if b.name in fit.halls:
                hall_w = it_w * fit.endpoints.get(b.name, 0) / endpoints if endpoints else 0.0
                conversion = hall_w / 1e6 * b.conversion.usd_per_mw if uses[b.name] == "converted" else 0.0
                used.append(HallUse(b.name, uses[b.name], hall_w, conversion))
        pue = (sum(h.it_w * (by_name[h.name].pue or default_pue) for h in used) / it_w
               if used and it_w else max((b.pue or default_pue for b in halls), default=default_pue))
        facility = sum(h.it_w / 1e6 * (by_name[h.name].facility_usd_per_mw
                                       if by_name[h.name].facility_usd_per_mw is not None else facility_usd_per_mw)
                       for h in used) if used else it_w / 1e6 * facility_usd_per_mw
        capex = {"servers": n * server_cost, "network": network, "facility": facility}
        if any(h.use == "converted" for h in used):
            capex["cooling_conversion"] = sum(h.conversion_usd for h in used)
        options.append(ClusterOption(
            servers=n, gpus=n * server.gpus, fabric=fabric, server_power_w=server_w,
            network_power_w=network_w, capex_usd=capex, pue=pue, server=server.key, optics=optics,
            required_gpus=required, halls=tuple(used),
        ))
    return options, (error if not options else None)


def scenario_halls(loaded: LoadedSite, scenario: str):
    """Halls a scenario builds in: those it names, else existing halls for retrofit and
    hybrid and new halls for greenfield."""
    site = loaded.site
    sc = site.scenarios[scenario]
    if sc.buildings is not None:
        by_name = {b.name: b for b in site.buildings}
        return [by_name[name] for name in sc.buildings]  # in the scenario's order: the fill order
    wanted = "new" if sc.kind == "greenfield" else "existing"
    return [b for b in site.buildings if b.status == wanted]

"""One scenario's inputs: the records the model is built from (cluster options, miner
blocks, priced parts) and their valuation (margins, annuities, present values), which
:func:`planner.model.inputs.prepare` derives from a site and the catalog.

Why over 450 lines: ScenarioInputs is one record with its valuation methods; the phases'
and the interim supply's terms joined it (issue 19, 20), and splitting the valuation from
the record it reads would put each method's fields in another module."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from planner.constants import BLOCK_SUBSIDY_BTC, MONTHS_PER_YEAR, W_PER_MW
from planner.energy.economics import annuity_factor, monthly_rate
from planner.energy.markets import Markets
from planner.energy.prices import PriceProfile
from planner.network.fabric import FabricCounts
from planner.parts.catalog import Catalog
from planner.parts.models import PowerFigure
from planner.site.schema import Building, Cabling, Route

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.energy.hosting import HostValuation
    from planner.network.campus import CampusLinks
    from planner.network.halls import HallSlots
    from planner.network.layout import Layout
    from planner.site.schema import Hosting


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
    # the halls' rack positions by geometry, shared with the fitter that found the option
    # (and the caller's PlanCache): the floor plan is laid out without walking the halls again
    hall_slots: dict[str, HallSlots] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterOption:
    """One buildable AI cluster size with its exact fabric."""

    servers: int
    gpus: int
    fabric: FabricCounts | None
    server_power_w: float
    network_power_w: float
    capex_usd: dict[str, float]  # servers, network (switches, optics), cabling, facility, cooling conversion
    pue: float = 1.0
    server: str = ""
    optics: str = "auto"
    required_gpus: int = 0  # the minimum (min_gpus or the workload) for this server
    halls: tuple[HallUse, ...] = ()  # the halls its racks stand in, in fill order
    # the interconnect of its links across routes beyond grey reach (network.campus), or None
    interconnect: CampusLinks | None = None
    # its floor plan once laid out (outputs.physics.layout_for): kept with the option, so it
    # lives as long as the option does (in the caller's PlanCache or in one run's results)
    memo: OptionMemo = field(default_factory=lambda: OptionMemo(), init=False, compare=False, repr=False)

    @functools.cached_property
    def plan(self) -> tuple[tuple[str, str], ...]:
        """The hall plan: (hall, use) in fill order (kept: a solve asks it of every option
        many times, and the option never changes)."""
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

    @functools.cached_property
    def capex_total_usd(self) -> float:
        return sum(self.capex_usd.values())  # nothing changes capex_usd once the option is made


# OptionColumns' arrays, each from a figure of ClusterOption
_OPTION_FIGURES = {"servers": "servers", "gpus": "gpus", "required_gpus": "required_gpus",
                   "server_w": "server_power_w", "network_w": "network_power_w", "it_w": "it_power_w", "pue": "pue",
                   "capex": "capex_total_usd"}


@dataclass(frozen=True)
class OptionColumns:
    """The figures of a list of cluster options as arrays, in the list's order: what the model
    builder reads of every option on every solve, read from the options once. A sweep's
    variants share the options (:class:`planner.model.cache.PlanCache`), so they share these
    too. Each array holds the very floats the options hold (``it_w``: their ``it_power_w``);
    ``in_hall[k, h]`` is 1 where option k puts racks in hall ``halls[h]``."""

    options: list[ClusterOption] = field(repr=False, compare=False)  # the list they were read from
    servers: np.ndarray
    gpus: np.ndarray
    required_gpus: np.ndarray
    server_w: np.ndarray
    network_w: np.ndarray
    it_w: np.ndarray
    pue: np.ndarray
    capex: np.ndarray
    halls: tuple[str, ...]
    in_hall: np.ndarray
    meanings: dict[str, str] = field(repr=False, compare=False)  # size__k -> what building option k means

    @staticmethod
    def of(options: list[ClusterOption]) -> OptionColumns:
        halls = tuple(dict.fromkeys(h.name for o in options for h in o.halls))
        index = {name: i for i, name in enumerate(halls)}
        in_hall = np.zeros((len(options), len(halls)))
        for k, o in enumerate(options):
            for h in o.halls:
                in_hall[k, index[h.name]] = 1.0

        figures = {name: np.array([getattr(o, attr) for o in options], dtype=float)
                   for name, attr in _OPTION_FIGURES.items()}
        meanings = {f"size__{k}": f"build {o.servers} servers ({o.gpus} GPUs)" for k, o in enumerate(options)}
        return OptionColumns(options, **figures, halls=halls, in_hall=in_hall, meanings=meanings)

    @functools.cached_property
    def by_plan(self) -> dict[tuple, np.ndarray]:
        """The options of each hall plan (:attr:`ClusterOption.plan`), as their numbers in order."""
        plans: dict[tuple, list[int]] = {}
        for k, o in enumerate(self.options):
            plans.setdefault(o.plan, []).append(k)
        return {plan: np.array(ks, dtype=np.int64) for plan, ks in plans.items()}

    def per_option(self, per_hall: dict[str, int]) -> np.ndarray:
        """sum over each option's halls of ``per_hall`` (0 for a hall it lacks): e.g. the miner
        positions it takes. Whole numbers, summed exactly."""
        return self.in_hall @ np.array([float(per_hall.get(h, 0)) for h in self.halls])


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

    def margin_usd_per_hour(self, price_usd_per_mwh: float | np.ndarray) -> float | np.ndarray:
        """Revenue less energy per running hour at a price (array or number)."""
        return self.revenue_usd_per_hour - self.facility_mw * price_usd_per_mwh


@dataclass(frozen=True)
class PhaseTerm:
    """A candidate build phase as the model sees it (site key ``scenarios.*.phases``)."""

    name: str
    online_month: int  # its AI load starts in this month
    grid_mw: float  # grid capacity from its online month on (the scenario's capacity when not given)
    max_share: float = 1.0  # largest share of the cluster's IT it may bring online


@dataclass
class FallbackMiner:
    """The miner a host would go back to if its tenant leaves, and its economics
    (:mod:`planner.model.hosting`)."""

    key: str
    revenue_usd_per_hour: float
    facility_mw: np.ndarray  # per miner and step
    opex_usd_per_month: float
    unit_cost_usd: float  # bought when the tenant leaves (fallback_miners = "buy")
    salvage_usd: float  # forgone now per miner kept (fallback_miners = "kept")
    margin_by_month: np.ndarray  # mu_m over the horizon

    @property
    def max_facility_mw(self) -> float:
        return float(np.max(self.facility_mw))


@dataclass
class HostSetup:
    """The site's hosting contract as one scenario values it (:mod:`planner.model.hosting`)."""

    contract: Hosting
    opex_usd_per_mw_year: float
    miner: FallbackMiner | None = None
    memo: dict[tuple[float, float], HostValuation] = field(default_factory=dict)  # by (energy per kW, PUE)


@dataclass(frozen=True)
class Interim:
    """The site's interim supply ([power.interim]) as one scenario can use it: the AI may run
    on it in plan months [start_month, end_month), before the scenario's grid start
    (:mod:`planner.model.interim`)."""

    name: str
    kind: str  # "generation" or "interconnect"
    capacity_mw: float
    start_month: int  # the first month it can carry the AI: max(its from_month, the build)
    end_month: int  # the grid start, or its to_month when earlier
    usd_per_mwh: float
    fixed_usd_per_mw_month: float  # fixed_usd_per_kw_year x 1000 / 12
    capex_usd_per_mw: float  # capex_usd_per_kw x 1000, paid at the decision
    # True: it bridges an existing connection's expansion ([grid.expansion] ready after the AI
    # start) in months [AI start, expansion), carrying the AI's load above the existing grid
    upgrade: bool = False


@dataclass(frozen=True)
class ScenarioInputs:
    """Everything one scenario's model is built from, frozen once :func:`planner.model.inputs.prepare`
    has made it (its memos of annuities and step masks fill as it is read)."""

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
    subsidy_btc: float = BLOCK_SUBSIDY_BTC
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
    halls: list[Building] = field(default_factory=list)  # the halls this scenario builds in

    routes: list[Route] = field(default_factory=list)
    cabling: Cabling = field(default_factory=lambda: Cabling())
    hall_positions: dict[str, int] = field(default_factory=dict)  # miner positions per site hall
    move_usd_per_miner: float = 0.0
    materiality_share: float = 0.01  # NPV gaps below this share of the NPV are a tie
    btc_price_usd: float = 0.0  # behind the hashprice (the per-MW break-evens scale it)
    gpu_life_months: int | None = None  # owner: months the servers earn from the AI start (None: the horizon)
    gpu_resale_share: float = 0.0  # owner: their resale at the end of that life, a share of their price
    business_model: str = "owner"  # "host": the tenant brings the GPUs and pays rent; "owner": the plan buys them
    contract: HostSetup | None = None  # the site's [hosting] contract (host scenarios value it; any compares it)
    markets: Markets | None = None  # power contracts, reserves, peak and demand charges ([power])
    # annuity factors by (rate, start, end): every cluster option's value asks for the same
    # few (a sweep values hundreds of options per variant); keyed by all the function reads
    annuities: dict[tuple[float, int, int], float] = field(default_factory=dict, init=False, repr=False,
                                                           compare=False)
    # the firm AI's every-step mask by number of steps, shared by the options (read only)
    all_steps: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)
    interim: Interim | None = None  # supply before the grid start ([power.interim]); None: the AI waits
    phases: list[PhaseTerm] = field(default_factory=list)  # candidate build phases, by online month
    # the options as arrays: given by prepare (shared through the PlanCache), else read on first
    # use; options replaced afterwards (dataclasses.replace) are read again (option_columns)
    columns: OptionColumns | None = field(default=None, repr=False, compare=False)

    def option_columns(self) -> OptionColumns:
        """:class:`OptionColumns` of these very options."""
        held = self.columns
        if held is None or held.options is not self.options:
            held = OptionColumns.of(self.options)
            object.__setattr__(self, "columns", held)  # a memo: the options decide it, and they are frozen here
        return held

    def phase_months(self) -> list[int]:
        """The distinct online months of the phases before the AI start (the last phase's
        online month, ``ai_start_month``): the months at which the load may change between
        the start of the works and the full cluster (empty without phases)."""
        return sorted({p.online_month for p in self.phases if p.online_month < self.ai_start_month})

    def phase_grid_mw(self, month: int) -> float:
        """Grid capacity from ``month`` on, given by the phases online by then (the highest
        their grid_mw; the scenario's capacity before any phase is online)."""
        given = [p.grid_mw for p in self.phases if p.online_month <= month]
        return max(given) if given else self.capacity_mw

    @property
    def hosting(self) -> HostSetup | None:
        """The contract this scenario is valued by (None: the owner operates the GPUs)."""
        return self.contract if self.business_model == "host" else None

    def halls_for(self, option: ClusterOption) -> list:
        """The halls the option's racks stand in, in fill order, as it uses them (after
        the cooling conversion where it converts)."""
        by_name = {b.name: b for b in self.halls}
        return [converted_hall(by_name[h.name]) if h.use == "converted" else by_name[h.name] for h in option.halls]

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
        (with a constant capacity every kept miner fits and runs whenever it pays) or when
        reserves, peak or demand charges value the load step by step."""
        caps = self.profile.capacity_mw
        stepwise = bool(caps.min() < caps.max()) or (self.markets is not None and self.markets.per_step)
        return self.miners_before_ai and bool(self.miners) and stepwise

    @property
    def dispatch(self) -> bool:
        """Per-step miner dispatch beside the AI (hybrid with existing miners)."""
        return self.miners_with_ai and bool(self.miners)

    def annuity(self, period: str) -> float:
        """Annuity factor of the months before or after the AI start."""
        start, h = min(self.ai_start_month, self.horizon_months), self.horizon_months
        return self.annuity_between(*((0, start) if period == "before" else (start, h)))

    def annuity_between(self, start: int, end: int) -> float:
        """:func:`annuity_factor` at the scenario's rate, worked out once per (rate, start, end)."""
        key = (self.discount_rate, start, end)
        found = self.annuities.get(key)
        if found is None:
            found = self.annuities[key] = annuity_factor(*key)
        return found

    @property
    def gpu_end_month(self) -> int:
        """The month the owner's servers stop earning and are sold: the AI start plus their
        life, within the horizon (the horizon without a life)."""
        start, h = min(self.ai_start_month, self.horizon_months), self.horizon_months
        return h if self.gpu_life_months is None else min(h, start + self.gpu_life_months)

    def gpu_resale_usd(self, option: ClusterOption) -> float:
        """The servers' resale at the end of their life, USD (0 when the life outlasts the horizon)."""
        if self.gpu_life_months is None or self.ai_start_month + self.gpu_life_months > self.horizon_months:
            return 0.0
        return self.gpu_resale_share * option.capex_usd.get("servers", 0.0)

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
        return share / (1 + self.hashrate_growth) ** (month / MONTHS_PER_YEAR)

    def mining_annuity(self, period: str) -> float:
        """Annuity factor of mining revenue: sum of (1 + r_m)^-(m+1) f(m) over the period."""
        start, h = min(self.ai_start_month, self.horizon_months), self.horizon_months
        lo, hi = (0, start) if period == "before" else (start, h)
        return self.mining_annuity_between(lo, hi)

    def mining_annuity_between(self, lo: int, hi: int) -> float:
        """sum_{m=lo}^{hi-1} (1 + r_m)^-(m+1) f(m)."""
        rm = monthly_rate(self.discount_rate)
        return sum((1 + rm) ** -(m + 1) * self.revenue_factor(m) for m in range(lo, hi))

    def dispatch_before_end(self) -> int:
        """The last month (exclusive) the dispatch before the AI values: the AI start, or with
        phases the first phase month (from then the kept miners run in every step that pays,
        :func:`planner.model.phases.add_phase_grid`)."""
        start = min(self.ai_start_month, self.horizon_months)
        months = self.phase_months() if self.phases else []
        return min(months[0], start) if months else start

    def miner_before_value(self, block: MinerBlock) -> float:
        """Present value of one miner kept until the AI start (not counting salvage): it
        runs in every step that pays (the grid holds all kept miners then), less opex.
        Revenue is discounted with the hashprice path, energy with the plain annuity."""
        prices, hours = self.profile.price_usd_per_mwh, self.profile.hours
        runs = block.margin_usd_per_hour(prices) > 0
        revenue = block.revenue_usd_per_hour * float((runs * hours).sum()) / MONTHS_PER_YEAR
        energy = float((block.facility_mw * runs * hours * prices).sum()) / MONTHS_PER_YEAR
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
        a year / 12. One representative year of dispatch is valued over the whole period (with
        phases, the period before the AI up to the first phase month: :meth:`dispatch_before_end`)."""
        energy = block.facility_mw * self.profile.price_usd_per_mwh
        if period == "before" and self.phases:  # the dispatch before the first phase month
            end = self.dispatch_before_end()
            return (block.revenue_usd_per_hour * self.mining_annuity_between(0, end)
                    - energy * self.annuity_between(0, end)) * self.profile.hours / MONTHS_PER_YEAR
        return (block.revenue_usd_per_hour * self.mining_annuity(period) - energy * self.annuity(period)) \
            * self.profile.hours / MONTHS_PER_YEAR

    def average_it_mw(self, option: ClusterOption) -> float:
        """Average IT draw of the AI load, MW: servers at the power fraction, network at max."""
        return (option.server_power_w * self.power_fraction + option.network_power_w) / W_PER_MW

    def ai_on(self, option: ClusterOption) -> np.ndarray:
        """Steps in which the AI runs: all of them when it is firm; when interruptible, those
        where an hour of it earns more than its energy costs (the threshold rule):

            run_t  iff  G x lease x utilisation > P_avg x (PUE + d_t) x price_t
        """
        p = self.profile
        if not self.ai_interruptible or not option.servers:
            mask = self.all_steps.get(p.steps)
            if mask is None:
                mask = self.all_steps[p.steps] = np.ones(p.steps, dtype=bool)
                mask.flags.writeable = False
            return mask
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
        revenue = (option.gpus * self.lease_usd_per_gpu_hour * self.utilization * self.ai_hours_year(option)
                   / MONTHS_PER_YEAR)
        energy = self.ai_energy_cost_year(option) / MONTHS_PER_YEAR
        opex = option.it_power_w / W_PER_MW * self.ai_opex_usd_per_mw_year / MONTHS_PER_YEAR
        return revenue - energy - opex

    def owner_value_usd(self, option: ClusterOption) -> float:
        """Present value of an option the site's owner operates: discounted margins from the
        AI start, less capex (a host's is :func:`planner.model.hosting.option_value_usd`)."""
        if self.gpu_life_months is None:
            return self.ai_margin_usd_per_month(option) * self.annuity("after") - option.capex_total_usd
        # the servers earn for their life, then are sold (resale R at month E = start + life):
        #   margin x A[start, E) + R (1 + r_m)^-E - capex
        start, end = min(self.ai_start_month, self.horizon_months), self.gpu_end_month
        return (self.ai_margin_usd_per_month(option) * self.annuity_between(start, end)
                + self.gpu_resale_usd(option) * (1 + monthly_rate(self.discount_rate)) ** -end
                - option.capex_total_usd)


    def owner_values_usd(self, options: Sequence[ClusterOption]) -> np.ndarray:
        """:meth:`owner_value_usd` of every option at once. With a firm AI every option runs
        in every step, so the per-step sums are shared and the energy cost of an option is

            P_avg x (PUE x sum_t h_t price_t + sum_t d_t h_t price_t)

        (the same sum as :meth:`ai_energy_cost_year`, regrouped: equal to rounding). An
        interruptible AI runs in steps that depend on the option: one option at a time."""
        if self.ai_interruptible or not options:
            return np.array([self.owner_value_usd(o) for o in options], dtype=float)
        p = self.profile
        weighted = p.hours * p.price_usd_per_mwh
        s_price, s_delta = float(weighted.sum()), float((p.delta() * weighted).sum())
        hours = float(p.hours.sum())
        cols = self.option_columns() if options is self.options else OptionColumns.of(list(options))
        gpus, server_w, network_w, it_w, pue, capex = (cols.gpus, cols.server_w, cols.network_w, cols.it_w,
                                                        cols.pue, cols.capex)
        revenue = gpus * self.lease_usd_per_gpu_hour * self.utilization * hours / MONTHS_PER_YEAR
        energy = (server_w * self.power_fraction + network_w) / W_PER_MW * (pue * s_price + s_delta) / MONTHS_PER_YEAR
        opex = it_w / W_PER_MW * self.ai_opex_usd_per_mw_year / MONTHS_PER_YEAR
        margin = revenue - energy - opex
        if self.gpu_life_months is None:
            return margin * self.annuity("after") - capex
        start, end = min(self.ai_start_month, self.horizon_months), self.gpu_end_month
        resale = np.array([self.gpu_resale_usd(o) for o in options], dtype=float)
        return margin * self.annuity_between(start, end) + resale * (1 + monthly_rate(self.discount_rate)) ** -end \
            - capex


def converted_hall(b: Building) -> Building:
    """The hall after its cooling conversion (unchanged when it has none)."""
    if b.conversion is None:
        return b
    c = b.conversion
    return b.model_copy(update={"cooling": c.cooling, "max_kw_per_rack": c.max_kw_per_rack,
                                "pue": c.pue or b.pue})

"""The site file: one pydantic declaration, loaded with file/key/line errors.

Units live in key names. Relative paths resolve against the site file's folder.
``docs/site-reference.md`` is generated from these models.

Why one module of over 500 lines: it is a declaration, one pydantic class per section of
the file with its checks beside it, read top to bottom like the reference it generates
(and the help of each key, :func:`field_help`). Reading a file and the checks that need
the whole site or the catalog are :mod:`planner.site.load`.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.constants import BLOCK_SUBSIDY_BTC, HOURS_PER_DAY, MONTHS_PER_YEAR

SCHEMA_VERSION = 1
MAX_OVERRIDES = 10_000  # keys of [costs] or [power_w]
PRICE_MIN, PRICE_MAX = -10_000.0, 100_000.0  # USD/MWh: any power price, written in the site or in a series


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _no_control(text: str) -> str:
    """Names are printed on the terminal and drawn in the plots: a control character (an
    ESC sequence, a bell, a line break) would act on the terminal or fail to draw."""
    bad = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise ValueError(f"a name may not hold a control character ({bad!r})")
    return text


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_control)]
# a power price written in the site, USD/MWh: the range a series file's prices are checked against
Price = Annotated[float, Field(ge=PRICE_MIN, le=PRICE_MAX)]


class SiteInfo(Section):
    """Where the site is."""

    location: str = ""
    climate: str = ""
    currency_note: str = Field("", description="how local prices were converted to USD")


class GridExpansion(Section):
    """A transformer or substation addition the plan may buy."""

    add_mw: float = Field(gt=0, le=100_000, description="capacity added, MW")
    usd: float = Field(ge=0, le=1e12, description="capex, USD")
    ready_months: int = Field(0, ge=0, le=600, description="months until it is energised (by the AI start, or "
                              "later in a retrofit with an interim supply ([power.interim]) that carries the load "
                              "above the existing grid until then)")


class Grid(Section):
    """The interconnect."""

    capacity_mw: float = Field(gt=0, le=100_000, description="maximum grid import, MW")
    transformers: int | None = Field(None, ge=1, description="transformers at the substation")
    transformer_mva: float | None = Field(None, gt=0, le=100_000, description="rating of each transformer, MVA")
    n_minus_1: bool = Field(False, description="the load must survive the loss of one transformer")
    power_factor: float = Field(1.0, gt=0, le=1, description="MW per MVA of transformer rating")
    expansion: GridExpansion | None = Field(None, description="an addition the optimizer may choose")

    @model_validator(mode="after")
    def _transformers(self) -> Grid:
        if (self.transformers is None) != (self.transformer_mva is None):
            raise ValueError("give both transformers and transformer_mva, or neither")
        if self.n_minus_1 and not self.transformers:
            raise ValueError("n_minus_1 needs transformers and transformer_mva")
        if self.n_minus_1 and self.transformers == 1:
            raise ValueError("n_minus_1 with a single transformer leaves no capacity")
        return self

    def usable_mw(self, capacity_mw: float | None = None) -> float:
        """The connection, limited by the transformers (all of them, or all but one under N-1)."""
        cap = capacity_mw if capacity_mw is not None else self.capacity_mw
        if self.transformers and self.transformer_mva:
            n = self.transformers - (1 if self.n_minus_1 else 0)
            cap = min(cap, n * self.transformer_mva * self.power_factor)
        return cap


class FlatPrice(Section):
    """One price at every hour."""

    kind: Literal["flat"] = "flat"
    usd_per_mwh: Price = Field(description="energy price, USD/MWh (negative allowed)")


class TouPeriod(Section):
    """Hours [start_hour, end_hour) of every day at one price."""

    start_hour: int = Field(ge=0, le=HOURS_PER_DAY - 1)
    end_hour: int = Field(ge=1, le=HOURS_PER_DAY)
    usd_per_mwh: Price

    @model_validator(mode="after")
    def _order(self) -> TouPeriod:
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


class TouPrice(Section):
    """Time of use: a default price and daily periods that override it."""

    kind: Literal["tou"]
    default_usd_per_mwh: Price
    periods: list[TouPeriod] = Field(min_length=1)


class Season(Section):
    """Months at one price (and, where the grid is scarcer, a lower capacity)."""

    name: Annotated[str, Field(max_length=200), AfterValidator(_no_control)] = ""
    months: list[int] = Field(min_length=1, description="1 = January")
    usd_per_mwh: Price
    capacity_mw: float | None = Field(None, gt=0, le=100_000, description="grid capacity in these months, MW")

    @model_validator(mode="after")
    def _months(self) -> Season:
        if any(m < 1 or m > MONTHS_PER_YEAR for m in self.months):
            raise ValueError("months run from 1 to 12")
        return self


class SeasonalPrice(Section):
    """Seasons by month (e.g. hydro's wet and dry months); every month in exactly one season."""

    kind: Literal["seasonal"]
    seasons: list[Season] = Field(min_length=1)

    @model_validator(mode="after")
    def _cover(self) -> SeasonalPrice:
        months = [m for s in self.seasons for m in s.months]
        missing = sorted(set(range(1, 13)) - set(months))
        twice = sorted({m for m in months if months.count(m) > 1})
        if missing or twice:
            raise ValueError("every month must be in exactly one season"
                             + (f"; missing {missing}" if missing else "") + (f"; repeated {twice}" if twice else ""))
        return self


class SeriesPrice(Section):
    """A price series file (CSV): one row per step (5-minute to hourly, up to 530,000 steps), prices from
    -10,000 to 100,000 USD/MWh (negatives allowed)."""

    kind: Literal["series"]
    file: str = Field(description="CSV path, relative to the site file")
    timestamp_column: str = "timestamp"
    price_column: str = "price"
    unit: Literal["usd_per_mwh", "usd_per_kwh"] = "usd_per_mwh"
    step_minutes: Literal[5, 15, 30, 60] = 60
    synthetic: bool = Field(False, description="the series is generated, not market data")
    year: Literal["scale", "repeat"] = Field(
        "scale", description="how a series that is not one year long stands for a year: 'scale' weighs every "
        "step by 8,760 h / the hours covered; 'repeat' lays the series end to end from its start until 8,760 h "
        "are filled (a longer series is cut at one year)")


PRICE_KINDS = ("flat", "tou", "seasonal", "series")
PowerPrice = Annotated[FlatPrice | TouPrice | SeasonalPrice | SeriesPrice, Field(discriminator="kind")]


class PueTemperature(Section):
    """PUE that rises with the ambient temperature of a weather column in the price series:
    PUE_t = PUE + per_degree x max(0, T_t - above_c)."""

    column: str = Field(description="temperature column (degrees C) in the power_price series file")
    above_c: float = Field(ge=-60, le=60, description="temperature above which cooling costs more, degrees C")
    per_degree: float = Field(ge=0, le=1, description="PUE added per degree above above_c")


class Cooling(Section):
    """Power usage effectiveness by load kind: facility power = IT power x PUE."""

    mining_pue: float = Field(1.05, ge=1.0, le=3.0, description="PUE of air-cooled mining load")
    ai_pue: float = Field(1.3, ge=1.0, le=3.0, description="PUE of the AI load")
    temperature: PueTemperature | None = Field(None, description="PUE from the ambient temperature")


class FleetMiners(Section):
    """A block of identical existing miners."""

    model: str = Field(description="miner key in the catalog")
    count: int = Field(ge=0, le=10_000_000, description="miners installed")
    salvage_usd: float = Field(0.0, ge=0, le=1e6, description="resale value per miner if removed, USD")
    buildings: dict[str, int] = Field(
        default_factory=dict, description="where they stand: miners per hall (adds up to count); a miner "
        "kept beside the AI in a hall the AI takes is moved to a free miner position")

    @model_validator(mode="after")
    def _placed(self) -> FleetMiners:
        if self.buildings and sum(self.buildings.values()) != self.count:
            raise ValueError(f"buildings place {sum(self.buildings.values())} miners but count is {self.count}")
        if any(n < 0 for n in self.buildings.values()):
            raise ValueError("miners per hall must be 0 or more")
        return self


class BuyMiners(Section):
    """New miners the plan may buy (priced from the catalog or [costs])."""

    model: str = Field(description="miner key in the catalog")
    max_count: int = Field(ge=0, le=10_000_000, description="most that may be bought")
    salvage_usd: float = Field(0.0, ge=0, le=1e6, description="resale value per miner when retired, USD")


class Fleet(Section):
    """Miners already on site, and miners the plan may buy."""

    miners: list[FleetMiners] = Field(default_factory=list)
    buy: list[BuyMiners] = Field(default_factory=list)
    move_usd_per_miner: float = Field(0.0, ge=0, le=1e6, description="cost to move one miner to another hall "
                                      "(uninstall, carry, reinstall), USD")


class Workload(Section):
    """A training or inference target that sets the minimum GPUs to build.

    train: FLOPs per run = 6·params·tokens, runs_per_month runs; infer: 2·params FLOPs per
    token, tokens_per_day tokens. Servers = FLOPs a day / (server peak x utilization x 86,400).
    """

    kind: Literal["train", "infer"]
    params: float = Field(gt=0, le=1e16, description="model parameters")
    tokens: float | None = Field(None, gt=0, le=1e18, description="training tokens per run (train)")
    runs_per_month: float = Field(1.0, gt=0, le=10_000, description="training runs a month (train)")
    days_per_month: float = Field(30.0, gt=0, le=31, description="days in a month for runs_per_month")
    tokens_per_day: float | None = Field(None, gt=0, le=1e18, description="tokens served a day (infer)")
    utilization: float = Field(0.4, gt=0, le=1, description="model FLOPs utilisation")
    precision: Literal["tf32", "bf16", "fp16", "fp8", "fp4"] = "bf16"
    sparse: bool = Field(False, description="use the structured-sparsity peak")

    @model_validator(mode="after")
    def _needs(self) -> Workload:
        if self.kind == "train" and self.tokens is None:
            raise ValueError("a training workload needs tokens")
        if self.kind == "infer" and self.tokens_per_day is None:
            raise ValueError("an inference workload needs tokens_per_day")
        return self


OpticsFamily = Literal["auto", "dsp", "lpo", "cpo"]


class AI(Section):
    """The AI block: server, fabric and revenue."""

    server: str = Field(description="GPU server key in the catalog")
    server_choices: list[str] = Field(
        default_factory=list, description="other server keys the optimizer may choose instead")
    optics: list[OpticsFamily] = Field(
        default_factory=lambda: list[OpticsFamily](["auto"]), min_length=1,
        description="optics families the optimizer may choose from (auto = cheapest that reaches)")
    leaf_switch: str = Field(description="leaf switch key in the catalog")
    spine_switch: str | None = Field(None, description="spine switch key (default: the leaf)")
    core_switch: str | None = Field(None, description="core switch key (default: the spine)")
    oversubscription: float = Field(1.0, ge=1.0, le=8.0, description="leaf down:up ratio")
    planes: int = Field(1, ge=1, le=16, description="parallel fabric planes (each NIC port splits across them, "
                        "or with dual_tor the NIC's ports are the planes)")
    dual_tor: bool = Field(False, description="each NIC's ports go to different ToRs of its rail (Alibaba HPN)")
    uplink_gbps: float | None = Field(None, gt=0, le=10_000, description="leaf-spine and spine-core link "
                                      "speed, Gb/s (default: the server links' speed)")
    servers_per_su: int | None = Field(None, ge=1, le=100_000, description="servers under one group of leaves "
                                       "(a fixed segment size; default: the leaf's down ports)")
    spare_down_ports: int = Field(0, ge=0, le=10_000, description="down ports per leaf kept free (backup)")
    spine_oversubscription: float | None = Field(None, ge=1.0, le=64.0, description="spine down:up ratio "
                                                 "(keeps spine ports for a tier above)")
    step: Literal["su", "server"] = Field("su", description="build in whole scalable units or servers")
    min_gpus: int = Field(0, ge=0, le=10_000_000, description="GPUs the plan must build at least")
    workload: Workload | None = Field(None, description="a workload whose GPUs the plan must build")
    max_gpus: int | None = Field(None, ge=0, le=10_000_000, description="GPUs the plan may build at most")
    it_load_mw: float | None = Field(
        None, gt=0, le=100_000, description="the AI's critical IT load, MW (servers, fabric and management "
        "switches, optics), as a hosting contract states it: the plan builds the largest cluster of the chosen "
        "server, in whole servers, within it")
    lease_usd_per_gpu_hour: float = Field(ge=0, le=1000, description="lease price per GPU-hour, USD")
    utilization: float = Field(0.8, gt=0, le=1.0, description="share of hours leased")
    interruptible: bool = Field(
        False, description="the AI load may be shed in steps whose price exceeds what an hour of it earns")
    power_fraction: float = Field(
        1.0, gt=0, le=1.0,
        description="average draw as a share of the servers' max power (energy only; "
        "grid sizing always uses max power)",
    )
    gpu_life_years: float | None = Field(
        None, gt=0, le=40, description="owner model: years the servers earn the lease from the AI start, "
        "then they are sold and the halls stand idle (default: the whole horizon)")
    gpu_resale_share: float = Field(0.0, ge=0, le=1, description="owner model: the servers' resale value at "
                                    "the end of gpu_life_years, a share of their price")


    @model_validator(mode="after")
    def _one_size(self) -> AI:
        if self.it_load_mw is not None and (self.workload is not None or self.min_gpus or self.max_gpus is not None):
            raise ValueError("ai.it_load_mw sets the cluster size: leave out min_gpus, max_gpus and workload")
        if self.gpu_resale_share and self.gpu_life_years is None:
            raise ValueError("ai.gpu_resale_share needs ai.gpu_life_years (when the servers are sold)")
        return self


class Economics(Section):
    """Money and bitcoin."""

    discount_rate: float = Field(ge=0, le=1, description="yearly discount rate")
    horizon_years: int = Field(ge=1, le=40, description="years of cash flow")
    btc_price_usd: float = Field(gt=0, le=1e8, description="bitcoin price, USD")
    # the protocol's least difficulty is 1 (about 7 MH/s); far below it the hashprice overflows the model
    network_hashrate_ehs: float | None = Field(None, ge=1e-11, le=1e6, description="network hashrate, EH/s")
    difficulty: float | None = Field(None, ge=1, le=1e18, description="network difficulty")
    block_subsidy_btc: float = Field(BLOCK_SUBSIDY_BTC, ge=0, le=50, description="block subsidy, BTC")
    fees_btc_per_block: float = Field(0.0, ge=0, le=100, description="transaction fees per block, BTC")
    pool_fee: float = Field(0.0, ge=0, lt=1, description="share of revenue kept by the pool")
    ai_opex_usd_per_mw_year: float = Field(
        0.0, ge=0, le=1e9, description="AI staff and maintenance per MW of IT load per year, USD"
    )
    mining_opex_usd_per_mw_year: float = Field(
        0.0, ge=0, le=1e9, description="mining staff and maintenance per MW of IT load per year, USD"
    )
    capex_budget_usd: float | None = Field(None, gt=0, le=1e13, description="capex limit, USD")
    materiality_share: float = Field(
        0.01, ge=0, le=0.5, description="NPV differences below this share of the larger NPV are reported as "
        "a tie between the plans, with what differs between them (0.01 = 1 %)")
    price_multiplier: float = Field(1.0, ge=0, le=100, description="scales every power price (for sweeps)")
    price_shift_usd_per_mwh: float = Field(
        0.0, ge=-10_000, le=10_000, description="added to every power price after scaling, USD/MWh")
    network_hashrate_growth_per_year: float = Field(
        0.0, ge=-0.9, le=10, description="yearly growth of the network hashrate (difficulty), e.g. 0.3")
    months_to_next_halving: int | None = Field(
        None, ge=0, description="months until the block subsidy next halves (then every 48 months)")

    @model_validator(mode="after")
    def _one_network_figure(self) -> Economics:
        if (self.network_hashrate_ehs is None) == (self.difficulty is None):
            raise ValueError("give exactly one of network_hashrate_ehs or difficulty")
        return self


MAX_COORD_M = 100_000.0  # campus coordinates, m: 100 km covers any site
Point = tuple[Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)],
              Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)]]


def _polygon_problem(points: list[Point]) -> str | None:
    """Why a ring of points is not a usable polygon, or None."""
    from shapely.geometry import Polygon

    if len(points) < 3:
        return "a polygon needs at least 3 points"
    if len(points) > 10_000:
        return "a polygon of more than 10,000 points"
    poly = Polygon(points)
    if not poly.is_valid:
        from shapely.validation import explain_validity

        return f"polygon is not valid ({explain_validity(poly)}); is it self-intersecting?"
    if poly.area <= 0:
        return "polygon has no area"
    return None


class MeetMeRoom(Section):
    """Where spines, cores and patch panels sit (inside the building's polygon)."""

    name: Name = "MMR"
    polygon: list[Point] = Field(description="corners in metres")

    @field_validator("polygon")
    @classmethod
    def _valid(cls, value: list[Point]) -> list[Point]:
        problem = _polygon_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Conversion(Section):
    """What converting a hall's cooling gives and costs (a choice for the optimizer)."""

    cooling: Literal["rear-door", "direct-liquid", "immersion"] = "direct-liquid"
    max_kw_per_rack: float = Field(gt=0, le=2000, description="kW per rack after the conversion")
    usd_per_mw: float = Field(ge=0, le=1e9, description="conversion capex per MW of AI IT load placed, USD")
    pue: float | None = Field(None, ge=1.0, le=3.0, description="PUE of the converted hall")


class Building(Section):
    """A hall: its outline, obstacles, cooling and rack geometry."""

    name: Name
    polygon: list[Point] = Field(default_factory=list, description="corners in metres, in order")
    area_m2: float | None = Field(None, gt=0, le=1e7, description="floor area when no polygon is known: "
                                  "the hall is taken as a square of this area")
    keep_out: list[list[Point]] = Field(default_factory=list,
                                        description="columns, doors, cooling plant: no racks there")
    status: Literal["existing", "new"] = "existing"
    cooling: Literal["air", "rear-door", "direct-liquid", "immersion", "hydro"] = "air"
    max_kw_per_rack: float = Field(gt=0, le=2000, description="cooling limit per rack position, kW")
    pue: float | None = Field(None, ge=1.0, le=3.0, description="PUE of the AI load in this hall")
    conversion: Conversion | None = Field(None, description="an optional cooling conversion")
    facility_usd_per_mw: float | None = Field(
        None, ge=0, le=1e9, description="shell, cooling and electrical capex per MW of AI IT load placed in this "
        "hall, USD (default: the scenario's); e.g. a new hall beside converted ones")
    miner_positions: int | None = Field(
        None, ge=0, le=10_000_000, description="miners the hall holds when it is used for mining; a hall that takes AI "
        "racks holds none. Give it for every hall to let plans keep miners only where they fit")
    rack_width_m: float = Field(0.6, ge=0.3, le=3)
    rack_depth_m: float = Field(1.2, ge=0.3, le=3)
    rack_units: int = Field(42, ge=1, le=100, description="usable rack units")
    aisle_m: float = Field(1.2, ge=0.3, le=20, description="aisle between rows of racks")
    tray_height_m: float = Field(3.0, gt=0, le=30, description="height of the cable trays above the floor")
    port_height_m: float = Field(1.2, ge=0, le=3, description="mean height of the ports in a rack")
    clearance_m: float = Field(0.5, ge=0, le=100, description="gap kept from walls and keep-outs")
    leaf_position: Literal["end", "middle"] = Field("end", description="leaf rack at the end or middle of an SU")
    switches_per_network_rack: int = Field(16, ge=1, le=100)
    meet_me_room: MeetMeRoom | None = None
    origin: Point = Field((0.0, 0.0), description="position of the building on the campus, m")

    @field_validator("polygon")
    @classmethod
    def _valid(cls, value: list[Point]) -> list[Point]:
        problem = _polygon_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="before")
    @classmethod
    def _square_from_area(cls, data: Any) -> Any:  # the raw TOML value, before validation
        """A hall given by its area alone is laid out as a square of that area."""
        if isinstance(data, dict) and not data.get("polygon") and isinstance(data.get("area_m2"), int | float) \
                and data["area_m2"] > 0:
            side = float(data["area_m2"]) ** 0.5
            data = {**data, "polygon": [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)]}
        return data

    @model_validator(mode="after")
    def _outline(self) -> Building:
        if not self.polygon:
            raise ValueError("give the hall's polygon (or, failing that, its area_m2)")
        if self.meet_me_room is not None and not _polygon_problem(self.polygon):
            from shapely.geometry import Polygon

            if not Polygon(self.polygon).buffer(1e-6).contains(Polygon(self.meet_me_room.polygon)):
                raise ValueError(f"the meet-me room of {self.name!r} is not inside the hall's polygon "
                                 "(both in the hall's own metres, before its origin)")
        return self

    @field_validator("keep_out")
    @classmethod
    def _keep_outs(cls, value: list[list[Point]]) -> list[list[Point]]:
        for i, ring in enumerate(value):
            problem = _polygon_problem(ring)
            if problem:
                raise ValueError(f"keep-out {i}: {problem}")
        return value


class Route(Section):
    """A duct bank between two buildings: a polyline in campus metres."""

    from_building: str = Field(alias="from")
    to_building: str = Field(alias="to")
    polyline: list[Point] = Field(min_length=2)
    spare_ratio: float = Field(0.5, ge=0, le=10, description="spare fibres on top of the lit ones")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Cabling(Section):
    """How cable lengths are reckoned."""

    slack_ratio: float = Field(0.1, ge=0, le=10, description="extra length as a share of the route")
    service_loop_m: float = Field(2.0, ge=0, le=100, description="service loop per cable (both ends)")


class RampStep(Section):
    """One step of a hosting contract's ramp: from this contract month on, this share of
    the contracted critical IT is leased."""

    month: int = Field(ge=0, le=600, description="contract month (0 = the AI start) from which the share holds")
    share: float = Field(ge=0, le=1, description="share of the contracted critical IT leased from that month")


class Hosting(Section):
    """A hosting contract (scenarios with model = "host"): the tenant brings the GPUs and
    pays rent per kW-month of contracted critical IT load (the cluster option's servers,
    fabric and management switches); the host pays for the site works. Also the tenant
    risk: termination and what the host does with the halls then."""

    rent_usd_per_kw_month: float = Field(gt=0, le=10_000, description="rent per kW of contracted critical IT "
                                         "per month in the first contract year, USD")
    escalator_per_year: float = Field(0.0, ge=-0.5, le=1, description="rent growth each contract year, e.g. 0.03")
    term_months: int = Field(gt=0, le=600, description="base term, months from the AI start")
    renewals: int = Field(0, ge=0, le=10, description="renewal options (count)")
    renewal_months: int = Field(60, ge=1, le=600, description="length of each renewal option, months")
    renewals_exercised: bool = Field(
        False, description="value the renewals as exercised (true) or the base term only (false, the default: "
        "the NPV counts no renewal; the summary's hosting.renewals says which); renewed months continue the "
        "escalator")
    ramp: list[RampStep] = Field(
        default_factory=list, description="contracted share by contract month (default: all of it from the AI "
        "start); shares apply to rent, power and the host's opex")
    power: Literal["passthrough", "margin", "included"] = Field(
        "passthrough", description="the AI load's energy: billed to the tenant at cost (passthrough), at cost "
        "plus power_margin (margin), or paid by the host out of the rent (included)")
    power_margin: float = Field(0.0, ge=0, le=10, description="mark-up on the energy cost with power = "
                                "\"margin\", e.g. 0.1 = 10 %")
    host_opex_usd_per_mw_year: float | None = Field(
        None, ge=0, le=1e9, description="the host's fixed opex per MW of leased critical IT per year, USD "
        "(default: economics.ai_opex_usd_per_mw_year)")
    host_pays_fabric: bool = Field(False, description="the contract gives the fabric (switches, optics) to the "
                                   "host: its capex is host scope (default: tenant scope, like the servers)")
    termination_probability_per_year: float = Field(
        0.0, ge=0, lt=1, description="yearly probability that the tenant ends the contract early (a constant "
        "hazard: the tenant still pays in contract month j with probability (1-p)^((j+1)/12))")
    termination_month: int | None = Field(
        None, ge=0, le=600, description="instead of a probability: the tenant leaves after paying this many "
        "months of rent")
    termination_fee_months: float = Field(0.0, ge=0, le=600, description="fee the tenant pays when it "
                                          "leaves early, months of the rent then due")
    fallback: Literal["idle", "release", "mine"] = Field(
        "idle", description="what the host does with the halls when the tenant leaves or the term ends: "
        "leave them idle, re-lease them, or go back to mining (each only when it pays)")
    release_after_months: int = Field(6, ge=0, le=600, description="months empty before a re-lease starts")
    release_rent_usd_per_kw_month: float | None = Field(
        None, gt=0, le=10_000, description="rent of the re-lease per kW-month (fallback = \"release\"), "
        "escalated like the first")
    reconversion_usd_per_mw: float = Field(
        0.0, ge=0, le=1e9, description="cost to refit the halls for mining per MW of the AI's facility power "
        "(fallback = \"mine\"), USD")
    reconversion_months: int = Field(0, ge=0, le=600, description="months from the tenant leaving to the "
                                     "miners running")
    fallback_miner: str | None = Field(None, description="miner key in the catalog for the fallback (default: "
                                       "the first fleet miner)")
    fallback_miners: Literal["buy", "kept"] = Field(
        "buy", description="buy the miners when the tenant leaves, or keep them from the fleet now (their "
        "salvage is forgone at month 0, whether or not they are needed)")

    @model_validator(mode="after")
    def _consistent(self) -> Hosting:
        if self.termination_month is not None and self.termination_probability_per_year:
            raise ValueError("give termination_probability_per_year or termination_month, not both")
        if self.fallback == "release" and self.release_rent_usd_per_kw_month is None:
            raise ValueError("fallback = \"release\" needs release_rent_usd_per_kw_month")
        months = [s.month for s in self.ramp]
        if months != sorted(set(months)):
            raise ValueError("ramp months must increase")
        return self

    @property
    def contract_months(self) -> int:
        """The months the contract runs: the base term, plus the renewals when exercised."""
        return self.term_months + (self.renewals * self.renewal_months if self.renewals_exercised else 0)


class Phase(Section):
    """A phase the AI cluster may be built in (a candidate: the model chooses the share of the
    cluster each phase brings online, and leaves a phase empty when an earlier or later one
    pays more). The phase is online at max(start_month + build_months, grid_ready_month) (and, in a
    greenfield scenario, not before its grid_queue_months); from then on the grid gives ``grid_mw``
    (the AI online and the miners still running share it)."""

    name: Annotated[str, Field(max_length=200), AfterValidator(_no_control)] = ""
    start_month: int = Field(0, ge=0, le=600, description="months from the decision until the phase's works start")
    build_months: int = Field(ge=0, le=600, description="months the phase takes to build (modular or container "
                              "builds take a few months, a traditional hall two to three years)")
    grid_mw: float | None = Field(None, gt=0, le=100_000, description="grid capacity from the phase's online month "
                                  "on, MW (default and at most: the scenario's grid capacity)")
    grid_ready_month: int = Field(0, ge=0, le=600, description="month from which grid_mw is energised; the phase "
                                  "is not online before it")
    max_share: float = Field(1.0, gt=0, le=1, description="largest share of the cluster's IT load this phase may "
                             "bring online (e.g. the halls a modular build can fill)")

    @property
    def online_month(self) -> int:
        """The month the phase's AI load starts."""
        return max(self.start_month + self.build_months, self.grid_ready_month)


class Scenario(Section):
    """One plan option."""

    kind: Literal["retrofit", "greenfield", "hybrid"]
    build_months: int = Field(0, ge=0, le=600, description="months from decision to first AI revenue")
    grid_queue_months: int = Field(0, ge=0, le=600, description="months until the interconnect is energised")
    facility_usd_per_mw: float = Field(
        0.0, ge=0, le=1e9, description="shell, cooling and electrical capex per MW of AI IT load, USD"
    )
    grid_capacity_mw: float | None = Field(None, gt=0, le=100_000, description="overrides grid.capacity_mw")
    buildings: list[str] | None = Field(
        None, description="halls this scenario uses (default: existing halls for retrofit and "
        "hybrid, new halls for greenfield)")
    max_gpus: int | None = Field(None, ge=0, le=10_000_000, description="overrides ai.max_gpus for this "
                                 "scenario (0: no AI, e.g. a scenario that keeps mining)")
    model: Literal["owner", "host"] = Field(
        "owner", description="owner: the site owner buys the GPUs and earns the GPU-hour lease; host: the "
        "tenant brings the GPUs and pays rent per kW-month of critical IT ([hosting])")
    description: str = ""
    phases: list[Phase] = Field(
        default_factory=list, max_length=24,
        description="candidate build phases (owner model): the model chooses the share of the cluster each brings "
        "online; miners run until the last phase is online, retiring as the grid needs their room; the AI start "
        "is the last phase's online month (build_months is then not used)")


class BlockContract(Section):
    """A fixed-price block of energy, take or pay (e.g. Riot's Rockdale contracts): the block's MW
    are paid at its price in every step it covers whether used or not; what the site does not use
    is resold at the series' real-time price, and load above the blocks is bought at that price.
    Needs a series price (the resale price). A block delivers at the site's connection: unless
    ``start_month`` says otherwise, it starts when the scenario's grid connection is energised
    (a greenfield build's grid queue), not at the decision; a start stated before a greenfield
    connection is counted as given (a financial hedge settled at the real-time price), with a
    warning."""

    name: Annotated[str, Field(max_length=200), AfterValidator(_no_control)] = ""
    mw: float = Field(gt=0, le=100_000, description="block size, MW")
    usd_per_mwh: Price = Field(description="fixed price of the block's energy, USD/MWh")
    months: list[int] = Field(default_factory=lambda: list(range(1, 13)), min_length=1,
                              description="calendar months the block covers (1 = January; default all)")
    start_hour: int = Field(0, ge=0, le=23, description="first hour of the day the block covers")
    end_hour: int = Field(24, ge=1, le=24, description="hour of the day the block ends (exclusive)")
    start_month: int | None = Field(None, ge=0, le=600, description="months from the decision until the "
                                    "contract starts (default: when the scenario's grid connection is energised: "
                                    "month 0 for a retrofit or hybrid, grid_queue_months for a greenfield build)")
    term_months: int | None = Field(None, ge=1, le=600, description="contract length, months from its start "
                                    "(default: to the horizon)")

    @model_validator(mode="after")
    def _shape(self) -> BlockContract:
        if any(m < 1 or m > 12 for m in self.months):
            raise ValueError("months run from 1 to 12")
        if len(set(self.months)) != len(self.months):
            raise ValueError("a month is listed twice")
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


class Reserves(Section):
    """Ancillary-service or demand-response capacity offered each step (ERCOT RRS, ECRS, Non-Spin as a
    Load Resource): paid per MW-hour offered whether called or not; what is offered must be running and
    able to drop (miners, and the share of the AI load declared interruptible)."""

    usd_per_mw_hour: float | None = Field(None, ge=0, le=100_000,
                                          description="flat capacity price, USD per MW offered per hour")
    column: str | None = Field(None, description="column of the power_price series file with the capacity "
                               "price, USD per MW-hour (instead of a flat price)")
    max_mw: float | None = Field(None, gt=0, le=100_000, description="most MW offered in any step")
    ai_interruptible_share: float = Field(0.0, ge=0, le=1, description="share of the AI facility load that "
                                          "may be offered (it drops when called)")

    @model_validator(mode="after")
    def _one_price(self) -> Reserves:
        if (self.usd_per_mw_hour is None) == (self.column is None):
            raise ValueError("give exactly one of usd_per_mw_hour or column")
        return self


class CoincidentPeak(Section):
    """Transmission charges set by the load in the system's coincident peaks (ERCOT 4CP, PUCT 16 TAC
    25.192): tag = mean grid import in the peak intervals, charge = tag x rate a year. The intervals
    are given, or found as each configured month's highest interval of a system-load column."""

    usd_per_kw_year: float = Field(ge=0, le=10_000, description="transmission rate per kW of tag a year, USD")
    intervals: list[str] = Field(default_factory=list, description="start of each peak interval, as the "
                                 "series file writes its timestamps (e.g. \"2024-08-20 17:00\")")
    system_load_column: str | None = Field(None, description="column of the power_price series file with the "
                                           "system load (any unit): each month's highest interval is a peak")
    months: list[int] = Field(default_factory=lambda: [6, 7, 8, 9], min_length=1,
                              description="months with a peak when found from system_load_column "
                              "(4CP: June-September; 12CP: all)")
    interval_minutes: Literal[15, 30, 60] = Field(15, description="length of a peak interval, min")

    @model_validator(mode="after")
    def _source(self) -> CoincidentPeak:
        if bool(self.intervals) == (self.system_load_column is not None):
            raise ValueError("give exactly one of intervals or system_load_column")
        if any(m < 1 or m > 12 for m in self.months):
            raise ValueError("months run from 1 to 12")
        return self


class DemandCharge(Section):
    """A monthly demand charge: rate x the month's highest grid import (every step of the month)."""

    usd_per_kw_month: float = Field(ge=0, le=10_000, description="charge per kW of the month's peak, USD")


class InterimSupply(Section):
    """Power for the months before the grid connection is ready (time to power as a price):
    on-site generation (gas reciprocating engines or turbines) or a smaller interim
    interconnect. The AI load may start on it from ``from_month`` (and its build) until the
    scenario's grid start, paying its energy and fixed costs; the optimizer decides whether
    the earlier start pays and how many MW to contract. In a retrofit whose grid expansion
    ([grid.expansion]) is ready after the AI start, it instead carries the AI's load above the
    existing grid from the AI start until the expansion (it must supply all those months; the
    grid is used first). Give the energy price, or the fuel price and the heat rate
    (energy = fuel x heat rate / 1000 + variable O&M)."""

    name: Annotated[str, Field(max_length=200, description="what it is, for the reports"),
                    AfterValidator(_no_control)] = ""
    kind: Literal["generation", "interconnect"] = Field("generation", description="on-site generation or a "
                                                        "smaller interim interconnect (reported only)")
    capacity_mw: float = Field(gt=0, le=100_000, description="most MW it can supply")
    from_month: int = Field(0, ge=0, le=600, description="months from the decision until it can supply")
    to_month: int | None = Field(None, ge=1, le=600, description="month it stops supplying (default: when the "
                                 "scenario's grid connection is ready)")
    usd_per_mwh: Price | None = Field(None, description="energy price, USD/MWh (instead of fuel and heat rate)")
    fuel_usd_per_mmbtu: float | None = Field(None, ge=0, le=1000, description="fuel price, USD/MMBtu")
    heat_rate_btu_per_kwh: float | None = Field(None, ge=3412, le=30_000, description="heat rate, Btu/kWh "
                                                "(3,412 is 100 % efficient)")
    variable_om_usd_per_mwh: float = Field(0.0, ge=0, le=10_000, description="variable O&M, USD/MWh (with "
                                           "fuel and heat rate)")
    fixed_usd_per_kw_year: float = Field(0.0, ge=0, le=10_000, description="fixed cost per kW contracted, "
                                         "USD/kW-year, paid in the months it supplies the AI")
    capex_usd_per_kw: float = Field(0.0, ge=0, le=100_000, description="capex per kW contracted, USD/kW, "
                                    "paid at the decision (none recovered)")

    @model_validator(mode="after")
    def _price(self) -> InterimSupply:
        fuel = (self.fuel_usd_per_mmbtu is not None, self.heat_rate_btu_per_kwh is not None)
        if fuel[0] != fuel[1]:
            raise ValueError("give fuel_usd_per_mmbtu and heat_rate_btu_per_kwh together")
        if (self.usd_per_mwh is None) != fuel[0]:
            raise ValueError("give exactly one of usd_per_mwh or fuel_usd_per_mmbtu with heat_rate_btu_per_kwh")
        if self.usd_per_mwh is not None and self.variable_om_usd_per_mwh:
            raise ValueError("variable_om_usd_per_mwh goes with the fuel price; include it in usd_per_mwh")
        if self.to_month is not None and self.to_month <= self.from_month:
            raise ValueError("to_month must be after from_month")
        return self

    @property
    def energy_usd_per_mwh(self) -> float:
        """USD/MWh: the price given, or fuel x heat rate / 1000 (MMBtu/MWh) + variable O&M."""
        if self.usd_per_mwh is not None:
            return self.usd_per_mwh
        assert self.fuel_usd_per_mmbtu is not None and self.heat_rate_btu_per_kwh is not None
        return self.fuel_usd_per_mmbtu * self.heat_rate_btu_per_kwh / 1000 + self.variable_om_usd_per_mwh


class Power(Section):
    """Power contracts and markets beyond the energy price: fixed-price blocks with resale,
    reserve offers, coincident-peak transmission charges and monthly demand charges."""

    contracts: list[BlockContract] = Field(default_factory=list, max_length=100,
                                           description="fixed-price blocks (take or pay, resold at real time)")
    reserves: Reserves | None = Field(None, description="reserve (ancillary service) offers")
    coincident_peak: CoincidentPeak | None = Field(None, description="coincident-peak transmission charges")
    demand_charge: DemandCharge | None = Field(None, description="monthly demand charge")
    interim: InterimSupply | None = Field(None, description="interim supply before the grid connection "
                                          "(on-site generation or a smaller interconnect)")


class Site(Section):
    """A site file."""

    schema_: int = Field(SCHEMA_VERSION, alias="schema", description="site file schema version")
    name: Name
    site: SiteInfo = Field(default_factory=SiteInfo)
    grid: Grid
    power_price: PowerPrice
    power: Power = Field(default_factory=Power, description="power contracts and markets (series prices for "
                         "blocks and peaks)")
    cooling: Cooling = Field(default_factory=Cooling)
    fleet: Fleet = Field(default_factory=Fleet)
    ai: AI
    economics: Economics
    scenarios: dict[Name, Scenario] = Field(min_length=1)
    buildings: list[Building] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    cabling: Cabling = Field(default_factory=Cabling)
    # at most MAX_OVERRIDES keys each: far more parts than any catalog holds (each unknown key is
    # looked up for a "did you mean": 200,000 of them took minutes)
    costs: dict[str, Annotated[float, Field(ge=0, le=1e12)]] = Field(
        default_factory=dict, max_length=MAX_OVERRIDES, description="unit cost overrides by part key, USD"
    )
    power_w: dict[str, Annotated[float, Field(gt=0, le=2_000_000)]] = Field(
        default_factory=dict, max_length=MAX_OVERRIDES,
        description="power overrides by part key, W per unit (copper cables: per end); "
        "they replace the catalog's figure or estimate")
    catalog: list[str] = Field(default_factory=list, description="overlay catalog folders")
    hosting: Hosting | None = Field(None, description="the hosting contract of scenarios with model = \"host\"")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> Site:
        if self.schema_ != SCHEMA_VERSION:
            raise ValueError(f"schema {self.schema_} is not supported (expected {SCHEMA_VERSION})")
        if self.ai.max_gpus is not None and self.ai.max_gpus < self.ai.min_gpus:
            raise ValueError("ai.max_gpus is below ai.min_gpus")
        names = [b.name for b in self.buildings]
        if len(names) != len(set(names)):
            raise ValueError("building names must be unique")
        for route in self.routes:
            for end in (route.from_building, route.to_building):
                if end not in names:
                    raise ValueError(f"route names unknown building {end!r}")
        for name, sc in self.scenarios.items():
            for b in sc.buildings or []:
                if b not in names:
                    raise ValueError(f"scenario {name!r} names unknown building {b!r}")
            if sc.buildings is not None and len(set(sc.buildings)) != len(sc.buildings):
                raise ValueError(f"scenario {name!r} names a building twice")
        return self


UNITS = {"_mw": "MW", "_mwh": "MWh", "_kw": "kW", "_w": "W", "_usd": "USD", "_m": "m", "_m2": "m2", "_c": "deg C",
         "_months": "months", "_years": "years", "_gbps": "Gb/s", "_ths": "TH/s", "_ehs": "EH/s", "_btc": "BTC",
         "_mva": "MVA", "_minutes": "min", "_usd_per_mwh": "USD/MWh", "_usd_per_mw": "USD/MW",
         "_usd_per_kwh": "USD/kWh", "_usd_per_gpu_hour": "USD/GPU-h", "_usd_per_mw_year": "USD/MW/yr",
         "_usd_per_kw_year": "USD/kW/yr", "_usd_per_kw_month": "USD/kW-month", "_usd_per_mw_hour": "USD/MW-h",
         "_usd_per_miner": "USD/miner", "_kw_per_rack": "kW/rack",
         "_usd_per_mmbtu": "USD/MMBtu", "_btu_per_kwh": "Btu/kWh", "_usd_per_kw": "USD/kW"}


def field_help(path: tuple) -> tuple[str, str]:
    """(description, unit) of the site key at ``path`` from the one declaration of the
    site file (list indices and table names such as a scenario's are skipped); the unit
    from the key's name, as the site file spells units. ("", "") where none is known."""
    import typing

    name = str(path[-1]) if path else ""
    unit = next((u for suffix, u in sorted(UNITS.items(), key=lambda kv: -len(kv[0]))
                 if name.endswith(suffix) or name == suffix[1:]), "")
    parts = [p for p in path if not isinstance(p, int)]
    models: list[type[BaseModel]] = [Site]
    i = 0
    while i < len(parts):
        field = next((f for m in models for n, f in m.model_fields.items() if parts[i] in (n, f.alias)), None)
        if field is None:
            return "", unit
        if i == len(parts) - 1:
            return field.description or "", unit
        found: list[type[BaseModel]] = []
        keyed = [False]

        def collect(a: object, found: list[type[BaseModel]] = found, keyed: list[bool] = keyed) -> None:
            if isinstance(a, type) and issubclass(a, BaseModel):
                found.append(a)
            elif typing.get_origin(a) is dict:
                keyed[0] = True
            for arg in typing.get_args(a):
                collect(arg)

        collect(field.annotation)
        if not found:
            return "", unit
        models = found
        i += 2 if keyed[0] else 1  # a dict of tables: the next part is a table's name
    return "", unit

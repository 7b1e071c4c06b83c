"""What a catalog entry may hold: one pydantic model per part kind, with its limits, its
power fields and the table name it is written under; the one declaration of the catalog files
(docs/catalogs.md describes it). Loading files against it is :mod:`planner.parts.catalog`.

Why one module of over 400 lines: a declaration, one model per kind with its checks, read
top to bottom like docs/catalogs.md; the limits table and the kinds' registry (KINDS,
POWER_FIELDS, ROLES) must name every model, so they stand beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

# Optic classes: copper assemblies (direct attach, active copper, active electrical), then the
# optical ones. The copper classes are also a copper optic's medium; the one list of them.
CopperClass = Literal["dac", "acc", "aec"]
COPPER_CLASSES: tuple[str, ...] = get_args(CopperClass)
OpticClass = Literal[CopperClass, "sr", "dr", "fr", "lr", "zr", "lpo"]
OPTIC_CLASSES: tuple[str, ...] = get_args(OpticClass)


# Upper limits of catalog figures, each with its reason: a figure past them is a typo or a
# hostile file, and would send sizing loops, the layout or the solver past any sensible
# work (a switch of 2^63-1 ports, a server of 1e-300 W). One table for every kind of part.
_ABOVE_ANY = "more than any part made"
LIMITS: dict[str, tuple[float, str]] = {
    "power_w": (100_000, "more than any single part draws (a rack-scale system's figure is max_power_w)"),
    "max_power_w": (2_000_000, "more than any rack-scale system draws (about 0.1 to 1.5 MW)"),
    "typical_power_w": (2_000_000, "more than any rack-scale system draws (about 0.1 to 1.5 MW)"),
    "ports": (10_000, "more ports than any switch or panel has (the largest chassis have a few thousand)"),
    "uplink_ports": (10_000, "more ports than any switch has"),
    "cages": (10_000, "more cages than any switch has"),
    "cage_power_w": (200, "more module power than any pluggable cage is rated for (OSFP's classes stop near 40 W)"),
    "gpus": (10_000, "more GPUs than any server or rack-scale system holds"),
    "scale_up_domain_gpus": (100_000, _ABOVE_ANY),
    "compute_trays": (1_000, _ABOVE_ANY),
    "compute_cages": (1_000, _ABOVE_ANY),
    "compute_nics": (256, "more NICs than any server holds"),
    "storage_nics": (256, "more NICs than any server holds"),
    "compute_ports_per_nic": (16, "more ports than any NIC has"),
    "storage_ports_per_nic": (16, "more ports than any NIC has"),
    "mgmt_ports": (64, "more management ports than any server has"),
    "network_ports": (64, "more network ports than any miner has"),
    "lanes": (64, _ABOVE_ANY), "lanes_per_port": (64, _ABOVE_ANY), "split": (64, _ABOVE_ANY),
    "rows": (64, _ABOVE_ANY),
    "fibers": (10_000, "more fibres than any cable or connector carries (trunks stop at 3,456)"),
    "fibers_lit": (10_000, "more fibres than any module lights"),
    "connectors": (10_000, _ABOVE_ANY), "fiber_connectors": (10_000, _ABOVE_ANY),
    "connectors_per_end": (10_000, _ABOVE_ANY),
    "port_gbps": (100_000, "100 Tb/s on one port, beyond any"), "gbps": (100_000, "100 Tb/s, beyond any module"),
    "lane_gbps": (100_000, _ABOVE_ANY), "uplink_gbps": (100_000, _ABOVE_ANY),
    "compute_nic_gbps": (100_000, _ABOVE_ANY), "storage_nic_gbps": (100_000, _ABOVE_ANY),
    "mgmt_port_gbps": (100_000, _ABOVE_ANY), "capacity_tbps": (10_000, _ABOVE_ANY),
    "network_port_mbps": (1_000_000, _ABOVE_ANY),
    "hashrate_ths": (100_000, "100 PH/s in one miner, a hundred times the largest"),
    "list_price_usd": (1e9, "a billion USD for one part"),
    "reach_m": (10_000_000, "10,000 km"), "max_length_m": (1_000_000, "1,000 km in one cable"),
    "height_u": (100, "taller than any rack"),
    "channels": (1_000, "more wavelengths than any C+L line system carries on a fibre pair"),
    "spacing_ghz": (10_000, "10 THz, wider than the C and L bands together"),
    "channel_ghz": (10_000, "10 THz, wider than the C and L bands together"),
    "span_km": (1_000, "a 1,000 km span, beyond any amplifier's"),
}
# Lower limits where a part must draw some power (a server of 1e-300 W would fill a rack with
# 1e304 servers); optics and cables may be passive (0 W).
MINIMA: dict[tuple[str, str], tuple[float, str]] = {
    ("server", "max_power_w"): (1.0, "a server draws at least a watt"),
    ("switch", "max_power_w"): (1.0, "a switch draws at least a watt"),
    ("switch", "typical_power_w"): (1.0, "a switch draws at least a watt"),
    ("miner", "power_w"): (1.0, "a miner draws at least a watt"),
    ("accelerator", "power_w"): (1.0, "a GPU draws at least a watt"),
}


def check_limits(model: BaseModel, table: str) -> None:
    """Refuse a figure past its limit in :data:`LIMITS` or under its :data:`MINIMA`."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, int | float) or isinstance(v, bool):
                continue
            shown = f"{v:,}" if isinstance(v, int) else f"{v:g}"
            if name in LIMITS and v > LIMITS[name][0]:
                limit, why = LIMITS[name]
                raise ValueError(f"{name} = {shown} is above {limit:,.0f}: {why}")
            if (table, name) in MINIMA and v < MINIMA[(table, name)][0]:
                low, why = MINIMA[(table, name)]
                raise ValueError(f"{name} = {shown} is below {low:g}: {why}")


class Part(BaseModel):
    """Fields every catalog entry has."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "part"

    key: str = Field(pattern=KEY_PATTERN, description="stable lowercase identifier")
    vendor: str
    model: str
    source: str = Field(min_length=3, description="datasheet URL or document title")
    as_of: dt.date = Field(description="date of the source document")
    notes: str | None = None
    field_sources: dict[str, str] = Field(default_factory=dict)
    list_price_usd: float | None = Field(default=None, gt=0)
    price_source: str | None = None
    price_as_of: dt.date | None = None

    @model_validator(mode="after")
    def _price_has_source(self) -> Part:
        check_limits(self, self.table)
        if self.list_price_usd is not None and not self.price_source:
            raise ValueError("list_price_usd needs price_source")
        known = set(type(self).model_fields) | set(self.model_extra or {})
        unknown = set(self.field_sources) - known
        if unknown:
            raise ValueError(f"field_sources names unknown fields: {sorted(unknown)}")
        return self

    def source_of(self, name: str) -> str:
        """The document a given figure comes from."""
        return self.field_sources.get(name, self.source)


class Accelerator(Part):
    table: ClassVar[str] = "accelerator"
    form_factor: str | None = None
    power_w: float | None = Field(default=None, gt=0)
    memory_gb: float | None = Field(default=None, gt=0)
    memory_bandwidth_tb_s: float | None = Field(default=None, gt=0)
    fp64_tflops: float | None = Field(default=None, gt=0)
    tf32_dense_tflops: float | None = Field(default=None, gt=0)
    bf16_dense_tflops: float | None = Field(default=None, gt=0)
    fp16_dense_tflops: float | None = Field(default=None, gt=0)
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    fp4_dense_tflops: float | None = Field(default=None, gt=0)
    tf32_sparse_tflops: float | None = Field(default=None, gt=0)
    bf16_sparse_tflops: float | None = Field(default=None, gt=0)
    fp16_sparse_tflops: float | None = Field(default=None, gt=0)
    fp8_sparse_tflops: float | None = Field(default=None, gt=0)
    fp4_sparse_tflops: float | None = Field(default=None, gt=0)
    scale_up_gb_s: float | None = Field(default=None, gt=0)


class Server(Part):
    table: ClassVar[str] = "server"
    kind: Literal["server", "rack"] = "server"
    accelerator: str | None = None
    gpus: int = Field(ge=1)
    scale_up_domain_gpus: int | None = Field(default=None, ge=1)
    compute_nics: int | None = Field(default=None, ge=0)
    compute_nic_gbps: float | None = Field(default=None, gt=0)
    compute_ports_per_nic: int | None = Field(default=None, ge=1)
    compute_cages: int | None = Field(default=None, ge=1)
    compute_trays: int | None = Field(default=None, ge=1, description="compute trays of a rack system")
    storage_nics: int | None = Field(default=None, ge=0)
    storage_nic_gbps: float | None = Field(default=None, gt=0)
    storage_ports_per_nic: int | None = Field(default=None, ge=1)
    mgmt_ports: int | None = Field(default=None, ge=0)
    mgmt_port_gbps: float | None = Field(default=None, gt=0)
    max_power_w: float | None = Field(default=None, gt=0)
    height_u: float | None = Field(default=None, gt=0)
    cooling: Literal["air", "liquid", "hybrid"] | None = None
    cpus: int | None = Field(default=None, ge=1)
    system_memory_gb: float | None = Field(default=None, gt=0)

    @property
    def compute_ports(self) -> int:
        """Scale-out ports per server: NICs x ports per NIC (0 when not stated)."""
        return (self.compute_nics or 0) * (self.compute_ports_per_nic or 1)


class Miner(Part):
    table: ClassVar[str] = "miner"
    hashrate_ths: float = Field(gt=0)
    power_w: float | None = Field(default=None, gt=0)
    cooling: Literal["air", "hydro", "immersion"] | None = None
    network_ports: int | None = Field(default=None, ge=0)
    network_port_mbps: float | None = Field(default=None, gt=0)
    released: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2})?$")

    @property
    def efficiency_j_per_th(self) -> float | None:
        """Energy per terahash, J/TH = W / (TH/s)."""
        return None if self.power_w is None else self.power_w / self.hashrate_ths


class Switch(Part):
    table: ClassVar[str] = "switch"
    asic: str | None = None
    protocol: Literal["infiniband", "ethernet"] | None = None
    capacity_tbps: float | None = Field(default=None, gt=0)
    ports: int = Field(ge=1)
    port_gbps: float = Field(gt=0)
    lanes_per_port: int | None = Field(default=None, ge=1)
    lane_gbps: float | None = Field(default=None, gt=0)
    cages: int | None = Field(default=None, ge=1)
    cage_type: str | None = None
    cage_power_w: float | None = Field(default=None, gt=0, description="module power each cage is rated for, W "
                                       "(its power class; the lowest where cages differ)")
    breakouts: list[str] = Field(default_factory=list)
    uplink_ports: int | None = Field(default=None, ge=0)
    uplink_gbps: float | None = Field(default=None, gt=0)
    optics: Literal["pluggable", "cpo", "copper"] = "pluggable"
    fiber_connectors: int | None = Field(default=None, ge=1)
    fiber_connector: str | None = None
    max_power_w: float | None = Field(default=None, gt=0)
    typical_power_w: float | None = Field(default=None, gt=0)
    height_u: float | None = Field(default=None, gt=0)
    cooling: Literal["air", "liquid"] | None = None

    @model_validator(mode="after")
    def _breakouts_parse(self) -> Switch:
        for text in self.breakouts:
            parse_breakout(text)
        return self

    def port_options(self) -> list[tuple[int, float]]:
        """(ports, gbps) the front panel can offer: native first, then breakouts."""
        options = [(self.ports, self.port_gbps)]
        for text in self.breakouts:
            split, gbps = parse_breakout(text)
            options.append((self.ports * split, gbps))
        return options


def parse_breakout(text: str) -> tuple[int, float]:
    """'2x400' -> (2, 400.0): each native port splits into 2 ports of 400 Gb/s."""
    try:
        split, gbps = text.lower().replace("g", "").split("x")
        return int(split), float(gbps)
    except ValueError:
        raise ValueError(f"breakout {text!r} is not of the form 'NxG', e.g. '2x400'") from None


class Optic(Part):
    table: ClassVar[str] = "optic"
    part_number: str | None = None
    form_factor: str | None = None
    gbps: float = Field(gt=0)
    ports: int = Field(default=1, ge=1)
    lanes: int | None = Field(default=None, ge=1)
    lane_gbps: float | None = Field(default=None, gt=0)
    medium: Literal[CopperClass, "mmf", "smf"]
    optic_class: OpticClass
    reach_m: float | None = Field(default=None, gt=0)
    fibers_lit: int | None = Field(default=None, ge=0)
    connector: str | None = None
    connectors: int | None = Field(default=None, ge=0)
    wavelength_nm: float | None = Field(default=None, gt=0)
    wavelengths_nm: list[float] = Field(default_factory=list, description="WDM grids")
    dsp: bool | None = None
    power_w: float | None = Field(default=None, ge=0)
    typical_power_w: float | None = Field(default=None, ge=0)
    lengths_m: list[float] = Field(default_factory=list, description="stock lengths (copper)")
    split: int = Field(1, ge=1, description="plugs at the far end of a splitter cable (1 = straight)")
    channel_ghz: float | None = Field(default=None, gt=0, description="DWDM grid slot a coherent module needs")


class Connector(Part):
    table: ClassVar[str] = "connector"
    family: Literal["mpo", "lc"]
    fibers: int = Field(ge=1)
    rows: int | None = Field(default=None, ge=1)
    polish: Literal["apc", "upc"] | None = None


class Fiber(Part):
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "fiber"
    standard: str | None = None
    mode: Literal["single", "multi"]


class Cable(Part):
    table: ClassVar[str] = "cable"
    kind: Literal["trunk", "patch", "dac", "campus", "breakout"]
    fiber_type: str | None = None
    fibers: int | None = Field(default=None, ge=1)
    connector_a: str | None = None
    connector_b: str | None = None
    part_number: str | None = None
    connectors_per_end: int | None = Field(default=None, ge=1)
    connector_il_max_db: float | None = Field(default=None, ge=0)
    polarity: str | None = None
    stock_lengths_m: list[float] = Field(default_factory=list)
    max_length_m: float | None = Field(default=None, gt=0)


class PatchPanel(Part):
    table: ClassVar[str] = "patch_panel"
    height_u: float | None = Field(default=None, gt=0)
    ports: int | None = Field(default=None, ge=1)
    connector: str | None = None
    fibers: int | None = Field(default=None, ge=1)


class LinePart(Part):
    """A part of a DWDM line system (catalogs/line-systems.toml): a channel mux/demux, or an
    optical amplifier planned for spans of ``span_km``."""

    table: ClassVar[str] = "line_system"
    role: Literal["mux", "amplifier"]
    channels: int | None = Field(default=None, ge=1, description="wavelengths one fibre pair carries")
    spacing_ghz: float | None = Field(default=None, gt=0, description="channel spacing on the grid")
    span_km: float | None = Field(default=None, gt=0, description="longest span between amplifiers")
    power_w: float | None = Field(default=None, ge=0)


class Estimate(BaseModel):
    """A labelled cost estimate for a part without a public list price."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "estimate"

    key: str = Field(pattern=KEY_PATTERN)
    unit_cost_usd: float | None = Field(default=None, ge=0)
    unit_cost_usd_per_m: float | None = Field(default=None, ge=0)
    low_usd: float | None = Field(default=None, ge=0)
    high_usd: float | None = Field(default=None, ge=0)
    basis: str = Field(min_length=3)
    source: str = Field(min_length=3)
    as_of: dt.date
    notes: str | None = None

    @model_validator(mode="after")
    def _has_cost(self) -> Estimate:
        if self.unit_cost_usd is None and self.unit_cost_usd_per_m is None:
            raise ValueError("an estimate needs unit_cost_usd or unit_cost_usd_per_m")
        return self


class PowerEstimate(BaseModel):
    """A labelled power estimate for a part no vendor document gives a power figure for.

    ``method`` says what kind of basis it rests on; ``basis`` carries the arithmetic.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "power_estimate"

    key: str = Field(pattern=KEY_PATTERN, description="the part it belongs to")
    power_w: float = Field(gt=0, le=2_000_000, description="W per unit (copper cables: per cable end)")
    low_w: float | None = Field(default=None, gt=0)
    high_w: float | None = Field(default=None, gt=0)
    method: Literal["measurement", "psu-rating", "build-up", "vendor-claim", "analogue"]
    basis: str = Field(min_length=3)
    source: str = Field(min_length=3)
    as_of: dt.date
    notes: str | None = None

    @model_validator(mode="after")
    def _range(self) -> PowerEstimate:
        if self.low_w is not None and self.high_w is not None and self.low_w > self.high_w:
            raise ValueError("low_w is above high_w")
        return self


@dataclass(frozen=True)
class PowerFigure:
    """The power a plan counts for one unit of a part, and where it comes from."""

    key: str
    watts: float
    basis: str  # "datasheet: ...", "ESTIMATE (method): ...", "site file [power_w]"
    estimated: bool
    overridden: bool = False
    method: str = ""  # an estimate's method (measurement, psu-rating, build-up, ...)

    @property
    def label(self) -> str:
        """Short text for tables: 'datasheet', 'estimate' or 'site override'."""
        return "site override" if self.overridden else "estimate" if self.estimated else "datasheet"

    def doc(self) -> dict:
        """The JSON shape of a power figure."""
        return {"watts": self.watts, "kind": self.label, "basis": self.basis}


class MissingPower(ValueError):
    """A part a plan needs has neither a sourced power figure nor a power estimate."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"{key!r} has no power figure in the catalog (neither sourced nor estimated)")


class MissingRole(LookupError):
    """No catalog file names the part for a job the planner needs (a ``[[role]]`` entry)."""

    def __init__(self, role: str):
        self.role = role
        super().__init__(f"no catalog names the part for the role {role!r} (a [[role]] entry with key = {role!r})")


# the field holding a part's sourced power, per kind (the first that is set wins)
POWER_FIELDS: dict[str, tuple[str, ...]] = {
    "switches": ("max_power_w", "typical_power_w"),
    "optics": ("power_w", "typical_power_w"),
    "miners": ("power_w",),
    "servers": ("max_power_w",),
    "accelerators": ("power_w",),
    "line_systems": ("power_w",),
}


class SiteCost(BaseModel):
    """A facility cost figure (per MW, per MVA, ...) with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "site_cost"

    key: str = Field(pattern=KEY_PATTERN)
    value: float
    unit: str
    low: float | None = None
    high: float | None = None
    basis: str = Field(min_length=3)
    source: str = Field(min_length=3)
    as_of: dt.date
    notes: str | None = None


class Role(BaseModel):
    """The part the planner uses for a fixed job (roles.toml; an overlay's entry replaces it by key)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    table: ClassVar[str] = "role"

    key: str = Field(pattern=KEY_PATTERN, description="the job, one of ROLES")
    part: str = Field(pattern=KEY_PATTERN, description="key of the part that does it")
    source: str = Field(min_length=3, description="the document that names this part for the job")
    as_of: dt.date
    notes: str | None = None


# The jobs the planner gives one part each, named by [[role]] entries: role -> (kind of part, the job).
ROLES: dict[str, tuple[str, str]] = {
    "access-switch": ("switches", "the switch of the out-of-band management and miner access networks"),
}


# a catalog table's model: every one has a key and names the table it is written under
EntryModel = (type[Accelerator] | type[Server] | type[Miner] | type[Switch] | type[Optic] | type[Connector]
              | type[Cable] | type[Fiber] | type[PatchPanel] | type[Estimate] | type[PowerEstimate] | type[SiteCost]
              | type[Role] | type[LinePart])
KINDS: dict[str, EntryModel] = {
    "accelerators": Accelerator,
    "servers": Server,
    "miners": Miner,
    "switches": Switch,
    "optics": Optic,
    "connectors": Connector,
    "cables": Cable,
    "fibers": Fiber,
    "patch_panels": PatchPanel,
    "estimates": Estimate,
    "power_estimates": PowerEstimate,
    "site_costs": SiteCost,
    "roles": Role,
    "line_systems": LinePart,
}
TABLES: dict[str, str] = {model.table: kind for kind, model in KINDS.items()}
PART_KINDS = tuple(k for k in KINDS if k not in ("estimates", "power_estimates", "site_costs", "roles"))

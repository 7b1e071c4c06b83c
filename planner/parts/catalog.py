"""Part catalogs: one pydantic model per kind, loaded from TOML with user overlays.

Every entry carries its ``source`` and ``as_of``; figures carry units in their names.
A figure no source gives is absent (``None``), and code that needs it says so.
Overlay folders are read after the bundled catalog and replace entries by key.

Why one module of over 600 lines: a declaration, one model per part kind with its limits
and power fields, then the loader that checks files against it; the kinds are read
together (a server names its accelerator, a switch its optics).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner.errors import InputError, Problem, did_you_mean, display_path, dotted
from planner.parts.kinds import SINGULAR
from planner.tomlio import read_toml
from planner.tomlpos import line_of

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


KINDS: dict[str, type[BaseModel]] = {
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
}
TABLES: dict[str, str] = {model.table: kind for kind, model in KINDS.items()}
PART_KINDS = tuple(k for k in KINDS if k not in ("estimates", "power_estimates", "site_costs", "roles"))

@dataclass(frozen=True)
class CatalogEntry:
    """Where an entry came from, for messages and for ``catalog show``."""

    kind: str
    item: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)  # field -> line ("": the entry)

    def line(self, name: str = "") -> int | None:
        """The line of field ``name`` in :attr:`file`; the entry's own line when the field is not written."""
        return self.lines.get(name, self.lines.get(""))


@dataclass
class Catalog:
    """All parts by kind and key, plus the estimates table and its origin."""

    entries: dict[str, dict[str, CatalogEntry]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    dirs: tuple[str, ...] = ()
    power_overrides: dict[str, float] = field(default_factory=dict)

    def kind(self, kind: str) -> dict[str, Any]:
        """Entries of one kind by key, sorted by key."""
        return {k: e.item for k, e in sorted(self.entries[kind].items())}

    @property
    def accelerators(self) -> dict[str, Accelerator]:
        return self.kind("accelerators")

    @property
    def servers(self) -> dict[str, Server]:
        return self.kind("servers")

    @property
    def miners(self) -> dict[str, Miner]:
        return self.kind("miners")

    @property
    def switches(self) -> dict[str, Switch]:
        return self.kind("switches")

    @property
    def optics(self) -> dict[str, Optic]:
        return self.kind("optics")

    @property
    def access_switch(self) -> str:
        """Key of the switch of the out-of-band and miner access networks (the role ``access-switch``).

        Raises :class:`MissingRole` when no catalog file names one (``prepare`` checks first
        and reports it as a problem)."""
        entry = self.entries["roles"].get("access-switch")
        if entry is None:
            raise MissingRole("access-switch")
        return str(entry.item.part)

    def find(self, key: str) -> CatalogEntry | None:
        """The part (not estimate) with this key, whatever its kind."""
        for kind in PART_KINDS:
            if key in self.entries[kind]:
                return self.entries[kind][key]
        return None

    def part_keys(self) -> list[str]:
        return sorted(k for kind in PART_KINDS for k in self.entries[kind])

    def estimate(self, key: str) -> Estimate | None:
        entry = self.entries["estimates"].get(key)
        return entry.item if entry else None

    def unit_cost(self, key: str) -> tuple[float, str] | None:
        """(USD, basis) for one unit: the public list price, else the estimate, else None."""
        entry = self.find(key)
        if entry is not None and getattr(entry.item, "list_price_usd", None) is not None:
            item = entry.item
            return item.list_price_usd, f"list price: {item.price_source}"
        estimate = self.estimate(key)
        if estimate is not None and estimate.unit_cost_usd is not None:
            return estimate.unit_cost_usd, f"ESTIMATE: {estimate.basis} [{estimate.source}]"
        return None

    def power(self, key: str) -> PowerFigure | None:
        """Watts per unit of a part: a site's override, else the part's sourced figure,
        else its labelled power estimate, else None (the caller must refuse, never count 0)."""
        if key in self.power_overrides:
            return PowerFigure(key, self.power_overrides[key], "site file [power_w]", False, True)
        entry = self.find(key)
        if entry is not None:
            for name in POWER_FIELDS.get(entry.kind, ()):
                watts = getattr(entry.item, name, None)
                if watts is not None:
                    return PowerFigure(key, watts, f"{name}: {entry.item.source_of(name)}", False)
        est = self.entries["power_estimates"].get(key)
        if est is not None:
            e = est.item
            return PowerFigure(key, e.power_w, f"ESTIMATE ({e.method}): {e.basis} [{e.source}]", True,
                               method=e.method)
        return None

    def watts(self, key: str) -> float:
        """W per unit of a part (:meth:`power`); raise :class:`MissingPower` when there is
        no figure at all, never 0."""
        fig = self.power(key)
        if fig is None:
            raise MissingPower(key)
        return fig.watts

    def with_power_overrides(self, overrides: dict[str, float]) -> Catalog:
        """The same catalog with a site's power figures in front (shares the entries)."""
        if not overrides:
            return self
        return Catalog(entries=self.entries, dirs=self.dirs,
                       power_overrides={**self.power_overrides, **overrides})


def default_catalog_dir() -> Path:
    """The bundled ``catalogs/`` folder (beside the package), or ``$PLANNER_CATALOG``."""
    env = os.environ.get("PLANNER_CATALOG")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "catalogs"


def _iter_files(directory: Path) -> Iterator[Path]:
    if not directory.is_dir():
        raise InputError([Problem(display_path(directory), "", "catalog folder not found")])
    yield from sorted(directory.glob("*.toml"))


def load_catalog(dirs: Sequence[Path | str] | None = None, *, bundled: bool = True) -> Catalog:
    """Load the bundled catalog, then each overlay folder in order (later wins by key).

    Every problem in every file is collected before raising one :class:`InputError`.
    """
    folders: list[Path] = [default_catalog_dir()] if bundled else []
    folders += [Path(d) for d in dirs or ()]
    catalog = Catalog(dirs=tuple(str(f) for f in folders))
    problems: list[Problem] = []
    for folder in folders:
        in_folder: dict[tuple[str, str], str] = {}  # one key twice in one folder is a mistake;
        for path in _iter_files(folder):             # a later folder replacing it is an overlay
            problems += _load_file(catalog, path, in_folder)
    problems += _check_references(catalog)
    if problems:
        raise InputError(problems)
    return catalog


def _load_file(catalog: Catalog, path: Path, in_folder: dict[tuple[str, str], str] | None = None) -> list[Problem]:
    shown = display_path(path)
    try:
        data, lines = read_toml(path)
    except InputError as exc:
        return exc.problems
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for table, rows in data.items():
        kind = TABLES.get(table)
        if kind is None:
            problems.append(
                Problem(shown, table, "unknown catalog table", line_of(lines, (table,)),
                        did_you_mean(table, TABLES) or f"expected one of {sorted(TABLES)}")
            )
            continue
        if not isinstance(rows, list):
            problems.append(Problem(shown, table, f"write entries as [[{table}]] tables",
                                    line_of(lines, (table,))))
            continue
        model = KINDS[kind]
        for index, row in enumerate(rows):
            label = row.get("key", f"{table}[{index}]") if isinstance(row, dict) else table
            try:
                item = model.model_validate(row)
            except ValidationError as exc:
                problems += _validation_problems(exc, shown, lines, (table, index), label, model)
                continue
            if (kind, item.key) in seen:
                problems.append(Problem(shown, f"{table}[{index}].key",
                                        f"duplicate key {item.key!r} in one file",
                                        line_of(lines, (table, index, "key"))))
            elif in_folder is not None and (kind, item.key) in in_folder:
                problems.append(Problem(shown, f"{table}[{index}].key",
                                        f"key {item.key!r} is also in {in_folder[(kind, item.key)]} of the same "
                                        "folder (which one wins would depend on the file names)",
                                        line_of(lines, (table, index, "key"))))
            seen.add((kind, item.key))
            if in_folder is not None:
                in_folder.setdefault((kind, item.key), shown)
            where = {name: line_of(lines, (table, index, name)) for name in row}
            where[""] = line_of(lines, (table, index))
            catalog.entries[kind][item.key] = CatalogEntry(kind, item, shown, where)
    return problems


def _validation_problems(exc: ValidationError, shown: str, lines: dict, prefix: tuple,
                         label: str, model: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        hint = None
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), model.model_fields)
            message = "unknown field"
        else:
            message = err["msg"]
        key = f"{label}." + dotted(loc) if loc else label
        out.append(Problem(shown, key, message, line_of(lines, prefix + loc), hint))
    return out


def _check_references(catalog: Catalog) -> list[Problem]:
    """Keys that point at other entries must exist."""
    problems = []
    for key, entry in catalog.entries["servers"].items():
        acc = entry.item.accelerator
        if acc and acc not in catalog.entries["accelerators"]:
            problems.append(Problem(entry.file, f"{key}.accelerator", f"unknown accelerator {acc!r}",
                                    entry.line("accelerator"), did_you_mean(acc, catalog.entries["accelerators"])))
    for key, entry in catalog.entries["power_estimates"].items():
        if catalog.find(key) is None:
            problems.append(Problem(entry.file, f"power_estimate {key}", "names no part in the catalog",
                                    entry.line("key"), did_you_mean(key, catalog.part_keys())))
    for key, entry in catalog.entries["roles"].items():
        if key not in ROLES:
            problems.append(Problem(entry.file, f"{key}.key", "unknown role", entry.line("key"),
                                    did_you_mean(key, ROLES) or f"expected one of {sorted(ROLES)}"))
            continue
        kind, job = ROLES[key]
        part = entry.item.part
        if part not in catalog.entries[kind]:
            problems.append(Problem(entry.file, f"{key}.part", f"unknown {SINGULAR[kind]} {part!r} ({job})",
                                    entry.line("part"), did_you_mean(part, catalog.entries[kind])))
    for key, entry in catalog.entries["optics"].items():
        conn = entry.item.connector
        if conn and conn not in catalog.entries["connectors"]:
            problems.append(Problem(entry.file, f"{key}.connector", f"unknown connector {conn!r}",
                                    entry.line("connector"), did_you_mean(conn, catalog.entries["connectors"])))
    return problems


def iter_fields(item: BaseModel) -> Iterable[tuple[str, Any]]:
    """(name, value) of the fields that are set, in declaration order."""
    for name in type(item).model_fields:
        value = getattr(item, name)
        if value is None or value == [] or value == {}:
            continue
        yield name, value


def headline(kind: str, item, power: PowerFigure | None = None) -> str:
    """A few figures of an entry in one line, for listings; a power figure that is only a
    labelled estimate (``power``) is shown as such."""
    def g(name, unit=""):
        v = getattr(item, name, None)
        return None if v is None else f"{v:g}{unit}" if isinstance(v, float | int) else f"{v}{unit}"

    picks = {
        "accelerators": [("power_w", " W"), ("memory_gb", " GB"), ("bf16_dense_tflops", " TF bf16")],
        "servers": [("gpus", " GPUs"), ("max_power_w", " W"), ("height_u", "U")],
        "miners": [("hashrate_ths", " TH/s"), ("power_w", " W"), ("cooling", "")],
        "switches": [("ports", " ports"), ("port_gbps", "G"), ("optics", "")],
        "optics": [("gbps", "G"), ("reach_m", " m"), ("power_w", " W")],
        "connectors": [("fibers", " fibres"), ("polish", "")],
        "estimates": [("unit_cost_usd", " USD"), ("unit_cost_usd_per_m", " USD/m")],
        "power_estimates": [("power_w", " W"), ("method", "")],
        "site_costs": [("value", ""), ("unit", "")],
        "roles": [("part", "")],
    }.get(kind, [])
    parts = [g(n, u) for n, u in picks]
    if power is not None and power.estimated:
        parts.append(f"{power.watts:g} W (estimate)")
    text = ", ".join(p for p in parts if p)
    if kind == "miners" and (item.power_w or (power and power.estimated)):
        text += f", {(item.power_w or power.watts) / item.hashrate_ths:.1f} J/TH"
    return text

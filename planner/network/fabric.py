"""Rail-optimised Clos fabrics: exact switch, link, transceiver, cable, fibre and MPO counts.

Conventions
-----------
* A *rail* is one scale-out port position across servers. A scalable unit (SU) has one
  leaf per rail; each leaf takes its rail from ``down`` servers.
* A leaf of ``k`` ports (at the link speed) puts ``up = floor(k / (r + 1))`` ports to the
  spines and ``down = k - up`` to servers, ``r`` being the oversubscription (1 =
  non-blocking, k/2 down and k/2 up).
* Every leaf connects to every spine of its pod with the same whole number of links (the
  *bundle*). In three tiers, spine ``j`` of every pod connects to every core of core
  group ``j`` with one bundle, so each core takes one bundle per pod (the k-ary fat tree:
  k^2/2 endpoints in two tiers, k^3/4 in three, non-blocking). Spine and core counts are
  the smallest that divide the uplinks evenly and keep every switch within its ports.
* *Planes*: with ``P`` planes every server port is split into ``P`` links of 1/P of its
  speed, one to each plane, and each plane is its own Clos. With *dual-ToR* (Alibaba
  HPN) the NIC's own ports go to different ToRs of its rail instead; with ``P`` equal to
  the ports per NIC, port ``p`` of every NIC lands in plane ``p`` at its full speed.
* *Per-tier speeds*: leaf-to-spine and spine-to-core links may run faster than the
  server links (``uplink_gbps``, e.g. 200G down, 400G up). A leaf then shares its SerDes
  lanes: down ports x lanes each + up ports x lanes each <= the switch's lanes.
* *Segments*: ``servers_per_su`` fixes the servers under one group of leaves (HPN's
  segment of 128 hosts) instead of deriving it from the leaf's down ports;
  ``spare_down_ports`` per leaf stay free (HPN's 8 backup ports); a spine
  oversubscription ``spine_oversubscription`` keeps spine ports for the tier above.
* Media: a link has two ends. A pluggable end sits in a module (transceiver) that may
  carry several links (a twin-port 800G module carries two 400G links); a CPO end lands
  on the switch's front-panel connectors (8 lanes per MPO-16 unless the catalog says
  otherwise); a copper cable is its own module. Transceivers, cables, connectors and lit
  fibres are counted separately; fibres once per link.

Two modes agree exactly: :func:`count_fabric` counts analytically from the shape, and
``planner.network.graph.build_graph`` builds a networkx graph whose counts are derived from
node degrees (a property test checks they match).

Why one module of over 800 lines: the conventions above are shared by every function
here (shape planning, per-tier speeds, planes, media and the memo of counts by size);
split apart, each piece would need the whole list to be read correctly.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field

from planner.parts.catalog import COPPER_CLASSES, Catalog, Optic, PowerFigure, Server, Switch

ROLES = ("leaf", "spine", "core")
TIERS = ("node_leaf", "leaf_spine", "spine_core")
DEFAULT_LENGTH_M = {"node_leaf": 30.0, "leaf_spine": 100.0, "spine_core": 300.0}
CPO_LANES_PER_CONNECTOR = 8
CPO_CONNECTOR = "mpo-16-apc"
COPPER = COPPER_CLASSES
# optic classes that mate: the same fibre type and the same lane structure
COMPATIBLE = {**dict.fromkeys(COPPER_CLASSES, "copper"), "sr": "mmf-parallel",
              "dr": "smf-parallel", "lpo": "smf-parallel", "cpo": "smf-parallel",
              "fr": "smf-wdm", "lr": "smf-wdm", "zr": "coherent"}
# the order a link tries the classes in: copper, then optics by reach (every catalog class once)
CLASS_ORDER = (*COPPER_CLASSES, "sr", "dr", "lpo", "fr", "lr", "zr")


class FabricError(ValueError):
    """The requested fabric cannot be built (too large for the tiers, no optic fits)."""


@dataclass(frozen=True)
class FabricSpec:
    """What to build.

    ``optics``: ``auto`` (lowest-power optic that reaches), ``dsp`` (DSP-retimed
    pluggables only), ``lpo`` (linear pluggables where they fit), ``cpo`` (every switch
    must be co-packaged), or an optic key to use at every pluggable end.
    """

    servers: int
    server: str
    leaf_switch: str
    spine_switch: str | None = None
    core_switch: str | None = None
    tiers: int | None = None  # None = the fewest that fit
    planes: int = 1
    oversubscription: float = 1.0
    optics: str = "auto"
    lengths_m: dict[str, float] = field(default_factory=dict)
    network: str = "compute"  # which server ports: compute or storage
    dual_tor: bool = False  # each NIC's ports go to different ToRs (and planes, when planes = ports per NIC)
    uplink_gbps: float | None = None  # leaf-spine and spine-core link speed (default: the server links')
    servers_per_su: int | None = None  # a fixed segment size (default: the leaf's down ports)
    spare_down_ports: int = 0  # per leaf, kept free (backup ports)
    spine_oversubscription: float | None = None  # spine down:up (default: 2 tiers use every port, 3 split 1:1)


@dataclass(frozen=True)
class SwitchGroup:
    """Identical switches of one role in one plane: links each takes down and up."""

    role: str
    count: int
    ports: int  # in ports of the down speed
    down: int
    up: int
    up_width: int = 1  # down ports one up port takes (mixed speeds)

    @property
    def free(self) -> int:
        return self.ports - self.down - self.up * self.up_width


@dataclass(frozen=True)
class Shape:
    """The per-plane topology: everything the graph builder and the counts derive from."""

    servers: int  # endpoints: servers, or compute trays of rack systems
    rails: int
    planes: int
    link_gbps: float
    tiers: int
    servers_per_su: int
    scalable_units: int
    sus_per_pod: int
    pods: int
    leaves: int
    spines_per_pod: int
    cores_per_group: int
    up_per_leaf: int
    up_per_spine: int
    bundle_leaf_spine: int
    bundle_spine_core: int
    radix: dict[str, int]
    systems: int = 0  # servers or racks as bought
    endpoints_per_system: int = 1
    uplink_gbps: float = 0.0  # leaf-spine and spine-core link speed (0: as link_gbps)
    up_width: int = 1  # a leaf's up port in down ports (2 when 400G up beside 200G down)

    @property
    def up_gbps(self) -> float:
        return self.uplink_gbps or self.link_gbps

    def servers_in_su(self, su: int) -> int:
        return max(0, min(self.servers_per_su, self.servers - su * self.servers_per_su))

    def sus_in_pod(self, pod: int) -> int:
        return max(0, min(self.sus_per_pod, self.scalable_units - pod * self.sus_per_pod))

    def groups(self) -> list[SwitchGroup]:
        """Switch groups of one plane, by the links each member carries."""
        out: Counter[tuple[str, int, int]] = Counter()
        for su in range(self.scalable_units):
            out[("leaf", self.servers_in_su(su), self.up_per_leaf)] += self.rails
        if self.tiers >= 2:
            for pod in range(self.pods):
                leaves = self.sus_in_pod(pod) * self.rails
                out[("spine", leaves * self.bundle_leaf_spine, self.up_per_spine)] += self.spines_per_pod
        if self.tiers == 3:
            out[("core", self.pods * self.bundle_spine_core, 0)] += self.spines_per_pod * self.cores_per_group
        return [SwitchGroup(role, n, self.radix[role], down, up, self.up_width if role == "leaf" else 1)
                for (role, down, up), n in sorted(out.items()) if n]


@dataclass(frozen=True)
class EndMedia:
    """One end of a tier's links: what plugs in there and how many."""

    kind: str  # module | cpo | copper | none
    part: str | None
    links_per_unit: int  # links per module, per CPO connector, per copper plug
    units: int  # modules, CPO connectors or copper plugs
    connector: str | None
    connectors: int


@dataclass(frozen=True)
class TierMedia:
    """The links of one tier and their media."""

    tier: str
    links: int
    link_gbps: float
    length_m: float
    optic_class: str
    lower: EndMedia
    upper: EndMedia
    cable_kind: str
    cables: int
    fibers_per_link: int

    @property
    def fibers(self) -> int:
        return self.links * self.fibers_per_link

    @property
    def connectors(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for end in (self.lower, self.upper):
            if end.connector and end.connectors:
                out[end.connector] += end.connectors
        return dict(out)


@dataclass(frozen=True)
class FabricCounts:
    """Exact counts of a fabric, all planes together."""

    spec: FabricSpec
    shape: Shape
    gpus: int
    switch_models: dict[str, str]
    switches: dict[str, int]
    links: dict[str, int]
    ports_free: dict[str, int]
    media: dict[str, TierMedia]
    scale_up_domains: int
    notes: tuple[str, ...] = ()

    @property
    def servers(self) -> int:
        """Servers (or racks) as bought."""
        return self.shape.systems

    @property
    def endpoints(self) -> int:
        """Scale-out endpoints: servers, or compute trays of rack systems."""
        return self.shape.servers

    @property
    def tiers(self) -> int:
        return self.shape.tiers

    @property
    def planes(self) -> int:
        return self.shape.planes

    @property
    def scalable_units(self) -> int:
        return self.shape.scalable_units

    @property
    def servers_per_su(self) -> int:
        return self.shape.servers_per_su

    @property
    def pods(self) -> int:
        return self.shape.pods

    @property
    def bundles(self) -> dict[str, int]:
        return {"leaf_spine": self.shape.bundle_leaf_spine, "spine_core": self.shape.bundle_spine_core}

    @property
    def transceivers(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            for end in (m.lower, m.upper):
                if end.kind == "module" and end.part:
                    out[end.part] += end.units
        return dict(sorted(out.items()))

    @property
    def cables(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            if m.cables:
                out[m.cable_kind] += m.cables
        return dict(sorted(out.items()))

    @property
    def fibers(self) -> int:
        return sum(m.fibers for m in self.media.values())

    @property
    def connectors(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            out.update(m.connectors)
        return dict(sorted(out.items()))

    @property
    def mpo_connectors(self) -> dict[str, int]:
        return {k: v for k, v in self.connectors.items() if k.startswith("mpo")}

    @property
    def cpo_lanes(self) -> int:
        """Optical lanes used on co-packaged front panels (both tiers' switch ends)."""
        return sum(end.connectors * CPO_LANES_PER_CONNECTOR
                   for m in self.media.values() for end in (m.lower, m.upper) if end.kind == "cpo")

    def power_w(self, catalog: Catalog) -> tuple[dict[str, float], dict[str, PowerFigure]]:
        """Switch and optics power, W, and the figure used for each part.

        Switches count at max power (typical where only that is known); a CPO switch's
        figure includes its optics. Modules and copper plugs count at their catalog power.
        A part with no sourced figure counts at its labelled estimate; a part with neither
        is refused (:class:`planner.parts.catalog.MissingPower`), never counted as zero.
        """
        figures: dict[str, PowerFigure] = {}

        def watts(key: str) -> float:
            if key not in figures:
                catalog.watts(key)  # raises MissingPower when there is no figure
                figures[key] = catalog.power(key)
            return figures[key].watts

        switches = sum(n * watts(self.switch_models[role]) for role, n in self.switches.items() if n)
        optics = 0.0
        for m in self.media.values():
            for end in (m.lower, m.upper):
                if end.kind in ("module", "copper") and end.units:
                    optics += end.units * watts(end.part)
        return {"switches": switches, "optics": optics}, dict(sorted(figures.items()))

    def summary(self) -> dict:
        """The JSON shape of ``planner fabric --json``."""
        return {
            "gpus": self.gpus, "nodes": self.servers, "endpoints": self.endpoints,
            "tiers": self.tiers, "planes": self.planes,
            "scalable_units": self.scalable_units, "servers_per_su": self.servers_per_su,
            "pods": self.pods, "switches": dict(self.switches), "switch_models": dict(self.switch_models),
            "links": dict(self.links), "bundles": self.bundles, "transceivers": self.transceivers,
            "cables": self.cables, "fibers": self.fibers, "mpo_connectors": self.mpo_connectors,
            "connectors": self.connectors, "cpo_lanes": self.cpo_lanes,
            "ports_free": dict(self.ports_free), "scale_up_domains": self.scale_up_domains,
            "media": {t: {"optic_class": m.optic_class, "length_m": m.length_m,
                          "lower": m.lower.part or m.lower.kind, "upper": m.upper.part or m.upper.kind,
                          "cable": m.cable_kind, "cables": m.cables, "fibers": m.fibers}
                      for t, m in self.media.items() if m.links},
            "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------- shape


def ports_at(switch: Switch, gbps: float) -> int:
    """Logical ports the switch offers at ``gbps`` (native or by breakout)."""
    for ports, speed in switch.port_options():
        if math.isclose(speed, gbps):
            return ports
    raise FabricError(
        f"switch {switch.key!r} has no {gbps:g}G ports (it offers "
        + ", ".join(f"{p} x {s:g}G" for p, s in switch.port_options()) + ")"
    )


def _leaf_ports(leaf: Switch, gbps: float, up_gbps: float, spec: FabricSpec) -> tuple[int, int, int, int]:
    """(down ports, up ports, up width, ports) of a leaf: ``down`` servers per SU (a fixed
    segment, or what the oversubscription leaves), ``up`` uplinks at ``up_gbps``, an up port's
    width in down ports, and the leaf's size in down ports. Spare down ports stay free.

    At one speed a leaf of k ports splits k/(r+1) up; at two speeds it shares its lanes:
    down x d + up x u <= lanes (d, u: lanes per down and per up port)."""
    r = spec.oversubscription
    spare, seg = spec.spare_down_ports, spec.servers_per_su
    if math.isclose(up_gbps, gbps):
        k = ports_at(leaf, gbps)
        if seg is None:
            down, up = leaf_split(k - spare, r)
        else:
            down, up = seg, min(k - spare - seg, math.ceil(seg / r - 1e-9))
        width = 1
    else:
        if not leaf.lanes_per_port or not leaf.lane_gbps:
            raise FabricError(f"{leaf.key}: mixing {gbps:g}G and {up_gbps:g}G ports needs its lanes per port "
                              "and lane rate in the catalog")
        lanes = leaf.ports * leaf.lanes_per_port
        d, u = gbps / leaf.lane_gbps, up_gbps / leaf.lane_gbps
        if not (d.is_integer() and u.is_integer()) or u % d:
            raise FabricError(f"{leaf.key}: {gbps:g}G and {up_gbps:g}G ports do not share its "
                              f"{leaf.lane_gbps:g}G lanes evenly")
        d, u = int(d), int(u)
        ports_at(leaf, up_gbps)  # the switch must offer the up speed
        budget = lanes - spare * d
        if seg is None:
            up = math.floor(budget / (u + r * up_gbps / gbps * d))
            down = (budget - up * u) // d
        else:
            down = seg
            up = min((budget - down * d) // u, math.ceil(down * gbps / (r * up_gbps) - 1e-9))
        width, k = u // d, lanes // d
    if seg is not None and down + spare + up * width > k:
        raise FabricError(f"a segment of {seg} servers leaves {leaf.key} no uplink")
    if up < 1 or down < 1:
        raise FabricError(f"{leaf.key} cannot take {down} down and {up} up ports")
    return down, up, width, k


def leaf_split(radix: int, oversubscription: float) -> tuple[int, int]:
    """(down, up) ports of a leaf of ``radix`` ports at oversubscription ``r``:1."""
    if oversubscription < 1:
        raise FabricError("oversubscription must be >= 1")
    up = math.floor(radix / (oversubscription + 1))
    down = radix - up
    if up < 1 or down < 1:
        raise FabricError(f"a {radix}-port switch cannot split {oversubscription:g}:1")
    return down, up


def _bundle(lower: int, up_each: int, radix_upper: int) -> tuple[int, int] | None:
    """Fewest upper switches S with bundle b: S*b = up_each and lower*b <= radix_upper."""
    if up_each < 1:
        return None
    for s in range(max(1, math.ceil(lower * up_each / radix_upper)), up_each + 1):
        if up_each % s == 0 and lower * (up_each // s) <= radix_upper:
            return s, up_each // s
    return None


def _uplinks(lower: int, need: int, up_max: int, radix_upper: int) -> tuple[int, int, int] | None:
    """(uplinks per lower switch, upper switches, bundle) with the fewest upper switches.

    Each lower switch needs at least ``need`` uplinks and has at most ``up_max``. Using a
    few more than needed can let the bundles divide evenly over far fewer upper switches
    (31 uplinks spread over 31 spines, 32 over 4), as published designs do.
    """
    best = None
    for u in range(max(1, need), up_max + 1):
        found = _bundle(lower, u, radix_upper)
        if found and (best is None or found[0] < best[1]):
            best = (u, *found)
    return best


def server_ports(server: Server, network: str) -> tuple[int, float, int | None, int]:
    """(ports per endpoint, port Gb/s, cages per endpoint, endpoints per system).

    An endpoint is a server, or one compute tray of a rack-scale system (an NVL72 rack's
    GPUs talk over NVLink inside the rack; each tray's NICs are the scale-out endpoints).
    """
    trays = server.compute_trays or 1 if network == "compute" else 1
    if network == "compute":
        ports = server.compute_ports
        gbps, cages = server.compute_nic_gbps, server.compute_cages
    elif network == "storage":
        ports = (server.storage_nics or 0) * (server.storage_ports_per_nic or 1)
        gbps, cages = server.storage_nic_gbps, None
    else:
        raise FabricError(f"unknown network {network!r} (compute or storage)")
    if not ports or gbps is None:
        raise FabricError(f"server {server.key!r} lists no {network} NIC ports and speed")
    if ports % trays or (cages and cages % trays):
        raise FabricError(f"{server.key!r}: {ports} ports do not divide over {trays} trays")
    return ports // trays, gbps, (cages // trays if cages else None), trays


def plan_shape(spec: FabricSpec, catalog: Catalog) -> Shape:
    """The per-plane shape: SUs, pods, switch counts and bundles."""
    server = catalog.servers[spec.server]
    leaf = catalog.switches[spec.leaf_switch]
    spine = catalog.switches[spec.spine_switch or spec.leaf_switch]
    core = catalog.switches[spec.core_switch or spec.spine_switch or spec.leaf_switch]
    if spec.servers < 0:
        raise FabricError("servers must be >= 0")
    if spec.planes < 1:
        raise FabricError("planes must be >= 1")
    if spec.tiers not in (None, 2, 3):
        raise FabricError("tiers must be 2, 3 or auto")
    if spec.spare_down_ports < 0 or (spec.servers_per_su is not None and spec.servers_per_su < 1):
        raise FabricError("spare down ports must be >= 0 and a segment at least one server")
    rails, nic_gbps, _, per_system = server_ports(server, spec.network)
    if spec.dual_tor:
        per_nic = (server.compute_ports_per_nic or 1) if spec.network == "compute" else 1
        if per_nic < 2:
            raise FabricError(f"dual-ToR needs NICs with two or more ports; {server.key} has {per_nic} per NIC")
        if spec.planes not in (1, per_nic):
            raise FabricError(f"with dual-ToR the planes are the NIC's ports: planes must be 1 or {per_nic}")
        gbps, rails = nic_gbps, rails // spec.planes
    else:
        gbps = nic_gbps / spec.planes
    up_gbps = spec.uplink_gbps or gbps
    radix = {"leaf": ports_at(leaf, gbps), "spine": ports_at(spine, up_gbps), "core": ports_at(core, up_gbps)}
    down, up, width, radix["leaf"] = _leaf_ports(leaf, gbps, up_gbps, spec)
    n = spec.servers * per_system
    sus = math.ceil(n / down)
    leaves = rails * sus
    fullest = min(n, down)
    up_used = min(up, math.ceil(fullest * gbps / (spec.oversubscription * up_gbps) - 1e-9)) if n else 0
    base = dict(servers=n, rails=rails, planes=spec.planes, link_gbps=gbps, servers_per_su=down,
                scalable_units=sus, leaves=leaves, up_per_leaf=up_used, radix=radix,
                systems=spec.servers, endpoints_per_system=per_system,
                uplink_gbps=up_gbps if up_gbps != gbps else 0.0, up_width=width)
    if n == 0:
        return Shape(**base, tiers=0, sus_per_pod=0, pods=0, spines_per_pod=0, cores_per_group=0,
                     up_per_spine=0, bundle_leaf_spine=0, bundle_spine_core=0)
    if leaves == 1 and spec.tiers is None:
        return Shape(**{**base, "up_per_leaf": 0}, tiers=1, sus_per_pod=1, pods=1, spines_per_pod=0,
                     cores_per_group=0, up_per_spine=0, bundle_leaf_spine=0, bundle_spine_core=0)
    rs = spec.spine_oversubscription
    if rs is not None and rs < 1:
        raise FabricError("spine oversubscription must be >= 1")
    spine_kept = math.floor(radix["spine"] / (rs + 1)) if rs else 0  # up ports a spine keeps in two tiers
    two = _uplinks(leaves, up_used, up, radix["spine"] - spine_kept)
    two = _uplinks(leaves, up_used, up, radix["spine"])
    if spec.tiers == 2 or (spec.tiers is None and two is not None):
        if two is None:
            raise FabricError(
                f"{n} servers x {rails} rails need {leaves} leaves; two tiers of "
                f"{spine.key} ({radix['spine']} ports at {gbps:g}G) take at most "
                f"{radix['spine'] // max(1, up_used)} leaves with {up_used} uplinks each"
            )
        u, s, b = two
        return Shape(**{**base, "up_per_leaf": u}, tiers=2, sus_per_pod=sus, pods=1,
                     spines_per_pod=s, cores_per_group=0, up_per_spine=0, bundle_leaf_spine=b,
                     bundle_spine_core=0)
    # three tiers: pods of whole SUs share spines; spine j of each pod joins core group j
    spine_down = radix["spine"] - spine_kept if rs else radix["spine"] // 2
    spine_up_max = radix["spine"] - spine_down
    choice = None
    for sus_per_pod in range(max(1, spine_down // rails), 0, -1):
        found = _uplinks(sus_per_pod * rails, up_used, up, spine_down)
        if found:
            choice = (sus_per_pod, *found)
            break
    if choice is None:
        raise FabricError(f"no pod of {spine.key} spines takes one SU of {rails} leaves")
    sus_per_pod, u, spines_pp, b1 = choice
    pods = math.ceil(sus / sus_per_pod)
    spine_up = min(spine_up_max, min(sus_per_pod, sus) * rails * b1)
    found = _bundle(pods, spine_up, radix["core"])
    if found is None:
        raise FabricError(
            f"{pods} pods of {sus_per_pod * rails * down} endpoints exceed three tiers of "
            f"{core.key} ({radix['core']} ports at {gbps:g}G per core)"
        )
    cores_pg, b2 = found
    return Shape(**{**base, "up_per_leaf": u}, tiers=3, sus_per_pod=sus_per_pod, pods=pods,
                 spines_per_pod=spines_pp, cores_per_group=cores_pg, up_per_spine=spine_up,
                 bundle_leaf_spine=b1, bundle_spine_core=b2)


# ----------------------------------------------------------------------------- media


def links_per_cage(switch: Switch, gbps: float) -> int:
    """Links of ``gbps`` that one front-panel cage (one module) carries."""
    logical = ports_at(switch, gbps)
    cages = switch.cages or switch.ports
    return max(1, logical // cages)


@dataclass(frozen=True)
class Lanes:
    """The electrical/optical lane structure every end of a link must share: ``count``
    lanes of ``gbps`` each (None where no catalog entry says)."""

    count: int
    gbps: float | None

    def __str__(self) -> str:
        return f"{self.count} x {self.gbps:g}G lanes" if self.gbps else f"{self.count} lanes"


def link_lanes(gbps: float, *switches: Switch) -> Lanes:
    """Lanes of one link between these switches (and NICs): the switches' SerDes rate
    decides it. Switch ends with different lane rates cannot share a link (a gearbox
    would have to sit between them)."""
    rates = sorted({s.lane_gbps for s in switches if s.lane_gbps})
    if len(rates) > 1:
        raise FabricError(
            f"{' and '.join(s.key for s in switches)} run {' and '.join(f'{r:g}G' for r in rates)} lanes: "
            f"a {gbps:g}G link between them needs a gearbox, which the catalog does not list")
    if not rates:
        return Lanes(max(1, round(gbps / 100.0)), None)
    count = gbps / rates[0]
    if count < 1 or not math.isclose(count, round(count)):
        raise FabricError(f"{gbps:g}G links do not split into whole {rates[0]:g}G lanes")
    return Lanes(round(count), rates[0])


def lanes_fit(o: Optic, lanes: Lanes) -> bool:
    """The optic carries each of its links on ``lanes`` (count per link and rate)."""
    if o.lanes is not None and o.lanes != lanes.count * o.ports:
        return False
    return not (o.lane_gbps is not None and lanes.gbps is not None and not math.isclose(o.lane_gbps, lanes.gbps))


def _fits(catalog: Catalog, cls: str, gbps: float, per_module: int, length: float,
          family: str, lanes: Lanes) -> list[Optic]:
    """Modules (or straight cables) of class ``cls`` that carry ``per_module`` links of
    ``gbps``, each on the link's lanes."""
    out = []
    for o in catalog.optics.values():
        if o.optic_class != cls or o.split != 1 or o.ports != per_module \
                or not math.isclose(o.gbps, gbps * per_module) or not lanes_fit(o, lanes):
            continue
        if o.reach_m is None or o.reach_m < length:
            continue
        if family == "dsp" and o.dsp is False:
            continue
        out.append(o)
    return sorted(out, key=lambda o: _rank(catalog, o))


def _rank(catalog: Catalog, o: Optic) -> tuple:
    """Within a class that reaches: the cheapest (list price or estimate), then the lowest power."""
    cost = catalog.unit_cost(o.key)
    power = catalog.power(o.key)
    return (cost is None, cost[0] if cost else 0.0, power is None, power.watts if power else 0.0, o.key)


def _splitters(catalog: Catalog, cls: str, gbps: float, lower: int, upper: int, length: float,
               lanes: Lanes) -> list[Optic]:
    """Copper splitters with a multi-link plug on one end and single-link plugs on the other."""
    out = []
    for o in catalog.optics.values():
        if o.optic_class != cls or o.split == 1 or o.reach_m is None or o.reach_m < length:
            continue
        if not math.isclose(o.gbps, gbps * o.ports) or o.ports % o.split or not lanes_fit(o, lanes):
            continue
        far = o.ports // o.split
        if {lower, upper} == {o.ports, far}:
            out.append(o)
    return sorted(out, key=lambda o: _rank(catalog, o))


@dataclass(frozen=True)
class _End:
    kind: str  # "nic", "pluggable" or "cpo"
    per_module: int
    switch: Switch | None = None


def _fibers_of(o: Optic, lanes: Lanes) -> int:
    """Fibres one link of the optic lights (parallel optics: 2 a lane)."""
    if o.fibers_lit is not None:
        return o.fibers_lit // o.ports
    return 0 if o.medium in COPPER else 2 * lanes.count


def check_link(lower: Optic | None, upper: Optic | None, lanes: Lanes, gbps: float) -> None:
    """Both ends of a link must mate: the same lanes and rate, fibre type, optical
    family (parallel, WDM, coherent) and fibres per link. A CPO end (None) is parallel
    single-mode at the link's lanes. Raise FabricError naming what differs."""
    ends = [(o.key, o.medium, COMPATIBLE[o.optic_class], _fibers_of(o, lanes)) if o is not None
            else ("co-packaged optics", "smf", "smf-parallel", 2 * lanes.count) for o in (lower, upper)]
    for o in (lower, upper):
        if o is not None and not lanes_fit(o, lanes):
            raise FabricError(f"{o.key} ({o.lanes} x {o.lane_gbps or 0:g}G lanes over {o.ports} port(s)) does not "
                              f"carry {gbps:g}G links as {lanes}")
    (ka, ma, fa, na), (kb, mb, fb, nb) = ends
    if ma != mb or fa != fb or na != nb:
        raise FabricError(f"the ends of a {gbps:g}G link do not mate: {ka} is {ma} {fa} with {na} fibres per link, "
                          f"{kb} is {mb} {fb} with {nb}")


def choose_media(catalog: Catalog, lower: _End, upper: _End, gbps: float, length: float,
                 family: str, lanes: Lanes | None = None) -> tuple[str, Optic | None, Optic | None]:
    """(class, lower optic, upper optic): the first class in CLASS_ORDER (copper, then
    multimode, then single-mode, roughly by cost) that reaches ``length`` and fits both
    ends on the link's lanes; within it the cheapest module, then the lowest power, at
    each end. The pair is checked end to end (:func:`check_link`)."""
    lanes = lanes or Lanes(max(1, round(gbps / 100.0)), None)
    if family in catalog.optics:
        optic = catalog.optics[family]
        picks = []
        for end in (lower, upper):
            if end.kind == "cpo":
                picks.append(None)
            elif optic.ports == end.per_module and math.isclose(optic.gbps, gbps * end.per_module):
                picks.append(optic)
            else:
                raise FabricError(f"optic {optic.key!r} ({optic.ports} x {optic.gbps / optic.ports:g}G) "
                                  f"does not fit an end carrying {end.per_module} x {gbps:g}G")
        check_link(picks[0], picks[1], lanes, gbps)
        return optic.optic_class, picks[0], picks[1]
    cpo = [e for e in (lower, upper) if e.kind == "cpo"]
    if family == "cpo" and len([e for e in (lower, upper) if e.kind != "nic"]) != len(cpo):
        raise FabricError("optics 'cpo' needs co-packaged switches at every switch end")
    classes = [c for c in CLASS_ORDER if not (cpo and COMPATIBLE[c] != "smf-parallel")]
    if family == "lpo":
        classes = sorted(classes, key=lambda c: c != "lpo")
    for cls in classes:
        if cls in COPPER and cpo:
            continue
        picks: list[Optic | None] = []
        for end in (lower, upper):
            if end.kind == "cpo":
                picks.append(None)
                continue
            found = _fits(catalog, cls, gbps, end.per_module, length, family, lanes)
            if cls in COPPER and lower.per_module != upper.per_module:
                found = _splitters(catalog, cls, gbps, lower.per_module, upper.per_module, length, lanes)
            other = upper if end is lower else lower
            found = [o for o in found if _mates(o, picks or ([None] if other.kind == "cpo" else []), lanes, gbps)]
            if not found:
                break
            picks.append(found[0])
        else:
            check_link(picks[0], picks[1], lanes, gbps)
            return cls, picks[0], picks[1]
    raise FabricError(f"no optic in the catalog carries {gbps:g}G links as {lanes} over {length:g} m between "
                      f"ends of {lower.per_module} and {upper.per_module} links per module"
                      + (" (family " + family + ")" if family != "auto" else "")
                      + (" and a co-packaged end" if cpo else ""))


def _mates(o: Optic, picks: list[Optic | None], lanes: Lanes, gbps: float) -> bool:
    """The candidate mates with the end already picked (or with a CPO end)."""
    if not picks:
        return True
    try:
        check_link(picks[0], o, lanes, gbps)
    except FabricError:
        return False
    return True


def _end_media(end: _End, optic: Optic | None, per_switch_links: list[tuple[int, int]],
               lanes_per_link: int, copper: bool) -> EndMedia:
    """Units and connectors at one end. ``per_switch_links``: (switches, links each)."""
    if end.kind == "cpo":
        sw = end.switch
        lanes = CPO_LANES_PER_CONNECTOR
        per_conn = max(1, lanes // max(1, lanes_per_link))
        units = sum(n * math.ceil(links / per_conn) for n, links in per_switch_links)
        return EndMedia("cpo", sw.key if sw else None, per_conn, units,
                        (sw.fiber_connector if sw and sw.fiber_connector else CPO_CONNECTOR), units)
    per = end.per_module
    units = sum(n * math.ceil(links / per) for n, links in per_switch_links)
    if copper:
        return EndMedia("copper", optic.key, per, units, None, 0)
    conns = (optic.connectors or 0) * units
    return EndMedia("module", optic.key, per, units, optic.connector, conns)


def _fibers_per_link(optic: Optic | None, lanes_per_link: int) -> int:
    if optic is None:  # CPO both ends: parallel single-mode, 2 fibres a lane
        return 2 * lanes_per_link
    if optic.fibers_lit is None:
        return 0 if optic.medium in COPPER else 2 * lanes_per_link
    return optic.fibers_lit // optic.ports


def count_topology(spec: FabricSpec, catalog: Catalog
                   ) -> tuple[Shape, dict[str, int], dict[str, int], dict[str, int]]:
    """(shape, switches by role, links by tier, free ports by role), all planes: the
    topology alone, before any optic is chosen (free leaf ports in ports of the down speed)."""
    shape = plan_shape(spec, catalog)
    groups = shape.groups()
    p = shape.planes
    switches = {role: p * sum(g.count for g in groups if g.role == role) for role in ROLES}
    links = {
        "node_leaf": p * shape.servers * shape.rails,
        "leaf_spine": p * shape.leaves * shape.up_per_leaf if shape.tiers >= 2 else 0,
        "spine_core": p * shape.pods * shape.spines_per_pod * shape.up_per_spine if shape.tiers == 3 else 0,
    }
    ports_free = {role: p * sum(g.count * g.free for g in groups if g.role == role) for role in ROLES}
    return shape, switches, links, ports_free


def count_fabric(spec: FabricSpec, catalog: Catalog) -> FabricCounts:
    """Analytic counts of a rail-optimised Clos for ``spec`` (all planes).

    Examples
    --------
    The DGX B200 SuperPOD with 4 scalable units (128 nodes) on QM9700 switches has 32
    leaves and 16 spines and 1,024 links at each tier (NVIDIA reference architecture).
    """
    server = catalog.servers[spec.server]
    shape, switches, links, ports_free = count_topology(spec, catalog)
    models = {"leaf": spec.leaf_switch, "spine": spec.spine_switch or spec.leaf_switch,
              "core": spec.core_switch or spec.spine_switch or spec.leaf_switch}
    sw = {role: catalog.switches[key] for role, key in models.items()}
    groups = shape.groups()
    p = shape.planes
    _, _, cages, _ = server_ports(server, spec.network)
    per_server_links = shape.rails * p
    nic_per_module = max(1, per_server_links // cages) if cages else (1 if spec.dual_tor else p)
    speed = {"node_leaf": shape.link_gbps, "leaf_spine": shape.up_gbps, "spine_core": shape.up_gbps}
    notes: list[str] = []
    ends_of = {"node_leaf": ("leaf",), "leaf_spine": ("leaf", "spine"), "spine_core": ("spine", "core")}

    def switch_end(role: str, gbps: float) -> _End:
        s = sw[role]
        if s.optics == "cpo":
            if not s.fiber_connector:
                notes.append(f"{s.key}: front-panel connector not in the catalog; counted as "
                             f"MPO-16 with {CPO_LANES_PER_CONNECTOR} lanes each")
            return _End("cpo", 1, s)
        return _End("pluggable", links_per_cage(s, gbps), s)

    def per_switch(role: str, direction: str) -> list[tuple[int, int]]:
        return [(p * g.count, g.down if direction == "down" else g.up) for g in groups if g.role == role]

    tiers = {
        "node_leaf": (_End("nic", nic_per_module), switch_end("leaf", shape.link_gbps),
                      [(shape.servers, per_server_links)], per_switch("leaf", "down")),
        "leaf_spine": (switch_end("leaf", shape.up_gbps), switch_end("spine", shape.up_gbps),
                       per_switch("leaf", "up"), per_switch("spine", "down")),
        "spine_core": (switch_end("spine", shape.up_gbps), switch_end("core", shape.up_gbps),
                       per_switch("spine", "up"), per_switch("core", "down")),
    }
    media: dict[str, TierMedia] = {}
    for tier, (lo, hi, lo_links, hi_links) in tiers.items():
        length = spec.lengths_m.get(tier, DEFAULT_LENGTH_M[tier])
        n_links, gbps = links[tier], speed[tier]
        if n_links == 0:
            none = EndMedia("none", None, 1, 0, None, 0)
            media[tier] = TierMedia(tier, 0, gbps, length, "none", none, none, "none", 0, 0)
            continue
        lanes = link_lanes(gbps, *(sw[r] for r in ends_of[tier]))
        cls, a, b = choose_media(catalog, lo, hi, gbps, length, spec.optics, lanes)
        named = " and ".join(dict.fromkeys(sw[r].key for r in ends_of[tier]))
        if lanes.gbps is None and (a or b) is not None and (a or b).lanes:
            lanes = Lanes((a or b).lanes // (a or b).ports, (a or b).lane_gbps)  # as the optic carries it
            notes.append(f"{tier.replace('_', '-')}: the lane rate of {named} "
                         f"is not in the catalog; both ends were matched on {lanes}, which the switch may not run")
        elif lanes.gbps is None:
            notes.append(f"{tier.replace('_', '-')}: the lane rate of {named} "
                         f"is not in the catalog; fibres and connectors are counted for {lanes} of 100G")
        lanes_per_link = lanes.count
        copper = cls in COPPER
        if copper:
            # the cable is its own module: one plug per cage at each end; a splitter has one
            # multi-link plug and single-link plugs at the far end. Plug power: the catalog's
            # power_w per end.
            plug = a or b
            lo_m = _end_media(lo, plug, lo_links, lanes_per_link, True)
            hi_m = _end_media(hi, plug, hi_links, lanes_per_link, True)
            cables = lo_m.units if lo.per_module >= hi.per_module else hi_m.units
            media[tier] = TierMedia(tier, n_links, gbps, length, cls, lo_m, hi_m, plug.key, cables, 0)
            continue
        lo_m = _end_media(lo, a, lo_links, lanes_per_link, False)
        hi_m = _end_media(hi, b, hi_links, lanes_per_link, False)
        fibers = _fibers_per_link(a or b, lanes_per_link)
        lo_conn_links = _links_per_connector(lo_m, a)
        hi_conn_links = _links_per_connector(hi_m, b)
        medium = (a or b).medium if (a or b) else "smf"
        if lo_conn_links == hi_conn_links:
            cables = n_links // lo_conn_links
            kind = f"{medium}-{lo_m.connector}" if lo_m.connector == hi_m.connector else \
                f"{medium}-{lo_m.connector}-to-{hi_m.connector}"
        else:
            big, small = (lo_m, hi_m) if lo_conn_links > hi_conn_links else (hi_m, lo_m)
            split = max(lo_conn_links, hi_conn_links) // min(lo_conn_links, hi_conn_links)
            cables = big.connectors
            kind = f"{medium}-breakout-{big.connector}-to-{split}x{small.connector}"
        media[tier] = TierMedia(tier, n_links, gbps, length, cls, lo_m, hi_m, kind, cables, fibers)

    domain = server.scale_up_domain_gpus or server.gpus
    return FabricCounts(
        spec=spec, shape=shape, gpus=shape.systems * server.gpus, switch_models=models,
        switches=switches, links=links, ports_free=ports_free, media=media,
        scale_up_domains=math.ceil(shape.systems * server.gpus / domain) if shape.systems else 0,
        notes=tuple(dict.fromkeys(notes)),
    )


class FabricMemo:
    """:func:`count_fabric` for many specs that differ only in size and link lengths (one
    server and optics family laid out in many hall plans), reusing the counts of a size
    whose lengths lie between the same catalog reaches.

    A tier's length decides its media only through which optics reach it (``reach_m >=
    length`` in :func:`_fits` and :func:`_splitters`), so the counts of two such specs
    are the same but for the lengths they record, which are put back. A spec that fails
    is counted again each time (the error names its length).
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.reaches = sorted({o.reach_m for o in catalog.optics.values() if o.reach_m is not None})
        self._counts: dict[tuple, FabricCounts] = {}
        self.counted = 0
        self.reused = 0

    def count(self, spec: FabricSpec) -> FabricCounts:
        lengths = {t: spec.lengths_m.get(t, DEFAULT_LENGTH_M[t]) for t in TIERS}
        reach = tuple(bisect.bisect_left(self.reaches, lengths[t]) for t in TIERS)  # reaches below each length
        key = (repr(dataclasses.replace(spec, lengths_m={})), reach)
        found = self._counts.get(key)
        if found is None:
            self.counted += 1
            found = self._counts[key] = count_fabric(spec, self.catalog)
            return found
        self.reused += 1
        return dataclasses.replace(found, spec=spec, media={t: dataclasses.replace(m, length_m=lengths[t])
                                                            for t, m in found.media.items()})


def _links_per_connector(end: EndMedia, optic: Optic | None) -> int:
    """Links sharing one connector at an end (2 on a CPO MPO-16 carrying 2 x 400G)."""
    if end.kind == "cpo":
        return end.links_per_unit
    if optic is None or not optic.connectors:
        return 1
    return max(1, optic.ports // optic.connectors)

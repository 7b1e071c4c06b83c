"""The Clos shape of a fabric: leaves, spines and cores per plane, their bundles and ports.

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

The media on each tier's links are :mod:`planner.network.media`; the counts of a whole
fabric, :mod:`planner.network.fabric`.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field

from planner.parts.catalog import Catalog
from planner.parts.models import Server, Switch

ROLES = ("leaf", "spine", "core")


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
        # SU by SU, servers_in_su is the full SU, then at most one part-filled SU, then
        # empty ones: counted in closed form (a fitter asks this of thousands of shapes)
        sus, per = self.scalable_units, self.servers_per_su
        full = min(sus, self.servers // per) if per > 0 else 0
        if full:
            out[("leaf", per, self.up_per_leaf)] += self.rails * full
        if full < sus:
            out[("leaf", self.servers_in_su(full), self.up_per_leaf)] += self.rails
        if full + 1 < sus:
            out[("leaf", 0, self.up_per_leaf)] += self.rails * (sus - full - 1)
        if self.tiers >= 2:  # pods likewise: full ones, at most one part-filled, empty ones
            pods, per_pod = self.pods, self.sus_per_pod
            full_pods = min(pods, self.scalable_units // per_pod) if per_pod > 0 else 0
            for count, sus in ((full_pods, per_pod), (int(full_pods < pods), self.sus_in_pod(full_pods)),
                               (max(0, pods - full_pods - 1), 0)):
                if count:
                    leaves = sus * self.rails
                    out[("spine", leaves * self.bundle_leaf_spine, self.up_per_spine)] += self.spines_per_pod * count
        if self.tiers == 3:
            out[("core", self.pods * self.bundle_spine_core, 0)] += self.spines_per_pod * self.cores_per_group
        return [SwitchGroup(role, n, self.radix[role], down, up, self.up_width if role == "leaf" else 1)
                for (role, down, up), n in sorted(out.items()) if n]


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
    # the shape without tiers above the leaves; each case below sets the tiers it has
    base = Shape(servers=n, rails=rails, planes=spec.planes, link_gbps=gbps, servers_per_su=down,
                 scalable_units=sus, leaves=leaves, up_per_leaf=up_used, radix=radix,
                 systems=spec.servers, endpoints_per_system=per_system,
                 uplink_gbps=up_gbps if up_gbps != gbps else 0.0, up_width=width,
                 tiers=0, sus_per_pod=0, pods=0, spines_per_pod=0, cores_per_group=0,
                 up_per_spine=0, bundle_leaf_spine=0, bundle_spine_core=0)
    if n == 0:
        return base
    if leaves == 1 and spec.tiers is None:
        return dataclasses.replace(base, up_per_leaf=0, tiers=1, sus_per_pod=1, pods=1)
    rs = spec.spine_oversubscription
    if rs is not None and rs < 1:
        raise FabricError("spine oversubscription must be >= 1")
    spine_kept = math.floor(radix["spine"] / (rs + 1)) if rs else 0  # up ports a spine keeps in two tiers
    two = _uplinks(leaves, up_used, up, radix["spine"] - spine_kept)
    if spec.tiers == 2 or (spec.tiers is None and two is not None):
        if two is None:
            raise FabricError(
                f"{n} servers x {rails} rails need {leaves} leaves; two tiers of "
                f"{spine.key} ({radix['spine']} ports at {gbps:g}G) take at most "
                f"{radix['spine'] // max(1, up_used)} leaves with {up_used} uplinks each"
            )
        u, s, b = two
        return dataclasses.replace(base, up_per_leaf=u, tiers=2, sus_per_pod=sus, pods=1, spines_per_pod=s,
                                   bundle_leaf_spine=b)
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
    cores = _bundle(pods, spine_up, radix["core"])
    if cores is None:
        raise FabricError(
            f"{pods} pods of {sus_per_pod * rails * down} endpoints exceed three tiers of "
            f"{core.key} ({radix['core']} ports at {gbps:g}G per core)"
        )
    cores_pg, b2 = cores
    return dataclasses.replace(base, up_per_leaf=u, tiers=3, sus_per_pod=sus_per_pod, pods=pods,
                               spines_per_pod=spines_pp, cores_per_group=cores_pg, up_per_spine=spine_up,
                               bundle_leaf_spine=b1, bundle_spine_core=b2)

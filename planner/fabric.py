"""Rail-optimised Clos fabrics: exact switch, link, transceiver, cable, fibre and MPO counts.

Conventions
-----------
* A *rail* is one scale-out NIC port position across servers; a scalable unit (SU) has
  one leaf per rail, each leaf taking that rail from ``down`` servers.
* A leaf of radix ``k`` (ports at the NIC speed) splits ``down = k - up`` ports to
  servers and ``up = floor(k / (r + 1))`` to spines, where ``r`` is the
  oversubscription (1 = non-blocking: ``k/2`` down, ``k/2`` up).
* Every leaf connects to every spine of its pod with the same whole number of links
  (the *bundle*). In three tiers, spine ``i`` of every pod connects to every core of
  core group ``i`` with one bundle, so each core takes one bundle per pod (the k-ary fat
  tree). Spine and core counts are the smallest that divide the uplinks evenly and keep
  every switch within its ports.
* Counting media: a link has two ends; each end sits in a module (a transceiver, or a
  port of a twin-port module). Transceivers, cables, connectors and lit fibres are
  counted separately; fibres are counted once per link (in the cable).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from planner.catalog import Catalog, Optic, Server, Switch
from planner.errors import InputError, Problem

TIERS = ("node_leaf", "leaf_spine", "spine_core")


class FabricError(ValueError):
    """The requested fabric cannot be built (too large for the tiers, no optic fits)."""


@dataclass(frozen=True)
class FabricSpec:
    """What to build: servers, the server model, switch per tier and optics policy."""

    servers: int
    server: str
    leaf_switch: str
    spine_switch: str | None = None
    core_switch: str | None = None
    tiers: int | None = None  # None = the fewest that fit
    oversubscription: float = 1.0
    optics: dict[str, str] = field(default_factory=dict)  # tier -> optic class or key


@dataclass(frozen=True)
class TierMedia:
    """The modules, cables and fibres of one tier of links."""

    links: int
    link_gbps: float
    module_a: str | None  # lower end (server NIC or leaf uplink)
    module_b: str | None  # upper end
    modules_a: int
    modules_b: int
    cable_kind: str
    cables: int
    fibers: int
    connectors: dict[str, int]


@dataclass(frozen=True)
class FabricCounts:
    """Exact counts for a built fabric (analytic; the graph builder must agree)."""

    servers: int
    gpus: int
    tiers: int
    rails: int
    scalable_units: int
    servers_per_su: int
    pods: int
    switches: dict[str, int]
    switch_models: dict[str, str]
    links: dict[str, int]
    bundles: dict[str, int]
    ports_free: dict[str, int]
    media: dict[str, TierMedia]

    @property
    def transceivers(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            if m.module_a:
                out[m.module_a] += m.modules_a
            if m.module_b:
                out[m.module_b] += m.modules_b
        return dict(sorted(out.items()))

    @property
    def cables(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            out[m.cable_kind] += m.cables
        return dict(sorted(out.items()))

    @property
    def fibers(self) -> int:
        return sum(m.fibers for m in self.media.values())

    @property
    def mpo_connectors(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.media.values():
            for kind, n in m.connectors.items():
                if kind.startswith("mpo"):
                    out[kind] += n
        return dict(sorted(out.items()))

    def power_w(self, catalog: Catalog) -> tuple[dict[str, float], list[str]]:
        """Switch and optics power, W, and the parts whose power no source gives.

        Switches count at their max power (typical where only that is published);
        optics at their max power. A part without a sourced figure adds nothing and is
        named in the second return value, so the caller can say so.
        """
        missing: list[str] = []
        switches = 0.0
        for tier, n in self.switches.items():
            if n:
                sw = catalog.switches[self.switch_models[tier]]
                watts = sw.max_power_w or sw.typical_power_w
                if watts is None:
                    missing.append(sw.key)
                else:
                    switches += n * watts
        optics = 0.0
        for key, n in self.transceivers.items():
            optic = catalog.optics[key]
            if optic.power_w is None:
                missing.append(key)
            else:
                optics += n * optic.power_w
        return {"switches": switches, "optics": optics}, sorted(set(missing))


def _leaf_split(radix: int, oversubscription: float) -> tuple[int, int]:
    """(down, up) ports of a leaf of ``radix`` ports at oversubscription ``r``."""
    up = math.floor(radix / (oversubscription + 1))
    down = min(radix - up, math.floor(up * oversubscription + 1e-9))
    if up < 1 or down < 1:
        raise FabricError(f"a {radix}-port switch cannot split {oversubscription}:1")
    return down, up


def _bundle(lower: int, up_each: int, radix_upper: int) -> tuple[int, int] | None:
    """Fewest upper switches S and bundle b with S*b = up_each and lower*b <= radix_upper."""
    for s in range(max(1, math.ceil(lower * up_each / radix_upper)), up_each + 1):
        if up_each % s == 0 and lower * (up_each // s) <= radix_upper:
            return s, up_each // s
    return None


def _ports_at(switch: Switch, gbps: float) -> int:
    """Logical ports the switch offers at ``gbps`` (native or by breakout)."""
    for ports, speed in switch.port_options():
        if speed == gbps:
            return ports
    raise FabricError(
        f"switch {switch.key!r} has no {gbps:g}G ports (offers "
        + ", ".join(f"{p}x{s:g}G" for p, s in switch.port_options()) + ")"
    )


def count_fabric(spec: FabricSpec, catalog: Catalog) -> FabricCounts:
    """Analytic counts of a rail-optimised 2- or 3-tier Clos for ``spec``.

    Examples
    --------
    The DGX B200 SuperPOD with 4 scalable units (128 nodes) on QM9700 switches has 32
    leaves and 16 spines with 1,024 links at each tier (NVIDIA reference architecture).
    """
    server: Server = catalog.servers[spec.server]
    leaf = catalog.switches[spec.leaf_switch]
    spine = catalog.switches[spec.spine_switch or spec.leaf_switch]
    core = catalog.switches[spec.core_switch or spec.spine_switch or spec.leaf_switch]
    rails = server.compute_ports
    if rails < 1 or server.compute_nic_gbps is None:
        raise FabricError(f"server {server.key!r} lists no scale-out NICs")
    gbps = server.compute_nic_gbps
    k_leaf, k_spine, k_core = (_ports_at(sw, gbps) for sw in (leaf, spine, core))
    down, up = _leaf_split(k_leaf, spec.oversubscription)

    n = spec.servers
    if n < 0:
        raise FabricError("servers must be >= 0")
    sus = math.ceil(n / down) if n else 0
    leaves = rails * sus
    servers_on_fullest_leaf = min(n, down)
    up_used = math.ceil(servers_on_fullest_leaf / spec.oversubscription) if n else 0
    up_used = min(up_used, up)

    switches = {"leaf": leaves, "spine": 0, "core": 0}
    links = {"node_leaf": n * rails, "leaf_spine": 0, "spine_core": 0}
    bundles = {"leaf_spine": 0, "spine_core": 0}
    pods = 1 if n else 0
    tiers = 1 if leaves <= 1 and spec.tiers is None else 2

    if leaves > 1 or (spec.tiers or 0) >= 2:
        two = _bundle(leaves, up_used, k_spine) if up_used else None
        if spec.tiers == 3 or (two is None and spec.tiers != 2):
            tiers = 3
        elif two is None:
            raise FabricError(
                f"{n} servers x {rails} rails need {leaves} leaves; two tiers of "
                f"{spine.key} ({k_spine} ports) take at most {k_spine} leaves"
            )
        else:
            tiers = 2
            s, b = two
            switches["spine"] = s
            bundles["leaf_spine"] = b
            links["leaf_spine"] = leaves * up_used

    if tiers == 3:
        spine_down, spine_up = k_spine // 2, k_spine - k_spine // 2
        # leaves of a pod share that pod's spines: whole SUs per pod
        pod_choice = None
        for sus_per_pod in range(max(1, spine_down // rails), 0, -1):
            leaves_pp = sus_per_pod * rails
            found = _bundle(leaves_pp, up_used, spine_down)
            if found:
                pod_choice = (sus_per_pod, found)
                break
        if pod_choice is None:
            raise FabricError(f"no pod of {spine.key} spines can take one SU of {rails} leaves")
        sus_per_pod, (spines_pp, b1) = pod_choice
        pods = math.ceil(sus / sus_per_pod)
        spines = pods * spines_pp
        # spine i of every pod joins core group i; each core takes one bundle per pod
        spine_up_used = min(spine_up, (sus_per_pod * rails * b1) if sus > sus_per_pod
                            else leaves * b1)
        found = _bundle(pods, spine_up_used, k_core)
        if found is None:
            raise FabricError(
                f"{pods} pods exceed three tiers of {core.key} ({k_core} ports per core)"
            )
        cores_per_group, b2 = found
        switches.update(spine=spines, core=spines_pp * cores_per_group)
        bundles.update(leaf_spine=b1, spine_core=b2)
        links.update(leaf_spine=leaves * up_used, spine_core=spines * spine_up_used)

    ports_free = {
        "leaf": leaves * k_leaf - links["node_leaf"] - links["leaf_spine"],
        "spine": switches["spine"] * k_spine - links["leaf_spine"] - links["spine_core"],
        "core": switches["core"] * k_core - links["spine_core"],
    }
    media = {
        "node_leaf": _media(catalog, links["node_leaf"], gbps, server_cages(server), leaf,
                            spec.optics.get("node_leaf", "sr")),
        "leaf_spine": _media(catalog, links["leaf_spine"], gbps, leaf, spine,
                             spec.optics.get("leaf_spine", "dr")),
        "spine_core": _media(catalog, links["spine_core"], gbps, spine, core,
                             spec.optics.get("spine_core", "dr")),
    }
    return FabricCounts(
        servers=n, gpus=n * server.gpus, tiers=tiers if n else 0, rails=rails,
        scalable_units=sus, servers_per_su=down, pods=pods, switches=switches,
        switch_models={"leaf": leaf.key, "spine": spine.key, "core": core.key},
        links=links, bundles=bundles, ports_free=ports_free, media=media,
    )


def server_cages(server: Server) -> int:
    """Logical ports per NIC cage on the server (2 when two NICs share a twin-port cage)."""
    if server.compute_cages:
        return max(1, server.compute_ports // server.compute_cages)
    return 1


def _ports_per_cage(end: Switch | int, gbps: float) -> int:
    if isinstance(end, int):
        return end
    native_per_cage = end.ports // end.cages if end.cages else 1
    return native_per_cage * max(1, round(end.port_gbps / gbps))


def pick_optic(catalog: Catalog, choice: str, gbps: float, ports: int) -> Optic:
    """The optic for one link end: a catalog key, or the first of a class that fits.

    A module fits when it carries ``ports`` logical ports of ``gbps`` each.
    """
    if choice in catalog.optics:
        return catalog.optics[choice]
    fits = [
        o for o in catalog.optics.values()
        if o.optic_class == choice and o.ports == ports and math.isclose(o.gbps, gbps * ports)
    ]
    if not fits:
        raise FabricError(f"no {choice!r} optic carries {ports} x {gbps:g}G in the catalog")
    return sorted(fits, key=lambda o: (o.power_w is None, o.power_w or 0, o.key))[0]


def _media(catalog: Catalog, links: int, gbps: float, lower: Switch | int, upper: Switch,
           choice: str) -> TierMedia:
    if links == 0:
        return TierMedia(0, gbps, None, None, 0, 0, "none", 0, 0, {})
    pa, pb = _ports_per_cage(lower, gbps), _ports_per_cage(upper, gbps)
    a = pick_optic(catalog, choice, gbps, pa)
    b = pick_optic(catalog, choice, gbps, pb)
    per_link_fibers = (a.fibers_lit or 0) // a.ports
    conn_per_link = (a.connectors or 0) // a.ports if a.connector else 0
    cables = links * max(1, conn_per_link) if a.connector else links
    connectors: Counter[str] = Counter()
    if a.connector:
        connectors[a.connector] += links * conn_per_link
    if b.connector:
        connectors[b.connector] += links * ((b.connectors or 0) // b.ports)
    kind = a.medium if a.medium in ("dac", "acc", "aec") else f"{a.medium}-{a.connector}"
    return TierMedia(
        links=links, link_gbps=gbps, module_a=a.key, module_b=b.key,
        modules_a=math.ceil(links / pa), modules_b=math.ceil(links / pb),
        cable_kind=kind, cables=cables, fibers=links * per_link_fibers,
        connectors=dict(connectors),
    )


def check_spec(spec: FabricSpec, catalog: Catalog, file: str = "fabric") -> None:
    """Part keys in the spec exist; raise InputError with suggestions."""
    from planner.errors import did_you_mean

    problems = []
    if spec.server not in catalog.servers:
        problems.append(Problem(file, "server", f"unknown server {spec.server!r}",
                                hint=did_you_mean(spec.server, catalog.servers)))
    for name in ("leaf_switch", "spine_switch", "core_switch"):
        key = getattr(spec, name)
        if key is not None and key not in catalog.switches:
            problems.append(Problem(file, name, f"unknown switch {key!r}",
                                    hint=did_you_mean(key, catalog.switches)))
    if problems:
        raise InputError(problems)

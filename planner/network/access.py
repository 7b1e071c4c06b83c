"""The other networks of a site, each with its own counts.

* Front-end / storage: a rail-style Clos over the servers' storage NIC ports (each port of
  a server to a different leaf group), counted by :func:`planner.network.fabric.count_fabric`
  with ``network="storage"``.
* Out-of-band management and a mining site's access network: one port per endpoint on
  access switches (e.g. 48 x 1G), each access switch dual-homed by ``uplinks`` links to
  an aggregation layer.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from planner.network.clos import FabricError, ports_at
from planner.parts.catalog import Catalog


@dataclass(frozen=True)
class AccessNetwork:
    """Counts of a two-layer access network."""

    name: str
    endpoints: int
    access_switch: str
    access_ports: int
    access_switches: int
    uplinks_per_access: int
    uplink_gbps: float
    aggregation_switch: str | None
    aggregation_switches: int
    access_links: int
    uplinks: int
    access_ports_free: int
    aggregation_ports_free: int

    def as_dict(self) -> dict:
        return asdict(self)


def access_network(catalog: Catalog, name: str, endpoints: int, access_switch: str,
                   aggregation_switch: str | None = None, uplinks: int = 2) -> AccessNetwork:
    """One access port per endpoint; ``uplinks`` per access switch to distinct aggregation
    switches.

    access switches = ceil(endpoints / access ports); aggregation switches = the larger of
    ``uplinks`` (each access switch reaches ``uplinks`` different ones) and
    ceil(access switches x uplinks / aggregation ports at the uplink speed). Without an
    aggregation switch model, the uplinks are counted and the aggregation layer is left to
    the site.
    """
    if endpoints < 0:
        raise FabricError("endpoints must be >= 0")
    sw = catalog.switches[access_switch]
    if not sw.uplink_ports or not sw.uplink_gbps:
        raise FabricError(f"access switch {access_switch!r} lists no uplink ports")
    u = min(uplinks, sw.uplink_ports)
    n_access = math.ceil(endpoints / sw.ports) if endpoints else 0
    n_up = n_access * u
    agg_key = aggregation_switch
    n_agg, agg_free = 0, 0
    if n_access > 1 and agg_key:
        agg = catalog.switches[agg_key]
        agg_ports = ports_at(agg, sw.uplink_gbps)
        n_agg = max(u, math.ceil(n_up / agg_ports))
        agg_free = n_agg * agg_ports - n_up
    elif n_access <= 1:
        n_up, agg_key = 0, None
    return AccessNetwork(
        name=name, endpoints=endpoints, access_switch=access_switch, access_ports=sw.ports,
        access_switches=n_access, uplinks_per_access=u if n_up else 0, uplink_gbps=sw.uplink_gbps,
        aggregation_switch=agg_key, aggregation_switches=n_agg, access_links=endpoints,
        uplinks=n_up, access_ports_free=n_access * sw.ports - endpoints,
        aggregation_ports_free=agg_free,
    )


def oob_endpoints(catalog: Catalog, server: str, servers: int, switches: int) -> int:
    """Management ports: each server's BMC ports plus one per fabric switch."""
    s = catalog.servers[server]
    return servers * (s.mgmt_ports or 1) + switches


def miner_endpoints(catalog: Catalog, fleet: dict[str, int]) -> int:
    """One access port per miner (the catalog's port count where a source gives it)."""
    return sum(n * (catalog.miners[k].network_ports or 1) for k, n in fleet.items())


def miner_network_w(catalog: Catalog, miner: str) -> float:
    """A miner's share of its access switch's power: its ports / the switch's ports."""
    ports = catalog.miners[miner].network_ports or 1
    return ports * catalog.watts(catalog.access_switch) / catalog.switches[catalog.access_switch].ports

"""Rail-optimised Clos fabrics: exact switch, link, transceiver, cable, fibre and MPO counts.

A fabric is counted in two steps: its shape (:mod:`planner.network.clos`: leaves, spines and
cores per plane, bundles, planes, per-tier speeds; the conventions are written there), then
the media of each tier's links (:mod:`planner.network.media`: optics or copper at each end,
connectors, fibres). :func:`count_fabric` puts them together into :class:`FabricCounts`;
:class:`FabricMemo` reuses the counts of sizes whose lengths reach the same optics.

Two modes agree exactly: :func:`count_fabric` counts analytically from the shape, and
``planner.network.graph.build_graph`` builds a networkx graph whose counts are derived from
node degrees (a property test checks they match).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter
from dataclasses import dataclass

from planner.network.clos import ROLES, FabricError, FabricSpec, Shape, plan_shape, ports_at, server_ports
from planner.network.media import (
    COPPER,
    CPO_LANES_PER_CONNECTOR,
    EndMedia,
    Lanes,
    MediaEnd,
    TierMedia,
    choose_media,
    end_media,
    fibers_per_link,
    link_lanes,
    links_per_cage,
    links_per_connector,
)
from planner.parts.catalog import Catalog
from planner.parts.models import MissingPower, PowerFigure

# the fabric's public names that live in its two stages (callers import them from here)
__all__ = ["FabricCounts", "FabricError", "FabricMemo", "FabricSpec", "Shape", "count_fabric", "count_topology",
           "plan_shape", "ports_at"]

TIERS = ("node_leaf", "leaf_spine", "spine_core")
DEFAULT_LENGTH_M = {"node_leaf": 30.0, "leaf_spine": 100.0, "spine_core": 300.0}


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
        is refused (:class:`planner.parts.models.MissingPower`), never counted as zero.
        """
        figures: dict[str, PowerFigure] = {}

        def watts(key: str | None) -> float:
            if key is None:
                raise ValueError("a module end without a part")  # end_media names the part of every module
            if key not in figures:
                figure = catalog.power(key)
                if figure is None:
                    raise MissingPower(key)
                figures[key] = figure
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

    def switch_end(role: str, gbps: float) -> MediaEnd:
        s = sw[role]
        if s.optics == "cpo":
            if not s.fiber_connector:
                notes.append(f"{s.key}: front-panel connector not in the catalog; counted as "
                             f"MPO-16 with {CPO_LANES_PER_CONNECTOR} lanes each")
            return MediaEnd("cpo", 1, s)
        return MediaEnd("pluggable", links_per_cage(s, gbps), s)

    def per_switch(role: str, direction: str) -> list[tuple[int, int]]:
        return [(p * g.count, g.down if direction == "down" else g.up) for g in groups if g.role == role]

    tiers = {
        "node_leaf": (MediaEnd("nic", nic_per_module), switch_end("leaf", shape.link_gbps),
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
        either = a or b
        if lanes.gbps is None and either is not None and either.lanes:
            lanes = Lanes(either.lanes // either.ports, either.lane_gbps)  # as the optic carries it
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
            plug = either
            if plug is None:
                raise FabricError(f"{tier}: copper with no cable")  # copper classes never come from a CPO end
            lo_m = end_media(lo, plug, lo_links, lanes_per_link, True)
            hi_m = end_media(hi, plug, hi_links, lanes_per_link, True)
            cables = lo_m.units if lo.per_module >= hi.per_module else hi_m.units
            media[tier] = TierMedia(tier, n_links, gbps, length, cls, lo_m, hi_m, plug.key, cables, 0)
            continue
        lo_m = end_media(lo, a, lo_links, lanes_per_link, False)
        hi_m = end_media(hi, b, hi_links, lanes_per_link, False)
        fibers = fibers_per_link(either, lanes_per_link)
        lo_conn_links = links_per_connector(lo_m, a)
        hi_conn_links = links_per_connector(hi_m, b)
        medium = either.medium if either is not None else "smf"
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
    length`` in :func:`planner.network.media.choose_media`), so the counts of two such specs
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

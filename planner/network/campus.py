"""Links between the buildings of one site over routes beyond grey reach (issue 22).

A route between two halls whose path is longer than any grey module of a tier's link speed
reaches (:func:`planner.network.interconnect.grey_reach_m` per speed: 10 km at 400G, 2 km at
800G with the bundled catalog; :func:`tier_far`) cannot carry that tier's own optics. Its links
are carried by the route's interconnect instead: the interconnect's modules (coherent
400ZR/OpenZR+ over a DWDM line system, or grey long-reach optics) plug into the switch ports
those links use, and its mux/demux, amplifiers and dark fibre are added. So, for a cluster
option whose links cross such a route:

- each tier's media are chosen for its longest link that stays on site (:func:`local_lengths`),
  not for the far links;
- the far links are sized as one interconnect per route (:func:`campus_interconnect`): the
  bandwidth each way is the sum over tiers of crossing links x the tier's link speed;
- at each end of a tier's crossing links that is a pluggable module, ``crossing links //
  links per module`` modules are taken off the fabric's transceivers (a twin-port module whose
  other port stays on site is kept; breakouts of a port into slower modules are not modelled);
- their cables are not the tier's cables: :func:`local_links` drops them before the cables are
  priced (they ride the interconnect's dark fibre);
- a module of the interconnect plugs into the switch ports at both ends of every crossing tier,
  so it is offered only where it is known to fit there (:func:`port_refusal`: protocol, cage
  type, power class, one link of its speed per cage); a figure the catalog leaves out is never
  assumed to fit, and a route with no module that fits refuses the plans across it.

The stage is pure: it reads an option's links (:class:`planner.network.layout.TierLinks`, with
the hall of each end), the site's routes and the catalog, and returns frozen records.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.network.interconnect import Interconnect, Need, grey_reach_m, size_interconnect
from planner.network.layout import TierLinks
from planner.network.media import EndMedia, TierMedia, form_factors
from planner.parts.catalog import Catalog
from planner.parts.models import Optic
from planner.site.schema import Route

if TYPE_CHECKING:
    from planner.network.clos import Shape

Pair = tuple[str, str]  # two hall names, sorted


@dataclass(frozen=True)
class FarRoute:
    """A route longer than grey reach: its halls, its place in the site's ``[[routes]]``
    (for messages), its spare share and its path length."""

    pair: Pair
    index: int
    km: float
    spare: float


TierFar = Mapping[str, Mapping[Pair, FarRoute]]  # per tier, the routes beyond its grey reach


def path_m(route: Route) -> float:
    """The route's path length, m (the sum of its polyline's segments)."""
    return sum(math.dist(p, q) for p, q in itertools.pairwise(route.polyline))


def far_routes(routes: Sequence[Route], catalog: Catalog, gbps: float | None = None) -> dict[Pair, FarRoute]:
    """The site's routes whose path is longer than grey reach, by hall pair: the longest grey
    module of ``gbps`` a port (the longest grey single-mode module of any speed when None;
    :func:`planner.network.interconnect.grey_reach_m`)."""
    reach = grey_reach_m(catalog, gbps)
    out: dict[Pair, FarRoute] = {}
    for i, r in enumerate(routes):
        metres = path_m(r)
        if metres > reach:
            a, b = sorted((r.from_building, r.to_building))
            out[(a, b)] = FarRoute((a, b), i, metres / 1000, r.spare_ratio)
    return out


def tier_gbps(shape: Shape) -> dict[str, float]:
    """The link speed of each tier of a fabric's shape, Gb/s."""
    return {"node_leaf": shape.link_gbps, "leaf_spine": shape.up_gbps, "spine_core": shape.up_gbps}


def tier_far(routes: Sequence[Route], catalog: Catalog, speeds: Mapping[str, float]) -> TierFar:
    """Per tier, the routes beyond its own grey reach (the longest grey module of the tier's link
    speed: an 800G tier whose modules reach 2 km cannot use a 10 km route's 400G-LR4); tiers
    with none are left out, so an empty answer means no link rides an interconnect."""
    out = {}
    for tier, gbps in speeds.items():
        far = far_routes(routes, catalog, gbps)
        if far:
            out[tier] = far
    return out


def _route_of(tl: TierLinks, far: Mapping[Pair, FarRoute]) -> list[tuple[Pair, np.ndarray]]:
    """(hall pair, mask of the rack pairs crossing it) of each far route the links cross."""
    if not far or tl.hall_a is None or tl.hall_b is None or not tl.links.size:
        return []
    names = tl.halls
    index = {n: i for i, n in enumerate(names)}
    out = []
    for (a, b) in far:
        if a in index and b in index:
            ia, ib = index[a], index[b]
            mask = ((tl.hall_a == ia) & (tl.hall_b == ib)) | ((tl.hall_a == ib) & (tl.hall_b == ia))
            if mask.any():
                out.append(((a, b), mask))
    return out


def far_mask(tl: TierLinks, far: Mapping[Pair, FarRoute]) -> np.ndarray:
    """True for the rack pairs whose link crosses a far route (``far``: the tier's own)."""
    mask = np.zeros(tl.links.shape, dtype=bool)
    for _pair, m in _route_of(tl, far):
        mask |= m
    return mask


def local_links(links: dict[str, TierLinks], far: TierFar) -> dict[str, TierLinks]:
    """The links that stay on site: each tier without those crossing a route beyond its reach."""
    if not far:
        return links
    return {t: tl.where(~far_mask(tl, far[t])) if far.get(t) else tl for t, tl in links.items()}


def local_lengths(links: dict[str, TierLinks], far: TierFar) -> dict[str, float]:
    """The longest link of each tier that stays on site, m (0 where none): what its media
    must reach."""
    out = {}
    for t, tl in local_links(links, far).items():
        out[t] = float(tl.length_m.max()) if tl.length_m.size else 0.0
    return out


def crossing(links: dict[str, TierLinks], far: TierFar) -> dict[str, dict[Pair, int]]:
    """Links of each tier that cross each route beyond the tier's reach."""
    out: dict[str, dict[Pair, int]] = {}
    for t, tl in links.items():
        for pair, mask in _route_of(tl, far.get(t, {})):
            out.setdefault(t, {})[pair] = int(tl.links[mask].sum())
    return out


# the switch roles at the lower and upper end of each tier's links
TIER_ENDS = {"node_leaf": ("server", "leaf"), "leaf_spine": ("leaf", "spine"), "spine_core": ("spine", "core")}


def port_refusal(catalog: Catalog, optic: Optic, switch_key: str | None, end: EndMedia, link_gbps: float) -> str | None:
    """Why ``optic`` cannot carry a crossing link in the port of ``switch_key`` at ``end`` (None: it fits).

    It fits when every one of these is known and holds: the switch runs Ethernet (400ZR,
    OpenZR+ and the grey long-reach modules are Ethernet PHYs; an InfiniBand port takes none);
    its cages are pluggable and of a type the module is made for; the module's power is at most
    the cage's rated module power (``cage_power_w``, its power class); the module carries one
    link of the tier's speed in one cage (the tier's own module carries ``end.links_per_unit``
    links a cage: a coherent module there would need more cages than the fabric has, and
    breakouts onto coherent modules are not modelled).
    """
    switch = catalog.switches.get(switch_key or "")
    if switch is None:
        return (f"{switch_key or 'a server NIC'} is not a switch of the catalog: no document says its port "
                f"takes {optic.key}")
    if switch.protocol != "ethernet":
        return (f"{switch.key} runs {'InfiniBand' if switch.protocol == 'infiniband' else 'an unstated protocol'}; "
                f"{optic.key} is an Ethernet module")
    if switch.optics != "pluggable" or not switch.cage_type:
        return f"{switch.key} has no pluggable cages ({switch.optics} optics)"
    if not form_factors(switch.cage_type) & form_factors(optic.form_factor):
        return (f"{optic.key} is {optic.form_factor or 'of no stated form factor'}; "
                f"{switch.key}'s cages are {switch.cage_type}")
    if optic.power_w is None:
        return f"{optic.key} has no power figure to hold against {switch.key}'s cages"
    if switch.cage_power_w is None:
        return (f"the catalog gives no module power class for {switch.key}'s cages, so a {optic.power_w:g} W "
                f"{optic.key} is not assumed to fit")
    if optic.power_w > switch.cage_power_w:
        return (f"{optic.key} draws {optic.power_w:g} W, more than the {switch.cage_power_w:g} W "
                f"a {switch.key} cage takes")
    if optic.ports != 1 or not math.isclose(optic.gbps, link_gbps) or end.links_per_unit != 1:
        return (f"{optic.key} carries one {optic.gbps:g}G link a cage; the tier runs {end.links_per_unit} x "
                f"{link_gbps:g}G links in each {switch.key} cage")
    return None


def tier_refusal(catalog: Catalog, optic: Optic, media: TierMedia, switches: Mapping[str, str]) -> str | None:
    """Why ``optic`` cannot carry the tier's crossing links at one of their two ends (None: it fits both)."""
    lower, upper = TIER_ENDS.get(media.tier, (None, None))
    for role, end in ((lower, media.lower), (upper, media.upper)):
        why = port_refusal(catalog, optic, switches.get(role or ""), end, media.link_gbps)
        if why:
            return f"{media.tier}'s {role} end: {why}"
    return None


@dataclass(frozen=True)
class RouteLink:
    """One far route's interconnect: the crossing links by tier, the bandwidth each way and
    the sized interconnect (its chosen option is None when none is fully priced)."""

    route: FarRoute
    by_tier: dict[str, int]
    gbps: float
    sized: Interconnect


@dataclass(frozen=True)
class CampusLinks:
    """The interconnect of a cluster option across its far routes, and the tier modules it
    replaces (:mod:`planner.network.campus`'s rule)."""

    routes: tuple[RouteLink, ...]
    replaced: dict[str, int]

    @property
    def far(self) -> dict[str, dict[Pair, FarRoute]]:
        """Per tier, the routes its crossing links ride (a :data:`TierFar`)."""
        out: dict[str, dict[Pair, FarRoute]] = {}
        for r in self.routes:
            for tier in r.by_tier:
                out.setdefault(tier, {})[r.route.pair] = r.route
        return out

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Why a route has no chosen option (empty when every route has one)."""
        return tuple(f"routes[{r.route.index}] ({r.route.pair[0]} - {r.route.pair[1]}, {r.route.km:g} km): "
                     f"{r.sized.why}" for r in self.routes if r.sized.chosen is None)

    @property
    def capex_usd(self) -> float:
        """USD of every route's chosen option, each part to the cent (as bom.csv writes it)."""
        return sum(round(p.quantity * (p.unit_usd or 0.0), 2) for r in self.routes if r.sized.chosen
                   for p in r.sized.chosen.parts)

    @property
    def power_w(self) -> float:
        """W of every route's chosen option's parts that have a figure (:attr:`no_power`
        names the others: they are left out, not counted as zero)."""
        return sum(p.quantity * p.unit_w for r in self.routes if r.sized.chosen for p in r.sized.chosen.parts
                   if p.unit_w is not None)

    @property
    def no_power(self) -> tuple[str, ...]:
        """Parts of the chosen options without a power figure."""
        return tuple(sorted({p.key for r in self.routes if r.sized.chosen for p in r.sized.chosen.parts
                             if p.unit_w is None}))


def campus_interconnect(links: dict[str, TierLinks], far: TierFar, media: Mapping[str, TierMedia],
                        catalog: Catalog, switches: Mapping[str, str], site_file: str = "") -> CampusLinks | None:
    """The interconnect of every far route an option's links cross (None when they cross none).

    Per route: gbps = sum over tiers of crossing links x the tier's link Gb/s, sized over the
    route's km with its spare (:func:`planner.network.interconnect.size_interconnect`), with the
    modules that plug into the ports at both ends of every crossing tier (:func:`tier_refusal`;
    ``switches``: the fabric's switch key by role). Per tier and end of its crossing links that
    is a pluggable module: ``crossing // links per module`` of that module replaced.
    """
    by_tier = crossing(links, far)
    if not by_tier:
        return None
    routes = []
    replaced: Counter[str] = Counter()
    every = {pair: route for tier_routes in far.values() for pair, route in tier_routes.items()}
    for pair, route in sorted(every.items()):
        tiers = {t: n[pair] for t, n in sorted(by_tier.items()) if n.get(pair)}
        if not tiers:
            continue
        gbps = sum(n * media[t].link_gbps for t, n in tiers.items())
        def fits(optic: Optic, tiers: dict[str, int] = tiers) -> str | None:
            return next((why for t in tiers if (why := tier_refusal(catalog, optic, media[t], switches))), None)

        sized = size_interconnect(catalog, Need(gbps, route.km, route.spare), file=site_file,
                                  key=f"routes[{route.index}].polyline", fits=fits)
        routes.append(RouteLink(route, tiers, gbps, sized))
        for t, n in tiers.items():
            for end in (media[t].lower, media[t].upper):
                if end.kind == "module" and end.part and end.links_per_unit:
                    replaced[end.part] += n // end.links_per_unit
    return CampusLinks(tuple(routes), dict(sorted(replaced.items())))


@dataclass(frozen=True)
class RiddenCounts:
    """The fabric's cables, lit fibres and connectors with its far links on the interconnect."""

    cables: dict[str, int]
    fibers: int
    connectors: dict[str, int]

    @property
    def mpo_connectors(self) -> dict[str, int]:
        return {k: v for k, v in self.connectors.items() if k.startswith("mpo")}


def ridden_counts(media: Mapping[str, TierMedia], campus: CampusLinks | None, catalog: Catalog) -> RiddenCounts:
    """Cables, lit fibres and connectors of the fabric when its far links ride the interconnect
    (as bom.csv counts them): with ``c`` a tier's crossing links (every route),

    - cables: the tier's cables less ``c x cables / links`` (the far links have no tier cable);
    - lit fibres: (links - c) x fibres a link, plus each route's interconnect lights its fibre
      pairs (2 fibres a pair; the spare fibres laid are dark);
    - connectors: at each module end, ``c // links a module`` modules' connectors fewer (the
      modules the interconnect replaces), plus the interconnect's modules' own connectors.
    """
    crossing: Counter[str] = Counter()
    for r in campus.routes if campus is not None else ():
        crossing.update(r.by_tier)
    cables: Counter[str] = Counter()
    connectors: Counter[str] = Counter()
    fibers = 0
    for t, m in media.items():
        c = min(crossing.get(t, 0), m.links)
        if m.cables:
            cables[m.cable_kind] += m.cables - (round(c * m.cables / m.links) if m.links else 0)
        fibers += (m.links - c) * m.fibers_per_link
        connectors.update(m.connectors)
        for end in (m.lower, m.upper):
            optic = catalog.optics.get(end.part or "")
            if c and end.kind == "module" and end.connector and optic is not None and optic.connectors:
                connectors[end.connector] -= (c // end.links_per_unit) * optic.connectors
    for r in campus.routes if campus is not None else ():
        chosen = r.sized.chosen
        if chosen is None:
            continue
        fibers += 2 * chosen.fibre_pairs
        optic = catalog.optics.get(chosen.module)
        if optic is not None and optic.connector and optic.connectors:
            connectors[optic.connector] += chosen.modules * optic.connectors
    return RiddenCounts({k: v for k, v in sorted(cables.items()) if v}, fibers,
                        {k: v for k, v in sorted(connectors.items()) if v})

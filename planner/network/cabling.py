"""Structured cabling of a laid-out fabric: the cables of each tier by length (rounded up to
the catalog's stock lengths), patch panels and trunks between halls, and the price of a
cable or trunk at a length. Reads a :class:`planner.network.layout.Layout`; the floor plan
itself is :mod:`planner.network.layout`."""

from __future__ import annotations

import math

import numpy as np

from planner.network.clos import Shape
from planner.network.fabric import FabricCounts
from planner.network.interconnect import CABLE_SIZES_FIBERS, Need, interconnect_doc, size_interconnect
from planner.network.layout import Layout, rack_room
from planner.network.media import TierMedia
from planner.parts.catalog import Catalog
from planner.parts.models import COPPER_CLASSES
from planner.site.schema import Route


def structured_cabling(layout: Layout, shape: Shape, fabric: FabricCounts, catalog: Catalog) -> list[dict]:
    """Trunks, patch panels and jumpers for the switch-to-switch links that leave a row.

    Links between racks of one row run as direct cables. A link to another row, the
    meet-me room or another hall runs over a structured path: a jumper from the port to a
    patch panel, a shared MPO trunk, a panel and a jumper at the far end. Per pair of
    rooms: trunks = ceil(lit fibres / fibres per trunk); panels at each end =
    ceil(lit fibres / fibres per panel); jumpers = 2 per link.
    """
    out = []
    room_ids: dict[tuple, int] = {}
    room = np.array([room_ids.setdefault(rack_room(r), len(room_ids)) for r in layout.racks], dtype=np.int64)
    pairs = {"leaf_spine": _leaf_spine_pairs(layout, shape), "spine_core": _spine_core_pairs(layout, shape)}
    bundles = {"leaf_spine": shape.bundle_leaf_spine, "spine_core": shape.bundle_spine_core}
    panels = sorted(catalog.entries["patch_panels"].values(), key=lambda e: -(e.item.fibers or 0))
    panel = panels[0].item if panels else None
    for tier, (a, b) in pairs.items():
        media = fabric.media[tier]
        if not a.size or not media.links or media.optic_class in COPPER_CLASSES:
            continue
        mode = "om4" if media.optic_class == "sr" else "os2"
        trunks = sorted((e.item for e in catalog.entries["cables"].values()
                         if e.item.kind == "trunk" and e.item.fiber_type == mode and e.item.fibers),
                        key=lambda c: -c.fibers)
        ra, rb = room[a], room[b]
        cross = ra != rb
        # links per unordered pair of rooms: each rack pair carries the tier's bundle
        code = np.minimum(ra, rb)[cross] * len(room_ids) + np.maximum(ra, rb)[cross]
        _, counts = np.unique(code, return_counts=True)
        groups = {i: int(c) * bundles[tier] for i, c in enumerate(counts)}
        if not groups:
            continue
        trunk = trunks[0] if trunks else None
        fibers = {k: n * media.fibers_per_link for k, n in groups.items()}
        n_links = sum(groups.values())
        out.append({
            "tier": tier, "links": n_links, "room_pairs": len(groups),
            "trunk": trunk.key if trunk else None,
            "trunks": sum(-(-f // trunk.fibers) for f in fibers.values()) if trunk else None,
            "panel": panel.key if panel else None,
            "panels": 2 * sum(-(-f // panel.fibers) for f in fibers.values()) if panel and panel.fibers else None,
            "jumpers": 2 * n_links, "jumper_connector": media.upper.connector or media.lower.connector,
            "lit_fibers": sum(fibers.values()),
        })
    return out


def _leaf_spine_pairs(layout: Layout, shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """(leaf rack, spine rack) of every leaf-spine switch pair: each leaf of a pod and plane
    meets every spine of that pod and plane."""
    if shape.tiers < 2 or not layout.leaf_rack:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    spines = {(p, pod): np.array([layout.spine_rack[(p, pod, j)] for j in range(shape.spines_per_pod)],
                                 dtype=np.int64)
              for p in range(shape.planes) for pod in range(shape.pods)}
    a = np.repeat(np.fromiter(layout.leaf_rack.values(), dtype=np.int64, count=len(layout.leaf_rack)),
                  shape.spines_per_pod)
    b = [spines[(p, su // shape.sus_per_pod)] for (p, su, _r) in layout.leaf_rack]
    return a, np.concatenate(b)


def _spine_core_pairs(layout: Layout, shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """(spine rack, core rack) of every spine-core switch pair: spine j of a pod meets the
    cores of group j of its plane."""
    if shape.tiers != 3 or not layout.spine_rack:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cores = {(p, j): np.array([layout.core_rack[(p, j, c)] for c in range(shape.cores_per_group)], dtype=np.int64)
             for p in range(shape.planes) for j in range(shape.spines_per_pod)}
    a = np.repeat(np.fromiter(layout.spine_rack.values(), dtype=np.int64, count=len(layout.spine_rack)),
                  shape.cores_per_group)
    b = [cores[(p, j)] for (p, _pod, j) in layout.spine_rack]
    return a, np.concatenate(b)


def campus_trunks(layout: Layout, fibers_per_link: dict[str, int], routes: list[Route], *,
                  catalog: Catalog | None = None, link_gbps: float | None = None, site_file: str = "") -> list[dict]:
    """High-count trunks per hall pair: lit fibres x (1 + spare), in 864/1,728/3,456-fibre cables.

    A route over 10 km (past grey LR reach) is flagged ``dci_optics`` and, given the catalog
    and the link speed, gets a sized ``interconnect`` (:mod:`planner.network.interconnect`)
    for links x ``link_gbps`` over the route's length with the route's spare.
    """
    out = []
    for (a, b), links in sorted(layout.inter_building.items()):
        index, route = next(((i, r) for i, r in enumerate(routes) if {r.from_building, r.to_building} == {a, b}),
                            (None, None))
        spare = route.spare_ratio if route else 0.5
        fibers = math.ceil(links * max(fibers_per_link.values() or [0]) * (1 + spare))
        size = next((c for c in CABLE_SIZES_FIBERS if c >= fibers), CABLE_SIZES_FIBERS[-1])
        cables = math.ceil(fibers / size)
        path = sum(math.dist(p, q) for p, q in zip(route.polyline, route.polyline[1:], strict=False)) if route else None
        row = {"from": a, "to": b, "links": links, "fibers_needed": fibers, "cable_fibers": size,
               "cables": cables, "route_m": path, "dci_optics": bool(path and path > 10_000)}
        if path and path > 10_000 and catalog is not None and link_gbps:
            need = Need(links * link_gbps, path / 1000, spare)
            row["interconnect"] = interconnect_doc(size_interconnect(catalog, need, file=site_file,
                                                                     key=f"routes[{index}].polyline"))
        out.append(row)
    return out


def fastest(media: dict[str, TierMedia]) -> float:
    """Gb/s of the fastest tier that has links: what one link between halls may carry."""
    return max((m.link_gbps for m in media.values() if m.links), default=0.0)


def cable_price(catalog: Catalog, media: TierMedia, length_m: float) -> tuple[float, str] | None:
    """USD for one cable of a tier at ``length_m`` and the basis, or None where a figure
    is missing. Copper assemblies at their unit price; a fibre cable as fibres x length x
    the fibre's price per fibre-metre, plus the plugs at both ends at their price (fibres:
    the positions of the end with fewer, so an MPO-16 breakout to two MPO-12 counts 16)."""
    if media.optic_class in COPPER_CLASSES:
        return catalog.unit_cost(media.cable_kind)
    if not media.cables or not math.isfinite(length_m):
        return None
    fibre = "om4" if media.cable_kind.startswith("mmf") else "os2"
    per_m = catalog.estimate(fibre)
    if per_m is None or per_m.unit_cost_usd_per_m is None:
        return None
    connectors = catalog.entries["connectors"]
    plugs, parts = 0.0, []
    fibres: int | None = None
    for end in (media.lower, media.upper):
        if not end.connector or end.connector not in connectors:
            return None
        price = catalog.unit_cost(end.connector)
        if price is None:
            return None
        each = end.connectors / media.cables
        plugs += each * price[0]
        positions = round(each * connectors[end.connector].item.fibers)
        fibres = positions if fibres is None else min(fibres, positions)
        parts.append(f"{each:g} x {end.connector} at {price[0]:,.0f} USD")
    if fibres is None:  # a link has two ends: never
        return None
    usd = fibres * length_m * per_m.unit_cost_usd_per_m + plugs
    return usd, (f"ESTIMATE: {fibres} fibres x {length_m:g} m x {per_m.unit_cost_usd_per_m:g} USD per fibre-metre "
                 f"({fibre}) + plugs {' + '.join(parts)}")


def trunk_price(catalog: Catalog, key: str, length_m: float) -> tuple[float, str] | None:
    """USD for one MPO trunk of ``length_m`` and the basis: its per-metre price (or its
    fibres at the fibre's price per fibre-metre) plus its plugs at both ends; None where a
    figure is missing."""
    entry = catalog.find(key)
    if entry is None or not math.isfinite(length_m) or length_m <= 0:
        return None
    cable = entry.item
    per_m = catalog.estimate(key)
    if per_m is not None and per_m.unit_cost_usd_per_m is not None:
        metre, how = per_m.unit_cost_usd_per_m, f"{per_m.unit_cost_usd_per_m:g} USD/m"
    else:
        fibre = catalog.estimate(cable.fiber_type or "")
        if fibre is None or fibre.unit_cost_usd_per_m is None or not cable.fibers:
            return None
        metre = cable.fibers * fibre.unit_cost_usd_per_m
        how = f"{cable.fibers} fibres x {fibre.unit_cost_usd_per_m:g} USD per fibre-metre"
    plugs = 0.0
    for end in (cable.connector_a, cable.connector_b):
        price = catalog.unit_cost(end) if end else None
        if price is None:
            return None
        plugs += (cable.connectors_per_end or 1) * price[0]
    return metre * length_m + plugs, (f"ESTIMATE: {length_m:,.0f} m (the mean length of the links it carries) x "
                                      f"{how} + {2 * (cable.connectors_per_end or 1)} plugs, {plugs:,.0f} USD")

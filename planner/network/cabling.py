"""Structured cabling of a laid-out fabric: the cables of each tier by length (rounded up to
the catalog's stock lengths), patch panels and trunks between halls, and the price of a
cable or trunk at a length. Reads a :class:`planner.network.layout.Layout`, or the links of
a cluster option before the solve (:func:`cable_bill`: the option's cabling capex, and the
BOM's cable rows of the chosen plan); the floor plan itself is :mod:`planner.network.layout`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.network.clos import Shape
from planner.network.fabric import FabricCounts
from planner.network.interconnect import (
    CABLE_SIZES_FIBERS,
    Need,
    grey_reach_m,
    interconnect_doc,
    size_interconnect,
)
from planner.network.layout import Layout, TierLinks, runs
from planner.network.media import TierMedia
from planner.parts.catalog import Catalog
from planner.parts.models import COPPER_CLASSES
from planner.site.schema import Route

if TYPE_CHECKING:
    from planner.network.campus import TierFar


def structured_cabling(layout: Layout, shape: Shape, fabric: FabricCounts, catalog: Catalog,
                       far: TierFar | None = None) -> list[dict]:
    """Trunks, patch panels and jumpers for the switch-to-switch links that leave a row
    (:func:`structured_tiers` of the layout's links; without those across a route beyond a tier's
    grey reach, ``far``: they ride the route's interconnect, as bom.csv counts them)."""
    links = layout.links
    if far:
        from planner.network.campus import local_links

        links = local_links(links, far)
    return [{k: v for k, v in row.items() if k != "mean_m"} for row in structured_tiers(links, fabric, catalog)]


def structured_tiers(links: dict[str, TierLinks], fabric: FabricCounts, catalog: Catalog) -> list[dict]:
    """Trunks, patch panels and jumpers for the switch-to-switch links that leave a row.

    Links between racks of one row run as direct cables. A link to another row, the
    meet-me room or another hall runs over a structured path: a jumper from the port to a
    patch panel, a shared MPO trunk, a panel and a jumper at the far end. Per pair of
    rooms: trunks = ceil(lit fibres / fibres per trunk); panels at each end =
    ceil(lit fibres / fibres per panel); jumpers = 2 per link. ``mean_m``: the mean length
    of the links leaving their row (a trunk is priced at it).
    """
    out = []
    panel, trunks_of = _structured_parts(catalog)
    for tier in ("leaf_spine", "spine_core"):
        media, tl = fabric.media.get(tier), links.get(tier)
        if media is None or tl is None or not tl.links.size or not media.links or media.optic_class in COPPER_CLASSES:
            continue
        trunks = trunks_of["om4" if media.optic_class == "sr" else "os2"]
        cross = ~tl.same_room
        if not cross.any():
            continue
        # links per unordered pair of rooms
        ra, rb = tl.room_a[cross], tl.room_b[cross]
        rooms = int(max(ra.max(), rb.max())) + 1
        per_pair = sums_by_value(np.minimum(ra, rb) * rooms + np.maximum(ra, rb), tl.links[cross])[1].astype(np.int64)
        n_links = int(per_pair.sum())
        fibers = per_pair * media.fibers_per_link
        trunk = trunks[0] if trunks else None
        out.append({
            "tier": tier, "links": n_links, "room_pairs": int(per_pair.size),
            "trunk": trunk.key if trunk else None,
            "trunks": int((-(-fibers // trunk.fibers)).sum()) if trunk else None,
            "panel": panel.key if panel else None,
            "panels": int(2 * (-(-fibers // panel.fibers)).sum()) if panel and panel.fibers else None,
            "jumpers": 2 * n_links, "jumper_connector": media.upper.connector or media.lower.connector,
            "lit_fibers": int(fibers.sum()),
            "mean_m": float((tl.length_m[cross] * tl.links[cross]).sum() / n_links),
        })
    return out


def _structured_parts(catalog: Catalog) -> tuple[Any, dict[str, list]]:
    """The patch panel of the most fibres, and the trunks of each fibre mode (om4, os2), most
    fibres first: read from the catalog once (every cluster option's cabling asks for them)."""
    found = catalog.memo.get(("structured parts",))
    if found is None:
        panels = sorted(catalog.entries["patch_panels"].values(), key=lambda e: -(e.item.fibers or 0))
        trunks = {mode: sorted((e.item for e in catalog.entries["cables"].values()
                                if e.item.kind == "trunk" and e.item.fiber_type == mode and e.item.fibers),
                               key=lambda c: -c.fibers) for mode in ("om4", "os2")}
        found = catalog.memo[("structured parts",)] = (panels[0].item if panels else None, trunks)
    return found


def campus_trunks(layout: Layout, fibers_per_link: dict[str, int], routes: list[Route], *,
                  catalog: Catalog | None = None, link_gbps: float | None = None, site_file: str = "",
                  sized: Mapping[tuple[str, str], dict] | None = None) -> list[dict]:
    """High-count trunks per hall pair: lit fibres x (1 + spare), in 864/1,728/3,456-fibre cables.

    A route beyond grey reach (10 km without the catalog, else the catalog's longest grey
    single-mode reach, :func:`planner.network.interconnect.grey_reach_m`) is flagged
    ``dci_optics``. Its ``interconnect`` is the plan's own (``sized``, by sorted hall pair: the
    one its capex was priced with, :mod:`planner.network.campus`), else, given the catalog and
    the link speed, one sized for links x ``link_gbps`` over the route's length with its spare.
    With the plan's own, the ``interconnect_links`` that ride it light its fibres (``fibres``,
    laid with the spare) instead of their own: the trunk's fibres are the other links' plus those.
    """
    reach = grey_reach_m(catalog) if catalog is not None else 10_000
    out = []
    for (a, b), links in sorted(layout.inter_building.items()):
        index, route = next(((i, r) for i, r in enumerate(routes) if {r.from_building, r.to_building} == {a, b}),
                            (None, None))
        spare = route.spare_ratio if route else 0.5
        own = sized.get((a, b)) if sized is not None else None
        # links riding the route's interconnect light its fibres (laid with their spare), not their own
        riding = sum(own.get("crossing_links_by_tier", {}).values()) if own else 0
        fibers = math.ceil((links - riding) * max(fibers_per_link.values() or [0]) * (1 + spare)) \
            + (own["chosen"]["fibres"] if own and own.get("chosen") else 0)
        size = next((c for c in CABLE_SIZES_FIBERS if c >= fibers), CABLE_SIZES_FIBERS[-1])
        cables = math.ceil(fibers / size)
        path = sum(math.dist(p, q) for p, q in zip(route.polyline, route.polyline[1:], strict=False)) if route else None
        row = {"from": a, "to": b, "links": links, "fibers_needed": fibers, "cable_fibers": size,
               "cables": cables, "route_m": path,
               "dci_optics": bool(path and path > reach) or (sized is not None and (a, b) in sized)}
        if own is not None:
            row["interconnect_links"] = riding
            row["interconnect"] = own
        elif path and path > reach and catalog is not None and link_gbps:
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
    unit = _fibre_cable(catalog, media)
    if unit is None or not math.isfinite(length_m):
        return None
    fibres, per_m, plugs, how = unit
    return fibres * length_m * per_m + plugs, how.format(length=f"{length_m:g}")


def _fibre_cable(catalog: Catalog, media: TierMedia) -> tuple[int, float, float, str] | None:
    """(fibres, USD per fibre-metre, USD of the plugs, the basis with ``{length}`` to fill)
    of a tier's fibre cable; None where a figure is missing (see :func:`cable_price`)."""
    if not media.cables:
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
    rate = per_m.unit_cost_usd_per_m
    return fibres, rate, plugs, (f"ESTIMATE: {fibres} fibres x {{length}} m x {rate:g} USD per fibre-metre "
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


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of a 1-d array, the same two arrays: the
    distinct values sorted, then each value's place among them found by bisection (a sort
    of the values and a search, instead of numpy's sort of their indices: about half the
    time on a cluster option's few distinct lengths or room pairs). Floats that compare equal
    with other bits (0.0 and -0.0; NaNs) take numpy's own way, which picks which one stands
    for them."""
    if values.dtype.kind == "f" and not bool(np.isfinite(values).all() and values.all()):
        return np.unique(values, return_inverse=True)
    distinct = runs(values)[0]
    return distinct, np.searchsorted(distinct, values)


def sums_by_value(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a 1-d array, sorted, and the weights summed per value: the same
    arrays as ``unique_inverse(values)`` then ``np.bincount(inverse, weights=weights)`` (each
    value's weights added in the order they come). Whole numbers in a span not much wider than
    the array (a tier's lengths rounded up to whole metres, room pairs of few rooms) are
    counted into a bin each, without a sort; floats only when all are positive (no 0.0 and
    -0.0 to tell apart). Anything else goes through :func:`unique_inverse`."""
    if values.size:
        lo, hi = values.min(), values.max()
        whole = values.dtype.kind in "iu" or (values.dtype.kind == "f" and bool(np.isfinite(hi)) and lo > 0
                                               and hi < 2.0 ** 53 and bool((values == np.floor(values)).all()))
        if whole and hi - lo <= 4 * values.size + 1024:
            code = (values - lo).astype(np.intp)
            span = int(hi - lo) + 1
            present = np.flatnonzero(np.bincount(code, minlength=span))
            return lo + present.astype(values.dtype), np.bincount(code, weights=weights, minlength=span)[present]
    distinct, inverse = unique_inverse(values)
    return distinct, np.bincount(inverse, weights=weights, minlength=distinct.size)


def stock_round(lengths: np.ndarray, stock: list[float] | np.ndarray) -> np.ndarray:
    """Each length rounded up to the next stock length, else (past the longest, or without
    stock lengths) to the next whole metre. ``stock``: the lengths in any order, or an array
    of them sorted (:func:`_stock_lengths`)."""
    x = np.asarray(lengths, dtype=float)
    if not len(stock):
        return np.ceil(x - 1e-9)
    s = stock if isinstance(stock, np.ndarray) else np.asarray(sorted(stock), dtype=float)
    i = np.searchsorted(s, x - 1e-9, side="left")
    return np.where(i < s.size, s[np.minimum(i, s.size - 1)], np.ceil(x - 1e-9))


@dataclass(frozen=True)
class CableLine:
    """One line of a plan's cabling: cables of a tier at one ordered length, or a tier's
    trunks, patch panels or jumpers (``item``). ``length_m`` is NaN where no floor plan
    measured the tier: its cables are priced at ``assumed_m``, the length its media were
    chosen for (an ESTIMATE)."""

    category: str  # "cable" or "structured_cabling"
    tier: str
    item: str  # "cable", "trunk", "panel" or "jumper"
    part: str
    quantity: int
    unit_cost_usd: float | None
    basis: str  # the price's basis, or why there is none
    length_m: float = float("nan")
    assumed_m: float | None = None
    fibers: int = 0  # lit fibres per cable; for structured lines, the tier's lit fibres

    @property
    def extended_usd(self) -> float:
        """Quantity x unit cost to the cent (as bom.csv writes it); 0 without a price."""
        return 0.0 if self.unit_cost_usd is None else round(self.unit_cost_usd * self.quantity, 2)


def cable_bill(links: dict[str, TierLinks] | None, fabric: FabricCounts, catalog: Catalog) -> list[CableLine]:
    """The cables a plan buys, priced: the BOM's cable rows of the chosen plan (``links`` of
    its floor plan; None without halls). :func:`cable_capex` prices every cluster option the
    same way before the solve (``links`` from :meth:`planner.network.plan_fits.PlanFits.links`),
    from the same :func:`_tier_cables` and :func:`structured_tiers`, so the two are equal.

    Direct cables, per tier: each link's length rounded up to a stock length
    (:func:`stock_round`); a switch tier's optical links that leave their row run over
    structured cabling instead (:func:`structured_tiers`). A tier's cables are
    ``round(cables x L / links)`` of its L direct links, split over the lengths in
    proportion to their links (the last length takes the remainder), each priced by
    :func:`cable_price` at its length. Trunks at :func:`trunk_price` of the mean length
    of the links they carry, panels at their unit price, jumpers unpriced. Without a
    floor plan, a tier's cables are priced at the length its media were chosen for, an
    ESTIMATE. The capex is the sum of the lines' ``extended_usd``.
    """
    out: list[CableLine] = []
    for tier, media in fabric.media.items():
        found = _tier_cables(links, tier, media, catalog)
        if found is None:
            continue
        lengths, cables, usd, basis, measured = found
        per_cable = media.fibers_per_link * media.links // media.cables
        for i, (at, n) in enumerate(zip(lengths, cables, strict=True)):
            if not n:
                continue
            each = None if usd is None else usd[i]
            if measured:
                out.append(CableLine("cable", tier, "cable", media.cable_kind, n, each, basis(at), length_m=at,
                                     fibers=per_cable))
            else:
                out.append(CableLine("cable", tier, "cable", media.cable_kind, n, each, basis(at), assumed_m=at,
                                     fibers=media.fibers_per_link))
    for sc in structured_tiers(links or {}, fabric, catalog):
        tier = sc["tier"]
        for item, part, n, priced, at in _structured_lines(sc, catalog):
            out.append(CableLine("structured_cabling", tier, item, part, n, priced[0] if priced else None,
                                 priced[1] if priced else ("floor plan" if item == "jumper" else
                                                           "no price in the catalog"),
                                 length_m=at, fibers=sc["lit_fibers"]))
    return out


def cable_capex(links: dict[str, TierLinks] | None, fabric: FabricCounts, catalog: Catalog) -> float:
    """The sum of :func:`cable_bill`'s ``extended_usd`` (each line to the cent), without
    writing its lines: a cluster option's ``cabling`` capex."""
    total = 0.0
    for tier, media in fabric.media.items():
        found = _tier_cables(links, tier, media, catalog)
        if found is not None and found[2] is not None:
            total += sum(round(u * n, 2) for u, n in zip(found[2], found[1], strict=True))
    for sc in structured_tiers(links or {}, fabric, catalog):
        for _item, _part, n, priced, _at in _structured_lines(sc, catalog):
            total += round(priced[0] * n, 2) if priced else 0.0
    return total


def _no_basis(_at: float) -> str:
    return ""


def _tier_cables(links: dict[str, TierLinks] | None, tier: str, media: TierMedia, catalog: Catalog
                 ) -> tuple[list[float], list[int], list[float] | None, Callable[[float], str], bool] | None:
    """The direct cables of one tier (see :func:`cable_bill`): their lengths, cables at each
    length, USD each (None without a price), the price's basis as a function of the length,
    and whether the lengths were measured (else: one length, the media's, assumed)."""
    if not media.cables:
        return None
    tl = links.get(tier) if links is not None else None
    if tl is None or not tl.links.size:
        priced = cable_price(catalog, media, media.length_m)
        text = priced[1] if priced else ""
        return [media.length_m], [media.cables], [priced[0]] if priced else None, (lambda _at: text), False
    length, weight = tl.length_m, tl.links
    if tier != "node_leaf" and media.optic_class not in COPPER_CLASSES:
        keep = tl.same_room  # the rest run over trunks (structured cabling)
        length, weight = length[keep], weight[keep]
        if not length.size:
            return None
    values, sums = sums_by_value(stock_round(length, _stock_lengths(catalog, media.cable_kind)), weight)
    counts = sums.astype(np.int64)
    total_links = int(counts.sum())
    total_cables = round(media.cables * total_links / media.links)
    if total_cables == total_links:  # a cable a link: as many cables at each length as links
        cables = counts.tolist()
    else:  # in proportion to the links, the last length taking the remainder
        cables = [round(n * total_cables / total_links) for n in counts[:-1].tolist()]
        cables.append(total_cables - sum(cables))
    at = values.tolist()
    if media.optic_class in COPPER_CLASSES:
        copper = catalog.unit_cost(media.cable_kind)
        text = copper[1] if copper else ""
        return at, cables, [copper[0]] * len(at) if copper else None, (lambda _at: text), True
    fibre = _fibre_cable(catalog, media)  # cable_price at each length, the tier's figures looked up once
    if fibre is None:
        return at, cables, None, _no_basis, True
    fibres, rate, plugs, how = fibre
    return (at, cables, [fibres * x * rate + plugs for x in at],
            lambda x: how.format(length=f"{x:g}"), True)


def _stock_lengths(catalog: Catalog, kind: str) -> np.ndarray:
    """The stock lengths of a cable, sorted (none for a kind the catalog has no optic entry of),
    read from the catalog once."""
    found = catalog.memo.get(("stock lengths", kind))
    if found is None:
        lengths = catalog.optics[kind].lengths_m if kind in catalog.optics else []
        found = catalog.memo[("stock lengths", kind)] = np.asarray(sorted(lengths), dtype=float)
    return found


def _structured_lines(sc: dict, catalog: Catalog) -> Iterator[tuple[str, str, int, tuple[float, str] | None, float]]:
    """(item, part, quantity, (USD, basis) or None, length) of one tier's structured cabling:
    trunks at the mean length of their links, panels, jumpers (unpriced)."""
    if sc["trunk"] and sc["trunks"]:
        yield "trunk", sc["trunk"], sc["trunks"], trunk_price(catalog, sc["trunk"], sc["mean_m"]), sc["mean_m"]
    if sc["panel"] and sc["panels"]:
        yield "panel", sc["panel"], sc["panels"], catalog.unit_cost(sc["panel"]), float("nan")
    yield "jumper", f"jumper-{sc['jumper_connector']}", sc["jumpers"], None, float("nan")

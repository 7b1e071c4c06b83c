"""Hall geometry: where racks can stand in a hall, and how long a cable between two places is.

Racks stand in rows parallel to the x axis, ``rack_depth + aisle`` apart, inside each
hall's polygon, ``clearance`` away from walls and keep-outs; the positions inside the
meet-me room (MMR) are marked. A cable runs from its port up to the tray, along the trays
(rectilinear: along the row, then across), down to the other port; between halls it
follows the campus route:

    length = (rise_a + horizontal + rise_b) * (1 + slack) + service_loop
    rise   = tray_height - port_height

The placer (:mod:`planner.network.layout`) hands these positions out; the hall-plan fitter
(:mod:`planner.network.plan_fits`) measures the longest cable between sets of racks from
per-hall summaries (:func:`point_summary`) instead of visiting every pair.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from planner.constants import W_PER_KW
from planner.parts.catalog import Catalog
from planner.site.schema import Building, Cabling, Route


class LayoutError(ValueError):
    """The racks do not fit, or a rack is too hot for the hall."""


@dataclass(frozen=True)
class Slot:
    """A rack position: campus coordinates of its centre, its hall and row."""

    building: str
    row: int
    x: float
    y: float
    in_mmr: bool = False


MAX_RACK_POSITIONS = 1_000_000  # per hall: about 1.4 km2 of racks and aisles, beyond any real hall


def rack_slots(b: Building) -> list[Slot]:
    """Rack positions of a hall, row by row (deterministic order): every rack footprint on
    the row grid that lies inside the hall (less its clearance) and meets no keep-out zone
    (grown by the clearance); in the meet-me room when its footprint lies inside it. The
    footprints are tested all at once (shapely's vectorised predicates)."""
    import shapely
    from shapely.geometry import Polygon

    hall = Polygon(b.polygon)
    inner = hall.buffer(-b.clearance_m, join_style="mitre") if b.clearance_m else hall
    blocked = [Polygon(r).buffer(b.clearance_m, join_style="mitre") for r in b.keep_out]
    mmr = Polygon(b.meet_me_room.polygon) if b.meet_me_room else None
    if inner.is_empty:  # the clearance leaves no floor
        return []
    minx, miny, maxx, maxy = inner.bounds
    pitch = b.rack_depth_m + b.aisle_m
    rows = math.floor((maxy - miny - b.rack_depth_m) / pitch + 1e-9) + 1 if maxy - miny >= b.rack_depth_m else 0
    cols = math.floor((maxx - minx) / b.rack_width_m + 1e-9)
    if rows * cols > MAX_RACK_POSITIONS:  # counted before any is placed
        raise LayoutError(f"hall {b.name!r} would hold about {rows * cols:,} rack positions; at most "
                          f"{MAX_RACK_POSITIONS:,} are laid out (give its real polygon or area)")
    shapely.prepare(inner)
    for zone in blocked:
        shapely.prepare(zone)
    if mmr is not None:
        shapely.prepare(mmr)
    slots: list[Slot] = []
    for start in range(0, rows * cols, _SLOT_CHUNK):  # row by row, as the placer fills them
        row, col = np.divmod(np.arange(start, min(start + _SLOT_CHUNK, rows * cols)), cols)
        x = minx + col * b.rack_width_m
        y = miny + row * pitch
        rects = shapely.box(x, y, x + b.rack_width_m, y + b.rack_depth_m)
        ok = shapely.contains(inner, rects)
        for zone in blocked:
            ok &= ~shapely.intersects(zone, rects)
        keep = np.flatnonzero(ok)
        in_mmr = shapely.contains(mmr, rects[keep]).tolist() if mmr is not None else [False] * keep.size
        for r, sx, sy, m in zip(row[keep].tolist(), x[keep].tolist(), y[keep].tolist(), in_mmr, strict=True):
            slots.append(Slot(b.name, r, round(sx + b.rack_width_m / 2 + b.origin[0], 6),
                              round(sy + b.rack_depth_m / 2 + b.origin[1], 6), bool(m)))
    return slots


_SLOT_CHUNK = 65_536  # rack footprints tested at once (a hall of a million positions in pieces)


def systems_per_rack(catalog: Catalog, server_key: str, b: Building) -> int:
    """Servers per rack in hall ``b``: the kW limit and the rack units, whichever binds."""
    s = catalog.servers[server_key]
    power = catalog.power(server_key)
    if power is None:
        raise LayoutError(f"server {server_key!r} has no power figure")
    if s.kind == "rack":
        return 1 if power.watts / W_PER_KW <= b.max_kw_per_rack else 0
    by_kw = math.floor(b.max_kw_per_rack * W_PER_KW / power.watts)
    by_units = math.floor(b.rack_units / s.height_u) if s.height_u else by_kw
    return min(by_kw, by_units)


def route_terms(hall_a: str, hall_b: str, routes: dict[tuple[str, str], Route]) -> tuple[tuple, tuple, float]:
    """(start, end, path length) of the duct bank from ``hall_a`` to ``hall_b``."""
    route = routes.get((hall_a, hall_b)) or routes.get((hall_b, hall_a))
    if route is None:
        raise LayoutError(f"no route between halls {hall_a!r} and {hall_b!r}: add a [[routes]] entry")
    pts = route.polyline if (hall_a, hall_b) == (route.from_building, route.to_building) \
        else list(reversed(route.polyline))
    return pts[0], pts[-1], sum(math.dist(p, q) for p, q in itertools.pairwise(pts))


def route_length(a: tuple[str, float, float], b: tuple[str, float, float], halls: dict[str, Building],
                 routes: dict[tuple[str, str], Route], cabling: Cabling) -> float:
    """Cable length between two rack positions (see the module docstring)."""
    hall_a, xa, ya = a
    hall_b, xb, yb = b
    rise_a = halls[hall_a].tray_height_m - halls[hall_a].port_height_m
    rise_b = halls[hall_b].tray_height_m - halls[hall_b].port_height_m
    if hall_a == hall_b:
        horizontal = abs(xa - xb) + abs(ya - yb)
    else:
        start, end, path = route_terms(hall_a, hall_b, routes)
        horizontal = abs(xa - start[0]) + abs(ya - start[1]) + path + abs(xb - end[0]) + abs(yb - end[1])
    return (rise_a + horizontal + rise_b) * (1 + cabling.slack_ratio) + cabling.service_loop_m


@dataclass(frozen=True)
class HallSlots:
    """Rack positions as the placer hands them out: the room (outside the meet-me rooms)
    in order, with for each position the index one past the last position of its row,
    and the meet-me room positions, in order."""

    room: list[Slot]
    mmr: list[Slot]
    row_end: list[int]

    @staticmethod
    def of(slots: list[Slot]) -> HallSlots:
        room = [s for s in slots if not s.in_mmr]
        mmr = [s for s in slots if s.in_mmr]
        row_end = [0] * len(room)
        end = len(room)
        for i in range(len(room) - 1, -1, -1):
            if i + 1 < len(room) and (room[i].building, room[i].row) != (room[i + 1].building, room[i + 1].row):
                end = i + 1
            row_end[i] = end
        return HallSlots(room, mmr, row_end)

    def then(self, other: HallSlots) -> HallSlots:
        """These positions followed by another hall's: a row never runs on into the next
        hall, so the rows of each part keep their ends (shifted for the second)."""
        n = len(self.room)
        return HallSlots(self.room + other.room, self.mmr + other.mmr, self.row_end + [e + n for e in other.row_end])

    @property
    def total(self) -> int:
        return len(self.room) + len(self.mmr)


_GEOMETRY = ("name", "polygon", "keep_out", "rack_width_m", "rack_depth_m", "aisle_m", "clearance_m",
             "meet_me_room", "origin")


def hall_slots_of(b: Building, store: dict[str, HallSlots], bound: int = 256) -> HallSlots:
    """rack_slots split for the placer, kept in ``store`` by the hall's geometry: a hall and
    its converted self (or the same hall in many plans) share their rack positions."""
    key = repr([getattr(b, f) for f in _GEOMETRY])
    if key not in store:
        if len(store) > bound:
            store.clear()
        store[key] = HallSlots.of(rack_slots(b))
    return store[key]


# A set of rack points is summarised, per hall, by the largest of x + y, x - y, -x + y
# and -x - y over its points: the longest rectilinear distance between two sets, or from
# a set to a point, follows from these four numbers (max |dx| + |dy| = max over the sign
# pairs s of s.a - s.b), so no pair of points is ever visited.
_SIGNS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


def point_summary(points: Iterable[tuple[str, float, float]]) -> dict[str, tuple[float, ...]]:
    out: dict[str, list[float]] = {}
    for h, x, y in points:  # one pass, no list per hall: this runs for every size of every hall plan
        s, d = x + y, x - y
        cur = out.get(h)
        if cur is None:
            out[h] = [s, d, -d, -s]
        else:
            if s > cur[0]:
                cur[0] = s
            if d > cur[1]:
                cur[1] = d
            if -d > cur[2]:
                cur[2] = -d
            if -s > cur[3]:
                cur[3] = -s
    return {h: tuple(v) for h, v in out.items()}


def merge_summaries(a: dict[str, tuple[float, ...]], b: dict[str, tuple[float, ...]]
                    ) -> dict[str, tuple[float, ...]]:
    out = dict(a)
    for h, v in b.items():
        cur = out.get(h)
        out[h] = v if cur is None else tuple(max(c, w) for c, w in zip(cur, v, strict=True))
    return out


def longest_route(a: dict[str, tuple[float, ...]], b: dict[str, tuple[float, ...]], halls: dict[str, Building],
                  routes: dict[tuple[str, str], Route], cabling: Cabling) -> float:
    """Longest cable between any point of set ``a`` and any of set ``b`` (summaries)."""
    best = 0.0
    for hall_a, pa in a.items():
        for hall_b, pb in b.items():
            if hall_a == hall_b:
                rise = 2 * (halls[hall_a].tray_height_m - halls[hall_a].port_height_m)
                horizontal = max(pa[i] + pb[3 - i] for i in range(4))
            else:
                start, end, path = route_terms(hall_a, hall_b, routes)
                horizontal = (max(pa[i] - sx * start[0] - sy * start[1] for i, (sx, sy) in enumerate(_SIGNS))
                              + path
                              + max(pb[i] - sx * end[0] - sy * end[1] for i, (sx, sy) in enumerate(_SIGNS)))
                rise = (halls[hall_a].tray_height_m - halls[hall_a].port_height_m
                        + halls[hall_b].tray_height_m - halls[hall_b].port_height_m)
            best = max(best, (rise + horizontal) * (1 + cabling.slack_ratio) + cabling.service_loop_m)
    return best

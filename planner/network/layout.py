"""Floor plan: racks placed in rows inside real halls, cable routes and lengths.

Racks stand in rows parallel to the x axis, ``rack_depth + aisle`` apart, inside each
hall's polygon, ``clearance`` away from walls and keep-outs, outside the meet-me room
(MMR). Servers fill racks up to the hall's kW-per-rack limit and the rack's units. Each
scalable unit's servers are consecutive; its leaf switches stand in a network rack at the
end (or the middle) of the SU; spines and cores stand in the MMR (or after the last SU).

A cable runs from its port up to the tray, along the trays (rectilinear: along the row,
then across), down to the other port; between halls it follows the campus route:

    length = (rise_a + horizontal + rise_b) * (1 + slack) + service_loop
    rise   = tray_height - port_height

and is rounded up to the catalog's stock lengths where the catalog has them.

Why one module of over a thousand lines: the placer, the link lengths and the hall-plan
fitter (:class:`PlanFits`, which resumes one plan's placement in another) are one
algorithm over private state (the split rack positions, the placer's cursor, the SU
records); the fitter is exact only because it makes the same decisions as
:func:`lay_out`, which is easiest to keep true, and to check, with both side by side.
The cables bought for a plan are :mod:`planner.network.cabling`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from planner.constants import W_PER_KW
from planner.network.fabric import Shape
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
    """Rack positions of a hall, row by row (deterministic order)."""
    from shapely.geometry import Polygon, box
    from shapely.prepared import prep

    hall = Polygon(b.polygon)
    inner = hall.buffer(-b.clearance_m, join_style="mitre") if b.clearance_m else hall
    blocked = [Polygon(r).buffer(b.clearance_m, join_style="mitre") for r in b.keep_out]
    ok = prep(inner)
    mmr = prep(Polygon(b.meet_me_room.polygon)) if b.meet_me_room else None
    minx, miny, maxx, maxy = inner.bounds
    pitch = b.rack_depth_m + b.aisle_m
    slots: list[Slot] = []
    rows = math.floor((maxy - miny - b.rack_depth_m) / pitch + 1e-9) + 1 if maxy - miny >= b.rack_depth_m else 0
    cols = math.floor((maxx - minx) / b.rack_width_m + 1e-9)
    if rows * cols > MAX_RACK_POSITIONS:  # counted before any is placed
        raise LayoutError(f"hall {b.name!r} would hold about {rows * cols:,} rack positions; at most "
                          f"{MAX_RACK_POSITIONS:,} are laid out (give its real polygon or area)")
    for row in range(rows):
        y = miny + row * pitch
        for col in range(cols):
            x = minx + col * b.rack_width_m
            rect = box(x, y, x + b.rack_width_m, y + b.rack_depth_m)
            if ok.contains(rect) and not any(k.intersects(rect) for k in blocked):
                cx = round(x + b.rack_width_m / 2 + b.origin[0], 6)
                cy = round(y + b.rack_depth_m / 2 + b.origin[1], 6)
                slots.append(Slot(b.name, row, cx, cy, bool(mmr and mmr.contains(rect))))
    return slots


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


@dataclass
class Layout:
    """Where every rack stands and how long every link is."""

    racks: list[dict] = field(default_factory=list)  # role, building, x, y, contents
    endpoint_rack: np.ndarray | None = None  # rack index of each scale-out endpoint
    leaf_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, su, rail)
    spine_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, pod, j)
    core_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, group, c)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> per-link metres
    same_room: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> link stays in its row/room
    slots_total: int = 0
    halls: dict[str, Building] = field(default_factory=dict)
    inter_building: dict[tuple[str, str], int] = field(default_factory=dict)  # links per hall pair
    su_cursor: list[int] = field(default_factory=list)  # room cursor after each SU's racks
    su_node_leaf_max: list[float] = field(default_factory=list)  # longest node-leaf link per SU

    @property
    def slots_used(self) -> int:
        return len(self.racks)

    def rack_point(self, i: int) -> tuple[str, float, float]:
        r = self.racks[i]
        return r["building"], r["x"], r["y"]

    def max_length(self, tier: str) -> float | None:
        arr = self.lengths.get(tier)
        return float(arr.max()) if arr is not None and arr.size else None

    def histogram(self, tier: str, edges=(3, 5, 7, 10, 20, 30, 50, 100, 150, 300, 500, 2000, 10_000)) -> dict:
        """Links of a tier by length band (upper bound in metres, inclusive)."""
        arr = self.lengths.get(tier)
        if arr is None or not arr.size:
            return {}
        out, lower = {}, 0.0
        for upper in (*edges, math.inf):
            n = int(((arr > lower) & (arr <= upper)).sum())
            if n:
                out[f"<= {upper:g} m" if upper != math.inf else f"> {lower:g} m"] = n
            lower = upper
        return out


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
class _Slots:
    """Rack positions as the placer hands them out: the room (outside the meet-me rooms)
    in order, with for each position the index one past the last position of its row,
    and the meet-me room positions, in order."""

    room: list[Slot]
    mmr: list[Slot]
    row_end: list[int]

    @staticmethod
    def of(slots: list[Slot]) -> _Slots:
        room = [s for s in slots if not s.in_mmr]
        mmr = [s for s in slots if s.in_mmr]
        row_end = [0] * len(room)
        end = len(room)
        for i in range(len(room) - 1, -1, -1):
            if i + 1 < len(room) and (room[i].building, room[i].row) != (room[i + 1].building, room[i + 1].row):
                end = i + 1
            row_end[i] = end
        return _Slots(room, mmr, row_end)

    def then(self, other: _Slots) -> _Slots:
        """These positions followed by another hall's: a row never runs on into the next
        hall, so the rows of each part keep their ends (shifted for the second)."""
        n = len(self.room)
        return _Slots(self.room + other.room, self.mmr + other.mmr, self.row_end + [e + n for e in other.row_end])

    @property
    def total(self) -> int:
        return len(self.room) + len(self.mmr)


class _Placer:
    """Hands out rack positions in order, keeping a scalable unit within one row.

    ``cursor`` (the next room position) lets a placement resume where another one, in
    the same first halls, stopped.
    """

    def __init__(self, slots: _Slots, layout: Layout, cursor: int = 0):
        self.room, self.mmr, self.row_end = slots.room, slots.mmr, slots.row_end
        self.cursor = cursor
        self.mmr_cursor = 0
        self.layout = layout

    def row_left(self) -> int:
        return self.row_end[self.cursor] - self.cursor if self.cursor < len(self.room) else 0

    def row_size(self, at: int) -> int:
        """Slots of the row starting at ``at`` (``at`` is a row start)."""
        return self.row_end[at] - at

    def start_group(self, racks: int) -> None:
        """Skip to the next row when the group would otherwise wrap and a row can hold it."""
        left = self.row_left()
        if 0 < left < racks and self.cursor + left < len(self.room) \
                and self.row_size(self.cursor + left) >= racks:
            self.cursor += left

    def take(self, role: str, contents: str, mmr: bool = False) -> int:
        if mmr and self.mmr_cursor < len(self.mmr):
            slot = self.mmr[self.mmr_cursor]
            self.mmr_cursor += 1
        else:
            if self.cursor >= len(self.room):
                raise _Full()
            slot = self.room[self.cursor]
            self.cursor += 1
        self.layout.racks.append({"role": role, "building": slot.building, "x": slot.x, "y": slot.y,
                                  "row": slot.row, "mmr": slot.in_mmr, "contents": contents})
        return len(self.layout.racks) - 1

    def hall(self) -> str | None:
        return self.room[self.cursor].building if self.cursor < len(self.room) else None


class _Full(Exception):
    pass


def lay_out(catalog: Catalog, server_key: str, shape: Shape, buildings: list[Building],
            routes: list[Route], cabling: Cabling, slots: list[Slot] | None = None) -> Layout:
    """Place the fabric's racks in ``buildings`` and compute every link length.

    ``slots`` (from :func:`rack_slots` of each building) may be passed in when many
    cluster sizes are laid out in the same halls.
    """
    if not buildings:
        raise LayoutError("no buildings to place racks in")
    if slots is None:
        slots = [s for b in buildings for s in rack_slots(b)]
    return _lay_out_in(catalog, server_key, shape, buildings, routes, cabling, _Slots.of(slots))


def _lay_out_in(catalog: Catalog, server_key: str, shape: Shape, buildings: list[Building] | tuple[Building, ...],
                routes: list[Route], cabling: Cabling, slots: _Slots) -> Layout:
    """:func:`lay_out` on rack positions already split for the placer."""
    halls = {b.name: b for b in buildings}
    route_map = {(r.from_building, r.to_building): r for r in routes}
    layout = Layout(slots_total=slots.total, halls=halls)
    placer = _Placer(slots, layout)
    try:
        _place(catalog, server_key, shape, buildings, halls, placer, layout)
    except _Full:
        raise _full_error(catalog, server_key, shape, buildings, len(placer.room)) from None
    _lengths(layout, shape, route_map, cabling)
    return layout


def _full_error(catalog, server_key: str, shape: Shape, buildings, room: int) -> LayoutError:
    need = _racks_needed(catalog, server_key, shape, buildings)
    return LayoutError(
        f"the halls ({', '.join(b.name for b in buildings)}) hold {room} rack positions outside the "
        f"meet-me room; {shape.systems} x {server_key} and their switches need about {need}: "
        "add or enlarge a hall")


def _place(catalog, server_key, shape, buildings, halls, placer: _Placer, layout: Layout,
           su_rack_end: list[int] | None = None) -> None:
    """Place every SU's racks, then the spines and cores. ``su_rack_end`` (when given)
    receives the number of racks placed after each SU."""
    per_net_rack = min(b.switches_per_network_rack for b in buildings)
    layout.endpoint_rack = np.zeros(shape.servers, dtype=int)
    system = 0
    for su in range(shape.scalable_units):
        system = _place_su(catalog, server_key, shape, su, system, buildings, halls, per_net_rack, placer, layout)
        if su_rack_end is not None:
            su_rack_end.append(len(layout.racks))
    _place_switches(shape, per_net_rack, placer, layout)


def _place_su(catalog, server_key: str, shape: Shape, su: int, system: int, buildings, halls: dict[str, Building],
              per_net_rack: int, placer: _Placer, layout: Layout) -> int:
    """Place scalable unit ``su`` from the placer's cursor: its compute racks (servers
    ``system`` onwards, as many a rack as the hall at the cursor takes) and its leaf
    racks, kept in one row where a row holds them. Returns the first system of the
    next SU. Raises _Full when the halls run out, LayoutError when the hall at the
    cursor is too hot for the server.

    Everything it reads is the SU, the hall at the cursor and the positions from the
    cursor on: that is why a placement in a plan's first halls can be resumed.
    """
    per_system = shape.endpoints_per_system
    leaves_per_su = shape.rails * shape.planes
    endpoint_rack = layout.endpoint_rack
    last_ep = su * shape.servers_per_su + shape.servers_in_su(su)
    last_system = math.ceil(last_ep / per_system)
    systems = list(range(system, last_system))
    hall = halls[placer.hall()] if placer.hall() else buildings[-1]
    cap = systems_per_rack(catalog, server_key, hall)
    if cap < 1:
        s = catalog.servers[server_key]
        raise LayoutError(
            f"hall {hall.name!r} ({hall.cooling}, {hall.max_kw_per_rack:g} kW per rack) cannot take "
            f"{server_key} ({catalog.power(server_key).watts / W_PER_KW:g} kW "
            + ("per rack" if s.kind == "rack" else "per server")
            + "): convert its cooling or use another hall"
        )
    net_racks = math.ceil(leaves_per_su / per_net_rack)
    compute_racks = math.ceil(len(systems) / cap)
    placer.start_group(compute_racks + net_racks)
    middle = hall.leaf_position == "middle"
    batches = [systems[i:i + cap] for i in range(0, len(systems), cap)]
    leaf_racks: list[int] = []
    for i, batch in enumerate(batches):
        if middle and i == len(batches) // 2:
            leaf_racks = [placer.take("leaf", f"SU {su} leaves") for _ in range(net_racks)]
        rack = placer.take("compute", f"{len(batch)} x {server_key}")
        for sy in batch:
            endpoint_rack[sy * per_system:min((sy + 1) * per_system, shape.servers)] = rack
    if not leaf_racks:
        leaf_racks = [placer.take("leaf", f"SU {su} leaves") for _ in range(net_racks)]
    for p in range(shape.planes):
        for r in range(shape.rails):
            layout.leaf_rack[(p, su, r)] = leaf_racks[(p * shape.rails + r) // per_net_rack]
    layout.su_cursor.append(placer.cursor)
    return last_system


def _place_switches(shape: Shape, per_net_rack: int, placer: _Placer, layout: Layout) -> None:
    """Spine and core racks: in the meet-me rooms while they have positions, then after
    the last SU."""
    spine_keys = [(p, pod, j) for p in range(shape.planes) for pod in range(shape.pods)
                  for j in range(shape.spines_per_pod)] if shape.tiers >= 2 else []
    core_keys = [(p, j, c) for p in range(shape.planes) for j in range(shape.spines_per_pod)
                 for c in range(shape.cores_per_group)] if shape.tiers == 3 else []
    for role, keys, target in (("spine", spine_keys, layout.spine_rack), ("core", core_keys, layout.core_rack)):
        for i in range(0, len(keys), per_net_rack):
            group = keys[i:i + per_net_rack]
            rack = placer.take(role, f"{len(group)} {role}s", mmr=True)
            for key in group:
                target[key] = rack


def _racks_needed(catalog: Catalog, server_key: str, shape: Shape, buildings: list[Building]) -> int:
    per = max(1, max(systems_per_rack(catalog, server_key, b) for b in buildings))
    per_net = buildings[0].switches_per_network_rack
    spines = shape.planes * shape.pods * shape.spines_per_pod
    cores = shape.planes * shape.spines_per_pod * shape.cores_per_group
    return (math.ceil(shape.systems / per) + shape.scalable_units * math.ceil(shape.rails * shape.planes / per_net)
            + math.ceil(spines / per_net) + math.ceil(cores / per_net))


def rack_room(rack: dict) -> tuple:
    """Where a rack's cables gather: its hall's meet-me room, or its row."""
    return (rack["building"], "MMR") if rack.get("mmr") else (rack["building"], f"row {rack['row']:04d}")


@dataclass(frozen=True)
class _Geometry:
    """Where racks stand, as arrays for vectorised lengths: hall number (in the sorted
    hall names of the plan), campus x and y, and the cable rise of each hall."""

    hall: np.ndarray
    xy: np.ndarray
    rise: np.ndarray
    names: list[str]

    @staticmethod
    def of(racks: list[dict], halls: dict[str, Building]) -> _Geometry:
        names = sorted(halls)
        index = {n: i for i, n in enumerate(names)}
        return _Geometry(np.array([index[r["building"]] for r in racks], dtype=int),
                         np.array([(r["x"], r["y"]) for r in racks], dtype=float).reshape(-1, 2),
                         np.array([halls[n].tray_height_m - halls[n].port_height_m for n in names]), names)


def _link_lengths(geo: _Geometry, a: np.ndarray, b: np.ndarray, n: np.ndarray, routes: dict, cabling: Cabling,
                  pair_links: dict[tuple[str, str], int]) -> np.ndarray:
    """Length of each link between racks ``a[i]`` and ``b[i]`` (``n[i]`` links each, so
    repeated), and the links per pair of halls added to ``pair_links``; raises
    LayoutError for two halls without a route."""
    if a.size == 0:
        return np.zeros(0)
    hall, xy, names = geo.hall, geo.xy, geo.names
    ha, hb = hall[a], hall[b]
    horizontal = np.abs(xy[a] - xy[b]).sum(axis=1)
    cross = ha != hb
    if cross.any():
        for ia, ib in {(int(x), int(y)) for x, y in zip(ha[cross], hb[cross], strict=True)}:
            sel = (ha == ia) & (hb == ib)
            start, end, path = route_terms(names[ia], names[ib], routes)
            horizontal[sel] = (np.abs(xy[a[sel]] - np.array(start)).sum(axis=1) + path
                               + np.abs(xy[b[sel]] - np.array(end)).sum(axis=1))
            key = tuple(sorted((names[ia], names[ib])))
            pair_links[key] = pair_links.get(key, 0) + int(n[sel].sum())
    out = (geo.rise[ha] + horizontal + geo.rise[hb]) * (1 + cabling.slack_ratio) + cabling.service_loop_m
    return np.repeat(out, n)


def _su_node_leaf_pairs(layout: Layout, su: int, per_su: int, leaves: list[int]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(endpoint rack, leaf rack, endpoints) of every node-leaf rack pair of one SU."""
    racks, n = np.unique(layout.endpoint_rack[su * per_su:(su + 1) * per_su], return_counts=True)
    lv = np.array(leaves)
    return np.tile(racks, lv.size), np.repeat(lv, racks.size), np.tile(n, lv.size)


def _su_node_leaf_max(layout: Layout, su: int, per_su: int, leaves: list[int], routes: dict,
                      cabling: Cabling) -> float:
    """Longest node-leaf link of one SU, the same arithmetic as :func:`_lengths` on only
    that SU's racks (so the same number): one SU at a time as a placement grows."""
    a, b, _n = _su_node_leaf_pairs(layout, su, per_su, leaves)
    used = np.unique(np.concatenate([a, b]))
    geo = _Geometry.of([layout.racks[i] for i in used], layout.halls)
    local_a, local_b = np.searchsorted(used, a), np.searchsorted(used, b)
    return float(_link_lengths(geo, local_a, local_b, np.ones(a.size, dtype=int), routes, cabling, {}).max())


def _lengths(layout: Layout, shape: Shape, routes: dict, cabling: Cabling) -> None:
    """Every link's length, vectorised over (rack, rack, links) triples."""
    geo = _Geometry.of(layout.racks, layout.halls)
    pair_links: dict[tuple[str, str], int] = {}
    room_ids: dict[tuple, int] = {}
    room = np.array([room_ids.setdefault(rack_room(r), len(room_ids)) for r in layout.racks], dtype=int)
    same: dict[str, np.ndarray] = {}

    def lengths(a: np.ndarray, b: np.ndarray, n: np.ndarray, tier: str = "") -> np.ndarray:
        if tier:
            same[tier] = np.repeat(room[a] == room[b], n) if a.size else np.zeros(0, dtype=bool)
        return _link_lengths(geo, a, b, n, routes, cabling, pair_links)

    # node-leaf: per SU, the endpoints' racks (with counts) to each leaf rack of the SU
    per_su = max(1, shape.servers_per_su)
    a_parts, b_parts, n_parts = [], [], []
    leaves_of_su: dict[int, list[int]] = {}
    for (_p, su, _r), leaf in layout.leaf_rack.items():
        leaves_of_su.setdefault(su, []).append(leaf)
    su_max = []
    for su in range(shape.scalable_units):
        a, b, n = _su_node_leaf_pairs(layout, su, per_su, leaves_of_su[su])
        a_parts.append(a)
        b_parts.append(b)
        n_parts.append(n)
        su_max.append(float(lengths(a_parts[-1], b_parts[-1], np.ones(a_parts[-1].size, dtype=int)).max()))
    node_leaf = lengths(*(np.concatenate(x) if x else np.zeros(0, dtype=int) for x in (a_parts, b_parts, n_parts)),
                        tier="node_leaf")
    layout.su_node_leaf_max = su_max
    leaf_spine = np.zeros(0)
    if shape.tiers >= 2:
        keys = sorted(layout.leaf_rack)
        leaf = np.array([layout.leaf_rack[k] for k in keys])
        spines = np.array([[layout.spine_rack[(p, su // shape.sus_per_pod, j)] for j in range(shape.spines_per_pod)]
                           for p, su, _r in keys])
        a = np.repeat(leaf, shape.spines_per_pod)
        b = spines.reshape(-1)
        leaf_spine = lengths(a, b, np.full(a.size, shape.bundle_leaf_spine), tier="leaf_spine")
    spine_core = np.zeros(0)
    if shape.tiers == 3:
        keys = sorted(layout.spine_rack)
        spine = np.array([layout.spine_rack[k] for k in keys])
        cores = np.array([[layout.core_rack[(p, j, c)] for c in range(shape.cores_per_group)] for p, _pod, j in keys])
        a = np.repeat(spine, shape.cores_per_group)
        b = cores.reshape(-1)
        spine_core = lengths(a, b, np.full(a.size, shape.bundle_spine_core), tier="spine_core")
    layout.lengths = {"node_leaf": node_leaf, "leaf_spine": leaf_spine, "spine_core": spine_core}
    layout.same_room = {t: same.get(t, np.zeros(0, dtype=bool)) for t in layout.lengths}
    layout.inter_building = pair_links


@dataclass(frozen=True)
class Fit:
    """What the optimizer needs of one cluster size laid out in a list of halls."""

    lengths: dict[str, float]  # longest link per tier, m
    endpoints: dict[str, int]  # scale-out endpoints (servers or trays) per hall
    halls: frozenset[str]  # halls holding any of its racks


def _fit_of(layout: Layout) -> Fit:
    """The Fit of a complete layout."""
    halls = [r["building"] for r in layout.racks]
    names, counts = np.unique(np.array(halls)[layout.endpoint_rack], return_counts=True) \
        if layout.endpoint_rack is not None and layout.endpoint_rack.size else ([], [])
    return Fit({t: layout.max_length(t) or 0.0 for t in ("node_leaf", "leaf_spine", "spine_core")},
               {str(n): int(c) for n, c in zip(names, counts, strict=True)}, frozenset(halls))


def fit_sizes(catalog: Catalog, server_key: str, shapes: list[Shape], buildings: list[Building],
              routes: list[Route], cabling: Cabling, need_hall: str | None = None,
              ) -> list[Fit | LayoutError | None]:
    """Longest link per tier, endpoints per hall and halls used, for many cluster sizes
    in the same halls, fast (one hall plan of :class:`PlanFits`).

    Scalable units are placed in the same order whatever the size, so one placement of
    as many SUs of the largest size as the halls hold gives every smaller size's server
    and leaf racks (a prefix). Only the spines and cores, which move with the size, are
    placed again per size. A size whose last SU is partial is laid out in full.
    ``tests/test_layout.py`` checks this equals :func:`lay_out` on many sizes.

    An entry is a LayoutError where the size does not fit the halls, and None where
    ``need_hall`` is given and the size places no rack in that hall (the same size in the
    halls without it is the same plan). Raises LayoutError when no size can be placed:
    a hall's rack positions cannot be laid out (:func:`rack_slots`), or an SU of the
    largest size spans two halls without a route.
    """
    placement = PlanFits(catalog, server_key, shapes, routes, cabling, share=False).placement(buildings)
    if placement.failed() is not None:
        raise placement.failed()
    return placement.fits(need_hall)


_GEOMETRY = ("name", "polygon", "keep_out", "rack_width_m", "rack_depth_m", "aisle_m", "clearance_m",
             "meet_me_room", "origin")


def _hall_slots(b: Building, store: dict[str, _Slots], bound: int = 256) -> _Slots:
    """rack_slots split for the placer, kept in ``store`` by the hall's geometry: a hall and
    its converted self (or the same hall in many plans) share their rack positions."""
    key = repr([getattr(b, f) for f in _GEOMETRY])
    if key not in store:
        if len(store) > bound:
            store.clear()
        store[key] = _Slots.of(rack_slots(b))
    return store[key]


@dataclass(frozen=True)
class _Held:
    """How one size stands in a plan's halls: placed in full (``ok``), and whether its
    spine and core racks all stand in meet-me rooms (``in_mmr``)."""

    ok: bool
    in_mmr: bool = False


_NOT_HELD = _Held(False)


class PlanFits:
    """Floor-plan fits of one server's cluster sizes in many hall plans, sharing work.

    A hall plan is a sequence of halls that the racks fill in order. Two facts make most
    of the work of one plan the work of another:

    - **Placements are shared by plans that begin alike.** Placing an SU reads only the
      SU, the hall at the cursor, the positions from the cursor on and the plan's
      switches per network rack (the fewest of its halls) (:func:`_place_su`). A
      placement of the largest size in halls A stops at the first SU that does not fit;
      up to there, placing in A then X makes exactly the same decisions, because the only
      ones that could see X (a group wrapping past the last row, the cursor running out)
      are the ones that stopped it. So the plan A + X resumes A's placement at that SU
      (unless X has fewer switches per network rack) instead of starting again; plans
      form a tree (:class:`_Placement` nodes) and each hall's SUs are placed once per
      branch. An SU whose links span two halls without a route fails every size of the
      plan, and of the plans that extend it.
    - **A size held by the first halls reaches no later hall.** A size placed in full
      in A, with its spines and cores in A's meet-me rooms (or with no meet-me room in
      the halls after A, which would draw them away) and the same switches per network
      rack, has the same layout in every plan that begins with A. It puts no rack in
      A + X's last hall, and a plan keeps only the sizes that reach its last hall (the
      others are the shorter plan's). Such sizes are not fitted again; a plan whose
      sizes are all held by its first halls has no option, and neither has any plan
      that extends it (the grid caps the cluster, so deep plans are mostly of this kind).

    Both are exact: every fit equals the fit of the plan on its own (``share=False``:
    one placement in all of its halls, nothing taken from other plans, as
    :func:`fit_sizes` does), checked against it and against :func:`lay_out` in
    ``tests/test_plan_fits.py``. Plans are keyed by the identity of their (as used)
    buildings, which the instance keeps alive. ``stats`` counts the work done: placement
    runs, SUs placed, size fits (a size's switch racks placed, or laid out in full) and
    sizes taken from a shorter plan.
    """

    def __init__(self, catalog: Catalog, server_key: str, shapes: list[Shape], routes: list[Route],
                 cabling: Cabling, share: bool = True, hall_slots: dict | None = None):
        self.share = share
        # halls' rack positions by geometry: the caller's (PlanCache.hall_slots), else this fitter's own
        self.hall_slots: dict[str, _Slots] = {} if hall_slots is None else hall_slots
        self.catalog, self.server_key, self.shapes, self.cabling = catalog, server_key, shapes, cabling
        self.route_list = routes
        self.routes = {(r.from_building, r.to_building): r for r in routes}
        self.big = max((sh for sh in shapes if sh.servers), key=lambda sh: (sh.scalable_units, sh.servers),
                       default=None)
        self.prefix_ok = [self._is_prefix(sh) for sh in shapes]
        self._placements: dict[tuple[int, ...], _Placement] = {}
        self.stats = {"placements": 0, "sus_placed": 0, "size_fits": 0, "full_layouts": 0, "sizes_shared": 0}

    def _is_prefix(self, sh: Shape) -> bool:
        """The size's server and leaf racks are the first SUs of the largest size's: the same
        SU shape, all of its SUs full in the largest size too."""
        big = self.big
        return (big is not None and bool(sh.servers) and sh.servers == sh.scalable_units * sh.servers_per_su
                and (sh.rails, sh.planes, sh.servers_per_su) == (big.rails, big.planes, big.servers_per_su)
                and big.servers_in_su(sh.scalable_units - 1) == sh.servers_per_su)

    def placement(self, buildings) -> _Placement:
        """The node of a plan (its halls as used, in fill order), made with its parents."""
        buildings = tuple(buildings)
        key = tuple(id(b) for b in buildings)
        node = self._placements.get(key)
        if node is None:
            parent = self.placement(buildings[:-1]) if self.share and len(buildings) > 1 else None
            node = self._placements[key] = _Placement(self, buildings, parent)
        return node

    def fits(self, buildings, need_hall: str | None = None) -> list[Fit | LayoutError | None]:
        """Every size's fit in the plan; every entry is the plan's error when no size can
        be placed (see :func:`fit_sizes`)."""
        node = self.placement(buildings)
        failed = node.failed()
        return [failed] * len(self.shapes) if failed is not None else node.fits(need_hall)


class _Placement:
    """One hall plan (a node of the plan tree): its rack positions, and the largest size's
    SUs placed in them, resumed from the plan without its last hall (see PlanFits)."""

    def __init__(self, owner: PlanFits, buildings: tuple[Building, ...], parent: _Placement | None):
        self.owner, self.buildings, self.parent = owner, buildings, parent
        self.halls = {b.name: b for b in buildings}
        self.per_net_rack = min(b.switches_per_network_rack for b in buildings)
        self.dead: LayoutError | None = None  # no size can be placed: every entry is this error
        self.dead_su: int | None = None  # the SU whose links need a missing route (None: rack_slots failed)
        self.dead_layout: Layout | None = None  # the placement holding that SU
        self.slots = _Slots([], [], [])
        self.new_mmr = False
        if parent is not None and parent.dead is not None and parent.dead_su is None:
            self.dead = parent.dead  # an earlier hall's rack positions failed: the first such hall names the error
        else:
            try:
                new = buildings[-1:] if parent is not None else buildings
                parts = [_hall_slots(b, owner.hall_slots) for b in new]
            except LayoutError as exc:
                self.dead = exc
            else:
                slots = parent.slots if parent is not None else _Slots([], [], [])
                for part in parts:
                    slots = slots.then(part)
                self.slots = slots
                self.new_mmr = bool(parts[-1].mmr)
        n = len(owner.shapes)
        self._placed = False
        self._held: list[_Held | None] = [None] * n
        self._walks: dict[int, list | LayoutError] = {}
        self._fits: dict[int, Fit | LayoutError] = {}
        self._all: tuple[bool, bool] | None = None
        self.spans: dict[tuple[int, int, int], dict] = {}
        self._leaf_spine: dict[tuple[int, ...], float] = {}  # see leaf_spine_max
        # the largest size's SUs, set by _place_all
        self.layout = Layout(slots_total=self.slots.total, halls=self.halls)
        self.placed = 0  # SUs placed
        self.shared = 0  # of which the parent's
        self.rack_end: list[int] = []  # racks placed after each SU
        self.su_halls: list[frozenset] = []  # halls of the racks of SUs 0..k-1 (cumulative)
        self.su_endpoints: list[dict[str, int]] = []  # endpoints per hall of SUs 0..k-1 (cumulative)
        self.leaves: dict[tuple[int, int], list] = {}  # (plane, su) -> leaf rack points
        self.next_system = 0
        self.error: LayoutError | None = None  # why no more SUs fit
        self.full_room: int | None = None  # rack positions outside the MMR, when the halls are full

    # -- the largest size's SUs ---------------------------------------------------------

    def failed(self) -> LayoutError | None:
        """The error of every size, when none can be placed."""
        self._place_all()
        return self.dead

    @property
    def finished(self) -> bool:
        """Every SU of the largest size is placed (a longer plan places none in its new hall)."""
        self._place_all()
        big = self.owner.big
        return self.dead is None and (big is None or self.placed == big.scalable_units)

    def _place_all(self) -> None:
        """Place the largest size's SUs (once): the parent's, then on into the new hall."""
        if self._placed:
            return
        self._placed = True
        big, parent = self.owner.big, self.parent
        if self.dead is not None or big is None:
            return
        # switches per network rack are the fewest of the plan's halls: where the new hall
        # has fewer, every SU takes more leaf racks and the placement starts again
        if parent is not None and parent.per_net_rack == self.per_net_rack:
            parent._place_all()
            if parent.dead is not None:
                self.dead, self.dead_su = self._route_error(parent), parent.dead_su
                self.dead_layout = parent.dead_layout
                return
            self._resume(parent)
            if parent.finished:
                return
        else:
            self.layout.endpoint_rack = np.zeros(big.servers, dtype=int)
        self._place_sus()

    def _route_error(self, parent: _Placement) -> LayoutError:
        """The parent's missing-route error, as this plan words it (its hall numbering
        decides which missing route of the SU is named first)."""
        lay, su = parent.dead_layout, parent.dead_su
        leaves = [lay.leaf_rack[(p, su, r)] for p in range(self.owner.big.planes) for r in range(self.owner.big.rails)]
        probe = dataclasses.replace(lay, halls=self.halls)
        try:
            _su_node_leaf_max(probe, su, self.owner.big.servers_per_su, leaves, self.owner.routes, self.owner.cabling)
        except LayoutError as exc:
            return exc
        return parent.dead

    def _resume(self, parent: _Placement) -> None:
        """Take the parent's SUs: shared as they are when the parent placed them all, else
        copied up to the SU where it stopped, to place the rest from there."""
        lay, e = parent.layout, parent.placed
        self.shared = e
        self.next_system = parent.next_system
        if parent.finished:
            self.layout = dataclasses.replace(lay, halls=self.halls, slots_total=self.slots.total)
            self.placed, self.rack_end = e, parent.rack_end
            self.su_halls, self.su_endpoints, self.leaves = parent.su_halls, parent.su_endpoints, parent.leaves
            return
        end = parent.rack_end[e - 1] if e else 0
        endpoint_rack = lay.endpoint_rack.copy()
        endpoint_rack[parent.next_system * self.owner.big.endpoints_per_system:] = 0
        self.layout = Layout(racks=lay.racks[:end], endpoint_rack=endpoint_rack, leaf_rack=dict(lay.leaf_rack),
                             su_cursor=lay.su_cursor[:e], su_node_leaf_max=lay.su_node_leaf_max[:e],
                             slots_total=self.slots.total, halls=self.halls)
        self.placed, self.rack_end = e, parent.rack_end[:e]
        self.su_halls, self.su_endpoints, self.leaves = parent.su_halls[:e], parent.su_endpoints[:e], dict(
            parent.leaves)

    def _place_sus(self) -> None:
        """Place the largest size's SUs from ``self.placed`` until one does not fit; stop at
        an SU whose links need a route the site lacks (every size then fails)."""
        owner, big, lay = self.owner, self.owner.big, self.layout
        placer = _Placer(self.slots, lay, lay.su_cursor[-1] if self.placed else 0)
        owner.stats["placements"] += 1
        system = self.next_system
        for su in range(self.placed, big.scalable_units):
            try:
                system = _place_su(owner.catalog, owner.server_key, big, su, system, self.buildings, self.halls,
                                   self.per_net_rack, placer, lay)
            except _Full:
                room = len(placer.room)
                self.error = _full_error(owner.catalog, owner.server_key, big, self.buildings, room)
                self.full_room = room
                return
            except LayoutError as exc:  # a hall too hot for the server: no SU goes past it
                self.error = exc
                return
            owner.stats["sus_placed"] += 1
            self._record_su(su)
            leaves = [lay.leaf_rack[(p, su, r)] for p in range(big.planes) for r in range(big.rails)]
            try:
                lay.su_node_leaf_max.append(_su_node_leaf_max(lay, su, big.servers_per_su, leaves, owner.routes,
                                                              owner.cabling))
            except LayoutError as exc:
                self.dead, self.dead_su, self.dead_layout = exc, su, lay
                return
            self.placed, self.next_system = su + 1, system

    def _record_su(self, su: int) -> None:
        """What the sizes ending at SU ``su`` need: halls and endpoints so far, leaf points."""
        lay, per_su, big = self.layout, self.owner.big.servers_per_su, self.owner.big
        start = self.rack_end[-1] if self.rack_end else 0
        self.rack_end.append(len(lay.racks))
        seen = set(self.su_halls[-1]) if self.su_halls else set()
        seen |= {r["building"] for r in lay.racks[start:]}
        count = dict(self.su_endpoints[-1]) if self.su_endpoints else {}
        for rack in lay.endpoint_rack[su * per_su:(su + 1) * per_su]:
            h = lay.racks[rack]["building"]
            count[h] = count.get(h, 0) + 1
        self.su_halls.append(frozenset(seen))
        self.su_endpoints.append(count)
        for p in range(big.planes):
            self.leaves[(p, su)] = [lay.rack_point(lay.leaf_rack[(p, su, r)]) for r in range(big.rails)]

    def leaf_span(self, plane: int, start: int, end: int) -> dict:
        """Summary of the leaf racks of one plane in SUs start..end-1: the parent's where it
        holds those SUs, else grown one SU at a time from the longest span known."""
        if end <= start:
            return {}
        if self.parent is not None and end <= self.shared:
            return self.parent.leaf_span(plane, start, end)
        if (plane, start, end) in self.spans:
            return self.spans[(plane, start, end)]
        known = end
        while known > start and (plane, start, known) not in self.spans \
                and not (self.parent is not None and known <= self.shared):
            known -= 1
        span = self.leaf_span(plane, start, known)
        for stop in range(known + 1, end + 1):
            one = _summary(self.leaves.get((plane, stop - 1), ()))
            span = _merge(span, one) if stop - 1 > start else one
            self.spans[(plane, start, stop)] = span
        return span

    def leaf_spine_max(self, leaves: tuple[int, int, int], spines: range, points: list) -> float:
        """Longest link from the leaf racks of (plane, first SU, end SU) to the spine racks
        ``spines`` (standing at ``points``). Spine racks in the meet-me rooms stand where
        they stand whatever the size, so the value is kept for the next size, whose full
        pods are the same (a missing route is not kept: it is raised again)."""
        fixed = spines.stop <= len(self.slots.mmr)
        key = (*leaves, spines.start, spines.stop)
        if fixed and key in self._leaf_spine:
            return self._leaf_spine[key]
        value = _max_route(self.leaf_span(*leaves), _summary([points[r] for r in spines]), self.halls,
                           self.owner.routes, self.owner.cabling)
        if fixed:
            self._leaf_spine[key] = value
        return value

    # -- one size -------------------------------------------------------------------------

    def _as_parent(self, i: int) -> bool:
        """Size ``i`` stands in this plan exactly as in the parent's, so in none of this
        plan's new hall: see PlanFits."""
        parent = self.parent
        if parent is None or self.dead is not None or self.per_net_rack != parent.per_net_rack:
            return False
        held = parent.held(i)
        if not (held.ok and (held.in_mmr or not self.new_mmr)):
            return False
        if parent.finished:
            return True
        self._place_all()  # the placement goes on in the new hall: a route missing there fails every size
        return self.dead is None

    def held(self, i: int) -> _Held:
        """Whether size ``i`` is placed in full in this plan's halls, and its switches in MMRs."""
        found = self._held[i]
        if found is None:
            found = self._held[i] = self._hold(i)
        return found

    def _hold(self, i: int) -> _Held:
        sh = self.owner.shapes[i]
        if not sh.servers:
            return _Held(True, True)
        if self._as_parent(i):
            self.owner.stats["sizes_shared"] += 1
            return self.parent.held(i)
        if self.failed() is not None:
            return _NOT_HELD
        if self.owner.prefix_ok[i]:
            if sh.scalable_units > self.placed or isinstance(self._walk(i), LayoutError):
                return _NOT_HELD
        elif isinstance(self._fit(i), LayoutError):
            return _NOT_HELD
        return _Held(True, _switch_racks(sh, self.per_net_rack) <= len(self.slots.mmr))

    def all_held(self) -> tuple[bool, bool]:
        """(every size held, every size held with its switches in MMRs)."""
        if self._all is None:
            if self._inherits_all():
                self._all = self.parent.all_held()
            else:
                held = [self.held(i) for i in range(len(self.owner.shapes))]
                self._all = (all(h.ok for h in held), all(h.ok and h.in_mmr for h in held))
        return self._all

    def _inherits_all(self) -> bool:
        """Every size stands as in the parent's plan (checked once for all sizes)."""
        parent = self.parent
        if parent is None or self.dead is not None or self.per_net_rack != parent.per_net_rack:
            return False
        ok, in_mmr = parent.all_held()
        return ok and (in_mmr or not self.new_mmr) and parent.finished

    def fits(self, need_hall: str | None) -> list[Fit | LayoutError | None]:
        """Every size's fit (see :func:`fit_sizes`); the plan must not have failed."""
        shapes = self.owner.shapes
        if need_hall is not None and self._inherits_all() and need_hall not in self.parent.halls:
            self.owner.stats["sizes_shared"] += len(shapes)
            return [None if sh.servers else Fit({}, {}, frozenset()) for sh in shapes]
        return [self.fit(i, need_hall) for i in range(len(shapes))]

    def fit(self, i: int, need_hall: str | None) -> Fit | LayoutError | None:
        """Size ``i``'s fit: None where ``need_hall`` is given and holds none of its racks."""
        sh = self.owner.shapes[i]
        if not sh.servers:
            return Fit({}, {}, frozenset())
        if self._as_parent(i):
            self.owner.stats["sizes_shared"] += 1
            return self.parent.fit(i, need_hall) if need_hall is None or need_hall in self.parent.halls else None
        if self.failed() is not None:
            return self.dead
        if not self.owner.prefix_ok[i]:
            fit = self._fit(i)
            return None if need_hall is not None and isinstance(fit, Fit) and need_hall not in fit.halls else fit
        if sh.scalable_units > self.placed:
            if self.full_room is not None:
                return _full_error(self.owner.catalog, self.owner.server_key, sh, self.buildings, self.full_room)
            return self.error or LayoutError("the halls are full")
        points = self._walk(i)
        if isinstance(points, LayoutError):
            return points
        if need_hall is not None and need_hall not in self.su_halls[sh.scalable_units - 1] | {p[0] for p in points}:
            return None
        return self._fit(i)

    def _walk(self, i: int) -> list | LayoutError:
        if i not in self._walks:
            self.owner.stats["size_fits"] += 1
            try:
                self._walks[i] = _switch_points(self, self.owner.shapes[i])
            except LayoutError as exc:
                self._walks[i] = exc
        return self._walks[i]

    def _fit(self, i: int) -> Fit | LayoutError:
        """The size's whole fit: from the placed SUs and its switch racks, or (a size that
        is no prefix of the largest) laid out in full."""
        if i not in self._fits:
            owner, sh = self.owner, self.owner.shapes[i]
            try:
                if owner.prefix_ok[i]:
                    self._fits[i] = _prefix_fit(self, sh, self._walk(i))
                else:
                    owner.stats["size_fits"] += 1
                    owner.stats["full_layouts"] += 1
                    self._fits[i] = _fit_of(_lay_out_in(owner.catalog, owner.server_key, sh, self.buildings,
                                                        owner.route_list, owner.cabling, self.slots))
            except LayoutError as exc:
                self._fits[i] = exc
        return self._fits[i]


def _switch_racks(sh: Shape, per_rack: int) -> int:
    """Spine and core racks of a size (switches of a tier share racks, ``per_rack`` a rack)."""
    n_spines = sh.planes * sh.pods * sh.spines_per_pod if sh.tiers >= 2 else 0
    n_cores = sh.planes * sh.spines_per_pod * sh.cores_per_group if sh.tiers == 3 else 0
    return math.ceil(n_spines / per_rack) + math.ceil(n_cores / per_rack)


def _switch_points(base: _Placement, sh: Shape) -> list[tuple[str, float, float]]:
    """Where a size's spine and core racks stand, as :func:`lay_out` places them (spines
    by (plane, pod, j), then cores by (plane, j, c)): the meet-me room positions of the
    plan in order, then the room after its last SU."""
    n = _switch_racks(sh, base.per_net_rack)
    in_mmr = base.slots.mmr[:n]
    cursor = base.layout.su_cursor[sh.scalable_units - 1]
    in_room = base.slots.room[cursor:cursor + n - len(in_mmr)]
    if len(in_mmr) + len(in_room) < n:
        raise LayoutError("the halls are full: no room for the spine and core racks")
    return [(slot.building, slot.x, slot.y) for slot in (*in_mmr, *in_room)]


# A set of rack points is summarised, per hall, by the largest of x + y, x - y, -x + y
# and -x - y over its points: the longest rectilinear distance between two sets, or from
# a set to a point, follows from these four numbers (max |dx| + |dy| = max over the sign
# pairs s of s.a - s.b), so no pair of points is ever visited.
_SIGNS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


def _summary(points) -> dict[str, tuple[float, ...]]:
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


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for h, v in b.items():
        cur = out.get(h)
        out[h] = v if cur is None else tuple(max(c, w) for c, w in zip(cur, v, strict=True))
    return out


def _max_route(a: dict, b: dict, halls, routes, cabling: Cabling) -> float:
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


def _prefix_fit(base: _Placement, sh: Shape, points: list[tuple[str, float, float]]) -> Fit:
    """The fit of a size whose SUs are the first of ``base``'s placement and whose spine
    and core racks stand at ``points`` (:func:`_switch_points`): longest links from the
    per-SU node-leaf maxima and from summaries of the leaf, spine and core racks."""
    k = sh.scalable_units
    result = {"node_leaf": max(base.layout.su_node_leaf_max[:k]), "leaf_spine": 0.0, "spine_core": 0.0}
    used = base.su_halls[k - 1] | {p[0] for p in points}
    fit = Fit(result, dict(base.su_endpoints[k - 1]), frozenset(used))
    if sh.tiers < 2:
        return fit
    best = 0.0
    for pod in range(sh.pods):
        for p in range(sh.planes):
            leaves = (p, pod * sh.sus_per_pod, min(k, (pod + 1) * sh.sus_per_pod))
            spines = _rack_range((p * sh.pods + pod) * sh.spines_per_pod, sh.spines_per_pod, base.per_net_rack)
            best = max(best, base.leaf_spine_max(leaves, spines, points))
    result["leaf_spine"] = best
    if sh.tiers == 3:
        result["spine_core"] = _spine_core_max(sh, points, base.per_net_rack, base.halls, base.owner.routes,
                                               base.owner.cabling)
    return fit


def _rack_range(first: int, count: int, per_rack: int, offset: int = 0) -> range:
    """Racks of switches first..first+count-1 of a tier (switch i of a tier stands in rack
    i // per_rack of that tier; ``offset``: the racks of the tiers before it). The spines
    of one pod and plane, and the cores of one group, are consecutive numbers, so their
    racks are a range (no walk over every switch)."""
    return range(offset + first // per_rack, offset + (first + count - 1) // per_rack + 1)


def _spine_core_max(sh: Shape, points: list[tuple[str, float, float]], per_rack: int, halls: dict, routes: dict,
                    cabling: Cabling) -> float:
    """Longest spine-core link: spine j of every pod to the cores of group j, per plane.

    The spines of the j that share racks are one set, so their core groups are merged and
    measured at once: the longest link to a union is, exactly, the longest of the links
    to its parts (every step of :func:`_max_route` is a maximum or grows with it). Where
    a route is missing, the pairs are walked one j at a time as before, so that the same
    missing route is named."""
    spp, pods, cpg = sh.spines_per_pod, sh.pods, sh.cores_per_group
    n_spine_racks = math.ceil(sh.planes * pods * spp / per_rack)
    try:
        best = 0.0
        for p in range(sh.planes):
            # spine j of pod q stands in rack (b_q + j) // per_rack, b_q = (p * pods + q) * spp: the
            # racks change, for some pod, at the j where b_q + j is a multiple of per_rack; between
            # two such j the spines share their racks, and the cores of those groups are one range
            starts = [(p * pods + q) * spp for q in range(pods)]
            cuts = {-b % per_rack for b in starts}
            first = 0
            for j in range(1, spp + 1):
                if j < spp and j % per_rack not in cuts:
                    continue
                spines = _summary([points[(b + first) // per_rack] for b in starts])
                low = _rack_range((p * spp + first) * cpg, cpg, per_rack, n_spine_racks)
                high = _rack_range((p * spp + j - 1) * cpg, cpg, per_rack, n_spine_racks)
                cores = _summary([points[r] for r in range(low.start, high.stop)])
                best = max(best, _max_route(spines, cores, halls, routes, cabling))
                first = j
        return best
    except LayoutError:
        best = 0.0
        for p in range(sh.planes):
            for j in range(spp):
                spines = _summary([points[((p * pods + pod) * spp + j) // per_rack] for pod in range(pods)])
                cores = _summary([points[r] for r in _rack_range((p * spp + j) * cpg, cpg, per_rack, n_spine_racks)])
                best = max(best, _max_route(spines, cores, halls, routes, cabling))
        return best

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
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from planner.catalog import Catalog
from planner.fabric import Shape
from planner.site import Building, Cabling, Route

CABLE_SIZES_FIBERS = (864, 1728, 3456)  # high-count campus cables (catalogs/cables.toml)


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
        return 1 if power.watts / 1e3 <= b.max_kw_per_rack else 0
    by_kw = math.floor(b.max_kw_per_rack * 1e3 / power.watts)
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


class _Placer:
    """Hands out rack positions in order, keeping a scalable unit within one row."""

    _prepared: dict[int, tuple] = {}  # one cache for repeated layouts

    def __init__(self, slots: list[Slot], layout: Layout):
        prepared = self._prepared.get(id(slots))
        if prepared is None or prepared[3] is not slots:
            room = [s for s in slots if not s.in_mmr]
            mmr = [s for s in slots if s.in_mmr]
            row_end = [0] * len(room)  # index one past the last slot of each slot's row
            end = len(room)
            for i in range(len(room) - 1, -1, -1):
                if i + 1 < len(room) and (room[i].building, room[i].row) != (room[i + 1].building, room[i + 1].row):
                    end = i + 1
                row_end[i] = end
            prepared = (room, mmr, row_end, slots)
            self._prepared.clear()
            self._prepared[id(slots)] = prepared
        self.room, self.mmr, self.row_end, _ = prepared
        self.cursor = 0
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
    halls = {b.name: b for b in buildings}
    route_map = {(r.from_building, r.to_building): r for r in routes}
    if slots is None:
        slots = [s for b in buildings for s in rack_slots(b)]
    layout = Layout(slots_total=len(slots), halls=halls)
    placer = _Placer(slots, layout)
    try:
        _place(catalog, server_key, shape, buildings, halls, placer, layout)
    except _Full:
        raise _full_error(catalog, server_key, shape, buildings, len(placer.room)) from None
    _lengths(layout, shape, route_map, cabling)
    return layout


def _full_error(catalog, server_key: str, shape: Shape, buildings: list[Building], room: int) -> LayoutError:
    need = _racks_needed(catalog, server_key, shape, buildings)
    return LayoutError(
        f"the halls ({', '.join(b.name for b in buildings)}) hold {room} rack positions outside the "
        f"meet-me room; {shape.systems} x {server_key} and their switches need about {need}: "
        "add or enlarge a hall")


def _place(catalog, server_key, shape, buildings, halls, placer: _Placer, layout: Layout,
           su_rack_end: list[int] | None = None) -> None:
    """Place every SU's racks, then the spines and cores. ``su_rack_end`` (when given)
    receives the number of racks placed after each SU."""
    per_system = shape.endpoints_per_system
    per_net_rack = min(b.switches_per_network_rack for b in buildings)
    leaves_per_su = shape.rails * shape.planes
    endpoint_rack = np.zeros(shape.servers, dtype=int)
    layout.endpoint_rack = endpoint_rack
    system = 0
    for su in range(shape.scalable_units):
        last_ep = su * shape.servers_per_su + shape.servers_in_su(su)
        last_system = math.ceil(last_ep / per_system)
        systems = list(range(system, last_system))
        hall = halls[placer.hall()] if placer.hall() else buildings[-1]
        cap = systems_per_rack(catalog, server_key, hall)
        if cap < 1:
            s = catalog.servers[server_key]
            raise LayoutError(
                f"hall {hall.name!r} ({hall.cooling}, {hall.max_kw_per_rack:g} kW per rack) cannot take "
                f"{server_key} ({catalog.power(server_key).watts / 1e3:g} kW "
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
        system = last_system
        layout.su_cursor.append(placer.cursor)
        if su_rack_end is not None:
            su_rack_end.append(len(layout.racks))
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


def _lengths(layout: Layout, shape: Shape, routes: dict, cabling: Cabling) -> None:
    """Every link's length, vectorised over (rack, rack, links) triples."""
    halls = layout.halls
    names = sorted(halls)
    index = {n: i for i, n in enumerate(names)}
    hall = np.array([index[r["building"]] for r in layout.racks], dtype=int)
    xy = np.array([(r["x"], r["y"]) for r in layout.racks], dtype=float).reshape(-1, 2)
    rise = np.array([halls[n].tray_height_m - halls[n].port_height_m for n in names])
    pair_links: dict[tuple[str, str], int] = {}
    room_ids: dict[tuple, int] = {}
    room = np.array([room_ids.setdefault(_room(r), len(room_ids)) for r in layout.racks], dtype=int)
    same: dict[str, np.ndarray] = {}

    def lengths(a: np.ndarray, b: np.ndarray, n: np.ndarray, tier: str = "") -> np.ndarray:
        if tier:
            same[tier] = np.repeat(room[a] == room[b], n) if a.size else np.zeros(0, dtype=bool)
        if a.size == 0:
            return np.zeros(0)
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
        out = (rise[ha] + horizontal + rise[hb]) * (1 + cabling.slack_ratio) + cabling.service_loop_m
        return np.repeat(out, n)

    # node-leaf: per SU, the endpoints' racks (with counts) to each leaf rack of the SU
    per_su = max(1, shape.servers_per_su)
    a_parts, b_parts, n_parts = [], [], []
    leaves_of_su: dict[int, list[int]] = {}
    for (_p, su, _r), leaf in layout.leaf_rack.items():
        leaves_of_su.setdefault(su, []).append(leaf)
    su_max = []
    for su in range(shape.scalable_units):
        leaves = leaves_of_su[su]
        racks, n = np.unique(layout.endpoint_rack[su * per_su:(su + 1) * per_su], return_counts=True)
        lv = np.array(leaves)
        a_parts.append(np.tile(racks, lv.size))
        b_parts.append(np.repeat(lv, racks.size))
        n_parts.append(np.tile(n, lv.size))
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
    in the same halls, fast.

    Scalable units are placed in the same order whatever the size, so one placement of
    as many SUs of the largest size as the halls hold gives every smaller size's server
    and leaf racks (a prefix). Only the spines and cores, which move with the size, are
    placed again per size. A size whose last SU is partial is laid out in full.
    ``tests/test_layout.py`` checks this equals :func:`lay_out` on many sizes.

    An entry is a LayoutError where the size does not fit the halls, and None where
    ``need_hall`` is given and the size places no rack in that hall (the same size in the
    halls without it is the same plan).
    """
    slots = [s for b in buildings for s in _hall_slots(b)]
    halls = {b.name: b for b in buildings}
    route_map = {(r.from_building, r.to_building): r for r in routes}
    full = [sh for sh in shapes if sh.servers]
    big = max(full, key=lambda sh: (sh.scalable_units, sh.servers), default=None)
    base = _su_prefix(catalog, server_key, big, buildings, slots, route_map, cabling) if big else None
    split = ([s for s in slots if not s.in_mmr], [s for s in slots if s.in_mmr])
    out: list[Fit | LayoutError | None] = []
    for sh in shapes:
        if not sh.servers:
            out.append(Fit({}, {}, frozenset()))
            continue
        prefix_ok = (base is not None and sh.servers == sh.scalable_units * sh.servers_per_su
                     and (sh.rails, sh.planes, sh.servers_per_su) == (big.rails, big.planes, big.servers_per_su)
                     and big.servers_in_su(sh.scalable_units - 1) == sh.servers_per_su)  # SUs before it are full
        if prefix_ok and sh.scalable_units > base.placed:
            full_room = base.full_room
            out.append(_full_error(catalog, server_key, sh, buildings, full_room) if full_room is not None
                       else base.error or LayoutError("the halls are full"))
            continue
        try:
            if prefix_ok:
                fit = _prefix_fit(base, sh, split, halls, route_map, cabling, buildings, need_hall)
            else:
                fit = _fit_of(lay_out(catalog, server_key, sh, buildings, routes, cabling, slots))
        except LayoutError as exc:
            out.append(exc)
            continue
        out.append(None if need_hall is not None and fit is not None and need_hall not in fit.halls else fit)
    return out


_SLOTS: dict[str, list[Slot]] = {}
_GEOMETRY = ("name", "polygon", "keep_out", "rack_width_m", "rack_depth_m", "aisle_m", "clearance_m",
             "meet_me_room", "origin")


def _hall_slots(b: Building) -> list[Slot]:
    """rack_slots, cached by the hall's geometry: a hall and its converted self (or the
    same hall in many plans) share their rack positions."""
    key = repr([getattr(b, f) for f in _GEOMETRY])
    if key not in _SLOTS:
        if len(_SLOTS) > 256:
            _SLOTS.clear()
        _SLOTS[key] = rack_slots(b)
    return _SLOTS[key]


@dataclass
class _Prefix:
    """The SUs of the largest size that fit, placed once, with what each prefix needs."""

    layout: Layout
    placed: int  # SUs placed
    su_halls: list[frozenset]  # halls of the racks of SUs 0..k-1 (cumulative)
    su_endpoints: list[dict[str, int]]  # endpoints per hall of SUs 0..k-1 (cumulative)
    leaves: dict[tuple[int, int], list]  # (plane, su) -> leaf rack points
    error: LayoutError | None  # why no more SUs fit
    full_room: int | None = None  # rack positions outside the MMR, when the halls are full
    spans: dict[tuple[int, int, int], dict] = field(default_factory=dict)

    def leaf_span(self, plane: int, start: int, end: int) -> dict:
        """Summary of the leaf racks of one plane in SUs start..end-1 (memoised, grown by one SU)."""
        key = (plane, start, end)
        if key not in self.spans:
            one = _summary(self.leaves.get((plane, end - 1), ())) if end > start else {}
            self.spans[key] = _merge(self.leaf_span(plane, start, end - 1), one) if end - 1 > start else one
        return self.spans[key]


def _su_prefix(catalog, server_key, big: Shape, buildings, slots, route_map, cabling) -> _Prefix:
    halls = {b.name: b for b in buildings}
    layout = Layout(slots_total=len(slots), halls=halls)
    placer = _Placer(slots, layout)
    error, full_room = None, None
    su_rack_end: list[int] = []
    try:
        _place(catalog, server_key, big, buildings, halls, placer, layout, su_rack_end=su_rack_end)
    except _Full:
        error, full_room = _full_error(catalog, server_key, big, buildings, len(placer.room)), len(placer.room)
    except LayoutError as exc:  # a hall too hot for the server: no SU goes past it
        error = exc
    k = len(su_rack_end)
    if k:
        trimmed = dataclasses.replace(big, servers=k * big.servers_per_su, scalable_units=k, tiers=1)
        _lengths(layout, trimmed, route_map, cabling)
    per_su = big.servers_per_su
    su_halls, su_endpoints = [], []
    seen: set[str] = set()
    count: dict[str, int] = {}
    start = 0
    for su, end in enumerate(su_rack_end):
        seen |= {r["building"] for r in layout.racks[start:end]}
        start = end
        for rack in layout.endpoint_rack[su * per_su:(su + 1) * per_su]:
            h = layout.racks[rack]["building"]
            count[h] = count.get(h, 0) + 1
        su_halls.append(frozenset(seen))
        su_endpoints.append(dict(count))
    leaves: dict[tuple[int, int], list] = {}
    for (p, su, _r), rack in layout.leaf_rack.items():
        if su < k:
            leaves.setdefault((p, su), []).append(layout.rack_point(rack))
    return _Prefix(layout, k, su_halls, su_endpoints, leaves, error, full_room)


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


def _prefix_fit(base: _Prefix, sh: Shape, split: tuple[list[Slot], list[Slot]], halls, routes,
                cabling: Cabling, buildings: list[Building], need_hall: str | None) -> Fit | None:
    k = sh.scalable_units
    lay = base.layout
    result = {"node_leaf": max(lay.su_node_leaf_max[:k]), "leaf_spine": 0.0, "spine_core": 0.0}
    per_rack = min(b.switches_per_network_rack for b in buildings)
    room, mmr = split
    cursor = lay.su_cursor[k - 1]
    # spines numbered (plane, pod, j) and cores (plane, j, c) in that order, as lay_out places them
    n_spines = sh.planes * sh.pods * sh.spines_per_pod if sh.tiers >= 2 else 0
    n_cores = sh.planes * sh.spines_per_pod * sh.cores_per_group if sh.tiers == 3 else 0
    points: list[tuple[str, float, float]] = []
    mmr_i = 0
    for count in (n_spines, n_cores):
        for _ in range(0, count, per_rack):
            if mmr_i < len(mmr):
                slot = mmr[mmr_i]
                mmr_i += 1
            elif cursor < len(room):
                slot = room[cursor]
                cursor += 1
            else:
                raise LayoutError("the halls are full: no room for the spine and core racks")
            points.append((slot.building, slot.x, slot.y))
    used = base.su_halls[k - 1] | {p[0] for p in points}
    if need_hall is not None and need_hall not in used:
        return None
    fit = Fit(result, dict(base.su_endpoints[k - 1]), frozenset(used))
    if sh.tiers < 2:
        return fit
    # switch number i of a tier (in the order of its keys above) stands in rack i // per_rack
    # of that tier: the spines of one pod and plane, and the cores of one group, are
    # consecutive numbers, so their racks are a range (no walk over every switch)
    spp, pods, cpg = sh.spines_per_pod, sh.pods, sh.cores_per_group
    n_spine_racks = math.ceil(n_spines / per_rack)

    def racks(first: int, count: int, offset: int = 0) -> range:
        return range(offset + first // per_rack, offset + (first + count - 1) // per_rack + 1)

    best = 0.0
    for pod in range(pods):
        for p in range(sh.planes):
            leaves = base.leaf_span(p, pod * sh.sus_per_pod, min(k, (pod + 1) * sh.sus_per_pod))
            spines = _summary([points[r] for r in racks((p * pods + pod) * spp, spp)])
            best = max(best, _max_route(leaves, spines, halls, routes, cabling))
    result["leaf_spine"] = best
    if sh.tiers == 3:
        best = 0.0
        for p in range(sh.planes):
            for j in range(spp):
                spines = _summary([points[((p * pods + pod) * spp + j) // per_rack] for pod in range(pods)])
                cores = _summary([points[r] for r in racks((p * spp + j) * cpg, cpg, n_spine_racks)])
                best = max(best, _max_route(spines, cores, halls, routes, cabling))
        result["spine_core"] = best
    return fit


def _room(rack: dict) -> tuple:
    """Where a rack's cables gather: its hall's meet-me room, or its row."""
    return (rack["building"], "MMR") if rack.get("mmr") else (rack["building"], f"row {rack['row']:04d}")


def structured_cabling(layout: Layout, shape: Shape, fabric, catalog: Catalog) -> list[dict]:
    """Trunks, patch panels and jumpers for the switch-to-switch links that leave a row.

    Links between racks of one row run as direct cables. A link to another row, the
    meet-me room or another hall runs over a structured path: a jumper from the port to a
    patch panel, a shared MPO trunk, a panel and a jumper at the far end. Per pair of
    rooms: trunks = ceil(lit fibres / fibres per trunk); panels at each end =
    ceil(lit fibres / fibres per panel); jumpers = 2 per link.
    """
    out = []
    pairs = {"leaf_spine": [], "spine_core": []}
    for (p, su, _r), leaf in layout.leaf_rack.items():
        if shape.tiers >= 2:
            pod = su // shape.sus_per_pod
            for j in range(shape.spines_per_pod):
                pairs["leaf_spine"].append((leaf, layout.spine_rack[(p, pod, j)], shape.bundle_leaf_spine))
    if shape.tiers == 3:
        for (p, _pod, j), spine in layout.spine_rack.items():
            for c in range(shape.cores_per_group):
                pairs["spine_core"].append((spine, layout.core_rack[(p, j, c)], shape.bundle_spine_core))
    panels = sorted(catalog.entries["patch_panels"].values(), key=lambda e: -(e.item.fibers or 0))
    panel = panels[0].item if panels else None
    for tier, links in pairs.items():
        media = fabric.media[tier]
        if not links or not media.links or media.optic_class in ("dac", "acc", "aec"):
            continue
        mode = "om4" if media.optic_class == "sr" else "os2"
        trunks = sorted((e.item for e in catalog.entries["cables"].values()
                         if e.item.kind == "trunk" and e.item.fiber_type == mode and e.item.fibers),
                        key=lambda c: -c.fibers)
        groups: dict[tuple, int] = {}
        for a, b, n in links:
            ra, rb = _room(layout.racks[a]), _room(layout.racks[b])
            if ra != rb:
                key = (ra, rb) if ra <= rb else (rb, ra)
                groups[key] = groups.get(key, 0) + n
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


def campus_trunks(layout: Layout, fibers_per_link: dict[str, int], routes: list[Route]) -> list[dict]:
    """High-count trunks per hall pair: lit fibres x (1 + spare), in 864/1,728/3,456-fibre cables."""
    out = []
    for (a, b), links in sorted(layout.inter_building.items()):
        route = next((r for r in routes if {r.from_building, r.to_building} == {a, b}), None)
        spare = route.spare_ratio if route else 0.5
        fibers = math.ceil(links * max(fibers_per_link.values() or [0]) * (1 + spare))
        size = next((c for c in CABLE_SIZES_FIBERS if c >= fibers), CABLE_SIZES_FIBERS[-1])
        cables = math.ceil(fibers / size)
        path = sum(math.dist(p, q) for p, q in zip(route.polyline, route.polyline[1:], strict=False)) if route else None
        out.append({"from": a, "to": b, "links": links, "fibers_needed": fibers, "cable_fibers": size,
                    "cables": cables, "route_m": path, "dci_optics": bool(path and path > 10_000)})
    return out


def cable_price(catalog: Catalog, media, length_m: float) -> tuple[float, str] | None:
    """USD for one cable of a tier at ``length_m`` and the basis, or None where a figure
    is missing. Copper assemblies at their unit price; a fibre cable as fibres x length x
    the fibre's price per fibre-metre, plus the plugs at both ends at their price (fibres:
    the positions of the end with fewer, so an MPO-16 breakout to two MPO-12 counts 16)."""
    if media.optic_class in ("dac", "acc", "aec"):
        return catalog.unit_cost(media.cable_kind)
    if not media.cables or not math.isfinite(length_m):
        return None
    fibre = "om4" if media.cable_kind.startswith("mmf") else "os2"
    per_m = catalog.estimate(fibre)
    if per_m is None or per_m.unit_cost_usd_per_m is None:
        return None
    connectors = catalog.entries["connectors"]
    plugs, fibres, parts = 0.0, None, []
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

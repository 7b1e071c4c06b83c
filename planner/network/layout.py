"""Floor plan: the fabric's racks placed in rows inside real halls, and every link's length.

Servers fill racks up to the hall's kW-per-rack limit and the rack's units. Each scalable
unit's servers are consecutive; its leaf switches stand in a network rack at the end (or
the middle) of the SU; spines and cores stand in the meet-me rooms (or after the last SU).
The rack positions and the cable arithmetic are :mod:`planner.network.halls`; fitting many
cluster sizes in many hall plans at once is :mod:`planner.network.plan_fits`, which makes
the same decisions as :func:`lay_out` by calling the same :func:`place_su`; the cables
bought for a plan are :mod:`planner.network.cabling`. Lengths are rounded up to the
catalog's stock lengths where it has them (:mod:`planner.outputs.physics`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.constants import W_PER_KW
from planner.network.clos import Shape
from planner.network.halls import HallSlots, LayoutError, Slot, rack_slots, route_terms, systems_per_rack
from planner.parts.catalog import Catalog
from planner.site.schema import Building, Cabling, Route


@dataclass
class Layout:
    """Where every rack stands and how long every link is."""

    racks: list[dict] = field(default_factory=list)  # role, building, x, y, contents
    endpoint_rack: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # rack of each endpoint
    leaf_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, su, rail)
    spine_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, pod, j)
    core_rack: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (plane, group, c)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> per-link metres
    same_room: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> link stays in its row/room
    slots_total: int = 0
    halls: dict[str, Building] = field(default_factory=dict)
    inter_building: dict[tuple[str, str], int] = field(default_factory=dict)  # links per hall pair
    # the same by tier (node_leaf, leaf_spine, spine_core): which tier's optics cross each route
    inter_building_by_tier: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    su_cursor: list[int] = field(default_factory=list)  # room cursor after each SU's racks
    su_node_leaf_max: list[float] = field(default_factory=list)  # longest node-leaf link per SU
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)  # duct banks by (from, to) hall
    cabling: Cabling | None = None  # the slack and service loop the lengths were measured with

    def link_lengths(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length of a link between racks ``a[i]`` and ``b[i]``, m: the same route and
        arithmetic as the plan's own link lengths (trays, risers, duct banks, slack)."""
        if self.cabling is None:
            raise LayoutError("this floor plan measured no links")
        geo = _Geometry.of(self.racks, self.halls)
        return _link_lengths(geo, np.asarray(a), np.asarray(b), np.ones(len(a), dtype=int), self.routes, self.cabling,
                             {})

    @property
    def slots_used(self) -> int:
        return len(self.racks)

    def rack_point(self, i: int) -> tuple[str, float, float]:
        r = self.racks[i]
        return r["building"], r["x"], r["y"]

    def max_length(self, tier: str) -> float | None:
        arr = self.lengths.get(tier)
        return float(arr.max()) if arr is not None and arr.size else None

    def histogram(self, tier: str, edges: tuple[float, ...] = (3, 5, 7, 10, 20, 30, 50, 100, 150, 300, 500, 2000,
                                                                  10_000)) -> dict[str, int]:
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


class Placer:
    """Hands out rack positions in order, keeping a scalable unit within one row.

    ``cursor`` (the next room position) lets a placement resume where another one, in
    the same first halls, stopped.
    """

    def __init__(self, slots: HallSlots, layout: Layout, cursor: int = 0):
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
                raise HallsFull()
            slot = self.room[self.cursor]
            self.cursor += 1
        self.layout.racks.append({"role": role, "building": slot.building, "x": slot.x, "y": slot.y,
                                  "row": slot.row, "mmr": slot.in_mmr, "contents": contents})
        return len(self.layout.racks) - 1

    def hall(self) -> str | None:
        return self.room[self.cursor].building if self.cursor < len(self.room) else None


class HallsFull(Exception):
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
    return lay_out_in(catalog, server_key, shape, buildings, routes, cabling, HallSlots.of(slots))


def lay_out_in(catalog: Catalog, server_key: str, shape: Shape, buildings: list[Building] | tuple[Building, ...],
                routes: list[Route], cabling: Cabling, slots: HallSlots) -> Layout:
    """:func:`lay_out` on rack positions already split for the placer."""
    halls = {b.name: b for b in buildings}
    route_map = {(r.from_building, r.to_building): r for r in routes}
    layout = Layout(slots_total=slots.total, halls=halls, routes=route_map, cabling=cabling)
    placer = Placer(slots, layout)
    try:
        _place(catalog, server_key, shape, buildings, halls, placer, layout)
    except HallsFull:
        raise full_error(catalog, server_key, shape, buildings, len(placer.room)) from None
    _lengths(layout, shape, route_map, cabling)
    return layout


def full_error(catalog: Catalog, server_key: str, shape: Shape, buildings: Sequence[Building], room: int
               ) -> LayoutError:
    need = _racks_needed(catalog, server_key, shape, buildings)
    return LayoutError(
        f"the halls ({', '.join(b.name for b in buildings)}) hold {room} rack positions outside the "
        f"meet-me room; {shape.systems} x {server_key} and their switches need about {need}: "
        "add or enlarge a hall")


def _place(catalog: Catalog, server_key: str, shape: Shape, buildings: Sequence[Building],
           halls: dict[str, Building], placer: Placer, layout: Layout,
           su_rack_end: list[int] | None = None) -> None:
    """Place every SU's racks, then the spines and cores. ``su_rack_end`` (when given)
    receives the number of racks placed after each SU."""
    per_net_rack = min(b.switches_per_network_rack for b in buildings)
    layout.endpoint_rack = np.zeros(shape.servers, dtype=int)
    system = 0
    for su in range(shape.scalable_units):
        system = place_su(catalog, server_key, shape, su, system, buildings, halls, per_net_rack, placer, layout)
        if su_rack_end is not None:
            su_rack_end.append(len(layout.racks))
    _place_switches(shape, per_net_rack, placer, layout)


def place_su(catalog: Catalog, server_key: str, shape: Shape, su: int, system: int, buildings: Sequence[Building],
             halls: dict[str, Building],
              per_net_rack: int, placer: Placer, layout: Layout) -> int:
    """Place scalable unit ``su`` from the placer's cursor: its compute racks (servers
    ``system`` onwards, as many a rack as the hall at the cursor takes) and its leaf
    racks, kept in one row where a row holds them. Returns the first system of the
    next SU. Raises HallsFull when the halls run out, LayoutError when the hall at the
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
    at = placer.hall()
    hall = halls[at] if at else buildings[-1]
    cap = systems_per_rack(catalog, server_key, hall)
    if cap < 1:
        s = catalog.servers[server_key]
        raise LayoutError(
            f"hall {hall.name!r} ({hall.cooling}, {hall.max_kw_per_rack:g} kW per rack) cannot take "
            f"{server_key} ({catalog.watts(server_key) / W_PER_KW:g} kW "
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


def _place_switches(shape: Shape, per_net_rack: int, placer: Placer, layout: Layout) -> None:
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


def _racks_needed(catalog: Catalog, server_key: str, shape: Shape, buildings: Sequence[Building]) -> int:
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
            first, second = sorted((names[ia], names[ib]))
            key = (first, second)
            pair_links[key] = pair_links.get(key, 0) + int(n[sel].sum())
    out = (geo.rise[ha] + horizontal + geo.rise[hb]) * (1 + cabling.slack_ratio) + cabling.service_loop_m
    return np.repeat(out, n)


def _su_node_leaf_pairs(layout: Layout, su: int, per_su: int, leaves: list[int]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(endpoint rack, leaf rack, endpoints) of every node-leaf rack pair of one SU."""
    racks, n = np.unique(layout.endpoint_rack[su * per_su:(su + 1) * per_su], return_counts=True)
    lv = np.array(leaves)
    return np.tile(racks, lv.size), np.repeat(lv, racks.size), np.tile(n, lv.size)


def su_node_leaf_max(layout: Layout, su: int, per_su: int, leaves: list[int], routes: dict,
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

    by_tier: dict[str, dict[tuple[str, str], int]] = {}

    def lengths(a: np.ndarray, b: np.ndarray, n: np.ndarray, tier: str = "") -> np.ndarray:
        if not tier:
            return _link_lengths(geo, a, b, n, routes, cabling, pair_links)
        same[tier] = np.repeat(room[a] == room[b], n) if a.size else np.zeros(0, dtype=bool)
        own = by_tier.setdefault(tier, {})
        out = _link_lengths(geo, a, b, n, routes, cabling, own)
        for pair, links in own.items():
            pair_links[pair] = pair_links.get(pair, 0) + links
        return out

    # node-leaf: per SU, the endpoints' racks (with counts) to each leaf rack of the SU
    per_su = max(1, shape.servers_per_su)
    a_parts: list[np.ndarray] = []
    b_parts: list[np.ndarray] = []
    n_parts: list[np.ndarray] = []
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
    a_all, b_all, n_all = (np.concatenate(x) if x else np.zeros(0, dtype=int) for x in (a_parts, b_parts, n_parts))
    node_leaf = lengths(a_all, b_all, n_all, tier="node_leaf")
    layout.su_node_leaf_max = su_max
    leaf_spine = np.zeros(0)
    if shape.tiers >= 2:
        keys = sorted(layout.leaf_rack)
        leaf_racks = np.array([layout.leaf_rack[k] for k in keys])
        spines = np.array([[layout.spine_rack[(p, su // shape.sus_per_pod, j)] for j in range(shape.spines_per_pod)]
                           for p, su, _r in keys])
        a = np.repeat(leaf_racks, shape.spines_per_pod)
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
    layout.inter_building_by_tier = {t: dict(sorted(v.items())) for t, v in by_tier.items() if v}


@dataclass(frozen=True)
class Fit:
    """What the optimizer needs of one cluster size laid out in a list of halls."""

    lengths: dict[str, float]  # longest link per tier, m
    endpoints: dict[str, int]  # scale-out endpoints (servers or trays) per hall
    halls: frozenset[str]  # halls holding any of its racks


def fit_of(layout: Layout) -> Fit:
    """The Fit of a complete layout."""
    halls = [r["building"] for r in layout.racks]
    endpoints: dict[str, int] = {}
    if layout.endpoint_rack.size:
        names, counts = np.unique(np.array(halls)[layout.endpoint_rack], return_counts=True)
        endpoints = {str(n): int(c) for n, c in zip(names, counts, strict=True)}
    return Fit({t: layout.max_length(t) or 0.0 for t in ("node_leaf", "leaf_spine", "spine_core")},
               endpoints, frozenset(halls))

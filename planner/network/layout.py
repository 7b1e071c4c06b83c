"""Floor plan: the fabric's racks placed in rows inside real halls, and every link's length.

Servers fill racks up to the hall's kW-per-rack limit and the rack's units. Each scalable
unit's servers are consecutive; its leaf switches stand in a network rack at the end (or
the middle) of the SU; spines and cores stand in the meet-me rooms (or after the last SU).
The rack positions and the cable arithmetic are :mod:`planner.network.halls`; fitting many
cluster sizes in many hall plans at once is :mod:`planner.network.plan_fits`, which makes
the same decisions as :func:`lay_out` by calling the same :func:`place_su`; the cables
bought for a plan are :mod:`planner.network.cabling`. Lengths are rounded up to the
catalog's stock lengths where it has them (:func:`planner.network.cabling.stock_round`).

Why about 490 lines: the placement and the link arithmetic are shared by the full floor
plan and the hall-plan fitter (:mod:`planner.network.plan_fits`), which measures each
cluster option's links with the same :func:`pair_lengths`, :func:`switch_pairs` and
:func:`su_node_leaf_links` so that an option's cables cost before the solve what the
chosen plan's floor plan says after it; split apart, the two would drift.
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


def length_histogram(arr: np.ndarray, edges: tuple[float, ...] = (3, 5, 7, 10, 20, 30, 50, 100, 150, 300, 500,
                                                                2000, 10_000)) -> dict[str, int]:
    """Links by length band (upper bound in metres, inclusive), from one length a link."""
    out: dict[str, int] = {}
    lower = 0.0
    for upper in (*edges, math.inf):
        n = int(((arr > lower) & (arr <= upper)).sum())
        if n:
            out[f"<= {upper:g} m" if upper != math.inf else f"> {lower:g} m"] = n
        lower = upper
    return out


@dataclass(frozen=True)
class TierLinks:
    """A tier's links as rack pairs: each pair's link length (m), its links (the bundle, or
    the endpoints of a rack), and the room (row or meet-me room: :func:`rack_room`) of each
    end. What the cables are priced from, before the solve (one per cluster option,
    :meth:`planner.network.plan_fits.PlanFits.links`) and after it (the chosen floor plan)."""

    length_m: np.ndarray
    links: np.ndarray
    room_a: np.ndarray
    room_b: np.ndarray
    # the hall of each end, as numbers in ``halls`` (the plan's hall names, sorted): which route a
    # link between halls takes (a route beyond grey reach is carried by the interconnect)
    hall_a: np.ndarray | None = None
    hall_b: np.ndarray | None = None
    halls: tuple[str, ...] = ()

    @property
    def same_room(self) -> np.ndarray:
        return self.room_a == self.room_b

    def first(self, end: int) -> TierLinks:
        """The first ``end`` rack pairs."""
        return TierLinks(self.length_m[:end], self.links[:end], self.room_a[:end], self.room_b[:end],
                         None if self.hall_a is None else self.hall_a[:end],
                         None if self.hall_b is None else self.hall_b[:end], self.halls)

    def part(self, start: int, end: int) -> TierLinks:
        """Rack pairs ``start`` to ``end - 1``."""
        return TierLinks(self.length_m[start:end], self.links[start:end], self.room_a[start:end],
                         self.room_b[start:end], None if self.hall_a is None else self.hall_a[start:end],
                         None if self.hall_b is None else self.hall_b[start:end], self.halls)

    def where(self, keep: np.ndarray) -> TierLinks:
        """The rack pairs where ``keep`` is true."""
        return TierLinks(self.length_m[keep], self.links[keep], self.room_a[keep], self.room_b[keep],
                         None if self.hall_a is None else self.hall_a[keep],
                         None if self.hall_b is None else self.hall_b[keep], self.halls)

    @staticmethod
    def join(parts: Sequence[TierLinks]) -> TierLinks:
        if not parts:
            return TierLinks(np.zeros(0), np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0, dtype=int))
        length, links, room_a, room_b = (np.concatenate([getattr(p, f) for p in parts])
                                         for f in ("length_m", "links", "room_a", "room_b"))
        if any(p.hall_a is None or p.hall_b is None for p in parts):
            return TierLinks(length, links, room_a, room_b)
        names = tuple(sorted({n for p in parts for n in p.halls}))
        if all(p.halls == names for p in parts):
            return TierLinks(length, links, room_a, room_b, np.concatenate([p.hall_a for p in parts]),
                             np.concatenate([p.hall_b for p in parts]), names)
        index = {n: i for i, n in enumerate(names)}

        def ends(attr: str) -> np.ndarray:  # each part's hall numbers in the joined names
            return np.concatenate([np.array([index[n] for n in p.halls], dtype=np.int64)[getattr(p, attr)]
                                   if len(p.halls) else np.zeros(0, dtype=np.int64) for p in parts])

        return TierLinks(length, links, room_a, room_b, ends("hall_a"), ends("hall_b"), names)


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
    links: dict[str, TierLinks] = field(default_factory=dict)  # tier -> the same links as rack pairs
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
        return length_histogram(arr, edges) if arr is not None else {}


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
        return _Geometry.of_arrays(np.array([index[r["building"]] for r in racks], dtype=int),
                                   np.array([(r["x"], r["y"]) for r in racks], dtype=float).reshape(-1, 2), halls)

    @staticmethod
    def of_arrays(hall: np.ndarray, xy: np.ndarray, halls: dict[str, Building]) -> _Geometry:
        """From hall numbers (in the sorted hall names) and campus points."""
        names = sorted(halls)
        return _Geometry(hall, xy, np.array([halls[n].tray_height_m - halls[n].port_height_m for n in names]), names)


def _link_lengths(geo: _Geometry, a: np.ndarray, b: np.ndarray, n: np.ndarray, routes: dict, cabling: Cabling,
                  pair_links: dict[tuple[str, str], int]) -> np.ndarray:
    """Length of each link between racks ``a[i]`` and ``b[i]`` (``n[i]`` links each, so
    repeated), and the links per pair of halls added to ``pair_links``; raises
    LayoutError for two halls without a route."""
    return np.repeat(pair_lengths(geo, a, b, n, routes, cabling, pair_links), n)


def pair_lengths(geo: _Geometry, a: np.ndarray, b: np.ndarray, n: np.ndarray, routes: dict, cabling: Cabling,
                 pair_links: dict[tuple[str, str], int]) -> np.ndarray:
    """:func:`_link_lengths` once per rack pair (not repeated by its links).

    In one hall: (|dx| + |dy|). Between halls i and j, over the route from i to j (start s,
    end e, path p): ((|x_a - s_x| + |y_a - s_y|) + p) + (|x_b - e_x| + |y_b - e_y|), for all
    the pairs of every crossing at once (the route's terms looked up per pair of halls, in
    the order of their codes, so the first missing route is the one named). Each length is
    the same sum, added in the same order, whatever the other pairs."""
    if a.size == 0:
        return np.zeros(0)
    hall, names = geo.hall, geo.names
    x, y = geo.xy[:, 0], geo.xy[:, 1]
    ha, hb = hall[a], hall[b]
    horizontal = np.abs(x[a] - x[b]) + np.abs(y[a] - y[b])
    cross = ha != hb
    if cross.any():  # these pairs run over their halls' route instead
        k = len(names)
        code = ha[cross] * k + hb[cross]
        codes = runs(code)[0]
        terms = [route_terms(names[c // k], names[c % k], routes) for c in codes.tolist()]  # raises in code order
        start = np.array([t[0] for t in terms], dtype=float).reshape(-1, 2)
        end = np.array([t[1] for t in terms], dtype=float).reshape(-1, 2)
        path = np.array([t[2] for t in terms], dtype=float)
        at = np.searchsorted(codes, code)
        ca, cb = a[cross], b[cross]
        horizontal[cross] = ((np.abs(x[ca] - start[at, 0]) + np.abs(y[ca] - start[at, 1])) + path[at]
                             + (np.abs(x[cb] - end[at, 0]) + np.abs(y[cb] - end[at, 1])))
        per_code = np.bincount(at, weights=n[cross], minlength=codes.size)
        for c, links in zip(codes.tolist(), per_code.tolist(), strict=True):
            first, second = sorted((names[c // k], names[c % k]))
            pair_links[first, second] = pair_links.get((first, second), 0) + int(links)
    return (geo.rise[ha] + horizontal + geo.rise[hb]) * (1 + cabling.slack_ratio) + cabling.service_loop_m


def su_node_leaf_pairs(layout: Layout, su: int, per_su: int, leaves: list[int]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(endpoint rack, leaf rack, links) of every node-leaf rack pair of one SU: each
    endpoint meets each leaf, and a leaf rack holds several of the SU's leaves."""
    racks, n = runs(layout.endpoint_rack[su * per_su:(su + 1) * per_su])
    lv, held = runs(np.array(leaves))
    return np.tile(racks, lv.size), np.repeat(lv, racks.size), np.tile(n, lv.size) * np.repeat(held, racks.size)


def su_node_leaf_links(layout: Layout, su: int, per_su: int, leaves: list[int], routes: dict,
                       cabling: Cabling) -> TierLinks:
    """The node-leaf links of one SU, the same arithmetic as :func:`_lengths` on only that
    SU's racks (so the same numbers): one SU at a time as a placement grows. Room numbers
    are the SU's own (they say only whether a pair stays in its room)."""
    return node_leaf_links_many(layout, [su], per_su, [leaves], routes, cabling)[0]


def node_leaf_links_many(layout: Layout, sus: list[int], per_su: int, leaves: list[list[int]], routes: dict,
                         cabling: Cabling) -> list[TierLinks]:
    """:func:`su_node_leaf_links` of several SUs (``leaves``: each one's leaf racks) at once: each
    SU's pairs as on its own, all measured together, each SU's links its slice (the same
    lengths, links and halls). The rooms are numbered for all of them together; they say only
    whether a pair stays in its room. Raises LayoutError where a pair of halls has no route."""
    pairs = [su_node_leaf_pairs(layout, su, per_su, lv) for su, lv in zip(sus, leaves, strict=True)]
    a, b, n = (np.concatenate([pair[j] for pair in pairs]) for j in range(3))
    ends = np.cumsum([0] + [pair[0].size for pair in pairs])
    used = runs(np.concatenate([a, b]))[0]
    racks = [layout.racks[i] for i in used]
    room_ids: dict[tuple, int] = {}
    room = np.array([room_ids.setdefault(rack_room(r), len(room_ids)) for r in racks], dtype=int)
    tl = measure(_Geometry.of(racks, layout.halls), room, np.searchsorted(used, a), np.searchsorted(used, b), n,
                 routes, cabling, {})
    return [tl.part(int(ends[j]), int(ends[j + 1])) for j in range(len(sus))]


def su_node_leaf_max(layout: Layout, su: int, per_su: int, leaves: list[int], routes: dict,
                      cabling: Cabling) -> float:
    """Longest node-leaf link of one SU (:func:`su_node_leaf_links`)."""
    return float(su_node_leaf_links(layout, su, per_su, leaves, routes, cabling).length_m.max())


def _lengths(layout: Layout, shape: Shape, routes: dict, cabling: Cabling) -> None:
    """Every link's length, vectorised over (rack, rack, links) triples."""
    geo = _Geometry.of(layout.racks, layout.halls)
    pair_links: dict[tuple[str, str], int] = {}
    room_ids: dict[tuple, int] = {}
    room = np.array([room_ids.setdefault(rack_room(r), len(room_ids)) for r in layout.racks], dtype=int)

    by_tier: dict[str, dict[tuple[str, str], int]] = {}  # links between buildings, per tier

    def lengths(a: np.ndarray, b: np.ndarray, n: np.ndarray, tier: str) -> TierLinks:
        return measure(geo, room, a, b, n, routes, cabling, by_tier.setdefault(tier, {}))

    # node-leaf: per SU, the endpoints' racks (with counts) to each leaf rack of the SU
    per_su = max(1, shape.servers_per_su)
    leaves_of_su: dict[int, list[int]] = {}
    for (_p, su, _r), leaf in layout.leaf_rack.items():
        leaves_of_su.setdefault(su, []).append(leaf)
    parts = [lengths(*su_node_leaf_pairs(layout, su, per_su, leaves_of_su[su]), tier="node_leaf")
             for su in range(shape.scalable_units)]
    layout.su_node_leaf_max = [float(p.length_m.max()) for p in parts]
    links = {"node_leaf": TierLinks.join(parts)}
    pairs = switch_pairs(*rack_maps(layout, shape), shape)
    links.update({t: lengths(a, b, n, tier=t) for t, (a, b, n) in pairs.items()})
    for own in by_tier.values():
        for pair, count in own.items():
            pair_links[pair] = pair_links.get(pair, 0) + count
    layout.links = links
    layout.lengths = {t: np.repeat(tl.length_m, tl.links) for t, tl in links.items()}
    layout.same_room = {t: np.repeat(tl.same_room, tl.links) for t, tl in links.items()}
    layout.inter_building = pair_links
    layout.inter_building_by_tier = {t: dict(sorted(v.items())) for t, v in by_tier.items() if v}


def measure(geo: _Geometry, room: np.ndarray, a: np.ndarray, b: np.ndarray, n: np.ndarray, routes: dict,
            cabling: Cabling, pair_links: dict[tuple[str, str], int]) -> TierLinks:
    """The links between racks ``a[i]`` and ``b[i]`` (``n[i]`` each) as TierLinks (a rack
    pair may come more than once)."""
    return TierLinks(pair_lengths(geo, a, b, n, routes, cabling, pair_links), n, room[a], room[b], geo.hall[a],
                     geo.hall[b], tuple(geo.names))


def rack_maps(layout: Layout, shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The layout's switch racks as arrays: leaf keys (plane, su, rail) sorted, their
    racks, and the racks of spine (plane, pod, j) and core (plane, j, c)."""
    keys = sorted(layout.leaf_rack)
    spines = np.zeros((shape.planes, shape.pods, shape.spines_per_pod), dtype=np.int64)
    for key, rack in layout.spine_rack.items():
        spines[key] = rack
    cores = np.zeros((shape.planes, shape.spines_per_pod, shape.cores_per_group), dtype=np.int64)
    for key, rack in layout.core_rack.items():
        cores[key] = rack
    leaf_racks = np.array([layout.leaf_rack[k] for k in keys], dtype=np.int64)
    return (np.array(keys, dtype=np.int64).reshape(-1, 3), leaf_racks,
            spines, cores)


def switch_pairs(leaf_keys: np.ndarray, leaf_racks: np.ndarray, spines: np.ndarray, cores: np.ndarray,
                 shape: Shape) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(rack a, rack b, links) of the leaf-spine and spine-core links, by pair of racks: each
    leaf (``leaf_keys``: plane, su, rail) of a pod and plane meets every spine of that pod
    and plane, spine j of a pod the cores of group j of its plane (``spines[plane, pod, j]``,
    ``cores[plane, j, c]``: their racks), with the tier's bundle. Per group (plane and pod;
    plane and j), a rack holding x switches of one side and a rack holding y of the other
    carry x * y * bundle links (a rack pair may come once per group)."""
    empty = np.zeros(0, dtype=np.int64)
    out = {"leaf_spine": (empty, empty, empty), "spine_core": (empty, empty, empty)}
    if shape.tiers >= 2 and leaf_keys.size:
        groups = shape.planes * shape.pods
        leaf_group = leaf_keys[:, 0] * shape.pods + leaf_keys[:, 1] // shape.sus_per_pod
        spine_group = np.repeat(np.arange(groups), shape.spines_per_pod)
        a, b, n = join_groups(leaf_group, leaf_racks, spine_group, spines.reshape(-1), groups)
        out["leaf_spine"] = (a, b, n * shape.bundle_leaf_spine)
    if shape.tiers == 3:
        groups = shape.planes * shape.spines_per_pod
        spine_group = (np.arange(shape.planes)[:, None, None] * shape.spines_per_pod
                       + np.arange(shape.spines_per_pod)[None, None, :])
        spine_group = np.broadcast_to(spine_group, spines.shape).reshape(-1)
        core_group = np.repeat(np.arange(groups), shape.cores_per_group)
        a, b, n = join_groups(spine_group, spines.reshape(-1), core_group, cores.reshape(-1), groups)
        out["spine_core"] = (a, b, n * shape.bundle_spine_core)
    return out


def join_groups(group_a: np.ndarray, rack_a: np.ndarray, group_b: np.ndarray, rack_b: np.ndarray, groups: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every switch of side a meets every switch of side b in its group: (rack a, rack b,
    switch pairs) per group and pair of racks, from the switches counted per group and rack."""
    ga, ra, ca = _counted(group_a, rack_a)
    gb, rb, cb = _counted(group_b, rack_b)  # sorted by group
    per = np.bincount(gb, minlength=groups)
    start = np.cumsum(per) - per
    reps = per[ga]
    first = np.cumsum(reps) - reps
    at = np.repeat(start[ga], reps) + np.arange(int(reps.sum())) - np.repeat(first, reps)
    return np.repeat(ra, reps), rb[at], np.repeat(ca, reps) * cb[at]


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` of a 1-d array of whole numbers: the distinct
    values, sorted, and how often each comes. A stable sort (a merge of the runs already in
    order: the floor plan's rack and code arrays mostly are) and the run starts, without
    np.unique's overhead per call: these run a few times for every cluster size of every hall
    plan. Whole numbers only: floats that compare equal with other bits (0.0 and -0.0) would
    keep the first of them, where np.unique picks its own."""
    ordered = np.sort(values, kind="stable")
    if ordered.size < 2:
        return ordered, np.ones(ordered.size, dtype=np.intp)
    starts = np.flatnonzero(ordered[1:] != ordered[:-1])
    starts += 1
    starts = np.concatenate((_FIRST, starts))
    return ordered[starts], np.diff(np.append(starts, ordered.size))


_FIRST = np.zeros(1, dtype=np.intp)


def _counted(group: np.ndarray, rack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group, rack, switches) of each group and rack holding any, sorted by group."""
    m = int(rack.max()) + 1 if rack.size else 1
    code, count = runs(group.astype(np.int64) * m + rack)
    return code // m, code % m, count


def measure_racks(hall: np.ndarray, xy: np.ndarray, room: np.ndarray, halls: dict[str, Building], a: np.ndarray,
                  b: np.ndarray, n: np.ndarray, routes: dict, cabling: Cabling) -> TierLinks:
    """The links between racks ``a[i]`` and ``b[i]`` (``n[i]`` each) among racks standing at
    ``hall`` (numbers in the sorted hall names), ``xy``, in rooms ``room``, as :func:`_lengths`
    measures a layout's."""
    return measure(_Geometry.of_arrays(hall, xy, halls), room, a, b, n, routes, cabling, {})


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

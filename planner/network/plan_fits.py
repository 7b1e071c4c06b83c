"""Hall plans: the floor-plan fit (longest link per tier, endpoints per hall, halls used) of
many cluster sizes in many hall plans, sharing the work between them (:class:`PlanFits`).

Why one module of over 400 lines: :class:`PlanFits` and its plan-tree nodes
(:class:`_Placement`) are one algorithm over private state (the largest size's SUs placed
once per branch, the sizes a shorter plan holds, the leaf-rack spans grown one SU at a
time); the fits of one size from that state (:func:`_prefix_fit`, :func:`_spine_core_max`)
read the nodes' internals. Each fit equals :func:`planner.network.layout.lay_out`'s because
the nodes place SUs with the same :func:`planner.network.layout.place_su`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from planner.network.clos import Shape
from planner.network.halls import (
    HallSlots,
    LayoutError,
    Slot,
    hall_slots_of,
    longest_route,
    merge_summaries,
    point_summary,
)
from planner.network.layout import (
    Fit,
    HallsFull,
    Layout,
    Placer,
    TierLinks,
    fit_of,
    full_error,
    join_groups,
    lay_out_in,
    measure_racks,
    node_leaf_links_many,
    place_su,
    rack_room,
    runs,
    su_node_leaf_links,
    su_node_leaf_max,
)
from planner.parts.catalog import Catalog
from planner.site.schema import Building, Cabling, Route


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
    failed = placement.failed()
    if failed is not None:
        raise failed
    return placement.fits(need_hall)


_Points = tuple[np.ndarray, np.ndarray, np.ndarray]  # positions: hall number, campus x and y, room number


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
      switches per network rack (the fewest of its halls) (:func:`place_su`). A
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
        self.hall_slots: dict[str, HallSlots] = {} if hall_slots is None else hall_slots
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

    @property
    def largest(self) -> Shape:
        """The largest size, which the placements place (there is one whenever a placement
        runs: :meth:`_Placement._place_all` stops first when there is none)."""
        if self.big is None:
            raise LayoutError("no cluster size to place")
        return self.big

    def placement(self, buildings: Sequence[Building]) -> _Placement:
        """The node of a plan (its halls as used, in fill order), made with its parents."""
        buildings = tuple(buildings)
        # keyed by identity, safely: the node it finds holds these very buildings, so no id
        # is reused while its entry lives, and the memo lives no longer than this fitter
        key = tuple(id(b) for b in buildings)
        node = self._placements.get(key)
        if node is None:
            parent = self.placement(buildings[:-1]) if self.share and len(buildings) > 1 else None
            node = self._placements[key] = _Placement(self, buildings, parent)
        return node

    def fits(self, buildings: Sequence[Building], need_hall: str | None = None) -> list[Fit | LayoutError | None]:
        """Every size's fit in the plan; every entry is the plan's error when no size can
        be placed (see :func:`fit_sizes`)."""
        node = self.placement(buildings)
        adopted = node.adopted.get(need_hall)
        if adopted is not None:
            return adopted
        failed = node.failed()
        return [failed] * len(self.shapes) if failed is not None else node.fits(need_hall)

    def adopt(self, buildings: Sequence[Building], need_hall: str | None, fits: list[Fit | LayoutError | None],
              memo: dict) -> None:
        """Keep what another process worked out of a plan with a copy of this fitter (forked
        from this one, so its plans hold these very buildings): the plan's :meth:`fits` for
        ``need_hall`` and its :meth:`plan_memo`. The plan is not placed here until something
        asks more of it (its links, or a longer plan through it)."""
        node = self.placement(buildings)
        node.adopted[need_hall] = fits
        for key, value in memo.items():
            node.memo.setdefault(key, value)

    def plan_memo(self, buildings: Sequence[Building]) -> dict:
        """A dictionary kept with the plan, for what a caller derives from the plan's fits and
        links alone (and this fitter's catalog): e.g. the price of each size's cables, which
        every scenario sharing this fitter would otherwise work out again."""
        return self.placement(buildings).memo

    def links(self, buildings: Sequence[Building], i: int) -> dict[str, TierLinks]:
        """Every link of size ``i`` in the plan, as rack pairs per tier: the links of the
        floor plan :func:`planner.network.layout.lay_out` would draw (what its cables are
        priced from, before the solve). Asked only of a size whose fit is a Fit."""
        return self.placement(buildings).links(i)


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
        self.slots = HallSlots([], [], [])
        self.new_mmr = False
        if parent is not None and parent.dead is not None and parent.dead_su is None:
            self.dead = parent.dead  # an earlier hall's rack positions failed: the first such hall names the error
        else:
            try:
                new = buildings[-1:] if parent is not None else buildings
                parts = [hall_slots_of(b, owner.hall_slots) for b in new]
            except LayoutError as exc:
                self.dead = exc
            else:
                slots = parent.slots if parent is not None else HallSlots([], [], [])
                for part in parts:
                    slots = slots.then(part)
                self.slots = slots
                self.new_mmr = bool(parts[-1].mmr)
        n = len(owner.shapes)
        self._placed = False
        self._held: list[_Held | None] = [None] * n
        self._walks: dict[int, list[tuple[str, float, float]] | LayoutError] = {}
        self._fits: dict[int, Fit | LayoutError] = {}
        self._links: dict[int, dict[str, TierLinks]] = {}
        self._ahead: dict[int, dict[str, TierLinks]] = {}  # prefix sizes' links measured ahead (_prefix_links)
        self._room_ids: dict[tuple, int] = {}
        self._su_joined: tuple[TierLinks, np.ndarray] | None = None
        self._slots: tuple[_Points, _Points] | None = None
        self._racks: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._all: tuple[bool, bool] | None = None
        self.spans: dict[tuple[int, int, int], dict] = {}
        self.memo: dict = {}  # the caller's (PlanFits.plan_memo)
        self.adopted: dict[str | None, list[Fit | LayoutError | None]] = {}  # see PlanFits.adopt
        self._leaf_spine: dict[tuple[int, ...], float] = {}  # see leaf_spine_max
        # the largest size's SUs, set by _place_all
        self.layout = Layout(slots_total=self.slots.total, halls=self.halls)
        self.placed = 0  # SUs placed
        self.shared = 0  # of which the parent's
        self.rack_end: list[int] = []  # racks placed after each SU
        self.su_halls: list[frozenset] = []  # halls of the racks of SUs 0..k-1 (cumulative)
        self.su_links: list[TierLinks] = []  # node-leaf links of each SU
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
        lay, su, big, dead = parent.dead_layout, parent.dead_su, self.owner.largest, parent.dead
        if lay is None or su is None or dead is None:
            raise LayoutError("the parent plan has no missing route to word")  # called only when it has
        leaves = [lay.leaf_rack[(p, su, r)] for p in range(big.planes) for r in range(big.rails)]
        probe = dataclasses.replace(lay, halls=self.halls)
        try:
            su_node_leaf_max(probe, su, big.servers_per_su, leaves, self.owner.routes, self.owner.cabling)
        except LayoutError as exc:
            return exc
        return dead

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
            self.su_links = parent.su_links
            return
        end = parent.rack_end[e - 1] if e else 0
        endpoint_rack = lay.endpoint_rack.copy()
        endpoint_rack[parent.next_system * self.owner.largest.endpoints_per_system:] = 0
        self.layout = Layout(racks=lay.racks[:end], endpoint_rack=endpoint_rack, leaf_rack=dict(lay.leaf_rack),
                             su_cursor=lay.su_cursor[:e], su_node_leaf_max=lay.su_node_leaf_max[:e],
                             slots_total=self.slots.total, halls=self.halls)
        self.placed, self.rack_end = e, parent.rack_end[:e]
        self.su_links = parent.su_links[:e]
        self.su_halls, self.su_endpoints, self.leaves = parent.su_halls[:e], parent.su_endpoints[:e], dict(
            parent.leaves)

    def _place_sus(self) -> None:
        """Place the largest size's SUs from ``self.placed`` until one does not fit; stop at
        an SU whose links need a route the site lacks (every size then fails)."""
        owner, big, lay = self.owner, self.owner.largest, self.layout
        placer = Placer(self.slots, lay, lay.su_cursor[-1] if self.placed else 0)
        owner.stats["placements"] += 1
        system = self.next_system
        # with a route between every two of the plan's halls no SU's links can need a missing one:
        # their node-leaf links are measured together once the SUs are placed (_node_leaf_many)
        routed = all((a, b) in owner.routes or (b, a) in owner.routes
                     for i, a in enumerate(self.halls) for b in list(self.halls)[i + 1:])
        placed: list[int] = []
        for su in range(self.placed, big.scalable_units):
            try:
                system = place_su(owner.catalog, owner.server_key, big, su, system, self.buildings, self.halls,
                                   self.per_net_rack, placer, lay)
            except HallsFull:
                room = len(placer.room)
                self.error = full_error(owner.catalog, owner.server_key, big, self.buildings, room)
                self.full_room = room
                break
            except LayoutError as exc:  # a hall too hot for the server: no SU goes past it
                self.error = exc
                break
            owner.stats["sus_placed"] += 1
            self._record_su(su)
            if routed:
                placed.append(su)
                self.placed, self.next_system = su + 1, system
                continue
            leaves = [lay.leaf_rack[(p, su, r)] for p in range(big.planes) for r in range(big.rails)]
            try:
                links = su_node_leaf_links(lay, su, big.servers_per_su, leaves, owner.routes, owner.cabling)
                self.su_links.append(links)
                lay.su_node_leaf_max.append(float(links.length_m.max()))
            except LayoutError as exc:
                self.dead, self.dead_su, self.dead_layout = exc, su, lay
                return
            self.placed, self.next_system = su + 1, system
        for links in self._node_leaf_many(placed):
            self.su_links.append(links)
            lay.su_node_leaf_max.append(float(links.length_m.max()))

    def _node_leaf_many(self, sus: list[int]) -> list[TierLinks]:
        """The node-leaf links of several placed SUs, measured together
        (:func:`planner.network.layout.node_leaf_links_many`): only for a plan with a route
        between every two of its halls."""
        if not sus:
            return []
        lay, big = self.layout, self.owner.largest
        leaves = [[lay.leaf_rack[(p, su, r)] for p in range(big.planes) for r in range(big.rails)] for su in sus]
        return node_leaf_links_many(lay, sus, big.servers_per_su, leaves, self.owner.routes, self.owner.cabling)

    def _record_su(self, su: int) -> None:
        """What the sizes ending at SU ``su`` need: halls and endpoints so far, leaf points."""
        lay, big = self.layout, self.owner.largest
        per_su = big.servers_per_su
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
            one = point_summary(self.leaves.get((plane, stop - 1), ()))
            span = merge_summaries(span, one) if stop - 1 > start else one
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
        value = longest_route(self.leaf_span(*leaves), point_summary([points[r] for r in spines]), self.halls,
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
        parent = self.parent
        if parent is not None and self._as_parent(i):
            self.owner.stats["sizes_shared"] += 1
            return parent.held(i)
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
            if self.parent is not None and self._inherits_all():
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
        parent = self.parent
        if need_hall is not None and parent is not None and self._inherits_all() and need_hall not in parent.halls:
            self.owner.stats["sizes_shared"] += len(shapes)
            return [None if sh.servers else Fit({}, {}, frozenset()) for sh in shapes]
        return [self.fit(i, need_hall) for i in range(len(shapes))]

    def fit(self, i: int, need_hall: str | None) -> Fit | LayoutError | None:
        """Size ``i``'s fit: None where ``need_hall`` is given and holds none of its racks."""
        sh = self.owner.shapes[i]
        if not sh.servers:
            return Fit({}, {}, frozenset())
        parent = self.parent
        if parent is not None and self._as_parent(i):
            self.owner.stats["sizes_shared"] += 1
            return parent.fit(i, need_hall) if need_hall is None or need_hall in parent.halls else None
        if self.failed() is not None:
            return self.dead
        if not self.owner.prefix_ok[i]:
            fit = self._fit(i)
            return None if need_hall is not None and isinstance(fit, Fit) and need_hall not in fit.halls else fit
        if sh.scalable_units > self.placed:
            if self.full_room is not None:
                return full_error(self.owner.catalog, self.owner.server_key, sh, self.buildings, self.full_room)
            return self.error or LayoutError("the halls are full")
        points = self._walk(i)
        if isinstance(points, LayoutError):
            return points
        if need_hall is not None and need_hall not in self.su_halls[sh.scalable_units - 1] | {p[0] for p in points}:
            return None
        return self._fit(i)

    def _walk(self, i: int) -> list[tuple[str, float, float]] | LayoutError:
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
                    points = self._walk(i)
                    if isinstance(points, LayoutError):
                        raise points
                    self._fits[i] = _prefix_fit(self, sh, points)
                else:
                    owner.stats["size_fits"] += 1
                    owner.stats["full_layouts"] += 1
                    full = lay_out_in(owner.catalog, owner.server_key, sh, self.buildings, owner.route_list,
                                      owner.cabling, self.slots)
                    self._fits[i], self._links[i] = fit_of(full), full.links
            except LayoutError as exc:
                self._fits[i] = exc
        return self._fits[i]

    def node_leaf(self, k: int) -> TierLinks:
        """The node-leaf links of the first ``k`` SUs (slices of all of them, joined once)."""
        if self._su_joined is None or self._su_joined[1].size <= len(self.su_links):
            ends = np.cumsum([0] + [tl.links.size for tl in self.su_links])
            self._su_joined = (TierLinks.join(self.su_links), ends)
        joined, ends = self._su_joined
        end = int(ends[k])
        return joined.first(end)

    def room_id(self, room: tuple) -> int:
        """A number for a room (:func:`planner.network.layout.rack_room`), the same in every
        size of this plan."""
        return self._room_ids.setdefault(room, len(self._room_ids))

    def slot_arrays(self) -> tuple[_Points, _Points]:
        """The plan's meet-me room and room positions as arrays: hall number (in the sorted
        hall names), campus x and y, room number."""
        if self._slots is None:
            index = {n: i for i, n in enumerate(sorted(self.halls))}

            def arrays(slots: list[Slot]) -> _Points:
                return (np.array([index[s.building] for s in slots], dtype=np.int64),
                        np.array([(s.x, s.y) for s in slots], dtype=float).reshape(-1, 2),
                        np.array([self.room_id((s.building, "MMR") if s.in_mmr else (s.building, f"row {s.row:04d}"))
                                  for s in slots], dtype=np.int64))

            self._slots = (arrays(self.slots.mmr), arrays(self.slots.room))
        return self._slots

    def rack_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The placed racks as arrays (hall number in the sorted hall names, campus x and y,
        room number) and the leaf keys (plane, su, rail), sorted, with their racks."""
        if self._racks is None:
            lay, names = self.layout, sorted(self.halls)
            index = {n: i for i, n in enumerate(names)}
            keys = sorted(lay.leaf_rack)
            self._racks = (np.array([index[r["building"]] for r in lay.racks], dtype=np.int64),
                           np.array([(r["x"], r["y"]) for r in lay.racks], dtype=float).reshape(-1, 2),
                           np.array([self.room_id(rack_room(r)) for r in lay.racks], dtype=np.int64),
                           np.array(keys, dtype=np.int64).reshape(-1, 3),
                           np.array([lay.leaf_rack[key] for key in keys], dtype=np.int64))
        return self._racks

    def links(self, i: int) -> dict[str, TierLinks]:
        """Size ``i``'s links (see :meth:`PlanFits.links`): the shorter plan's where the size
        stands as there; else the node-leaf links of its SUs (measured as they were placed)
        and its switch pairs, measured from where its spine and core racks stand."""
        if self.parent is not None and self._as_parent(i):
            return self.parent.links(i)
        if i not in self._links:
            fit = self._fit(i)
            if isinstance(fit, LayoutError):
                raise fit
            if i not in self._links:  # a prefix size: measured when asked (once per option), not kept
                return self._prefix_links(i)
        return self._links[i]

    def _prefix_links(self, i: int) -> dict[str, TierLinks]:
        """A prefix size's links, measured with the next sizes the options will ask for (those
        fitted in full after it, up to LINKS_AHEAD in all: :func:`_prefix_links_many`), which
        are kept until asked; a batch replaces the one before, so few are ever held."""
        found = self._ahead.pop(i, None)
        if found is not None:
            return found
        owner = self.owner
        batch = [i] + [j for j in range(i + 1, len(owner.shapes))
                       if owner.prefix_ok[j] and isinstance(self._fits.get(j), Fit)][:LINKS_AHEAD - 1]
        measured = _prefix_links_many(self, [owner.shapes[j] for j in batch])
        self._ahead = {j: links for j, links in zip(batch[1:], measured[1:], strict=True) if links is not None}
        return measured[0] if measured[0] is not None else _prefix_links(self, owner.shapes[i])


# prefix sizes whose links are measured together (:meth:`_Placement._prefix_links`): the
# numpy calls of one size's links cost more than its arithmetic, the batch's memory stays small
LINKS_AHEAD = 16


def _switch_racks(sh: Shape, per_rack: int) -> int:
    """Spine and core racks of a size (switches of a tier share racks, ``per_rack`` a rack)."""
    n_spines = sh.planes * sh.pods * sh.spines_per_pod if sh.tiers >= 2 else 0
    n_cores = sh.planes * sh.spines_per_pod * sh.cores_per_group if sh.tiers == 3 else 0
    return math.ceil(n_spines / per_rack) + math.ceil(n_cores / per_rack)


def _switch_points(base: _Placement, sh: Shape) -> list[tuple[str, float, float]]:
    """Where a size's spine and core racks stand (:func:`_switch_slots`)."""
    return [(slot.building, slot.x, slot.y) for slot in _switch_slots(base, sh)]


def _switch_slots(base: _Placement, sh: Shape) -> list[Slot]:
    """The positions of a size's spine and core racks, as :func:`lay_out` places them
    (spines by (plane, pod, j), then cores by (plane, j, c)): the meet-me room positions
    of the plan in order, then the room after its last SU."""
    n = _switch_racks(sh, base.per_net_rack)
    in_mmr = base.slots.mmr[:n]
    cursor = base.layout.su_cursor[sh.scalable_units - 1]
    in_room = base.slots.room[cursor:cursor + n - len(in_mmr)]
    if len(in_mmr) + len(in_room) < n:
        raise LayoutError("the halls are full: no room for the spine and core racks")
    return [*in_mmr, *in_room]


def _prefix_links(base: _Placement, sh: Shape) -> dict[str, TierLinks]:
    """The links of a size whose SUs are the first of ``base``'s placement: its SUs'
    node-leaf links, and its switch pairs among its leaf racks and its spine and core
    racks (:func:`_switch_slots`), numbered as :func:`planner.network.layout._place_switches`
    numbers them (switch q of a tier in the tier's rack q // switches per network rack).
    Raises LayoutError where the halls hold no room for its switch racks or a link needs a
    missing route (:func:`_prefix_links_many` of it alone)."""
    found = _prefix_links_many(base, [sh], alone=True)[0]
    assert found is not None, "a size alone is measured or raises"
    return found


def _prefix_links_many(base: _Placement, shapes: list[Shape], alone: bool = False
                       ) -> list[dict[str, TierLinks] | None]:
    """:func:`_prefix_links` of several sizes of one plan at once, the same arrays as each on
    its own. Each size's racks (its leaf racks in use, then its spine and core racks) are
    numbered after those of the sizes before it, and its pair groups after theirs, so that the
    switch pairs of all of them are joined (:func:`planner.network.layout.join_groups`) and
    measured (:func:`planner.network.layout.measure_racks`) in one pass per tier, and each
    size's links are its slice: a pair's length is the same sum of the same coordinates, its
    links the same product, and a size's pairs come in the same order (by its groups, then its
    racks) as on its own. None for a size to be measured on its own: one without room for its
    switch racks, and every switched size of a batch in which a link needs a route the site
    lacks (each then raises, or not, as on its own). ``alone`` (a batch of one size): raise
    those errors instead."""
    out: list[dict[str, TierLinks] | None] = [
        None if sh.tiers >= 2 else {"node_leaf": base.node_leaf(sh.scalable_units)} for sh in shapes]
    switched = [i for i, sh in enumerate(shapes) if sh.tiers >= 2]
    if not switched:
        return out
    hall, xy, room, leaf_keys, leaf_racks = base.rack_arrays()
    (m_hall, m_xy, m_room), (r_hall, r_xy, r_room) = base.slot_arrays()
    per = base.per_net_rack
    racks_at, sw_parts = [], []  # each size's racks: its leaf racks in use, then its switch racks
    leaf_g, leaf_r, spine_g, spine_r, core_g, core_r, core_spine_g, core_spine_r = ([] for _ in range(8))
    bundles_ls, bundles_sc = [], []
    offset = groups_ls = groups_sc = 0
    ends: list[int] = []  # the racks of the sizes so far, after each
    batched: list[int] = []  # the sizes measured here, in order
    for i in switched:
        sh = shapes[i]
        k = sh.scalable_units
        n = _switch_racks(sh, per)
        in_mmr = min(n, m_hall.size)
        cursor = base.layout.su_cursor[k - 1]
        end = cursor + n - in_mmr
        if end > r_hall.size:  # no room for its spine and core racks: on its own, it says so
            if alone:
                raise LayoutError("the halls are full: no room for the spine and core racks")
            continue
        batched.append(i)
        mask = leaf_keys[:, 1] < k
        keys, racks = leaf_keys[mask], leaf_racks[mask]
        used = runs(racks)[0]
        racks_at.append(used)
        sw_parts.append((in_mmr, cursor, end))
        n_spines = sh.planes * sh.pods * sh.spines_per_pod
        spines = offset + used.size + np.arange(n_spines) // per
        # leaf-spine: per (plane, pod), numbered after the groups of the sizes before
        leaf_g.append(groups_ls + keys[:, 0] * sh.pods + keys[:, 1] // sh.sus_per_pod)
        leaf_r.append(offset + np.searchsorted(used, racks))
        spine_g.append(groups_ls + np.repeat(np.arange(sh.planes * sh.pods), sh.spines_per_pod))
        spine_r.append(spines)
        bundles_ls.append(sh.bundle_leaf_spine)
        groups_ls += sh.planes * sh.pods
        if sh.tiers == 3:  # spine j of every pod meets the cores of group j, per (plane, j)
            first_core = offset + used.size + math.ceil(n_spines / per)
            n_cores = sh.planes * sh.spines_per_pod * sh.cores_per_group
            group = (np.arange(sh.planes)[:, None, None] * sh.spines_per_pod
                     + np.arange(sh.spines_per_pod)[None, None, :])
            core_spine_g.append(groups_sc + np.broadcast_to(
                group, (sh.planes, sh.pods, sh.spines_per_pod)).reshape(-1))
            core_spine_r.append(spines)
            core_g.append(groups_sc + np.repeat(np.arange(sh.planes * sh.spines_per_pod), sh.cores_per_group))
            core_r.append(first_core + np.arange(n_cores) // per)
            groups_sc += sh.planes * sh.spines_per_pod
        bundles_sc.append(sh.bundle_spine_core if sh.tiers == 3 else 0)
        offset += used.size + n
        ends.append(offset)
    if not batched:
        return out
    # every size's racks in turn: its leaf racks in use, its switch racks in the MMRs, in the room
    all_hall, all_xy, all_room = (
        np.concatenate([part for used, (in_mmr, cursor, end) in zip(racks_at, sw_parts, strict=True)
                        for part in (placed[used], mmr[:in_mmr], rows[cursor:end])])
        for placed, mmr, rows in ((hall, m_hall, r_hall), (xy, m_xy, r_xy), (room, m_room, r_room)))
    tiers = {"leaf_spine": (leaf_g, leaf_r, spine_g, spine_r, groups_ls, bundles_ls),
             "spine_core": (core_spine_g, core_spine_r, core_g, core_r, groups_sc, bundles_sc)}
    measured: dict[str, tuple[TierLinks, np.ndarray]] = {}
    for tier, (ga, ra, gb, rb, groups, bundles) in tiers.items():
        if not ga:
            continue
        a, b, pairs = join_groups(np.concatenate(ga), np.concatenate(ra), np.concatenate(gb), np.concatenate(rb),
                                  groups)
        size = np.searchsorted(ends, a, side="right")  # the size each pair is of: its racks are that size's
        links = pairs * np.asarray(bundles, dtype=np.int64)[size]
        try:
            tl = measure_racks(all_hall, all_xy, all_room, base.halls, a, b, links, base.owner.routes,
                               base.owner.cabling)
        except LayoutError:  # a size needs a missing route: each on its own raises as before
            if alone:
                raise
            return out
        measured[tier] = (tl, np.searchsorted(size, np.arange(len(batched) + 1)))
    empty = TierLinks(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                      np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                      tuple(sorted(base.halls)))
    for j, i in enumerate(batched):
        found = {"node_leaf": base.node_leaf(shapes[i].scalable_units)}
        for tier in ("leaf_spine", "spine_core"):
            if tier in measured:
                tl, bounds = measured[tier]
                found[tier] = tl.part(int(bounds[j]), int(bounds[j + 1]))
            else:
                found[tier] = empty
        out[i] = found
    return out


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
    to its parts (every step of :func:`longest_route` is a maximum or grows with it). Where
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
                spines = point_summary([points[(b + first) // per_rack] for b in starts])
                low = _rack_range((p * spp + first) * cpg, cpg, per_rack, n_spine_racks)
                high = _rack_range((p * spp + j - 1) * cpg, cpg, per_rack, n_spine_racks)
                cores = point_summary([points[r] for r in range(low.start, high.stop)])
                best = max(best, longest_route(spines, cores, halls, routes, cabling))
                first = j
        return best
    except LayoutError:
        best = 0.0
        for p in range(sh.planes):
            for j in range(spp):
                spines = point_summary([points[((p * pods + pod) * spp + j) // per_rack] for pod in range(pods)])
                racks = _rack_range((p * spp + j) * cpg, cpg, per_rack, n_spine_racks)
                cores = point_summary([points[r] for r in racks])
                best = max(best, longest_route(spines, cores, halls, routes, cabling))
        return best

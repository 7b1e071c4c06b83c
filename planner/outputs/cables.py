"""cables.csv: the cable schedule of a solved plan, one row per cable (a breakout or a
multi-link cable has one row per leg, sharing its cable label), with both ends (device,
rack, port), medium, part, measured length, length ordered (the stock length) and route.

The ends are the fabric graph's links (:func:`planner.network.graph.fabric_links`, a
bundle expanded into its links, port by port) and the racks are the floor plan's
(:func:`planner.network.graph.node_rack`). Cables per link follow the tier's media: a
cable carries ``links / cables`` links (a twin-port plug or a breakout), grouped at the
end with more links per connector, in port order. A switch-to-switch optical link that
leaves its row runs over structured cabling (jumper, patch panel, MPO trunk, panel,
jumper: :func:`planner.network.cabling.structured_cabling`); its row names the trunk it
rides in (``T...``), the trunks filled in link order, fibre by fibre. Without halls the
racks are "not placed" and the lengths empty: the schedule says what is unknown.

A link across a route beyond grey reach rides the route's interconnect
(:mod:`planner.network.campus`): its row has medium ``interconnect``, the interconnect's module
as its part, no cable and no trunk, and its route says which route and module.

Re-added, the schedule gives the BOM's cable lines (tests/test_cables.py): cables per
part, their total ordered length, trunks and jumpers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from planner.model.optimize import Result, Status
from planner.network.cabling import stock_round
from planner.parts.catalog import Catalog
from planner.parts.models import COPPER_CLASSES

if TYPE_CHECKING:
    import pandas as pd

    from planner.model.scenario import ClusterOption
    from planner.network.fabric import FabricCounts
    from planner.network.layout import Layout
    from planner.network.media import TierMedia

CABLE_COLUMNS = ["scenario", "label", "cable", "tier", "plane", "a_device", "a_rack", "a_port", "b_device", "b_rack",
                 "b_port", "hall_a", "hall_b", "medium", "part", "length_m", "length_ordered_m", "trunk", "route"]
NOT_PLACED = "not placed"
_PREFIX_NUMBER = re.compile(r"([A-Za-z]+)(\d+)")  # a port name's prefix and number ('up4-5': 'up', 4)
_NUMBER = re.compile(r"\d+")
Columns = dict[str, np.ndarray]  # a table as named columns of equal length
MEDIUM = {"dac": "DAC", "acc": "ACC", "aec": "AEC", "sr": "MMF"}  # optical classes other than sr: SMF


def medium_of(optic_class: str) -> str:
    """The medium a reader orders by: copper assembly class, MMF or SMF."""
    return MEDIUM.get(optic_class, "SMF")


def _expand(first: str, bundle: int) -> tuple[str, int]:
    """('up', 4) from 'up4-5' or 'up4' (the prefix and the bundle's first port number)."""
    head = first.split("-")[0]
    i = len(head)
    while i and head[i - 1].isdigit():
        i -= 1
    return head[:i], int(head[i:])


def link_table(counts: FabricCounts) -> dict[str, np.ndarray]:
    """Every link of the fabric (a bundle expanded), as arrays: u, v (node names), tier,
    plane, port at u, port at v, in the order of :func:`fabric_links` (a bundle's links
    port by port: 'up4-5' is up4 then up5)."""
    from planner.network.graph import fabric_links

    edges = list(fabric_links(counts))
    if not edges:
        return {k: np.zeros(0, dtype=object) for k in ("u", "v", "tier", "plane", "port_u", "port_v")}
    u_, v_, shared, pu_, pv_ = zip(*edges, strict=True)
    u, v, pu, pv = (np.array(x, dtype=object) for x in (u_, v_, pu_, pv_))
    tier = np.array([x[0] for x in shared], dtype=object)
    plane = np.array([x[1] for x in shared], dtype=int)
    bundle = np.array([x[3] for x in shared], dtype=int)
    out = {"u": np.repeat(u, bundle), "v": np.repeat(v, bundle), "tier": np.repeat(tier, bundle),
           "plane": np.repeat(plane, bundle), "port_u": np.repeat(pu, bundle), "port_v": np.repeat(pv, bundle)}
    if (bundle > 1).any():
        # within a bundle: the k-th link takes the first port's number + k at both ends
        first = np.repeat(np.cumsum(bundle) - bundle, bundle)
        k = np.arange(first.size) - first
        many = np.repeat(bundle > 1, bundle)
        for key in ("port_u", "port_v"):
            named = [_next_port(p, j) for p, j in zip(out[key][many].tolist(), k[many].tolist(), strict=True)]
            out[key][many] = np.array(named, dtype=object)
    return out


def _next_port(port: str, k: int) -> str:
    """The port ``k`` after ``port`` ('up4-5', 1 -> 'up5'): its prefix and first number + k."""
    head = _PREFIX_NUMBER.match(port)
    if head is None:
        raise ValueError(f"port name {port!r} has no prefix and number")
    return f"{head[1]}{int(head[2]) + k}"


def _port_number(ports: np.ndarray) -> np.ndarray:
    """The number of a port name ('down12' -> 12, 'nic3/p1' -> 3): the order within a device."""
    numbers = [_NUMBER.search(p) for p in ports.tolist()]
    if any(m is None for m in numbers):
        raise ValueError("a port name without a number")
    return np.array([int(m[0]) for m in numbers if m is not None], dtype=np.int64)


def _cumcount(keys: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements share its key (0 for a key's first)."""
    n = keys.size
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    start = np.r_[True, ranked[1:] != ranked[:-1]] if n else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0)) if n else np.zeros(0, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) - first
    return out


def _cables_of(dev: np.ndarray, ports: np.ndarray, per_cable: int) -> np.ndarray:
    """Cable number (0..) of each link: the links of each device at the end with more links
    per connector, in port order, ``per_cable`` to a cable."""
    n = dev.size
    if per_cable <= 1:
        return np.arange(n)
    order = np.lexsort((_port_number(ports), dev))
    sorted_dev = dev[order]
    start = np.r_[True, sorted_dev[1:] != sorted_dev[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    within = np.arange(n) - first
    new = start | (within % per_cable == 0)
    cable_sorted = np.cumsum(new) - 1
    out = np.empty(n, dtype=int)
    out[order] = cable_sorted
    return out


def cable_schedule(result: Result, catalog: Catalog) -> pd.DataFrame:
    """The cable schedule of the chosen plan as a DataFrame (:func:`cable_columns`)."""
    import pandas as pd

    return pd.DataFrame(cable_columns(result, catalog), columns=CABLE_COLUMNS)


def cable_columns(result: Result, catalog: Catalog) -> Columns:
    """The cable schedule of the chosen plan as named numpy columns (:data:`CABLE_COLUMNS`;
    no row without a cluster); see the module. Built without pandas: a run that writes it
    need not import pandas and Arrow.

    The cyclic garbage collector is paused while it runs: a large fabric makes hundreds of
    thousands of small objects, none in a cycle, and after a solve (a large model in memory)
    each collection they trigger walks the whole heap (Xinjiang: 20 s of collections)."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        return _cable_columns(result, catalog)
    finally:
        if paused:
            gc.enable()


def empty_columns() -> Columns:
    """A schedule without a row: every column, empty."""
    return {c: np.zeros(0, dtype=object) for c in CABLE_COLUMNS}


def _cable_columns(result: Result, catalog: Catalog) -> Columns:
    from planner.outputs.physics import layout_for

    opt = result.chosen if result.status is Status.OPTIMAL else None
    if opt is None or not opt.servers or opt.fabric is None:
        return empty_columns()
    fab = opt.fabric
    lay = layout_for(result, catalog)
    links = link_table(fab)
    racks = _node_racks(fab, lay) if lay is not None else None
    tables: list[Columns] = []
    serial = far_serial = 0
    for tier, media in fab.media.items():
        sel = links["tier"] == tier
        if not media.links or not sel.any():
            continue
        u, v = links["u"][sel], links["v"][sel]
        pu, pv = links["port_u"][sel], links["port_v"][sel]
        n = int(sel.sum())
        t: Columns = {"tier": np.full(n, tier, dtype=object), "plane": links["plane"][sel], "a_device": u,
                      "a_port": pu, "b_device": v, "b_port": pv}
        copper = media.optic_class in COPPER_CLASSES
        if racks is not None and lay is not None:
            ra = np.fromiter((racks[x] for x in u.tolist()), dtype=np.int64, count=n)
            rb = np.fromiter((racks[x] for x in v.tolist()), dtype=np.int64, count=n)
            length = lay.link_lengths(ra, rb)
            names = np.array([f"R{i:05d}" for i in range(len(lay.racks))], dtype=object)
            halls = np.array([r["building"] for r in lay.racks], dtype=object)
            t["a_rack"], t["b_rack"] = names[ra], names[rb]
            t["hall_a"], t["hall_b"] = halls[ra], halls[rb]
            t["length_m"] = np.round(length, 3)
            rooms = _room_ids(lay)
            structured = (rooms[ra] != rooms[rb]) if (tier != "node_leaf" and not copper) \
                else np.zeros(n, dtype=bool)
        else:
            for c in ("a_rack", "b_rack", "hall_a", "hall_b"):
                t[c] = np.full(n, NOT_PLACED, dtype=object)
            t["length_m"] = np.full(n, np.nan)
            structured = np.zeros(n, dtype=bool)
            ra = rb = np.zeros(n, dtype=np.int64)
        far, far_route = _far_links(opt, tier, t["hall_a"], t["hall_b"])
        structured &= ~far
        stock = sorted(catalog.optics[media.cable_kind].lengths_m) if media.cable_kind in catalog.optics else []
        direct = ~structured & ~far
        # cables of the direct links: links / cables links each, grouped at the end with
        # more links per connector
        per_cable = max(1, round(media.links / media.cables)) if media.cables else 1
        big_upper = _links_per_connector(media, "upper") > _links_per_connector(media, "lower")
        dev, ports = (v, pv) if big_upper else (u, pu)
        cable = np.full(n, -1, dtype=int)
        idx = np.flatnonzero(direct)
        cable[idx] = _cables_of(dev[idx], ports[idx], per_cable)
        n_cables = int(cable.max()) + 1 if idx.size else 0
        t["medium"] = np.full(n, medium_of(media.optic_class), dtype=object)
        t["part"] = np.full(n, media.cable_kind, dtype=object)
        t["trunk"] = np.full(n, "", dtype=object)
        ordered = np.full(n, np.nan)
        if racks is not None and idx.size:
            # a cable is ordered at the stock length of its longest leg
            longest = np.full(n_cables, -np.inf)
            np.maximum.at(longest, cable[idx], t["length_m"][idx])
            ordered[idx] = stock_round(longest[cable[idx]], stock)
        t["length_ordered_m"] = ordered
        labels = np.empty(n, dtype=object)
        cable_ids = np.array([f"C{serial + i:06d}" for i in range(n_cables)], dtype=object)
        labels[idx] = cable_ids[cable[idx]] if n_cables else labels[idx]
        t["cable"] = labels
        full = labels.copy()
        if per_cable > 1:
            legs = _cumcount(cable[idx]) + 1
            full[idx] = np.array([f"{a}.{b}" for a, b in zip(labels[idx].tolist(), legs.tolist(), strict=True)],
                                 dtype=object)
        serial += n_cables
        route = np.full(n, "", dtype=object)
        if racks is not None and lay is not None:
            same_rack = ra == rb
            route[direct & same_rack] = "within the rack"
            cross_hall = t["hall_a"] != t["hall_b"]
            route[direct & ~same_rack & ~cross_hall] = "overhead tray in the hall"
            route[direct & cross_hall] = "tray > duct bank between halls > tray"
        else:
            route[:] = f"{NOT_PLACED}: the site has no halls (no rack or length)"
        if structured.any() and lay is not None:
            serial = _structured(t, tier, structured, media, catalog, lay, ra, rb, full, route, serial)
        if far.any():
            at = np.flatnonzero(far)
            full[at] = [f"X{k:06d}" for k in range(far_serial, far_serial + at.size)]
            far_serial += at.size
            route[at] = far_route[0][at]
            t["medium"][far] = "interconnect"
            t["part"][far] = far_route[1][at]
            t["trunk"][far] = far_route[2][at]
            t["length_ordered_m"][far] = np.nan
        t["label"] = full
        t["route"] = route
        tables.append(t)
    if not tables:
        return empty_columns()
    out = {c: np.concatenate([t[c] for t in tables]) for c in CABLE_COLUMNS if c != "scenario"}
    rows = len(out["label"])
    return {"scenario": np.full(rows, result.inputs.scenario, dtype=object), **out}


def _far_links(opt: ClusterOption, tier: str, hall_a: np.ndarray, hall_b: np.ndarray
               ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Which links of ``tier`` (the halls of their ends) cross a route beyond the tier's grey
    reach, and per link the route's words, the interconnect's module and the route's name
    (empty where not)."""
    n = hall_a.size
    empty = np.full(n, "", dtype=object)
    if opt.interconnect is None or (hall_a == NOT_PLACED).all():
        return np.zeros(n, dtype=bool), (empty, empty, empty)
    words, module, name = empty.copy(), empty.copy(), empty.copy()
    far = np.zeros(n, dtype=bool)
    ha, hb = hall_a, hall_b
    for r in opt.interconnect.routes:
        if tier not in r.by_tier:  # the route is beyond this tier's grey reach only where it crosses
            continue
        a, b = r.route.pair
        sel = ((ha == a) & (hb == b)) | ((ha == b) & (hb == a))
        chosen = r.sized.chosen
        key = chosen.module if chosen is not None else ""
        far |= sel
        name[sel] = f"routes[{r.route.index}]"
        module[sel] = key
        words[sel] = (f"interconnect over routes[{r.route.index}] ({r.route.km:g} km): {key} at each end, a "
                      "wavelength on the route's dark fibre")
    return far, (words, module, name)


def _links_per_connector(media: TierMedia, end: str) -> float:
    """Links sharing one plug at an end of a tier: links / connectors (copper: / plugs)."""
    e = getattr(media, end)
    plugs = e.connectors or e.units
    return media.links / plugs if plugs else 1.0


def _node_racks(fab: FabricCounts, lay: Layout) -> dict[str, int]:
    """The rack of each of the fabric's nodes, by name."""
    from planner.network.graph import fabric_nodes, node_rack

    return {name: node_rack(name, data, lay) for name, data in fabric_nodes(fab.spec, fab)}


def _room_ids(lay: Layout) -> np.ndarray:
    from planner.network.layout import rack_room

    ids: dict[tuple, int] = {}
    return np.array([ids.setdefault(rack_room(r), len(ids)) for r in lay.racks], dtype=int)


def _structured(t: Columns, tier_key: str, structured: np.ndarray, media: TierMedia, catalog: Catalog, lay: Layout,
                ra: np.ndarray, rb: np.ndarray, labels: np.ndarray, route: np.ndarray, serial: int) -> int:
    """Rows of the links over structured cabling (``t``'s columns, changed in place): a jumper
    at each end (the link's label), the trunk of its room pair (filled in link order: trunk =
    first fibre // fibres per trunk), route through both rooms' patch panels. Returns the
    next free serial."""
    from planner.network.layout import rack_room

    m = media
    mode = "om4" if m.optic_class == "sr" else "os2"
    trunks = sorted((e.item for e in catalog.entries["cables"].values()
                     if e.item.kind == "trunk" and e.item.fiber_type == mode and e.item.fibers),
                    key=lambda c: -c.fibers)
    trunk = trunks[0] if trunks else None
    fibres = m.fibers_per_link
    connector = m.upper.connector or m.lower.connector
    names = [rack_room(r) for r in lay.racks]
    ids: dict[tuple, int] = {}
    room = np.array([ids.setdefault(n, len(ids)) for n in names], dtype=np.int64)
    room_name = [f"{n[0]} {n[1]}" for n in ids]
    idx = np.flatnonzero(structured)
    ka, kb = room[ra[idx]], room[rb[idx]]
    lo, hi = np.minimum(ka, kb), np.maximum(ka, kb)
    pair = lo * len(ids) + hi
    tier = tier_key.replace("_", "-")
    if trunk is None:
        trunk_of = np.full(idx.size, "", dtype=object)
    else:
        # the room pairs in order of their first link; each pair's trunks numbered on from serial
        pairs, first_at, inverse, per_pair = np.unique(pair, return_index=True, return_inverse=True,
                                                       return_counts=True)
        order = np.argsort(first_at, kind="stable")
        need = -(-per_pair[order] * fibres // trunk.fibers)
        base = np.empty(pairs.size, dtype=np.int64)
        base[order] = serial + np.cumsum(need) - need
        serial += int(need.sum())
        within = _cumcount(pair)  # links of the pair before this one
        number = base[inverse] + within * fibres // trunk.fibers
        trunk_of = np.array([f"T{x:06d}" for x in number.tolist()], dtype=object)
    t["trunk"][idx] = trunk_of
    t["medium"][idx] = medium_of(m.optic_class) + " trunk"
    t["part"][idx] = trunk.key if trunk else ""
    t["length_ordered_m"][idx] = np.nan  # jumpers and trunks: the BOM gives no stock lengths
    cables = np.array([f"J{x:06d}" for x in range(serial, serial + idx.size)], dtype=object)
    serial += idx.size
    t["cable"][idx] = cables
    labels[idx] = cables
    rn = np.array(room_name, dtype=object)
    route[idx] = (f"{tier} jumper ({connector}) > patch panel " + rn[ka] + " > trunk " + trunk_of
                  + " > patch panel " + rn[kb] + f" > jumper ({connector})")
    return serial

"""A map-like figure of sites (or buildings) and the interconnect between them (issue 22).

Points are the sites, lines the fibre routes, each labelled with its length, the option chosen
to carry it (module, wavelengths, fibre pairs, amplifiers), the capacity and the one-way latency.
Positions are the caller's coordinates (km) when it has them; with route lengths alone the
points are placed by classical metric MDS of the route distances (:func:`place_from_distances`;
no kept library offers MDS: scipy and scikit-learn are not dependencies, networkx's
Kamada-Kawai layout needs scipy), and the figure says so: such a drawing is not geographic.

:func:`interconnect_map` is the public entry point: the solve calls it for a campus whose routes
beyond grey reach (10 km with the bundled catalog) carry an interconnect, and the portfolio
(several sites) can call it with its own ``(name, x, y)`` points and :class:`MapRoute` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.network.interconnect import fibre_pairs_text

LAID_OUT_NOTE = ("positions placed from the route lengths (classical MDS), not geographic: "
                 "straight lines stand for the fibre routes")


@dataclass(frozen=True)
class MapRoute:
    """One route between two named points: its fibre length and what carries it.

    ``option`` is a short text of the chosen option ("400zr: 100 waves, 3 pairs, 12 EDFAs") or
    why none was chosen; ``path`` optional intermediate points (km) of the duct route."""

    a: str
    b: str
    km: float
    option: str
    gbps: float | None = None
    latency_us: float | None = None
    cost_usd: float | None = None
    estimated: bool = False
    path: tuple[tuple[float, float], ...] = field(default_factory=tuple)


def place_from_distances(names: Sequence[str], routes: Sequence[MapRoute]) -> dict[str, tuple[float, float]]:
    """Points (km) whose distances approach the route lengths: classical (Torgerson) metric MDS
    of the shortest-path distances over the routes (networkx), B = -1/2 J D^2 J with J the
    centring matrix, the points the two leading eigenvectors of B times the square roots of
    their eigenvalues (numpy). Distances that fit a plane (three sites obeying the triangle
    inequality) come back exactly; others approximately. Points no route joins are placed
    at the largest route length from the rest."""
    import networkx as nx
    import numpy as np

    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(names)
    for r in routes:
        graph.add_edge(r.a, r.b, km=float(r.km))
    order = list(graph.nodes)
    n = len(order)
    far = 2 * max((r.km for r in routes), default=1.0)
    d = np.full((n, n), far)
    for i, (_src, lengths) in enumerate((s, dict(nx.single_source_dijkstra_path_length(graph, s, weight="km")))
                                        for s in order):
        for j, other in enumerate(order):
            if other in lengths:
                d[i, j] = lengths[other]
    np.fill_diagonal(d, 0.0)
    centre = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * centre @ (d ** 2) @ centre
    values, vectors = np.linalg.eigh(b)
    top = np.argsort(values)[::-1][:2]
    xy = vectors[:, top] * np.sqrt(np.clip(values[top], 0.0, None))
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(n)])
    return {name: (float(xy[i, 0]), float(xy[i, 1])) for i, name in enumerate(order)}


def _label(r: MapRoute) -> str:
    parts = [f"{r.km:,.1f} km", r.option]
    if r.gbps is not None:
        parts.append(f"{r.gbps / 1000:,.1f} Tb/s each way")
    if r.latency_us is not None:
        parts.append(f"{r.latency_us:,.0f} us one way")
    if r.cost_usd is not None:
        money = f"{r.cost_usd / 1e6:,.2f} M USD" if r.cost_usd >= 1e6 else f"{r.cost_usd / 1e3:,.0f} k USD"
        parts.append(money + (" (ESTIMATE)" if r.estimated else ""))
    return "\n".join(parts)


def interconnect_map(path: Path, routes: Sequence[MapRoute],
                     sites: Sequence[tuple[str, float, float]] | None = None, title: str = "") -> None:
    """Write the figure to ``path`` (PNG). ``sites`` are ``(name, x_km, y_km)``; without them the
    points are placed from the route lengths (:func:`place_from_distances`) and the figure says
    so. Every route's ends must be among the sites when sites are given (ValueError)."""
    from planner.outputs.plots import _pyplot, _save

    names = [s[0] for s in sites] if sites else sorted({n for r in routes for n in (r.a, r.b)})
    if sites:
        pos = {n: (float(x), float(y)) for n, x, y in sites}
        missing = sorted({n for r in routes for n in (r.a, r.b)} - set(pos))
        if missing:
            raise ValueError(f"routes name points that are not among the sites: {', '.join(missing)}")
        note = ""
    else:
        pos = place_from_distances(names, routes)
        note = LAID_OUT_NOTE
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 7))
    for r in routes:
        line = [pos[r.a], *r.path, pos[r.b]]
        xs, ys = zip(*line, strict=True)
        ax.plot(xs, ys, color="#8c564b" if r.cost_usd is not None else "#999999", lw=2.5, zorder=1,
                ls="-" if r.cost_usd is not None else "--")
        # the label beside the middle segment, pushed off the line along its normal
        k = (len(line) - 1) // 2
        (x0, y0), (x1, y1) = line[k], line[k + 1]
        norm = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
        ax.annotate(_label(r), ((x0 + x1) / 2, (y0 + y1) / 2), fontsize=8, ha="center", va="center", zorder=3,
                    xytext=(-(y1 - y0) / norm * 45, (x1 - x0) / norm * 45), textcoords="offset points",
                    bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#8c564b", "alpha": 0.9})
    x = [pos[n][0] for n in names]
    y = [pos[n][1] for n in names]
    ax.scatter(x, y, s=120, color="#4c78a8", zorder=2)
    cx, cy = sum(x) / len(x), sum(y) / len(y)
    for n in names:  # each name outward from the sites' centre, away from the routes' labels between them
        dx, dy = pos[n][0] - cx, pos[n][1] - cy
        size = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        ux, uy = (dx / size, dy / size) if len(names) > 1 else (0.7, 0.7)
        ax.annotate(n, pos[n], xytext=(ux * 12, uy * 12), textcoords="offset points", fontsize=10, weight="bold",
                    zorder=4, ha="left" if ux >= 0 else "right", va="bottom" if uy >= 0 else "top",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.3)
    ax.set_xlabel("km")
    ax.set_ylabel("km")
    ax.grid(alpha=0.3)
    ax.set_title(title or "Interconnect between sites")
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color="#8c564b", lw=2.5, label="route, cheapest option chosen"),
                       Line2D([], [], color="#999999", lw=2.5, ls="--",
                              label="route, no link (not needed, not sized, or none priced)")],
              loc="upper left", fontsize=8)
    if note:
        fig.text(0.01, 0.01, note, fontsize=8, style="italic", color="#555555")
    _save(fig, path)


def campus_map_routes(trunks: Sequence[dict[str, Any]], routes: Sequence[Any]) -> list[MapRoute]:
    """:class:`MapRoute` records of a plan's campus trunks that carry an interconnect (routes over
    10 km), with the duct polyline in km (``routes``: the site's Route records)."""
    out = []
    for t in trunks:
        doc = t.get("interconnect")
        if not doc:
            continue
        route = next((r for r in routes if {r.from_building, r.to_building} == {t["from"], t["to"]}), None)
        inner = tuple((x / 1000, y / 1000) for x, y in route.polyline) if route is not None else ()
        if route is not None and route.from_building != t["from"]:
            inner = inner[::-1]
        c = doc["chosen"]
        option = ("no option chosen: " + doc["why"][:60]) if c is None else (
            f"{c['module']}: {c['modules']} modules" + (
                f", {c['wavelengths']} waves on {c['fibre_pairs']} pair(s), {c['amplifiers']} EDFAs"
                if c["kind"] == "coherent" else f", {fibre_pairs_text(c['fibre_pairs'])}"))
        out.append(MapRoute(t["from"], t["to"], doc["route_km"], option, doc["gbps"],
                            c["latency_us"] if c else None, c["cost_usd"] if c else None,
                            bool(c and c["estimated"]), inner))
    return out


def campus_interconnect(result: Any, catalog: Any) -> tuple[list[tuple[str, float, float]], list[MapRoute]]:
    """(halls as (name, x km, y km) at their outline's centre, routes) of a solved plan whose
    campus routes beyond grey reach carry an interconnect; ([], []) otherwise."""
    from shapely.geometry import Polygon

    from planner.outputs.physics import layout_for, layout_summary

    doc = layout_summary(result, catalog)
    trunks = [t for t in (doc or {}).get("campus_trunks", []) if t.get("interconnect")]
    lay = layout_for(result, catalog) if trunks else None
    if lay is None:
        return [], []
    halls = []
    for b in lay.halls.values():
        c = Polygon(b.polygon).centroid
        halls.append((b.name, (c.x + b.origin[0]) / 1000, (c.y + b.origin[1]) / 1000))
    return halls, campus_map_routes(trunks, result.inputs.routes)

"""Figures a person would rather look at than read (matplotlib, headless).

Why a module of about 500 lines: every figure shares the headless pyplot, the save that
lays it out and closes it, and the site's colours; split, they would import each other's
helpers and the figures' writer would load several modules for one picture."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.constants import USD_PER_MUSD

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from planner.network.layout import Layout

    # the dispatch columns by name: a DataFrame, or a mapping of arrays
    Columns = Mapping[str, np.ndarray] | pd.DataFrame

ROLE_COLOURS = {"compute": "#4c78a8", "leaf": "#f58518", "spine": "#e45756", "core": "#72b7b2"}
USE_COLOURS = {"miners": "#fde0c5", "idle": "#eeeeee"}  # halls the AI leaves: to miners, or idle
DUCT_COLOUR = "#8c564b"


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path, whole: bool = False) -> None:
    """Lay the figure out, write it and close it. A name in a script the font lacks (a
    Chinese hall or site name, with matplotlib's own DejaVu Sans) is drawn as boxes, without
    a warning for every character on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.tight_layout()
        # tight_layout leaves a placeholder layout engine behind, and savefig lays out a
        # figure that has one with a whole draw of its own before it draws the picture: a
        # fifth of a dispatch figure's time, for the same pixels. Without it, one draw.
        fig.set_layout_engine(None)
        # whole: the saved picture grows to hold artists outside the axes (a floor plan's
        # legend beside an equal-aspect plan, which tight_layout cannot make room for)
        fig.savefig(path, bbox_inches="tight" if whole else None)
    _pyplot().close(fig)


def _boxes_path(boxes: list[tuple[float, float, float, float]]) -> Any:
    """One matplotlib Path of many axis-aligned rectangles, each (centre x, centre y, half
    width, half depth): a closed ring of four corners each."""
    from matplotlib.path import Path as MplPath

    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    x, y, w, d = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    ring = np.stack([np.stack([x - w, y - d], 1), np.stack([x + w, y - d], 1), np.stack([x + w, y + d], 1),
                     np.stack([x - w, y + d], 1), np.stack([x - w, y - d], 1)], axis=1)  # (n, 5, 2)
    codes = np.tile([MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY], len(b))
    return MplPath(ring.reshape(-1, 2), codes.astype(MplPath.code_type))


FAR_GAP_M = 1000.0  # halls farther apart than this are drawn in panels of their own


def _hall_groups(boxes: dict[str, tuple[float, float, float, float]]) -> list[list[str]]:
    """The halls in groups drawn together: halls whose outlines (x0, y0, x1, y1) come within
    FAR_GAP_M of each other, by single linkage, in the order of their first hall."""
    names = list(boxes)
    group = {n: i for i, n in enumerate(names)}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes[a], boxes[b]
            gap = math.hypot(max(0.0, max(ax0, bx0) - min(ax1, bx1)), max(0.0, max(ay0, by0) - min(ay1, by1)))
            if gap <= FAR_GAP_M and group[a] != group[b]:
                old, keep = group[b], group[a]
                group = {n: keep if g == old else g for n, g in group.items()}
    order = list(dict.fromkeys(group[n] for n in names))
    return [[n for n in names if group[n] == g] for g in order]


def floorplan(layout: Layout, path: Path, title: str = "", site: dict[str, Any] | None = None) -> None:
    """Halls, keep-outs, meet-me rooms, cable trays (row lines) and racks coloured by role;
    with ``site`` (:func:`planner.outputs.physics.site_plan`) also the halls the AI leaves
    to miners or idle, and the duct banks between buildings with their lengths. Halls more
    than FAR_GAP_M apart (a campus whose buildings are kilometres apart) are drawn in panels
    of their own, each at its own scale: one plan of the whole would show no hall."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    halls = list(layout.halls.values())
    others = (site or {}).get("halls", [])
    routes = (site or {}).get("routes", [])
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for b in halls:
        xs, ys = zip(*[(x + b.origin[0], y + b.origin[1]) for x, y in b.polygon], strict=True)
        boxes[b.name] = (min(xs), min(ys), max(xs), max(ys))
    for name, ring, _use, _label in others:
        xs, ys = zip(*ring, strict=True)
        boxes[name] = (min(xs), min(ys), max(xs), max(ys))
    groups = _hall_groups(boxes) if boxes else [[]]
    panels = []
    for names in groups:
        inside = set(names)
        panels.append(([b for b in halls if b.name in inside or len(groups) == 1],
                       [o for o in others if o[0] in inside or len(groups) == 1],
                       [r for r in routes if len(groups) == 1 or (r[0] in inside and r[1] in inside)],
                       [r for r in layout.racks if len(groups) == 1 or r["building"] in inside]))
    sizes = [_panel_size(*panel[:3]) for panel in panels]
    height = max(h for _w, h in sizes)
    width = min(16.0, sum(w for w, _h in sizes) - 3.5 * (len(sizes) - 1)) if len(sizes) > 1 else sizes[0][0]
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), dpi=110, squeeze=False)
    rooms: list[str] = []
    for ax, panel in zip(axes[0], panels, strict=True):
        rooms += _draw_plan(ax, layout, *panel)
    ax = axes[0][-1]
    counts: dict[str, int] = {}
    for r in layout.racks:
        counts[r["role"]] = counts.get(r["role"], 0) + 1
    handles = [Patch(color=c, label=f"{role} racks ({counts.get(role, 0)})") for role, c in ROLE_COLOURS.items()
               if counts.get(role)]
    handles += [Patch(fc="#bbbbbb", hatch="//", label="keep-out"),
                Patch(fc="#fff2cc", ec="#b58900", label="meet-me room" + (f" ({', '.join(rooms)})" if rooms else ""))]
    handles.append(plt.Line2D([], [], color="#2ca02c", lw=1, label="cable tray"))
    uses = {use for _n, _r, use, _l in others}
    if "miners" in uses:
        handles.append(Patch(fc=USE_COLOURS["miners"], ec="#555555", hatch="xx", label="miners beside the AI"))
    if "idle" in uses:
        handles.append(Patch(fc=USE_COLOURS["idle"], ec="#555555", label="hall without AI or miners"))
    if any(panel[2] for panel in panels):
        handles.append(plt.Line2D([], [], color=DUCT_COLOUR, lw=2.2, label="duct bank"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    if len(panels) == 1:
        ax.set_title(title or "Floor plan")
    else:
        far = [r for r in routes if not any(r[0] in g and r[1] in g for g in groups)]
        apart = "; ".join(f"{a} to {b}: {length / 1000:,.1f} km" for a, b, _pts, length in far)
        fig.suptitle((title or "Floor plan") + "\nhalls more than 1 km apart, each group at its own scale"
                     + (f" ({apart})" if apart else ""), fontsize=11)
    _save(fig, path, whole=True)


def _panel_size(halls: list, others: list, routes: list) -> tuple[float, float]:
    """(width, height) in inches of a plan of these halls and routes: taller for a tall one."""
    xs_all = [x + b.origin[0] for b in halls for x, _ in b.polygon] + [x for o in others for x, _ in o[1]] \
        + [x for r in routes for x, _ in r[2]]
    ys_all = [y + b.origin[1] for b in halls for _, y in b.polygon] + [y for o in others for _, y in o[1]] \
        + [y for r in routes for _, y in r[2]]
    ratio = (max(xs_all) - min(xs_all)) / max(1e-9, max(ys_all) - min(ys_all))
    height = 7.0 if ratio >= 1 else min(12.0, 7.0 / max(ratio, 0.6))  # a tall campus gets a taller figure
    return min(16.0, max(8.0, height * ratio * 0.9 + 3.5)), height


def _draw_plan(ax: Any, layout: Layout, halls: list, others: list, routes: list, racks: list) -> list[str]:
    """One panel of a floor plan: these halls, the others' outlines, routes and racks; returns
    the meet-me rooms drawn (named in the legend)."""
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.patches import Polygon

    rooms: list[str] = []
    for b in halls:
        ox, oy = b.origin
        shift = [(x + ox, y + oy) for x, y in b.polygon]
        ax.add_patch(Polygon(shift, closed=True, fill=False, lw=1.6, ec="black"))
        xs, ys = zip(*shift, strict=True)
        ax.text(min(xs), max(ys) + 0.8, f"{b.name} ({b.cooling}, {b.max_kw_per_rack:g} kW/rack)", fontsize=9,
                va="bottom")
        for ring in b.keep_out:
            ax.add_patch(Polygon([(x + ox, y + oy) for x, y in ring], closed=True, fc="#bbbbbb", ec="#777777",
                                 hatch="//", lw=0.8))
        if b.meet_me_room:  # named in the legend: a name inside the room would lie over its racks
            ring = [(x + ox, y + oy) for x, y in b.meet_me_room.polygon]
            ax.add_patch(Polygon(ring, closed=True, fc="#fff2cc", ec="#b58900", lw=1.0))
            rooms.append(b.meet_me_room.name)
    for _name, ring, use, label in others:
        ax.add_patch(Polygon(ring, closed=True, fc=USE_COLOURS[use], ec="#555555", lw=1.2,
                             hatch="xx" if use == "miners" else None))
        xs, ys = zip(*ring, strict=True)
        ax.text(min(xs), max(ys) + 0.8, label, fontsize=9, va="bottom")
    for a, b_name, pts, length in routes:
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, color=DUCT_COLOUR, lw=2.2, alpha=0.8, solid_capstyle="round", zorder=2)
        # named at the end of its first leg, beside the building it leaves: routes that share
        # their later legs do not stack their labels
        ax.text(pts[1][0], pts[1][1], f" {a} to {b_name}, {length:,.0f} m", fontsize=7, color=DUCT_COLOUR,
                va="bottom")
    # the racks of one colour are one compound path (built from arrays), all of them one
    # collection; the trays another: a few artists, not one per rack (thousands of patches,
    # or a path object per rack, made a large site's plan take seconds to draw)
    corners: dict[str, list[tuple[float, float, float, float]]] = {}
    rows: dict[tuple[str, float], tuple[float, float]] = {}
    for r in racks:
        hall = layout.halls[r["building"]]
        x, y = r["x"], r["y"]
        corners.setdefault(ROLE_COLOURS.get(r["role"], "#999999"), []).append(
            (x, y, hall.rack_width_m / 2, hall.rack_depth_m / 2))
        key = (r["building"], round(y, 3))
        lo, hi = rows.get(key, (x, x))
        rows[key] = (min(lo, x), max(hi, x))
    if corners:
        ax.add_collection(PathCollection([_boxes_path(c) for c in corners.values()], facecolors=list(corners),
                                         edgecolors="none"))
    if rows:  # trays run above each occupied row
        ax.add_collection(LineCollection([((x0, y), (x1, y)) for (_b, y), (x0, x1) in rows.items()],
                                         colors="#2ca02c", linewidths=0.5, linestyles="--", alpha=0.9, zorder=3))
    ax.set_aspect("equal")
    ax.autoscale_view()
    if routes:  # room on the right for the duct banks' names
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + 0.3 * (hi - lo))
    ax.set_xlabel("x, m")
    ax.set_ylabel("y, m")
    return rooms


def power_over_time(rows: Columns, path: Path, title: str, months: Mapping[str, Any] | None = None) -> None:
    """Grid import over the profile's steps: AI (firm) and miners (dispatched) stacked,
    with the capacity line. Long series are drawn as daily means of each quantity (the
    step values are in dispatch.csv). ``rows``: the dispatch columns by name (a frame, or a
    dict of arrays: the background writer is sent arrays and never imports pandas).

    With ``months`` (:func:`planner.outputs.physics.monthly_power`) the plan over its
    horizon is drawn above, month by month, before and after the AI start: a profile of
    one step (a flat price) is drawn that way alone."""
    import numpy as np

    plt = _pyplot()
    ai, miners, cap = (np.asarray(rows[c], dtype=float) for c in ("ai_load_mw", "miner_load_mw", "grid_capacity_mw"))
    steps = rows["step"]
    per_day = _per_day([str(s) for s in steps[:200]], len(steps))
    if per_day > 1:
        ai, miners, cap = (_mean_blocks(a, per_day) for a in (ai, miners, cap))
    labels = [str(s) for s in steps[::per_day][: ai.size]]  # a label per drawn step only
    x = np.arange(ai.size)
    panels = (months is not None) + (months is None or ai.size > 1)
    fig, axes = plt.subplots(panels, 1, figsize=(11 if ai.size > 4 or months is not None else 6, 4.5 * panels),
                             dpi=110, squeeze=False)
    if months is not None:
        _months_panel(axes[0][0], months)
        if panels == 1:
            axes[0][0].set_title(title)
            _save(fig, path)
            return
    ax = axes[-1][0]
    if ai.size <= 48:  # few steps (flat, seasonal, time of use): bars, one per step
        ax.bar(x, ai, color="#4c78a8", label="AI (firm)", width=0.8)
        ax.bar(x, miners, bottom=ai, color="#f58518", label="miners (dispatched)", width=0.8)
        ax.step(np.append(x, x[-1] + 1) - 0.5, np.append(cap, cap[-1]), where="post", color="black", lw=1.2,
                label="grid capacity")
    else:
        ax.stackplot(x, ai, miners, labels=["AI (firm)", "miners (dispatched)"], colors=["#4c78a8", "#f58518"],
                     alpha=0.9)
        ax.plot(x, cap, color="black", lw=1.2, label="grid capacity")
    ax.set_ylabel("MW")
    ax.set_ylim(0, max(1e-9, float(cap.max())) * 1.08)
    _label_axis(ax, labels, "daily mean" if per_day > 1 else
                ("the year's steps, from the AI start" if months is not None else ""))
    _legend(ax, loc="lower left", fontsize=8, ncol=3)
    axes[0][0].set_title(title)
    _save(fig, path)


def _months_panel(ax: Any, months: Mapping[str, Any]) -> None:
    """Mean grid import month by month over the horizon, the AI start marked."""
    import numpy as np

    m = np.asarray(months["month"])
    ai, miners, cap = (np.asarray(months[k], dtype=float) for k in ("ai_mw", "miners_mw", "capacity_mw"))
    start = int(np.asarray(months["ai_start_month"])[0])
    ax.bar(m, ai, width=1.0, color="#4c78a8", label="AI (firm)", align="edge")
    ax.bar(m, miners, width=1.0, bottom=ai, color="#f58518", label="miners", align="edge")
    ax.step(np.append(m, m[-1] + 1), np.append(cap, cap[-1]), where="post", color="black", lw=1.2,
            label="grid capacity")
    top = max(1e-9, float(cap.max()), float((ai + miners).max())) * 1.15
    ax.set_ylim(0, top)
    ax.set_xlim(0, m[-1] + 1)
    if 0 < start <= m[-1]:
        ax.axvline(start, color="#444444", ls="--", lw=1)
        ax.text(start, top * 0.97, f" AI starts, month {start}", va="top", fontsize=8)
    ax.set_xlabel("month of the plan (each month at the year's mean)")
    ax.set_ylabel("MW")
    _legend(ax, loc="lower right", fontsize=8, ncol=3)


SCATTER_POINTS = 50_000  # above this, price against miner load is drawn as a density


def price_and_dispatch(rows: Columns, path: Path, title: str) -> None:
    """Miner load against the price of each step: miners run when the price pays and
    stop when it spikes. ``rows`` as for :func:`power_over_time`."""
    import numpy as np

    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter

    price, miners = (np.asarray(rows[c], dtype=float) for c in ("price_usd_per_mwh", "miner_load_mw"))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    if not np.any(miners > 0):  # nothing to dispatch: say so, and show what the miners would have faced
        ax.plot(np.arange(price.size), np.sort(price)[::-1], color="#4c78a8", lw=1.2)
        ax.set_yscale("symlog", linthresh=100)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.set_xlabel("steps, from the dearest to the cheapest")
        ax.set_ylabel("price, USD/MWh (symmetric log above 100)")
        ax.text(0.5, 0.92, "no miners run beside the AI in this plan: nothing is dispatched",
                transform=ax.transAxes, ha="center", fontsize=10, color="#b22222")
        ax.grid(alpha=0.3)
        ax.set_title(title)
        _save(fig, path)
        return
    ax.set_xscale("symlog", linthresh=100)
    # plain numbers, not powers of ten: they read at a glance, and need no maths typesetting
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    if price.size <= SCATTER_POINTS:
        # one marker per step as a line's markers (drawn in one pass), not a scatter's
        # collection (a path per point): the same picture in half the time
        ax.plot(price, miners, "o", ms=2.4, alpha=0.35, color="#f58518", mec="none", ls="none")
        ax.set_xlabel("price, USD/MWh (symmetric log above 100)")
    else:  # a point per step would take seconds to draw and hide the density: steps per cell instead
        x = np.sign(price) * np.log10(1 + np.abs(price) / 100) * 100  # the symlog axis, drawn linear
        ax.set_xscale("linear")
        cells = ax.hexbin(x, miners, gridsize=60, bins="log", cmap="Oranges", mincnt=1)
        fig.colorbar(cells, ax=ax, label="steps (log scale)")
        ticks = np.array([-100, 0, 50, 100, 1000, 10000])
        ticks = ticks[(ticks >= price.min()) & (ticks <= price.max())]
        ax.set_xticks(np.sign(ticks) * np.log10(1 + np.abs(ticks) / 100) * 100, [f"{t:g}" for t in ticks])
        ax.set_xlabel(f"price, USD/MWh (log above 100); {price.size:,} steps")
    ax.set_ylabel("miner load, MW")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    _save(fig, path)


def capex_breakdown(capex: dict[str, dict[str, float]], path: Path, title: str) -> None:
    """Capex per scenario with a plan (its ``capex_breakdown_usd``), stacked by component,
    in million USD."""
    plt = _pyplot()
    names = list(capex)
    parts: list[str] = []
    for n in names:
        for k, v in capex[n].items():
            if v and k not in parts:
                parts.append(k)
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(names) + 3), 5), dpi=110)
    bottom = [0.0] * len(names)
    colours = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d"]
    for i, part in enumerate(parts):
        values = [capex[n].get(part, 0) / USD_PER_MUSD for n in names]
        ax.bar(names, values, bottom=bottom, label=part.replace("_", " "), color=colours[i % len(colours)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        ax.text(i, total, f"{total:,.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("capex, million USD")
    _legend(ax, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(title)
    _save(fig, path)


def _per_day(labels: list[str], steps: int) -> int:
    """Steps per day when ``labels`` (the first of a series' ``steps`` labels) are timestamps
    of a long series, else 1."""
    if steps < 500:
        return 1
    first = labels[0][:10]
    return max(1, sum(1 for lab in labels[:200] if lab[:10] == first))


def _mean_blocks(a: np.ndarray, n: int) -> np.ndarray:
    k = a.size // n
    return a[: k * n].reshape(k, n).mean(axis=1)


def _label_axis(ax: Axes, labels: list[str], note: str) -> None:
    n = len(labels)
    ticks = list(range(0, n, max(1, n // 12)))
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[i][:10] if len(labels[i]) >= 10 else labels[i] for i in ticks], rotation=30,
                       ha="right", fontsize=8)
    if note:
        ax.set_xlabel(note)


def npv_distribution(frame: Columns, path: Path, title: str) -> None:
    """Histogram of NPV per plan kind over the sweep's variants. ``frame``: the sweep's
    results by column (a frame, or a dict of arrays: the sweep's finisher never imports
    pandas)."""
    plt = _pyplot()
    kinds, npv = np.asarray(frame["kind"]), np.asarray(frame["npv_usd"], dtype=float)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for kind in np.unique(kinds):  # in sorted order
        values = npv[kinds == kind]
        ax.hist(values / USD_PER_MUSD, bins=30, alpha=0.55, label=f"{kind} ({values.size})",
                histtype="stepfilled")  # one patch a kind, not one a bin: drawn in half the time
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # variants are counted: no tick at 2.5
    ax.set_xlabel("NPV, million USD")
    ax.set_ylabel("variants")
    _legend(ax, fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def _means(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The mean of the values of each code 0 .. n-1 (a missing value, NaN, left out; a code
    with none has a NaN mean)."""
    keep = ~np.isnan(values)
    sums = np.bincount(codes[keep], weights=values[keep], minlength=n)
    counts = np.bincount(codes[keep], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _mean_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and the mean of the values of each (:func:`_means`)."""
    distinct, codes = np.unique(keys, return_inverse=True)
    return distinct, _means(codes.reshape(-1), values, distinct.size)


def best_per_variant(frame: Columns) -> np.ndarray:
    """The rows (their positions) of each variant's best plan, by variant: its largest NPV,
    the first such row on a tie (a missing NPV last)."""
    variant, npv = np.asarray(frame["variant"]), np.asarray(frame["npv_usd"], dtype=float)
    order = np.lexsort((np.arange(npv.size), np.where(np.isnan(npv), np.inf, -npv), variant))
    first = np.ones(order.size, dtype=bool)
    first[1:] = variant[order][1:] != variant[order][:-1]
    return order[first]


def tornado(frame: Columns, axes: list[str], path: Path, title: str) -> None:
    """Swing of the best plan's mean NPV between each axis's lowest and highest value,
    around the baseline (the mean over every variant). Each half-bar is coloured by the
    direction of its effect (green: the NPV rises, red: it falls) and labelled with the
    axis value that gives it."""
    from matplotlib.patches import Patch

    plt = _pyplot()
    best = best_per_variant(frame)
    npv = np.asarray(frame["npv_usd"], dtype=float)[best]
    swings = []
    for axis in axes:
        values, means = _mean_by(np.asarray(frame[axis])[best], npv)
        lo, hi = means[0] / USD_PER_MUSD, means[-1] / USD_PER_MUSD
        swings.append((axis, lo, hi, values[0], values[-1]))
    swings.sort(key=lambda s: abs(s[2] - s[1]))
    centre = float(np.nanmean(npv)) / USD_PER_MUSD
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.6 * len(swings)), dpi=110)
    for i, (_axis, lo, hi, vlo, vhi) in enumerate(swings):
        for end, value in ((lo, vlo), (hi, vhi)):
            up = end >= centre
            ax.barh(i, end - centre, left=centre, color=RISE if up else FALL)
            ax.text(end, i, f" {_axis_value(value)} ", ha="left" if up else "right", va="center", fontsize=7)
    ax.set_yticks(range(len(swings)))
    ax.set_yticklabels([s[0] for s in swings], fontsize=8)
    ax.axvline(centre, color="black", lw=0.8)
    ax.text(centre, len(swings) - 0.45, f"baseline {centre:,.1f} (mean of all variants)", ha="center", va="bottom",
            fontsize=7)
    ax.set_ylim(-0.6, len(swings) - 0.1)
    ax.margins(x=0.12)
    ax.set_xlabel("best plan's mean NPV, million USD (each bar: the axis at its lowest and at its highest value)")
    ax.legend(handles=[Patch(color=RISE, label="raises the NPV"), Patch(color=FALL, label="lowers the NPV")],
              fontsize=7, loc="lower right")
    ax.set_title(title)
    _save(fig, path)


RISE, FALL = "#54a24b", "#e45756"


def _axis_value(value: object) -> str:
    """An axis value as a reader writes it: 130,000 not 130000 or 1.3e+05."""
    try:
        number = float(value)  # type: ignore[arg-type]  # anything float() takes; else shown as text
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f}" if abs(number) >= 1000 and number == round(number) else f"{number:g}"


def mean_npv_by_btc_price(frame: Columns) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The BTC prices (sorted), the plan kinds (sorted) and the mean NPV of each kind at each
    price, USD (a row per price, a column per kind; NaN where a kind has no variant)."""
    prices = np.asarray(frame["btc_price_usd"], dtype=float)
    kinds = np.asarray(frame["kind"])
    npv = np.asarray(frame["npv_usd"], dtype=float)
    xs, at = np.unique(prices, return_inverse=True)
    names, of = np.unique(kinds, return_inverse=True)
    means = _means(at.reshape(-1) * names.size + of.reshape(-1), npv, xs.size * names.size)
    return xs, [str(k) for k in names], means.reshape(xs.size, names.size)


def crossover_btc_price(frame: Columns, a: str = "retrofit", b: str = "greenfield") -> float | None:
    """The BTC price at which plan ``a``'s mean NPV overtakes plan ``b``'s (linear interpolation)."""
    xs, kinds, means = mean_npv_by_btc_price(frame)
    if a not in kinds or b not in kinds:
        return None
    return _crossing(xs, means[:, kinds.index(a)] - means[:, kinds.index(b)])


def _crossing(xs: np.ndarray, diff: np.ndarray) -> float | None:
    """The first price at which ``diff`` (one kind's mean NPV less another's, per price in
    ``xs``; NaN where either has no variant) changes sign, interpolated linearly."""
    keep = ~np.isnan(diff)
    xs, ys = xs[keep], diff[keep]
    for i in range(len(xs) - 1):
        if ys[i] < 0 <= ys[i + 1] or ys[i] > 0 >= ys[i + 1]:
            return float(xs[i] + (xs[i + 1] - xs[i]) * (0 - ys[i]) / (ys[i + 1] - ys[i]))
    return None


def crossover(frame: Columns, path: Path, title: str) -> None:
    """Mean NPV of each plan kind against the BTC price, every crossing of two kinds marked
    (a point and its price); when no two kinds cross inside the range, the plot says so."""
    from matplotlib.ticker import FuncFormatter

    plt = _pyplot()
    xs, kinds, usd = mean_npv_by_btc_price(frame)
    means = usd / USD_PER_MUSD
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for j, kind in enumerate(kinds):
        ax.plot(xs, means[:, j], marker="o", ms=3, label=kind)
    crossings = []
    for i, a in enumerate(kinds):
        for j in range(i + 1, len(kinds)):
            x = _crossing(xs, usd[:, i] - usd[:, j])  # as crossover_btc_price, from the table at hand
            if x is not None:
                crossings.append((x, float(np.interp(x, xs, means[:, i])), a, kinds[j]))
    for x, y, a, b in crossings:
        ax.axvline(x, color="grey", ls="--", lw=0.8)
        ax.plot([x], [y], marker="D", ms=7, color="black", zorder=5)
        ax.annotate(f"{a} = {b}\nat {x:,.0f} USD", (x, y), xytext=(8, -18), textcoords="offset points",
                    fontsize=8)
    if not crossings and len(kinds) > 1:
        lo, hi = float(xs.min()), float(xs.max())
        ax.text(0.5, 0.02, f"no two plans cross between {lo:,.0f} and {hi:,.0f} USD", transform=ax.transAxes,
                ha="center", va="bottom", fontsize=8, color="#555555")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel("BTC price, USD")
    ax.set_ylabel("mean NPV, million USD")
    _legend(ax, fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def _legend(ax: Axes, **kwargs: object) -> None:
    """A legend when something is labelled (a plan with no capex has no bars to name)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)

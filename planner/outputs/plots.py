"""Figures a person would rather look at than read (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from planner.constants import USD_PER_MUSD

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from planner.network.layout import Layout

    # the dispatch columns by name: a DataFrame, or a mapping of arrays
    Columns = Mapping[str, np.ndarray] | pd.DataFrame

ROLE_COLOURS = {"compute": "#4c78a8", "leaf": "#f58518", "spine": "#e45756", "core": "#72b7b2"}


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path) -> None:
    """Lay the figure out, write it and close it. A name in a script the font lacks (a
    Chinese hall or site name, with matplotlib's own DejaVu Sans) is drawn as boxes, without
    a warning for every character on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.tight_layout()
        fig.savefig(path)
    _pyplot().close(fig)


def floorplan(layout: Layout, path: Path, title: str = "") -> None:
    """Halls, keep-outs, meet-me rooms, cable trays (row lines) and racks coloured by role."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Patch, Polygon

    plt = _pyplot()
    halls = list(layout.halls.values())
    xs_all = [x + b.origin[0] for b in halls for x, _ in b.polygon]
    ys_all = [y + b.origin[1] for b in halls for _, y in b.polygon]
    ratio = (max(xs_all) - min(xs_all)) / max(1e-9, max(ys_all) - min(ys_all))
    height = 7.0
    width = min(16.0, max(6.0, height * ratio * 0.9 + 3.5))
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
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
        if b.meet_me_room:
            ring = [(x + ox, y + oy) for x, y in b.meet_me_room.polygon]
            ax.add_patch(Polygon(ring, closed=True, fc="#fff2cc", ec="#b58900", lw=1.0))
            mx, my = zip(*ring, strict=True)
            ax.text(sum(mx) / len(mx), sum(my) / len(my), b.meet_me_room.name, ha="center", va="center",
                    fontsize=8, color="#7a5c00")
    # every rack in one collection and every tray in another: one artist each, not one per
    # rack (thousands of patches made a large site's plan take seconds to draw)
    boxes: list[tuple[tuple[float, float], ...]] = []
    colours: list[str] = []
    rows: dict[tuple[str, float], tuple[float, float]] = {}
    for r in layout.racks:
        hall = layout.halls[r["building"]]
        w, d = hall.rack_width_m / 2, hall.rack_depth_m / 2
        x, y = r["x"], r["y"]
        boxes.append(((x - w, y - d), (x + w, y - d), (x + w, y + d), (x - w, y + d)))
        colours.append(ROLE_COLOURS.get(r["role"], "#999999"))
        key = (r["building"], round(y, 3))
        lo, hi = rows.get(key, (x, x))
        rows[key] = (min(lo, x), max(hi, x))
    if boxes:
        ax.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="none"))
    if rows:  # trays run above each occupied row
        ax.add_collection(LineCollection([((x0, y), (x1, y)) for (_b, y), (x0, x1) in rows.items()],
                                         colors="#2ca02c", linewidths=0.5, linestyles="--", alpha=0.9, zorder=3))
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x, m")
    ax.set_ylabel("y, m")
    counts: dict[str, int] = {}
    for r in layout.racks:
        counts[r["role"]] = counts.get(r["role"], 0) + 1
    handles = [Patch(color=c, label=f"{role} racks ({counts.get(role, 0)})") for role, c in ROLE_COLOURS.items()
               if counts.get(role)]
    handles += [Patch(fc="#bbbbbb", hatch="//", label="keep-out"), Patch(fc="#fff2cc", ec="#b58900",
                                                                         label="meet-me room")]
    handles.append(plt.Line2D([], [], color="#2ca02c", lw=1, label="cable tray"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_title(title or "Floor plan")
    _save(fig, path)


def power_over_time(rows: Columns, path: Path, title: str) -> None:
    """Grid import over the profile's steps: AI (firm) and miners (dispatched) stacked,
    with the capacity line. Long series are drawn as daily means of each quantity (the
    step values are in dispatch.csv). ``rows``: the dispatch columns by name (a frame, or a
    dict of arrays: the background writer is sent arrays and never imports pandas)."""
    import numpy as np

    plt = _pyplot()
    ai, miners, cap = (np.asarray(rows[c], dtype=float) for c in ("ai_load_mw", "miner_load_mw", "grid_capacity_mw"))
    labels = [str(s) for s in rows["step"]]
    per_day = _per_day(labels)
    if per_day > 1:
        ai, miners, cap = (_mean_blocks(a, per_day) for a in (ai, miners, cap))
        labels = labels[::per_day][: ai.size]
    x = np.arange(ai.size)
    fig, ax = plt.subplots(figsize=(11 if ai.size > 4 else 6, 4.5), dpi=110)
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
    _label_axis(ax, labels, "daily mean" if per_day > 1 else "")
    _legend(ax, loc="lower left", fontsize=8, ncol=3)
    ax.set_title(title)
    _save(fig, path)


SCATTER_POINTS = 50_000  # above this, price against miner load is drawn as a density


def price_and_dispatch(rows: Columns, path: Path, title: str) -> None:
    """Miner load against the price of each step: miners run when the price pays and
    stop when it spikes. ``rows`` as for :func:`power_over_time`."""
    import numpy as np

    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter

    price, miners = (np.asarray(rows[c], dtype=float) for c in ("price_usd_per_mwh", "miner_load_mw"))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
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


def capex_breakdown(summary: dict, path: Path, title: str) -> None:
    """Capex per scenario, stacked by component, in million USD."""
    plt = _pyplot()
    names = [n for n, s in summary["scenarios"].items() if s.get("status") == "optimal"]
    parts: list[str] = []
    for n in names:
        for k, v in summary["scenarios"][n]["capex_breakdown_usd"].items():
            if v and k not in parts:
                parts.append(k)
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(names) + 3), 5), dpi=110)
    bottom = [0.0] * len(names)
    colours = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d"]
    for i, part in enumerate(parts):
        values = [summary["scenarios"][n]["capex_breakdown_usd"].get(part, 0) / USD_PER_MUSD for n in names]
        ax.bar(names, values, bottom=bottom, label=part.replace("_", " "), color=colours[i % len(colours)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        ax.text(i, total, f"{total:,.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("capex, million USD")
    _legend(ax, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(title)
    _save(fig, path)


def _per_day(labels: list[str]) -> int:
    """Steps per day when the labels are timestamps of a long series, else 1."""
    if len(labels) < 500:
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


def npv_distribution(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Histogram of NPV per plan kind over the sweep's variants."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for kind, group in frame.groupby("kind"):
        ax.hist(group["npv_usd"] / USD_PER_MUSD, bins=30, alpha=0.55, label=f"{kind} ({len(group)})")
    ax.set_xlabel("NPV, million USD")
    ax.set_ylabel("variants")
    _legend(ax, fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def tornado(frame: pd.DataFrame, axes: list[str], path: Path, title: str) -> None:
    """Swing of the best plan's mean NPV between each axis's lowest and highest value."""
    plt = _pyplot()
    best = frame.loc[frame.groupby("variant")["npv_usd"].idxmax()]
    swings = []
    for axis in axes:
        means = best.groupby(axis)["npv_usd"].mean()
        lo, hi = means.iloc[0] / USD_PER_MUSD, means.iloc[-1] / USD_PER_MUSD
        swings.append((axis, lo, hi, means.index[0], means.index[-1]))
    swings.sort(key=lambda s: abs(s[2] - s[1]))
    centre = best["npv_usd"].mean() / USD_PER_MUSD
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.6 * len(swings)), dpi=110)
    for i, (_axis, lo, hi, vlo, vhi) in enumerate(swings):
        ax.barh(i, lo - centre, left=centre, color="#e45756")
        ax.barh(i, hi - centre, left=centre, color="#54a24b")
        ax.text(lo, i, f" {vlo:g} ", ha="right" if lo <= hi else "left", va="center", fontsize=7)
        ax.text(hi, i, f" {vhi:g} ", ha="left" if hi >= lo else "right", va="center", fontsize=7)
    ax.set_yticks(range(len(swings)))
    ax.set_yticklabels([s[0] for s in swings], fontsize=8)
    ax.axvline(centre, color="black", lw=0.8)
    ax.set_xlabel("best plan's mean NPV, million USD (red: axis at its lowest; green: at its highest)")
    ax.set_title(title)
    _save(fig, path)


def crossover_btc_price(frame: pd.DataFrame, a: str = "retrofit", b: str = "greenfield") -> float | None:
    """The BTC price at which plan ``a``'s mean NPV overtakes plan ``b``'s (linear interpolation)."""
    means = frame.groupby(["btc_price_usd", "kind"])["npv_usd"].mean().unstack()
    if a not in means or b not in means:
        return None
    diff = (means[a] - means[b]).dropna()
    xs, ys = diff.index.to_numpy(dtype=float), diff.to_numpy(dtype=float)
    for i in range(len(xs) - 1):
        if ys[i] < 0 <= ys[i + 1] or ys[i] > 0 >= ys[i + 1]:
            return float(xs[i] + (xs[i + 1] - xs[i]) * (0 - ys[i]) / (ys[i + 1] - ys[i]))
    return None


def crossover(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Mean NPV of each plan kind against the BTC price, with the crossings marked."""
    plt = _pyplot()
    means = frame.groupby(["btc_price_usd", "kind"])["npv_usd"].mean().unstack() / USD_PER_MUSD
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for kind in means.columns:
        ax.plot(means.index, means[kind], marker="o", ms=3, label=kind)
    kinds = list(means.columns)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            x = crossover_btc_price(frame, a, b)
            if x is not None:
                ax.axvline(x, color="grey", ls="--", lw=0.8)
                ax.text(x, ax.get_ylim()[1], f" {a} = {b} at {x:,.0f} USD", rotation=90, va="top", fontsize=7)
    ax.set_xlabel("BTC price, USD")
    ax.set_ylabel("mean NPV, million USD")
    _legend(ax, fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def _legend(ax: Axes, **kwargs: object) -> None:
    """A legend when something is labelled (a plan with no capex has no bars to name)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)

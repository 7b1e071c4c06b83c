"""Figures a person would rather look at than read (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

ROLE_COLOURS = {"compute": "#4c78a8", "leaf": "#f58518", "spine": "#e45756", "core": "#72b7b2"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def floorplan(layout, path: Path, title: str = "") -> None:
    """Halls, keep-outs, meet-me rooms, cable trays (row lines) and racks coloured by role."""
    from matplotlib.patches import Patch, Polygon, Rectangle

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
    rows = {}
    for r in layout.racks:
        hall = layout.halls[r["building"]]
        w, d = hall.rack_width_m, hall.rack_depth_m
        ax.add_patch(Rectangle((r["x"] - w / 2, r["y"] - d / 2), w, d, fc=ROLE_COLOURS.get(r["role"], "#999999"),
                               ec="none"))
        key = (r["building"], round(r["y"], 3))
        lo, hi = rows.get(key, (r["x"], r["x"]))
        rows[key] = (min(lo, r["x"]), max(hi, r["x"]))
    for (_b, y), (x0, x1) in rows.items():  # trays run above each occupied row
        ax.plot([x0, x1], [y, y], color="#2ca02c", lw=0.5, ls="--", alpha=0.9, zorder=3)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x, m")
    ax.set_ylabel("y, m")
    counts = {}
    for r in layout.racks:
        counts[r["role"]] = counts.get(r["role"], 0) + 1
    handles = [Patch(color=c, label=f"{role} racks ({counts.get(role, 0)})") for role, c in ROLE_COLOURS.items()
               if counts.get(role)]
    handles += [Patch(fc="#bbbbbb", hatch="//", label="keep-out"), Patch(fc="#fff2cc", ec="#b58900",
                                                                         label="meet-me room")]
    handles.append(plt.Line2D([], [], color="#2ca02c", lw=1, label="cable tray"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_title(title or "Floor plan")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

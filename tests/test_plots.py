"""The figures a reader trusts (issue 21 point 6) and the fabric file beside them: what
each draws, checked on the figure's own artists or against hand-derived numbers, and the
files opened with the tools a reader uses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from planner.app.cli import main
from planner.outputs import plots

from .conftest import SITES


@pytest.fixture
def drawn(monkeypatch):
    """Keep the figures a plot function makes instead of writing them."""
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, whole=False: figures.append(fig))
    return figures


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(scope="module")
def xinjiang(tmp_path_factory):
    out = tmp_path_factory.mktemp("xj") / "out"
    assert main(["solve", str(SITES / "xinjiang-mine.toml"), "-q", "-o", str(out)]) == 0
    return out


def test_floor_plans_show_what_differs_between_retrofit_and_hybrid(xinjiang):
    """Xinjiang: both plans put the AI in halls 1 and 2; the hybrid keeps miners beside it
    and the retrofit keeps none, so the two pictures differ; both open as images."""
    import matplotlib.image

    doc = json.loads((xinjiang / "summary.json").read_text())
    hybrid, retrofit = doc["scenarios"]["hybrid"], doc["scenarios"]["retrofit"]
    assert hybrid["hall_plan"] == retrofit["hall_plan"] and hybrid["miners"] > 0 == retrofit["miners"]
    pictures = {name: (xinjiang / "plots" / f"floorplan-{name}.png").read_bytes() for name in ("hybrid", "retrofit")}
    assert pictures["hybrid"] != pictures["retrofit"]
    for name in pictures:
        image = matplotlib.image.imread(xinjiang / "plots" / f"floorplan-{name}.png")
        assert image.shape[0] > 500 and image.shape[1] > 500


def test_site_plan_names_the_halls_the_ai_leaves_and_measures_the_duct_banks(catalog):
    """The duct banks of sites/xinjiang-mine.toml, measured by hand from their polylines:
    hall-2 (100,65)-(110,65)-(110,6)-(100,6) = 10 + 59 + 10 = 79 m; hall-3 10 + 109 + 10 =
    129 m; hall-4 10 + 159 + 10 = 179 m. The AI takes halls 1 and 2; halls 3 and 4 hold
    10,000 positions each, and the hybrid's kept miners fill hall-3 first."""
    from planner.app.pipeline import load, solve_scenario
    from planner.model.cache import PlanCache
    from planner.outputs.physics import site_plan

    loaded, cat = load(SITES / "xinjiang-mine.toml")
    cache = PlanCache()
    plans = {name: site_plan(solve_scenario(loaded, cat, name, cache=cache)[0]) for name in ("retrofit", "hybrid")}
    for plan in plans.values():
        assert {(a, b): round(length, 9) for a, b, _pts, length in plan["routes"]} == {
            ("hall-2", "hall-1"): 79.0, ("hall-3", "hall-1"): 129.0, ("hall-4", "hall-1"): 179.0}
        assert [h[0] for h in plan["halls"]] == ["hall-3", "hall-4"]
        assert plan["halls"][0][1] == [(0.0, 100.0), (100.0, 100.0), (100.0, 130.0), (0.0, 130.0)]
    kept = plans["hybrid"]["miners_kept"]
    assert 0 < kept <= 10_000
    assert [h[2] for h in plans["hybrid"]["halls"]] == ["miners", "idle"]
    assert plans["hybrid"]["halls"][0][3] == f"hall-3: {kept:,} miners beside the AI"
    assert plans["retrofit"]["miners_kept"] == 0
    assert [h[2] for h in plans["retrofit"]["halls"]] == ["idle", "idle"]


def test_flat_price_power_plot_shows_the_months_before_and_after_the_ai_start(xinjiang, catalog):
    """A flat price is one step: the power figure draws the plan month by month instead,
    the miners alone before the AI start (month 12 in the site file) and the AI after."""
    from planner.app.pipeline import load, solve_scenario
    from planner.model.cache import PlanCache
    from planner.outputs.physics import monthly_power

    loaded, cat = load(SITES / "xinjiang-mine.toml")
    result = solve_scenario(loaded, cat, "retrofit", cache=PlanCache())[0]
    doc = json.loads((xinjiang / "summary.json").read_text())["scenarios"]["retrofit"]
    months = monthly_power(result)
    start = loaded.site.scenarios["retrofit"].build_months  # the AI starts when its halls are built
    assert start == 12 and len(months["month"]) == 12 * loaded.site.economics.horizon_years
    assert np.all(months["ai_mw"][:start] == 0) and np.all(months["miners_mw"][start:] == 0)
    assert months["miners_mw"][:start] == pytest.approx(doc["facility_power_before_ai_mw"], rel=1e-6)
    assert months["ai_mw"][start:] == pytest.approx(doc["facility_power_mw"], rel=1e-6)
    assert np.all(months["ai_mw"] + months["miners_mw"] <= months["capacity_mw"] + 1e-9)


def test_power_plot_of_one_step_is_the_month_panel_alone(drawn):
    rows = {"step": ["all hours"], "ai_load_mw": [80.0], "miner_load_mw": [0.0], "grid_capacity_mw": [100.0]}
    months = {"month": np.arange(24), "ai_mw": np.r_[np.zeros(6), np.full(18, 80.0)],
              "miners_mw": np.r_[np.full(6, 95.0), np.zeros(18)], "capacity_mw": np.full(24, 100.0),
              "ai_start_month": np.array([6])}
    plots.power_over_time(rows, None, "t", months=months)
    (fig,) = drawn
    assert len(fig.axes) == 1
    assert " AI starts, month 6" in _texts(fig)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:24] == list(months["ai_mw"]) and heights[24:48] == list(months["miners_mw"])


def test_dispatch_plot_without_miners_says_so(drawn):
    plots.price_and_dispatch({"price_usd_per_mwh": np.array([20.0, 300.0, -5.0]), "miner_load_mw": np.zeros(3)},
                             None, "t")
    (fig,) = drawn
    assert any("no miners run beside the AI" in t for t in _texts(fig))
    assert list(fig.axes[0].lines[0].get_ydata()) == [300.0, 20.0, -5.0]


def _sweep_frame(rows):
    return pd.DataFrame(rows, columns=["variant", "kind", "btc_price_usd", "npv_usd"])


def test_crossover_marks_the_crossing_at_the_hand_computed_price(drawn):
    """Hybrid's mean NPV 100 and 300 M USD at 50,000 and 100,000 USD/BTC; retrofit's 250
    and 150: the difference -150 and +150 crosses zero half way, at 75,000 USD, where both
    lines stand at 200 M USD."""
    frame = _sweep_frame([(0, "hybrid", 50_000, 100e6), (0, "retrofit", 50_000, 250e6),
                          (1, "hybrid", 100_000, 300e6), (1, "retrofit", 100_000, 150e6)])
    plots.crossover(frame, None, "t")
    (fig,) = drawn
    ax = fig.axes[0]
    notes = [t for t in ax.texts if "=" in t.get_text()]
    assert [t.get_text() for t in notes] == ["hybrid = retrofit\nat 75,000 USD"]
    marker = [line for line in ax.lines if line.get_marker() == "D"]
    assert len(marker) == 1 and list(marker[0].get_xdata()) == [75_000] and list(marker[0].get_ydata()) == [200.0]


def test_crossover_without_a_crossing_says_so(drawn):
    frame = _sweep_frame([(0, "hybrid", 50_000, 300e6), (0, "retrofit", 50_000, 250e6),
                          (1, "hybrid", 100_000, 400e6), (1, "retrofit", 100_000, 150e6)])
    plots.crossover(frame, None, "t")
    assert "no two plans cross between 50,000 and 100,000 USD" in _texts(drawn[0])


def test_npv_histogram_counts_variants_in_whole_numbers(drawn):
    """A few variants per kind: the y axis (variants counted) ticks at whole numbers only,
    and each kind's bars hold its variants (the legend's counts)."""
    frame = {"kind": np.array(["hybrid"] * 3 + ["retrofit"] * 2),
             "npv_usd": np.array([100e6, 120e6, 125e6, 90e6, 300e6])}
    plots.npv_distribution(frame, None, "t")
    (fig,) = drawn
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["hybrid (3)", "retrofit (2)"]


def test_tornado_labels_its_baseline_and_colours_by_direction(drawn):
    """Two variants a power multiplier apart: 0.8 gives 300 M USD, 1.25 gives 100 M USD
    (the NPV falls as the axis rises). Baseline = mean = 200. The bar to 300 raises the NPV
    (green), the bar to 100 lowers it (red), whichever end of the axis gives them."""
    frame = pd.DataFrame({"variant": [0, 1], "kind": ["hybrid", "hybrid"], "npv_usd": [300e6, 100e6],
                          "power_price_multiplier": [0.8, 1.25]})
    plots.tornado(frame, ["power_price_multiplier"], None, "t")
    (fig,) = drawn
    ax = fig.axes[0]
    assert "baseline 200.0 (mean of all variants)" in _texts(fig)
    bars = {round(p.get_x() + p.get_width(), 6): p.get_facecolor() for p in ax.patches if p.get_width()}
    import matplotlib.colors as mcolors

    assert bars[300.0] == pytest.approx(mcolors.to_rgba(plots.RISE))
    assert bars[100.0] == pytest.approx(mcolors.to_rgba(plots.FALL))
    labels = {t.get_text().strip(): t.get_position()[0] for t in ax.texts}
    assert labels["0.8"] == 300.0 and labels["1.25"] == 100.0


def test_a_large_fabric_is_written_as_compressed_graphml_matching_the_summary(xinjiang):
    """Xinjiang's 65,536-GPU fabric has more than 50,000 links: it is streamed, compressed,
    to topology.graphml.gz (no longer skipped), and networkx reads it back with the
    summary's links per tier and longest link per tier (issue 21 point 5)."""
    import networkx as nx

    assert not (xinjiang / "topology.graphml").exists()
    graph = nx.read_graphml(xinjiang / "topology.graphml.gz")
    doc = json.loads((xinjiang / "summary.json").read_text())
    best = doc["scenarios"][doc["recommendation"]["scenario"]]
    links: dict[str, int] = {}
    longest: dict[str, float] = {}
    for _u, _v, d in graph.edges(data=True):
        links[d["tier"]] = links.get(d["tier"], 0) + d["bundle"]
        longest[d["tier"]] = max(longest.get(d["tier"], 0.0), d["length_m"])
    assert links == {t: n for t, n in best["links"].items() if n}
    assert longest == pytest.approx({t: v["max_m"] for t, v in best["layout"]["cable_lengths"].items()}, abs=0.006)
    assert all(isinstance(d["x"], float) for _n, d in graph.nodes(data=True))


def test_peak_week_labels_each_day_once(drawn):
    """A week of 15-minute steps (672) from Saturday 21 June 2025: one labelled tick per
    midnight, no date repeated, the highest-charge line at its step's time."""
    import datetime as dt

    from planner.outputs.markets import peak_week

    start = dt.datetime(2025, 6, 21)
    steps = [(start + dt.timedelta(minutes=15 * i)).strftime("%Y-%m-%d %H:%M") for i in range(7 * 96)]
    n = len(steps)
    rows = {"step": np.array(steps), "price_usd_per_mwh": np.full(n, 30.0), "ai_load_mw": np.full(n, 15.0),
            "miner_load_mw": np.full(n, 80.0), "grid_capacity_mw": np.full(n, 100.0),
            "contract_mw": np.full(n, 65.0), "reserve_offered_mw": np.zeros(n), "peak": np.array([300])}
    peak_week(rows, None, "t")
    (fig,) = drawn
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    want = [(start + dt.timedelta(days=d)).strftime("%a %d %b") for d in range(7)]
    assert labels == want and want[0] == "Sat 21 Jun"  # 2025-06-21 was a Saturday
    import matplotlib.dates as mdates

    marked = next(line for line in ax.lines if line.get_label() == "highest-charge step")
    at = mdates.num2date(mdates.date2num(marked.get_xdata()[0])).replace(tzinfo=None)
    assert at == start + dt.timedelta(minutes=15 * 300)  # step 300: 21 June + 75 h = 24 June 03:00


def test_halls_kilometres_apart_are_drawn_in_panels_of_their_own(tmp_path, monkeypatch):
    """Halls join a panel when their outlines come within 1 km (single linkage): A and B are
    490 m apart, C is 4,990 m above A, D 900 m right of C (and 5 km from B); so [A, B] and
    [C, D]. The metro campus's two halls, 40 km apart, give a plan of two panels, each hall
    at its own scale (one plan of both would show neither)."""
    from planner.outputs.plots import _hall_groups

    boxes = {"A": (0.0, 0.0, 10.0, 10.0), "B": (500.0, 0.0, 510.0, 10.0), "C": (0.0, 5000.0, 10.0, 5010.0),
             "D": (910.0, 5000.0, 920.0, 5010.0)}
    assert _hall_groups(boxes) == [["A", "B"], ["C", "D"]]
    assert _hall_groups({"A": boxes["A"], "C": boxes["C"]}) == [["A"], ["C"]]
    assert _hall_groups({"A": boxes["A"], "B": boxes["B"]}) == [["A", "B"]]

    import planner.outputs.plots as plots
    from planner.app.pipeline import load, solve_scenario
    from planner.outputs.physics import layout_for, site_plan

    from .conftest import SITES

    panels: list[int] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, whole=False: panels.append(len(fig.axes)))
    loaded, cat = load(SITES / "metro-campus.toml")
    result, _ = solve_scenario(loaded, cat, "campus", cache=None)
    plots.floorplan(layout_for(result, cat), tmp_path / "plan.png", "metro", site_plan(result))
    assert panels == [2]


def test_the_sweep_plots_figures_equal_pandas_groupby():
    """The sweep's plots group the results with numpy (the finisher never imports pandas):
    on 400 random result tables their figures equal pandas' groupby of the same table, an
    independent reckoning: each variant's best plan (its largest NPV, the first on a tie),
    the best plans' mean NPV per axis value and overall, each plan kind's mean NPV per BTC
    price, and where two kinds cross."""
    rng = np.random.default_rng(17)
    kinds = ["greenfield", "hybrid", "retrofit"]
    for _ in range(400):
        n = int(rng.integers(1, 40))
        npv = rng.choice([1e8, 2e8, -5e7], n) if rng.random() < 0.4 else np.round(rng.normal(0, 3e8, n), 2)
        frame = pd.DataFrame({"variant": rng.integers(0, int(rng.integers(1, 10)), n),
                              "kind": rng.choice(kinds[:int(rng.integers(1, 4))], n), "npv_usd": npv,
                              "btc_price_usd": rng.choice([5e4, 7e4, 9e4, 1.1e5], n),
                              "power_price_multiplier": rng.choice([0.8, 1.0, 1.25], n)})
        columns = {name: frame[name].to_numpy() for name in frame.columns}
        idxmax = frame.groupby("variant")["npv_usd"].idxmax().to_numpy()
        best = plots.best_per_variant(columns)
        assert list(best) == list(idxmax)
        chosen = frame.loc[idxmax]
        for axis in ("btc_price_usd", "power_price_multiplier"):
            means = chosen.groupby(axis)["npv_usd"].mean()
            values, got = plots._mean_by(columns[axis][best], columns["npv_usd"][best])
            assert list(values) == list(means.index)
            np.testing.assert_allclose(got, means.to_numpy(), rtol=1e-12, atol=1e-3)
        table = frame.groupby(["btc_price_usd", "kind"])["npv_usd"].mean().unstack()
        xs, names, means = plots.mean_npv_by_btc_price(columns)
        assert list(xs) == list(table.index) and names == list(table.columns)
        np.testing.assert_allclose(means, table.to_numpy(), rtol=1e-12, atol=1e-3)
        for a in kinds:
            for b in kinds:
                diff = (table[a] - table[b]).dropna() if a in table and b in table else None
                got_x = plots.crossover_btc_price(columns, a, b)
                if diff is None:
                    assert got_x is None
                    continue
                xs_, ys = diff.index.to_numpy(dtype=float), diff.to_numpy(dtype=float)
                crossing = next((xs_[i] + (xs_[i + 1] - xs_[i]) * -ys[i] / (ys[i + 1] - ys[i])
                                 for i in range(len(xs_) - 1) if ys[i] < 0 <= ys[i + 1] or ys[i] > 0 >= ys[i + 1]),
                                None)
                assert (got_x is None) == (crossing is None)
                if crossing is not None:
                    assert got_x == pytest.approx(crossing, rel=1e-9)


def test_a_figure_is_drawn_once_when_saved_and_as_matplotlib_saves_it(tmp_path, monkeypatch):
    """_save drops the placeholder layout engine tight_layout leaves behind, so that savefig
    draws the figure once (not a layout draw and then the picture): the same pixels as
    matplotlib's own save of the same figure after tight_layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    rng = np.random.default_rng(3)
    rows = {"price_usd_per_mwh": rng.normal(40, 30, 2000), "miner_load_mw": rng.uniform(0, 40, 2000)}
    draws = []
    original = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self: (draws.append(1), original(self))[1])
    plots.price_and_dispatch(rows, tmp_path / "ours.png", "dispatch")
    assert len(draws) == 1

    monkeypatch.setattr(plots, "_save", lambda fig, path, whole=False: (fig.tight_layout(), fig.savefig(path)))
    plots.price_and_dispatch(rows, tmp_path / "matplotlib.png", "dispatch")
    assert len(draws) == 3  # matplotlib's: a layout draw, then the picture
    ours, theirs = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("ours", "matplotlib"))
    assert ours.shape == theirs.shape and np.array_equal(ours, theirs)

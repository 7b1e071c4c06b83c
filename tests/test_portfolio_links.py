"""The portfolio's links in its MILP and a site's several sizes: hand cases where the link's
cost flips the choice (of a site, of a plan, of a year), a budget that cannot afford a
site's best size taking a smaller size of it, and the example's totals re-added."""

from __future__ import annotations

import json

import pytest

from planner.model.portfolio import DO_NOTHING, Column, Link, Shared, link_spend, solve_portfolio
from tests.test_portfolio import alone, run, tiny, write_portfolio

M = 1e6


def col(site: str, plan: str, npv: float, capex: float = 0.0, start: int = 0, gpus: int = 8,
        rate: float = 0.0) -> Column:
    return Column(site, plan, start, npv, capex, gpus, 0.0, start, 0.0, rate)


def nothing(site: str) -> Column:
    return Column(site, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0)


def test_link_cost_leaves_out_the_second_site():
    """a: NPV 10, b: NPV 3, the a-b link costs 5 (all M USD, started now). Without the link
    both are taken (13); with it both give 13 - 5 = 8 < 10, so b does nothing and no link is paid."""
    cols = [col("a", "x", 10 * M), col("b", "y", 3 * M), nothing("a"), nothing("b")]
    free = solve_portfolio(cols, Shared())
    assert {s: c.scenario for s, c in free.chosen.items()} == {"a": "x", "b": "y"}
    assert free.npv_usd == pytest.approx(13 * M)
    sol = solve_portfolio(cols, Shared(), [Link("a-b", "a", "x", "b", "y", 5 * M)])
    assert {s: c.scenario for s, c in sol.chosen.items()} == {"a": "x", "b": DO_NOTHING}
    assert sol.npv_usd == pytest.approx(10 * M) and sol.links == ()


def test_link_cost_per_pair_of_plans_picks_the_smaller_plan():
    """b offers a big plan (NPV 6, link 5: its bisection needs a larger link) and a small one
    (NPV 4, link 1); a has NPV 10. By hand: a + big = 10 + 6 - 5 = 11, a + small = 10 + 4 - 1
    = 13, a alone 10, so a + small, 13; without links a + big, 16."""
    cols = [col("a", "x", 10 * M), col("b", "big", 6 * M, gpus=16), col("b", "small", 4 * M),
            nothing("a"), nothing("b")]
    links = [Link("a-b", "a", "x", "b", "big", 5 * M), Link("a-b", "a", "x", "b", "small", 1 * M)]
    assert solve_portfolio(cols, Shared()).chosen["b"].scenario == "big"
    sol = solve_portfolio(cols, Shared(), links)
    assert sol.chosen["b"].scenario == "small" and sol.npv_usd == pytest.approx(13 * M)
    (paid,) = sol.links
    assert paid.link.plan_b == "small" and (paid.month, paid.year) == (0, 1)


@pytest.mark.parametrize(("year2", "b_taken"), [(120 * M, False), (130 * M, True)])
def test_link_is_paid_in_the_year_of_the_later_start(year2, b_taken):
    """a (capex 100, NPV 60) can start now; b (capex 100, NPV 50 now) now or at month 12; the
    link costs 30; yearly budgets [150, year2]. Both now: year 1 = 200 > 150. a now and b at
    month 12: the link is paid with b, in year 2: 100 + 30 = 130, over a year-2 budget of 120
    (then a alone, 60 > b alone, 50), within 130 (both). Rate 10 %: b's NPV and the link's
    cost at month 12 are both / 1.1, so the portfolio is worth 60 + (50 - 30) / 1.1. (Were
    the link paid in year 1, 130 <= 150 and 100 <= 120 would take b at 120 too.)"""
    cols = [col("a", "x", 60 * M, 100 * M, rate=0.1), col("b", "y", 50 * M, 100 * M, rate=0.1),
            col("b", "y", 50 * M / 1.1, 100 * M, start=12, rate=0.1), nothing("a"), nothing("b")]
    link = Link("a-b", "a", "x", "b", "y", 30 * M)
    sol = solve_portfolio(cols, Shared(capex_usd_per_year=(150 * M, year2)), [link])
    b = sol.chosen["b"]
    if b_taken:
        assert (b.scenario, b.start_month) == ("y", 12)
        assert sol.npv_usd == pytest.approx(60 * M + 20 * M / 1.1, rel=1e-9)
        (paid,) = sol.links
        assert (paid.month, paid.year) == (12, 2) and paid.npv_cost_usd == pytest.approx(30 * M / 1.1, rel=1e-9)
    else:
        assert b.scenario == DO_NOTHING and sol.npv_usd == pytest.approx(60 * M)


def test_link_counts_in_the_total_budget():
    """a and b (capex 100 each, NPV 10 and 8), link 15, total budget 210: both plans fit (200)
    but not with their link (215), so only a."""
    cols = [col("a", "x", 10 * M, 100 * M), col("b", "y", 8 * M, 100 * M), nothing("a"), nothing("b")]
    sol = solve_portfolio(cols, Shared(capex_usd_total=210 * M), [Link("a-b", "a", "x", "b", "y", 15 * M)])
    assert sol.chosen["b"].scenario == DO_NOTHING and sol.npv_usd == pytest.approx(10 * M)


def test_route_link_flips_the_choice_end_to_end(capsys, tmp_path, catalog):
    """Two tiny sites joined by a stated 4 Pb/s over 80 km: the link (sized by the catalog,
    the cheapest option) costs more than the lesser site's NPV, so by hand the portfolio takes
    only the better site (max(a, b) > a + b - link); without the route it takes both."""
    from planner.network.interconnect import Need, size_interconnect

    texts = {"a": tiny("a", 6.0), "b": tiny("b", 5.0)}
    npv = {}
    for n, t in texts.items():
        (tmp_path / f"{n}.toml").write_text(t, encoding="utf-8")
        npv[n] = alone(tmp_path / f"{n}.toml")["npv_usd"]
    sized = size_interconnect(catalog, Need(4_000_000.0, 80.0, 0.5))
    assert sized.chosen is not None
    cost = sized.chosen.cost_usd
    assert cost is not None and npv["a"] > npv["b"] > 0 and npv["a"] + npv["b"] - cost < npv["a"]
    route = '[[routes]]\nfrom = "a"\nto = "b"\nkm = 80.0\ngbps = 4000000.0\n'
    path = write_portfolio(tmp_path, route, texts)
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert [s["scenario"] for s in doc["sites"]] == ["build", None]
    assert doc["together"]["npv_usd"] == pytest.approx(npv["a"], abs=0.01)
    # one by one, both sites take their plan and pay the link their route asks for
    assert doc["one_by_one"]["interconnect_capex_usd"] == pytest.approx(cost, abs=0.01)
    assert doc["one_by_one"]["npv_usd"] == pytest.approx(npv["a"] + npv["b"] - cost, abs=0.02)
    path = write_portfolio(tmp_path, "", texts)
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf2"), "--json")
    assert [s["scenario"] for s in json.loads(out)["sites"]] == ["build", "build"]


def test_budget_below_the_best_size_takes_a_smaller_size(capsys, tmp_path):
    """A tiny site of one-server steps (8 GPUs a DGX H100) offering sizes_gpus = [64, 20, 100000]: each
    cap is its own solve, whose best plan builds as many whole servers as the cap allows (the
    NPV grows with size at 6 USD a GPU-hour on free power): 64 GPUs, and 16 (20 // 8 = 2
    servers). A budget between the 64-GPU plan's capex and the best size's takes the 64-GPU
    plan; one below the 16-GPU plan's capex takes nothing."""
    text = tiny("sized", 6.0)
    (tmp_path / "sized.toml").write_text(text, encoding="utf-8")
    best = alone(tmp_path / "sized.toml")
    assert best["gpus"] > 64
    body = '[[sites]]\nfile = "sized.toml"\nsizes_gpus = [64, 20, 100000]\n\n'
    path = tmp_path / "portfolio.toml"

    def solve(budget: float) -> dict:
        path.write_text(f'schema = 1\nname = "sizes"\n\n{body}[budget]\ncapex_usd_total = {budget!r}\n',
                        encoding="utf-8")
        code, out, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
        assert code == 0, err
        return json.loads(out)

    doc = solve(best["capex_usd"] * 2)
    cands = {c["max_gpus"]: c for c in doc["sites"][0]["candidates"]}
    # 100,000 GPUs is above the site's own best: the same plan, not offered twice
    assert sorted(cands, key=lambda k: -1 if k is None else k) == [None, 20, 64]
    assert (cands[64]["gpus"], cands[20]["gpus"]) == (64, 16)
    assert cands[None]["gpus"] == best["gpus"] and cands[None]["npv_usd"] == pytest.approx(best["npv_usd"])
    assert doc["sites"][0]["max_gpus"] is None  # affordable: its best size
    mid = (cands[64]["capex_usd"] + best["capex_usd"]) / 2
    site = solve(mid)["sites"][0]
    assert (site["scenario"], site["max_gpus"], site["gpus"]) == ("build", 64, 64)
    assert site["npv_usd"] == pytest.approx(cands[64]["npv_usd"])
    assert solve(cands[20]["capex_usd"] * 0.99)["sites"][0]["scenario"] is None


def test_size_below_the_site_minimum_exits_2_naming_key_and_line(capsys, tmp_path):
    text = tiny("a", 6.0).replace('step = "server"\n', 'step = "server"\nmin_gpus = 64\n')
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    path = tmp_path / "portfolio.toml"
    path.write_text('schema = 1\nname = "p"\n\n[[sites]]\nfile = "a.toml"\nsizes_gpus = [32]\n', encoding="utf-8")
    code, _, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"))
    assert code == 2
    assert "portfolio.toml:6: sites[0].sizes_gpus[0]: 32 GPUs is below the ai.min_gpus of site 'a' (64)" in err
    assert "Traceback" not in err


async def test_tui_portfolio_table_fits_140_columns(tmp_path):
    """At 140 x 42 (the terminal the issue names) every header of the per-site table shows
    whole (each column at least as wide as its header) and the table fits the screen; the
    legend names the short headers; the app measures the terminal on stderr, as the editor
    does (stdout is the null device while the planner runs)."""
    from textual.widgets import DataTable, Static

    from planner.outputs.portfolio import SITE_COLUMNS, SITE_LEGEND
    from tui.portfolio import PortfolioApp

    path = write_portfolio(tmp_path, "", {"a-long-site-name": tiny("a", 6.0), "b": tiny("b", 5.0)})
    app = PortfolioApp(path)
    assert app.driver_class.__name__ == "MeasuringDriver"
    async with app.run_test(size=(140, 42)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#portfolio-sites", DataTable)
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        assert [str(c.label) for c in table.ordered_columns] == list(SITE_COLUMNS)
        assert all(w >= len(h) for w, h in zip(widths, SITE_COLUMNS, strict=True))
        assert sum(widths) <= 140 - 2 and table.size.width <= 140
        assert str(app.query_one("#portfolio-legend", Static).render()) == SITE_LEGEND
        await pilot.press("tab")
        await pilot.press("tab")
        assert app.focused is not None


def test_validate_accepts_the_example_portfolio_and_lists_its_sites(capsys):
    """planner validate on a portfolio file (found by its keys) checks it and its three site
    files: exit 0, OK with the counts, and a row per site with its sizes and start months."""
    from tests.conftest import SITES

    code, out, err = run(capsys, "validate", str(SITES / "portfolio-texas" / "portfolio.toml"))
    assert code == 0, err
    assert "portfolio.toml: OK (portfolio, 3 sites, 3 routes)" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert set(rows) == {"mine-a", "mine-b", "greenfield"}
    assert "8,192, 12,288" in rows["greenfield"] and "0, 6, 12, 24" in rows["mine-a"]


def test_validate_portfolio_names_every_problem_with_file_key_and_line(capsys, tmp_path):
    """One run names the portfolio's misspelt key (its line, a did-you-mean), a route to an
    unknown site, and a listed site file's own error in that site file (its key and line);
    exit 2, no traceback."""
    bad_site = tiny("b", 5.0).replace("capacity_mw = 1.0", "capacity_mw = -1.0")
    assert "capacity_mw = -1.0" in bad_site
    body = '[budget]\ncapex_usd_totl = 1e9\n\n[[routes]]\nfrom = "a"\nto = "c"\nkm = 10.0\ngbps = 100.0\n'
    path = write_portfolio(tmp_path, body, {"a": tiny("a", 6.0), "b": bad_site})
    code, out, err = run(capsys, "validate", str(path))
    assert code == 2 and out == "" and "Traceback" not in err
    lines = path.read_text().splitlines()
    budget_line = lines.index("capex_usd_totl = 1e9") + 1
    assert f"portfolio.toml:{budget_line}: budget.capex_usd_totl" in err and "capex_usd_total" in err
    # the schema refused the file: its references and sites are checked once it reads
    path.write_text(path.read_text().replace("capex_usd_totl", "capex_usd_total"))
    code, _, err = run(capsys, "validate", str(path))
    route_line = lines.index('to = "c"') + 1
    assert code == 2
    assert f"portfolio.toml:{route_line}: routes[0].to: no site named 'c' in the portfolio" in err
    site_line = bad_site.splitlines().index("capacity_mw = -1.0") + 1
    assert f"b.toml:{site_line}: grid.capacity_mw" in err


def test_validate_portfolio_names_what_it_asks_of_a_site(capsys, tmp_path):
    """A valid site that lacks the scenario the portfolio names: exit 2 at the portfolio's
    key and line with a did-you-mean; --portfolio on a site file says it is a site file."""
    path = write_portfolio(tmp_path, "", {"a": tiny("a", 6.0)})
    path.write_text(path.read_text().replace('file = "a.toml"\n', 'file = "a.toml"\nscenarios = ["buidl"]\n'))
    line = path.read_text().splitlines().index('scenarios = ["buidl"]') + 1
    code, _, err = run(capsys, "validate", "--portfolio", str(path))
    assert code == 2 and f"portfolio.toml:{line}: sites[0].scenarios[0]: site 'a' has no scenario 'buidl'" in err
    assert "did you mean 'build'" in err
    code, _, err = run(capsys, "validate", "--portfolio", str(tmp_path / "a.toml"))
    assert code == 2 and "a.toml" in err and "not a portfolio file" in err


def test_capped_site_caps_every_bound_and_keeps_a_scenario_without_ai():
    """A cap of 4,096 GPUs: ai.max_gpus None -> 4,096; a scenario's own 9,000 -> 4,096, its own
    1,024 stays, its own 0 (no AI) stays 0; the file on disk is not touched."""
    from planner.app.portfolio import capped_site
    from planner.site.load import load_site
    from tests.conftest import SITES

    loaded = load_site(SITES / "portfolio-texas" / "mine-b.toml")
    base = loaded.site.model_copy(update={"ai": loaded.site.ai.model_copy(update={"max_gpus": None})})
    first, second, third = "retrofit", "hybrid", "mine"
    own = {first: 9000, second: 1024, third: 0}
    assert set(own) == set(base.scenarios)
    scenarios = {n: sc.model_copy(update={"max_gpus": own.get(n, sc.max_gpus)}) for n, sc in base.scenarios.items()}
    site = loaded.model_copy(update={"site": base.model_copy(update={"scenarios": scenarios})})
    capped = capped_site(site, 4096)
    assert capped.site.ai.max_gpus == 4096
    assert [capped.site.scenarios[n].max_gpus for n in (first, second, third)] == [4096, 1024, 0]
    assert site.site.ai.max_gpus is None and site.site.scenarios[first].max_gpus == 9000


def test_link_energy_over_the_months_both_run_can_leave_out_a_site():
    """a: NPV 10, b: NPV 3 (M USD, rate 0, started now, 60-month horizons); the a-b link costs
    1 and each end's energy e a month while both run, months [0, 60). With e = 20,000 USD the
    energy is 2 x 20,000 x 60 = 2.4 M: a + b = 13 - 1 - 2.4 = 9.6 < 10, so b does nothing. With
    e = 10,000 USD it is 1.2 M: 13 - 1 - 1.2 = 10.8 > 10, both, and the link's spend says so."""
    cols = [col("a", "x", 10 * M), col("b", "y", 3 * M), nothing("a"), nothing("b")]

    def link(e: float) -> Link:
        return Link("a-b", "a", "x", "b", "y", 1 * M, (500.0, 500.0), 0.0, (e, e), (60, 60))

    dear = solve_portfolio(cols, Shared(), [link(20_000.0)])
    assert dear.chosen["b"].scenario == DO_NOTHING and dear.npv_usd == pytest.approx(10 * M)
    cheap = solve_portfolio(cols, Shared(), [link(10_000.0)])
    assert {s: c.scenario for s, c in cheap.chosen.items()} == {"a": "x", "b": "y"}
    assert cheap.npv_usd == pytest.approx(13 * M - 1 * M - 2 * 10_000 * 60)
    (paid,) = cheap.links
    assert (paid.run_from, paid.run_to) == (0, 60)
    assert paid.energy_npv_usd == pytest.approx(2 * 10_000 * 60)
    assert paid.npv_total_usd == pytest.approx(1 * M + 1.2 * M)


def test_link_energy_runs_from_the_later_ai_start_to_the_earlier_horizon_discounted():
    """Rate 10 % a year, v = 1.1^(-1/12) a month. a online at month 0 with a 36-month horizon;
    b started 12 months late (online at 12) with its own 36 months, to month 48. The link runs
    [12, 36): its ends' energy, e_a = 1,000 and e_b = 3,000 USD a month, is worth
    (1,000 + 3,000) x sum_{m=12}^{35} v^(m+1) = 4,000 x v^13 (1 - v^24) / (1 - v) at month 0;
    its cost, 0.5 M, is paid at month 12: 0.5 M x v^12."""
    v = 1.1 ** (-1 / 12)
    cols = [col("a", "x", 10 * M, rate=0.1), col("b", "y", 5 * M / 1.1, start=12, rate=0.1),
            nothing("a"), nothing("b")]
    k = Link("a-b", "a", "x", "b", "y", 0.5 * M, (100.0, 300.0), 0.0, (1_000.0, 3_000.0), (36, 36))
    sol = solve_portfolio(cols, Shared(), [k])
    (paid,) = sol.links
    energy = 4_000 * v ** 13 * (1 - v ** 24) / (1 - v)
    assert (paid.month, paid.run_from, paid.run_to) == (12, 12, 36)
    assert paid.energy_npv_usd == pytest.approx(energy, rel=1e-12)
    assert paid.npv_cost_usd == pytest.approx(0.5 * M * v ** 12, rel=1e-12)
    assert sol.npv_usd == pytest.approx(10 * M + 5 * M / 1.1 - 0.5 * M * v ** 12 - energy, rel=1e-12)


def test_link_that_does_not_fit_a_grid_keeps_its_plans_apart():
    """A free link (cost 0) whose power does not fit a site's grid: a (NPV 10) and b (NPV 3)
    cannot both be chosen, so the portfolio takes a alone (10, not 13)."""
    cols = [col("a", "x", 10 * M), col("b", "y", 3 * M), nothing("a"), nothing("b")]
    tight = [Link("a-b", "a", "x", "b", "y", 0.0, fits=False)]
    sol = solve_portfolio(cols, Shared(), tight)
    assert {s: c.scenario for s, c in sol.chosen.items()} == {"a": "x", "b": DO_NOTHING}
    assert sol.npv_usd == pytest.approx(10 * M) and sol.links == ()
    assert sol.binding == ("link_grid: were every link's power to fit its sites' grids, the portfolio's NPV would be "
                           "3.0 M USD higher",)
    # a GPU target of 16 needs both sites' 8 GPUs: infeasible, and the grid fit is named
    target = solve_portfolio(cols, Shared(target_gpus=16, target_month=0), tight)
    assert target.status.value == "infeasible"
    assert any(w.startswith("link_grid: a link's power does not fit") for w in target.infeasibility)
    assert any(w.startswith("gpu_target") for w in target.infeasibility)


def _priced_site(name: str, usd_per_mwh: float) -> str:
    """The tiny site (1 MW of grid, PUE 1.25, 6 USD a GPU-hour, 3 years at 10 %) on a flat price."""
    from tests.sitebuilder import flat, site
    from tests.test_portfolio import ECON, RATE

    return site(name, capacity_mw=1.0, price=flat(usd_per_mwh), cooling={"ai_pue": 1.25},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": 6.0,
                    "utilization": 1.0},
                economics={"discount_rate": RATE, "horizon_years": 3, **ECON},
                scenarios={"build": {"kind": "greenfield", "build_months": 3, "facility_usd_per_mw": 2e6}})


def test_portfolio_link_power_and_energy_by_hand(capsys, tmp_path, catalog):
    """Two tiny sites on flat prices, 40 and 60 USD/MWh, joined by a stated 800 Gb/s over 50 km:
    400ZR, 2 links, 4 modules, 1 fibre pair, 2 muxes, 0 in-line sites, 1 x 2 x 2 = 4 EDFAs.
    Each end: 4 / 2 x 22.5 + 2 / 2 x 0 (the passive mux) + 2 x 1 x 10 = 65 W; in all 130 W.
    Each end's energy a year: 65 W x 1.25 (PUE) x 8,760 h = 711.75 kWh, at 40 USD/MWh 28.47 USD
    and at 60 USD/MWh 42.705 USD; both run from their AI start (month 3) to their horizon (36),
    discounted at 10 %. The NPV together is each site's own NPV less the link's cost and that
    energy; each site's total IT is its cluster's and its 65 W."""
    from planner.network.interconnect import Need, size_interconnect

    texts = {"a": _priced_site("a", 40.0), "b": _priced_site("b", 60.0)}
    npv = {}
    for n, t in texts.items():
        (tmp_path / f"{n}.toml").write_text(t, encoding="utf-8")
        npv[n] = alone(tmp_path / f"{n}.toml")["npv_usd"]
    cost = size_interconnect(catalog, Need(800.0, 50.0, 0.5)).chosen.cost_usd
    path = write_portfolio(tmp_path, '[[routes]]\nfrom = "a"\nto = "b"\nkm = 50.0\ngbps = 800.0\n', texts)
    code, out, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    (link,) = doc["interconnect"]
    c = link["sized"]["chosen"]
    assert (c["module"], c["modules"], c["fibre_pairs"], c["muxes"], c["amplifiers"]) == ("400zr", 4, 1, 2, 4)
    end = 4 / 2 * 22.5 + 2 / 2 * 0.0 + 2 * 1 * 10.0
    assert end == 65.0
    assert link["power_by_site_w"] == {"a": end, "b": end} and link["inline_power_w"] == 0.0
    assert link["power_w"] == 2 * end and link["fits_grid"] is True
    mwh = end / 1e6 * 1.25 * 8760
    assert link["energy_mwh_per_year_by_site"] == pytest.approx({"a": mwh, "b": mwh}, abs=5e-4)
    assert link["energy_usd_per_year_by_site"] == pytest.approx({"a": mwh * 40, "b": mwh * 60}, abs=0.005)
    assert link["runs_months"] == [3, 36]
    v = 1.1 ** (-1 / 12)
    annuity = v ** 4 * (1 - v ** 33) / (1 - v)  # sum_{m=3}^{35} v^(m+1)
    energy = (mwh * 40 + mwh * 60) / 12 * annuity
    assert link["energy_npv_usd"] == pytest.approx(energy, abs=0.01)
    assert doc["together"]["npv_usd"] == pytest.approx(npv["a"] + npv["b"] - cost - energy, abs=0.05)
    assert doc["together"]["interconnect_power_w"] == 2 * end
    for s in doc["sites"]:
        assert s["interconnect_power_w"] == end
        assert s["total_it_mw"] == pytest.approx(s["critical_it_mw"] + end / 1e6, abs=1e-6)
    # the command's own table says it too
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf2"))
    assert code == 0 and "130 W (65 W at a, 65 W at b)" in out


def test_portfolio_link_too_big_for_a_grid_keeps_the_sites_apart(capsys, tmp_path):
    """The same two sites joined by a stated 64 Tb/s over 50 km: 160 wavelengths of 400ZR,
    320 modules, 4 fibre pairs, 8 muxes, 16 EDFAs: 160 x 22.5 + 4 x 0 + 2 x 4 x 10 = 3,680 W at
    each end. Each site's cluster leaves 1 MW - its facility power of room on the grid, /1.25
    for the IT it holds: less than 3,680 W (each holds 584 GPUs: 1 - 0.995745 MW = 4,255 W of
    facility power, 3,404 W of IT). So the two plans cannot both be chosen, though the link
    costs far less than either site's NPV: the portfolio takes one site, and one by one (both,
    with their link) breaks the grid."""
    texts = {"a": _priced_site("a", 40.0), "b": _priced_site("b", 60.0)}
    plans = {}
    for n, t in texts.items():
        (tmp_path / f"{n}.toml").write_text(t, encoding="utf-8")
        plans[n] = alone(tmp_path / f"{n}.toml")
    end = 160 * 22.5 + 4 * 0.0 + 2 * 4 * 10.0
    for p in plans.values():
        room = (p["grid_capacity_mw"] - p["facility_power_mw"]) / 1.25 * 1e6
        assert room < end
    path = write_portfolio(tmp_path, '[[routes]]\nfrom = "a"\nto = "b"\nkm = 50.0\ngbps = 64000.0\n', texts)
    code, out, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert sorted(s["scenario"] is not None for s in doc["sites"]) == [False, True]
    assert doc["interconnect"] == [] and doc["together"]["interconnect_power_w"] == 0
    assert any("cannot both be chosen" in n and "does not fit its grid" in n for n in doc["interconnect_notes"])
    assert any(b.startswith("link_grid:") for b in doc["one_by_one"]["breaks"])
    assert any(b.startswith("link_grid: were every link's power to fit") for b in doc["binding_constraints"])


def test_end_power_of_a_sized_link_by_hand_and_a_part_without_a_figure(catalog, tmp_path):
    """16.4 Tb/s over 200 km: 41 wavelengths of OpenZR+ (400ZR reaches 120 km), 82 modules,
    ceil(41 / 40) = 2 pairs, 4 muxes, ceil(200 / 80) - 1 = 2 in-line sites, 2 x 2 x (2 + 2) =
    16 EDFAs. Each end: 82 / 2 x 22.5 + 4 / 2 x 0 + 2 x 2 x 10 = 962.5 W; in-line 2 x 2 x 2 x 10
    = 80 W; in all 2 x 962.5 + 80 = 2,005 W, the sized option's own power. An overlay that gives
    the EDFA no power figure leaves the link's power unknown and names the part (never 0)."""
    from planner.app.portfolio_links import end_power
    from planner.network.interconnect import Need, interconnect_doc, size_interconnect
    from planner.parts.catalog import load_catalog

    doc = interconnect_doc(size_interconnect(catalog, Need(16_400.0, 200.0)))
    c = doc["chosen"]
    assert (c["module"], c["modules"], c["fibre_pairs"], c["muxes"], c["inline_amplifier_sites"], c["amplifiers"]) \
        == ("400zr-plus", 82, 2, 4, 2, 16)
    power, missing = end_power(catalog, c)
    assert missing == [] and power is not None
    assert (power.end_w, power.inline_w) == (962.5, 80.0)
    assert power.total_w == 2_005.0 == pytest.approx(c["power_w"])
    (tmp_path / "line-systems.toml").write_text(
        '[[line_system]]\nkey = "edfa-c-band-module"\nvendor = "test"\nmodel = "an EDFA without a power figure"\n'
        'role = "amplifier"\nspan_km = 80\nsource = "test"\nas_of = 2026-12-03\n', encoding="utf-8")
    assert end_power(load_catalog([tmp_path]), c) == (None, ["edfa-c-band-module"])


def test_portfolio_link_without_a_power_figure_is_named_not_zero(capsys, tmp_path):
    """With an overlay whose EDFA has no power figure, the two tiny sites' 800 Gb/s link has
    no known power: portfolio.json gives null power, energy and grid fit for it, the totals'
    link power is null, each site's ends count none, and the notes name the part; the NPV
    takes off the link's cost only."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "line-systems.toml").write_text(
        '[[line_system]]\nkey = "edfa-c-band-module"\nvendor = "test"\nmodel = "an EDFA without a power figure"\n'
        'role = "amplifier"\nspan_km = 80\nsource = "test"\nas_of = 2026-12-03\n', encoding="utf-8")
    texts = {"a": _priced_site("a", 40.0), "b": _priced_site("b", 60.0)}
    path = write_portfolio(tmp_path, '[[routes]]\nfrom = "a"\nto = "b"\nkm = 50.0\ngbps = 800.0\n', texts)
    code, out, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json",
                         "--catalog", str(overlay))
    assert code == 0, err
    doc = json.loads(out)
    (link,) = doc["interconnect"]
    assert (link["power_w"], link["power_by_site_w"], link["energy_npv_usd"], link["fits_grid"]) == (
        None, None, None, None)
    assert doc["together"]["interconnect_power_w"] is None and doc["together"]["interconnect_energy_npv_usd"] == 0
    assert [(s["interconnect_power_w"], s["total_it_mw"]) for s in doc["sites"]] == [(None, None), (None, None)]
    assert any("no power figure for edfa-c-band-module" in n for n in doc["interconnect_notes"])
    assert doc["together"]["npv_usd"] == pytest.approx(
        sum(s["npv_usd"] for s in doc["sites"]) - link["npv_cost_usd"], abs=0.05)


def test_two_plans_that_never_run_together_need_no_link():
    """a (NPV 10, online at month 0, a 24-month horizon) and b (NPV 3, online at month 24):
    the a-b link (cost 5, horizons 24 and 60 months) would be paid when both are taken, but
    a's horizon ends at month 24 as b comes online, so the two never run in the same month:
    no link, both taken, 13. With b online at month 23 they overlap for one month: the link
    is paid and b is left out (13 - 5 = 8 < 10)."""
    for online_b, expected, npv in ((24, "y", 13 * M), (23, DO_NOTHING, 10 * M)):
        cols = [Column("a", "x", 0, 10 * M, 0.0, 8, 0.0, 0), Column("b", "y", 0, 3 * M, 0.0, 8, 0.0, online_b),
                nothing("a"), nothing("b")]
        link = Link("a-b", "a", "x", "b", "y", 5 * M, horizons=(24, 60))
        sol = solve_portfolio(cols, Shared(), [link])
        assert sol.chosen["b"].scenario == expected and sol.npv_usd == pytest.approx(npv)
        assert sol.links == ()  # paid only when b is taken, and b is taken only when no link is paid
        spend = link_spend(link, cols[0], cols[1])
        assert (spend.run_from, spend.run_to, spend.runs) == (online_b, 24, online_b < 24)

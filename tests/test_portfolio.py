"""planner portfolio: the MILP's choice checked against the sites solved alone with the shared
constraint split by hand, the timing rule in closed form, exit 1 naming what binds, exit 2
naming file, key and line, and the example portfolio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.app.cli import main
from planner.model.portfolio import DO_NOTHING, Column, Shared, solve_portfolio
from tests.conftest import SITES
from tests.sitebuilder import flat, site

ECON = {"btc_price_usd": 100000, "network_hashrate_ehs": 1000, "block_subsidy_btc": 3.125}
RATE = 0.10


def tiny(name: str, lease: float, capacity_mw: float = 1.0) -> str:
    """A greenfield site of one small AI block on free power: its NPV grows with the lease price."""
    return site(name, capacity_mw=capacity_mw, price=flat(0.0), cooling={"ai_pue": 1.25},
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "lease_usd_per_gpu_hour": lease,
                    "utilization": 1.0},
                economics={"discount_rate": RATE, "horizon_years": 3, **ECON},
                scenarios={"build": {"kind": "greenfield", "build_months": 3, "facility_usd_per_mw": 2e6}})


def write_portfolio(folder: Path, body: str, sites: dict[str, str]) -> Path:
    for name, text in sites.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    listed = "".join(f'[[sites]]\nfile = "{n}.toml"\n\n' for n in sites)
    path = folder / "portfolio.toml"
    path.write_text(f'schema = 1\nname = "test portfolio"\n\n{listed}{body}', encoding="utf-8")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def alone(path: Path) -> dict:
    """A site solved on its own by the pipeline (as planner solve does): its one scenario's summary."""
    from planner.app.pipeline import load, solve_site
    from planner.model.cache import PlanCache

    loaded, cat = load(path)
    run_ = solve_site(loaded, cat, cache=PlanCache())
    assert run_ is not None
    return run_.summary().scenarios["build"].model_dump()


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    """Two tiny sites (a: 6 USD a GPU-hour, b: 4 USD) and each one's plan solved alone."""
    folder = tmp_path_factory.mktemp("two")
    texts = {"a": tiny("site a", 6.0), "b": tiny("site b", 4.0)}
    plans = {}
    for n, t in texts.items():
        (folder / f"{n}.toml").write_text(t, encoding="utf-8")
        plans[n] = alone(folder / f"{n}.toml")
    return folder, texts, plans


def test_budget_for_exactly_one_site_takes_the_higher_npv(capsys, two_sites):
    """Budget B with max(capex) <= B < capex_a + capex_b allows exactly one site; by hand the
    one with the higher NPV, now (a delay only discounts it); the other does nothing."""
    folder, texts, plans = two_sites
    a, b = plans["a"], plans["b"]
    assert a["npv_usd"] > 0 and b["npv_usd"] > 0
    budget = max(a["capex_usd"], b["capex_usd"]) + 0.5 * min(a["capex_usd"], b["capex_usd"])
    assert budget < a["capex_usd"] + b["capex_usd"]
    best = "a" if a["npv_usd"] > b["npv_usd"] else "b"
    path = write_portfolio(folder, f"[timing]\nstart_months = [0, 12]\n\n[budget]\ncapex_usd_total = {budget!r}\n",
                           texts)
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(folder / "pf"), "--json")
    assert code == 0
    doc = json.loads(out)
    by = {s["site"]: s for s in doc["sites"]}
    assert by[best]["scenario"] == "build" and by[best]["start_month"] == 0
    other = "b" if best == "a" else "a"
    assert by[other]["scenario"] is None and by[other]["can_help"] and "left out" in by[other]["reason"]
    assert doc["together"]["npv_usd"] == pytest.approx(plans[best]["npv_usd"], abs=0.01)
    # one by one, each site takes its own plan: both, over the budget
    assert doc["one_by_one"]["npv_usd"] == pytest.approx(a["npv_usd"] + b["npv_usd"], abs=0.02)
    assert any(line.startswith("budget_total") for line in doc["one_by_one"]["breaks"])
    assert doc["difference"]["npv_usd"] == pytest.approx(-plans[other]["npv_usd"], abs=0.02)
    assert any(line.startswith("budget_total") for line in doc["binding_constraints"])
    # the file in the output folder is the document printed
    assert json.loads((folder / "pf" / "portfolio.json").read_text())["sites"] == doc["sites"]


def test_yearly_budget_delays_the_lesser_site_by_the_timing_rule(capsys, two_sites):
    """Year 1's budget fits one site, year 2's the other: by hand the higher NPV starts now
    and the other at month 12, worth NPV x (1 + r_m)^-12 = NPV / 1.1 (r_m = 1.1^(1/12) - 1)."""
    folder, texts, plans = two_sites
    a, b = plans["a"], plans["b"]
    year = max(a["capex_usd"], b["capex_usd"]) * 1.01
    path = write_portfolio(folder, f"[timing]\nstart_months = [0, 6, 12]\n\n[budget]\n"
                           f"capex_usd_per_year = [{year!r}, {year!r}]\n", texts)
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(folder / "pf2"), "--json")
    assert code == 0
    doc = json.loads(out)
    by = {s["site"]: s for s in doc["sites"]}
    first, second = ("a", "b") if a["npv_usd"] > b["npv_usd"] else ("b", "a")
    assert (by[first]["start_month"], by[second]["start_month"]) == (0, 12)
    assert by[second]["capex_year"] == 2
    assert by[second]["npv_usd"] == pytest.approx(plans[second]["npv_usd"] / (1 + RATE), rel=1e-9)
    assert by[second]["online_month"] == 3 + 12  # the build's 3 months, then the delay
    assert doc["together"]["capex_by_year_usd"] == {"1": pytest.approx(plans[first]["capex_usd"]),
                                                    "2": pytest.approx(plans[second]["capex_usd"])}


def test_gpu_target_beyond_all_sites_exits_1_naming_it(capsys, two_sites):
    """A target one GPU above both sites together cannot be met: exit 1, short by 1 GPU."""
    folder, texts, plans = two_sites
    gpus = plans["a"]["gpus"] + plans["b"]["gpus"] + 1
    path = write_portfolio(folder, f"[target]\ngpus = {gpus}\nby_month = 24\n", texts)
    code, _, err = run(capsys, "portfolio", str(path), "-o", str(folder / "pf3"))
    assert code == 1
    assert "gpu_target" in err and "short by 1 GPUs" in err and "Traceback" not in err


def test_site_whose_plans_lose_money_cannot_help(capsys, tmp_path, catalog):
    """At 0.5 USD a GPU-hour a GPU earns at most 0.5 x 730 h x 33 months (the 3-year horizon
    after a 3-month build), less than its share of a DGX H100's price: the site's own solve
    builds nothing (NPV 0), so it cannot help the portfolio, and says why."""
    price = catalog.unit_cost("dgx-h100")
    assert price is not None and price[0] / 8 > 0.5 * 730 * 33
    path = write_portfolio(tmp_path, "", {"good": tiny("good", 6.0), "poor": tiny("poor", 0.5)})
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0
    poor = next(s for s in json.loads(out)["sites"] if s["site"] == "poor")
    assert poor["candidates"][0]["npv_usd"] == 0 and poor["candidates"][0]["gpus"] == 0
    assert poor["scenario"] is None and poor["alone_scenario"] is None
    assert not poor["can_help"] and "add no value" in poor["reason"]


def test_milp_tenant_and_targets_by_hand():
    """Columns given by hand. Host plans h1 (60 MW contracted, NPV 100) and h2 (50 MW, NPV 90),
    owner plan o (NPV 10, 1,000 GPUs online at month 30, or month 42 if started 12 late).
    Tenant 100 MW: h1 + h2 = 110 MW > 100, so one host plan: h1 (100 > 90). A target of 1,000
    GPUs by month 36 forces o to start now."""
    cols = [Column("h1", "host", 0, 100e6, 0.0, 0, 60.0, 12, contracted_mw=60.0),
            Column("h2", "host", 0, 90e6, 0.0, 0, 50.0, 12, contracted_mw=50.0),
            Column("o", "own", 0, 10e6, 5e6, 1000, 1.0, 30), Column("o", "own", 12, 9e6, 5e6, 1000, 1.0, 42)]
    cols += [Column(s, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0) for s in ("h1", "h2", "o")]
    sol = solve_portfolio(cols, Shared(tenant_max_mw=100.0, target_gpus=1000, target_month=36))
    picked = {s: (c.scenario, c.start_month) for s, c in sol.chosen.items()}
    assert picked == {"h1": ("host", 0), "h2": (DO_NOTHING, 0), "o": ("own", 0)}
    assert sol.npv_usd == pytest.approx(110e6)
    assert any(b.startswith("tenant") for b in sol.binding)
    # 1,001 GPUs by month 36: short by 1; 100 MW of critical IT by month 36 with 111 MW in all: met
    bad = solve_portfolio(cols, Shared(target_gpus=1001, target_month=36))
    assert bad.status == "infeasible" and "short by 1 GPUs" in bad.infeasibility[0]
    ok = solve_portfolio(cols, Shared(target_it_mw=100.0, target_month=36))
    assert ok.status == "optimal" and ok.npv_usd == pytest.approx(200e6)
    # a tenant signed for at least 105 MW: h1 + h2 (110 MW); 111 MW is beyond both, short by 1 MW
    both = solve_portfolio(cols, Shared(tenant_min_mw=105.0))
    assert both.chosen["h1"].scenario == both.chosen["h2"].scenario == "host"
    short = solve_portfolio(cols, Shared(tenant_min_mw=111.0))
    assert short.status == "infeasible" and "tenant_min" in short.infeasibility[0]
    assert "short by 1.00 MW" in short.infeasibility[0]


def test_conflicting_budget_and_target_are_both_named():
    """Each of a budget of 10 and a target of 2 sites' GPUs can be met alone; together not."""
    cols = [Column("a", "x", 0, 5e6, 8e6, 100, 1.0, 0), Column("b", "y", 0, 5e6, 8e6, 100, 1.0, 0)]
    cols += [Column(s, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0) for s in "ab"]
    sol = solve_portfolio(cols, Shared(capex_usd_total=10e6, target_gpus=200, target_month=0))
    assert sol.status == "infeasible"
    text = " ".join(sol.infeasibility)
    assert "budget_total" in text and "gpu_target" in text and "each can be met alone" in text


@pytest.mark.parametrize(("body", "key", "line", "words"), [
    ("[budget]\ncapex_usd_totl = 1e9\n", "budget.capex_usd_totl", 11, "did you mean 'capex_usd_total'"),
    ('[[routes]]\nfrom = "a"\nto = "c"\nkm = 10.0\ngbps = 400.0\n', "routes[0].to", 12, "no site named 'c'"),
    ('[[routes]]\nfrom = "a"\nto = "b"\nkm = 10.0\n', "routes[0].gbps", 10, "states no bandwidth"),
    ("[target]\nby_month = 12\n", "target", 10, "give gpus or critical_it_mw"),
    ("[tenant]\nmin_contracted_mw = 50.0\nmax_contracted_mw = 40.0\n", "tenant", 10, "is above max_contracted_mw"),
])
def test_bad_portfolio_file_exits_2_with_key_and_line(capsys, tmp_path, body, key, line, words):
    path = write_portfolio(tmp_path, body, {"a": tiny("a", 6.0), "b": tiny("b", 4.0)})
    code, out, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"))
    assert code == 2 and out == ""
    assert f"portfolio.toml:{line}: {key}" in err and words in err and "Traceback" not in err


def test_unknown_scenario_and_missing_site_file(capsys, tmp_path):
    path = write_portfolio(tmp_path, "", {"a": tiny("a", 6.0)})
    text = path.read_text().replace('file = "a.toml"\n', 'file = "a.toml"\nscenarios = ["buidl"]\n')
    text += '[[sites]]\nfile = "gone.toml"\n'
    path.write_text(text)
    code, _, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"))
    assert code == 2 and "sites[1].file: no site file 'gone.toml'" in err
    path.write_text(text.replace('[[sites]]\nfile = "gone.toml"\n', ""))
    code, _, err = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"))
    assert code == 2 and "portfolio.toml:6: sites[0].scenarios[0]: site 'a' has no scenario 'buidl'" in err
    assert "did you mean 'build'" in err


def test_example_portfolio_solves(capsys, tmp_path):
    """sites/portfolio-texas: the choice meets the file's budget and target, recomputed from
    the candidates the sites' own solves give; together and one by one differ by their sums;
    the route between the chosen sites is sized from 1/16 of the smaller cluster's bisection
    (DGX H100: 8 x 400 Gb/s for 8 GPUs, 400 Gb/s a GPU)."""
    code, out, _ = run(capsys, "portfolio", str(SITES / "portfolio-texas" / "portfolio.toml"), "-o",
                       str(tmp_path / "pf"), "--json")
    assert code == 0
    doc = json.loads(out)
    from planner.outputs.portfolio import PortfolioDocument

    written = (tmp_path / "pf" / "portfolio.json").read_text()
    assert PortfolioDocument.read(written).data() == doc  # the file and stdout: one document, as declared
    used = [s for s in doc["sites"] if s["scenario"]]
    start = {s["site"]: s["start_month"] for s in used}
    # each link between chosen sites is paid when the later of its two sites starts, in that
    # year's budget, and discounted from then at 10 % (every site's rate) off the NPV
    # a link is paid only when its two plans run together (the later online month before the
    # earlier end of a horizon); a pair that never does is listed, unpaid, with that window
    online = {s["site"]: s["online_month"] for s in used}
    for k in doc["interconnect"]:
        if k["cost_usd"] is None:
            run_from, run_to = k["runs_months"]
            assert run_from == max(online[k["from_site"]], online[k["to_site"]]) and run_to <= run_from
            assert k["paid_month"] is None and k["energy_npv_usd"] == 0
    links = [k for k in doc["interconnect"] if k["cost_usd"] is not None]
    assert links  # the example pays at least one link
    for k in links:
        month = max(start[k["from_site"]], start[k["to_site"]])
        assert (k["paid_month"], k["capex_year"]) == (month, month // 12 + 1)
        assert k["cost_usd"] == pytest.approx(k["sized"]["chosen"]["cost_usd"], abs=0.01)
        assert k["npv_cost_usd"] == pytest.approx(k["cost_usd"] * 1.1 ** (-month / 12), abs=0.01)
    capex = sum(s["capex_usd"] for s in used) + sum(k["cost_usd"] for k in links)
    assert capex <= 1.4e9 and doc["together"]["capex_usd"] == pytest.approx(capex, abs=0.05)
    assert doc["together"]["interconnect_capex_usd"] == pytest.approx(sum(k["cost_usd"] for k in links), abs=0.05)
    for year in (1, 2):
        spent = (sum(s["capex_usd"] for s in used if s["capex_year"] == year)
                 + sum(k["cost_usd"] for k in links if k["capex_year"] == year))
        assert spent <= 1.0e9 and doc["together"]["capex_by_year_usd"][str(year)] == pytest.approx(spent, abs=0.05)
    npv = sum(s["npv_usd"] for s in used) - sum(k["npv_cost_usd"] + k["energy_npv_usd"] for k in links)
    assert doc["together"]["npv_usd"] == pytest.approx(npv, abs=0.05)
    assert doc["together"]["interconnect_energy_npv_usd"] == pytest.approx(
        sum(k["energy_npv_usd"] for k in links), abs=0.05)
    # each link's power from its counts (400zr-plus 22.5 W, the passive mux 0 W, an EDFA 10 W):
    # at each end modules / 2 x 22.5 + muxes / 2 x 0 + 2 x pairs x 10 (a booster and a
    # pre-amplifier per pair), in-line 2 x pairs x in-line sites x 10; each end on its site
    watts = {"400zr": 22.5, "400zr-plus": 22.5, "dwdm-mux-40ch-100ghz": 0.0, "edfa-c-band-module": 10.0}
    at_site = {s["site"]: 0.0 for s in doc["sites"]}
    for k in links:
        c = k["sized"]["chosen"]
        end = c["modules"] / 2 * watts[c["module"]] + c["muxes"] / 2 * watts[c["mux"]] \
            + 2 * c["fibre_pairs"] * watts[c["amplifier"]]
        inline = 2 * c["fibre_pairs"] * c["inline_amplifier_sites"] * watts[c["amplifier"]]
        assert k["power_by_site_w"] == pytest.approx({k["from_site"]: end, k["to_site"]: end})
        assert k["inline_power_w"] == pytest.approx(inline)
        assert k["power_w"] == pytest.approx(2 * end + inline) and k["power_w"] == pytest.approx(c["power_w"])
        assert k["fits_grid"] is True
        for site_name in (k["from_site"], k["to_site"]):
            at_site[site_name] += end
    for s in doc["sites"]:
        assert s["interconnect_power_w"] == pytest.approx(at_site[s["site"]])
        assert s["total_it_mw"] == pytest.approx(s["critical_it_mw"] + at_site[s["site"]] / 1e6, abs=1e-6)
    assert doc["together"]["interconnect_power_w"] == pytest.approx(sum(k["power_w"] for k in links))
    assert 1_000 < doc["together"]["interconnect_power_w"] < 100_000  # kW, not MW
    assert sum(s["gpus"] for s in used if s["online_month"] <= 72) >= 24000
    for s in used:
        cand = next(c for c in s["candidates"] if (c["scenario"], c["max_gpus"]) == (s["scenario"], s["max_gpus"]))
        assert s["npv_usd"] == pytest.approx(cand["npv_usd"] * 1.1 ** (-s["start_month"] / 12), rel=1e-9)
        assert s["online_month"] == cand["ai_start_month"] + s["start_month"]
        if s["max_gpus"] is not None:  # a smaller size: within its cap
            assert s["gpus"] <= s["max_gpus"]
    assert doc["difference"]["npv_usd"] == pytest.approx(doc["together"]["npv_usd"] - doc["one_by_one"]["npv_usd"])
    names = {s["site"] for s in used}
    for link in doc["interconnect"]:
        assert {link["from_site"], link["to_site"]} <= names
        if link["basis"].startswith("0.0625"):
            smaller = min(s["gpus"] for s in used if s["site"] in (link["from_site"], link["to_site"]))
            assert link["gbps"] == pytest.approx(0.0625 * smaller * 400 / 2)
    # the links' parts in bom.csv: per coherent link one module at each end (2 x links), one
    # mux/demux per fibre pair at each end (2 x pairs), per pair and direction a booster, the
    # in-line amplifiers and a pre-amplifier (pairs x 2 x (in-line sites + 2)); priced rows
    # re-add to the link's cost, every price an ESTIMATE
    import csv

    with (tmp_path / "pf" / "bom.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for link in doc["interconnect"]:
        c = link["sized"]["chosen"]
        mine = [r for r in rows if r["description"].startswith(f"{link['from_site']} - {link['to_site']}")]
        if link["cost_usd"] is None and link["runs_months"] is not None:  # never runs: nothing bought
            assert not mine
            continue
        if c is None:
            continue
        qty = {r["part"]: float(r["quantity"]) for r in mine}
        assert qty[c["module"]] == 2 * c["links"]
        assert qty[c["mux"]] == 2 * c["fibre_pairs"]
        assert qty[c["amplifier"]] == c["fibre_pairs"] * 2 * (c["inline_amplifier_sites"] + 2)
        # and its dark fibre: the fibres laid / 2 x the route's km, in fibre-pair-km
        assert qty["dark-fibre-pair-km"] == pytest.approx(c["fibres"] / 2 * link["route_km"], abs=0.001)
        assert sum(float(r["extended_cost_usd"]) for r in mine) == pytest.approx(c["cost_usd"], abs=0.01)
        assert all("ESTIMATE" in r["source"] for r in mine)
    # the map of the sites and their routes: a PNG of a real size beside portfolio.json
    png = (tmp_path / "pf" / "plots" / "interconnect.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_map_routes_say_what_each_route_carries():
    """Every route of the file is drawn: one with a priced link carries its option (here 256
    x 400zr-plus, 7 pairs, 56 amplifiers, 2.15 M USD, estimated), one whose sites need no
    link says so, one whose link has no priced option says why."""
    from planner.outputs.portfolio import PortfolioLink, map_routes

    chosen = {"links": 256, "module": "400zr-plus", "wavelengths": 256, "fibre_pairs": 7, "amplifiers": 56,
              "latency_us": 881.41, "cost_usd": 2153910.0, "estimated": ["400zr-plus"]}
    power = {"power_w": 6120.0, "power_by_site_w": {"a": 3000.0, "b": 3000.0}, "inline_power_w": 120.0,
             "energy_mwh_per_year_by_site": {"a": 32.85, "b": 32.85}, "energy_usd_per_year_by_site": {"a": 1314.0,
                                                                                                    "b": 1314.0},
             "fits_grid": True}
    paid = {"cost_usd": 2153910.0, "paid_month": 0, "capex_year": 1, "npv_cost_usd": 2153910.0,
            "runs_months": [0, 60], "energy_npv_usd": 5000.0, **power}
    unpaid = {"cost_usd": None, "paid_month": None, "capex_year": None, "npv_cost_usd": None, "power_w": None,
              "power_by_site_w": None, "inline_power_w": None, "energy_mwh_per_year_by_site": None,
              "energy_usd_per_year_by_site": None, "runs_months": None, "energy_npv_usd": None, "fits_grid": None}
    links = [PortfolioLink(from_site="a", to_site="b", route_km=180, gbps=102400, basis="x", sized={"chosen": chosen},
                           **paid),
             PortfolioLink(from_site="c", to_site="b", route_km=90, gbps=800, basis="x",
                           sized={"chosen": None, "why": "no option is fully priced"}, **unpaid)]
    routes = map_routes([("b", "a", 180.0), ("a", "c", 420.0), ("b", "c", 90.0)], links)
    assert [(r.a, r.b, r.km) for r in routes] == [("b", "a", 180.0), ("a", "c", 420.0), ("b", "c", 90.0)]
    first = routes[0]
    assert first.option == "256 x 400zr-plus, 256 waves, 7 fibre pairs, 56 amplifiers"
    assert (first.gbps, first.latency_us, first.cost_usd, first.estimated) == (102400, 881.41, 2153910.0, True)
    assert routes[1].option.startswith("not sized") and routes[1].cost_usd is None
    assert routes[2].option == "no option priced: no option is fully priced" and routes[2].gbps == 800


async def test_tui_shows_the_portfolio_per_site(tmp_path):
    """planner tui on a portfolio file: the worker solves it and the table shows a row per
    site, the chosen one with its plan and the lossy one as nothing (as the CLI's table)."""
    from textual.widgets import DataTable

    from tui.portfolio import PortfolioApp, is_portfolio

    path = write_portfolio(tmp_path, "", {"good": tiny("good", 6.0), "poor": tiny("poor", 0.5)})
    assert is_portfolio(path) and not is_portfolio(tmp_path / "good.toml")
    app = PortfolioApp(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        sites = app.query_one("#portfolio-sites", DataTable)
        rows = [sites.get_row_at(i) for i in range(sites.row_count)]
        assert [(r[0], r[1]) for r in rows] == [("good", "build"), ("poor", "nothing")]
        assert app.doc is not None and app.doc.status == "optimal"
        notes = str(app.query_one("#portfolio-notes").render())
        assert "poor: cannot help: its plans add no value" in notes


def test_planner_tui_opens_a_portfolio_file_in_the_portfolio_view(tmp_path, monkeypatch):
    """tui_cmd hands a portfolio file to PortfolioApp (a site file still opens the editor)."""
    from tui import command, portfolio

    opened = []
    monkeypatch.setattr(portfolio.PortfolioApp, "run", lambda self: opened.append(self.path))
    path = write_portfolio(tmp_path, "", {"a": tiny("a", 6.0)})
    command.tui_cmd(path)
    assert opened == [path]


def test_site_without_any_plan_cannot_help_and_says_why(capsys, tmp_path):
    """A site that must build 1,024 GPUs (128 DGX H100, over 1 MW of IT) on a 1 MW grid has
    no plan: the portfolio goes on without it (exit 0) and names the site's own reason."""
    text = tiny("small grid", 6.0).replace('step = "server"\n', 'step = "server"\nmin_gpus = 1024\n')
    path = write_portfolio(tmp_path, "", {"good": tiny("good", 6.0), "small": text})
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0
    small = next(s for s in json.loads(out)["sites"] if s["site"] == "small")
    assert small["candidates"][0]["status"] == "infeasible" and small["scenario"] is None
    assert not small["can_help"] and small["reason"].startswith("no scenario has a plan (build:")


@pytest.mark.parametrize("route", ["gbps = 800.0\n", ""])
def test_link_between_chosen_sites_sized_from_the_route(capsys, tmp_path, catalog, route):
    """A route of 80 km between two chosen sites: its stated 800 Gb/s, or half the bisection of
    the smaller cluster (GPUs x 400 Gb/s a GPU for a DGX H100, 8 x 400G NICs for 8 GPUs, / 2).
    Every option carries it with links = ceil(Gb/s / module Gb/s), and the one-way latency is
    80 km x 1.468 / 299,792.458 km/s."""
    body = f'[[routes]]\nfrom = "a"\nto = "b"\nkm = 80.0\n{route}\n[interconnect]\nshare_of_bisection = 0.5\n'
    path = write_portfolio(tmp_path, body, {"a": tiny("a", 6.0), "b": tiny("b", 5.0)})
    code, out, _ = run(capsys, "portfolio", str(path), "-o", str(tmp_path / "pf"), "--json")
    assert code == 0
    doc = json.loads(out)
    (link,) = doc["interconnect"]
    gpus = min(s["gpus"] for s in doc["sites"])
    assert gpus > 0
    server = catalog.entries["servers"]["dgx-h100"].item
    assert server.compute_ports * server.compute_nic_gbps / server.gpus == 400
    want = 800.0 if route else 0.5 * gpus * 400 / 2
    assert link["gbps"] == pytest.approx(want)
    assert link["sized"]["options"]
    for option in link["sized"]["options"]:
        module = catalog.entries["optics"][option["module"]].item
        assert option["links"] == -(-want // module.gbps)
        assert option["latency_us"] == pytest.approx(80 * 1.468 / 299_792.458 * 1e6, abs=0.01)


def test_column_names_are_unique_when_site_names_differ_only_in_rewritten_characters():
    """'a b' and 'a_b' both become a_b in a solver's name: each column keeps its own name
    and each site its own row, so both sites take their plan (NPV 1 + 2)."""
    from planner.model.portfolio import build_portfolio

    cols = [Column("a b", "x", 0, 1e6, 0.0, 1, 0.0, 0), Column("a_b", "x", 0, 2e6, 0.0, 1, 0.0, 0)]
    cols += [Column(s, DO_NOTHING, 0, 0.0, 0.0, 0, 0.0, 0) for s in ("a b", "a_b")]
    model = build_portfolio(cols, Shared())
    assert len(set(model.lp.col_names)) == len(cols) and len(set(model.lp.row_names())) == model.lp.num_rows
    sol = solve_portfolio(cols, Shared())
    assert {s: c.scenario for s, c in sol.chosen.items()} == {"a b": "x", "a_b": "x"}
    assert sol.npv_usd == pytest.approx(3e6)


@pytest.mark.parametrize("name", ["mine-a.toml", "mine-b.toml", "greenfield.toml"])
def test_each_example_site_is_valid_alone(capsys, name):
    code, out, err = run(capsys, "validate", str(SITES / "portfolio-texas" / name))
    assert code == 0 and "OK" in out, err

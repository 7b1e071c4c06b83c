"""The workbook (plan.xlsx) and the clean CSV files, opened as a user would (openpyxl,
pandas) and checked against the same solve's summary.json, bom.csv and dispatch.csv."""

from __future__ import annotations

import calendar
import json
import re
import tomllib

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.app.cli import main

from .conftest import SITES

SITE = SITES / "texas-hybrid.toml"  # a 15-minute price year of 2025, miners beside the AI, estimates


@pytest.fixture(scope="module")
def solved(texas_outputs):
    return texas_outputs  # SITE solved once for the session (conftest)


def _book(out):
    import openpyxl

    return openpyxl.load_workbook(out / "plan.xlsx")


def _sheet(book, name) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_summary_sheet_holds_summary_json_as_numbers(solved):
    doc = json.loads((solved / "summary.json").read_text())
    book = _book(solved)
    summary = _sheet(book, "summary").set_index("metric")
    assert list(summary.columns) == list(doc["scenarios"])
    for name, sc in doc["scenarios"].items():
        assert summary.loc["GPUs", name] == sc["gpus"]
        assert summary.loc["NPV, M USD", name] == pytest.approx(sc["npv_usd"] / 1e6, abs=1e-6)
        assert summary.loc["capex, M USD", name] == pytest.approx(sc["capex_usd"] / 1e6, abs=1e-6)
        for tier, n in sc["switches"].items():  # a figure by tier is a row per tier, one number per cell
            assert summary.loc[f"switches: {tier}", name] == n
        assert isinstance(summary.loc["IT power, MW", name], float)
    assert summary.loc["recommendation", doc["recommendation"]["scenario"]] == "yes"


def test_bom_sheets_equal_bom_csv_and_their_totals_add_up(solved):
    doc = json.loads((solved / "summary.json").read_text())
    bom = pd.read_csv(solved / "bom.csv")
    book = _book(solved)
    for name, sc in doc["scenarios"].items():
        sheet = _sheet(book, f"bom {name}")
        assert "extended_cost_usd, USD" in sheet.columns and "quantity, count" in sheet.columns
        own = bom[bom["scenario"] == name]
        parts = own[own["category"] != "total"]
        assert list(sheet["part"].iloc[:-1]) == list(parts["part"])
        assert sheet["quantity, count"].iloc[:-1].tolist() == parts["quantity"].tolist()
        total = sheet.iloc[-1]
        assert total["category"] == "total" and pd.isna(total["extended_cost_usd, USD"])
        assert total["total_cost_usd, USD"] == pytest.approx(parts["extended_cost_usd"].sum(), abs=0.01)
        # the plan's capex is every priced row, its cables included
        assert parts["extended_cost_usd"].sum() == pytest.approx(sc["capex_usd"], abs=1.0)


def test_bom_csv_total_rows_do_not_double_count(solved):
    bom = pd.read_csv(solved / "bom.csv")
    totals = bom[bom["category"] == "total"]
    parts = bom[bom["category"] != "total"]
    assert sorted(totals["scenario"]) == sorted(parts["scenario"].unique())  # one total per scenario
    # a spreadsheet's SUM of the column counts each part once: total rows leave it empty
    assert totals["extended_cost_usd"].isna().all() and totals["extended_power_w"].isna().all()
    assert (totals["quantity"] == 0).all()
    assert bom["extended_cost_usd"].sum() == pytest.approx(totals["total_cost_usd"].sum(), abs=0.05)
    for name, total in totals.set_index("scenario")["total_power_w"].items():
        assert total == pytest.approx(parts.loc[parts["scenario"] == name, "extended_power_w"].sum(), abs=0.01)


def test_bom_csv_has_no_float_noise(solved):
    """Money to the cent, watts to the milliwatt: no 36.620571399999996 in the file."""
    text = (solved / "bom.csv").read_text()
    decimals = [len(m) for m in re.findall(r"(?<![\w.])\d+\.(\d+)(?=,|\r?$)", text, flags=re.M)]
    assert decimals and max(decimals) <= 3
    bom = pd.read_csv(solved / "bom.csv")
    for column in ("unit_cost_usd", "extended_cost_usd", "total_cost_usd"):
        cents = bom[column].dropna() * 100
        assert (cents - cents.round()).abs().max() < 1e-6, column


def test_dispatch_sheet_is_dispatch_csv_by_month(solved):
    """Each month's energy re-added from dispatch.csv (MW x hours of the step); the months'
    hours are the calendar's (2025: January 744 h, February 672 h, 8,760 h in the year)."""
    steps = pd.read_csv(solved / "dispatch.csv")
    steps["month"] = steps["step"].str.slice(0, 7)
    steps["mwh"] = steps["grid_import_mw"] * steps["hours_per_year"]
    month = _sheet(_book(solved), "dispatch")
    for (name, period), group in steps.groupby(["scenario", "month"]):
        row = month[(month["scenario"] == name) & (month["period"] == period)].iloc[0]
        assert row["grid_energy_mwh, MWh"] == pytest.approx(group["mwh"].sum(), abs=1e-3)
        assert row["peak_import_mw, MW"] == pytest.approx(group["grid_import_mw"].max(), abs=1e-6)
        days = calendar.monthrange(2025, int(period[5:]))[1]
        assert row["hours, h"] == pytest.approx(24 * days)
    assert month.groupby("scenario")["hours, h"].sum().tolist() == pytest.approx([8760.0] * 2)
    assert len(month) == 24  # two scenarios x twelve months, not 70,080 steps


def test_assumptions_and_estimates_sheets(solved):
    site = tomllib.loads(SITE.read_text())
    book = _book(solved)
    inputs = dict(book["assumptions"].iter_rows(min_row=2, values_only=True))
    assert inputs["grid.capacity_mw"] == site["grid"]["capacity_mw"]
    assert inputs["economics.btc_price_usd"] == site["economics"]["btc_price_usd"]
    estimates = _sheet(book, "estimates")
    assert set(estimates["kind"]) == {"estimate"}
    # the QM9700's power: NVIDIA's system power as a reseller reproduces it, 747 W (catalogs/power-estimates.toml)
    qm = estimates[(estimates["part"] == "qm9700") & (estimates["figure"] == "power")].iloc[0]
    assert qm["value (lowest)"] == qm["value (highest)"] == 747 and qm["unit"] == "W per unit"
    assert "ESTIMATE" in qm["basis"]
    assert all("ESTIMATE" in b for b in estimates["basis"])


def test_workbook_text_is_never_a_formula(tmp_path, write_site):
    import openpyxl

    text = (SITES / "greenfield-campus.toml").read_text().replace("[scenarios.greenfield]",
                                                                  '[scenarios."=1+1"]')
    out = tmp_path / "o"
    assert main(["solve", str(write_site(text)), "-o", str(out), "-q", "--graphml", "never"]) == 0
    book = openpyxl.load_workbook(out / "plan.xlsx")
    header = book["summary"]["B1"]
    assert header.value == "=1+1" and header.data_type == "s"
    bom = book["bom =1+1"]
    assert bom["A2"].value == "=1+1" and bom["A2"].data_type == "s"
    assert not any(c.data_type == "f" for ws in book for row in ws.iter_rows() for c in row)


def test_compare_csv_one_value_per_cell(capsys, tmp_path):
    out = tmp_path / "c"
    assert main(["compare", str(SITE), "-o", str(out), "-q"]) == 0
    frame = pd.read_csv(out / "compare.csv", index_col="metric")
    assert not frame.map(lambda v: isinstance(v, str) and v.startswith(("{", "["))).any().any()  # no JSON in a cell
    assert main(["solve", str(SITE), "-o", str(tmp_path / "s"), "-q", "--graphml", "never"]) == 0
    doc = json.loads((tmp_path / "s" / "summary.json").read_text())
    for name, sc in doc["scenarios"].items():
        for tier, n in sc["switches"].items():
            assert float(frame.loc[f"switches: {tier}", name]) == n
        for part, n in sc["transceivers"].items():
            assert float(frame.loc[f"transceivers: {part}", name]) == n
        assert float(frame.loc["NPV, M USD", name]) == pytest.approx(sc["npv_usd"] / 1e6, abs=1e-6)


def test_summary_carries_the_time_stderr_reports(capsys, tmp_path):
    code = main(["solve", str(SITE), "-o", str(tmp_path / "s"), "--graphml", "never"])
    _, err = capsys.readouterr()
    assert code == 0
    doc = json.loads((tmp_path / "s" / "summary.json").read_text())
    for name, sc in doc["scenarios"].items():
        said = float(re.search(rf"^{name}: optimal in ([0-9.]+) s$", err, flags=re.M).group(1))
        assert sc["scenario_seconds"] == pytest.approx(said, abs=0.05 + 1e-9)
        assert sc["scenario_seconds"] >= sc["solve_seconds"]


def test_the_same_plans_give_the_same_workbook_and_report(solved, tmp_path):
    """An output set is checked file by file against its run (planner check-output, the
    kill tests): a second run of the site writes plan.xlsx and report.html byte for byte."""
    again = tmp_path / "again"
    assert main(["solve", str(SITE), "-o", str(again), "-q", "--graphml", "never"]) == 0
    for name in ("plan.xlsx", "report.html", "bom.csv"):
        assert (again / name).read_bytes() == (solved / name).read_bytes(), name


def test_a_length_priced_estimate_spans_its_lengths():
    """Cables priced from an estimated price per fibre-metre: 12 fibres x 7 m x 0.5733 + 2 x 57
    = 162.16 USD and 12 x 8 x 0.5733 + 114 = 169.04 USD; one estimate row from 162.16 to 169.04."""
    from types import SimpleNamespace

    from planner.outputs.assumptions import estimates_used
    from planner.outputs.records import BomRow

    def cable(metres):
        cost = round(12 * metres * 0.5733 + 2 * 57, 2)
        return BomRow(scenario="g", category="cable", part="mmf-mpo-12-apc", description=f"{metres} m", quantity=10,
                      unit_cost_usd=cost, extended_cost_usd=10 * cost, unit_power_w=None, extended_power_w=None,
                      source=f"fabric count; price: ESTIMATE: 12 fibres x {metres} m x 0.5733 USD per fibre-metre")

    listed = SimpleNamespace(part="dgx-h100", source="spec: x; price: list price", unit_cost_usd=1.0, scenario="g")
    (found,) = estimates_used(SimpleNamespace(scenarios={}), [cable(7), cable(8), listed])
    assert (found.part, found.figure, found.low, found.high) == ("mmf-mpo-12-apc", "price", 162.16, 169.04)
    assert found.scenarios == ("g",) and "7 m" in found.basis


def test_texas_cable_capex_by_hand(texas_outputs):
    """The Texas site has no halls, so each tier's cables are priced at the length its media
    were chosen for (catalogs/estimates.toml: OM4 0.5733 and OS2 0.2175 USD per fibre-metre,
    an MPO-12/APC plug 57 USD). Its 1,024 DGX H100 have 8,192 links in each of three tiers,
    a 12-fibre MPO cable a link:
    node-leaf (SR, 30 m)     8,192 x (12 x 30 x 0.5733 + 2 x 57) = 8,192 x 320.388 = 2,624,618.50
    leaf-spine (DR, 100 m)   8,192 x (12 x 100 x 0.2175 + 2 x 57) = 8,192 x 375     = 3,072,000
    spine-core (DR, 300 m)   8,192 x (12 x 300 x 0.2175 + 2 x 57) = 8,192 x 897     = 7,348,224
    13,044,842.50 USD in all, paid at month 0 like the rest of the capex, so it lowers the
    NPV by as much (undiscounted) in both scenarios, which build the same cluster."""
    doc = json.loads((texas_outputs / "summary.json").read_text())
    hand = round(8192 * (12 * 30 * 0.5733 + 2 * 57), 2) + 8192 * (12 * 100 * 0.2175 + 114) + 8192 * (
        12 * 300 * 0.2175 + 114)
    assert hand == pytest.approx(13_044_842.50)
    bom = pd.read_csv(texas_outputs / "bom.csv")
    for name, sc in doc["scenarios"].items():
        assert sc["gpus"] == 8192
        assert sc["capex_breakdown_usd"]["cabling"] == pytest.approx(hand, abs=0.005)
        cables = bom[(bom.scenario == name) & (bom.category == "cable")]
        assert sorted(cables.quantity) == [8192] * 3
        assert cables.extended_cost_usd.sum() == pytest.approx(hand, abs=0.005)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=6))
def test_any_scenario_names_make_valid_sheets(tmp_path_factory, names):
    """Whatever the scenarios are called (Excel's forbidden characters, apostrophes at the
    ends, emoji that Excel counts twice, names equal but for case), each gets a sheet whose
    name Excel accepts, and the workbook saves and reads back with every sheet."""
    import openpyxl

    from planner.outputs.xlsx import SHEET_NAME_MAX, Sheet, save_workbook, sheet_name

    sheets: dict[str, Sheet] = {}
    for n in names:
        sheets[sheet_name(f"bom {n}", sheets)] = Sheet(["part"], [[n]])
    for title in sheets:
        assert len(title.encode("utf-16-le")) // 2 <= SHEET_NAME_MAX
        assert not title.startswith("'") and not title.endswith("'")
        assert not set("[]:*?/\\") & set(title)
    assert len({t.lower() for t in sheets}) == len(sheets)
    path = tmp_path_factory.mktemp("names") / "plan.xlsx"
    save_workbook(sheets, path)
    assert openpyxl.load_workbook(path).sheetnames == list(sheets)


def test_cells_excel_cannot_hold_as_numbers_are_text(tmp_path):
    """Numbers are numbers; NaN, infinities and an integer past a float's range are written
    as their text (Excel has no such number; its #NUM! error would be a formula), text that
    looks like a formula, a link or a number stays text, and nothing is a formula."""
    import numpy as np
    import openpyxl

    from planner.outputs.xlsx import Sheet, save_workbook

    values = [1.5, np.float64(2.25), np.int64(7), True, float("nan"), float("-inf"), 10**400, "=1+1",
              "http://example.com", "007", None]
    save_workbook({"s": Sheet(["v"], [[v] for v in values])}, tmp_path / "b.xlsx")
    cells = list(openpyxl.load_workbook(tmp_path / "b.xlsx")["s"]["A"])[1:]
    got = [(c.value, c.data_type) for c in cells]
    assert got[:4] == [(1.5, "n"), (2.25, "n"), (7, "n"), (True, "b")]
    assert got[4:7] == [("nan", "s"), ("-inf", "s"), (str(10**400), "s")]
    assert got[7:10] == [("=1+1", "s"), ("http://example.com", "s"), ("007", "s")]
    assert len(cells) == len(values) - 1  # None is an empty cell at the end, not written


_STEP = st.one_of(
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d} 00:15", st.integers(2024, 2026), st.integers(1, 12),
              st.integers(1, 28)),
    st.sampled_from(["winter", "summer", "peak", "off-peak", "2025-1-1", "2025/01/02", "٢٠٢٥-٠١-x", "2025-01"]),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "=c"]), _STEP, st.floats(0, 100), st.floats(-50, 500),
                          st.floats(0, 1)), min_size=1, max_size=60), st.booleans())
def test_monthly_dispatch_by_definition(rows, ordered):
    """The workbook's months (monthly_dispatch) against their definition, summed row by row:
    a dated series ("YYYY-MM-", any decimal digits, as Python's \\d) by calendar month, anything
    else by its own steps; the groups in the order each (scenario, period) first comes, the
    scenarios' steps in runs or interleaved."""
    import math

    import numpy as np

    from planner.outputs.assumptions import monthly_dispatch

    if ordered:
        rows = sorted(rows, key=lambda r: r[0])
    dated = all(re.match(r"\d{4}-\d{2}-", r[1]) for r in rows)
    expected: dict[tuple[str, str], list[float]] = {}
    for sc, step, mw, price, hours in rows:
        e = expected.setdefault((sc, step[:7] if dated else step), [0.0, 0.0, 0.0, -math.inf])
        e[0] += hours
        e[1] += mw * hours
        e[2] += mw * hours * price
        e[3] = max(e[3], mw)
    table = {"scenario": np.array([r[0] for r in rows], dtype=object), "step": np.array([r[1] for r in rows]),
             "hours_per_year": np.array([r[4] for r in rows]), "grid_import_mw": np.array([r[2] for r in rows]),
             "price_usd_per_mwh": np.array([r[3] for r in rows]), "ai_load_mw": np.array([r[2] for r in rows]),
             "miner_load_mw": np.zeros(len(rows))}
    got = monthly_dispatch(table)
    assert [(g[0], g[1]) for g in got] == list(expected)
    for g, (hours, energy, cost, peak) in zip(got, expected.values(), strict=True):
        assert g[2] == pytest.approx(round(hours, 4), abs=2e-4)
        assert g[3] == pytest.approx(round(energy, 3), abs=2e-3) and g[4] == g[3] and g[5] == 0
        assert g[6] == pytest.approx(peak, abs=1e-6)
        assert g[8] == pytest.approx(round(cost, 2), abs=2e-2)
        assert (g[7] is None) == (energy <= 0)

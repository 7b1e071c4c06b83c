"""plan.xlsx: the plans as a workbook (XlsxWriter) for the people who price and check them.

Sheets: ``summary`` (the scenarios side by side, the rows of compare.csv), one ``bom
<scenario>`` per scenario (its parts with their sources, then a total row), ``dispatch``
(each scenario's energy, peak and energy cost month by month, not its thousands of
steps), ``assumptions`` (the site file's inputs) and ``estimates`` (the figures no vendor
gives that the plans used, marked as estimates). Numbers are numbers, their unit in the
column's header; every text cell is stored as text, so a cell that starts with = + - @
is never a formula. More sheets (a cable schedule) come in through ``extra``: a name and
a :class:`Sheet`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from planner.outputs.assumptions import MONTHLY_COLUMNS, estimates_used, monthly_dispatch, site_inputs
from planner.outputs.bom import BOM_COLUMNS, with_totals
from planner.outputs.compare import comparison_rows
from planner.outputs.records import BomRow, SummaryDocument, unit_of
from planner.outputs.xlsx import Sheet, save_workbook, sheet_name


def _header(name: str, unit: str) -> str:
    return f"{name}, {unit}" if unit else name


def summary_sheet(doc: SummaryDocument) -> Sheet:
    """The scenarios side by side: compare.csv's rows, the recommendation and its reason."""
    names = list(doc.scenarios)
    rows: list[list[Any]] = [[r["metric"], *(r[n] for n in names)] for r in comparison_rows(doc)]
    rows.append(["recommendation, reason", doc.recommendation.reason, *[None] * (len(names) - 1)])
    return Sheet(["metric", *names], rows, {1: 40})


BOM_UNITS = {name: unit_of(info) for name, info in BomRow.model_fields.items()}


def bom_sheet(rows: Sequence[BomRow]) -> Sheet:
    """One scenario's BOM rows and its total row, by bom.csv's columns (units in the header)."""
    return Sheet([_header(c, BOM_UNITS[c]) for c in BOM_COLUMNS],
                 [[r.data()[c] for c in BOM_COLUMNS] for r in with_totals(rows)], {2: 18, 3: 24, 4: 60, 10: 60})


MONTHLY_UNITS = {"hours": "h", "grid_energy_mwh": "MWh", "ai_energy_mwh": "MWh", "miner_energy_mwh": "MWh",
                 "peak_import_mw": "MW", "mean_price_usd_per_mwh": "USD/MWh", "energy_cost_usd": "USD"}


def dispatch_sheet(dispatch: Mapping[str, Mapping[str, Any]]) -> Sheet | None:
    """Each scenario's dispatch month by month (:func:`monthly_dispatch`; a table of columns
    or a frame per scenario); None without one."""
    rows = [row for table in dispatch.values() for row in monthly_dispatch(table)]
    if not rows:
        return None
    return Sheet([_header(c, MONTHLY_UNITS.get(c, "")) for c in MONTHLY_COLUMNS], rows, {2: 14})


def assumptions_sheet(site: dict[str, Any]) -> Sheet:
    """The site file's inputs by dotted key (the plan's assumptions as the user gave them)."""
    return Sheet(["site key", "value"], [[k, v] for k, v in site_inputs(site)], {1: 50, 2: 40})


def estimates_sheet(doc: SummaryDocument, rows: Sequence[BomRow]) -> Sheet:
    """The estimates the plans used, each marked as one, with its unit, scenarios and basis
    (a price that depends on a cable's length as its lowest and highest over the lengths)."""
    return Sheet(["part", "figure", "value (lowest)", "value (highest)", "unit", "kind", "scenarios", "basis"],
                 [[e.part, e.figure, e.low, e.high, e.unit, "estimate", ", ".join(e.scenarios), e.basis]
                  for e in estimates_used(doc, rows)], {1: 24, 7: 24, 8: 100})


def workbook_sheets(doc: SummaryDocument, rows: Sequence[BomRow], dispatch: Mapping[str, Mapping[str, Any]],
                    site: dict[str, Any], extra: dict[str, Sheet] | None = None) -> dict[str, Sheet]:
    """plan.xlsx's sheets in order: summary, a BOM per scenario, dispatch by month,
    assumptions, estimates, then the ``extra`` sheets (a cable schedule, when one is built)."""
    sheets: dict[str, Sheet] = {"summary": summary_sheet(doc)}
    for name in doc.scenarios:
        own = [r for r in rows if r.scenario == name]
        if own:
            sheets[sheet_name(f"bom {name}", sheets)] = bom_sheet(own)
    monthly = dispatch_sheet(dispatch)
    if monthly is not None:
        sheets["dispatch"] = monthly
    sheets["assumptions"] = assumptions_sheet(site)
    sheets["estimates"] = estimates_sheet(doc, rows)
    for name, sheet in (extra or {}).items():
        sheets[sheet_name(name, sheets)] = sheet
    return sheets


def write_workbook(path: Path, doc: SummaryDocument, rows: Sequence[BomRow], dispatch: Mapping[str, Mapping[str, Any]],
                   site: dict[str, Any], extra: dict[str, Sheet] | None = None) -> None:
    """plan.xlsx at ``path`` (:func:`workbook_sheets` saved by :func:`save_workbook`)."""
    save_workbook(workbook_sheets(doc, rows, dispatch, site, extra), path)

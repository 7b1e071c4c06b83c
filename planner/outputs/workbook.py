"""plan.xlsx: the plans as a workbook (openpyxl) for the people who price and check them.

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.outputs.assumptions import MONTHLY_COLUMNS, estimates_used, monthly_dispatch, site_inputs
from planner.outputs.bom import BOM_COLUMNS, with_totals
from planner.outputs.compare import comparison_rows
from planner.outputs.records import BomRow, SummaryDocument, unit_of

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

SHEET_NAME_MAX = 31  # Excel's limit on a sheet's name
_NOT_IN_NAMES = str.maketrans({c: "_" for c in "[]:*?/\\"})  # characters a sheet's name may not hold


@dataclass(frozen=True)
class Sheet:
    """A sheet's header (each with its unit, "quantity, count") and rows of plain values."""

    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: dict[int, float] = field(default_factory=dict)  # column (1-based) -> width in characters


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique sheet name: no [ ] : * ? / \\, at most 31 characters."""
    base = name.translate(_NOT_IN_NAMES)[:SHEET_NAME_MAX] or "sheet"
    taken = {t.lower() for t in taken}
    out, i = base, 1
    while out.lower() in taken:
        i += 1
        out = f"{base[:SHEET_NAME_MAX - len(str(i)) - 1]}~{i}"
    return out


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    """Write a header and rows; text is stored as text (never a formula), numbers as numbers."""
    from openpyxl.styles import Font

    ws.append([str(h) for h in sheet.header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.data_type = "s"
    for row in sheet.rows:
        ws.append([_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=HYPERLINK(...)" stays the text it is
    ws.freeze_panes = "A2"
    for column, width in sheet.widths.items():
        from openpyxl.utils import get_column_letter

        ws.column_dimensions[get_column_letter(column)].width = width


def _cell(value: Any) -> Any:
    """A value a cell can hold: numbers and text as they are, None empty, anything else as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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


def dispatch_sheet(dispatch: dict[str, pd.DataFrame]) -> Sheet | None:
    """Each scenario's dispatch month by month (:func:`monthly_dispatch`); None without one."""
    frames = [monthly_dispatch(f) for f in dispatch.values() if not f.empty]
    if not frames:
        return None
    rows = [list(r) for f in frames for r in f.astype(object).where(f.notna(), None).itertuples(index=False)]
    return Sheet([_header(c, MONTHLY_UNITS.get(c, "")) for c in MONTHLY_COLUMNS], rows, {2: 14})


def assumptions_sheet(site: dict[str, Any]) -> Sheet:
    """The site file's inputs by dotted key (the plan's assumptions as the user gave them)."""
    return Sheet(["site key", "value"], [[k, v] for k, v in site_inputs(site)], {1: 50, 2: 40})


def estimates_sheet(doc: SummaryDocument, rows: Sequence[BomRow]) -> Sheet:
    """The estimates the plans used, each marked as one, with its unit, scenarios and basis."""
    return Sheet(["part", "figure", "value", "unit", "kind", "scenarios", "basis"],
                 [[e.part, e.figure, e.value, e.unit, "estimate", ", ".join(e.scenarios), e.basis]
                  for e in estimates_used(doc, rows)], {1: 24, 6: 24, 7: 100})


def write_workbook(path: Path, doc: SummaryDocument, rows: Sequence[BomRow], dispatch: dict[str, pd.DataFrame],
                   site: dict[str, Any], extra: dict[str, Sheet] | None = None) -> None:
    """plan.xlsx at ``path``: summary, a BOM per scenario, dispatch by month, assumptions,
    estimates, then the ``extra`` sheets (a cable schedule, when one is built)."""
    from openpyxl import Workbook

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
    book = Workbook()
    first = True
    for name, sheet in sheets.items():
        ws = book.active if first else book.create_sheet()
        first = False
        assert ws is not None
        ws.title = name
        _fill(ws, sheet)
    _save_reproducibly(book, path)


def _save_reproducibly(book: Workbook, path: Path) -> None:
    """Save so that the same plans give the same bytes (an output set is checked file by
    file against its run): the document's creation and modification times and every zip
    entry's date are 1980-01-01, the zip format's first day (openpyxl's own save stamps
    them with the time of writing)."""
    import datetime as dt
    import io
    from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

    from openpyxl.writer.excel import ExcelWriter

    book.properties.created = book.properties.modified = dt.datetime(1980, 1, 1)
    buffer = io.BytesIO()
    ExcelWriter(book, ZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True)).save()
    with ZipFile(buffer) as written, ZipFile(path, "w", ZIP_DEFLATED) as out:
        for entry in written.infolist():
            fixed = ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = ZIP_DEFLATED
            out.writestr(fixed, written.read(entry.filename))

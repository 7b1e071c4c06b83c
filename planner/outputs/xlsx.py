"""Sheets of plain values saved as an .xlsx workbook (openpyxl), reproducibly.

Kept apart from :mod:`planner.outputs.workbook`, which builds plan.xlsx's sheets from a
solve, so that the figures' background writer saves the workbook (a :class:`Job`) without
importing the planner's records or pandas: the sheets arrive as plain rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    """A value a cell can hold: numbers and text as they are (a numpy number as Python's),
    None empty, anything else as text."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def save_workbook(sheets: dict[str, Sheet], path: Path) -> None:
    """The sheets, in order, as a workbook at ``path``."""
    from openpyxl import Workbook

    book = Workbook()
    for i, (name, sheet) in enumerate(sheets.items()):
        ws = book.active if i == 0 else book.create_sheet()
        assert ws is not None
        ws.title = name
        _fill(ws, sheet)
    _save_reproducibly(book, path)


def save_job(path: Path, sheets: dict[str, Sheet]) -> None:
    """:func:`save_workbook` as a figure writer's job calls it (``fn(path=..., **kwargs)``)."""
    save_workbook(sheets, path)


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

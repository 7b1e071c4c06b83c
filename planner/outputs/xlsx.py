"""Sheets of plain values saved as an .xlsx workbook (XlsxWriter), reproducibly.

Kept apart from :mod:`planner.outputs.workbook`, which builds plan.xlsx's sheets from a
solve, so that the workbook is saved from plain rows without the planner's records or
pandas. XlsxWriter only writes (openpyxl, which reads and writes, takes about five times
as long to import), and writes every part of the file with the zip format's first day as
its date, so that the same plans give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHEET_NAME_MAX = 31  # Excel's limit on a sheet's name
# characters a sheet's name may not hold: Excel's, and those XML 1.0 cannot carry
_NOT_IN_NAMES = str.maketrans({**{c: "_" for c in "[]:*?/\\"}, **{chr(c): "_" for c in range(32)},
                               "\ufffe": "_", "\uffff": "_"})


@dataclass(frozen=True)
class Sheet:
    """A sheet's header (each with its unit, "quantity, count") and rows of plain values."""

    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    widths: dict[int, float] = field(default_factory=dict)  # column (1-based) -> width in characters


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique sheet name (Excel's rules): none of [ ] : * ? / \\ nor a control
    character, no apostrophe at either end, at most 31 characters as Excel counts them
    (UTF-16 units: an emoji is two), and not the name of another sheet, whatever the case."""
    taken = {t.lower() for t in taken}
    out, i = _fitted(name.translate(_NOT_IN_NAMES), ""), 1
    while out.lower() in taken:
        i += 1
        out = _fitted(name.translate(_NOT_IN_NAMES), f"~{i}")
    return out


def _fitted(base: str, suffix: str) -> str:
    """``base`` cut so that it and ``suffix`` fit in SHEET_NAME_MAX UTF-16 units, with no
    apostrophe at either end; "sheet" for a name with nothing left."""
    room = SHEET_NAME_MAX - len(suffix)
    while len(base.encode("utf-16-le")) // 2 > room:
        base = base[:-1]
    base = base.strip("'") or "sheet"
    return base + suffix


def _fill(book: Any, ws: Any, sheet: Sheet) -> None:
    """Write a header (bold) and rows; text is stored as text (never a formula, a link or a
    number), numbers as numbers, a number Excel cannot hold (not finite, or an integer past
    a float's range) as its text: its #NUM! error would be a formula."""
    bold = book.add_format({"bold": True})
    for col, head in enumerate(sheet.header):
        ws.write_string(0, col, str(head), bold)
    for r, row in enumerate(sheet.rows, start=1):
        for col, value in enumerate(row):
            value = _cell(value)
            if value is None or value == "":  # an empty cell, as nothing
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, col, value)
            elif isinstance(value, int | float) and _finite(value):
                ws.write_number(r, col, value)
            else:  # text, and a number that is not finite ("nan", "inf")
                ws.write_string(r, col, str(value))
    ws.freeze_panes(1, 0)
    for column, width in sheet.widths.items():
        ws.set_column(column - 1, column - 1, width)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer past a float's range
        return False


def _cell(value: Any) -> Any:
    """A value a cell can hold: numbers and text as they are (a numpy number as Python's),
    None empty, anything else as text."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def save_workbook(sheets: dict[str, Sheet], path: Path) -> None:
    """The sheets, in order, as a workbook at ``path``. The document's creation time is
    1980-01-01 and every part of the zip is dated that day (XlsxWriter's in-memory mode), so
    that the same sheets give the same bytes (an output set is checked file by file against
    its run)."""
    import datetime as dt

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"created": dt.datetime(1980, 1, 1)})
    for name, sheet in sheets.items():
        _fill(book, book.add_worksheet(name), sheet)
    book.close()

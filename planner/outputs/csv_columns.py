"""Tables of named numpy columns written as CSV without pandas or Arrow (dispatch.csv):
byte for byte the file :func:`planner.outputs.export.write_frame` writes from the pandas
concatenation of their frames, so a run that never imports pandas (a plain series site)
writes what one that does would."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from planner.outputs.export import FORMULA_STARTS, neutralise, write_frame

_STRUCTURAL = re.compile(r'[,"\r\n]')  # a cell holding one must be quoted: left to pandas
_FORMULA_START = re.compile("\0[" + re.escape("".join(FORMULA_STARTS)) + "]")  # a cell that neutralise rewrites


def mw_column(values: np.ndarray) -> np.ndarray:
    """A dispatch column of MW to the watt (6 decimals), a solver's -1e-12 written as 0, not
    as "-0"."""
    return np.round(values, 6) + 0.0  # -0.0 + 0.0 is 0.0


def write_columns(path: Path, tables: Sequence[Mapping[str, np.ndarray]]) -> None:
    """Tables of named numpy columns (each a dict, in column order) one after the other as
    one CSV, byte for byte as :func:`write_frame` writes the pandas concatenation of their
    frames, without pandas or Arrow (Arrow's numpy conversion imports pandas): the columns
    in order of first appearance, a column a table lacks left empty, text cells
    neutralised, numbers as Arrow spells them (:func:`csv_number`), CRLF, nothing quoted (a
    text holding a comma, a quote or a line break: then through pandas, quoting)."""
    names = list(dict.fromkeys(c for t in tables for c in t))
    sizes = [len(next(iter(t.values()))) if t else 0 for t in tables]
    header = [neutralise(str(c)) for c in names]
    cells: list[list[str]] = []
    for name in names:
        parts = [np.asarray(t[name]) if name in t else np.full(n, np.nan) for t, n in zip(tables, sizes, strict=True)]
        if any(p.dtype.kind in "UO" for p in parts):  # text (a missing cell: empty)
            column = [v for p in parts for v in (p.tolist() if p.dtype.kind == "U" else
                                                 [v if isinstance(v, str) else "" for v in p.tolist()])]
            text = _text_cells(column)
            if text is None:
                cells = []
                break
            cells.append(text)
            continue
        values = np.concatenate(parts) if parts else np.zeros(0)
        if values.dtype.kind == "b":
            cells.append(["true" if v else "false" for v in values.tolist()])
        elif values.dtype.kind in "iu":
            cells.append([str(v) for v in values.tolist()])
        else:
            cells.append(csv_numbers(values.astype(float)))
    if len(cells) < len(names) or any(_STRUCTURAL.search(h) for h in header):
        import pandas as pd

        write_frame(path, pd.concat([pd.DataFrame(dict(t)) for t in tables], ignore_index=True))
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(header) + "\r\n")
        handle.writelines(",".join(row) + "\r\n" for row in zip(*cells, strict=True))


def _text_cells(column: list[str]) -> list[str] | None:
    """A text column's cells, neutralised (:func:`neutralise`), or None when a cell holds a
    comma, a quote or a line break (to be quoted). Each distinct text is looked at once, all
    of them in one joined string: a cell begins after a NUL there (a text that holds a NUL
    itself can only make the per-cell path run, which gives the same cells)."""
    distinct = set(column)
    joined = "\0" + "\0".join(distinct)
    if _STRUCTURAL.search(joined):
        return None
    if not _FORMULA_START.search(joined):
        return column
    return [neutralise(v) for v in column]


def csv_numbers(values: np.ndarray) -> list[str]:
    """Floats as Arrow's CSV writer spells them (so that a file written either way is the
    same): the shortest digits that read back to the same double, in plain notation when the
    decimal exponent e is -6 <= e <= 9 ("0.000001", "9999999999", a whole number without
    ".0"), else as "1.5e-7" or "1e+10"; "inf", "-inf"; NaN an empty cell. Python's repr gives
    the same shortest digits, and its plain notation wherever 1e-4 <= |x| < 1e10.

    A dispatch column repeats few values (a firm load, a fleet on or off): each distinct
    bit pattern is spelled once (equal bits, equal text; 0.0 and -0.0 apart) and the text
    taken for every cell."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    bits, where = np.unique(values.view(np.int64), return_inverse=True)
    distinct = bits.view(np.float64)
    out = [repr(v) for v in distinct.tolist()]
    magnitude = np.abs(distinct)
    with np.errstate(invalid="ignore"):
        plain = ((magnitude >= 1e-4) & (magnitude < 1e10)) | (distinct == 0)
    out = [s[:-2] if s.endswith(".0") else s for s in out]
    for i in np.flatnonzero(~plain).tolist():
        out[i] = csv_number(float(distinct[i]))
    return np.array(out, dtype=object)[where.reshape(-1)].tolist()


def csv_number(value: float) -> str:
    """One float as Arrow spells it (:func:`csv_numbers`)."""
    import math
    from decimal import Decimal

    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    t = Decimal(repr(abs(value))).normalize().as_tuple()
    digits, exp = "".join(map(str, t.digits)), int(t.exponent)
    e = len(digits) - 1 + exp  # the decimal exponent: value = d.ddd x 10^e
    if -6 <= e <= 9:
        if exp >= 0:
            return sign + digits + "0" * exp
        if e >= 0:
            return f"{sign}{digits[:e + 1]}.{digits[e + 1:]}"
        return f"{sign}0.{'0' * (-e - 1)}{digits}"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"

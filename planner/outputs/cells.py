"""A summary value as a table shows it: in the unit its row's label names (M USD for
"musd"), with thousands separated. Used by the summary tables of the CLI and the TUI and by
the business rows (kept apart from :mod:`planner.outputs.summary`, which builds the
records, so that every outputs module can format a cell without importing it)."""

from __future__ import annotations

from typing import Any


def in_label_unit(value: Any, kind: str) -> Any:
    """A summary value in the unit its row's label names (M USD for the "musd" kinds)."""
    return value / 1e6 if kind.startswith("musd") and isinstance(value, int | float) else value


def format_cell(value: Any, kind: str) -> str:
    """A summary value as the tables show it, in its label's unit."""
    if value is None:
        return "-"
    if kind == "musd":
        return f"{value / 1e6:,.1f}"
    if kind == "musd3":
        return f"{value / 1e6:,.3f}"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "f1":
        return f"{value:,.1f}"
    if kind == "f2":
        return f"{value:,.2f}"
    if kind == "f4":
        return f"{value:,.4f}"
    if kind == "dict":
        return ", ".join(f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}"
                         for k, v in value.items() if v) or "0"
    return str(value)

"""F4 BOM: the bill of materials of every scenario, filtered and sorted by the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input

from tui.messages import SolveFinished
from tui.panes.base import Pane

if TYPE_CHECKING:
    from planner.outputs.records import BomRow

# the table's columns and the bom.csv key each sorts by
COLUMNS = [("scenario", "scenario"), ("scope", "scope"), ("category", "category"), ("part", "part"),
           ("quantity", "quantity"),
           ("unit USD", "unit_cost_usd"), ("extended USD", "extended_cost_usd"), ("kW", "extended_power_w"),
           ("description", "description")]


class BomPane(Pane):
    """Filled by :class:`SolveFinished`. ``rows`` is the BOM in the order the user sorted
    it (the export writes that order), unfiltered."""

    KEY, TITLE, PANE_ID = "f4", "BOM", "bom-tab"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[BomRow] = []
        self.sorted_by: str | None = None  # the key of the last ascending sort

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter by category or part (e.g. transceiver)", id="bom-filter")
        yield DataTable(id="bom", zebra_stripes=True, cursor_type="row")

    def on_solve_finished(self, message: SolveFinished) -> None:
        self.rows, self.sorted_by = list(message.plans.bom), None
        self._fill()

    @on(Input.Changed, "#bom-filter")
    def _filter(self, _event: Input.Changed) -> None:
        self._fill()

    @on(DataTable.HeaderSelected, "#bom")
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        """A header click sorts by its column; a second click on it reverses the order."""
        key = COLUMNS[event.column_index][1]
        reverse = self.sorted_by == key
        self.sorted_by = None if reverse else key
        self.rows.sort(key=lambda r: (getattr(r, key) is None, getattr(r, key) if getattr(r, key) is not None else 0),
                       reverse=reverse)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#bom", DataTable)
        table.clear(columns=True)
        table.add_columns(*(label for label, _ in COLUMNS))
        text = self.query_one("#bom-filter", Input).value.lower().strip()
        for r in self.rows:
            if text and text not in r.category.lower() and text not in str(r.part).lower():
                continue
            table.add_row(r.scenario, r.scope, r.category, r.part, f"{r.quantity:,}",
                          cell(r.unit_cost_usd), cell(r.extended_cost_usd), power_cell(r), r.description)


def cell(value: object) -> str:
    """A figure as the table shows it: thousands separated, cents below a thousand."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        parts = (f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}" for k, v in value.items() if v)
        return ", ".join(parts) or "0"
    return str(value)


def power_cell(row: BomRow) -> str:
    """Extended power in kW, marked 'est.' when the unit figure is a labelled estimate."""
    watts = row.extended_power_w
    if watts is None:
        return "-"
    basis = row.power_basis or ""
    mark = " est." if basis.startswith("ESTIMATE") else " site" if basis.startswith("site file") else ""
    return f"{watts / 1e3:,.1f}{mark}"

"""F7 Catalog: the parts of one kind, with each part's source and unit cost."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Select, Static

from planner.parts.catalog import Catalog
from tui.panes.base import Pane


class CatalogPane(Pane):
    """Browses the catalog the site is checked with (:meth:`use_catalog`: the one the TUI was
    started with, or with the site's own overlay folders)."""

    KEY, TITLE, PANE_ID = "f7", "Catalog", "catalog-tab"
    FIRST_KIND = "miners"

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self.kind = self.FIRST_KIND

    def compose(self) -> ComposeResult:
        kinds = [k for k, v in self.catalog.entries.items() if v]
        yield Select([(k, k) for k in kinds], value=self.FIRST_KIND, id="kind", allow_blank=False)
        yield DataTable(id="catalog", zebra_stripes=True, cursor_type="row")
        yield Static("", id="source")

    def on_mount(self) -> None:
        self._fill(self.FIRST_KIND)

    def use_catalog(self, catalog: Catalog) -> None:
        """Show ``catalog``'s parts from now on (the kind shown is kept)."""
        if catalog is not self.catalog:
            self.catalog = catalog
            if self.is_mounted:
                self._fill(self.kind)

    @on(Select.Changed, "#kind")
    def _kind(self, event: Select.Changed) -> None:
        self._fill(str(event.value))

    def _fill(self, kind: str) -> None:
        from planner.parts.catalog import headline

        table = self.query_one("#catalog", DataTable)
        table.clear(columns=True)
        table.add_columns("key", "figures", "as of")
        for key, entry in sorted(self.catalog.entries[kind].items()):
            power = self.catalog.power(key) if kind in ("switches", "optics", "miners", "servers") else None
            table.add_row(key, headline(kind, entry.item, power), str(entry.item.as_of), key=key)
        self.kind = kind

    @on(DataTable.RowHighlighted, "#catalog")
    def _part(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        entry = self.catalog.entries[self.kind].get(event.row_key.value)
        if entry is not None:
            cost = self.catalog.unit_cost(entry.item.key)
            price = f"\nunit cost: {cost[0]:,.0f} USD ({cost[1]})" if cost else ""
            self.query_one("#source", Static).update(f"source: {entry.item.source} (as of {entry.item.as_of})"
                                                     + price)

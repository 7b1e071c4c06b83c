"""F5 Fabric: each scenario's chosen fabric, tier by tier."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable

from tui.messages import SolveFinished
from tui.panes.base import Pane

ROLES = {"node_leaf": "leaf", "leaf_spine": "spine", "spine_core": "core"}  # a tier's links -> its upper switch


class FabricPane(Pane):
    """Filled by :class:`SolveFinished`: switches, links, optics, cables and lit fibres."""

    KEY, TITLE, PANE_ID = "f5", "Fabric", "fabric-tab"

    def compose(self) -> ComposeResult:
        yield DataTable(id="fabric", zebra_stripes=True)

    def on_solve_finished(self, message: SolveFinished) -> None:
        table = self.query_one("#fabric", DataTable)
        table.clear(columns=True)
        table.add_columns("scenario", "tier", "switches", "links", "optic (lower / upper)", "cables", "lit fibres")
        for name, doc in message.plans.fabrics.items():
            for tier, role in ROLES.items():
                m = doc["media"].get(tier)
                if m:
                    table.add_row(name, tier, f"{doc['switches'][role]:,} {role}", f"{doc['links'][tier]:,}",
                                  f"{m['lower']} / {m['upper']}", f"{m['cables']:,}", f"{m['fibers']:,}")

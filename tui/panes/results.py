"""F3 Results: the recommendation, a card per scenario, and the scenarios side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from tui.messages import SolveFailed, SolveFinished
from tui.panes.base import Pane

if TYPE_CHECKING:
    from planner.outputs.records import NoPlanSummary, PlanSummary


class ResultsPane(Pane):
    """Filled by :class:`SolveFinished`; :class:`SolveFailed` says what stopped the solve."""

    KEY, TITLE, PANE_ID = "f3", "Results", "results-tab"

    def __init__(self) -> None:
        super().__init__()
        self.solved = False  # the tables hold a solve's results

    def compose(self) -> ComposeResult:
        yield Static("Press Ctrl+R to solve.", id="recommendation")
        yield Horizontal(id="cards")
        yield DataTable(id="compare", zebra_stripes=True)
        yield DataTable(id="business", zebra_stripes=True)  # business model and margin per MW (as compare prints)

    def on_solve_failed(self, message: SolveFailed) -> None:
        stale = "\nThe tables below are from the last solve that finished." if self.solved else ""
        self.query_one("#recommendation", Static).update(
            f"Solve failed (the site file is unchanged): {message.problem}{stale}")

    def on_solve_finished(self, message: SolveFinished) -> None:
        from planner.outputs.business import BUSINESS_ROWS, business_value
        from planner.outputs.cells import format_cell
        from planner.outputs.summary import row_value, summary_rows

        doc = message.plans.summary
        names = message.plans.scenarios
        table = self.query_one("#compare", DataTable)
        table.clear(columns=True)
        table.add_columns("", *names)
        room = max(14, (self.app.size.width - 28) // max(1, len(names)) - 2)  # every scenario on screen

        def fit(text: str) -> str:
            return text if len(text) <= room else text[: room - 1] + "…"

        for label, key, kind in summary_rows(doc):  # with the power-market and interim lines when any
            cells = [fit(format_cell(row_value(doc.scenarios[n], key), kind)) for n in names]
            differ = len(set(cells)) > 1
            table.add_row(label, *[f"[b]{c}[/b]" if differ else c for c in cells])
        business = self.query_one("#business", DataTable)  # the rows `planner compare` prints below its table
        business.clear(columns=True)
        business.add_columns("business model and margin per MW of grid", *names)
        scenarios = {n: doc.scenarios[n].model_dump() for n in names}
        for label, path, kind in BUSINESS_ROWS:
            business.add_row(label, *(fit(format_cell(business_value(scenarios[n], path), kind)) for n in names))
        rec = doc.recommendation
        binds = "; ".join(f"{n}: {b}" for n, s in doc.scenarios.items() for b in s.binding_constraints)
        self.query_one("#recommendation", Static).update(
            f"Recommendation: {rec.scenario or 'none'} ({rec.reason})\nBinding: {binds or 'none'}")
        cards = self.query_one("#cards", Horizontal)
        cards.remove_children()
        for n in names:
            card = Static(card_text(doc.scenarios[n]), classes="card best" if n == rec.scenario else "card")
            card.border_title = n
            cards.mount(card)
        self.solved = True


def card_text(sc: PlanSummary | NoPlanSummary) -> str:
    """A scenario's card: NPV, capex, GPUs and miners, power; or its status and why."""
    from planner.outputs.records import NoPlanSummary

    if isinstance(sc, NoPlanSummary):
        why = sc.binding_constraints if sc.status == "infeasible" else [sc.message]
        return f"{sc.status}\n" + "\n".join(why)
    return (f"NPV {sc.npv_usd / 1e6:,.1f} M USD\ncapex {sc.capex_usd / 1e6:,.1f} M USD\n"
            f"{sc.gpus:,} GPUs, {sc.miners:,} miners\n{sc.facility_power_mw:,.1f} MW of "
            f"{sc.grid_capacity_mw:g} MW")

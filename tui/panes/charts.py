"""F6 Charts: price, grid import and miner load over the year; capex as bars."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from tui.messages import SolveFinished
from tui.panes.base import Pane


class ChartsPane(Pane):
    """Filled by :class:`SolveFinished`."""

    KEY, TITLE, PANE_ID = "f6", "Charts", "charts-tab"

    def compose(self) -> ComposeResult:
        yield VerticalScroll(Static("Solve (Ctrl+R) to see the charts.", id="charts-note"), id="charts")

    def on_solve_finished(self, message: SolveFinished) -> None:
        """Price, grid import and miner load over the year for each scenario (sparklines
        with a time axis; a constant series is said, not drawn; a price series whose
        spikes would flatten the line is clipped at its 99th percentile, and says so);
        capex as bars."""
        box = self.query_one("#charts", VerticalScroll)
        box.remove_children()
        widgets: list[Widget] = []
        for name, rows in message.plans.dispatch.items():  # a DataFrame per scenario, one row per step
            if rows.empty:
                continue
            steps = rows["step"].tolist()
            widgets += chart(f"{name}: price, USD/MWh ({len(rows):,} step{'' if len(rows) == 1 else 's'})",
                             rows["price_usd_per_mwh"].tolist(), steps, clip=True)
            widgets += chart(f"{name}: grid import (AI + miners), MW; capacity "
                             f"{rows['grid_capacity_mw'].max():g} MW",
                             rows["grid_import_mw"].tolist(), steps)
            widgets += chart(f"{name}: miners, MW", rows["miner_load_mw"].tolist(), steps)
        from planner.outputs.records import PlanSummary

        ok = {n: s.capex_usd for n, s in message.plans.summary.scenarios.items() if isinstance(s, PlanSummary)}
        if ok:
            top = max(ok.values()) or 1.0
            widgets.append(Static("capex, million USD", classes="chart-title"))
            for n, capex in ok.items():
                bar = "█" * max(0, round(40 * capex / top))
                widgets.append(Static(f"{n:>12} {bar} {capex / 1e6:,.1f}"))
        box.mount_all(widgets or [Static("No time series: the site has one price.")])


def chart(title: str, values: list[float], steps: list[str], clip: bool = False) -> list[Widget]:
    """A titled sparkline with its time axis (first and last step). A constant series is
    said in words (a sparkline of equal values draws as a full block or a flat line,
    depending on the data). With ``clip``, values beyond the 1st-99th percentiles are
    clipped when they would squash the rest, and the title says so."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    lo, hi = float(data.min()), float(data.max())
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):
        return [Static(f"{title}: constant at {hi:,.2f}", classes="chart-title")]
    note = f", {lo:,.1f} to {hi:,.1f}"
    if clip and data.size >= 100:
        p1, p99 = (float(x) for x in np.percentile(data, [1, 99]))
        if hi - lo > 4 * (p99 - p1) > 0:
            data = np.clip(data, p1, p99)
            note = f", clipped to {p1:,.1f} to {p99:,.1f} (1st to 99th percentile; extremes {lo:,.1f} and {hi:,.1f})"
    axis = Static(f"{steps[0]}  ...  {steps[-1]}" if len(steps) > 1 else steps[0], classes="chart-axis")
    # a price is shown by each column's mean (a year of quarter hours in 80 columns), a load
    # by its peak (what the connection must carry)
    summary = (lambda xs: sum(xs) / len(xs)) if clip else max
    return [Static(title + note, classes="chart-title"), Sparkline(data.tolist(), summary_function=summary), axis]

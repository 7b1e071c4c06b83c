"""The portfolio view: ``planner tui PORTFOLIO.toml`` opens it instead of the site editor.

It solves the portfolio in a thread worker through the planner's one entry
(:func:`planner.app.portfolio.run_portfolio`, as ``planner portfolio`` does) and shows the
per-site table, the totals solved together against one by one, and the notes (sites that
cannot help, what binds, the links). The worker posts typed messages; the app only fills
its widgets from them. Ctrl+R solves again (after the files were edited elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

if TYPE_CHECKING:
    from planner.outputs.portfolio import PortfolioDocument


@dataclass
class PortfolioSolved(Message):
    """The worker solved the portfolio (optimal or infeasible: the document says which)."""

    doc: PortfolioDocument


@dataclass
class PortfolioFailed(Message):
    """The portfolio or a site file is bad (exit 2 on the command line), or the planner failed."""

    text: str


def is_portfolio(path: Path) -> bool:
    """A TOML file with [[sites]] and no [grid]: a portfolio file, not a site file."""
    from planner.site.portfolio import is_portfolio_file

    return is_portfolio_file(path)


class PortfolioApp(App[None]):
    """The portfolio's per-site table and totals, solved in the background."""

    TITLE = "planner: portfolio"
    BINDINGS = [Binding("ctrl+r", "solve", "Solve again", priority=True),
                Binding("ctrl+q", "quit", "Quit", priority=True)]
    CSS = """
    #portfolio-status { height: auto; padding: 0 1; color: $accent; }
    #portfolio-sites { height: auto; max-height: 50%; }
    #portfolio-legend { height: auto; padding: 0 1 1 1; color: $text-muted; }
    #portfolio-totals { height: auto; }
    #portfolio-notes { height: auto; padding: 1 1 0 1; color: $text-muted; }
    """

    def __init__(self, path: Path, overlays: list[Path] | None = None, solver: str = "highs"):
        from tui.driver import terminal_driver

        super().__init__(driver_class=terminal_driver())  # measured on stderr: stdout is the null device
        self.path, self.overlays, self.solver = path, overlays or [], solver
        self.doc: PortfolioDocument | None = None

    def compose(self) -> ComposeResult:
        from planner.outputs.portfolio import SITE_COLUMNS, SITE_LEGEND

        yield Header()
        yield Static("", id="portfolio-status")
        sites: DataTable[str] = DataTable(id="portfolio-sites", zebra_stripes=True)
        sites.add_columns(*SITE_COLUMNS)
        yield sites
        yield Static(SITE_LEGEND, id="portfolio-legend")
        totals: DataTable[str] = DataTable(id="portfolio-totals")
        totals.add_columns("", "together", "one by one", "difference")
        yield totals
        yield Static("", id="portfolio-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.action_solve()

    def action_solve(self) -> None:
        self.query_one("#portfolio-status", Static).update(f"solving {self.path.name}: every site, then together ...")
        self._solve()

    @work(thread=True, exclusive=True, group="portfolio")
    def _solve(self) -> None:
        from planner.app.portfolio import run_portfolio
        from planner.errors import InputError
        from planner.site.portfolio import load_portfolio

        try:
            doc, _ = run_portfolio(load_portfolio(self.path), self.overlays, self.solver)
        except InputError as exc:
            self.post_message(PortfolioFailed(str(exc)))
            return
        except Exception as exc:  # a fault in the planner: said, not a crash
            self.post_message(PortfolioFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(PortfolioSolved(doc))

    def on_portfolio_solved(self, message: PortfolioSolved) -> None:
        from planner.outputs.portfolio import link_lines, site_notes, site_rows, total_rows

        doc = self.doc = message.doc
        sites = self.query_one("#portfolio-sites", DataTable)
        sites.clear()
        for row in site_rows(doc):
            sites.add_row(*row)
        totals = self.query_one("#portfolio-totals", DataTable)
        totals.clear()
        for trow in total_rows(doc):
            totals.add_row(*trow)
        lines = site_notes(doc) + [f"binds: {b}" for b in doc.binding_constraints]
        lines += link_lines(doc) + [f"note: {n}" for n in doc.interconnect_notes]
        self.query_one("#portfolio-notes", Static).update("\n".join(lines))
        status = f"{doc.portfolio}: {doc.status}" + (
            "" if doc.together is None else f", NPV {doc.together.npv_usd / 1e6:,.1f} M USD together against "
                                            f"{doc.one_by_one.npv_usd / 1e6:,.1f} one by one")
        self.query_one("#portfolio-status", Static).update(status)

    def on_portfolio_failed(self, message: PortfolioFailed) -> None:
        self.query_one("#portfolio-status", Static).update(f"cannot solve the portfolio: {message.text}")

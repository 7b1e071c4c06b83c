"""What every pane is: one tab of the app, its widgets and the messages it acts on."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import TabPane


class Pane(TabPane):
    """One tab of the app. A pane composes its own widgets and changes them only from the
    messages the app hands it (``on_site_checked``, ``on_solve_finished``, ...: see
    :mod:`tui.messages`); what it needs from the start (the catalog, the first text) it
    is given when made. It is a :class:`TabPane`, so the tabs lay out as before the split."""

    KEY: ClassVar[str]  # the function key that shows it, e.g. "f1"
    TITLE: ClassVar[str]  # e.g. "Site"
    PANE_ID: ClassVar[str]  # e.g. "site-tab"

    def __init__(self) -> None:
        super().__init__(f"{self.KEY.upper()} {self.TITLE}", id=self.PANE_ID)

    def activated(self) -> None:
        """The app showed this pane's tab (a key, a click, the palette). Nothing by default."""

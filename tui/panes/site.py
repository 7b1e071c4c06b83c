"""F1 Site: the site file's raw text in an editor, and its problems beside it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static, TextArea

from planner.errors import Problem
from tui.messages import SiteChecked, SiteEdited
from tui.panes.base import Pane


class SitePane(Pane):
    """The editor posts every change up as :class:`SiteEdited`; a checked text fills the
    problems panel, and a text from elsewhere (the form, the file) replaces the editor's."""

    KEY, TITLE, PANE_ID = "f1", "Site", "site-tab"

    def __init__(self, text: str) -> None:
        super().__init__()
        self._first_text = text

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield TextArea(self._first_text, id="editor", show_line_numbers=True, tab_behavior="focus")
            yield Static("", id="problems")

    @on(TextArea.Changed, "#editor")
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        self.post_message(SiteEdited(event.text_area.text, "editor"))

    def on_site_checked(self, message: SiteChecked) -> None:
        editor = self.query_one("#editor", TextArea)
        if message.origin != "editor" and editor.text != message.text:
            with editor.prevent(TextArea.Changed):
                editor.load_text(message.text)
        panel = self.query_one("#problems", Static)
        if message.problems:
            panel.update("\n".join(problem_line(p) for p in message.problems))
            panel.set_class(True, "bad")
        else:
            panel.update("valid: " + ", ".join(message.scenarios) if message.scenarios is not None else "")
            panel.set_class(False, "bad")


def problem_line(problem: Problem) -> str:
    """A problem as the panel shows it: line, dotted key, message, hint."""
    return (f"line {problem.line or '?'}: " + (f"{problem.key}: " if problem.key else "") + problem.message
            + (f" ({problem.hint})" if problem.hint else ""))

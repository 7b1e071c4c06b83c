"""The app's dialogs: a question with buttons, and the site file picker."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label
from textual.widgets.button import ButtonVariant


class Choose(ModalScreen[str]):
    """A question with buttons; the first (the safe one) has the focus, so Enter never
    takes the destructive choice. Escape answers the first too."""

    BINDINGS = [Binding("escape", "answer_first", "cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str, ButtonVariant]]):
        super().__init__()
        self.question, self.choices = question, choices  # (id, label, variant)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            with Horizontal(id="buttons"):
                for key, label, variant in self.choices:
                    yield Button(label, variant=variant, id=key)

    def on_mount(self) -> None:
        self.query_one(f"#{self.choices[0][0]}", Button).focus()

    def action_answer_first(self) -> None:
        self.dismiss(self.choices[0][0])

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


def confirm_quit() -> Choose:
    """Unsaved changes: stay (the default), save and quit, or quit without saving."""
    return Choose("The site has unsaved changes.",
                  [("stay", "Cancel", "primary"), ("save", "Save and quit", "success"),
                   ("quit", "Quit without saving", "error")])


class OpenSite(ModalScreen[Path | None]):
    """Pick a site file (or type a path; a new path starts from the template)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, start: Path):
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Open a site file (Enter on a .toml file), or type a path and press Enter:")
            yield Input(placeholder="sites/my-site.toml", id="path")
            yield DirectoryTree(str(self.start), id="tree")

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        if event.path.suffix == ".toml":
            self.dismiss(Path(event.path))

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(Path(event.value.strip()))

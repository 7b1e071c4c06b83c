"""What the user is working on, kept outside the widgets: the site file, its text, its
validation and the last solve's plans."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import Problem
from planner.site.load import LoadedSite
from tui.messages import SolvedPlans

if TYPE_CHECKING:
    from planner.outputs.records import SummaryDocument

Fingerprint = tuple[int, int, str]  # (size, mtime in ns, sha256) of a file


@dataclass
class Session:
    """The file, its text, and the last results."""

    path: Path
    text: str
    saved_text: str
    problems: list[Problem] = field(default_factory=list)
    loaded: LoadedSite | None = None
    plans: SolvedPlans | None = None  # the last solve that finished
    solved_text: str | None = None  # the text that solve was given
    disk: Fingerprint | None = None  # the file as last read or written here

    @classmethod
    def open(cls, path: Path) -> Session:
        """The file as it is on disk, or the template of a new site when there is none."""
        from planner.site.text import template

        exists = path.exists()
        text = read_text(path) if exists else template(path.stem)
        return cls(path=path, text=text, saved_text=text if exists else "", disk=fingerprint(path))

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    @property
    def results_state(self) -> str:
        """What the results on screen are of: "solved" (this text), "edited since the solve"
        (an earlier text), or "" before any solve finished."""
        if self.plans is None:
            return ""
        return "solved" if self.solved_text == self.text else "edited since the solve"

    @property
    def summary(self) -> SummaryDocument | None:
        """summary.json's document of the last solve (None before one)."""
        return self.plans.summary if self.plans is not None else None

    def changed_on_disk(self) -> bool:
        """Another program wrote the file since this session read or saved it."""
        return self.disk is not None and fingerprint(self.path) != self.disk


def fingerprint(path: Path) -> Fingerprint | None:
    """(size, mtime, sha256) of a file; None when there is no file."""
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_text(path: Path) -> str:
    """The site's text as it is on disk: line ends kept (a CRLF file is saved as CRLF)."""
    return path.read_bytes().decode("utf-8")

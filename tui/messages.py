"""The typed messages between the app, its solve worker and the panes.

Attributes down, messages up (harlequin's and posting's habit): the app owns the session
(the site text, its validation, the last solve) and the solve worker; a pane owns its
widgets and changes them only when a message tells it what happened.

- A pane's edit of the site bubbles up to the app as :class:`SiteEdited`; the app keeps
  the text, validates it and tells every pane :class:`SiteChecked`.
- The solve worker posts :class:`SolveStarted`, :class:`SolveProgress`, then one of
  :class:`SolveFinished`, :class:`SolveFailed` or :class:`SolveCancelled` to the app
  (``post_message`` is safe from a thread); the app acts on each (status line, tab,
  session) and hands every pane its own copy (:func:`copy`).

The messages the app hands down do not bubble (each class says so: Textual's default is to
bubble, and a subclass does not inherit the choice), so a pane's copy never comes back.
Each message is a dataclass (Textual calls ``__post_init__`` to set up a dataclass
message), so its fields are typed and its handler name follows from its class name:
``SolveFinished`` is handled by ``on_solve_finished``.

Every solve message names the solve it belongs to (``solve_id``): a cancelled solve's
thread may still finish after a new one has started, and the app drops its messages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from textual.message import Message

if TYPE_CHECKING:
    import pandas as pd

    from planner.errors import Problem
    from planner.outputs.records import BomRow, SummaryDocument

Origin = Literal["editor", "form", "file"]
"""Where a site text came from: typed in the raw editor, edited in the form, or read from
the file (the app started, a site was opened, the file was reloaded)."""


@dataclass(frozen=True)
class SolvedPlans:
    """What one solve of every scenario gives the panes (``planner.app.pipeline.SiteRun``'s
    outputs): summary.json's document, bom.csv's rows, each chosen fabric's counts and
    each scenario's dispatch per time step."""

    summary: SummaryDocument
    bom: tuple[BomRow, ...]
    fabrics: dict[str, dict[str, Any]]
    dispatch: dict[str, pd.DataFrame]

    @property
    def scenarios(self) -> list[str]:
        """The solved scenarios, in the site file's order."""
        return list(self.summary.scenarios)


@dataclass
class SiteEdited(Message):
    """A pane changed the site text (the raw editor, or the form). Bubbles up to the app,
    which keeps the text in the session and validates it."""

    text: str
    origin: Origin


@dataclass
class SiteChecked(Message, bubble=False):
    """The site text changed and was validated."""

    text: str
    problems: tuple[Problem, ...]
    scenarios: tuple[str, ...] | None  # the scenarios' names; None when the text does not load
    origin: Origin


@dataclass
class SolveMessage(Message, bubble=False):
    """Something the solve worker says about the solve ``solve_id``."""

    solve_id: int


@dataclass
class SolveStarted(SolveMessage, bubble=False):
    """A solve of these scenarios has started."""

    scenarios: tuple[str, ...]


@dataclass
class SolveProgress(SolveMessage, bubble=False):
    """Scenario ``index`` of ``count`` (from 1), ``name``, is being solved."""

    index: int
    count: int
    name: str


@dataclass
class SolveFinished(SolveMessage, bubble=False):
    """Every scenario is solved (each may be optimal, infeasible or stopped: see its status)."""

    plans: SolvedPlans
    elapsed_s: float


@dataclass
class SolveFailed(SolveMessage, bubble=False):
    """The solve stopped on an error; the site file and the last results are untouched."""

    problem: str  # what the user reads: each input problem on a line, or the fault's type and text
    problems: tuple[Problem, ...]  # the input problems (file, key, line) when the site is at fault
    elapsed_s: float


@dataclass
class SolveCancelled(SolveMessage, bubble=False):
    """The user cancelled the solve (Esc); it stopped before its next scenario."""

    elapsed_s: float


M = TypeVar("M", bound=Message)


def copy(message: M) -> M:
    """A new message with the same fields, for another receiver: a message carries its own
    delivery state (stopped, default prevented), so one instance is posted once."""
    return dataclasses.replace(message)  # type: ignore[type-var]

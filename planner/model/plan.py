"""A built (not yet solved) plan model: the linear program and where its columns are. Built
by :mod:`planner.model.build` (and its constraint families in :mod:`planner.model.markets`),
solved by :mod:`planner.model.optimize`; a module of its own so that every one of them can
name it without importing the others."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.model.lp import LinearProgram
from planner.model.scenario import ScenarioInputs


@dataclass
class PlanModel:
    """A built (not yet solved) problem: the linear program and where its columns are."""

    inputs: ScenarioInputs
    lp: LinearProgram
    size: np.ndarray  # option index -> its binary column
    keep_before: dict[str, int]  # miner block key -> column of miners running before the AI start
    keep_with_ai: dict[str, int]  # miner block key -> column of miners running beside the AI
    ai_groups: list = field(default_factory=list)  # (steps on, facility MW column, IT MW column) per group
    expand: int | None = None  # binary column: buy the grid expansion
    run: dict[str, np.ndarray] = field(default_factory=dict)  # block -> columns of miners running, per step class
    run_before: dict[str, np.ndarray] = field(default_factory=dict)  # the same, before the AI start
    elastic: dict[str, int] = field(default_factory=dict)  # family -> slack column
    meaning: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0
    moved: dict[str, int] = field(default_factory=dict)  # block -> column of miners moved to another hall
    classes: dict[str, tuple] = field(default_factory=dict)  # period -> (class of each step, first step of each)
    markets: dict[str, tuple] = field(default_factory=dict)  # market columns: offers and monthly peaks per period
    reduced: bool = True  # steps merged into classes (False: the reference model, a column per step)
    phase_share: dict[int, np.ndarray] = field(default_factory=dict)  # option -> share column per phase
    retire: dict[str, np.ndarray] = field(default_factory=dict)  # block -> miners retired per phase month
    hall_phase: dict[int, np.ndarray] = field(default_factory=dict)  # option -> (hall x phase) binary columns
    interim: tuple | None = None  # (columns: each option starts on the interim supply, MW contracted)

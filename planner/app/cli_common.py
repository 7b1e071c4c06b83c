"""What the planner command's modules share: the exit codes, the --catalog option, the
consoles (rich, no markup) and the exception that ends a command with an exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

EXIT_INFEASIBLE = 1
EXIT_INTERNAL = 3
EXIT_INPUT = 2


CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Overlay catalog folder (repeatable); later folders win by key."),
]


def make_console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)


class Failed(Exception):
    """Raised inside commands to end with an exit code after printing."""

    def __init__(self, code: int):
        self.code = code


def emit_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def compute_error(exc: Exception, option: str = "") -> InputError:
    from planner.errors import Problem

    return InputError([Problem("command line", option, str(exc))])

"""User-facing input errors: each problem names the file, the dotted key and the line.

The CLI turns an :class:`InputError` into exit code 2 and prints its problems; a
library caller gets the same structured list.
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    key: str
    message: str
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return printable(text)


def printable(text: str, limit: int = 2000) -> str:
    """Text safe to print on a terminal: control characters (an ESC sequence in a name or
    a key) shown escaped, and at most ``limit`` characters."""
    out = "".join(ch if ch.isprintable() or ch == "\n" else ch.encode("unicode_escape").decode() for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


@dataclass
class InputError(Exception):
    """Bad input: one or more :class:`Problem`; maps to exit code 2 in the CLI."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean 'x'?" hint from the closest choice, or None."""
    matches = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def dotted(loc: Sequence[str | int]) -> str:
    """('buildings', 0, 'polygon') -> 'buildings[0].polygon'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def display_path(path: Path) -> str:
    """The path as the user wrote it when relative to the working folder, else as given."""
    try:
        return _display_path(str(path), os.getcwd())
    except OSError:  # the working folder is gone
        return str(path)


@functools.lru_cache(maxsize=256)
def _display_path(path: str, cwd: str) -> str:
    """display_path of ``path`` from the working folder ``cwd`` (kept: a sweep's variants name
    the same few files hundreds of times, and resolving one walks the file system)."""
    try:
        return str(Path(path).resolve().relative_to(Path(cwd).resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the folder; a symbolic link loop; a folder gone
        return path

"""Line numbers for keys in a TOML document.

``tomllib`` returns plain data without positions, so error messages would lose the
line. :func:`key_lines` scans the text once and maps each key path (with array-of-table
indices) to the line that defines it; :func:`line_of` finds the nearest defined prefix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)


def _split(dotted: str) -> list[str]:
    parts = []
    for m in _PART.finditer(dotted):
        token = m.group(0)
        if token[0] == '"' and "\\" in token:  # escapes ("a\u0007b"): the key as TOML reads it
            try:
                token = next(iter(tomllib.loads(f"{token} = 0")))
            except tomllib.TOMLDecodeError:
                token = token[1:-1]
        elif token[0] in "\"'":
            token = token[1:-1]
        parts.append(token)
    return parts


def key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map every key path in ``text`` to its 1-based line.

    Array-of-table headers get an index: the second ``[[buildings]]`` is
    ``('buildings', 1)``. Keys inside multi-line values are not descended into.
    """
    lines: dict[tuple[str | int, ...], int] = {}
    counters: dict[tuple[str | int, ...], int] = {}
    current: tuple[str | int, ...] = ()
    depth = 0  # open brackets of a multi-line array
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if depth > 0:
            depth += raw.count("[") - raw.count("]")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(raw)
        if header:
            names = tuple(_split(header.group(2)))
            if header.group(1) == "[[":
                base = (*_resolve(names[:-1], counters), names[-1])
                index = counters.get(base, -1) + 1
                counters[base] = index
                current = (*base, index)
            else:
                current = _resolve(names, counters)
            lines.setdefault(current, number)
            continue
        assign = _ASSIGN.match(raw)
        if assign:
            path = (*current, *_split(assign.group(1)))
            lines.setdefault(path, number)
            value = raw[assign.end():]
            depth = max(0, value.count("[") - value.count("]"))
    return lines


def _resolve(parts: tuple[str, ...], counters: dict[tuple[str | int, ...], int]) -> tuple:
    """Insert the current array index after every array-of-tables prefix."""
    out: list[str | int] = []
    for part in parts:
        out.append(part)
        key = tuple(out)
        if key in counters:
            out.append(counters[key])
    return tuple(out)


def line_of(lines: dict[tuple[str | int, ...], int], loc: Sequence[str | int]) -> int | None:
    """Line of ``loc`` or of its longest defined prefix; None when nothing matches."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None

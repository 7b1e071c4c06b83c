"""Reading TOML input files with user-facing errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from planner.errors import InputError, Problem, display_path
from planner.tomlpos import key_lines

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
MAX_BYTES = 16 * 1024 * 1024  # a site, sweep or catalog file; far above any real one


def read_toml(path: Path) -> tuple[dict[str, Any], dict[tuple, int]]:
    """Parse ``path``; return the data and the key -> line map.

    Raises :class:`InputError` naming the file (and line) when the file is missing,
    unreadable, not UTF-8 or not TOML.
    """
    shown = display_path(path)
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise InputError([Problem(shown, "", "is not a regular file (a device, a pipe or a socket)")])
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise InputError([Problem(shown, "", f"is {path.stat().st_size:,} bytes; an input file may be at most "
                                      f"{MAX_BYTES:,}")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(shown, "", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(shown, "", "is a folder, expected a TOML file")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, "", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, "", f"not UTF-8 text (byte {exc.start})")]) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputError([Problem(shown, "", "nests arrays or tables too deeply to read")]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _AT.search(message)
        line = int(match.group(1)) if match else None
        message = _AT.sub("", message).strip()
        raise InputError([Problem(shown, "", f"not valid TOML: {message}", line=line)]) from None
    return data, key_lines(text)

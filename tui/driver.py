"""The terminal driver: Textual's, measuring the terminal on the stream it draws on."""

from __future__ import annotations

import os
import sys

from textual.driver import Driver


def terminal_driver() -> type[Driver] | None:
    """Textual's driver for this platform, measuring the terminal on the stream it draws
    on. The planner points file descriptor 1 at the null device while it runs (C
    libraries print there, and a solver banner would scar the screen), so the standard
    measure of stdout finds no terminal and the app would be drawn at 80 x 24 in any
    window. Textual draws through stderr: measure that. None (Textual's choice) on Windows."""
    if sys.platform == "win32":
        return None
    from textual.drivers.linux_driver import LinuxDriver

    class MeasuringDriver(LinuxDriver):
        def _get_terminal_size(self) -> tuple[int, int]:
            for stream in (sys.__stderr__, sys.__stdout__):
                if stream is None:
                    continue
                try:
                    size = os.get_terminal_size(stream.fileno())
                except (AttributeError, ValueError, OSError):
                    continue
                if size.columns and size.lines:
                    return size.columns, size.lines
            return super()._get_terminal_size()

    return MeasuringDriver

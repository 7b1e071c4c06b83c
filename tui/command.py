"""``planner tui [SITE.toml]``: the command that opens the terminal UI.

The planner's CLI adds it by entry point (``planner.commands`` in pyproject.toml), so the
planner never imports this package; this module imports only the CLI's shared options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.app.cli_common import CatalogOpt
from planner.errors import InputError


def tui_cmd(
    site: Annotated[Path | None, typer.Argument(
        help="Site file to open (a new path starts from a template), or a portfolio file.")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """The terminal UI: edit a site, solve it, compare scenarios, browse the BOM and catalog; or a portfolio."""
    from planner.errors import Problem, display_path
    from planner.parts.catalog import load_catalog

    try:
        from tui.app import make_app
    except ImportError as exc:  # the tui package ships with the distribution
        raise InputError([Problem("installation", "tui", f"the terminal UI is not installed: {exc}")]) from None
    if site is not None and (site.exists() or site.is_symlink()):
        shown = display_path(site)
        if not site.is_file():
            raise InputError([Problem(shown, "", "is not a regular file: give a site file (.toml)")])
        from planner.tomlio import MAX_BYTES

        if site.stat().st_size > MAX_BYTES:
            raise InputError([Problem(shown, "", f"is larger than {MAX_BYTES:,} bytes")])
        try:
            site.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError([Problem(shown, "", f"not UTF-8 text (byte {exc.start})")]) from None
        except OSError as exc:
            raise InputError([Problem(shown, "", f"cannot read: {exc.strerror}")]) from None
    if site is not None and site.is_file():
        from tui.portfolio import PortfolioApp, is_portfolio

        if is_portfolio(site):  # a portfolio file: its per-site table (planner portfolio's)
            PortfolioApp(site, catalog).run()
            return
    make_app(site, catalog=load_catalog(catalog or []), overlays=catalog or []).run()

"""Shared fixtures: the bundled catalog (loaded once) and paths to test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.parts.catalog import Catalog, load_catalog

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SITES = ROOT / "sites"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def write_site(tmp_path):
    """Write a site file from text and return its path."""

    def write(text: str, name: str = "site.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def texas_outputs(tmp_path_factory) -> Path:
    """The Texas hybrid site's output set, solved once by the CLI (a 15-minute price year of
    2025, miners beside the AI, estimates): the workbook's and the report's tests read it,
    never change it."""
    from planner.app.cli import main

    out = tmp_path_factory.mktemp("texas") / "out"
    assert main(["solve", str(SITES / "texas-hybrid.toml"), "-o", str(out), "-q", "--graphml", "never"]) == 0
    return out

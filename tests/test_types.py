"""The type checker CI runs (issue 18 point 5): mypy, configured in pyproject.toml
([tool.mypy]: every function typed, untyped libraries as Any), passes on planner/ and tui/."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT


def test_mypy_passes_on_planner_and_tui():
    pytest.importorskip("mypy")
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "planner", "tui"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

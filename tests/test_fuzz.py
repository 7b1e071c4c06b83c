"""Fuzzing every value of the example sites (issue 16): each scalar of each site replaced by
extremes, one at a time. Validation must answer with problems or a site, never raise; a
sample of the mutated sites that validate is solved end to end, which must finish with exit
0, 1 or 2 (never 3, never a traceback) within a time and a memory bound."""

from __future__ import annotations

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.site.text import validate_text
from tui.widgets.site_form import scalar_fields

from .conftest import SITES
from .test_fuzz_files import assert_answer, run_cli

EXTREMES = [0, -1, 1e300, -1e300, 2**63 - 1, 1e-300, 7.5, "", "=cmd|' /C calc'!A0", "\x1b[2J", "x" * 10_000]


def _mutations(name: str):
    text = (SITES / name).read_text()
    doc = tomlkit.parse(text)
    for path, value in scalar_fields(doc):
        if isinstance(value, list):
            continue
        for extreme in EXTREMES:
            if isinstance(value, str) != isinstance(extreme, str):
                continue
            yield path, extreme


def _set(doc, path, value):
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


@pytest.mark.parametrize("name", sorted(p.name for p in SITES.glob("*.toml")))
def test_every_value_of_every_site_at_its_extremes_validates_or_is_named(catalog, name):
    text = (SITES / name).read_text()
    checked = 0
    for path, extreme in _mutations(name):
        doc = tomlkit.parse(text)
        _set(doc, path, extreme)
        loaded, problems = validate_text(tomlkit.dumps(doc), SITES / name, catalog)
        assert loaded is not None or problems, (path, extreme)
        for p in problems:
            assert "\x1b" not in str(p)
        checked += 1
    assert checked > 50


SICHUAN = (SITES / "sichuan-hydro.toml").read_text()
SICHUAN_PATHS = [p for p, v in scalar_fields(tomlkit.parse(SICHUAN)) if isinstance(v, int | float)
                 and not isinstance(v, bool)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(SICHUAN_PATHS),
       value=st.sampled_from([0, 1, -1, 0.5, 3, 100, 1e4, 1e6, 1e9, 2**31]))
def test_solving_a_mutated_site_ends_with_an_answer(tmp_path_factory, path, value):
    doc = tomlkit.parse(SICHUAN)
    _set(doc, path, value)
    folder = tmp_path_factory.mktemp("fuzz")
    site = folder / "site.toml"
    site.write_text(tomlkit.dumps(doc))
    code, err = run_cli("solve", site, "-q", "-o", folder / "out", limit=120)  # time and memory bounded
    assert_answer(code, err, (path, value))

"""One tiny bad file per kind of bad input: exit 2, file, dotted key, line, suggestion."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.app.cli import main

from .conftest import DATA, SITES

BAD = DATA / "bad_sites"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_toml.toml", ["not_toml.toml:4", "not valid TOML"]),
        ("unknown_key.toml", ["unknown_key.toml:5", "grid.capacity_mv", "unknown key", "did you mean 'capacity_mw'"]),
        ("misspelt_part.toml", ["misspelt_part.toml:12", "ai.server", "unknown server 'dgx-h10'",
                                "did you mean 'dgx-h100'"]),
        ("negative_capacity.toml", ["negative_capacity.toml:5", "grid.capacity_mw", "greater than 0"]),
        ("missing_series.toml", ["missing_series.toml:9", "power_price.file", "not found"]),
        ("series_wrong_length.toml", ["power_price.file", "covers 25 h", "at least a week"]),
        ("series_nan.toml", ["power_price.price_column", "non-numeric", "file line 32"]),
        ("unknown_unit.toml", ["unknown_unit.toml:10", "power_price.unit", "did you mean 'usd_per_mwh'"]),
        ("self_intersecting_polygon.toml", ["self_intersecting_polygon.toml:27", "buildings[0].polygon",
                                            "self-intersecting"]),
        ("racks_cannot_fit.toml", ["racks_cannot_fit.toml", "buildings", "rack positions", "need about"]),
    ],
)
def test_bad_site(capsys, name, expected):
    code = main(["validate", str(BAD / name)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err.replace("\\", "/"), (text, err)


def test_solve_on_a_bad_site_writes_nothing(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["solve", str(BAD / "misspelt_part.toml"), "-o", str(out)]) == 2
    assert not out.exists()


EXAMPLE = (SITES / "greenfield-campus.toml").read_text()
LINES = EXAMPLE.splitlines()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    line=st.integers(0, len(LINES) - 1),
    action=st.sampled_from(["delete", "duplicate", "garble", "number", "string", "truncate"]),
    junk=st.sampled_from(["-1", "1e309", "nan", '"x"', "[1, 2]", "{ a = 1 }", "true", "", "= =", "[[x]]"]),
)
def test_mutated_sites_never_give_a_traceback(tmp_path_factory, line, action, junk):
    lines = list(LINES)
    text = lines[line]
    if action == "delete":
        del lines[line]
    elif action == "duplicate":
        lines.insert(line, text)
    elif action == "garble":
        lines[line] = text[: len(text) // 2] + junk
    elif action in ("number", "string") and "=" in text:
        key = text.split("=", 1)[0]
        lines[line] = f"{key}= {junk if action == 'number' else repr(junk)}"
    elif action == "truncate":
        lines = lines[:line]
    path = tmp_path_factory.mktemp("m") / "site.toml"
    path.write_text("\n".join(lines) + "\n")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(path)])
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert "internal error" not in err.getvalue()


@pytest.mark.parametrize(
    ("command", "path", "expected"),
    [
        ("solve", SITES / "sweeps" / "xinjiang-btc.toml", ["this is a sweep file, not a site file", "planner sweep"]),
        ("sweep", SITES / "xinjiang-mine.toml", ["this is a site file, not a sweep file", "planner solve"]),
    ],
)
def test_a_file_of_the_other_kind_gets_one_message(capsys, tmp_path, command, path, expected):
    """A sweep file handed to solve (or a site file to sweep) is named as such, in one line,
    not as a list of every unknown key; nothing is written."""
    out = tmp_path / "out"
    code = main([command, str(path), "--out", str(out)] + (["--serial"] if command == "sweep" else []))
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for text in expected:
        assert text in err, (text, err)
    assert not out.exists()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e309"])
@pytest.mark.parametrize("key", ["capacity_mw", "max_kw_per_rack", "btc_price_usd"])
def test_non_finite_numbers_are_refused(capsys, tmp_path, key, value):
    """TOML allows inf and nan (and 1e309 overflows to inf); no site figure may be one."""
    lines = list(LINES)
    at = next(i for i, text in enumerate(lines) if text.split("=")[0].strip() == key)
    lines[at] = f"{key} = {value}"
    path = tmp_path / "site.toml"
    path.write_text("\n".join(lines) + "\n")
    code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert f"site.toml:{at + 1}" in err and key in err and "finite" in err, err


def test_text_validation_reports_unknown_parts_beside_schema_errors(catalog):
    """The TUI's check as you type (validate_text) names an unknown part even while the
    schema refuses another key, like `planner validate`; without a catalog only the schema."""
    from pathlib import Path

    from planner.site.text import validate_text

    text = (SITES / "texas-hybrid.toml").read_text()
    text = text.replace('server = "dgx-h100"', 'server = "dgx-h10"').replace("capacity_mw = 100.0",
                                                                             "capacity_mw = 0")
    lines = text.splitlines()
    server_line = next(i for i, line in enumerate(lines, 1) if 'server = "dgx-h10"' in line)
    loaded, problems = validate_text(text, Path("t.toml"), catalog)
    assert loaded is None
    found = {(p.key, p.line) for p in problems}
    assert ("ai.server", server_line) in found and any(p.key == "grid.capacity_mw" for p in problems)
    server = next(p for p in problems if p.key == "ai.server")
    assert "unknown server 'dgx-h10'" in server.message and "dgx-h100" in (server.hint or "")
    _, alone = validate_text(text, Path("t.toml"))
    assert [p.key for p in alone] == ["grid.capacity_mw"]

"""The terminal UI driven with Textual's Pilot: edit, validate, save, solve, export."""

from __future__ import annotations

import pytest

from planner.sitefile import save_text, validate_text
from tui.app import make_app

from .conftest import SITES


@pytest.fixture
def site_copy(tmp_path):
    path = tmp_path / "sichuan.toml"
    path.write_text((SITES / "sichuan-hydro.toml").read_text())
    return path


async def _solve(pilot):
    """Ctrl+R, then wait for the background solve and the screen update."""
    await pilot.press("ctrl+r")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_edit_shows_problems_as_you_type(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one("#editor")
        assert "valid" in str(app.query_one("#problems").render())
        editor.text = editor.text.replace("capacity_mw = 60.0", "capacity_mv = 60.0")
        await pilot.pause()
        problems = str(app.query_one("#problems").render())
        assert "grid.capacity_mv" in problems and "did you mean 'capacity_mw'" in problems
        assert app.session.dirty


async def test_save_round_trip_keeps_comments(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one("#editor")
        editor.text = editor.text.replace("usd_per_mwh = 35.0", "usd_per_mwh = 36.0")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = site_copy.read_text()
    assert "usd_per_mwh = 36.0" in text
    assert "# A Sichuan-style hydro mine" in text  # comments kept: the text is the user's own
    assert (site_copy.parent / "sichuan.toml.bak").read_text() == (SITES / "sichuan-hydro.toml").read_text()


def test_a_failed_write_leaves_the_original_intact(site_copy, monkeypatch):
    import os

    original = site_copy.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_text(site_copy, "half = ")
    assert site_copy.read_text() == original
    assert not [p for p in site_copy.parent.iterdir() if p.name.endswith(".tmp")]


async def test_solve_in_the_background_then_browse_and_export(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _solve(pilot)
        assert app.session.summary["recommendation"]["scenario"] == "hybrid"
        compare = app.query_one("#compare")
        assert compare.row_count > 10
        bom = app.query_one("#bom")
        total = bom.row_count
        app.query_one("#bom-filter").value = "transceiver"
        await pilot.pause()
        assert 0 < bom.row_count < total
        await pilot.press("ctrl+e")
        await pilot.pause()
    exported = site_copy.with_name("sichuan-bom.csv")
    assert exported.read_text().startswith("scenario,category,part")


async def test_quit_with_unsaved_changes_asks(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#editor").text += "\n# edit"
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmQuit"
        await pilot.click("#stay")
        await pilot.pause()
        assert app.is_running


def test_validate_text_without_a_file(tmp_path, catalog):
    loaded, problems = validate_text("schema = 1\n", tmp_path / "x.toml", catalog)
    assert loaded is None and any(p.key == "grid" for p in problems)


def test_tui_snapshot(snap_compare, monkeypatch, catalog):
    """The first screen at 80 x 24, the smallest terminal the app is meant for (the site
    path is relative so that the header is the same on every machine)."""
    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    from pathlib import Path

    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), terminal_size=(80, 24))


async def test_form_edits_keep_comments_and_show_errors_beside_the_field(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = next(f for f, path in form.paths.items() if path == ("grid", "capacity_mw"))
        field = app.query_one(f"#{fid}")
        field.value = "-5"
        await pilot.pause()
        assert "capacity_mw = -5.0" in app.session.text
        assert "# A Sichuan-style hydro mine" in app.session.text  # tomlkit keeps the comments
        assert "greater than 0" in str(app.query_one(f"#{fid}-err").render())
        field.value = "75"
        await pilot.pause()
        assert "capacity_mw = 75.0" in app.session.text and not app.session.problems
        # lists: add a miner block, then remove it
        blocks = app.session.text.count("[[fleet.miners]]")
        app.query_one("#add-fleet-miners").press()
        await pilot.pause()
        assert app.session.text.count("[[fleet.miners]]") == blocks + 1
        app.query_one("#del-fleet-miners").press()
        await pilot.pause()
        assert app.session.text.count("[[fleet.miners]]") == blocks


async def test_charts_after_a_solve(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _solve(pilot)
        await pilot.press("f6")
        await pilot.pause()
        assert len(app.query("Sparkline")) == 6  # price, import, miners for two scenarios


@pytest.mark.parametrize("key", ["f2", "f7"])
def test_tui_snapshot_tabs(snap_compare, monkeypatch, catalog, key):
    """The form and the catalog browser at 80 x 24."""
    from pathlib import Path

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), press=[key],
                        terminal_size=(80, 24))


@pytest.mark.parametrize("key", ["f3", "f4", "f5", "f6"])
def test_tui_snapshot_after_a_solve(snap_compare, monkeypatch, catalog, key):
    """Results (cards and comparison), BOM, fabric and charts after solving the Sichuan site."""
    from pathlib import Path

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)

    async def solve_first(pilot):
        await _solve(pilot)
        await pilot.press(key)
        await pilot.pause()

    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), run_before=solve_first,
                        terminal_size=(100, 30))


async def test_form_edits_arrays(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = next(f for f, path in form.paths.items() if path == ("power_price", "seasons", 0, "months"))
        field = app.query_one(f"#{fid}")
        assert field.value == "[6, 7, 8, 9, 10]"
        field.value = "[6, 7, 8, 9]"
        await pilot.pause()
        # month 10 is now in no season: the models say so beside... the season list
        assert "months = [6, 7, 8, 9]" in app.session.text
        assert any("every month must be in exactly one season" in p.message for p in app.session.problems)
        field.value = "[6, 7"
        await pilot.pause()
        assert "TOML array" in str(app.query_one(f"#{fid}-err").render())

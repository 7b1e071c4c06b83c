"""The terminal UI driven with Textual's Pilot: edit, validate, save, solve, export."""

from __future__ import annotations

import contextlib

import pytest

from planner.site.text import save_text, validate_text
from tui.app import make_app

from .conftest import SITES


@pytest.fixture
def site_copy(tmp_path):
    path = tmp_path / "sichuan.toml"
    path.write_text((SITES / "sichuan-hydro.toml").read_text())
    return path


def _field(form, path: tuple) -> str:
    """The id of the form field of a site key."""
    return next(f for f, p in form.paths.items() if p == path)


@contextlib.asynccontextmanager
async def _on_the_form(path, catalog, size: tuple[int, int]):
    """The app on the site file ``path`` in a terminal of ``size``, showing the site form
    (F2): (app, pilot, form)."""
    app = make_app(path, catalog=catalog)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        yield app, pilot, app.query_one("#form")


async def _edit_price(app, pilot, value: str) -> None:
    """Change the wet-season price in the raw editor, as a user types it."""
    editor = app.query_one("#editor")
    editor.text = editor.text.replace("usd_per_mwh = 35.0", f"usd_per_mwh = {value}")
    await _until(pilot, lambda: f"usd_per_mwh = {value}" in app.session.text)  # validated and held


async def _steady_cursors(pilot) -> None:
    """Hold the cursors in their visible phase before a snapshot: a blinking cursor is hidden
    for half of every second, so a run slower by that much would capture it hidden (CI did,
    once). Turning the blink off is not enough: the text area then draws its cursor from a
    line cache that may hold the hidden phase. The new tab's first widget takes the focus
    after a refresh, and learns it from an event that restarts its blink: wait for that
    too, so the focused look is the same on every run."""
    def settled() -> bool:
        # the focus has moved into the tab on show (a tab switch moves it after a refresh), and
        # the focused widget has learnt it (from an event)
        focused, tabs = pilot.app.focused, pilot.app.query("#tabs")
        if focused is None or not focused.has_focus:
            return False
        if not tabs:
            return True
        pane = pilot.app.query_one(f"#{tabs.first().active}")
        return pane in focused.ancestors or not any(w.focusable for w in pane.query("*"))

    for _ in range(100):
        if settled():
            break
        await pilot.pause(0.02)
    for widget in pilot.app.query("Input"):
        widget._pause_blink(visible=widget.has_focus)
        widget.refresh()
    for widget in pilot.app.query("TextArea"):
        # no blink at all (a focus event or a key would restart a paused one); its lines are
        # cached under a key that cannot tell "blink off" from "blink hidden": clear them
        widget.cursor_blink = False
        widget._line_cache.clear()
        widget.refresh()
    await pilot.pause()


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
        await _edit_price(app, pilot, "36.0")
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = site_copy.read_text()
    assert "usd_per_mwh = 36.0" in text
    assert "# A Sichuan-style hydro mine" in text  # comments kept: the text is the user's own
    assert (site_copy.parent / "sichuan.toml.bak").read_text() == (SITES / "sichuan-hydro.toml").read_text()


async def test_the_title_says_what_the_results_on_screen_are_of(site_copy, catalog):
    """After a solve the title says "solved"; an edit makes it "edited since the solve"
    (the results are of the earlier text), undoing the edit "solved" again; a save keeps
    saying so (it used to drop the word, though the results were of the saved text); an
    edit, a save and a new solve: "solved" for the new text."""
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.sub_title == "sichuan.toml (saved) | valid"  # no results yet: nothing said of them
        await _solve(pilot)
        assert app.sub_title == "sichuan.toml (saved) | valid | solved"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.sub_title == "sichuan.toml (saved) | valid | solved"
        await _edit_price(app, pilot, "36.0")
        assert app.sub_title == "sichuan.toml (modified) | valid | edited since the solve"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.sub_title == "sichuan.toml (saved) | valid | edited since the solve"
        editor = app.query_one("#editor")
        editor.text = editor.text.replace("usd_per_mwh = 36.0", "usd_per_mwh = 35.0")  # back to the solved text
        await _until(pilot, lambda: "usd_per_mwh = 35.0" in app.session.text)
        assert app.sub_title == "sichuan.toml (modified) | valid | solved"
        await _edit_price(app, pilot, "37.0")
        await _solve(pilot)
        assert app.sub_title == "sichuan.toml (modified) | valid | solved"
        assert app.session.solved_text == app.session.text


@pytest.mark.parametrize(("kind", "damage"), [
    ("CRLF line ends", lambda b: b.replace(b"\n", b"\r\n")),  # were saved as LF
    ("a byte-order mark", lambda b: b"\xef\xbb\xbf" + b),  # was "not valid TOML: Invalid statement"
])
async def test_a_site_written_on_another_platform_opens_valid_and_saves_byte_for_byte(site_copy, catalog, kind,
                                                                                     damage):
    data = damage(site_copy.read_bytes())
    site_copy.write_bytes(data)
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert str(app.query_one("#problems").render()).startswith("valid"), kind
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.session.dirty
    assert site_copy.read_bytes() == data
    assert site_copy.with_name("sichuan.toml.bak").read_bytes() == data


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
        assert app.session.summary.recommendation.scenario == "hybrid"
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


async def test_a_solver_stopped_by_its_time_limit_shows_its_status_not_infeasible(site_copy, catalog, monkeypatch):
    import planner.model.optimize
    from planner.model.lp import solve_highs

    monkeypatch.setattr(planner.model.optimize, "run_solver",
                        lambda lp, solver="highs": (solve_highs(lp, time_limit=0.0), "highs"))
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _solve(pilot)
        cards = [str(card.render()) for card in app.query("#cards Static")]
        assert len(cards) == 2
        for card in cards:
            assert card.startswith("not_solved\nno answer (not_solved)") and "Time limit reached" in card
            assert "infeasible:" not in card


async def test_quit_with_unsaved_changes_asks(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#editor").text += "\n# edit"
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "Choose"
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

    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), run_before=_steady_cursors,
                        terminal_size=(80, 24))


def _screen(app) -> str:
    """The name of the screen on top (a dialog is "Choose")."""
    return app.screen.__class__.__name__


def _label(app) -> str:
    """The text of the top screen's first label ("" when it has none)."""
    found = app.screen.query("Label")
    return str(found.first().render()) if found else ""


async def _until(pilot, done, seconds: float = 5.0) -> None:
    """Pause until ``done()`` holds or ``seconds`` pass: a form rebuild takes more than one
    pause on a busy machine (the assertion after it still decides)."""
    import time

    end = time.monotonic() + seconds
    await pilot.pause()
    while not done() and time.monotonic() < end:
        await pilot.pause(0.05)


async def test_form_edits_keep_comments_and_show_errors_beside_the_field(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = _field(form, ("grid", "capacity_mw"))
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
        await _until(pilot, lambda: app.session.text.count("[[fleet.miners]]") == blocks + 1)
        assert app.session.text.count("[[fleet.miners]]") == blocks + 1
        app.query_one("#del-fleet-miners").press()
        await _until(pilot, lambda: app.session.text.count("[[fleet.miners]]") == blocks)
        assert app.session.text.count("[[fleet.miners]]") == blocks


async def test_charts_after_a_solve(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _solve(pilot)
        await pilot.press("f6")
        await pilot.pause()
        titles = [str(w.render()) for w in app.query(".chart-title")]
        # the retrofit's miners stop at the AI start: a constant series is said, not drawn
        assert any(t.startswith("retrofit: miners, MW: constant at 0.00") for t in titles)
        assert len(app.query("Sparkline")) == 4  # both prices, the hybrid's import and miners
        axes = [str(w.render()) for w in app.query(".chart-axis")]
        assert axes and all(a.startswith("Jan") and a.endswith("Dec (dry)") for a in axes)


@pytest.mark.parametrize("key", ["f2", "f7"])
def test_tui_snapshot_tabs(snap_compare, monkeypatch, catalog, key):
    """The form and the catalog browser at 80 x 24."""
    from pathlib import Path

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)
    async def switch(pilot):
        await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        await _steady_cursors(pilot)

    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), run_before=switch,
                        terminal_size=(80, 24))


@pytest.mark.parametrize("size", [(80, 24), (140, 42)], ids=["80x24", "140x42"])
@pytest.mark.parametrize("key", ["f1", "f2", "f3", "f4", "f5", "f6", "f7"])
def test_tui_snapshot_after_a_solve(snap_compare, monkeypatch, catalog, key, size):
    """Every tab after solving the Sichuan site, at the smallest terminal the app is meant
    for and a large one."""
    from pathlib import Path

    from .conftest import ROOT

    monkeypatch.chdir(ROOT)

    async def solve_first(pilot):
        await _solve(pilot)
        await pilot.press(key)
        # the new tab's first widget takes the focus after a refresh: wait for it, so the
        # focused look is the same on every run
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        await pilot.pause()
        await _steady_cursors(pilot)

    assert snap_compare(make_app(Path("sites/sichuan-hydro.toml"), catalog=catalog), run_before=solve_first,
                        terminal_size=size)


async def test_the_form_is_built_while_the_first_screen_is_read(site_copy, catalog):
    """The form's fields are mounted in the background after the first screen, so the first
    visit of the Form tab only shows them; a dialog on top at that moment does not stop it,
    and the prebuilt form is the one the visit shows (not built again)."""
    from tui.panes.form import FORM_PREBUILD_S

    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.query_one("#form")
        assert form.fields == {}  # nothing built at the first screen
        await pilot.press("ctrl+o")  # the open dialog is on top when the form is built
        await pilot.pause(FORM_PREBUILD_S + 0.3)
        assert len(form.fields) > 20
        await pilot.press("escape")
        first = dict(form.fields)
        await pilot.press("f2")
        await pilot.pause()
        assert form.fields == first  # the same widgets
        assert app.focused is next(iter(first.values()))


async def test_form_edits_arrays(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = _field(form, ("power_price", "seasons", 0, "months"))
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


async def test_f7_then_tab_in_the_editor_never_empties_the_site(site_copy, catalog):
    """The sequence that used to write a 4-byte site: F7 (the editor's 'select all') then
    Tab (indent over the selection) then Ctrl+S. F7 is the app's Catalog key everywhere, and
    Tab moves the focus: the file is untouched."""
    original = site_copy.read_text()
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.focused.id == "editor"
        await pilot.press("f7", "tab", "ctrl+s")
        await pilot.pause()
        assert app.query_one("#tabs").active == "catalog-tab"
        assert app.session.text == original
    assert site_copy.read_text() == original


FOCUSABLE = ["editor", "compare", "bom-filter", "bom", "fabric", "kind", "catalog"]
TAB_KEYS = {"f1": "site-tab", "f2": "form-tab", "f3": "results-tab", "f4": "bom-tab", "f5": "fabric-tab",
            "f6": "charts-tab", "f7": "catalog-tab"}


@pytest.mark.parametrize("widget", FOCUSABLE)
async def test_every_tab_key_works_from_every_widget(site_copy, catalog, widget):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        for key, tab in TAB_KEYS.items():
            home = app.query_one(f"#{widget}").ancestors_with_self
            pane = next(w for w in home if getattr(w, "id", None) in TAB_KEYS.values())
            app.query_one("#tabs").active = pane.id
            await pilot.pause()
            app.query_one(f"#{widget}").focus()
            await pilot.pause()
            assert app.focused.id == widget
            await pilot.press(key)
            await pilot.pause()
            assert app.query_one("#tabs").active == tab, (widget, key)
        assert app.session.text == site_copy.read_text()  # no key edited the site on the way


async def test_ctrl_e_exports_from_the_bom_filter_and_survives_a_read_only_folder(site_copy, catalog,
                                                                                   monkeypatch):
    import os

    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _solve(pilot)
        app.action_tab("bom-tab")
        await pilot.pause()
        app.query_one("#bom-filter").focus()
        await pilot.press("ctrl+e")
        await pilot.pause()
        exported = site_copy.with_name("sichuan-bom.csv")
        assert exported.read_text().startswith("scenario,category,part")
        exported.unlink()

        def read_only(src, dst):  # as a read-only folder answers (chmod does not stop root)
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "replace", read_only)
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.is_running and not exported.exists()
        assert not [p for p in site_copy.parent.iterdir() if p.name.endswith(".tmp")]


async def test_saving_a_broken_or_emptied_site_asks_and_enter_cancels(site_copy, catalog):
    original = site_copy.read_text()
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#editor").text = "    "
        await _until(pilot, lambda: app.session.text == "    ")
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: _screen(app) == "Choose")
        assert _screen(app) == "Choose"
        await pilot.press("enter")  # the default is Cancel
        await _until(pilot, lambda: _screen(app) != "Choose")
        assert site_copy.read_text() == original
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: _screen(app) == "Choose")
        await pilot.click("#save")
        await _until(pilot, lambda: site_copy.read_text() == "    ")
    assert site_copy.read_text() == "    "  # saved when the user says so, with the original in .bak
    assert (site_copy.parent / "sichuan.toml.bak").read_text() == original


async def test_quit_dialog_defaults_to_cancel_and_offers_save_and_quit(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_price(app, pilot, "37.0")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and app.screen.__class__.__name__ != "Choose"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
    assert not app.is_running
    assert "usd_per_mwh = 37.0" in site_copy.read_text()


async def test_save_and_quit_asks_first_when_the_text_no_longer_validates(site_copy, catalog):
    """"Save and quit" goes through the save's own question: a text with problems is not
    written (nor the app left) until the user says so; Cancel keeps both."""
    original = site_copy.read_text()
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.query_one("#editor")
        editor.text = editor.text.replace("capacity_mw = 60.0", "capacity_mw = -5.0", 1)
        await _until(pilot, lambda: bool(app.session.problems))
        assert app.session.problems
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: _screen(app) == "Choose")
        await pilot.click("#save")  # Save and quit
        await _until(pilot, lambda: "Save it anyway?" in _label(app))
        assert app.is_running and "Save it anyway?" in _label(app)
        await pilot.press("enter")  # Cancel, the default
        await _until(pilot, lambda: _screen(app) != "Choose")
        assert app.is_running and site_copy.read_text() == original
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: _screen(app) == "Choose")
        await pilot.click("#save")
        await _until(pilot, lambda: "Save it anyway?" in _label(app))
        await pilot.click("#save")  # Save anyway
        await _until(pilot, lambda: not app.is_running)
    assert not app.is_running
    assert "capacity_mw = -5.0" in site_copy.read_text()


async def test_the_palette_finds_the_apps_commands_and_question_mark_shows_the_keys(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Solve", "Save", "Open", "Export BOM", "Compare", "Tab: Catalog"} <= titles
        app.query_one("#catalog").focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_a_screenshot_lands_beside_the_site(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        app.deliver_screenshot("shot.svg")
        await pilot.pause()
    assert (site_copy.parent / "shot.svg").read_text().startswith("<svg")


def test_a_backup_that_is_a_symlink_is_replaced_not_written_through(site_copy):
    other = site_copy.parent / "precious.txt"
    other.write_text("not a site")
    bak = site_copy.parent / "sichuan.toml.bak"
    bak.symlink_to(other)
    original = site_copy.read_text()
    save_text(site_copy, original + "\n# edited\n")
    assert other.read_text() == "not a site"
    assert not bak.is_symlink() and bak.read_text() == original


def test_a_symlinked_site_is_written_through_to_its_target(site_copy):
    link = site_copy.parent / "link.toml"
    link.symlink_to(site_copy)
    original = site_copy.read_text()
    save_text(link, original + "\n# edited\n")
    assert link.is_symlink()
    assert site_copy.read_text().endswith("# edited\n")
    assert (site_copy.parent / "sichuan.toml.bak").read_text() == original


async def test_a_file_changed_on_disk_is_not_overwritten_without_asking(site_copy, catalog):
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await _edit_price(app, pilot, "36.0")
        outside = site_copy.read_text() + "\n# an edit made in another editor\n"
        site_copy.write_text(outside)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "Choose"
        await pilot.press("enter")  # Cancel
        await pilot.pause()
        assert site_copy.read_text() == outside
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#reload")
        await pilot.pause()
        assert app.session.text == outside and not app.session.dirty


@pytest.mark.parametrize(("button", "kind", "header"), [
    ("add-buildings", "hall", "[[buildings]]"), ("add-fleet-miners", "miner block", "[[fleet.miners]]"),
    ("add-routes", "route", "[[routes]]"), ("add-scenarios", "scenario", "[scenarios."),
])
async def test_added_items_validate_and_sit_after_their_kind(tmp_path, catalog, button, kind, header):
    """On the Xinjiang site (four halls, routes, two scenarios): a new item has a unique
    name and defaults that validate, goes after the last item of its kind with a blank line
    around it, keeps the comment of the next section where it was, and is scrolled to."""
    site = tmp_path / "xinjiang.toml"
    site.write_text((SITES / "xinjiang-mine.toml").read_text())
    app = make_app(site, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        before = app.session.text
        app.query_one(f"#{button}").press()
        await pilot.pause()
        await pilot.pause()
        after = app.session.text
        assert after.count(header) == before.count(header) + 1
        assert not app.session.problems, app.session.problems
        assert "# Duct banks" in after and after.index("# Duct banks") < after.index("[[routes]]")
        assert "\n\n\n" not in after.replace(before, "")
        assert app.focused is not None and app.focused.id.startswith("f-")


async def test_form_labels_carry_units_and_the_reference_help(site_copy, catalog):
    from .conftest import ROOT

    reference = (ROOT / "docs" / "site-reference.md").read_text()
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        for path, label, about in [(("grid", "capacity_mw"), "capacity_mw (MW)", "maximum grid import, MW"),
                                   (("scenarios", "retrofit", "build_months"), "build_months (months)",
                                    "months from decision to first AI revenue")]:
            fid = _field(form, path)
            app.query_one(f"#{fid}").focus()
            await pilot.pause()
            # the focused field's key, unit and meaning on the help line at the form's foot
            unit = label[label.index("(") + 1:-1]
            assert str(app.query_one("#form-help").render()) == f"{'.'.join(path)} ({unit}): {about}"
            assert about in reference  # the same text as docs/site-reference.md
            assert str(app.query_one(f"#{fid}-label").render()) == label
            assert not app.query(f"#{fid}-err")  # no error line under a valid field


async def test_catalog_parts_are_chosen_from_the_catalog(site_copy, catalog):
    from textual.widgets import Select

    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = _field(form, ("ai", "server"))
        select = app.query_one(f"#{fid}", Select)
        assert select.value == "dgx-h100"
        select.value = "dgx-b200"
        await pilot.pause()
        assert 'server = "dgx-b200"' in app.session.text and not app.session.problems


async def test_form_edits_can_be_undone(site_copy, catalog):
    original = site_copy.read_text()
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        form = app.query_one("#form")
        # the form's fields are built in the background: wait for them (and for each rebuild
        # below) rather than one pause, which a busy machine outruns
        await _until(pilot, lambda: bool(app.query("#add-scenarios")))
        fid = _field(form, ("grid", "capacity_mw"))
        app.query_one(f"#{fid}").value = "75"
        await _until(pilot, lambda: "capacity_mw = 75.0" in app.session.text)
        app.query_one("#add-scenarios").press()
        await _until(pilot, lambda: "[scenarios.scenario-1]" in app.session.text)
        assert "capacity_mw = 75.0" in app.session.text and "[scenarios.scenario-1]" in app.session.text
        await _until(pilot, lambda: bool(app.query(f"#{fid}")))
        app.query_one(f"#{fid}").focus()
        await pilot.press("ctrl+z")
        await _until(pilot, lambda: "[scenarios.scenario-1]" not in app.session.text)
        assert "[scenarios.scenario-1]" not in app.session.text and "capacity_mw = 75.0" in app.session.text
        await pilot.press("ctrl+z")
        await _until(pilot, lambda: app.session.text == original)
        assert app.session.text == original


def test_a_price_spike_is_clipped_with_a_note():
    from tui.panes.charts import chart as _chart

    # a flat series with one spike: the percentiles span nothing, so nothing is clipped
    title, line, _axis = _chart("price", [20.0] * 999 + [5000.0], ["2025-01-01 00:00"] * 1000, clip=True)
    assert str(title.render()) == "price, 20.0 to 5,000.0" and max(line.data) == 5000
    widgets = _chart("price", [float(i % 50) for i in range(1000)] + [5000.0] * 5, ["t"] * 1005, clip=True)
    assert "clipped to" in str(widgets[0].render()) and "extremes 0.0 and 5,000.0" in str(widgets[0].render())
    assert max(widgets[1].data) < 5000


def test_the_tui_fills_the_terminal_it_draws_on(tmp_path):
    """`planner tui` in a 140 x 42 terminal draws 140 columns. The planner points file
    descriptor 1 at the null device while it runs; the app once measured that, found no
    terminal and drew 80 x 24 in every window. A real process on a pseudo-terminal."""
    import fcntl
    import os
    import pty
    import re
    import select
    import signal
    import struct
    import sys
    import termios
    import time

    from .conftest import ROOT

    site = tmp_path / "sichuan.toml"
    site.write_text((SITES / "sichuan-hydro.toml").read_text())
    pid, fd = pty.fork()
    if pid == 0:  # the child: a planner on the terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "planner.app.cli", "tui", str(site)])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 42, 140, 0, 0))
        bar = re.compile(b"(?:" + "━".encode() + b")+")  # the tab underline, a run of one character
        out, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline and max((len(m) for m in bar.findall(out)), default=0) < 3 * 130:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    break
        widest = max((len(m) // 3 for m in bar.findall(out)), default=0)
        assert widest >= 130, f"the tab underline spans {widest} columns of 140"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    assert site.read_text() == (SITES / "sichuan-hydro.toml").read_text()


async def test_a_field_typed_through_an_unreadable_value_loses_its_error_again(site_copy, catalog):
    """Clearing a number field says "not a float"; typing the same number back (the file
    unchanged, nothing to re-validate) brings the help back."""
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        form = app.query_one("#form")
        fid = _field(form, ("grid", "capacity_mw"))
        field = app.query_one(f"#{fid}")
        field.value = ""
        await pilot.pause()
        assert str(app.query_one(f"#{fid}-err").render()).startswith("not a number")
        field.value = "60"  # the value the file holds (60.0)
        await pilot.pause()
        assert not app.query(f"#{fid}-err")  # the error line goes
        field.focus()
        await pilot.pause()
        assert str(app.query_one("#form-help").render()).endswith("maximum grid import, MW")
        assert site_copy.read_text() == app.session.text


async def test_keystrokes_in_one_field_are_one_undo_step(site_copy, catalog):
    """Typing 75 over 60 in the grid capacity, then a price: two Ctrl+Z give back the file
    as it was, one per field, not one per character."""
    original = site_copy.read_text()
    async with _on_the_form(site_copy, catalog, (140, 50)) as (app, pilot, form):
        cap = app.query_one(f"#{_field(form, ('grid', 'capacity_mw'))}")
        cap.focus()
        await pilot.press("end", *["backspace"] * 4, "7", "5")
        price = app.query_one(f"#{_field(form, ('power_price', 'seasons', 0, 'usd_per_mwh'))}")
        price.focus()
        await pilot.press("end", "5")
        await pilot.pause()
        assert "capacity_mw = 75.0" in app.session.text and "usd_per_mwh = 35.05" in app.session.text
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "usd_per_mwh = 35.0 " in app.session.text and "capacity_mw = 75.0" in app.session.text
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.session.text == original


async def test_form_at_80x24_shows_a_parts_value_and_keeps_the_focused_field_in_view(site_copy, catalog):
    """A part chosen from the catalog shows its key in a one-line field (the list's own
    frame drew three lines cut to one, hiding the value), and tabbing down the form keeps
    the focused field in view, above the help line."""
    async with _on_the_form(site_copy, catalog, (80, 24)) as (app, pilot, form):
        model = app.query_one(f"#{_field(form, ('fleet', 'miners', 0, 'model'))}")
        label = model.query_one("SelectCurrent #label")
        assert model.value in str(label.render())
        assert model.region.contains_region(label.region)  # shown, not cut away with the frame
        count = _field(form, ("fleet", "miners", 0, "count"))
        for _ in range(60):
            if app.focused is not None and app.focused.id == count:
                break
            await pilot.press("tab")
            await pilot.pause()
        assert app.focused.id == count
        field, helpline = app.focused.region, app.query_one("#form-help").region
        assert form.region.contains_region(field)
        assert not field.overlaps(helpline)
        assert str(helpline and app.query_one("#form-help").render()).endswith("miners installed")


# ---------------------------------------------------------------- the worker's typed messages


def _solve_messages(collected: list) -> list:
    """The solve messages the app and the panes received, in the order they arrived."""
    from tui.messages import SolveMessage

    return [m for m in collected if isinstance(m, SolveMessage)]


async def test_a_solve_that_fails_says_why_in_the_results_and_leaves_the_file(tmp_path, catalog):
    """The Texas site names a price series file beside it (data/...csv). Copied alone, it
    validates (the schema does not read the series), and the solve finds the file missing:
    the worker posts SolveFailed naming the file, the results pane shows it, the app keeps
    running with the user's text (a worker that raised used to take the app down), and the
    site file is not written."""
    from tui.messages import SolveFailed, SolveFinished, SolveStarted

    site = tmp_path / "texas.toml"
    site.write_text((SITES / "texas-hybrid.toml").read_text())
    original = site.read_bytes()
    collected: list = []
    app = make_app(site, catalog=catalog)
    async with app.run_test(size=(120, 40), message_hook=collected.append) as pilot:
        assert not app.session.problems
        editor = app.query_one("#editor")
        editor.text += "\n# an unsaved edit\n"
        await pilot.pause()
        await _solve(pilot)
        solve = _solve_messages(collected)
        assert not [m for m in solve if isinstance(m, SolveFinished)]
        started = [m for m in solve if isinstance(m, SolveStarted)]
        assert started and started[0].scenarios == ("retrofit", "hybrid")  # the file's [scenarios], in order
        failed = [m for m in solve if isinstance(m, SolveFailed)]
        assert len(failed) == 1 + 7  # the app's, then one copy for each of the seven panes
        assert len({id(m) for m in failed}) == len(failed)
        problem = failed[0]
        assert "data/texas-synthetic-2025-15min.csv" in problem.problem and "not found" in problem.problem
        assert problem.problems and problem.problems[0].key.startswith("power_price")
        assert problem.elapsed_s >= 0
        shown = str(app.query_one("#recommendation").render())
        assert shown.startswith("Solve failed (the site file is unchanged): ")
        assert "texas-synthetic-2025-15min.csv" in shown
        assert app.is_running and app.session.summary is None
        assert app.sub_title.endswith("| solve failed")
        assert app.session.text.endswith("# an unsaved edit\n") and app.session.dirty
    assert site.read_bytes() == original


async def test_a_solve_posts_started_progress_then_finished_and_drops_an_older_solves_news(site_copy, catalog):
    """The worker's messages for the Sichuan site's two scenarios (retrofit, then hybrid, as
    the file lists them): SolveStarted, SolveProgress 1/2 and 2/2, SolveFinished with the
    plans every pane fills from. A message of an earlier solve (a cancelled one still
    running) changes nothing; one of the current solve does."""
    from tui.messages import SolveFailed, SolveFinished, SolveProgress, SolveStarted

    collected: list = []
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40), message_hook=collected.append) as pilot:
        await _solve(pilot)
        solve = _solve_messages(collected)
        kinds = []
        for m in solve:  # the kinds in order of first arrival
            if type(m) not in kinds:
                kinds.append(type(m))
        assert kinds == [SolveStarted, SolveProgress, SolveFinished]
        progress = [(m.index, m.count, m.name) for m in solve if isinstance(m, SolveProgress)]
        assert list(dict.fromkeys(progress)) == [(1, 2, "retrofit"), (2, 2, "hybrid")]
        finished = [m for m in solve if isinstance(m, SolveFinished)]
        assert len(finished) == 1 + 7 and {m.solve_id for m in finished} == {1}
        plans = finished[0].plans
        assert plans.scenarios == ["retrofit", "hybrid"] and finished[0].elapsed_s > 0
        assert app.session.plans is plans
        # each pane filled from the plans: the compare table has a column per scenario and
        # the BOM tab a row per BOM row
        assert len(app.query_one("#compare").columns) == 1 + 2
        assert app.query_one("#bom").row_count == len(plans.bom) > 0
        assert app.query_one("#tabs").active == "results-tab" and app.sub_title.endswith("| solved")

        app.post_message(SolveFailed(0, "an older solve's error", (), 1.0))  # solve 0: before this one
        await pilot.pause()
        assert str(app.query_one("#recommendation").render()).startswith("Recommendation: hybrid")
        assert app.sub_title.endswith("| solved")
        app.post_message(SolveFailed(1, "this solve's error", (), 1.0))
        await pilot.pause()
        shown = str(app.query_one("#recommendation").render())
        assert shown.startswith("Solve failed (the site file is unchanged): this solve's error")
        assert "The tables below are from the last solve that finished." in shown
        assert app.query_one("#bom").row_count == len(plans.bom)  # the last results stay


async def test_esc_cancels_a_solve_before_its_next_scenario(site_copy, catalog, monkeypatch):
    """Esc while the first scenario solves: the worker stops before the second and posts
    SolveCancelled; no results are shown. (The first scenario's solve is held until Esc
    is pressed, so the test does not race the solver.)"""
    import threading

    import planner.app.pipeline
    from tui.messages import SolveCancelled, SolveFinished, SolveProgress

    release = threading.Event()
    solved: list[str] = []

    def held(loaded, catalog, name, **_kwargs):
        release.wait(30)
        solved.append(name)
        return None, None

    monkeypatch.setattr(planner.app.pipeline, "solve_scenario", held)
    collected: list = []
    app = make_app(site_copy, catalog=catalog)
    async with app.run_test(size=(120, 40), message_hook=collected.append) as pilot:
        await pilot.press("ctrl+r")
        for _ in range(200):
            if any(isinstance(m, SolveProgress) for m in collected):
                break
            await pilot.pause(0.05)
        assert app.sub_title.endswith("| solving retrofit (1/2) ...")
        await pilot.press("escape")
        await pilot.pause()
        assert app.sub_title.endswith("| solve cancelled")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        solve = _solve_messages(collected)
        assert solved == ["retrofit"]  # the hybrid was never started
        assert [m for m in solve if isinstance(m, SolveCancelled)]
        assert not [m for m in solve if isinstance(m, SolveFinished)]
        assert str(app.query_one("#recommendation").render()) == "Press Ctrl+R to solve."
        assert app.session.summary is None and app.sub_title.endswith("| solve cancelled")


def test_the_tabs_keys_and_panes_agree():
    """One pane class per tab, in the order of the F-keys, each in its own module."""
    from tui.app import PlannerApp
    from tui.panes import PANES

    assert [p.KEY for p in PANES] == ["f1", "f2", "f3", "f4", "f5", "f6", "f7"]
    assert [p.PANE_ID for p in PANES] == list(TAB_KEYS.values())
    assert len({p.__module__ for p in PANES}) == 7
    bound = {b.key: b.action for b in PlannerApp.BINDINGS if b.key.startswith("f")}
    assert bound == {key: f"tab('{tab}')" for key, tab in TAB_KEYS.items()}


async def test_results_show_the_business_rows_and_the_bom_its_scope(tmp_path, catalog):
    """The hosting example site: F3 holds the business rows `planner compare` prints (hosting
    NPVs, capex at risk, the option to mine, the per-MW margins) with a value in the host
    scenario's column, and F4 the BOM's scope column, the tenant's GPU servers apart from
    the host's facility."""
    from planner.outputs.business import BUSINESS_ROWS

    path = tmp_path / "host.toml"
    path.write_text((SITES / "core-scientific-host.toml").read_text())
    app = make_app(path, catalog=catalog)
    async with app.run_test(size=(140, 42)) as pilot:
        await _solve(pilot)
        business = app.query_one("#business")
        names = app.session.plans.scenarios
        assert business.row_count == len(BUSINESS_ROWS)
        rows = {str(business.get_row_at(i)[0]): business.get_row_at(i)[1:] for i in range(business.row_count)}
        host = names.index("host")
        for label in ("NPV if the tenant stays, M USD", "NPV, tenant leaves at worst, M USD", "capex at risk, M USD",
                      "option to mine, M USD", "hosting, M USD/MW-yr", "mining, M USD/MW-yr"):
            assert rows[label][host] != "-", label
        doc = app.session.plans.summary.scenarios["host"]
        assert rows["capex at risk, M USD"][host] == f"{doc.hosting['capex_at_risk_usd'] / 1e6:,.1f}"
        assert list(rows["business model"]) == [app.session.plans.summary.scenarios[n].business_model for n in names]
        bom = app.query_one("#bom")
        columns = [str(c.label) for c in bom.columns.values()]
        assert columns[1] == "scope"
        scopes = {(str(bom.get_row_at(i)[0]), str(bom.get_row_at(i)[2]), str(bom.get_row_at(i)[1]))
                  for i in range(bom.row_count)}
        assert ("host", "gpu_server", "tenant") in scopes
        assert ("host", "facility", "host") in scopes


async def test_a_site_with_its_own_catalog_folders_is_checked_and_solved_with_them(tmp_path, catalog):
    """The metro campus names an overlay folder (`catalog = ["overlays/s9321-64e-400g"]`) for
    its switch: the TUI reads it as `planner solve` does, so the site is valid (it used to
    say "unknown switch 's9321-64e-400g'"), the form and the catalog tab offer that switch
    (not "not in the catalog"), and it solves to the CLI's NPV. An edit that names a
    folder that is not there is a problem naming it, and the file is left as it was."""
    import json
    import shutil

    from planner.app.cli import main
    from tui.widgets.site_form import CATALOG_REFS

    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    path = sites / "metro-campus.toml"
    before = path.read_text()
    assert main(["solve", "-q", "--json", str(path), "-o", str(tmp_path / "out")]) == 0
    npv = json.loads((tmp_path / "out" / "summary.json").read_text())["scenarios"]["campus"]["npv_usd"]
    app = make_app(path, catalog=catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.session.problems == [] and "s9321-64e-400g" in app.site_catalog.switches
        await pilot.press("f2")  # the form offers the overlay's switch as a catalog part
        form = app.query_one("#form")
        await _until(pilot, lambda: form.built_text is not None and bool(form.paths))
        fid = _field(form, ("ai", "leaf_switch"))
        assert form.catalog is app.site_catalog and "s9321-64e-400g" in form.choices[fid]
        assert "s9321-64e-400g" in app.site_catalog.entries[CATALOG_REFS["leaf_switch"]]
        await pilot.press("f7")  # the catalog tab lists it too
        app.query_one("#kind").value = "switches"
        table = app.query_one("#catalog")
        await _until(pilot, lambda: "s9321-64e-400g" in [r.value for r in table.rows])
        assert "s9321-64e-400g" in [r.value for r in table.rows]
        await _solve(pilot)
        assert app.session.summary.scenarios["campus"].npv_usd == pytest.approx(npv, abs=0.01)
        editor = app.query_one("#editor")
        editor.text = editor.text.replace('"overlays/s9321-64e-400g"', '"overlays/gone"')
        await _until(pilot, lambda: bool(app.session.problems))
        assert any("gone" in str(p) for p in app.session.problems), app.session.problems
    assert path.read_text() == before

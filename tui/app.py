"""The planner's terminal UI: edit a site, solve in the background, compare, browse.

The app holds the session (the site text, its validation, the last results: domain state,
outside the widgets), the keys, the tabs, the file dialogs and the solve worker; each tab
is a pane of its own (:mod:`tui.panes`) that changes only on the typed messages of
:mod:`tui.messages`. The worker runs in a thread, calls the planner's one pipeline
(``planner.app.pipeline.solve_site``) and posts what happens to the app, which hands it to
the panes. Widgets never import pulp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent
from textual.worker import Worker, WorkerState, get_current_worker

from planner.errors import Problem
from planner.model.cache import PlanCache
from planner.parts.catalog import Catalog
from planner.site.load import LoadedSite
from planner.site.text import save_text, validate_text
from tui.dialogs import Choose, OpenSite, confirm_quit
from tui.driver import terminal_driver
from tui.messages import (
    Origin,
    SiteChecked,
    SiteEdited,
    SolveCancelled,
    SolvedPlans,
    SolveFailed,
    SolveFinished,
    SolveMessage,
    SolveProgress,
    SolveStarted,
    copy,
)
from tui.panes import (
    PANES,
    BomPane,
    CatalogPane,
    ChartsPane,
    FabricPane,
    FormPane,
    Pane,
    ResultsPane,
    SitePane,
)
from tui.session import Session, fingerprint

P = TypeVar("P", bound=Pane)


class PlannerApp(App[None]):
    """Edit a site, solve it, compare its scenarios, browse the BOM and the catalog."""

    TITLE = "planner"
    CSS_PATH = "app.tcss"
    # The app's keys win over every widget (priority): a widget may not take F6/F7 for
    # "select line/all" or Ctrl+E for "end of line". Tab moves the focus everywhere, the
    # editor included (TOML needs no indentation); "?" shows the keys where it types nothing.
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+r", "solve", "Solve", priority=True),
        Binding("escape", "cancel", "Cancel solve", show=False),
        Binding("ctrl+o", "open", "Open", priority=True),
        Binding("ctrl+e", "export", "Export BOM", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        *(Binding(p.KEY, f"tab('{p.PANE_ID}')", p.TITLE, priority=True, show=False) for p in PANES),
        Binding("question_mark", "keys", "Keys"),
    ]
    TABS = {p.PANE_ID: p.TITLE for p in PANES}

    def __init__(self, path: Path | None = None, catalog: Catalog | None = None, solver: str = "highs",
                 overlays: Sequence[Path] = ()):
        super().__init__(driver_class=terminal_driver())
        from planner.parts.catalog import load_catalog

        self.catalog = catalog if catalog is not None else load_catalog(list(overlays))
        self.overlays = list(overlays)  # the command line's catalog folders (self.catalog holds them)
        # the catalog the site is checked and solved with: self.catalog, or with the site's own
        # `catalog = [...]` folders first (as `planner solve` reads it), by folders and file times
        self.site_catalog = self.catalog
        self._site_catalogs: dict[tuple, Catalog] = {}
        self.solver = solver
        self.session = Session.open(Path(path) if path else Path("new-site.toml"))
        self.panes: dict[type[Pane], Pane] = {}  # made in compose, held (a query sees only the top screen)
        self._solve_worker: Worker[None] | None = None
        self._solve_id = 0  # the solve whose messages count; an older one's are dropped
        self._solve_text: str | None = None  # the text the latest solve was given
        self._plan_cache = PlanCache()  # price profiles and cluster options reused across solves while they apply

    # ------------------------------------------------------------------ layout and tabs
    def compose(self) -> ComposeResult:
        panes: list[Pane] = [SitePane(self.session.text), FormPane(self.catalog), ResultsPane(), BomPane(),
                             FabricPane(), ChartsPane(), CatalogPane(self.catalog)]
        assert [type(p) for p in panes] == list(PANES), "the tabs in the order of their keys"
        self.panes = {type(p): p for p in panes}
        yield Header()
        with TabbedContent(id="tabs"):
            yield from self.panes.values()
        yield Footer(compact=True)

    def pane(self, kind: type[P]) -> P:
        pane = self.panes[kind]
        assert isinstance(pane, kind)
        return pane

    def _tell(self, message: SiteChecked | SolveMessage) -> None:
        """Hand every pane its own copy of ``message``; a pane without a handler ignores it."""
        for pane in self.panes.values():
            pane.post_message(copy(message))

    def on_mount(self) -> None:
        self._check("file")
        self._focus_pane(SitePane.PANE_ID)

    def action_tab(self, tab: str) -> None:
        """Show a tab and focus its first widget. The focus leaves the old tab first: a
        focused widget in a hidden pane would otherwise pull its pane back to the front."""
        self.screen.set_focus(None)
        self.query_one("#tabs", TabbedContent).active = tab
        self.call_after_refresh(self._focus_pane, tab)

    def _focus_pane(self, tab: str) -> None:
        for widget in self.query_one(f"#{tab}").query("*"):
            if widget.focusable:
                widget.focus()
                return

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if isinstance(event.pane, Pane):
            event.pane.activated()

    # ------------------------------------------------------------------ the site's text
    def on_site_edited(self, message: SiteEdited) -> None:
        self.session.text = message.text
        self._check(message.origin)

    def _check(self, origin: Origin) -> None:
        """Validate the session's text and tell the panes. A site that names catalog folders of
        its own (``catalog = [...]``) is checked, and later solved, with them."""
        loaded, problems = validate_text(self.session.text, self.session.path, self.catalog)
        self.site_catalog = self.catalog
        if loaded is not None and loaded.site.catalog:
            catalog, trouble = self._catalog_of(loaded)
            if trouble:
                problems = trouble
            else:
                self.site_catalog = catalog
                loaded, problems = validate_text(self.session.text, self.session.path, catalog)
        self.session.loaded, self.session.problems = loaded, problems
        if self.panes:  # the form and the catalog tab offer the parts of the catalog the site is checked with
            self.pane(FormPane).use_catalog(self.site_catalog)
            self.pane(CatalogPane).use_catalog(self.site_catalog)
        scenarios = tuple(loaded.site.scenarios) if loaded is not None else None
        self._tell(SiteChecked(self.session.text, tuple(problems), scenarios, origin))
        self._status()

    def _catalog_of(self, loaded: LoadedSite) -> tuple[Catalog, list[Problem]]:
        """The bundled catalog with the site's own folders and the command line's (kept while
        no file in those folders changes), or the problems that stop it loading."""
        from planner.errors import InputError
        from planner.parts.catalog import load_catalog

        folders = [loaded.resolve(d) for d in loaded.site.catalog] + self.overlays
        key = tuple((str(f), tuple(sorted((t.name, t.stat().st_mtime_ns) for t in f.glob("*.toml")))
                     if f.is_dir() else None) for f in folders)
        if key not in self._site_catalogs:
            try:
                self._site_catalogs = {key: load_catalog(folders)}  # the last one only
            except InputError as exc:
                return self.catalog, list(exc.problems)
        return self._site_catalogs[key], []

    def _status(self, message: str = "") -> None:
        """The title bar's second line: the file (modified or saved), its problems, and what is
        happening (``message``) or else what the results on screen are of (the text as it is
        now, or an earlier one: a save or an edit after a solve says so, not "solved")."""
        state = "modified" if self.session.dirty else "saved"
        n = len(self.session.problems)
        bits = [f"{self.session.path.name} ({state})", f"{n} problem(s)" if n else "valid"]
        message = message or self.session.results_state
        if message:
            bits.append(message)
        self.sub_title = " | ".join(bits)

    # ------------------------------------------------------------------ files
    def action_save(self, then: Callable[[], object] | None = None) -> None:
        """Save; a text that no longer validates, or that lost most of what was saved, asks
        first (Cancel is the default), as does a file changed on disk. ``then`` runs once the
        text is saved (quitting, after "Save and quit"): not when the user cancels."""
        if self.session.changed_on_disk():
            def answered_disk(choice: str | None) -> None:
                if choice == "overwrite":
                    self.session.disk = fingerprint(self.session.path)
                    self.action_save(then)
                elif choice == "reload":
                    self._load(self.session.path)

            self.push_screen(Choose(f"{self.session.path.name} changed on disk since it was opened or saved "
                                    "here. Overwrite it with the text here?",
                                    [("cancel", "Cancel", "primary"), ("reload", "Reload from disk", "warning"),
                                     ("overwrite", "Overwrite", "error")]), answered_disk)
            return
        old, new = self.session.saved_text, self.session.text
        lost = len(old.strip()) > 0 and len(new.strip()) < 0.5 * len(old.strip())
        if self.session.problems or lost:
            why = (f"The site now holds {len(new.strip()):,} characters against {len(old.strip()):,} saved."
                   if lost else f"The site has {len(self.session.problems)} problem(s) and would not solve.")

            def answered(choice: str | None) -> None:
                if choice == "save" and self._write() and then is not None:
                    then()

            self.push_screen(Choose(why + " Save it anyway?", [("cancel", "Cancel", "primary"),
                                                             ("save", "Save anyway", "warning")]), answered)
            return
        if self._write() and then is not None:
            then()

    def _write(self) -> bool:
        try:
            backup = save_text(self.session.path, self.session.text)
        except OSError as exc:
            self.notify(f"not saved: {exc.strerror or exc}", severity="error")
            return False
        self.session.saved_text = self.session.text
        self.session.disk = fingerprint(self.session.path)
        self.notify(f"saved {self.session.path}" + (f" (backup {backup.name})" if backup else ""))
        self._status()
        return True

    def action_open(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is None:
                return
            self._load(path)

        if self.session.dirty:
            self.notify("save (Ctrl+S) before opening another site", severity="warning")
            return
        self.push_screen(OpenSite(Path.cwd()), chosen)

    def _load(self, path: Path) -> None:
        self.session = Session.open(path)
        self._check("file")

    def action_export(self) -> None:
        """The BOM beside the site as CSV, in the order the BOM tab shows it."""
        from planner.errors import InputError
        from planner.outputs.bom import write_bom
        from planner.outputs.export import atomic_file

        rows = self.pane(BomPane).rows
        if not rows:
            self.notify("solve first: there is no BOM yet", severity="warning")
            return
        target = self.session.path.with_name(self.session.path.stem + "-bom.csv")
        try:
            with atomic_file(target) as tmp:
                write_bom(tmp, rows)
        except OSError as exc:  # a full disk: say so, keep the session
            self.notify(f"BOM not written to {target}: {exc.strerror or exc}", severity="error")
            return
        except InputError as exc:  # a read-only folder, a folder named like the file
            self.notify(f"BOM not written: {exc}", severity="error")
            return
        self.notify(f"BOM written to {target}")

    async def action_quit(self) -> None:
        if not self.session.dirty:
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice == "quit":
                self.exit()
            elif choice == "save":  # the save's own questions first (a broken or emptied text)
                self.action_save(then=self.exit)

        self.push_screen(confirm_quit(), answered)

    def action_keys(self) -> None:
        """Show (or hide) the keys of the app and of the focused widget."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Screenshots go beside the site file (not to a Downloads folder that may not exist)."""
        folder = path or str(self.session.path.resolve().parent)
        key = super().deliver_screenshot(filename, folder, time_format)
        self.notify(f"screenshot saved in {folder}")
        return key

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette (Ctrl+P) finds the app's own commands too: solve, save, open, export,
        compare and every tab."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Solve", "Solve every scenario of the site (Ctrl+R)", self.action_solve)
        yield SystemCommand("Save", "Save the site file, keeping a backup (Ctrl+S)", self.action_save)
        yield SystemCommand("Open", "Open another site file (Ctrl+O)", self.action_open)
        yield SystemCommand("Export BOM", "Write the BOM beside the site as CSV (Ctrl+E)", self.action_export)
        yield SystemCommand("Compare", "The scenarios side by side (F3)", lambda: self.action_tab(ResultsPane.PANE_ID))
        for pane in PANES:
            yield SystemCommand(f"Tab: {pane.TITLE}", f"Show the {pane.TITLE} tab ({pane.KEY.upper()})",
                                lambda tab=pane.PANE_ID: self.action_tab(tab))

    # ------------------------------------------------------------------ solving
    def action_solve(self) -> None:
        if self.session.loaded is None or self.session.problems:
            self.notify("fix the problems in the site first", severity="error")
            return
        if self._solve_worker is not None and self._solve_worker.state == WorkerState.RUNNING:
            self.notify("a solve is already running (Esc cancels it)")
            return
        self._solve_id += 1
        self._solve_text = self.session.text
        self._status("solving ...")
        self._solve_worker = self._solve(self.session.loaded, self._solve_id)

    def action_cancel(self) -> None:
        if self._solve_worker is not None and self._solve_worker.state == WorkerState.RUNNING:
            self._solve_worker.cancel()
            self._status("solve cancelled")

    @work(thread=True, exclusive=True, group="solve")
    def _solve(self, loaded: LoadedSite, solve_id: int) -> None:
        """Solve every scenario (in a thread); every outcome is a message to the app: a
        solve that raises never takes the app (and the user's unsaved text) down with it."""
        from planner.app.pipeline import Progress, solve_site
        from planner.errors import InputError

        worker = get_current_worker()
        started = time.perf_counter()
        post = self.post_message  # safe from a thread

        class Status(Progress):
            def scenario(self, index: int, count: int, name: str) -> bool:
                if worker.is_cancelled:
                    return False
                post(SolveProgress(solve_id, index, count, name))
                return True

        post(SolveStarted(solve_id, tuple(loaded.site.scenarios)))
        try:
            run = solve_site(loaded, self.site_catalog, cache=self._plan_cache, solver=self.solver,
                             progress=Status())
            plans = None if run is None else SolvedPlans(run.summary(), tuple(run.bom_rows()), run.fabrics(),
                                                         run.dispatch())
        except InputError as exc:  # something only the solve finds (a price series file gone)
            post(SolveFailed(solve_id, str(exc), tuple(exc.problems), time.perf_counter() - started))
            return
        except Exception as exc:  # a fault in the planner: said, not a crash that loses the edits
            post(SolveFailed(solve_id, f"{type(exc).__name__}: {exc}", (), time.perf_counter() - started))
            return
        elapsed = time.perf_counter() - started
        if plans is None or worker.is_cancelled:
            post(SolveCancelled(solve_id, elapsed))
        else:
            post(SolveFinished(solve_id, plans, elapsed))

    def _current(self, message: SolveMessage) -> bool:
        """The message is about the latest solve (an older, cancelled one may still report)."""
        return message.solve_id == self._solve_id

    def on_solve_started(self, message: SolveStarted) -> None:
        if self._current(message):
            self._tell(message)

    def on_solve_progress(self, message: SolveProgress) -> None:
        if self._current(message):
            self._status(f"solving {message.name} ({message.index}/{message.count}) ...")
            self._tell(message)

    def on_solve_finished(self, message: SolveFinished) -> None:
        if not self._current(message):
            return
        self.session.plans, self.session.solved_text = message.plans, self._solve_text
        self._tell(message)
        self.action_tab(ResultsPane.PANE_ID)
        self._status("solved")
        self.log.info(f"solved {len(message.plans.scenarios)} scenario(s) in {message.elapsed_s:.1f} s")

    def on_solve_failed(self, message: SolveFailed) -> None:
        if not self._current(message):
            return
        self._tell(message)
        self.notify(message.problem, severity="error", timeout=10)
        self._status("solve failed")

    def on_solve_cancelled(self, message: SolveCancelled) -> None:
        if self._current(message):
            self._tell(message)
            self._status("solve cancelled")


def make_app(path: Path | None = None, catalog: Catalog | None = None, overlays: Sequence[Path] = ()) -> PlannerApp:
    """The one factory the CLI and the tests use; ``overlays``: the command line's catalog
    folders (``catalog``, when given, is already loaded with them)."""
    return PlannerApp(path, catalog=catalog, overlays=overlays)

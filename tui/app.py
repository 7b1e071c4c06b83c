"""The planner's terminal UI: edit a site, solve in the background, compare, browse.

The app holds domain state (the site text, its validation, the last results) outside the
widgets and only calls the ``planner`` stages; widgets never import pulp. Slow work runs
in thread workers that post back to the UI.

Over 400 lines: one App class fills the seven tabs; a module per pane, with typed messages
from the solve worker, is the next step (issue 18, point 4).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    DataTable,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, WorkerState

from planner.site.text import save_text, template, validate_text
from tui.form import SiteForm

if TYPE_CHECKING:
    from planner.outputs.records import BomRow, SummaryDocument

FORM_PREBUILD_S = 0.5  # after the first screen, the form is built in the background


@dataclass
class Session:
    """What the user is working on: the file, its text, and the last results."""

    path: Path
    text: str
    saved_text: str
    problems: list = field(default_factory=list)
    loaded: object | None = None
    summary: SummaryDocument | None = None
    bom: list[BomRow] = field(default_factory=list)
    fabric: dict = field(default_factory=dict)
    dispatch: dict = field(default_factory=dict)
    disk: tuple | None = None  # the file as last read or written here: (size, mtime, sha256)

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    def changed_on_disk(self) -> bool:
        """Another program wrote the file since this session read or saved it."""
        return self.disk is not None and fingerprint(self.path) != self.disk


def fingerprint(path: Path) -> tuple | None:
    """(size, mtime, sha256) of a file; None when there is no file."""
    import hashlib

    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Choose(ModalScreen[str]):
    """A question with buttons; the first (the safe one) has the focus, so Enter never
    takes the destructive choice. Escape answers the first too."""

    BINDINGS = [Binding("escape", "answer_first", "cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str, str]]):
        super().__init__()
        self.question, self.choices = question, choices  # (id, label, variant)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            with Horizontal(id="buttons"):
                for key, label, variant in self.choices:
                    yield Button(label, variant=variant, id=key)

    def on_mount(self) -> None:
        self.query_one(f"#{self.choices[0][0]}", Button).focus()

    def action_answer_first(self) -> None:
        self.dismiss(self.choices[0][0])

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


def confirm_quit() -> Choose:
    """Unsaved changes: stay (the default), save and quit, or quit without saving."""
    return Choose("The site has unsaved changes.",
                  [("stay", "Cancel", "primary"), ("save", "Save and quit", "success"),
                   ("quit", "Quit without saving", "error")])


class OpenSite(ModalScreen[Path | None]):
    """Pick a site file (or type a path; a new path starts from the template)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, start: Path):
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Open a site file (Enter on a .toml file), or type a path and press Enter:")
            yield Input(placeholder="sites/my-site.toml", id="path")
            yield DirectoryTree(str(self.start), id="tree")

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        if event.path.suffix == ".toml":
            self.dismiss(Path(event.path))

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(Path(event.value.strip()))


def _terminal_driver():
    """Textual's driver for this platform, measuring the terminal on the stream it draws
    on. The planner points file descriptor 1 at the null device while it runs (C
    libraries print there, and a solver banner would scar the screen), so the standard
    measure of stdout finds no terminal and the app would be drawn at 80 x 24 in any
    window. Textual draws through stderr: measure that."""
    import os
    import sys

    if sys.platform == "win32":
        return None
    from textual.drivers.linux_driver import LinuxDriver

    class Driver(LinuxDriver):
        def _get_terminal_size(self) -> tuple[int, int]:
            for stream in (sys.__stderr__, sys.__stdout__):
                try:
                    size = os.get_terminal_size(stream.fileno())
                except (AttributeError, ValueError, OSError):
                    continue
                if size.columns and size.lines:
                    return size.columns, size.lines
            return super()._get_terminal_size()

    return Driver


class PlannerApp(App):
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
        Binding("f1", "tab('site-tab')", "Site", priority=True, show=False),
        Binding("f2", "tab('form-tab')", "Form", priority=True, show=False),
        Binding("f3", "tab('results-tab')", "Results", priority=True, show=False),
        Binding("f4", "tab('bom-tab')", "BOM", priority=True, show=False),
        Binding("f5", "tab('fabric-tab')", "Fabric", priority=True, show=False),
        Binding("f6", "tab('charts-tab')", "Charts", priority=True, show=False),
        Binding("f7", "tab('catalog-tab')", "Catalog", priority=True, show=False),
        Binding("question_mark", "keys", "Keys"),
    ]
    TABS = {"site-tab": "Site", "form-tab": "Form", "results-tab": "Results", "bom-tab": "BOM",
            "fabric-tab": "Fabric", "charts-tab": "Charts", "catalog-tab": "Catalog"}

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

    def __init__(self, path: Path | None = None, catalog=None, solver: str = "highs"):
        super().__init__(driver_class=_terminal_driver())
        from planner.parts.catalog import load_catalog

        self.catalog = catalog if catalog is not None else load_catalog()
        self.solver = solver
        path = Path(path) if path else Path("new-site.toml")
        text = _read(path) if path.exists() else template(path.stem)
        self.session = Session(path=path, text=text, saved_text=text if path.exists() else "",
                               disk=fingerprint(path))
        self._solve_worker: Worker | None = None
        from planner.model.cache import PlanCache

        self._plan_cache = PlanCache()  # price profiles and cluster options reused across solves while they apply
        self._solve_started = 0.0

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("F1 Site", id="site-tab"), Horizontal():
                yield TextArea(self.session.text, id="editor", show_line_numbers=True, tab_behavior="focus")
                yield Static("", id="problems")
            with TabPane("F2 Form", id="form-tab"):
                helpline = Static("Tab or click a field: its meaning and unit show here.", id="form-help",
                                  classes="form-helpline", markup=False)
                yield SiteForm(catalog=self.catalog, helpline=helpline, id="form")
                yield helpline
            with TabPane("F3 Results", id="results-tab"):
                yield Static("Press Ctrl+R to solve.", id="recommendation")
                yield Horizontal(id="cards")
                yield DataTable(id="compare", zebra_stripes=True)
            with TabPane("F4 BOM", id="bom-tab"):
                yield Input(placeholder="filter by category or part (e.g. transceiver)", id="bom-filter")
                yield DataTable(id="bom", zebra_stripes=True)
            with TabPane("F5 Fabric", id="fabric-tab"):
                yield DataTable(id="fabric", zebra_stripes=True)
            with TabPane("F6 Charts", id="charts-tab"):
                yield VerticalScroll(Static("Solve (Ctrl+R) to see the charts.", id="charts-note"), id="charts")
            with TabPane("F7 Catalog", id="catalog-tab"):
                yield Select([(k, k) for k in self._kinds()], value="miners", id="kind", allow_blank=False)
                yield DataTable(id="catalog", zebra_stripes=True, cursor_type="row")
                yield Static("", id="source")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._validate()
        self.query_one("#editor", TextArea).focus()
        self._fill_catalog("miners")
        self.query_one("#bom", DataTable).cursor_type = "row"
        # build the form's fields while the user reads the first screen, so that the first
        # visit of the Form tab only lays them out (mounting 80 fields costs a quarter second)
        self.set_timer(FORM_PREBUILD_S, self._prebuild_form)

    def _prebuild_form(self) -> None:
        if not self.screen_stack:  # the app quit before the timer fired
            return
        forms = self.screen_stack[0].query("#form").results(SiteForm)  # a dialog may be on top
        form = next(forms, None)
        if form is not None and form.built_text is None:  # not built yet (a visit builds it itself)
            form.load(self.session.text, self.session.problems)

    def _kinds(self) -> list[str]:
        return [k for k, v in self.catalog.entries.items() if v]

    # ------------------------------------------------------------------ form
    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "form-tab":
            self.query_one("#form", SiteForm).load(self.session.text, self.session.problems)

    @on(SiteForm.Edited)
    def _form_edited(self, event: SiteForm.Edited) -> None:
        editor = self.query_one("#editor", TextArea)
        with editor.prevent(TextArea.Changed):
            editor.load_text(event.text)
        self.session.text = event.text
        self._validate()
        self.query_one("#form", SiteForm).show_errors(self.session.problems)

    # ------------------------------------------------------------------ editing
    @on(TextArea.Changed, "#editor")
    def _edited(self, event: TextArea.Changed) -> None:
        self.session.text = event.text_area.text
        self._validate()

    def _validate(self) -> None:
        loaded, problems = validate_text(self.session.text, self.session.path, self.catalog)
        self.session.loaded, self.session.problems = loaded, problems
        panel = self.query_one("#problems", Static)
        if problems:
            panel.update("\n".join(f"line {p.line or '?'}: " + (f"{p.key}: " if p.key else "") + p.message
                                   + (f" ({p.hint})" if p.hint else "") for p in problems))
            panel.set_class(True, "bad")
        else:
            panel.update("valid: " + ", ".join(loaded.site.scenarios) if loaded else "")
            panel.set_class(False, "bad")
        self._status()

    def _status(self, message: str = "") -> None:
        state = "modified" if self.session.dirty else "saved"
        n = len(self.session.problems)
        bits = [f"{self.session.path.name} ({state})", f"{n} problem(s)" if n else "valid"]
        if message:
            bits.append(message)
        self.sub_title = " | ".join(bits)

    def action_save(self, then: Callable[[], None] | None = None) -> None:
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
        text = _read(path) if path.exists() else template(path.stem)
        self.session = Session(path=path, text=text, saved_text=text if path.exists() else "",
                               disk=fingerprint(path))
        self.query_one("#editor", TextArea).load_text(text)
        self._validate()

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

    def get_system_commands(self, screen):
        """The palette (Ctrl+P) finds the app's own commands too: solve, save, open, export,
        compare and every tab."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Solve", "Solve every scenario of the site (Ctrl+R)", self.action_solve)
        yield SystemCommand("Save", "Save the site file, keeping a backup (Ctrl+S)", self.action_save)
        yield SystemCommand("Open", "Open another site file (Ctrl+O)", self.action_open)
        yield SystemCommand("Export BOM", "Write the BOM beside the site as CSV (Ctrl+E)", self.action_export)
        yield SystemCommand("Compare", "The scenarios side by side (F3)", lambda: self.action_tab("results-tab"))
        for key, (tab, name) in zip(("F1", "F2", "F3", "F4", "F5", "F6", "F7"), self.TABS.items(), strict=True):
            yield SystemCommand(f"Tab: {name}", f"Show the {name} tab ({key})",
                                lambda tab=tab: self.action_tab(tab))

    # ------------------------------------------------------------------ solving
    def action_solve(self) -> None:
        if self.session.loaded is None or self.session.problems:
            self.notify("fix the problems in the site first", severity="error")
            return
        if self._solve_worker is not None and self._solve_worker.state == WorkerState.RUNNING:
            self.notify("a solve is already running (Esc cancels it)")
            return
        self._solve_started = time.perf_counter()
        self._status("solving ...")
        self._solve_worker = self._solve(self.session.loaded)

    def action_cancel(self) -> None:
        if self._solve_worker is not None and self._solve_worker.state == WorkerState.RUNNING:
            self._solve_worker.cancel()
            self._status("solve cancelled")

    @work(thread=True, exclusive=True, group="solve")
    def _solve(self, loaded) -> tuple[SummaryDocument | None, list[BomRow], dict, dict]:
        from textual.worker import get_current_worker

        from planner.app.pipeline import Progress, solve_site

        worker = get_current_worker()
        app = self

        class Status(Progress):
            def scenario(self, index: int, count: int, name: str) -> bool:
                if worker.is_cancelled:
                    return False
                app.call_from_thread(app._status, f"solving {name} ({index}/{count}) ...")
                return True

        run = solve_site(loaded, self.catalog, cache=self._plan_cache, solver=self.solver, progress=Status())
        if run is None:
            return None, [], {}, {}
        return run.summary(), run.bom_rows(), run.fabrics(), run.dispatch()

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._solve_worker:
            return
        if event.state == WorkerState.SUCCESS and not event.worker.is_cancelled:
            doc, rows, fabric, dispatch = event.worker.result
            if doc:
                self.session.summary, self.session.bom = doc, rows
                self.session.fabric, self.session.dispatch = fabric, dispatch
                self._show_results()
                self.action_tab("results-tab")
                self._status("solved")
        elif event.state == WorkerState.ERROR:
            from planner.errors import InputError

            error = event.worker.error
            text = str(error) if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
            self.notify(text, severity="error", timeout=10)
            self._status("solve failed")

    # ------------------------------------------------------------------ results
    def _show_results(self) -> None:
        from planner.outputs.records import NoPlanSummary
        from planner.outputs.summary import SUMMARY_ROWS, format_cell, row_value

        doc = self.session.summary
        names = list(doc.scenarios)
        table = self.query_one("#compare", DataTable)
        table.clear(columns=True)
        table.add_columns("", *names)
        room = max(14, (self.size.width - 28) // max(1, len(names)) - 2)  # every scenario on screen

        def fit(text: str) -> str:
            return text if len(text) <= room else text[: room - 1] + "…"

        for label, key, kind in SUMMARY_ROWS:
            cells = [fit(format_cell(row_value(doc.scenarios[n], key), kind)) for n in names]
            differ = len(set(cells)) > 1
            table.add_row(label, *[f"[b]{c}[/b]" if differ else c for c in cells])
        rec = doc.recommendation
        binds = "; ".join(f"{n}: {b}" for n, s in doc.scenarios.items() for b in s.binding_constraints)
        self.query_one("#recommendation", Static).update(
            f"Recommendation: {rec.scenario or 'none'} ({rec.reason})\nBinding: {binds or 'none'}")
        cards = self.query_one("#cards", Horizontal)
        cards.remove_children()
        for n in names:
            sc = doc.scenarios[n]
            if isinstance(sc, NoPlanSummary):
                body = f"{sc.status}\n" + "\n".join(sc.binding_constraints if sc.status ==
                                                    "infeasible" else [sc.message])
            else:
                body = (f"NPV {sc.npv_usd / 1e6:,.1f} M USD\ncapex {sc.capex_usd / 1e6:,.1f} M USD\n"
                        f"{sc.gpus:,} GPUs, {sc.miners:,} miners\n{sc.facility_power_mw:,.1f} MW of "
                        f"{sc.grid_capacity_mw:g} MW")
            card = Static(body, classes="card best" if n == rec.scenario else "card")
            card.border_title = n
            cards.mount(card)
        self._fill_bom("")
        self._fill_fabric()
        self._fill_charts()

    @on(Input.Changed, "#bom-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill_bom(event.value)

    def _fill_bom(self, text: str) -> None:
        table = self.query_one("#bom", DataTable)
        table.clear(columns=True)
        table.add_columns("scenario", "category", "part", "quantity", "unit USD", "extended USD", "kW",
                          "description")
        text = text.lower().strip()
        for r in self.session.bom:
            if text and text not in r.category.lower() and text not in str(r.part).lower():
                continue
            table.add_row(r.scenario, r.category, r.part, f"{r.quantity:,}",
                          _cell(r.unit_cost_usd), _cell(r.extended_cost_usd), _power_cell(r),
                          r.description)

    @on(DataTable.HeaderSelected, "#bom")
    def _sort_bom(self, event: DataTable.HeaderSelected) -> None:
        key = ["scenario", "category", "part", "quantity", "unit_cost_usd", "extended_cost_usd",
               "extended_power_w", "description"][event.column_index]
        reverse = getattr(self, "_bom_sort", None) == key
        self._bom_sort = None if reverse else key
        self.session.bom.sort(key=lambda r: (getattr(r, key) is None, getattr(r, key) if getattr(r, key) is not None
                                             else 0), reverse=reverse)
        self._fill_bom(self.query_one("#bom-filter", Input).value)

    def _fill_fabric(self) -> None:
        table = self.query_one("#fabric", DataTable)
        table.clear(columns=True)
        table.add_columns("scenario", "tier", "switches", "links", "optic (lower / upper)", "cables", "lit fibres")
        roles = {"node_leaf": "leaf", "leaf_spine": "spine", "spine_core": "core"}
        for name, doc in self.session.fabric.items():
            for tier, role in roles.items():
                m = doc["media"].get(tier)
                if m:
                    table.add_row(name, tier, f"{doc['switches'][role]:,} {role}", f"{doc['links'][tier]:,}",
                                  f"{m['lower']} / {m['upper']}", f"{m['cables']:,}", f"{m['fibers']:,}")

    def _fill_charts(self) -> None:
        """Price, grid import and miner load over the year for each scenario (sparklines
        with a time axis; a constant series is said, not drawn; a price series whose
        spikes would flatten the line is clipped at its 99th percentile, and says so);
        capex as bars."""
        from planner.outputs.records import NoPlanSummary

        box = self.query_one("#charts", VerticalScroll)
        box.remove_children()
        widgets = []
        doc = self.session.summary
        for name, rows in self.session.dispatch.items():  # a DataFrame per scenario, one row per step
            if rows.empty:
                continue
            steps = rows["step"].tolist()
            widgets += _chart(f"{name}: price, USD/MWh ({len(rows):,} step{'' if len(rows) == 1 else 's'})",
                              rows["price_usd_per_mwh"].tolist(), steps, clip=True)
            widgets += _chart(f"{name}: grid import (AI + miners), MW; capacity "
                              f"{rows['grid_capacity_mw'].max():g} MW",
                              rows["grid_import_mw"].tolist(), steps)
            widgets += _chart(f"{name}: miners, MW", rows["miner_load_mw"].tolist(), steps)
        ok = {n: s.capex_usd for n, s in doc.scenarios.items() if not isinstance(s, NoPlanSummary)}
        if ok:
            top = max(ok.values()) or 1.0
            widgets.append(Static("capex, million USD", classes="chart-title"))
            for n, capex in ok.items():
                bar = "█" * max(0, round(40 * capex / top))
                widgets.append(Static(f"{n:>12} {bar} {capex / 1e6:,.1f}"))
        box.mount_all(widgets or [Static("No time series: the site has one price.")])

    def action_export(self) -> None:
        from planner.errors import InputError
        from planner.outputs.bom import write_bom
        from planner.outputs.export import atomic_file

        if not self.session.bom:
            self.notify("solve first: there is no BOM yet", severity="warning")
            return
        target = self.session.path.with_name(self.session.path.stem + "-bom.csv")
        try:
            with atomic_file(target) as tmp:
                write_bom(tmp, self.session.bom)
        except OSError as exc:  # a full disk: say so, keep the session
            self.notify(f"BOM not written to {target}: {exc.strerror or exc}", severity="error")
            return
        except InputError as exc:  # a read-only folder, a folder named like the file
            self.notify(f"BOM not written: {exc}", severity="error")
            return
        self.notify(f"BOM written to {target}")

    # ------------------------------------------------------------------ catalog
    @on(Select.Changed, "#kind")
    def _kind(self, event: Select.Changed) -> None:
        self._fill_catalog(str(event.value))

    def _fill_catalog(self, kind: str) -> None:
        from planner.parts.catalog import headline

        table = self.query_one("#catalog", DataTable)
        table.clear(columns=True)
        table.add_columns("key", "figures", "as of")
        for key, entry in sorted(self.catalog.entries[kind].items()):
            power = self.catalog.power(key) if kind in ("switches", "optics", "miners", "servers") else None
            table.add_row(key, headline(kind, entry.item, power), str(entry.item.as_of), key=key)
        self._catalog_kind = kind

    @on(DataTable.RowHighlighted, "#catalog")
    def _part(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        entry = self.catalog.entries[self._catalog_kind].get(event.row_key.value)
        if entry is not None:
            cost = self.catalog.unit_cost(entry.item.key)
            price = f"\nunit cost: {cost[0]:,.0f} USD ({cost[1]})" if cost else ""
            self.query_one("#source", Static).update(f"source: {entry.item.source} (as of {entry.item.as_of})"
                                                     + price)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        parts = (f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}" for k, v in value.items() if v)
        return ", ".join(parts) or "0"
    return str(value)


def _read(path: Path) -> str:
    """The site's text as it is on disk: line ends kept (a CRLF file is saved as CRLF)."""
    return path.read_bytes().decode("utf-8")


def make_app(path: Path | None = None, catalog=None) -> PlannerApp:
    """The one factory the CLI and the tests use."""
    return PlannerApp(path, catalog=catalog)


def _chart(title: str, values: list[float], steps: list[str], clip: bool = False) -> list:
    """A titled sparkline with its time axis (first and last step). A constant series is
    said in words (a sparkline of equal values draws as a full block or a flat line,
    depending on the data). With ``clip``, values beyond the 1st-99th percentiles are
    clipped when they would squash the rest, and the title says so."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    lo, hi = float(data.min()), float(data.max())
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):
        return [Static(f"{title}: constant at {hi:,.2f}", classes="chart-title")]
    note = f", {lo:,.1f} to {hi:,.1f}"
    if clip and data.size >= 100:
        p1, p99 = (float(x) for x in np.percentile(data, [1, 99]))
        if hi - lo > 4 * (p99 - p1) > 0:
            data = np.clip(data, p1, p99)
            note = f", clipped to {p1:,.1f} to {p99:,.1f} (1st to 99th percentile; extremes {lo:,.1f} and {hi:,.1f})"
    axis = Static(f"{steps[0]}  ...  {steps[-1]}" if len(steps) > 1 else steps[0], classes="chart-axis")
    # a price is shown by each column's mean (a year of quarter hours in 80 columns), a load
    # by its peak (what the connection must carry)
    summary = (lambda xs: sum(xs) / len(xs)) if clip else max
    return [Static(title + note, classes="chart-title"), Sparkline(data.tolist(), summary_function=summary), axis]


def _power_cell(row: BomRow) -> str:
    """Extended power in kW, marked 'est.' when the unit figure is a labelled estimate."""
    watts = row.extended_power_w
    if watts is None:
        return "-"
    basis = row.power_basis or ""
    mark = " est." if basis.startswith("ESTIMATE") else " site" if basis.startswith("site file") else ""
    return f"{watts / 1e3:,.1f}{mark}"

"""The ``planner`` command: it only chains the library's stages.

Exit codes: 0 success, 1 no plan (infeasible, with the binding constraints named, or the
solver stopped without an answer, with its status), 2 bad input
(file, dotted key, line and a suggestion). Heavy libraries are imported inside the
commands that need them, so ``planner --help`` starts fast.

This module holds the plan commands (solve, compare, validate, check-output, sweep, tui)
and the entry point that turns errors into exit codes; the part browsers are
:mod:`planner.app.cli_catalog`, the demand calculators :mod:`planner.app.cli_size`. It is
over 400 lines because ``solve`` writes the whole output set (the files, the figures'
jobs, the topology) and the entry point guards the streams and repeated options: both are
the command's own behaviour, not a stage of the library.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.app.cli_catalog import catalog_app, fabric_cmd
from planner.app.cli_common import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    CatalogOpt,
    Failed,
    make_console,
)
from planner.app.cli_portfolio import portfolio_cmd
from planner.app.cli_size import size_app
from planner.app.pipeline import Progress
from planner.constants import USD_PER_MUSD
from planner.errors import InputError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np
    from rich.console import Console
    from rich.status import Status
    from rich.table import Table

    from planner.app.pipeline import SiteRun
    from planner.model.lp import LinearProgram
    from planner.model.optimize import Result
    from planner.model.plan import PlanModel
    from planner.model.scenario import ScenarioInputs
    from planner.outputs.records import SummaryDocument
    from planner.parts.catalog import Catalog
    from planner.site.load import LoadedSite

app = typer.Typer(
    no_args_is_help=True,
    help="Datacenter interconnect and facility planner: retrofit a mine, build new, or mix.",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from planner import __version__

        make_console().print(f"planner {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the planner's version and exit.")] = False,
) -> None:
    """Datacenter interconnect and facility planner: retrofit a mine, build new, or mix."""


app.add_typer(catalog_app, name="catalog")
app.add_typer(size_app, name="size")


class _StatusLine(Progress):
    """The solve's progress on stderr (a pipeline.Progress): a status line per scenario on a
    terminal, then each scenario's status and time unless quiet."""

    def __init__(self, solver: str, quiet: bool):
        self.err = make_console(stderr=True)
        self.solver, self.quiet = solver, quiet
        self.live = not quiet and self.err.is_terminal
        self.status: Status | None = None
        self.tag, self.t0 = "", 0.0

    def scenario(self, index: int, count: int, name: str) -> bool:
        import time

        self.t0 = time.perf_counter()
        self.tag = f"[{index}/{count}] {name}"
        if self.live:
            self.status = self.err.status(f"{self.tag}: sizing the cluster options ...")
            self.status.start()
        return True

    def prepared(self, name: str, inputs: ScenarioInputs) -> None:
        if self.status is not None:
            self.status.update(f"{self.tag}: building the model ({len(inputs.options)} options, "
                               f"{inputs.profile.steps:,} price steps) ...")

    def built(self, name: str, model: PlanModel) -> None:
        if self.status is not None:
            self.status.update(f"{self.tag}: solving with {self.solver} ({model.lp.num_cols:,} columns, "
                               f"{model.lp.num_rows:,} rows) ...")

    def solved(self, name: str, result: Result) -> None:
        import time

        self.stop()
        if not self.quiet:
            took = result.scenario_seconds if result.scenario_seconds is not None else time.perf_counter() - self.t0
            self.err.print(f"{name}: {result.status} in {took:.1f} s", style="dim")  # summary's scenario_seconds

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


SolverLogOpt = Annotated[Path | None, typer.Option(
    "--solver-log", help="Write the solver's log of every scenario to this file (never to the console).",
    show_default="no log")]


def _solve_all(loaded: LoadedSite, catalog: Catalog, names: list[str], solver: str, quiet: bool, *,
               reduce: bool = True, keep_models: bool = False, solver_log: Path | None = None,
               wrap: Callable[[Progress], Progress] | None = None) -> tuple[SiteRun, Progress]:
    """Every named scenario solved by the pipeline (one PlanCache for the run: a price
    series is read once for all the scenarios), with the status line on stderr; with
    ``solver_log`` the solvers' logs are written to that file, scenario after scenario.
    ``wrap`` puts another Progress around the status line (returned with the run)."""
    from planner.app.pipeline import solve_site
    from planner.model.cache import PlanCache

    status = _StatusLine(solver, quiet)
    progress = wrap(status) if wrap is not None else status
    try:
        run = solve_site(loaded, catalog, names, cache=PlanCache(), solver=solver, reduce=reduce,
                         keep_models=keep_models, progress=progress, solver_log=solver_log is not None)
    finally:
        status.stop()
    if run is None:  # only a progress hook that says stop ends a run early; the status line never does
        raise RuntimeError("the run stopped before its last scenario")
    if solver_log is not None:
        _write_solver_log(solver_log, run.results)
    return run, progress


def _write_solver_log(path: Path, results: dict[str, Result]) -> None:
    """The solvers' logs, each under a line naming its scenario and solver, written whole
    (a temporary file renamed into place)."""
    from planner.outputs.export import atomic_file

    text = "".join(f"===== scenario {name} ({r.solver}) =====\n{r.solver_log.rstrip()}\n\n"
                   for name, r in results.items())
    with atomic_file(path) as tmp:
        tmp.write_text(text)


def _summary_table(doc: SummaryDocument, highlight: bool = False) -> Table:
    from rich.table import Table

    from planner.outputs.cells import format_cell
    from planner.outputs.summary import row_value, summary_rows

    names = list(doc.scenarios)
    table = Table(title=f"{doc.site}  (solver: {doc.solver})")
    table.add_column("", style="bold")
    for n in names:
        table.add_column(n, justify="right")

    for label, key, kind in summary_rows(doc):
        cells = [format_cell(row_value(doc.scenarios[n], key), kind) for n in names]
        style = "bold" if highlight and len(set(cells)) > 1 else None
        table.add_row(label, *cells, style=style)
    return table


def _business_table(doc: SummaryDocument) -> Table:
    """Business model, tenant risk and the per-MW comparison, a column per scenario."""
    from rich.table import Table

    from planner.outputs.business import BUSINESS_ROWS, business_value
    from planner.outputs.cells import format_cell

    names = list(doc.scenarios)
    table = Table(title="business model and margin per MW of grid")
    table.add_column("", style="bold")
    for n in names:
        table.add_column(n, justify="right")
    scenarios = {n: doc.scenarios[n].model_dump() for n in names}
    for label, path, kind in BUSINESS_ROWS:
        table.add_row(label, *(format_cell(business_value(scenarios[n], path), kind) for n in names))
    return table


def _print_binding(doc: SummaryDocument, console: Console) -> None:
    from planner.outputs.records import PlanSummary

    for name, sc in doc.scenarios.items():
        for line in sc.binding_constraints:
            console.print(f"  {name}: binds: {line}")
        if not isinstance(sc, PlanSummary):
            if sc.status != "infeasible":
                console.print(f"  {name}: {sc.message}")
            continue
        uplift = sc.redispatch_uplift_usd
        if uplift and sc.npv_usd and abs(uplift) >= 1e-3 * abs(sc.npv_usd):
            console.print(f"  {name}: note: the plan runs one dispatch of the price year in every year; "
                          f"re-dispatched month by month at each month's hashprice, the same miners would "
                          f"add {uplift / USD_PER_MUSD:,.1f} M USD of NPV")
    warnings = dict.fromkeys(w for sc in doc.scenarios.values() if isinstance(sc, PlanSummary) for w in sc.warnings)
    for line in warnings:
        console.print(f"warning: {line}", style="yellow")
    rec = doc.recommendation
    if rec.scenario:
        console.print(f"Recommendation: {rec.scenario} ({rec.reason})", style="bold")
    else:
        console.print(f"Recommendation: none ({rec.reason})")


@app.command("solve")
def solve_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output folder.", show_default="out/<site-stem>")] = None,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", help="Scenario to solve (repeatable).", show_default="all")
    ] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc.")] = "highs",
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    graphml: Annotated[str, typer.Option(
        "--graphml", help=f"the fabric's graph: auto (topology.graphml up to {GRAPHML_AUTO_LINKS:,} links, "
        "compressed as topology.graphml.gz above), always (never compressed) or never.")] = "auto",
    reference: Annotated[bool, typer.Option(
        "--reference-model", help="Solve the per-step reference model (a dispatch column per price step) "
        "instead of its exact reduction (steps the model cannot tell apart share a column); for checking.")] = False,
    write_model: Annotated[str | None, typer.Option(
        "--write-model", help="Also write each scenario's model as an lp or mps file (model-<scenario>.lp) "
        "in the output folder.")] = None,
    solver_log: SolverLogOpt = None,
    cables: Annotated[str, typer.Option(
        "--cables", help=f"the cable schedule cables.csv, a row per cable: auto (written up to "
        f"{CABLES_AUTO_LINKS:,} links in all the plans; a note says when not), always or never.")] = "auto",
    netbox: Annotated[bool, typer.Option(
        "--netbox", help="Also write NetBox bulk-import files for each scenario's plan "
        "(netbox/<scenario>/: sites, locations, racks, manufacturers, device-types.yaml, device roles, "
        "devices, cables).")] = False,
) -> None:
    """Validate, size and solve a site; write summary.json, bom.csv, plots and the topology."""
    from planner.errors import Problem, did_you_mean, display_path
    from planner.outputs.figure_writer import figure_writer

    if graphml not in ("auto", "always", "never"):
        raise InputError([Problem("command line", "--graphml", f"{graphml!r} is not auto, always or never")])
    if cables not in ("auto", "always", "never"):
        raise InputError([Problem("command line", "--cables", f"{cables!r} is not auto, always or never")])
    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    if write_model is not None and write_model not in ("lp", "mps"):
        raise InputError([Problem("command line", "--write-model", f"{write_model!r} is not lp or mps")])
    # the figures' writer starts first: it imports matplotlib while this process reads the
    # site and solves (the libraries the run needs are imported after its fork)
    with figure_writer() as pool:
        from planner.app.pipeline import load

        loaded, cat = load(site, catalog)
        names = scenario or list(loaded.site.scenarios)
        for n in names:
            if n not in loaded.site.scenarios:
                raise InputError([Problem(display_path(site), "scenarios", f"no scenario {n!r}",
                                          loaded.line("scenarios"), did_you_mean(n, loaded.site.scenarios))])
        early = lambda status: _EarlyFigures(status, pool, loaded.site.name, cat)  # noqa: E731
        run, drawn = _solve_all(loaded, cat, names, solver, quiet or as_json, reduce=not reference,
                                keep_models=bool(write_model), solver_log=solver_log, wrap=early)
        assert isinstance(drawn, _EarlyFigures)
        # what only writes the output is imported once the figures are on their way
        from planner.outputs.bom import write_bom
        from planner.outputs.csv_columns import write_columns
        from planner.outputs.export import new_run_id, write_json, write_outputs

        results, models = run.results, run.models
        doc = run.summary()
        run_id = new_run_id()  # the same id marks the output set's manifest
        notes: list[str] = []
        plan_files = _plan_files(results, cat, doc, graphml, done=drawn.done)
        from planner.model.optimize import Status as PlanStatus

        links = sum(sum(r.chosen.fabric.links.values()) for r in results.values()
                    if r.status is PlanStatus.OPTIMAL and r.chosen.fabric is not None)
        schedule = cables == "always" or (cables == "auto" and links <= CABLES_AUTO_LINKS)
        if not schedule and cables == "auto":
            notes.append(f"cables.csv not written: the plans have {links:,} links (a row each; the auto limit is "
                         f"{CABLES_AUTO_LINKS:,}); --cables always writes it")
        doc = doc.model_copy(update={"model": "reference (a dispatch column per price step)" if reference else None,
                                     "run_id": run_id, "notes": notes or None})
        data = doc.data()
        rows = run.bom_rows()
        target = out or Path("out") / loaded.stem
        writers = {
            "summary.json": lambda p: write_json(p, data),
            "bom.csv": lambda p: write_bom(p, rows),
        }
        if schedule:
            writers["cables.csv"] = lambda p: write_columns(p, run.cable_tables())  # the cable schedule (issue 21)
        writers.update(plan_files)
        if netbox:  # NetBox bulk-import files per scenario (outputs.netbox)
            from planner.model.lp import safe
            from planner.outputs.netbox import netbox_files

            for name, r in results.items():
                writers.update(netbox_files(r, cat, doc.site, f"netbox/{safe(name)}"))
        if any(r.inputs.profile.steps > 1 for r in results.values()):
            per_scenario = run.dispatch_tables(drawn.tables)  # built once, for the file, the plots and the workbook
            varying = [per_scenario[name] for name, r in results.items()
                       if r.inputs.profile.steps > 1 and len(per_scenario[name]["step"])]
            if varying:
                writers["dispatch.csv"] = lambda p: write_columns(p, varying)
            columns = {name: table if len(table["step"]) else None for name, table in per_scenario.items()}
            # the workbook's dispatch sheet sums the varying prices' steps by month
            monthly = {name: per_scenario[name] for name, r in results.items() if r.inputs.profile.steps > 1}
        else:  # one step a scenario: its figures come from the arrays
            from planner.outputs.physics import dispatch_arrays

            columns = {name: dispatch_arrays(r) for name, r in results.items()}
            monthly = {}
        writers.update(_chart_files(results, doc, columns, done=drawn.done))
        site_data = loaded.site.model_dump(mode="json", by_alias=True, exclude_none=True)
        writers["plan.xlsx"] = _workbook_writer(doc, rows, monthly, site_data)
        writers.update(drawn.files)  # after this process's own files: they wait for the writer
        writers["report.html"] = _report_writer(doc, rows, site_data)  # last: it embeds the figures
        if write_model:
            from planner.model.lp import safe
            from planner.model.lp import write_model as write_lp

            for name, model in models.items():
                writers[f"model-{safe(name)}.{write_model}"] = _model_writer(write_lp, model, write_model)
        with _writing(len(writers), quiet or as_json):
            write_outputs(target, writers, run_id, pool)
        feasible = any(s.status == "optimal" for s in doc.scenarios.values())
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        elif not quiet:
            console = make_console()
            console.print(_summary_table(doc))
            _print_binding(doc, console)
            for note in notes:
                console.print(f"note: {note}", style="dim")
            console.print(f"Wrote {', '.join(sorted(writers))} in {target}")
        if not feasible:
            _no_plan(doc)


def _workbook_writer(doc: SummaryDocument, rows: list, dispatch: dict, site: dict) -> Callable[[Path], None]:
    """plan.xlsx, saved by this process while the figures' writer draws (XlsxWriter loads in
    a twentieth of a second: the figures, not the workbook, are the writer's work)."""
    from planner.outputs.workbook import workbook_sheets
    from planner.outputs.xlsx import save_workbook

    sheets = workbook_sheets(doc, rows, dispatch, site)
    return lambda path: save_workbook(sheets, path)


def _report_writer(doc: SummaryDocument, rows: list, site: dict) -> Callable[[Path], None]:
    from planner.outputs.export import Last
    from planner.outputs.report_html import write_report

    return Last(lambda p: write_report(p, doc, rows, site))


@contextlib.contextmanager
def _writing(files: int, quiet: bool) -> Iterator[None]:
    """A status line on a terminal's stderr while the outputs are written (the figures and
    a large fabric's graph take seconds after the solve)."""
    err = make_console(stderr=True)
    if quiet or not err.is_terminal:
        yield
        return
    with err.status(f"writing {files} output files (figures, BOM, dispatch, topology) ..."):
        yield


def _no_plan(doc: SummaryDocument) -> None:
    """No scenario has a plan: say why for each on stderr (what binds, or how the solver
    stopped) and end with exit code 1."""
    from planner.outputs.records import NoPlanSummary

    err = make_console(stderr=True)
    for name, sc in doc.scenarios.items():
        if isinstance(sc, NoPlanSummary):
            err.print(f"{name}: {sc.message}")
    raise Failed(EXIT_INFEASIBLE)


GRAPHML_AUTO_LINKS = 50_000
# the cable schedule is built and written by default up to this many links in all the plans
# (a Xinjiang-size site has 393,216: 87 MB and seconds of a run; --cables always writes it)
CABLES_AUTO_LINKS = 100_000


def _chart_files(results: dict, doc: SummaryDocument, dispatch: dict[str, dict[str, np.ndarray] | None],
                 done: Container[str] = ()) -> dict:
    """Power over time and price against dispatch per scenario; capex per scenario.
    ``dispatch``: each scenario's dispatch columns as arrays (None without a plan);
    ``done``: scenarios whose figures were already sent to the writer (:class:`_EarlyFigures`)."""
    from planner.outputs import plots
    from planner.outputs.figure_writer import Job
    from planner.outputs.records import PlanSummary

    files: dict[str, Callable[[Path], None]] = {}
    capex = {n: s.capex_breakdown_usd for n, s in doc.scenarios.items() if isinstance(s, PlanSummary)}
    if capex:
        files["plots/capex.png"] = Job(plots.capex_breakdown, {"capex": capex,
                                                               "title": f"{doc.site}: capex by scenario"})
    for name, result in results.items():
        if name not in done:
            files.update(_scenario_charts(doc.site, name, result, dispatch[name]))
    return files


def _scenario_charts(site: str, name: str, result: Result, frame: dict[str, np.ndarray] | None) -> dict:
    """One scenario's power over time, price against dispatch and peak week (``frame``: its
    dispatch columns as arrays; None without a plan, then no figure)."""
    from planner.outputs import plots
    from planner.outputs.figure_writer import Job
    from planner.outputs.markets import peak_week, peak_week_rows
    from planner.outputs.physics import monthly_power

    files: dict[str, Callable[[Path], None]] = {}
    if frame is None:
        return files
    # the figures get plain arrays of the columns they draw: their writer needs no pandas
    power = {c: frame[c] for c in ("step", "ai_load_mw", "miner_load_mw", "grid_capacity_mw")}
    # a profile of a few steps (flat, time of use, seasonal) says little about time: the
    # plan month by month, before and after the AI start, is drawn above it
    months = monthly_power(result) if result.inputs.profile.steps <= 48 else None
    files[f"plots/power-{name}.png"] = Job(plots.power_over_time, {
        "rows": power, "title": f"{site}: {name}, grid import", "months": months})
    if result.inputs.profile.steps > 1 and result.inputs.miners:
        prices = {c: frame[c] for c in ("price_usd_per_mwh", "miner_load_mw")}
        files[f"plots/price-dispatch-{name}.png"] = Job(plots.price_and_dispatch, {
            "rows": prices, "title": f"{site}: {name}, miners against the price"})
    week = peak_week_rows(result, frame)
    if week is not None:
        files[f"plots/peak-week-{name}.png"] = Job(peak_week, {
            "rows": week, "title": f"{site}: {name}, the week of the highest-charge step"})
    return files


def _model_writer(write_lp: Callable[[LinearProgram, Path, str], None], model: PlanModel, kind: str
                  ) -> Callable[[Path], None]:
    """A writer of one scenario's model as an LP or MPS file."""
    return lambda p: write_lp(model.lp, p, kind)


def _plan_files(results: dict[str, Result], cat: Catalog, doc: SummaryDocument, graphml: str = "auto",
                done: Container[str] = ()) -> dict[str, Callable[[Path], None]]:
    """Floor plans per scenario (but those in ``done``: already sent to the writer) and the
    recommended scenario's fabric graph."""
    files: dict[str, Callable[[Path], None]] = {}
    for name, result in results.items():
        if name not in done:
            files.update(_scenario_plans(doc.site, name, result, cat))
    best = doc.recommendation.scenario
    chosen = results[best].option if best else None
    if best is not None and chosen is not None and chosen.servers and chosen.fabric is not None \
            and graphml != "never":
        links = sum(chosen.fabric.links.values())
        # streamed, so any size is written; a large one compressed (a tenth of the bytes)
        best_result = results[best]
        if graphml == "always" or links <= GRAPHML_AUTO_LINKS:
            files["topology.graphml"] = lambda p: _write_topology(best_result, cat, p)
        else:
            files["topology.graphml.gz"] = lambda p: _write_topology(best_result, cat, p, compress=True)
    return files


def _scenario_plans(site: str, name: str, result: Result, cat: Catalog) -> dict[str, Callable[[Path], None]]:
    """One scenario's floor plan, and its campus map when a route is beyond grey optics reach."""
    from planner.outputs import plots
    from planner.outputs.figure_writer import Job
    from planner.outputs.interconnect_map import campus_interconnect, interconnect_map
    from planner.outputs.physics import layout_for, site_plan

    files: dict[str, Callable[[Path], None]] = {}
    lay = layout_for(result, cat)
    if lay is not None:
        plan = site_plan(result)
        kept = (f", {plan['miners_kept']:,} miners beside it" if plan["miners_kept"] else
                ", no miners beside it" if result.inputs.miners else "")
        title = f"{site}: {name} ({result.chosen.gpus:,} GPUs, {len(lay.racks):,} racks{kept})"
        files[f"plots/floorplan-{name}.png"] = Job(plots.floorplan, {"layout": lay, "title": title, "site": plan})
        halls, far = campus_interconnect(result, cat)  # routes beyond grey optics reach only (issue 22)
        if far:
            files[f"plots/interconnect-{name}.png"] = Job(interconnect_map, {
                "routes": far, "sites": halls, "title": f"{site}: {name}, interconnect beyond grey reach"})
    return files


class _EarlyFigures(Progress):
    """A scenario's own figures (floor plan, campus map, power, price and dispatch, peak
    week) sent to the figures' writer as soon as the scenario is solved, so that the writer
    draws them while the next scenario is sized (a site of several scenarios: the Xinjiang
    mine's floor plans). Wraps the run's status line; ``files`` are the writers that wait
    for the drawn files (:class:`planner.outputs.figure_writer.Drawn`), ``tables`` the
    dispatch columns worked out for them. Without a writer process, nothing is sent early."""

    def __init__(self, inner: Progress, pool: ProcessPoolExecutor | None, site: str, catalog: Catalog):
        self.inner, self.pool, self.site, self.catalog = inner, pool, site, catalog
        self.files: dict[str, Callable[[Path], None]] = {}
        self.tables: dict[str, dict[str, np.ndarray]] = {}
        self.done: set[str] = set()

    def scenario(self, index: int, count: int, name: str) -> bool:
        return self.inner.scenario(index, count, name)

    def prepared(self, name: str, inputs: ScenarioInputs) -> None:
        self.inner.prepared(name, inputs)

    def built(self, name: str, model: PlanModel) -> None:
        self.inner.built(name, model)

    def solved(self, name: str, result: Result) -> None:
        self.inner.solved(name, result)
        if self.pool is None:
            return
        from planner.outputs.figure_writer import Drawn
        from planner.outputs.physics import dispatch_arrays, dispatch_table

        if result.inputs.profile.steps > 1:
            table = self.tables[name] = dispatch_table(result)
            frame = table if len(table["step"]) else None
        else:
            frame = dispatch_arrays(result)
        jobs = {**_scenario_plans(self.site, name, result, self.catalog),
                **_scenario_charts(self.site, name, result, frame)}
        self.files.update({file: Drawn.submit(self.pool, job, file) for file, job in jobs.items()})
        self.done.add(name)


def _write_topology(result: Result, cat: Catalog, path: Path, compress: bool = False) -> None:
    from planner.network.graph import write_graphml
    from planner.outputs.physics import layout_for

    fab = result.chosen.fabric
    if fab is None:
        raise ValueError("a topology needs a cluster")  # _plan_files asks only for one with servers
    ic = result.chosen.interconnect  # links across routes beyond grey reach ride their interconnect
    far = {(t, *r.route.pair): f"routes[{r.route.index}]" for r in ic.routes for t in r.by_tier} if ic else None
    write_graphml(fab.spec, fab, path, layout_for(result, cat), compress=compress, far=far)


@app.command("check-output")
def check_output_cmd(
    folder: Annotated[Path, typer.Argument(help="An output folder of planner solve.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check that an output folder holds one complete set from one run: exit 0 when it does,
    2 naming each file that is mixed in, changed or missing."""
    from planner.errors import Problem, display_path
    from planner.outputs.export import check_outputs

    if not folder.is_dir():
        raise InputError([Problem(display_path(folder), "", "is not a folder")])
    manifest, problems = check_outputs(folder)
    if as_json:
        sys.stdout.write(json.dumps({"folder": str(folder), "run_id": (manifest or {}).get("run_id"),
                                     "files": sorted((manifest or {}).get("files", {})),
                                     "problems": problems}, indent=2) + "\n")
    if problems:
        raise InputError([Problem(display_path(folder), "", p) for p in problems])
    if not as_json:
        found = manifest or {}
        make_console().print(f"{folder}: one complete set of {len(found.get('files', {}))} files from run "
                             f"{found.get('run_id') or '(not recorded)'}")


@app.command("compare")
def compare_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output folder.", show_default="out/<site-stem>")] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc.")] = "highs",
    catalog: CatalogOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    solver_log: SolverLogOpt = None,
) -> None:
    """Solve every scenario, print them side by side with the recommendation, write compare.csv."""
    from planner.app.pipeline import load
    from planner.errors import Problem, did_you_mean
    from planner.outputs.compare import comparison_rows
    from planner.outputs.export import atomic_file, write_csv

    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    loaded, cat = load(site, catalog)
    doc = _solve_all(loaded, cat, list(loaded.site.scenarios), solver, quiet, solver_log=solver_log)[0].summary()
    names = list(doc.scenarios)
    rows = comparison_rows(doc)  # one value per cell: a figure by tier is a row per tier
    target = (out or Path("out") / loaded.stem) / "compare.csv"
    with atomic_file(target) as tmp:
        write_csv(tmp, ["metric", *names], rows)
    if not quiet:
        console = make_console()
        console.print(_summary_table(doc, highlight=True))
        console.print(_business_table(doc))
        _print_binding(doc, console)
        console.print(f"Wrote {target}")
    if not any(s.status == "optimal" for s in doc.scenarios.values()):
        _no_plan(doc)


@app.command("sweep")
def sweep_cmd(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output folder.", show_default="out/<sweep-stem>")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler, tcp://HOST:PORT.", show_default="a local cluster")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Local Dask workers (without --scheduler).")] = 2,
    serial: Annotated[bool, typer.Option("--serial", help="No Dask: solve in this process.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
) -> None:
    """Solve many variants of a site on Dask; resumable; results.csv, results.parquet, plots."""
    from planner.app.finisher import take
    from planner.app.pipeline import load
    from planner.app.sweep import check_axes, load_sweep, run_sweep
    from planner.errors import Problem

    sweep = load_sweep(sweep_file)
    # a bad base site (with the parts of its own catalog folders), or an axis outside its
    # limits, is reported before any work
    base, catalog = load(sweep.base)
    problems = check_axes(sweep, base.site)
    if problems:
        raise InputError(problems)
    if workers < 1:
        raise InputError([Problem("command line", "--workers", "must be at least 1")])
    target = out or Path("out") / sweep_file.stem
    n = len(sweep.variants())
    finisher = take()  # loads what the parquet file and the plots need beside the sweep's work
    names = (sweep.base.name, [a.name for a in sweep.spec.axes])

    def complete(path: Path) -> None:  # asked as soon as the last row is written
        finisher.start(path, *names)

    try:
        if quiet:
            path = run_sweep(sweep, target, scheduler, workers, serial=serial, base_site=(base, catalog),
                             complete=complete)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            # drawn when a variant is done, not by a thread of its own: the sweep forks processes
            # from this one (its seed's helper, its workers), and a fork copies no thread but may
            # copy a lock a thread holds (the terminal's)
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=make_console(stderr=True), auto_refresh=False) as bar:
                task = bar.add_task(f"{n} variants", total=n)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)
                    bar.refresh()

                path = run_sweep(sweep, target, scheduler, workers, serial=serial, base_site=(base, catalog),
                                 progress=advance, complete=complete)
        written = finisher.finish(path, *names)
    finally:
        finisher.close()
    if not quiet:
        make_console().print(f"Wrote {path}, " + ", ".join(str(p) for p in written))


@app.command("validate")
def validate_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML), or a portfolio file.")],
    catalog: CatalogOpt = None,
    portfolio: Annotated[bool, typer.Option(
        "--portfolio", help="The file is a portfolio file (found by its keys when not given: [[sites]] and no "
        "[grid]).")] = False,
) -> None:
    """Report every problem in the site file at once; no solve. A portfolio file: its problems and
    those of every site file it lists."""
    from planner.site.portfolio import is_portfolio_file

    if portfolio or is_portfolio_file(site):
        from planner.app.cli_portfolio import validate_portfolio_cmd

        validate_portfolio_cmd(site, catalog)
        return
    from planner.app.pipeline import validate_site
    from planner.model.cache import PlanCache
    from planner.site.load import load_site

    problems = validate_site(site, catalog, PlanCache())  # schema, parts and power terms in one pass
    if problems:
        raise InputError(problems)
    n = len(load_site(site).site.scenarios)
    make_console().print(f"{site}: OK ({n} scenario{'' if n == 1 else 's'})")


app.command("fabric")(fabric_cmd)  # after validate, as before: the order of planner --help
app.command("portfolio")(portfolio_cmd)  # several sites together (planner.app.portfolio)


def _repeated_options(command: object, argv: list[str]) -> list[str]:
    """Options given more than once that take one value (a repeated flag must not
    silently win): walk the command tree along ``argv`` and count each option's names."""
    args = list(argv)
    # a click command of typer's own copy of click (typer._click): read by its attributes
    while args:
        commands = getattr(command, "commands", {})
        if args[0] not in commands:
            break
        command = commands[args.pop(0)]
    seen: dict[str, list[str]] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "multiple", False) or not getattr(param, "opts", None) or param.param_type_name != "option":
            continue
        names = set(param.opts) | set(param.secondary_opts)
        for arg in args:
            if arg == "--":
                break
            if arg.split("=", 1)[0] in names:
                seen.setdefault(param.opts[0], []).append(arg)
    return [f"{name} is given {len(uses)} times; give it once" for name, uses in seen.items() if len(uses) > 1]


@contextlib.contextmanager
def _stdout_for_output_only(argv: list[str]) -> Iterator[None]:
    """Stdout carries only what was asked for. C libraries write to file descriptor 1
    directly (HiGHS prints a banner whenever a solver object is made, in this process and
    in sweep workers); point descriptor 1 at the null device for the run and give Python's
    stdout a private copy of the real one. The TUI too: Textual draws through stderr, and a
    banner written on the terminal in the middle of a solve would scar the screen."""
    if sys.stdout is not sys.__stdout__ or sys.stdout is None:
        yield
        return
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
    old = sys.stdout
    sys.stdout = os.fdopen(os.dup(saved), "w", encoding=old.encoding, errors=old.errors,
                           buffering=1 if old.line_buffering else -1)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout.close()
        sys.stdout = old
        os.dup2(saved, fd)
        os.close(saved)


def _add_commands(args: list[str]) -> None:
    """Commands that other packages of the distribution add, by entry point (group
    ``planner.commands`` in pyproject.toml): the terminal UI's ``planner tui``, so that the
    planner never imports the tui package. They are looked up only when the command line
    may name one (not for ``planner solve`` and the other commands here: reading the
    metadata costs some 30 ms of start-up), once per process, and each takes its place in
    ``planner --help`` before ``validate``."""
    builtin = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if args and not args[0].startswith("-") and args[0] in builtin:
        return
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        points = distribution("minegrid-planner").entry_points.select(group="planner.commands")
    except PackageNotFoundError:  # a source tree that was never installed
        return
    for point in sorted(points, key=lambda p: p.name):
        if point.name in builtin:
            continue
        app.command(point.name)(point.load())
        added = app.registered_commands.pop()
        at = next((i for i, c in enumerate(app.registered_commands) if c.name == "validate"),
                  len(app.registered_commands))
        app.registered_commands.insert(at, added)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into exit codes, never tracebacks."""
    args = sys.argv[1:] if argv is None else list(argv)
    with _stdout_for_output_only(args):
        return _main(argv, args)


def _main(argv: list[str] | None, args: list[str]) -> int:
    try:
        import typer.main

        _add_commands(args)
        command = typer.main.get_command(app)  # built once: for the check and the run
        repeated = _repeated_options(command, args)
        if repeated:
            from planner.errors import Problem

            raise InputError([Problem("command line", "", text) for text in repeated])
        command(args=argv, prog_name="planner", standalone_mode=False)  # completion reads _PLANNER_COMPLETE
    except InputError as exc:
        err = make_console(stderr=True)
        for problem in exc.problems:
            err.print(f"error: {problem}", style="red", markup=False, highlight=False)
        return EXIT_INPUT
    except Failed as exc:
        return exc.code
    except KeyboardInterrupt:
        make_console(stderr=True).print("interrupted")
        return 130
    except Exception as exc:
        # typer raises click's exceptions (vendored in recent typer): match by behaviour
        name = type(exc).__name__
        if name == "Exit":
            return int(getattr(exc, "exit_code", 0))
        if name == "Abort":
            return 130
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage / bad parameter
            exc.show()
            return EXIT_INPUT
        if os.environ.get("PLANNER_DEBUG"):
            raise
        make_console(stderr=True).print(
            f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in the planner, not in your input; "
            "run again with PLANNER_DEBUG=1 for the traceback and report it.", style="red")
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
from pathlib import Path
from typing import Annotated

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
from planner.app.cli_size import size_app
from planner.errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Datacenter interconnect and facility planner: retrofit a mine, build new, or mix.",
    pretty_exceptions_enable=False,
)
app.add_typer(catalog_app, name="catalog")
app.add_typer(size_app, name="size")


class _StatusLine:
    """The solve's progress on stderr (a pipeline.Progress): a status line per scenario on a
    terminal, then each scenario's status and time unless quiet."""

    def __init__(self, solver: str, quiet: bool):
        self.err = make_console(stderr=True)
        self.solver, self.quiet = solver, quiet
        self.live = not quiet and self.err.is_terminal
        self.status = None
        self.tag, self.t0 = "", 0.0

    def scenario(self, index: int, count: int, name: str) -> bool:
        import time

        self.t0 = time.perf_counter()
        self.tag = f"[{index}/{count}] {name}"
        if self.live:
            self.status = self.err.status(f"{self.tag}: sizing the cluster options ...")
            self.status.start()
        return True

    def prepared(self, name: str, inputs) -> None:
        if self.status is not None:
            self.status.update(f"{self.tag}: building the model ({len(inputs.options)} options, "
                               f"{inputs.profile.steps:,} price steps) ...")

    def built(self, name: str, model) -> None:
        if self.status is not None:
            self.status.update(f"{self.tag}: solving with {self.solver} ({model.lp.num_cols:,} columns, "
                               f"{model.lp.num_rows:,} rows) ...")

    def solved(self, name: str, result) -> None:
        import time

        self.stop()
        if not self.quiet:
            self.err.print(f"{name}: {result.status} in {time.perf_counter() - self.t0:.1f} s", style="dim")

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _solve_all(loaded, catalog, names: list[str], solver: str, quiet: bool, *, reduce: bool = True,
               keep_models: bool = False):
    """Every named scenario solved by the pipeline (one PlanCache for the run: a price
    series is read once for all the scenarios), with the status line on stderr."""
    from planner.app.pipeline import solve_site
    from planner.model.cache import PlanCache

    status = _StatusLine(solver, quiet)
    try:
        return solve_site(loaded, catalog, names, cache=PlanCache(), solver=solver, reduce=reduce,
                          keep_models=keep_models, progress=status)
    finally:
        status.stop()


def _summary_table(doc: dict, highlight: bool = False):
    from rich.table import Table

    from planner.outputs.summary import format_cell, summary_rows

    names = list(doc["scenarios"])
    table = Table(title=f"{doc['site']}  (solver: {doc['solver']})")
    table.add_column("", style="bold")
    for n in names:
        table.add_column(n, justify="right")

    for label, key, kind in summary_rows(doc):
        cells = [format_cell(doc["scenarios"][n].get(key), kind) for n in names]
        style = "bold" if highlight and len(set(cells)) > 1 else None
        table.add_row(label, *cells, style=style)
    return table


def _print_binding(doc: dict, console) -> None:
    for name, sc in doc["scenarios"].items():
        for line in sc.get("binding_constraints", []):
            console.print(f"  {name}: binds: {line}")
        if sc["status"] not in ("optimal", "infeasible"):
            console.print(f"  {name}: {sc['message']}")
        uplift = sc.get("redispatch_uplift_usd")
        if uplift and sc.get("npv_usd") and abs(uplift) >= 1e-3 * abs(sc["npv_usd"]):
            console.print(f"  {name}: note: the plan runs one dispatch of the price year in every year; "
                          f"re-dispatched month by month at each month's hashprice, the same miners would "
                          f"add {uplift / 1e6:,.1f} M USD of NPV")
    warnings = dict.fromkeys(w for sc in doc["scenarios"].values() for w in sc.get("warnings", []))
    for line in warnings:
        console.print(f"warning: {line}", style="yellow")
    rec = doc["recommendation"]
    if rec["scenario"]:
        console.print(f"Recommendation: {rec['scenario']} ({rec['reason']})", style="bold")
    else:
        console.print(f"Recommendation: none ({rec['reason']})")


@app.command("solve")
def solve_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [out/<site-stem>].")] = None,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", help="Scenario to solve (repeatable) [all].")
    ] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc.")] = "highs",
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    graphml: Annotated[str, typer.Option(
        "--graphml", help=f"topology.graphml: auto (up to {GRAPHML_AUTO_LINKS:,} links), always or never.")] = "auto",
    reference: Annotated[bool, typer.Option(
        "--reference-model", help="Solve the per-step reference model (a dispatch column per price step) "
        "instead of its exact reduction (steps the model cannot tell apart share a column); for checking.")] = False,
    write_model: Annotated[str | None, typer.Option(
        "--write-model", help="Also write each scenario's model as an lp or mps file (model-<scenario>.lp) "
        "in the output folder.")] = None,
) -> None:
    """Validate, size and solve a site; write summary.json, bom.csv, plots and the topology."""
    from planner.errors import Problem, did_you_mean, display_path
    from planner.outputs.export import figure_writer

    if graphml not in ("auto", "always", "never"):
        raise InputError([Problem("command line", "--graphml", f"{graphml!r} is not auto, always or never")])
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
        import pandas as pd

        from planner.outputs.bom import BOM_COLUMNS
        from planner.outputs.export import new_run_id, write_csv, write_frame, write_json, write_outputs

        run = _solve_all(loaded, cat, names, solver, quiet or as_json, reduce=not reference,
                         keep_models=bool(write_model))
        results, models = run.results, run.models
        doc = run.summary()
        if reference:
            doc["model"] = "reference (a dispatch column per price step)"
        run_id = doc["run_id"] = new_run_id()  # the same id marks the output set's manifest
        rows = run.bom_rows()
        target = out or Path("out") / loaded.stem
        writers = {
            "summary.json": lambda p: write_json(p, doc),
            "bom.csv": lambda p: write_csv(p, BOM_COLUMNS, rows),
        }
        writers.update(_plan_files(results, cat, doc, graphml))
        per_scenario = run.dispatch()  # built once, for the file and plots
        varying = [per_scenario[name] for name, r in results.items()
                   if r.inputs.profile.steps > 1 and len(per_scenario[name])]
        if varying:
            writers["dispatch.csv"] = lambda p: write_frame(p, pd.concat(varying, ignore_index=True))
        writers.update(_chart_files(results, doc, per_scenario))
        if write_model:
            from planner.model.lp import safe
            from planner.model.lp import write_model as write_lp

            for name, model in models.items():
                writers[f"model-{safe(name)}.{write_model}"] = lambda p, m=model: write_lp(m.lp, p, write_model)
        write_outputs(target, writers, run_id, pool)
        feasible = any(s["status"] == "optimal" for s in doc["scenarios"].values())
        if as_json:
            sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        elif not quiet:
            console = make_console()
            console.print(_summary_table(doc))
            _print_binding(doc, console)
            for note in doc.get("notes", []):
                console.print(f"note: {note}", style="dim")
            console.print(f"Wrote {', '.join(sorted(writers))} in {target}")
        if not feasible:
            _no_plan(doc)


def _no_plan(doc: dict) -> None:
    """No scenario has a plan: say why for each on stderr (what binds, or how the solver
    stopped) and end with exit code 1."""
    err = make_console(stderr=True)
    for name, sc in doc["scenarios"].items():
        err.print(f"{name}: {sc['message']}")
    raise Failed(EXIT_INFEASIBLE)


GRAPHML_AUTO_LINKS = 50_000


def _chart_files(results: dict, doc: dict, dispatch: dict) -> dict:
    """Power over time and price against dispatch per scenario; capex per scenario."""
    from planner.outputs import plots
    from planner.outputs.export import Job
    from planner.outputs.markets import peak_week, peak_week_rows

    files = {}
    if any(s.get("status") == "optimal" for s in doc["scenarios"].values()):
        files["plots/capex.png"] = Job(plots.capex_breakdown, {"summary": doc,
                                                               "title": f"{doc['site']}: capex by scenario"})
    for name, result in results.items():
        frame = dispatch[name]  # a DataFrame, one row per step
        if frame.empty:
            continue
        # the figures get plain arrays of the columns they draw: their writer needs no pandas
        power = {c: frame[c].to_numpy() for c in ("step", "ai_load_mw", "miner_load_mw", "grid_capacity_mw")}
        files[f"plots/power-{name}.png"] = Job(plots.power_over_time, {
            "rows": power, "title": f"{doc['site']}: {name}, grid import"})
        if result.inputs.profile.steps > 1 and result.inputs.miners:
            prices = {c: frame[c].to_numpy() for c in ("price_usd_per_mwh", "miner_load_mw")}
            files[f"plots/price-dispatch-{name}.png"] = Job(plots.price_and_dispatch, {
                "rows": prices, "title": f"{doc['site']}: {name}, miners against the price"})
        week = peak_week_rows(result, frame)
        if week is not None:
            files[f"plots/peak-week-{name}.png"] = Job(peak_week, {
                "rows": week, "title": f"{doc['site']}: {name}, the week of the highest-charge step"})
    return files


def _plan_files(results: dict, cat, doc: dict, graphml: str = "auto") -> dict:
    """Floor plans per scenario and the recommended scenario's fabric graph."""
    from planner.outputs import plots
    from planner.outputs.export import Job
    from planner.outputs.physics import layout_for

    files = {}
    for name, result in results.items():
        lay = layout_for(result, cat)
        if lay is not None:
            title = f"{doc['site']}: {name} ({result.option.gpus:,} GPUs, {len(lay.racks):,} racks)"
            files[f"plots/floorplan-{name}.png"] = Job(plots.floorplan, {"layout": lay, "title": title})
    best = doc["recommendation"]["scenario"]
    if best and results[best].option and results[best].option.servers and graphml != "never":
        links = sum(results[best].option.fabric.links.values())
        if graphml == "always" or links <= GRAPHML_AUTO_LINKS:
            files["topology.graphml"] = lambda p, r=results[best]: _write_topology(r, cat, p)
        else:
            doc.setdefault("notes", []).append(
                f"topology.graphml not written: {links:,} links (more than {GRAPHML_AUTO_LINKS:,}); "
                "use --graphml always")
    return files


def _write_topology(result, cat, path) -> None:
    from planner.network.graph import build_graph, set_positions, to_graphml
    from planner.outputs.physics import layout_for

    fab = result.option.fabric
    graph = build_graph(fab.spec, cat, fab)
    lay = layout_for(result, cat)
    if lay is not None:
        set_positions(graph, lay)
    to_graphml(graph, path)


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
        make_console().print(f"{folder}: one complete set of {len(manifest['files'])} files from run "
                         f"{manifest.get('run_id') or '(not recorded)'}")


@app.command("compare")
def compare_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [out/<site-stem>].")] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc.")] = "highs",
    catalog: CatalogOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
) -> None:
    """Solve every scenario, print them side by side with the recommendation, write compare.csv."""
    from planner.app.pipeline import load
    from planner.errors import Problem, did_you_mean
    from planner.outputs.export import atomic_file, write_csv
    from planner.outputs.summary import in_label_unit, summary_rows

    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    loaded, cat = load(site, catalog)
    doc = _solve_all(loaded, cat, list(loaded.site.scenarios), solver, quiet).summary()
    names = list(doc["scenarios"])
    rows = []
    for label, key, kind in summary_rows(doc):
        row = {"metric": label}
        for n in names:
            value = in_label_unit(doc["scenarios"][n].get(key), kind)
            row[n] = json.dumps(value) if isinstance(value, dict | list) else value
        rows.append(row)
    rows.append({"metric": "recommendation", **{n: ("yes" if n == doc["recommendation"]["scenario"] else "")
                                                for n in names}})
    target = (out or Path("out") / loaded.stem) / "compare.csv"
    with atomic_file(target) as tmp:
        write_csv(tmp, ["metric", *names], rows)
    if not quiet:
        console = make_console()
        console.print(_summary_table(doc, highlight=True))
        _print_binding(doc, console)
        console.print(f"Wrote {target}")
    if not any(s["status"] == "optimal" for s in doc["scenarios"].values()):
        _no_plan(doc)


@app.command("sweep")
def sweep_cmd(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [out/<sweep-stem>].")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler, tcp://HOST:PORT.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Local Dask workers (without --scheduler).")] = 2,
    serial: Annotated[bool, typer.Option("--serial", help="No Dask: solve in this process.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Solve many variants of a site on Dask; resumable; results.csv, results.parquet, plots."""
    from planner.app.sweep import check_axes, finish, load_sweep, run_sweep
    from planner.errors import Problem
    from planner.site.schema import load_site

    sweep = load_sweep(sweep_file)
    base = load_site(sweep.base)  # a bad base site, or an axis outside its limits, is reported before any work
    problems = check_axes(sweep, base.site)
    if problems:
        raise InputError(problems)
    if workers < 1:
        raise InputError([Problem("command line", "--workers", "must be at least 1")])
    target = out or Path("out") / sweep_file.stem
    n = len(sweep.variants())
    if quiet:
        path = run_sweep(sweep, target, scheduler, workers, serial=serial)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=make_console(stderr=True)) as bar:
            task = bar.add_task(f"{n} variants", total=n)
            path = run_sweep(sweep, target, scheduler, workers, serial=serial,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    written = finish(path, sweep)
    if not quiet:
        make_console().print(f"Wrote {path}, " + ", ".join(str(p) for p in written))


@app.command("validate")
def validate_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    catalog: CatalogOpt = None,
) -> None:
    """Report every problem in the site file at once; no solve."""
    from planner.app.pipeline import check_site, load
    from planner.model.cache import PlanCache

    loaded, cat = load(site, catalog)
    problems = check_site(loaded, cat, PlanCache())
    if problems:
        raise InputError(problems)
    make_console().print(f"{site}: OK ({len(loaded.site.scenarios)} scenarios)")


app.command("fabric")(fabric_cmd)  # after validate, as before: the order of planner --help


def _repeated_options(command, argv: list[str]) -> list[str]:
    """Options given more than once that take one value (a repeated flag must not
    silently win): walk the command tree along ``argv`` and count each option's names."""
    args = list(argv)
    while args and hasattr(command, "commands") and args[0] in command.commands:
        command = command.commands[args.pop(0)]
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
def _stdout_for_output_only(argv: list[str]):
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
        command(args=argv, standalone_mode=False)
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

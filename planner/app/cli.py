"""The ``planner`` command: it only chains the library's stages.

Exit codes: 0 success, 1 no plan (infeasible, with the binding constraints named, or the
solver stopped without an answer, with its status), 2 bad input
(file, dotted key, line and a suggestion). Heavy libraries are imported inside the
commands that need them, so ``planner --help`` starts fast.
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

from planner.errors import InputError
from planner.parts.kinds import SINGULAR

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Datacenter interconnect and facility planner: retrofit a mine, build new, or mix.",
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(no_args_is_help=True, help="Browse parts with their sources.")
app.add_typer(catalog_app, name="catalog")
size_app = typer.Typer(no_args_is_help=True, help="Compute and energy demand: AI workloads and bitcoin mining.")
app.add_typer(size_app, name="size")

EXIT_INFEASIBLE = 1
EXIT_INTERNAL = 3
EXIT_INPUT = 2

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Overlay catalog folder (repeatable); later folders win by key."),
]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)


class Failed(Exception):
    """Raised inside commands to end with an exit code after printing."""

    def __init__(self, code: int):
        self.code = code


class _StatusLine:
    """The solve's progress on stderr (a pipeline.Progress): a status line per scenario on a
    terminal, then each scenario's status and time unless quiet."""

    def __init__(self, solver: str, quiet: bool):
        self.err = _console(stderr=True)
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
    from planner.cache import PlanCache

    status = _StatusLine(solver, quiet)
    try:
        return solve_site(loaded, catalog, names, cache=PlanCache(), solver=solver, reduce=reduce,
                          keep_models=keep_models, progress=status)
    finally:
        status.stop()


def _summary_table(doc: dict, highlight: bool = False):
    from rich.table import Table

    from planner.outputs.summary import SUMMARY_ROWS, format_cell

    names = list(doc["scenarios"])
    table = Table(title=f"{doc['site']}  (solver: {doc['solver']})")
    table.add_column("", style="bold")
    for n in names:
        table.add_column(n, justify="right")

    for label, key, kind in SUMMARY_ROWS:
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
            console = _console()
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
    err = _console(stderr=True)
    for name, sc in doc["scenarios"].items():
        err.print(f"{name}: {sc['message']}")
    raise Failed(EXIT_INFEASIBLE)


GRAPHML_AUTO_LINKS = 50_000


def _chart_files(results: dict, doc: dict, dispatch: dict) -> dict:
    """Power over time and price against dispatch per scenario; capex per scenario."""
    from planner.outputs import plots
    from planner.outputs.export import Job

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
        _console().print(f"{folder}: one complete set of {len(manifest['files'])} files from run "
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
    from planner.outputs.summary import SUMMARY_ROWS, in_label_unit

    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    loaded, cat = load(site, catalog)
    doc = _solve_all(loaded, cat, list(loaded.site.scenarios), solver, quiet).summary()
    names = list(doc["scenarios"])
    rows = []
    for label, key, kind in SUMMARY_ROWS:
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
        console = _console()
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
                      TimeRemainingColumn(), console=_console(stderr=True)) as bar:
            task = bar.add_task(f"{n} variants", total=n)
            path = run_sweep(sweep, target, scheduler, workers, serial=serial,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    written = finish(path, sweep)
    if not quiet:
        _console().print(f"Wrote {path}, " + ", ".join(str(p) for p in written))


@app.command("tui")
def tui_cmd(
    site: Annotated[Path | None, typer.Argument(help="Site file to open (a new path starts from a template).")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """The terminal UI: edit a site, solve it, compare scenarios, browse the BOM and catalog."""
    from planner.errors import Problem, display_path
    from planner.parts.catalog import load_catalog

    try:
        from tui.app import make_app
    except ImportError as exc:  # the tui package ships with the distribution
        raise InputError([Problem("installation", "tui", f"the terminal UI is not installed: {exc}")]) from None
    if site is not None and (site.exists() or site.is_symlink()):
        shown = display_path(site)
        if not site.is_file():
            raise InputError([Problem(shown, "", "is not a regular file: give a site file (.toml)")])
        from planner.tomlio import MAX_BYTES

        if site.stat().st_size > MAX_BYTES:
            raise InputError([Problem(shown, "", f"is larger than {MAX_BYTES:,} bytes")])
        try:
            site.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError([Problem(shown, "", f"not UTF-8 text (byte {exc.start})")]) from None
        except OSError as exc:
            raise InputError([Problem(shown, "", f"cannot read: {exc.strerror}")]) from None
    make_app(site, catalog=load_catalog(catalog or [])).run()


@app.command("validate")
def validate_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    catalog: CatalogOpt = None,
) -> None:
    """Report every problem in the site file at once; no solve."""
    from planner.app.pipeline import check_site, load
    from planner.cache import PlanCache

    loaded, cat = load(site, catalog)
    problems = check_site(loaded, cat, PlanCache())
    if problems:
        raise InputError(problems)
    _console().print(f"{site}: OK ({len(loaded.site.scenarios)} scenarios)")


@catalog_app.command("list")
def catalog_list(
    kind: Annotated[str | None, typer.Argument(help="accelerators, servers, miners, switches, optics, ...")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """A table of parts (all kinds, or one)."""
    from rich.table import Table

    from planner.errors import Problem, did_you_mean
    from planner.parts.catalog import KINDS, headline, load_catalog

    cat = load_catalog(catalog or [])
    kinds = list(KINDS)
    if kind is not None:
        if kind not in KINDS:
            raise InputError([Problem("command line", "KIND", f"unknown kind {kind!r}",
                                      hint=did_you_mean(kind, KINDS) or f"one of {', '.join(KINDS)}")])
        kinds = [kind]
    console = _console()
    for k in kinds:
        entries = cat.entries[k]
        if not entries:
            continue
        table = Table(title=f"{k} ({len(entries)})", caption="full sources: planner catalog show KEY")
        rows = [(key, headline(k, e.item, cat.power(key) if k in POWERED else None), e.item.source,
                 str(e.item.as_of))
                for key, e in sorted(entries.items())]
        used = max(len(r[0]) for r in rows) + max(len(r[1]) for r in rows) + 10 + 13
        room = max(16, console.width - used)
        for name in ("key", "figures", "source", "as of"):
            table.add_column(name, no_wrap=True, overflow="ellipsis")
        for key, figures, source, as_of in rows:
            table.add_row(key, figures, _clip(source, room), as_of)
        console.print(table)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


POWERED = ("switches", "optics", "miners", "servers")


@catalog_app.command("show")
def catalog_show(
    key: Annotated[str, typer.Argument(help="Part key, e.g. dgx-b200.")],
    catalog: CatalogOpt = None,
) -> None:
    """Every field of one part, each with its source."""
    from rich.table import Table

    from planner.errors import Problem, did_you_mean
    from planner.parts.catalog import iter_fields, load_catalog

    cat = load_catalog(catalog or [])
    entry = cat.find(key)
    estimate = cat.estimate(key)
    if entry is None and estimate is None:
        raise InputError([Problem("command line", "KEY", f"unknown part {key!r}",
                                  hint=did_you_mean(key, cat.part_keys()))])
    console = _console()
    if entry is not None:
        item = entry.item
        table = Table(title=f"{key} ({SINGULAR[entry.kind]}, from {entry.file})")
        table.add_column("field")
        table.add_column("value", overflow="fold")
        table.add_column("source", overflow="fold")
        for name, value in iter_fields(item):
            if name in ("field_sources", "source"):
                continue
            table.add_row(name, str(value), item.source_of(name) if name not in ("key", "as_of", "notes") else "")
        if isinstance(item, object) and getattr(item, "efficiency_j_per_th", None):
            table.add_row("efficiency_j_per_th (derived)", f"{item.efficiency_j_per_th:.2f}",
                          "power_w / hashrate_ths")
        console.print(table)
        console.print(f"source: {item.source} (as of {item.as_of})")
    power = cat.power(key)
    if power is not None:
        console.print(f"power: {power.watts:,.6g} W per unit, {power.label} ({power.basis})")
    elif entry is not None and entry.kind in POWERED:
        console.print("power: none (neither sourced nor estimated; a plan that buys it is refused until it "
                      "has one: give it a [[power_estimate]] or [power_w] in the site)")
    cost = cat.unit_cost(key)
    if cost:
        console.print(f"unit cost: {cost[0]:,.0f} USD ({cost[1]})")
    else:
        console.print("unit cost: none (no list price or estimate; give one under [costs])")


# ---------------------------------------------------------------- fabric


@app.command("fabric")
def fabric_cmd(
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs to connect (rounded up to whole servers).")],
    server: Annotated[str, typer.Option("--server", help="Server key, e.g. dgx-b200.")],
    switch: Annotated[str, typer.Option("--switch", help="Leaf switch key (and spine/core unless given).")],
    spine_switch: Annotated[str | None, typer.Option("--spine-switch")] = None,
    core_switch: Annotated[str | None, typer.Option("--core-switch")] = None,
    tiers: Annotated[str, typer.Option("--tiers", help="auto, 2 or 3.")] = "auto",
    planes: Annotated[int, typer.Option("--planes", help="Parallel planes; each NIC port splits across them.")] = 1,
    oversubscription: Annotated[float, typer.Option("--oversubscription", help="Leaf down:up ratio.")] = 1.0,
    optics: Annotated[str, typer.Option("--optics", help="auto, dsp, lpo, cpo or an optic key.")] = "auto",
    network: Annotated[str, typer.Option("--network", help="compute or storage NIC ports.")] = "compute",
    dual_tor: Annotated[bool, typer.Option(
        "--dual-tor", help="Each NIC's ports go to different ToRs (and to different planes with --planes "
        "equal to the ports per NIC), as in Alibaba HPN.")] = False,
    uplink_gbps: Annotated[float | None, typer.Option(
        "--uplink-gbps", help="Leaf-spine and spine-core link speed, Gb/s [the server links' speed].")] = None,
    segment: Annotated[int | None, typer.Option(
        "--segment-servers", help="Servers under one group of leaves (a fixed SU / segment size).")] = None,
    spare_down: Annotated[int, typer.Option(
        "--spare-down-ports", help="Down ports per leaf kept free (backup).")] = 0,
    spine_oversubscription: Annotated[float | None, typer.Option(
        "--spine-oversubscription", help="Spine down:up ratio; keeps spine ports for a tier above.")] = None,
    graphml: Annotated[Path | None, typer.Option("--graphml", help="Write the graph to this file.")] = None,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Size a training fabric alone: switches, links, optics, cables, fibres, MPO connectors."""
    import math

    from planner.errors import Problem, did_you_mean
    from planner.network.fabric import FabricError, FabricSpec, count_fabric
    from planner.parts.catalog import MissingPower, load_catalog

    cat = load_catalog(catalog or [])
    problems = []
    for option, key, kind in (("--server", server, "servers"), ("--switch", switch, "switches"),
                              ("--spine-switch", spine_switch, "switches"),
                              ("--core-switch", core_switch, "switches")):
        if key is not None and key not in cat.entries[kind]:
            problems.append(Problem("command line", option, f"unknown {SINGULAR[kind]} {key!r}",
                                    hint=did_you_mean(key, cat.entries[kind])))
    if optics not in ("auto", "dsp", "lpo", "cpo") and optics not in cat.optics:
        problems.append(Problem("command line", "--optics", f"unknown optics {optics!r}",
                                hint=did_you_mean(optics, [*cat.optics, "auto", "dsp", "lpo", "cpo"])))
    if tiers not in ("auto", "2", "3"):
        problems.append(Problem("command line", "--tiers", f"{tiers!r} is not auto, 2 or 3"))
    if gpus < 1:
        problems.append(Problem("command line", "--gpus", "must be at least 1"))
    if planes < 1:
        problems.append(Problem("command line", "--planes", "must be at least 1"))
    for option, value, lo, hi in (("--oversubscription", oversubscription, 1.0, 64.0),
                                  ("--uplink-gbps", uplink_gbps, 1.0, 10_000.0),
                                  ("--segment-servers", segment, 1, 100_000),
                                  ("--spare-down-ports", spare_down, 0, 10_000),
                                  ("--spine-oversubscription", spine_oversubscription, 1.0, 64.0),
                                  ("--gpus", gpus, 1, 10_000_000), ("--planes", planes, 1, 16)):
        if value is not None and not (math.isfinite(value) and lo <= value <= hi):
            problems.append(Problem("command line", option, f"{value!r} is outside {lo:g} to {hi:g}"))
    if problems:
        raise InputError(problems)
    spec = FabricSpec(servers=math.ceil(gpus / cat.servers[server].gpus), server=server,
                      leaf_switch=switch, spine_switch=spine_switch, core_switch=core_switch,
                      tiers=None if tiers == "auto" else int(tiers), planes=planes,
                      oversubscription=oversubscription, optics=optics, network=network, dual_tor=dual_tor,
                      uplink_gbps=uplink_gbps, servers_per_su=segment, spare_down_ports=spare_down,
                      spine_oversubscription=spine_oversubscription)
    try:
        counts = count_fabric(spec, cat)
    except FabricError as exc:
        raise _compute_error(exc) from None
    try:
        power, figures = counts.power_w(cat)
    except MissingPower as exc:
        raise _compute_error(exc) from None
    doc = counts.summary() | {"power_w": power, "power_figures": {k: f.doc() for k, f in figures.items()}}
    if graphml is not None:
        from planner.network.graph import build_graph, to_graphml
        from planner.outputs.export import atomic_file

        graph = build_graph(spec, cat, counts)
        with atomic_file(graphml) as tmp:
            to_graphml(graph, tmp)
    if as_json:
        _emit_json(doc)
        return
    _print_fabric(doc)


def _print_fabric(doc: dict) -> None:
    from rich.table import Table

    console = _console()
    title = (f"{doc['gpus']:,} GPUs on {doc['nodes']:,} servers: {doc['tiers']} tiers, "
             f"{doc['planes']} plane(s), {doc['scalable_units']} SU of {doc['servers_per_su']}")
    table = Table(title=title)
    for col in ("tier", "switches above", "links", "bundle", "cables", "lit fibres"):
        table.add_column(col, justify="left" if col == "tier" else "right")
    roles = {"node_leaf": "leaf", "leaf_spine": "spine", "spine_core": "core"}
    media_lines = []
    for tier, role in roles.items():
        m = doc["media"].get(tier)
        if not m:
            continue
        bundle = doc["bundles"].get(tier, 1) if tier != "node_leaf" else 1
        name = tier.replace("_", "-")
        table.add_row(name, f"{doc['switches'][role]:,} {role}", f"{doc['links'][tier]:,}",
                      str(bundle), f"{m['cables']:,}", f"{m['fibers']:,}")
        media_lines.append(f"{name} ({m['optic_class']}, {m['length_m']:g} m): {m['lower']} / "
                           f"{m['upper']}; cable {m['cable']}")
    console.print(table)
    for line in media_lines:
        console.print(line)
    rows = [
        ("switches", ", ".join(f"{n:,} {r} ({doc['switch_models'][r]})" for r, n in doc["switches"].items() if n)),
        ("transceivers", ", ".join(f"{n:,} {k}" for k, n in doc["transceivers"].items()) or "none"),
        ("lit fibres", f"{doc['fibers']:,}"),
        ("MPO connectors", ", ".join(f"{n:,} {k}" for k, n in doc["mpo_connectors"].items()) or "none"),
        ("other connectors", ", ".join(f"{n:,} {k}" for k, n in doc["connectors"].items()
                                       if not k.startswith("mpo")) or "none"),
        ("ports free", ", ".join(f"{r} {n:,}" for r, n in doc["ports_free"].items())),
        ("power, kW", f"switches {doc['power_w']['switches'] / 1e3:,.1f}, "
                      f"optics {doc['power_w']['optics'] / 1e3:,.1f}"),
    ]
    for label, text in rows:
        console.print(f"{label}: {text}")
    for key, fig in doc["power_figures"].items():
        if fig["kind"] == "estimate":
            method = fig["basis"].split(")", 1)[0].removeprefix("ESTIMATE (")
            console.print(f"estimate: {key} counted at {fig['watts']:,.6g} W per unit ({method}; the basis: "
                          f"planner catalog show {key})", style="yellow")
    for note in doc["notes"]:
        console.print(f"note: {note}", style="yellow")


# ---------------------------------------------------------------- size


def _size_catalog(overlays, key: str, kind: str, option: str):
    from planner.errors import Problem, did_you_mean
    from planner.parts.catalog import load_catalog

    cat = load_catalog(overlays or [])
    if key not in cat.entries[kind]:
        raise InputError([Problem("command line", option, f"unknown {SINGULAR[kind]} {key!r}",
                                  hint=did_you_mean(key, cat.entries[kind]))])
    return cat


def _compute_error(exc: Exception, option: str = "") -> InputError:
    from planner.errors import Problem

    return InputError([Problem("command line", option, str(exc))])


def _print_quantities(title: str, rows: list[tuple[str, str, str]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("how", style="dim")
    for row in rows:
        table.add_row(*row)
    _console().print(table)


def _g(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if abs(x) >= 1e6 or (0 < abs(x) < 1e-3) else f"{x:,.{digits}f}".rstrip("0").rstrip(".")


Precision = Annotated[str, typer.Option(help="bf16, fp8, fp16, tf32 or fp4.")]


def _check_precision(precision: str) -> None:
    from planner.errors import Problem, did_you_mean

    choices = ["tf32", "bf16", "fp16", "fp8", "fp4"]
    if precision not in choices:
        raise InputError([Problem("command line", "--precision", f"unknown precision {precision!r}",
                                  hint=did_you_mean(precision, choices) or "one of " + ", ".join(choices))])


def _demand_rows(d) -> list[tuple[str, str, str]]:
    peak = d.server_peak_flops
    return [
        ("server peak, FLOP/s", _g(peak), f"{d.precision} {'sparse' if d.sparse else 'dense'}, GPUs x per-GPU peak"),
        ("utilisation", _g(d.utilization), ""),
        ("server FLOPs per day", _g(d.details["server_flops_per_day"]), "peak x utilisation x 86,400 s"),
        ("servers (exact)", _g(d.servers), "FLOPs per day / server FLOPs per day"),
        ("servers (whole)", f"{d.servers_ceil:,}", ""),
        ("GPUs", f"{d.gpus:,}", ""),
        ("IT power, MW", _g(d.it_power_mw), "whole servers x max power"),
        ("facility power, MW", _g(d.facility_power_mw), f"IT x PUE {d.pue:g}"),
        ("energy, MWh/day", _g(d.energy_mwh_per_day), "facility power x 24 h"),
    ]


@size_app.command("train")
def size_train(
    params: Annotated[float, typer.Option("--params", help="Model parameters N (3e11 allowed).")],
    tokens: Annotated[float, typer.Option("--tokens", help="Training tokens D.")],
    server: Annotated[str, typer.Option("--server", help="Server key, e.g. dgx-b200.")],
    runs_per_month: Annotated[float, typer.Option("--runs-per-month", help="Training runs a month.")] = 1.0,
    utilization: Annotated[float, typer.Option("--utilization", help="Model FLOPs utilisation, 0-1.")] = 0.4,
    precision: Precision = "bf16",
    sparse: Annotated[bool, typer.Option("--sparse", help="Use the 2:4 structured-sparsity peak.")] = False,
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.0,
    days_per_month: Annotated[float, typer.Option("--days-per-month")] = 30.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Servers and energy to train R runs a month of a model: FLOPs per run = 6·N·D."""
    from planner.energy.compute import ComputeError, training_demand

    _check_precision(precision)
    cat = _size_catalog(catalog, server, "servers", "--server")
    try:
        d = training_demand(cat, server, params, tokens, runs_per_month, utilization, precision,
                            sparse, pue, days_per_month)
    except ComputeError as exc:
        raise _compute_error(exc) from None
    if as_json:
        _emit_json(d.as_dict())
        return
    rows = [
        ("parameters N", _g(params), ""), ("tokens D", _g(tokens), ""),
        ("FLOPs per run", _g(d.flops), "6 x N x D"),
        ("runs per day", _g(d.details["runs_per_day"]), f"runs per month / {days_per_month:g}"),
        ("FLOPs per day", _g(d.flops_per_day), "FLOPs per run x runs per day"),
    ] + _demand_rows(d)
    _print_quantities(f"training on {server}", rows)
    if sparse:
        _console().print("note: uses the structured-sparsity peak (2:4); dense training does not reach it",
                         style="yellow")


@size_app.command("infer")
def size_infer(
    params: Annotated[float, typer.Option("--params", help="Model parameters N.")],
    server: Annotated[str, typer.Option("--server", help="Server key.")],
    tokens_per_day: Annotated[float | None, typer.Option("--tokens-per-day", help="Tokens served a day.")] = None,
    users: Annotated[float | None, typer.Option("--users")] = None,
    queries_per_user: Annotated[
        float | None, typer.Option("--queries-per-user", help="Queries per user per day.")
    ] = None,
    words_per_query: Annotated[float, typer.Option("--words-per-query")] = 0.0,
    answers_per_query: Annotated[float, typer.Option("--answers-per-query")] = 1.0,
    words_per_answer: Annotated[float, typer.Option("--words-per-answer")] = 0.0,
    tokens_per_word: Annotated[float, typer.Option("--tokens-per-word")] = 1.33,
    utilization: Annotated[float, typer.Option("--utilization")] = 0.4,
    precision: Precision = "bf16",
    sparse: Annotated[bool, typer.Option("--sparse")] = False,
    pue: Annotated[float, typer.Option("--pue")] = 1.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Servers and energy to serve tokens at 2·N FLOPs per token."""
    from planner.energy.compute import ComputeError, inference_demand, inference_tokens_per_day
    from planner.errors import Problem

    _check_precision(precision)
    cat = _size_catalog(catalog, server, "servers", "--server")
    if (tokens_per_day is None) == (users is None):
        raise InputError([Problem("command line", "--tokens-per-day",
                                  "give --tokens-per-day, or --users with --queries-per-user and words")])
    try:
        if tokens_per_day is None:
            if queries_per_user is None:
                raise ComputeError("--users needs --queries-per-user")
            tokens_per_day = inference_tokens_per_day(users, queries_per_user, words_per_query,
                                                      answers_per_query, words_per_answer,
                                                      tokens_per_word)
        d = inference_demand(cat, server, params, tokens_per_day, utilization, precision, sparse, pue)
    except ComputeError as exc:
        raise _compute_error(exc) from None
    if as_json:
        _emit_json(d.as_dict())
        return
    rows = [("parameters N", _g(params), ""), ("tokens per day", _g(tokens_per_day),
             "users x queries x (query + answers x answer words) x tokens/word" if users else ""),
            ("FLOPs per day", _g(d.flops_per_day), "2 x N x tokens")] + _demand_rows(d)
    _print_quantities(f"inference on {server}", rows)


def _parse_fleet(text: str, cat) -> dict[str, float]:
    from planner.errors import Problem, did_you_mean

    fleet: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, share = part.partition(":")
        if key not in cat.miners:
            raise InputError([Problem("command line", "--fleet", f"unknown miner {key!r}",
                                      hint=did_you_mean(key, cat.miners))])
        try:
            fleet[key] = float(share) if share else 1.0
        except ValueError:
            raise InputError([Problem("command line", "--fleet", f"share {share!r} of {key} is not a number",
                                      hint="write KEY:SHARE,KEY:SHARE")]) from None
    if not fleet:
        raise InputError([Problem("command line", "--fleet", "no miners given", hint="write KEY:SHARE,KEY:SHARE")])
    total = sum(fleet.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError([Problem("command line", "--fleet", f"the shares add up to {total:g}, not 1",
                                  hint="give each model's share of the fleet by miner count, adding up to 1")])
    return fleet


@size_app.command("btc-network")
def size_btc_network(
    fleet: Annotated[str, typer.Option("--fleet", help="KEY:SHARE,... shares by miner count.")],
    hashrate_ehs: Annotated[float | None, typer.Option("--hashrate-ehs", help="Network hashrate, EH/s.")] = None,
    power_gw: Annotated[float | None, typer.Option("--power-gw", help="Power budget, GW (the reverse).")] = None,
    pue: Annotated[float, typer.Option("--pue")] = 1.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Miners, power and energy of the bitcoin network for a fleet mix (or the reverse)."""
    from planner.energy.compute import ComputeError, network_demand
    from planner.parts.catalog import load_catalog

    cat = load_catalog(catalog or [])
    shares = _parse_fleet(fleet, cat)
    try:
        d = network_demand(cat, shares, hashrate_ehs, power_gw, pue)
    except ComputeError as exc:
        raise _compute_error(exc) from None
    if as_json:
        _emit_json(d.as_dict())
        return
    rows = [(f"share {k}", _g(v), "by miner count") for k, v in d.fleet.items()] + [
        ("mean hashrate per miner, TH/s", _g(d.mean_hashrate_ths), "sum of share x hashrate"),
        ("mean power per miner, W", _g(d.mean_power_w), "sum of share x power"),
        ("mean efficiency, J/TH", _g(d.mean_efficiency_j_per_th), "mean power / mean hashrate"),
        ("network hashrate, EH/s", _g(d.hashrate_ehs), ""),
        ("miners", _g(d.miners), "hashrate x 1e6 / mean TH/s"),
        ("power, GW", _g(d.power_gw), f"miners x mean power x PUE {d.pue:g}"),
        ("energy, GWh/day", _g(d.energy_gwh_per_day), "power x 24 h"),
    ]
    _print_quantities("bitcoin network", rows)


@size_app.command("mining")
def size_mining(
    miner: Annotated[str, typer.Option("--miner", help="Miner key.")],
    btc_price: Annotated[float, typer.Option("--btc-price", help="BTC price, USD.")],
    difficulty: Annotated[float | None, typer.Option("--difficulty")] = None,
    network_hashrate_ehs: Annotated[float | None, typer.Option("--network-hashrate-ehs")] = None,
    subsidy_btc: Annotated[float, typer.Option("--subsidy-btc")] = 3.125,
    fees_btc: Annotated[float, typer.Option("--fees-btc", help="Fees per block, BTC.")] = 0.0,
    pool_fee: Annotated[float, typer.Option("--pool-fee", help="Share kept by the pool, 0-1.")] = 0.0,
    power_price: Annotated[float, typer.Option("--power-price-usd-per-mwh")] = 0.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hashprice, revenue, power cost, margin, breakeven power price and shutdown BTC price."""
    from planner.energy.compute import ComputeError, mining_economics

    cat = _size_catalog(catalog, miner, "miners", "--miner")
    try:
        e = mining_economics(cat, miner, btc_price, difficulty, network_hashrate_ehs, subsidy_btc,
                             fees_btc, pool_fee, power_price)
    except ComputeError as exc:
        raise _compute_error(exc) from None
    if as_json:
        _emit_json(e.as_dict())
        return
    rows = [
        ("difficulty", _g(e.difficulty), "given, or hashrate x 600 / 2^32"),
        ("network hashrate, EH/s", _g(e.network_hashrate_ehs), "difficulty x 2^32 / 600"),
        ("hashprice, USD/TH/day", _g(e.hashprice_usd_per_th_day, 6),
         "86,400e12 / (difficulty x 2^32) x (subsidy + fees) x BTC price"),
        ("hashprice, USD/PH/day", _g(e.hashprice_usd_per_ph_day), ""),
        ("miner hashrate, TH/s", _g(e.hashrate_ths), ""),
        ("miner power, W", _g(e.power_w), f"{e.efficiency_j_per_th:.2f} J/TH"),
        ("revenue, USD/day", _g(e.revenue_usd_per_day), f"after pool fee {e.pool_fee:g}"),
        ("energy, MWh/day", _g(e.energy_mwh_per_day, 6), "power x 24 h"),
        ("power cost, USD/day", _g(e.power_cost_usd_per_day), f"at {e.power_price_usd_per_mwh:g} USD/MWh"),
        ("margin, USD/day", _g(e.margin_usd_per_day), ""),
        ("breakeven power price, USD/MWh", _g(e.breakeven_usd_per_mwh), "revenue / energy"),
        ("shutdown BTC price, USD", "-" if e.shutdown_btc_price_usd is None else _g(e.shutdown_btc_price_usd),
         "BTC price x power cost / revenue"),
    ]
    _print_quantities(f"mining with {miner}", rows)


def _emit_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into exit codes, never tracebacks."""
    args = sys.argv[1:] if argv is None else list(argv)
    with _stdout_for_output_only(args):
        return _main(argv, args)


def _main(argv: list[str] | None, args: list[str]) -> int:
    try:
        import typer.main

        command = typer.main.get_command(app)  # built once: for the check and the run
        repeated = _repeated_options(command, args)
        if repeated:
            from planner.errors import Problem

            raise InputError([Problem("command line", "", text) for text in repeated])
        command(args=argv, standalone_mode=False)
    except InputError as exc:
        err = _console(stderr=True)
        for problem in exc.problems:
            err.print(f"error: {problem}", style="red", markup=False, highlight=False)
        return EXIT_INPUT
    except Failed as exc:
        return exc.code
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted")
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
        _console(stderr=True).print(
            f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in the planner, not in your input; "
            "run again with PLANNER_DEBUG=1 for the traceback and report it.", style="red")
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``planner`` command: it only chains the library's stages.

Exit codes: 0 success, 1 infeasible plan (binding constraints named), 2 bad input
(file, dotted key, line and a suggestion). Heavy libraries are imported inside the
commands that need them, so ``planner --help`` starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from planner.errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Datacenter interconnect and facility planner: retrofit a mine, build new, or mix.",
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(no_args_is_help=True, help="Browse parts with their sources.")
app.add_typer(catalog_app, name="catalog")

EXIT_INFEASIBLE = 1
EXIT_INPUT = 2

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Overlay catalog folder (repeatable); later folders win by key."),
]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class Failed(Exception):
    """Raised inside commands to end with an exit code after printing."""

    def __init__(self, code: int):
        self.code = code


def _load(site_path: Path, overlays: list[Path] | None):
    from planner.catalog import load_catalog
    from planner.errors import Problem, display_path
    from planner.site import check_parts, load_site

    loaded = load_site(site_path)
    folders = [loaded.resolve(d) for d in loaded.site.catalog] + list(overlays or [])
    try:
        catalog = load_catalog(folders)
    except InputError as exc:
        raise InputError(exc.problems) from None
    problems = check_parts(loaded, catalog)
    if problems:
        raise InputError(problems)
    del Problem, display_path
    return loaded, catalog


def _solve_all(loaded, catalog, names: list[str], solver: str, quiet: bool):
    from planner.inputs import prepare
    from planner.optimize import build_model, solve

    results = {}
    for name in names:
        if not quiet:
            _console(stderr=True).print(f"[dim]solving {name} ...[/dim]")
        inputs = prepare(loaded, catalog, name)
        results[name] = solve(build_model(inputs), solver=solver)
    return results


def _summary_table(doc: dict):
    from rich.table import Table

    names = list(doc["scenarios"])
    table = Table(title=f"{doc['site']}  (solver: {doc['solver']})")
    table.add_column("", style="bold")
    for n in names:
        table.add_column(n, justify="right")

    def fmt(value, kind):
        if value is None:
            return "-"
        if kind == "musd":
            return f"{value / 1e6:,.1f}"
        if kind == "int":
            return f"{value:,.0f}"
        if kind == "f1":
            return f"{value:,.1f}"
        if kind == "f2":
            return f"{value:,.2f}"
        if kind == "dict":
            return ", ".join(f"{k} {v:,}" for k, v in value.items() if v) or "0"
        return str(value)

    rows = [
        ("status", "status", "str"), ("GPUs", "gpus", "int"), ("GPU servers", "gpu_servers", "int"),
        ("miners (with AI)", "miners", "int"), ("miners before AI", "miners_before_ai", "int"),
        ("hashrate, TH/s", "hashrate_ths", "int"), ("IT power, MW", "it_power_mw", "f2"),
        ("facility power, MW", "facility_power_mw", "f2"), ("grid capacity, MW", "grid_capacity_mw", "f1"),
        ("energy, MWh/yr", "energy_mwh_per_year", "int"), ("capex, M USD", "capex_usd", "musd"),
        ("opex, M USD/yr", "opex_usd_per_year", "musd"), ("revenue, M USD/yr", "revenue_usd_per_year", "musd"),
        ("NPV, M USD", "npv_usd", "musd"), ("payback, years", "payback_years", "f2"),
        ("months to first revenue", "months_to_first_revenue", "int"),
        ("switches", "switches", "dict"), ("transceivers", "transceivers", "dict"),
        ("lit fibres", "fibers", "int"), ("MPO connectors", "mpo_connectors", "dict"),
    ]
    for label, key, kind in rows:
        table.add_row(label, *[fmt(doc["scenarios"][n].get(key), kind) for n in names])
    return table


def _print_binding(doc: dict, console) -> None:
    for name, sc in doc["scenarios"].items():
        for line in sc.get("binding_constraints", []):
            console.print(f"  {name}: binds: {line}")
    rec = doc["recommendation"]
    if rec["scenario"]:
        console.print(f"Recommendation: [bold]{rec['scenario']}[/bold] ({rec['reason']})")
    else:
        console.print(f"Recommendation: none ({rec['reason']})")


@app.command("solve")
def solve_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [out/<site-stem>].")] = None,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Scenario to solve (repeatable) [all].")] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc.")] = "highs",
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
) -> None:
    """Validate, size and solve a site; write summary.json and bom.csv."""
    from planner.errors import Problem, did_you_mean, display_path
    from planner.export import write_csv, write_json, write_outputs
    from planner.report import BOM_COLUMNS, bom_rows, summary

    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    loaded, cat = _load(site, catalog)
    names = scenario or list(loaded.site.scenarios)
    for n in names:
        if n not in loaded.site.scenarios:
            raise InputError([Problem(display_path(site), "scenarios", f"no scenario {n!r}",
                                      loaded.line("scenarios"), did_you_mean(n, loaded.site.scenarios))])
    results = _solve_all(loaded, cat, names, solver, quiet or as_json)
    doc = summary(loaded.site.name, results, cat, solver)
    rows = [row for r in results.values() for row in bom_rows(r, cat)]
    target = out or Path("out") / loaded.stem
    write_outputs(target, {
        "summary.json": lambda p: write_json(p, doc),
        "bom.csv": lambda p: write_csv(p, BOM_COLUMNS, rows),
    })
    feasible = any(s["status"] == "optimal" for s in doc["scenarios"].values())
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    elif not quiet:
        console = _console()
        console.print(_summary_table(doc))
        _print_binding(doc, console)
        console.print(f"Wrote {target / 'summary.json'} and {target / 'bom.csv'}")
    if not feasible:
        err = _console(stderr=True)
        for name, sc in doc["scenarios"].items():
            err.print(f"{name}: infeasible: " + "; ".join(sc.get("binding_constraints", [])))
        raise Failed(EXIT_INFEASIBLE)


@app.command("validate")
def validate_cmd(
    site: Annotated[Path, typer.Argument(help="Site file (TOML).")],
    catalog: CatalogOpt = None,
) -> None:
    """Report every problem in the site file at once; no solve."""
    loaded, cat = _load(site, catalog)
    from planner.inputs import prepare

    problems = []
    for name in loaded.site.scenarios:
        try:
            prepare(loaded, cat, name)
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]
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

    from planner.catalog import KINDS, load_catalog
    from planner.errors import Problem, did_you_mean

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
        rows = [(key, _figures(k, e.item), e.item.source, str(e.item.as_of))
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


def _part_name(item) -> str:
    vendor, model = getattr(item, "vendor", None), getattr(item, "model", None)
    return f"{vendor} {model}" if vendor else (getattr(item, "basis", "")[:40])


def _figures(kind: str, item) -> str:
    def g(name, unit=""):
        v = getattr(item, name, None)
        return None if v is None else f"{v:g}{unit}" if isinstance(v, float | int) else f"{v}{unit}"

    picks = {
        "accelerators": [("power_w", " W"), ("memory_gb", " GB"), ("bf16_dense_tflops", " TF bf16")],
        "servers": [("gpus", " GPUs"), ("max_power_w", " W"), ("height_u", "U")],
        "miners": [("hashrate_ths", " TH/s"), ("power_w", " W"), ("cooling", "")],
        "switches": [("ports", " ports"), ("port_gbps", "G"), ("optics", "")],
        "optics": [("gbps", "G"), ("reach_m", " m"), ("power_w", " W")],
        "connectors": [("fibers", " fibres"), ("polish", "")],
        "estimates": [("unit_cost_usd", " USD"), ("unit_cost_usd_per_m", " USD/m")],
        "site_costs": [("value", ""), ("unit", "")],
    }.get(kind, [])
    parts = [g(n, u) for n, u in picks]
    text = ", ".join(p for p in parts if p)
    if kind == "miners" and item.power_w:
        text += f", {item.efficiency_j_per_th:.1f} J/TH"
    return text


@catalog_app.command("show")
def catalog_show(
    key: Annotated[str, typer.Argument(help="Part key, e.g. dgx-b200.")],
    catalog: CatalogOpt = None,
) -> None:
    """Every field of one part, each with its source."""
    from rich.table import Table

    from planner.catalog import iter_fields, load_catalog
    from planner.errors import Problem, did_you_mean

    cat = load_catalog(catalog or [])
    entry = cat.find(key)
    estimate = cat.estimate(key)
    if entry is None and estimate is None:
        raise InputError([Problem("command line", "KEY", f"unknown part {key!r}",
                                  hint=did_you_mean(key, cat.part_keys()))])
    console = _console()
    if entry is not None:
        item = entry.item
        table = Table(title=f"{key} ({entry.kind[:-1]}, from {entry.file})")
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
    cost = cat.unit_cost(key)
    if cost:
        console.print(f"unit cost: {cost[0]:,.0f} USD ({cost[1]})")
    else:
        console.print("unit cost: none (no list price or estimate; give one under [costs])")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into exit codes, never tracebacks."""
    try:
        app(args=argv, standalone_mode=False)
    except InputError as exc:
        err = _console(stderr=True)
        for problem in exc.problems:
            err.print(f"[bold red]error:[/bold red] {problem}", markup=True)
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
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())

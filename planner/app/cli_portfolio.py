"""``planner portfolio FILE.toml``: several sites planned together (planner.app.portfolio).

Exit codes as for ``planner solve``: 0 a portfolio, 1 the shared constraints cannot be met
(what binds is named on stderr), 2 a bad portfolio or site file (file, key, line).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.app.cli_common import EXIT_INFEASIBLE, CatalogOpt, Failed, emit_json, make_console
from planner.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.table import Table

    from planner.outputs.portfolio import PortfolioDocument


def _tables(doc: PortfolioDocument) -> list[Table]:
    from rich.table import Table

    from planner.outputs.portfolio import SITE_COLUMNS, site_rows, total_rows

    sites = Table(title=f"{doc.portfolio}: each site (solver: {doc.solver})")
    for i, name in enumerate(SITE_COLUMNS):
        sites.add_column(name, justify="left" if i in (0, 1, 7) else "right")
    for row in site_rows(doc):
        sites.add_row(*row)
    total = Table(title="together against one by one")
    for name in ("", "together", "one by one", "difference"):
        total.add_column(name, justify="right" if name else "left")
    for trow in total_rows(doc):
        total.add_row(*trow)
    return [sites, total]


def portfolio_cmd(
    file: Annotated[Path, typer.Argument(help="Portfolio file (TOML).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output folder.", show_default="out/<portfolio-stem>")] = None,
    solver: Annotated[str, typer.Option(help="highs or cbc, for the sites' own solves.")] = "highs",
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print portfolio.json to stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
) -> None:
    """Plan several sites together: per site the plan and its start under a shared budget, targets and a
    tenant's MW; the same sites one by one; the links between the chosen sites. Writes portfolio.json."""
    from planner.app.portfolio import run_portfolio
    from planner.errors import Problem, did_you_mean
    from planner.outputs.export import new_run_id, write_json, write_outputs
    from planner.outputs.portfolio import SITE_LEGEND, link_lines, site_notes
    from planner.site.portfolio import load_portfolio

    if solver not in ("highs", "cbc"):
        raise InputError([Problem("command line", "--solver", f"unknown solver {solver!r}",
                                  hint=did_you_mean(solver, ["highs", "cbc"]) or "use highs or cbc")])
    portfolio = load_portfolio(file)
    err = make_console(stderr=True)
    say = None if quiet or as_json else (lambda name: err.print(f"solving site {name} ...", style="dim"))
    doc, solution = run_portfolio(portfolio, catalog, solver, on_site=say)
    run_id = new_run_id()
    doc = doc.model_copy(update={"run_id": run_id})
    data = doc.data()
    target = out or Path("out") / file.stem
    files: dict[str, Callable[[Path], None]] = {"portfolio.json": lambda p: write_json(p, data)}
    bought = [k for k in doc.interconnect if not k.never_runs]  # two plans never running together need none
    if bought:  # the links' parts, as the site BOM lists a campus interconnect's (estimates marked)
        from planner.outputs.bom import write_bom
        from planner.outputs.bom_interconnect import interconnect_rows
        from planner.parts.catalog import load_catalog

        trunks = [{"from": k.from_site, "to": k.to_site, "interconnect": k.sized} for k in bought]
        rows, _ = interconnect_rows("portfolio", trunks, load_catalog(list(catalog or [])), {}, {})
        files["bom.csv"] = lambda p: write_bom(p, rows)
    if portfolio.spec.routes:  # the sites and the routes between them, with what each link carries
        from planner.outputs.interconnect_map import interconnect_map
        from planner.outputs.portfolio import map_routes

        routes = map_routes([(r.from_, r.to, r.km) for r in portfolio.spec.routes], doc.interconnect)
        files["plots/interconnect.png"] = lambda p: interconnect_map(
            p, routes, title=f"{doc.portfolio}: sites and the links between the chosen ones")
    write_outputs(target, files, run_id)
    if as_json:
        emit_json(data)
    elif not quiet:
        console = make_console()
        for table in _tables(doc):
            console.print(table)
        console.print(SITE_LEGEND, style="dim")
        for line in site_notes(doc):
            console.print(line)
        for line in doc.binding_constraints:
            console.print(f"binds: {line}")
        for line in doc.one_by_one.breaks:
            console.print(f"one by one breaks: {line}")
        for line in link_lines(doc):
            console.print(line)
        for note in doc.interconnect_notes:
            console.print(f"note: {note}", style="dim")
        console.print(f"Wrote {', '.join(sorted(files))} in {target}")
    if solution.status.value != "optimal":
        for line in doc.binding_constraints:
            err.print(f"{doc.portfolio}: infeasible: {line}")
        raise Failed(EXIT_INFEASIBLE)
    sys.stdout.flush()


def validate_portfolio_cmd(file: Path, catalog: list[Path] | None) -> None:
    """``planner validate PORTFOLIO.toml``: every problem in the portfolio file and the site
    files it lists (exit 2, each with its file, key and line); when there is none, OK and a
    short table of the sites as the portfolio will use them."""
    from rich.table import Table

    from planner.app.portfolio import validate_portfolio

    portfolio, problems = validate_portfolio(file, catalog)
    if problems or portfolio is None:
        raise InputError(problems)
    spec = portfolio.spec
    console = make_console()
    console.print(f"{file}: OK (portfolio, {len(spec.sites)} sites, {len(spec.routes)} routes)")
    table = Table()
    for name in ("site", "file", "scenarios", "sizes, GPUs", "start months"):
        table.add_column(name)
    for i, s in enumerate(spec.sites):
        table.add_row(s.label, s.file, ", ".join(s.scenarios) if s.scenarios else "all",
                      ", ".join(f"{g:,}" for g in s.sizes_gpus) if s.sizes_gpus else "own best",
                      ", ".join(str(m) for m in portfolio.starts(i)))
    console.print(table)

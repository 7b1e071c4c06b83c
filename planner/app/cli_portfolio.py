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
    from rich.table import Table

    from planner.outputs.portfolio import PortfolioDocument


def _musd(usd: float | None) -> str:
    return "-" if usd is None else f"{usd / 1e6:,.1f}"


def site_rows(doc: PortfolioDocument) -> list[tuple[str, ...]]:
    """The per-site table's rows (the CLI and the TUI): site, plan, start month, capex in M
    USD (its portfolio year), NPV in M USD, GPUs, online month, and its own best plan alone."""
    return [(s.site, s.scenario or "nothing", "-" if s.start_month is None else str(s.start_month),
             _musd(s.capex_usd) + ("" if s.capex_year is None else f" (y{s.capex_year})"), _musd(s.npv_usd),
             f"{s.gpus:,}", "-" if s.online_month is None else str(s.online_month),
             f"{s.alone_scenario or 'nothing'} {_musd(s.alone_npv_usd)}") for s in doc.sites]


def site_notes(doc: PortfolioDocument) -> list[str]:
    """A line per site that cannot help or whose plan differs from its own best alone."""
    return [f"{s.site}: {'cannot help: ' if not s.can_help else ''}{s.reason}" for s in doc.sites if s.reason]


SITE_COLUMNS = ("site", "plan", "start month", "capex M USD", "NPV M USD", "GPUs", "online month",
                "alone: best, NPV")


def _tables(doc: PortfolioDocument) -> list[Table]:
    from rich.table import Table

    sites = Table(title=f"{doc.portfolio}: each site (solver: {doc.solver})")
    for i, name in enumerate(SITE_COLUMNS):
        sites.add_column(name, justify="left" if i in (0, 1, 7) else "right")
    for row in site_rows(doc):
        sites.add_row(*row)
    total = Table(title="together against one by one")
    for name in ("", "together", "one by one", "difference"):
        total.add_column(name, justify="right" if name else "left")
    apart, together = doc.one_by_one, doc.together
    diff = doc.difference or {}

    def cell(t: object, attr: str, fmt: str) -> str:
        value = getattr(t, attr) if t is not None else None
        return "-" if value is None else format(value / 1e6 if fmt == "m" else value, ",.1f" if fmt != "d" else ",")

    for label, attr, fmt in (("NPV, M USD", "npv_usd", "m"), ("capex, M USD", "capex_usd", "m"),
                             ("GPUs", "gpus", "d"), ("critical IT, MW", "critical_it_mw", "f"),
                             ("GPUs by the target month", "gpus_by_target", "d")):
        d = diff.get(attr, diff.get(attr.removesuffix("_by_target")) if attr == "gpus_by_target" else None)
        total.add_row(label, cell(together, attr, fmt), cell(apart, attr, fmt),
                      "-" if d is None else format(d / 1e6 if fmt == "m" else d, ",.1f" if fmt != "d" else ","))
    total.add_row("sites used", ", ".join(together.sites_used) if together else "-", ", ".join(apart.sites_used), "")
    total.add_row("shared constraints broken", str(len(together.breaks)) if together else "-", str(len(apart.breaks)),
                  "")
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
    write_outputs(target, {"portfolio.json": lambda p: write_json(p, data)}, run_id)
    if as_json:
        emit_json(data)
    elif not quiet:
        console = make_console()
        for table in _tables(doc):
            console.print(table)
        for line in site_notes(doc):
            console.print(line)
        for line in doc.binding_constraints:
            console.print(f"binds: {line}")
        for line in doc.one_by_one.breaks:
            console.print(f"one by one breaks: {line}")
        for link in doc.interconnect:
            c = link.sized.get("chosen")
            if c is None and link.sized.get("options"):  # none fully priced: the fewest fibre pairs, unpriced
                c = min(link.sized["options"], key=lambda o: (o["fibre_pairs"], o["modules"]))
            what = (f"{c['links']} x {c['module']} ({c['kind']}), {c['fibre_pairs']} fibre pairs, "
                    f"{c['amplifiers']} amplifiers, {c['latency_us']:,.0f} us one way, cost "
                    f"{_musd(c['cost_usd'])} M USD" if c else "not sized")
            if link.sized.get("chosen") is None:
                what += f" ({link.sized.get('why')})"
            console.print(f"link {link.from_site}-{link.to_site}: {link.gbps:,.0f} Gb/s over {link.route_km:g} km: "
                          f"{what}")
        for note in doc.interconnect_notes:
            console.print(f"note: {note}", style="dim")
        console.print(f"Wrote portfolio.json in {target}")
    if solution.status.value != "optimal":
        for line in doc.binding_constraints:
            err.print(f"{doc.portfolio}: infeasible: {line}")
        raise Failed(EXIT_INFEASIBLE)
    sys.stdout.flush()

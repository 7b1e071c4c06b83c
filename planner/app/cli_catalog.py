"""The planner command's part browsers: `planner catalog list|show` (parts with their sources)
and `planner fabric` (a training fabric sized alone, with its exact counts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.app.cli_common import (
    CatalogOpt,
    compute_error,
    emit_json,
    make_console,
)
from planner.constants import W_PER_KW
from planner.errors import InputError
from planner.parts.kinds import SINGULAR

catalog_app = typer.Typer(no_args_is_help=True, help="Browse parts with their sources.")


@catalog_app.command("list")
def catalog_list(
    kind: Annotated[str | None, typer.Argument(help="accelerators, servers, miners, switches, optics, ...")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """A table of parts (all kinds, or one)."""
    from rich.table import Table

    from planner.errors import Problem, did_you_mean
    from planner.parts.catalog import headline, load_catalog
    from planner.parts.models import KINDS

    cat = load_catalog(catalog or [])
    kinds = list(KINDS)
    if kind is not None:
        if kind not in KINDS:
            raise InputError([Problem("command line", "KIND", f"unknown kind {kind!r}",
                                      hint=did_you_mean(kind, KINDS) or f"one of {', '.join(KINDS)}")])
        kinds = [kind]
    console = make_console()
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
    console = make_console()
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
        from planner.parts.models import Miner

        if isinstance(item, Miner) and item.efficiency_j_per_th:
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


def fabric_cmd(
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs to connect (rounded up to whole servers).")],
    server: Annotated[str, typer.Option("--server", help="Server key, e.g. dgx-b200.")],
    switch: Annotated[str, typer.Option("--switch", help="Leaf switch key (and spine/core unless given).")],
    spine_switch: Annotated[str | None, typer.Option("--spine-switch", help="Spine switch key.",
                                                     show_default="the leaf switch")] = None,
    core_switch: Annotated[str | None, typer.Option("--core-switch", help="Core switch key.",
                                                    show_default="the spine switch")] = None,
    tiers: Annotated[str, typer.Option("--tiers", help="auto, 2 or 3.")] = "auto",
    planes: Annotated[int, typer.Option("--planes", help="Parallel planes; each NIC port splits across them.")] = 1,
    oversubscription: Annotated[float, typer.Option("--oversubscription", help="Leaf down:up ratio.")] = 1.0,
    optics: Annotated[str, typer.Option("--optics", help="auto, dsp, lpo, cpo or an optic key.")] = "auto",
    network: Annotated[str, typer.Option("--network", help="compute or storage NIC ports.")] = "compute",
    dual_tor: Annotated[bool, typer.Option(
        "--dual-tor", help="Each NIC's ports go to different ToRs (and to different planes with --planes "
        "equal to the ports per NIC), as in Alibaba HPN.")] = False,
    uplink_gbps: Annotated[float | None, typer.Option(
        "--uplink-gbps", help="Leaf-spine and spine-core link speed, Gb/s.",
        show_default="the server links' speed")] = None,
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
    from planner.parts.catalog import load_catalog
    from planner.parts.models import MissingPower

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
    for option, value, lo, hi in (("--oversubscription", oversubscription, 1.0, 64.0),
                                  ("--uplink-gbps", uplink_gbps, 1.0, 10_000.0),
                                  ("--segment-servers", segment, 1, 100_000),
                                  ("--spare-down-ports", spare_down, 0, 10_000),
                                  ("--spine-oversubscription", spine_oversubscription, 1.0, 64.0),
                                  ("--gpus", gpus, 1, 10_000_000), ("--planes", planes, 1, 16)):
        if value is not None and not (math.isfinite(value) and lo <= value <= hi):
            problems.append(Problem("command line", option, f"{value!r} is outside {_plain(lo)} to {_plain(hi)}"))
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
        raise compute_error(exc) from None
    try:
        power, figures = counts.power_w(cat)
    except MissingPower as exc:
        raise compute_error(exc) from None
    doc = counts.summary() | {"power_w": power, "power_figures": {k: f.doc() for k, f in figures.items()}}
    if graphml is not None:
        from planner.network.graph import build_graph, to_graphml
        from planner.outputs.export import atomic_file

        graph = build_graph(spec, cat, counts)
        with atomic_file(graphml) as tmp:
            to_graphml(graph, tmp)
    if as_json:
        emit_json(doc)
        return
    _print_fabric(doc)


def _print_fabric(doc: dict) -> None:
    from rich.table import Table

    console = make_console()
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
        ("power, kW", f"switches {doc['power_w']['switches'] / W_PER_KW:,.1f}, "
                      f"optics {doc['power_w']['optics'] / W_PER_KW:,.1f}"),
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


def _plain(x: float) -> str:
    """A limit as a reader writes it: 10,000,000 (not 1e+07), 1.5."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"

"""bom.csv: one row per part of a solved plan, with its quantity, unit and extended cost and
power, and the sources of its specification and price. Quantities are the fabric
builder's and the floor plan's exact counts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from planner.model.optimize import Result, Status
from planner.outputs.physics import facility_rows, layout_for, other_networks
from planner.outputs.records import BomRow
from planner.parts.catalog import Catalog

BOM_COLUMNS = list(BomRow.model_fields)  # scenario, category, part, ..., source, power_basis


TOTAL = "total"  # the category of a scenario's total row


def write_bom(path: Path, rows: Iterable[BomRow]) -> None:
    """bom.csv from its rows, each scenario followed by its total row (text cells
    neutralised for spreadsheets)."""
    from planner.outputs.export import write_csv

    write_csv(path, BOM_COLUMNS, (row.data() for row in with_totals(rows)))


def with_totals(rows: Iterable[BomRow]) -> list[BomRow]:
    """The rows, each scenario's followed by one row of category "total" whose sums sit in
    total_cost_usd and total_power_w, not in the extended columns, so that summing a column
    of the file counts each part once (and SUMIF by scenario gives a scenario's parts)."""
    out: list[BomRow] = []
    by_scenario: dict[str, list[BomRow]] = {}
    for row in rows:
        by_scenario.setdefault(row.scenario, []).append(row)
    for name, own in by_scenario.items():
        out += own
        unpriced = sum(r.extended_cost_usd is None for r in own)
        out.append(BomRow(
            scenario=name, category=TOTAL, part="", quantity=0, unit_cost_usd=None, extended_cost_usd=None,
            unit_power_w=None, extended_power_w=None,
            description=f"scenario total of the {len(own)} rows above" + (
                f" ({unpriced} without a price, counted as nothing)" if unpriced else ""),
            source="sum of the rows above",
            total_cost_usd=round(sum(r.extended_cost_usd or 0.0 for r in own), 2),
            total_power_w=round(sum(r.extended_power_w or 0.0 for r in own), 3),
        ))
    return out


def tidy(row: BomRow) -> BomRow:
    """A row without float noise: money to the cent, watts and quantities to the thousandth
    (36.620571399999996 USD is written 36.62); a count stays an integer, a figure a float."""
    def cut(value: float | None, places: int) -> float | int | None:
        return round(value, places) if isinstance(value, float) else value

    return row.model_copy(update={
        "quantity": cut(row.quantity, 3), "unit_cost_usd": cut(row.unit_cost_usd, 2),
        "extended_cost_usd": cut(row.extended_cost_usd, 2), "unit_power_w": cut(row.unit_power_w, 3),
        "extended_power_w": cut(row.extended_power_w, 3)})


def bom_rows(result: Result, catalog: Catalog) -> list[BomRow]:
    """One row per part of the chosen plan; quantities equal the fabric's counts."""
    if result.status is not Status.OPTIMAL:
        return []
    inp, opt = result.inputs, result.chosen
    rows: list[BomRow] = []

    def part_row(category: str, key: str, qty: float, description: str, powered: bool = True,
                 unit_cost: float | None = None, basis: str | None = None) -> None:
        if qty <= 0:
            return
        power = inp.power.get(key) if powered else None
        power_w = power.watts if power else None
        entry = catalog.find(key)
        spec = entry.item.source if entry else ""
        if unit_cost is None and key in inp.prices:
            unit_cost, basis = inp.prices[key].unit_cost_usd, inp.prices[key].basis
        source = f"spec: {spec}" + (f"; price: {basis}" if basis else "")
        rows.append(BomRow(
            scenario=inp.scenario, category=category, part=key, description=description, quantity=qty,
            unit_cost_usd=unit_cost, extended_cost_usd=None if unit_cost is None else unit_cost * qty,
            unit_power_w=power_w, extended_power_w=None if power_w is None else power_w * qty,
            source=source, power_basis=power.basis if power else None,
        ))

    fab = opt.fabric
    if opt.servers and fab is not None:
        server = catalog.servers[opt.server]
        part_row("gpu_server", server.key, opt.servers, f"{server.vendor} {server.model}")
        for tier, n in fab.switches.items():
            if n:
                sw = catalog.switches[fab.switch_models[tier]]
                part_row("switch", sw.key, n, f"{tier} switch: {sw.vendor} {sw.model}")
        from planner.outputs.bom_interconnect import plan_interconnect_rows  # routes beyond grey reach (issue 22)

        far_rows, replaced = plan_interconnect_rows(result, catalog)
        for key, n in fab.transceivers.items():
            o = catalog.optics[key]
            gone = min(replaced.get(key, 0), n)
            part_row("transceiver", key, n - gone, f"{o.vendor} {o.model}" + (
                f" ({gone} more replaced by the interconnect's modules on routes beyond grey reach)" if gone else ""))
        rows += far_rows
        rows += cable_rows(result, catalog)
        if result.expanded:
            rows.append(BomRow(
                scenario=inp.scenario, category="electrical", part="grid-expansion",
                description=f"transformer or substation addition, +{inp.expansion_mw:g} MW",
                quantity=1, unit_cost_usd=inp.expansion_usd, extended_cost_usd=inp.expansion_usd,
                unit_power_w=None, extended_power_w=None, source="site file grid.expansion",
            ))
        rows += facility_rows(result)
    for name, net in other_networks(result, catalog).items():
        key, n = net["access_switch"], net["access_switches"]
        sw = catalog.switches[key]
        if name == "mining_access":
            part_row(f"switch_{name}", key, n, f"miner access switch: {sw.vendor} {sw.model} (existing, "
                     f"{net['uplinks']} x {net['uplink_gbps']:g}G uplinks to the site aggregation)",
                     True, 0.0, "existing network")
        else:
            part_row(f"switch_{name}", key, n, f"out-of-band access switch: {sw.vendor} {sw.model} "
                     f"({net['uplinks']} x {net['uplink_gbps']:g}G uplinks to the site aggregation; "
                     "not in the plan's capex)", True, None,
                     "no price in the catalog")
    for b in inp.miners:
        m = catalog.miners[b.name or b.key]
        kept = result.miners_with_ai.get(b.key, 0)
        until = result.miners_before.get(b.key, 0) - kept
        if b.new:
            basis = inp.prices[m.key].basis if m.key in inp.prices else None
            part_row("miner_new", m.key, inp.bought(b, result.miners_before, result.miners_with_ai),
                     f"{m.vendor} {m.model} (new, bought now)", True, b.unit_cost_usd, basis)
            continue
        part_row("miner", m.key, kept, f"{m.vendor} {m.model} (existing, kept beside the AI)",
                 True, 0.0, "existing fleet")
        part_row("miner_retired", m.key, until,
                 f"{m.vendor} {m.model} (existing, runs until the AI start, then retired)",
                 False, 0.0, "existing fleet")
    from planner.outputs.business import row_scope  # who pays for each row: host or tenant (issue 19)

    rows = [tidy(r.model_copy(update={"scope": row_scope(inp, r.category)})) for r in rows]
    rows.sort(key=lambda r: (r.scenario, r.category, r.part))
    return rows


def cable_rows(result: Result, catalog: Catalog) -> list[BomRow]:
    """The cable, trunk, patch-panel and jumper rows of the chosen plan: the lines of
    :func:`planner.network.cabling.cable_bill` from its floor plan's links (without halls,
    each tier at the length its media were chosen for, an ESTIMATE). Their extended costs add
    up to the option's ``cabling`` capex, which the solve priced from the same lines."""
    from planner.network.cabling import cable_bill

    inp, opt = result.inputs, result.chosen
    fab = opt.fabric
    if fab is None:
        return []
    lay = layout_for(result, catalog)
    links = lay.links if lay is not None else None
    if links is not None and opt.interconnect is not None:  # far links ride the interconnect's fibre
        from planner.network.campus import local_links

        links = local_links(links, opt.interconnect.far)
    rows = []
    for line in cable_bill(links, fab, catalog):
        tier = line.tier.replace("_", "-")
        priced = line.unit_cost_usd is not None
        if line.item == "cable":
            measured = line.assumed_m is None
            description = f"{tier} cable, {line.fibers} fibres lit, " + (
                f"{line.length_m:g} m" if measured
                else f"length not modelled (no halls in the site): {line.assumed_m:g} m assumed")
            source = ("fabric count and floor plan" if measured else f"fabric count; ESTIMATE: length "
                      f"{line.assumed_m:g} m assumed (the length its media were chosen for)") + (
                f"; price: {line.basis}" if priced else "; no cable price (length or a figure missing)")
        elif line.item == "jumper":
            description = f"{tier} jumper, switch port to patch panel (2 per link leaving its row)"
            source = "floor plan"
        else:
            what = {"trunk": f"{tier} MPO trunk between rooms",
                    "panel": f"{tier} patch panel (both ends of each trunk)"}[line.item]
            description = f"{what}; {line.fibers:,} lit fibres"
            entry = catalog.find(line.part)
            source = f"spec: {entry.item.source if entry else ''}; price: {line.basis}"
        rows.append(BomRow(
            scenario=inp.scenario, category=line.category, part=line.part, description=description,
            quantity=line.quantity, unit_cost_usd=line.unit_cost_usd,
            extended_cost_usd=line.extended_usd if priced else None, unit_power_w=None, extended_power_w=None,
            source=source,
        ))
    return rows

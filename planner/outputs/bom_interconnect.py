"""bom.csv rows of the interconnect on routes beyond grey reach (issue 22), and the fabric optics
they replace.

The rule, so that no link is bought twice: a link between two halls whose route is longer than
any grey single-mode module reaches (campus_trunks flags it ``dci_optics``; 10 km with the
bundled catalog) does not keep its tier's optics. The chosen interconnect's modules (coherent
400ZR/OpenZR+ over the DWDM line system, or grey long-reach optics) plug into those switch ports
instead, and its mux/demux, amplifiers and dark fibre are added. So for each such route and each
tier with links crossing it, at each end of the tier's links that is a pluggable module,
``crossing links // links per module`` modules are taken off the fabric's transceiver count (a
twin-port module whose other port stays on site is kept). Port speed against module speed
(breakouts) is not modelled. A solved plan's rows are the interconnect its capex was priced with
before the solve (:mod:`planner.network.campus`), so they re-add to ``capex_usd["interconnect"]``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from planner.model.optimize import Result
from planner.network.interconnect import DARK_FIBRE
from planner.network.media import TierMedia
from planner.outputs.records import BomRow
from planner.parts.catalog import Catalog

CATEGORY = "interconnect"


def interconnect_rows(scenario: str, trunks: list[dict[str, Any]], catalog: Catalog,
                      by_tier: Mapping[str, Mapping[tuple[str, str], int]],
                      media: Mapping[str, TierMedia]) -> tuple[list[BomRow], dict[str, int]]:
    """(rows, replaced): one row per part of each route's chosen interconnect (a route whose
    interconnect has no priced option gets one unpriced row saying why), and the fabric
    transceivers by key that those parts replace (module rule in the module docstring).

    ``trunks`` are the campus_trunks rows of the layout summary; ``by_tier`` the links per hall
    pair and tier (Layout.inter_building_by_tier); ``media`` the fabric's tier media."""
    rows: list[BomRow] = []
    replaced: Counter[str] = Counter()
    for trunk in trunks:
        doc = trunk.get("interconnect")
        if not doc:
            continue
        pair = tuple(sorted((trunk["from"], trunk["to"])))
        where = f"{trunk['from']} - {trunk['to']}, {doc['route_km']:g} km"
        chosen = doc["chosen"]
        if chosen is None:
            rows.append(BomRow(
                scenario=scenario, category=CATEGORY, part="interconnect-not-chosen",
                description=f"{where}: {doc['gbps']:g} Gb/s; no option chosen: {doc['why']}", quantity=1,
                unit_cost_usd=None, extended_cost_usd=None, unit_power_w=None, extended_power_w=None,
                source="planner/network/interconnect.py; no price (not counted as zero)"))
            continue
        counts: dict[str, float] = {chosen["module"]: chosen["modules"]}
        if chosen["mux"]:
            counts[chosen["mux"]] = chosen["muxes"]
        if chosen["amplifier"]:
            counts[chosen["amplifier"]] = chosen["amplifiers"]
        if chosen.get("fibre_pair_km"):
            counts[DARK_FIBRE] = chosen["fibre_pair_km"]
        what = {chosen["module"]: f"{chosen['links']} links of {doc['gbps'] / chosen['links']:g} Gb/s, "
                                  "one module at each end (replace the tier optics of the crossing links)",
                chosen["mux"]: f"{chosen['wavelengths']} wavelengths on {chosen['fibre_pairs']} fibre pair(s), "
                               "one mux/demux per pair at each end",
                chosen["amplifier"]: f"{chosen['inline_amplifier_sites']} in-line site(s); per pair and direction "
                                     "a booster, the in-line amplifiers and a pre-amplifier",
                DARK_FIBRE: f"dark fibre in fibre-pair-km: {chosen['fibres']} fibres laid / 2 x "
                            f"{doc['route_km']:g} km, paid once (build or IRU)"}
        for key, qty in counts.items():
            if not qty:
                continue
            entry = catalog.find(key)
            price = catalog.unit_cost(key)
            power = catalog.power(key)
            unit_w = power.watts if power else (0.0 if key == DARK_FIBRE else None)
            basis = power.basis if power else ("glass: draws no power" if key == DARK_FIBRE
                                               else "no power figure (not counted as zero)")
            rows.append(BomRow(
                scenario=scenario, category=CATEGORY, part=key,
                description=f"{where}: {what[key]}; {chosen['fibres']} fibres in {chosen['cables']} x "
                            f"{chosen['cable_fibers']}-fibre cable; {chosen['latency_us']:g} us one way",
                quantity=qty, unit_cost_usd=price[0] if price else None,
                extended_cost_usd=round(price[0] * qty, 2) if price else None,
                unit_power_w=unit_w, extended_power_w=None if unit_w is None else unit_w * qty,
                source=(f"spec: {entry.item.source}; " if entry else "")
                       + (f"price: {price[1]}" if price else "no price (not counted as zero)"),
                power_basis=basis))
        own = doc.get("crossing_links_by_tier")  # the plan's own: the tiers beyond their grey reach there
        for tier, links in by_tier.items():
            crossing = own.get(tier, 0) if own is not None else links.get(pair, 0)
            tm = media.get(tier)
            if not crossing or tm is None:
                continue
            for end in (tm.lower, tm.upper):
                if end.kind == "module" and end.part and end.links_per_unit:
                    replaced[end.part] += crossing // end.links_per_unit
    return rows, dict(replaced)


def plan_interconnect_rows(result: Result, catalog: Catalog) -> tuple[list[BomRow], dict[str, int]]:
    """:func:`interconnect_rows` of a solved plan (none without a floor plan or a far route): the
    interconnect its capex was priced with (the layout summary's campus trunks carry it), and the
    modules that interconnect replaces."""
    from planner.outputs.physics import layout_for, layout_summary

    doc = layout_summary(result, catalog)
    trunks = [t for t in (doc or {}).get("campus_trunks", []) if t.get("interconnect")]
    lay = layout_for(result, catalog) if trunks else None
    fab = result.chosen.fabric if result.chosen is not None else None
    if lay is None or fab is None:
        return [], {}
    rows, replaced = interconnect_rows(result.inputs.scenario, trunks, catalog, lay.inter_building_by_tier, fab.media)
    if result.chosen.interconnect is not None:
        replaced = dict(result.chosen.interconnect.replaced)
    return rows, replaced

"""What a plan assumed, for the people who read it: the site file's inputs as flat rows
(one value per row, by dotted key), the estimates the plan used (the figures no vendor
document gives, from the labelled estimates tables), and each scenario's dispatch month by
month. The workbook (:mod:`planner.outputs.workbook`) and the report
(:mod:`planner.outputs.report_html`) show the same rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.outputs.records import BomRow, PlanSummary, SummaryDocument

ESTIMATE = "ESTIMATE"  # how the catalog's estimates tables mark a basis


def site_inputs(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A site file's values as (dotted key, value) rows: tables walked key by key, a list
    of tables item by item (``buildings[0].name``); a list of plain values (a polygon's
    corners) is one text cell. Unset keys (None) are left out."""
    rows: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            rows += site_inputs(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list) and any(isinstance(v, dict) for v in data):
        for i, v in enumerate(data):
            rows += site_inputs(v, f"{prefix}[{i}]")
    elif isinstance(data, list | tuple):
        if data:
            rows.append((prefix, ", ".join(str(v) for v in data)))
    elif data is not None:
        rows.append((prefix, data))
    return rows


@dataclass(frozen=True)
class EstimateUsed:
    """A figure the plan used that no vendor document gives, with its basis. A price that
    depends on a length (a cable's fibres x metres x a price per fibre-metre) spans
    ``low`` to ``high`` over the lengths bought; ``basis`` is the first length's."""

    part: str
    figure: str  # "power" or "price"
    low: float
    high: float
    unit: str
    scenarios: tuple[str, ...]
    basis: str


def estimates_used(doc: SummaryDocument, rows: Iterable[BomRow]) -> list[EstimateUsed]:
    """The estimates behind the plans: power figures whose kind is "estimate" in a
    scenario's power_figures, and unit prices whose basis the estimates table marks
    (ESTIMATE) in the BOM; one entry per part and figure, naming the scenarios that use it."""
    found: dict[tuple[str, str], tuple[list[float], str, str, list[str]]] = {}
    for name, sc in doc.scenarios.items():
        if not isinstance(sc, PlanSummary):
            continue
        for part, fig in sc.power_figures.items():
            if fig.kind == "estimate":
                entry = found.setdefault((part, "power"), ([], "W per unit", fig.basis, []))
                entry[0].append(fig.watts)
                entry[3].append(name)
    for row in rows:
        price = _price_basis(row.source)
        if row.unit_cost_usd is not None and price is not None and ESTIMATE in price:
            entry = found.setdefault((row.part, "price"), ([], "USD per unit", price, []))
            entry[0].append(row.unit_cost_usd)
            entry[3].append(row.scenario)
    return [EstimateUsed(part, figure, min(values), max(values), unit, tuple(dict.fromkeys(names)), basis)
            for (part, figure), (values, unit, basis, names) in sorted(found.items())]


def _price_basis(source: str) -> str | None:
    """The price part of a BOM row's source ("spec: ...; price: BASIS")."""
    at = source.find("price: ")
    return source[at + len("price: "):] if at >= 0 else None


MONTHLY_COLUMNS = ["scenario", "period", "hours", "grid_energy_mwh", "ai_energy_mwh", "miner_energy_mwh",
                   "peak_import_mw", "mean_price_usd_per_mwh", "energy_cost_usd"]


def monthly_dispatch(table: Mapping[str, Any]) -> list[list[Any]]:
    """A dispatch table (one row per price step, with the step's hours in a year; a dict of
    columns or a frame) summed by calendar month for a dated series ("2025-01"), else by the
    profile's own steps (a season's month, a time-of-use block), as rows of MONTHLY_COLUMNS
    in the order each (scenario, period) first comes. Energy = sum of MW x hours; the mean
    price is the energy-weighted one (cost / energy; None without energy)."""
    import numpy as np

    step = np.asarray(table["step"]).astype(str)
    if not step.size:
        return []
    period = np.strings.slice(step, 0, 7)  # "2025-01" of a dated step
    sep = np.strings.slice(step, 4, 5) + np.strings.slice(step, 7, 8)  # "--"
    dated = bool(np.all(np.strings.isdecimal(np.strings.slice(step, 0, 4)) & (sep == "--")
                        & np.strings.isdecimal(np.strings.slice(step, 5, 7))))  # as r"\d{4}-\d{2}-" matches
    scenario = np.asarray(table["scenario"])
    key = period if dated else step
    # the groups (scenario, period) numbered in the order each first comes, from the runs of
    # steps that share both (a dispatch table's steps come in order: a run is a month)
    starts = np.flatnonzero(np.concatenate([[True], (scenario[1:] != scenario[:-1]) | (key[1:] != key[:-1])]))
    groups: dict[tuple[str, str], int] = {}
    runs = [groups.setdefault((str(sc), k), len(groups))
            for sc, k in zip(scenario[starts].tolist(), key[starts].tolist(), strict=True)]
    code = np.repeat(np.array(runs, dtype=np.int64), np.diff(np.append(starts, step.size)))
    n = len(groups)
    hours = np.asarray(table["hours_per_year"], dtype=float)
    grid = np.asarray(table["grid_import_mw"], dtype=float)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(code, weights=values, minlength=n)

    energy = total(grid * hours)
    cost = total(grid * hours * np.asarray(table["price_usd_per_mwh"], dtype=float))
    peak = np.full(n, -np.inf)
    np.maximum.at(peak, code, grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(energy > 0, np.round(cost / energy, 4), np.nan)
    columns = [np.round(total(hours), 4), np.round(energy, 3),
               np.round(total(np.asarray(table["ai_load_mw"], dtype=float) * hours), 3),
               np.round(total(np.asarray(table["miner_load_mw"], dtype=float) * hours), 3),
               np.round(peak, 6), mean, np.round(cost, 2)]
    values = [[None if v != v else v for v in c.tolist()] for c in columns]  # NaN: no figure
    return [[sc, period, *(c[i] for c in values)] for (sc, period), i in groups.items()]


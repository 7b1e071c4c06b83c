"""What a plan assumed, for the people who read it: the site file's inputs as flat rows
(one value per row, by dotted key), the estimates the plan used (the figures no vendor
document gives, from the labelled estimates tables), and each scenario's dispatch month by
month. The workbook (:mod:`planner.outputs.workbook`) and the report
(:mod:`planner.outputs.report_html`) show the same rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.outputs.records import BomRow, PlanSummary, SummaryDocument

if TYPE_CHECKING:
    import pandas as pd

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


def monthly_dispatch(frame: pd.DataFrame) -> pd.DataFrame:
    """A dispatch table (one row per price step, with the step's hours in a year) summed by
    calendar month for a dated series ("2025-01"), else by the profile's own steps (a
    season's month, a time-of-use block). Energy = sum of MW x hours; the mean price is
    the energy-weighted one (cost / energy)."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame(columns=MONTHLY_COLUMNS)
    step = frame["step"].astype(str)
    dated = bool(step.str.match(r"\d{4}-\d{2}-").all())
    period = step.str.slice(0, 7) if dated else step
    hours = frame["hours_per_year"]
    parts = pd.DataFrame({
        "scenario": frame["scenario"], "period": period, "hours": hours,
        "grid_energy_mwh": frame["grid_import_mw"] * hours, "ai_energy_mwh": frame["ai_load_mw"] * hours,
        "miner_energy_mwh": frame["miner_load_mw"] * hours, "peak_import_mw": frame["grid_import_mw"],
        "energy_cost_usd": frame["grid_import_mw"] * hours * frame["price_usd_per_mwh"],
    })
    out = parts.groupby(["scenario", "period"], sort=False).agg(
        hours=("hours", "sum"), grid_energy_mwh=("grid_energy_mwh", "sum"), ai_energy_mwh=("ai_energy_mwh", "sum"),
        miner_energy_mwh=("miner_energy_mwh", "sum"), peak_import_mw=("peak_import_mw", "max"),
        energy_cost_usd=("energy_cost_usd", "sum")).reset_index()
    energy = out["grid_energy_mwh"]
    out["mean_price_usd_per_mwh"] = (out["energy_cost_usd"] / energy.where(energy > 0)).round(4)
    for column, places in (("hours", 4), ("grid_energy_mwh", 3), ("ai_energy_mwh", 3), ("miner_energy_mwh", 3),
                           ("peak_import_mw", 6), ("energy_cost_usd", 2)):
        out[column] = out[column].round(places)
    return out[MONTHLY_COLUMNS]

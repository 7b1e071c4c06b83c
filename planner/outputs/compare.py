"""The scenarios side by side as rows of plain values: compare.csv and the workbook's
summary sheet. One value per cell: a figure by tier or by part (switches, transceivers,
MPO connectors) is one row per tier or part, never a JSON text; figures are in their
row's unit (M USD where the label says so), rounded to what the unit can mean."""

from __future__ import annotations

from typing import Any

from planner.outputs.business import BUSINESS_ROWS, business_value
from planner.outputs.cells import in_label_unit
from planner.outputs.records import SummaryDocument
from planner.outputs.summary import row_value, summary_rows

PLACES = 6  # M USD to the dollar; MW to the watt; a fraction to a millionth


def plain(value: Any, kind: str) -> Any:
    """A summary value as one cell: in its label's unit, without float noise."""
    value = in_label_unit(value, kind)
    if value == "-":  # the table's dash for "none" (no AI halls) is text a spreadsheet would read as a sign
        return "none"
    if isinstance(value, float):
        value = round(value, PLACES)
        return int(value) if value.is_integer() and kind == "int" else value
    return value


def comparison_rows(doc: SummaryDocument) -> list[dict[str, Any]]:
    """One dict per row: "metric" and a value per scenario. A row whose value is a table
    (switches by tier) becomes one row per key, "switches: leaf", with the keys of every
    scenario (empty where a scenario has none)."""
    names = list(doc.scenarios)
    rows: list[dict[str, Any]] = []
    for label, key, kind in summary_rows(doc):
        values = {n: row_value(doc.scenarios[n], key) for n in names}
        if kind == "dict":
            keys = list(dict.fromkeys(k for v in values.values() if isinstance(v, dict) for k in v))
            for k in keys:
                rows.append({"metric": f"{label}: {k}", **{n: (values[n] or {}).get(k) for n in names}})
            continue
        rows.append({"metric": label, **{n: plain(values[n], kind) for n in names}})
    scenarios = {n: doc.scenarios[n].model_dump() for n in names}
    for label, path, kind in BUSINESS_ROWS:
        rows.append({"metric": label, **{n: plain(business_value(scenarios[n], path), kind) for n in names}})
    rows.append({"metric": "recommendation", **{n: ("yes" if n == doc.recommendation.scenario else "")
                                                for n in names}})
    return rows

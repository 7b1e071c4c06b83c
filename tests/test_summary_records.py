"""summary.json's typed records (planner/outputs/records.py) and its shipped JSON Schema
(docs/summary.schema.json): a written file holds exactly the declared keys, of their types,
in their order. :func:`check_summary` is also run on the files the CLI tests write (every
example site, an infeasible plan, a solver stopped by its time limit)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from planner.outputs.records import BomRow, NoPlanSummary, PlanSummary, SummaryDocument

from .conftest import ROOT

SCHEMA = json.loads((ROOT / "docs" / "summary.schema.json").read_text(encoding="utf-8"))


def check_summary(text: str) -> SummaryDocument:
    """A summary.json's text against the records (strictly: no undeclared key, none missing,
    each of its type) and against the shipped schema; read back and written again as
    planner solve writes it, it is the same text (no key dropped, added or moved, no number
    respelt)."""
    doc = SummaryDocument.read(text)
    assert json.dumps(doc.data(), indent=2, sort_keys=False, default=str) + "\n" == text
    problems = schema_problems(json.loads(text), SCHEMA)
    assert not problems, problems
    return doc


def schema_problems(value: Any, schema: dict, where: str = "$") -> list[str]:
    """What in ``value`` the JSON Schema does not allow, for the keywords pydantic writes
    ($ref, anyOf, oneOf with a discriminator, type, const, enum, properties, required,
    additionalProperties, items)."""
    if "$ref" in schema:
        return schema_problems(value, SCHEMA["$defs"][schema["$ref"].split("/")[-1]], where)
    if "oneOf" in schema and "discriminator" in schema:
        tag = value.get(schema["discriminator"]["propertyName"]) if isinstance(value, dict) else None
        ref = schema["discriminator"]["mapping"].get(tag)
        return [f"{where}: no record for {tag!r}"] if ref is None else schema_problems(value, {"$ref": ref}, where)
    if "anyOf" in schema:
        found = [schema_problems(value, s, where) for s in schema["anyOf"]]
        return [] if any(not f for f in found) else [p for f in found for p in f]
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "null": type(None),
             "array": list, "object": dict}
    if "type" in schema and (not isinstance(value, kinds[schema["type"]])
                             or (isinstance(value, bool) and schema["type"] != "boolean")):
        return [f"{where}: {value!r} is not of type {schema['type']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    problems: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        problems += [f"{where}: {k} is missing" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                problems += schema_problems(v, props[k], f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}: {k} is not declared")
            elif isinstance(schema.get("additionalProperties"), dict):
                problems += schema_problems(v, schema["additionalProperties"], f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            problems += schema_problems(v, schema["items"], f"{where}[{i}]")
    return problems


# Written by hand from DESIGN.md and docs/summary-reference.md: a site whose one scenario is infeasible.
NO_PLAN = """{
  "site": "Tiny",
  "planner_version": "0.1.0",
  "solver": "highs",
  "scenarios": {
    "retrofit": {
      "status": "infeasible",
      "kind": "retrofit",
      "grid_capacity_mw": 10.0,
      "solve_seconds": 0.01,
      "scenario_seconds": 0.02,
      "binding_constraints": [
        "grid capacity"
      ],
      "solver_status": "highs: Infeasible",
      "message": "infeasible: grid capacity"
    }
  },
  "recommendation": {
    "scenario": null,
    "reason": "no scenario is feasible"
  },
  "run_id": "20260101T000000Z-0123abcd"
}
"""


def test_a_summary_written_by_hand_from_the_reference_is_accepted():
    doc = check_summary(NO_PLAN)
    scenario = doc.scenarios["retrofit"]
    assert isinstance(scenario, NoPlanSummary) and scenario.binding_constraints == ["grid capacity"]
    assert doc.recommendation.scenario is None and doc.recommendation.equal_to is None
    assert "equal_to" not in doc.data()["recommendation"] and "notes" not in doc.data()


@pytest.mark.parametrize("where", ["document", "scenario", "recommendation"])
def test_a_key_that_is_not_in_the_records_is_refused(where):
    """A key added to what is written without a field in the records fails the records and
    the shipped schema, naming the key."""
    data = json.loads(NO_PLAN)
    target = {"document": data, "scenario": data["scenarios"]["retrofit"],
              "recommendation": data["recommendation"]}[where]
    target["undeclared_figure_mw"] = 1.0
    text = json.dumps(data, indent=2) + "\n"
    with pytest.raises(ValidationError, match="undeclared_figure_mw"):
        SummaryDocument.read(text)
    assert any("undeclared_figure_mw is not declared" in p for p in schema_problems(data, SCHEMA))


@pytest.mark.parametrize(("key", "value", "why"), [
    ("message", None, "a missing or null text"),
    ("grid_capacity_mw", "10", "a number written as text"),
    ("status", "optimal", "a plan's status without the plan's keys"),
    ("kind", "campus", "a kind that is not retrofit, greenfield or hybrid"),
    ("binding_constraints", "grid capacity", "a text for a list"),
])
def test_a_value_of_the_wrong_type_is_refused(key, value, why):
    data = json.loads(NO_PLAN)
    data["scenarios"]["retrofit"][key] = value
    with pytest.raises(ValidationError):
        SummaryDocument.read(json.dumps(data))
    assert schema_problems(data, SCHEMA), why


def test_a_count_must_be_a_whole_number_and_a_missing_key_is_refused():
    data = json.loads(NO_PLAN)
    del data["scenarios"]["retrofit"]["solver_status"]
    with pytest.raises(ValidationError, match="solver_status"):
        SummaryDocument.read(json.dumps(data))
    assert any("solver_status is missing" in p for p in schema_problems(data, SCHEMA))
    plan = PlanSummary.model_json_schema()
    assert plan["properties"]["gpus"]["type"] == "integer" and plan["properties"]["capex_usd"]["type"] == "number"
    assert schema_problems(3.5, {"type": "integer"}) and not schema_problems(3, {"type": "number"})


def test_the_contract_keys_of_design_md_are_declared_for_a_plan():
    """DESIGN.md: each scenario holds at least these keys (switches by tier)."""
    contract = {"status", "gpus", "gpu_servers", "miners", "hashrate_ths", "it_power_mw", "facility_power_mw",
                "grid_capacity_mw", "energy_mwh_per_year", "capex_usd", "opex_usd_per_year",
                "revenue_usd_per_year", "npv_usd", "payback_years", "months_to_first_revenue", "switches",
                "transceivers", "fibers", "mpo_connectors", "binding_constraints", "solve_seconds"}
    assert contract <= set(PlanSummary.model_fields)
    assert list(SummaryDocument.model_fields)[:5] == ["site", "planner_version", "solver", "scenarios",
                                                      "recommendation"]
    assert list(BomRow.model_fields)[:10] == ["scenario", "category", "part", "description", "quantity",
                                              "unit_cost_usd", "extended_cost_usd", "unit_power_w",
                                              "extended_power_w", "source"]


def test_every_key_the_tables_and_the_sweep_read_is_a_field():
    """The summary table, the tie-breakers and the sweep's columns read a plan's fields by
    name (None for a scenario without a plan): a misspelt name would read None for ever."""
    from planner.app.sweep import COLUMNS
    from planner.outputs.summary import SUMMARY_ROWS, TIE_BREAKERS

    names = [k for _, k, _ in SUMMARY_ROWS] + [k for _, k, _ in TIE_BREAKERS] + COLUMNS[2:]
    assert not [n for n in names if n not in PlanSummary.model_fields]


def test_records_are_frozen():
    doc = SummaryDocument.read(NO_PLAN)
    with pytest.raises(ValidationError):
        doc.site = "other"
    changed = doc.model_copy(update={"notes": ["topology.graphml not written"]})
    assert doc.notes is None and changed.data()["notes"] == ["topology.graphml not written"]
    assert list(changed.data())[-2:] == ["run_id", "notes"]
    assert copy.deepcopy(doc) == doc

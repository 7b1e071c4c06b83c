"""Documentation generated from the code stays in step with it."""

import pytest

from planner.app.docs_gen import GENERATED, site_reference

from .conftest import ROOT


def test_site_reference_is_current():
    current = (ROOT / "docs" / "site-reference.md").read_text(encoding="utf-8")
    assert current == site_reference(), "docs/site-reference.md is stale: run python -m planner.app.docs_gen"


def test_every_example_site_is_in_the_guide():
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    for site in sorted((ROOT / "sites").glob("*.toml")):
        assert f"sites/{site.name}" in guide


@pytest.mark.parametrize("name", ["summary-reference.md", "summary.schema.json"])
def test_summary_reference_and_schema_are_current(name):
    """docs/summary-reference.md and docs/summary.schema.json are generated from the output
    records (planner/outputs/records.py)."""
    current = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert current == GENERATED[name](), f"docs/{name} is stale: run python -m planner.app.docs_gen"


def test_the_summary_reference_names_every_key_with_its_unit():
    """Each key of summary.json's records is a row of the reference, with the unit its
    record declares (units from the name where the name carries one)."""
    from planner.outputs.records import PlanSummary

    text = (ROOT / "docs" / "summary-reference.md").read_text(encoding="utf-8")
    for name in PlanSummary.model_fields:
        assert f"| `{name}` |" in text, name
    assert "| `capex_usd` | number | USD |" in text
    assert "| `hashrate_ths` | number | TH/s |" in text
    assert "| `energy_mwh_per_year` | number | MWh/yr |" in text

"""Documentation generated from the code stays in step with it."""

from planner.app.docs_gen import site_reference

from .conftest import ROOT


def test_site_reference_is_current():
    current = (ROOT / "docs" / "site-reference.md").read_text(encoding="utf-8")
    assert current == site_reference(), "docs/site-reference.md is stale: run python -m planner.app.docs_gen"


def test_every_example_site_is_in_the_guide():
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    for site in sorted((ROOT / "sites").glob("*.toml")):
        assert f"sites/{site.name}" in guide

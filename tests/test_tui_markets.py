"""The results pane shows the power-market lines (issue 20, point 5): energy cost, contract
credits, reserve revenue, coincident-peak tag and charge, demand charges, each scenario's
value as summary.json gives it."""

from __future__ import annotations

from planner.outputs.cells import format_cell
from tui.app import make_app

from .conftest import SITES

LINES = {"energy cost, M USD/yr": "energy_cost_usd_per_year",
         "contract credits, M USD/yr": "contract_credits_usd_per_year",
         "reserve revenue, M USD/yr": "reserve_revenue_usd_per_year",
         "coincident-peak tag, MW": "coincident_peak_tag_mw",
         "coincident-peak charge, M USD/yr": "coincident_peak_usd_per_year",
         "demand charges, M USD/yr": "demand_charge_usd_per_year"}


async def test_the_results_show_the_power_market_lines(catalog):
    """Open sites/texas-power-contract.toml (not saved: the file is only read), solve with
    Ctrl+R, and find each market line in F3's table with every scenario's value; the contract
    resells energy in both scenarios, so its credits are not zero."""
    app = make_app(SITES / "texas-power-contract.toml", catalog=catalog)
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        doc = app.session.summary
        names = list(doc.scenarios)
        assert names == ["retrofit", "hybrid"]
        table = app.query_one("#compare")
        rows = {str(table.get_row_at(i)[0]): [str(c).replace("[b]", "").replace("[/b]", "")
                                             for c in table.get_row_at(i)[1:]] for i in range(table.row_count)}
        for label, key in LINES.items():
            assert label in rows, label
            kind = "f2" if key.endswith("_mw") else "musd"
            assert rows[label] == [format_cell(getattr(doc.scenarios[n], key), kind) for n in names], label
        assert all(doc.scenarios[n].contract_credits_usd_per_year > 0 for n in names)
        assert rows["energy cost, M USD/yr"] != ["-", "-"]

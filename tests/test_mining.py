"""Mining formulas checked against hand calculations from stated inputs."""

from __future__ import annotations

import pytest

from planner.energy.mining import (
    breakeven_usd_per_mwh,
    difficulty_from_hashrate,
    hashprice_usd_per_th_day,
    network_hashrate_hs,
    subsidy_at_height,
)


def test_hashprice_at_round_numbers():
    # 1,000 EH/s = 1e9 TH/s earns 144 blocks a day; at 3.125 BTC and 100,000 USD:
    # 144 * 3.125 * 100,000 / 1e9 = 0.045 USD per TH/s per day.
    d = difficulty_from_hashrate(1000.0)
    assert hashprice_usd_per_th_day(d, 3.125, 0.0, 100_000) == pytest.approx(0.045)


def test_hashprice_from_difficulty_by_definition():
    # difficulty 1e14: hashes per block = 1e14 * 2^32 = 4.294967296e23;
    # 1 TH/s finds 86,400e12 / 4.294967296e23 blocks a day = 2.01165676e-7;
    # at 3.125 + 0.1 BTC and 60,000 USD: 2.01165676e-7 * 193,500 = 0.03892556 USD.
    assert hashprice_usd_per_th_day(1e14, 3.125, 0.1, 60_000) == pytest.approx(0.03892556, rel=1e-6)


def test_network_hashrate_round_trip():
    # difficulty 1e14 -> 1e14 * 2^32 / 600 = 7.158e20 H/s = 715.8 EH/s
    assert network_hashrate_hs(1e14) == pytest.approx(7.158278826666667e20)
    assert difficulty_from_hashrate(network_hashrate_hs(1e14) / 1e18) == pytest.approx(1e14)


def test_breakeven_power_price():
    # S19 XP: 21.5 J/TH; at 0.045 USD/TH/day a TH/s uses 24 * 21.5 / 1e6 MWh a day
    # = 0.000516 MWh, so breakeven = 0.045 / 0.000516 = 87.21 USD/MWh.
    assert breakeven_usd_per_mwh(0.045, 21.5) == pytest.approx(87.2093, rel=1e-5)


@pytest.mark.parametrize(
    ("height", "subsidy"),
    [(0, 50.0), (209_999, 50.0), (210_000, 25.0), (630_000, 6.25), (840_000, 3.125),
     (1_050_000, 1.5625), (64 * 210_000, 0.0)],
)
def test_subsidy_halvings(height, subsidy):
    assert subsidy_at_height(height) == subsidy

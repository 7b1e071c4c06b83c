"""Bitcoin mining economics: hashprice, network hashrate, breakeven power price.

Derivations
-----------
A block needs on average ``difficulty * 2**32`` hashes and the protocol targets one
block per 600 s, so the network hashrate is ``H = difficulty * 2**32 / 600`` H/s.
One TH/s is a share ``1e12 / H`` of it and, over the 86,400 s of a day, earns that share
of the day's ``86,400 / 600 = 144`` blocks, each paying subsidy + fees. Hence the
hashprice in USD per TH/s per day::

    hashprice = 86_400 * 1e12 / (difficulty * 2**32) * (subsidy + fees) * btc_price

A miner of efficiency ``e`` J/TH uses ``24 * e / 1e6`` MWh per TH/s per day, so it
breaks even at a power price of ``hashprice * 1e6 / (24 * e)`` USD/MWh.
"""

from __future__ import annotations

from planner.constants import (
    BLOCK_SECONDS,
    HALVING_INTERVAL_BLOCKS,
    HASHES_PER_DIFFICULTY,
    HOURS_PER_DAY,
    HS_PER_EHS,
    HS_PER_THS,
    INITIAL_SUBSIDY_BTC,
    SECONDS_PER_DAY,
    W_PER_MW,
)


def network_hashrate_hs(difficulty: float) -> float:
    """Network hashrate in H/s implied by ``difficulty``: D * 2^32 / 600."""
    return difficulty * HASHES_PER_DIFFICULTY / BLOCK_SECONDS


def difficulty_from_hashrate(hashrate_ehs: float) -> float:
    """Difficulty implied by a network hashrate in EH/s: H * 600 / 2^32."""
    return hashrate_ehs * HS_PER_EHS * BLOCK_SECONDS / HASHES_PER_DIFFICULTY


def hashprice_usd_per_th_day(difficulty: float, subsidy_btc: float, fees_btc: float,
                             btc_price_usd: float) -> float:
    """Expected revenue of 1 TH/s for one day, USD (before pool fee)."""
    return (SECONDS_PER_DAY * HS_PER_THS / (difficulty * HASHES_PER_DIFFICULTY) * (subsidy_btc + fees_btc)
            * btc_price_usd)


def subsidy_at_height(height: int) -> float:
    """Block subsidy in BTC at a block height: 50 BTC halved every 210,000 blocks."""
    if height < 0:
        raise ValueError("block height must be >= 0")
    halvings = height // HALVING_INTERVAL_BLOCKS
    return 0.0 if halvings >= 64 else INITIAL_SUBSIDY_BTC / 2**halvings


def breakeven_usd_per_mwh(hashprice: float, efficiency_j_per_th: float) -> float:
    """Power price at which revenue equals power cost: hashprice * 1e6 / (24 * J/TH)."""
    return hashprice * W_PER_MW / (HOURS_PER_DAY * efficiency_j_per_th)

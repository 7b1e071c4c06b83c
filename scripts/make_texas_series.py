"""Write sites/data/texas-synthetic-2025-15min.csv: a SYNTHETIC year of 15-minute
real-time prices for the Texas-style hybrid example site.

The repository ships no third-party market data. This series is generated, and labelled
synthetic in its file name, its header comment and the site file. It is calibrated to
summary statistics of ERCOT HB_SOUTH real-time settlement point prices, June 2024 to
March 2025 (28,800 quarter hours): mean 27.4 USD/MWh, median 21.5, 2.8 % of quarter
hours negative, minimum about -70, maximum about 4,858. Shape: a daily cycle with an
evening peak, hotter months dearer, wind-driven negative night hours and rare scarcity
spikes. Deterministic (fixed seed). Users point their own site at a real ISO file.

Run: python scripts/make_texas_series.py [--check]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "sites" / "data" / "texas-synthetic-2025-15min.csv"
SPIKE_SHARE = 0.12  # of hot-evening quarter hours
TARGETS = {"mean": 27.4, "median": 21.5, "negative_share": 0.028, "min": -70.24, "max": 4857.82}


def generate(seed: int = 20251) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00")
    n = 365 * 96
    t = start + np.arange(n) * np.timedelta64(15, "m")
    hour = (np.arange(n) % 96) / 4.0
    month = t.astype("datetime64[M]").astype(int) % 12 + 1
    daily = 6.0 * np.sin((hour - 10) / 24 * 2 * np.pi) + 7.0 * np.exp(-((hour - 19) ** 2) / 6.0)
    seasonal = np.where(np.isin(month, [6, 7, 8, 9]), 6.0, 0.0) - np.where(np.isin(month, [3, 4, 10, 11]), 2.0, 0.0)
    # a slowly varying daily level (weather), then quarter-hour noise
    level = np.repeat(rng.normal(0.0, 3.5, 365), 96)
    base = 19.0 + daily + seasonal + level + rng.normal(0.0, 3.0, n)
    # windy nights: a few spells of negative prices
    windy = np.repeat(rng.random(365) < 0.18, 96) & ((hour < 7) | (hour > 23))
    base = np.where(windy & (rng.random(n) < 0.55), -rng.gamma(2.0, 9.0, n), base)
    # scarcity: rare spikes on hot evenings, heavy-tailed
    hot = np.isin(month, [6, 7, 8, 9]) & (hour >= 16) & (hour <= 21)
    spike = hot & (rng.random(n) < SPIKE_SHARE)
    base = np.where(spike, 120.0 + rng.pareto(1.4, n) * 320.0, base)
    base = np.clip(base, TARGETS["min"], TARGETS["max"])
    # shift the bulk so that the mean meets its target, then pin the published extremes
    base = np.clip(base + (TARGETS["mean"] - base.mean()), TARGETS["min"], TARGETS["max"])
    base[np.argmax(np.where(hot, base, -np.inf))] = TARGETS["max"]
    base[np.argmin(base)] = TARGETS["min"]
    return t, np.round(base, 2)


def stats(prices: np.ndarray) -> dict[str, float]:
    return {"mean": float(prices.mean()), "median": float(np.median(prices)),
            "negative_share": float((prices < 0).mean()), "min": float(prices.min()), "max": float(prices.max())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="print the statistics, write nothing")
    args = parser.parse_args(argv)
    t, prices = generate()
    for key, value in stats(prices).items():
        print(f"{key:>15}: {value:10.3f}   target {TARGETS[key]:10.3f}")
    if args.check:
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        handle.write("timestamp,price_usd_per_mwh\n")
        for stamp, p in zip(t.astype(str), prices, strict=True):
            handle.write(f"{stamp.replace('T', ' ')},{p:.2f}\n")
    print(f"wrote {OUT} ({prices.size} rows)")


if __name__ == "__main__":
    main()

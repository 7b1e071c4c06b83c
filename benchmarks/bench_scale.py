"""Scale in price steps (issue 17 point 3): the Texas hybrid site on 1, 2 and 5 years of
15-minute prices and 1 and 5 years of 5-minute prices.

The series are built from the site's synthetic 15-minute year: laid end to end for more
years, each 15-minute price held for three 5-minute steps, and every price moved by a
seeded 2 % noise so that no two years are the same. The site reads them as its price
year (`year = "scale"`: the series stands for one year, each step weighted accordingly).

Measured per case: the phases in a fresh process (load, prepare, build, solve) and the
whole `planner solve -q` (every scenario and every output written), medians. The growth
exponent is the slope of log(time) against log(steps) between the smallest and the
largest case: 1 is linear.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_solve import CHILD  # noqa: E402  (the same phase timer as the solve benchmarks)

CASES = [(1, 15), (2, 15), (5, 15), (1, 5), (5, 5)]  # (years, minutes per step)


def make_site(tmp: Path, years: int, minutes: int) -> Path:
    import numpy as np
    import pandas as pd

    base = pd.read_csv(ROOT / "sites" / "data" / "texas-synthetic-2025-15min.csv")["price_usd_per_mwh"].to_numpy()
    hold = 15 // minutes
    rng = np.random.default_rng(years * 100 + minutes)
    prices = np.concatenate([np.repeat(base, hold) * (1 + 0.02 * rng.standard_normal(base.size * hold))
                             for _ in range(years)]).round(2)
    stamps = pd.date_range("2025-01-01", periods=prices.size, freq=f"{minutes}min")
    name = f"texas-{years}y-{minutes}min"
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M"), "price_usd_per_mwh": prices}).to_csv(
        tmp / f"{name}.csv", index=False)
    text = (ROOT / "sites" / "texas-hybrid.toml").read_text()
    text = text.replace('file = "data/texas-synthetic-2025-15min.csv"', f'file = "{name}.csv"')
    text = text.replace("step_minutes = 15", f"step_minutes = {minutes}")
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def phases(site: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(site), "hybrid", "highs"], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {"steps": runs[0]["steps"], "objective": runs[0]["objective"], "options": runs[0]["options"],
            "gpus": runs[0]["gpus"],
            **{f"{k}_s": statistics.median(r[k] for r in runs) for k in ("load", "prepare", "build", "solve")}}


def whole(site: Path, out: Path, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "planner", "solve", str(site), "-q", "-o", str(out)], check=True,
                       capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return {"whole_s": statistics.median(times), "whole_min_s": min(times), "whole_max_s": max(times)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for years, minutes in CASES:
            site = make_site(Path(tmp), years, minutes)
            rows.append({"years": years, "minutes": minutes, **phases(site, args.repeat),
                         **whole(site, Path(tmp) / "out", args.repeat)})
    rows[0]["exponents"] = growth_exponents(rows, "steps", ("whole_s", "solve_s", "build_s"))
    print(json.dumps(rows))
    return rows


def growth_exponents(rows: list[dict], size: str, keys: tuple[str, ...]) -> dict[str, float]:
    """Per timed key, the slope of log(time) against log(``size``) from the first case to the
    largest: 1 is linear."""
    small, large = rows[0], max(rows, key=lambda r: r[size])
    out = {}
    for key in keys:
        ratio = large[key] / small[key] if small[key] > 0 else float("nan")
        out[key] = math.log(ratio) / math.log(large[size] / small[size])
    return out


if __name__ == "__main__":
    main()

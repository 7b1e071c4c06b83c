"""Solve benchmarks: model build and solve timed apart, HiGHS against CBC.

Cases: the flat Xinjiang site, an hourly series (the synthetic Texas year averaged to
hours, 8,760 steps) and the 15-minute Texas series (35,040 steps), hybrid scenario.
Target (issue 6): the 35,040-step hybrid site sized and dispatched in at most 5 s end to
end with HiGHS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from planner.app.pipeline import Progress, load, solve_scenario
site, scenario, solver = sys.argv[1], sys.argv[2], sys.argv[3]
loaded, catalog = load(Path(site))
class Phases(Progress):  # the pipeline's hooks stamp the end of each phase
    def prepared(self, name, inputs):
        global t2
        t2 = time.perf_counter()
    def built(self, name, model):
        global t3
        t3 = time.perf_counter()
t1 = time.perf_counter()
result, _ = solve_scenario(loaded, catalog, scenario, cache=None, solver=solver, progress=Phases())
t4 = time.perf_counter()
inputs = result.inputs
print(json.dumps({"load": t1 - t0, "prepare": t2 - t1, "build": t3 - t2, "solve": t4 - t3,
                  "total": t4 - t0, "objective": result.objective_usd, "steps": inputs.profile.steps,
                  "options": len(inputs.options), "gpus": result.chosen.gpus if result.chosen is not None else 0,
                  "status": str(result.status)}))
"""


def hourly_site(tmp: Path) -> Path:
    """The Texas site on hourly means of its synthetic 15-minute series."""
    import pandas as pd

    frame = pd.read_csv(ROOT / "sites" / "data" / "texas-synthetic-2025-15min.csv", parse_dates=["timestamp"])
    hourly = frame.set_index("timestamp").resample("60min").mean().reset_index()
    hourly.to_csv(tmp / "texas-hourly.csv", index=False, date_format="%Y-%m-%d %H:%M")
    text = (ROOT / "sites" / "texas-hybrid.toml").read_text()
    text = text.replace('file = "data/texas-synthetic-2025-15min.csv"', 'file = "texas-hourly.csv"')
    text = text.replace("step_minutes = 15", "step_minutes = 60")
    path = tmp / "texas-hourly.toml"
    path.write_text(text)
    return path


def run(site: Path, scenario: str, solver: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(site), scenario, solver], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))  # the solver's banner may come first
    med = {k: statistics.median(r[k] for r in runs) for k in ("load", "prepare", "build", "solve", "total")}
    return {"site": site.name, "scenario": scenario, "solver": solver, "steps": runs[0]["steps"],
            "objective": runs[0]["objective"], "status": runs[0]["status"], **{f"{k}_s": v for k, v in med.items()},
            "total_min_s": min(r["total"] for r in runs), "total_max_s": max(r["total"] for r in runs)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cbc", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(ROOT / "sites" / "xinjiang-mine.toml", "hybrid"), (hourly_site(Path(tmp)), "hybrid"),
                 (ROOT / "sites" / "texas-hybrid.toml", "hybrid")]
        for site, scenario in cases:
            for solver in ("highs",) if args.no_cbc else ("highs", "cbc"):
                r = run(site, scenario, solver, args.repeat)
                print(json.dumps(r))
                results.append(r)
    return results


if __name__ == "__main__":
    main()

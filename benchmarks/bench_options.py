"""Scale in cluster options (issue 17 point 3): the Texas hybrid site (35,040 quarter hours)
built a server at a time (``ai.step = "server"``) up to 256, 1,024, 4,096 and 8,192 GPUs, so
that the model chooses among 32 to 1,024 cluster sizes instead of the site's 32 scalable
units.

Measured per case in a fresh process (the same phase timer as the solve benchmarks): prepare
(the options: fabric counts, cable and facility capex), build (the model's arrays) and solve
(HiGHS), medians; the options the model chose among (look-alikes merged) are counted. The
growth exponent is the slope of log(time) against log(options) between the smallest and the
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_GPUS = (256, 1024, 4096, 8192)

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from planner.app.pipeline import Progress, load, solve_scenario
site = sys.argv[1]
loaded, catalog = load(Path(site))
class Phases(Progress):
    def prepared(self, name, inputs):
        global t2
        t2 = time.perf_counter()
    def built(self, name, model):
        global t3
        t3 = time.perf_counter()
t1 = time.perf_counter()
result, _ = solve_scenario(loaded, catalog, "hybrid", cache=None, solver="highs", progress=Phases())
t4 = time.perf_counter()
print(json.dumps({"prepare": t2 - t1, "build": t3 - t2, "solve": t4 - t3, "options": len(result.inputs.options),
                  "gpus": result.chosen.gpus if result.chosen is not None else 0,
                  "objective": result.objective_usd, "status": str(result.status)}))
"""


def make_site(tmp: Path, max_gpus: int) -> Path:
    """The Texas hybrid site, a server at a time up to ``max_gpus``."""
    text = (ROOT / "sites" / "texas-hybrid.toml").read_text()
    for old, new in (('step = "su"', 'step = "server"'), ("max_gpus = 8192", f"max_gpus = {max_gpus}"),
                     ('file = "data/', f'file = "{(ROOT / "sites" / "data").as_posix()}/')):
        if old not in text:
            raise SystemExit(f"sites/texas-hybrid.toml no longer has {old!r}: update benchmarks/bench_options.py")
        text = text.replace(old, new)
    path = tmp / f"texas-{max_gpus}-gpus.toml"
    path.write_text(text)
    return path


def phases(site: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, str(site)], check=True, capture_output=True, text=True,
                             cwd=ROOT).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {"options": runs[0]["options"], "gpus": runs[0]["gpus"], "objective": runs[0]["objective"],
            **{f"{k}_s": statistics.median(r[k] for r in runs) for k in ("prepare", "build", "solve")}}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for max_gpus in MAX_GPUS:
            rows.append({"max_gpus": max_gpus, **phases(make_site(Path(tmp), max_gpus), args.repeat)})
    for r in rows:
        r["build_solve_s"] = r["build_s"] + r["solve_s"]
    small, large = rows[0], max(rows, key=lambda r: r["options"])
    for key in ("build_solve_s", "solve_s", "build_s", "prepare_s"):
        ratio = large[key] / small[key] if small[key] > 0 else float("nan")
        rows[0].setdefault("exponents", {})[key] = math.log(ratio) / math.log(large["options"] / small["options"])
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()

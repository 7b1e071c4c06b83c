"""Scale in cluster options (issue 17 point 3): the Texas hybrid site (35,040 quarter hours)
built a server at a time (``ai.step = "server"``) up to 256, 1,024, 4,096 and 8,192 GPUs, so
that the model chooses among 32 to 1,024 cluster sizes instead of the site's 32 scalable
units.

Measured per case in a fresh process (the phase timer of the solve and scale benchmarks): prepare
(the options: fabric counts, cable and facility capex), build (the model's arrays) and solve
(HiGHS), medians; the options the model chose among (look-alikes merged) are counted. The
growth exponent is the slope of log(time) against log(options) between the smallest and the
largest case: 1 is linear.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import growth_exponents, phases  # noqa: E402  (the same phase timer, in a fresh process, as the step scale)

MAX_GPUS = (256, 1024, 4096, 8192)


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
    rows[0]["exponents"] = growth_exponents(rows, "options", ("build_solve_s", "solve_s", "build_s", "prepare_s"))
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()

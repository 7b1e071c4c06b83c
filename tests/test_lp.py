"""The array-built linear program (planner.model.lp) and its backends: HiGHS from the arrays,
PuLP for CBC and the LP/MPS files; and the CLI's --write-model and --reference-model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from planner.app.cli import main
from planner.model.lp import LinearProgram, Status, solve_highs, solve_pulp, write_model

from .conftest import SITES
from .sitebuilder import site


def _knapsack() -> LinearProgram:
    """max 5a + 4b + 3c + 10  s.t.  2a + 3b + c <= 5,  4a + b + 2c <= 11,  3a + 4b + 2c <= 8,
    a, b, c >= 0 and integer. By hand: (a, b, c) = (2, 0, 1) gives 13 + 10 = 23; no integer
    point does better (5a + 4b + 3c <= 13 by enumeration over a <= 2, b <= 1, c <= 4)."""
    lp = LinearProgram("knapsack", maximise=True, offset=10.0)
    x = lp.columns(["a", "b", "c"], 0, None, integer=True)
    lp.add_cost(x, [5.0, 4.0, 3.0])
    # the rows as three blocks of one, and one entry split in two parts (1 + 1 = 2c) to
    # check that duplicate entries add up
    lp.row("r1", x, [2.0, 3.0, 1.0], None, 5.0)
    lp.rows("r2", ["x"], [0, 0, 0, 0], [x[0], x[1], x[2], x[2]], [4.0, 1.0, 1.0, 1.0], None, 11.0)
    lp.row("r3", x, [3.0, 4.0, 2.0], None, 8.0)
    return lp


def _brute_force() -> float:
    best = -np.inf
    for a in range(4):
        for b in range(3):
            for c in range(9):
                if 2 * a + 3 * b + c <= 5 and 4 * a + b + 2 * c <= 11 and 3 * a + 4 * b + 2 * c <= 8:
                    best = max(best, 5 * a + 4 * b + 3 * c + 10)
    return best


def test_highs_from_the_arrays_finds_the_hand_optimum():
    sol = solve_highs(_knapsack())
    assert sol.status is Status.OPTIMAL
    assert _brute_force() == 23
    assert sol.objective == pytest.approx(23.0)
    assert sol.x.round().tolist() == [2.0, 0.0, 1.0]


def test_cbc_through_pulp_agrees():
    from planner.model.optimize import _cbc

    sol = solve_pulp(_knapsack(), _cbc())
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(23.0)


def test_the_assembled_matrix_sums_duplicates_and_names_rows():
    lp = _knapsack()
    a = lp.arrays()
    assert a["start"].tolist() == [0, 3, 6, 9]
    assert a["value"][3:6].tolist() == [4.0, 1.0, 2.0]  # 1 + 1 on column c
    assert lp.row_names() == ["r1", "r2__x", "r3"]
    assert lp.value(np.array([2.0, 0.0, 1.0])) == pytest.approx(23.0)


def test_infeasible_and_unbounded_are_told_apart():
    lp = LinearProgram("bad")
    x = lp.column("x", 0, None)
    lp.add_cost(x, 1.0)
    assert solve_highs(lp).status is Status.UNBOUNDED
    lp.row("cap", [x], [1.0], 2.0, 1.0)  # 2 <= x <= 1
    assert solve_highs(lp).status is Status.INFEASIBLE


def test_entries_outside_the_block_are_refused():
    lp = LinearProgram("bad")
    x = lp.columns(["x", "y"], 0, 1)
    with pytest.raises(ValueError, match="outside its 1 rows"):
        lp.rows("r", ["a"], [1], [x[0]], [1.0])
    with pytest.raises(ValueError, match="column that does not exist"):
        lp.rows("r", ["a"], [0], [7], [1.0])


@pytest.mark.parametrize("kind", ["lp", "mps"])
def test_written_models_solve_to_the_same_optimum(tmp_path, kind):
    """A file read back by HiGHS: same sense, same optimum, the constant included."""
    import highspy

    path = tmp_path / f"m.{kind}"
    write_model(_knapsack(), path, kind)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(23.0)


SALVAGE_SITE = site(
    "salvage", capacity_mw=1.0,
    price={"kind": "tou", "default_usd_per_mwh": 20.0,
           "periods": [{"start_hour": 8, "end_hour": 20, "usd_per_mwh": 90.0}]},
    miners=[{"model": "antminer-s19", "count": 250, "salvage_usd": 150.0}],
    ai={"server": "dgx-h100", "leaf_switch": "qm9700", "max_gpus": 0, "lease_usd_per_gpu_hour": 2.0},
    economics={"discount_rate": 0.08, "horizon_years": 3, "btc_price_usd": 90000, "network_hashrate_ehs": 700},
    scenarios={"mining": {"kind": "hybrid"}})


@pytest.mark.parametrize("kind", ["lp", "mps"])
def test_write_model_through_the_cli(capsys, write_site, tmp_path, kind):
    """--write-model writes one file per scenario in the output folder (listed in its
    manifest); HiGHS reading the file finds the plan's NPV (x 1e-6: the model's unit),
    the salvage constant included."""
    import highspy

    out = tmp_path / "out"
    code = main(["solve", str(write_site(SALVAGE_SITE)), "-q", "-o", str(out), "--write-model", kind])
    assert code == 0
    npv = json.loads((out / "summary.json").read_text())["scenarios"]["mining"]["npv_usd"]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(out / f"model-mining.{kind}"))
    h.run()
    assert h.getInfo().objective_function_value * 1e6 == pytest.approx(npv, abs=0.01)  # NPV in cents
    assert f"model-mining.{kind}" in json.loads((out / ".planner-output.json").read_text())["files"]


def test_write_model_refuses_an_unknown_format(capsys, tmp_path):
    code = main(["solve", str(SITES / "sichuan-hydro.toml"), "-q", "-o", str(tmp_path / "o"), "--write-model", "xls"])
    assert code == 2
    assert "--write-model" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_reference_model_gives_the_same_plan_through_the_cli(capsys, tmp_path):
    """The per-step reference model (a column per step) against the exact reduction, on
    the 15-minute Texas site: the same NPV to 1e-9 and the same choices."""
    site = SITES / "texas-hybrid.toml"
    docs = []
    for flags in ([], ["--reference-model"]):
        assert main(["solve", str(site), "--json", "-q", "-o", str(tmp_path / f"o{len(flags)}"), *flags]) == 0
        docs.append(json.loads(capsys.readouterr().out))
    reduced, reference = docs
    assert reference["model"].startswith("reference")
    for name, sc in reduced["scenarios"].items():
        ref = reference["scenarios"][name]
        assert sc["npv_usd"] == pytest.approx(ref["npv_usd"], rel=1e-9)
        assert sc["gpus"] == ref["gpus"] and sc["miners"] == ref["miners"]


def test_library_use_writes_nothing_on_stdout():
    """highspy prints HiGHS's banner on file descriptor 1 from C when a solver object is made;
    a program that uses the planner as a library (no command line guarding the descriptor)
    finds only its own output on stdout, in a real process whose stdout is a pipe (C's
    buffered case)."""
    import subprocess
    import sys

    from .conftest import SITES

    code = ("from planner.app.pipeline import load, solve_site\n"
            "from planner.model.cache import PlanCache\n"
            f"loaded, catalog = load({str(SITES / 'sichuan-hydro.toml')!r})\n"
            "run = solve_site(loaded, catalog, ['hybrid'], cache=PlanCache())\n"
            "print('solved', run.results['hybrid'].status.value)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "solved optimal\n"


def test_highs_runs_its_mips_to_a_zero_gap_and_a_sweep_worker_on_one_thread():
    """HiGHS's solving report of a MIP (the knapsack, in a fresh process): the gap tolerance
    is zero, not HiGHS's default 0.01 %; after :func:`use_one_thread` (a sweep's worker) HiGHS
    uses one thread, else as many as it chooses; asked once HiGHS has solved in the process
    (its pool sized), it declines and the next solve still succeeds."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from tests.test_lp import _knapsack\n"
            "from planner.model import lp\n"
            "if sys.argv[1] == 'late':  # HiGHS has sized its pool: asking another size would fail\n"
            "    assert lp.solve_highs(_knapsack()).objective == 23\n"
            "    assert not lp.use_one_thread()\n"
            "if sys.argv[1] == 'one':\n"
            "    assert lp.use_one_thread()\n"
            "gap = {'default': 1e-4}.get(sys.argv[1])  # HiGHS's own default, for contrast\n"
            "sol = lp.solve_highs(_knapsack(), keep_log=True, mip_rel_gap=gap)\n"
            "print(sol.objective)\n"
            "print(sol.log)\n")
    from .conftest import ROOT

    logs = {}
    for how in ("one", "own", "default", "late"):
        done = subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True, timeout=120,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr
        value, log = done.stdout.split("\n", 1)
        assert float(value) == 23.0
        logs[how] = log
    assert "(tolerance: 0.01%)" in logs["default"]  # HiGHS reports a gap tolerance it was given
    assert all("tolerance:" not in logs[how] and "Gap               0%" in logs[how] for how in ("one", "own", "late"))
    assert "using up to 1 workers" not in logs["late"] or "1 logical processors" in logs["late"]
    assert "using up to 1 workers across 1 threads" in logs["one"]
    assert "using up to 1 workers" not in logs["own"] or "1 logical processors" in logs["own"]

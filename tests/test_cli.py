"""The command line as a user runs it: exit codes, outputs and messages."""

from __future__ import annotations

import csv
import json

import pytest

from planner.app.cli import main
from planner.outputs.bom import BOM_COLUMNS

from .conftest import SITES
from .test_cables import check_schedule_readds
from .test_summary_records import check_summary

SUMMARY_KEYS = {
    "status", "gpus", "gpu_servers", "miners", "hashrate_ths", "it_power_mw",
    "facility_power_mw", "grid_capacity_mw", "energy_mwh_per_year", "capex_usd",
    "opex_usd_per_year", "revenue_usd_per_year", "npv_usd", "payback_years",
    "months_to_first_revenue", "switches", "transceivers", "fibers", "mpo_connectors",
    "binding_constraints", "solve_seconds",
}


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("solve", "validate", "catalog"):
        assert command in out


def test_catalog_list_miners(capsys):
    code, out, _ = run(capsys, "catalog", "list", "miners")
    assert code == 0
    rows = [line for line in out.splitlines() if "TH/s" in line]
    assert len(rows) >= 12


def test_catalog_list_line_systems_shows_their_figures(capsys, monkeypatch):
    """The mux's channels, grid and power (passive: 0 W), the amplifier's span and power
    (line-systems.toml)."""
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, "catalog", "list", "line_systems")
    assert code == 0
    assert "mux, 40 channels, 100 GHz, 0 W" in out
    assert "amplifier, 80 km span, 10 W" in out


def test_catalog_show_gives_sources(capsys):
    code, out, _ = run(capsys, "catalog", "show", "dgx-b200")
    assert code == 0
    assert "14300" in out
    assert "source" in out


def test_catalog_show_unknown_suggests(capsys):
    code, _, err = run(capsys, "catalog", "show", "dgx-b20")
    assert code == 2
    assert "did you mean" in err


@pytest.mark.parametrize("site", sorted(p.name for p in SITES.glob("*.toml")))
def test_solve_every_example_site(capsys, tmp_path, catalog, site):
    out_dir = tmp_path / "out"
    # --cables always: the schedule of every example site, the largest included, is re-added below
    code, _out, err = run(capsys, "solve", str(SITES / site), "-o", str(out_dir), "--cables", "always")
    assert code == 0, err
    check_summary((out_dir / "summary.json").read_text())  # the records and docs/summary.schema.json
    doc = json.loads((out_dir / "summary.json").read_text())
    assert {"site", "planner_version", "solver", "scenarios", "recommendation"} <= set(doc)
    for name, scenario in doc["scenarios"].items():
        assert set(scenario) >= SUMMARY_KEYS, name
        # power balance re-derived: facility power never exceeds the grid
        assert scenario["facility_power_mw"] <= scenario["grid_capacity_mw"] + 1e-9
    with (out_dir / "bom.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == BOM_COLUMNS
        rows = list(reader)
    for name, scenario in doc["scenarios"].items():
        servers = sum(float(r["quantity"]) for r in rows
                      if r["scenario"] == name and r["category"] == "gpu_server")
        assert servers == scenario["gpu_servers"]
        switches = sum(float(r["quantity"]) for r in rows
                       if r["scenario"] == name and r["category"] == "switch")
        assert switches == sum(scenario["switches"].values())
        optics = sum(float(r["quantity"]) for r in rows
                     if r["scenario"] == name and r["category"] == "transceiver")
        assert optics == sum(scenario["transceivers"].values())
        # every dollar of the plan's capex is a BOM row, its cables included (priced before the
        # solve from the option's floor plan, or at assumed lengths without halls). Under a
        # hosting contract the plan's capex is the host's scope, and the tenant's rows add up
        # to its own
        for scope, key in (("tenant", "tenant"), ("", "capex_usd")):
            cost = sum(float(r["extended_cost_usd"]) for r in rows
                       if r["scenario"] == name and r["extended_cost_usd"]
                       and (r["scope"] == "tenant") == (scope == "tenant"))
            expected = scenario["capex_by_scope_usd"]["tenant"] if scope else scenario["capex_usd"]
            assert cost == pytest.approx(expected, rel=1e-9, abs=0.01), (name, key)
        # the BOM's cable, trunk and panel rows re-added are the capex's cabling line, to the cent
        cables = [r for r in rows if r["scenario"] == name and r["category"] in ("cable", "structured_cabling")]
        readded = sum(float(r["extended_cost_usd"]) for r in cables if r["extended_cost_usd"])
        assert readded == pytest.approx(scenario["capex_breakdown_usd"].get("cabling", 0.0), abs=0.01), name
        assert bool(readded) == bool(scenario["gpus"]), name  # a cluster buys cables; no cluster, none
        for r in cables:
            if r["extended_cost_usd"]:
                assert "ESTIMATE" in r["source"] and "after the solve" not in r["description"], r
        # every watt of the plan's IT load with the AI is a BOM row: servers, fabric and
        # out-of-band switches, modules, kept miners; and each kept miner's share of a 48-port
        # access switch (the BOM lists the miner network whole, as it stands before the AI too)
        watts = sum(float(r["extended_power_w"]) for r in rows if r["scenario"] == name
                    and r["extended_power_w"] and r["category"] != "switch_mining_access")
        share = catalog.power("sn2201").watts / catalog.switches["sn2201"].ports
        assert watts + scenario["miners"] * share == pytest.approx(scenario["it_power_mw"] * 1e6, abs=1.0)
        # no powered row is left without power, and estimates say so
        for r in rows:
            if r["scenario"] == name and r["category"] in ("gpu_server", "switch", "transceiver", "miner"):
                assert r["unit_power_w"] and r["power_basis"], r
        for key, fig in scenario["power_figures"].items():
            # zero only for a part its vendor states is passive (the athermal mux/demux of an
            # interconnect beyond grey reach, metro-campus), never an estimate
            assert fig["watts"] > 0 or (fig["kind"] != "estimate" and catalog.find(key).kind == "line_systems"), key
            if fig["kind"] == "estimate":
                assert any(w.startswith(f"{key}: power is an estimate") for w in scenario["warnings"])
        # nothing is counted as zero nor left out
        assert not any("not counted" in w or "leaves out" in w for w in scenario["warnings"]), scenario["warnings"]
    check_schedule_readds(out_dir)  # cables.csv re-added gives the BOM's cable lines (issue 21)


def test_solve_json_to_stdout(capsys, tmp_path):
    code, out, _ = run(capsys, "solve", str(SITES / "xinjiang-mine.toml"), "--json",
                       "-o", str(tmp_path / "o"), "--scenario", "hybrid")
    assert code == 0
    doc = json.loads(out)
    assert list(doc["scenarios"]) == ["hybrid"]


def test_validate_ok(capsys):
    code, out, _ = run(capsys, "validate", str(SITES / "greenfield-campus.toml"))
    assert code == 0
    assert "OK (1 scenario)" in out  # greenfield-campus has one scenario: no "1 scenarios"
    code, out, _ = run(capsys, "validate", str(SITES / "texas-hybrid.toml"))
    assert code == 0 and "OK (2 scenarios)" in out


def test_missing_file_is_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "solve", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "file not found" in err
    assert "Traceback" not in err


def test_not_toml_names_line(capsys, write_site):
    path = write_site('schema = 1\nname = "x"\n[grid\ncapacity_mw = 3\n')
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert "site.toml:3" in err and "not valid TOML" in err


def test_unknown_key_has_line_and_suggestion(capsys, write_site):
    text = (SITES / "greenfield-campus.toml").read_text().replace("capacity_mw = 200.0",
                                                                  "capacity_mv = 200.0")
    path = write_site(text)
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("capacity_mv"))
    assert f"site.toml:{line}: grid.capacity_mv: unknown key" in err
    assert "did you mean 'capacity_mw'" in err


def test_misspelt_part_key_suggests(capsys, write_site):
    text = (SITES / "greenfield-campus.toml").read_text().replace('"dgx-h100"', '"dgx-h10"')
    code, _, err = run(capsys, "validate", str(write_site(text)))
    assert code == 2
    assert "ai.server: unknown server 'dgx-h10'" in err
    assert "did you mean 'dgx-h100'" in err


def test_negative_capacity_is_exit_2(capsys, write_site):
    text = (SITES / "greenfield-campus.toml").read_text().replace("capacity_mw = 200.0",
                                                                  "capacity_mw = -5")
    code, _, err = run(capsys, "validate", str(write_site(text)))
    assert code == 2
    assert "grid.capacity_mw" in err and "greater than 0" in err


def test_validate_reports_every_problem_at_once(capsys, write_site):
    text = (SITES / "greenfield-campus.toml").read_text()
    text = text.replace("capacity_mw = 200.0", "capacity_mw = -5").replace(
        "discount_rate = 0.10", "discount_rat = 0.10")
    code, _, err = run(capsys, "validate", str(write_site(text)))
    assert code == 2
    assert "grid.capacity_mw" in err and "economics.discount_rat" in err


def test_validate_reports_schema_and_unknown_parts_in_one_pass(capsys, write_site):
    """A schema error does not hide an unknown catalog part (issue 21 point 7): both are
    reported by one run, each with its key and line, and the same from `solve`."""
    text = (SITES / "texas-hybrid.toml").read_text()
    assert text.count('model = "antminer-s21"') == 1 and text.count("capacity_mw = 100.0") == 1
    text = text.replace('model = "antminer-s21"', 'model = "antminer-s99"').replace(
        "capacity_mw = 100.0", "capacity_mw = -5")
    lines = text.splitlines()
    miner_line = next(i for i, line in enumerate(lines, 1) if "antminer-s99" in line)
    cap_line = next(i for i, line in enumerate(lines, 1) if "capacity_mw = -5" in line)
    path = write_site(text)
    for command in ("validate", "solve"):
        code, out, err = run(capsys, command, str(path), *(["-o", str(path.parent / "o")] if command == "solve"
                                                             else []))
        assert code == 2 and out == ""
        assert f"site.toml:{cap_line}: grid.capacity_mw: Input should be greater than 0" in err
        assert f"site.toml:{miner_line}: fleet.miners[0].model: unknown miner 'antminer-s99'" in err
        assert "Traceback" not in err
    assert not (path.parent / "o").exists()


PEAK_OUTSIDE = '\n[power.coincident_peak]\nusd_per_kw_year = 5\nintervals = ["2030-01-01 00:00"]\n'


@pytest.mark.parametrize("schema_error", [True, False])
def test_validate_reports_schema_parts_and_power_terms_in_one_pass(capsys, write_site, schema_error):
    """One run names a schema error, an unknown part and a bad power-market term, each with
    its key and line (issue 21 point 7): the market terms need no catalog, so an unknown
    part does not hide them, nor does a schema error outside the sections they read."""
    series = (SITES / "data" / "texas-synthetic-2025-15min.csv").as_posix()
    text = (SITES / "texas-hybrid.toml").read_text().replace('"data/texas-synthetic-2025-15min.csv"', f'"{series}"')
    text = text.replace('model = "antminer-s21"', 'model = "antminer-s99"')
    if schema_error:
        text = text.replace('climate = "hot and humid summers"', 'climat = "hot and humid summers"')
    text += PEAK_OUTSIDE  # a coincident peak in 2030, outside the 2025 price series
    lines = text.splitlines()
    miner_line = next(i for i, line in enumerate(lines, 1) if "antminer-s99" in line)
    code, out, err = run(capsys, "validate", str(write_site(text)))
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"site.toml:{miner_line}: fleet.miners[0].model: unknown miner 'antminer-s99'" in err
    assert "power.coincident_peak.intervals[0]" in err and "outside the price series" in err
    if schema_error:
        climate_line = next(i for i, line in enumerate(lines, 1) if line.startswith("climat "))
        assert f"site.toml:{climate_line}: site.climat: unknown key" in err and "did you mean" in err


def test_validate_does_not_guess_power_terms_under_a_refused_power_section(capsys, write_site):
    """A schema error in a section the market checks read (the grid) leaves them unchecked
    rather than checked against a made-up value: the schema's problem alone is named."""
    series = (SITES / "data" / "texas-synthetic-2025-15min.csv").as_posix()
    text = (SITES / "texas-hybrid.toml").read_text().replace("capacity_mw = 100.0", "capacity_mw = -5").replace(
        '"data/texas-synthetic-2025-15min.csv"', f'"{series}"')
    code, _, err = run(capsys, "validate", str(write_site(text + PEAK_OUTSIDE)))
    assert code == 2 and "grid.capacity_mw" in err and "power.coincident_peak" not in err


def test_version_is_the_package_version(capsys):
    import tomllib

    from .conftest import ROOT

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"planner {version}"


def _options():
    """Every option of every command (name path, click parameter, context)."""
    import typer.main

    from planner.app import cli

    cli._add_commands([])
    root = typer.main.get_command(cli.app)
    found: list = []

    def walk(command, path, parent):
        ctx = command.context_class(command, info_name=path[-1], parent=parent)  # typer's own click
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name], ctx)
        found.extend((" ".join(path), p, ctx) for p in command.params if p.param_type_name == "option")

    walk(root, ["planner"], None)
    return found


def test_every_option_has_help_and_shows_its_default():
    """Issue 21 point 7: each option says what it does, and what happens when it is not
    given: its default value, or the words for a default that is not a value (an output
    folder named after the site, every scenario)."""
    options = _options()
    assert len(options) > 60  # the walk reached the subcommands
    for where, param, ctx in options:
        assert (param.help or "").strip(), f"{where} {param.opts[0]} has no help"
        if param.is_flag or param.required or param.opts[0] in ("--help",):
            continue
        record = param.get_help_record(ctx)[1]
        if param.default is not None:
            assert "default:" in record, f"{where} {param.opts[0]} hides its default: {record}"
        elif isinstance(param.show_default, str):
            assert param.show_default in record


def test_shell_completion_completes_commands_and_options(monkeypatch, capsys):
    """The shell's completion script calls the planner with _PLANNER_COMPLETE set (what
    `planner --show-completion bash` installs): it answers with the matching words."""
    monkeypatch.setenv("_PLANNER_COMPLETE", "complete_bash")
    for words, cword, expected in (("planner so", "1", ["solve"]), ("planner solve --grap", "2", ["--graphml"]),
                                   ("planner catalog li", "2", ["list"])):
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", cword)
        with pytest.raises(SystemExit) as done:
            main([])
        assert done.value.code == 0
        assert capsys.readouterr().out.split() == expected


def test_infeasible_exits_1_and_names_the_constraint(capsys, tmp_path, write_site):
    text = (SITES / "greenfield-campus.toml").read_text().replace(
        "power_fraction = 0.8", "power_fraction = 0.8\nmin_gpus = 200000")
    code, _, err = run(capsys, "solve", str(write_site(text)), "-o", str(tmp_path / "o"))
    assert code == 1
    assert "grid capacity" in err or "min GPUs" in err
    check_summary((tmp_path / "o" / "summary.json").read_text())


@pytest.mark.parametrize("command", ["solve", "compare"])
def test_a_solver_stopped_by_its_time_limit_exits_1_naming_the_limit_not_infeasible(capsys, tmp_path, monkeypatch,
                                                                                      command):
    """HiGHS given no time stops without a plan: exit 1 as for an infeasible plan, but the
    message names the solver's status and what to try, and nothing is called infeasible."""
    import planner.model.optimize
    from planner.model.lp import solve_highs

    monkeypatch.setattr(planner.model.optimize, "run_solver",
                        lambda lp, solver="highs": (solve_highs(lp, time_limit=0.0), "highs"))
    code, out, err = run(capsys, command, str(SITES / "sichuan-hydro.toml"), "-o", str(tmp_path / "o"))
    assert code == 1
    assert "Traceback" not in err and "internal error" not in err
    for name in ("retrofit", "hybrid"):
        assert f"{name}: no answer (not_solved): the solver stopped (highs: Time limit reached)" in err, err
    assert "not known to be infeasible" in err and "try --solver cbc" in err
    assert "infeasible:" not in err + out and "no scenario is feasible" not in out
    assert "no scenario has a plan: retrofit not_solved, hybrid not_solved" in out
    if command == "solve":
        check_summary((tmp_path / "o" / "summary.json").read_text())
        doc = json.loads((tmp_path / "o" / "summary.json").read_text())
        for sc in doc["scenarios"].values():
            assert sc["status"] == "not_solved" and sc["solver_status"] == "highs: Time limit reached"
            assert sc["binding_constraints"] == [] and "Time limit reached" in sc["message"]


def test_failed_run_leaves_previous_output_intact(capsys, tmp_path, write_site):
    out_dir = tmp_path / "o"
    code, _, _ = run(capsys, "solve", str(SITES / "greenfield-campus.toml"), "-o", str(out_dir))
    assert code == 0
    before = (out_dir / "summary.json").read_text()
    bad = write_site((SITES / "greenfield-campus.toml").read_text().replace('"dgx-h100"', '"nope"'))
    code, _, _ = run(capsys, "solve", str(bad), "-o", str(out_dir))
    assert code == 2
    assert (out_dir / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".o")) == []


def test_output_into_a_folder_of_other_files_touches_only_its_own(capsys, tmp_path):
    """-o may name a folder that holds the user's files: they stay. A second run replaces
    the files it writes and removes those the first run wrote that it no longer does."""
    out_dir = tmp_path / "project"
    (out_dir / "plots").mkdir(parents=True)
    (out_dir / "notes.txt").write_text("mine")
    (out_dir / "plots" / "sketch.png").write_bytes(b"mine too")
    site = str(SITES / "sichuan-hydro.toml")
    code, _, err = run(capsys, "solve", site, "-o", str(out_dir))
    assert code == 0, err
    assert (out_dir / "plots" / "power-retrofit.png").is_file()
    code, _, err = run(capsys, "solve", site, "-o", str(out_dir), "--scenario", "hybrid")
    assert code == 0, err
    assert not (out_dir / "plots" / "power-retrofit.png").exists()
    assert (out_dir / "plots" / "power-hybrid.png").is_file()
    assert list(json.loads((out_dir / "summary.json").read_text())["scenarios"]) == ["hybrid"]
    assert (out_dir / "notes.txt").read_text() == "mine"
    assert (out_dir / "plots" / "sketch.png").read_bytes() == b"mine too"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".project")]


def test_output_onto_a_file_is_refused(capsys, tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    code, _, err = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(target))
    assert code == 2
    assert "report.txt" in err and "not a folder" in err
    assert "Traceback" not in err
    assert target.read_text() == "keep me"


def test_spreadsheet_formulas_are_neutralised(capsys, tmp_path, write_site):
    """A scenario named like a formula is written with a leading quote in bom.csv."""
    import csv as _csv

    text = (SITES / "greenfield-campus.toml").read_text().replace("[scenarios.greenfield]",
                                                                  '[scenarios."=1+1"]')
    out = tmp_path / "o"
    code, _, err = run(capsys, "solve", str(write_site(text)), "-o", str(out), "--graphml", "never")
    assert code == 0, err
    with (out / "bom.csv").open(newline="") as handle:
        rows = list(_csv.DictReader(handle))
    assert rows and all(r["scenario"] == "'=1+1" for r in rows)


def test_neutralise_rules():
    from planner.outputs.export import neutralise

    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("+1") == "'+1" and neutralise("-1") == "'-1" and neutralise("@x") == "'@x"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("dgx-h100") == "dgx-h100"
    assert neutralise(-1.5) == -1.5  # numbers are left alone


def test_frames_are_written_as_write_csv_would_read_them(tmp_path):
    """dispatch.csv's writer (Arrow) against the csv module reading it back: the same
    cells, text neutralised cell by cell as write_csv does, a text with a comma quoted."""
    import csv as _csv

    import pandas as pd

    from planner.outputs.export import neutralise, write_frame

    names = ["=1+1", "plain", "-x", "@y", "\tz", "a,b", 'say "hi"', "two\nlines"]
    for chosen in (names[:5], names):  # without and with cells that need quotes
        frame = pd.DataFrame({"scenario": chosen, "step": [f"2025-01-01 00:{i:02d}" for i in range(len(chosen))],
                              "mw": [0.0, 1.5, 2.0, -3.25, 1e-7, 123456.789, 0.1, 7.0][: len(chosen)]})
        path = tmp_path / "f.csv"
        write_frame(path, frame)
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(_csv.reader(handle))
        assert rows[0] == ["scenario", "step", "mw"]
        assert [r[0] for r in rows[1:]] == [neutralise(n) for n in chosen]
        assert [float(r[2]) for r in rows[1:]] == frame["mw"].tolist()  # exact, not rounded
        assert path.read_bytes().count(b"\r\n") == len(chosen) + 1  # CRLF ends every record


def test_column_tables_are_written_as_arrow_writes_their_frames(tmp_path):
    """dispatch.csv without pandas (write_columns) against the pandas concatenation of the
    same tables written by Arrow (write_frame): the same bytes, with a column one table
    lacks, text to neutralise, whole numbers, tiny and huge floats, infinities, booleans
    and integers; and text that needs quotes (then written through pandas, as before)."""
    import numpy as np
    import pandas as pd

    from planner.outputs.csv_columns import write_columns
    from planner.outputs.export import write_frame

    rng = np.random.default_rng(7)
    n = 400
    floats = np.concatenate([rng.standard_normal(n - 8) * 10.0 ** rng.integers(-12, 14, n - 8),
                             [0.0, -0.0, 1e-6, 1e-7, 1e10, 9999999999.0, np.inf, -np.inf]])
    first = {"scenario": np.full(n, "=hybrid", dtype=object), "step": np.array([f"2025-01-01 {i}" for i in range(n)]),
             "mw": floats, "count": np.arange(n, dtype=np.int64), "on": rng.random(n) < 0.5}
    second = {"scenario": np.full(3, "retrofit", dtype=object), "step": np.array(["a", "b", "c"]),
              "mw": np.array([1.0, 2.5, 100.0]), "count": np.arange(3, dtype=np.int64), "on": np.ones(3, bool),
              "contract_mw": np.array([3.0, np.nan, 0.25])}
    # columns that repeat few values, as a dispatch's do (each distinct value is spelled once):
    # signed zeros, a firm load, text of which some cells are neutralised and some are not
    third = {"scenario": np.array(["ok", "-x", "@y", "ok", "\tz", "a\0=b"] * 50, dtype=object),
             "step": np.array(["=s", "s"] * 150), "mw": rng.choice([0.0, -0.0, 59.987652, 1e-7, np.nan], 300),
             "count": np.repeat(np.arange(3, dtype=np.int64), 100), "on": np.zeros(300, bool)}
    for tables in ([first, second], [first], [second, {**second, "scenario": np.array(["a,b"] * 3, dtype=object)}],
                   [third, first], [third, {**second, "scenario": np.array(['"q"'] * 3, dtype=object)}]):
        write_columns(tmp_path / "ours.csv", tables)
        write_frame(tmp_path / "arrow.csv", pd.concat([pd.DataFrame(t) for t in tables], ignore_index=True))
        assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "arrow.csv").read_bytes()


def test_float_cells_are_spelled_as_arrow_spells_them():
    """csv_numbers against Arrow's own CSV writer over doubles of every magnitude (random
    bit patterns included): the same text for every one."""
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from planner.outputs.csv_columns import csv_numbers

    rng = np.random.default_rng(11)
    values = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-20, 25, 5000),
                             np.round(rng.random(2000) * 100, 6), rng.integers(-10**12, 10**12, 500).astype(float),
                             np.frombuffer(rng.bytes(8 * 5000), dtype=np.float64)])
    values = values[~np.isnan(values)]
    values = np.concatenate([values, rng.choice(values, 4000), [0.0, -0.0, 0.0, -0.0, 1e-300, -1e-300]])  # repeats
    buf = io.BytesIO()
    pacsv.write_csv(pa.table({"v": values}), buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    assert csv_numbers(values) == buf.getvalue().decode().splitlines()


def _solve_refusing(modules: tuple[str, ...], *args: str):
    """``planner ARGS`` in a child process that refuses to import ``modules`` (figures drawn
    in process), as a CompletedProcess."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {modules!r}:\n"
        "            raise ImportError(name + ' imported by a run that needs none')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from planner.app.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PLANNER_SERIAL_OUTPUTS": "1"})


def test_a_series_site_is_solved_without_pandas(tmp_path):
    """A site with a price series in a plain file (the Texas hybrid: 35,040 quarter hours)
    is read, solved and written (dispatch.csv, the cable schedule cables.csv, the workbook's
    monthly sheet, the figures) without pandas or Arrow, whose imports cost more than the
    rest of the run's reading. Checked in a child process that refuses both imports; its
    dispatch.csv is the file a run with pandas writes (the test above: write_columns against
    write_frame), and its cables.csv has a row per link of the plan's fabric."""
    out = tmp_path / "out"
    proc = _solve_refusing(("pandas", "pyarrow"), "solve", "-q", str(SITES / "texas-hybrid.toml"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = (out / "dispatch.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 35_040  # two scenarios of a year of quarter hours
    assert (out / "plan.xlsx").is_file() and (out / "plots" / "price-dispatch-hybrid.png").is_file()
    import json as _json

    doc = _json.loads((out / "summary.json").read_text())
    links = sum(sum(s["links"].values()) for s in doc["scenarios"].values() if s.get("links"))
    with (out / "cables.csv").open(newline="") as handle:
        assert sum(1 for _ in handle) == 1 + links  # a row per link (a cable leg each), under the header


def test_a_markets_site_is_solved_without_pandas(tmp_path):
    """A site with a fixed-price block, reserve offers and coincident peaks on a plain series
    file (the Texas power contract) reads the steps' calendar and its peak intervals without
    pandas or Arrow: solved and written in a child process that refuses both imports, with
    the same summary as a run in this process (which may import them)."""
    import json as _json

    out = tmp_path / "out"
    site = str(SITES / "texas-power-contract.toml")
    proc = _solve_refusing(("pandas", "pyarrow"), "solve", "-q", site, "--cables", "never", "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "plots" / "peak-week-hybrid.png").is_file()
    assert main(["solve", "-q", site, "--cables", "never", "-o", str(tmp_path / "ref")]) == 0

    def terms(folder):
        h = _json.loads((folder / "summary.json").read_text())["scenarios"]["hybrid"]
        return {k: h[k] for k in ("contract_credits_usd_per_year", "reserve_revenue_usd_per_year",
                                  "coincident_peak_tag_mw", "coincident_peak_usd_per_year", "npv_usd")}

    got, ref = terms(out), terms(tmp_path / "ref")
    assert got == ref and got["coincident_peak_usd_per_year"] > 0 and got["contract_credits_usd_per_year"] != 0


def test_compare_writes_compare_csv(capsys, tmp_path):
    out = tmp_path / "c"
    code, text, _ = run(capsys, "compare", str(SITES / "sichuan-hydro.toml"), "-o", str(out))
    assert code == 0
    import csv as _csv

    with (out / "compare.csv").open(newline="") as handle:
        rows = list(_csv.reader(handle))
    assert rows[0] == ["metric", "retrofit", "hybrid"]
    assert any(r[0] == "NPV, M USD" and float(r[2]) > 0 for r in rows)
    assert "Recommendation" in text
    # values are in their label's unit: the NPV row in M USD, as summary.json gives it in USD
    code, _, _ = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(tmp_path / "s"), "-q")
    import json as _json

    npv = _json.loads((tmp_path / "s" / "summary.json").read_text())["scenarios"]["hybrid"]["npv_usd"]
    row = next(r for r in rows if r[0] == "NPV, M USD")
    assert float(row[2]) == pytest.approx(npv / 1e6)


@pytest.mark.parametrize("args", [
    ["fabric", "--gpus", "16", "--gpus=32", "--server", "dgx-h100", "--switch", "qm9700"],
    ["size", "mining", "--miner", "antminer-s21", "--btc-price", "90000", "--btc-price", "80000",
     "--network-hashrate-ehs", "1000"],
    ["solve", str(SITES / "greenfield-campus.toml"), "--solver", "highs", "--solver", "cbc"],
])
def test_a_repeated_flag_is_refused_not_silently_won(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2
    flag = next(a.split("=")[0] for a in args if a.startswith("--") and sum(
        b.split("=")[0] == a.split("=")[0] for b in args) > 1)
    assert f"{flag} is given 2 times" in err
    assert out == ""


def test_repeatable_options_stay_repeatable(capsys, tmp_path):
    code, _, err = run(capsys, "solve", str(SITES / "greenfield-campus.toml"), "--scenario", "greenfield",
                       "--scenario", "greenfield", "-q", "-o", str(tmp_path / "o"))
    assert code == 0 and "given 2 times" not in err


def test_fleet_shares_that_do_not_add_up_are_refused(capsys):
    code, _, err = run(capsys, "size", "btc-network", "--fleet", "antminer-s21:0.6,antminer-s19-xp:0.6",
                       "--hashrate-ehs", "800")
    assert code == 2
    assert "add up to 1.2, not 1" in err


def test_solve_json_stdout_is_json_alone_in_a_real_process(tmp_path):
    """HiGHS writes its banner to file descriptor 1 from C when a solver is made, which an
    in-process capture does not see: run the command as a user does and parse stdout."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "planner", "solve", str(SITES / "sichuan-hydro.toml"),
                           "--json", "-q", "-o", str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["recommendation"]["scenario"]
    assert "HiGHS" not in done.stdout


def test_a_win_within_the_materiality_is_reported_as_a_tie():
    """Two plans 0.2 M USD apart on 568 M USD (0.04 %) are equal within 1 %; what differs
    between them is said instead; 8.4 M USD apart (more than 1 % of 568.4 M USD) they are not."""
    from planner.outputs.records import PlanSummary
    from planner.outputs.summary import recommend

    def plan(**figures):  # only the figures the recommendation reads
        return PlanSummary.model_construct(status="optimal", months_to_first_revenue=0, capex_usd=3.4864e9,
                                           gpus=65_536, **figures)

    scenarios = {"retrofit": plan(npv_usd=568.2e6, miners=0), "hybrid": plan(npv_usd=568.4e6, miners=130)}
    rec = recommend(scenarios, 0.01)
    assert rec.equal_to == ["retrofit"]
    assert "equal within the materiality (1% of the NPV, 5.7 M USD)" in rec.reason
    assert "0.2 M USD ahead" in rec.reason and "miners kept 130 against 0" in rec.reason
    scenarios["retrofit"] = plan(npv_usd=560.0e6, miners=0)
    rec = recommend(scenarios, 0.01)
    assert rec.equal_to == [] and "8.4 M USD above retrofit" in rec.reason


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_solver_log_goes_to_its_file_and_never_to_stdout(capsys, tmp_path, solver):
    """Issue 21 point 1: --solver-log FILE keeps each scenario's solver log, under a line
    naming it; stdout still carries only the JSON asked for."""
    log = tmp_path / "logs" / "solver.log"
    code, out, _err = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(tmp_path / "o"), "--json",
                         "--solver", solver, "--solver-log", str(log))
    assert code == 0
    doc = json.loads(out)
    text = log.read_text()
    headers = [line for line in text.splitlines() if line.startswith("===== scenario ")]
    assert headers == [f"===== scenario {name} ({solver}) =====" for name in doc["scenarios"]]
    sections = text.split("===== scenario ")[1:]
    word = "HiGHS" if solver == "highs" else "CBC"
    for section in sections:
        body = section.split("\n", 1)[1]
        assert len(body.strip().splitlines()) > 5 and (word in body or "rows" in body.lower())
    assert word not in out and "=====" not in out


def test_solver_log_into_a_folder_is_refused(capsys, tmp_path):
    (tmp_path / "taken").mkdir()
    code, _out, err = run(capsys, "compare", str(SITES / "sichuan-hydro.toml"), "-o", str(tmp_path / "o"),
                         "--solver-log", str(tmp_path / "taken"))
    assert code == 2 and "is a folder" in err and "Traceback" not in err


def test_a_one_step_site_is_solved_without_pandas(tmp_path):
    """A site with one price step (the Xinjiang mine: a flat tariff) has no dispatch to
    write: its whole run, figures included, never imports pandas (about half a second of
    a fresh process). Checked in a child process that refuses the import."""
    out = tmp_path / "out"
    proc = _solve_refusing(("pandas",), "solve", "-q", str(SITES / "xinjiang-mine.toml"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "summary.json").is_file() and (out / "plots" / "power-hybrid.png").is_file()


def test_cable_schedule_auto_limit_is_said(capsys, tmp_path, monkeypatch):
    """--cables auto writes cables.csv up to CABLES_AUTO_LINKS links in all the plans; above
    it, no file and a note in summary.json that says how many links and how to get it;
    --cables never writes none and says nothing; a wrong value is exit 2."""
    import planner.app.cli as cli

    site = str(SITES / "texas-hybrid.toml")
    code, _out, err = run(capsys, "solve", site, "-q", "-o", str(tmp_path / "a"))
    assert code == 0, err
    assert (tmp_path / "a" / "cables.csv").is_file()
    monkeypatch.setattr(cli, "CABLES_AUTO_LINKS", 10)
    code, _out, err = run(capsys, "solve", site, "-q", "-o", str(tmp_path / "b"))
    assert code == 0, err
    assert not (tmp_path / "b" / "cables.csv").exists()
    notes = json.loads((tmp_path / "b" / "summary.json").read_text())["notes"]
    assert any(n.startswith("cables.csv not written") and "--cables always" in n for n in notes), notes
    code, _out, err = run(capsys, "solve", site, "-q", "-o", str(tmp_path / "c"), "--cables", "never")
    assert code == 0 and not (tmp_path / "c" / "cables.csv").exists()
    assert not json.loads((tmp_path / "c" / "summary.json").read_text()).get("notes")
    code, _out, err = run(capsys, "solve", site, "-q", "-o", str(tmp_path / "d"), "--cables", "sometimes")
    assert code == 2 and "--cables" in err

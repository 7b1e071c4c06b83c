"""Hostile inputs found by hand (issue 16): each one gets exit 2 and a message naming the
file and key, never an internal error. Kept as regressions."""

from __future__ import annotations

import os

import pytest

from planner.cli import main

from .conftest import SITES


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_byte_order_mark_is_read(capsys, tmp_path):
    site = tmp_path / "bom.toml"
    site.write_bytes(b"\xef\xbb\xbf" + (SITES / "greenfield-campus.toml").read_bytes())
    code, _, err = run(capsys, "validate", str(site))
    assert code == 0, err


def test_deeply_nested_arrays_are_refused(capsys, tmp_path):
    site = tmp_path / "deep.toml"
    site.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2 and "too deeply" in err


def test_a_device_or_a_fifo_is_refused_not_read_forever(capsys, tmp_path):
    fifo = tmp_path / "site.toml"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "validate", str(fifo))
    assert code == 2 and "not a regular file" in err
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    code, _, err = run(capsys, "validate", str(link))
    assert code == 2 and "not a regular file" in err


def test_an_oversized_file_is_refused(capsys, tmp_path):
    from planner.tomlio import MAX_BYTES

    site = tmp_path / "big.toml"
    with site.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2 and "at most" in err


def test_escape_sequences_and_markup_in_names_are_printed_escaped(capsys, tmp_path):
    site = tmp_path / "esc.toml"
    text = (SITES / "greenfield-campus.toml").read_text()
    site.write_text(text.replace("[grid]", '"\\u001b[2J[bold]x" = 1\n[grid]', 1))
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2
    assert "\x1b" not in err and "\\x1b[2J[bold]x" in err


@pytest.mark.parametrize("option", ["--oversubscription", "--uplink-gbps", "--spine-oversubscription"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e300"])
def test_fabric_numbers_out_of_range_are_named(capsys, option, value):
    code, _, err = run(capsys, "fabric", "--gpus", "16", "--server", "dgx-h100", "--switch", "qm9700", option, value)
    assert code == 2 and option in err and "Traceback" not in err


def test_negative_costs_are_refused(capsys, tmp_path):
    site = tmp_path / "neg.toml"
    site.write_text((SITES / "greenfield-campus.toml").read_text() + '\n[costs]\n"dgx-b200" = -1e15\n')
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2 and "costs.dgx-b200" in err and "greater than or equal to 0" in err


def test_one_key_in_two_files_of_one_overlay_folder_is_named(capsys, tmp_path):
    entry = ('[[miner]]\nkey = "twice"\nvendor = "T"\nmodel = "T"\nhashrate_ths = 1\npower_w = 10\n'
             'source = "test"\nas_of = 2024-01-01\n')
    (tmp_path / "a.toml").write_text(entry)
    (tmp_path / "b.toml").write_text(entry)
    code, _, err = run(capsys, "catalog", "list", "miners", "--catalog", str(tmp_path))
    assert code == 2 and "'twice' is also in" in err


@pytest.mark.parametrize("make", ["folder", "latin1"])
def test_the_tui_refuses_a_folder_or_a_non_utf8_file(capsys, tmp_path, make):
    target = tmp_path / "x"
    if make == "folder":
        target.mkdir()
    else:
        target = tmp_path / "x.toml"
        target.write_bytes("name = 'caf\xe9'".encode("latin-1"))
    code, _, err = run(capsys, "tui", str(target))
    assert code == 2 and ("not a regular file" in err or "not UTF-8" in err)


def test_a_series_with_utc_offsets_across_daylight_saving_is_read_on_one_clock(tmp_path):
    """A DST export: local time jumps from 01:59 to 03:00 while the offset changes from -06:00
    to -05:00; on one clock the steps are regular."""
    import datetime as dt

    from planner.catalog import load_catalog
    from planner.inputs import prepare
    from planner.site import load_site

    rows, t = ["timestamp,price_usd_per_mwh"], dt.datetime(2025, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    for i in range(24 * 14):
        u = t + dt.timedelta(hours=i)
        local = u.astimezone(dt.timezone(dt.timedelta(hours=-5 if i >= 24 * 8 else -6)))
        rows.append(f"{local.isoformat(timespec='minutes')},20.0")
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    text = (SITES / "texas-hybrid.toml").read_text()
    text = text.replace('file = "data/texas-synthetic-2025-15min.csv"', 'file = "p.csv"')
    text = text.replace("step_minutes = 15", "step_minutes = 60")
    (tmp_path / "site.toml").write_text(text)
    inputs = prepare(load_site(tmp_path / "site.toml"), load_catalog(), "hybrid")
    assert inputs.profile.steps == 24 * 14


def test_a_scenario_name_a_spreadsheet_would_run_is_neutralised_in_compare_csv(capsys, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text((SITES / "sichuan-hydro.toml").read_text().replace("[scenarios.hybrid]",
                                                                       '[scenarios."=HYPERLINK(1)"]'))
    code, _, err = run(capsys, "compare", str(site), "-o", str(tmp_path / "out"))
    assert code == 0, err
    header = (tmp_path / "out" / "compare.csv").read_text().splitlines()[0]
    assert "'=HYPERLINK(1)" in header and ",=HYPERLINK" not in header


@pytest.mark.parametrize(("old", "new", "key"), [
    ("usd_per_mwh = 39.4", "usd_per_mwh = 1e300", "power_price.usd_per_mwh"),
    ("btc_price_usd = 90000.0", "btc_price_usd = 1e300", "economics.btc_price_usd"),
    ("build_months = 12", "build_months = 9223372036854775807", "build_months"),
    ("origin = [0, 150]", "origin = [0, 1e300]", "buildings[3].origin"),
    ('name = "hall-4"', 'name = "' + "h" * 1_000_000 + '"', "buildings[3].name"),
    ("max_kw_per_rack = 40.0", "max_kw_per_rack = 1e-300\nrack_width_m = 0.0001", "rack_width_m"),
])
def test_absurd_values_are_refused_with_their_key(capsys, tmp_path, old, new, key):
    text = (SITES / "xinjiang-mine.toml").read_text()
    assert old in text
    site = tmp_path / "site.toml"
    site.write_text(text.replace(old, new, 1))
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2 and key in err, err[:500]


def test_a_series_error_quotes_the_file_briefly(capsys, tmp_path):
    """A series pointed at a file that is not a price table (say, a file of secrets on one
    line): the message lists a few column names, each cut short, never the whole file."""
    secret = ",".join(f"SECRET_{i}={'x' * 200}" for i in range(50))
    (tmp_path / "p.csv").write_text(secret + "\n1," + "2," * 49 + "\n")
    text = (SITES / "texas-hybrid.toml").read_text().replace('file = "data/texas-synthetic-2025-15min.csv"',
                                                             'file = "p.csv"')
    (tmp_path / "site.toml").write_text(text)
    code, _, err = run(capsys, "solve", str(tmp_path / "site.toml"), "-o", str(tmp_path / "o"))
    assert code == 2 and "and 38 more" in err
    assert err.count("SECRET_") <= 13 and len(err) < 3000


def test_a_second_run_into_a_locked_output_folder_is_refused(capsys, tmp_path):
    from planner.export import _lock

    out = tmp_path / "out"
    from planner.export import _unlock

    held = _lock(out)  # as a run in progress holds it
    try:
        code, _, err = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(out), "-q")
        assert code == 2 and "another planner run is writing this output folder" in err
        assert not out.exists()
    finally:
        _unlock(held)
    assert not (tmp_path / ".out.lock").exists()
    code, _, err = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(out), "-q")
    assert code == 0, err


def test_temporary_folders_of_a_killed_run_are_cleaned_up_and_a_fifo_manifest_is_no_manifest(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    left = tmp_path / ".out.planner-tmp-killed"
    left.mkdir()
    (left / "bom.csv").write_text("half")
    other = tmp_path / ".out.x.planner-tmp-live"  # another output's: not ours to remove
    other.mkdir()
    os.mkfifo(out / ".planner-output.json")
    code, _, err = run(capsys, "solve", str(SITES / "sichuan-hydro.toml"), "-o", str(out), "-q")
    assert code == 0, err
    assert not left.exists() and other.exists()
    assert (out / "summary.json").is_file() and (out / ".planner-output.json").is_file()


def test_a_meet_me_room_outside_its_hall_is_refused(capsys, tmp_path):
    text = (SITES / "xinjiang-mine.toml").read_text()
    inside = "polygon = [[88, 0], [100, 0], [100, 12], [88, 12]]"
    assert inside in text
    site = tmp_path / "site.toml"
    site.write_text(text.replace(inside, "polygon = [[500, 500], [510, 500], [510, 510], [500, 510]]"))
    code, _, err = run(capsys, "validate", str(site))
    assert code == 2 and "meet-me room" in err and "not inside" in err


def test_a_sweep_of_a_billion_variants_is_refused_before_it_is_built(capsys, tmp_path):
    (tmp_path / "site.toml").write_text((SITES / "sichuan-hydro.toml").read_text())
    axes = "".join(f'[[axes]]\nname = "{n}"\nstart = 1.0\nstop = 2.0\nnum = 1000\n'
                   for n in ("btc_price_usd", "lease_usd_per_gpu_hour", "discount_rate"))
    (tmp_path / "sweep.toml").write_text('base = "site.toml"\nmode = "grid"\n' + axes)
    import time

    start = time.perf_counter()
    code, _, err = run(capsys, "sweep", str(tmp_path / "sweep.toml"), "-o", str(tmp_path / "out"), "--serial")
    assert code == 2 and "1,000,000,000 variants" in err
    assert time.perf_counter() - start < 10


def test_work_that_grows_with_the_input_is_counted_before_it_starts(capsys, tmp_path):
    """A 100 GW grid with one-server steps: over 20,000 cluster sizes to build fabrics for;
    a hall of 10 km2: about 5.8 million rack positions. Both refused in seconds, named."""
    import time

    text = (SITES / "greenfield-campus.toml").read_text()
    site = tmp_path / "site.toml"
    assert 'step = "su"' in text
    site.write_text(text.replace("capacity_mw = 200.0", "capacity_mw = 100000.0").replace(
        'step = "su"', 'step = "server"', 1))
    start = time.perf_counter()
    code, _, err = run(capsys, "solve", str(site), "-o", str(tmp_path / "o"))
    assert code == 2 and "cluster sizes to try" in err, err[-500:]
    assert time.perf_counter() - start < 30

    from planner.layout import LayoutError, rack_slots
    from planner.site import Building

    hall = Building(name="huge", area_m2=1e7, max_kw_per_rack=40)
    with pytest.raises(LayoutError, match="rack positions"):
        rack_slots(hall)

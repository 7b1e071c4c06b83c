"""Prices in time: profiles, dispatch by the threshold rule, power balance at every step."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from planner.errors import InputError
from planner.model.build import build_model
from planner.model.cache import PlanCache
from planner.model.inputs import prepare
from planner.model.optimize import Status, grid_load, solve
from planner.outputs.physics import dispatch_frame
from planner.site.load import load_site

from .conftest import SHARED_DATA
from .sitebuilder import ONE_YEAR, S19_XP, site

ERCOT = SHARED_DATA / "ercot_hb_south_15min_2024-06_2025-03.csv"

def _site(*, capacity: float, miners: int, gpus: int, price: str) -> str:
    """The series site of these tests: one hybrid scenario, a block of S19 XP miners, a
    fixed DGX H100 cluster (``gpus``; 0 for none) priced at 1 USD a part, one undiscounted
    year; ``price`` is the ``[power_price]`` table's text (its sub-tables written
    ``[[power_price.periods]]``, as in a site file)."""
    import tomllib

    table = tomllib.loads(price)
    table.update(table.pop("power_price", {}))
    return site("series site", capacity_mw=capacity, price=table,
                cooling={"mining_pue": 1.0, "ai_pue": 1.0}, miners=[{"model": S19_XP, "count": miners}],
                ai={"server": "dgx-h100", "leaf_switch": "qm9700", "step": "server", "min_gpus": gpus,
                    "max_gpus": gpus, "lease_usd_per_gpu_hour": 2.0},
                economics=ONE_YEAR, scenarios={"hybrid": {"kind": "hybrid"}},
                costs={"dgx-h100": 1, "qm9700": 1, "osfp-800g-2xsr4": 1, "osfp-800g-2xdr4": 1})


# An S19 XP: 3,010 W, plus its share of a 48-port SN2201 access switch (80 W, an estimate)
MINER_MW = (3010 + 80 / 48) / 1e6
BREAKEVEN = 0.045 * 140 / (24 * MINER_MW)  # USD/MWh for an S19 XP at 0.045 USD/TH/day: 87.16


def _series_file(tmp_path, prices, step_minutes=60, name="prices.csv"):
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["timestamp", "price"])
        t = np.datetime64("2025-01-01T00:00")
        for i, p in enumerate(prices):
            w.writerow([str(t + np.timedelta64(i * step_minutes, "m")).replace("T", " "), p])
    return path


def _solve(path, catalog):
    return solve(build_model(prepare(load_site(path), catalog, "hybrid")))


def test_dispatch_follows_the_threshold_rule_when_the_grid_is_ample(tmp_path, write_site, catalog):
    prices = [20, 95, 60, -10, 87, 88, 300, 40] * 21  # a week of hourly steps
    _series_file(tmp_path, prices)
    path = write_site(_site(capacity=10, miners=100, gpus=0,
                                  price='kind = "series"\nfile = "prices.csv"'))
    result = _solve(path, catalog)
    assert result.status is Status.OPTIMAL
    run = result.running["antminer-s19-xp"]
    expected = np.where(np.array(prices) < BREAKEVEN, 100.0, 0.0)
    assert run == pytest.approx(expected)


def test_dispatch_fills_the_headroom_beside_a_firm_ai_load(tmp_path, write_site, catalog):
    """8 DGX H100 (81.6 kW, plus their fabric) stay on; miners fill what is left of 0.3 MW
    when the price pays and stop otherwise; the balance holds at every step."""
    prices = [10, 200, 30, 90] * 42
    _series_file(tmp_path, prices)
    path = write_site(_site(capacity=0.3, miners=200, gpus=64,
                                  price='kind = "series"\nfile = "prices.csv"'))
    result = _solve(path, catalog)
    assert result.status is Status.OPTIMAL
    inp = result.inputs
    load, _ = grid_load(inp, result.option_index, result.miners_before, result.miners_with_ai, result.running)
    assert (load <= inp.profile.capacity_mw + 1e-7).all()
    ai_mw = result.option.it_power_w / 1e6
    headroom_miners = (0.3 - ai_mw) / MINER_MW
    run = result.running["antminer-s19-xp"]
    for p, r in zip(prices, run, strict=True):
        assert r == pytest.approx(min(200, headroom_miners) if p < BREAKEVEN else 0.0, abs=1e-6)
    rows = dispatch_frame(result).to_dict("records")
    assert len(rows) == len(prices)
    for row in rows:
        assert row["grid_import_mw"] == pytest.approx(row["ai_load_mw"] + row["miner_load_mw"])
        assert row["grid_import_mw"] <= row["grid_capacity_mw"] + 1e-6


def test_a_cached_series_is_read_again_when_the_file_changes(tmp_path, write_site, catalog):
    """The TUI and the CLI keep a cache across solves: an edited price file must not be
    served from it. The second file differs in its prices and its length (mtime alone may
    not change within the clock's resolution)."""
    _series_file(tmp_path, [20, 95] * 84)
    path = write_site(_site(capacity=10, miners=100, gpus=0,
                                  price='kind = "series"\nfile = "prices.csv"'))
    cache = PlanCache()
    first = prepare(load_site(path), catalog, "hybrid", cache=cache).profile
    again = prepare(load_site(path), catalog, "hybrid", cache=cache).profile
    assert again.price_usd_per_mwh.tolist() == [20, 95] * 84
    _series_file(tmp_path, [50, 60, 70] * 57)
    edited = prepare(load_site(path), catalog, "hybrid", cache=cache).profile
    assert first.price_usd_per_mwh.tolist() == [20, 95] * 84
    assert edited.price_usd_per_mwh.tolist() == [50, 60, 70] * 57


def test_time_of_use_profile(tmp_path, write_site, catalog):
    price = ('kind = "tou"\ndefault_usd_per_mwh = 40\n'
             '[[power_price.periods]]\nstart_hour = 17\nend_hour = 21\nusd_per_mwh = 150')
    result = _solve(write_site(_site(capacity=10, miners=10, gpus=0, price=price)), catalog)
    run = result.running["antminer-s19-xp"]
    assert list(run) == pytest.approx([10.0] * 17 + [0.0] * 4 + [10.0] * 3)
    # mean price: (20 h x 40 + 4 h x 150) / 24 = 58.33 USD/MWh
    assert result.inputs.price_usd_per_mwh == pytest.approx((20 * 40 + 4 * 150) / 24)


def test_seasonal_capacity_limits_the_dry_months(tmp_path, write_site, catalog):
    price = ('kind = "seasonal"\n'
             '[[power_price.seasons]]\nname = "wet"\nmonths = [6, 7, 8, 9, 10]\nusd_per_mwh = 20\n'
             '[[power_price.seasons]]\nname = "dry"\nmonths = [1, 2, 3, 4, 5, 11, 12]\nusd_per_mwh = 60\n'
             'capacity_mw = 0.5')
    result = _solve(write_site(_site(capacity=1.0, miners=400, gpus=0, price=price)), catalog)
    run = result.running["antminer-s19-xp"]
    assert run[6] == pytest.approx(1.0 / MINER_MW)  # July, wet: the full 1 MW
    assert run[0] == pytest.approx(0.5 / MINER_MW)  # January, dry: 0.5 MW


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ('file = "nope.csv"', "not found"),
        ('file = "prices.csv"\nprice_column = "prise"', "did you mean 'price'"),
        ('file = "gappy.csv"', "not a regular 60-minute series"),
        ('file = "nan.csv"', "missing or non-numeric prices"),
    ],
)
def test_bad_series_files(tmp_path, write_site, catalog, edit, message):
    _series_file(tmp_path, [10] * 200)
    _series_file(tmp_path, [10] * 200, step_minutes=60, name="gappy.csv")
    lines = (tmp_path / "gappy.csv").read_text().splitlines()
    (tmp_path / "gappy.csv").write_text("\n".join(lines[:50] + lines[51:]) + "\n")
    _series_file(tmp_path, [10] * 100 + ["x"] + [10] * 99, name="nan.csv")
    path = write_site(_site(capacity=1, miners=1, gpus=0, price='kind = "series"\n' + edit))
    with pytest.raises(InputError) as info:
        prepare(load_site(path), catalog, "hybrid")
    assert message in str(info.value)
    assert "power_price." in str(info.value)


@pytest.mark.skipif(not ERCOT.exists(), reason="shared ERCOT series not present")
def test_real_ercot_series(tmp_path, write_site, catalog):
    """ERCOT HB_SOUTH real-time prices, 28,800 quarter hours: every step solved, no
    aggregation. A 64-GPU AI block stays on; 300 S19 XP fill a 1 MW connection when the
    price is below their breakeven; the balance holds at every quarter hour."""
    price = (f'kind = "series"\nfile = "{ERCOT.as_posix()}"\ntimestamp_column = "timestamp_central"\n'
             'price_column = "hb_south_rtm_usd_per_mwh"\nstep_minutes = 15')
    result = _solve(write_site(_site(capacity=1.0, miners=300, gpus=64, price=price)), catalog)
    assert result.status is Status.OPTIMAL
    inp = result.inputs
    assert inp.profile.steps == 28_800
    prices = inp.profile.price_usd_per_mwh
    assert prices.min() == pytest.approx(-70.24) and prices.max() == pytest.approx(4857.82)
    run = result.running["antminer-s19-xp"]
    headroom = (1.0 - result.option.it_power_w / 1e6) / MINER_MW
    expected = np.where(prices < BREAKEVEN, min(300, headroom), 0.0)
    assert np.abs(run - expected).max() < 1e-5
    load, _ = grid_load(inp, result.option_index, result.miners_before, result.miners_with_ai, result.running)
    assert (load <= 1.0 + 1e-7).all()


def test_pue_follows_the_ambient_temperature(tmp_path, write_site, catalog):
    """PUE_t = PUE + 0.02 x max(0, T - 20): at 35 C the 1.0 PUE becomes 1.3 for the AI
    and the miners alike; miners fill what the hotter AI leaves of the connection."""
    from planner.energy.economics import npv
    from planner.outputs.physics import cash_flows

    temps = [10, 35, 25, 40] * 42
    path = tmp_path / "prices.csv"
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["timestamp", "price", "temp"])
        t = np.datetime64("2025-01-01T00:00")
        for i, temp in enumerate(temps):
            w.writerow([str(t + np.timedelta64(i * 60, "m")).replace("T", " "), 30.0, temp])
    text = _site(capacity=0.3, miners=200, gpus=64, price='kind = "series"\nfile = "prices.csv"')
    text = text.replace("ai_pue = 1.0",
                        'ai_pue = 1.0\ntemperature = { column = "temp", above_c = 20, per_degree = 0.02 }')
    result = _solve(write_site(text), catalog)
    inp = result.inputs
    delta = 0.02 * np.maximum(0, np.array(temps) - 20)
    assert inp.profile.delta() == pytest.approx(delta)
    it = result.option.it_power_w / 1e6
    run = result.running["antminer-s19-xp"]
    expected = np.minimum(200, (0.3 - it * (1 + delta)) / (MINER_MW * (1 + delta)))
    assert run == pytest.approx(expected, abs=1e-6)
    assert npv(cash_flows(result), inp.discount_rate) == pytest.approx(result.objective_usd, rel=1e-9)


def test_interruptible_ai_sheds_the_price_spikes(tmp_path, write_site, catalog):
    """8 DGX H100 (64 GPUs at 3 USD x 1.0 utilisation = 192 USD an hour) draw about
    85 kW at PUE 1: an hour of them is worth running below about 2,260 USD/MWh. With
    interruptible = true they stop in the 5,000 USD/MWh steps, and the miners may use
    the grid there (but do not: the price is above their breakeven)."""
    from planner.energy.economics import npv
    from planner.outputs.physics import cash_flows, dispatch_frame

    prices = [30, 5000, 30, 100] * 42
    _series_file(tmp_path, prices)
    text = _site(capacity=0.3, miners=100, gpus=64, price='kind = "series"\nfile = "prices.csv"')
    text = text.replace("lease_usd_per_gpu_hour = 2.0", "lease_usd_per_gpu_hour = 3.0\nutilization = 1.0\n"
                        "interruptible = true")
    result = _solve(write_site(text), catalog)
    inp, opt = result.inputs, result.option
    on = inp.ai_on(opt)
    it = (opt.server_power_w + opt.network_power_w) / 1e6
    assert list(on) == [it * p < 64 * 3.0 for p in prices]
    assert not on[1] and on[0] and on[3]
    rows = dispatch_frame(result).to_dict("records")
    assert rows[1]["ai_load_mw"] == 0 and rows[0]["ai_load_mw"] > 0
    assert inp.ai_hours_year(opt) == pytest.approx(8760 * 3 / 4)
    assert npv(cash_flows(result), inp.discount_rate) == pytest.approx(result.objective_usd, rel=1e-9)


@pytest.mark.parametrize(("how", "day_weights"), [("scale", None), ("repeat", None)])
def test_a_300_day_series_stands_for_a_year_as_the_site_says(tmp_path, write_site, catalog, how, day_weights):
    """300 days of hourly prices (7,200 h): day d costs d USD/MWh. 'scale' weighs every hour
    8,760 / 7,200 = 1.2167 h; 'repeat' lays the series end to end: 8,760 h = 7,200 + 1,560,
    so the first 65 days count twice. Energy-weighted mean prices by hand:
    scale: mean of 0..299 = 149.5; repeat: (sum 0..299 + sum 0..64) x 24 / 8,760."""
    prices = [d for d in range(300) for _ in range(24)]
    _series_file(tmp_path, prices)
    price = f'kind = "series"\nfile = "prices.csv"\nyear = "{how}"'
    result = _solve(write_site(_site(capacity=1.0, miners=1, gpus=0, price=price)), catalog)
    profile = result.inputs.profile
    assert profile.hours.sum() == pytest.approx(8760.0)
    expected = 149.5 if how == "scale" else (sum(range(300)) + sum(range(65))) * 24 / 8760
    assert profile.mean_price == pytest.approx(expected)
    cov = profile.coverage
    assert cov.hours == 7200 and cov.factor == pytest.approx(8760 / 7200) and not cov.full_year
    assert cov.start.startswith("2025-01-01 00:00") and cov.end.startswith("2025-10-27 23:00")
    assert any("the series covers" in w and "7,200 h" in w for w in result.inputs.warnings)


def test_a_series_longer_than_a_year_is_cut_when_repeated(tmp_path, write_site, catalog):
    """400 days, repeat: the year is the first 365 days (8,760 h); the rest is left out."""
    prices = [1.0] * (365 * 24) + [1000.0] * (35 * 24)
    _series_file(tmp_path, prices)
    price = 'kind = "series"\nfile = "prices.csv"\nyear = "repeat"'
    result = _solve(write_site(_site(capacity=1.0, miners=1, gpus=0, price=price)), catalog)
    profile = result.inputs.profile
    assert profile.steps == 8760 and profile.hours.sum() == pytest.approx(8760.0)
    assert profile.mean_price == pytest.approx(1.0)
    assert "cut at 8,760 h" in profile.coverage.describe()


def test_a_full_year_is_taken_as_it_is(tmp_path, write_site, catalog):
    _series_file(tmp_path, [5.0] * 8760)
    price = 'kind = "series"\nfile = "prices.csv"'
    result = _solve(write_site(_site(capacity=1.0, miners=1, gpus=0, price=price)), catalog)
    assert (result.inputs.profile.hours == 1.0).all()
    assert not any("the series covers" in w for w in result.inputs.warnings)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda rows: rows[:50] + rows[51:], "a gap of 120 minutes before data row 51 (file line 52"),
    (lambda rows: rows[:50] + [rows[49]] + rows[50:], "a repeated timestamp"),
    (lambda rows: rows[:50] + [rows[40]] + rows[50:], "an overlap (time goes back)"),
])
def test_gaps_and_overlaps_are_refused_with_the_row(tmp_path, write_site, catalog, edit, message):
    _series_file(tmp_path, [10] * 200)
    lines = (tmp_path / "prices.csv").read_text().splitlines()
    (tmp_path / "prices.csv").write_text("\n".join([lines[0], *edit(lines[1:])]) + "\n")
    path = write_site(_site(capacity=1, miners=1, gpus=0, price='kind = "series"\nfile = "prices.csv"'))
    with pytest.raises(InputError) as info:
        prepare(load_site(path), catalog, "hybrid")
    assert message in str(info.value)
    assert "file line" in str(info.value)


@pytest.mark.skipif(not ERCOT.exists(), reason="shared ERCOT series not present")
def test_the_ercot_series_reports_its_period(tmp_path, write_site, catalog):
    """2024-06-01 00:00 to 2025-03-27 23:45: 28,800 quarter hours = 7,200 h = 300 days."""
    price = (f'kind = "series"\nfile = "{ERCOT.as_posix()}"\ntimestamp_column = "timestamp_central"\n'
             'price_column = "hb_south_rtm_usd_per_mwh"\nstep_minutes = 15')
    result = _solve(write_site(_site(capacity=1.0, miners=1, gpus=0, price=price)), catalog)
    from planner.outputs.summary import scenario_summary

    cov = scenario_summary(result, catalog).price_coverage
    assert cov.start.startswith("2024-06-01 00:00") and cov.end.startswith("2025-03-27 23:45")
    assert cov.hours_covered == 7200 and cov.year == "scale"
    assert cov.factor == pytest.approx(8760 / 7200)


def _variants() -> dict[str, str]:
    """Series files (header and rows as text) around the plain reader's edges: a week and a
    bit of hourly steps, with one thing changed each."""
    stamps = [str(np.datetime64("2025-01-01T00:00") + np.timedelta64(i, "h")).replace("T", " ") for i in range(200)]
    prices = [f"{20 + (i * 37) % 90}.{i % 100:02d}" for i in range(200)]

    def text(rows, header="timestamp,price,temp_c", end="\n"):
        return end.join([header, *rows]) + end

    plain = [f"{t},{p},{(i % 30) - 5}" for i, (t, p) in enumerate(zip(stamps, prices, strict=True))]
    return {
        "plain": text(plain),
        "crlf": text(plain, end="\r\n"),
        "t separator and seconds": text([r.replace(" ", "T", 1).replace(",", ":00,", 1) for r in plain]),
        "quoted cells": text([f'"{r.split(",")[0]}",{",".join(r.split(",")[1:])}' for r in plain]),
        "byte-order mark": "\ufeff" + text(plain),
        "blank line inside": text(plain[:100] + [""] + plain[100:]),
        "no final line end": text(plain)[:-1],
        "exponent and signs": text([r.replace(prices[i], f"+{float(prices[i]) / 10:g}e1", 1) if i % 3 == 0 else r
                                    for i, r in enumerate(plain)]),
        "spaces around a price": text([r.replace(prices[i], f" {prices[i]}", 1) if i == 7 else r
                                       for i, r in enumerate(plain)]),
        "unicode digits": text([r.replace(prices[i], "\u0661\u0662", 1) if i == 9 else r for i, r in enumerate(plain)]),
        "month 13": text([r.replace("2025-01-02", "2025-13-02", 1) for r in plain]),
        "utc offsets": text([r.replace(" ", "T", 1).replace(",", "+00:00,", 1) for r in plain]),
        "us dates": text([f"1/{1 + i // 24}/2025 {i % 24}:00,{p},{i % 30}" for i, p in enumerate(prices)]),
        "a missing price": text([r.replace(f",{prices[i]},", ",,", 1) if i == 50 else r for i, r in enumerate(plain)]),
        "nan price": text([r.replace(prices[i], "nan", 1) if i == 50 else r for i, r in enumerate(plain)]),
        "a gap": text(plain[:60] + plain[61:]),
        "a ragged row": text([r + ",x" if i == 5 else r for i, r in enumerate(plain)]),
        "duplicate header": text(plain, header="timestamp,price,price"),
        "a missing temperature": text([r.rsplit(",", 1)[0] + "," if i == 3 else r for i, r in enumerate(plain)]),
        "price out of range": text([r.replace(prices[i], "99999", 1) if i == 4 else r for i, r in enumerate(plain)]),
        "too short": text(plain[:100]),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_both_series_readers_give_the_same_profile_or_the_same_message(tmp_path, write_site, catalog, name,
                                                                      monkeypatch):
    """A plain series file is read without pandas (prices._plain_series); every other file
    by pandas. Whichever reader meets a file, the outcome is the one pandas alone gives: the
    same prices, weights, labels, coverage and temperatures, or the same message naming the
    file, key and row (the plain reader hands any file it cannot vouch for to pandas)."""
    import planner.energy.prices as prices

    (tmp_path / "prices.csv").write_bytes(_variants()[name].encode("utf-8"))
    text = _site(capacity=1, miners=1, gpus=0, price='kind = "series"\nfile = "prices.csv"')
    text = text.replace("[cooling]", "[cooling]\ntemperature = { column = \"temp_c\", above_c = 20.0, "
                                      "per_degree = 0.01 }", 1)
    loaded = load_site(write_site(text))

    def outcome():
        try:
            p = prices._series(loaded, 1.0)
        except InputError as exc:
            return str(exc)
        return (p.price_usd_per_mwh.tolist(), p.hours.tolist(), p.labels, p.coverage,
                None if p.pue_delta is None else p.pue_delta.tolist(), p.source)

    both = outcome()
    monkeypatch.setattr(prices, "_plain_series", lambda *args: None)
    assert both == outcome()
    if name in ("plain", "crlf", "t separator and seconds", "quoted cells", "no final line end",
                "exponent and signs"):
        assert not isinstance(both, str) and both[4] is not None  # read, with its temperatures
        monkeypatch.undo()
        assert prices._plain_series(tmp_path / "prices.csv", "timestamp", "price", "temp_c", 60) is not None

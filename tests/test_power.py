"""Power figures: every part a plan buys counts, sourced or as a labelled estimate, never 0."""

from __future__ import annotations

import json

import pytest

from planner.app.cli import main
from planner.parts.catalog import load_catalog

from .conftest import DATA, SITES


@pytest.mark.parametrize("kind", ["switches", "optics", "miners", "servers"])
def test_every_part_a_plan_may_buy_has_a_power_figure(catalog, kind):
    for key in catalog.kind(kind):
        fig = catalog.power(key)
        assert fig is not None and fig.watts > 0, f"{kind} {key} has no power figure"
        if fig.estimated:
            assert fig.basis.startswith("ESTIMATE (")


def test_every_line_system_part_has_a_power_figure_and_a_zero_is_a_sourced_passive_part(catalog):
    """The interconnect's mux/demux units and amplifiers count like any part: a figure for each;
    0 W only for a part its vendor states is passive (a sourced figure, never an estimate)."""
    parts = catalog.kind("line_systems")
    assert {"dwdm-mux-40ch-100ghz", "edfa-c-band-module"} <= set(parts)
    for key in parts:
        fig = catalog.power(key)
        assert fig is not None, f"line-system part {key} has no power figure"
        if fig.watts == 0:
            assert not fig.estimated and "passive" in fig.basis, key
    assert catalog.power("dwdm-mux-40ch-100ghz").watts == 0.0


def test_estimates_carry_their_basis_and_a_consistent_range(catalog):
    estimates = catalog.kind("power_estimates")
    assert {"qm9700", "sn5600", "q3400-ra", "sn2201", "800g-dr8", "osfp-800g-2xfr4", "aec-800g",
            "antminer-s21-hydro"} <= set(estimates)
    for key, e in estimates.items():
        assert catalog.find(key) is not None
        assert any(ch.isdigit() for ch in e.basis), f"{key}: the basis shows no arithmetic"
        assert (e.low_w or e.power_w) <= e.power_w <= (e.high_w or e.power_w), key


def test_a_build_up_estimate_matches_its_arithmetic(catalog):
    # S21 Hyd.: Bitmain's launch figures, 335 TH/s at 16 J/TH
    assert catalog.power("antminer-s21-hydro").watts == pytest.approx(335 * 16)
    assert catalog.miners["antminer-s21-hydro"].power_w is None  # no wall-watt figure is published


def test_a_sourced_figure_wins_over_an_estimate(tmp_path):
    (tmp_path / "switches.toml").write_text(
        '[[switch]]\nkey = "qm9700"\nvendor = "NVIDIA"\nmodel = "QM9700 (test overlay)"\nports = 64\n'
        'port_gbps = 400\nlanes_per_port = 4\nlane_gbps = 100\ncages = 32\nmax_power_w = 1720\n'
        'source = "test overlay"\nas_of = 2024-01-01\n')
    cat = load_catalog([tmp_path])
    fig = cat.power("qm9700")
    assert fig.watts == 1720 and not fig.estimated and fig.label == "datasheet"


def _solve(capsys, path, *extra):
    code = main(["solve", str(path), "--json", "-q", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_a_site_overrides_a_power_figure_and_the_plan_follows(capsys, tmp_path):
    """greenfield-campus builds on QM9700 switches; at 10x their estimated power the same
    fabric's switch power is 10x, and the summary labels the figure as the site's."""
    text = (SITES / "greenfield-campus.toml").read_text()
    base_code, base, err = _solve(capsys, SITES / "greenfield-campus.toml", "-o", str(tmp_path / "a"))
    assert base_code == 0, err
    site = tmp_path / "site.toml"
    site.write_text(text + '\n[power_w]\n"qm9700" = 7470\n')
    for rel in ("data",):
        if (SITES / rel).exists():
            (tmp_path / rel).symlink_to(SITES / rel)
    code, doc, err = _solve(capsys, site, "-o", str(tmp_path / "b"))
    assert code == 0, err
    for name, sc in doc["scenarios"].items():
        fig = sc["power_figures"]["qm9700"]
        assert fig == {"watts": 7470, "kind": "site override", "basis": "site file [power_w]"}
        assert not any(w.startswith("qm9700: power is an estimate") for w in sc["warnings"])
        before = base["scenarios"][name]
        if before["gpus"] == sc["gpus"] and sc["gpus"]:
            switches = sum(sc["switches"].values())
            assert sc["it_power_mw"] - before["it_power_mw"] == pytest.approx(switches * (7470 - 747) / 1e6,
                                                                              abs=1e-6)


def test_an_unknown_part_under_power_w_is_named(capsys, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text((SITES / "greenfield-campus.toml").read_text() + '\n[power_w]\n"qm970" = 800\n')
    code = main(["validate", str(site)])
    _out, err = capsys.readouterr()
    assert code == 2
    assert "power_w.qm970" in err and "unknown part" in err and "qm9700" in err


def test_a_part_without_any_power_figure_is_refused_not_counted_as_zero(capsys, tmp_path):
    site = tmp_path / "site.toml"
    text = (SITES / "greenfield-campus.toml").read_text()
    assert 'leaf_switch = "qm9700"' in text
    site.write_text(text.replace('leaf_switch = "qm9700"', 'leaf_switch = "test-unpowered-switch"'))
    code = main(["solve", str(site), "--catalog", str(DATA / "no_power_catalog"), "-o", str(tmp_path / "o")])
    _out, err = capsys.readouterr()
    assert code == 2
    assert "test-unpowered-switch" in err and "no power figure" in err and "[power_w]" in err
    assert not (tmp_path / "o").exists()


def test_the_fabric_command_counts_switch_power_and_says_it_is_estimated(capsys, catalog):
    """DGX B200, 4 SU on QM9700: 32 leaves + 16 spines (the published table) at the
    QM9700 estimate."""
    code = main(["fabric", "--gpus", "1024", "--server", "dgx-b200", "--switch", "qm9700"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"switches {48 * catalog.power('qm9700').watts / 1e3:,.1f}" in out
    assert "estimate: qm9700 counted at 747 W per unit" in out
    assert "not counted" not in out

"""Catalog schema, provenance and overlays."""

from __future__ import annotations

import tomllib

import pytest

from planner.errors import InputError
from planner.parts.catalog import default_catalog_dir, load_catalog
from planner.parts.models import KINDS, TABLES

from .conftest import DATA


def test_every_raw_entry_has_source_and_as_of():
    """Read the TOML files directly (not through the models) so the check cannot be
    satisfied by a default value."""
    count = 0
    for path in sorted(default_catalog_dir().glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for table, rows in data.items():
            assert table in TABLES, f"{path.name}: unknown table {table}"
            for row in rows:
                count += 1
                assert str(row.get("source", "")).strip(), f"{path.name}: {row.get('key')} has no source"
                assert row.get("as_of"), f"{path.name}: {row.get('key')} has no as_of"
                assert row["key"] == row["key"].lower()
    assert count > 50


def test_bundled_catalog_loads_with_every_kind(catalog):
    for kind in KINDS:
        assert catalog.entries[kind], f"no {kind} in the bundled catalog"


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("accelerators", ["a100-sxm4-80gb", "h100-sxm5", "h200-sxm", "b200", "mi300x"]),
        ("servers", ["dgx-a100", "dgx-h100", "dgx-b200", "dgx-b300", "gb200-nvl72"]),
        ("switches", ["qm9700", "sn5600", "q3400-ra", "sn2201"]),
        ("optics", ["osfp-400g-sr4", "osfp-400g-dr4", "400g-fr4", "osfp-800g-2xsr4",
                    "osfp-800g-2xdr4", "osfp-800g-2xfr4", "800g-dr8", "800g-dr8-lpo",
                    "400zr", "800zr", "dac-800g", "acc-800g", "aec-800g"]),
        ("connectors", ["mpo-12-apc", "mpo-12-upc", "mpo-16-apc", "mpo-24-apc", "mpo-32-apc",
                        "lc-duplex-upc"]),
        ("fibers", ["os2", "om4"]),
    ],
)
def test_required_parts_present(catalog, kind, keys):
    missing = [k for k in keys if k not in catalog.entries[kind]]
    assert not missing


def test_blackwell_or_later_accelerator_present(catalog):
    assert {"b300", "gb200"} & set(catalog.accelerators)


def test_at_least_twelve_miners_with_sources(catalog):
    miners = catalog.miners
    assert len(miners) >= 12
    for m in miners.values():
        assert m.source and m.as_of


def test_miner_efficiency_is_power_over_hashrate(catalog):
    # Antminer S19 XP: 140 TH/s at 3,010 W (Bitmain figures) -> 21.5 J/TH
    s19xp = catalog.miners["antminer-s19-xp"]
    assert s19xp.hashrate_ths == 140
    assert s19xp.power_w == 3010
    assert s19xp.efficiency_j_per_th == pytest.approx(3010 / 140)


def test_published_figures(catalog):
    """Figures as printed in the vendor documents cited in REFERENCES.md."""
    assert catalog.accelerators["h100-sxm5"].power_w == 700
    assert catalog.accelerators["a100-sxm4-80gb"].bf16_dense_tflops == 312
    assert catalog.servers["dgx-h100"].max_power_w == 10200
    assert catalog.servers["dgx-b200"].max_power_w == 14300
    assert catalog.switches["qm9700"].ports == 64
    assert catalog.switches["qm9700"].port_gbps == 400
    assert catalog.switches["sn5600"].ports == 64
    assert catalog.switches["sn5600"].port_gbps == 800
    assert catalog.optics["osfp-800g-2xsr4"].connectors == 2
    assert catalog.optics["osfp-800g-2xsr4"].fibers_lit == 16


def test_connector_fibres_follow_the_standard(catalog):
    c = catalog.entries["connectors"]
    assert c["mpo-12-apc"].item.fibers == 12
    assert c["mpo-16-apc"].item.fibers == 16
    assert c["mpo-24-apc"].item.fibers == 24
    assert c["mpo-32-apc"].item.fibers == 32
    assert c["mpo-12-apc"].item.polish == "apc"


def test_estimates_are_labelled_and_priced_parts_exist(catalog):
    estimates = catalog.entries["estimates"]
    assert estimates
    for entry in estimates.values():
        assert entry.item.basis.strip()
    known = set(catalog.part_keys())
    priced = [k for k in estimates if k in known]
    assert len(priced) >= 10


def test_overlay_adds_and_overrides_by_key():
    base = load_catalog()
    merged = load_catalog([DATA / "catalog_overlay"])
    assert merged.miners["antminer-s19"].hashrate_ths == 90
    assert base.miners["antminer-s19"].hashrate_ths == 95
    assert "overlay-test-miner" in merged.miners
    assert merged.unit_cost("dgx-h100")[0] == 123456
    assert len(merged.miners) == len(base.miners) + 1


def test_later_overlay_wins(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, rate in ((first, 1.0), (second, 2.0)):
        folder.mkdir()
        (folder / "m.toml").write_text(
            f'[[miner]]\nkey = "x"\nvendor = "v"\nmodel = "m"\nhashrate_ths = {rate}\n'
            'source = "test"\nas_of = 2024-01-01\n'
        )
    assert load_catalog([first, second]).miners["x"].hashrate_ths == 2.0


def test_bad_catalog_reports_file_entry_field_and_line():
    with pytest.raises(InputError) as info:
        load_catalog([DATA / "bad_catalog"], bundled=False)
    text = str(info.value)
    assert "bad_catalog/miners.toml:7" in text.replace("\\", "/")
    assert "bad-miner.hashrate_ths" in text
    assert "bad-miner.powr_w" in text
    assert "did you mean 'power_w'" in text
    assert "no-source" in text


@pytest.mark.parametrize(("field", "value", "said"), [
    ("ports", 10_001, "ports = 10,001 is above 10,000"),
    ("max_power_w", 2.5e6, "max_power_w = 2.5e+06 is above 2,000,000"),
    ("max_power_w", 0.5, "max_power_w = 0.5 is below 1"),
])
def test_a_figure_outside_its_range_is_refused_with_file_field_and_reason(tmp_path, field, value, said):
    """One switch in an overlay: 10,000 ports is the limit (the largest chassis have a few
    thousand); a switch draws between 1 W and a rack-scale system's 2 MW."""
    (tmp_path / "switches.toml").write_text(
        '[[switch]]\nkey = "big"\nvendor = "x"\nmodel = "x"\nsource = "a test"\nas_of = 2026-01-01\n'
        f'ports = 64\nport_gbps = 400\n{field} = {value!r}\n'.replace("ports = 64\n", "" if field == "ports" else
                                                                      "ports = 64\n"))
    with pytest.raises(InputError) as info:
        load_catalog([tmp_path], bundled=False)
    text = str(info.value)
    assert "switches.toml" in text and "big" in text and said in text


def test_every_limit_names_a_field_of_some_kind_and_the_bundled_catalog_is_within_them(catalog):
    from planner.parts.models import LIMITS, MINIMA

    fields = {name for model in KINDS.values() for name in model.model_fields}
    assert set(LIMITS) <= fields and {name for _, name in MINIMA} <= fields
    assert {table for table, _ in MINIMA} <= set(TABLES)
    assert sum(len(v) for v in catalog.entries.values()) > 100  # it loaded, every figure checked


def test_a_reference_to_an_unknown_part_names_its_line(tmp_path):
    """The bundled servers file in an overlay, the DGX H100's accelerator misspelt: the
    message names the file, the field, its line and the closest key."""
    text = (default_catalog_dir() / "servers.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    line = lines.index('key = "dgx-h100"') + 1 + next(
        i for i, row in enumerate(lines[lines.index('key = "dgx-h100"'):]) if row.startswith("accelerator ="))
    (tmp_path / "servers.toml").write_text(text.replace('accelerator = "h100-sxm5"', 'accelerator = "h100-sxm"', 1),
                                           encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_catalog([tmp_path])
    assert f"servers.toml:{line}: dgx-h100.accelerator: unknown accelerator 'h100-sxm'" in str(info.value)
    assert "did you mean 'h100-sxm5'?" in str(info.value)

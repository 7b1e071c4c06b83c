"""Compute and energy demand: every expected value worked out by hand from stated inputs."""

from __future__ import annotations

import json

import pytest

from planner.app.cli import main
from planner.energy.compute import (
    ComputeError,
    inference_demand,
    inference_tokens_per_day,
    mining_economics,
    network_demand,
    training_demand,
)

from .conftest import SITES

# H100 SXM5 dense BF16: 989.4 TFLOPS (NVIDIA Hopper architecture whitepaper); DGX H100: 8 GPUs,
# 10.2 kW max (DGX H100 user guide).
DGX_H100_PEAK = 8 * 989.4e12


def test_training_70b_on_2t_tokens(catalog):
    # FLOPs per run = 6 * 70e9 * 2e12 = 8.4e23. One run in 30 days: 2.8e22 FLOPs a day.
    # A server at 40 % delivers 7.9152e15 * 0.4 * 86,400 = 2.73549e20 FLOPs a day, so
    # 2.8e22 / 2.73549e20 = 102.358 servers -> 103 whole servers, 824 GPUs, 1.0506 MW.
    d = training_demand(catalog, "dgx-h100", 70e9, 2e12, 1, 0.4, "bf16", pue=1.2)
    assert d.flops == pytest.approx(8.4e23)
    assert d.flops_per_day == pytest.approx(2.8e22)
    assert d.servers == pytest.approx(2.8e22 / (DGX_H100_PEAK * 0.4 * 86_400))
    assert d.servers == pytest.approx(102.358, rel=1e-5)
    assert d.servers_ceil == 103 and d.gpus == 824
    assert d.it_power_mw == pytest.approx(103 * 10.2e3 / 1e6)
    assert d.facility_power_mw == pytest.approx(1.0506 * 1.2)
    assert d.energy_mwh_per_day == pytest.approx(1.0506 * 1.2 * 24)


def test_sparse_uses_the_sparsity_figure(catalog):
    dense = training_demand(catalog, "dgx-h100", 70e9, 2e12, 1, 0.4, "bf16")
    sparse = training_demand(catalog, "dgx-h100", 70e9, 2e12, 1, 0.4, "bf16", sparse=True)
    # H100 SXM5 BF16: 1,979 TFLOPS with sparsity, 989.4 dense (datasheet and whitepaper)
    assert sparse.server_peak_flops == pytest.approx(8 * 1979e12)
    assert sparse.servers == pytest.approx(dense.servers * 989.4 / 1979)


def test_missing_figure_is_named(catalog):
    # Hopper has no FP4 tensor format: the H100 datasheet gives no FP4 figure.
    with pytest.raises(ComputeError, match="no sourced fp4_dense_tflops"):
        training_demand(catalog, "dgx-h100", 1e9, 1e9, 1, 0.5, "fp4")


def test_inference_users_form():
    # 1e6 users x 10 queries x (50 + 1 x 200 words) x 1.3 tokens/word = 3.25e9 tokens/day
    assert inference_tokens_per_day(1e6, 10, 50, 1, 200, 1.3) == pytest.approx(3.25e9)


def test_inference_servers(catalog):
    # 2 * 7e10 * 1e12 tokens = 1.4e23 FLOPs a day / 2.73549e20 per server = 511.79 servers
    d = inference_demand(catalog, "dgx-h100", 7e10, 1e12, 0.4)
    assert d.flops_per_day == pytest.approx(1.4e23)
    assert d.servers == pytest.approx(1.4e23 / (DGX_H100_PEAK * 0.4 * 86_400))
    assert d.servers_ceil == 512


def test_btc_network_all_s19xp(catalog):
    # 1,000 EH/s = 1e9 TH/s / 140 TH/s = 7,142,857 miners x 3,010 W = 21.5 GW, 516 GWh/day
    d = network_demand(catalog, {"antminer-s19-xp": 1}, hashrate_ehs=1000)
    assert d.miners == pytest.approx(1e9 / 140)
    assert d.power_gw == pytest.approx(21.5)
    assert d.energy_gwh_per_day == pytest.approx(516.0)


def test_btc_network_mix_and_reverse(catalog):
    # half S19 XP (140 TH/s, 3,010 W), half S21 (200 TH/s, 3,500 W) by count:
    # mean 170 TH/s and 3,255 W; 1,000 EH/s -> 5,882,353 miners, 19.147 GW
    d = network_demand(catalog, {"antminer-s19-xp": 1, "antminer-s21": 1}, hashrate_ehs=1000)
    assert d.mean_hashrate_ths == pytest.approx(170)
    assert d.power_gw == pytest.approx(1e9 / 170 * 3255 / 1e9)
    back = network_demand(catalog, {"antminer-s19-xp": 1, "antminer-s21": 1}, power_gw=d.power_gw)
    assert back.hashrate_ehs == pytest.approx(1000)


def test_mining_economics_by_hand(catalog):
    # hashprice 0.045 USD/TH/day; S19 XP earns 6.30 USD/day and uses 0.07224 MWh;
    # at 50 USD/MWh it pays 3.612, margin 2.688; breakeven 87.209 USD/MWh;
    # shutdown BTC price = 100,000 x 3.612 / 6.30 = 57,333.33 USD
    e = mining_economics(catalog, "antminer-s19-xp", 100_000, network_hashrate_ehs=1000,
                         power_price_usd_per_mwh=50)
    assert e.hashprice_usd_per_ph_day == pytest.approx(45.0)
    assert e.revenue_usd_per_day == pytest.approx(6.30)
    assert e.power_cost_usd_per_day == pytest.approx(3.612)
    assert e.breakeven_usd_per_mwh == pytest.approx(87.2093, rel=1e-5)
    assert e.shutdown_btc_price_usd == pytest.approx(57_333.333, rel=1e-6)


def test_pool_fee_lowers_revenue_and_breakeven(catalog):
    e = mining_economics(catalog, "antminer-s19-xp", 100_000, network_hashrate_ehs=1000,
                         pool_fee=0.02, power_price_usd_per_mwh=50)
    assert e.revenue_usd_per_day == pytest.approx(6.30 * 0.98)
    assert e.breakeven_usd_per_mwh == pytest.approx(87.2093 * 0.98, rel=1e-5)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_json_keys_and_scientific_notation(capsys):
    code, out, _ = run(capsys, "size", "train", "--params", "7e10", "--tokens", "2E12",
                       "--server", "dgx-h100", "--utilization", "0.4", "--json")
    assert code == 0
    doc = json.loads(out)
    for key in ("flops", "servers", "servers_ceil", "gpus", "it_power_mw", "facility_power_mw",
                "energy_mwh_per_day"):
        assert key in doc
    assert doc["servers_ceil"] == 103


def test_cli_text_shows_intermediates(capsys):
    code, out, _ = run(capsys, "size", "train", "--params", "7e10", "--tokens", "2e12",
                       "--server", "dgx-h100")
    assert code == 0
    for label in ("FLOPs per run", "FLOPs per day", "server peak", "servers (exact)"):
        assert label in out


def test_cli_mining_json(capsys):
    code, out, _ = run(capsys, "size", "mining", "--miner", "antminer-s19-xp", "--btc-price", "1e5",
                       "--network-hashrate-ehs", "1000", "--power-price-usd-per-mwh", "50", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["hashprice_usd_per_ph_day"] == pytest.approx(45.0)
    assert doc["breakeven_usd_per_mwh"] == pytest.approx(87.2093, rel=1e-5)
    assert doc["shutdown_btc_price_usd"] == pytest.approx(57_333.333, rel=1e-6)


def test_cli_btc_network_json(capsys):
    code, out, _ = run(capsys, "size", "btc-network", "--hashrate-ehs", "1000",
                       "--fleet", "antminer-s19-xp:1", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["miners"] == pytest.approx(1e9 / 140)
    assert doc["power_gw"] == pytest.approx(21.5)
    assert doc["energy_gwh_per_day"] == pytest.approx(516.0)


@pytest.mark.parametrize(
    "args",
    [
        ["size", "train", "--tokens", "2e12", "--server", "dgx-h100"],  # missing --params
        ["size", "train", "--params", "abc", "--tokens", "2e12", "--server", "dgx-h100"],
        ["size", "train", "--params", "-1", "--tokens", "2e12", "--server", "dgx-h100"],
        ["size", "train", "--params", "1e9", "--tokens", "2e12", "--server", "dgx-h100",
         "--precision", "bf61"],
        ["size", "train", "--params", "1e9", "--tokens", "2e12", "--server", "dgx-h100",
         "--utilization", "1.5"],
        ["size", "mining", "--miner", "antminer-s19-xp", "--btc-price", "1e5"],  # no network figure
        ["size", "btc-network", "--fleet", "antminer-s19-xp:x", "--hashrate-ehs", "10"],
        ["size", "btc-network", "--fleet", "antminr-s19:1", "--hashrate-ehs", "10"],
        ["size", "infer", "--params", "1e9", "--server", "dgx-h100"],
    ],
)
def test_cli_bad_arguments_exit_2(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "Traceback" not in err
    assert err.strip()


def test_site_workload_sets_the_minimum(capsys, tmp_path, write_site):
    text = (SITES / "greenfield-campus.toml").read_text().replace(
        "power_fraction = 0.8",
        "power_fraction = 0.8\nworkload = { kind = \"train\", params = 7e10, tokens = 2e12, "
        "runs_per_month = 40, utilization = 0.4 }",
    ).replace("lease_usd_per_gpu_hour = 3.0", "lease_usd_per_gpu_hour = 1.0")
    code, out, _ = run(capsys, "solve", str(write_site(text)), "--json", "-o", str(tmp_path / "o"))
    assert code == 0
    sc = json.loads(out)["scenarios"]["greenfield"]
    # 40 runs: 102.358 x 40 = 4,094.3 servers -> 4,095 whole servers, 32,760 GPUs at least,
    # even though the lease (1 USD/GPU-h) would not pay for them on its own
    assert sc["workload_gpus"] == 32_760
    assert sc["gpus"] >= 32_760
    assert any("min GPUs" in b for b in sc["binding_constraints"]) or sc["gpus"] > 32_760

"""Compute and energy demand of AI workloads and of the bitcoin network.

Training
--------
A dense transformer of N parameters trained on D tokens costs about 6·N·D FLOPs
(2·N per token forward, 4·N backward). A server of peak P FLOP/s at utilisation U
delivers P·U·86,400 FLOPs a day, so R runs a day need

    servers = R · 6·N·D / (P · U · 86,400)

Inference
---------
Serving costs about 2·N FLOPs per token (prompt and generated tokens alike), so T tokens
a day need servers = 2·N·T / (P · U · 86,400). The users-based form counts tokens as
users × queries per user × (words per query + answers per query × words per answer) ×
tokens per word.

Bitcoin network
---------------
A fleet whose shares are by miner count has a mean hashrate h̄ = Σ sᵢ·hᵢ and a mean
power p̄ = Σ sᵢ·pᵢ per miner (shares normalised to 1). A network hashrate H then needs
H / h̄ miners drawing H·p̄/h̄; conversely a power budget W runs W/p̄ miners.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from planner.constants import (
    BLOCK_SUBSIDY_BTC,
    FLOPS_PER_TFLOPS,
    HOURS_PER_DAY,
    HS_PER_EHS,
    SECONDS_PER_DAY,
    THS_PER_EHS,
    THS_PER_PHS,
    W_PER_GW,
    W_PER_MW,
)
from planner.energy.mining import (
    breakeven_usd_per_mwh,
    difficulty_from_hashrate,
    hashprice_usd_per_th_day,
    network_hashrate_hs,
)
from planner.parts.catalog import Catalog
from planner.parts.models import MissingPower, Server

Precision = Literal["tf32", "bf16", "fp16", "fp8", "fp4"]


class ComputeError(ValueError):
    """A demand that cannot be computed from the inputs (e.g. a figure no source gives)."""


def server_peak_flops(server: Server, catalog: Catalog, precision: str, sparse: bool) -> float:
    """Peak FLOP/s of one server: GPUs × per-GPU TFLOPS × 1e12 (dense unless ``sparse``)."""
    if server.accelerator is None or server.accelerator not in catalog.accelerators:
        raise ComputeError(f"server {server.key!r} names no accelerator in the catalog")
    acc = catalog.accelerators[server.accelerator]
    name = f"{precision}_{'sparse' if sparse else 'dense'}_tflops"
    tflops = getattr(acc, name, None)
    if tflops is None:
        have = [f for f in type(acc).model_fields if f.endswith("_tflops") and getattr(acc, f)]
        raise ComputeError(
            f"accelerator {acc.key!r} has no sourced {name} figure"
            + (f" (it has: {', '.join(have)})" if have else "")
        )
    return server.gpus * tflops * FLOPS_PER_TFLOPS


@dataclass(frozen=True)
class ComputeDemand:
    """Servers, GPUs, power and energy a workload needs, with the intermediate figures."""

    kind: str
    server: str
    precision: str
    sparse: bool
    flops: float  # per run (train) or per day (infer)
    flops_per_day: float
    server_peak_flops: float
    utilization: float
    servers: float
    servers_ceil: int
    gpus: int
    it_power_mw: float
    facility_power_mw: float
    energy_mwh_per_day: float
    pue: float
    details: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _watts(catalog: Catalog, key: str) -> float:
    """A part's power per unit: sourced, else its labelled estimate; refused when neither."""
    try:
        return catalog.watts(key)
    except MissingPower as exc:
        raise ComputeError(str(exc)) from None


def _demand(kind: str, server: Server, catalog: Catalog, flops: float, flops_per_day: float,
            precision: str, sparse: bool, utilization: float, pue: float,
            details: dict[str, float]) -> ComputeDemand:
    if not 0 < utilization <= 1:
        raise ComputeError("utilization must be in (0, 1]")
    if pue < 1:
        raise ComputeError("PUE must be >= 1")
    peak = server_peak_flops(server, catalog, precision, sparse)
    servers = flops_per_day / (peak * utilization * SECONDS_PER_DAY)
    ceil = math.ceil(servers - 1e-9)
    it_mw = ceil * _watts(catalog, server.key) / W_PER_MW
    details = {**details, "server_flops_per_day": peak * utilization * SECONDS_PER_DAY}
    return ComputeDemand(
        kind=kind, server=server.key, precision=precision, sparse=sparse, flops=flops,
        flops_per_day=flops_per_day, server_peak_flops=peak, utilization=utilization,
        servers=servers, servers_ceil=ceil, gpus=ceil * server.gpus, it_power_mw=it_mw,
        facility_power_mw=it_mw * pue, energy_mwh_per_day=it_mw * pue * HOURS_PER_DAY, pue=pue,
        details=details,
    )


def training_demand(catalog: Catalog, server: str, params: float, tokens: float,
                    runs_per_month: float, utilization: float, precision: str = "bf16",
                    sparse: bool = False, pue: float = 1.0,
                    days_per_month: float = 30.0) -> ComputeDemand:
    """Servers to train ``runs_per_month`` models of ``params`` parameters on ``tokens``.

    Examples
    --------
    A 70e9-parameter model on 2e12 tokens costs 6 × 70e9 × 2e12 = 8.4e23 FLOPs.
    """
    _positive(params=params, tokens=tokens, runs_per_month=runs_per_month,
              days_per_month=days_per_month)
    flops = 6.0 * params * tokens
    runs_per_day = runs_per_month / days_per_month
    return _demand("train", catalog.servers[server], catalog, flops, flops * runs_per_day,
                   precision, sparse, utilization, pue,
                   {"runs_per_day": runs_per_day, "params": params, "tokens": tokens})


def inference_tokens_per_day(users: float, queries_per_user: float, words_per_query: float,
                             answers_per_query: float, words_per_answer: float,
                             tokens_per_word: float) -> float:
    """Tokens processed a day: users × queries × (query words + answers × answer words) × tokens/word."""
    _positive(users=users, queries_per_user=queries_per_user, tokens_per_word=tokens_per_word)
    words = words_per_query + answers_per_query * words_per_answer
    return users * queries_per_user * words * tokens_per_word


def inference_demand(catalog: Catalog, server: str, params: float, tokens_per_day: float,
                     utilization: float, precision: str = "bf16", sparse: bool = False,
                     pue: float = 1.0) -> ComputeDemand:
    """Servers to serve ``tokens_per_day`` tokens at 2·N FLOPs per token."""
    _positive(params=params, tokens_per_day=tokens_per_day)
    flops = 2.0 * params * tokens_per_day
    return _demand("infer", catalog.servers[server], catalog, flops, flops, precision, sparse,
                   utilization, pue, {"params": params, "tokens_per_day": tokens_per_day})


@dataclass(frozen=True)
class NetworkDemand:
    """Miners, power and energy of a bitcoin network of a given hashrate (or power)."""

    hashrate_ehs: float
    miners: float
    power_gw: float
    energy_gwh_per_day: float
    mean_hashrate_ths: float
    mean_power_w: float
    mean_efficiency_j_per_th: float
    pue: float
    fleet: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


def network_demand(catalog: Catalog, fleet: dict[str, float], hashrate_ehs: float | None = None,
                   power_gw: float | None = None, pue: float = 1.0) -> NetworkDemand:
    """Miners and power for a network hashrate, or hashrate for a power budget.

    ``fleet`` maps miner keys to shares by miner count (normalised here). ``power_gw``
    is facility power (IT × ``pue``) when given.
    """
    if (hashrate_ehs is None) == (power_gw is None):
        raise ComputeError("give exactly one of hashrate (EH/s) or power (GW)")
    total = sum(fleet.values())
    if total <= 0 or any(v < 0 for v in fleet.values()):
        raise ComputeError("fleet shares must be >= 0 and not all zero")
    shares = {k: v / total for k, v in fleet.items()}
    mean_h = sum(s * catalog.miners[k].hashrate_ths for k, s in shares.items())
    mean_p = sum(s * _watts(catalog, k) for k, s in shares.items())
    if hashrate_ehs is not None:
        _positive(hashrate_ehs=hashrate_ehs)
        miners = hashrate_ehs * THS_PER_EHS / mean_h
    else:
        _positive(power_gw=power_gw)
        assert power_gw is not None  # exactly one of the two is given (checked above)
        miners = power_gw * W_PER_GW / pue / mean_p
        hashrate_ehs = miners * mean_h / THS_PER_EHS
    gw = miners * mean_p * pue / W_PER_GW
    return NetworkDemand(hashrate_ehs, miners, gw, gw * HOURS_PER_DAY, mean_h, mean_p, mean_p / mean_h, pue,
                         shares)


@dataclass(frozen=True)
class MiningEconomics:
    """Per-miner daily economics at a BTC price, network difficulty and power price."""

    miner: str
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    difficulty: float
    network_hashrate_ehs: float
    hashprice_usd_per_th_day: float
    hashprice_usd_per_ph_day: float
    revenue_usd_per_day: float
    energy_mwh_per_day: float
    power_cost_usd_per_day: float
    margin_usd_per_day: float
    breakeven_usd_per_mwh: float
    shutdown_btc_price_usd: float | None
    btc_price_usd: float
    pool_fee: float
    power_price_usd_per_mwh: float

    def as_dict(self) -> dict:
        return asdict(self)


def mining_economics(catalog: Catalog, miner: str, btc_price_usd: float,
                     difficulty: float | None = None, network_hashrate_ehs: float | None = None,
                     subsidy_btc: float = BLOCK_SUBSIDY_BTC, fees_btc: float = 0.0, pool_fee: float = 0.0,
                     power_price_usd_per_mwh: float = 0.0) -> MiningEconomics:
    """Hashprice, revenue, power cost and margin of one miner per day.

    Breakeven power price = revenue after pool fee / energy. The shutdown BTC price is the
    price at which revenue equals the power cost: revenue scales linearly with the BTC
    price, so it is btc_price × power cost / revenue.
    """
    if (difficulty is None) == (network_hashrate_ehs is None):
        raise ComputeError("give exactly one of difficulty or network hashrate")
    if not 0 <= pool_fee < 1:
        raise ComputeError("pool fee must be in [0, 1)")
    _positive(btc_price_usd=btc_price_usd)
    m = catalog.miners[miner]
    power_w = _watts(catalog, miner)
    if difficulty is not None:
        d = difficulty
    else:
        assert network_hashrate_ehs is not None  # exactly one of the two is given (checked above)
        d = difficulty_from_hashrate(network_hashrate_ehs)
    _positive(difficulty=d)
    hp = hashprice_usd_per_th_day(d, subsidy_btc, fees_btc, btc_price_usd)
    revenue = m.hashrate_ths * hp * (1 - pool_fee)
    energy = power_w * HOURS_PER_DAY / W_PER_MW
    cost = energy * power_price_usd_per_mwh
    eff = power_w / m.hashrate_ths
    breakeven = breakeven_usd_per_mwh(hp * (1 - pool_fee), eff)
    shutdown = btc_price_usd * cost / revenue if revenue > 0 and cost > 0 else None
    return MiningEconomics(
        miner=miner, hashrate_ths=m.hashrate_ths, power_w=power_w, efficiency_j_per_th=eff,
        difficulty=d, network_hashrate_ehs=network_hashrate_hs(d) / HS_PER_EHS,
        hashprice_usd_per_th_day=hp, hashprice_usd_per_ph_day=hp * THS_PER_PHS,
        revenue_usd_per_day=revenue, energy_mwh_per_day=energy, power_cost_usd_per_day=cost,
        margin_usd_per_day=revenue - cost, breakeven_usd_per_mwh=breakeven,
        shutdown_btc_price_usd=shutdown, btc_price_usd=btc_price_usd, pool_fee=pool_fee,
        power_price_usd_per_mwh=power_price_usd_per_mwh,
    )


def _positive(**values: float | None) -> None:
    for name, value in values.items():
        if value is None or not math.isfinite(value) or value <= 0:
            raise ComputeError(f"{name.replace('_', '-')} must be a positive number, got {value}")

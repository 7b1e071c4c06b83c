"""The business model's part of summary.json: what a host's contract is worth with its tenant
risk (expected, worst-time, capex at risk, the option to mine), who pays which capex, and the
per-MW comparison of mining, hosting and operating GPUs with the break-even figures between
them. The valuation maths are :mod:`planner.energy.hosting`; this module only reads them
back for a solved plan."""

from __future__ import annotations

from typing import Any

import numpy as np

from planner.energy.economics import annuity_factor
from planner.energy.hosting import value_contract
from planner.model.hosting import (
    contracted_kw,
    energy_usd_per_kw_month,
    host_capex,
    host_terms,
    host_valuation,
    plan_capex_usd,
    tenant_capex,
)
from planner.model.optimize import Result, Status
from planner.model.scenario import ClusterOption, MinerBlock, ScenarioInputs


def row_scope(inputs: ScenarioInputs, category: str) -> str:
    """"owner", "host" or "tenant": who pays for a BOM row of this category under the
    scenario's business model. The owner model pays for everything ("owner"); a host pays for the
    facility, the miners and the electrical works, and for the fabric only when the contract
    gives it to the host; the tenant for the servers and, by default, the fabric."""
    if inputs.business_model != "host":
        return "owner"
    if category == "gpu_server":
        return "tenant"
    # the fabric, and the out-of-band network of the GPU servers
    fabric = category in ("switch", "transceiver", "cable", "structured_cabling", "switch_oob", "interconnect")
    if fabric:
        contract = inputs.contract
        return "host" if contract is not None and contract.contract.host_pays_fabric else "tenant"
    return "host"


def business_summary(result: Result, base: dict[str, Any]) -> dict[str, Any]:
    """Keys summary.json adds (or, for a host, overrides) per scenario: ``business_model``,
    ``capex_by_scope_usd``, ``hosting`` (the contract's figures) and ``per_mw``."""
    inp = result.inputs
    out: dict[str, Any] = {"business_model": inp.business_model}
    if result.status is not Status.OPTIMAL:
        return out
    opt = result.chosen
    tenant = float(sum(tenant_capex(inp, opt).values())) if inp.hosting is not None else 0.0
    host = _host_scope_usd(result, base["capex_usd"])
    # "host" is the site's owner in either model; the tenant pays only under a hosting contract
    out["capex_by_scope_usd"] = {"host": host, "tenant": round(tenant, 2)}
    if inp.hosting is not None:
        out["capex_usd"] = host
        out.update(_host_figures(inp, opt, base))
    out["per_mw"] = per_mw(inp, opt)
    return out


def _host_scope_usd(result: Result, capex_usd: float) -> float:
    """The host's (the site owner's) part of the plan's capex ``capex_usd`` (all scopes, as
    summary.json rounds it): the option's capex in the host's scope, and everything beyond the
    option (contracts, markets, moves), which the host pays."""
    opt = result.chosen
    return round(plan_capex_usd(result.inputs, opt) + (capex_usd - opt.capex_total_usd), 2)


def scoped_capex_usd(result: Result, capex_usd: float) -> float:
    """summary.json's ``capex_usd`` from the plan's capex of all scopes: the host's scope under
    a hosting contract, else all of it."""
    return _host_scope_usd(result, capex_usd) if result.inputs.hosting is not None else capex_usd


def renewals_note(inp: ScenarioInputs) -> str:
    """Whether the NPV counts the contract's renewal options, in words: by default
    (renewals_exercised = false) it values the base term only."""
    setup = inp.hosting
    assert setup is not None
    c = setup.contract
    if not c.renewals:
        return "no renewal options"
    options = f"{c.renewals} option{'s' if c.renewals > 1 else ''} of {c.renewal_months} months"
    if not c.renewals_exercised:
        return (f"not counted: the NPV values the {c.term_months}-month base term only; {options} not valued "
                "(hosting.renewals_exercised = true counts them)")
    end = min(inp.ai_start_month, inp.horizon_months) + c.contract_months
    cut = f", cut at the {inp.horizon_months}-month horizon" if end > inp.horizon_months else ""
    return f"counted as exercised: {c.term_months} + {options} = {c.contract_months} months{cut}"


def _host_figures(inp: ScenarioInputs, opt: ClusterOption, base: dict[str, Any]) -> dict[str, Any]:
    """The host's revenue and opex a year, and the ``hosting`` block."""
    setup = inp.hosting
    assert setup is not None
    c = setup.contract
    kw = contracted_kw(opt)
    energy = energy_usd_per_kw_month(inp, opt) * kw * 12
    billed = {"passthrough": energy, "margin": energy * (1 + c.power_margin), "included": 0.0}[c.power]
    rent = c.rent_usd_per_kw_month * kw * 12
    ai_fixed = opt.it_power_w / 1e6 * inp.ai_opex_usd_per_mw_year
    host_fixed = opt.it_power_w / 1e6 * setup.opex_usd_per_mw_year
    block: dict[str, Any] = {"contracted_it_mw": round(kw / 1e3, 6), "rent_usd_per_kw_month": c.rent_usd_per_kw_month,
                             "contract_months": c.contract_months, "renewals_exercised": c.renewals_exercised,
                             "renewals": renewals_note(inp), "power": c.power, "fallback": c.fallback}
    out: dict[str, Any] = {
        "revenue_usd_per_year": round(base["revenue_usd_per_year"] - _owner_lease(inp, opt) + rent + billed, 2),
        "opex_usd_per_year": round(base["opex_usd_per_year"] - ai_fixed + host_fixed, 2),
        "hosting": block,
    }
    if not opt.servers:
        return out
    v = host_valuation(inp, opt)
    capex = sum(host_capex(inp, opt).values())
    npv = base["npv_usd"]
    worst_contract = kw * v.worst_usd_per_kw - capex
    block.update({
        "first_year_rent_usd": round(rent, 2),
        "host_capex_usd": round(capex, 2),
        "tenant_capex_usd": round(sum(tenant_capex(inp, opt).values()), 2),
        "expected_npv_usd": npv,
        "npv_if_tenant_stays_usd": round(npv + kw * (v.value[-1] - v.expected_usd_per_kw), 2),
        "npv_if_tenant_leaves_at_worst_time_usd": round(npv + kw * (v.worst_usd_per_kw - v.expected_usd_per_kw), 2),
        "worst_exit_after_months_paid": v.worst_exit,
        "capex_at_risk_usd": round(min(capex, max(0.0, -worst_contract)), 2),
        "option_to_mine_usd": None,
    })
    if c.fallback == "mine" and setup.miner is not None:
        idle = value_contract(host_terms(inp, opt, "idle"), inp.ai_start_month, inp.horizon_months,
                              inp.discount_rate)
        block["option_to_mine_usd"] = round(kw * (v.expected_usd_per_kw - idle.expected_usd_per_kw), 2)
        block["fallback_miner"] = setup.miner.key
    return out


def _owner_lease(inp: ScenarioInputs, opt: ClusterOption) -> float:
    """The GPU-hour lease revenue a year that summary.json counts for the owner model."""
    return opt.gpus * inp.lease_usd_per_gpu_hour * inp.utilization * inp.ai_hours_year(opt)


# ---- per MW of grid capacity -----------------------------------------------------------


def _representative(inp: ScenarioInputs, opt: ClusterOption) -> ClusterOption | None:
    """The cluster the per-MW figures are worked on: the chosen one, else the largest."""
    if opt.servers:
        return opt
    return max((o for o in inp.options if o.servers), key=lambda o: o.servers, default=None)


def _mining_per_mw(inp: ScenarioInputs, block: MinerBlock, btc_scale: float = 1.0) -> float:
    """Margin a year per MW of grid of one miner block at today's hashprice (x ``btc_scale``),
    running in the steps that pay: (sum_t [R > u_t p_t] (R - u_t p_t) h_t - 12 opex) / max_t u_t."""
    p = inp.profile
    revenue = block.revenue_usd_per_hour * btc_scale
    gain = revenue - np.broadcast_to(block.facility_mw * p.price_usd_per_mwh, (p.steps,))
    year = float((np.where(gain > 0, gain, 0.0) * p.hours).sum()) - 12 * block.opex_usd_per_month
    return year / float(np.max(block.facility_mw))


def per_mw(inp: ScenarioInputs, opt: ClusterOption) -> dict[str, Any]:
    """Margin per MW of grid capacity a year of mining, hosting and operating GPUs, today's
    prices, and the break-even figures between them.

    Per MW of grid (facility power): mining = the best miner block's margin / its facility
    MW; hosting = (12,000 (r_0 + e - o)) / PUE per kW of IT (first-year rent, full lease);
    GPUs = the owner's lease margin a year / the cluster's facility MW. Each less a capital
    charge, capex per MW / A, A = sum of the horizon's monthly discount factors / 12 (the
    years of an annuity: capex spread evenly in present value; for the GPUs over their life
    when ai.gpu_life_years gives one); existing miners carry no capex. The break-evens make
    two of these equal, solving the one that is linear in the figure (rent, GPU-hour price)
    exactly and the BTC price by bisection (miners run only in the steps that pay); the
    hashprice break-even is today's hashprice x B* / B.
    """
    years = annuity_factor(inp.discount_rate, 0, inp.horizon_months) / 12
    out: dict[str, Any] = {"basis": "per MW of grid (facility) capacity, a year, first-year prices, "
                           "less capex / annuity years", "annuity_years": round(years, 6)}
    blocks = list(inp.miners)
    if not blocks and inp.contract is not None and inp.contract.miner is not None:
        m = inp.contract.miner
        blocks = [MinerBlock(m.key, 1, 0.0, 0.0, 0.0, m.revenue_usd_per_hour, m.facility_mw,
                             m.opex_usd_per_month)]
    best = max(blocks, key=lambda b: _mining_per_mw(inp, b), default=None)
    mining = _mining_per_mw(inp, best) if best is not None else None
    rep = _representative(inp, opt)
    gpu = host = None
    host_capex_mw = gpu_capex_mw = None
    if rep is not None:
        fac_mw = rep.it_power_w / 1e6 * rep.pue
        gpu_capex_mw = rep.capex_total_usd / fac_mw
        life = inp.horizon_months if inp.gpu_life_months is None else min(inp.gpu_life_months, inp.horizon_months)
        gpu_years = annuity_factor(inp.discount_rate, 0, life) / 12  # the servers' capex over their life
        gpu = inp.ai_margin_usd_per_month(rep) * 12 / fac_mw - gpu_capex_mw / gpu_years
        if inp.contract is not None:
            t = host_terms(inp, rep)
            host_capex_mw = sum(host_capex(inp, rep).values()) / fac_mw
            per_rent = 12_000 / rep.pue  # USD per MW of grid a year per USD/kW-month
            host = per_rent * (t.rent_usd_per_kw_month + t.power_usd_per_kw_month - t.opex_usd_per_kw_month) \
                - host_capex_mw / years
    out.update({
        "mining_margin_usd_per_mw_year": None if mining is None else round(mining, 2),
        "mining_miner": best.name or best.key if best is not None else None,
        "hosting_margin_usd_per_mw_year": None if host is None else round(host, 2),
        "gpu_margin_usd_per_mw_year": None if gpu is None else round(gpu, 2),
        "hosting_capex_usd_per_mw": None if host_capex_mw is None else round(host_capex_mw, 2),
        "gpu_capex_usd_per_mw": None if gpu_capex_mw is None else round(gpu_capex_mw, 2),
    })
    even: dict[str, float | None] = {}
    if best is not None:
        for name, target in (("hosting", host), ("gpus", gpu)):
            scale = _btc_scale(inp, best, target) if target is not None else None
            even[f"btc_price_usd_mining_equals_{name}"] = None if scale is None else round(
                _btc_price(inp) * scale, 2)
            even[f"hashprice_usd_per_th_day_mining_equals_{name}"] = None if scale is None else round(
                inp.hashprice_usd_per_th_day * scale, 6)
    if rep is not None and inp.contract is not None and host is not None:
        t = host_terms(inp, rep)
        per_rent = 12_000 / rep.pue
        fixed = host - per_rent * t.rent_usd_per_kw_month  # hosting margin less its rent term
        for name, target in (("mining", mining), ("gpus", gpu)):
            even[f"rent_usd_per_kw_month_hosting_equals_{name}"] = None if target is None else round(
                (target - fixed) / per_rent, 4)
    if rep is not None and gpu is not None:
        fac_mw = rep.it_power_w / 1e6 * rep.pue
        per_lease = rep.gpus * inp.utilization * inp.ai_hours_year(rep) / fac_mw  # USD/MW-yr per USD/GPU-h
        fixed = gpu - per_lease * inp.lease_usd_per_gpu_hour
        for name, target in (("hosting", host), ("mining", mining)):
            even[f"gpu_hour_usd_gpus_equal_{name}"] = None if target is None or not per_lease else round(
                (target - fixed) / per_lease, 4)
    out["break_even"] = even
    return out


def _btc_price(inp: ScenarioInputs) -> float:
    """Today's BTC price behind the hashprice."""
    return inp.btc_price_usd


def _btc_scale(inp: ScenarioInputs, block: MinerBlock, target: float) -> float | None:
    """The multiple of today's BTC price at which mining earns ``target`` per MW a year
    (bisection: the margin grows with the price). None beyond 1,000 x today."""
    lo, hi = 0.0, 1000.0
    if _mining_per_mw(inp, block, hi) < target:
        return None
    if _mining_per_mw(inp, block, lo) >= target:
        return 0.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _mining_per_mw(inp, block, mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# The business rows of `planner compare` and compare.csv: (label, path in a scenario's summary, format)
BUSINESS_ROWS: list[tuple[str, tuple[str, ...], str]] = [
    ("business model", ("business_model",), "str"),
    ("capex, host or owner, M USD", ("capex_by_scope_usd", "host"), "musd"),
    ("capex, tenant, M USD", ("capex_by_scope_usd", "tenant"), "musd"),
    ("contracted IT, MW", ("hosting", "contracted_it_mw"), "f2"),
    ("renewal options in the NPV", ("hosting", "renewals"), "str"),
    ("NPV if the tenant stays, M USD", ("hosting", "npv_if_tenant_stays_usd"), "musd"),
    ("NPV, tenant leaves at worst, M USD", ("hosting", "npv_if_tenant_leaves_at_worst_time_usd"), "musd"),
    ("capex at risk, M USD", ("hosting", "capex_at_risk_usd"), "musd"),
    ("option to mine, M USD", ("hosting", "option_to_mine_usd"), "musd"),
    ("mining, M USD/MW-yr", ("per_mw", "mining_margin_usd_per_mw_year"), "musd3"),
    ("hosting, M USD/MW-yr", ("per_mw", "hosting_margin_usd_per_mw_year"), "musd3"),
    ("GPUs, M USD/MW-yr", ("per_mw", "gpu_margin_usd_per_mw_year"), "musd3"),
    ("BTC price: mining = hosting", ("per_mw", "break_even", "btc_price_usd_mining_equals_hosting"), "int"),
    ("BTC price: mining = GPUs", ("per_mw", "break_even", "btc_price_usd_mining_equals_gpus"), "int"),
    ("hashprice: mining = hosting", ("per_mw", "break_even", "hashprice_usd_per_th_day_mining_equals_hosting"),
     "f4"),
    ("rent USD/kW-mo: hosting = mining", ("per_mw", "break_even", "rent_usd_per_kw_month_hosting_equals_mining"),
     "f2"),
    ("rent USD/kW-mo: hosting = GPUs", ("per_mw", "break_even", "rent_usd_per_kw_month_hosting_equals_gpus"), "f2"),
    ("GPU-hour USD: GPUs = hosting", ("per_mw", "break_even", "gpu_hour_usd_gpus_equal_hosting"), "f2"),
    ("GPU-hour USD: GPUs = mining", ("per_mw", "break_even", "gpu_hour_usd_gpus_equal_mining"), "f2"),
]


def business_value(scenario: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in one scenario's summary (None where it is absent)."""
    node: Any = scenario
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node

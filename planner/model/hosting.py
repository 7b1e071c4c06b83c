"""The host business model inside a scenario: the site's [hosting] contract turned into
per-option terms (:class:`planner.energy.hosting.HostTerms`), their valuation, and the
split of an option's capex between the host and the tenant.

The tenant brings the servers and (unless the contract says otherwise) the fabric; the host
pays the facility: the shell, cooling and electrical works and the halls' cooling
conversion. The contracted critical IT load of an option is its IT power (servers, fabric
and management switches, optics: the definition in Core Scientific's releases), so the rent
is linear in the option's MW and its present value enters the option's objective
coefficient (:func:`option_value_usd`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from planner.energy.hosting import HostTerms, HostValuation, mining_margin_by_month, value_contract
from planner.errors import InputError, Problem, display_path
from planner.model.scenario import FallbackMiner, HostSetup

if TYPE_CHECKING:
    from collections.abc import Callable

    from planner.model.scenario import ClusterOption, ScenarioInputs
    from planner.parts.catalog import Catalog
    from planner.site.load import LoadedSite

# capex categories of a cluster option by scope: the host's, and the tenant's
HOST_CAPEX = ("facility", "cooling_conversion")
# the fabric: its switches, optics and cables, and the interconnect of routes beyond grey reach
TENANT_CAPEX = ("servers", "network", "cabling", "interconnect")




def host_setup(loaded: LoadedSite, catalog: Catalog, inputs: ScenarioInputs,
               need_price: Callable[[str, tuple], float]) -> HostSetup:
    """The [hosting] section for one scenario's inputs; InputError when its fall-back to
    mining names no miner the site can price."""
    from planner.network.access import miner_network_w

    site = loaded.site
    contract = site.hosting
    assert contract is not None  # the schema holds a host scenario to it
    shown = display_path(loaded.path)
    opex = contract.host_opex_usd_per_mw_year
    setup = HostSetup(contract, site.economics.ai_opex_usd_per_mw_year if opex is None else opex)
    if contract.fallback != "mine":
        return setup
    key = contract.fallback_miner or (site.fleet.miners[0].model if site.fleet.miners else None)
    if key is None:
        raise InputError([Problem(shown, "hosting.fallback", "a fall-back to mining needs a miner",
                                  loaded.line("hosting", "fallback"),
                                  "name one with hosting.fallback_miner, or give fleet.miners")])
    where = ("hosting", "fallback_miner") if contract.fallback_miner else ("fleet", "miners", 0, "model")
    fig = catalog.power(key)
    if fig is None:
        raise InputError([Problem(shown, ".".join(map(str, where)), f"miner {key!r} has no power figure",
                                  loaded.line(*where))])
    salvage = 0.0
    cost = 0.0
    if contract.fallback_miners == "kept":
        block = next((b for b in site.fleet.miners if b.model == key), None)
        if block is None:
            raise InputError([Problem(shown, "hosting.fallback_miners", f"miners are kept from the fleet but "
                                      f"fleet.miners has no {key!r}", loaded.line("hosting", "fallback_miners"),
                                      "use fallback_miners = \"buy\", or name a fleet miner in fallback_miner")])
        salvage = block.salvage_usd
    else:
        cost = need_price(key, where)
    m = catalog.miners[key]
    econ = site.economics
    watts = fig.watts
    facility = (watts + miner_network_w(catalog, key)) / 1e6 * (site.cooling.mining_pue + inputs.profile.delta())
    revenue = m.hashrate_ths * inputs.hashprice_usd_per_th_day * (1 - econ.pool_fee) / 24
    opex_month = watts / 1e6 * econ.mining_opex_usd_per_mw_year / 12
    factors = np.array([inputs.revenue_factor(month) for month in range(inputs.horizon_months)])
    p = inputs.profile
    margin = mining_margin_by_month(revenue, facility, p.price_usd_per_mwh, p.hours, opex_month, factors)
    setup.miner = FallbackMiner(key, revenue, np.broadcast_to(facility, (p.steps,)).astype(float), opex_month,
                                cost, salvage, margin)
    return setup


def contracted_kw(option: ClusterOption) -> float:
    """The option's contracted critical IT load, kW."""
    return option.it_power_w / 1e3


def host_capex(inputs: ScenarioInputs, option: ClusterOption) -> dict[str, float]:
    """The option's capex the host pays, by category."""
    setup = inputs.contract
    cats = HOST_CAPEX + (("network", "cabling", "interconnect") if setup is not None
                         and setup.contract.host_pays_fabric else ())
    return {k: v for k, v in option.capex_usd.items() if k in cats}


def tenant_capex(inputs: ScenarioInputs, option: ClusterOption) -> dict[str, float]:
    """The option's capex the tenant pays (its servers and, usually, the fabric)."""
    host = host_capex(inputs, option)
    return {k: v for k, v in option.capex_usd.items() if k not in host}


def energy_usd_per_kw_month(inputs: ScenarioInputs, option: ClusterOption) -> float:
    """The AI load's energy cost per kW of contracted IT per month at full lease."""
    kw = contracted_kw(option)
    return inputs.ai_energy_cost_year(option) / 12 / kw if kw else 0.0


def host_terms(inputs: ScenarioInputs, option: ClusterOption, fallback: str | None = None) -> HostTerms:
    """The contract per kW of ``option`` (another ``fallback`` for what-if values)."""
    setup = inputs.contract
    assert setup is not None
    c = setup.contract
    energy = energy_usd_per_kw_month(inputs, option)
    power = {"passthrough": 0.0, "margin": c.power_margin * energy, "included": -energy}[c.power]
    fallback = fallback or c.fallback
    terms = HostTerms(
        rent_usd_per_kw_month=c.rent_usd_per_kw_month, term_months=c.contract_months,
        escalator_per_year=c.escalator_per_year, ramp=tuple((s.month, s.share) for s in c.ramp),
        power_usd_per_kw_month=power, opex_usd_per_kw_month=setup.opex_usd_per_mw_year / 1000 / 12,
        termination_probability_per_year=c.termination_probability_per_year,
        termination_month=c.termination_month, termination_fee_months=c.termination_fee_months,
        fallback=fallback if fallback != "mine" or setup.miner is not None else "idle",
        release_after_months=c.release_after_months,
        release_rent_usd_per_kw_month=c.release_rent_usd_per_kw_month or 0.0)
    miner = setup.miner
    if fallback == "mine" and miner is not None:
        per_kw = miners_per_kw(inputs, option)
        terms = replace(
            terms,
            fallback_cost_usd_per_kw=c.reconversion_usd_per_mw * option.pue / 1000 + per_kw * miner.unit_cost_usd,
            fallback_delay_months=c.reconversion_months,
            fallback_margin_usd_per_kw_month=per_kw * miner.margin_by_month,
            kept_usd_per_kw=per_kw * miner.salvage_usd)
    return terms


def miners_per_kw(inputs: ScenarioInputs, option: ClusterOption) -> float:
    """Fall-back miners per kW of contracted IT: the AI's facility power (IT x PUE) filled
    with miners at their largest facility draw (so they fit in every step)."""
    miner = inputs.contract.miner if inputs.contract is not None else None
    if miner is None:
        return 0.0
    return option.pue / 1000 / miner.max_facility_mw


def host_valuation(inputs: ScenarioInputs, option: ClusterOption) -> HostValuation:
    """The contract's valuation per kW for ``option`` (worked out once per option)."""
    setup = inputs.contract
    assert setup is not None
    # the terms depend on the option only through its energy per kW and its PUE: options
    # alike in both share one valuation
    key = (energy_usd_per_kw_month(inputs, option), option.pue)
    found = setup.memo.get(key)
    if found is None:
        found = setup.memo[key] = value_contract(host_terms(inputs, option), inputs.ai_start_month,
                                                 inputs.horizon_months, inputs.discount_rate)
    return found


def host_value_usd(inputs: ScenarioInputs, option: ClusterOption) -> float:
    """Expected present value of hosting ``option``: contracted kW x the expected value per
    kW, less the host's capex (now). No cluster, no contract: 0."""
    if not option.servers:
        return 0.0
    capex = sum(host_capex(inputs, option).values())
    return contracted_kw(option) * host_valuation(inputs, option).expected_usd_per_kw - capex


def host_flows(inputs: ScenarioInputs, option: ClusterOption) -> np.ndarray:
    """Expected monthly cash flows of hosting ``option`` (indices 0 .. H), host capex at 0."""
    flows = np.zeros(inputs.horizon_months + 1)
    if not option.servers:
        return flows
    flows += contracted_kw(option) * host_valuation(inputs, option).expected_flows
    flows[0] -= sum(host_capex(inputs, option).values())
    return flows


def option_value_usd(inputs: ScenarioInputs, option: ClusterOption) -> float:
    """The objective's value of a cluster option: for a host, the expected value of its
    contract less the host's capex (:func:`host_value_usd`); for the owner, the lease margins
    less the capex (:meth:`ScenarioInputs.owner_value_usd`)."""
    return host_value_usd(inputs, option) if inputs.hosting is not None else inputs.owner_value_usd(option)


def option_values_usd(inputs: ScenarioInputs) -> np.ndarray:
    """:func:`option_value_usd` of every cluster option of the scenario, in order (the
    owner's vectorised: :meth:`ScenarioInputs.owner_values_usd`)."""
    if inputs.hosting is not None:
        return np.array([host_value_usd(inputs, o) for o in inputs.options], dtype=float)
    return inputs.owner_values_usd(inputs.options)


def plan_capex_usd(inputs: ScenarioInputs, option: ClusterOption) -> float:
    """The option's capex the plan pays: all of it for the owner, the host's scope for a host."""
    if inputs.hosting is None:
        return option.capex_total_usd
    return sum(host_capex(inputs, option).values())

"""Turn a validated site and the catalog into the numbers one scenario's model needs
(:func:`prepare`): prices, hashprice, miner blocks, and the cluster options, reused from
the caller's PlanCache when only values they do not depend on changed.

Pure: no solver here. Cluster sizes are enumerated with the fabric builder
(:mod:`planner.model.options`), so every candidate carries the builder's exact counts,
cost and power; the records and their valuation are :mod:`planner.model.scenario`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from planner.constants import HOURS_PER_DAY, MONTHS_PER_YEAR, W_PER_MW
from planner.energy.markets import market_terms
from planner.energy.mining import difficulty_from_hashrate, hashprice_usd_per_th_day
from planner.energy.prices import price_profile
from planner.errors import InputError, Problem, display_path
from planner.model.interim import interim_terms, upgrade_terms
from planner.model.options import (
    OptionsEntry,
    cluster_options,
    distinct_options,
    options_key,
    power_hint,
    scenario_halls,
)
from planner.model.scenario import ClusterOption, MinerBlock, OptionColumns, PhaseTerm, PricedPart, ScenarioInputs
from planner.network.access import miner_network_w
from planner.parts.catalog import Catalog
from planner.parts.models import MissingPower, MissingRole, PowerFigure
from planner.site.load import LoadedSite, check_parts

if TYPE_CHECKING:
    from planner.model.cache import PlanCache
    from planner.site.schema import InterimSupply, Scenario


def price_of(key: str, catalog: Catalog, overrides: dict[str, float]) -> PricedPart | None:
    """Site override, else the catalog's list price or estimate."""
    if key in overrides:
        return PricedPart(key, overrides[key], "site file [costs]")
    found = catalog.unit_cost(key)
    return PricedPart(key, found[0], found[1]) if found else None


def prepare(loaded: LoadedSite, catalog: Catalog, scenario: str, cache: PlanCache | None = None) -> ScenarioInputs:
    """Derive one scenario's inputs; raise InputError for anything missing.

    ``cache`` (a :class:`~planner.model.cache.PlanCache` kept by the caller) reuses the cluster
    options (fabric counts, floor plans) when only values they do not depend on changed,
    e.g. prices or economics between two solves in the TUI or the variants of a sweep.
    """
    site = loaded.site
    shown = display_path(loaded.path)
    problems = check_parts(loaded, catalog) + _check_access_switch(catalog)
    if scenario not in site.scenarios:
        from planner.errors import did_you_mean

        problems.append(Problem(shown, "scenarios", f"no scenario {scenario!r}",
                                loaded.line("scenarios"), did_you_mean(scenario, site.scenarios)))
    if problems:
        raise InputError(problems)
    sc = site.scenarios[scenario]
    ai, econ = site.ai, site.economics
    catalog = catalog.with_power_overrides(site.power_w)
    server_keys = [ai.server] + [k for k in ai.server_choices if k != ai.server]
    for i, key in enumerate(server_keys):
        if catalog.power(key) is None:
            loc = ("ai", "server") if i == 0 else ("ai", "server_choices", ai.server_choices.index(key))
            raise InputError([Problem(shown, ".".join(map(str, loc)), f"server {key!r} has no power figure "
                                      "in the catalog", loaded.line(*loc), power_hint(key))])

    prices: dict[str, PricedPart] = {}

    def need_price(key: str, loc: tuple) -> float:
        priced = price_of(key, catalog, site.costs)
        if priced is None:
            raise InputError([Problem(shown, ".".join(map(str, loc)), f"no unit cost for {key!r}",
                                      loaded.line(*loc),
                                      f"add it under [costs] as \"{key}\" = USD, or in an "
                                      "estimates overlay")])
        prices[key] = priced
        return priced.unit_cost_usd

    capacity = site.grid.usable_mw(sc.grid_capacity_mw)
    d = econ.difficulty or difficulty_from_hashrate(econ.network_hashrate_ehs or 0)
    hp = hashprice_usd_per_th_day(d, econ.block_subsidy_btc, econ.fees_btc_per_block, econ.btc_price_usd)
    if cache is not None:
        cache.use_catalog(catalog)
    profile = price_profile(loaded, capacity, cache.prices if cache is not None else None)

    okey = options_key(loaded, scenario, catalog) if cache is not None else None
    if cache is not None and okey is not None and okey in cache.options:
        entry = cache.options[okey]
        options, warnings, capped_by = entry.options, entry.warnings, entry.capped_by
        min_gpus, workload_gpus = entry.min_gpus, entry.workload_gpus
        prices.update(entry.prices)
    else:
        options, warnings, capped_by, min_gpus, workload_gpus = cluster_options(
            loaded, catalog, scenario, capacity, need_price, cache.hall_slots if cache is not None else None,
            cache.fitters if cache is not None else None, cache is not None and cache.fork_plans,
            cache.meanwhile if cache is not None else None)
        if cache is not None and okey is not None:
            cache.options[okey] = OptionsEntry(options, dict(prices), warnings, capped_by, min_gpus, workload_gpus)
    miners: list[MinerBlock] = []
    if sc.kind != "greenfield":
        blocks = [("miners", i, b.model, b.count, b.salvage_usd) for i, b in enumerate(site.fleet.miners)]
        blocks += [("buy", i, b.model, b.max_count, b.salvage_usd) for i, b in enumerate(site.fleet.buy)]
        for section, i, key, count, salvage in blocks:
            m = catalog.miners[key]
            fig = catalog.power(key)
            if fig is None:
                raise InputError([Problem(shown, f"fleet.{section}[{i}].model",
                                          f"miner {m.key!r} has no power figure in the catalog",
                                          loaded.line("fleet", section, i, "model"), power_hint(key))])
            cost = need_price(key, ("fleet", section, i, "model")) if section == "buy" else 0.0
            watts = fig.watts
            try:
                network = miner_network_w(catalog, key)
            except MissingPower as exc:
                raise InputError([Problem(shown, f"fleet.{section}[{i}].model", str(exc),
                                          loaded.line("fleet", section, i, "model"), power_hint(exc.key))]) from None
            miners.append(MinerBlock(
                f"{m.key}-new" if section == "buy" else m.key, count, watts, m.hashrate_ths, salvage,
                revenue_usd_per_hour=m.hashrate_ths * hp * (1 - econ.pool_fee) / HOURS_PER_DAY,
                facility_mw=(watts + network) / W_PER_MW * (site.cooling.mining_pue + profile.delta()),
                network_w=network,
                opex_usd_per_month=watts / W_PER_MW * econ.mining_opex_usd_per_mw_year / MONTHS_PER_YEAR,
                unit_cost_usd=cost, name=m.key,
                placed=dict(site.fleet.miners[i].buildings) if section == "miners" else {},
            ))
        keys = [b.key for b in miners]
        if len(keys) != len(set(keys)):
            raise InputError([Problem(shown, "fleet", "each miner model may appear once in fleet.miners and "
                                      "once in fleet.buy", loaded.line("fleet"))])
    start = sc.build_months if sc.kind != "greenfield" else max(sc.build_months, sc.grid_queue_months)
    queue = sc.grid_queue_months if sc.kind == "greenfield" else 0  # a new connection: no phase before it
    if sc.phases:
        start = max(max(p.online_month, queue) for p in sc.phases)  # the full cluster is online at the last phase
    expansion = site.grid.expansion
    upgrade = expansion is not None and expansion.ready_months > start
    if upgrade:
        _check_upgrade_bridge(loaded, scenario, start)
    positions = ({b.name: b.miner_positions or 0 for b in site.buildings}
                 if any(b.miner_positions is not None for b in site.buildings) else {})
    distinct_key = (okey, tuple(sorted(positions.items())), tuple(tuple(sorted(b.placed.items())) for b in miners))
    if cache is not None and distinct_key in cache.distinct:
        columns = cache.distinct[distinct_key]
        options = columns.options
    else:
        options = distinct_options(options, positions, miners)
        columns = OptionColumns.of(options)  # what the model reads of each option, read once
        if cache is not None:
            cache.distinct[distinct_key] = columns
    # the figures of the parts these options and miners may buy (the catalog's, with the site's
    # own power figures, which the options' key holds)
    figures_key = (distinct_key, tuple(b.name or b.key for b in miners))
    power = cache.figures.get(figures_key) if cache is not None else None
    if power is None:
        power = power_figures(catalog, options, miners)
        if cache is not None:
            cache.figures[figures_key] = power
    if profile.coverage is not None and not profile.coverage.full_year:
        warnings = warnings | {f"power_price: the series covers {profile.coverage.describe()} "
                               "(power_price.year chooses 'scale' or 'repeat')"}
    inputs = ScenarioInputs(
        site=site.name, scenario=scenario, kind=sc.kind, capacity_mw=capacity,
        profile=profile, ai_pue=site.cooling.ai_pue, mining_pue=site.cooling.mining_pue,
        horizon_months=econ.horizon_years * MONTHS_PER_YEAR, ai_start_month=start,
        discount_rate=econ.discount_rate, lease_usd_per_gpu_hour=ai.lease_usd_per_gpu_hour,
        utilization=ai.utilization, power_fraction=ai.power_fraction,
        ai_opex_usd_per_mw_year=econ.ai_opex_usd_per_mw_year,
        mining_opex_usd_per_mw_year=econ.mining_opex_usd_per_mw_year,
        min_gpus=min_gpus, workload_gpus=workload_gpus, capex_budget_usd=econ.capex_budget_usd,
        hashprice_usd_per_th_day=hp, btc_price_usd=econ.btc_price_usd, pool_fee=econ.pool_fee,
        subsidy_btc=econ.block_subsidy_btc,
        fees_btc=econ.fees_btc_per_block, hashrate_growth=econ.network_hashrate_growth_per_year,
        months_to_halving=econ.months_to_next_halving, options=options, miners=miners,
        prices=prices, power=power, server_key=ai.server, warnings=sorted(warnings), capped_by=capped_by,
        halls=scenario_halls(loaded, scenario), routes=list(site.routes), cabling=site.cabling,
        ai_interruptible=ai.interruptible, expansion_mw=expansion.add_mw if expansion else 0.0,
        expansion_usd=expansion.usd if expansion else 0.0,
        hall_positions=positions,
        move_usd_per_miner=site.fleet.move_usd_per_miner,
        materiality_share=econ.materiality_share,
        markets=market_terms(loaded, profile, queue), columns=columns,
    )
    inputs = replace(inputs, business_model=sc.model)
    if ai.gpu_life_years is not None:
        inputs = replace(inputs, gpu_life_months=round(ai.gpu_life_years * 12), gpu_resale_share=ai.gpu_resale_share)
    if site.hosting is not None:
        from planner.model.hosting import host_setup

        inputs = replace(inputs, contract=host_setup(loaded, catalog, inputs, need_price))
    inputs = _contract_starts(inputs, queue)
    if upgrade:
        supply = site.power.interim
        assert supply is not None and expansion is not None
        inputs = replace(inputs, interim=upgrade_terms(
            supply.name, supply.kind, supply.capacity_mw, supply.energy_usd_per_mwh, supply.fixed_usd_per_kw_year,
            supply.capex_usd_per_kw, start, expansion.ready_months))
    else:
        inputs = _interim(site.power.interim, sc, inputs)
    if sc.phases:
        _check_phases(loaded, scenario, inputs)
        inputs = replace(inputs, phases=sorted((PhaseTerm(p.name or f"phase {i + 1}",
                                                          min(max(p.online_month, queue), inputs.horizon_months),
                                                          min(p.grid_mw or capacity, capacity), p.max_share)
                                                for i, p in enumerate(sc.phases)), key=lambda t: t.online_month))
    return inputs


def _check_phases(loaded: LoadedSite, scenario: str, inputs: ScenarioInputs) -> None:
    """Phases are modelled for an AI load the owner operates (firm, or interruptible on a grid
    constant over the year or without miners; with or without a GPU life),
    with miners kept from the first phase month running in every step that pays (dispatched
    step by step before it when the grid varies over the year);
    fixed-price blocks (a constant beyond spot), and coincident-peak and demand charges when no
    miners run (the AI's share online pays its share of them); a scenario outside that is
    refused, naming the key, rather than valued wrongly."""
    site = loaded.site
    reasons = []
    if inputs.business_model == "host":
        reasons.append("a host contract (model = \"host\"): its [hosting] ramp states the handover")
    if inputs.ai_interruptible and inputs.dispatch_before:
        reasons.append("an interruptible AI load (ai.interruptible) with miners on a grid that varies over the year")
    m = inputs.markets
    if m is not None and m.per_step and (inputs.miners or (m.reserve_usd_per_mw_hour is not None and m.ai_share > 0)):
        terms = ((m.reserve_usd_per_mw_hour is not None, "reserves ([power.reserves])"),
                 (m.cp_usd_per_mw_year is not None, "coincident peaks ([power.coincident_peak])"),
                 (m.demand_usd_per_kw_month > 0, "demand charges ([power.demand_charge])"))
        named = [words for on, words in terms if on]
        reasons.append(", ".join(named) + " with miners or an interruptible AI share (per-step market terms are "
                       "split by phase only for the AI load alone; fixed-price blocks are modelled)")
    if inputs.miner_space:
        reasons.append("halls with miner_positions (miners moved hall by hall)")
    if inputs.expansion_mw:
        reasons.append("a grid expansion ([grid.expansion])")
    if inputs.interim is not None:
        reasons.append("an interim supply ([power.interim])")
    phases = site.scenarios[scenario].phases
    if sum(p.max_share for p in phases) < 1 - 1e-9:
        raise InputError([Problem(display_path(loaded.path), f"scenarios.{scenario}.phases",
                                  f"the phases' max_share add up to {sum(p.max_share for p in phases):g}: "
                                  "no cluster could be brought online in full",
                                  loaded.line("scenarios", scenario, "phases"),
                                  "raise a phase's max_share (the last phase's is 1 by default)")])
    if reasons:
        raise InputError([Problem(display_path(loaded.path), f"scenarios.{scenario}.phases",
                                  "phased builds are not modelled with " + "; ".join(reasons),
                                  loaded.line("scenarios", scenario, "phases"),
                                  "remove the phases, or the feature named")])


def _check_upgrade_bridge(loaded: LoadedSite, scenario: str, start: int) -> None:
    """A grid expansion ready after the AI start is bridged by the interim supply
    (:func:`planner.model.interim.add_upgrade_bridge`) in an owner-operated retrofit (or a hybrid
    without miners) whose supply is there from the AI start to the expansion; anything else is
    refused, naming the key."""
    site, shown = loaded.site, display_path(loaded.path)
    sc, supply, expansion = site.scenarios[scenario], site.power.interim, site.grid.expansion
    assert expansion is not None
    ready = expansion.ready_months
    said = f"the expansion is ready after {ready} months but scenario {scenario!r} starts its AI load at month {start}"
    if supply is None:
        raise InputError([Problem(shown, "grid.expansion.ready_months", said, loaded.line("grid", "expansion"),
                                  "lengthen the scenario's build_months, shorten ready_months, or state an interim "
                                  "supply ([power.interim]) to carry the load above the existing grid until then")])
    why = None
    if sc.kind == "greenfield":
        why = "a greenfield build has no existing connection to bridge"
    elif sc.kind == "hybrid" and site.fleet.miners:
        why = "the miners beside the AI would share the bridged months (not modelled)"
    elif sc.model == "host":
        why = "a host scenario's rent starts at the grid start"
    elif sc.phases:
        why = "phased builds have their own grid per phase"
    if why is not None:
        raise InputError([Problem(shown, "grid.expansion.ready_months",
                                  f"{said}; the interim supply bridges an expansion only in an owner-operated retrofit "
                                  f"(or a hybrid without miners): {why}", loaded.line("grid", "expansion"),
                                  "lengthen the scenario's build_months or shorten ready_months")])
    if supply.from_month > start or (supply.to_month is not None and supply.to_month < ready):
        raise InputError([Problem(shown, "power.interim.from_month" if supply.from_month > start
                                  else "power.interim.to_month",
                                  f"{said}; the interim supply must carry the load above the existing grid from month "
                                  f"{start} to month {ready}, it supplies months {supply.from_month}-"
                                  f"{'on' if supply.to_month is None else supply.to_month - 1}",
                                  loaded.line("power", "interim"),
                                  f"set from_month <= {start} and to_month >= {ready} (or leave it out)")])


def _contract_starts(inputs: ScenarioInputs, connection: int) -> ScenarioInputs:
    """Warn of a block whose stated start_month is before a greenfield connection: it is
    counted as given (settled at the real-time price: a financial hedge, nothing delivered)."""
    early = [c for c in (inputs.markets.contracts if inputs.markets is not None else ())
             if c.stated_start and c.start_month < connection]
    if early:
        names = ", ".join(repr(c.name) for c in early)
        return replace(inputs, warnings=sorted({
            *inputs.warnings, f"power.contracts: {names} starts before the grid connection of scenario "
            f"{inputs.scenario!r} (month {connection}): counted from its start_month as a financial hedge, its "
            "energy resold at the real-time price"}))
    return inputs


def _interim(supply: InterimSupply | None, sc: Scenario, inputs: ScenarioInputs) -> ScenarioInputs:
    """The bridge this scenario may use of the site's interim supply (planner.model.interim)."""
    if supply is None:
        return inputs
    terms = interim_terms(supply.name, supply.kind, supply.capacity_mw, supply.from_month, supply.to_month,
                          supply.energy_usd_per_mwh, supply.fixed_usd_per_kw_year, supply.capex_usd_per_kw,
                          sc.build_months, inputs.ai_start_month)
    if terms is None:
        return replace(inputs, warnings=sorted({
            *inputs.warnings, f"power.interim: no month to bridge in scenario {inputs.scenario!r} (its grid is "
            f"ready at month {inputs.ai_start_month}, when its AI can start)"}))
    if sc.model == "host":
        return replace(inputs, warnings=sorted({
            *inputs.warnings, "power.interim: a host scenario does not use the interim supply (its contract's "
            "rent starts at the grid start)"}))
    return replace(inputs, interim=terms)


def _check_access_switch(catalog: Catalog) -> list[Problem]:
    """The out-of-band and miner access networks are counted with one switch model, the one
    the catalog names (the [[role]] ``access-switch``): it must be named, and keep its ports and
    uplinks (an overlay may replace it). That it names a switch is checked when the catalog loads."""
    try:
        key = catalog.access_switch
    except MissingRole as exc:
        return [Problem("catalog", "access-switch", f"{exc}: the out-of-band and miner networks are counted "
                        "with it", hint="the bundled roles.toml names sn2201; an overlay's roles.toml may name "
                        "another switch")]
    entry = catalog.entries["switches"][key]
    if not entry.item.uplink_ports or not entry.item.uplink_gbps:
        name = "uplink_ports" if not entry.item.uplink_ports else "uplink_gbps"
        return [Problem(display_path(Path(entry.file)), f"{key}.{name}",
                        "the access switch of the out-of-band and miner networks needs uplink_ports and uplink_gbps",
                        entry.line(name), hint="give both: the SN2201 has 4 uplinks of 100 Gb/s")]
    return []


def power_figures(catalog: Catalog, options: list[ClusterOption], miners: list[MinerBlock]
                  ) -> dict[str, PowerFigure]:
    """The power figure of every part the scenario's plans may buy (servers, switches,
    optics, miners): sourced, estimated or the site's own."""
    keys = {b.name or b.key for b in miners}
    if miners:
        keys.add(catalog.access_switch)
    for o in options:
        if o.fabric is not None:
            keys |= {o.server, catalog.access_switch}
            keys |= {o.fabric.switch_models[r] for r, n in o.fabric.switches.items() if n}
            keys |= {end.part for m in o.fabric.media.values() for end in (m.lower, m.upper)
                     if end.kind in ("module", "copper") and end.units and end.part is not None}
    figures = {k: catalog.power(k) for k in sorted(keys)}
    return {k: f for k, f in figures.items() if f is not None}  # every one has a figure: prepare checked



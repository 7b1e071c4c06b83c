"""The planner command's demand calculators: `planner size train|infer|btc-network|mining`
(compute and energy demand of AI workloads, the bitcoin network and a mining fleet)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer

from planner.app.cli_common import (
    CatalogOpt,
    compute_error,
    emit_json,
    make_console,
)
from planner.constants import BLOCK_SUBSIDY_BTC
from planner.errors import InputError
from planner.parts.kinds import SINGULAR

if TYPE_CHECKING:
    from planner.energy.compute import ComputeDemand
    from planner.parts.catalog import Catalog

Precision = Annotated[str, typer.Option(help="bf16, fp8, fp16, tf32 or fp4.")]

size_app = typer.Typer(no_args_is_help=True, help="Compute and energy demand: AI workloads and bitcoin mining.")


def _size_catalog(overlays: list[Path] | None, key: str, kind: str, option: str) -> Catalog:
    from planner.errors import Problem, did_you_mean
    from planner.parts.catalog import load_catalog

    cat = load_catalog(overlays or [])
    if key not in cat.entries[kind]:
        raise InputError([Problem("command line", option, f"unknown {SINGULAR[kind]} {key!r}",
                                  hint=did_you_mean(key, cat.entries[kind]))])
    return cat


def _print_quantities(title: str, rows: list[tuple[str, str, str]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("how", style="dim")
    for row in rows:
        table.add_row(*row)
    make_console().print(table)


def _g(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if abs(x) >= 1e6 or (0 < abs(x) < 1e-3) else f"{x:,.{digits}f}".rstrip("0").rstrip(".")


class _Record(Protocol):
    def as_dict(self) -> dict[Any, Any]: ...


R = TypeVar("R", bound=_Record)


def _calculate(calculation: Callable[[], R], as_json: bool) -> R | None:
    """Run a demand calculation: an impossible one is the user's error (exit 2, its
    message); with --json its record is printed and None returned (nothing left to print)."""
    from planner.energy.compute import ComputeError

    try:
        result = calculation()
    except ComputeError as exc:
        raise compute_error(exc) from None
    if as_json:
        emit_json(result.as_dict())
        return None
    return result


def _check_precision(precision: str) -> None:
    from planner.errors import Problem, did_you_mean

    choices = ["tf32", "bf16", "fp16", "fp8", "fp4"]
    if precision not in choices:
        raise InputError([Problem("command line", "--precision", f"unknown precision {precision!r}",
                                  hint=did_you_mean(precision, choices) or "one of " + ", ".join(choices))])


def _demand_rows(d: ComputeDemand) -> list[tuple[str, str, str]]:
    peak = d.server_peak_flops
    return [
        ("server peak, FLOP/s", _g(peak), f"{d.precision} {'sparse' if d.sparse else 'dense'}, GPUs x per-GPU peak"),
        ("utilisation", _g(d.utilization), ""),
        ("server FLOPs per day", _g(d.details["server_flops_per_day"]), "peak x utilisation x 86,400 s"),
        ("servers (exact)", _g(d.servers), "FLOPs per day / server FLOPs per day"),
        ("servers (whole)", f"{d.servers_ceil:,}", ""),
        ("GPUs", f"{d.gpus:,}", ""),
        ("IT power, MW", _g(d.it_power_mw), "whole servers x max power"),
        ("facility power, MW", _g(d.facility_power_mw), f"IT x PUE {d.pue:g}"),
        ("energy, MWh/day", _g(d.energy_mwh_per_day), "facility power x 24 h"),
    ]


@size_app.command("train")
def size_train(
    params: Annotated[float, typer.Option("--params", help="Model parameters N (3e11 allowed).")],
    tokens: Annotated[float, typer.Option("--tokens", help="Training tokens D.")],
    server: Annotated[str, typer.Option("--server", help="Server key, e.g. dgx-b200.")],
    runs_per_month: Annotated[float, typer.Option("--runs-per-month", help="Training runs a month.")] = 1.0,
    utilization: Annotated[float, typer.Option("--utilization", help="Model FLOPs utilisation, 0-1.")] = 0.4,
    precision: Precision = "bf16",
    sparse: Annotated[bool, typer.Option("--sparse", help="Use the 2:4 structured-sparsity peak.")] = False,
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.0,
    days_per_month: Annotated[float, typer.Option(
        "--days-per-month", help="Days in a month: runs a day = runs a month / this.")] = 30.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Servers and energy to train R runs a month of a model: FLOPs per run = 6·N·D."""
    from planner.energy.compute import training_demand

    _check_precision(precision)
    cat = _size_catalog(catalog, server, "servers", "--server")
    d = _calculate(lambda: training_demand(cat, server, params, tokens, runs_per_month, utilization, precision,
                                           sparse, pue, days_per_month), as_json)
    if d is None:
        return
    rows = [
        ("parameters N", _g(params), ""), ("tokens D", _g(tokens), ""),
        ("FLOPs per run", _g(d.flops), "6 x N x D"),
        ("runs per day", _g(d.details["runs_per_day"]), f"runs per month / {days_per_month:g}"),
        ("FLOPs per day", _g(d.flops_per_day), "FLOPs per run x runs per day"),
    ] + _demand_rows(d)
    _print_quantities(f"training on {server}", rows)
    if sparse:
        make_console().print("note: uses the structured-sparsity peak (2:4); dense training does not reach it",
                         style="yellow")


@size_app.command("infer")
def size_infer(
    params: Annotated[float, typer.Option("--params", help="Model parameters N.")],
    server: Annotated[str, typer.Option("--server", help="Server key.")],
    tokens_per_day: Annotated[float | None, typer.Option("--tokens-per-day", help="Tokens served a day.")] = None,
    users: Annotated[float | None, typer.Option(
        "--users", help="Users a day (instead of --tokens-per-day; with --queries-per-user).")] = None,
    queries_per_user: Annotated[
        float | None, typer.Option("--queries-per-user", help="Queries per user per day.")
    ] = None,
    words_per_query: Annotated[float, typer.Option("--words-per-query", help="Words in a query.")] = 0.0,
    answers_per_query: Annotated[float, typer.Option("--answers-per-query", help="Answers generated per query.")] = 1.0,
    words_per_answer: Annotated[float, typer.Option("--words-per-answer", help="Words in an answer.")] = 0.0,
    tokens_per_word: Annotated[float, typer.Option("--tokens-per-word", help="Tokens per word of text.")] = 1.33,
    utilization: Annotated[float, typer.Option("--utilization", help="Model FLOPs utilisation, 0-1.")] = 0.4,
    precision: Precision = "bf16",
    sparse: Annotated[bool, typer.Option("--sparse", help="Use the 2:4 structured-sparsity peak.")] = False,
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Servers and energy to serve tokens at 2·N FLOPs per token."""
    from planner.energy.compute import ComputeError, inference_demand, inference_tokens_per_day
    from planner.errors import Problem

    _check_precision(precision)
    cat = _size_catalog(catalog, server, "servers", "--server")
    if (tokens_per_day is None) == (users is None):
        raise InputError([Problem("command line", "--tokens-per-day",
                                  "give --tokens-per-day, or --users with --queries-per-user and words")])
    try:
        if tokens_per_day is None:
            if queries_per_user is None or users is None:
                raise ComputeError("--users needs --queries-per-user")
            tokens_per_day = inference_tokens_per_day(users, queries_per_user, words_per_query,
                                                      answers_per_query, words_per_answer,
                                                      tokens_per_word)
        d = inference_demand(cat, server, params, tokens_per_day, utilization, precision, sparse, pue)
    except ComputeError as exc:
        raise compute_error(exc) from None
    if as_json:
        emit_json(d.as_dict())
        return
    rows = [("parameters N", _g(params), ""), ("tokens per day", _g(tokens_per_day),
             "users x queries x (query + answers x answer words) x tokens/word" if users else ""),
            ("FLOPs per day", _g(d.flops_per_day), "2 x N x tokens")] + _demand_rows(d)
    _print_quantities(f"inference on {server}", rows)


def _parse_fleet(text: str, cat: Catalog) -> dict[str, float]:
    from planner.errors import Problem, did_you_mean

    fleet: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, share = part.partition(":")
        if key not in cat.miners:
            raise InputError([Problem("command line", "--fleet", f"unknown miner {key!r}",
                                      hint=did_you_mean(key, cat.miners))])
        try:
            fleet[key] = float(share) if share else 1.0
        except ValueError:
            raise InputError([Problem("command line", "--fleet", f"share {share!r} of {key} is not a number",
                                      hint="write KEY:SHARE,KEY:SHARE")]) from None
    if not fleet:
        raise InputError([Problem("command line", "--fleet", "no miners given", hint="write KEY:SHARE,KEY:SHARE")])
    total = sum(fleet.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError([Problem("command line", "--fleet", f"the shares add up to {total:g}, not 1",
                                  hint="give each model's share of the fleet by miner count, adding up to 1")])
    return fleet


@size_app.command("btc-network")
def size_btc_network(
    fleet: Annotated[str, typer.Option("--fleet", help="KEY:SHARE,... shares by miner count.")],
    hashrate_ehs: Annotated[float | None, typer.Option("--hashrate-ehs", help="Network hashrate, EH/s.")] = None,
    power_gw: Annotated[float | None, typer.Option("--power-gw", help="Power budget, GW (the reverse).")] = None,
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Miners, power and energy of the bitcoin network for a fleet mix (or the reverse)."""
    from planner.energy.compute import network_demand
    from planner.parts.catalog import load_catalog

    cat = load_catalog(catalog or [])
    shares = _parse_fleet(fleet, cat)
    d = _calculate(lambda: network_demand(cat, shares, hashrate_ehs, power_gw, pue), as_json)
    if d is None:
        return
    rows = [(f"share {k}", _g(v), "by miner count") for k, v in d.fleet.items()] + [
        ("mean hashrate per miner, TH/s", _g(d.mean_hashrate_ths), "sum of share x hashrate"),
        ("mean power per miner, W", _g(d.mean_power_w), "sum of share x power"),
        ("mean efficiency, J/TH", _g(d.mean_efficiency_j_per_th), "mean power / mean hashrate"),
        ("network hashrate, EH/s", _g(d.hashrate_ehs), ""),
        ("miners", _g(d.miners), "hashrate x 1e6 / mean TH/s"),
        ("power, GW", _g(d.power_gw), f"miners x mean power x PUE {d.pue:g}"),
        ("energy, GWh/day", _g(d.energy_gwh_per_day), "power x 24 h"),
    ]
    _print_quantities("bitcoin network", rows)


@size_app.command("mining")
def size_mining(
    miner: Annotated[str, typer.Option("--miner", help="Miner key.")],
    btc_price: Annotated[float, typer.Option("--btc-price", help="BTC price, USD.")],
    difficulty: Annotated[float | None, typer.Option(
        "--difficulty", help="Network difficulty (or give --network-hashrate-ehs).")] = None,
    network_hashrate_ehs: Annotated[float | None, typer.Option(
        "--network-hashrate-ehs", help="Network hashrate, EH/s (or give --difficulty).")] = None,
    subsidy_btc: Annotated[float, typer.Option("--subsidy-btc", help="Block subsidy, BTC.")] = BLOCK_SUBSIDY_BTC,
    fees_btc: Annotated[float, typer.Option("--fees-btc", help="Fees per block, BTC.")] = 0.0,
    pool_fee: Annotated[float, typer.Option("--pool-fee", help="Share kept by the pool, 0-1.")] = 0.0,
    power_price: Annotated[float, typer.Option("--power-price-usd-per-mwh", help="Power price, USD/MWh.")] = 0.0,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hashprice, revenue, power cost, margin, breakeven power price and shutdown BTC price."""
    from planner.energy.compute import mining_economics

    cat = _size_catalog(catalog, miner, "miners", "--miner")
    e = _calculate(lambda: mining_economics(cat, miner, btc_price, difficulty, network_hashrate_ehs, subsidy_btc,
                                            fees_btc, pool_fee, power_price), as_json)
    if e is None:
        return
    rows = [
        ("difficulty", _g(e.difficulty), "given, or hashrate x 600 / 2^32"),
        ("network hashrate, EH/s", _g(e.network_hashrate_ehs), "difficulty x 2^32 / 600"),
        ("hashprice, USD/TH/day", _g(e.hashprice_usd_per_th_day, 6),
         "86,400e12 / (difficulty x 2^32) x (subsidy + fees) x BTC price"),
        ("hashprice, USD/PH/day", _g(e.hashprice_usd_per_ph_day), ""),
        ("miner hashrate, TH/s", _g(e.hashrate_ths), ""),
        ("miner power, W", _g(e.power_w), f"{e.efficiency_j_per_th:.2f} J/TH"),
        ("revenue, USD/day", _g(e.revenue_usd_per_day), f"after pool fee {e.pool_fee:g}"),
        ("energy, MWh/day", _g(e.energy_mwh_per_day, 6), "power x 24 h"),
        ("power cost, USD/day", _g(e.power_cost_usd_per_day), f"at {e.power_price_usd_per_mwh:g} USD/MWh"),
        ("margin, USD/day", _g(e.margin_usd_per_day), ""),
        ("breakeven power price, USD/MWh", _g(e.breakeven_usd_per_mwh), "revenue / energy"),
        ("shutdown BTC price, USD", "-" if e.shutdown_btc_price_usd is None else _g(e.shutdown_btc_price_usd),
         "BTC price x power cost / revenue"),
    ]
    _print_quantities(f"mining with {miner}", rows)

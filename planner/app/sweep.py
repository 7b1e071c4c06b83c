"""Scenario sweeps: many variants of one site, solved on Dask, streamed to disk.

A sweep file names a base site and axes (each a site value to vary). Variants come from
a full grid of the axes' values, from paired lists, or from seeded random draws. Each
variant is solved for each of the site's scenarios; one row per (variant, scenario) is
appended to ``results.csv`` as soon as it is known, so an interrupted sweep restarted
with the same command only solves what is missing, and a row is never written twice.
At the end ``results.parquet`` and the plots are written.

Why a module of about 650 lines: the sweep file's declaration (axes, variants, the checks
against the base site) and the run that resumes from ``results.csv`` read the same
:class:`Sweep` record and the same row columns; the seam between them would be one import
each way. Split them when either grows.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.errors import InputError, Problem, did_you_mean, display_path
from planner.model.cache import PlanCache

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

    from planner.parts.catalog import Catalog
    from planner.site.load import LoadedSite
    from planner.site.schema import Site

T = TypeVar("T")


def _given(value: T | None, what: str) -> T:
    """A figure the sweep file's checks made sure of (Axis._check, SweepFile's mode checks)."""
    if value is None:
        raise ValueError(f"the sweep file gives no {what}")
    return value


# axis name -> (section, key) of the site it sets; "scenarios.*" sets every scenario
AXES = {
    "btc_price_usd": ("economics", "btc_price_usd"),
    "network_hashrate_growth_per_year": ("economics", "network_hashrate_growth_per_year"),
    "power_price_multiplier": ("economics", "price_multiplier"),
    "power_price_shift_usd_per_mwh": ("economics", "price_shift_usd_per_mwh"),
    "lease_usd_per_gpu_hour": ("ai", "lease_usd_per_gpu_hour"),
    "facility_usd_per_mw": ("scenarios.*", "facility_usd_per_mw"),
    "grid_queue_months": ("scenarios.*", "grid_queue_months"),
    "discount_rate": ("economics", "discount_rate"),
    "rent_usd_per_kw_month": ("hosting", "rent_usd_per_kw_month"),
    "termination_probability_per_year": ("hosting", "termination_probability_per_year"),
}
COLUMNS = ["variant", "scenario", "kind", "status", "npv_usd", "irr", "payback_years", "capex_usd",
           "gpus", "miners", "it_power_mw", "months_to_first_revenue"]


class Axis(BaseModel):
    """One value to vary: a list, an evenly spaced range, or a random distribution."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    values: list[float] | None = None
    start: float | None = None
    stop: float | None = None
    num: int | None = Field(None, ge=1, le=1_000_000)
    distribution: Literal["uniform", "normal", "lognormal"] | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in AXES:
            hint = did_you_mean(name, AXES)
            raise ValueError(f"unknown axis {name!r}" + (f" ({hint})" if hint else f"; axes: {', '.join(AXES)}"))
        return name

    @model_validator(mode="after")
    def _check(self) -> Axis:
        if self.values is None and self.distribution is None and None in (self.start, self.stop, self.num):
            raise ValueError("give values, or start, stop and num, or a distribution")
        if self.distribution == "uniform" and None in (self.low, self.high):
            raise ValueError("a uniform distribution needs low and high")
        if self.distribution in ("normal", "lognormal") and None in (self.mean, self.sd):
            raise ValueError(f"a {self.distribution} distribution needs mean and sd")
        return self

    def grid(self) -> list[float]:
        if self.values is not None:
            return list(self.values)
        if self.start is not None:
            return [float(v) for v in np.linspace(self.start, _given(self.stop, "stop"), _given(self.num, "num"))]
        raise ValueError(f"axis {self.name!r} has no values for a grid or list")

    def draw(self, rng: np.random.Generator, n: int) -> list[float]:
        if self.distribution == "uniform":
            return rng.uniform(_given(self.low, "low"), _given(self.high, "high"), n).tolist()
        if self.distribution == "normal":
            return rng.normal(_given(self.mean, "mean"), _given(self.sd, "sd"), n).tolist()
        if self.distribution == "lognormal":
            return rng.lognormal(_given(self.mean, "mean"), _given(self.sd, "sd"), n).tolist()
        values = self.grid()
        return [values[i] for i in rng.integers(0, len(values), n)]


MAX_VARIANTS = 1_000_000  # a million solves: far beyond a sweep one runs, before memory runs out


class SweepFile(BaseModel):
    """A sweep: base site, axes and how to combine them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    base: str = Field(description="site file, relative to the sweep file")
    mode: Literal["grid", "list", "random"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000, description="random draws (mode = random)")
    seed: int = 0
    scenarios: list[str] | None = Field(None, description="scenarios to solve (default: all)")
    axes: list[Axis] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SweepFile:
        if self.mode == "random" and not self.samples:
            raise ValueError("mode = random needs samples")
        count = self.count()
        if count > MAX_VARIANTS:
            raise ValueError(f"the sweep has {count:,} variants; at most {MAX_VARIANTS:,} are run (each is a "
                             "solve): use mode = random with fewer samples, or fewer values per axis")
        if self.mode == "list":
            lengths = {len(a.grid()) for a in self.axes}
            if len(lengths) > 1:
                raise ValueError("mode = list needs every axis to have the same number of values")
        return self

    def count(self) -> int:
        """Variants the sweep would run, counted before any is built."""
        if self.mode == "random":
            return self.samples or 0
        sizes = [len(a.values) if a.values is not None else (a.num or 0) for a in self.axes]
        return math.prod(sizes) if self.mode == "grid" else max(sizes, default=0)


@dataclass(frozen=True)
class Sweep:
    path: Path
    spec: SweepFile
    base: Path
    lines: dict = field(default_factory=dict, compare=False)  # key path -> line in the sweep file

    def variants(self) -> list[dict]:
        """Deterministic list of {"variant": id, axis: value, ...}."""
        names = [a.name for a in self.spec.axes]
        if self.spec.mode == "grid":
            combos: Iterable = itertools.product(*(a.grid() for a in self.spec.axes))
        elif self.spec.mode == "list":
            combos = zip(*(a.grid() for a in self.spec.axes), strict=True)
        else:
            rng = np.random.default_rng(self.spec.seed)
            samples = _given(self.spec.samples, "samples")
            draws = [a.draw(rng, samples) for a in self.spec.axes]
            combos = zip(*draws, strict=True)
        return [{"variant": i, **dict(zip(names, (float(v) for v in combo), strict=True))}
                for i, combo in enumerate(combos)]


def load_sweep(path: Path | str) -> Sweep:
    from planner.site.load import read_model

    path = Path(path)
    spec, lines = read_model(path, SweepFile, kind="sweep")
    base = Path(spec.base)
    base = base if base.is_absolute() else path.parent / base
    if not base.is_file():  # named here, at the sweep file's key, not as a site file of its own
        from planner.tomlpos import line_of

        found = "is a folder, not a site file" if base.is_dir() else "no such file"
        raise InputError([Problem(display_path(path), "base", f"{display_path(base)}: {found}",
                                  line_of(lines, ("base",)), "base is a site file, relative to the sweep file")])
    return Sweep(path, spec, base, lines)


def check_axes(sweep: Sweep, site: Site) -> list[Problem]:
    """Each axis's smallest and largest value (and any that is not finite, such as a
    lognormal draw that overflowed) set on the base site: a value outside the site's limits
    is named before any variant is solved."""
    from pydantic import ValidationError

    from planner.tomlpos import line_of

    variants = sweep.variants()
    problems = []
    for i, axis in enumerate(sweep.spec.axes):
        if AXES[axis.name][0] == "hosting" and site.hosting is None:
            problems.append(Problem(display_path(sweep.path), f"axes[{i}]", f"{axis.name} varies the hosting "
                                    "contract but the base site has no [hosting] section",
                                    line_of(sweep.lines, ("axes", i))))
            continue
        values = np.array([v[axis.name] for v in variants], dtype=float)
        finite = values[np.isfinite(values)]
        picks = [float(v) for v in values[~np.isfinite(values)][:1]]
        picks += sorted({float(finite.min()), float(finite.max())}) if finite.size else []
        for value in picks:
            try:
                apply(site, {axis.name: value})
            except ValidationError as exc:
                variant = int(np.argmax((values == value) | (np.isnan(values) & np.isnan(value))))
                problems.append(Problem(display_path(sweep.path), f"axes[{i}]",
                                        f"{axis.name} = {value:g} (variant {variant}) is outside the base site's "
                                        f"limits: {exc.errors()[0]['msg']}", line_of(sweep.lines, ("axes", i))))
                break
    return problems


def apply(site: Site, variant: dict[str, float]) -> Site:
    """The site with the variant's values set (a new validated Site). The sections the variant
    changes are validated again from their values; the others are the base site's, already
    validated (pydantic takes a model instance as it is), and the site's own checks across its
    sections run on the whole: what validating the whole site dumped and changed gives, without
    checking its halls' polygons again for every variant."""
    from planner.site.schema import Site

    changed: dict[str, Any] = {}
    for name, value in variant.items():
        if name == "variant":
            continue
        section, key = AXES[name]
        if section == "scenarios.*":
            if "scenarios" not in changed:
                changed["scenarios"] = {n: sc.model_dump(by_alias=True) for n, sc in site.scenarios.items()}
            for sc in changed["scenarios"].values():
                sc[key] = round(value) if key.endswith("months") else value
        else:
            if section not in changed:
                changed[section] = getattr(site, section).model_dump(by_alias=True)
            changed[section][key] = value
    return Site.model_validate({**{name: getattr(site, name) for name in type(site).model_fields}, **changed})


@dataclass
class SweepState:
    """What one process keeps while it solves a sweep's variants: each base site as read once,
    with its catalog (the bundled one and the site's own folders, as ``planner solve`` reads
    them), and a PlanCache (bounded: a long sweep varies what the options depend on). A
    serial sweep holds one in :func:`run_sweep`; each Dask worker holds one for the sweep's
    run (:mod:`planner.app.worker_state`)."""

    sites: dict[str, tuple[LoadedSite, Catalog]] = field(default_factory=dict)
    plans: PlanCache = field(default_factory=lambda: PlanCache(max_entries=64))

    def base(self, path: str) -> tuple[Catalog, LoadedSite]:
        """The catalog and the base site, read on first use."""
        if path not in self.sites:
            from planner.app.pipeline import load

            self.sites[path] = load(Path(path))
        loaded, catalog = self.sites[path]
        return catalog, loaded


WORKER_STATE = "planner-sweep-state"


def seeded_state(base: str, scenarios: list[str], inherited: bool = False,
                 state: SweepState | None = None,
                 meanwhile: list[Callable[[], None]] | None = None) -> Callable[[], SweepState]:
    """A factory of worker states that start with the base site read and its scenarios
    prepared (their cluster options in the plan cache). A base site that does not prepare
    gives plain states: the variants then report what is wrong, as without the seed.

    ``inherited``: the workers are forked from this process after this call, so each finds
    the seed in the memory it inherited (:func:`_inherited_seed`) and nothing is copied
    to it. Otherwise the factory holds the seed pickled and each worker unpickles a copy
    (the catalog and the cache travel together, so the cache stays the catalog's), without
    the floor-plan fitters: the variants find the options cached and never ask them.
    ``state``: the one to seed (holding the base site as already read), else a new one.
    ``meanwhile`` (with ``inherited``): work this process takes from the list and does while
    the child that shares a scenario's hall plans takes the next ones (what is left is the
    caller's to do)."""
    import functools
    import pickle

    from planner.model.inputs import prepare

    state = state if state is not None else SweepState()
    # the workers are forked later: this process runs no thread yet, so each scenario's hall
    # plans may be worked out by it and a forked child (planner.model.options._work_out_plans)
    state.plans.fork_plans = inherited
    if inherited and meanwhile is not None:
        state.plans.meanwhile = meanwhile
    try:
        with _collector_paused():
            catalog, loaded = state.base(base)
            for name in _most_plans_first(loaded, catalog, scenarios):
                prepare(loaded, catalog, name, cache=state.plans)
    except Exception:  # a seed is only a head start: the variants report any fault
        return SweepState
    finally:
        state.plans.fork_plans = False  # never in a worker, which runs Dask's threads
        state.plans.meanwhile = []
    if inherited:
        token = f"{os.getpid()}-{len(_SEEDS)}-{id(state)}"
        _SEEDS[token] = state
        return functools.partial(_inherited_seed, token)
    state.plans.fitters.clear()  # ten times the options' bytes (their placements), needed by no variant
    return functools.partial(pickle.loads, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def _most_plans_first(loaded: LoadedSite, catalog: Catalog, scenarios: list[str]) -> list[str]:
    """The scenarios in the order a seed prepares them: the one with the most hall plans
    first, so that two processes share most of the floor-plan work (another scenario's
    plans are mostly among them, found then in the cache). Any order gives the same options."""
    from planner.model.options import hall_plans, scenario_halls

    def plans(name: str) -> int:
        try:
            return len(hall_plans(loaded, catalog, loaded.site.ai.server, scenario_halls(loaded, name), name)[0])
        except Exception:  # the scenario's own preparation reports it
            return 0

    return sorted(scenarios, key=plans, reverse=True)


_SEEDS: dict[str, SweepState] = {}  # seeds made for workers to be forked from this process, by token


def _inherited_seed(token: str) -> SweepState:
    """The seed a forked worker holds in the memory it inherited from the sweep's process; a
    plain state where it holds none (a worker that was not forked from it)."""
    state = _SEEDS.get(token)
    return state if state is not None else SweepState()


@dataclass(frozen=True)
class VariantRefused:
    """A chunk's answer when one of its variants is refused as input (InputError): handed back
    as a value, so the sweep reports the problems as ``planner`` reports any bad input,
    without Dask logging a worker's traceback or running the same chunk again."""

    problems: list[Problem]


def solve_chunk(base: str, variants: list[dict], scenarios: list[str] | None, solver: str = "highs",
                ) -> list[dict] | VariantRefused:
    """Solve several variants in one task (fewer round trips to the scheduler), with the
    state this Dask worker keeps for the sweep."""
    from planner.app.worker_state import state_of

    state = state_of(WORKER_STATE, SweepState)
    with _collector_paused():
        try:
            return [row for v in variants for row in solve_variant(base, v, scenarios, solver, state)]
        except InputError as exc:
            return VariantRefused(exc.problems)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic collector off for one bounded piece of work (a seed, a chunk of
    variants), on again after: the work makes many short-lived objects and few cycles, and
    the collector's passes over everything a worker holds (its libraries, the plan cache)
    cost a tenth of it; what cycles it leaves are collected at the next pass after."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def solve_variant(base: str, variant: dict, scenarios: list[str] | None, solver: str = "highs",
                  state: SweepState | None = None) -> list[dict]:
    """Solve every scenario of one variant; one row each. Runs on a Dask worker or locally."""
    from planner.app.pipeline import solve_scenario
    from planner.model.optimize import Status
    from planner.outputs.summary import headline
    from planner.site.load import LoadedSite

    state = state if state is not None else SweepState()
    catalog, loaded = state.base(base)
    site = apply(loaded.site, variant)
    variant_loaded = LoadedSite(site=site, path=loaded.path, lines=loaded.lines)
    rows = []
    for name in scenarios or list(site.scenarios):
        result, _ = solve_scenario(variant_loaded, catalog, name, cache=state.plans, solver=solver)
        # summary.json's figures of these columns (its whole record is not needed); a scenario
        # without a plan has none
        figures = headline(result) if result.status is Status.OPTIMAL else {}
        rows.append({"variant": variant["variant"], "scenario": name, "kind": result.inputs.kind,
                     "status": str(result.status), **{k: figures.get(k) for k in COLUMNS[4:]},
                     **{k: v for k, v in variant.items() if k != "variant"}})
    return rows


def done_variants(csv_path: Path, rows_per_variant: int, columns: list[str]) -> set[int]:
    """Variants complete in results.csv. A run killed while writing can leave a partial
    last line or a variant with only some of its rows: those are dropped (the file is
    rewritten atomically without them) and solved again."""
    if csv_path.is_symlink() or (csv_path.exists() and not csv_path.is_file()):  # a folder, /dev/null, a FIFO
        raise InputError([Problem(display_path(csv_path), "", "results.csv is not a regular file",
                                  hint="remove it, or give another -o")])
    if not csv_path.exists() or csv_path.stat().st_size == 0:
        return set()
    import io

    raw = csv_path.read_bytes().decode("utf-8", errors="replace")
    # Rows are appended whole, each ended by its line terminator: text after the last one
    # is a row cut by a killed run, whatever it looks like ("...,0." for "0.8" parses).
    cut = not raw.endswith("\n")
    text = raw[: raw.rfind("\n") + 1] if cut else raw
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is not None and reader.fieldnames != columns:
        raise InputError([Problem(display_path(csv_path), "", "results.csv was written by a different sweep "
                                  "(its columns differ): use another output folder")])
    rows = list(reader)
    complete = [r for r in rows if r.get("variant", "").isdigit() and None not in r
                and all(r.get(c) is not None for c in columns) and r.get("status")]
    counts: dict[int, int] = {}
    for r in complete:
        counts[int(r["variant"])] = counts.get(int(r["variant"]), 0) + 1
    done = {v for v, n in counts.items() if n == rows_per_variant}
    if cut or reader.fieldnames is None or len(done) * rows_per_variant != len(rows):
        from planner.outputs.export import atomic_file

        with atomic_file(csv_path) as tmp, tmp.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            writer.writerows(r for r in complete if int(r["variant"]) in done)
    return done


class RowWriter:
    """Appends rows to results.csv, one flush per variant, header once."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.columns = columns
        new = not path.exists() or path.stat().st_size == 0
        self.handle = path.open("a", newline="", encoding="utf-8")
        self.writer = csv.DictWriter(self.handle, fieldnames=columns, extrasaction="ignore")
        if new:
            self.writer.writeheader()
            self.handle.flush()

    def write(self, rows: list[dict]) -> None:
        from planner.outputs.export import neutralise

        self.writer.writerows({k: neutralise(v) for k, v in r.items()} for r in rows)  # names a sheet would run
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def run_sweep(sweep: Sweep, out_dir: Path, scheduler: str | None = None, workers: int = 2,
              solver: str = "highs", progress: Callable[[int, int], None] | None = None,
              serial: bool = False, client: Client | None = None,
              base_site: tuple[LoadedSite, Catalog] | None = None,
              complete: Callable[[Path], None] | None = None) -> Path:
    """Solve every variant not yet in ``out_dir/results.csv``; return that file.

    Variants go to Dask in chunks (a few per worker round trip); each chunk's rows are
    appended when it completes, so a chunk lost with a worker is recomputed elsewhere and
    written once. ``client`` may be an existing dask.distributed Client; ``base_site`` the
    base site and its catalog as the caller read them (:func:`planner.app.pipeline.load`),
    else they are read here. ``complete`` is called with results.csv once its last row is
    written, before the cluster is stopped (``planner sweep`` starts its finisher then).
    """
    from planner.outputs.export import make_folder

    make_folder(out_dir)
    csv_path = out_dir / "results.csv"
    variants = sweep.variants()
    columns = COLUMNS + [a.name for a in sweep.spec.axes]
    base = str(sweep.base.resolve())
    read = SweepState()  # the base site and its catalog, read once for this process and the seed
    if base_site is not None:
        read.sites[base] = base_site
    scenarios = sweep.spec.scenarios or list(read.base(base)[1].site.scenarios)
    done = done_variants(csv_path, len(scenarios), columns)
    todo = [v for v in variants if v["variant"] not in done]
    writer = RowWriter(csv_path, columns)
    total, finished = len(variants), len(variants) - len(todo)
    if progress:
        progress(finished, total)
    try:
        if serial:
            _collector_on()  # a long sweep in this process
            state = read  # this run's: the catalog, the base site and the plan cache
            for v in todo:
                writer.write(solve_variant(base, v, sweep.spec.scenarios, solver, state))
                finished += 1
                if progress:
                    progress(finished, total)
            if complete is not None:
                complete(csv_path)
        else:
            from concurrent.futures import ThreadPoolExecutor

            cluster = None
            own = client is None
            if client is None and not scheduler and _can_fork():
                # local workers forked from this process once the seed is made: they start in a
                # tenth of a second with everything a solve needs already imported, instead of
                # importing it all again each (seconds of the CPU the seed needs); the sweep runs
                # no thread of its own while they are forked. Dask and what a worker solves with
                # are imported once here (inherited by each worker), while the seed's child
                # takes hall plans (this process goes on with the rest of them after)
                meanwhile: list[Callable[[], None]] = [_import_dask, _warm_worker]
                factory = seeded_state(base, scenarios, inherited=True, state=read, meanwhile=meanwhile)
                for job in meanwhile:  # no child to wait for
                    job()
                _collector_on()  # frozen first: the workers are forked from here
                from dask.distributed import Client

                cluster = _local_cluster(workers, fork=True)
                client = Client(cluster)
            else:
                _collector_on()  # a long sweep of a cluster this process does not fork
                from dask.distributed import Client

                # the base site's cluster options (fabrics, hall plans, floor-plan fits) are the
                # same for every variant that changes only economics: worked out once here while
                # the cluster starts, and each worker starts from a copy instead of its own
                with ThreadPoolExecutor(1) as pool:
                    seeded = pool.submit(seeded_state, base, scenarios, state=read)
                    if client is None and scheduler:
                        client = Client(scheduler, timeout=30)
                    elif client is None:
                        cluster = _local_cluster(workers, fork=False)
                        client = Client(cluster)
                    # the workers import what a solve needs while this process makes the seed
                    warming = threading.Thread(target=_run_quietly, args=(client, _warm_worker), daemon=True)
                    warming.start()
                    factory = seeded.result()
                    warming.join()
            from dask.distributed import as_completed

            from planner.app.worker_state import hold, release

            try:
                hold(client, WORKER_STATE, factory)  # each worker keeps a SweepState while this sweep runs
                n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
                size = max(1, min(25, len(todo) // (8 * n_workers)))
                chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
                futures = [client.submit(solve_chunk, base, chunk, sweep.spec.scenarios, solver,
                                         key=f"chunk-{chunk[0]['variant']}-{sweep_id(sweep)}", pure=False, retries=3)
                           for chunk in chunks]
                for future in as_completed(futures):
                    rows = future.result()
                    if isinstance(rows, VariantRefused):
                        raise InputError(rows.problems)
                    writer.write(rows)
                    future.release()
                    finished += len({r["variant"] for r in rows})
                    if progress:
                        progress(finished, total)
                if complete is not None:
                    complete(csv_path)
            finally:
                if cluster is None:  # a scheduler this sweep does not own keeps no state of it
                    with contextlib.suppress(Exception):
                        release(client, WORKER_STATE)
                if own:
                    client.close()
                if cluster is not None:
                    cluster.close()
                _SEEDS.clear()  # the forked workers are gone with the cluster
    finally:
        writer.close()
    return csv_path


def _collector_on() -> None:
    """Python's cyclic collector on for the sweep's long part (the entry point keeps it off
    through a sweep's start-up; a sweep of thousands of variants makes garbage with cycles,
    Dask's), after freezing what this process made so far (``gc.freeze``, Python's advice for
    a process that forks children which run on): the libraries and the seed are out of the
    collector's sight, so that neither this process nor a worker forked from it walks them
    again, nor does a worker's collection copy the pages that hold them."""
    import gc

    gc.freeze()
    gc.enable()


def _can_fork() -> bool:
    """Local workers can be forked from this process (:func:`planner.app.finisher.can_fork`)."""
    from planner.app.finisher import can_fork

    return can_fork()


def _local_cluster(workers: int, fork: bool) -> LocalCluster:
    """A local Dask cluster of ``workers`` single-threaded worker processes, forked from this
    process or spawned (each a fresh interpreter)."""
    import dask
    from dask.distributed import LocalCluster

    method = "fork" if fork else "spawn"
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        # the workers' own logs stay out of the user's terminal (a task cancelled as the sweep
        # stops on bad input is logged as a warning): what fails reaches the sweep as its error
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                            host="127.0.0.1", silence_logs=logging.CRITICAL)


def _run_quietly(client: Client, fn: Callable[[], None]) -> None:
    """``fn`` on every worker; a worker that fails it is left to fail the sweep's own tasks."""
    with contextlib.suppress(Exception):
        client.run(fn)


def _import_dask() -> None:
    import dask.distributed  # noqa: F401


def _warm_worker() -> None:
    """A worker's first act: import what solving a variant needs (the pipeline, the model,
    HiGHS, the summary), so that its first chunk does not pay for it after the seed; and
    solve with one HiGHS thread, as a Dask worker of one thread a core (forked workers
    inherit both from the sweep's process, which solves nothing itself)."""
    import highspy  # noqa: F401

    import planner.app.pipeline
    import planner.model.optimize
    import planner.outputs.summary  # noqa: F401
    from planner.model.lp import use_one_thread

    use_one_thread()


def sweep_id(sweep: Sweep) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(sweep.spec.model_dump(), sort_keys=True).encode()).hexdigest()[:10]


def finish(csv_path: Path, sweep: Sweep) -> list[Path]:
    """results.parquet and the plots of a sweep whose results.csv is complete, written in
    this process (:func:`planner.app.finisher.finish`; ``planner sweep`` writes them in its
    finisher's)."""
    from planner.app.finisher import finish as write

    return write(csv_path, sweep.base.name, [a.name for a in sweep.spec.axes])

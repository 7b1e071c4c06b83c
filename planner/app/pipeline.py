"""The one way from a site to solved plans, for every caller.

The CLI's ``solve``, ``compare`` and ``validate`` commands, the TUI's solve worker, the
sweep's workers and the benchmarks all call these functions instead of chaining the
stages themselves::

    load(site file, overlays)        -> (LoadedSite, Catalog)     site/schema, parts/catalog
    solve_site(loaded, catalog, ...) -> SiteRun                   for each scenario:
        prepare(loaded, catalog, scenario, cache) -> ScenarioInputs      model/inputs
        build_model(inputs)                       -> PlanModel           model/optimize
        solve(model, solver)                      -> Result              model/optimize
    SiteRun.summary(), .bom_rows(), .dispatch()                   outputs/summary

The caller owns the :class:`~planner.model.cache.PlanCache` and passes it in; a caller that
shows progress (a status line, a TUI status bar, a cancel button) gives a
:class:`Progress`. The stages are imported when first called, so a caller that only
loads (``planner validate``) or starts (``planner --help``, the TUI's first screen) does
not pay for the solver's libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import InputError, Problem
from planner.model.cache import PlanCache

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from planner.model.optimize import Result
    from planner.model.plan import PlanModel
    from planner.model.scenario import ScenarioInputs
    from planner.outputs.records import BomRow, SummaryDocument
    from planner.parts.catalog import Catalog
    from planner.site.load import LoadedSite


class Progress:
    """Hooks a caller gives :func:`solve_site` to follow it; each does nothing here."""

    def scenario(self, index: int, count: int, name: str) -> bool:
        """Scenario ``index`` of ``count`` starts; False stops the run (a cancelled worker)."""
        return True

    def prepared(self, name: str, inputs: ScenarioInputs) -> None:
        """Its inputs are derived (options sized, prices read)."""

    def built(self, name: str, model: PlanModel) -> None:
        """Its model is built."""

    def solved(self, name: str, result: Result) -> None:
        """Its model is solved."""


@dataclass
class SiteRun:
    """The solved scenarios of one site, with what the outputs are derived from."""

    loaded: LoadedSite
    catalog: Catalog
    solver: str
    results: dict[str, Result] = field(default_factory=dict)
    models: dict[str, PlanModel] = field(default_factory=dict)  # when asked for (keep_models)

    def summary(self) -> SummaryDocument:
        """summary.json's document (outputs.summary.summary)."""
        from planner.outputs.summary import summary

        return summary(self.loaded.site.name, self.results, self.catalog, self.solver)

    def bom_rows(self) -> list[BomRow]:
        """bom.csv's rows, scenario after scenario."""
        from planner.outputs.bom import bom_rows

        return [row for r in self.results.values() for row in bom_rows(r, self.catalog)]

    def cable_tables(self) -> list[dict[str, np.ndarray]]:
        """cables.csv: every scenario's cable schedule as named columns, one after the other
        (outputs.cables; no pandas). One empty table when no scenario has a cable."""
        from planner.outputs.cables import cable_columns, empty_columns

        tables = [cable_columns(r, self.catalog) for r in self.results.values()]
        return [t for t in tables if len(t["label"])] or [empty_columns()]

    def dispatch_tables(self, known: dict[str, dict[str, np.ndarray]] | None = None
                        ) -> dict[str, dict[str, np.ndarray]]:
        """Each scenario's dispatch per time step as named columns (dispatch.csv, the figures
        and the workbook's monthly sheet; no pandas); ``known``: tables already worked out."""
        from planner.outputs.physics import dispatch_table

        return {name: (known or {}).get(name) or dispatch_table(r) for name, r in self.results.items()}

    def dispatch(self) -> dict[str, pd.DataFrame]:
        """Each scenario's dispatch per time step (dispatch.csv and the figures)."""
        from planner.outputs.physics import dispatch_frame

        return {name: dispatch_frame(r) for name, r in self.results.items()}

    def fabrics(self) -> dict[str, dict]:
        """The chosen cluster's fabric summary per scenario that has one."""
        return {n: r.option.fabric.summary() for n, r in self.results.items()
                if r.option is not None and r.option.fabric is not None}


def load(site_path: Path, overlays: Sequence[Path] | None = None) -> tuple[LoadedSite, Catalog]:
    """Read and validate a site file and its catalog (the bundled one, the site's overlay
    folders, then ``overlays``); raise InputError naming every problem with its parts."""
    from planner.parts.catalog import load_catalog
    from planner.site.load import LoadedSite, check_parts, validate_model
    from planner.site.schema import Site
    from planner.tomlio import read_toml

    data, lines = read_toml(Path(site_path))  # read once: what the schema refuses is still searched for parts
    try:
        loaded = LoadedSite(site=validate_model(Path(site_path), data, lines, Site), path=Path(site_path),
                            lines=lines)
    except InputError as exc:  # the schema's problems and, in the same pass, unknown parts
        raise InputError(exc.problems + _unknown_parts(Path(site_path), overlays, exc.problems, data, lines)
                         ) from None
    folders = [loaded.resolve(d) for d in loaded.site.catalog] + list(overlays or [])
    try:
        catalog = load_catalog(folders)
    except InputError as exc:
        raise InputError(exc.problems) from None
    problems = check_parts(loaded, catalog)
    if problems:
        raise InputError(problems)
    return loaded, catalog


def _unknown_parts(site_path: Path, overlays: Sequence[Path] | None, known: list[Problem], data: dict,
                   lines: dict) -> list[Problem]:
    """Parts a site file names that the catalog lacks, read from the file's raw tables
    (``data``, ``lines``) when the schema refused it, so that one run reports both kinds of
    problem; none when its catalog cannot be loaded (the schema's problems say why)."""
    from planner.errors import display_path
    from planner.parts.catalog import load_catalog
    from planner.site.load import unknown_parts_beside

    try:
        named = data.get("catalog", [])
        if not (isinstance(named, list) and all(isinstance(d, str) for d in named)):
            return []
        catalog = load_catalog([site_path.parent / d for d in named] + list(overlays or []))
    except (InputError, OSError):
        return []
    return unknown_parts_beside(known, data, catalog, display_path(site_path), lines)


# The sections the price and power-market checks read: a schema error in one of them
# leaves nothing sound to check them on; one elsewhere does not stop them.
POWER_SECTIONS = frozenset({"grid", "power_price", "power", "scenarios", "economics", "cooling", "schema"})


def validate_site(site_path: Path, overlays: Sequence[Path] | None = None,
                  cache: PlanCache | None = None) -> list[Problem]:
    """Every problem ``planner validate`` reports, in one pass where the checks are
    independent: the schema's, the catalog references', and the price and power-market
    terms' (:func:`check_power`, which need no catalog). With a schema error outside the
    sections those terms read, they are checked on the file without the refused keys;
    with none, every scenario is prepared (:func:`check_site`) once the parts are known."""
    from planner.parts.catalog import load_catalog
    from planner.site.load import LoadedSite, check_parts, validate_model
    from planner.site.schema import Site
    from planner.tomlio import read_toml

    path = Path(site_path)
    data, lines = read_toml(path)
    try:
        loaded = LoadedSite(site=validate_model(path, data, lines, Site), path=path, lines=lines)
    except InputError as exc:
        problems = exc.problems + _unknown_parts(path, overlays, exc.problems, data, lines)
        partial = _without_refused_keys(path, data, lines)
        return problems + ([] if partial is None else _new(check_power(partial, cache), problems))
    try:
        catalog = load_catalog([loaded.resolve(d) for d in loaded.site.catalog] + list(overlays or []))
    except InputError as exc:
        return exc.problems + check_power(loaded, cache)
    problems = check_parts(loaded, catalog)
    if problems:  # preparing a scenario needs its parts: check what needs none
        return problems + _new(check_power(loaded, cache), problems)
    return check_site(loaded, catalog, cache)


def _new(found: list[Problem], known: list[Problem]) -> list[Problem]:
    return [p for p in found if p not in known]


def _without_refused_keys(path: Path, data: dict, lines: dict) -> LoadedSite | None:
    """The site as the schema reads it once the keys it refused are taken out, when none
    of them is in POWER_SECTIONS (and the rest then validates); else None."""
    import copy

    from pydantic import ValidationError

    from planner.site.load import LoadedSite
    from planner.site.schema import Site

    try:
        Site.model_validate(data)
        return None
    except ValidationError as exc:
        locs = [e["loc"] for e in exc.errors()]
    if not locs or any(not loc or loc[0] in POWER_SECTIONS for loc in locs):
        return None
    pruned = copy.deepcopy(data)
    for loc in locs:
        node: object = pruned
        for part in loc[:-1]:
            node = node[part] if isinstance(node, dict) and part in node else (
                node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
        if isinstance(node, dict):
            node.pop(loc[-1], None)
    try:
        return LoadedSite(site=Site.model_validate(pruned), path=path, lines=lines)
    except ValidationError:
        return None


def check_power(loaded: LoadedSite, cache: PlanCache | None = None) -> list[Problem]:
    """The price profile and the power-market terms of every scenario's grid capacity
    (what :func:`~planner.model.inputs.prepare` reads before any part)."""
    from planner.energy.markets import market_terms
    from planner.energy.prices import price_profile

    problems: list[Problem] = []
    for sc in loaded.site.scenarios.values():
        try:
            profile = price_profile(loaded, loaded.site.grid.usable_mw(sc.grid_capacity_mw),
                                    cache.prices if cache is not None else None)
            market_terms(loaded, profile)
        except InputError as exc:
            problems += _new(exc.problems, problems)
    return problems


def check_site(loaded: LoadedSite, catalog: Catalog, cache: PlanCache | None = None) -> list[Problem]:
    """Every problem that preparing each scenario finds (``planner validate``); no solve."""
    from planner.model.inputs import prepare

    problems: list[Problem] = []
    for name in loaded.site.scenarios:
        try:
            prepare(loaded, catalog, name, cache=cache)
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]
    return problems


def solve_scenario(loaded: LoadedSite, catalog: Catalog, name: str, *, cache: PlanCache | None,
                   solver: str = "highs", reduce: bool = True,
                   progress: Progress | None = None, solver_log: bool = False) -> tuple[Result, PlanModel]:
    """Prepare, build and solve one scenario: its result and the model it was solved from.
    ``reduce`` False builds the per-step reference model; ``solver_log`` keeps the solver's
    log in the result."""
    import time

    from planner.model.build import build_model
    from planner.model.inputs import prepare
    from planner.model.optimize import solve

    progress = progress or Progress()
    t0 = time.perf_counter()
    inputs = prepare(loaded, catalog, name, cache=cache)
    progress.prepared(name, inputs)
    model = build_model(inputs, reduce=reduce)
    progress.built(name, model)
    result = solve(model, solver=solver, keep_log=solver_log)
    result.scenario_seconds = time.perf_counter() - t0
    progress.solved(name, result)
    return result, model


def solve_site(loaded: LoadedSite, catalog: Catalog, names: Sequence[str] | None = None, *,
               cache: PlanCache | None, solver: str = "highs", reduce: bool = True,
               keep_models: bool = False, progress: Progress | None = None,
               solver_log: bool = False) -> SiteRun | None:
    """Solve the named scenarios (all, in the file's order, by default), one after the
    other, sharing ``cache``; None when ``progress`` stopped the run."""
    progress = progress or Progress()
    names = list(loaded.site.scenarios) if names is None else list(names)
    run = SiteRun(loaded, catalog, solver)
    for i, name in enumerate(names, 1):
        if not progress.scenario(i, len(names), name):
            return None
        run.results[name], model = solve_scenario(loaded, catalog, name, cache=cache, solver=solver,
                                                  reduce=reduce, progress=progress, solver_log=solver_log)
        if keep_models:
            run.models[name] = model
    return run

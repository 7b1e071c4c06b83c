"""The cluster options of a scenario: every buildable AI cluster (server choice x optics x
hall plan x size) with its exact fabric counts and floor-plan fit, and what they depend on
(:func:`options_key`, the key of the caller's PlanCache). The enumeration is the costly part of
:func:`planner.model.inputs.prepare`; the fabric counts come from
:mod:`planner.network.fabric`, the fits from :class:`planner.network.plan_fits.PlanFits`.

Why a module of about 500 lines: the enumeration and its cache key (:func:`options_key`)
must name the same inputs, and are kept side by side so that a new input of one is seen
to be missing from the other."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.constants import W_PER_MW
from planner.errors import InputError, Problem, display_path
from planner.model.scenario import ClusterOption, HallUse, MinerBlock, PricedPart, converted_hall
from planner.network.fabric import FabricCounts, FabricError, FabricMemo, FabricSpec, count_fabric, plan_shape
from planner.network.halls import HallSlots, LayoutError
from planner.parts.catalog import Catalog
from planner.parts.models import MissingPower, Server
from planner.site.load import LoadedSite
from planner.site.schema import Building

if TYPE_CHECKING:
    from planner.network.clos import Shape
    from planner.network.media import TierMedia
    from planner.network.plan_fits import PlanFits


@dataclass(frozen=True)
class OptionsEntry:
    """The cluster options of a scenario as :func:`prepare` keeps them in a PlanCache."""

    options: list[ClusterOption]
    prices: dict[str, PricedPart]  # the parts the options priced
    warnings: set[str]
    capped_by: dict[tuple, str]
    min_gpus: int
    workload_gpus: int | None


@dataclass
class FamilyWork:
    """The floor-plan fitter and the fabric counts of one server's cluster sizes, with the site
    they were made for: the scenarios of that site share them (``PlanCache.fitters``). The
    fitter's plans are its halls as used, and a plan's fits, links and cable prices depend on
    nothing else of a scenario (:meth:`planner.network.plan_fits.PlanFits.plan_memo`)."""

    site: object  # the Site (held: the entry serves this very object)
    fitter: PlanFits
    fabrics: FabricMemo


def family_work(store: dict[tuple, FamilyWork] | None, loaded: LoadedSite, catalog: Catalog, server_key: str,
                shapes: list[Shape], hall_slots: dict[str, HallSlots] | None) -> FamilyWork:
    """The shared work of a server's sizes for this site, from ``store`` (a PlanCache's
    ``fitters``) or made and kept there; ``store`` holds one site's entries at a time."""
    from planner.network.plan_fits import PlanFits

    site = loaded.site

    def made() -> FamilyWork:
        return FamilyWork(site, PlanFits(catalog, server_key, shapes, site.routes, site.cabling,
                                         hall_slots=hall_slots), FabricMemo(catalog))

    if store is None:
        return made()
    key = (server_key, repr(shapes), tuple(sorted(catalog.power_overrides.items())))  # a Shape holds a dict
    work = store.get(key)
    if work is None or work.site is not site:
        if any(w.site is not site for w in store.values()):
            store.clear()
        work = store[key] = made()
    return work


# prices a part the plan may buy, or raises InputError naming the site key (``loc``) that named it
NeedPrice = Callable[[str, tuple[str | int, ...]], float]
# the options of one scenario: options, warnings, the reason each group is capped, min GPUs, workload GPUs
Options = tuple[list[ClusterOption], set[str], dict[tuple, str], int, int | None]


def cluster_options(loaded: LoadedSite, catalog: Catalog, scenario: str, capacity: float, need_price: NeedPrice,
                    hall_slots: dict[str, HallSlots] | None = None, fitters: dict[tuple, FamilyWork] | None = None,
                    fork: bool = False, meanwhile: list[Callable[[], None]] | None = None) -> Options:
    """Every cluster option of the scenario (server choices x optics x cooling x size).
    ``hall_slots`` and ``fitters``: a PlanCache's, shared with the site's other scenarios.
    ``fork``: work the hall plans out in two processes, and ``meanwhile`` while the other
    takes plans (:func:`_work_out_plans`)."""
    site, ai = loaded.site, loaded.site.ai
    sc = site.scenarios[scenario]
    server_keys = [ai.server] + [k for k in ai.server_choices if k != ai.server]
    warnings: set[str] = set()
    capped_by: dict[tuple, str] = {}
    options = [ClusterOption(0, 0, None, 0.0, 0.0, {"servers": 0.0, "network": 0.0, "cabling": 0.0, "facility": 0.0},
                             pue=site.cooling.ai_pue)]
    halls = scenario_halls(loaded, scenario)
    min_gpus = ai.min_gpus
    workload_gpus = None
    for key in server_keys:
        loc = ("ai", "server") if key == ai.server else ("ai", "server_choices", ai.server_choices.index(key))
        server_cost = need_price(key, loc)
        required = ai.min_gpus
        if ai.workload is not None:
            need = _workload_gpus(loaded, catalog, key)
            workload_gpus = need if key == ai.server else workload_gpus
            required = max(required, need)
        if key == ai.server:
            min_gpus = required
        for optics in ai.optics:
            options += _enumerate_options(loaded, catalog, key, optics,
                                          capacity + (site.grid.expansion.add_mw if site.grid.expansion else 0.0),
                                          server_cost,
                                          sc.facility_usd_per_mw, need_price, warnings, capped_by, required, halls,
                                          scenario, hall_slots, fitters, fork, meanwhile)
    return options, warnings, capped_by, min_gpus, workload_gpus


# keys of [ai] that price or run the cluster (ScenarioInputs) but do not shape its options
AI_VALUATION_KEYS = ("lease_usd_per_gpu_hour", "utilization", "interruptible", "power_fraction", "gpu_life_years",
                     "gpu_resale_share")


def options_key(loaded: LoadedSite, scenario: str, catalog: Catalog) -> str:
    """What the cluster options depend on: the AI block, halls, routes, cabling, grid,
    cooling, costs and the scenario (never the economics), and the catalog."""
    import hashlib
    import json

    site = loaded.site
    parts = site.model_dump(mode="json", by_alias=True,
                            include={"ai", "buildings", "routes", "cabling", "grid", "cooling", "costs", "power_w"})
    for key in AI_VALUATION_KEYS:  # the value of the AI, not its options
        parts["ai"].pop(key, None)
    parts["scenario"] = site.scenarios[scenario].model_dump(mode="json")
    parts["twins"] = hall_twins(loaded, scenario_halls(loaded, scenario))  # the fleet's placement decides them
    parts["catalog"] = catalog.dirs  # one PlanCache serves one catalog (PlanCache.use_catalog)
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def distinct_options(options: list[ClusterOption], positions: dict[str, int], miners: list[MinerBlock]
              ) -> list[ClusterOption]:
    """Drop an option that the model cannot tell from an earlier one: the same size,
    server, optics, capex, power, PUE and floor space for the miners, in other halls
    (e.g. AI in hall-1 and hall-4 against hall-1 and hall-2). The earlier plan, in the
    halls' listed order, is kept, so that ties go to the first halls and not to the solver.
    Look-alikes whose cables cost differently (other halls, other lengths) are one option
    too: the one with the cheapest cabling, which the other can never beat."""
    kept: dict[tuple, int] = {}
    out: list[ClusterOption] = []
    for o in options:
        key = (o.server, o.optics, o.servers, o.gpus, o.required_gpus, o.server_power_w, o.network_power_w, o.pue,
               tuple(sorted((k, v) for k, v in o.capex_usd.items() if k != "cabling")),
               sum(positions.get(h.name, 0) for h in o.halls),
               tuple(sum(b.placed.get(h.name, 0) for h in o.halls) for b in miners),
               tuple(sorted((t, _media_look(m)) for t, m in o.fabric.media.items()))
               if o.fabric is not None else None)  # the same media (the longest link may differ)
        at = kept.get(key)
        if at is None:
            kept[key] = len(out)
            out.append(o)
        elif o.capex_usd.get("cabling", 0.0) < out[at].capex_usd.get("cabling", 0.0):
            out[at] = o
    return out


def _media_look(m: TierMedia) -> tuple:
    """A tier's media but its length: what :func:`distinct_options` tells options apart by (the
    fields of :class:`planner.network.media.TierMedia` but ``length_m``, as a copy of it with
    the length set to 0 compares, without making one for every option)."""
    return (m.tier, m.links, m.link_gbps, m.optic_class, m.lower, m.upper, m.cable_kind, m.cables, m.fibers_per_link)


def hall_twins(loaded: LoadedSite, halls: list[Building]) -> dict[str, str]:
    """For each of ``halls``, the first of them that is its twin: the same building in all but
    its name and its place on the campus (polygon, keep-outs, rack grid, meet-me room, cooling,
    power, costs, miner positions: every key of its [[buildings]] entry but ``name`` and
    ``origin``) and holding as many miners of each [[fleet.miners]] block.

    A cluster in one hall alone is laid out in the hall's own polygon and crosses no route, so
    a twin's single-hall plan has the first's options in every figure the model sees (sizes,
    fabric, power, PUE, capex, miner positions and miners displaced), its cables at lengths
    that differ only by the rounding of the hall's campus coordinates. :func:`distinct_options`
    would keep the first of such look-alikes, so the twin's plan is not worked out at all (a
    site of identical mining halls: its most costly plans). Plans of several halls cross
    routes, which set them apart, and are all worked out."""
    import json

    site = loaded.site
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    for b in halls:
        looks = json.dumps([b.model_dump(mode="json", exclude={"name", "origin"}),
                            [m.buildings.get(b.name, 0) for m in site.fleet.miners]], sort_keys=True, default=str)
        out[b.name] = first.setdefault(looks, b.name)
    return out


def _workload_gpus(loaded: LoadedSite, catalog: Catalog, server: str) -> int:
    """GPUs the site's workload needs on ``server`` (whole servers)."""
    from planner.energy.compute import ComputeError, inference_demand, training_demand

    w = loaded.site.ai.workload
    assert w is not None, "asked only for a site with a workload"
    try:
        if w.kind == "train":
            assert w.tokens is not None  # the schema requires tokens of a training workload
            d = training_demand(catalog, server, w.params, w.tokens, w.runs_per_month,
                                w.utilization, w.precision, w.sparse, 1.0, w.days_per_month)
        else:
            assert w.tokens_per_day is not None  # the schema requires tokens_per_day of an inference workload
            d = inference_demand(catalog, server, w.params, w.tokens_per_day, w.utilization,
                                 w.precision, w.sparse, 1.0)
    except ComputeError as exc:
        raise InputError([Problem(display_path(loaded.path), "ai.workload", str(exc),
                                  loaded.line("ai", "workload"))]) from None
    return d.gpus


def _enumerate_options(loaded: LoadedSite, catalog: Catalog, server_key: str, optics: str, capacity_mw: float,
                       server_cost: float, facility_usd_per_mw: float, need_price: NeedPrice, warnings: set[str],
                       capped_by: dict[tuple, str], min_gpus: int, halls: list[Building], scenario: str,
                       hall_slots: dict[str, HallSlots] | None = None,
                       fitters: dict[tuple, FamilyWork] | None = None, fork: bool = False,
                       meanwhile: list[Callable[[], None]] | None = None) -> list[ClusterOption]:
    """Cluster sizes of one server and optics family, from one step up to what the grid
    (or min/max GPUs, the fabric, the halls) allows, for every hall plan (which halls,
    as built or converted: :func:`hall_plans`)."""
    site, ai = loaded.site, loaded.site.ai
    server = catalog.servers[server_key]
    shown = display_path(loaded.path)
    pues = [site.cooling.ai_pue] + [p for b in halls for p in (b.pue, b.conversion.pue if b.conversion else None)
                                    if p is not None]
    per_server_mw = catalog.watts(server.key) / W_PER_MW * min(pues)
    ratio = capacity_mw / per_server_mw if per_server_mw else 0.0
    by_grid = math.floor(ratio) if math.isfinite(ratio) and ratio < 1e15 else 10**15  # counted, never listed
    by_min = math.ceil(min_gpus / server.gpus)
    limit = max(by_grid, by_min)
    capped = ["the grid capacity at max server power"]
    own_max = site.scenarios[scenario].max_gpus  # the scenario's own bound overrides ai.max_gpus
    max_gpus, max_key = (ai.max_gpus, "ai.max_gpus") if own_max is None else (own_max, f"scenarios.{scenario}.max_gpus")
    if max_gpus is not None and max_gpus // server.gpus < limit:
        limit = max_gpus // server.gpus
        capped = [f"{max_key} = {max_gpus}"]

    def spec_at(n: int) -> FabricSpec:
        return FabricSpec(servers=n, server=server.key, leaf_switch=ai.leaf_switch, spine_switch=ai.spine_switch,
                          core_switch=ai.core_switch, oversubscription=ai.oversubscription, optics=optics,
                          planes=ai.planes, dual_tor=ai.dual_tor, uplink_gbps=ai.uplink_gbps,
                          servers_per_su=ai.servers_per_su, spare_down_ports=ai.spare_down_ports,
                          spine_oversubscription=ai.spine_oversubscription)

    try:
        step = plan_shape(spec_at(1), catalog).servers_per_su if ai.step == "su" else 1
    except FabricError as exc:
        raise InputError([Problem(shown, "ai", f"{server.key}: {exc}", loaded.line("ai"))]) from None
    if own_max == 0:
        sizes = []
    elif ai.it_load_mw is not None:
        sizes = _sizes_near_it_load(catalog, spec_at, server.key, ai.it_load_mw * W_PER_MW, shown, loaded)
    else:
        count = limit // step if limit >= step else 0
        if count > MAX_SIZES:  # counted before a list of them, a fabric or a floor plan is built
            raise InputError([Problem(shown, "ai.step", f"{server.key}: {count:,} cluster sizes to try (steps of "
                                      f"{step} servers up to {limit:,}); at most {MAX_SIZES:,} are enumerated",
                                      loaded.line("ai"), "give ai.max_gpus, ai.step = \"su\" or ai.it_load_mw")])
        sizes = list(range(step, limit + 1, step))
        if ai.step == "su" and by_min > 0 and by_min % step:
            sizes.append(by_min)  # a partial last SU to meet the minimum exactly
    specs = []
    for n in sorted(set(sizes)):
        spec = spec_at(n)
        try:
            specs.append((spec, plan_shape(spec, catalog)))
        except FabricError as exc:
            if not specs:
                raise InputError([Problem(shown, "ai", f"{server.key}: {exc}", loaded.line("ai"))]) from None
            capped.append(f"larger fabrics do not fit: {exc}")
            break
    options: list[ClusterOption] = []
    plans, note = hall_plans(loaded, catalog, server.key, halls, scenario)
    if note:
        warnings.add(note)
    first_error: Exception | None = None
    if not plans:  # no hall takes the server, as built or converted: the layout says why
        from planner.network.plan_fits import fit_sizes

        fit = fit_sizes(catalog, server.key, [specs[0][1]], halls[:1], site.routes, site.cabling)[0]
        first_error = fit if isinstance(fit, LayoutError) else LayoutError(
            f"no hall of the scenario takes {server.key}")
    work = family_work(fitters, loaded, catalog, server.key, [sh for _, sh in specs], hall_slots)
    fitter, fabrics = work.fitter, work.fabrics
    twins = hall_twins(loaded, halls)
    single: set[tuple[str, str]] = set()  # (twin class, use) of the single-hall plans tried
    todo = []
    for plan in plans:
        if len(plan) == 1:
            alike = (twins[plan[0][0].name], plan[0][1])
            if alike in single:  # an earlier hall's plan gives its very options (see hall_twins)
                continue
            single.add(alike)
        todo.append(plan)

    def work_out(plan: tuple) -> PlanOutcome:
        out = PlanOutcome(capped=list(capped))

        def price(key: str, loc: tuple[str | int, ...]) -> float:
            out.priced.append((key, loc))
            return need_price(key, loc)

        try:
            out.found, out.error = _options_for(loaded, catalog, specs, plan, server, server_cost,
                                                facility_usd_per_mw, price, out.warned, out.capped,
                                                site.cooling.ai_pue, optics, min_gpus, fitter, fabrics)
        except InputError as exc:
            out.raised = exc
        return out

    def handed_over(plan: tuple, outcome: PlanOutcome) -> None:
        """In the child: what the plan's floor-plan work left in its fitter, for the parent to
        adopt (its later scenarios then find it as if worked out there)."""
        halls = [b for b, _ in plan]
        if halls and outcome.raised is None:
            outcome.fits = fitter.fits(halls, _need_hall(halls))
            outcome.memo = dict(fitter.plan_memo(halls))

    # worked out in two processes, plans of fewer halls first: a plan of more halls is mostly
    # held by the first ones (no option of its own) and takes little (see PlanFits)
    by_halls = sorted(range(len(todo)), key=lambda i: len(todo[i]))
    for plan, outcome in zip(todo, _work_out_plans(todo, work_out, fork, handed_over, meanwhile, by_halls),
                             strict=True):
        # in the plans' order, as if worked out one after the other here
        if outcome.elsewhere:
            for key, loc in outcome.priced:  # the prices the other process looked up, kept here
                need_price(key, loc)
            for o in outcome.found:
                o.memo.hall_slots = fitter.hall_slots
            halls = [b for b, _ in plan]
            if outcome.fits is not None and halls:
                fitter.adopt(halls, _need_hall(halls), outcome.fits, outcome.memo or {})
        warnings |= outcome.warned
        if outcome.raised is not None:
            raise outcome.raised
        found, error, group_capped = outcome.found, outcome.error, outcome.capped
        first_error = first_error or error
        if ai.it_load_mw is not None:
            found = _at_it_load(found, ai.it_load_mw * W_PER_MW)
            group_capped.append(f"ai.it_load_mw = {ai.it_load_mw:g} MW of critical IT")
            if not found and first_error is None:
                first_error = InputError([Problem(shown, "ai.it_load_mw", f"{server.key}: no cluster fits within "
                                                  f"{ai.it_load_mw:g} MW of IT load", loaded.line("ai", "it_load_mw"))])
        if found:
            capped_by[found[0].group] = group_capped[-1]
        options += found
    if not options and first_error is not None:
        if isinstance(first_error, InputError):
            raise first_error
        if optics != "auto" or len(ai.optics) > 1:
            warnings.add(f"{server.key} with {optics} optics: {first_error}")
        else:
            raise InputError([Problem(shown, "buildings", str(first_error), loaded.line("buildings"))])
    return options


def _need_hall(halls: list[Building]) -> str | None:
    """The hall a plan's sizes must reach to be its own (its last; none for one hall): smaller
    sizes are the same plan without that hall (:meth:`PlanFits.fits`)."""
    return halls[-1].name if len(halls) > 1 else None


@dataclass
class PlanOutcome:
    """What working one hall plan out gives (:func:`_options_for`): its options, or why it
    has none, the reasons its sizes stop (``capped``), the warnings and the part prices it
    looked up, or the input error it raised; ``elsewhere``: worked out in another process."""

    capped: list[str]
    found: list[ClusterOption] = dataclasses.field(default_factory=list)
    error: Exception | None = None
    warned: set[str] = dataclasses.field(default_factory=set)
    priced: list[tuple[str, tuple[str | int, ...]]] = dataclasses.field(default_factory=list)
    raised: InputError | None = None
    elsewhere: bool = False
    # from another process: the plan's fits and plan memo there (PlanFits.adopt)
    fits: list | None = None
    memo: dict | None = None


def _work_out_plans(plans: list[tuple], work_out: Callable[[tuple], PlanOutcome], fork: bool,
                    handed_over: Callable[[tuple, PlanOutcome], None] | None = None,
                    meanwhile: list[Callable[[], None]] | None = None,
                    order: list[int] | None = None) -> list[PlanOutcome]:
    """``work_out`` of each plan, in order. With ``fork`` (and a second core, on Linux, in a
    process that runs no other thread), two processes share the work: a child forked from this
    one (holding the floor-plan work done so far) and this one each take the next plan not yet
    taken, from a pipe that holds their numbers in ``order`` (the plans' own order without
    it), until none is left; the child sends its outcomes back, each first given to
    ``handed_over`` (there, in the child: what else of its work this process should keep).
    Plans differ widely in cost (a plan through a missing route fails at once), so they are
    taken, not dealt, and the costly ones first: the last plans taken are then short, and
    neither process waits long for the other. Should the child fail, its plans are worked out
    here. ``meanwhile``: work this process does after its first plan, while the child takes
    the next ones (each job taken from the list and done once; one that fails is left for its
    caller to meet again when it needs it); its first plan gives it the floor-plan work the
    plans after it share."""
    import contextlib
    import os
    import pickle
    import threading

    if (not fork or len(plans) < 2 or len(plans) > 255 or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork")
            or threading.active_count() > 1):  # a fork copies no thread, but may copy a lock one holds
        return [work_out(p) for p in plans]
    numbers_r, numbers_w = os.pipe()
    # at most 255 plans: one byte each (MAX_HALL_PLANS is 32)
    os.write(numbers_w, bytes(range(len(plans)) if order is None else order))
    os.close(numbers_w)
    back_r, back_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(numbers_r)
        os.close(back_r)
        os.close(back_w)
        return [work_out(p) for p in plans]
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(back_r)
            mine = {}
            while taken := os.read(numbers_r, 1):
                outcome = work_out(plans[taken[0]])
                if handed_over is not None:
                    handed_over(plans[taken[0]], outcome)
                for o in outcome.found:
                    o.memo.hall_slots = {}  # the parent's own are put back
                mine[taken[0]] = outcome
            with os.fdopen(back_w, "wb") as sink:
                pickle.dump(mine, sink, protocol=pickle.HIGHEST_PROTOCOL)  # an InputError keeps its problems
            code = 0
        finally:
            os._exit(code)
    os.close(back_w)
    outcomes: dict[int, PlanOutcome] = {}
    try:
        while taken := os.read(numbers_r, 1):
            outcomes[taken[0]] = work_out(plans[taken[0]])
            while meanwhile:  # after this process's first plan
                with contextlib.suppress(Exception):
                    meanwhile.pop(0)()
        while meanwhile:  # the child took every plan
            with contextlib.suppress(Exception):
                meanwhile.pop(0)()
    except BaseException:  # a fault here, or an interrupt: the child's work is not wanted
        import signal

        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(back_r)
        raise
    finally:
        os.close(numbers_r)
    with os.fdopen(back_r, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0 and data:
        for i, outcome in pickle.loads(data).items():
            outcome.elsewhere = True
            outcomes[i] = outcome
    return [outcomes[i] if i in outcomes else work_out(p) for i, p in enumerate(plans)]


def _sizes_near_it_load(catalog: Catalog, spec_at: Callable[[int], FabricSpec], server: str, target_w: float,
                        shown: str, loaded: LoadedSite) -> list[int]:
    """Server counts around the largest cluster whose IT load (servers, fabric at its
    default lengths, management network) stays within ``target_w``: the floor plan's
    lengths may change the optics a little, so a few sizes either side are tried."""
    def it_w(n: int) -> float:
        fabric = count_fabric(spec_at(n), catalog)
        power, _ = fabric.power_w(catalog)
        return n * catalog.watts(server) + power["switches"] + power["optics"] + oob_power_w(
            catalog, server, n, fabric)

    lo, hi = 0, max(1, math.floor(target_w / catalog.watts(server)))
    try:
        while lo < hi:  # the largest n with it_w(n) <= target (IT power grows with n)
            mid = (lo + hi + 1) // 2
            if it_w(mid) <= target_w:
                lo = mid
            else:
                hi = mid - 1
    except FabricError as exc:
        raise InputError([Problem(shown, "ai.it_load_mw", f"{server}: {exc}", loaded.line("ai", "it_load_mw"))]
                         ) from None
    if lo == 0:
        raise InputError([Problem(shown, "ai.it_load_mw", f"one {server} takes {it_w(1) / W_PER_MW:.4g} MW of IT load, "
                                  f"above {target_w / W_PER_MW:g} MW", loaded.line("ai", "it_load_mw"))])
    return [n for n in range(lo - 3, lo + 4) if n >= 1]


def _at_it_load(options: list[ClusterOption], target_w: float) -> list[ClusterOption]:
    """The largest option within the IT load, which the plan must then build."""
    within = [o for o in options if o.it_power_w <= target_w]
    if not within:
        return []
    best = max(within, key=lambda o: o.servers)
    return [dataclasses.replace(best, required_gpus=best.gpus)]


MAX_HALL_PLANS = 32  # hall plans enumerated per server and optics family


MAX_SIZES = 20_000  # cluster sizes per server and optics family (each one a fabric count)


def hall_plans(loaded: LoadedSite, catalog: Catalog, server_key: str, halls: list, scenario: str,
               ) -> tuple[list[tuple[tuple, ...]], str]:
    """The ways a cluster may use the scenario's halls: for each hall in the listed order,
    left out, used as built (or built, when new) or used after its cooling conversion.
    A plan is a tuple of (building as used, use). Racks fill a plan's halls in order.

    A hall may be left out (and the next one used) where that can pay: a hall whose miner
    positions a hybrid plan could keep, any hall when the scenario lists both existing
    and new halls (convert or build new), and a hall that cannot take the server either
    way. Above MAX_HALL_PLANS plans, halls are no longer left out, then every hall is
    used alike; the note says so.
    """
    from planner.network.halls import systems_per_rack

    if not halls:
        return [()], ""
    sc = loaded.site.scenarios[scenario]
    mixed = len({b.status for b in halls}) > 1
    choices = []
    for b in halls:
        uses = []
        if systems_per_rack(catalog, server_key, b) >= 1:
            uses.append((b, "new" if b.status == "new" else "as built"))
        if b.conversion is not None and systems_per_rack(catalog, server_key, converted_hall(b)) >= 1:
            uses.append((converted_hall(b), "converted"))
        may_skip = (not uses or mixed or (sc.kind == "hybrid" and bool(b.miner_positions)))
        choices.append((uses, may_skip))

    def enumerate_plans(skips: bool, alike: bool) -> list[tuple]:
        """Every plan, as the halls it uses in order (a plan stops at its last hall: the
        halls after it are not reached)."""
        plans: list[tuple] = [()]
        out: list[tuple] = []
        for uses, may_skip in choices:
            grown = []
            for plan in plans:
                if (skips and may_skip) or not uses:
                    grown.append(plan)
                if alike and plan:
                    same = [u for u in uses if u[1] == plan[-1][1]]
                    grown += [(*plan, u) for u in (same or uses[:1])]
                else:
                    grown += [(*plan, u) for u in uses]
            plans = grown
            out += [p for p in grown if p and any(p[-1] is u for u in uses)]  # plans ending here
        # halls are not hashable; identity is safe here: every plan holds its halls while
        # this dictionary lives (it is not a cache)
        unique = {tuple((id(b), use) for b, use in p): p for p in out}
        return list(unique.values())

    plans = enumerate_plans(True, False)
    note = ""
    if len(plans) > MAX_HALL_PLANS:
        total = len(plans)
        plans = enumerate_plans(False, False)
        if len(plans) > MAX_HALL_PLANS:
            plans = enumerate_plans(False, True)
            how = "used in order, all as built or all converted"
        else:
            how = "used in order (none left out)"
        note = (f"scenario {scenario!r}: the {len(halls)} halls give {total} hall plans for {server_key}; "
                f"only {len(plans)} were tried, halls {how}: list fewer halls in scenarios.{scenario}.buildings")
    return plans, note


def _options_for(loaded: LoadedSite, catalog: Catalog, specs: list[tuple[FabricSpec, Shape]],
                 plan: tuple[tuple[Building, str], ...], server: Server, server_cost: float,
                 facility_usd_per_mw: float, need_price: NeedPrice, warnings: set[str], capped: list[str],
                 default_pue: float, optics: str, required: int, fitter: PlanFits, fabrics: FabricMemo,
                 ) -> tuple[list[ClusterOption], Exception | None]:
    """Cluster options of one hall plan, smallest first: the sizes whose racks reach the
    plan's last hall (smaller ones are the same plan without that hall). ``fitter`` (a
    :class:`planner.network.plan_fits.PlanFits` of the family's sizes) and ``fabrics`` share the
    floor-plan work and the fabric counts between the family's plans. Returns the
    options and, when there are none, why."""
    site = loaded.site
    options: list[ClusterOption] = []
    halls = [b for b, _ in plan]
    uses = {b.name: use for b, use in plan}
    by_name = {b.name: b for b in halls}
    if halls:
        fits = fitter.fits(halls, need_hall=_need_hall(halls))
    else:
        from planner.network.layout import Fit

        fits = [Fit({}, {}, frozenset())] * len(specs)
    # routes between the plan's halls beyond a tier's grey reach: its links over them ride the interconnect
    from planner.network.campus import campus_interconnect, local_lengths, local_links, tier_far, tier_gbps

    routes = [r for r in site.routes if r.from_building in by_name and r.to_building in by_name]
    error: Exception | None = None
    for i, ((spec, shape), fit) in enumerate(zip(specs, fits, strict=True)):
        if fit is None:
            continue
        far = tier_far(routes, catalog, tier_gbps(shape)) if routes else {}
        if isinstance(fit, Exception):
            if options:
                capped.append(f"space: {fit}")
            else:
                error = fit
            break
        links = fitter.links(halls, i) if far else None
        lengths = local_lengths(links, far) if links is not None else fit.lengths
        if lengths:
            spec = dataclasses.replace(spec, lengths_m={t: v for t, v in lengths.items() if v})
        n = spec.servers
        try:
            fabric = fabrics.count(spec)
        except FabricError as exc:
            if options:
                capped.append(f"larger fabrics do not fit: {exc}")
            else:
                error = exc if optics != "auto" or len(site.ai.optics) > 1 else InputError(
                    [Problem(display_path(loaded.path), "ai", f"{server.key}: {exc}", loaded.line("ai"))])
            break
        try:
            power, _ = fabric.power_w(catalog)
            oob_w = oob_power_w(catalog, server.key, n, fabric)
        except MissingPower as exc:
            raise InputError([Problem(display_path(loaded.path), "ai", str(exc), loaded.line("ai"),
                                      power_hint(exc.key))]) from None
        network = 0.0
        for tier, count in fabric.switches.items():
            if count:
                network += count * need_price(fabric.switch_models[tier], ("ai", f"{tier}_switch"
                                              if tier != "leaf" else "leaf_switch"))
        for key, count in fabric.transceivers.items():
            network += count * need_price(key, ("ai", "leaf_switch"))
        try:
            campus = (campus_interconnect(links, far, fabric.media, catalog, fabric.switch_models,
                                          display_path(loaded.path)) if links is not None else None)
        except InputError as exc:  # no module reaches, or none fits the ports: plans across it are refused
            warnings.add(f"plans across {exc.problems[0].key.removesuffix('.polyline')} are refused: "
                         f"{exc.problems[0].message}")
            if options:
                capped.append(f"larger fabrics cross a route no interconnect carries: {exc.problems[0].message}")
            else:
                error = exc
            break
        if campus is not None and campus.unpriced:
            raise InputError([Problem(display_path(loaded.path), f"routes[{campus.routes[0].route.index}]",
                                      "the interconnect of a route beyond grey reach cannot be priced: "
                                      + "; ".join(campus.unpriced), loaded.line("routes"))])
        server_w = n * catalog.watts(server.key)
        network_w = power["switches"] + power["optics"] + oob_w
        if campus is not None:  # its modules replace the tier optics of the crossing links
            network -= sum(k * need_price(key, ("ai", "leaf_switch")) for key, k in campus.replaced.items())
            network_w += campus.power_w - sum(k * catalog.watts(key) for key, k in campus.replaced.items())
        it_w = server_w + network_w
        endpoints = sum(fit.endpoints.values())
        used = []
        for b in halls:
            if b.name in fit.halls:
                hall_w = it_w * fit.endpoints.get(b.name, 0) / endpoints if endpoints else 0.0
                conversion = (hall_w / W_PER_MW * b.conversion.usd_per_mw
                              if uses[b.name] == "converted" and b.conversion is not None else 0.0)
                used.append(HallUse(b.name, uses[b.name], hall_w, conversion))
        pue = (sum(h.it_w * (by_name[h.name].pue or default_pue) for h in used) / it_w
               if used and it_w else max((b.pue or default_pue for b in halls), default=default_pue))
        facility = sum(h.it_w / W_PER_MW * _facility_rate(by_name[h.name], facility_usd_per_mw)
                       for h in used) if used else it_w / W_PER_MW * facility_usd_per_mw
        # the cables priced from the option's own floor plan (without halls: at the lengths its
        # media were chosen for, an ESTIMATE), the same lines the BOM prints for it
        from planner.network.cabling import cable_capex

        # the plan, the size and the catalog decide the cables (through the fit's lengths, the
        # fabric's media and the routes beyond grey reach): priced once for every scenario
        memo = fitter.plan_memo(halls) if halls else {}
        cabling = memo.get(("cabling", i))
        if cabling is None:
            if links is None:
                links = fitter.links(halls, i) if halls else None
            cabling = memo["cabling", i] = cable_capex(local_links(links, far) if links is not None else None,
                                                       fabric, catalog)
        capex = {"servers": n * server_cost, "network": network, "cabling": cabling, "facility": facility}
        if campus is not None:
            capex["interconnect"] = campus.capex_usd
        if any(h.use == "converted" for h in used):
            capex["cooling_conversion"] = sum(h.conversion_usd for h in used)
        option = ClusterOption(
            servers=n, gpus=n * server.gpus, fabric=fabric, server_power_w=server_w,
            network_power_w=network_w, capex_usd=capex, pue=pue, server=server.key, optics=optics,
            required_gpus=required, halls=tuple(used), interconnect=campus,
        )
        option.memo.hall_slots = fitter.hall_slots
        options.append(option)
    return options, (error if not options else None)


def _facility_rate(b: Building, scenario_usd_per_mw: float) -> float:
    """Facility capex per MW of AI IT load placed in hall ``b``: the hall's own, else the scenario's."""
    return b.facility_usd_per_mw if b.facility_usd_per_mw is not None else scenario_usd_per_mw


def scenario_halls(loaded: LoadedSite, scenario: str) -> list[Building]:
    """Halls a scenario builds in: those it names, else existing halls for retrofit and
    hybrid and new halls for greenfield."""
    site = loaded.site
    sc = site.scenarios[scenario]
    if sc.buildings is not None:
        by_name = {b.name: b for b in site.buildings}
        return [by_name[name] for name in sc.buildings]  # in the scenario's order: the fill order
    wanted = "new" if sc.kind == "greenfield" else "existing"
    return [b for b in site.buildings if b.status == wanted]


def oob_power_w(catalog: Catalog, server: str, servers: int, fabric: FabricCounts) -> float:
    """Power of the out-of-band network's access switches: one port per BMC and per
    fabric switch (:func:`planner.network.access.access_network`)."""
    from planner.network.access import access_network, oob_endpoints

    endpoints = oob_endpoints(catalog, server, servers, sum(fabric.switches.values()))
    n = access_network(catalog, "oob", endpoints, catalog.access_switch).access_switches
    return n * catalog.watts(catalog.access_switch) if n else 0.0


def power_hint(key: str) -> str:
    return (f"give it a power figure with its source, a [[power_estimate]] with its basis in an overlay "
            f"catalog, or [power_w] \"{key}\" = W in the site file")

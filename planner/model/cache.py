"""What a caller keeps between solves so that a second solve of a similar site is fast.

One :class:`PlanCache` is made by whoever runs the solves and lives as long as they do:
the TUI holds one for its lifetime (re-solves after an edit), each sweep worker holds one
for the sweep (many variants of one site), a ``planner`` command makes one per run (the
scenarios of a site share it). It is passed down explicitly
(:func:`planner.app.pipeline.solve_site` -> :func:`planner.model.inputs.prepare` ->
the price profile and the floor-plan fitter); no stage keeps a cache of its own.

Every entry is keyed by what its value depends on, never by ``id()``:

- ``prices``: the unscaled price profile, by the price section, cooling, capacity and the
  series file's path, mtime and size (:func:`planner.energy.prices.price_profile`, which
  is given this section alone);
- ``options``: the cluster options of a scenario (fabric counts, floor-plan fits), by
  :func:`planner.model.options.options_key` (a hash of what shapes them, never the
  economics), and ``distinct``: those options with look-alikes merged (with their figures as
  arrays, :class:`planner.model.scenario.OptionColumns`), by that key and the miners'
  placement, and ``figures``: the power figures of the parts those options and the miners
  may buy, by that key and the miners' models. All three belong to one catalog:
  :meth:`PlanCache.use_catalog` empties them when another catalog comes (the cache holds
  the catalog's entries, so the check is by identity of a live object);
- ``fitters``: the floor-plan fitter and fabric counts of one server's cluster sizes
  (:class:`planner.model.options.FamilyWork`), by the server, the sizes' shapes and the
  catalog's power figures, shared by the scenarios of one site: a retrofit's hall plans are
  mostly a hybrid's, and their fits, fabric counts and cable prices are worked out once.
  An entry holds the site it was made for and serves that site object only (its halls,
  routes and cabling); another site's first entry empties it. Emptied with ``options`` too;
- ``hall_slots``: a hall's rack positions split for the placer, by the hall's geometry
  (:class:`planner.network.plan_fits.PlanFits`): a hall and its converted self, or the same
  hall in many plans and scenarios, share them.

The floor plan of a chosen cluster option is not here: it is kept on the option itself
(:attr:`planner.model.scenario.ClusterOption.memo`), so it lives exactly as long as the
option (in ``options`` above, or in one run's results).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.energy.prices import PriceProfile
    from planner.model.options import OptionsEntry
    from planner.model.scenario import OptionColumns
    from planner.parts.catalog import Catalog
    from planner.parts.models import PowerFigure


@dataclass
class PlanCache:
    """Caches of derived plan data, owned by the caller (see the module's docstring).

    ``max_entries`` bounds ``prices``, ``options`` and ``distinct`` together (all three, and
    ``figures``, are emptied when they hold more entries than that as a solve starts; None:
    unbounded; ``figures`` has an entry only beside one of ``distinct``);
    ``hall_slots`` is bounded by the floor plan (256 halls' geometries); ``fitters`` holds
    one site's entries at a time (and is emptied with ``options``).
    """

    max_entries: int | None = None
    prices: dict[tuple, PriceProfile] = field(default_factory=dict)
    options: dict[str, OptionsEntry] = field(default_factory=dict)
    distinct: dict[tuple, OptionColumns] = field(default_factory=dict)  # .options: the options
    figures: dict[tuple, dict[str, PowerFigure]] = field(default_factory=dict)
    hall_slots: dict[str, Any] = field(default_factory=dict)  # halls.HallSlots, kept for the floor plan
    fitters: dict[tuple, Any] = field(default_factory=dict)  # options.FamilyWork
    # work a scenario's hall plans out in two processes (this one and a child forked from it):
    # only for a caller that runs no other thread while it prepares (a sweep's seed)
    fork_plans: bool = False
    # work this process does, once each, after its first hall plan while the forked child takes
    # the next ones (a sweep's own imports), instead of after its last, the child then idle
    meanwhile: list[Callable[[], None]] = field(default_factory=list)
    _entries: object = field(default=None, repr=False)  # the catalog entries the options were made from

    def use_catalog(self, catalog: Catalog) -> None:
        """Forget the cluster options when they were made from another catalog."""
        if self._entries is not catalog.entries:
            self.options.clear()
            self.distinct.clear()
            self.figures.clear()
            self.fitters.clear()
            self._entries = catalog.entries
        held = len(self.prices) + len(self.options) + len(self.distinct)
        if self.max_entries is not None and held > self.max_entries:
            self.prices.clear()
            self.options.clear()
            self.distinct.clear()
            self.figures.clear()
            self.fitters.clear()

    def clear(self) -> None:
        self.prices.clear()
        self.options.clear()
        self.distinct.clear()
        self.figures.clear()
        self.fitters.clear()
        self.hall_slots.clear()

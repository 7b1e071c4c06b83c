"""State that a run keeps on each Dask worker while it runs, held by a worker plugin.

:func:`hold` registers the plugin (every worker, and any that joins later, makes a fresh
state with ``factory``); the run's tasks find it with :func:`state_of`; :func:`release`
takes it away from a cluster the run does not own. The sweep keeps its
:class:`~planner.app.sweep.SweepState` so (the catalog, the base site and a PlanCache).
Imported only where Dask runs (``distributed`` is a heavy import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distributed import Client, Worker, WorkerPlugin, get_worker


class WorkerState(WorkerPlugin):
    """Keeps one state, made by ``factory``, on a worker from setup to teardown."""

    def __init__(self, name: str, factory: Callable[[], Any]) -> None:
        self.name, self.factory = name, factory
        self.state: Any = None

    def setup(self, worker: Worker) -> None:
        self.state = self.factory()

    def teardown(self, worker: Worker) -> None:
        self.state = None


def hold(client: Client, name: str, factory: Callable[[], Any]) -> None:
    """Give every worker of ``client``'s cluster a state made by ``factory``, named ``name``."""
    client.register_plugin(WorkerState(name, factory), name=name)


def release(client: Client, name: str) -> None:
    """Take the states named ``name`` away again."""
    client.unregister_worker_plugin(name)


def state_of(name: str, factory: Callable[[], Any]) -> Any:
    """This worker's state named ``name``; a fresh one outside a worker or without the plugin."""
    try:
        plugin = get_worker().plugins.get(name)
    except ValueError:  # not running on a worker
        plugin = None
    state = getattr(plugin, "state", None)
    return state if state is not None else factory()

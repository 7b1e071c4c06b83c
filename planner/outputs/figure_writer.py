"""The figures' background writer: a forked process that imports matplotlib while the run
reads its inputs and solves, then draws the run's :class:`Job` figures beside the rest of
its work. :func:`planner.outputs.export.write_outputs` submits the jobs and moves their
files into place with the others; the writer never outlives the run that started it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor


@dataclass(frozen=True)
class Job:
    """A writer that may run in another process: ``fn(path=path, **kwargs)``, with a
    module-level ``fn`` and picklable ``kwargs`` (a figure from its data). Called in
    process, it is an ordinary writer."""

    fn: Callable[..., None]
    kwargs: dict[str, object]

    def __call__(self, path: Path) -> None:
        self.fn(path=path, **self.kwargs)


class Drawn:
    """A :class:`Job` sent to the writer ahead of the run's output (:meth:`submit`): the
    writer draws it into a file of its own and sends the bytes back. Called with a path, it
    waits for them and writes them there; should the writer have died, it draws the file
    in process, as the output set's writer does for its jobs."""

    def __init__(self, job: Job, future: Future[bytes]):
        self.job, self.future = job, future

    @classmethod
    def submit(cls, pool: ProcessPoolExecutor, job: Job, name: str) -> Drawn:
        """Send ``job`` for the file ``name`` (its suffix picks the format: .png)."""
        return cls(job, pool.submit(_draw, job, Path(name).suffix, _folder_of(pool)))

    def __call__(self, path: Path) -> None:
        from concurrent.futures.process import BrokenProcessPool

        try:
            data = self.future.result()  # a job's error is the run's error, as in process
        except BrokenProcessPool:
            self.job(path)
            return
        path.write_bytes(data)


def _draw(job: Job, suffix: str, folder: str | None = None) -> bytes:
    """In the writer: draw ``job`` into a private temporary folder and return the file. The
    folder is made inside ``folder``, the one the run made for the writer's figures, which the
    run removes when it stops the writer: a writer killed while it draws (the run failed)
    leaves none behind."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="planner-figure-", dir=folder) as private:
        path = Path(private) / f"figure{suffix}"
        job(path)
        return path.read_bytes()


def _warm(parent: int) -> None:
    """A background writer's first act: tie its life to the run's, then import matplotlib and
    draw a small figure into memory (fonts, text and the PNG writer loaded), while the run
    that started it reads its inputs and solves. The figures' data arrive as arrays, so the
    writer never imports pandas."""
    die_with(parent)
    warm_pyplot()


def warm_pyplot() -> None:
    """Import matplotlib's pyplot (headless) and draw a small figure into memory: its fonts,
    text layout and PNG writer loaded before the first real figure."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2), dpi=40)
    ax.plot([0, 1], [0, 1])
    ax.set_title("warm")
    fig.tight_layout()
    fig.set_layout_engine(None)  # as planner.outputs.plots saves its figures
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def die_with(parent: int) -> None:
    """Never outlive the run: a run killed with SIGKILL cannot stop its writer, and a writer
    left waiting would hold the run's standard error open (a caller waiting for its end would
    wait for ever) and its pipes (it would never see them close). So the writer lets go of
    the run's output streams (its errors reach the run through the pool, not stderr), asks
    the kernel to kill it when the run ends (Linux), and else watches for its parent to go."""
    import signal
    import threading

    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            raise OSError
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == parent:
                threading.Event().wait(0.5)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the run ended before the writer started
        os._exit(0)


def background_writer() -> ProcessPoolExecutor | None:
    """A process that writes the run's :class:`Job` files (the figures) beside the run's
    own work, on a machine with more than one core and where processes can be forked
    cheaply; None otherwise (the jobs then run in process), or when ``PLANNER_SERIAL_OUTPUTS``
    is set. Start it before the run starts any thread; shut it down when the run ends."""
    import multiprocessing

    if os.environ.get("PLANNER_SERIAL_OUTPUTS") or (os.cpu_count() or 1) < 2 \
            or "fork" not in multiprocessing.get_all_start_methods():
        return None
    from concurrent.futures import ProcessPoolExecutor

    try:
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_warm,
                                   initargs=(os.getpid(),))
    except OSError:  # no process to be had: write in process
        return None


_FOLDERS: dict[int, str] = {}  # each running writer's temporary folder, by its pool's id


FOLDER_PREFIX = "planner-figures-"  # then the run's process id and a dash


def _folder_of(pool: ProcessPoolExecutor) -> str | None:
    """The temporary folder of the writer's figures, made when the run sends its first one (a
    run that never draws makes none); None where none can be made (the default one then).
    Its name holds the run's process id: the folders of runs killed before they could remove
    their own (SIGKILL) are removed here (:func:`remove_orphans`)."""
    import tempfile

    if id(pool) not in _FOLDERS:
        remove_orphans(tempfile.gettempdir())
        try:
            _FOLDERS[id(pool)] = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        except OSError:
            return None
    return _FOLDERS[id(pool)]


def remove_orphans(temp: str) -> None:
    """Remove the figures' folders in ``temp`` of runs that are no longer running: a folder
    named for a process id no process has. A folder of a live process (or of one this user
    may not signal) is left, as is anything else."""
    import re
    import shutil

    try:
        names = os.listdir(temp)
    except OSError:
        return
    for name in names:
        match = re.fullmatch(re.escape(FOLDER_PREFIX) + r"(\d+)-\w+", name)
        if match is None or int(match.group(1)) == os.getpid() or not process_gone(int(match.group(1))):
            continue
        path = os.path.join(temp, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def process_gone(pid: int) -> bool:
    """No process has this id (the run that named a file for it was killed). False for a
    live process, one this user may not signal, and a number that is no process id."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return False


def _shut(pool: ProcessPoolExecutor) -> None:
    """Shut the writer down, its jobs done or cancelled, and remove its temporary folder."""
    import shutil

    pool.shutdown(wait=True, cancel_futures=True)
    folder = _FOLDERS.pop(id(pool), None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_EARLY: list[ProcessPoolExecutor] = []  # a writer started by the entry point, not yet taken


def start_early() -> ProcessPoolExecutor | None:
    """Start the run's writer now, before the command is parsed (:mod:`planner.app.entry`):
    :func:`figure_writer` takes it instead of starting its own. None where no writer is
    made (:func:`background_writer`)."""
    pool = background_writer()
    if pool is not None:
        pool.submit(int)  # the process starts now, not at the first figure
        _EARLY.append(pool)
    return pool


def stop_unused(pool: ProcessPoolExecutor) -> None:
    """A writer started early that the command never took (help, a usage error): stopped
    at once, not waited for while it imports matplotlib."""
    if pool in _EARLY:
        _EARLY.remove(pool)
        _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the writer without waiting for its work: a run that failed has no use for its
    figures, and the writer may still be importing its libraries."""
    processes = getattr(pool, "_processes", None) or {}  # the executor's table of its processes
    for process in list(processes.values()):
        with suppress(OSError, ValueError, AttributeError):
            process.kill()
    _shut(pool)


@contextmanager
def figure_writer() -> Iterator[ProcessPoolExecutor | None]:
    """The run's :func:`background_writer` (or None): the one the entry point started early
    (:func:`start_early`), else one started at once, so that it imports its libraries while
    the run reads its inputs and solves. Shut down when the run ends, its jobs done; stopped
    at once when the run fails."""
    if _EARLY:
        pool: ProcessPoolExecutor | None = _EARLY.pop()
    else:
        pool = background_writer()
        if pool is not None:
            pool.submit(int)  # the process starts now, not at the first figure
    try:
        yield pool
    except BaseException:
        if pool is not None:
            _stop(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            _shut(pool)

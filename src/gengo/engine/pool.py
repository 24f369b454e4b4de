"""The one process pool: workers forked from the fork server, the same initializer for table
chunks and parts; or, for one worker, the caller's own process.

Two ways of driving it: ``ordered`` keeps a bounded window of tasks and yields their results in
submission order (table chunks appended by the parent), ``unordered`` yields results as they
complete (parts, which workers write themselves).
"""

from __future__ import annotations

import contextlib
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from gengo.core.errors import GengoError
from gengo.engine.forkserver import forkserver_context
from gengo.engine.worker import init_worker, setup

T = TypeVar("T")
Describe = Callable[[Any, BaseException], GengoError]  # (task, exception) -> the one line to report


class Pool:
    """``workers`` processes (or this process for one); a context manager that ends them on failure."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers == 1:
            setup(worker=False)
        else:
            self._pool = ProcessPoolExecutor(workers, mp_context=forkserver_context(), initializer=init_worker)
        self._ok = False

    @property
    def window(self) -> int:
        """Tasks in flight at once: enough to keep every worker busy while the parent writes."""
        return 1 if self._pool is None else 2 * self.workers + 1

    def ordered(self, fn: Callable[..., T], tasks: Iterable[tuple], describe: Describe) -> Iterator[tuple[tuple, T]]:
        """``fn(*task)`` for every task, yielded in task order, at most ``window`` in flight."""
        if self._pool is None:
            for task in tasks:
                yield task, self._call(fn, task, describe)
            return
        window: deque[tuple[Future, tuple]] = deque()
        it = iter(tasks)
        while True:
            while len(window) < self.window and (task := next(it, None)) is not None:
                window.append((self._submit(fn, task), task))
            if not window:
                return
            future, task = window.popleft()
            yield task, self._result(future, task, describe)

    def unordered(self, fn: Callable[..., T], tasks: list[tuple], describe: Describe) -> Iterator[tuple[tuple, T]]:
        """``fn(*task)`` for every task, yielded as each completes."""
        if self._pool is None:
            for task in tasks:
                yield task, self._call(fn, task, describe)
            return
        pending = {self._submit(fn, task): task for task in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                yield task, self._result(future, task, describe)

    def flow(
        self,
        tasks: Iterable[tuple[Callable, tuple]],
        then: Callable[[tuple, Any], Iterable[tuple[Callable, tuple]]],
        describe: Describe,
    ) -> Iterator[tuple[tuple, Any]]:
        """``fn(*task)`` for every (fn, task), yielded as each completes, at most ``window`` in flight;
        ``then(task, result)`` (in this process) returns tasks that the result made ready, which
        run before the remaining ones (work of two rounds overlapping: no barrier between them)."""
        ready: deque[tuple[Callable, tuple]] = deque()
        rest = iter(tasks)

        def take() -> tuple[Callable, tuple] | None:
            return ready.popleft() if ready else next(rest, None)

        if self._pool is None:
            while (item := take()) is not None:
                fn, task = item
                result = self._call(fn, task, describe)
                ready.extend(then(task, result))
                yield task, result
            return
        pending: dict[Future, tuple] = {}
        while True:
            while len(pending) < self.window and (item := take()) is not None:
                pending[self._submit(item[0], item[1])] = item[1]
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                result = self._result(future, task, describe)
                ready.extend(then(task, result))
                yield task, result

    @staticmethod
    def _call(fn: Callable[..., T], task: tuple, describe: Describe) -> T:
        try:
            return fn(*task)
        except (GengoError, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise describe(task, exc) from exc

    def _submit(self, fn: Callable[..., T], task: tuple) -> Future:
        try:
            return self._pool.submit(fn, *task)
        except BrokenProcessPool as exc:  # a worker died since the last result
            raise self._died() from exc

    def _result(self, future: Future, task: tuple, describe: Describe):
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise self._died() from exc
        except GengoError:
            raise
        except Exception as exc:
            raise describe(task, exc) from exc

    def _died(self) -> GengoError:
        """What became of the worker that broke the pool, as far as its exit status tells."""
        codes = [p.exitcode for p in (getattr(self._pool, "_processes", None) or {}).values()]
        codes = [c for c in codes if c not in (None, 0)]
        if any(c < 0 for c in codes):
            sig = next(-c for c in codes if c < 0)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
            hint = " (out of memory?)" if sig == signal.SIGKILL else ""
            return GengoError(f"a worker process was killed by {name}{hint}")
        if codes:
            return GengoError(f"a worker process exited with status {codes[0]} (its error is printed above)")
        return GengoError("a worker process died (killed by a signal or out of memory?)")

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)

    def close(self, abort: bool) -> None:
        """Shut the pool down; with ``abort``, cancel queued work and end the workers now."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if abort:
            # shutdown() forgets the processes, its result queue and its manager thread: take them first.
            procs = list((getattr(pool, "_processes", None) or {}).values())
            results = getattr(pool, "_result_queue", None)
            manager = getattr(pool, "_executor_manager_thread", None)
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                with contextlib.suppress(Exception):
                    proc.terminate()
            for proc in procs:  # dead before the caller cleans up what they were writing
                with contextlib.suppress(Exception):
                    proc.join(timeout=10)
            # A worker ended while it sent a result leaves half a message in the result pipe, and
            # the manager thread waits for the rest forever (the process would hang at exit): with
            # the workers gone, closing this process's end of the pipe gives that read an EOF.
            if results is not None and manager is not None and manager.is_alive():
                manager.join(timeout=0.2)
                if manager.is_alive():
                    with contextlib.suppress(Exception):
                        results._writer.close()
                    manager.join(timeout=10)
        pool.shutdown(wait=True)

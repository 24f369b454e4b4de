"""The workers' fork server: started early, imports nothing heavy here, never re-runs the caller's script.

The fork server imports the libraries and builds the vocabularies once (about 0.3 s) so that
every worker forks from it warm. Started in the background as soon as the command line knows
it will need workers, that time overlaps with the parent's own imports and planning.

Workers run gengo's functions only, so they need nothing of the caller's ``__main__``: the
standard forkserver start method would import the caller's script again in every worker (running
a top-level ``generate(...)`` once more, or failing on ``python - <<EOF`` input). The context here
leaves the main module out of what each worker is told to prepare, which is what lets the library
run from a plain script, standard input or a notebook without an ``if __name__ == "__main__"``
guard.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.popen_forkserver
import multiprocessing.spawn
import tempfile
import threading
from multiprocessing.context import ForkServerContext, ForkServerProcess

PRELOAD = ["gengo.engine.preload"]
_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")
_launching = threading.Lock()
_starting: threading.Thread | None = None


def _preparation_without_main(original):
    def get_preparation_data(name):
        data = original(name)
        for key in _MAIN_KEYS:
            data.pop(key, None)
        return data

    return get_preparation_data


class _Popen(multiprocessing.popen_forkserver.Popen):
    def _launch(self, process_obj) -> None:
        # popen_forkserver looks spawn.get_preparation_data up when it launches: swapped for the
        # launch only (under a lock), so nothing else in the caller's process sees a change.
        with _launching:
            original = multiprocessing.spawn.get_preparation_data
            multiprocessing.spawn.get_preparation_data = _preparation_without_main(original)
            try:
                super()._launch(process_obj)
            finally:
                multiprocessing.spawn.get_preparation_data = original


class _Process(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):  # noqa: N802 - multiprocessing's name
        return _Popen(process_obj)


class _Context(ForkServerContext):
    Process = _Process


_CONTEXT = _Context()


def forkserver_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context every gengo process pool uses."""
    _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def prewarm(workers: int | None = None) -> None:
    """Start the fork server in the background (once per process; nothing to do for one worker)."""
    global _starting
    if workers == 1 or _starting is not None:
        return
    forkserver_context()
    # Python finds its temporary directory by creating and deleting a probe file: done here, in
    # the main thread, a quick exit (bad input) cannot cut that short and leave the file behind.
    tempfile.gettempdir()
    _starting = threading.Thread(target=multiprocessing.forkserver.ensure_running, daemon=True)
    _starting.start()


def finish_prewarm(timeout: float = 10.0) -> None:
    """Wait for a fork server start in progress, so that exiting never interrupts it half-way."""
    if _starting is not None:
        _starting.join(timeout)

"""Starting the workers' fork server early: this module imports nothing heavy.

The fork server imports the libraries and builds the vocabularies once (about 0.3 s) so that
every worker forks from it warm. Started in the background as soon as the command line knows
it will need workers, that time overlaps with the parent's own imports and planning.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import tempfile
import threading

PRELOAD = ["gengo.engine.preload"]
_starting: threading.Thread | None = None


def forkserver_context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


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

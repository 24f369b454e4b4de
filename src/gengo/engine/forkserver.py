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

import contextlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.popen_forkserver
import multiprocessing.resource_tracker
import multiprocessing.spawn
import multiprocessing.util
import os
import signal
import tempfile
import threading
import time
from multiprocessing.context import ForkServerContext, ForkServerProcess

PRELOAD = ["gengo.engine.preload", "gengo.models.every"]

# Runs planned below this many bytes, with no worker count given, generate in the calling process:
# a pool's start (fork server imports, one fork and warm-up per worker) costs more CPU than it
# saves. Ecommerce CSV, 2-core VM: at 8-32 MB one worker took 0.68-0.89 CPU-s against 1.1-1.7 for
# two, and no longer wall time; the wall times meet near 64 MB.
IN_PROCESS_BYTES = 16 * 10**6


def worth_starting(workers: int | None, size: str | float | None) -> bool:
    """Whether to start the fork server before planning, from the options as given (unparsed):
    for a worker count over one, or with none given for a ``--size`` of at least
    ``IN_PROCESS_BYTES``. A run sized by ``--rows`` alone is planned first (its pool starts the
    server if it needs one): started early, a server a small run never uses cost it 1.1 CPU-s."""
    if workers is not None:
        return workers > 1
    if size is None:
        return False
    from gengo.core.errors import GengoError
    from gengo.core.units import parse_size

    try:
        return parse_size(size) >= IN_PROCESS_BYTES
    except GengoError:  # the command line says so; no server meanwhile
        return False


def preload_module(model: str | None) -> str:
    """The module the fork server imports for ``model`` (a name, alias or model file path)."""
    from gengo.core.errors import GengoError
    from gengo.models import is_model_file, model_info

    if model is None:
        return "gengo.models.every"
    if is_model_file(model):
        return "gengo.models.file.compile"
    try:
        return model_info(model).module
    except GengoError:  # the command will say so; the server loads every model meanwhile
        return "gengo.models.every"


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


def prewarm(workers: int | None = None, model: str | None = None) -> None:
    """Start the fork server in the background (once per process; nothing to do for one worker).

    ``model``: the model its workers will generate. The server imports that model's module once
    for all of them (a model file: the compiler), not every built-in model: the financial model
    alone brings pandas, about 60 MB in the server. Unknown: every built-in model."""
    global _starting
    if workers == 1 or _starting is not None:
        return
    PRELOAD[1:] = [preload_module(model)]
    file = model if PRELOAD[1] == "gengo.models.file.compile" else None
    forkserver_context()
    # Python finds its temporary directory by creating and deleting a probe file: done here, in
    # the main thread, a quick exit (bad input) cannot cut that short and leave the file behind.
    tempfile.gettempdir()
    _starting = threading.Thread(target=_start_in_background, args=(file,), daemon=True)
    _starting.start()


MODEL_FILE = "GENGO_FORKSERVER_MODEL_FILE"  # the model file the server compiles for its workers (preload)


def _start_in_background(file: str | None = None) -> None:
    # The processes started here (the fork server, multiprocessing's resource tracker) inherit
    # this thread's signal mask. With SIGINT blocked, a Ctrl-C at the terminal, which reaches
    # the whole process group, interrupts only the command (which handles it and stops them),
    # not their start-up imports, which would each print a traceback. The workers, forked from
    # the server, inherit it too (they ignore SIGINT anyway).
    # The resource tracker goes first: it blocks SIGINT for its own start and unblocks it after.
    multiprocessing.resource_tracker.ensure_running()
    with contextlib.suppress(AttributeError, OSError, ValueError):  # pthread_sigmask: POSIX only
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    if file is not None:  # read by the server's preload, in its own environment (a copy of this one)
        os.environ[MODEL_FILE] = file
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        os.environ.pop(MODEL_FILE, None)


def finish_prewarm(timeout: float = 10.0) -> None:
    """The command is ending: let a fork server start in progress finish, then stop the server.

    Waiting first means exiting never interrupts the start half-way; stopping means the server
    never outlives the command (one still importing would otherwise run on for up to a second
    before it noticed that its parent was gone).
    """
    if _starting is not None:
        _starting.join(timeout)
    stop()


def stop(grace: float = 0.05) -> None:
    """Stop this process's fork server, if it started one, and wait for it to exit.

    Closing its "alive" pipe ends an idle server at once; one still importing its preload
    modules is sent SIGTERM after ``grace`` seconds. Call only when no pool uses it (its workers
    hold the pipe too); a later pool starts a new one.
    """
    server = multiprocessing.forkserver._forkserver
    lock = getattr(server, "_lock", None)
    if lock is None or not lock.acquire(timeout=5):
        return
    try:
        pid = getattr(server, "_forkserver_pid", None)
        if pid is None:
            return
        with contextlib.suppress(OSError):
            os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
        deadline = time.monotonic() + grace
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(pid, os.WNOHANG)[0] == 0:
                if time.monotonic() >= deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.005)
        server._forkserver_pid = None
        address = server._forkserver_address
        server._forkserver_address = None
        if address and not multiprocessing.util.is_abstract_socket_namespace(address):
            with contextlib.suppress(OSError):
                os.unlink(address)
    finally:
        lock.release()

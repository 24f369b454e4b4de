"""The `gengo` console script: signal handling first, then the fork server, then the heavy imports.

Ctrl-C and SIGTERM are handled from the first instruction of ``main`` to the last: during
imports and planning as during a run, they end the command with exit 130 / 143 and one line on
stderr, never a traceback or a death by the signal; during the interpreter's shutdown they exit
at once, and in its last, C-level steps they are ignored. Only the interpreter's own start-up,
before this module runs (about 20-30 ms), is out of reach.

``gengo gen`` with more than one worker (the default) needs the fork server; starting it here,
in the background, lets its 0.3 s of imports run while this process imports the command line.
A guess from the raw arguments is enough: a fork server that turns out unneeded is stopped
with the command, and the command line starts one anyway when it was missed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import time

from gengo.core.errors import Interrupted, interruption

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# The same signal again within this many seconds is the first one delivered twice: ``timeout``
# signals its command and then the command's process group, which holds the command too.
_REPEAT_S = 0.5


class _State:
    fired: int | None = None  # the signal being handled
    fired_at = 0.0  # when (time.monotonic)
    pending: int | None = None  # a signal put off until the code it interrupted can take an exception
    reported = False  # a line about it was printed: a later signal exits silently


def _on_signal(signum: int, frame) -> None:
    """Unwind as Ctrl-C does (the command line removes what it started); a second signal exits at
    once (unless it is the first one delivered twice, within ``_REPEAT_S``)."""
    if _State.fired is not None:
        if signum == _State.fired and time.monotonic() - _State.fired_at < _REPEAT_S:
            return  # the same signal, sent to the process and to its group: unwinding goes on
        _exit_now(signum)
    if _swallowed(frame):
        # An exception raised here would be printed and dropped ("Exception ignored in ..."),
        # and the command would go on: handle the signal a moment later, once out of here (a
        # signal raised again at once would be handled inside this same frame).
        _State.pending = signum
        signal.signal(signal.SIGALRM, _deliver_pending)
        signal.setitimer(signal.ITIMER_REAL, 0.002)
        return
    _State.fired, _State.fired_at = signum, time.monotonic()
    raise Interrupted(signum)


def _deliver_pending(_alarm: int, frame) -> None:
    """The signal that arrived where an exception would have been dropped, handled now."""
    signum, _State.pending = _State.pending, None
    if signum is not None:
        _on_signal(signum, frame)  # still in such a place: it arms the timer again


_on_signal.gengo_launch = True  # the command line installs no handler of its own over this one


def _swallowed(frame) -> bool:
    """Whether ``frame`` runs where Python ignores exceptions: a finalizer, a weakref callback of the
    import system (run after every import, so a signal during the imports often lands there)."""
    if frame is None:
        return False
    code = frame.f_code
    return code.co_name == "__del__" or (code.co_filename.startswith("<frozen importlib") and code.co_name == "cb")


def _exit_now(signum: int) -> None:
    if not _State.reported:
        _State.reported = True
        _write_line(f"gengo: interrupted ({signal.Signals(signum).name})")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # exiting anyway: a closed pipe must not raise here
            stream.flush()
    os._exit(128 + signum)


def _on_signal_at_exit(signum: int, frame) -> None:
    """After the command: nothing left to unwind, so exit at once (no exception inside interpreter shutdown)."""
    _exit_now(signum)


def _ignore_signals() -> None:
    """The last Python step of the process (registered first, so run last): from here the
    interpreter resets the handlers it knows to the default, and a signal would kill the
    process by the signal. The command is over: a signal now is ignored and the exit code stands."""
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # left in place by the interpreter's shutdown, unlike a handler


def _write_line(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, (text + "\n").encode())


def _generates(args: list[str]) -> bool:
    """A command that builds data in this process (and so Arrow arrays)."""
    return bool(args) and args[0] in ("gen", "plan", "verify") and not any(a in ("--help", "-h") for a in args[1:])


def _needs_workers(args: list[str]) -> bool:
    if not args or args[0] != "gen":
        return False
    rest = args[1:]
    if any(a in ("--help", "-h", "--dry-run", "--engine") or a.startswith("--engine=") for a in rest):
        return False
    for i, a in enumerate(rest):
        if a in ("-w", "--workers") and rest[i + 1 : i + 2] == ["1"]:
            return False
        if a in ("-w1", "--workers=1"):
            return False
    return True


def _option(args: list[str], short: str, long: str) -> str | None:
    """An option's value as given (``-m X``, ``--model X``, ``--model=X``), or None."""
    for i, a in enumerate(args):
        if a in (short, long) and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(long + "="):
            return a.partition("=")[2]
    return None


def _model_argument(args: list[str]) -> str | None:
    """The ``-m`` value, if given: the fork server then imports only what that model needs."""
    return _option(args, "-m", "--model")


def main() -> int:
    for sig in _SIGNALS:  # first: from here on a signal is an exception this function turns into one line
        signal.signal(sig, _on_signal)
    _State.fired, _State.reported = None, False
    atexit.register(_ignore_signals)
    try:
        code = _main()
    except BaseException as exc:  # during imports, or from the command line's own clean-up
        cause = interruption(exc)
        if cause is None:
            raise
        code = cause.exit_code if isinstance(cause, Interrupted) else 130
        if not _State.reported:
            _write_line(f"gengo: interrupted ({signal.Signals(code - 128).name})")
    else:
        if _State.fired is not None and code not in (130, 143):  # a signal the command never saw
            code = 128 + _State.fired
            _write_line(f"gengo: interrupted ({signal.Signals(_State.fired).name})")
    finally:
        for sig in _SIGNALS:
            signal.signal(sig, _on_signal_at_exit)
    _State.reported = True
    return code


def _main() -> int:
    from gengo.engine import tuning  # light: the standard library only

    tuning.tune_parent()  # before polars and Arrow are imported: their allocators read it
    # Multiprocessing's resource tracker (started with the fork server) cleans up the semaphores
    # of a command that was killed (SIGKILL, out of memory) and warns about each of them: noise
    # for the user, as the clean-up is done. Its command line copies these warning options.
    sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")
    if _needs_workers(sys.argv[1:]):
        from gengo.engine.forkserver import prewarm, worth_starting

        # A worker count given is over one here (``_needs_workers``); without one, the size decides.
        counted = _option(sys.argv[2:], "-w", "--workers") is not None
        if counted or worth_starting(None, _option(sys.argv[2:], "-s", "--size")):
            prewarm(model=_model_argument(sys.argv[2:]))
    if _generates(sys.argv[1:]):
        tuning.skip_pandas_probe()  # imports pyarrow: never for the light commands (--help, models)
    from gengo.cli import main as cli_main

    return cli_main()

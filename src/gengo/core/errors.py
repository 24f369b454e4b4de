"""Errors that reach the user as one line."""

from __future__ import annotations

import signal


class GengoError(Exception):
    """A problem with the user's input or environment; printed without a traceback."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (Ctrl-C, or SIGTERM when the command line handles it).

    A ``KeyboardInterrupt``, so code catching Ctrl-C still catches it. Temporary files are
    gone by the time it reaches the caller; ``finished`` lists the tables complete on disk
    and ``pending`` the others (``gengo gen --resume`` writes them).
    """

    def __init__(
        self,
        signum: int = signal.SIGINT,
        finished: tuple[str, ...] = (),
        pending: tuple[str, ...] = (),
        output: str | None = None,
    ) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.finished = tuple(finished)
        self.pending = tuple(pending)
        self.output = output

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


def interruption(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt behind ``exc``: itself, or one it was raised from or while handling
    (Python 3.11 wraps one raised while a class is created in a RuntimeError; a clean-up may fail
    because the interrupted frames still hold a buffer)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None

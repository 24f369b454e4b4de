"""The `gengo` console script: starts the worker fork server before the heavy imports.

``gengo gen`` with more than one worker (the default) needs the fork server; starting it here,
in the background, lets its 0.3 s of imports run while this process imports the command line.
A guess from the raw arguments is enough: a fork server that turns out unneeded just exits
with the command, and the command line starts one anyway when it was missed.
"""

from __future__ import annotations

import sys


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


def main() -> int:
    from gengo.engine import tuning  # light: the standard library only

    tuning.tune_parent()  # before polars and Arrow are imported: their allocators read it
    if _needs_workers(sys.argv[1:]):
        from gengo.engine.forkserver import prewarm

        prewarm()
    from gengo.cli import main as cli_main

    return cli_main()

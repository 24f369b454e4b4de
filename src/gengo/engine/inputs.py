"""Checks of what a caller asks for (workers, seed, --rows, --tables, engine, parts): one line each."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping, Sequence

from gengo.core.errors import GengoError
from gengo.core.units import parse_size
from gengo.engine.forkserver import IN_PROCESS_BYTES
from gengo.engine.plan import Partitioning

MAX_SEED = 2**63 - 1
MAX_WORKERS = 512
ENGINES = ("local", "dask")
DEFAULT_PART_BYTES = 256 * 10**6  # the default part size of --engine dask and URL outputs
MAX_PARTS = 100_000


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GengoError(f"invalid worker count '{workers}': it must be a whole number >= 1")
    if workers > MAX_WORKERS:
        raise GengoError(f"invalid worker count '{workers}': at most {MAX_WORKERS}")
    return workers


def run_workers(workers: int | None, planned_bytes: int) -> int:
    """The worker count for a local run: the one asked for; else one per CPU, or just this process
    when the plan is too small for a pool to pay for its start (``forkserver.IN_PROCESS_BYTES``)."""
    if workers is not None:
        return check_workers(workers)
    return 1 if planned_bytes < IN_PROCESS_BYTES else default_workers()


def check_seed(seed: int | None) -> int:
    """The seed, or a random one when none is given."""
    if seed is None:
        return secrets.randbelow(2**31)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise GengoError(f"invalid seed '{seed}': use a whole number from 0 to {MAX_SEED}")
    return seed


def parse_rows(specs: Iterable[str] | Mapping[str, int] | None) -> dict[str, int]:
    """``["customers=1000", ...]`` (or a mapping) -> ``{"customers": 1000}``."""
    if not specs:
        return {}
    if isinstance(specs, Mapping):
        items = list(specs.items())
    else:
        items = []
        for spec in specs:
            name, sep, value = str(spec).partition("=")
            if not sep or not name.strip():
                raise GengoError(f"invalid --rows '{spec}': expected TABLE=N, e.g. dim_customers=1000")
            try:
                count = int(value.strip().replace("_", ""))
            except ValueError:
                raise GengoError(f"invalid --rows '{spec}': '{value}' is not a whole number") from None
            items.append((name.strip(), count))
    out: dict[str, int] = {}
    for name, count in items:
        if name in out:
            raise GengoError(f"--rows gives table '{name}' twice")
        out[name] = count
    return out


def parse_tables(spec: str | Sequence[str] | None) -> list[str] | None:
    if spec is None:
        return None
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise GengoError("--tables needs at least one table name")
    return names


def check_engine(engine: str | None, scheduler: str | None) -> str:
    """``local`` or ``dask``; a scheduler address implies dask."""
    if engine is None or str(engine).strip() == "":
        return "dask" if scheduler else "local"
    name = str(engine).strip().lower()
    if name not in ENGINES:
        raise GengoError(f"unknown engine '{engine}': choose local or dask")
    if scheduler and name != "dask":
        raise GengoError("--scheduler applies to --engine dask")
    return name


def partitioning(parts: int | str | None = None, part_size: str | int | float | None = None) -> Partitioning | None:
    """Validate ``--parts`` / ``--part-size``; None when neither is given."""
    if parts is not None and part_size is not None:
        raise GengoError("give --parts or --part-size, not both")
    if parts is not None:
        try:
            n = int(str(parts).strip().replace("_", ""))
        except ValueError:
            raise GengoError(f"invalid --parts '{parts}': expected a whole number >= 1") from None
        if not 1 <= n <= MAX_PARTS:
            raise GengoError(f"invalid --parts '{parts}': it must be from 1 to {MAX_PARTS:,}")
        return Partitioning(parts=n)
    if part_size is not None:
        try:
            size = parse_size(part_size)
        except GengoError:
            raise GengoError(f"invalid --part-size '{part_size}': give a size like 256MB or 1GB") from None
        return Partitioning(part_bytes=size)
    return None

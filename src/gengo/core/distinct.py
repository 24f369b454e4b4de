"""Picks that are distinct within a parent: an order lists each product once.

A child row draws its pick from a counter-based stream, so the pick of one row cannot see the
others. To keep picks distinct within a parent, the draws of all the parent's children are made
together: a row that repeats an earlier sibling's pick draws again from a fresh stream, and after
``REDRAWS`` rounds the parent's remaining repeats walk the targets from its first pick with a
stride coprime to their number. The result depends only on the parent's own children, so a chunk
widens its rows to the whole parents it touches (``widen``) and keeps its own rows of the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gengo.core import fmath, rand

REDRAWS = 16  # rounds of re-drawing a repeated pick before the walk


def widen(fan: rand.FanOut, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, parent, position, pick): the rows of every parent that ``idx`` touches, each parent's
    rows together and in position order, and where each row of ``idx`` is among them."""
    if rand.is_range(idx):
        first, parent, position = fan.enclosing(int(idx[0]), int(idx[-1]) + 1)
        rows = first + np.arange(len(parent), dtype=np.int64)
        return rows, parent, position, np.arange(len(idx), dtype=np.int64) + (int(idx[0]) - first)
    # Scattered rows (sizing samples): widen each parent separately.
    parent_of, position_of = fan.parent_of(idx)
    parents, inverse = np.unique(parent_of, return_inverse=True)
    start = np.zeros(len(parents), dtype=np.int64)
    start[inverse.reshape(-1)] = idx - position_of
    count = fan.count(parents)
    ext_first = np.cumsum(count) - count  # where each parent's rows start in the widened rows
    parent = np.repeat(parents, count)
    position = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(ext_first, count)
    rows = np.repeat(start, count) + position
    return rows, parent, position, ext_first[inverse.reshape(-1)] + position_of


def distinct_picks(
    draw: Callable[[int, np.ndarray], np.ndarray],
    n: int,
    rows: np.ndarray,
    parent: np.ndarray,
    position: np.ndarray,
) -> np.ndarray:
    """0-based picks in ``[0, n)`` for ``rows`` (whole parents, as ``widen`` gives them), distinct
    within each parent while it has at most ``n`` children.

    ``draw(attempt, rows)`` gives the picks of ``rows`` from stream ``attempt`` (0 the first draw,
    1..``REDRAWS`` the redraws): a pure function of its arguments.
    """
    pick = draw(0, rows)
    if len(rows) == 0:
        return pick
    lags = range(1, int(position.max(initial=0)) + 1)
    # One int64 per row names (parent, pick): the parents of one call span a short range.
    low = int(parent.min())
    spread = int(parent.max()) - low + 1
    base = (parent - low) * n if spread * n < 1 << 62 else None

    def repeats(sub: np.ndarray) -> np.ndarray:
        """Which rows of ``sub`` (whole parents) repeat the pick of an earlier sibling."""
        dup = np.zeros(len(sub), dtype=bool)
        scan = getattr(fmath.C, "repeats", None)
        if scan is not None:  # one pass, each row against its own earlier siblings only
            every = len(sub) == len(rows)  # the first call: no copies
            picks = np.ascontiguousarray(pick if every else pick[sub], dtype=np.int64)
            scan(picks, np.ascontiguousarray(position if every else position[sub]), dup.view(np.uint8))
            return dup
        if base is not None:
            k = base[sub] + pick[sub]
            for lag in lags:  # positions within a parent, not rows
                dup[lag:] |= k[lag:] == k[:-lag]
            return dup
        o, p = parent[sub], pick[sub]
        for lag in lags:
            dup[lag:] |= (o[lag:] == o[:-lag]) & (p[lag:] == p[:-lag])
        return dup

    group = np.cumsum(position == 0) - 1  # which parent of the call each row is in
    todo = np.arange(len(rows))
    dup = repeats(todo)
    for attempt in range(1, REDRAWS + 2):
        if not dup.any():
            break
        # Keep the parents that still hold a repeat.
        bad = np.zeros(int(group[-1]) + 1, dtype=bool)
        bad[group[todo[dup]]] = True
        keep = bad[group if attempt == 1 else group[todo]]
        todo, dup = todo[keep], dup[keep]
        redo = todo[dup]
        if attempt <= REDRAWS:
            pick[redo] = draw(attempt, rows[redo])
        else:  # the walk: distinct for the first n children of a parent
            first = pick[todo - position[todo]]
            pick[todo] = (first + position[todo] * rand.coprime_step(n)) % n
        dup = repeats(todo)
    return pick

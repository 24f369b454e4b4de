"""Type-2 history of the dimension tables that change (``gen --batches N --history``).

``history/<table>_history.<ext>`` holds every version of every row of a dimension table with
updates: the table's columns plus ``valid_from``, ``valid_to`` and ``is_current``, sorted by key,
then ``valid_from``. A row's first version is valid from the base instant (``BASE_INSTANT``, day 0:
the day before batch 1's) if the row is in the base, else from its insert's ``_ts``; each update
of a batch that changes a value ends the version at the event's ``_ts`` and starts the next one
there; a delete ends the last one. Versions are half-open, ``valid_from <= t < valid_to``; the
current version has ``valid_to`` NULL and ``is_current`` true (a deleted row has none).

Consistent with the batches by construction (the same walk writes both): the current versions
are ``--as-of N``'s table, and the versions valid at the end of batch k's day (``EPOCH + k days``,
exclusive; every event of batch k is before it, every event of k+1 at or after it) are
``--as-of k``'s rows: ``valid_from < EPOCH + k days AND (valid_to IS NULL OR valid_to >= EPOCH + k days)``.

A dimension is a table that other tables look rows up in: not a fact, which is a table named
``fact_...`` or one that references other tables while nothing references it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from gengo.core.errors import GengoError
from gengo.core.schema import Model, Table
from gengo.engine.changes import DAY_US, EPOCH

BASE_INSTANT_US = -DAY_US  # microseconds after EPOCH: day 0, 2029-12-31T00:00Z
EPOCH_US = int(EPOCH.timestamp()) * 10**6
STAMP = pa.timestamp("us", tz="UTC")
COLUMNS = ("valid_from", "valid_to", "is_current")


def schema(t: Table) -> pa.Schema:
    """A history table's columns: the table's, then the version's validity."""
    return pa.schema(
        [
            *t.schema,
            pa.field("valid_from", STAMP, nullable=False),
            pa.field("valid_to", STAMP, nullable=True),
            pa.field("is_current", pa.bool_(), nullable=False),
        ]
    )


def is_fact(model: Model, name: str) -> bool:
    """``fact_...``, or a table referencing others that nothing references (a star's centre)."""
    referenced = {parent for t in model.tables for _, parent, _ in t.foreign_keys if parent != t.name}
    refers = any(parent != name for _, parent, _ in model.table(name).foreign_keys)
    return name.startswith("fact_") or (refers and name not in referenced)


def history_tables(model: Model, names: Sequence[str]) -> list[str]:
    """The tables of ``names`` that get a history: dimensions with updated columns."""
    return [n for n in names if (ch := model.changes.get(n)) is not None and ch.update and not is_fact(model, n)]


def check(model: Model, names: Sequence[str], batches: int | None, as_of: int | None) -> list[str]:
    """The tables ``--history`` writes; refused in one line when there is nothing to write."""
    if batches is None or as_of is not None:
        raise GengoError("--history writes the history of the batches: give --batches N (and no --as-of)")
    tables = history_tables(model, names)
    if not tables:
        updated = [n for n in names if (ch := model.changes.get(n)) is not None and ch.update]
        why = f" (only facts have updates: {', '.join(updated)})" if updated else ""
        raise GengoError(f"--history: model {model.name} has no dimension table with updates{why}")
    return tables


def file_name(table: str, ext: str) -> str:
    return f"history/{table}_history{ext}"


class Versions:
    """The versions of one block of rows, collected while the walk applies batches 1..N."""

    def __init__(self, table: str, rows: np.ndarray, base_rows: int) -> None:
        self.rows, self.base_rows = rows, base_rows
        self.parts: list[tuple[np.ndarray, pa.Table, np.ndarray]] = []  # (positions, values, valid_from)
        self.closed = np.full(len(rows), -1, dtype=np.int64)  # delete time of each row, -1: none
        self.deleted = np.zeros(len(rows), dtype=bool)

    def start(self, state: pa.Table) -> None:
        """The base versions: rows of the base as generated."""
        pos = np.flatnonzero(self.rows < self.base_rows)
        self.parts.append((pos, state.take(pa.array(pos)), np.full(len(pos), BASE_INSTANT_US, dtype=np.int64)))

    def add(
        self, b: int, state: pa.Table, inserted: np.ndarray, updated: np.ndarray, gone: np.ndarray, ts: np.ndarray
    ) -> None:
        """Batch b's events (positions into the block's rows; ``ts`` in the order inserted, updated, gone)."""
        pos = np.concatenate([inserted, updated])
        self.parts.append((pos, state.take(pa.array(pos)), ts[: len(pos)]))
        self.closed[gone] = ts[len(pos) :]
        self.deleted[gone] = True

    def table(self, t: Table) -> pa.Table:
        """Every version, by row then ``valid_from``, with ``valid_to`` and ``is_current``."""
        pos = np.concatenate([p for p, _, _ in self.parts])
        start = np.concatenate([s for _, _, s in self.parts])
        data = pa.concat_tables([v for _, v, _ in self.parts])
        order = np.lexsort((start, pos))
        pos, start, data = pos[order], start[order], data.take(pa.array(order))
        last = np.ones(len(pos), dtype=bool)
        last[:-1] = pos[1:] != pos[:-1]
        end = np.empty(len(pos), dtype=np.int64)
        end[:-1] = start[1:]
        end[last] = self.closed[pos[last]]
        current = last & ~self.deleted[pos]
        valid_to = pa.array(end + EPOCH_US, mask=current).cast(STAMP)
        data = data.append_column(schema(t).field("valid_from"), pa.array(start + EPOCH_US).cast(STAMP))
        data = data.append_column(schema(t).field("valid_to"), valid_to)
        return data.append_column(schema(t).field("is_current"), pa.array(current))

"""Checks shared by the model tests: values against the model, declared data checks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from gengo.core.schema import Check
from gengo.models import resolve_model
from tests.helpers import manifest


def written_rows(directory: Path) -> dict[str, int]:
    return {t["table"]: t["rows"] for t in manifest(directory)["tables"]}


def differences_from_model(con: duckdb.DuckDBPyConnection, directory: Path, model: str, seed: int) -> list[str]:
    """Tables whose rows in the files differ from the model's in-memory rows for the same counts.

    Every format equal to the model means the formats hold the same values (for equal counts).
    """
    m = resolve_model(model)
    rows = written_rows(directory)
    problems = []
    for t in m.tables:
        ref = t.generate(seed, rows, np.arange(rows[t.name], dtype=np.int64))  # noqa: F841 (used by DuckDB)
        cols = ", ".join(f'"{c.name}"' for c in t.columns)
        con.execute(f'CREATE OR REPLACE TEMP TABLE "ref_{t.name}" AS SELECT {cols} FROM ref')
        for a, b in ((t.name, f"ref_{t.name}"), (f"ref_{t.name}", t.name)):
            n = con.execute(
                f'SELECT count(*) FROM (SELECT {cols} FROM "{a}" EXCEPT ALL SELECT {cols} FROM "{b}")'
            ).fetchone()[0]
            if n:
                problems.append(f"{t.name}: {n} rows of {a} not in {b}")
    return problems


# Declared checks run in a session time zone far from UTC and not a whole hour off, so a check
# that leaned on the session's zone (a timestamp cast to a date, hour() of an instant) would show.
CHECK_TIME_ZONE = "Asia/Kathmandu"


def violations(con: duckdb.DuckDBPyConnection, check: Check) -> tuple[int, list[str], list[tuple]]:
    """(number of rows, column names, first rows) a declared check returns on ``con``'s tables."""
    con.execute(f"SET TimeZone = '{CHECK_TIME_ZONE}'")
    cur = con.execute(check.sql)
    rows = cur.fetchall()
    return len(rows), [d[0] for d in cur.description], rows[:5]

"""Pipeline-testing defects: a file with them switched on writes exactly what its manifest reports."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.helpers import manifest, run_gengo

CLEAN = """
model: events
tables:
  events:
    rows: scale
    columns:
      event_id: {primary_key: true}
      happened_at: {strategy: datetime, start: 2024-01-01, end: 2024-06-01, increasing: true}
      amount: {strategy: lognormal, median: 20, sigma: 0.5, type: "decimal(12,2)"QA}
      kind: {strategy: choice, values: [click, view, buy]QK}
      city: {strategy: address, part: city, null_rate: 0.1QC}
"""
DIRTY = (
    CLEAN.replace(
        "    rows: scale\n", "    rows: scale\n    quality: {duplicates: 0.02, late: 0.03, late_column: happened_at}\n"
    )
    .replace("QA", ", quality: {outliers: 0.01}")
    .replace("QK", ", quality: {out_of_domain: 0.005, case: 0.01}")
    .replace("QC", ", quality: {whitespace: 0.02}")
)
CLEAN = CLEAN.replace("QA", "").replace("QK", "").replace("QC", "")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("quality")
    out = {}
    for name, text in (("clean", CLEAN), ("dirty", DIRTY)):
        (root / f"{name}.yaml").write_text(text)
        r = run_gengo(
            "gen",
            "-m",
            str(root / f"{name}.yaml"),
            "--rows",
            "events=120000",
            "-f",
            "parquet",
            "-o",
            str(root / name),
            "--seed",
            "4",
            "--workers",
            "2",
            "--chunk-rows",
            "20000",
        )
        assert r.returncode == 0, r.stderr
        out[name] = root / name
    return out


def test_manifest_counts_equal_what_sql_finds(runs):
    reported = manifest(runs["dirty"])["quality"]["events"]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW d AS SELECT *, row_number() OVER () AS pos FROM '{runs['dirty']}/events.parquet'")
    con.execute(f"CREATE VIEW c AS SELECT * FROM '{runs['clean']}/events.parquet'")
    # A duplicate repeats the whole row before it; the clean run has no two equal rows.
    found = {
        "duplicates": """SELECT count(*) FROM d a JOIN d b ON b.pos = a.pos - 1
                         WHERE a.event_id = b.event_id AND a.happened_at = b.happened_at
                           AND a.amount = b.amount AND a.kind = b.kind AND a.city IS NOT DISTINCT FROM b.city""",
    }
    # Every other defect, per written row, against the clean value of the row it was made from.
    diff = "SELECT count(*) FROM d JOIN c USING (event_id) WHERE "
    found["late"] = diff + "d.happened_at < c.happened_at"
    found["outliers.amount"] = diff + "d.amount <> c.amount"
    found["out_of_domain.kind"] = diff + "d.kind = 'UNKNOWN'"
    found["case.kind"] = diff + "d.kind <> c.kind AND d.kind <> 'UNKNOWN'"
    found["whitespace.city"] = diff + "d.city <> c.city"
    counts = {k: con.execute(q).fetchone()[0] for k, q in found.items()}
    assert counts == reported
    assert all(n > 0 for n in counts.values()), counts


def test_defects_change_nothing_else(runs):
    con = duckdb.connect()
    d, c = f"'{runs['dirty']}/events.parquet'", f"'{runs['clean']}/events.parquet'"
    assert con.execute(f"SELECT count(*) FROM {d}").fetchone() == con.execute(f"SELECT count(*) FROM {c}").fetchone()
    # Rows that are not duplicates keep their own key.
    assert (
        con.execute(f"SELECT count(DISTINCT event_id) FROM {d}").fetchone()[0]
        == 120000 - manifest(runs["dirty"])["quality"]["events"]["duplicates"]
    )


def test_the_same_bytes_at_any_worker_count(runs, tmp_path):
    (tmp_path / "dirty.yaml").write_text(DIRTY)
    r = run_gengo(
        "gen",
        "-m",
        str(tmp_path / "dirty.yaml"),
        "--rows",
        "events=120000",
        "-f",
        "parquet",
        "-o",
        str(tmp_path / "one"),
        "--seed",
        "4",
        "--workers",
        "1",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "one" / "events.parquet").read_bytes() == (runs["dirty"] / "events.parquet").read_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("late: 0.03, late_column: happened_at", "late: 0.03"), "late_column"),
        (("late_column: happened_at", "late_column: kind"), "not a date or timestamp"),
        (("quality: {outliers: 0.01}", "quality: {whitespace: 0.01}"), "text column"),
        (("quality: {whitespace: 0.02}", "quality: {outliers: 0.02}"), "numeric column"),
        (("duplicates: 0.02", "duplicates: 0.7"), "less than or equal to 0.5"),
    ],
)
def test_bad_quality_settings_get_one_line(tmp_path, change, message):
    text = DIRTY.replace(*change)
    assert text != DIRTY
    (tmp_path / "m.yaml").write_text(text)
    r = run_gengo("plan", "-m", str(tmp_path / "m.yaml"), "-s", "1MB", "-f", "csv")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr and "m.yaml:" in r.stderr, r.stderr

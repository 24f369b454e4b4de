"""Partitioned output (issue 9): <table>/part-NNNNN.<ext>, read back as one table, deterministic."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import blake3
import duckdb
import pytest

import gengo
from gengo import api
from gengo.models import resolve_model
from tests.helpers import EXT, duck_type, run_gengo

SEED = 5


def part_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): blake3.blake3(p.read_bytes()).hexdigest()
        for p in sorted(root.glob("*/part-*"))
        if p.is_file()
    }


def source(path: str, fmt: str, table) -> str:
    if fmt == "parquet":
        return f"read_parquet('{path}')"
    cols = ", ".join(f"'{c.name}': '{duck_type(c.type)}'" for c in table.columns)
    return f"read_csv('{path}', header=true, columns={{{cols}}})"


def assert_same_tables(single: Path, parts: Path, fmt: str, suffix: str = "") -> None:
    """Every table read from its part files equals the one-file output, row for row (DuckDB)."""
    con = duckdb.connect()
    for t in resolve_model("ecommerce").tables:
        one = source(str(single / f"{t.name}.{EXT[fmt]}{suffix}"), fmt, t)
        many = source(str(parts / t.name / f"*.{EXT[fmt]}{suffix}"), fmt, t)
        n_one = con.execute(f"SELECT count(*) FROM {one}").fetchone()[0]
        n_many = con.execute(f"SELECT count(*) FROM {many}").fetchone()[0]
        assert n_one == n_many > 0, t.name
        for a, b in ((one, many), (many, one)):
            diff = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()[0]
            assert diff == 0, t.name


@pytest.mark.parametrize(
    ("fmt", "compression", "extra"),
    [("csv", None, {}), ("parquet", None, {"row_group_size": 8192}), ("csv", "gzip", {})],
)
def test_parts_read_back_equal_single_file(tmp_path, fmt, compression, extra):
    common = dict(seed=SEED, workers=2, compression=compression, **extra)
    size = "0.005" if compression else "0.01"
    gengo.generate("ecommerce", size, fmt, tmp_path / "one", **common)
    summary = gengo.generate("ecommerce", size, fmt, tmp_path / "parts", parts=4, **common)
    suffix = ".gz" if compression == "gzip" else ""
    assert_same_tables(tmp_path / "one", tmp_path / "parts", fmt, suffix)

    doc = json.loads((tmp_path / "parts" / "manifest.json").read_text())
    assert doc["complete"] is True and doc["layout"] == "parts" and doc["parts"] == 4
    files = part_hashes(tmp_path / "parts")
    assert {e["file"]: e["blake3"] for e in doc["tables"]} == files
    assert sum(e["rows"] for e in doc["tables"]) == summary.total_rows == doc["total_rows"]
    per_table = {}
    for e in doc["tables"]:
        per_table.setdefault(e["table"], []).append(e["part"])
    assert all(v == list(range(len(v))) and len(v) <= 4 for v in per_table.values())
    assert max(len(v) for v in per_table.values()) == 4  # the large tables are split
    if fmt == "csv":  # every part is a complete CSV file with its header
        for name in files:
            data = (tmp_path / "parts" / name).read_bytes()
            text = gzip.decompress(data) if compression else data
            table = name.split("/")[0]
            header = ",".join(c.name for c in resolve_model("ecommerce").table(table).columns)
            assert text.decode().split("\n", 1)[0] == header


def test_parts_do_not_depend_on_workers_or_chunks(tmp_path):
    common = dict(seed=SEED, part_size="1MB", row_group_size=20_000)
    a = gengo.generate("ecommerce", "0.01", "parquet", tmp_path / "a", workers=2, **common)
    gengo.generate("ecommerce", "0.01", "parquet", tmp_path / "b", workers=1, chunk_rows=70_000, **common)
    assert len(a.parts) > len(a.tables)
    assert part_hashes(tmp_path / "a") == part_hashes(tmp_path / "b")
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()


def test_part_ranges_are_aligned_and_cover_the_table():
    p = api.partition(api.plan("ecommerce", "0.02", "parquet", seed=1, row_group_size=10_000), parts=3)
    for t in p.tables:
        ranges = p.part_ranges(t)
        assert ranges[0][0] == 0 and ranges[-1][1] == t.rows
        assert all(a % 10_000 == 0 and a < b for a, b in ranges)
        assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))
        assert len(ranges) == min(3, -(-t.rows // 10_000))


def test_force_removes_stale_parts_and_resume_rewrites_missing_ones(tmp_path):
    out = tmp_path / "ds"
    gengo.generate("ecommerce", "0.01", "csv", out, seed=SEED, workers=2, parts=4)
    full = part_hashes(out)
    gengo.generate("ecommerce", "0.01", "csv", out, seed=SEED, workers=2, parts=2, force=True)
    assert max(int(n.split("part-")[1][:5]) for n in part_hashes(out)) == 1  # no part-00002.. left over

    # An interrupted 4-part run: progress file listing the parts done, one part missing, no manifest.
    gengo.generate("ecommerce", "0.01", "csv", out, seed=SEED, workers=2, parts=4, force=True)
    doc = json.loads((out / "manifest.json").read_text())
    run = gengo.api.previous_run(out)["run"]
    lost = "fact_order_items/part-00001.csv"
    (out / lost).unlink()
    (out / "manifest.json").unlink()
    files = [e for e in doc["tables"] if e["file"] != lost]
    (out / ".gengo-progress.json").write_text(json.dumps({"complete": False, "run": run, "files": files}))
    kept = out / "fact_order_items/part-00002.csv"
    mtime = kept.stat().st_mtime_ns
    r = run_gengo("gen", "-m", "ecommerce", "-s", "0.01", "-f", "csv", "-o", str(out), "--parts", "4", "--resume")
    assert r.returncode == 0, r.stderr
    assert part_hashes(out) == full
    assert kept.stat().st_mtime_ns == mtime  # complete parts are kept, not written again
    assert not (out / ".gengo-progress.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--parts", "0"], "invalid --parts '0'"),
        (["--parts", "x"], "invalid --parts 'x'"),
        (["--part-size", "abc"], "invalid --part-size 'abc'"),
        (["--parts", "2", "--part-size", "1MB"], "not both"),
        (["--engine", "nosuch"], "unknown engine 'nosuch'"),
        (["--engine", "local", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler applies to --engine dask"),
        (["-f", "duckdb", "--parts", "2"], "not duckdb"),
    ],
)
def test_bad_partition_options_fail_in_one_line(tmp_path, args, message):
    out = tmp_path / "out"
    base = ["gen", "-m", "ecommerce", "-s", "0.005", "-o", str(out), "--seed", "1"]
    r = run_gengo(*base, *([] if "-f" in args else ["-f", "csv"]), *args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gengo: error:") and message in lines[0], r.stderr
    assert not out.exists()

"""``gen -f delta --batches N``: one commit per batch and table, version k = ``--as-of k``; resume
after a kill between commits applies no batch twice; ``--force`` without ``--batches`` removes
what an earlier batch run wrote (and nothing else)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gengo.models import resolve_model
from tests.formats.test_lake import same_rows
from tests.helpers import assert_one_line_error, duckdb_with, run_gengo

deltalake = pytest.importorskip("deltalake")

BATCHES = 2
ARGS = ("-m", "ecommerce", "--rows", "fact_orders_header=1000", "--seed", "5", "-w", "1", "-q")
TABLES = [t.name for t in resolve_model("ecommerce").tables]


def _gen(out: Path, *args: str) -> Path:
    r = run_gengo("gen", *ARGS, "-o", str(out), *args)
    assert r.returncode == 0, r.stderr + r.stdout
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("delta-batches")
    out = {"delta": _gen(root / "delta", "-f", "delta", "--batches", str(BATCHES), "--history")}
    out[0] = _gen(root / "files", "-f", "parquet", "--batches", str(BATCHES))  # the base, and the batch files
    for k in range(1, BATCHES + 1):
        out[k] = _gen(root / f"as-of-{k}", "-f", "parquet", "--as-of", str(k))
    return out


def _versions(table: Path) -> list[str | None]:
    """Each version's batch mark, version 0 first."""
    return [
        h.get("gengo.batch") for h in sorted(deltalake.DeltaTable(str(table)).history(), key=lambda h: h["version"])
    ]


def test_each_version_is_the_as_of_snapshot(runs) -> None:
    for name in TABLES:
        table = runs["delta"] / name
        assert _versions(table) == [None, *map(str, range(1, BATCHES + 1))], name  # one commit per batch
        for k in range(BATCHES + 1):
            got = deltalake.DeltaTable(str(table), version=k).to_pyarrow_table()
            assert same_rows(got, pq.read_table(runs[k] / f"{name}.parquet")), f"{name} version {k}"


def test_batch_files_are_the_parquet_runs_and_verify_checks_the_last_version(runs) -> None:
    delta = json.loads((runs["delta"] / "changes" / "manifest.json").read_text())
    files = json.loads((runs[0] / "changes" / "manifest.json").read_text())
    assert [(f["file"], f["blake3"]) for f in delta["files"]] == [(f["file"], f["blake3"]) for f in files["files"]]
    r = run_gengo("verify", str(runs["delta"]))
    assert r.returncode == 0 and f"state after change batch {BATCHES}" in r.stdout, r.stdout + r.stderr


@pytest.mark.duckdb_lake
def test_duckdb_delta_scan_reads_each_version(tmp_path) -> None:
    """DuckDB's delta_scan at version k: the rows deltalake reads there (``--as-of k``'s, above)."""
    con = duckdb_with("delta")
    if con is None:
        pytest.skip("duckdb-extension-delta is not installed (the duckdb-lake extra)")
    out = _gen(tmp_path / "out", "-f", "delta", "--batches", str(BATCHES))
    for name in ("dim_customers", "fact_orders_header"):  # an updated dimension, a fact with updates and inserts
        for k in range(BATCHES + 1):
            got = con.execute(f"SELECT * FROM delta_scan('{out / name}', version => {k})").to_arrow_table()
            expected = deltalake.DeltaTable(str(out / name), version=k).to_pyarrow_table()
            assert got.num_rows and same_rows(got, expected), f"{name} version {k}"


def _kill_after(out: Path, table: str, batch: int, during_next: bool = False) -> None:
    """The table as a kill right after its batch ``batch`` commit leaves it: later commits (and the
    files they added) never happened, nor the manifest's record of the batches. ``during_next``: the
    kill came during the next commit's MERGE, which had written its files (and its journal) but not
    committed."""
    log = out / table / "_delta_log"
    for commit in sorted(log.glob("*.json")):
        if int(commit.stem) > batch:
            added = [a["path"] for line in commit.read_text().splitlines() if (a := json.loads(line).get("add"))]
            if during_next and int(commit.stem) == batch + 1:
                before = sorted(p.name for p in (out / table).iterdir() if p.is_file() and p.name not in added)
                (out / table / "_gengo_pending.json").write_text(json.dumps({"batch": batch + 1, "files": before}))
            else:
                for name in added:
                    (out / table / name).unlink()
            commit.unlink()
    doc = json.loads((out / "manifest.json").read_text())
    doc.pop("changes", None)
    (out / "manifest.json").write_text(json.dumps(doc))


def test_resume_after_a_kill_between_commits_applies_each_batch_once(runs, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(runs["delta"], out)
    _kill_after(out, "dim_customers", 1)  # tables a batch apart, as a kill between commits leaves them
    _kill_after(out, "fact_orders_header", 0, during_next=True)  # batch 1's MERGE wrote its files, did not commit
    r = run_gengo("verify", str(out))
    assert r.returncode != 0 and "--resume" in r.stdout, r.stdout  # unfinished: the batches are not recorded
    batch_files = (out / "changes" / "manifest.json").stat().st_mtime_ns
    _gen(out, "-f", "delta", "--batches", str(BATCHES), "--history", "--resume")
    assert (out / "changes" / "manifest.json").stat().st_mtime_ns == batch_files  # the batch files were kept
    for name in TABLES:
        assert _versions(out / name) == [None, *map(str, range(1, BATCHES + 1))], name
        got = deltalake.DeltaTable(str(out / name)).to_pyarrow_table()
        assert same_rows(got, pq.read_table(runs[BATCHES] / f"{name}.parquet")), name
        listed = {a["path"] for c in (out / name / "_delta_log").glob("*.json") for a in _adds(c)}
        assert {p.name for p in (out / name).glob("*.parquet")} == listed, name  # the unfinished commit's files went
    r = run_gengo("verify", str(out))
    assert r.returncode == 0, r.stdout + r.stderr


def _adds(commit: Path) -> list[dict]:
    return [a for line in commit.read_text().splitlines() if (a := json.loads(line).get("add"))]


def test_force_without_batches_removes_what_the_batch_run_wrote(runs, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(runs["delta"], out)
    assert (out / "history" / "dim_customers_history.parquet").is_file()
    (out / "changes" / "notes.txt").write_text("not gengo's")
    (out / "history" / "mine.parquet").write_text("not gengo's either")
    _gen(out, "-f", "delta", "--force")
    assert sorted(p.relative_to(out / "changes").as_posix() for p in (out / "changes").rglob("*")) == ["notes.txt"]
    assert sorted(p.name for p in (out / "history").iterdir()) == ["mine.parquet"]  # only gengo's files went
    for name in TABLES:  # the batch commits' files went with the log: version 0 is the new run's parts
        assert sorted(p.name for p in (out / name).iterdir()) == ["_delta_log", "part-00000.parquet"], name
        assert _versions(out / name) == [None], name
    assert run_gengo("verify", str(out)).returncode == 0


@pytest.mark.parametrize(
    "args,fragment",
    [
        (("--as-of", "2"), "read version"),
        (("--batches", "2", "--change-format", "debezium"), "--change-format"),
        (("--as-of", "1", "--resume"), "--resume"),
    ],
)
def test_refused_in_one_line(tmp_path, args, fragment) -> None:
    r = run_gengo("gen", *ARGS, "-f", "delta", "-o", str(tmp_path / "out"), *args)
    assert_one_line_error(r, fragment)
    assert not (tmp_path / "out").exists()

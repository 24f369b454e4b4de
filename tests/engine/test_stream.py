"""gengo.stream and gen --stdout: one table from the worker pool, in key order, the files' rows."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gengo
from gengo import api
from gengo.engine import sizing
from tests.helpers import GENGO, assert_one_line_error, gen, run_gengo

SIZE = "0.01"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    return {fmt: gen(root / fmt, "ecommerce", SIZE, fmt, 5, "-w", "2", "-q") for fmt in ("parquet", "csv", "json")}


def test_stream_in_a_plain_script_equals_the_parquet_rows(files, tmp_path):
    # No __main__ guard: the workers come from the fork server, never from re-running the script.
    script = tmp_path / "plain.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            import pyarrow as pa
            import gengo
            reader = gengo.stream("ecommerce", "fact_order_items", size={SIZE!r}, seed=5, workers=2, chunk_rows=20000)
            assert isinstance(reader, pa.RecordBatchReader)
            with pa.OSFile(sys.argv[1], "wb") as f, pa.ipc.new_file(f, reader.schema) as w:
                sizes = []
                for batch in reader:
                    sizes.append(batch.num_rows)
                    w.write_batch(batch)
            print(max(sizes), len(sizes))
            """
        )
    )
    out = tmp_path / "rows.arrow"
    r = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    largest, count = map(int, r.stdout.split())
    assert largest <= 20000 and count > 10  # batches of a chunk at most: memory stays bounded
    got = pa.ipc.open_file(str(out)).read_all()
    expected = pq.read_table(files["parquet"] / "fact_order_items.parquet")
    assert got.schema.equals(expected.schema) and got.equals(expected)  # same values, same (key) order


SHM = Path("/dev/shm")


def _mapping_of(address: int) -> str:
    """The file (or "") of this process's memory mapping that holds ``address``."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *rest = line.split(maxsplit=5)
        low, high = (int(x, 16) for x in span.split("-"))
        if low <= address < high:
            return rest[4] if len(rest) > 4 else ""
    return ""


@pytest.mark.skipif(not SHM.is_dir(), reason="the workers' chunks travel through /dev/shm")
def test_stream_batches_are_views_of_the_workers_files_and_none_stay(files):
    reader = gengo.stream("ecommerce", "fact_order_items", size=SIZE, seed=5, workers=2, chunk_rows=20000)
    batch = reader.read_next_batch()
    where = _mapping_of(batch.column("order_item_id").buffers()[1].address)
    assert where.startswith(f"/dev/shm/gengo-spool-{os.getpid()}-"), where  # mapped, not copied through a pipe
    expected = pq.read_table(files["parquet"] / "fact_order_items.parquet")
    assert pa.Table.from_batches([batch]).equals(expected.slice(0, batch.num_rows))
    del reader  # stopped early: the workers end and the chunks in flight go with them
    assert not list(SHM.glob(f"gengo-spool-{os.getpid()}-*"))
    assert pa.Table.from_batches([batch]).equals(expected.slice(0, batch.num_rows))  # the mapping outlives the file


def test_streams_of_each_table_size_once(files, monkeypatch):
    sampled = []
    original = sizing.estimate_table
    monkeypatch.setattr(sizing, "estimate_table", lambda t, *a, **k: sampled.append(t.name) or original(t, *a, **k))
    monkeypatch.setattr(api, "_STREAM_PLANS", {})
    rows = gengo.plan("ecommerce", SIZE, "parquet", seed=5).rows
    sampled.clear()
    got = gengo.stream("ecommerce", "fact_orders_header", rows=rows, seed=5, workers=1).read_all()
    gengo.stream("ecommerce", "dim_products", rows=rows, seed=5, workers=1)
    assert sampled == ["fact_orders_header", "dim_products"]  # --rows: only the streamed table is sized
    assert got.equals(pq.read_table(files["parquet"] / "fact_orders_header.parquet"))
    sampled.clear()
    gengo.stream("ecommerce", "dim_products", size=SIZE, seed=5, workers=1)
    first = len(sampled)
    got = gengo.stream("ecommerce", "dim_customers", size=SIZE, seed=5, workers=1).read_all()
    assert first > 0 and len(sampled) == first  # a size: the dataset planned once for its tables
    assert got.equals(pq.read_table(files["parquet"] / "dim_customers.parquet"))


@pytest.mark.parametrize("fmt,ext", [("csv", "csv"), ("json", "jsonl")])
def test_stdout_text_is_the_table_file(files, fmt, ext):
    args = [
        "gen",
        "-m",
        "ecommerce",
        "-s",
        SIZE,
        "--seed",
        "5",
        "-f",
        fmt,
        "--stdout",
        "--tables",
        "fact_orders_header",
    ]
    r = subprocess.run([GENGO, *args, "-w", "2"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (files[fmt] / f"fact_orders_header.{ext}").read_bytes()


def test_stdout_arrow_is_the_parquet_table(files):
    args = ["gen", "-m", "ecommerce", "-s", SIZE, "--seed", "5", "-f", "arrow", "--stdout", "--tables", "dim_customers"]
    r = subprocess.run([GENGO, *args, "-w", "2"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = pa.ipc.open_stream(r.stdout).read_all()
    assert got.equals(pq.read_table(files["parquet"] / "dim_customers.parquet"))


@pytest.mark.parametrize(
    "extra,message",
    [
        (("-f", "csv"), "--tables with one table"),
        (("-f", "csv", "--tables", "dim_customers,dim_products"), "one table"),
        (("-f", "csv", "--tables", "nope"), "unknown table 'nope'"),
        (("-f", "parquet", "--tables", "dim_customers"), "-f csv, json or arrow"),
        (("-f", "csv", "--tables", "dim_customers", "-o", "x"), "leave out --output"),
    ],
)
def test_stdout_bad_input_is_one_line(extra, message):
    r = run_gengo("gen", "-m", "ecommerce", "-s", SIZE, "--stdout", *extra)
    assert r.returncode == 1 and r.stdout == ""
    assert_one_line_error(r, message)

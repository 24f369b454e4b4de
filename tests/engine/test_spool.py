"""Chunks travel from workers to the parent through reusable spool files, which never outlive a run."""

import pytest

from gengo.formats.base import ByteSink, add_spooled, spool_path, write_spooled
from tests.helpers import gen, sha256_files


def test_slot_files_are_overwritten_and_read_up_to_the_chunk_size(tmp_path):
    path = spool_path(tmp_path, 3)
    write_spooled(path, b"a much longer first chunk")
    write_spooled(path, b"short")  # no truncation: the file keeps its pages (and stale bytes after the chunk)
    assert path.read_bytes().startswith(b"short") and path.stat().st_size == len(b"a much longer first chunk")
    sink = ByteSink(tmp_path / "out.csv", fsync=False)
    add_spooled(sink, path, 5)
    add_spooled(sink, path, 0)
    sink.commit()
    assert (tmp_path / "out.csv").read_bytes() == b"short"
    assert path.exists()  # the parent gives the slot back; the run removes the spool at the end


def test_spool_directory_is_removed_and_bytes_do_not_depend_on_it(tmp_path, monkeypatch):
    base = tmp_path / "spool"
    base.mkdir()
    monkeypatch.setenv("GENGO_SPOOL_DIR", str(base))
    a = gen(tmp_path / "a", "ecommerce", "0.01", "csv", 5, "--workers", "2", "--chunk-rows", "4096")
    assert list(base.iterdir()) == []
    # No usable spool directory: the output directory serves, and keeps no spool file afterwards.
    monkeypatch.setenv("GENGO_SPOOL_DIR", str(tmp_path / "missing"))
    b = gen(tmp_path / "b", "ecommerce", "0.01", "csv", 5, "--workers", "2", "--chunk-rows", "4096")
    assert not [p.name for p in b.iterdir() if p.name.startswith(".")]
    c = gen(tmp_path / "c", "ecommerce", "0.01", "csv", 5, "--workers", "1")
    assert sha256_files(a) == sha256_files(b) == sha256_files(c)


@pytest.mark.parametrize(("fmt", "compression"), [("csv", None), ("csv", "gzip"), ("json", "zstd"), ("parquet", None)])
def test_large_chunks_of_every_file_format_go_through_the_spool(tmp_path, fmt, compression):
    import gengo
    from gengo.engine.worker import Job, Spooled, run_chunk

    p = gengo.plan("ecommerce", "0.05", fmt, seed=1, compression=compression, workers=1)
    table = next(t for t in p.tables if t.name == "fact_order_items")
    job = Job("ecommerce", fmt, p.seed, p.rows, p.options, {t.name: t.hints for t in p.tables}, str(tmp_path))
    result = run_chunk(job, table.name, 0, table.chunk_rows, 0)
    assert isinstance(result.payload, Spooled) and result.payload.size > 0

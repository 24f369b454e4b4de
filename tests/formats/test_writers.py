"""Writers: the Parquet footer codec and the row-group concatenation done in the parent."""

import io
import struct

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gengo.formats import FORMATS, WriteOptions, thrift


def _sample_table(n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "s": pa.array(["x", "yy", None, "zzz"] * (n // 4)),
            "d": pa.array(np.arange(n)).cast(pa.decimal128(22, 2)),
            "b": pa.array([True, False] * (n // 2)),
            "ts": pa.array(np.arange(n) * 10**6).cast(pa.timestamp("us", tz="UTC")),
        }
    )


def test_thrift_footer_round_trips_byte_for_byte():
    buf = io.BytesIO()
    pq.write_table(_sample_table(40_000), buf, row_group_size=15_000)
    data = buf.getvalue()
    (n,) = struct.unpack("<i", data[-8:-4])
    footer = data[-8 - n : -8]
    assert thrift.encode_struct(thrift.decode_struct(footer)) == footer


def test_parquet_sink_concatenates_chunks_into_one_valid_file(tmp_path):
    fmt = FORMATS["parquet"]
    table = _sample_table(40_000)
    opts = WriteOptions(row_group_rows=10_000)
    hints = fmt.choose_hints(table, opts)
    sink = fmt.open_sink(tmp_path / "t.parquet", table.schema, opts, hints)
    for start in range(0, 40_000, 20_000):  # two chunks of two row groups each
        sink.add(fmt.encode(table.slice(start, 20_000), start == 0, opts, hints))
    size = sink.commit()
    f = pq.ParquetFile(tmp_path / "t.parquet")
    assert size == (tmp_path / "t.parquet").stat().st_size
    assert f.metadata.num_rows == 40_000 and f.metadata.num_row_groups == 4
    assert f.read().equals(table)
    assert f.read_row_group(3).column("id")[0].as_py() == 30_000
    filtered = pq.read_table(tmp_path / "t.parquet", filters=[("id", ">=", 39_998)])
    assert filtered.column("id").to_pylist() == [39_998, 39_999]


def test_empty_parquet_table_has_the_schema(tmp_path):
    fmt = FORMATS["parquet"]
    schema = _sample_table(4).schema
    sink = fmt.open_sink(tmp_path / "e.parquet", schema, WriteOptions(), None)
    sink.commit()
    t = pq.read_table(tmp_path / "e.parquet")
    assert t.num_rows == 0 and t.schema.names == schema.names

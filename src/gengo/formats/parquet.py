"""Parquet: Snappy by default, int64 keys, DECIMAL money, TIMESTAMP(us, UTC), statistics.

Workers encode: each chunk is written by Arrow's C++ writer as a standalone Parquet file of
whole row groups (chunks start on row-group boundaries). The parent appends the row groups'
bytes to one file per table and writes a merged footer, shifting the file offsets recorded in
the column chunks (``thrift``). Row groups have a fixed number of rows per table, so the bytes
never depend on how the work was split, and the parent does no encoding at all.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gengo.formats import thrift
from gengo.formats.base import FormatBase, LocalFile, RemoteFile
from gengo.formats.checksum import new_hasher
from gengo.formats.options import GZIP_LEVEL, WriteOptions

MAGIC = b"PAR1"
MAX_ROW_GROUP_ROWS = 1 << 20
MIN_ROW_GROUP_ROWS = 1 << 16
ROW_GROUP_ARROW_BYTES = 32 * 2**20  # aim for row groups of about this much data in memory
DICTIONARY_BUDGET = 512 * 1024  # bytes of distinct values per row group worth a dictionary

# FileMetaData / RowGroup / ColumnChunk / ColumnMetaData field ids (parquet.thrift).
_FMD_NUM_ROWS, _FMD_ROW_GROUPS = 3, 4
_RG_COLUMNS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 5, 7
_CC_FILE_OFFSET, _CC_META, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX = 2, 3, 4, 6
_CMD_OFFSETS = (9, 10, 11, 14)  # data page, index page, dictionary page, bloom filter


def writer_options(options: WriteOptions, hints: dict | None) -> dict:
    dictionary = list(hints["dictionary"]) if hints else True
    codec = options.codec(PARQUET)
    return {
        "compression": codec,
        # Arrow's gzip default is level 9: 17x slower than level 6 here for 0.2% smaller files.
        "compression_level": GZIP_LEVEL if codec == "gzip" else None,
        "write_statistics": True,
        "use_dictionary": dictionary,
        "store_decimal_as_integer": True,  # DECIMAL on INT32/INT64: smaller and faster than fixed-length bytes
    }


def row_group_rows(options: WriteOptions, hints: dict | None) -> int:
    if options.row_group_rows:
        return options.row_group_rows
    return hints["row_group_rows"] if hints else MAX_ROW_GROUP_ROWS


def auto_row_group_rows(sample: pa.Table) -> int:
    """A power of two giving row groups of about ``ROW_GROUP_ARROW_BYTES`` (64 Ki to 1 Mi rows)."""
    width = max(sample.nbytes / max(len(sample), 1), 1.0)
    rows = 1 << max(0, int(ROW_GROUP_ARROW_BYTES / width).bit_length() - 1)
    return min(MAX_ROW_GROUP_ROWS, max(MIN_ROW_GROUP_ROWS, rows))


def dictionary_columns(sample: pa.Table, group_rows: int) -> tuple[str, ...]:
    """Columns whose distinct values in a full row group fit a small dictionary.

    Decided once per table from the calibration sample. Without it, Arrow tries a dictionary
    for every column and falls back to plain encoding once the dictionary page fills up:
    time lost on keys and other near-unique columns, and file sizes that a sample cannot
    predict.
    """
    n = max(len(sample), 1)
    spread = max(1.0, group_rows / n)
    chosen = []
    for name, column in zip(sample.column_names, sample.columns, strict=True):

        def fits(distinct: int, column: pa.ChunkedArray = column) -> bool:
            return min(group_rows, distinct * spread) * column.nbytes / n <= DICTIONARY_BUDGET

        # The projected dictionary grows with the distinct count, so a prefix already holding
        # too many distinct values decides "no" for the whole column: keys and near-unique
        # columns are refused after a few thousand rows instead of hashing all of them
        # (counting every column was 40% of planning ecommerce-ds Parquet). Same answer as a
        # full count: ``fits`` is monotone in the count.
        if not fits(len(column)) and column.nbytes:
            allowed = DICTIONARY_BUDGET * n / (column.nbytes * spread)
            prefix = min(len(column), 4 * (int(allowed) + 1))
            if prefix < len(column) and not fits(_count_distinct(column.slice(0, prefix))):
                continue
        distinct = _count_distinct(column)
        if distinct == n and n > 1000:
            continue  # unique in the sample: a key or free text
        if fits(distinct):
            chosen.append(name)
    return tuple(chosen)


def _count_distinct(column: pa.ChunkedArray) -> int:
    """Distinct non-null values; DECIMAL(p <= 18) counted on the low 64 bits of its 128, which
    decide the value (the high word only extends the sign) and hash a third faster."""
    if pa.types.is_decimal128(column.type) and column.type.precision <= 18:
        column = pa.chunked_array([_low_words(chunk) for chunk in column.chunks], pa.int64())
    return pc.count_distinct(column).as_py()


def _low_words(chunk: pa.Array) -> pa.Array:
    validity, data = chunk.buffers()
    words = np.frombuffer(data, dtype="<i8")[: 2 * (chunk.offset + len(chunk)) : 2]  # offset applies to both buffers
    return pa.Array.from_buffers(
        pa.int64(), len(chunk), [validity, pa.py_buffer(np.ascontiguousarray(words))], chunk.null_count, chunk.offset
    )


def _shift(s: thrift.Struct, field_id: int, by: int) -> None:
    f = s.get(field_id)
    if f is not None and f.value:  # 0 means "not set" for these offsets
        f.value += by


def _footer(data: bytes | memoryview) -> tuple[thrift.Struct, int]:
    """The decoded FileMetaData of a whole Parquet file, and where it starts."""
    (length,) = struct.unpack_from("<i", data, len(data) - 8)
    start = len(data) - 8 - length
    return thrift.decode_struct(bytes(data[start : len(data) - 8])), start


class ParquetSink(LocalFile):
    """Concatenates worker-encoded Parquet files (whole row groups) into one file."""

    def __init__(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> None:
        self.path = path
        self.schema, self.options, self.hints = schema, options, hints
        self._fsync = options.fsync
        self._file = self._open()
        self._hash = new_hasher()
        self._template: thrift.Struct | None = None
        self._row_groups: list[thrift.Struct] = []
        self._rows = 0
        self._write(MAGIC)

    def _write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self._hash.update(data)

    def bytes_written(self) -> int:
        return self._file.tell()

    def checksum(self) -> str:
        return self._hash.hexdigest()

    def add(self, payload: bytes) -> None:
        meta, footer_start = _footer(payload)
        shift = self._file.tell() - len(MAGIC)  # the payload's row groups start right after its magic
        for rg in meta.get(_FMD_ROW_GROUPS).value.values:
            _shift(rg, _RG_FILE_OFFSET, shift)
            for cc in rg.get(_RG_COLUMNS).value.values:
                for fid in (_CC_FILE_OFFSET, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX):
                    _shift(cc, fid, shift)
                cmd = cc.get(_CC_META)
                if cmd is not None:
                    for fid in _CMD_OFFSETS:
                        _shift(cmd.value, fid, shift)
            ordinal = rg.get(_RG_ORDINAL)
            if ordinal is not None:
                ordinal.value = len(self._row_groups)
                if ordinal.value > 32767:  # an i16: beyond it, leave the optional field out
                    rg.fields.remove(ordinal)
            self._row_groups.append(rg)
        self._rows += meta.get(_FMD_NUM_ROWS).value
        if self._template is None:
            self._template = meta
        self._write(memoryview(payload)[len(MAGIC) : footer_start])

    def commit(self) -> int:
        if self._template is None:  # no rows: an ordinary empty file with the schema
            buf = pa.BufferOutputStream()
            pq.write_table(self.schema.empty_table(), buf, **writer_options(self.options, self.hints))
            self._write(memoryview(buf.getvalue())[len(MAGIC) :])  # its magic is already written
        else:
            meta = self._template
            meta.get(_FMD_NUM_ROWS).value = self._rows
            meta.get(_FMD_ROW_GROUPS).value = thrift.ThriftList(thrift.STRUCT, self._row_groups)
            footer = thrift.encode_struct(meta)
            self._write(footer + struct.pack("<i", len(footer)) + MAGIC)
        return self._place()

    def abort(self) -> None:
        self._discard()


class RemoteParquetSink(RemoteFile, ParquetSink):
    def __init__(self, fs, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> None:
        self.fs = fs
        super().__init__(path, schema, options, hints)


class ParquetFormat(FormatBase):
    name = "parquet"
    extension = "parquet"
    codecs = ("snappy", "zstd", "gzip", "lz4", "none")
    row_groups = True
    spooled = True
    partitioned = True
    partition_columns_in_files = False  # --partition-by: a value's column lives in its directory name (Hive)
    escaped_partition_values = True  # --partition-by: %XX in directory names is read back as the character

    def encode(self, table: pa.Table, first: bool, options: WriteOptions, hints: dict | None = None) -> memoryview:
        """A standalone Parquet file of whole row groups, as a view of Arrow's buffer (not copied)."""
        buf = pa.BufferOutputStream()
        rows = row_group_rows(options, hints)
        pq.write_table(table, buf, row_group_size=rows, **writer_options(options, hints))
        return memoryview(buf.getvalue())

    def open_sink(self, path: Path, schema: pa.Schema, options: WriteOptions, hints: dict | None) -> ParquetSink:
        return ParquetSink(path, schema, options, hints)

    def open_remote_sink(
        self, fs: Any, path: str, schema: pa.Schema, options: WriteOptions, hints: dict | None
    ) -> RemoteParquetSink:
        return RemoteParquetSink(fs, path, schema, options, hints)

    def choose_hints(self, sample: pa.Table, options: WriteOptions) -> dict | None:
        rows = options.row_group_rows or auto_row_group_rows(sample)
        return {"dictionary": dictionary_columns(sample, rows), "row_group_rows": rows}

    def unit_rows(self, options: WriteOptions, hints: dict | None = None) -> int | None:
        return row_group_rows(options, hints)

    def file_bytes(self, table: pa.Table, options: WriteOptions, hints: dict | None) -> int:
        return len(self.encode(table, True, options, hints))


PARQUET = ParquetFormat()

"""A minimal Thrift compact-protocol codec, enough to rewrite a Parquet footer.

Parquet's footer (``FileMetaData``) is a Thrift struct in the compact protocol. To append
row groups that workers encoded as standalone Parquet files, the parent must shift the file
offsets recorded in each column chunk. This module decodes any compact-protocol struct into
a generic tree and encodes it back byte for byte, so fields it does not know survive intact.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Compact protocol type ids.
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)


@dataclass
class Field:
    id: int
    type: int
    value: object  # int, float, bytes, bool, Struct, ThriftList or ThriftMap


@dataclass
class Struct:
    fields: list[Field]

    def get(self, field_id: int) -> Field | None:
        for f in self.fields:
            if f.id == field_id:
                return f
        return None


@dataclass
class ThriftList:
    elem_type: int
    values: list
    is_set: bool = False


@dataclass
class ThriftMap:
    key_type: int
    value_type: int
    items: list[tuple[object, object]]


class _Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t: int):
        if t in (TRUE, FALSE):  # a bool inside a collection: one byte
            return self.byte() == TRUE
        if t == BYTE:
            return self.byte()
        if t in (I16, I32, I64):
            return self.zigzag()
        if t == DOUBLE:
            (v,) = struct.unpack_from("<d", self.data, self.pos)
            self.pos += 8
            return v
        if t == BINARY:
            n = self.varint()
            v = self.data[self.pos : self.pos + n]
            self.pos += n
            return bytes(v)
        if t in (LIST, SET):
            head = self.byte()
            size, elem = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            return ThriftList(elem, [self.value(elem) for _ in range(size)], t == SET)
        if t == MAP:
            size = self.varint()
            if size == 0:
                return ThriftMap(0, 0, [])
            kv = self.byte()
            k, v = kv >> 4, kv & 0x0F
            return ThriftMap(k, v, [(self.value(k), self.value(v)) for _ in range(size)])
        if t == STRUCT:
            return self.struct()
        raise ValueError(f"unknown thrift compact type {t}")

    def struct(self) -> Struct:
        fields, last = [], 0
        while True:
            head = self.byte()
            if head == STOP:
                return Struct(fields)
            t, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            value = t == TRUE if t in (TRUE, FALSE) else self.value(t)
            fields.append(Field(fid, t, value))
            last = fid


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while True:
            b = n & 0x7F
            n >>= 7
            if n:
                self.out.append(b | 0x80)
            else:
                self.out.append(b)
                return

    def zigzag(self, n: int) -> None:
        self.varint((n << 1) ^ (n >> 63))

    def value(self, t: int, v) -> None:
        if t in (TRUE, FALSE):
            self.out.append(TRUE if v else FALSE)
        elif t == BYTE:
            self.out.append(v & 0xFF)
        elif t in (I16, I32, I64):
            self.zigzag(v)
        elif t == DOUBLE:
            self.out += struct.pack("<d", v)
        elif t == BINARY:
            self.varint(len(v))
            self.out += v
        elif t in (LIST, SET):
            n = len(v.values)
            if n < 15:
                self.out.append((n << 4) | v.elem_type)
            else:
                self.out.append(0xF0 | v.elem_type)
                self.varint(n)
            for item in v.values:
                self.value(v.elem_type, item)
        elif t == MAP:
            self.varint(len(v.items))
            if v.items:
                self.out.append((v.key_type << 4) | v.value_type)
                for k, val in v.items:
                    self.value(v.key_type, k)
                    self.value(v.value_type, val)
        elif t == STRUCT:
            self.struct(v)
        else:
            raise ValueError(f"unknown thrift compact type {t}")

    def struct(self, s: Struct) -> None:
        last = 0
        for f in s.fields:
            t = (TRUE if f.value else FALSE) if f.type in (TRUE, FALSE) else f.type
            delta = f.id - last
            if 0 < delta <= 15:
                self.out.append((delta << 4) | t)
            else:
                self.out.append(t)
                self.zigzag(f.id)
            if f.type not in (TRUE, FALSE):
                self.value(f.type, f.value)
            last = f.id
        self.out.append(STOP)


def decode_struct(data: bytes) -> Struct:
    return _Reader(data).struct()


def encode_struct(s: Struct) -> bytes:
    w = _Writer()
    w.struct(s)
    return bytes(w.out)

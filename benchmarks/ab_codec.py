"""Two builds of the text codec (``_textcodec.*.so``) against each other in one process: the same
packed chunks (100,000 rows from the middle of a model's five largest tables at 1 GB), A B A B,
medians of 9 calls each. Run by hand:

    cp src/gengo/formats/_textcodec.*.so /tmp/old.so      # before the change; rebuild, then
    .venv/bin/python benchmarks/ab_codec.py /tmp/old.so src/gengo/formats/_textcodec.*.so ecommerce-ds [json]

One process for both: what differs between processes on a shared machine (its load, where the
buffers land) weighs on both alike. Both builds must write the same bytes (checked).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

import numpy as np

import gengo
from gengo.formats import textcodec
from gengo.models import resolve_model

ROWS = 100_000


def load(path: str):
    spec = importlib.util.spec_from_file_location("_textcodec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encoder(data, as_json: bool):
    """A function of a codec build encoding ``data`` into one reused buffer, and the buffer."""
    p = textcodec.Packed(data, json=as_json)
    if not as_json:
        out = np.empty(p.bound(0, 2), np.uint8)
        return lambda c: c.csv_rows(p.kinds, p.params, p.vals, p.valid, p.nullable, p.soff, p.sdata, out, 0), out
    key_data, key_off = textcodec.json_keys(data.column_names)
    out = np.empty(p.bound(len(key_data), 6), np.uint8)
    args = (p.kinds, p.params, p.vals, p.valid, p.nullable, p.soff, p.sdata, key_data, key_off, out)
    return lambda c: c.json_rows(*args), out


def main() -> None:
    a, b = load(sys.argv[1]), load(sys.argv[2])
    model = sys.argv[3] if len(sys.argv) > 3 else "ecommerce-ds"
    as_json = len(sys.argv) > 4 and sys.argv[4] == "json"
    plan = gengo.plan(model, 1.0, "json" if as_json else "csv", seed=1)
    rows = {t.name: t.rows for t in plan.tables}
    for t in sorted(resolve_model(model).tables, key=lambda t: -rows[t.name])[:5]:
        n, mid = min(ROWS, rows[t.name]), rows[t.name] // 2
        data = t.generate(1, rows, np.arange(mid, mid + n, dtype=np.int64))
        call, out = encoder(data, as_json)
        end = call(a)
        first = bytes(out[:end])
        if call(b) != end or bytes(out[:end]) != first:
            raise SystemExit(f"{t.name}: the two builds write different bytes")
        times: dict = {a: [], b: []}
        for _ in range(9):
            for codec in (a, b):
                start = time.perf_counter()
                call(codec)
                times[codec].append(time.perf_counter() - start)
        ta, tb = statistics.median(times[a]), statistics.median(times[b])
        print(
            f"{t.name:28s} {data.num_columns:3d} cols  A {ta / end * 1e9:5.2f} ns/B  B {tb / end * 1e9:5.2f} ns/B",
            end="",
        )
        print(f"  B/A {tb / ta:.3f}")


if __name__ == "__main__":
    main()

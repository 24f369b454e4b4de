"""Another revision of the text codec (``textcodec.py`` with its ``_textcodec`` build) against this
checkout's, in one process: the same chunks (100,000 rows from the middle of a model's five
largest tables at 1 GB) encoded whole (describing the columns, then the C loop), A B A B,
medians of 9 calls each. Run by hand:

    mkdir /tmp/old && git show REV:src/gengo/formats/textcodec.py > /tmp/old/textcodec.py
    git show REV:src/gengo/formats/_textcodec.c > /tmp/old/_textcodec.c
    gcc -O3 -shared -fPIC -I"$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \\
        /tmp/old/_textcodec.c -o /tmp/old/_textcodec.so
    .venv/bin/python benchmarks/ab_codec.py /tmp/old/textcodec.py /tmp/old/_textcodec.so ecommerce-ds [json]

One process for both: what differs between processes on a shared machine (its load, where the
buffers land) weighs on both alike. Both revisions must write the same bytes (checked).
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


def load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    old = load("old_textcodec", sys.argv[1])
    build = load("_textcodec", sys.argv[2])
    old.codec = lambda: build  # the old module with its own build
    model = sys.argv[3] if len(sys.argv) > 3 else "ecommerce-ds"
    as_json = len(sys.argv) > 4 and sys.argv[4] == "json"
    plan = gengo.plan(model, 1.0, "json" if as_json else "csv", seed=1)
    rows = {t.name: t.rows for t in plan.tables}
    for t in sorted(resolve_model(model).tables, key=lambda t: -rows[t.name])[:5]:
        n = min(ROWS, rows[t.name])
        start = min(rows[t.name] // 2, rows[t.name] - n)  # from the middle, within the table
        data = t.generate(1, rows, np.arange(start, start + n, dtype=np.int64))

        def call(module, data=data):
            return module.encode_json(data) if as_json else module.encode_csv(data, False)

        first = bytes(call(old))
        if bytes(call(textcodec)) != first:
            raise SystemExit(f"{t.name}: the two revisions write different bytes")
        times: dict = {"A": [], "B": []}
        for _ in range(9):
            for key, module in (("A", old), ("B", textcodec)):
                start = time.perf_counter()
                call(module)
                times[key].append(time.perf_counter() - start)
        ta, tb = statistics.median(times["A"]), statistics.median(times["B"])
        size = len(first)
        print(
            f"{t.name:28s} {data.num_columns:3d} cols  A {ta / size * 1e9:5.2f} ns/B  B {tb / size * 1e9:5.2f} ns/B",
            end="",
        )
        print(f"  B/A {tb / ta:.3f}")


if __name__ == "__main__":
    main()

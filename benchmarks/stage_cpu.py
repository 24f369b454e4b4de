"""CPU-seconds per GB of output by stage (generating, encoding) for one checkout. Run by hand.

    .venv/bin/python benchmarks/stage_cpu.py ecommerce csv
    ../old-checkout/.venv/bin/python benchmarks/stage_cpu.py ecommerce csv   # before/after, same window

In one process on one core, process CPU time (another process's load changes it far less than
wall time): three chunks of 100,000 rows per table (first, middle, last), the better of two
runs each, scaled to the rows of the 1 GB plan. What the workers spend; the parent's appending,
hashing and writing and the start-up are not in it (bench.py and versus.py measure whole runs).
"""

import json
import sys
import time

import numpy as np

import gengo
from gengo.formats import FORMATS, WriteOptions
from gengo.models import resolve_model

model, fmt = sys.argv[1], sys.argv[2]
plan = gengo.plan(model, 1.0, fmt, seed=1)
rows = {t.name: t.rows for t in plan.tables}
m = resolve_model(model)
opts = WriteOptions()
gen = enc = 0.0
nbytes = 0
for t in m.tables:
    total = rows[t.name]
    n = min(100_000, total)
    starts = sorted({0, max(0, total // 2 - n // 2), max(0, total - n)})
    g = e = b = 0.0
    for s in starts:
        idx = np.arange(s, s + n, dtype=np.int64)
        best_g = best_e = 1e9
        for _ in range(2):
            a = time.process_time()
            d = t.generate(1, rows, idx)
            best_g = min(best_g, time.process_time() - a)
            a = time.process_time()
            p = FORMATS[fmt].encode(d, s == 0, opts)
            best_e = min(best_e, time.process_time() - a)
        g += best_g
        e += best_e
        b += len(p)
    scale = total / (n * len(starts))
    gen += g * scale
    enc += e * scale
    nbytes += b * scale
print(
    json.dumps(
        {
            "model": model,
            "format": fmt,
            "gen_cpu_s_per_gb": round(gen / (nbytes / 1e9), 3),
            "encode_cpu_s_per_gb": round(enc / (nbytes / 1e9), 3),
            "gb": round(nbytes / 1e9, 3),
        }
    )
)

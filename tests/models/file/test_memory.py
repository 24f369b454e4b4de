"""A model file's chunk leaves no reference cycle: its columns are freed when the chunk returns,
not when the cyclic collector next runs (cycles through an Env held every column of every chunk
until then: peak memory of a run doubled)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FILE = str(Path(__file__).resolve().parents[3] / "examples" / "models" / "ecommerce.yaml")

# In a fresh interpreter: in a test worker that had run other modules first (in-process command
# lines among them) this check once counted 35,100 cycles that its own chunks did not make.
CHECK = """
import gc, sys
import numpy as np
from gengo.models import resolve_model

model = resolve_model(sys.argv[1])
rows = model.row_counts(10_000, 1)
for t in model.tables:  # the first chunks import modules and fill caches
    t.generate(1, rows, np.arange(min(rows[t.name], 5000), dtype=np.int64))
gc.collect()
gc.disable()
for t in model.tables:
    t.generate(1, rows, np.arange(min(rows[t.name], 5000), dtype=np.int64))
    found = gc.collect()
    if found:
        sys.exit(f"{t.name}: {found} objects in reference cycles")
"""


def test_generating_a_chunk_creates_no_garbage_cycle():
    r = subprocess.run([sys.executable, "-c", CHECK, FILE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr

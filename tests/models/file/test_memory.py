"""A model file's chunk leaves no reference cycle: its columns are freed when the chunk returns,
not when the cyclic collector next runs (cycles through an Env held every column of every chunk
until then: peak memory of a run doubled)."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np

from gengo.models import resolve_model

FILE = str(Path(__file__).resolve().parents[3] / "examples" / "models" / "ecommerce.yaml")


def test_generating_a_chunk_creates_no_garbage_cycle():
    model = resolve_model(FILE)
    rows = model.row_counts(10_000, 1)
    for t in model.tables:  # the first chunks import modules and fill caches
        t.generate(1, rows, np.arange(min(rows[t.name], 5000), dtype=np.int64))
    gc.collect()
    gc.disable()
    try:
        for t in model.tables:
            t.generate(1, rows, np.arange(min(rows[t.name], 5000), dtype=np.int64))
            assert gc.collect() == 0, t.name
    finally:
        gc.enable()

"""What Delta and Iceberg add to a Parquet run, and gengo.stream against Parquet. Run by hand.

    .venv/bin/python benchmarks/lake.py -m ecommerce -s 1 --pairs 3 --dir /dev/shm --json results/lake-1gb.json

Each measurement is a fresh process (benchmarks/bench.py --one for the formats), alternated
parquet, delta, iceberg, stream, ...; medians. The stream run reads every table of the model
through ``gengo.stream`` (a RecordBatchReader from the worker pool) and counts rows, timed from
its process start like the others; its rows/s is compared with the Parquet run's.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent


def stream_one(model: str, size: float, seed: int) -> dict:
    """Every table through gengo.stream, in this (new) process."""
    from gengo.engine import tuning
    from gengo.engine.forkserver import prewarm

    tuning.tune_parent()
    prewarm(None, model=model)
    import gengo

    plan = gengo.plan(model, size, "parquet", seed=seed)
    rows = 0
    for t in plan.tables:
        reader = gengo.stream(model, t.name, rows=plan.rows, seed=seed)  # the plan's counts: sized once
        for batch in reader:
            rows += batch.num_rows
    wall = time.perf_counter() - STARTED
    return {"format": "stream", "rows": rows, "wall_s": round(wall, 3), "rows_per_s": round(rows / wall)}


def run(cmd: list[str]) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--stream":
        print(json.dumps(stream_one(*json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", default="ecommerce")
    ap.add_argument("-s", "--size", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"parquet": [], "delta": [], "iceberg": [], "stream": []}
    for _ in range(args.pairs):
        for fmt in ("parquet", "delta", "iceberg"):
            spec = [args.model, fmt, args.size, None, args.seed, None, args.dir]
            runs[fmt].append(run([sys.executable, str(HERE / "bench.py"), "--one", json.dumps(spec)]))
        spec = [args.model, args.size, args.seed]
        runs["stream"].append(run([sys.executable, __file__, "--stream", json.dumps(spec)]))
        print("  " + ", ".join(f"{k} {v[-1]['wall_s']:.2f} s" for k, v in runs.items()), flush=True)
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    rps = {k: statistics.median(r["rows_per_s"] for r in v) for k, v in runs.items()}
    summary = {
        "model": args.model,
        "size_gb": args.size,
        "median_wall_s": med,
        "median_rows_per_s": rps,
        "delta_over_parquet": round(med["delta"] / med["parquet"], 3),
        "iceberg_over_parquet": round(med["iceberg"] / med["parquet"], 3),
        "stream_rows_per_s_over_parquet": round(rps["stream"] / rps["parquet"], 3),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()

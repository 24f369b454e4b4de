"""What Delta and Iceberg add to a Parquet run, and gengo.stream against Parquet. Run by hand.

    .venv/bin/python benchmarks/lake.py -m ecommerce -s 1 --pairs 3 --dir /dev/shm --json results/lake-1gb.json

Each measurement is a fresh process (``bench.bench_one`` for the formats), alternated parquet,
parquet-parts, delta, iceberg, stream, ...; medians. ``parquet-parts`` is ``-f parquet --part-size
256MB``: the very files Delta and Iceberg register, so delta/iceberg over it is what the commit
adds, and over plain Parquet what the commit and the part layout add together (workers writing
whole 256 MB parts balance worse than chunks). The stream run reads every table of the model
through ``gengo.stream`` (a RecordBatchReader from the worker pool) and counts rows, timed from
its process start like the others; its rows/s is compared with the Parquet run's. Every run also
reports ``cpu_s``, its CPU time with the workers' (the fork server's reaped children): on a
shared machine, the wall times move with the others' load and the CPU times much less.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent


def cpu_seconds() -> float:
    """CPU time of this process and of its workers so far: the fork server's own and its reaped children's."""
    import multiprocessing.forkserver
    import os
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    total = me.ru_utime + me.ru_stime
    pid = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    if pid is not None:
        with open(f"/proc/{pid}/stat") as f:  # utime, stime, cutime, cstime
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return round(total, 2)


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
        reader = gengo.stream(model, t.name, rows=plan.rows, seed=seed)  # the plan's counts
        for batch in reader:
            rows += batch.num_rows
    wall = time.perf_counter() - STARTED
    return {
        "format": "stream",
        "rows": rows,
        "wall_s": round(wall, 3),
        "rows_per_s": round(rows / wall),
        "cpu_s": cpu_seconds(),
    }


def format_one(model: str, fmt: str, size: float, seed: int, where: str | None) -> dict:
    """One ``bench.bench_one`` run in this (new) process, with its CPU time; parquet-parts: 256 MB parts."""
    sys.path.insert(0, str(HERE))
    from bench import bench_one

    import gengo  # light: the library loads on first use, after bench_one's tuning

    if fmt == "parquet-parts":

        def plan(*args, **kwargs):
            from gengo import api

            return api.plan(*args, **kwargs, part_size="256MB")

        gengo.plan = plan
    result = bench_one(model, "parquet" if fmt == "parquet-parts" else fmt, size, None, seed, None, where)
    return {**result, "format": fmt, "cpu_s": cpu_seconds()}


def run(cmd: list[str]) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _paired(runs: dict, a: str, b: str, key: str) -> float:
    return round(statistics.median(x[key] / y[key] for x, y in zip(runs[a], runs[b], strict=True)), 3)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--stream":
        print(json.dumps(stream_one(*json.loads(sys.argv[2]))))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(format_one(*json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", default="ecommerce")
    ap.add_argument("-s", "--size", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"parquet": [], "parquet-parts": [], "delta": [], "iceberg": [], "stream": []}
    loads = []
    for _ in range(args.pairs):
        loads.append(os.getloadavg()[0])
        for fmt in ("parquet", "parquet-parts", "delta", "iceberg"):
            spec = [args.model, fmt, args.size, args.seed, args.dir]
            runs[fmt].append(run([sys.executable, __file__, "--one", json.dumps(spec)]))
        spec = [args.model, args.size, args.seed]
        runs["stream"].append(run([sys.executable, __file__, "--stream", json.dumps(spec)]))
        print(
            f"  load {loads[-1]:.2f}: " + ", ".join(f"{k} {v[-1]['wall_s']:.2f} s" for k, v in runs.items()), flush=True
        )
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    rps = {k: statistics.median(r["rows_per_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    summary = {
        "model": args.model,
        "size_gb": args.size,
        "load_average_1min_at_each_round": loads,
        "median_wall_s": med,
        "median_rows_per_s": rps,
        "median_cpu_s": cpu,
        "delta_over_parquet": round(med["delta"] / med["parquet"], 3),
        "iceberg_over_parquet": round(med["iceberg"] / med["parquet"], 3),
        "delta_over_parquet_parts": round(med["delta"] / med["parquet-parts"], 3),
        "iceberg_over_parquet_parts": round(med["iceberg"] / med["parquet-parts"], 3),
        "stream_rows_per_s_over_parquet": round(rps["stream"] / rps["parquet"], 3),
        # the same ratios from the pairs (each round's runs side by side), then their median
        "paired_iceberg_over_parquet": _paired(runs, "iceberg", "parquet", "wall_s"),
        "paired_iceberg_over_parquet_parts": _paired(runs, "iceberg", "parquet-parts", "wall_s"),
        "paired_stream_rows_per_s_over_parquet": _paired(runs, "stream", "parquet", "rows_per_s"),
        "iceberg_cpu_over_parquet_parts_cpu": round(cpu["iceberg"] / cpu["parquet-parts"], 3),
        "stream_cpu_over_parquet_cpu": round(cpu["stream"] / cpu["parquet"], 3),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()

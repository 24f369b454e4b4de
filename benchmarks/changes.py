"""Change batches against plain generation: the cost per row of each. Run by hand, never in CI.

    .venv/bin/python benchmarks/changes.py -m ecommerce -f parquet -s 0.1 --batches 3 -w 1 --repeat 3

Each measurement is a fresh process that plans the model, writes the base (``gen`` without
``--batches``: generation, encoding, writing) and then the change batches (``--batches N``'s
extra work), timing each. Both sides run in the same process one after the other, so the load
of a shared machine weighs on both alike. The report gives rows/s of the base and of the batch
rows (every row of every batch file) and their ratio, the cost of a batch row in base rows (the
issue asks for at most 2). ``--as-of K`` times the snapshot instead, per row of the snapshot's
changing tables; ``--history`` adds the type-2 tables to the batch side.

``--command`` measures what a user sees instead: wall time of ``gengo gen`` with and without
``--batches`` (alternated), the batches' cost being the difference; start-up and planning then
count as base time (an earlier measurement of the issue, 4.6x, was taken this way). Files are
flushed (fsync) as ``gen`` does; in-process runs skip it unless ``--fsync``, as ``bench.py`` does:
batches write many small files, and on a shared virtual disk their flushes weigh more than the
work (ecommerce -s 0.1, 3 batches: 0.96 s with, 0.70 s without).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Imported before either clock starts: run with PYTHONDONTWRITEBYTECODE (as on this project's
# machine), a module's first import compiles it, 15-20 ms for the change modules, a fixed cost
# that is no part of the cost per row (at -s 0.1 a tenth of a CSV run's batches).
PREIMPORT = (
    "gengo.engine.pipeline",
    "gengo.engine.tables",
    "gengo.engine.changes",
    "gengo.engine.change_blocks",
    "gengo.engine.history",
    "gengo.formats.jsonl",
)


def one(spec: dict) -> dict:
    """One measurement, in this process."""
    import importlib

    from gengo import api

    for name in PREIMPORT:
        importlib.import_module(name)
    workers = spec["workers"]
    api.prewarm(workers, spec["size"])
    plan = api.plan(spec["model"], spec["size"], spec["format"], seed=spec["seed"], workers=workers)
    out = Path(tempfile.mkdtemp(prefix="gengo-bench-changes-", dir=spec.get("dir"))) / "out"
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        fsync = spec.get("fsync", False)  # as benchmarks/bench.py measures the base: no fsync unless asked
        with api.prepare(plan, out, workers, changes=True, fsync=fsync) as run:  # as gen --batches runs it
            summary = run.execute()
        base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        history = spec.get("history", False)
        info = api.write_changes(
            run.plan, out, spec["batches"], spec.get("as_of"), workers=workers, history=history, moving=run.moving
        )
        change_s, change_cpu = time.perf_counter() - t0, time.process_time() - c0
        if spec.get("as_of") is not None:
            manifest = json.loads((out / "manifest.json").read_text())
            change_rows = sum(e["rows"] for e in manifest["tables"] if e["table"] in info["changing"])
        else:
            change_rows = sum(f["rows"] for f in info["files"]) + sum(f["rows"] for f in info.get("history", ()))
        change_bytes = sum(
            p.stat().st_size for p in (out / "changes").rglob("*") if p.is_file() and p.suffix != ".json"
        )
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    base_rows = sum(t.rows for t in summary.tables)
    sizes = {"base_bytes": sum(t.bytes for t in summary.tables), "change_bytes": change_bytes}
    # CPU seconds of this process: everything with one worker (steadier than wall time on a shared machine)
    cpu = {"base_cpu": base_cpu, "change_cpu": change_cpu}
    return {"base_rows": base_rows, "base_s": base_s, "change_rows": change_rows, "change_s": change_s} | cpu | sizes


def command(spec: dict, batches: bool) -> dict:
    """One ``gengo gen`` process, timed from outside: (wall seconds, rows of the base, rows of the batches)."""
    gengo = Path(sys.executable).parent / "gengo"
    out = Path(tempfile.mkdtemp(prefix="gengo-bench-changes-", dir=spec.get("dir"))) / "out"
    args = [str(gengo), "gen", "-q", "-m", spec["model"], "-s", str(spec["size"]), "-f", spec["format"]]
    args += ["-o", str(out), "--seed", str(spec["seed"]), "-w", str(spec["workers"])]
    if batches:
        args += ["--batches", str(spec["batches"])] + (["--history"] if spec.get("history") else [])
    try:
        t0 = time.perf_counter()
        subprocess.run(args, check=True)
        seconds = time.perf_counter() - t0
        base = json.loads((out / "manifest.json").read_text())["total_rows"]
        changes = out / "changes" / "manifest.json"
        info = json.loads(changes.read_text()) if changes.exists() else {}
        rows = sum(f["rows"] for f in info.get("files", ())) + sum(f["rows"] for f in info.get("history", ()))
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    return {"seconds": seconds, "base_rows": base, "change_rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--model", default="ecommerce")
    ap.add_argument("-f", "--format", default="parquet")
    ap.add_argument("-s", "--size", type=float, default=0.1)
    ap.add_argument("-w", "--workers", type=int, default=1)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--as-of", dest="as_of", type=int)
    ap.add_argument("--history", action="store_true")
    ap.add_argument("--fsync", action="store_true", help="flush every file as gen does (default: no, as bench.py)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="where to write (default: the system temp dir)")
    ap.add_argument("--json", help="save every measurement and the summary here")
    ap.add_argument("--command", action="store_true", help="time gengo gen with and without --batches")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    keys = ("model", "format", "size", "workers", "batches", "as_of", "history", "seed", "fsync")
    spec = {k: getattr(args, k) for k in keys}
    spec["dir"] = args.dir
    if args.command:
        pairs = [(command(spec, False), command(spec, True)) for _ in range(args.repeat)]
        ratio = statistics.median(
            ((w["seconds"] - wo["seconds"]) / w["change_rows"]) / (wo["seconds"] / wo["base_rows"]) for wo, w in pairs
        )
        print(f"{args.model} -s {args.size} -f {args.format} -w {args.workers}, gengo gen with/without --batches")
        without = statistics.median(wo["seconds"] for wo, _ in pairs)
        with_batches = statistics.median(w["seconds"] for _, w in pairs)
        print(f"  without: {without:.2f} s, {pairs[0][0]['base_rows']:,} rows")
        print(f"  with:    {with_batches:.2f} s, +{pairs[0][1]['change_rows']:,} rows")
        print(f"  cost of a change row: {ratio:.2f} base rows")
        if args.json:
            Path(args.json).write_text(json.dumps({"spec": spec, "pairs": pairs, "ratio": ratio}, indent=2) + "\n")
        return
    runs = []
    for _ in range(args.repeat):
        r = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"benchmark run failed:\n{r.stderr}")
        runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    base = statistics.median(r["base_rows"] / r["base_s"] for r in runs)
    change = statistics.median(r["change_rows"] / r["change_s"] for r in runs)
    ratio = statistics.median((r["change_s"] / r["change_rows"]) / (r["base_s"] / r["base_rows"]) for r in runs)
    what = f"as-of {args.as_of}" if args.as_of is not None else f"{args.batches} batches"
    flush = "fsync" if args.fsync else "no fsync"
    print(f"{args.model} -s {args.size} -f {args.format} -w {args.workers}, {what}, {flush}, {args.repeat} runs:")
    print(f"  base:    {runs[0]['base_rows']:>10,} rows  {base:>12,.0f} rows/s")
    print(f"  changes: {runs[0]['change_rows']:>10,} rows  {change:>12,.0f} rows/s")
    print(f"  cost of a change row: {ratio:.2f} base rows (wall time)")
    cpu_ratio = per_byte = None
    if args.workers == 1:
        cpu_ratio = statistics.median(
            (r["change_cpu"] / r["change_rows"]) / (r["base_cpu"] / r["base_rows"]) for r in runs
        )
        print(f"  cost of a change row: {cpu_ratio:.2f} base rows (CPU time, all in this process)")
        # A batch row carries _op, _batch and _ts besides its columns: in text formats the rows of a
        # narrow table are twice the bytes, so the cost per byte tells what the work per row hides.
        if all(r["change_bytes"] for r in runs):
            per_byte = statistics.median(
                (r["change_cpu"] / r["change_bytes"]) / (r["base_cpu"] / r["base_bytes"]) for r in runs
            )
            width = statistics.median(
                (r["change_bytes"] / r["change_rows"]) / (r["base_bytes"] / r["base_rows"]) for r in runs
            )
            print(f"  cost of a change byte: {per_byte:.2f} base bytes (CPU time)")
            print(f"  a change row is {width:.2f}x a base row's bytes")
    if args.json:
        summary = {"spec": spec, "runs": runs, "ratio": ratio, "cpu_ratio": cpu_ratio, "cpu_per_byte_ratio": per_byte}
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()

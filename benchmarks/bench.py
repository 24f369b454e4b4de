"""Throughput and memory benchmark: run by hand, never in CI.

    .venv/bin/python benchmarks/bench.py                       # ecommerce, every format, 1 GB
    .venv/bin/python benchmarks/bench.py -m ecommerce -f parquet -s 0.1 -s 1 --json out.json

For each (model, format, size) it generates into a temporary directory (deleted afterwards)
in a new Python process and reports wall seconds (from the process start: imports, fork server,
planning and generation, as `gengo gen` runs), MB/s, rows/s, peak RSS of the
whole process tree (sampled from the
OS every 50 ms, workers included) and the split of work between generation, encoding (both
summed over worker processes) and writing (in the parent).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # a measurement's wall clock starts with its process, as `gengo gen`'s does

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import psutil  # noqa: E402


def _pss(p: psutil.Process) -> int:
    try:
        with open(f"/proc/{p.pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return getattr(p.memory_full_info(), "pss", 0)


class PeakRSS:
    """Samples the memory of this process and all its descendants (worker processes included).

    ``peak`` is the summed RSS, which counts pages shared between processes (libraries, the
    fork server's vocabularies) once per process; ``peak_pss`` shares them out (Linux PSS), the
    honest total of what the process tree holds.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak, self.peak_pss, self._stop = interval, 0, 0, threading.Event()
        self.cpu_seconds = 0.0  # what the sampling itself cost (it runs in the measured process)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # Cheap reads every tick (statm); the process list every 5th and PSS (smaps_rollup, which
        # walks the page tables) every 5th for 3 s, then every 20th: psutil's full smaps of every
        # process each 250 ms cost 0.4-0.5 CPU-s per run, taken from the workers being measured.
        me = psutil.Process()
        procs = [me]
        tick = 0
        while not self._stop.is_set():
            if tick % 5 == 0:
                with contextlib.suppress(psutil.Error):
                    procs = [me, *me.children(recursive=True)]
            full = tick % (5 if tick < 60 else 20) == 0
            rss = pss = 0
            for p in procs:
                with contextlib.suppress(psutil.Error, OSError):
                    rss += p.memory_info().rss
                    if full:
                        pss += _pss(p)
            self.peak = max(self.peak, rss)
            if full:
                self.peak_pss = max(self.peak_pss, pss)
            tick += 1
            time.sleep(self.interval)
        self.cpu_seconds = time.thread_time()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def bench_one(
    model: str, fmt: str, size: float, workers: int | None, seed: int, compression: str | None, where: str | None
) -> dict:
    """Generate once in this (new) process, timed from the process's start like `gengo gen`:
    imports, the fork server starting meanwhile (see gengo.launch), planning, generation."""
    from gengo.engine import tuning
    from gengo.engine.forkserver import prewarm
    from gengo.engine.forkserver import stop as stop_fork_server

    tuning.tune_parent()  # first, as gengo.launch does (allocator settings act at import)
    prewarm(workers, model=model)  # before the heavy imports, as gengo.launch does
    tuning.skip_pandas_probe()  # as gengo.launch does for a command that generates
    import gengo
    import gengo.api

    out = Path(tempfile.mkdtemp(prefix="gengo-bench-", dir=where))
    try:
        with PeakRSS() as rss:
            t0 = STARTED
            plan = gengo.plan(model, size, fmt, seed=seed, compression=compression, workers=workers)
            planned = time.perf_counter()
            summary = gengo.run(plan, out / "data", workers=workers, fsync=False)
            wall = time.perf_counter() - t0
        stop_fork_server()  # reaped: its CPU, and its workers' (reaped by it), count in RUSAGE_CHILDREN
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        cpu = sum(u.ru_utime + u.ru_stime for u in usage) - rss.cpu_seconds
        stages = [sum(getattr(t, f"{k}_seconds") for t in summary.tables) for k in ("generate", "encode", "write")]
        return {
            "model": model,
            "format": fmt,
            "size_gb": size,
            "workers": workers or gengo.api.default_workers(),
            "rows": summary.total_rows,
            "bytes": summary.total_bytes,
            "wall_s": round(wall, 3),
            "start_s": round(planned - t0, 3),  # imports and planning: before the first chunk
            "mb_per_s": round(summary.total_bytes / wall / 1e6, 1),
            "rows_per_s": round(summary.total_rows / wall),
            "peak_rss_mb": round(rss.peak / 1e6),
            "peak_pss_mb": round(rss.peak_pss / 1e6),
            "generate_s": round(stages[0], 2),
            "encode_s": round(stages[1], 2),
            "write_s": round(stages[2], 2),
            "size_ratio": round(summary.total_bytes / plan.target_bytes, 4),
            "sampler_cpu_s": round(rss.cpu_seconds, 3),
            "cpu_s": round(cpu, 3),  # the whole process tree's, the sampler's taken out
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_fresh(model: str, fmt: str, size: float, workers: int | None, args: argparse.Namespace) -> dict:
    """One measurement in a new Python process, as `gengo gen` runs: a cold fork server, and no
    memory or vocabularies left over from the configurations measured before."""
    spec = [model, fmt, size, workers, args.seed, args.compression, args.dir]
    r = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        raise SystemExit(f"benchmark run {spec} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compile_bytecode(python: Path | str = sys.executable) -> None:
    """Measure gengo as installed: pip compiles an installed package's bytecode, but a checkout run
    with PYTHONDONTWRITEBYTECODE set (CI images, this project's machines) compiled ~50 modules from
    source in every process, 0.1-0.2 s of each run."""
    code = "import compileall, os, gengo; compileall.compile_dir(os.path.dirname(gengo.__file__), quiet=1)"
    subprocess.run([str(python), "-c", code], check=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":  # a single measurement (see run_fresh)
        print(json.dumps(bench_one(*json.loads(sys.argv[2]))))
        return
    compile_bytecode()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", action="append", help="model (repeatable); default: ecommerce")
    ap.add_argument("-f", "--format", action="append", help="format (repeatable); default: csv, json, parquet")
    ap.add_argument("-s", "--size", action="append", type=float, help="GB (repeatable); default 1")
    ap.add_argument("-w", "--workers", type=int, action="append", help="workers (repeatable); default: CPUs")
    ap.add_argument("--compression")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median run is reported")
    ap.add_argument("--json", help="also save the results to this JSON file")
    ap.add_argument("--dir", help="where to write (default: the system temp dir); /dev/shm takes the disk out")
    args = ap.parse_args()
    models = args.model or ["ecommerce"]
    if models == ["all"]:
        from gengo.models import MODELS

        models = list(MODELS)
    results = []
    cols = [
        "model",
        "format",
        "size_gb",
        "workers",
        "rows",
        "bytes",
        "wall_s",
        "mb_per_s",
        "rows_per_s",
        "peak_rss_mb",
        "peak_pss_mb",
        "generate_s",
        "encode_s",
        "write_s",
        "size_ratio",
    ]
    print(" | ".join(cols))
    for model in models:
        for fmt in args.format or ["csv", "json", "parquet"]:
            for size in args.size or [1.0]:
                for workers in args.workers or [None]:
                    runs = [run_fresh(model, fmt, size, workers, args) for _ in range(args.repeat)]
                    r = sorted(runs, key=lambda x: x["wall_s"])[len(runs) // 2]  # the median run
                    r["runs"] = len(runs)
                    results.append(r)
                    print(" | ".join(str(r[c]) for c in cols), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""gengo side by side with the Go tool it replaces, and tpchgen-cli as a calibration anchor. Run by hand.

    .venv/bin/python benchmarks/versus.py                                  # every model, csv/json/parquet, 1 GB
    .venv/bin/python benchmarks/versus.py -m ecommerce -f csv --pairs 5 --json benchmarks/results/x.json

The Go tool's binary comes from ``../shared/peers/build-go.sh`` (DEVELOPERS.md says how to bring the
repositories it needs; default path ``~/.cache/gengo-go/Gengo``, or ``--go PATH``); tpchgen-cli from
``pip install tpchgen-cli`` (the ``bench`` extra). Every measurement is the real command in a new
process writing to ``--dir`` (default /dev/shm, which takes the disk out), timed from outside
(wall clock, and user+system CPU of the process tree from ``wait4``), runs alternated
(Go, gengo, Go, gengo, ...) so both see the same machine load; the report gives per pair the ratio
and the median of the ratios. CSV (and JSON Lines) compare MB/s on the same bytes: gengo is sized
to the Go run's output. Parquet compares rows/s (the two tools encode differently). The Go tool has
no JSON Lines writer; for JSON only gengo's rows/s are reported. Compare ratios, never seconds from
another day or host.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench import compile_bytecode  # benchmarks/ is the script's directory

GO_FORMATS = {"csv", "parquet"}
TPCH_FORMATS = {"csv", "parquet"}
EXT = {"csv": ".csv", "json": ".jsonl", "parquet": ".parquet"}


def machine() -> dict:
    """What the numbers came from: CPU, cores, memory, and how fast this host draws random integers."""
    import numpy as np

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    gen = np.random.Generator(np.random.PCG64(1))
    gen.integers(0, 1 << 40, 1_000_000)  # warm up
    best = float("inf")
    for _ in range(5):  # the best of five: another process's load only ever slows it
        t0 = time.perf_counter()
        gen.integers(0, 1 << 40, 20_000_000)
        best = min(best, time.perf_counter() - t0)
    draws = 20_000_000 / best
    return {
        "date": date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pcg64_integers_m_per_s": round(draws / 1e6),
    }


def timed(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run ``cmd``; wall seconds and CPU seconds of it and every descendant it waited for."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


def count_rows(out: Path, fmt: str) -> int:
    """Rows in every data file under ``out`` (CSV: lines minus one header per file)."""
    files = [p for p in out.rglob(f"*{EXT[fmt]}") if p.is_file()]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    rows = 0
    for p in files:
        with open(p, "rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))
        rows += lines - (1 if fmt == "csv" else 0)
    return rows


def data_bytes(out: Path, fmt: str) -> int:
    return sum(p.stat().st_size for p in out.rglob(f"*{EXT[fmt]}") if p.is_file())


def run_go(go: Path, model: str, fmt: str, size: float, where: Path) -> dict:
    out = where / "versus-go"
    shutil.rmtree(out, ignore_errors=True)
    r = timed([str(go), "gen", "-m", model, "-s", str(size), "-f", fmt, "-o", str(out)])
    r.update(bytes=data_bytes(out, fmt), rows=count_rows(out, fmt))
    shutil.rmtree(out, ignore_errors=True)
    return r


def run_gengo(gengo: Path, model: str, fmt: str, size_bytes: int, where: Path, seed: int, workers: int | None) -> dict:
    out = where / "versus-gengo"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(gengo), "gen", "-m", model, "-s", f"{size_bytes / 1e6:.3f}MB", "-f", fmt, "-o", str(out)]
    cmd += ["--seed", str(seed), "-q"] + (["-w", str(workers)] if workers else [])
    r = timed(cmd)
    r.update(bytes=data_bytes(out, fmt), rows=count_rows(out, fmt))
    shutil.rmtree(out, ignore_errors=True)
    return r


def run_tpch(tpch: Path, fmt: str, where: Path) -> dict:
    out = where / "versus-tpch"
    shutil.rmtree(out, ignore_errors=True)
    r = timed([str(tpch), fmt, "-s", "1", "-o", str(out)])
    r.update(bytes=data_bytes(out, fmt), rows=count_rows(out, fmt))
    shutil.rmtree(out, ignore_errors=True)
    return r


def rates(r: dict) -> dict:
    return {
        "mb_per_s": r["bytes"] / r["wall_s"] / 1e6,
        "rows_per_s": r["rows"] / r["wall_s"],
        "cpu_s_per_gb": r["cpu_s"] / (r["bytes"] / 1e9),
    }


def compare(args: argparse.Namespace, model: str, fmt: str) -> dict:
    """Alternated pairs (Go, gengo) for one model and format; medians and ratios."""
    where, pairs, go_runs, gengo_runs = Path(args.dir), [], [], []
    size_bytes = int(args.size * 1e9)
    for i in range(args.pairs):
        go = None
        if fmt in GO_FORMATS and args.go:
            go = run_go(args.go, model, fmt, args.size, where)
            go_runs.append(go)
            if fmt == "csv" and i == 0:
                size_bytes = go["bytes"]  # the same bytes on both sides
        mine = run_gengo(args.gengo, model, fmt, size_bytes, where, args.seed, args.workers)
        gengo_runs.append(mine)
        pair = {"gengo": mine | rates(mine)}
        if go is not None:
            pair["go"] = go | rates(go)
            key = "mb_per_s" if fmt == "csv" else "rows_per_s"
            pair["ratio"] = pair["gengo"][key] / pair["go"][key]
        pairs.append(pair)
        said = f"  {model} {fmt} pair {i + 1}: gengo {mine['wall_s']:.2f} s"
        if go is not None:
            said += f", Go {go['wall_s']:.2f} s, ratio {pair['ratio']:.3f}"
        print(said, flush=True)

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(
            rates(r)[key] if key in ("mb_per_s", "rows_per_s", "cpu_s_per_gb") else r[key] for r in runs
        )

    result = {"model": model, "format": fmt, "pairs": pairs}
    for name, runs in (("gengo", gengo_runs), ("go", go_runs)):
        if runs:
            result[name] = {k: round(med(runs, k), 3) for k in ("wall_s", "mb_per_s", "rows_per_s", "cpu_s_per_gb")}
            result[name]["bytes"] = runs[0]["bytes"]
            result[name]["rows"] = runs[0]["rows"]
    if go_runs:
        result["ratio_median"] = round(statistics.median(p["ratio"] for p in pairs), 3)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", action="append", help="model (repeatable); default: all four")
    ap.add_argument("-f", "--format", action="append", help="csv, json, parquet (repeatable); default: all three")
    ap.add_argument("-s", "--size", type=float, default=1.0, help="GB for the Go tool (gengo matches its bytes)")
    ap.add_argument("--pairs", type=int, default=3, help="alternated pairs per model and format")
    ap.add_argument("-w", "--workers", type=int, help="gengo workers (default: its own, the CPU count)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--go", type=Path, default=Path.home() / ".cache" / "gengo-go" / "Gengo")
    ap.add_argument("--no-tpch", action="store_true", help="skip the tpchgen-cli anchor")
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--json", help="save the results to this JSON file")
    args = ap.parse_args()
    compile_bytecode()
    bindir = Path(sys.executable).parent
    args.gengo = bindir / "gengo"
    if not args.go.exists():
        print(f"no Go tool at {args.go} (build it with ../shared/peers/build-go.sh): gengo alone", file=sys.stderr)
        args.go = None
    tpch = shutil.which("tpchgen-cli", path=str(bindir)) or shutil.which("tpchgen-cli")
    report = {"machine": machine(), "size_gb": args.size, "results": [], "tpchgen": []}
    print(json.dumps(report["machine"]))
    for model in args.model or ["ecommerce", "ecommerce-ds", "financial", "medical"]:
        for fmt in args.format or ["csv", "json", "parquet"]:
            report["results"].append(compare(args, model, fmt))
    if tpch and not args.no_tpch:
        for fmt in sorted(TPCH_FORMATS & set(args.format or ["csv", "json", "parquet"])):
            runs = [run_tpch(Path(tpch), fmt, Path(args.dir)) for _ in range(args.pairs)]
            report["tpchgen"].append(
                {"format": fmt, "scale_factor": 1, "bytes": runs[0]["bytes"], "rows": runs[0]["rows"]}
                | {
                    k: round(statistics.median(rates(r)[k] for r in runs), 3)
                    for k in ("mb_per_s", "rows_per_s", "cpu_s_per_gb")
                }
                | {"wall_s": round(statistics.median(r["wall_s"] for r in runs), 3)}
            )
    print()
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


def table(report: dict) -> str:
    """The report as a Markdown table."""
    head = ["model", "format", "gengo MB/s", "gengo M rows/s", "gengo CPU-s/GB", "Go MB/s", "Go M rows/s"]
    head += ["Go CPU-s/GB", "gengo / Go"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in report["results"]:
        g, o = r["gengo"], r.get("go")
        ratio = (
            f"**{r['ratio_median']:.2f}x** ({'MB/s' if r['format'] == 'csv' else 'rows/s'})" if o else "(no Go writer)"
        )
        go_cols = f"{o['mb_per_s']:.0f} | {o['rows_per_s'] / 1e6:.2f} | {o['cpu_s_per_gb']:.1f}" if o else "- | - | -"
        mine = f"{g['mb_per_s']:.0f} | {g['rows_per_s'] / 1e6:.2f} | {g['cpu_s_per_gb']:.1f}"
        lines.append(f"| {r['model']} | {r['format']} | {mine} | {go_cols} | {ratio} |")
    for t in report["tpchgen"]:
        anchor = f"{t['mb_per_s']:.0f} | {t['rows_per_s'] / 1e6:.2f} | {t['cpu_s_per_gb']:.1f}"
        lines.append(f"| TPC-H SF1 (tpchgen-cli) | {t['format']} | {anchor} | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

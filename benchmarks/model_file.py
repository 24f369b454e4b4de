"""The model-file entry of the benchmarks: examples/models/ecommerce.yaml against the built-in
ecommerce, alternated (built-in, file, built-in, file, ...) in fresh processes, medians and
ratios per format. Run by hand, never in CI:

    .venv/bin/python benchmarks/model_file.py -s 1 -f csv -f parquet --pairs 3 \
        --json benchmarks/results/model-file-1gb.json

Issue 15's goal: the model file at >= 0.9x the built-in's rows/s with the same peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import run_fresh  # noqa: E402

FILE = str(Path(__file__).resolve().parents[1] / "examples" / "models" / "ecommerce.yaml")


def host() -> dict:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-f", "--format", action="append")
    ap.add_argument("-s", "--size", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compression")
    ap.add_argument("--dir", help="where to write (default: the system temp dir)")
    ap.add_argument("--json", help="save the results here")
    args = ap.parse_args()
    report = {"host": host(), "size_gb": args.size, "pairs": args.pairs, "formats": {}}
    for fmt in args.format or ["csv", "parquet"]:
        runs: dict[str, list[dict]] = {"built-in": [], "file": []}
        for _ in range(args.pairs):
            runs["built-in"].append(run_fresh("ecommerce", fmt, args.size, None, args))
            runs["file"].append(run_fresh(FILE, fmt, args.size, None, args))
        med = {
            k: {m: statistics.median(r[m] for r in v) for m in ("rows_per_s", "peak_pss_mb", "wall_s")}
            for k, v in runs.items()
        }
        ratios = [f["rows_per_s"] / b["rows_per_s"] for b, f in zip(runs["built-in"], runs["file"], strict=True)]
        report["formats"][fmt] = {
            "median": med,
            "rows_per_s_ratio_per_pair": [round(r, 3) for r in ratios],
            "rows_per_s_ratio": round(med["file"]["rows_per_s"] / med["built-in"]["rows_per_s"], 3),
            "peak_pss_ratio": round(med["file"]["peak_pss_mb"] / med["built-in"]["peak_pss_mb"], 3),
            "runs": runs,
        }
        m = report["formats"][fmt]
        pss = f"{med['file']['peak_pss_mb']:.0f} vs {med['built-in']['peak_pss_mb']:.0f} MB"
        print(
            f"{fmt}: rows/s file/built-in {m['rows_per_s_ratio']} (pairs {m['rows_per_s_ratio_per_pair']}), "
            f"peak PSS {m['peak_pss_ratio']} ({pss})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Side-by-side benchmark of two checkouts of gengo: A B A B ..., medians, ratios. Run by hand.

    python benchmarks/ab.py --a ../old-checkout --b . -m ecommerce -f csv -f parquet -s 0.5 --repeat 5

Each checkout needs its own ``.venv`` (``pip install -e .`` there). Every measurement is one
fresh process of that checkout's ``benchmarks/bench.py --one`` (imports, fork server, planning,
generation), alternated so that both see the same machine load; the report gives the median wall
time and peak PSS of each and B/A. Compare ratios, never seconds from another day or host.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench import compile_bytecode  # benchmarks/ is the script's directory


def one(checkout: Path, spec: list) -> dict:
    python = checkout / ".venv" / "bin" / "python"
    r = subprocess.run(
        [str(python), str(checkout / "benchmarks" / "bench.py"), "--one", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        raise SystemExit(f"{checkout}: benchmark run {spec} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, type=Path, help="checkout A (the baseline)")
    ap.add_argument("--b", required=True, type=Path, help="checkout B")
    ap.add_argument("-m", "--model", action="append")
    ap.add_argument("-f", "--format", action="append")
    ap.add_argument("-s", "--size", action="append", type=float)
    ap.add_argument("-w", "--workers", type=int, default=2)
    ap.add_argument("--compression")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="where to write (default: the system temp dir)")
    ap.add_argument("--json", help="save every measurement and the summary here")
    args = ap.parse_args()
    for checkout in (args.a, args.b):
        compile_bytecode(checkout / ".venv" / "bin" / "python")
    rows = []
    for model in args.model or ["ecommerce"]:
        for fmt in args.format or ["csv", "parquet"]:
            for size in args.size or [0.5]:
                spec = [model, fmt, size, args.workers, args.seed, args.compression, args.dir]
                runs = {"a": [], "b": []}
                for _ in range(args.repeat):
                    for side in ("a", "b"):
                        runs[side].append(one(getattr(args, side), spec))
                med = {
                    s: {k: statistics.median(r[k] for r in runs[s]) for k in ("wall_s", "peak_pss_mb", "cpu_s")}
                    for s in runs
                }
                row = {
                    "model": model,
                    "format": fmt,
                    "size_gb": size,
                    "workers": args.workers,
                    "a_wall_s": med["a"]["wall_s"],
                    "b_wall_s": med["b"]["wall_s"],
                    "wall_b_over_a": round(med["b"]["wall_s"] / med["a"]["wall_s"], 3),
                    "a_pss_mb": med["a"]["peak_pss_mb"],
                    "b_pss_mb": med["b"]["peak_pss_mb"],
                    "pss_b_over_a": round(med["b"]["peak_pss_mb"] / med["a"]["peak_pss_mb"], 3),
                    "a_cpu_s": med["a"]["cpu_s"],
                    "b_cpu_s": med["b"]["cpu_s"],
                    "cpu_b_over_a": round(med["b"]["cpu_s"] / med["a"]["cpu_s"], 3),
                    "runs": runs,
                }
                rows.append(row)
                print(
                    f"{model:13} {fmt:8} {size:5} GB w{args.workers}: wall A {row['a_wall_s']:.2f} s, "
                    f"B {row['b_wall_s']:.2f} s, B/A {row['wall_b_over_a']:.3f}; CPU A {row['a_cpu_s']:.2f} s, "
                    f"B {row['b_cpu_s']:.2f} s, B/A {row['cpu_b_over_a']:.3f}; peak PSS A {row['a_pss_mb']:.0f} MB, "
                    f"B {row['b_pss_mb']:.0f} MB, B/A {row['pss_b_over_a']:.3f}",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())

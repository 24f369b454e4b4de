"""The real `gengo` command: flags, prompts, and bad input (one line, non-zero exit, nothing written)."""

import os
import pty
import re
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import GENGO, assert_one_line_error, manifest, run_gengo

BAD_INPUTS = [
    (["-s", "-1"], "size"),
    (["-s", "abc"], "size"),
    (["-s", "0"], "size"),
    (["-s", "nan"], "size"),
    (["-s", "1e30"], "size"),
    (["-m", "nosuch"], "unknown model"),
    (["-m", "ecommrce"], "did you mean 'ecommerce'"),
    (["-f", "xml"], "format"),
    (["-f", "parq"], "did you mean 'parquet'"),
    (["-f", "jsn"], "did you mean 'json'"),
    (["--workers", "0"], "worker"),
    (["--workers", "two"], "workers"),
    (["--seed", "-5"], "seed"),
    (["--rows", "nosuch=5"], "unknown table"),
    (["--rows", "dim_customers=-1"], "dim_customers"),
    (["--rows", "dim_customers"], "TABLE=N"),
    (["--rows", "dim_product_categories=11"], "always has 10 rows"),
    (["--tables", "nosuch"], "unknown table"),
    (["--compression", "lz5"], "compression"),
    (["-f", "parquet", "--row-group-size", "0"], "row group size"),
    (["--row-group-size", "1000"], "parquet only"),
    (["--nosuchflag"], "no such option"),
]


@pytest.mark.parametrize("args,message", BAD_INPUTS)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    base = {"-m": "ecommerce", "-s": "0.001", "-f": "csv"}
    argv = ["gen", "-o", str(tmp_path / "out")]
    for flag, value in base.items():
        if flag not in args:
            argv += [flag, value]
    r = run_gengo(*argv, *args)
    assert_one_line_error(r, message)
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("mine")
    r = run_gengo("gen", "-m", "ecom", "-s", "0.001", "-f", "csv", "-o", str(f))
    assert_one_line_error(r, "not a directory")
    assert f.read_text() == "mine"


def test_unwritable_output_directory(tmp_path):
    r = run_gengo("gen", "-m", "ecom", "-s", "0.001", "-f", "csv", "-o", "/proc/gengo-cannot-write/out")
    assert_one_line_error(r, "cannot write")


def test_non_empty_directory_needs_force_and_force_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "dim_customers.csv").write_text("stale")
    r = run_gengo("gen", "-m", "ecom", "-s", "0.001", "-f", "csv", "-o", str(out), "--seed", "1")
    assert_one_line_error(r, "not empty", "--force")
    assert (out / "dim_customers.csv").read_text() == "stale"
    assert sorted(p.name for p in out.iterdir()) == ["dim_customers.csv", "notes.txt"]
    r = run_gengo("gen", "-m", "ecom", "-s", "0.001", "-f", "csv", "-o", str(out), "--seed", "1", "--force")
    assert r.returncode == 0, r.stderr
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "dim_customers.csv").read_text().startswith("customer_id,")
    assert not [p for p in out.iterdir() if p.name.endswith(".gengo-tmp")]


@pytest.mark.parametrize("missing", ["-m", "-s", "-f", "-o"])
def test_missing_flag_without_terminal_names_the_flag(tmp_path, missing):
    given = {"-m": "ecom", "-s": "0.001", "-f": "csv", "-o": str(tmp_path / "out")}
    argv = ["gen"] + [x for flag, v in given.items() if flag != missing for x in (flag, v)]
    long = {"-m": "--model", "-s": "--size", "-f": "--format", "-o": "--output"}[missing]
    r = run_gengo(*argv)
    assert_one_line_error(r, long, "not a terminal")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["ECOM", "E-Commerce", "e", "Ecommerce"])
def test_model_names_are_case_insensitive_aliases(name):
    r = run_gengo("plan", "-m", name, "-s", "0.001", "-f", "csv")
    assert r.returncode == 0, r.stderr
    assert "dim_customers" in r.stdout


def test_unknown_model_lists_the_models():
    r = run_gengo("plan", "-m", "nosuch", "-s", "0.001", "-f", "csv")
    assert_one_line_error(r, "ecommerce", "ecommerce-ds", "financial", "medical")


def test_dry_run_and_plan_write_nothing(tmp_path):
    r = run_gengo("gen", "-m", "ecom", "-s", "0.01", "-f", "parquet", "-o", str(tmp_path / "o"), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "fact_order_items" in r.stdout and not (tmp_path / "o").exists()


def test_seed_is_drawn_printed_and_recorded(tmp_path):
    out = tmp_path / "o"
    r = run_gengo("gen", "-m", "ecom", "-s", "0.001", "-f", "csv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    seed = int(re.search(r"seed: (\d+)", r.stdout).group(1))
    assert manifest(out)["seed"] == seed
    for table in ("dim_customers", "fact_order_items"):
        assert table in r.stdout  # planned rows and the summary table
    assert "rows/s" in r.stdout


def test_help_and_version():
    r = run_gengo("gen", "--help")
    assert r.returncode == 0 and "10^9" in r.stdout
    help_text = " ".join(r.stdout.split())
    for fmt in ("csv", "json", "parquet", "duckdb", "postgres"):
        assert fmt in help_text.split("--format", 1)[1].split("--seed", 1)[0], fmt
    r = run_gengo("--version")
    assert r.returncode == 0 and "gengo" in r.stdout


def _read_until(fd, pattern: str, timeout: float = 60) -> str:
    buf, end = "", time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
            buf += chunk
            if re.search(pattern, buf):
                return buf
    raise AssertionError(f"never saw {pattern!r}; got {buf!r}")


def test_prompts_on_a_terminal_in_the_go_tool_order(tmp_path):
    out = tmp_path / "asked"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [GENGO, "gen", "--seed", "5"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
        env=dict(os.environ, COLUMNS="120"),
    )
    os.close(slave)
    try:
        for pattern, answer in [
            ("Model", "ecom"),
            ("size in GB", "0.001"),
            ("Format", "csv"),
            ("Output directory", str(out)),
        ]:
            _read_until(master, pattern)
            os.write(master, (answer + "\n").encode())
        _read_until(master, "manifest")
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert manifest(out)["seed"] == 5


def test_models_lists_every_model_with_its_tables():
    r = run_gengo("models")
    assert r.returncode == 0
    for name, table in [
        ("ecommerce", "fact_order_items"),
        ("ecommerce-ds", "store_sales"),
        ("financial", "fact_daily_stock_prices"),
        ("medical", "fact_appointments"),
    ]:
        assert name in r.stdout and table in r.stdout


def _answer(master, pattern: str, answer: str) -> str:
    seen = _read_until(master, pattern)
    os.write(master, (answer + "\n").encode())
    return seen


def test_a_bad_answer_is_explained_and_asked_again(tmp_path):
    """One typo at a prompt used to end the command; now the suggestion is shown and the question repeated."""
    out = tmp_path / "asked"
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [GENGO, "gen", "--seed", "5"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
        env=dict(os.environ, COLUMNS="120"),
    )
    os.close(slave)
    try:
        _answer(master, "Model", "ecomm")
        _answer(master, r"did you mean 'ecommerce'.*\n.*Model", "ecom")
        _answer(master, "size in GB", "lots")
        _answer(master, r"invalid size.*\n.*size in GB", "0.001")
        _answer(master, "Format", "parq")
        _answer(master, r"did you mean 'parquet'.*\n.*Format", "csv")
        seen = _answer(master, "Output directory", str(a_file))
        assert "Plan" not in seen  # the output is asked for, and checked, before planning
        _answer(master, r"not a directory.*\n.*Output directory", str(out))
        _read_until(master, "manifest")
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert manifest(out)["seed"] == 5 and a_file.read_text() == "mine"


def test_progress_line_keeps_its_numbers_at_80_columns(tmp_path):
    """At 80 columns the row totals were cut ("7649198/764…"); numbers are short and never cut now."""
    env = dict(os.environ, COLUMNS="80")
    r = subprocess.run(
        [GENGO, "gen", "-m", "ecom", "-s", "0.05", "-f", "csv", "-o", str(tmp_path / "o"), "--seed", "1"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    total = sum(t["rows"] for t in manifest(tmp_path / "o")["tables"])
    line = next(line for line in r.stdout.splitlines() if " rows " in line and "/" in line)
    assert len(line.rstrip()) <= 80 and "…" not in line, line
    done, planned = re.search(r"(\S+)/(\S+) rows", line).groups()
    assert done == planned == f"{total / 1e6:.3g}M", line
    assert re.search(r"\d+(\.\d+)?MB \d+(\.\d+)?[KMG]?B/s", line), line


def test_verify_counts_problems_in_singular_and_plural(tmp_path):
    out = tmp_path / "o"
    assert run_gengo("gen", "-m", "ecom", "-s", "0.002", "-f", "csv", "-o", str(out), "--seed", "1").returncode == 0
    (out / "dim_suppliers.csv").unlink()
    r = run_gengo("verify", str(out), "--no-keys")
    assert r.returncode == 1 and "verify: FAILED (1 problem)" in r.stdout, r.stdout
    (out / "dim_products.csv").unlink()
    r = run_gengo("verify", str(out), "--no-keys")
    assert r.returncode == 1 and "verify: FAILED (2 problems)" in r.stdout, r.stdout


def test_rows_and_size_that_cannot_both_hold_are_refused(tmp_path):
    """--rows dim_customers=100000 -s 1MB planned 26.6 MB with 1 product and 1 order, silently."""
    r = run_gengo("gen", "-m", "ecom", "--rows", "dim_customers=100000", "-s", "1MB", "-f", "csv", "-o", str(tmp_path))
    assert_one_line_error(r, "--rows dim_customers=100000", "cannot both hold", "26.6")
    assert not any(tmp_path.iterdir())
    r = run_gengo("plan", "-m", "ecom", "--rows", "dim_customers=1000", "-s", "1MB", "-f", "csv", "--seed", "1")
    assert r.returncode == 0 and "1,000" in r.stdout, r.stderr  # these fit: the other tables fill the rest


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_dask_scheduler_fails_fast_and_before_planning(tmp_path):
    """Dask's client retried a refused connection for 30 s."""
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    r = run_gengo("gen", "-m", "ecom", "-s", "0.01", "-f", "csv", "-o", str(tmp_path / "o"), "--scheduler", address)
    assert time.monotonic() - started < 15
    assert_one_line_error(r, "cannot connect to the Dask scheduler", address, "refused")
    assert "Plan" not in r.stdout and not (tmp_path / "o").exists()


def test_install_hints_name_the_distribution_not_the_pypi_gengo():
    """``pip install gengo`` installs an unrelated 2017 package: every hint names gengo-datagen."""
    from importlib import metadata

    dist = metadata.distribution("gengo-datagen")
    assert any(ep.name == "gengo" and ep.value == "gengo.launch:main" for ep in dist.entry_points)
    src = Path(__file__).resolve().parents[2] / "src" / "gengo"
    assert (src / "cli.py").is_file()
    offenders = [
        p.name for p in src.rglob("*.py") if "install 'gengo[" in p.read_text() or "install gengo " in p.read_text()
    ]
    assert not offenders

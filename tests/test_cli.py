"""The real `gengo` command: flags, prompts, and bad input (one line, non-zero exit, nothing written)."""

import os
import pty
import re
import select
import subprocess
import time

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

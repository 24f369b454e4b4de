"""The ledger: output checks, --force replacing only gengo's own files, the lock, file:// outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import GENGO, assert_one_line_error, gen, run_gengo

SEED = 5


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_force_replaces_the_previous_dataset_and_nothing_else(tmp_path):
    out = tmp_path / "ds"
    gen(out, "ecommerce", "2MB", "parquet", SEED)
    (out / "notes.txt").write_text("mine")
    (out / "dim_customers").mkdir()
    (out / "dim_customers" / "part-00007.parquet").write_text("a user's file that looks like a part")
    gen(out, "ecommerce", "2MB", "json", SEED, "--force")
    assert not [f for f in _files(out) if f.endswith(".parquet") and "/" not in f]  # the Parquet dataset is gone
    gen(out, "ecommerce", "2MB", "parquet", SEED, "--force", "--parts", "2")
    files = _files(out)
    assert not [f for f in files if f.endswith(".jsonl")]  # the JSON dataset is gone too
    assert "notes.txt" in files and "dim_customers/part-00007.parquet" in files  # never gengo's: kept
    listed = {e["file"] for e in json.loads((out / "manifest.json").read_text())["tables"]}
    data = {f for f in files if f.endswith(".parquet")} - {"dim_customers/part-00007.parquet"}
    assert data == listed  # what is there is what the manifest describes


def test_force_removes_parts_of_a_previous_run_gone_to_one_file_per_table(tmp_path):
    out = tmp_path / "ds"
    gen(out, "ecommerce", "2MB", "csv", SEED, "--parts", "3")
    gen(out, "ecommerce", "2MB", "csv", SEED, "--force")
    assert [f for f in _files(out) if "/" in f] == []
    assert not [d for d in out.iterdir() if d.is_dir()]  # the emptied table directories went too


def test_resume_needs_a_run_to_resume(tmp_path):
    r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(tmp_path / "missing"), "--resume")
    assert_one_line_error(r, "nothing to resume", "does not exist")
    assert not (tmp_path / "missing").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(tmp_path / "other"), "--resume")
    assert_one_line_error(r, "nothing to resume", "no gengo run")


def test_resume_and_force_together_are_refused(tmp_path):
    r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(tmp_path), "--resume", "--force")
    assert_one_line_error(r, "--resume or --force, not both")


def test_output_is_checked_before_planning(tmp_path):
    """A non-empty directory fails at once, not after the plan is printed."""
    (tmp_path / "x.txt").write_text("x")
    r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(tmp_path))
    assert_one_line_error(r, "is not empty")
    assert "Plan" not in r.stdout


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, str(os.getpid()).encode())
print("locked", flush=True)
time.sleep(60)
"""


def test_a_directory_locked_by_another_run_is_refused(tmp_path):
    out = gen(tmp_path / "ds", "ecommerce", "1MB", "csv", SEED)
    before = _files(out)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out / ".gengo-lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "json", "-o", str(out), "--force")
        assert_one_line_error(r, "in use by another gengo run", f"process {holder.pid}")
        assert [f for f in _files(out) if f != ".gengo-lock"] == before  # nothing of the other run was touched
    finally:
        holder.kill()
        holder.wait()


def test_a_running_gengo_holds_the_lock(tmp_path):
    out = tmp_path / "ds"
    args = ["gen", "-m", "ecommerce", "-s", "0.5", "-f", "csv", "-o", str(out), "--seed", "1", "-q", "-w", "1"]
    first = subprocess.Popen([GENGO, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / ".gengo-lock").exists():
            assert first.poll() is None, first.communicate()
            assert time.time() < deadline
            time.sleep(0.01)
        second = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", str(out), "--force")
        if first.poll() is None:  # still running while the second one checked: it must have been refused
            assert_one_line_error(second, "in use by another gengo run", f"process {first.pid}")
            first.send_signal(signal.SIGINT)
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode in (0, 130), err
    assert not (out / ".gengo-lock").exists()  # released at the end, also when interrupted


def test_a_lock_left_by_a_killed_run_does_not_block(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / ".gengo-lock").write_text("999999\n")  # no process holds it
    gen(out, "ecommerce", "1MB", "csv", SEED)  # the lock file alone does not make the directory "not empty"


def test_file_url_output_writes_to_the_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "abs" / "ds"
    r = run_gengo("gen", "-m", "ecommerce", "-s", "1MB", "-f", "csv", "-o", f"file://{target}", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert (target / "manifest.json").exists() and (target / "dim_customers.csv").exists()
    assert not (tmp_path / "file:").exists()
    plain = gen(tmp_path / "plain", "ecommerce", "1MB", "csv", 3)
    assert (plain / "dim_customers.csv").read_bytes() == (target / "dim_customers.csv").read_bytes()


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_library_works_from_a_plain_script_and_stdin(tmp_path, how):
    """No `if __name__ == "__main__"` guard: workers must not run the caller's script again."""
    out = tmp_path / "out"
    code = (
        "import gengo\n"
        "print('top level ran', flush=True)\n"
        f"s = gengo.generate('ecommerce', '2MB', 'parquet', {str(out)!r}, seed=7, workers=2)\n"
        "print('rows', s.total_rows)\n"
    )
    if how == "script":
        script = tmp_path / "make_data.py"
        script.write_text(code)
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    else:
        r = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("top level ran") == 1, r.stdout  # the script ran once, not once per worker
    assert "rows" in r.stdout and (out / "manifest.json").exists()


def test_python_dash_m_gengo_is_the_command():
    r = subprocess.run([sys.executable, "-m", "gengo", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "gengo" in r.stdout, r.stderr


def test_progress_file_and_lock_are_not_left_after_success(tmp_path):
    out = gen(tmp_path / "ds", "ecommerce", "1MB", "csv", SEED)
    assert not (out / ".gengo-progress.json").exists() and not (out / ".gengo-lock").exists()
    assert os.listdir(out)

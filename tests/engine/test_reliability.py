"""Crashes, signals and full disks: no half-written file under a final name, resume, clean errors."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import blake3
import psutil
import pytest

import gengo
from gengo import api
from gengo.cli import main
from gengo.core.errors import GengoError, Interrupted
from gengo.formats.base import ByteSink
from tests.helpers import GENGO, manifest, run_gengo, sha256_files

ARGS = ["-m", "ecommerce", "-s", "0.03", "-f", "csv", "--seed", "11", "-w", "2", "-q"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, str]:
    """sha256 of every file of an uninterrupted run (the same seed and options as ARGS)."""
    out = tmp_path_factory.mktemp("reference") / "out"
    r = run_gengo("gen", *ARGS, "-o", str(out))
    assert r.returncode == 0, r.stderr
    return sha256_files(out)


def start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [GENGO, "gen", *ARGS, "-o", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, COLUMNS="200"),
    )


def wait_for_first_table(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if out.is_dir() and any(p.suffix == ".csv" for p in out.iterdir()):
            # ... and recorded (the progress file is rewritten right after the rename)
            with contextlib.suppress(OSError, ValueError):
                if json.loads((out / ".gengo-progress.json").read_text())["files"]:
                    return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    raise AssertionError("no table file appeared")


def temp_files(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.endswith(".gengo-tmp")]


def assert_final_files_complete(out: Path, reference: dict[str, str]) -> None:
    """Every file under a final name is byte-identical to the uninterrupted run's."""
    for name, digest in sha256_files(out).items():
        if not name.startswith("."):
            assert digest == reference[name], f"{name} is incomplete or wrong"


def kill_and_reap(proc: subprocess.Popen, sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> Path:
    """A run SIGKILLed once its first table file is complete (as the OOM killer would)."""
    out = tmp_path_factory.mktemp("killed") / "out"
    proc = start(out)
    wait_for_first_table(out, proc)
    pool = [p for p in psutil.Process(proc.pid).children(recursive=True) if "forkserver" in " ".join(p.cmdline())]
    code, _ = kill_and_reap(proc, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert not (out / "manifest.json").exists(), "the run was not interrupted"
    # Its workers notice and exit instead of idling forever as orphans.
    _, alive = psutil.wait_procs(pool, timeout=10)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "orphaned workers"
    return out


def copy_of(killed: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(killed, out)
    return out


def test_sigkill_then_resume_is_byte_identical(killed, tmp_path, reference, capsys):
    out = copy_of(killed, tmp_path)
    progress = json.loads((out / ".gengo-progress.json").read_text())
    done = [f["table"] for f in progress["files"]]
    assert done and progress["complete"] is False
    assert_final_files_complete(out, reference)

    # A plain rerun does not touch it; it points at --resume / --force.
    assert main(["gen", *ARGS, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--resume" in err and "--force" in err and len(err.strip().splitlines()) == 1, err

    mtimes = {f: (out / f"{f}.csv").stat().st_mtime_ns for f in done}
    t0 = time.perf_counter()
    r = run_gengo("gen", *ARGS[:-1], "-o", str(out), "--resume")  # not quiet: reports what it kept
    resumed = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    assert "resumed: kept" in r.stdout
    assert sha256_files(out) == reference
    assert {f: (out / f"{f}.csv").stat().st_mtime_ns for f in done} == mtimes  # reused, not rewritten
    m = manifest(out)
    assert m["complete"] is True
    assert all(len(f["blake3"]) == 64 for f in m["tables"])
    print(f"resume took {resumed:.2f} s, reusing {done}")


def test_resume_takes_the_seed_and_refuses_other_parameters(killed, tmp_path, capsys):
    out = copy_of(killed, tmp_path)
    base = ["gen", "-m", "ecommerce", "-f", "csv", "-o", str(out), "--resume", "-q", "-w", "1"]
    for extra, words in [
        (["-s", "0.03", "--seed", "12"], ["seed 11", "--seed 11"]),
        (["-s", "0.04"], ["target bytes"]),
        (["-s", "0.03", "--compression", "gzip"], ["compression"]),
        (["-s", "0.03", "--tables", "dim_customers"], ["tables"]),
    ]:
        assert main(base + extra) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert "cannot resume" in err and all(w in err for w in words), err
    # Without --seed the interrupted run's seed is used.
    assert main(base + ["-s", "0.03"]) == 0
    assert manifest(out)["seed"] == 11


def test_resume_rewrites_a_damaged_finished_file(killed, tmp_path, reference):
    out = copy_of(killed, tmp_path)
    done = json.loads((out / ".gengo-progress.json").read_text())["files"][0]["file"]
    with open(out / done, "r+b") as f:  # same size, different bytes
        f.seek(100)
        f.write(b"X")
    (out / f".{done}.gengo-tmp").write_bytes(b"left by the killed run")
    assert main(["gen", *ARGS, "-o", str(out), "--resume", "-w", "1"]) == 0
    assert sha256_files(out) == reference


def test_resume_of_a_complete_run_checks_and_keeps_everything(tmp_path):
    out = tmp_path / "out"
    gengo.generate("ecommerce", 0.005, "parquet", out, seed=3, workers=1)
    before = sha256_files(out)
    summary = gengo.generate("ecommerce", 0.005, "parquet", out, workers=1, resume=True)  # seed from the manifest
    assert summary.seed == 3 and len(summary.reused) == 7
    assert sha256_files(out) == before


def test_resume_accepts_an_older_manifests_sha256(killed, tmp_path, reference):
    """Progress written by a gengo that recorded SHA-256: files that match are kept, and the
    finished manifest records today's checksum for them too."""
    out = copy_of(killed, tmp_path)
    progress_path = out / ".gengo-progress.json"
    progress = json.loads(progress_path.read_text())
    for f in progress["files"]:
        del f["blake3"]
        f["sha256"] = hashlib.sha256((out / f["file"]).read_bytes()).hexdigest()
    progress_path.write_text(json.dumps(progress))
    done = [f["file"] for f in progress["files"]]
    mtimes = {f: (out / f).stat().st_mtime_ns for f in done}
    assert main(["gen", *ARGS, "-o", str(out), "--resume", "-w", "1"]) == 0
    assert sha256_files(out) == reference
    assert {f: (out / f).stat().st_mtime_ns for f in done} == mtimes  # kept
    for f in manifest(out)["tables"]:
        assert f["blake3"] == blake3.blake3((out / f["file"]).read_bytes()).hexdigest()


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly(tmp_path, reference, sig, code):
    out = tmp_path / "out"
    proc = start(out)
    wait_for_first_table(out, proc)
    t0 = time.perf_counter()
    children = psutil.Process(proc.pid).children(recursive=True)
    returncode, stderr = kill_and_reap(proc, sig)
    stopped = time.perf_counter() - t0
    assert returncode == code, stderr
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert "Traceback" not in stderr
    assert signal.Signals(sig).name in stderr and "complete: dim_customers" in stderr, stderr
    assert "--resume" in stderr
    assert temp_files(out) == []
    assert not (out / "manifest.json").exists()
    assert_final_files_complete(out, reference)
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "workers left behind"


def test_a_worker_that_dies_fails_the_run(tmp_path):
    out = tmp_path / "out"
    proc = start(out)
    wait_for_first_table(out, proc)
    pool = [p for p in psutil.Process(proc.pid).children(recursive=True) if "forkserver" in " ".join(p.cmdline())]
    workers = [p for p in pool if p.ppid() != proc.pid]  # children of the fork server
    assert workers
    workers[0].kill()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "worker process was killed by SIGKILL" in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert temp_files(out) == []
    assert not (out / "manifest.json").exists()


# --- full disk and permission errors -------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_on_a_small_tmpfs(small_tmpfs):
    mine = small_tmpfs / "mine.txt"
    mine.write_text("the user's file")
    out = small_tmpfs / "out"
    r = run_gengo("gen", "-m", "ecommerce", "-s", "0.01", "-f", "csv", "-o", str(out), "--seed", "1", "-w", "2")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "No space left on device" in lines[0] and "--resume" in lines[0], lines[0]
    assert mine.read_text() == "the user's file"
    assert temp_files(out) == []
    assert not (out / "manifest.json").exists()
    for p in out.iterdir():  # what is there is complete (and listed for --resume)
        if p.suffix == ".csv":
            assert p.read_bytes().endswith(b"\n")


def _failing_after(calls: int, error: OSError):
    real = ByteSink.add
    count = {"n": 0}

    def add(self, payload):
        count["n"] += 1
        if count["n"] > calls:
            raise error
        return real(self, payload)

    return add


@pytest.mark.parametrize(
    "error,message",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    ],
)
def test_write_errors_mid_run_are_one_clean_error(tmp_path, monkeypatch, error, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    (out / "dim_customers.csv").write_text("an old file gengo may replace, but only when complete")
    monkeypatch.setattr(ByteSink, "add", _failing_after(3, error))
    with pytest.raises(GengoError) as info:
        gengo.generate("ecommerce", 0.01, "csv", out, seed=1, workers=1, force=True, chunk_rows=2000)
    text = str(info.value)
    assert message in text and "cannot write" in text and "\n" not in text
    assert temp_files(out) == []
    assert (out / "notes.txt").read_text() == "keep"
    assert not (out / "manifest.json").exists()


def test_write_error_before_any_table_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "new"
    monkeypatch.setattr(ByteSink, "add", _failing_after(0, OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(GengoError, match="No space left"):
        gengo.generate("ecommerce", 0.005, "csv", out, seed=1, workers=1)
    assert not out.exists()


def test_interrupt_in_the_library_names_finished_tables(tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = ByteSink.commit

    def commit(self):
        size = real(self)
        if self.path.name == "dim_suppliers.csv":
            raise KeyboardInterrupt
        return size

    monkeypatch.setattr(ByteSink, "commit", commit)
    with pytest.raises(Interrupted) as info:
        gengo.generate("ecommerce", 0.005, "csv", out, seed=1, workers=1)
    assert info.value.exit_code == 130
    assert info.value.finished == ("dim_customers", "dim_customer_addresses")
    assert "fact_order_items" in info.value.pending
    assert temp_files(out) == []
    monkeypatch.undo()
    summary = gengo.generate("ecommerce", 0.005, "csv", out, workers=1, resume=True)
    assert summary.reused == ("dim_customers", "dim_customer_addresses")
    assert api.previous_run(out)["complete"] is True


def test_manifest_checksums_match_the_files(tmp_path):
    for fmt, extra in [("csv", {}), ("json", {"compression": "gzip"}), ("parquet", {})]:
        out = tmp_path / fmt
        gengo.generate("ecommerce", 0.003, fmt, out, seed=2, workers=1, **extra)
        m = manifest(out)
        assert m["complete"] is True
        for f in m["tables"]:
            assert f["blake3"] == blake3.blake3((out / f["file"]).read_bytes()).hexdigest()
            assert f["bytes"] == (out / f["file"]).stat().st_size
        again = tmp_path / f"{fmt}-again"
        gengo.generate("ecommerce", 0.003, fmt, again, seed=2, workers=2, **extra)
        assert (again / "manifest.json").read_text() == (out / "manifest.json").read_text()  # deterministic


def test_a_signal_delivered_twice_still_cleans_up(tmp_path, reference):
    """``timeout -s INT`` signals the command and then its process group: the same signal twice at
    once is one interruption (clean-up, resume hint, no lock file), not the "exit at once" of a
    second Ctrl-C."""
    out = tmp_path / "out"
    proc = start(out)
    wait_for_first_table(out, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.005)  # as timeout's second kill: after the first signal's handler has run
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "temporary files removed" in stderr and "--resume" in stderr, stderr
    assert temp_files(out) == [] and not (out / ".gengo-lock").exists()
    assert_final_files_complete(out, reference)

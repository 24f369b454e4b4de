"""The console entry (gengo.launch): signals from start-up on, light start-up, the fork server's life."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gengo.core.errors import interruption
from gengo.launch import _needs_workers
from tests.helpers import GENGO

SHM = Path("/dev/shm")
HEAVY = ("numpy", "pyarrow", "polars")


def test_fork_server_starts_early_only_for_runs_that_use_workers():
    assert _needs_workers(["gen", "-m", "ecommerce", "-s", "1"])
    assert _needs_workers(["gen", "--workers", "2"])
    for args in (
        [],
        ["plan", "-m", "ecommerce"],
        ["gen", "--help"],
        ["gen", "--dry-run", "-s", "1"],
        ["gen", "--workers", "1"],
        ["gen", "-w", "1"],
        ["gen", "--workers=1"],
        ["gen", "--engine", "dask"],
    ):
        assert not _needs_workers(args), args


def test_no_fork_server_is_started_early_for_a_small_or_unknown_size_with_no_worker_count():
    from gengo.engine.forkserver import worth_starting

    assert worth_starting(None, "16MB") and worth_starting(None, "0.5") and worth_starting(None, 1)
    for size in ("1MB", "0.001", "15.9MB", None, "ten"):  # None: sized by --rows; "ten": refused later
        assert not worth_starting(None, size), size
    assert worth_starting(2, None) and worth_starting(2, "1MB") and not worth_starting(1, "1GB")


def test_library_api_is_loaded_on_first_use():
    import gengo
    import gengo.api
    import gengo.engine.plan  # noqa: F401 - no submodule may shadow the functions

    assert callable(gengo.plan) and callable(gengo.run) and callable(gengo.generate)
    assert gengo.plan is gengo.api.plan and isinstance(gengo.Summary, type)


def _spools(pid: int) -> list[Path]:
    return sorted(SHM.glob(f"gengo-spool-{pid}-*")) if SHM.is_dir() else []


def _session_alive(sid: int) -> list[str]:
    """Processes of session ``sid`` that still run (zombies waiting for init to reap them excluded)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            alive.append(stat.parent.name)
    return alive


def _wait_gone(sid: int, timeout: float) -> float:
    start = time.monotonic()
    while _session_alive(sid) and time.monotonic() - start < timeout:
        time.sleep(0.02)
    return time.monotonic() - start


# Long enough that no table is complete within a second (one table of 5 GB), so an interrupted
# run has nothing to keep: the output directory must be gone again.
LONG_RUN = ["gen", "-m", "ecommerce", "-s", "5", "-f", "csv", "--tables", "fact_order_items", "--seed", "1"]


def _reach_launch_seconds() -> float:
    """How long this machine takes, right now, to start Python and import ``gengo.launch`` (what the
    console script does before ``main`` runs): signals before that are out of gengo's reach. The
    slowest of three starts: on a loaded CI host a SIGTERM sent at 1.5x the fastest (53 ms) found
    the interpreter still starting (killed, exit -15)."""
    slowest = 0.0
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import re, gengo.launch"], check=True, timeout=60)
        slowest = max(slowest, time.monotonic() - started)
    return slowest


@pytest.mark.parametrize("group", [False, True], ids=["process", "terminal-group"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_at_any_moment_of_start_up_is_one_line_and_the_shell_code(tmp_path, sig, group):
    """From the first instruction on: during imports, planning and the first chunks alike.

    ``terminal-group`` sends the signal to the whole process group, as Ctrl-C at a terminal
    does: the fork server and its workers must not print tracebacks of their own either. The
    first delay is never shorter than the interpreter's own start-up on this machine.
    """
    floor = 2 * _reach_launch_seconds()  # 0.07-0.1 s on this project's machines when idle
    for delay in sorted({max(d, floor) for d in (0.05, 0.2, 0.5, 1.0)}):
        out = tmp_path / f"out-{delay}"
        proc = subprocess.Popen(
            [GENGO, *LONG_RUN, "-o", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(delay)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
        _wait_gone(proc.pid, 10)  # its helpers too: what they print counts
        where = f"{sig.name} after {delay} s"
        assert proc.returncode == 128 + sig, f"{where}: exit {proc.returncode}\n{stderr}"
        assert "Traceback" not in stderr + stdout, f"{where}:\n{stderr}"
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"gengo: interrupted ({sig.name})"), f"{where}: {stderr!r}"
        assert not out.exists() or not any(out.iterdir()), f"{where}: left {sorted(out.iterdir())}"
        assert not _spools(proc.pid), f"{where}: spool left in /dev/shm"


def test_an_interrupt_wrapped_by_python_is_still_an_interrupt():
    """Python 3.11 turns a KeyboardInterrupt raised in ``__set_name__`` into a RuntimeError."""
    from gengo.core.errors import Interrupted

    try:
        try:
            raise Interrupted(signal.SIGTERM)
        except Interrupted as exc:
            raise RuntimeError("Error calling __set_name__") from exc
    except RuntimeError as wrapped:
        found = interruption(wrapped)
    assert isinstance(found, Interrupted) and found.exit_code == 143
    assert interruption(ValueError("no")) is None


@pytest.mark.parametrize("args", [["--help"], ["-V"], ["models"], ["gen", "--help"]])
def test_light_commands_import_no_numpy_arrow_or_polars(args):
    """``gengo --help``, ``-V`` and ``models`` were about 1 s, most of it these imports."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gengo", *args], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    assert "gengo.cli" in imported  # the real command ran


def test_models_lists_the_catalog_without_importing_the_models():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "gengo", "models"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "ecommerce-ds (aliases: ecom-ds" in r.stdout and "24 tables: date_dim, time_dim" in r.stdout
    assert "gengo.models.ecommerce" not in r.stderr


def test_catalog_matches_what_the_models_declare():
    from gengo.models import CATALOG

    for info in CATALOG:
        model = importlib.import_module(info.module).MODEL
        assert (info.name, info.aliases, info.description, info.table_names) == (
            model.name,
            model.aliases,
            model.description,
            model.table_names,
        )


def test_fork_server_does_not_outlive_the_command(tmp_path):
    """A command that failed fast after starting the fork server left it importing for a second or two.

    Without the vocabulary cache the fork server's start-up takes a second or more, far longer
    than the command needs to refuse an unknown flag. The resource tracker may take a moment more.
    """
    env = dict(os.environ, GENGO_NO_CACHE="1")
    for args in (["--nosuchflag"], ["-o", "/proc/gengo-cannot-write/out"], ["-o", str(tmp_path / "ok"), "-q"]):
        proc = subprocess.Popen(
            [GENGO, "gen", "-m", "ecom", "-s", "0.002", "-f", "csv", "--seed", "1", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # not a pipe: waiting for its end would wait for the helpers too
            start_new_session=True,
            env=env,
        )
        proc.wait(timeout=60)
        assert _wait_gone(proc.pid, 10) < 0.3, f"{args}: processes left after exit"


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
def test_a_killed_run_leaves_no_spool_and_no_warnings(tmp_path):
    """SIGKILL (or the OOM killer): nothing runs in the command, its fork server cleans up."""
    proc = subprocess.Popen(
        [GENGO, *LONG_RUN, "-o", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not _spools(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert _spools(proc.pid), "the run never made its spool"
    time.sleep(0.5)  # chunks in flight
    proc.kill()
    proc.wait()
    assert _wait_gone(proc.pid, 20) < 20, f"still running: {_session_alive(proc.pid)}"
    assert not _spools(proc.pid)
    stderr = proc.stderr.read()
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr

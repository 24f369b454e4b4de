"""The process pool's abort: it must leave no thread behind that keeps the process from exiting."""

from __future__ import annotations

import subprocess
import sys

# A worker ended mid-result leaves half a message in the result pipe (a --db load whose server
# connection was lost hung at exit this way, 1 run in 4). Written here by hand: a length header
# announcing 1 MiB, then 100 bytes.
CODE = """
import os, struct, sys, time
from gengo.engine.pool import Pool

pool = Pool(2)
assert pool._pool.submit(int, 1).result() == 1  # the workers are up
manager = pool._pool._executor_manager_thread
os.write(pool._pool._result_queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 100)
time.sleep(0.2)  # the manager thread is now waiting for the rest of that message
started = time.monotonic()
pool.close(abort=True)
print(manager.is_alive(), round(time.monotonic() - started, 1), flush=True)
"""


def test_abort_ends_the_manager_thread_even_with_half_a_result_in_the_pipe():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    alive, seconds = r.stdout.split()
    assert alive == "False" and float(seconds) < 10, r.stdout


def test_a_small_run_with_no_worker_count_generates_in_this_process(tmp_path):
    from gengo import api
    from gengo.engine.forkserver import IN_PROCESS_BYTES
    from gengo.engine.inputs import default_workers, run_workers

    assert run_workers(None, IN_PROCESS_BYTES - 1) == 1
    assert run_workers(None, IN_PROCESS_BYTES) == default_workers()
    assert run_workers(3, 10) == 3  # a count asked for is kept, however small the run
    small = api.plan("ecommerce", "1MB", "csv", seed=1)
    large = api.plan("ecommerce", "40MB", "csv", seed=1)
    assert small.estimated_bytes < IN_PROCESS_BYTES <= large.estimated_bytes
    with api.prepare(small, tmp_path / "a") as run:
        assert run.workers == 1
    with api.prepare(small, tmp_path / "b", workers=2) as run:
        assert run.workers == 2
    with api.prepare(large, tmp_path / "c") as run:
        assert run.workers == default_workers()

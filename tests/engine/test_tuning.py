"""Process tuning: glibc keeps chunk-sized blocks on its heap once tuned (and only then)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

# In a fresh process: is a freshly malloc'ed 16 MB block served by mmap (counted in mallinfo2's
# hblkhd) or from the heap? glibc's default threshold is 128 KiB; tuned, it is 32 MiB.
PROBE = """
import ctypes, sys
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "tuned":
    from gengo.engine import tuning
    assert tuning.keep_freed_memory()
before = libc.mallinfo2().hblkhd
block = libc.malloc(16 << 20)
mapped = libc.mallinfo2().hblkhd - before
libc.free(block)
print(mapped)
"""


def _mapped_bytes(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    r = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


@glibc
def test_untuned_glibc_maps_a_chunk_sized_block():
    assert _mapped_bytes("plain") >= 16 << 20  # the probe can tell the difference


@glibc
def test_tuned_glibc_serves_a_chunk_sized_block_from_the_heap():
    assert _mapped_bytes("tuned") == 0


def test_switch_turns_tuning_off(monkeypatch):
    from gengo.engine import tuning

    monkeypatch.setenv(tuning.SWITCH, "1")
    assert not tuning.enabled()
    monkeypatch.setenv(tuning.SWITCH, "0")
    assert tuning.enabled()


def test_release_free_memory_does_not_raise():
    from gengo.engine import tuning

    tuning.release_free_memory()


PANDAS_PROBE = """
import sys
from gengo.engine import tuning
if sys.argv[1] == "skip":
    tuning.skip_pandas_probe()
import pyarrow as pa
pa.array(["a", "b"])  # pyarrow's first conversion of a Python object
loaded = "pandas" in sys.modules
import pandas  # still importable where something really uses it
print(loaded, pandas.__name__)
"""


@pytest.mark.parametrize(("mode", "loaded"), [("skip", "False"), ("plain", "True")])
def test_pyarrow_does_not_import_pandas_after_the_probe_is_skipped(mode, loaded):
    pytest.importorskip("pandas")
    env = {k: v for k, v in os.environ.items() if k != "GENGO_NO_TUNING"}
    r = subprocess.run([sys.executable, "-c", PANDAS_PROBE, mode], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [loaded, "pandas"]


def test_the_gengo_command_never_imports_pandas_for_ecommerce(tmp_path):
    """pandas costs 0.3-0.4 CPU-s per process; the command and its workers do not need it."""
    probe = tmp_path / "sitecustomize.py"
    probe.write_text(
        "import atexit, os, sys\n"
        "def seen():\n"
        "    open(os.environ['PROBE_OUT'] + str(os.getpid()), 'w').write(str('pandas' in sys.modules))\n"
        "atexit.register(seen)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GENGO_NO_TUNING"}
    env.update(PYTHONPATH=f"{tmp_path}{os.pathsep}{env.get('PYTHONPATH', '')}", PROBE_OUT=str(tmp_path / "seen-"))
    cmd = [sys.executable, "-m", "gengo", "gen", "-m", "ecommerce", "-s", "2MB", "-f", "csv", "-o", str(tmp_path / "o")]
    r = subprocess.run([*cmd, "--seed", "1", "-q", "-w", "2"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    seen = [p.read_text() for p in tmp_path.glob("seen-*")]
    assert len(seen) >= 2 and set(seen) == {"False"}  # the command and its fork server


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_command_and_fork_server_freeze_their_heap_and_start_no_blas_threads(tmp_path, workers):
    """gc.freeze where chunks are generated, OPENBLAS_NUM_THREADS=1 before NumPy is imported, and
    polars (the encoders' fallback) never imported by the command's own process for ecommerce."""
    probe = tmp_path / "sitecustomize.py"
    probe.write_text(
        "import atexit, gc, json, os, sys\n"
        "def seen():\n"
        "    facts = dict(frozen=gc.get_freeze_count(), blas=os.environ.get('OPENBLAS_NUM_THREADS'),\n"
        "                 polars='polars' in sys.modules, command=' gen ' in ' '.join(sys.argv))\n"
        "    open(os.environ['PROBE_OUT'] + str(os.getpid()), 'w').write(json.dumps(facts))\n"
        "atexit.register(seen)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GENGO_NO_TUNING", "OPENBLAS_NUM_THREADS")}
    env.update(PYTHONPATH=f"{tmp_path}{os.pathsep}{env.get('PYTHONPATH', '')}", PROBE_OUT=str(tmp_path / "seen-"))
    cmd = [sys.executable, "-m", "gengo", "gen", "-m", "ecommerce", "-s", "2MB", "-f", "csv", "-o", str(tmp_path / "o")]
    r = subprocess.run([*cmd, "--seed", "1", "-q", "-w", workers], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    seen = [json.loads(p.read_text()) for p in tmp_path.glob("seen-*")]
    (command,) = [s for s in seen if s["command"]]
    assert {s["blas"] for s in seen} == {"1"}, seen
    assert not command["polars"], seen
    if workers == "1":
        assert command["frozen"] > 0, seen
    else:  # the fork server: frozen; polars not imported where the C codec writes every chunk
        assert any(s["frozen"] > 0 for s in seen if not s["command"]), seen
        assert not any(s["polars"] for s in seen), seen


def test_a_library_caller_keeps_its_heap_and_environment(tmp_path):
    code = (
        "import gc, os, gengo\n"
        "gengo.generate('ecommerce', rows={'fact_orders_header': 100}, output=os.environ['OUT'], seed=1, workers=1)\n"
        "print(gc.get_freeze_count(), os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GENGO_NO_TUNING", "OPENBLAS_NUM_THREADS")}
    env["OUT"] = str(tmp_path / "o")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "None"]

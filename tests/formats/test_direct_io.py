"""Output files written around the page cache hold exactly the bytes given, in any piece sizes."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from gengo.formats import direct
from gengo.formats.direct import DirectFile, open_for_writing

pytestmark = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT on this platform")


@pytest.fixture
def tmp_path():
    """A directory on a disk, not the (often tmpfs) temporary directory: O_DIRECT needs a real file system.

    ``GENGO_TEST_DISK_DIR`` names where (``.ci/run`` sets it to a folder of the checkout); by
    default a folder beside the tests.
    """
    base = Path(os.environ.get("GENGO_TEST_DISK_DIR") or Path(__file__).resolve().parents[2] / ".pytest-disk")
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="direct-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _direct_file_or_skip(path: Path) -> DirectFile:
    f = open_for_writing(path)
    if not isinstance(f, DirectFile):
        f.close()
        if os.environ.get("CI"):  # CI runs on a disk: a silent skip there would hide a regression
            pytest.fail(f"{path.parent} does not support O_DIRECT")
        pytest.skip(f"{path.parent} does not support O_DIRECT")
    return f


def test_pieces_across_block_and_buffer_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(direct, "BUFFER_BYTES", 3 * direct.ALIGN)  # many buffer refills
    f = _direct_file_or_skip(tmp_path / "out.bin")
    pieces = [os.urandom(n) for n in (1, 4095, 4096, 4097, 12288, 0, 30001, 7)]
    for p in pieces:
        f.write(p)
        f.write(memoryview(p))
    assert f.tell() == 2 * sum(map(len, pieces))
    f.close()
    assert (tmp_path / "out.bin").read_bytes() == b"".join(p + p for p in pieces)


def test_empty_and_block_sized_files(tmp_path):
    for name, data in (("empty", b""), ("block", b"x" * direct.ALIGN)):
        f = _direct_file_or_skip(tmp_path / name)
        f.write(data)
        f.close()
        assert (tmp_path / name).read_bytes() == data


def test_no_write_after_the_end_and_discard_writes_nothing(tmp_path):
    f = _direct_file_or_skip(tmp_path / "a")
    f.write(b"abc")
    f.flush()
    with pytest.raises(ValueError):
        f.write(b"more")
    f.close()
    assert (tmp_path / "a").read_bytes() == b"abc"
    g = _direct_file_or_skip(tmp_path / "b")
    g.write(b"never written")
    g.discard()
    assert (tmp_path / "b").read_bytes() == b""


def test_switched_off_or_unsupported_gives_a_buffered_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GENGO_DIRECT_IO", "0")
    f = open_for_writing(tmp_path / "c")
    assert not isinstance(f, DirectFile)
    f.close()
    if Path("/dev/shm").is_dir():  # tmpfs refuses O_DIRECT: buffered fallback, same interface
        monkeypatch.delenv("GENGO_DIRECT_IO")
        path = Path("/dev/shm") / f"gengo-test-{os.getpid()}"
        try:
            g = open_for_writing(path)
            g.write(b"ok")
            g.close()
            assert path.read_bytes() == b"ok"
        finally:
            path.unlink(missing_ok=True)


def test_write_from_a_file_matches_write_and_hashes_the_same(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(direct, "BUFFER_BYTES", 2 * direct.ALIGN)
    src = tmp_path / "src.bin"
    data = os.urandom(3 * direct.ALIGN + 123) + b"stale tail not to copy"
    src.write_bytes(data)
    f = _direct_file_or_skip(tmp_path / "out.bin")
    f.write(b"head")
    h = hashlib.sha256()
    fd = os.open(src, os.O_RDONLY)
    try:
        f.write_from(fd, 3 * direct.ALIGN + 123, 0, h)
    finally:
        os.close(fd)
    assert f.tell() == 4 + 3 * direct.ALIGN + 123
    f.close()
    assert (tmp_path / "out.bin").read_bytes() == b"head" + data[: 3 * direct.ALIGN + 123]
    assert h.hexdigest() == hashlib.sha256(data[: 3 * direct.ALIGN + 123]).hexdigest()


def test_buffers_pass_to_the_next_file_without_stale_bytes(tmp_path):
    big = os.urandom(3 * direct.BUFFER_BYTES // 2)
    f = _direct_file_or_skip(tmp_path / "big.bin")
    f.write(big)
    f.close()
    assert len(direct._spare) == 2
    g = direct.DirectFile(tmp_path / "small.bin")  # takes the big file's buffers
    assert not direct._spare
    g.write(b"small")
    g.close()
    assert (tmp_path / "small.bin").read_bytes() == b"small"
    assert (tmp_path / "big.bin").read_bytes() == big


def test_a_forked_child_does_not_inherit_spare_buffers(tmp_path):
    f = _direct_file_or_skip(tmp_path / "a.bin")
    f.write(b"x")
    f.close()
    assert direct._spare
    pid = os.fork()
    if pid == 0:  # the child: exit status says whether it kept them
        os._exit(1 if direct._spare else 0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

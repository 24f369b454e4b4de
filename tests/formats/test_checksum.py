"""Manifest checksums: today's BLAKE3, and the SHA-256 that older manifests recorded."""

import hashlib

import blake3

from gengo.formats import checksum


def test_unchanged_checks_the_recorded_algorithm_and_returns_todays_digest(tmp_path):
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 40_000  # several read blocks
    path.write_bytes(data)
    b3, sha = blake3.blake3(data).hexdigest(), hashlib.sha256(data).hexdigest()
    assert checksum.file_checksum(path) == b3 and checksum.file_checksum(path, "sha256") == sha
    assert checksum.unchanged(path, {"blake3": b3}) == b3
    assert checksum.unchanged(path, {"sha256": sha}) == b3  # an older manifest: carried over as BLAKE3
    assert checksum.unchanged(path, {"blake3": "0" * 64}) is None
    assert checksum.unchanged(path, {"sha256": "0" * 64}) is None
    assert checksum.unchanged(path, {}) is None

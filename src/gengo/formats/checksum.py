"""File checksums for manifests: BLAKE3, computed as the bytes are written.

Every byte of a dataset passes through one hash in the process that writes the files, so the
hash's speed is part of the run's: on this project's machine SHA-256 (with the CPU's SHA
instructions) hashed 2.0 GB/s, 28-36% of that process's CPU in an ecommerce-ds JSON run, and
BLAKE3 9 GB/s. BLAKE3 is a cryptographic hash too; ``b3sum`` checks a file by hand.
Manifests written before the switch carry ``sha256``, which ``verify`` and ``--resume`` still
check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import blake3

ALGORITHM = "blake3"  # the manifest key holding a file's hex digest
KNOWN = (ALGORITHM, "sha256")  # what a manifest entry may carry, preferred first


def new_hasher(algorithm: str = ALGORITHM) -> Any:
    """An object with ``update(bytes)`` and ``hexdigest()``; both hashes release the GIL."""
    return blake3.blake3() if algorithm == "blake3" else hashlib.new(algorithm)


def file_checksum(path: Path, algorithm: str = ALGORITHM) -> str:
    """Hex digest of a file, read in blocks."""
    return _file_digests(path, (algorithm,))[0]


def _file_digests(path: Path, algorithms: tuple[str, ...], block: int = 1 << 22) -> list[str]:
    """Hex digests of a file under several algorithms, from one read."""
    hashers = [new_hasher(a) for a in algorithms]
    with open(path, "rb") as f:
        while data := f.read(block):
            for h in hashers:
                h.update(data)
    return [h.hexdigest() for h in hashers]


def recorded(entry: dict) -> tuple[str, str] | None:
    """The (algorithm, hex digest) a manifest entry records, or None."""
    for algorithm in KNOWN:
        if entry.get(algorithm):
            return algorithm, entry[algorithm]
    return None


def unchanged(path: Path, entry: dict) -> str | None:
    """The file's digest (``ALGORITHM``) if it matches the one the manifest entry records, else None.

    An entry of an older gengo records another algorithm: the file is still read once, hashed
    both ways, so a resumed run's manifest gets today's digest for it.
    """
    found = recorded(entry)
    if found is None:
        return None
    algorithm, expected = found
    if algorithm == ALGORITHM:
        return expected if file_checksum(path) == expected else None
    old, new = _file_digests(path, (algorithm, ALGORITHM))
    return new if old == expected else None

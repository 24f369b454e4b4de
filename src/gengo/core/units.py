"""Sizes as people write them: ``0.5`` (GB), ``500MB``, ``2GiB``."""

from __future__ import annotations

import math
import re

from gengo.core.errors import GengoError

GB = 10**9  # --size is in decimal gigabytes
_UNITS = {
    "": GB,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(value: str | float | int) -> int:
    """Target size in bytes. A bare number is gigabytes (10**9 bytes); units KB..TB, KiB..TiB."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        text = str(value).strip()
        if text.startswith("-") and _SIZE_RE.match(text[1:]):
            raise GengoError(f"invalid size '{value}': it must be a positive number")
        m = _SIZE_RE.match(text)
        if not m or m.group(2).lower() not in _UNITS:
            raise GengoError(f"invalid size '{value}': give a number of GB (e.g. 0.5) or a size like 500MB")
        number, unit = float(m.group(1)), m.group(2).lower()
    if not math.isfinite(number) or number <= 0:
        raise GengoError(f"invalid size '{value}': it must be a positive number")
    size = int(round(number * _UNITS[unit]))
    if size < 1:
        raise GengoError(f"invalid size '{value}': below one byte")
    if size > 10**15:
        raise GengoError(f"invalid size '{value}': above 1 PB")
    return size

"""Sizes as the command line takes them (``--size``)."""

from __future__ import annotations

import pytest

from gengo.core.errors import GengoError
from gengo.core.units import parse_size


@pytest.mark.parametrize(
    ("text", "size"), [("0.5", 500_000_000), ("500MB", 500_000_000), (" 2 GiB ", 2 << 30), (1, 10**9)]
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "must be a positive number"),
        ("-1", "must be a positive number"),
        ("-5MB", "must be a positive number"),
        ("0MB", "must be a positive number"),
        ("nan", "give a number of GB"),
        ("5 parsecs", "give a number of GB"),
        ("2PB", "give a number of GB"),
        ("2000TB", "above 1 PB"),
    ],
)
def test_bad_sizes_say_why(text, message):
    with pytest.raises(GengoError, match=message):
        parse_size(text)

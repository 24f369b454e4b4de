"""Local wall-clock times to UTC instants for whole arrays, with the IANA zones of ``zoneinfo``.

Models keep schedules in local time (a clinic opens at 08:00 where it is, shoppers are busy in
their own evening) and store instants in UTC. ``ZoneOffsets`` asks ``zoneinfo`` for each zone's
UTC offset once a week over a window, finds every change to the second by bisection, and then
answers whole arrays by table look-ups: no Python call per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

_DAY = 86_400
_WEEK = 7 * _DAY


class ZoneOffsets:
    """UTC offsets of a few IANA zones over a window of instants (seconds since 1970, UTC).

    Kept as three small tables per zone and UTC day (offset at the day's start, second of the
    day's change, offset after it): a lookup is three gathers. Assumes at most one change per
    zone and day.
    """

    def __init__(self, zones: Sequence[str], start: int, end: int) -> None:
        self.zones = tuple(zones)
        self.start = (int(start) // _DAY - 2) * _DAY
        self.days = (int(end) - self.start) // _DAY + 3
        if not self.zones:
            raise ValueError("need at least one zone")
        shape = (len(self.zones), self.days)
        before = np.zeros(shape, dtype=np.int64)
        after = np.zeros(shape, dtype=np.int64)
        change = np.full(shape, _DAY, dtype=np.int64)
        for z, name in enumerate(self.zones):
            changes = _changes(ZoneInfo(name), self.start, self.start + self.days * _DAY)
            times = np.array([t for t, _ in changes], dtype=np.int64)
            values = np.array([o for _, o in changes], dtype=np.int64)
            day_start = self.start + _DAY * np.arange(self.days, dtype=np.int64)
            before[z] = values[np.searchsorted(times, day_start, side="right") - 1]
            after[z] = before[z]
            for t, o in changes[1:]:
                d = (t - self.start) // _DAY
                if d >= self.days:  # the weekly sampling looks up to a week past the end
                    break
                change[z, d], after[z, d] = t - self.start - d * _DAY, o
        self._before, self._after, self._change = before.ravel(), after.ravel(), change.ravel()
        self.max_offset = np.maximum(before, after).max(axis=1)

    def offset(self, zone: np.ndarray, utc: np.ndarray) -> np.ndarray:
        """UTC offset in seconds (local = UTC + offset) of each zone index at each UTC instant."""
        t = np.clip(utc - self.start, 0, self.days * _DAY - 1)
        cell = np.asarray(zone, dtype=np.int64) * self.days + t // _DAY  # a narrow zone dtype would wrap
        return np.where(t % _DAY >= self._change[cell], self._after[cell], self._before[cell])

    def to_utc(self, zone: np.ndarray, local: np.ndarray) -> np.ndarray:
        """UTC instants of local wall-clock times (seconds since 1970 as if the clock read UTC).

        Like ``datetime(..., fold=0)``: an ambiguous time (clocks going back) is its first
        occurrence, a time skipped by clocks going forward is read with the offset before the jump.
        """
        return local - self.offset(zone, local - self.max_offset[zone])


def _changes(tz: ZoneInfo, start: int, end: int) -> list[tuple[int, int]]:
    """(first second, offset) for the offset at ``start`` and each change up to ``end``.

    The offset is sampled weekly and each change found to the second by bisection; a change
    undone within the same week would be missed (no zone has had one).
    """

    def offset(t: int) -> int:
        return int(dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())

    before = offset(start)
    out = [(start, before)]
    lo = start
    for t in range(start + _WEEK, end + _WEEK, _WEEK):
        now = offset(t)
        while now != before:  # find the first change in (lo, t], then look again after it
            a, b = lo, t  # offset(a) == before != offset(b)
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == before:
                    a = mid
                else:
                    b = mid
            before = offset(b)
            out.append((b, before))
            lo = b
        lo = t
    return out


@lru_cache(maxsize=8)
def zone_offsets(zones: tuple[str, ...], start: int, end: int) -> ZoneOffsets:
    """One ``ZoneOffsets`` per process for a zone list and window (about 1 ms per zone and 5 years)."""
    return ZoneOffsets(zones, start, end)


def to_utc_within(zones: tuple[str, ...], zone: np.ndarray, local: np.ndarray, start: int, end: int) -> np.ndarray:
    """UTC instants of local wall-clock times meant to lie in ``[start, end)``: a local time its
    zone's offset moves outside the window (an evening of the last day, say) comes one day inwards."""
    utc = zone_offsets(zones, start, end).to_utc(zone, local)
    utc = np.where(utc < start, utc + _DAY, np.where(utc >= end, utc - _DAY, utc))
    return np.clip(utc, start, end - 1)

"""Statistical data checks shared by the models: fan-outs drawn independently per parent.

A fan-out of ``low..high`` children per parent, uniform and independent, has known moments; the
checks compare the data with them at five standard errors (a seeded dataset passes or fails for
good, and a real fault, such as mirrored pairs or counts that follow the parent's position, is
many times larger). Each query returns one ``message`` row per statistic out of bounds.
"""

from __future__ import annotations

from gengo.core.schema import Check


def _moments(low: int, high: int) -> tuple[float, float]:
    """Mean and variance of the uniform integers ``low..high``."""
    return (low + high) / 2, ((high - low + 1) ** 2 - 1) / 12


def fanout_independence(name: str, table: str, parent: str, low: int, high: int) -> Check:
    """Children per parent: in ``low..high`` (both reached once there are 1,000 parents), mean of the
    uniform draw, neighbouring parents uncorrelated and two neighbours' sum varying as two draws."""
    mean, var = _moments(low, high)
    sql = f"""
WITH c AS (SELECT "{parent}" AS p, count(*)::DOUBLE AS n FROM "{table}" GROUP BY 1),
o AS (SELECT n, lag(n) OVER (ORDER BY p) AS prev, row_number() OVER (ORDER BY p) AS k FROM c),
s AS (SELECT count(*) AS parents, min(n) AS lo, max(n) AS hi, avg(n) AS mean, corr(n, prev) AS r FROM o),
pv AS (SELECT count(*) AS pairs, var_pop(t) AS v
       FROM (SELECT sum(n) AS t FROM o WHERE k <= (SELECT parents // 2 * 2 FROM s) GROUP BY (k - 1) // 2))
SELECT printf('{table} per {parent}: %d..%d, outside {low}..{high}', lo::BIGINT, hi::BIGINT) AS message
FROM s WHERE lo < {low} OR hi > {high}
UNION ALL
SELECT printf('{table} per {parent}: %d..%d over %d parents, never {low} or {high}', lo::BIGINT, hi::BIGINT, parents)
FROM s WHERE parents >= 1000 AND (lo > {low} OR hi < {high})
UNION ALL
SELECT printf('{table} per {parent}: mean %.4f, not {mean} +- %.4f', mean, 5 * sqrt({var} / parents))
FROM s WHERE parents > 0 AND NOT abs(mean - {mean}) < 5 * sqrt({var} / parents)
UNION ALL
SELECT printf('{table} per {parent}: lag-1 correlation %.4f, not 0 +- %.4f', r, 5 / sqrt(parents))
FROM s WHERE parents >= 3 AND NOT coalesce(abs(r) < 5 / sqrt(parents), false)
UNION ALL
SELECT printf('{table} per {parent}: the sum of two neighbours varies %.4f times as much as two draws, not 1 +- %.4f',
              v / (2 * {var}), 5 * sqrt(2 / pairs))
FROM pv WHERE pairs >= 2 AND NOT abs(v / (2 * {var}) - 1) < 5 * sqrt(2 / pairs)
"""
    doc = f"{table} rows per {parent}: independent uniform draws of {low}..{high} (issue 20, item 6)"
    return Check(name, sql.strip(), doc)


def daily_fanout(name: str, per_parent: str, low: int, high: int, what: str) -> Check:
    """Per day, the mean children per parent vary as the mean of that day's independent draws.

    ``per_parent`` is a query with one row per parent: its ``day`` and its children ``n``. Each
    day's mean, standardised by its parent count, has mean 0 and variance 1 when parents are
    independent; a fan-out that evens out over neighbours (or clusters) moves the variance.
    """
    mean, var = _moments(low, high)
    sql = f"""
WITH p AS ({per_parent}),
d AS (SELECT count(*) AS parents, avg(n) AS m FROM p GROUP BY day),
z AS (SELECT (m - {mean}) * sqrt(parents / {var}) AS z FROM d),
s AS (SELECT count(*) AS days, var_pop(z) AS v, avg(z) AS m FROM z)
SELECT printf('daily mean {what}: standardised variance %.4f over %d days, not 1 +- %.4f', v, days, 5 * sqrt(2 / days))
       AS message
FROM s WHERE days >= 2 AND NOT abs(v - 1) < 5 * sqrt(2 / days)
UNION ALL
SELECT printf('daily mean {what}: standardised mean %.4f over %d days, not 0 +- %.4f', m, days, 5 / sqrt(days))
FROM s WHERE days >= 2 AND NOT abs(m) < 5 / sqrt(days)
"""
    doc = f"daily mean {what}: the spread of independent draws of {low}..{high} (issue 20, item 6)"
    return Check(name, sql.strip(), doc)

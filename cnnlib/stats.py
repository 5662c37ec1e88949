"""Intervals and tests: how the course says "better".

A comparative sentence in a chapter ("more consistent", "less accurate") rests on one of these:

- :func:`mean_ci`: the mean of a few values (seeds, test images) with its Student t interval;
- :func:`bootstrap_ci`: a percentile-bootstrap interval for any statistic of one sample;
- :func:`mcnemar`: two models on the same test images, the exact McNemar test;
- :func:`permutation_p`: is a rank correlation (Spearman's) more than chance? An exact
  permutation test for small samples.

Each is written from the definitions (the Student t quantile included) and checked against
``scipy.stats`` in the unit tests.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from cnnlib import check

EXACT_UP_TO = 8
"""permutation_p enumerates every ordering up to this many pairs (8! = 40,320)."""


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction
    (Lentz's method, as in Numerical Recipes §6.4)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only below this point
        return 1.0 - _betainc(b, a, 1.0 - x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * f / a


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with ``df`` degrees of freedom."""
    check.number("t", t)
    check.positive("df", df)
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t >= 0 else tail


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (bisection on
    :func:`t_cdf`), e.g. ``t_quantile(0.975, 9)`` = 2.262."""
    check.level("q", q)
    check.positive("df", df)
    if q < 0.5:
        return -t_quantile(1.0 - q, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < q:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if t_cdf(mid, df) < q else (low, mid)
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its Student t interval,
    mean ± t(1 − (1 − level)/2; n − 1) · s / √n with s the sample standard deviation.

    The interval assumes the values are independent draws (one per seed, or per test image);
    it needs at least two of them.
    """
    x = check.sample("values", values, minimum=2)
    level = check.level("level", level)
    mean = float(x.mean())
    half = t_quantile(0.5 + level / 2, len(x) - 1) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def bootstrap_ci(
    values,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """``(low, high)``: a **percentile** bootstrap interval for ``statistic(values)``.

    Draw ``n`` resamples of ``values`` with replacement (NumPy's generator seeded by
    ``seed``), compute ``statistic`` on each, and return the (1 − level)/2 and
    (1 + level)/2 quantiles of those ``n`` numbers (linear interpolation). No bias correction
    (that would be BCa): the plain percentile method, as ``scipy.stats.bootstrap`` computes
    with ``method="percentile"``.
    """
    x = check.sample("values", values, minimum=2)
    check.int_at_least("n", n, minimum=100)
    level = check.level("level", level)
    check.int_at_least("seed", seed, minimum=0)
    if not callable(statistic):
        raise ValueError(f"statistic must be a function of one array (e.g. np.mean or "
                         f"np.median), got {type(statistic).__name__}.")
    rng = np.random.default_rng(seed)
    stats = np.array([float(statistic(x[rng.integers(0, len(x), len(x))])) for _ in range(n)])
    low, high = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def mcnemar(correct_a, correct_b) -> tuple[int, int, float]:
    """``(b, c, p)``: McNemar's exact test of two models on the same samples.

    ``correct_a`` and ``correct_b`` say, per sample, whether each model got it right (or any
    other paired yes/no outcome). ``b`` counts samples only A got right, ``c`` those only B
    got right; samples both got right or both got wrong say nothing about which is better.
    Under "equally good" each of the b + c disagreements is a fair coin, so ``p`` is the
    exact two-sided binomial p: min(1, 2 · P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2)
    (1 when they never disagree).
    """
    a = check.outcomes("correct_a", correct_a)
    b_ = check.outcomes("correct_b", correct_b)
    check.same_length("correct_a and correct_b", a, b_)
    b, c = int((a & ~b_).sum()), int((~a & b_).sum())
    n = b + c
    if n == 0:
        return b, c, 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return b, c, min(1.0, 2 * tail)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank (as Spearman's coefficient uses)."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (average) ranks."""
    rx, ry = _ranks(check.sample("x", x, 2)), _ranks(check.sample("y", y, 2))
    check.same_length("x and y", rx, ry)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    if denom == 0:
        raise ValueError("x or y is constant: a rank correlation needs at least two different "
                         "values in each.")
    return float((rx * ry).sum() / denom)


def permutation_p(x, y, n_resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided permutation p-value of Spearman's rank correlation between ``x`` and ``y``.

    Under "no association" every pairing of the ``y`` values with the ``x`` values is
    equally likely. ``p`` is the fraction of pairings whose |correlation| is at least the
    observed one (a relative tolerance of 1e-12 counts exact ties as equal).
    Up to ``EXACT_UP_TO`` (8) pairs every one of the n! orderings is enumerated, so ``p`` is
    exact. Above that, ``n_resamples`` random orderings (seeded by ``seed``) estimate it as
    (1 + hits) / (1 + n_resamples), which is never 0 (the observed pairing counts as one).
    """
    rx, ry = _ranks(check.sample("x", x, 3)), _ranks(check.sample("y", y, 3))
    check.same_length("x and y", rx, ry)
    check.int_at_least("n_resamples", n_resamples, minimum=100)
    check.int_at_least("seed", seed, minimum=0)
    observed = abs(spearman(x, y))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    threshold = observed * (1 - 1e-12)
    if len(rx) <= EXACT_UP_TO:
        orders = np.array(list(itertools.permutations(range(len(ry)))))
        rhos = np.abs(ry[orders] @ rx) / scale
        return float((rhos >= threshold).mean())
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 10_000):
        count = min(10_000, n_resamples - start)
        orders = rng.permuted(np.tile(np.arange(len(ry)), (count, 1)), axis=1)
        hits += int((np.abs(ry[orders] @ rx) / scale >= threshold).sum())
    return (1 + hits) / (1 + n_resamples)

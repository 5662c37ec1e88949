import itertools

import numpy as np
import pytest
import torch
from scipy import stats as sps

from cnnlib import stats


@pytest.mark.parametrize("df", [1, 2, 5, 9, 30, 200])
@pytest.mark.parametrize("q", [0.6, 0.9, 0.975, 0.995])
def test_t_quantile_matches_scipy(df, q):
    assert stats.t_quantile(q, df) == pytest.approx(sps.t.ppf(q, df), rel=1e-9)
    assert stats.t_quantile(1 - q, df) == pytest.approx(sps.t.ppf(1 - q, df), rel=1e-9)


@pytest.mark.parametrize("t", [-7.5, -1.2, 0.0, 0.3, 2.0, 40.0])
def test_t_cdf_matches_scipy(t):
    for df in (1, 3, 17):
        assert stats.t_cdf(t, df) == pytest.approx(sps.t.cdf(t, df), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("n, level", [(2, 0.95), (5, 0.9), (30, 0.95), (400, 0.99)])
def test_mean_ci_is_the_student_t_interval_of_scipy(n, level):
    x = np.random.default_rng(n).normal(3.0, 2.0, n)
    mean, low, high = stats.mean_ci(x, level)
    ref_low, ref_high = sps.t.interval(level, n - 1, loc=x.mean(), scale=sps.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (low, high) == pytest.approx((ref_low, ref_high), rel=1e-9)


def test_mean_ci_takes_lists_and_tensors_alike():
    values = [0.91, 0.93, 0.92, 0.95]
    assert stats.mean_ci(values) == pytest.approx(stats.mean_ci(torch.tensor(values)))


def test_bootstrap_ci_agrees_with_scipys_percentile_bootstrap():
    x = np.random.default_rng(1).exponential(1.0, 200)
    for statistic in (np.mean, np.median):
        low, high = stats.bootstrap_ci(x, statistic=statistic, n=20_000, seed=0)
        ref = sps.bootstrap((x,), statistic, n_resamples=20_000, method="percentile",
                            random_state=np.random.default_rng(5)).confidence_interval
        width = ref.high - ref.low
        assert abs(low - ref.low) < 0.05 * width and abs(high - ref.high) < 0.05 * width


def test_bootstrap_ci_is_the_percentile_of_the_resampled_statistics():
    x = np.arange(10.0)
    rng = np.random.default_rng(3)
    resampled = [x[rng.integers(0, 10, 10)].max() for _ in range(500)]
    expected = tuple(np.quantile(resampled, [0.05, 0.95]))
    assert stats.bootstrap_ci(x, statistic=np.max, n=500, level=0.9, seed=3) == pytest.approx(expected)


def test_bootstrap_ci_is_reproducible_with_a_seed_and_moves_without_one():
    x = np.random.default_rng(2).normal(size=50)
    assert stats.bootstrap_ci(x, seed=4) == stats.bootstrap_ci(x, seed=4)
    assert stats.bootstrap_ci(x, seed=4) != stats.bootstrap_ci(x, seed=5)


def test_bootstrap_ci_covers_the_true_mean_about_as_often_as_it_says():
    rng = np.random.default_rng(7)
    covered = [lo <= 0 <= hi for lo, hi in
               (stats.bootstrap_ci(rng.normal(size=60), n=1000, level=0.9, seed=s) for s in range(200))]
    assert 0.8 <= np.mean(covered) <= 0.97


@pytest.mark.parametrize("seed", range(6))
def test_mcnemar_counts_disagreements_and_matches_scipys_binomtest(seed):
    rng = np.random.default_rng(seed)
    a = rng.random(300) < 0.9
    b = rng.random(300) < 0.85
    bb, cc, p = stats.mcnemar(a, b)
    assert bb == int((a & ~b).sum()) and cc == int((~a & b).sum())
    assert p == pytest.approx(sps.binomtest(bb, bb + cc, 0.5).pvalue, rel=1e-12)


def test_mcnemar_of_identical_models_is_p_one_and_of_a_lopsided_split_is_tiny():
    a = np.array([True] * 50 + [False] * 10)
    assert stats.mcnemar(a, a) == (0, 0, 1.0)
    b, c, p = stats.mcnemar(np.ones(40, bool), np.zeros(40, bool))
    assert (b, c) == (40, 0) and p == pytest.approx(2 * 0.5**40)


def brute_force_spearman_p(x, y):
    """Every ordering of y's ranks, Pearson's r of the ranks (scipy's rankdata) for each."""
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    rho = sps.spearmanr(x, y).statistic
    perms = np.array(list(itertools.permutations(ry)))
    rs = [np.corrcoef(rx, p)[0, 1] for p in perms]
    return np.mean(np.abs(rs) >= abs(rho) - 1e-12)


def spearman_statistic(a, b, axis=-1):
    """Spearman's rho along ``axis``, vectorised for scipy.stats.permutation_test."""
    ra, rb = sps.rankdata(a, axis=axis), sps.rankdata(b, axis=axis)
    ra = ra - ra.mean(axis=axis, keepdims=True)
    rb = rb - rb.mean(axis=axis, keepdims=True)
    return (ra * rb).sum(axis) / np.sqrt((ra**2).sum(axis) * (rb**2).sum(axis))


@pytest.mark.parametrize("seed", range(5))
def test_permutation_p_is_exact_for_small_samples(seed):
    rng = np.random.default_rng(seed)
    n = 5 + seed % 3
    x = rng.normal(size=n)
    y = x + rng.normal(scale=1.0, size=n)
    p = stats.permutation_p(x, y)
    assert p == pytest.approx(brute_force_spearman_p(x, y), abs=1e-12)
    if n > 6:  # scipy's exact enumeration is too slow above 6 pairs
        return
    ref = sps.permutation_test((x, y), spearman_statistic, vectorized=True,
                               permutation_type="pairings", n_resamples=np.inf).pvalue
    assert p == pytest.approx(ref, abs=1e-12)


def test_permutation_p_handles_ties_with_average_ranks():
    x = [1, 2, 2, 3, 4, 4]
    y = [2, 1, 3, 3, 5, 4]
    assert stats.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert stats.permutation_p(x, y) == pytest.approx(brute_force_spearman_p(x, y), abs=1e-12)


def test_permutation_p_of_a_perfect_ranking_of_eight_is_two_in_8_factorial():
    assert stats.permutation_p(range(8), [1, 3, 4, 9, 10, 12, 20, 21]) == pytest.approx(2 / 40320)


def test_permutation_p_above_eight_pairs_estimates_by_random_orderings():
    rng = np.random.default_rng(0)
    x = rng.normal(size=20)
    y = 0.5 * x + rng.normal(size=20)  # p about 0.03
    p = stats.permutation_p(x, y, n_resamples=20_000)
    ref = sps.permutation_test((x, y), spearman_statistic, vectorized=True,
                               permutation_type="pairings", n_resamples=20_000,
                               random_state=np.random.default_rng(1)).pvalue
    assert abs(p - ref) < 0.006 and 0.01 < p < 0.06
    assert stats.permutation_p(x, y, n_resamples=20_000, seed=3) == stats.permutation_p(
        x, y, n_resamples=20_000, seed=3)


@pytest.mark.parametrize("call, message", [
    (lambda: stats.mean_ci([1.0]), "at least 2"),
    (lambda: stats.mean_ci([1.0, float("nan")]), "NaN"),
    (lambda: stats.mean_ci([[1.0, 2.0], [3.0, 4.0]]), "1-D"),
    (lambda: stats.mean_ci([1.0, 2.0], level=95), "between 0 and 1"),
    (lambda: stats.mean_ci("abc"), "1-D sequence"),
    (lambda: stats.mean_ci(["a", "b"]), "numbers only"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], n=10), "n must be an int >= 100"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], statistic="mean"), "function of one array"),
    (lambda: stats.bootstrap_ci([1.0, 2.0], seed=-1), "seed"),
    (lambda: stats.mcnemar([True, False], [True]), "same length"),
    (lambda: stats.mcnemar([0.5, 1.0], [1, 0]), "True/False"),
    (lambda: stats.permutation_p([1, 2, 3, 4], [1, 2, 3]), "same length"),
    (lambda: stats.permutation_p([1, 1, 1], [1, 2, 3]), "constant"),
    (lambda: stats.permutation_p([1, 2], [1, 2]), "at least 3"),
])
def test_bad_input_raises_a_value_error_that_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()

import numpy as np

from dcgan_inversion.inversion import metrics


def test_random_baseline_matches_the_paper():
    assert abs(metrics.random_baseline(1000, 100, seed=0) - 0.0816) < 0.001


def test_pairwise_distance_is_not_squared():
    z = np.zeros((2, 100))
    z[1, 0] = 3.0
    assert np.isclose(metrics.mean_pairwise_distance(z), 3.0 / 100)
    assert metrics.mean_pairwise_distance(np.ones((5, 100))) == 0.0


def test_success_rate_and_steps_summary():
    assert metrics.success_rate(np.array([1e-5, 1e-3, 1e-1, 1.0]), 1e-2) == 0.5
    summary = metrics.steps_summary(np.array([10, 20, -1, 30]))
    assert summary["reached"] == 3 and summary["p50"] == 20
    assert metrics.steps_summary(np.array([-1, -1])) == {"reached": 0}


def test_rates_differ_only_beyond_the_samples_noise():
    assert not metrics.rates_differ(1.0, 1.0, 1000)
    assert not metrics.rates_differ(0.99, 0.985, 1000)   # 5 rows of 1,000: within two standard errors
    assert metrics.rates_differ(0.99, 0.95, 1000)
    assert not metrics.rates_differ(1.0, 15 / 16, 16)    # one row of 16
    assert metrics.rates_differ(1.0, 0.5, 16)

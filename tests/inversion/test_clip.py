import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.inversion.clip import clip_latents, keyed_redraws, mode_ids, stochastic_clip


def _draws(shape, seed=0):
    return tf.random.Generator.from_seed(seed).uniform(shape, -1.0, 1.0)


def _z():
    return tf.constant(np.random.default_rng(0).uniform(-1.6, 1.6, (64, 100)), tf.float32)


def test_stochastic_clip_redraws_only_out_of_range_entries():
    z = _z()
    clipped = stochastic_clip(z, _draws(z.shape, 1)).numpy()
    inside = (np.abs(z.numpy()) < 1.0)
    np.testing.assert_array_equal(clipped[inside], z.numpy()[inside])
    assert np.all(np.abs(clipped) <= 1.0)
    assert not np.any(np.isin(clipped[~inside], z.numpy()[~inside]))


def test_bounds_themselves_are_redrawn():
    z = tf.constant([[1.0, -1.0, 0.5]])
    clipped = stochastic_clip(z, _draws(z.shape)).numpy()
    assert clipped[0, 2] == 0.5 and abs(clipped[0, 0]) < 1 and abs(clipped[0, 1]) < 1
    assert clipped[0, 0] != 1.0 and clipped[0, 1] != -1.0


def test_keyed_redraws_are_uniform_and_keyed_by_seed_and_step():
    draws = keyed_redraws(3, 7, 200, 100, np.arange(200)).numpy()
    counts, _ = np.histogram(draws.ravel(), bins=10, range=(-1, 1))
    assert counts.min() > 0.8 * draws.size / 10 and counts.max() < 1.2 * draws.size / 10
    np.testing.assert_array_equal(draws, keyed_redraws(3, 7, 200, 100, np.arange(200)).numpy())
    assert not np.any(draws == keyed_redraws(3, 8, 200, 100, np.arange(200)).numpy())


def test_keyed_redraws_of_some_rows_are_those_rows_of_the_whole():
    whole = keyed_redraws(1, 2, 10, 100, np.arange(10)).numpy()
    np.testing.assert_array_equal(keyed_redraws(1, 2, 10, 100, np.arange(4, 7)).numpy(), whole[4:7])
    np.testing.assert_array_equal(keyed_redraws(1, 2, 10, 100, [9, 0, 5]).numpy(), whole[[9, 0, 5]])


def test_modes_apply_per_row():
    row = np.array([1.5, -0.2, -3.0], np.float32)
    out = clip_latents(tf.constant([row] * 3), mode_ids(["none", "standard", "stochastic"]),
                       _draws((3, 3))).numpy()
    np.testing.assert_array_equal(out[0], row)
    np.testing.assert_array_equal(out[1], np.array([1.0, -0.2, -1.0], np.float32))
    assert out[2, 1] == row[1] and np.all(np.abs(out[2]) < 1.0)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="wild"):
        mode_ids(["wild"])

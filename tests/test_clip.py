import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.clip import clip_latents, mode_ids, stochastic_clip


def _z():
    return tf.constant(np.random.default_rng(0).uniform(-1.6, 1.6, (64, 100)), tf.float32)


def test_stochastic_clip_redraws_only_out_of_range_entries():
    z = _z()
    clipped = stochastic_clip(z, tf.random.Generator.from_seed(1)).numpy()
    inside = (np.abs(z.numpy()) < 1.0)
    np.testing.assert_array_equal(clipped[inside], z.numpy()[inside])
    assert np.all(np.abs(clipped) <= 1.0)
    assert not np.any(np.isin(clipped[~inside], z.numpy()[~inside]))


def test_bounds_themselves_are_redrawn():
    z = tf.constant([[1.0, -1.0, 0.5]])
    clipped = stochastic_clip(z, tf.random.Generator.from_seed(0)).numpy()
    assert clipped[0, 2] == 0.5 and abs(clipped[0, 0]) < 1 and abs(clipped[0, 1]) < 1
    assert clipped[0, 0] != 1.0 and clipped[0, 1] != -1.0


def test_redraws_are_uniform_and_seeded():
    z = tf.fill((200, 100), 5.0)
    draws = stochastic_clip(z, tf.random.Generator.from_seed(3)).numpy().ravel()
    counts, _ = np.histogram(draws, bins=10, range=(-1, 1))
    assert counts.min() > 0.8 * len(draws) / 10 and counts.max() < 1.2 * len(draws) / 10
    again = stochastic_clip(z, tf.random.Generator.from_seed(3)).numpy().ravel()
    np.testing.assert_array_equal(draws, again)


def test_modes_apply_per_row():
    row = np.array([1.5, -0.2, -3.0], np.float32)
    out = clip_latents(tf.constant([row] * 3), mode_ids(["none", "standard", "stochastic"]),
                       tf.random.Generator.from_seed(0)).numpy()
    np.testing.assert_array_equal(out[0], row)
    np.testing.assert_array_equal(out[1], np.array([1.0, -0.2, -1.0], np.float32))
    assert out[2, 1] == row[1] and np.all(np.abs(out[2]) < 1.0)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="wild"):
        mode_ids(["wild"])

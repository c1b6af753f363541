"""shards.py: a batch's rows in shards; rows retire as they are, and a compaction carries the rest's
exact state, so the rows that go on step as if nothing had happened."""
import numpy as np

from dcgan_inversion.config import InvertConfig
from dcgan_inversion.inversion import ShardedInversion

CONFIG = InvertConfig(learning_rate=0.05, steps=30)
MODES = ["none", "standard", "stochastic"] * 2 + ["stochastic", "none"]


def _sharded(generator, problem) -> ShardedInversion:
    z_true, targets, z_start = problem
    return ShardedInversion(generator, CONFIG, targets, z_start, MODES, z_true, seed=7)


def test_retired_rows_keep_their_state_and_the_rest_step_on_exactly(tiny_generator, tiny_problem):
    straight = _sharded(tiny_generator, tiny_problem)
    straight.run_steps(10)
    at_retirement = straight.z().copy()
    straight.run_steps(20)
    compacted = _sharded(tiny_generator, tiny_problem)
    compacted.run_steps(10)
    leaving = np.zeros(8, bool)
    leaving[[1, 4, 6]] = True
    compacted.retire(leaving, 10)
    assert compacted.idle_share() == 3 / 8
    compacted.compact()
    assert compacted.idle_share() == 0 and len(compacted.present) == 5
    compacted.run_steps(20)
    z = compacted.z()
    np.testing.assert_array_equal(z[leaving], at_retirement[leaving])  # as they were when they left
    np.testing.assert_allclose(z[~leaving], straight.z()[~leaving], atol=1e-6)  # stochastic draws keyed per row
    np.testing.assert_array_equal(compacted.retired_at, np.where(leaving, 10, -1))


def test_a_layout_rebuilds_the_shards_a_checkpoint_was_written_from(tiny_generator, tiny_problem):
    written = _sharded(tiny_generator, tiny_problem)
    written.run_steps(5)
    written.retire(np.arange(8) < 2, 5)
    written.compact()
    fresh = _sharded(tiny_generator, tiny_problem)
    fresh.restore_layout(written.layout())
    np.testing.assert_array_equal(fresh.present, written.present)
    np.testing.assert_array_equal(fresh.z()[:2], written.z()[:2])
    assert set(fresh.state()) == set(written.state())


def test_pixel_error_and_images_cover_every_row_in_order(tiny_generator, tiny_problem):
    z_true, targets, _ = tiny_problem
    exact = ShardedInversion(tiny_generator, CONFIG, targets, z_true, ["none"] * 8, z_true)
    assert np.all(exact.pixel_error(chunk=3) < 1e-12)  # G(z_true) is the target, chunk by chunk
    np.testing.assert_allclose(exact.images([5, 2]), targets[[5, 2]], atol=1e-6)

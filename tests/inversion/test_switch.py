"""Per-row switch to the polish: rows leave the first-order phase when their loss stalls."""
import numpy as np
import pytest

from dcgan_inversion.config import InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.inversion import ShardedInversion

from conftest import run_invert

FIRST_ORDER = InvertConfig(learning_rate=0.05, steps=200, steps_per_call=20, checkpoint_every=40, early_stop=False)
POLISH = PolishConfig(method="levenberg_marquardt", iterations=2)
SWITCH = SearchConfig(switch="stalled", stall_window=10, stall_improvement=0.05)


@pytest.fixture(scope="module")
def far_problem(tiny_generator):
    """Twelve rows of all three modes from random starts, so they stall at different steps."""
    rng = np.random.default_rng(0)
    z_true = rng.uniform(-0.9, 0.9, (12, 100)).astype(np.float32)
    z_init = rng.uniform(-1, 1, z_true.shape).astype(np.float32)
    return tiny_generator(z_true, training=False).numpy(), z_init, ["stochastic", "none", "standard"] * 4, z_true


def test_rows_switch_at_their_own_step_with_their_exact_state(tiny_generator, far_problem):
    """A row hands the polish the z' a plain first-order run has at that row's switch step, so
    retiring rows and compacting the batch change nothing for the rows that go on."""
    switched = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH)
    steps = switched.switch_step
    assert len(set(steps)) >= 3 and steps.min() < switched.steps  # rows left at different steps
    for step in sorted(set(steps)):
        plain = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, steps=int(step))
        rows = steps == step
        np.testing.assert_allclose(switched.z_before_polish[rows], plain.z[rows], atol=2e-5)
        np.testing.assert_array_equal(switched.first_step[rows] <= step, True)


def test_retired_rows_stop_costing_steps(tiny_generator, far_problem, monkeypatch):
    sizes = []
    run_steps = ShardedInversion.run_steps
    monkeypatch.setattr(ShardedInversion, "run_steps", lambda self, count: (sizes.append(len(self.present)),
                                                                            run_steps(self, count)))
    result = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH)
    assert sizes[0] == 12 and sizes[-1] < 12 and sizes == sorted(sizes, reverse=True)  # the batch shrank
    assert result.switch_step.mean() <= result.first_order_equivalents < result.steps
    assert result.step_equivalents > result.first_order_equivalents  # the polish ran, at its cost


def test_after_steps_switch_runs_every_row_to_the_end(tiny_generator, far_problem):
    fixed = PolishConfig(method="levenberg_marquardt", iterations=1)
    result = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=fixed, steps=60)
    np.testing.assert_array_equal(result.switch_step, 60)
    assert result.first_order_equivalents == 60


def test_switching_run_resumes_exactly_after_a_compaction(tiny_generator, far_problem, tmp_path, monkeypatch):
    straight = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH)
    calls = []
    run_steps = ShardedInversion.run_steps

    def interrupted(self, count):
        if len(self.present) < 12 and sum(calls) >= 80:  # compacted, and past a checkpoint that has it
            raise KeyboardInterrupt
        calls.append(count)
        run_steps(self, count)

    monkeypatch.setattr(ShardedInversion, "run_steps", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH, checkpoint_dir=tmp_path)
    monkeypatch.undo()
    resumed = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH, checkpoint_dir=tmp_path)
    np.testing.assert_array_equal(resumed.switch_step, straight.switch_step)
    np.testing.assert_array_equal(resumed.z_before_polish, straight.z_before_polish)
    np.testing.assert_array_equal(resumed.history_z_error, straight.history_z_error)
    assert resumed.row_steps == straight.row_steps


def test_no_row_switches_before_the_minimum_steps(tiny_generator, far_problem):
    from dataclasses import replace

    early = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1, polish=POLISH, search=SWITCH).switch_step
    later = run_invert(tiny_generator, FIRST_ORDER, *far_problem, seed=1,
                       polish=POLISH, search=replace(SWITCH, stall_min_steps=95)).switch_step
    assert early.min() < 100 and later.min() >= 100  # the first check after 95 steps is at step 100

"""The start screen: each row goes on from the best of K candidates after a few steps, every candidate paid."""
from dataclasses import replace

import numpy as np
import pytest

from dcgan_inversion.config import InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.gan.latents import UNIFORM
from dcgan_inversion.inversion import InversionProblem, InversionSettings, invert
from dcgan_inversion.inversion import driver
from dcgan_inversion.inversion.driver import screened_starts
from dcgan_inversion.inversion.screening import candidate_problem, nearest_draws, screen_settings

STEPS = InvertConfig(learning_rate=0.05, steps=20, steps_per_call=10, early_stop=False)
POLISH = PolishConfig(method="levenberg_marquardt", iterations=1)
SEARCH = SearchConfig(screen_starts=4, screen_steps=10)


@pytest.fixture(scope="module")
def rows(tiny_generator):
    rng = np.random.default_rng(4)
    z_true = rng.uniform(-0.9, 0.9, (6, 100)).astype(np.float32)
    targets = tiny_generator(z_true, training=False).numpy()
    return InversionProblem(targets, UNIFORM.sample(rng, z_true.shape), ["none", "standard", "stochastic"] * 2,
                            z_true, seed=5, generated=True)


def _settings(search=SEARCH, **settings):
    return InversionSettings(invert=STEPS, polish=POLISH, search=search, **settings)


def test_candidates_are_the_rows_own_start_then_draws_of_the_prior(rows):
    candidates, bank_steps = candidate_problem(None, rows, _settings())
    assert bank_steps == 0 and candidates.rows == 4 * rows.rows
    np.testing.assert_array_equal(candidates.starts[::4], rows.starts)
    np.testing.assert_array_equal(candidates.targets[4:8], np.repeat(rows.targets[1:2], 4, axis=0))
    assert candidates.modes[:8] == ("none",) * 4 + ("standard",) * 4
    drawn = np.delete(candidates.starts, np.s_[::4], axis=0)
    assert np.all(np.abs(drawn) <= 1) and not np.any(np.isin(drawn, rows.starts))
    again, _ = candidate_problem(None, rows, _settings())  # the draws are keyed by the problem's seed
    np.testing.assert_array_equal(again.starts, candidates.starts)


def test_each_row_goes_on_from_its_candidate_with_the_lowest_loss(tiny_generator, rows):
    settings = _settings()
    screened = screened_starts(tiny_generator, rows, settings, None)
    alone = invert(tiny_generator, candidate_problem(tiny_generator, rows, settings)[0], screen_settings(settings))
    losses = alone.pixel_error.reshape(rows.rows, 4)
    best = np.argmin(losses, axis=1)
    np.testing.assert_allclose(screened.starts, alone.z.reshape(rows.rows, 4, -1)[np.arange(rows.rows), best])
    assert screened.row_steps == rows.rows * 4 * SEARCH.screen_steps
    assert np.any(best > 0)  # the screen changed some row's start: the test can tell it ran


def test_the_screen_is_paid_in_the_rows_cost_and_one_candidate_is_no_screen(tiny_generator, rows):
    plain = invert(tiny_generator, rows, _settings(replace(SEARCH, screen_starts=1)))
    assert plain.screen_row_steps == 0
    unscreened = invert(tiny_generator, rows, _settings(replace(SEARCH, screen_starts=1, screen_steps=99)))
    np.testing.assert_array_equal(unscreened.z, plain.z)
    screened = invert(tiny_generator, rows, _settings())
    assert screened.screen_row_steps == rows.rows * 4 * SEARCH.screen_steps
    assert screened.counted_step_equivalents == pytest.approx(
        screened.first_order_equivalents + (screened.screen_row_steps + screened.polish_row_steps) / rows.rows)
    assert not np.array_equal(screened.z, plain.z)


def test_restarts_screen_their_new_starts_and_pay_for_it(tiny_generator, rows):
    once = invert(tiny_generator, rows, _settings(replace(SEARCH, restarts=0)))
    restarted = invert(tiny_generator, rows, _settings(replace(SEARCH, restarts=1)))
    np.testing.assert_array_equal(restarted.restarts, 1)  # 20 steps recover nothing: every row is stuck
    screen_cost = rows.rows * 4 * SEARCH.screen_steps
    first_order_and_polish = once.row_steps + once.polish_row_steps
    assert restarted.restart_row_steps == pytest.approx(screen_cost + first_order_and_polish, rel=0.05)


def test_no_screen_where_snapshots_show_the_trajectory_from_the_drawn_start(tiny_generator, rows):
    settings = _settings(snapshot_steps=(0, 10))
    assert not settings.screening
    assert invert(tiny_generator, rows, settings).screen_row_steps == 0


def test_a_resumed_run_goes_on_from_the_screen_it_saved(tiny_generator, rows, tmp_path):
    first = invert(tiny_generator, rows, _settings(checkpoint_dir=tmp_path))
    saved = tmp_path / "batch0" / "screen.npz"
    assert saved.exists()
    resumed = invert(tiny_generator, rows, _settings(checkpoint_dir=tmp_path))
    np.testing.assert_allclose(resumed.z, first.z, atol=1e-6)
    assert resumed.screen_row_steps == first.screen_row_steps
    with np.load(saved) as kept:
        moved = dict(kept)
    moved["starts"] = moved["starts"] + 0.05  # read back, not screened again: the run follows the file
    np.savez(saved, **moved)
    (tmp_path / "batch0" / "finished.npz").unlink()  # else the finished batch is kept whole
    followed = invert(tiny_generator, rows, _settings(checkpoint_dir=tmp_path))
    assert not np.allclose(followed.z, first.z, atol=1e-6)


def _pixel_mse(generator, z, targets):
    return np.mean(np.square(generator(z, training=False).numpy() - targets).reshape(len(z), -1), axis=1)


def test_a_bank_gives_each_row_its_nearest_draws_nearest_first_and_is_paid(tiny_generator, rows):
    settings = _settings(replace(SEARCH, screen_bank=64, screen_starts=3))
    nearest, cost = nearest_draws(tiny_generator, rows, settings)
    assert nearest.shape == (rows.rows, 3, 100) and cost == rows.rows * 64 / 2  # a forward pass: half a step
    distances = np.stack([_pixel_mse(tiny_generator, nearest[:, k], rows.targets) for k in range(3)], axis=1)
    assert np.all(np.diff(distances, axis=1) >= -1e-6)
    drawn = UNIFORM.sample(np.random.default_rng(9), (rows.rows * 64, 100)).astype(np.float32)
    others = np.stack([_pixel_mse(tiny_generator, drawn[i::rows.rows], np.repeat(rows.targets[i:i + 1], 64, axis=0))
                       for i in range(rows.rows)])
    assert np.mean(distances[:, 0] <= np.median(others, axis=1)) == 1  # nearer than a typical draw, every row
    again, _ = nearest_draws(tiny_generator, rows, settings)
    np.testing.assert_array_equal(again, nearest)  # keyed by the problem's seed


def test_with_a_bank_and_one_candidate_a_row_starts_at_its_nearest_draw_without_steps(tiny_generator, rows,
                                                                                    monkeypatch):
    settings = _settings(replace(SEARCH, screen_bank=32, screen_starts=1))
    assert settings.screening
    with monkeypatch.context() as patched:
        patched.setattr(driver, "invert", lambda *args: pytest.fail("no screen steps with one candidate"))
        screened = screened_starts(tiny_generator, rows, settings, None)
    np.testing.assert_array_equal(screened.starts, nearest_draws(tiny_generator, rows, settings)[0][:, 0])
    assert screened.row_steps == rows.rows * 32 / 2
    result = invert(tiny_generator, rows, settings)
    assert result.screen_row_steps == rows.rows * 32 / 2


def test_a_bank_smaller_than_the_candidates_still_gives_every_row_its_candidates(tiny_generator, rows):
    one_row = rows.part(slice(0, 1), seed=1)
    nearest, cost = nearest_draws(tiny_generator, one_row, _settings(replace(SEARCH, screen_bank=1, screen_starts=4)))
    assert nearest.shape == (1, 4, 100) and cost == 4 / 2


@pytest.mark.parametrize("changed", [{"screen_starts": 2}, {"screen_steps": 5}, {"screen_bank": 8}])
def test_a_kept_screen_is_reused_only_by_the_settings_that_made_it(tiny_generator, rows, tmp_path, changed,
                                                                  monkeypatch):
    """An interrupted run resumed with another screen setting screens again; the same settings reuse it."""
    calls = []

    def counted(generator, problem, settings):
        calls.append(problem.rows)
        return invert(generator, problem, settings)

    monkeypatch.setattr(driver, "invert", counted)  # the screen's own short run
    first = screened_starts(tiny_generator, rows, _settings(), tmp_path)
    again = screened_starts(tiny_generator, rows, _settings(), tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(again.starts, first.starts)
    other = screened_starts(tiny_generator, rows, _settings(replace(SEARCH, **changed)), tmp_path)
    assert len(calls) == 2 and other.starts.shape == first.starts.shape
    moved = replace(rows, seed=rows.seed + 1)  # another problem (its seed) in the same folder screens again
    screened_starts(tiny_generator, moved, _settings(replace(SEARCH, **changed)), tmp_path)
    assert len(calls) == 3

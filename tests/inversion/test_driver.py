"""inversion/driver.py: how rows become batches, and the stages of one batch in the method's order."""
import numpy as np

from dcgan_inversion.config import InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.inversion import InversionProblem, InversionSettings, driver


def _problem(rows, classes=None, group_rows=None):
    return InversionProblem(np.zeros((rows, 4, 4, 3), np.float32), np.zeros((rows, 2), np.float32), ["none"] * rows,
                            group_rows=group_rows, classes=classes)


def test_rows_are_cut_into_batches_of_at_most_max_rows():
    assert driver._batches(_problem(7), 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]


def test_a_conditional_problem_cuts_a_batch_wherever_the_class_changes_and_at_each_group():
    classes = np.array([0, 0, 1, 1, 1, 0, 0, 0])
    assert driver._batches(_problem(8, classes), 2) == [slice(0, 2), slice(2, 4), slice(4, 5), slice(5, 7),
                                                         slice(7, 8)]
    assert driver._batches(_problem(8, classes, group_rows=4), 8) == [slice(0, 2), slice(2, 4), slice(4, 5),
                                                                       slice(5, 8)]


def test_a_batch_runs_screen_first_order_polish_then_restarts_in_that_order(tiny_generator, tiny_problem, monkeypatch):
    z_true, targets, starts = tiny_problem
    order = []
    for name in ("screened_starts", "polish", "_restart_stuck_rows"):
        original = getattr(driver, name)

        def recorded(*args, _name=name, _original=original):
            order.append(_name)
            return _original(*args)

        monkeypatch.setattr(driver, name, recorded)
    original_run = driver.FirstOrderPhase.run

    def first_order(self):
        order.append("first_order")
        return original_run(self)

    monkeypatch.setattr(driver.FirstOrderPhase, "run", first_order)
    polish = PolishConfig(method="levenberg_marquardt", iterations=2)
    search = SearchConfig(screen_starts=2, screen_steps=2, restarts=1, restart_above=1e-30)
    settings = InversionSettings(invert=InvertConfig(steps=4, steps_per_call=2, learning_rate=0.05), polish=polish,
                                 search=search)
    problem = InversionProblem(targets[:2], starts[:2], ["none", "stochastic"], z_true[:2], generated=True)
    result = driver.invert(tiny_generator, problem, settings)
    # the screen's own short inversion is one first-order phase, and so is each restart's attempt
    assert order == ["screened_starts", "first_order", "first_order", "polish", "_restart_stuck_rows",
                     "screened_starts", "first_order", "first_order", "polish"]
    assert result.restarts.tolist() == [1, 1]

"""inversion/progress.py: a titled bar with the tracked error, or silence."""
import numpy as np

from dcgan_inversion.inversion.progress import progress_bar, progress_values


def test_progress_bar_prints_its_title_and_silence_is_none(capsys):
    assert progress_bar(None, 10, True) is None
    bar = progress_bar("table1: recovering", 10, True)
    bar.update(10, progress_values(np.array([1e-5, 1e-3, 2e-5])), finalize=True)
    out = capsys.readouterr().out
    assert out.startswith("table1: recovering\n") and "median z err" in out and "below 1e-4" in out


def test_progress_values_are_the_median_and_the_share_below_1e_4():
    assert progress_values(np.array([1e-5, 1e-3, 2e-5])) == [("median z err", 2e-5), ("below 1e-4", 2 / 3)]

"""runlock.py: one writer per run or results folder, readers side by side, released on exit."""
import pytest

from dcgan_inversion.infra.runlock import LOCK_NAME, RunInUse, locked


def test_an_exclusive_lock_refuses_every_other_holder(tmp_path):
    with locked(tmp_path, "dcgan-train"):
        with pytest.raises(RunInUse, match=r"is in use by dcgan-train \(pid \d+\)"):
            with locked(tmp_path, "dcgan-train"):
                pass
        with pytest.raises(RunInUse):
            with locked(tmp_path, "dcgan-invert", exclusive=False):
                pass
    with locked(tmp_path, "dcgan-train"):  # released on exit
        pass


def test_shared_holders_run_side_by_side_but_keep_a_writer_out(tmp_path):
    with locked(tmp_path, "dcgan-invert", exclusive=False), locked(tmp_path, "dcgan-invert", exclusive=False):
        with pytest.raises(RunInUse, match="in use by dcgan-invert"):
            with locked(tmp_path, "dcgan-train"):
                pass
    assert (tmp_path / LOCK_NAME).exists()

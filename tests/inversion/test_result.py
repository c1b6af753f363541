"""inversion/result.py: the Table 1 metric and batches joined in order."""
from dataclasses import replace

import numpy as np

from dcgan_inversion.inversion import InversionResult, latent_error
from dcgan_inversion.inversion.result import concatenate


def _result(rows, steps, history_length, offset=0.0):
    z = np.full((rows, 2), offset)
    return InversionResult(
        z=z, pixel_error=np.full(rows, offset), z_error=np.full(rows, offset), first_step=np.full((rows, 1), steps),
        thresholds=(1e-4,), steps=steps, seconds=1.0, first_order_seconds=1.0, seconds_per_step=0.5,
        row_steps=rows * steps, switch_step=np.full(rows, steps),
        history_steps=np.arange(1, history_length + 1), history_equivalents=np.arange(1, history_length + 1.0),
        history_z_error=np.full((history_length, rows), offset), snapshots={0: np.zeros((rows, 1)), steps: z})


def test_latent_error_is_the_mean_squared_component_error():
    assert latent_error(np.array([[0.0, 0.0]]), np.array([[0.1, -0.3]]))[0] == np.float64(0.05)


def test_batches_join_in_order_and_shorter_histories_are_padded():
    joined = concatenate([_result(2, 4, 3, 1.0), _result(3, 2, 1, 2.0)])
    assert joined.z.shape == (5, 2) and list(joined.z[:, 0]) == [1, 1, 2, 2, 2]
    assert joined.steps == 4 and joined.seconds == 2.0 and joined.row_steps == 2 * 4 + 3 * 2
    assert joined.history_z_error.shape == (3, 5)
    np.testing.assert_array_equal(joined.history_z_error[:, 2:], 2.0)  # the short batch keeps its last value
    assert sorted(joined.snapshots) == [0]  # only steps every batch has
    assert joined.first_order_equivalents == (2 * 4 + 3 * 2) / 5


def test_a_result_written_to_an_npz_file_reads_back_whole(tmp_path):
    from dataclasses import fields

    result = replace(_result(2, 4, 3, 1.0), restarts=np.array([0, 2]), polish_row_steps=12.5)
    np.savez(tmp_path / "result.npz", **result.to_arrays())
    with np.load(tmp_path / "result.npz") as saved:
        read = InversionResult.from_arrays(saved)
    for item in fields(InversionResult):
        mine, theirs = getattr(result, item.name), getattr(read, item.name)
        if item.name == "snapshots":
            assert sorted(mine) == sorted(theirs) and all(np.array_equal(mine[k], theirs[k]) for k in mine)
        elif mine is None:
            assert theirs is None, item.name
        else:
            np.testing.assert_array_equal(np.asarray(theirs), np.asarray(mine), err_msg=item.name)
    assert read.thresholds == (1e-4,) and isinstance(read.steps, int) and isinstance(read.seconds, float)


def test_every_field_says_how_batches_join_it():
    """A new field is one line: its `_part` names how concatenate joins it (and whether a restart replaces it)."""
    from dataclasses import fields

    from dcgan_inversion.inversion.result import _JOINS, InversionResult

    assert all(item.metadata.get("join") in _JOINS for item in fields(InversionResult))

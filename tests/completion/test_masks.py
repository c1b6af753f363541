"""Amos's masks and the user's mask images: what they hide, and one line for each bad mask file."""
import numpy as np
import pytest
from PIL import Image

from dcgan_inversion.completion.masks import centre_square, make_mask, mask_from_argument, read_mask
from dcgan_inversion.config import CompletionConfig
from dcgan_inversion.infra.errors import UserError

SETTINGS = CompletionConfig()


@pytest.mark.parametrize("kind, hidden", [("center", 0.25), ("left", 0.5), ("grid", 15 / 16), ("lowres", 1.0),
                                          ("full", 0.0)])
def test_each_mask_hides_what_amos_hides(kind, hidden):
    mask = make_mask(kind, 64, SETTINGS)
    assert mask.known.shape == (64, 64, 1)
    assert mask.hidden_fraction == pytest.approx(hidden)
    assert (mask.lowres_factor == 8) == (kind == "lowres")


def test_center_hides_the_middle_half_of_each_side_and_grid_keeps_every_fourth_pixel():
    center = make_mask("center", 64, SETTINGS).known[..., 0]
    assert center[16:48, 16:48].max() == 0 and center[:16].min() == 1 and center[48:].min() == 1
    grid = make_mask("grid", 64, SETTINGS).known[..., 0]
    assert grid[::4, ::4].min() == 1 and grid.sum() == 16 * 16


def test_random_hides_about_a_fifth_the_same_way_for_a_seed():
    first, again, other = (make_mask("random", 64, SETTINGS, seed) for seed in (0, 0, 1))
    assert abs(first.hidden_fraction - 0.2) < 0.03
    np.testing.assert_array_equal(first.known, again.known)
    assert (first.known != other.known).any()


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_centre_squares_hide_about_the_fraction_asked(fraction):
    assert abs(centre_square(fraction, 64).hidden_fraction - fraction) < 0.03


def test_a_mask_image_white_is_known(tmp_path):
    pixels = np.full((16, 16), 255, np.uint8)
    pixels[4:8, 4:8] = 0
    Image.fromarray(pixels).save(tmp_path / "hole.png")
    mask = mask_from_argument(str(tmp_path / "hole.png"), 16, SETTINGS)
    assert mask.name == "hole" and mask.known[..., 0].sum() == 256 - 16 and mask.known[5, 5, 0] == 0


def test_bad_mask_files_are_one_line_naming_the_file(tmp_path):
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "black.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    for name, expected in [("big.png", "is 32x32: the model's images are 16x16"), ("black.png", "is all black"),
                           ("broken.png", "cannot read mask"), ("missing.png", "mask not found")]:
        with pytest.raises(UserError) as caught:
            read_mask(tmp_path / name, 16)
        assert expected in str(caught.value) and name in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(UserError, match="unknown mask 'middle'"):
        mask_from_argument("middle", 16, SETTINGS)

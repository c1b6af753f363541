import numpy as np
import pytest
from PIL import Image

from dcgan_inversion import config as config_lib
from dcgan_inversion.data.pipeline import demo_faces, heldout_images, training_data
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.data.images import list_images, load_image

from conftest import tiny_config


def _make_folder(root):
    """Every kind of file a CelebA-like folder may hold, readable or not."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
    nested = root / "part1"
    nested.mkdir(parents=True)
    Image.fromarray(rgb).save(root / "a_rgb.jpg")
    Image.fromarray(rgb[..., 0]).save(nested / "b_gray.png")
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(root / "c_rgba.png")
    Image.fromarray(rgb).convert("P").save(root / "d_palette.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(root / "e_16bit.png")
    Image.fromarray(rgb).convert("CMYK").save(root / "f_cmyk.jpg")
    Image.fromarray(rgb[:40, :30]).save(root / "g_small.jpeg")
    (root / "h_corrupt.jpg").write_bytes((root / "a_rgb.jpg").read_bytes()[:200])
    (root / "i_not_an_image.png").write_text("hello")
    (root / "notes.txt").write_text("ignored: not an image extension")
    return 7, 2  # readable, unreadable


def _celeba(tmp_path, **data):
    return tiny_config(data={"source": "celeba", "path": str(tmp_path), "holdout": 0, "crop_size": 108, **data},
                       train={"batch_size": 1})


def test_folder_listing_is_recursive_and_sorted(tmp_path):
    _make_folder(tmp_path)
    files = list_images(tmp_path)
    names = [p.name for p in files]
    assert files == sorted(files) and "b_gray.png" in names
    assert "notes.txt" not in names and len(names) == 9


def test_every_mode_becomes_rgb_in_range(tmp_path):
    _make_folder(tmp_path)
    for name in ["a_rgb.jpg", "c_rgba.png", "d_palette.png", "e_16bit.png", "f_cmyk.jpg", "g_small.jpeg"]:
        image = load_image(tmp_path / name, 16, 108)
        assert image.shape == (16, 16, 3) and image.dtype == np.uint8, name
    gray = load_image(tmp_path / "part1" / "b_gray.png", 16, 108)
    assert np.array_equal(gray[..., 0], gray[..., 2])


def test_pipeline_skips_and_counts_unreadable_files(tmp_path, capsys):
    readable, unreadable = _make_folder(tmp_path)
    data = training_data(_celeba(tmp_path))
    assert data.num_images == readable + unreadable
    batches = list(data.dataset.take(2 * readable).as_numpy_iterator())
    assert all(b.shape == (1, 16, 16, 3) and b.min() >= -1 and b.max() <= 1 for b in batches)
    assert data.skipped.count == unreadable
    assert capsys.readouterr().err.count("skipping unreadable image") == 1


def test_missing_or_empty_folder_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        training_data(_celeba(tmp_path / "nope"))
    with pytest.raises(UserError, match="no .jpg/.jpeg/.png images"):
        training_data(_celeba(tmp_path))


def test_holdout_keeps_the_last_files_out(tmp_path):
    _make_folder(tmp_path)
    data = training_data(_celeba(tmp_path, holdout=2))
    assert data.num_images == 7
    held_out = heldout_images(_celeba(tmp_path, holdout=3))  # g_small plus two unreadable files
    assert held_out.shape == (1, 16, 16, 3)
    with pytest.raises(UserError, match="leaves no training images"):
        training_data(_celeba(tmp_path, holdout=9))


def test_demo_faces_are_offline_real_faces():
    faces = demo_faces(32)
    assert faces.shape == (100, 32, 32, 3) and faces.dtype == np.float32
    assert -1.0 <= faces.min() and faces.max() <= 1.0 and faces.std() > 0.2


def test_demo_pipeline_batches_and_holds_out():
    config = tiny_config()
    data = training_data(config)
    assert data.num_images == 96
    batch = next(iter(data.dataset))
    assert batch.shape == (8, 16, 16, 3)
    assert heldout_images(config).shape == (4, 16, 16, 3)


def test_single_channel_models_get_grayscale_everywhere(tmp_path):
    _make_folder(tmp_path)
    config = config_lib.replace(_celeba(tmp_path, holdout=3), model={"channels": 1})
    batch = next(iter(training_data(config).dataset))
    assert batch.shape == (1, 16, 16, 1)
    assert heldout_images(config).shape == (1, 16, 16, 1)
    assert training_data(config_lib.replace(tiny_config(), model={"channels": 1})).dataset.element_spec.shape[-1] == 1

"""Native decoding (decode.py) and the decoded-image cache (cache.py) on CelebA-shaped folders."""
import json

import numpy as np
import tensorflow as tf

from dcgan_inversion.data.cache import decoded_images
from dcgan_inversion.data.celeba_like import make_folder
from dcgan_inversion.data.pipeline import training_data
from dcgan_inversion.data.decode import decode_image
from dcgan_inversion.data.images import list_images, load_image

from test_data import _celeba, _make_folder


def test_native_decode_gives_pillows_pixels_on_real_photos(tmp_path):
    """Within one level of 255 (rounding inside the bilinear filters); the mean is ~0.15 of a level."""
    differences = []
    for path in make_folder(tmp_path, 10):
        pillow = load_image(path, 64, 108).astype(np.int16)
        native = decode_image(tf.constant(str(path)), 64, 108).numpy().astype(np.int16)
        differences.append(np.abs(pillow - native))
    assert max(d.max() for d in differences) <= 1 and np.mean(differences) < 0.3


def test_a_cache_folder_is_built_once_reused_and_rebuilt_for_another_folder(tmp_path):
    files = make_folder(tmp_path / "faces", 6)
    cache = tmp_path / "cache"
    first = decoded_images(files, 16, 108, str(cache), verbose=False)
    assert first.source.endswith(".npy") and len(list(cache.glob("*.npy"))) == 1
    again = decoded_images(files, 16, 108, str(cache), verbose=False)
    assert again.source == first.source
    np.testing.assert_array_equal(np.asarray(again.images), np.asarray(first.images))
    make_folder(tmp_path / "faces", 7)  # one more file (and the others rewritten): another key
    changed = decoded_images(list_images(tmp_path / "faces"), 16, 108, str(cache), verbose=False)
    assert changed.source != first.source and len(changed.images) == 7
    other_size = decoded_images(files, 32, 108, str(cache), verbose=False)
    assert other_size.images.shape == (6, 32, 32, 3) and len(list(cache.glob("*.npy"))) == 3


def test_a_half_written_cache_is_never_used(tmp_path):
    files = make_folder(tmp_path / "faces", 4)
    cache = tmp_path / "cache"
    built = decoded_images(files, 16, 108, str(cache), verbose=False)
    array = cache / built.source.split("/")[-1]
    truncated = array.read_bytes()[:200]
    array.unlink()  # killed after the manifest, before the array's rename: only a temporary was there
    (cache / f".{array.stem}.partial.npy").write_bytes(truncated)
    rebuilt = decoded_images(files, 16, 108, str(cache), verbose=False)
    np.testing.assert_array_equal(np.asarray(rebuilt.images), np.asarray(built.images))


def test_the_cached_pipeline_skips_and_reports_unreadable_files(tmp_path, capsys):
    _make_folder(tmp_path)
    for cache in ("memory", str(tmp_path / "cache")):
        data = training_data(_celeba(tmp_path, cache=cache))
        assert data.skipped.count >= 2  # the corrupt JPEG and the text file named .png
        assert "warning: skipping unreadable image" in capsys.readouterr().err
        batches = list(data.dataset.take(8).as_numpy_iterator())
        assert all(b.shape == (1, 16, 16, 3) and -1 <= b.min() and b.max() <= 1 for b in batches)
        assert data.num_images + data.skipped.count == 9
    manifest = json.loads(next((tmp_path / "cache").glob("*.json")).read_text())
    assert len(manifest["skipped"]) == data.skipped.count


import pytest  # noqa: E402

from dcgan_inversion.infra.errors import UserError  # noqa: E402


@pytest.mark.parametrize("damage", ["truncated array", "truncated manifest", "fewer rows", "other image size",
                                    "manifest of another cache", "emptied array", "emptied manifest",
                                    "array of another kind"])
def test_a_damaged_cache_is_rebuilt_with_one_warning(tmp_path, capsys, damage):
    files = make_folder(tmp_path / "faces", 4)
    cache = tmp_path / "cache"
    built = decoded_images(files, 16, 108, str(cache), verbose=False)
    expected = np.array(built.images)  # a copy: the cache is memory-mapped and about to be damaged
    array = cache / built.source.split("/")[-1]
    manifest = array.with_suffix(".json")
    if damage == "truncated array":
        array.write_bytes(array.read_bytes()[:300])
    elif damage == "truncated manifest":
        manifest.write_text(manifest.read_text()[:10])
    elif damage == "fewer rows":
        np.save(array, expected[:3])
    elif damage == "other image size":
        np.save(array, np.zeros((4, 8, 8, 3), np.uint8))
    elif damage == "emptied array":
        array.write_bytes(b"")
    elif damage == "emptied manifest":
        manifest.write_text("")
    elif damage == "array of another kind":
        np.save(array, np.zeros((4, 16, 16, 3), np.float32))
    else:
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "files": 9}))
    capsys.readouterr()
    rebuilt = decoded_images(files, 16, 108, str(cache), verbose=False)
    np.testing.assert_array_equal(np.asarray(rebuilt.images), expected)
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: data.cache:") and "decoding the images again" in warning[0]
    assert np.asarray(decoded_images(files, 16, 108, str(cache), verbose=False).images).shape == (4, 16, 16, 3)


def test_a_cache_folder_that_cannot_be_written_is_refused_before_decoding(tmp_path):
    files = make_folder(tmp_path / "faces", 2)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(UserError, match="data.cache: cannot write to"):
        decoded_images(files, 16, 108, str(blocker / "cache"), verbose=False)


def test_a_shared_cache_is_readable_by_whoever_can_read_its_manifest(tmp_path):
    """The array gets the umask's permissions like its manifest (mkstemp alone would leave it 0600)."""
    import os
    import stat

    files = make_folder(tmp_path / "faces", 3)
    cache = tmp_path / "cache"
    previous = os.umask(0o022)
    try:
        decoded_images(files, 16, 108, str(cache), verbose=False)
    finally:
        os.umask(previous)
    modes = {path.suffix: stat.S_IMODE(path.stat().st_mode) for path in cache.iterdir()}
    assert modes[".npy"] == modes[".json"] == 0o644

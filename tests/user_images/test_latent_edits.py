"""Walks and vector arithmetic on recovered latents (user_images/latent_edits.py, di.interpolate,
di.arithmetic, dcgan-invert --interpolate / --arithmetic)."""
import json

import numpy as np
import pytest

from conftest import cli_command, one_error_line
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.user_images.latent_edits import Term, combine, parse_expression, walk
from torch_format import dcgan_layers, state_of, write_torch_file

NZ = 8


def test_a_linear_walk_runs_straight_between_its_ends_inside_the_box():
    a, b = np.full(4, -0.5), np.array([0.5, 0.5, 3.0, 0.5])
    path = walk(a, b, 5, spherical=False, box=(-1.0, 1.0))
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_allclose(path[2], [0.0, 0.0, 1.0, 0.0])  # the midpoint, clamped to the box in one component
    assert path.shape == (5, 4) and np.all(np.abs(path) <= 1.0)


def test_a_spherical_walk_keeps_the_norm_between_ends_of_equal_norm():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = walk(a, b, 9, spherical=True, box=(-4.5, 4.5))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    np.testing.assert_allclose(path[[0, -1]], np.stack([a, b]).astype(np.float32))
    straight = walk(a, b, 9, spherical=False, box=(-4.5, 4.5))
    assert np.linalg.norm(straight[4]) < 0.9 * np.linalg.norm(a)  # the chord passes closer to the origin
    with pytest.raises(UserError):
        walk(a, b, 1, spherical=True, box=(-4.5, 4.5))


def test_expressions_read_as_signed_terms():
    assert parse_expression("smiling/ - neutral_w/ + neutral_m/") == [
        Term(1, "smiling/"), Term(-1, "neutral_w/"), Term(1, "neutral_m/")]
    assert parse_expression("- a.png + b c.png") == [Term(-1, "a.png"), Term(1, "b c.png")]
    for bad in ("", "a/ - ", "a/ + - b/"):
        with pytest.raises(UserError):
            parse_expression(bad)


def test_combining_terms_averages_each_and_sums_the_signed_means():
    means, result = combine([np.array([[0.2, 0.4], [0.4, 0.0]]), np.array([[0.5, -0.5]])], [1, -1], (-1.0, 1.0))
    np.testing.assert_allclose(means[0], [0.3, 0.2])
    np.testing.assert_allclose(result, [-0.2, 0.7])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edits")
    write_torch_file(folder / "g.pth", state_of(dcgan_layers(np.random.default_rng(0), NZ, [8, 4, 3]),
                                                ["main.0", "main.1", "main.3", "main.4", "main.6"]))
    assert cli_command("import", folder / "g.pth", "--run", folder / "run").returncode == 0
    return folder / "run"


def test_the_walks_ends_are_the_two_reconstructions(run):
    import dcgan_inversion as di

    loaded = di.load_run(run)
    _, images = di.generate(loaded, 2, seed=3)
    found = di.interpolate(loaded, images[0], images[1], steps=5, starts=2)
    assert found.spherical  # an imported PyTorch run's prior is N(0, 1)
    np.testing.assert_array_equal(found.z[[0, -1]], found.ends.z)
    np.testing.assert_allclose(found.images[[0, -1]], found.ends.reconstructions, atol=1e-6)
    assert found.images.shape == (5, 16, 16, 3)


def test_arithmetic_on_generated_images_is_arithmetic_on_their_latents(run):
    import dcgan_inversion as di

    loaded = di.load_run(run)
    z, images = di.generate(loaded, 5, seed=4)
    made = di.arithmetic(loaded, [(1, images[:2]), (-1, images[2:4]), (1, images[4:])], starts=2)
    for found, true in zip(made.terms, (z[:2], z[2:4], z[4:])):
        assert found.pixel_error.max() < 1e-10
        np.testing.assert_allclose(found.z, true, atol=1e-4)
    expected = np.clip(z[:2].mean(0) - z[2:4].mean(0) + z[4:].mean(0), -4.5, 4.5)
    np.testing.assert_allclose(made.z, expected, atol=1e-4)
    np.testing.assert_allclose(made.image, loaded.generator(made.z[None], training=False).numpy()[0], atol=1e-6)


def test_the_commands_write_the_walk_and_the_arithmetic(run, tmp_path):
    assert cli_command("generate", "--run", run, "-n", "3", "--out", tmp_path / "drawn").returncode == 0
    files = sorted((tmp_path / "drawn").glob("*.png"))
    small = ["--starts", "1", "--set", "search.screen_starts=1"]
    result = cli_command("invert", "--run", run, "--image", files[0], files[1], "--interpolate", "4", "--walk",
                         "linear", *small)
    assert result.returncode == 0, result.stderr
    walked = run / "results" / "walks" / f"{files[0].stem}_to_{files[1].stem}"
    record = json.loads((walked / "walk.json").read_text())
    assert record["steps"] == 4 and not record["spherical"] and len(record["ends"]) == 2
    assert np.load(walked / "walk.z.npy").shape == (4, NZ) and (walked / "walk.gif").stat().st_size > 0
    expression = f"{files[0]} - {files[1]} + {files[2]}"
    result = cli_command("invert", "--run", run, "--arithmetic", expression, *small)
    assert result.returncode == 0, result.stderr
    record = json.loads((run / "results" / "arithmetic" / "arithmetic.json").read_text())
    assert [term["sign"] for term in record["terms"]] == [1, -1, 1]
    assert all(image["verdict"] == "in G's range" for term in record["terms"] for image in term["images"])
    assert "needs" not in result.stderr
    line = one_error_line(cli_command("invert", "--run", run, "--image", files[0], "--interpolate", "4"))
    assert "exactly two" in line

"""Every kind of generator file dcgan-import reads becomes a run the other commands accept: a legacy
torch file with named layers, a whole-model pickle, safetensors, a conditional DCGAN (--labels), an
MLP generator and Keras files (.keras, .h5, a SavedModel folder). Each imports and runs the experiments (shortened); the
slow version also inverts and completes an image on each."""
import json

import numpy as np
import pytest

from conftest import cli_command, one_error_line
from torch_format import (dcgan_layers, mlp_layers, state_of, whole_model, write_legacy_torch_file, write_safetensors,
                          write_torch_file)

NZ = 8
NAMED = ["convTr1", "batchNorm1", "convTr2", "batchNorm2", "convTr3"]
TINY = ["--experiment", "table1", "--set", "experiments.table1_latents=2", "--set", "invert.steps=20",
        "--set", "invert.steps_per_call=10", "--set", "polish.iterations=2", "--set", "polish.chunk_rows=4",
        "--set", "search.restarts=1", "--set", "search.screen_starts=1"]


def _keras_file(path, export: bool = False):
    import keras
    from keras import layers

    z = keras.Input((NZ,))
    x = layers.Reshape((4, 4, 2))(layers.Dense(32)(z))
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid")(layers.ReLU()(x))
    if export:
        keras.Model(z, x).export(str(path))  # a SavedModel folder
    else:
        keras.Model(z, x).save(str(path))


def _write(kind, folder):
    rng = np.random.default_rng(3)
    path = folder / {"legacy": "dcGanGeneratorModel.pt", "whole": "G.pth", "safetensors": "model.safetensors",
                     "conditional": "cdcgan.pth", "mlp": "linear.pth", "keras": "gen.keras", "h5": "gen.h5",
                     "savedmodel": "gen_savedmodel"}[kind]
    options = []
    if kind == "legacy":
        write_legacy_torch_file(path, state_of(dcgan_layers(rng, NZ, [8, 4, 3]), NAMED))
    elif kind == "whole":
        write_torch_file(path, whole_model(dcgan_layers(rng, NZ, [8, 4, 3])))
    elif kind == "safetensors":
        write_safetensors(path, state_of(dcgan_layers(rng, NZ, [8, 4, 3]), NAMED))
    elif kind == "conditional":
        write_torch_file(path, state_of(dcgan_layers(rng, NZ, [8, 4, 3], labels=2), NAMED))
        options = ["--labels", "2", "--label-names", "left,right"]
    elif kind == "mlp":
        layers = mlp_layers(rng, NZ, [16, 24, 28 * 28], norms=(1,))  # MNIST-sized, PyTorch-GAN's BatchNorm1d(n, 0.8)
        write_torch_file(path, state_of(layers, ["model.0", "model.2", "model.3", "model.5"]))
        options = ["--bn-eps", "0.8"]
    else:
        _keras_file(path, export=kind == "savedmodel")
        options = ["--image-range", "0", "1"]
    return path, options


KINDS = ["legacy", "whole", "safetensors", "conditional", "mlp", "keras", "h5", "savedmodel"]


@pytest.fixture(scope="module", params=KINDS)
def imported(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    path, options = _write(request.param, folder)
    run = folder / "run"
    result = cli_command("import", path, "--run", run, *options)
    assert result.returncode == 0, result.stderr
    return request.param, run


def test_each_kind_imports_and_runs_the_experiments(imported):
    kind, run = imported
    record = json.loads((run / "imported.json").read_text())
    assert record["assumed"] or kind == "whole"  # a whole model says its activations itself
    result = cli_command("invert", "--run", run, *TINY)
    assert result.returncode == 0, result.stderr
    table1 = json.loads((run / "results" / "table1.json").read_text())
    assert set(table1["modes"]) == {"none", "standard", "stochastic"}
    if kind == "conditional":  # a class drawn per latent, kept with the results
        assert "recovered given it" in result.stdout
        with np.load(run / "results" / "table1.npz") as saved:
            assert set(saved["classes"].tolist()) <= {0, 1}


@pytest.mark.slow
def test_each_kind_inverts_and_completes_an_image(imported):
    kind, run = imported
    label = ["--label", "right"] if kind == "conditional" else []
    assert cli_command("generate", "--run", run, "-n", "1", *label).returncode == 0
    image = run / "generated" / "generated-000.png"
    result = cli_command("invert", "--run", run, "--image", image, "--starts", "1", *label)
    assert result.returncode == 0, result.stderr
    result = cli_command("invert", "--run", run, "--complete", image, "--starts", "1", *label)
    assert result.returncode == 0, result.stderr


def test_a_conditional_run_tells_which_class_drew_an_image(tmp_path):
    path, options = _write("conditional", tmp_path)
    run = tmp_path / "run"
    assert cli_command("import", path, "--run", run, *options).returncode == 0
    assert cli_command("generate", "--run", run, "-n", "1", "--label", "right").returncode == 0
    result = cli_command("invert", "--run", run, "--image", run / "generated" / "generated-000.png", "--starts", "1")
    assert result.returncode == 0, result.stderr
    assert "class right (in G's range)" in result.stdout
    assert "not a class" in one_error_line(cli_command("generate", "--run", run, "--label", "up"))


def test_a_keras_file_with_a_lambda_layer_needs_trust(tmp_path):
    import keras
    from keras import layers

    z = keras.Input((NZ,))
    x = layers.Reshape((4, 4, 1))(layers.Dense(16, activation="tanh")(z))
    keras.Model(z, layers.Lambda(lambda t: t * 1.0, name="halve")(x)).save(str(tmp_path / "lam.keras"))
    line = one_error_line(cli_command("import", tmp_path / "lam.keras", "--run", tmp_path / "a"))
    assert "Lambda layer ('halve')" in line and "--trust-file" in line
    assert not (tmp_path / "a").exists()

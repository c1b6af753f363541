"""Parity for the generators people publish: torch's legacy stream, safetensors, named layers,
whole-model pickles, conditional DCGANs, a 128 px DCGAN with Dropout in its Sequential, conv biases
and MLP generators. Each file is written by tests/torch_format.py's own writer (no torch) and its
import is held to a NumPy forward written from the layers' definitions."""
import numpy as np
import pytest

from dcgan_inversion.gan.imported import CheckpointMismatch, assign
from dcgan_inversion.gan.model import make_generator
from dcgan_inversion.gan.pytorch_checkpoint import read_pytorch_checkpoint
from dcgan_inversion.gan.torch_file import read_torch_file
from dcgan_inversion.gan.torch_pickle import TorchFileError
from dcgan_inversion.infra.errors import UserError
from torch_format import (Module, PickleWriter, dcgan_layers, mlp_layers, reference_dcgan, reference_mlp, state_of,
                          whole_model, write_legacy_torch_file, write_safetensors, write_torch_file)

NZ = 6
NAMED = ["convTr1", "batchNorm1", "convTr2", "batchNorm2", "convTr3"]  # the tutorial's names, 16 px


def _generator(path, **options):
    weights = read_pytorch_checkpoint(path, **options)
    generator = make_generator(weights.model)
    assign(generator, weights.generator)
    return weights, generator


def _nchw(generator, z):
    return np.transpose(generator(z.astype(np.float32), training=False).numpy(), (0, 3, 1, 2))


def _close(generator, expected, z):
    np.testing.assert_allclose(_nchw(generator, z), expected, atol=2e-5)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_a_legacy_file_with_named_layers_imports_and_computes_the_reference(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    write_legacy_torch_file(tmp_path / "dcGanGeneratorModel.pt", state_of(layers, NAMED))
    weights, generator = _generator(tmp_path / "dcGanGeneratorModel.pt")
    assert (weights.model.image_size, weights.model.z_dim, weights.model.g_channels) == (16, NZ, ())
    assert any("hidden activation ReLU" in line for line in weights.assumed)
    z = rng.standard_normal((3, NZ))
    _close(generator, reference_dcgan(layers, z), z)


@pytest.mark.parametrize("prefix", ["G.", "gen.main.", "module.layers."])
def test_prefixes_and_wrappers_are_not_a_layout(tmp_path, rng, prefix):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    write_torch_file(tmp_path / "g.pth", state_of(layers, [f"{prefix}{i}" for i in (0, 1, 3, 4, 6)]))
    _, generator = _generator(tmp_path / "g.pth")
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z), z)


def test_the_legacy_reader_refuses_damage_in_one_line(tmp_path, rng):
    state = state_of(dcgan_layers(rng, NZ, [8, 4, 3]), NAMED)
    cases = {"magic": dict(magic=12345), "truncated": dict(cut=100), "disagrees": dict(count_change=1),
             "big-endian": dict(little_endian=False)}
    messages = {}
    for name, options in cases.items():
        write_legacy_torch_file(tmp_path / f"{name}.pt", state, **options)
        with pytest.raises(TorchFileError) as caught:
            read_torch_file(tmp_path / f"{name}.pt")
        messages[name] = str(caught.value)
        assert "\n" not in messages[name]
    assert "magic number" in messages["magic"]
    assert "truncated" in messages["truncated"]
    assert "declare" in messages["disagrees"]
    assert "big-endian" in messages["big-endian"]


def test_safetensors_files_keep_their_layer_order_by_number(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    names = ["main.0", "main.1", "main.3", "main.4", "main.6"]
    write_safetensors(tmp_path / "model.safetensors", state_of(layers, names))
    _, generator = _generator(tmp_path / "model.safetensors")
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z), z)
    write_safetensors(tmp_path / "named.safetensors", state_of(layers, NAMED))  # sorted: batchNorm1 first
    _, generator = _generator(tmp_path / "named.safetensors")
    _close(generator, reference_dcgan(layers, z), z)


def test_a_whole_model_file_is_read_with_its_activations(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    write_torch_file(tmp_path / "G.pth", whole_model(layers, activation=("LeakyReLU", {"negative_slope": 0.1})))
    weights, generator = _generator(tmp_path / "G.pth")
    assert (weights.model.g_activation, weights.model.g_leak) == ("leaky_relu", 0.1)
    assert not any("activation" in line for line in weights.assumed)  # read, not assumed
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z, slope=0.1), z)
    assert not np.allclose(_nchw(generator, z), reference_dcgan(layers, z), atol=1e-3)  # ReLU would differ


def test_a_legacy_whole_model_file_imports_too(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    write_legacy_torch_file(tmp_path / "G.pt", whole_model(layers))
    _, generator = _generator(tmp_path / "G.pt")
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z), z)


def test_a_hostile_file_disguised_as_a_module_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    writer = PickleWriter()
    writer.global_("__main__", "Generator")
    writer.out += b")\x81}("  # NEWOBJ, then a state whose value calls os.system
    writer.value("_modules")
    writer.global_("os", "system")
    writer.value((f"touch {marker}",))
    writer.out += b"Rub"
    write_torch_file(tmp_path / "G.pth", None, pickle_bytes=writer.finish())
    with pytest.raises(TorchFileError, match="calls os.system.*nothing in the file was run"):
        read_torch_file(tmp_path / "G.pth")
    assert not marker.exists()


def test_a_128_px_generator_with_dropout_and_a_wide_first_layer(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [16, 4, 4, 2, 2, 3])  # first layer 16 x gf (gf = 2 at the last hidden)
    names = ["main.0", "main.1", "main.4", "main.5", "main.8", "main.9", "main.12", "main.13", "main.16", "main.17",
             "main.20"]  # a Dropout after each ReLU shifts the indices by one
    write_torch_file(tmp_path / "g128.pth", state_of(layers, names))
    weights, generator = _generator(tmp_path / "g128.pth")
    assert weights.model.image_size == 128 and weights.model.g_channels == (16, 4, 4, 2, 2)
    z = rng.standard_normal((1, NZ))
    _close(generator, reference_dcgan(layers, z), z)
    write_torch_file(tmp_path / "g128_model.pth", whole_model(layers, dropout_after=2))
    _, generator = _generator(tmp_path / "g128_model.pth")
    _close(generator, reference_dcgan(layers, z), z)


def test_conv_biases_are_read(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3], bias=True)
    write_torch_file(tmp_path / "g.pth", state_of(layers, NAMED))
    weights, generator = _generator(tmp_path / "g.pth")
    assert weights.model.conv_bias
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z), z)


def test_a_conditional_generator_reads_its_class_after_z(tmp_path, rng):
    from dcgan_inversion.gan.labels import with_label

    labels = 4
    layers = dcgan_layers(rng, NZ, [8, 4, 3], labels=labels)
    write_torch_file(tmp_path / "cdcgan.pth", state_of(layers, NAMED))
    weights, generator = _generator(tmp_path / "cdcgan.pth", labels=labels)
    assert (weights.model.z_dim, weights.model.labels) == (NZ, labels)
    z = rng.standard_normal((2, NZ))
    for label in (0, 3):
        with_label(generator, weights.label_rows, weights.base_bias, label)
        onehot = np.eye(labels)[[label, label]]
        _close(generator, reference_dcgan(layers, z, onehot), z)
        label_first = reference_dcgan(layers, onehot, z)  # the class put before z computes something else
        assert not np.allclose(_nchw(generator, z), label_first, atol=1e-3)


def test_a_conditional_generator_imported_without_labels_is_flagged(tmp_path, rng):
    layers = dcgan_layers(rng, 100, [8, 4, 3], labels=10)
    write_torch_file(tmp_path / "cdcgan.pth", state_of(layers, NAMED))
    weights = read_pytorch_checkpoint(tmp_path / "cdcgan.pth")
    assert weights.model.z_dim == 110
    assert any("--labels 10" in note for note in weights.notes)
    plain = read_pytorch_checkpoint(_plain(tmp_path, rng))
    assert plain.notes == []


def _plain(tmp_path, rng):
    write_torch_file(tmp_path / "plain.pth", state_of(dcgan_layers(rng, 100, [8, 4, 3]), NAMED))
    return tmp_path / "plain.pth"


@pytest.mark.parametrize("channels", [1, 3])
def test_mlp_generators_compute_the_reference(tmp_path, rng, channels):
    layers = mlp_layers(rng, NZ, [32, 64, channels * 16 * 16])
    write_torch_file(tmp_path / "linear.pth", state_of(layers, ["fc1", "fc2", "fc3"]))
    weights, generator = _generator(tmp_path / "linear.pth")
    assert (weights.model.architecture, weights.model.image_size, weights.model.channels) == ("mlp", 16, channels)
    assert any("LeakyReLU(0.2)" in line for line in weights.assumed)
    z = rng.standard_normal((3, NZ))
    _close(generator, reference_mlp(layers, z, channels, 16), z)
    weights, generator = _generator(tmp_path / "linear.pth", activation="relu")
    _close(generator, reference_mlp(layers, z, channels, 16, slope=0.0), z)


def test_an_mlp_generator_with_batch_norms_computes_the_reference(tmp_path, rng):
    """PyTorch-GAN's MLP: Linear, LeakyReLU, then [Linear, BatchNorm1d(n, 0.8), LeakyReLU]*, Linear, Tanh."""
    layers = mlp_layers(rng, NZ, [16, 32, 48, 3 * 16 * 16], norms=(1, 2))
    write_torch_file(tmp_path / "G.pth", state_of(layers, ["model.0", "model.2", "model.3", "model.5", "model.6",
                                                            "model.8"]))
    z = rng.standard_normal((3, NZ))
    weights, generator = _generator(tmp_path / "G.pth")
    assert any("batch norm eps 1e-05" in line and "--bn-eps" in line for line in weights.assumed)
    _close(generator, reference_mlp(layers, z, 3, 16), z)
    weights, generator = _generator(tmp_path / "G.pth", bn_eps=0.8)
    assert weights.model.g_norms == (1, 2) and weights.model.g_bn_eps == 0.8
    _close(generator, reference_mlp(layers, z, 3, 16, eps=0.8), z)
    with pytest.raises(AssertionError):  # the eps matters: 1e-5 is not 0.8
        _close(generator, reference_mlp(layers, z, 3, 16), z)
    write_torch_file(tmp_path / "whole.pth", whole_model(layers, activation=("LeakyReLU", {"negative_slope": 0.2}),
                                                         bn_eps=0.8))
    weights, generator = _generator(tmp_path / "whole.pth")  # a whole model says its eps
    assert weights.model.g_bn_eps == 0.8 and not any("eps" in line for line in weights.assumed)
    _close(generator, reference_mlp(layers, z, 3, 16, eps=0.8), z)
    with pytest.raises(UserError, match="says its batch norms' eps is 0.8"):
        read_pytorch_checkpoint(tmp_path / "whole.pth", bn_eps=1e-5)


def test_pytorch_gans_cgan_an_embedded_class_before_z_is_read_from_the_file(tmp_path, rng):
    """PyTorch-GAN's cgan.py: label_emb = nn.Embedding(10, 10); the MLP takes cat(label_emb(y), z)."""
    from collections import OrderedDict

    from dcgan_inversion.gan.labels import with_label

    table = rng.normal(0, 1, (4, 4)).astype(np.float32)
    layers = mlp_layers(rng, NZ, [16, 32, 256], labels=4, norms=(1,))
    state = OrderedDict([("label_emb.weight", table)])
    state.update(state_of(layers, ["model.0", "model.2", "model.3", "model.5"]))
    write_torch_file(tmp_path / "cgan.pth", state)
    weights, generator = _generator(tmp_path / "cgan.pth")  # no --labels: the embedding says 4 classes
    assert weights.model.labels == 4 and weights.model.z_dim == NZ
    assert any("before z" in line and "--label-position" in line for line in weights.assumed)
    z = rng.standard_normal((2, NZ))
    with_label(generator, weights.label_rows, weights.base_bias, 3)
    _close(generator, reference_mlp(layers, z, 1, 16, table[[3, 3]], class_first=True), z)
    weights, generator = _generator(tmp_path / "cgan.pth", label_position="last")  # the class after z: another G
    with_label(generator, weights.label_rows, weights.base_bias, 3)
    with pytest.raises(AssertionError):
        _close(generator, reference_mlp(layers, z, 1, 16, table[[3, 3]], class_first=True), z)
    with pytest.raises(CheckpointMismatch, match="embedding 'label_emb' has 4 classes"):
        read_pytorch_checkpoint(tmp_path / "cgan.pth", labels=10)
    whole = whole_model(layers, activation=("LeakyReLU", {"negative_slope": 0.2}), bn_eps=1e-5)
    embedding = Module("torch.nn.modules.sparse.Embedding", {"weight": table})
    write_torch_file(tmp_path / "whole.pth", Module(whole.cls, modules=[("embed", embedding), *whole.modules.items()]))
    weights, generator = _generator(tmp_path / "whole.pth")  # an nn.Embedding by its class, whatever its name
    with_label(generator, weights.label_rows, weights.base_bias, 2)
    _close(generator, reference_mlp(layers, z, 1, 16, table[[2, 2]], class_first=True), z)


def test_a_one_hot_class_before_z_with_label_position_first(tmp_path, rng):
    from dcgan_inversion.gan.labels import with_label

    layers = dcgan_layers(rng, NZ, [8, 4, 3], labels=3)
    write_torch_file(tmp_path / "cdcgan.pth", state_of(layers, NAMED))
    weights, generator = _generator(tmp_path / "cdcgan.pth", labels=3, label_position="first")
    with_label(generator, weights.label_rows, weights.base_bias, 1)
    z = rng.standard_normal((2, NZ))
    first = layers[0][1]["weight"]  # (3 + NZ, C, 4, 4) read as the class's 3 inputs, then z's: the same G as
    moved = [(layers[0][0], {**layers[0][1], "weight": np.concatenate([first[3:], first[:3]])})] + layers[1:]  # z first
    _close(generator, reference_dcgan(moved, z, np.eye(3)[[1, 1]]), z)


def test_a_conditional_mlp_generator(tmp_path, rng):
    from dcgan_inversion.gan.labels import with_label

    layers = mlp_layers(rng, NZ, [32, 256], labels=3)
    write_torch_file(tmp_path / "cgan.pth", state_of(layers, ["fc1", "fc2"]))
    weights, generator = _generator(tmp_path / "cgan.pth", labels=3)
    z = rng.standard_normal((2, NZ))
    with_label(generator, weights.label_rows, weights.base_bias, 2)
    _close(generator, reference_mlp(layers, z, 1, 16, np.eye(3)[[2, 2]]), z)


def test_layouts_that_fit_nothing_are_one_line(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    layers[2][1]["weight"] = layers[2][1]["weight"][:, :, :3, :3]  # a 3x3 kernel
    write_torch_file(tmp_path / "odd.pth", state_of(layers, NAMED))
    with pytest.raises(CheckpointMismatch, match="kernel"):
        read_pytorch_checkpoint(tmp_path / "odd.pth")
    unknown = Module("__main__.Generator", modules=[("up", Module("torch.nn.modules.upsampling.Upsample"))])
    write_torch_file(tmp_path / "up.pth", unknown)
    with pytest.raises(CheckpointMismatch, match="Upsample"):
        read_pytorch_checkpoint(tmp_path / "up.pth")


def test_a_whole_model_applying_its_activations_in_forward_assumes_them(tmp_path, rng):
    layers = dcgan_layers(rng, NZ, [8, 4, 3])
    write_torch_file(tmp_path / "G.pth", whole_model(layers, modules_for_activations=False))
    weights, generator = _generator(tmp_path / "G.pth")
    assert any("applies them in its forward" in line for line in weights.assumed)
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_dcgan(layers, z), z)


def test_a_whole_model_with_another_conv_geometry_is_refused(tmp_path, rng):
    write_torch_file(tmp_path / "G.pth", whole_model(dcgan_layers(rng, NZ, [8, 4, 3]), output_padding=(1, 1)))
    with pytest.raises(CheckpointMismatch, match="output_padding"):
        read_pytorch_checkpoint(tmp_path / "G.pth")


def test_an_mnist_mlp_generator_makes_28_px_images(tmp_path, rng):
    layers = mlp_layers(rng, NZ, [32, 784])
    write_torch_file(tmp_path / "G_mnist.pth", state_of(layers, ["model.0", "model.2"]))
    weights, generator = _generator(tmp_path / "G_mnist.pth")
    assert (weights.model.image_size, weights.model.channels) == (28, 1)
    z = rng.standard_normal((2, NZ))
    _close(generator, reference_mlp(layers, z, 1, 28), z)

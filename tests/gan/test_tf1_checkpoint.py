"""Importing TF1 DCGAN checkpoints: the Keras models compute Amos's network exactly, and every file
that is not such a checkpoint is one line naming what was expected and what was found."""
import numpy as np
import pytest
import tensorflow as tf

from amos_checkpoint import (amos_discriminator_logit, amos_generator, amos_variables, as_amos_variables,
                             write_checkpoint)
from conftest import tiny_config
from dcgan_inversion.gan.model import make_discriminator, make_generator
from dcgan_inversion.gan.tf1_checkpoint import CheckpointMismatch, assign, checkpoint_prefix, read_checkpoint

FLOAT32_ROUNDING = 1e-5  # max abs difference of two float32 evaluations of the same network (measured ~1e-6)


def _imported_models(prefix):
    weights = read_checkpoint(prefix)
    generator = make_generator(weights.model)
    assign(generator, weights.generator)
    discriminator = make_discriminator(weights.model)
    assign(discriminator, weights.discriminator)
    return weights, generator, discriminator


def _latents(count=4, z_dim=100):
    return np.random.default_rng(1).uniform(-1, 1, (count, z_dim)).astype(np.float32)


@pytest.mark.parametrize("image_size, gf, df", [(64, 64, 64), (32, 8, 8)])
def test_imported_generator_and_discriminator_compute_amos_network(tmp_path, image_size, gf, df):
    variables = amos_variables(image_size, gf, df)
    weights, generator, discriminator = _imported_models(write_checkpoint(tmp_path / "DCGAN.model-60502", variables))
    assert (weights.model.image_size, weights.model.gf_dim, weights.model.df_dim, weights.model.z_dim) == \
        (image_size, gf, df, 100)
    assert weights.model.g_channels == ()  # DCGAN's schedule: the config needs no explicit channels
    assert weights.variables_used == weights.variables_total == len(variables)
    z = _latents()
    expected = amos_generator(variables, z).numpy()
    images = generator(z, training=False).numpy()
    assert images.shape == (4, image_size, image_size, 3)
    assert np.abs(images - expected).max() < FLOAT32_ROUNDING
    assert expected.std() > 1000 * FLOAT32_ROUNDING  # a varied image: the tolerance is far below its contrast
    logits = discriminator(expected, training=False).numpy()
    assert np.abs(logits - amos_discriminator_logit(variables, expected).numpy()).max() < FLOAT32_ROUNDING * 10


def test_a_generator_written_under_amos_names_draws_the_same_images_once_imported(tmp_path):
    """Round trip through Amos's names: the imported run draws what the original weights drew."""
    import keras

    keras.utils.set_random_seed(3)
    model = tiny_config().model
    original, critic = make_generator(model), make_discriminator(model)
    z = _latents()
    # Moving statistics away from their 0/1 initial values, so a swapped BN slot would show.
    for layer in original.layers + critic.layers:
        if layer.name.endswith("_bn"):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([gamma * 1.3, beta + 0.1, mean + 0.2, variance * 1.7])
    _, generator, discriminator = _imported_models(write_checkpoint(tmp_path / "c", as_amos_variables(original, critic)))
    np.testing.assert_array_equal(generator(z, training=False).numpy(), original(z, training=False).numpy())
    images = original(z, training=False)
    np.testing.assert_array_equal(discriminator(images, training=False).numpy(), critic(images, training=False).numpy())


def test_paper_checkpoint_has_amos_parameter_count(tmp_path):
    weights, generator, _ = _imported_models(write_checkpoint(tmp_path / "ckpt", amos_variables()))
    assert generator.count_params() == 5_137_283


@pytest.mark.parametrize("mistake", ["transposed kernel", "flipped kernel", "NCHW reshape"])
def test_the_parity_check_sees_a_wrong_mapping(tmp_path, mistake):
    """What the parity test would see if the import transposed or flipped a kernel, or reshaped the
    projection in another order: differences far above float32 rounding."""
    variables = amos_variables(32, 8, 8)
    _, generator, _ = _imported_models(write_checkpoint(tmp_path / "ckpt", variables))
    wrong = dict(variables)
    if mistake == "transposed kernel":  # rows and columns swapped (out/in cannot be: their sizes differ)
        wrong["generator/g_h2/w"] = np.transpose(variables["generator/g_h2/w"], (1, 0, 2, 3))
    elif mistake == "flipped kernel":
        wrong["generator/g_h2/w"] = variables["generator/g_h2/w"][::-1, ::-1]
    else:
        matrix = variables["generator/g_h0_lin/Matrix"].reshape(100, 32, 4, 4)  # NCHW order read as NHWC
        wrong["generator/g_h0_lin/Matrix"] = np.transpose(matrix, (0, 2, 3, 1)).reshape(100, -1)
        wrong["generator/g_h0_lin/bias"] = np.transpose(variables["generator/g_h0_lin/bias"].reshape(32, 4, 4),
                                                        (1, 2, 0)).reshape(-1)
    z = _latents()
    assert np.abs(generator(z, training=False).numpy() - amos_generator(wrong, z).numpy()).max() > 100 * FLOAT32_ROUNDING


def test_carpedm20_names_and_latest_schedule_import(tmp_path):
    """carpedm20's logit d_h4_lin and D batch norms numbered from 0, and a generator keeping gf*8
    channels in its first transposed conv (Amos's latest code): the schedule goes into model.g_channels."""
    variables = amos_variables(32, 8, 8, logit="d_h4_lin", d_norms_from=0, g_channels=[64, 64, 32])
    weights, generator, discriminator = _imported_models(write_checkpoint(tmp_path / "ckpt", variables))
    assert weights.model.g_channels == (64, 64, 32)
    assert "carpedm20" in weights.layout
    z = _latents()
    expected = amos_generator(variables, z).numpy()
    assert np.abs(generator(z, training=False).numpy() - expected).max() < FLOAT32_ROUNDING
    logit = amos_discriminator_logit(variables, expected, logit="d_h4_lin", norm_names=["d_bn0", "d_bn1"]).numpy()
    assert np.abs(discriminator(expected, training=False).numpy() - logit).max() < FLOAT32_ROUNDING * 10


def test_unscoped_names_and_grayscale_import(tmp_path):
    variables = amos_variables(16, 4, 4, channels=1, scope=False)
    weights, generator, _ = _imported_models(write_checkpoint(tmp_path / "ckpt", variables))
    assert (weights.model.image_size, weights.model.channels) == (16, 1)
    z = _latents()
    assert np.abs(generator(z, training=False).numpy() - amos_generator(variables, z, scope="").numpy()).max() \
        < FLOAT32_ROUNDING


def test_prefix_from_a_folder_a_file_or_a_stale_checkpoint_file(tmp_path):
    prefix = write_checkpoint(tmp_path / "DCGAN.model-60502", amos_variables(16, 4, 4))
    write_checkpoint(tmp_path / "DCGAN.model-502", amos_variables(16, 4, 4))
    # A cloned repository's `checkpoint` file names its author's absolute path: the newest *.index is used.
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "/home/someone/DCGAN.model-60502"\n')
    assert checkpoint_prefix(tmp_path) == prefix
    assert checkpoint_prefix(prefix + ".index") == prefix
    assert checkpoint_prefix(prefix + ".data-00000-of-00001") == prefix


def _mismatch(path) -> str:
    with pytest.raises(CheckpointMismatch) as caught:
        read_checkpoint(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_tensor_names_it(tmp_path):
    variables = amos_variables(16, 4, 4)
    del variables["generator/g_bn1/gamma"]
    assert "has no generator/g_bn1/gamma (expected shape [4])" in _mismatch(write_checkpoint(tmp_path / "c", variables))


def test_wrong_shapes_name_the_tensor_and_both_shapes(tmp_path):
    variables = amos_variables(16, 4, 4)
    variables["generator/g_h2/biases"] = np.zeros(5, np.float32)
    message = _mismatch(write_checkpoint(tmp_path / "c", variables))
    assert "generator/g_h2/biases has shape [5], expected [3]" in message
    variables = amos_variables(16, 4, 4)
    variables["generator/g_h1/w"] = np.zeros((3, 3, 8, 16), np.float32)
    assert "expected [5, 5, out, in]" in _mismatch(write_checkpoint(tmp_path / "d", variables))


def test_a_shape_no_dcgan_of_this_design_has(tmp_path):
    variables = amos_variables(16, 4, 4)
    variables["generator/g_h0_lin/Matrix"] = np.zeros((100, 8 * 8 * 8), np.float32)  # an 8x8 base of 8 channels
    variables["generator/g_h0_lin/bias"] = np.zeros(8 * 8 * 8, np.float32)
    assert "needs [z_dim, 128]" in _mismatch(write_checkpoint(tmp_path / "c", variables))


def test_optimizer_slots_only_and_foreign_files(tmp_path):
    slots = {f"{name}/Adam": value for name, value in amos_variables(16, 4, 4).items()}
    assert "only optimizer slots" in _mismatch(write_checkpoint(tmp_path / "slots", slots))
    other = {"model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE": np.zeros((2, 2), np.float32)}
    assert "has no g_h0_lin/Matrix" in _mismatch(write_checkpoint(tmp_path / "tf2", other))
    (tmp_path / "generator.pth").write_bytes(b"PK\x03\x04 torch zip")
    assert "is a PyTorch file" in _mismatch(tmp_path / "generator.pth")
    assert "not found" in _mismatch(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    assert "no TF checkpoint in" in _mismatch(tmp_path / "empty")


def test_a_damaged_data_file_is_one_line(tmp_path):
    prefix = write_checkpoint(tmp_path / "c", amos_variables(16, 4, 4))
    data = tmp_path / "c.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    assert "cannot read" in _mismatch(prefix)
    (tmp_path / "c.index").write_bytes(b"not an index")
    assert "cannot read checkpoint" in _mismatch(prefix)


def test_a_partial_discriminator_is_a_mismatch_and_none_is_allowed(tmp_path):
    variables = amos_variables(16, 4, 4)
    del variables["discriminator/d_bn1/beta"]
    assert "has no discriminator/d_bn1/beta" in _mismatch(write_checkpoint(tmp_path / "c", variables))
    generator_only = {name: value for name, value in amos_variables(16, 4, 4).items() if name.startswith("generator/")}
    weights = read_checkpoint(write_checkpoint(tmp_path / "g", generator_only))
    assert weights.discriminator is None and "no discriminator" in weights.layout


def test_non_finite_weights_are_refused(tmp_path):
    variables = amos_variables(16, 4, 4)
    variables["generator/g_h1/biases"][0] = np.nan
    assert "non-finite values" in _mismatch(write_checkpoint(tmp_path / "c", variables))


def test_save_v2_checkpoint_reads_back_through_tf_train(tmp_path):
    """The fixture writes what tf.train.load_checkpoint reads (the file format TF1's Saver wrote)."""
    variables = amos_variables(16, 4, 4)
    reader = tf.train.load_checkpoint(write_checkpoint(tmp_path / "c", variables))
    assert set(reader.get_variable_to_shape_map()) == set(variables)
    np.testing.assert_array_equal(reader.get_tensor("generator/g_h1/w"), variables["generator/g_h1/w"])

"""The latent prior: the paper's uniform and the normal prior kept in its clip box."""
import math

import numpy as np
import pytest
import tensorflow as tf

from dcgan_inversion.config import ModelConfig, replace
from dcgan_inversion.gan.latents import UNIFORM, LatentPrior, latent_prior
from dcgan_inversion.inversion.clip import clip_latents, keyed_redraws, mode_ids
from conftest import tiny_config


def test_the_run_config_names_its_prior():
    assert latent_prior(tiny_config()) == UNIFORM
    assert latent_prior(replace(tiny_config(), model={"latent_box": 2.0})).box == (-2.0, 2.0)
    normal = latent_prior(replace(tiny_config(), model={"latent": "normal", "latent_box": 3.0}))
    assert normal == LatentPrior("normal", -3.0, 3.0) and normal.describe() == "N(0, 1) in [-3, 3]"


def test_the_default_box_cuts_off_what_the_docs_say():
    share = LatentPrior.normal(4.5).share_outside()
    assert share == pytest.approx(6.8e-6, rel=0.01)
    assert 1 - (1 - share) ** 100 == pytest.approx(6.8e-4, rel=0.01)  # 0.07% of 100-dim latents
    assert latent_prior(ModelConfig(latent="normal")).box == (-4.5, 4.5)
    assert latent_prior(ModelConfig()).box == (-1.0, 1.0)  # the paper's


def test_normal_draws_are_standard_normal_inside_the_box():
    prior = LatentPrior.normal(1.5)
    draws = prior.sample(np.random.default_rng(0), (20000, 10))
    assert draws.dtype == np.float32 and np.all(np.abs(draws) < 1.5)
    truncated_variance = 1 - 2 * 1.5 * math.exp(-1.5**2 / 2) / math.sqrt(2 * math.pi) / math.erf(1.5 / math.sqrt(2))
    assert draws.var() == pytest.approx(truncated_variance, rel=0.02)


def test_stochastic_clipping_redraws_from_the_truncated_normal():
    prior = LatentPrior.normal(2.0)
    redraws = keyed_redraws(3, 7, 2000, 50, tf.range(2000, dtype=tf.int64), prior).numpy()
    assert np.all(np.abs(redraws) < 2.0) and abs(redraws.var() - 0.774) < 0.02  # variance of N(0,1) in [-2, 2]
    z = tf.constant([[2.5, -0.3], [2.5, -3.0], [2.5, 1.0]])
    clipped = clip_latents(z, mode_ids(["none", "standard", "stochastic"]), tf.constant(redraws[:3, :2]),
                           *prior.box).numpy()
    np.testing.assert_array_equal(clipped[0], z.numpy()[0])
    np.testing.assert_array_equal(clipped[1], [2.0, -2.0])
    assert clipped[2, 0] == redraws[2, 0] and clipped[2, 1] == np.float32(1.0)


def test_the_encoder_range_follows_the_prior():
    from dcgan_inversion.gan.model import make_encoder

    model = ModelConfig(image_size=16, gf_dim=4, df_dim=4, latent="normal", latent_box=4.5)
    encoder = make_encoder(model)
    encoder.get_layer("z").kernel.assign(encoder.get_layer("z").kernel * 1e4)  # saturate the tanh
    images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    z = encoder(images).numpy()
    assert np.abs(z).max() > 4.0 and np.abs(z).max() <= 4.5

"""Figure 2's noise experiment: the rows at variance 0 are G's own images, so a stuck one restarts."""
import numpy as np

from conftest import tiny_config
from dcgan_inversion.config import replace
from dcgan_inversion.paper import experiments
from dcgan_inversion.paper.experiments import Experiment


def test_only_the_noiseless_rows_count_as_drawn_by_g(tiny_generator, tmp_path, monkeypatch):
    seen = {}
    real_invert = experiments.invert

    def recording_invert(generator, problem, settings):
        seen["problem"] = problem
        return real_invert(generator, problem, settings)

    monkeypatch.setattr(experiments, "invert", recording_invert)
    config = replace(tiny_config(), invert={"steps": 5}, polish={"method": "none"},
                     experiments={"modes": ("none", "stochastic"), "noise_variances": (0.0, 0.1, 0.0),
                                  "noise_latents": 2})
    experiments.noise(Experiment(tiny_generator, config, tmp_path / "results", progress=False))
    problem = seen["problem"]
    per_mode = np.repeat([True, False, True], 2)  # mode-major, then variance, then latent
    np.testing.assert_array_equal(problem.generated, np.tile(per_mode, 2))
    np.testing.assert_array_equal(problem.targets[problem.generated][:2], problem.targets[4:6])  # clean G(z), twice

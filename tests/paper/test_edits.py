"""The walks-and-arithmetic example (`--experiment edits`): on generated images the recovered walk and
arithmetic are the true latents' to the polish's precision; its figure re-renders from the results."""
import json

import numpy as np

from dcgan_inversion import config as config_lib
from dcgan_inversion import run as rundir
from dcgan_inversion.paper import experiments
from dcgan_inversion.paper.drawing import make_figures
from dcgan_inversion.training.trainer import train

from conftest import tiny_config


def test_the_edits_example_matches_the_true_latents_and_draws_its_figure(tmp_path):
    run = tmp_path / "run"
    train(tiny_config(), run, verbose=False)
    config = config_lib.replace(tiny_config(), invert={"steps": 150, "steps_per_call": 50, "learning_rate": 0.05},
                                polish={"method": "layerwise_lm", "iterations": 12})
    generator = rundir.load_generator(run, config.model)
    results = rundir.RunPaths(run).results
    experiments.run_experiments(generator, config, results, ["edits"], progress=False)
    record = json.loads((results / "edits.json").read_text())
    assert record["generated_pixel_error_max"] < 1e-8
    assert record["walk_z_difference_max"] < 1e-3 and record["arithmetic_z_difference_max"] < 1e-3
    assert min(record["portrait_pixel_error"]) > 1e3 * record["generated_pixel_error_max"]
    arrays = np.load(results / "edits.npz")
    assert arrays["walk"].shape == (record["steps"], 16, 16, 3) and arrays["term_means"].shape[0] == 3
    written = make_figures(run, ["edits"])
    assert [path.name for path in written] == ["edits.png", "edits.pdf"]

"""The amortised start: training the encoder (resumable, its cost counted), and rows starting at E(x)."""
import json

import numpy as np
import pytest

from conftest import one_error_line, tiny_config
from dcgan_inversion.config import replace
from dcgan_inversion.run import RunPaths, export_generator, load_encoder
from dcgan_inversion.inversion.cost import encoder_start_cost
from dcgan_inversion.training.encoder import EncoderTraining, encoder_cost_per_sample, train_encoder

CONFIG = replace(tiny_config(), encoder={"steps": 12, "batch_size": 8, "checkpoint_every": 4, "log_every": 4})


@pytest.fixture
def run(tmp_path, tiny_generator):
    from dcgan_inversion import config as config_lib

    paths = RunPaths(tmp_path / "run")
    paths.root.mkdir()
    config_lib.save_config(CONFIG, paths.config)
    export_generator(tiny_generator, paths, 0)
    return paths


def test_training_writes_the_encoder_its_record_and_learns(run, tiny_generator):
    record = train_encoder(tiny_generator, replace(CONFIG, encoder={"steps": 60}), run.root, verbose=False)
    assert run.encoder_weights.exists() and json.loads(run.encoder_record.read_text())["steps"] == 60
    assert record["held_out_z_error_median"] < 1 / 3  # below guessing 0 for z ~ U(-1, 1)
    assert record["training_step_equivalents"] == round(encoder_cost_per_sample(tiny_generator, load_encoder(run.root))
                                                        * 60 * 8)
    assert 0 < record["start_step_equivalents_per_row"] < 1


def test_training_resumes_where_it_stopped(run, tiny_generator):
    train_encoder(tiny_generator, replace(CONFIG, encoder={"steps": 8}), run.root, verbose=False)
    resumed = EncoderTraining(tiny_generator, CONFIG, run.root)
    assert resumed.restore() == 8
    record = train_encoder(tiny_generator, CONFIG, run.root, verbose=False)
    assert record["steps_this_call"] == 4


def test_table1_starts_at_the_encoders_guess_and_counts_it(run, tiny_generator, tmp_path):
    from dcgan_inversion.gan.sampling import encoder_starts
    from dcgan_inversion.paper.experiments import Experiment, generated_latents, recover_generated_latents, table1

    train_encoder(tiny_generator, CONFIG, run.root, verbose=False)
    encoder = load_encoder(run.root)
    config = replace(CONFIG, invert={"start": "encoder", "steps": 5}, experiments={"table1_latents": 3})
    record = table1(Experiment(tiny_generator, config, tmp_path / "results", progress=False, encoder=encoder))
    assert record["start_step_equivalents"] == round(encoder_start_cost(tiny_generator, encoder), 3)
    # With a zero learning rate the rows stay where they started: at E(G(z)), not at the random draws.
    frozen = replace(config, invert={"learning_rate": 0.0, "steps": 1}, polish={"method": "none"})
    z_true, random_starts = generated_latents(config, 3)
    guesses = encoder_starts(encoder, tiny_generator(z_true, training=False).numpy())
    result = recover_generated_latents(tiny_generator, frozen, 3, encoder=encoder)
    np.testing.assert_allclose(result.z[:3], guesses, atol=1e-6)
    assert not np.allclose(guesses, random_starts)


def test_an_encoder_start_without_an_encoder_is_one_line(run):
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "invert/invert.py", "--run", str(run.root), "--experiment", "table1",
                             "--set", "invert.start=encoder"], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=300)
    assert "has no encoder.weights.h5: train one first (make encoder" in one_error_line(result)


def test_the_benchmark_compares_the_starts_side_by_side(run, tiny_generator):
    from dcgan_inversion.bench.starts import compare_starts, markdown

    train_encoder(tiny_generator, CONFIG, run.root, verbose=False)
    from dcgan_inversion import config as config_lib

    config_lib.save_config(replace(CONFIG, invert={"steps": 20}, polish={"method": "broyden_lm", "iterations": 3}),
                           run.config)
    logged = []
    report = compare_starts(run.root, 2, logged.append)
    assert list(report["methods"]) == ["random start, layerwise_lm", "random start (default)",
                                       "encoder start", "encoder start, polish at once"]
    assert report["methods"]["random start (default)"]["start_step_equivalents"] == 0
    assert report["methods"]["encoder start"]["start_step_equivalents"] > 0
    assert report["winner"] in report["methods"] and len(logged) == 4 and report["polish"] == "broyden_lm"
    table = "\n".join(markdown(report))
    assert "| encoder start, polish at once |" in table and ("pays for itself" in table or "saves nothing" in table)


def test_the_verdicts_can_start_at_the_encoders_guess(run, tiny_generator, monkeypatch):
    from dcgan_inversion.user_images import measure as verdicts

    train_encoder(tiny_generator, CONFIG, run.root, verbose=False)
    z = np.random.default_rng(2).uniform(-1, 1, (2, 100)).astype(np.float32)
    monkeypatch.setattr(verdicts, "categories", lambda generator, config: {"generated": generator(z).numpy()})
    config = replace(CONFIG, invert={"steps": 10}, polish={"method": "layerwise_lm", "iterations": 2})
    report = verdicts.measure(tiny_generator, config, 2, "stochastic", load_encoder(run.root))
    assert report["encoder_start"] and report["counted_step_equivalents_per_image"] > 0
    assert "the first at the run's encoder's guess" in verdicts.markdown(report)


def test_image_on_a_run_with_an_encoder_starts_at_its_guess(run, tiny_generator, tmp_path, capsys):
    from PIL import Image

    from dcgan_inversion import cli
    from dcgan_inversion.data.images import to_uint8

    train_encoder(tiny_generator, CONFIG, run.root, verbose=False)
    z = np.random.default_rng(3).uniform(-1, 1, (1, 100)).astype(np.float32)
    Image.fromarray(to_uint8(tiny_generator(z).numpy())[0]).save(tmp_path / "drawn.png")
    quick = ["--set", "invert.steps=10", "--set", "polish.iterations=2"]
    cli.invert_main(["--run", str(run.root), "--image", str(tmp_path / "drawn.png"), *quick])
    summary = json.loads((run.results / "images" / "summary.json").read_text())
    assert summary["starts"] == 2 and summary["config"]["invert"]["start"] == "encoder"
    assert "starting each image at encoder.weights.h5's guess" in capsys.readouterr().out
    cli.invert_main(["--run", str(run.root), "--image", str(tmp_path / "drawn.png"), "--starts", "3", *quick])
    summary = json.loads((run.results / "images" / "summary.json").read_text())
    assert summary["starts"] == 3 and summary["config"]["invert"]["start"] == "random"

"""Named inversion protocols (the authors' GD, Amos's Adam) on any trained run: settings, batch
statistics, the sticky metric and early stop, and the command end to end on 16 px and 64 px runs."""
import json

import numpy as np
import pytest

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import ConfigError
from dcgan_inversion.paper.protocols import available_protocols, protocol_config
from dcgan_inversion.training.trainer import train

from conftest import cli_command, one_error_line, run_invert, tiny_config

SMALL = {"table1_latents": 3, "noise_latents": 2, "noise_variances": [0.0, 0.1], "uniqueness_images": 1,
         "uniqueness_restarts": 3, "trajectory_targets": 2, "trajectory_snapshots": [0, 5]}


def test_shipped_protocols():
    assert {"authors", "authors_moving", "amos"} <= set(available_protocols())


def test_authors_protocol_settings_come_from_the_preset_and_the_model_from_the_run():
    run_config = config_lib.replace(tiny_config(), experiments={"table1_latents": 7},
                                    polish={"method": "levenberg_marquardt"})
    config = protocol_config("authors", run_config)
    assert config.model == run_config.model and config.data == run_config.data
    assert config.experiments.table1_latents == 7  # sizes stay the run's
    invert = config.invert
    assert (invert.optimizer, invert.learning_rate, invert.schedule) == ("sgd", 1.0, "step")
    assert (invert.decay_steps, invert.decay_rate, invert.steps) == (50000, 0.5, 100000)
    assert (invert.batch_norm, invert.early_stop_rule, invert.early_stop_threshold) == ("batch", "sticky", 1e-5)
    assert config.polish.method == "none"
    assert protocol_config("authors_moving", run_config).invert.batch_norm == "moving"
    amos = protocol_config("amos", run_config).invert
    assert (amos.optimizer, amos.learning_rate, amos.beta1, amos.beta2, amos.schedule, amos.steps) == (
        "adam", 0.01, 0.9, 0.999, "constant", 100000)
    assert protocol_config("authors", run_config, ["invert.steps=300"]).invert.steps == 300


def test_authors_rate_is_halved_every_50000_steps():
    import tensorflow as tf

    from dcgan_inversion.inversion import learning_rate

    schedule = learning_rate(protocol_config("authors", tiny_config()).invert)
    rates = [float(schedule(tf.constant(step))) for step in (0, 49999, 50000, 99999)]
    assert rates == [1.0, 1.0, 0.5, 0.5]


def test_protocol_and_config_mistakes_are_one_line():
    with pytest.raises(ConfigError, match="unknown protocol 'nope'"):
        protocol_config("nope", tiny_config())
    with pytest.raises(ConfigError, match="set polish.method=none"):
        protocol_config("authors", tiny_config(), ["polish.method=levenberg_marquardt"])
    with pytest.raises(ConfigError, match="early_stop_threshold: 0.5 is not one of"):
        protocol_config("authors", tiny_config(), ["invert.early_stop_threshold=0.5"])


def _invert(generator, z_true, z_init, mode="stochastic", **invert):
    from dcgan_inversion.gan.model import BatchStatisticsGenerator

    config = config_lib.InvertConfig(**{"steps": 20, "steps_per_call": 5, **invert})
    phi = BatchStatisticsGenerator(generator) if config.batch_norm == "batch" else generator
    targets = phi(z_true).numpy()
    rows = len(z_true)
    return run_invert(phi, config, targets, z_init, [mode] * rows, z_true, group_rows=rows)


def test_the_authors_steps_are_plain_gradient_descent_on_their_loss(tiny_generator, tiny_problem):
    """Written out by hand from their graph: G normalising each batch (the true latents', then the
    estimates') by its own statistics, the loss each image's mean squared pixel error summed over
    the batch, and z' -= lr * gradient."""
    import keras
    import tensorflow as tf

    z_true, _, z_start = tiny_problem
    result = _invert(tiny_generator, z_true, z_start, mode="none", optimizer="sgd", learning_rate=1.0,
                     batch_norm="batch")
    generator = keras.models.clone_model(tiny_generator)  # its moving averages may move: a copy
    generator.set_weights(tiny_generator.get_weights())
    targets = generator(z_true, training=True)
    z = tf.Variable(z_start)
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.reduce_mean(tf.square(generator(z, training=True) - targets), axis=[1, 2, 3]))
        z.assign_sub(1.0 * tape.gradient(loss, z))
    moved = z.numpy() - z_start
    assert np.abs(moved).max() > 1e-4  # the comparison below is of real steps
    np.testing.assert_allclose(result.z - z_start, moved, rtol=1e-3, atol=1e-6)


def test_batch_statistics_couple_rows_and_leave_moving_averages_alone(tiny_generator, tiny_problem):
    from dcgan_inversion.gan.model import BatchStatisticsGenerator

    z_true, _, z_start = tiny_problem
    before = [weights.copy() for weights in tiny_generator.get_weights()]
    result = _invert(tiny_generator, z_true, z_start, optimizer="sgd", learning_rate=1.0, batch_norm="batch")
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_generator.get_weights()))
    assert result.steps == 20 and np.all(np.isfinite(result.z))
    phi = BatchStatisticsGenerator(tiny_generator)
    others_moved = z_true.copy()
    others_moved[1:] = 0.0
    assert not np.allclose(phi(z_true).numpy()[0], phi(others_moved).numpy()[0], atol=1e-4)  # rows are coupled
    at_truth = _invert(tiny_generator, z_true, z_true, optimizer="sgd", learning_rate=0.0, batch_norm="batch")
    assert np.max(at_truth.pixel_error) == 0.0  # the batch of true latents reproduces its own targets exactly


def test_sticky_early_stop_ends_the_run_once_every_row_crossed(tiny_generator, tiny_problem):
    z_true, _, _ = tiny_problem
    z_near = z_true + np.float32(1e-3)  # z error 1e-6, and gradient descent only lowers it
    result = _invert(tiny_generator, z_true, z_near, optimizer="sgd", learning_rate=1.0, batch_norm="batch",
                     early_stop_threshold=1e-5, early_stop_rule="sticky")
    assert result.steps == 5 and result.ever_below(1e-5).all()  # the first check, not the 20 steps


def test_sticky_rule_counts_rows_that_drift_back():
    """A row that was ever below the level counts for the authors' stop, whatever its error now."""
    from types import SimpleNamespace

    from dcgan_inversion.inversion import all_recovered

    thresholds = (1e-1, 1e-5, 1e-8)
    crossed_then_left = SimpleNamespace(first_step=lambda: np.array([[3, 7, -1], [2, 9, -1]]))
    now = np.array([1e-6, 2e-5])  # the second row drifted back above 1e-5
    sticky = config_lib.InvertConfig(thresholds=thresholds, early_stop_threshold=1e-5, early_stop_rule="sticky")
    final = config_lib.InvertConfig(thresholds=thresholds, early_stop_threshold=1e-5, early_stop_rule="final")
    assert all_recovered(sticky, now, crossed_then_left)
    assert not all_recovered(final, now, crossed_then_left)
    smallest = config_lib.InvertConfig(thresholds=thresholds)  # default: every row below the smallest now
    assert not all_recovered(smallest, np.array([1e-9, 1e-7]), crossed_then_left)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A 16 px run, trained for a few steps."""
    run = tmp_path_factory.mktemp("run16")
    train(config_lib.replace(tiny_config(), experiments=SMALL), run, verbose=False)
    return run


@pytest.fixture(scope="module")
def large_run(tmp_path_factory):
    """A 64 px run, trained for two steps (trained only when a test asks for it)."""
    run = tmp_path_factory.mktemp("run64")
    train(config_lib.replace(tiny_config(), model={"image_size": 64, "gf_dim": 4, "df_dim": 4},
                             train={"steps": 2}, experiments=SMALL), run, verbose=False)
    return run


SHORT = ["--set", "invert.steps=40", "--set", "invert.steps_per_call=20", "--set", "experiments.trajectory_steps=10",
         "--set", "experiments.noise_steps=10"]


# The 64 px run (the paper's size, ~25 s) is slow-marked; the 16 px run keeps the same path in the quick suite.
@pytest.mark.parametrize("size", ["small_run", pytest.param("large_run", marks=pytest.mark.slow)], ids=["16px", "64px"])
def test_authors_protocol_end_to_end(request, size):
    run = request.getfixturevalue(size)
    result = cli_command("invert", "--run", run, "--protocol", "authors", *SHORT)
    assert result.returncode == 0, result.stderr
    results = run / "results" / "authors"
    table1 = json.loads((results / "table1.json").read_text())
    assert table1["config"]["invert"]["batch_norm"] == "batch"
    assert table1["config"]["model"]["image_size"] == {"small_run": 16, "large_run": 64}[size]
    for values in table1["modes"].values():
        for level, rate in values["sticky"].items():
            assert rate >= values["final"][level]  # ever below includes below at the end
    assert {"table1.json", "noise.json", "uniqueness.json", "trajectory.json"} <= {p.name for p in results.iterdir()}
    assert not (run / "results" / "table1.json").exists()  # the default results stay apart
    assert "(rows 1-3 of 9, none)" in result.stdout  # one batch per clip mode
    if size == "small_run":  # the curvature analysis compares with the finished table1
        curvature = cli_command("invert", "--run", run, "--protocol", "authors", "--curvature", *SHORT)
        assert curvature.returncode == 0, curvature.stderr
        assert "largest stable rate" in curvature.stdout
        record = json.loads((results / "curvature.json").read_text())
        assert record["learning_rate_in_window"] == 1.0 and record["latents"] == 3
        assert set(record["modes"]) == {"none", "standard", "stochastic"}
    figures = cli_command("figures", "--run", run, "--protocol", "authors")
    assert figures.returncode == 0, figures.stderr
    table = (run / "figures" / "authors" / "table1.md").read_text()
    assert "ever below (sticky, as the paper counted)" in table and "at the end (final state)" in table
    assert (run / "figures" / "authors" / "convergence.png").exists()
    assert (run / "figures" / "authors" / "curvature.png").exists() == (size == "small_run")


def test_curvature_needs_a_finished_table1(small_run):
    line = one_error_line(cli_command("invert", "--run", small_run, "--protocol", "amos", "--curvature"))
    assert "compares with a finished table1" in line


@pytest.mark.parametrize("damage", ["truncated npz", "emptied npz", "a list"])
def test_curvature_over_a_damaged_table1_is_one_line(small_run, tmp_path, damage):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(small_run, run, ignore=shutil.ignore_patterns("results"))
    results = run / "results" / "amos"
    results.mkdir(parents=True)
    (results / "table1.json").write_text("[1, 2]" if damage == "a list" else '{"experiment": "table1"}')
    (results / "table1.npz").write_bytes(b"PK\x03\x04 truncated" if damage == "truncated npz" else b"")
    line = one_error_line(cli_command("invert", "--run", run, "--protocol", "amos", "--curvature"))
    assert "compares with a finished table1" in line


def test_protocol_needs_a_trained_run(tmp_path):
    line = one_error_line(cli_command("invert", "--run", tmp_path, "--protocol", "authors"))
    assert "config.yaml is missing: train the run first" in line


def test_a_damaged_run_config_is_one_line(tmp_path):
    (tmp_path / "config.yaml").write_text("model: {image_size: 32\n  z_dim: [\n")
    line = one_error_line(cli_command("invert", "--run", tmp_path, "--protocol", "authors"))
    assert "config.yaml: not valid YAML (line 2)" in line


def test_protocols_table_puts_each_protocol_beside_our_default_and_the_paper(small_run):
    run = small_run
    config = run / "tiny.yaml"
    config_lib.save_config(config_lib.load_config(str(run / "config.yaml"), ["invert.steps=10", "polish.method=none"]),
                           config)
    assert cli_command("invert", "--run", run, "--config", config, "--experiment", "table1").returncode == 0
    if not (run / "results" / "authors" / "table1.json").exists():
        assert cli_command("invert", "--run", run, "--protocol", "authors", "--experiment", "table1", *SHORT).returncode == 0
    figures = cli_command("figures", "--run", run, "--only", "protocols")
    assert figures.returncode == 0, figures.stderr
    table = (run / "figures" / "table1_protocols.md").read_text()
    for mode in ("none", "standard", "stochastic"):
        assert f"| {mode} | paper (authors' GD, 100k steps, sticky) |" in table
        assert f"| {mode} | authors: sgd lr 1 (step), batch-statistics BN, 40 steps, sticky |" in table
        assert f"| {mode} | our default (10 steps (first-order, at most 10)), final |" in table

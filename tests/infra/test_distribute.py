"""tf.distribute: a mirrored strategy over two logical CPUs matches one device; two workers train."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from conftest import latest_checkpoint_step, one_error_line, run_invert, tiny_config
from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.distribute import make_strategy, shard_slices
from dcgan_inversion.gan.model import make_generator
from dcgan_inversion.infra.preemption import EXIT_STATUS
from dcgan_inversion.training.trainer import DCGANTrainer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mirrored():
    strategy = make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2  # conftest split the CPU in two
    return strategy


def test_shards_are_contiguous_and_cover_every_row():
    assert shard_slices(7, 2) == [slice(0, 4), slice(4, 7)]
    assert shard_slices(1, 2) == [slice(0, 1), slice(1, 1)]


def _batches(strategy, images, count):
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(len(images) // count, drop_remainder=True)
    return iter(strategy.experimental_distribute_dataset(dataset))


def test_mirrored_training_steps_match_one_device(tmp_path, mirrored):
    config = tiny_config()
    single = DCGANTrainer(config, tmp_path / "single")
    replicated = DCGANTrainer(config, tmp_path / "mirrored", mirrored)
    for source, target in ((single.generator, replicated.generator), (single.discriminator, replicated.discriminator)):
        target.set_weights(source.get_weights())
    images = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 3)).astype(np.float32)  # two global batches
    single_batches, mirrored_batches = _batches(tf.distribute.get_strategy(), images, 2), _batches(mirrored, images, 2)
    for _ in range(2):
        expected = single.train_step(next(single_batches))
        actual = replicated.train_step(next(mirrored_batches))
        for name in expected:
            np.testing.assert_allclose(actual[name], expected[name], rtol=1e-4, atol=1e-5)
    for model, other in ((single.generator, replicated.generator), (single.discriminator, replicated.discriminator)):
        names = {weight.path for weight in model.weights}
        for weight, expected, actual in zip(model.weights, model.get_weights(), other.get_weights()):
            if not _cancelled_by_batch_norm(weight.path, names):
                np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-6, err_msg=weight.path)
    assert int(replicated.step.numpy()) == 2


def _cancelled_by_batch_norm(path, names):
    """A bias feeding batch norm has an exactly-zero gradient: Adam turns its rounding noise into
    +-lr steps, so it (and the moving mean that follows it) is noise in both runs."""
    layer, name = path.split("/")
    return (name == "bias" and f"{layer}_bn/gamma" in names) or (name == "moving_mean" and layer.endswith("_bn"))


def test_training_refuses_a_batch_that_does_not_split(tmp_path, mirrored):
    from dcgan_inversion.infra.errors import UserError

    with pytest.raises(UserError, match="does not split evenly over 2 replicas"):
        DCGANTrainer(tiny_config(train={"batch_size": 7}), tmp_path, mirrored)


@pytest.mark.parametrize("rows, switch", [(7, "after_steps"), (1, "after_steps"), (12, "stalled")])
def test_sharded_inversion_matches_one_device(tiny_generator, mirrored, rows, switch):
    """Rows split over two replicas (unevenly, or one idle; or leaving one by one as their loss
    stalls, the shards rebuilt) give the one-device result, polish included."""
    with mirrored.scope():
        generator = make_generator(tiny_config().model)
    generator.set_weights(tiny_generator.get_weights())
    rng = np.random.default_rng(1)
    z_true = rng.uniform(-1, 1, (rows, 100)).astype(np.float32)
    z_init = rng.uniform(-1, 1, (rows, 100)).astype(np.float32)
    modes = (["stochastic", "standard", "none"] * 4)[:rows]
    targets = tiny_generator(z_true, training=False).numpy()
    steps = 40 if switch == "after_steps" else 150
    invert_config = config_lib.InvertConfig(learning_rate=0.05, steps=steps, steps_per_call=10)
    polish = config_lib.PolishConfig(method="levenberg_marquardt", iterations=3, chunk_rows=2)
    search = config_lib.SearchConfig(switch=switch, stall_window=10, stall_improvement=0.05)
    expected = run_invert(tiny_generator, invert_config, targets, z_init, modes, z_true, seed=3, polish=polish,
                          search=search)
    actual = run_invert(generator, invert_config, targets, z_init, modes, z_true, seed=3, polish=polish,
                        search=search, strategy=mirrored)
    np.testing.assert_array_equal(actual.switch_step, expected.switch_step)
    assert switch == "after_steps" or len(set(expected.switch_step)) > 2
    np.testing.assert_allclose(actual.z_before_polish, expected.z_before_polish, atol=1e-5)
    np.testing.assert_allclose(actual.z, expected.z, atol=1e-5)
    np.testing.assert_allclose(actual.pixel_error, expected.pixel_error, rtol=1e-3, atol=1e-9)
    assert actual.steps == expected.steps


def test_multi_worker_needs_tf_config(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    result = subprocess.run([sys.executable, str(ROOT / "train" / "train.py"), "--run", str(tmp_path / "run"),
                             "--distribute", "multi_worker"], capture_output=True, text=True, env=environment,
                            timeout=120)
    assert "needs TF_CONFIG" in one_error_line(result)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _start_two_workers(config, tmp_path, run_dir) -> list:
    """`train.py --distribute multi_worker` twice on 127.0.0.1, each with its TF_CONFIG."""
    config_file = tmp_path / "tiny.yaml"
    config_lib.save_config(config, config_file)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        environment = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen(
            [sys.executable, str(ROOT / "train" / "train.py"), "--config", str(config_file), "--run", str(run_dir),
             "--distribute", "multi_worker"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment))
    return workers


def test_two_workers_train_and_the_chief_checkpoint_loads(tmp_path):
    """Two processes on 127.0.0.1 with TF_CONFIG; bounded by a timeout so it cannot hang CI."""
    config = tiny_config()
    run_dir = tmp_path / "run"
    workers = _start_two_workers(config, tmp_path, run_dir)
    try:
        outputs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output
    assert "on 2 replicas (multi_worker)" in outputs[0] and "training" not in outputs[1]  # only the chief reports
    restored = DCGANTrainer(config, run_dir)
    assert restored.restore() == config.train.steps
    assert (run_dir / "generator.weights.h5").exists()


@pytest.mark.slow  # two workers to 20 steps and a preemption (~50 s); its parts stay in the quick suite:
# test_two_workers_train_and_the_chief_checkpoint_loads and tests/infra/test_preemption.py's one-process SIGTERM
def test_sigterm_to_one_worker_makes_every_worker_save_and_stop(tmp_path):
    """TensorFlow's PreemptionCheckpointHandler: one worker is preempted, all save the same step."""
    config = config_lib.replace(tiny_config(), train={"steps": 100000, "checkpoint_every": 20, "sample_every": 100000})
    run_dir = tmp_path / "run"
    workers = _start_two_workers(config, tmp_path, run_dir)
    try:
        deadline = time.time() + 180
        while latest_checkpoint_step(run_dir / "checkpoints") < 20 and time.time() < deadline:
            time.sleep(0.2)
        workers[1].send_signal(signal.SIGTERM)  # the non-chief only
        outputs = [worker.communicate(timeout=180)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert [worker.returncode for worker in workers] == [EXIT_STATUS, EXIT_STATUS], outputs
    assert "stopped: SIGTERM in the cluster: every worker saved a checkpoint at step" in outputs[0]
    stopped_at = int(outputs[0].split("checkpoint at step ")[1].split(";")[0])
    restored = DCGANTrainer(config, run_dir)
    assert restored.restore() == stopped_at >= 20


def test_broyden_polish_keeps_each_rows_jacobian_on_its_replica(tiny_generator, tiny_problem, mirrored):
    """Rows split over two replicas (row i on replica i % 2, its Jacobian kept there) polish as on one device."""
    from dcgan_inversion.inversion.broyden import BroydenLevenbergMarquardt

    with mirrored.scope():
        generator = make_generator(tiny_config().model)
    generator.set_weights(tiny_generator.get_weights())
    z_true, targets, z_start = (array[:5] for array in tiny_problem)
    config = config_lib.PolishConfig(method="broyden_lm", iterations=12, chunk_rows=2)
    expected, expected_info = BroydenLevenbergMarquardt(tiny_generator, config).run(z_start, targets)
    polisher = BroydenLevenbergMarquardt(generator, config, strategy=mirrored)
    actual, info = polisher.run(z_start, targets)
    np.testing.assert_allclose(actual, expected, atol=1e-4)  # float32 rounding differs with the chunks' sizes
    np.testing.assert_allclose(info["counted"], expected_info["counted"])
    assert info["row_iterations"] == expected_info["row_iterations"] and polisher.state is None  # let go after the run

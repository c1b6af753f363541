"""TensorFlow's own distribution engine, picked by `distribute.strategy`.

    default       one device: tf.distribute's default strategy
    mirrored      tf.distribute.MirroredStrategy over every local GPU, or every logical CPU
                  device when there is no GPU (how the tests run it on a CPU)
    multi_worker  tf.distribute.MultiWorkerMirroredStrategy over the cluster in TF_CONFIG

Training is data-parallel (train.py). Inversion is row-parallel: rows are independent problems
in inference mode, so each replica owns a contiguous shard of rows and nothing is exchanged
between replicas until the results are gathered in the original order (inversion/shards.py).
"""
from __future__ import annotations

import functools
import json
import os

import numpy as np

from dcgan_inversion.infra.errors import UserError


def check_tf_config() -> None:
    """multi_worker needs a cluster in TF_CONFIG; says what is wrong in one line (no TensorFlow)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise UserError("distribute.strategy=multi_worker needs TF_CONFIG "
                        '(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                        '"task": {"type": "worker", "index": 0}}; see the README)')
    try:
        tf_config = json.loads(raw)
        cluster, task = tf_config["cluster"], tf_config["task"]
        members = cluster[task["type"]]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"TF_CONFIG is not a cluster spec with a task of the cluster "
                        f"({type(error).__name__}: {error})") from None
    if not 0 <= index < len(members):
        raise UserError(f"TF_CONFIG task index {index} is not in its {task['type']} list of {len(members)}")


@functools.cache
def make_strategy(name: str):
    """The strategy for `name`; created once per process (MultiWorkerMirroredStrategy must be)."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy([device.name for device in gpus or tf.config.list_logical_devices("CPU")])
    if name == "multi_worker":
        check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}")


def split_cpu(count: int) -> None:
    """Splits the CPU into `count` logical devices, so a mirrored strategy has replicas to use.

    Must run before TensorFlow initialises its devices (tests and CPU-only experiments).
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def is_chief(strategy) -> bool:
    """The process that writes the run directory: the only one, the chief, or worker 0."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def replica_devices(strategy) -> tuple:
    """One device name per local replica; (None,) for the default strategy (the current device)."""
    try:
        return tuple(strategy.extended.worker_devices)
    except (RuntimeError, NotImplementedError):
        return (None,)


def replica_ids(strategy):
    """A distributed value holding each replica's index, so `strategy.run` can pick its shard."""
    return strategy.experimental_distribute_values_from_function(lambda context: context.replica_id_in_sync_group)


def shard_slices(rows: int, shards: int) -> list[slice]:
    """Contiguous, near-equal row ranges, in order (np.array_split's sizes); some may be empty."""
    bounds = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(rows), shards)])
    return [slice(int(first), int(last)) for first, last in zip(bounds[:-1], bounds[1:])]

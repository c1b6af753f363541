"""The run directory's layout and its saved config: one folder holds everything a run produced (like Flax's `workdir`).

    <run>/config.yaml              resolved config of the training run
    <run>/generator.weights.h5     trained generator, loaded by the inversion
    <run>/discriminator.weights.h5 an imported run's discriminator (trained runs keep theirs in checkpoints/)
    <run>/imported.json            where an imported run's weights came from (dcgan-import; no training state)
    <run>/encoder.weights.h5       an amortised start E(x) -> z (make encoder), encoder.json its record,
    <run>/encoder/                 and its training checkpoints
    <run>/checkpoints/             tf.train.CheckpointManager (models, optimizers, step, RNG)
    <run>/samples/                 fixed-z 8x8 sample grids (latest.png is the newest)
    <run>/logs/                    TensorBoard scalars
    <run>/results/                 inversion experiments (JSON + NPZ)
    <run>/figures/                 figures and tables
    <run>/results/<protocol>/      the same for a named protocol (protocols.py), and
    <run>/figures/<protocol>/      its figures and tables
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dcgan_inversion import config as config_lib
from dcgan_inversion.infra.errors import UserError


LAST_SECTION = "distribute"  # save_config writes the sections in schema order; this one comes last


@dataclass(frozen=True)
class RunPaths:
    root: Path
    protocol: str | None = None  # results and figures of a named protocol live in their own folders

    def __init__(self, root, protocol: str | None = None):
        object.__setattr__(self, "root", Path(root))
        object.__setattr__(self, "protocol", protocol)

    def default(self) -> "RunPaths":
        """The run's own results (our default method), whatever protocol these paths are for."""
        return self.for_protocol(None)

    def for_protocol(self, protocol: str | None) -> "RunPaths":
        """The same run's paths for another protocol's results (None: our default method's)."""
        return type(self)(self.root, protocol)

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def generator_weights(self) -> Path:
        return self.root / "generator.weights.h5"

    @property
    def discriminator_weights(self) -> Path:
        return self.root / "discriminator.weights.h5"

    @property
    def imported(self) -> Path:
        return self.root / "imported.json"

    @property
    def label_rows(self) -> Path:
        """A conditional generator's class rows (gan/labels.py)."""
        return self.root / "labels.npz"

    @property
    def encoder_weights(self) -> Path:
        return self.root / "encoder.weights.h5"

    @property
    def encoder_record(self) -> Path:
        return self.root / "encoder.json"

    @property
    def encoder_checkpoints(self) -> Path:
        return self.root / "encoder"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def latest_samples(self) -> Path:
        return self.samples / "latest.png"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def results(self) -> Path:
        return self.root / "results" / (self.protocol or "")

    @property
    def figures(self) -> Path:
        return self.root / "figures" / (self.protocol or "")


class PublishedPaths(RunPaths):
    """A published results folder (`make publish`'s docs/results): a run's result JSON and NPZ files
    with their figures beside them, a protocol's in a subfolder of its name. Figures re-render from
    it without the run (no weights, no training logs: the training figure needs the run)."""

    @property
    def results(self) -> Path:
        return self.root / (self.protocol or "")

    @property
    def figures(self) -> Path:
        return self.results


def saved_config(run_dir) -> config_lib.Config | None:
    paths = RunPaths(run_dir)
    if not paths.config.exists():
        return None
    raw = config_lib.read_mapping(paths.config)  # damaged: one line
    if not raw:  # an emptied file would read as the defaults, which describe another model
        raise UserError(f"{paths.config} is empty: it must hold the config the run was trained with")
    if isinstance(raw, dict) and LAST_SECTION not in raw:  # cut short: the lost sections would read as defaults
        raise UserError(f"{paths.config} is incomplete (it has no '{LAST_SECTION}' section, the last one a run "
                        "writes): it was cut short; restore it, or train the run again")
    return config_lib.from_dict(raw, source=str(paths.config))


def trained_config(run_dir, hint: str = "") -> config_lib.Config:
    """The config a run was trained with, or one line saying to train it first (`hint`: another way out)."""
    config = saved_config(run_dir)
    if config is None:
        raise UserError(f"{RunPaths(run_dir).config} is missing: train the run first (make train RUN={run_dir}){hint}")
    return config

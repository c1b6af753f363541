"""The config schema: one frozen dataclass per section, each field with its default, its valid
range and a line of documentation (`_spec`), which files.py checks every value against."""
from __future__ import annotations

import typing
from dataclasses import dataclass, field

from dcgan_inversion.infra.errors import UserError

EXPERIMENTS = ("table1", "noise", "uniqueness", "trajectory")
EXTRA_EXPERIMENTS = ("completion", "edits")  # beyond the paper: run only when named (--experiment completion)
MASKS = ("center", "left", "random", "grid", "lowres", "full")
COMPLETION_METHODS = ("ours", "amos")  # the package's inversion of the known pixels; Amos's loss
CLIP_MODES = ("none", "standard", "stochastic")  # Sec. 2; the clip ops live in clip.py
ARCHITECTURES = ("amos", "pytorch_dcgan", "mlp", "keras")  # gan/architectures/, one module each
DCGAN_SIZES = (16, 32, 64, 128)  # 4 x 2^k: the DCGAN architectures' image sides
ACTIVATIONS = ("relu", "leaky_relu")  # the generator's hidden activation
LATENTS = ("uniform", "normal")  # gan/latents.py
STRATEGIES = ("default", "mirrored", "multi_worker")


SEED_MAX = 2**31 - 1


class ConfigError(UserError):
    """A config file or override that cannot be used as it is."""


def _spec(default, *, minimum=None, maximum=None, choices=None, may_be_empty=False, opt_in=False, doc=""):
    """A dataclass field carrying its validation rules in metadata (a list must hold at least one
    value unless `may_be_empty`).

    `opt_in`: an option added after runs were made, whose default does what they did; at its default
    it is left out of checkpoint fingerprints, so those runs stay resumable. Never change its default.
    """
    meta = {"minimum": minimum, "maximum": maximum, "choices": choices, "may_be_empty": may_be_empty,
            "opt_in": opt_in, "doc": doc}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelConfig:
    """The DCGAN, its architecture and latent prior, sized by image size and widths (REFERENCE: "The model")."""

    architecture: str = _spec("amos", choices=ARCHITECTURES,
                              doc="amos: Amos's DCGAN (5x5 kernels, biases, a dense projection and logit); "
                                  "pytorch_dcgan: pytorch/examples' DCGAN (4x4 kernels, no biases, a 4x4 conv logit); "
                                  "mlp: a vanilla GAN's generator (dense layers, tanh, reshaped to the image; "
                                  "g_channels are its hidden widths; its discriminator is pytorch_dcgan's); "
                                  "keras: a Keras model file kept in the run (dcgan-import gen.keras)")
    latent: str = _spec("uniform", choices=LATENTS,
                        doc="the prior of z: uniform U(-b, b) (the paper's, b = 1), or normal N(0, 1) kept in "
                            "[-b, b] by the clip ops; b is latent_box")
    latent_box: typing.Optional[float] = _spec(None, minimum=0.01, maximum=10.0,
                                               doc="b, the half-width of the box the clip ops keep z' in (every "
                                                   "component in [-b, b]); default per prior: 1 for uniform (the "
                                                   "paper's), 4.5 for normal (cuts off 6.8e-6 of the components, "
                                                   "0.07% of 100-dim latents)")
    image_size: int = _spec(64, minimum=8, maximum=512, doc="output side in pixels (the DCGAN architectures: 16, 32, "
                                                               "64 or 128)")
    z_dim: int = _spec(100, minimum=1)
    gf_dim: int = _spec(64, minimum=1, doc="generator width (filters of the last conv)")
    df_dim: int = _spec(64, minimum=1, doc="discriminator width (filters of the first conv)")
    channels: int = _spec(3, choices=(1, 3))
    g_channels: typing.Tuple[int, ...] = _spec((), minimum=1, may_be_empty=True,
                                               doc="channels of the 4x4 base and of each hidden transposed conv; "
                                                   "empty: gf_dim * 2^(stages-1), halving per stage (DCGAN). "
                                                   "Set by dcgan-import for checkpoints of another schedule; "
                                                   "mlp: the hidden layers' widths")
    conv_bias: bool = _spec(False, opt_in=True, doc="pytorch_dcgan: the generator's transposed convs have biases "
                                                    "(nn.ConvTranspose2d's default; pytorch/examples sets bias=False)")
    g_activation: str = _spec("relu", choices=ACTIVATIONS, opt_in=True,
                              doc="the generator's hidden activation (DCGAN: relu; mlp generators: leaky_relu)")
    g_leak: float = _spec(0.2, minimum=0.0, maximum=1.0, opt_in=True, doc="g_activation leaky_relu: its slope")
    g_norms: typing.Tuple[int, ...] = _spec((), minimum=0, may_be_empty=True, opt_in=True,
                                            doc="mlp: the hidden layers (from 0) followed by a batch norm")
    g_bn_eps: float = _spec(1e-5, minimum=0.0, opt_in=True, doc="mlp with g_norms: the batch norms' eps")
    labels: int = _spec(0, minimum=0, opt_in=True,
                        doc="a conditional generator: its first layer takes z followed by a one-hot class of this "
                            "many classes (0: unconditional)")
    label_names: typing.Tuple[str, ...] = _spec((), may_be_empty=True, opt_in=True,
                                                doc="labels > 0: a name per class (empty: the class numbers)")
    image_range: typing.Tuple[float, ...] = _spec((-1.0, 1.0), may_be_empty=False, opt_in=True,
                                                  doc="keras: the range of the model's output pixels, mapped onto "
                                                      "[-1, 1] (e.g. [0, 1] for a sigmoid output)")


@dataclass(frozen=True)
class DataConfig:
    """Where training images come from and how they are prepared."""

    source: str = _spec("demo", choices=("demo", "celeba"))
    path: typing.Optional[str] = _spec(None, doc="folder of images for source=celeba")
    crop_size: int = _spec(108, minimum=1, doc="centre crop before resizing (celeba)")
    holdout: int = _spec(4, minimum=0, doc="images kept out of training for the experiments")
    shuffle_buffer: int = _spec(10000, minimum=1)
    cache: str = _spec("off", doc="celeba: off (Pillow decodes every epoch), memory (decoded once per run), "
                                  "or a folder where the decoded images are kept for later runs (cache.py)")


@dataclass(frozen=True)
class TrainConfig:
    """Amos's training loop: Adam 2e-4 / 0.5, batch 64, one D then two G updates."""

    batch_size: int = _spec(64, minimum=1)
    steps: typing.Optional[int] = _spec(None, minimum=1, doc="total steps; or use epochs")
    epochs: typing.Optional[int] = _spec(25, minimum=1, doc="used when steps is null")
    learning_rate: float = _spec(2e-4, minimum=0.0)
    beta1: float = _spec(0.5, minimum=0.0, maximum=1.0)
    g_updates_per_step: int = _spec(2, minimum=1)
    sample_every: int = _spec(100, minimum=1)
    checkpoint_every: int = _spec(500, minimum=1)
    log_every: int = _spec(10, minimum=1)
    checkpoints_to_keep: int = _spec(3, minimum=1)


@dataclass(frozen=True)
class InvertConfig:
    """The z' optimisation of Sec. 2: optimizer, learning-rate schedule, clip bounds, tracking."""

    optimizer: str = _spec("adam", choices=("adam", "sgd"), doc="Amos used Adam; the authors plain GD")
    learning_rate: float = _spec(0.01, minimum=0.0)
    beta1: float = _spec(0.9, minimum=0.0, maximum=1.0)
    beta2: float = _spec(0.999, minimum=0.0, maximum=1.0)
    epsilon: float = _spec(1e-8, minimum=0.0)
    schedule: str = _spec("constant", choices=("constant", "step", "exponential", "cosine"),
                          doc="step: x decay_rate every decay_steps; cosine: to alpha over all steps")
    decay_steps: int = _spec(50000, minimum=1)
    decay_rate: float = _spec(0.5, minimum=0.0, maximum=1.0)
    cosine_alpha: float = _spec(0.0, minimum=0.0, maximum=1.0)
    reset_moments: bool = _spec(False, doc="zero Adam moments of components stochastic clipping re-draws")
    steps: int = _spec(5000, minimum=1)
    steps_per_call: int = _spec(100, minimum=1, doc="steps per compiled call, between progress reports")
    max_rows: int = _spec(1024, minimum=1, doc="rows optimised together; more are split into batches")
    checkpoint_every: int = _spec(1000, minimum=0, doc="steps between checkpoints of a resumable inversion (0: none)")
    thresholds: typing.Tuple[float, ...] = _spec((1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10),
                                                 minimum=0.0, doc="tracked per row; the smallest ends the run early")
    early_stop: bool = _spec(True, doc="stop once every row is at early_stop_threshold (see early_stop_rule)")
    early_stop_threshold: typing.Optional[float] = _spec(None, minimum=0.0,
                                                         doc="one of thresholds; default: the smallest")
    early_stop_rule: str = _spec("final", choices=("final", "sticky"),
                                 doc="final: every row is below it now; sticky: every row has been below "
                                     "it at some step (the authors' loop)")
    batch_norm: str = _spec("moving", choices=("moving", "batch"),
                            doc="moving: BN moving averages, rows independent; batch: each batch's own "
                                "statistics, as the authors' code ran (rows coupled; one batch per group "
                                "of rows; the saved moving averages never change)")
    start: str = _spec("random", choices=("random", "encoder"),
                       doc="where rows start: random draws (the paper's), or the run's trained encoder E(x) "
                           "(make encoder; Table 1 and --image)")
    jit_compile: bool = _spec(False, doc="XLA; measured 8-16x slower on CPU")
    precision: str = _spec("float32", choices=("float32", "mixed_bfloat16"),
                           doc="compute dtype of the first-order phase; the polish always runs in float32")


@dataclass(frozen=True)
class PolishConfig:
    """Second-order polish after the first-order phase (beyond the paper; see inversion/polishing.py)."""

    method: str = _spec("none", choices=("none", "levenberg_marquardt", "layerwise_lm", "broyden_lm"),
                        doc="layerwise_lm: the same LM, its Jacobian pushed layer by layer (inversion/jacobian.py); "
                            "broyden_lm: layerwise_lm keeping each row's Jacobian by rank-1 updates (broyden.py)")
    iterations: int = _spec(10, minimum=0)
    initial_damping: float = _spec(1e-3, minimum=0.0)
    damping_down: float = _spec(0.3, minimum=0.0, maximum=1.0, doc="lambda factor after an accepted step")
    damping_up: float = _spec(10.0, minimum=1.0, doc="lambda factor after a rejected step")
    chunk_rows: int = _spec(16, minimum=1, doc="rows per Jacobian pass (memory: chunk_rows*z_dim images)")
    converged_relative_error: float = _spec(1e-12, minimum=0.0,
                                            doc="rows with pixel MSE below this x mean(target^2) are done")
    row_patience: int = _spec(0, minimum=0, doc="a row leaves the polish after this many iterations in a row that "
                                                "lowered its loss by less than row_tolerance (0: never)")
    row_budget: float = _spec(0.0, minimum=0.0, doc="a row still above restart_above leaves the polish once it has "
                                                    "spent this many counted step-equivalents (cost.py; 0: no "
                                                    "budget): rows in a wrong basin creep on, restarts serve them "
                                                    "better")
    row_tolerance: float = _spec(1e-3, minimum=0.0, maximum=1.0, doc="relative loss decrease that counts as progress")
    refresh_patience: int = _spec(2, minimum=1, doc="broyden_lm: a fresh Jacobian after this many iterations in a "
                                                     "row without progress on the updated one")
    refresh_improvement: float = _spec(0.2, minimum=0.0, maximum=1.0,
                                       doc="broyden_lm: an iteration on the updated Jacobian makes progress when it "
                                           "lowers the row's loss by at least this fraction")
    jacobian_memory_mb: int = _spec(4096, minimum=1, doc="broyden_lm: host memory for the rows' Jacobians; more "
                                                         "rows are polished in consecutive waves")


@dataclass(frozen=True)
class SearchConfig:
    """How each row's search is laid out around the paper's step and the polish (inversion/driver.py):
    the start screen (before the first-order phase), when a row leaves that phase for the polish
    (inside it), and new attempts at rows left in a wrong basin (after the polish). They serve the
    polish: with polish.method none every row runs invert.steps from its own start."""

    screen_starts: int = _spec(1, minimum=1, doc="each row starts from the best of this many candidates (its own start, "
                                                 "then draws of the prior) after screen_steps first-order steps "
                                                 "(screening.py; 1: no screen)")
    screen_steps: int = _spec(25, minimum=1, doc="screen_starts > 1: first-order steps each candidate runs before "
                                                 "the one with the lowest pixel loss is kept")
    screen_bank: int = _spec(0, minimum=0, opt_in=True,
                             doc="> 0: each row's screen_starts candidates are instead the nearest (pixel MSE) of "
                                 "this many draws of the prior per row of the batch, rendered by G once; with "
                                 "screen_starts 1 the row starts at its nearest draw")
    switch: str = _spec("after_steps", choices=("after_steps", "stalled"),
                        doc="after_steps: every row runs invert.steps first-order steps; stalled: each row "
                            "switches once its loss stalls (invert.steps at most)")
    stall_window: int = _spec(25, minimum=1, doc="switch: stalled: steps between a row's stall checks")
    stall_min_steps: int = _spec(0, minimum=0, doc="switch: stalled: first-order steps every row runs before its first "
                                                   "stall check (a real generator's loss plateaus early: "
                                                   "docs/your_gan.md)")
    stall_improvement: float = _spec(0.1, minimum=0.0, maximum=1.0,
                                     doc="switch: stalled: a row stalls when its best pixel loss fell by less "
                                         "than this fraction over the last window")
    restarts: int = _spec(0, minimum=0, doc="targets G drew (Table 1, the verdict's calibration): a row the polish left "
                                            "above restart_above is in a local minimum and starts again from a new "
                                            "draw of the prior, at most this many times (restarts.py)")
    restart_above: float = _spec(1e-6, minimum=0.0, doc="restarts: a row is stuck when its pixel MSE is above this x "
                                                        "mean(target^2) after the polish")


@dataclass(frozen=True)
class DistributeConfig:
    """Which tf.distribute strategy trains and inverts (see distribute.py)."""

    strategy: str = _spec("default", choices=STRATEGIES,
                          doc="default: one device; mirrored: all local GPUs (else all logical CPUs); "
                              "multi_worker: the cluster in TF_CONFIG (training only)")


@dataclass(frozen=True)
class ExperimentsConfig:
    """Sizes of the paper's experiments (Tables 1-2, Figures 1-2)."""

    run: typing.Tuple[str, ...] = _spec(EXPERIMENTS, choices=EXPERIMENTS, doc="what `make invert` runs")
    modes: typing.Tuple[str, ...] = _spec(CLIP_MODES, choices=CLIP_MODES)
    table1_latents: int = _spec(1024, minimum=1, doc="latents per clip mode (paper 1000, authors 1024)")
    table1_thresholds: typing.Tuple[float, ...] = _spec((1e-4, 1e-3, 1e-2, 1e-1), minimum=0.0)
    noise_variances: typing.Tuple[float, ...] = _spec((0.0, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1, 5e-1, 1.0), minimum=0.0)
    noise_latents: int = _spec(64, minimum=1, doc="latents per variance and mode")
    noise_steps: typing.Optional[int] = _spec(None, minimum=1, doc="default: invert.steps")
    unseen_images: typing.Optional[str] = _spec(None, doc="a folder (or one file) of real images the GAN never saw, "
                                                          "for Table 2 and the --image verdict's calibration (the "
                                                          "authors used aligned LFW faces); default: the data's "
                                                          "held-out images; the shipped portraits always follow")
    uniqueness_images: int = _spec(1, minimum=1, doc="unseen real images (paper: 1)")
    uniqueness_restarts: int = _spec(1000, minimum=2, doc="recoveries per image and mode (paper: 1000)")
    latents: str = _spec("prior", choices=("prior", "paper_uniform"),
                         doc="the latent prior of the paper's experiments (true latents, starts and clip box): the "
                             "run's own prior, or the paper's U(-1, 1)^z_dim with the box [-1, 1] on any generator")
    trajectory_targets: int = _spec(4, minimum=1)
    trajectory_snapshots: typing.Tuple[int, ...] = _spec((0, 100), minimum=0, may_be_empty=True,
                                                         doc="plus the final step")
    trajectory_steps: typing.Optional[int] = _spec(None, minimum=1, doc="paper: 20000; default: invert.steps")
    label: typing.Optional[str] = _spec(None, opt_in=True,
                                        doc="a conditional run: the class (number or name) of every row; default: "
                                            "a class drawn per row (dcgan-invert --label sets it)")


@dataclass(frozen=True)
class EncoderConfig:
    """An amortised start: E(x) -> z trained on the run's own (z, G(z)) pairs (make encoder)."""

    steps: int = _spec(3000, minimum=1)
    batch_size: int = _spec(64, minimum=1)
    learning_rate: float = _spec(1e-3, minimum=0.0, doc="Adam")
    checkpoint_every: int = _spec(500, minimum=1)
    log_every: int = _spec(100, minimum=1)


@dataclass(frozen=True)
class CompletionConfig:
    """Image completion (Amos's complete.py, REFERENCE "Amos's image completion"): his masks, his loss
    and optimizers as the `amos` method, and ours (clip, best of starts, the polish on the known pixels)."""

    center_scale: float = _spec(0.25, minimum=0.0, maximum=0.5, doc="center: hides [s, 1-s) of each side")
    random_fraction: float = _spec(0.2, minimum=0.0, maximum=1.0, doc="random: share of pixels hidden")
    grid_step: int = _spec(4, minimum=2, doc="grid: keeps every n-th pixel of every n-th row")
    lowres_factor: int = _spec(8, minimum=2, doc="lowres: keeps only the n x n average-pooled image")
    lam: float = _spec(0.1, minimum=0.0, doc="amos: weight of the perceptual (GAN) loss")
    learning_rate: float = _spec(0.01, minimum=0.0, doc="amos, adam: Adam's rate (beta1 0.9, beta2 0.999, eps 1e-8)")
    iterations: int = _spec(1000, minimum=1, doc="amos: nIter")
    out_interval: int = _spec(50, minimum=1, doc="amos: iterations between saved frames")
    hmc_beta: float = _spec(0.2, minimum=0.0)
    hmc_eps: float = _spec(0.001, minimum=0.0)
    hmc_steps: int = _spec(100, minimum=1, doc="hmc: leapfrog steps per iteration (Amos's hmcL)")
    hmc_anneal: float = _spec(1.0, minimum=0.0)
    starts: int = _spec(4, minimum=1, doc="ours: random starts per image; the best on the known pixels is kept")
    mode: str = _spec("stochastic", choices=CLIP_MODES, doc="ours: clip mode")
    polish: str = _spec("layerwise_lm", choices=("levenberg_marquardt", "layerwise_lm", "broyden_lm"),
                        doc="ours: the polish on the known pixels (the run's polish.method unless that is none). "
                            "A masked problem is ill-conditioned: fresh Jacobians recovered more latents there, at a "
                            "lower counted cost, than broyden_lm (docs/completion.md)")
    masks: typing.Tuple[str, ...] = _spec(MASKS, choices=MASKS, doc="the completion experiment's masks")
    hidden_fractions: typing.Tuple[float, ...] = _spec((0.1, 0.3, 0.5, 0.7, 0.9), minimum=0.0, maximum=1.0,
                                                       doc="the experiment's sweep of centre squares")
    latents: int = _spec(16, minimum=1, doc="experiment: generated targets per mask and fraction")
    real_images: int = _spec(2, minimum=0, doc="experiment: unseen real faces completed per mask")


@dataclass(frozen=True)
class Config:
    """Everything one run needs; written to `<run>/config.yaml`."""

    seed: int = _spec(0, minimum=0, maximum=SEED_MAX, doc="NumPy's legacy seeding takes < 2^32; runs add small offsets")
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    invert: InvertConfig = field(default_factory=InvertConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    polish: PolishConfig = field(default_factory=PolishConfig)
    experiments: ExperimentsConfig = field(default_factory=ExperimentsConfig)
    completion: CompletionConfig = field(default_factory=CompletionConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    distribute: DistributeConfig = field(default_factory=DistributeConfig)

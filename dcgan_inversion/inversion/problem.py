"""What to invert and how: the problem (rows) and the settings of one run of the engine.

`InversionProblem` holds the rows: targets x, starts z'_0, each row's clip mode, the true
latents when they are known (generated targets), the seed of the stochastic clip's draws, and
on a conditional generator each row's class.
`InversionSettings` holds everything else: the first-order config, the search around it (screen,
switch, restarts), the polish, how many steps, snapshots, progress, strategy and checkpoints.
Experiments build both and call `invert`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dcgan_inversion.config import Config, InvertConfig, PolishConfig, SearchConfig
from dcgan_inversion.gan.latents import UNIFORM, LatentPrior, latent_prior


@dataclass(frozen=True)
class InversionProblem:
    """The rows to invert; row i is (targets[i], starts[i], modes[i], z_true[i])."""

    targets: np.ndarray                 # (rows, H, W, C) in [-1, 1]
    starts: np.ndarray                  # (rows, z_dim): z' at step 0
    modes: tuple                        # clip mode per row: none, standard, stochastic
    z_true: np.ndarray | None = None    # (rows, z_dim), when known: tracks ||z - z'||^2 / z_dim
    seed: int = 0                       # keys the stochastic clip's draws
    group_rows: int | None = None       # under batch statistics: rows per batch (e.g. one clip mode)
    generated: object = False           # per row (or all): the target is G's image, so an exact fit exists
    classes: np.ndarray | None = None   # per row, a conditional generator's class (settings.class_rows sets it)

    def __post_init__(self):
        object.__setattr__(self, "modes", tuple(self.modes))
        rows = len(self.starts)
        object.__setattr__(self, "generated", np.broadcast_to(np.asarray(self.generated, bool), (rows,)).copy())
        if len(self.targets) != rows or len(self.modes) != rows or (self.z_true is not None and len(self.z_true) != rows):
            raise ValueError("targets, starts, modes and z_true need one entry per row")

    @property
    def rows(self) -> int:
        return len(self.starts)

    def part(self, rows: slice, seed: int) -> "InversionProblem":
        """Some consecutive rows as a problem of their own (one batch), with their own seed."""
        return InversionProblem(np.asarray(self.targets)[rows], np.asarray(self.starts)[rows], self.modes[rows],
                                None if self.z_true is None else np.asarray(self.z_true)[rows], seed, self.group_rows,
                                self.generated[rows], None if self.classes is None else self.classes[rows])


@dataclass(frozen=True)
class InversionSettings:
    """How to invert: first-order phase, the search around it, polish, length, snapshots, progress,
    devices, checkpoints."""

    invert: InvertConfig = field(default_factory=InvertConfig)
    polish: PolishConfig | None = None
    search: SearchConfig = field(default_factory=SearchConfig)  # acts only with a polish
    steps: int | None = None             # first-order steps (at most); default invert.steps
    snapshot_steps: tuple = ()           # steps at which G(z') of `snapshot_rows` is kept (Figure 1)
    snapshot_rows: object = None         # row indices, or None for all rows
    progress: str | None = None          # a progress bar with this title, or silence
    strategy: object = None              # a tf.distribute strategy; rows are sharded over its replicas
    checkpoint_dir: object = None        # makes the run resumable (every invert.checkpoint_every steps)
    prior: LatentPrior = UNIFORM         # the clip ops keep z' in its box and re-draw from it
    class_rows: object = None            # gan.labels.ClassRows: sets the class of each batch (problem.classes)

    @classmethod
    def from_config(cls, config: Config, **settings) -> "InversionSettings":
        """The config's inversion, search and polish, its latent prior unless `prior` is given."""
        settings.setdefault("prior", latent_prior(config))
        return cls(invert=config.invert, polish=config.polish, search=config.search, **settings)

    @property
    def total_steps(self) -> int:
        return self.invert.steps if self.steps is None else self.steps

    @property
    def polishing(self) -> bool:
        return self.polish is not None and self.polish.method != "none" and self.polish.iterations > 0

    @property
    def restarting(self) -> bool:
        """Stuck rows of generated targets start again after the polish (restarts.py); not when snapshots are
        kept (Figure 1 shows one trajectory per row)."""
        return self.polishing and self.search.restarts > 0 and not self.snapshot_steps

    @property
    def screening(self) -> bool:
        """Each row starts from the best of search.screen_starts candidates, or its nearest draw of a bank
        (screening.py); not when snapshots are kept (Figure 1 shows the trajectory from the start it draws)."""
        return (self.polishing and (self.search.screen_starts > 1 or self.search.screen_bank > 0)
                and not self.snapshot_steps)

    @property
    def switching(self) -> bool:
        """Rows switch to the polish one by one, once their loss stalls."""
        return self.polishing and self.search.switch == "stalled"

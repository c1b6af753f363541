"""The inversion engine: recover z' with G(z') = x (Sec. 2 of the paper), one module per concept.

The search, per batch of rows (driver.py), each stage returning a value:
start screen -> first-order phase (the paper's step and clip) -> polish -> restarts of stuck rows.

    problem.py      InversionProblem (targets, starts, clip modes, true latents, seed, classes) and
                    InversionSettings (first-order config, polish, steps, snapshots, devices, checkpoints)
    driver.py       invert(generator, problem, settings) -> InversionResult: batches, and per batch the
                    stages above in order; the first-order phase as named steps (run, retire stalled
                    rows, record, checkpoint)
    clip.py         the clip ops: none, standard, stochastic (the paper's)
    step.py         LatentInversion: the compiled first-order step (optimizer + clip op) and its state
    shards.py       ShardedInversion: a batch's rows over a strategy's replicas; retiring, compacting
    screening.py    the start screen: which candidates, which one each row keeps, the kept screen
    switch.py       StallSwitch: when a row leaves the first-order phase for the polish
    checkpoint.py   FirstOrderLog: step count, timing, history, checkpoint and resume; finished batches
    polishing.py    the polish stage and its methods (polish.method -> class)
    levenberg_marquardt.py  batched Levenberg-Marquardt (autodiff or layer-wise Jacobian)
    broyden.py      Levenberg-Marquardt keeping each row's Jacobian by Broyden's rank-1 updates
    jacobian.py     the layer-wise Jacobian of a Keras generator
    restarts.py     which rows are stuck, their new starts, folding a restart's better fits in
    result.py       InversionResult (frozen), latent_error, how batches' results join
    metrics.py      the paper's metrics (recovery rates, pairwise distances) and the restart floor
    cost.py         the counted cost: FLOPs over one first-order step's
    multistart.py   the multi-start search for images of unknown latent (--image)
    progress.py     progress bars
"""
from dcgan_inversion.inversion.driver import all_recovered, invert
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings
from dcgan_inversion.inversion.result import InversionResult, latent_error
from dcgan_inversion.inversion.shards import ShardedInversion
from dcgan_inversion.gan.sampling import uses_batch_statistics
from dcgan_inversion.inversion.step import LatentInversion, learning_rate, make_optimizer

__all__ = ["InversionProblem", "InversionResult", "InversionSettings", "LatentInversion", "ShardedInversion",
           "all_recovered", "invert", "latent_error", "learning_rate", "make_optimizer", "uses_batch_statistics"]

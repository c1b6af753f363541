"""The inversion engine: recover z' with G(z') = x (Sec. 2 of the paper), one module per concept.

    problem.py      InversionProblem (targets, starts, clip modes, true latents, seed) and
                    InversionSettings (first-order config, polish, steps, snapshots, devices, checkpoints)
    driver.py       invert(generator, problem, settings) -> InversionResult: batches, then per batch
                    the first-order phase as named steps (run, retire stalled rows, record, checkpoint)
                    and the polish
    step.py         LatentInversion: the compiled first-order step (optimizer + clip op) and its state
    shards.py       ShardedInversion: a batch's rows over a strategy's replicas; retiring, compacting
    screening.py    the start screen: each row goes on from the best of K candidates after a few steps
    switch.py       StallSwitch: when a row leaves the first-order phase for the polish
    checkpoint.py   FirstOrderLog: step count, timing, history, checkpoint and resume
    polishing.py    the polish phase and its methods (polish.method -> class)
    progress.py     progress bars
    result.py       InversionResult, latent_error, joining batches
"""
from dcgan_inversion.inversion.driver import all_recovered, invert
from dcgan_inversion.inversion.problem import InversionProblem, InversionSettings
from dcgan_inversion.inversion.result import InversionResult, latent_error
from dcgan_inversion.inversion.shards import ShardedInversion
from dcgan_inversion.gan.sampling import uses_batch_statistics
from dcgan_inversion.inversion.step import LatentInversion, learning_rate, make_optimizer

__all__ = ["InversionProblem", "InversionResult", "InversionSettings", "LatentInversion", "ShardedInversion",
           "all_recovered", "invert", "latent_error", "learning_rate", "make_optimizer", "uses_batch_statistics"]

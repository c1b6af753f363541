"""`dcgan-train`: train (or resume) the DCGAN of a run; with --encoder, the run's encoder E(x) -> z."""
from __future__ import annotations

import contextlib

from dcgan_inversion.cli.common import guarded, load_args_config, parser, run_dir
from dcgan_inversion.infra import runlock
from dcgan_inversion.infra.tf_startup import load_tensorflow


def train_main(argv=None) -> None:
    args = arguments().parse_args(argv)
    guarded(lambda: (train_encoder if args.encoder else train_gan)(args))


def arguments():
    made = parser("Train Amos's DCGAN (resumes from the run's last checkpoint).")
    made.add_argument("--encoder", action="store_true",
                      help="instead: train (or resume) the run's encoder E(x) -> z on its own generated images, an "
                           "amortised start for invert.start=encoder (any run with a generator, imported ones too)")
    return made


def train_gan(args) -> None:
    from dcgan_inversion.run import check_training_inputs

    config = load_args_config(args)
    check_training_inputs(config, run_dir(args))  # fail fast, before TensorFlow loads
    # One training per run; multi-worker runs share the folder (only their chief writes to it).
    with runlock.locked(run_dir(args), "dcgan-train") if config.distribute.strategy != "multi_worker" \
            else contextlib.nullcontext():
        load_tensorflow()
        from dcgan_inversion.training.trainer import train

        train(config, run_dir(args))


def train_encoder(args) -> None:
    from dcgan_inversion.run import check_encoder_inputs

    config = load_args_config(args)
    paths = check_encoder_inputs(config, run_dir(args))  # before TensorFlow loads
    with runlock.locked(paths.encoder_checkpoints, "dcgan-train --encoder"):
        load_tensorflow()
        from dcgan_inversion.run import load_generator
        from dcgan_inversion.training.encoder import train_encoder as train

        record = train(load_generator(paths.root, config.model), config, paths.root)
    print(f"encoder: {record['steps']} steps of {record['batch_size']} ({record['seconds_this_call']:.0f} s this call, "
          f"{record['training_step_equivalents']:,} counted step-equivalents), held-out z error median "
          f"{record['held_out_z_error_median']:.2e}; wrote {paths.encoder_weights} and {paths.encoder_record}")

"""`dcgan-import`: another codebase's checkpoint as a run every other command accepts."""
from __future__ import annotations

import argparse
from pathlib import Path

from dcgan_inversion.cli.common import guarded
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.tf_startup import load_tensorflow


def import_main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Make a run of a TF1 DCGAN checkpoint (Amos's shipped CelebA model "
                                                 "checkpoint/DCGAN.model-60502, carpedm20/DCGAN-tensorflow's): every "
                                                 "other command then works on it.")
    parser.add_argument("checkpoint", type=Path, help="a checkpoint prefix (.../DCGAN.model-60502), one of its files, "
                                                      "or the folder holding its `checkpoint` file")
    parser.add_argument("--run", type=Path, required=True, help="the new run folder (must not exist, or be empty)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (experiments and the sample grid; default: 0)")
    args = parser.parse_args(argv)

    def run():
        from dcgan_inversion.importing import check_destination, describe, import_checkpoint

        check_destination(args.run)  # before TensorFlow loads
        if not args.checkpoint.exists() and not Path(str(args.checkpoint) + ".index").exists():
            raise UserError(f"checkpoint not found: {args.checkpoint}")
        load_tensorflow()
        print(describe(import_checkpoint(args.checkpoint, args.run, seed=args.seed), args.run))

    guarded(run)

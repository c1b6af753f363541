"""`dcgan-import`: another codebase's checkpoint as a run every other command accepts."""
from __future__ import annotations

import argparse
from pathlib import Path

from dcgan_inversion.cli.common import guarded
from dcgan_inversion.config import LATENTS, load_config
from dcgan_inversion.importing import BASE_CONFIG
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.tf_startup import load_tensorflow
from dcgan_inversion.pretrained import PRETRAINED


def import_main(argv=None) -> None:
    args = arguments().parse_args(argv)

    def run():
        from dcgan_inversion.importing import already_imported, check_destination, describe, import_checkpoint

        one_source = (args.checkpoint is None) != (args.pretrained is None)
        if one_source and already_imported(args.run, args.seed, checkpoint=args.checkpoint,
                                           pretrained=PRETRAINED.get(args.pretrained)):
            print(f"{args.run} already holds {args.pretrained or args.checkpoint}: nothing to import (the run is "
                  "kept as it was imported; remove it to import again with other settings)")
            return
        check_destination(args.run)  # before TensorFlow loads, and before a download
        load_config(args.config)  # a mistake in it, before a download
        if (args.checkpoint is None) == (args.pretrained is None):
            raise UserError("give a checkpoint file or --pretrained NAME (one of them)")
        checkpoint, pretrained = args.checkpoint, None
        if args.pretrained is not None:
            from dcgan_inversion.pretrained import fetch, provenance

            checkpoint, pretrained = fetch(PRETRAINED[args.pretrained]), provenance(PRETRAINED[args.pretrained])
        elif not checkpoint.exists() and not Path(str(checkpoint) + ".index").exists():
            raise UserError(f"checkpoint not found: {checkpoint}")
        load_tensorflow()
        record = import_checkpoint(checkpoint, args.run, base_config=args.config, seed=args.seed, discriminator=args.discriminator,
                                   latent=args.latent, latent_box=args.latent_box, pretrained=pretrained,
                                   labels=args.labels, label_names=_names(args.label_names), activation=args.activation,
                                   image_range=args.image_range, trusted=args.trust_file, bn_eps=args.bn_eps,
                                   label_position=args.label_position)
        print(describe(record, args.run))

    guarded(run)


def _names(text: str | None) -> tuple:
    return tuple(name.strip() for name in text.split(",")) if text else ()


def arguments():
    parser = argparse.ArgumentParser(description="Make a run of another codebase's DCGAN checkpoint: a TF1 checkpoint "
                                                 "(Amos's shipped CelebA model checkpoint/DCGAN.model-60502, "
                                                 "carpedm20/DCGAN-tensorflow's) or a torch.save file of pytorch/examples' "
                                                 "DCGAN (netG_epoch_N.pth, a dict of state dicts, DataParallel keys), "
                                                 "read without torch and without running its pickle. Every other "
                                                 "command then works on the run.")
    parser.add_argument("checkpoint", type=Path, nargs="?", default=None,
                        help="a TF1 checkpoint prefix (.../DCGAN.model-60502), one of its files or the folder holding "
                             "its `checkpoint` file; a PyTorch file (torch.save zip or legacy, a state dict or a whole "
                             "model; or model.safetensors); or a Keras model (.keras, .h5, a SavedModel folder)")
    parser.add_argument("--pretrained", choices=sorted(PRETRAINED), default=None,
                        help="instead of a checkpoint: a trained generator fetched with pip (pinned version and "
                             "sha256 sums, cached): " + "; ".join(f"{name}: {item.description}"
                                                                   for name, item in sorted(PRETRAINED.items())))
    parser.add_argument("--discriminator", type=Path, default=None,
                        help="PyTorch: the discriminator's file (default: the netD file beside a netG one, or the "
                             "discriminator in the same file; completion's perceptual loss needs it)")
    parser.add_argument("--latent", choices=LATENTS, default=None,
                        help="the generator's latent prior (default: normal for PyTorch and Keras files, whose GANs draw "
                             "z ~ N(0, 1); uniform [-1, 1] for TF1 ones)")
    parser.add_argument("--latent-box", type=float, default=None,
                        help="the clip box's half-width b, z' in [-b, b] (default: 1 for uniform, the paper's; 4.5 "
                             "for normal: 0.07%% of 100-dim latents have a component outside)")
    parser.add_argument("--labels", type=int, default=0, metavar="N",
                        help="a conditional generator fed a one-hot class of N beside z (after it unless "
                             "--label-position first); a class embedding (nn.Embedding) is read from the file itself")
    parser.add_argument("--label-names", default=None, metavar="A,B,...",
                        help="with --labels: a name per class, comma-separated")
    parser.add_argument("--activation", choices=("relu", "leaky_relu"), default=None,
                        help="the generator's hidden activation, which a state dict does not store (default: relu "
                             "for DCGANs, leaky_relu (0.2) for MLP generators; a whole-model file says its own)")
    parser.add_argument("--label-position", choices=("first", "last"), default=None,
                        help="a conditional generator: whether the class inputs come before or after z in its first "
                             "layer (default: a one-hot class after z, a class embedding (nn.Embedding) before it)")
    parser.add_argument("--bn-eps", type=float, default=None, metavar="EPS",
                        help="an MLP generator's batch norm eps, which a state dict does not store (default: torch's "
                             "1e-5; nn.BatchNorm1d(n, 0.8) means 0.8)")
    parser.add_argument("--image-range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="a Keras file: the range of its output pixels (default -1 1, a tanh output; 0 1 for a "
                             "sigmoid)")
    parser.add_argument("--trust-file", action="store_true",
                        help="a Keras file with Lambda layers: let their Python code run as it loads (only for a "
                             "file you trust; Keras's safe mode refuses it otherwise)")
    parser.add_argument("--config", default=BASE_CONFIG,
                        help="the run's settings other than the model, which comes from the checkpoint: a shipped "
                             f"config's name or a YAML file (default: {BASE_CONFIG}, the paper's sizes; face_demo: "
                             "the sizes `make demo` runs)")
    parser.add_argument("--run", type=Path, required=True, help="the new run folder (must not exist, or be empty)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (experiments and the sample grid; default: 0)")
    return parser

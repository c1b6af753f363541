"""`dcgan-invert`: the paper's experiments on a run (or a named protocol's), the curvature report,
and, with --image or --complete, the user's own images (images.py, complete.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from dcgan_inversion.cli.common import (config_name, guarded, overrides, parser, positive, protocol_argument,
                                        run_dir)
from dcgan_inversion.config import CLIP_MODES, COMPLETION_METHODS, EXPERIMENTS, EXTRA_EXPERIMENTS, MASKS
from dcgan_inversion.infra import runlock
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.tf_startup import load_tensorflow


def invert_main(argv=None) -> None:
    args = arguments().parse_args(argv)
    guarded(lambda: invert_command(args))


def arguments():
    made = parser("Recover latent vectors of a trained generator: the paper's experiments, or your images.")
    made.add_argument("--experiment", action="append", default=None, choices=sorted(EXPERIMENTS + EXTRA_EXPERIMENTS),
                      help="run only this experiment (repeatable); default: the config's experiments.run "
                           "(completion, beyond the paper, runs only when named)")
    made.add_argument("--image", nargs="+", type=Path, default=None,
                      help="invert these image files, and every image under these folders, instead "
                           "(writes <run>/results/images/)")
    made.add_argument("--complete", nargs="+", type=Path, default=None, metavar="IMAGE",
                      help="complete these images (files or folders) under --mask instead: Amos's image "
                           "completion (writes <run>/results/completion/<mask>-<method>/)")
    made.add_argument("--mask", default="center",
                      help=f"with --complete: {', '.join(MASKS)}, or a mask image of the model's size, white = "
                           "known (default: center)")
    made.add_argument("--method", default="ours", choices=COMPLETION_METHODS,
                      help="with --complete: ours (clip, best of --starts, the polish on the known pixels) or "
                           "amos (his L1 + 0.1 x GAN loss; default: ours)")
    made.add_argument("--approach", default="adam", choices=("adam", "hmc"),
                      help="with --method amos: his Adam, or HMC sampling of completions (default: adam)")
    made.add_argument("--starts", type=positive, default=None,
                      help="random starts per image; the best is kept (default: 16 for --image, or the encoder's "
                           "guess and 1 random start on a run with an encoder; completion.starts for --complete)")
    made.add_argument("--mode", default=None, choices=CLIP_MODES,
                      help="clip mode for --image and --complete (default: stochastic; --complete: completion.mode)")
    made.add_argument("--curvature", action="store_true",
                      help="instead: the loss's curvature at Table 1's latents beside the decay rates the "
                           "finished table1 measured (why gradient descent takes as long as it does; writes "
                           "curvature.json)")
    made.add_argument("--interpolate", type=positive, default=None, metavar="N",
                      help="with two --image files: recover both and write the N-image walk between their latents "
                           "(a strip, a GIF and the z's; <run>/results/walks/)")
    made.add_argument("--walk", choices=("linear", "spherical"), default=None,
                      help="with --interpolate: the path (default: spherical for a normal prior, linear for a "
                           "uniform one)")
    made.add_argument("--arithmetic", default=None, metavar="EXPR",
                      help="vector arithmetic on recovered latents: \"smiling/ - neutral_w/ + neutral_m/\" (files or "
                           "folders; each term the mean of its images' z'); writes <run>/results/arithmetic/")
    made.add_argument("--label", default=None,
                      help="a conditional run: the class (number or name) G draws; --image without it tries every "
                           "class and reports which one, and which z, drew each image; the experiments draw a class "
                           "per row unless it is given (--complete: default class 0)")
    protocol_argument(made, "run")
    return made


def inversion_config(args):
    """The config to invert with: --config (or the demo's), or, with --protocol, the run's own
    model, data and experiment sizes under the protocol's invert and polish settings."""
    from dcgan_inversion.config import load_config

    if not args.protocol:
        return load_config(config_name(args), overrides(args))
    from dcgan_inversion.paper.protocols import protocol_config
    from dcgan_inversion.run import trained_config

    base = load_config(args.config) if args.config else trained_config(run_dir(args), " or pass --config")
    return protocol_config(args.protocol, base, overrides(args))


def invert_command(args) -> None:
    """Checks everything that can be checked before TensorFlow loads, then runs the job asked for."""
    from dcgan_inversion.run import RunPaths, check_inversion_inputs

    if sum(bool(given) for given in (args.image, args.complete, args.arithmetic)) > 1:
        raise UserError("--image, --complete and --arithmetic are separate commands: give one of them")
    if args.interpolate is not None and not args.image:
        raise UserError("--interpolate walks between two images: give them with --image a.png b.png")
    if args.walk is not None and args.interpolate is None:
        raise UserError("--walk chooses the path of --interpolate")
    sources = args.image or args.complete
    if args.arithmetic:
        from dcgan_inversion.user_images.latent_edits import parse_expression

        sources = [Path(term.source) for term in parse_expression(args.arithmetic)]
    config, folder = inversion_config(args), run_dir(args)
    if config.invert.start == "encoder":
        from dcgan_inversion.run import require_encoder

        require_encoder(folder)
    mask = None
    if args.complete:  # the mask is checked before TensorFlow loads, like the images
        from dcgan_inversion.completion.masks import mask_from_argument

        mask = mask_from_argument(args.mask, config.model.image_size, config.completion, config.seed)
    # With --image or --complete, only the files that can be inverted go on.
    readable, skipped = check_inversion_inputs(config, folder, sources, args.protocol)
    if skipped and (args.interpolate or args.arithmetic):
        raise UserError(f"{len(skipped)} of the images cannot be read (named above): walks and arithmetic need all")
    paths = RunPaths(folder, args.protocol)
    # Inversions share the run (they read its generator); each results folder has one writer.
    with runlock.locked(folder, "dcgan-invert", exclusive=False), runlock.locked(paths.results, "dcgan-invert"):
        load_tensorflow()
        try:
            if args.interpolate is not None:
                from dcgan_inversion.cli.edits import interpolate_images

                interpolate_images(config, paths, readable, args.interpolate, args.walk, args.starts, args.mode, args.label)
            elif args.arithmetic:
                from dcgan_inversion.cli.edits import arithmetic_images

                arithmetic_images(config, paths, args.arithmetic, args.starts, args.mode, args.label)
            elif args.image:
                from dcgan_inversion.cli.images import invert_image_files

                invert_image_files(config, paths, readable, skipped, args.starts, args.mode, args.label)
            elif args.complete:
                from dcgan_inversion.cli.complete import complete_images

                complete_images(config, paths, readable, skipped, mask, args)
            else:
                _experiments(config, paths, args)
        except KeyboardInterrupt:
            print(f"\ninterrupted: checkpoints of unfinished inversions (every {config.invert.checkpoint_every} steps) "
                  f"are kept under {paths.results}; run the same command to resume", file=sys.stderr)
            raise


def _experiments(config, paths, args) -> None:
    """The paper's experiments (or --curvature) on the run's generator."""
    from dcgan_inversion.infra.distribute import make_strategy
    from dcgan_inversion.run import load_discriminator, load_encoder, load_generator

    strategy = make_strategy(config.distribute.strategy)
    if args.label is not None:  # in the resolved config, so results of another class are not reused
        from dcgan_inversion import config as config_lib

        config = config_lib.replace(config, experiments={"label": str(args.label)})
    label = config.experiments.label
    generator = load_generator(paths.root, config.model, strategy, label=label)
    class_rows = None
    if config.model.labels and label is None:
        from dcgan_inversion.gan.labels import ClassRows, read_label_rows

        class_rows = ClassRows(*read_label_rows(paths.label_rows))
        print(f"conditional generator: each latent is drawn with one of its {config.model.labels} classes, drawn "
              "with it, and recovered given it (--label K: class K for every row)", flush=True)
    elif config.model.labels:
        print(f"conditional generator: every latent is drawn and recovered with class {label}", flush=True)
    if args.curvature:
        return _report_curvature(generator, config, paths.results)
    from dcgan_inversion.paper.experiments import run_experiments

    encoder = load_encoder(paths.root) if config.invert.start == "encoder" else None
    discriminator = load_discriminator(paths.root) if "completion" in (args.experiment or ()) else None
    run_experiments(generator, config, paths.results, args.experiment, strategy=strategy,
                    discriminator=discriminator, encoder=encoder, class_rows=class_rows)


def _report_curvature(generator, config, results_dir: Path) -> None:
    from dcgan_inversion.paper import curvature

    record = curvature.measure(generator, config, results_dir)
    spectrum = record["spectrum"]
    print(f"lambda_min median {spectrum['lambda_min']['median']:.2e}, lambda_max median "
          f"{spectrum['lambda_max']['median']:.2e}, largest stable rate {spectrum['largest_stable_rate']:.2f}")
    for mode, numbers in record["modes"].items():
        predicted = numbers.get("measured_over_predicted_median")
        print(f"{mode}: decay rate {numbers['measured_rate_median']:.2e}/step"
              + (f" ({predicted:.2f}x 2 eta lambda_min)" if predicted is not None else "")
              + f", rank correlation of lambda_min with the final error {numbers['rank_correlation_lambda_min_final_error']:+.2f}")
    print(f"wrote {results_dir / 'curvature.json'}")

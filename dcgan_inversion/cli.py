"""Command-line entry points: `dcgan-train`, `dcgan-invert`, `dcgan-figures`, `dcgan-generate`, `dcgan-import`.

Each parses flags and calls one library function. A `UserError` becomes one line on stderr
and exit status 2; Ctrl-C exits with 130 after the library has saved what it can.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the way

from dcgan_inversion import config as config_lib  # noqa: E402
from dcgan_inversion.config import CLIP_MODES, EXPERIMENTS, EXTRA_EXPERIMENTS, MASKS, STRATEGIES  # noqa: E402
from dcgan_inversion.infra import runlock  # noqa: E402
from dcgan_inversion.infra.errors import UserError  # noqa: E402
from dcgan_inversion.infra.tf_startup import load_tensorflow  # noqa: E402


DEFAULT_CONFIG = "demo"
IMAGE_STARTS = 16  # --image: random starts per image
IMAGE_STARTS_WITH_ENCODER = 2  # --image on a run with an encoder: E(x) and one random start


def _parser(description: str, computes: bool = True) -> argparse.ArgumentParser:
    """The flags every command shares; `computes`: it trains or inverts (so --set and --distribute apply)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default=None,
                        help=f"a shipped config name (demo, celeba, ...) or a path to a YAML file (default: the "
                             f"run's own config.yaml if the run exists, else {DEFAULT_CONFIG})")
    parser.add_argument("--run", type=Path, default=None,
                        help="run directory (default: runs/<config name>)")
    if computes:
        parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                            help="override one config value; repeatable")
        parser.add_argument("--distribute", choices=STRATEGIES, default=None,
                            help="tf.distribute strategy (same as --set distribute.strategy=...); see "
                                 "docs/celeba_gpu.md")
    return parser


def _overrides(args) -> list[str]:
    return args.overrides + ([f"distribute.strategy={args.distribute}"] if args.distribute else [])


def _run_dir(args) -> Path:
    return args.run if args.run is not None else Path("runs") / Path(args.config or DEFAULT_CONFIG).stem


def _config_name(args) -> str:
    """--config; without it, the config a run already holds (<run>/config.yaml), else the demo's."""
    if args.config:
        return args.config
    saved = _run_dir(args) / "config.yaml"
    return str(saved) if saved.is_file() else DEFAULT_CONFIG


def _protocol_argument(parser, doing: str) -> None:
    from dcgan_inversion.paper.protocols import available_protocols

    parser.add_argument("--protocol", default=None, choices=available_protocols(),
                        help=f"{doing} a named inversion protocol (authors: the paper's gradient descent; "
                             "amos: Amos's Adam; see dcgan_inversion/paper/protocols/) in <run>/results/<protocol>/")


def _inversion_config(args):
    """The config to invert with: --config (or the demo's), or, with --protocol, the run's own
    model, data and experiment sizes under the protocol's invert and polish settings."""
    from dcgan_inversion.config import load_config

    if not args.protocol:
        return load_config(_config_name(args), _overrides(args))
    from dcgan_inversion.paper.protocols import protocol_config
    from dcgan_inversion.rundir import trained_config

    base = load_config(args.config) if args.config else trained_config(_run_dir(args), " or pass --config")
    return protocol_config(args.protocol, base, _overrides(args))


def _guarded(function) -> None:
    """Runs `function`, turning user mistakes into one line and a non-zero exit.

    SIGTERM (preemption) makes the loops checkpoint and stop: one line, exit status 143.
    """
    from dcgan_inversion.infra import preemption

    try:
        with preemption.watching():
            function()
    except preemption.Preempted as stopped:
        print(f"stopped: {stopped}", file=sys.stderr)
        sys.exit(preemption.EXIT_STATUS)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - only a full disk is turned into a line; the rest propagates
        if not _disk_full(error):
            raise
        where = f" writing {error.filename}" if getattr(error, "filename", None) else ""
        print(f"error: no space left on the device{where}; the checkpoints and results written before are intact: "
              "free some space and run the same command to resume", file=sys.stderr)
        sys.exit(2)


def _disk_full(error: BaseException) -> bool:
    """ENOSPC from Python, or from TensorFlow's own file writers (which raise their own error types)."""
    return (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "No space left on device" in str(error)


def train_main(argv=None) -> None:
    parser = _parser("Train Amos's DCGAN (resumes from the run's last checkpoint).")
    parser.add_argument("--encoder", action="store_true",
                        help="instead: train (or resume) the run's encoder E(x) -> z on its own generated images, an "
                             "amortised start for invert.start=encoder (any run with a generator, imported ones too)")
    args = parser.parse_args(argv)

    def run():
        if args.encoder:
            return _train_encoder(args)
        from dcgan_inversion.config import load_config
        from dcgan_inversion.rundir import check_training_inputs

        config = load_config(_config_name(args), _overrides(args))
        check_training_inputs(config, _run_dir(args))  # fail fast, before TensorFlow loads
        # One training per run; multi-worker runs share the folder (only their chief writes to it).
        with runlock.locked(_run_dir(args), "dcgan-train") if config.distribute.strategy != "multi_worker" \
                else contextlib.nullcontext():
            load_tensorflow()
            from dcgan_inversion.training.trainer import train

            train(config, _run_dir(args))

    _guarded(run)


def _train_encoder(args) -> None:
    from dcgan_inversion.config import load_config
    from dcgan_inversion.infra.io_utils import ensure_writable
    from dcgan_inversion.rundir import RunPaths, check_model_matches

    config = load_config(_config_name(args), _overrides(args))
    paths = RunPaths(_run_dir(args))
    if not paths.generator_weights.exists():
        raise UserError(f"no trained generator in {paths.root}: train it (make train) or import one (make import) first")
    check_model_matches(config, paths.root)
    ensure_writable(paths.encoder_checkpoints)
    with runlock.locked(paths.encoder_checkpoints, "dcgan-train --encoder"):
        load_tensorflow()
        from dcgan_inversion.rundir import load_generator
        from dcgan_inversion.training.encoder import train_encoder

        record = train_encoder(load_generator(paths.root, config.model), config, paths.root)
    print(f"encoder: {record['steps']} steps of {record['batch_size']} ({record['seconds_this_call']:.0f} s this call, "
          f"{record['training_step_equivalents']:,} counted step-equivalents), held-out z error median "
          f"{record['held_out_z_error_median']:.2e}; wrote {paths.encoder_weights} and {paths.encoder_record}")


def invert_main(argv=None) -> None:
    parser = _parser("Recover latent vectors of a trained generator: the paper's experiments, or your images.")
    parser.add_argument("--experiment", action="append", default=None, choices=sorted(EXPERIMENTS + EXTRA_EXPERIMENTS),
                        help="run only this experiment (repeatable); default: the config's experiments.run "
                             "(completion, beyond the paper, runs only when named)")
    parser.add_argument("--image", nargs="+", type=Path, default=None,
                        help="invert these image files, and every image under these folders, instead "
                             "(writes <run>/results/images/)")
    parser.add_argument("--complete", nargs="+", type=Path, default=None, metavar="IMAGE",
                        help="complete these images (files or folders) under --mask instead: Amos's image "
                             "completion (writes <run>/results/completion/<mask>-<method>/)")
    parser.add_argument("--mask", default="center",
                        help=f"with --complete: {', '.join(MASKS)}, or a mask image of the model's size, white = "
                             "known (default: center)")
    parser.add_argument("--method", default="ours", choices=("ours", "amos"),
                        help="with --complete: ours (clip, best of --starts, the polish on the known pixels) or "
                             "amos (his L1 + 0.1 x GAN loss; default: ours)")
    parser.add_argument("--approach", default="adam", choices=("adam", "hmc"),
                        help="with --method amos: his Adam, or HMC sampling of completions (default: adam)")
    parser.add_argument("--starts", type=_positive, default=None,
                        help="random starts per image; the best is kept (default: 16 for --image, "
                             "completion.starts for --complete)")
    parser.add_argument("--mode", default=None, choices=CLIP_MODES,
                        help="clip mode for --image and --complete (default: stochastic; --complete: completion.mode)")
    parser.add_argument("--curvature", action="store_true",
                        help="instead: the loss's curvature at Table 1's latents beside the decay rates the "
                             "finished table1 measured (why gradient descent takes as long as it does; writes "
                             "curvature.json)")
    _protocol_argument(parser, "run")
    args = parser.parse_args(argv)

    def run():
        from dcgan_inversion.rundir import RunPaths, check_inversion_inputs

        config = _inversion_config(args)
        run_dir = _run_dir(args)
        if args.image and args.complete:
            raise UserError("--image and --complete are two commands: give one of them")
        if config.invert.start == "encoder":
            from dcgan_inversion.rundir import require_encoder

            require_encoder(run_dir)  # before TensorFlow loads
        if args.complete:  # the mask is checked before TensorFlow loads, like the images
            from dcgan_inversion.completion.masks import mask_from_argument

            args.mask = mask_from_argument(args.mask, config.model.image_size, config.completion, config.seed)
        # Fail fast, before TensorFlow loads; with --image, only the files that can be inverted go on.
        readable, args.skipped = check_inversion_inputs(config, run_dir, args.image or args.complete, args.protocol)
        if args.image:
            args.image = readable
        if args.complete:
            args.complete = readable
        paths = RunPaths(run_dir, args.protocol)
        # Inversions share the run (they read its generator); each results folder has one writer.
        with runlock.locked(run_dir, "dcgan-invert", exclusive=False), runlock.locked(paths.results, "dcgan-invert"):
            invert(config, paths)

    def invert(config, paths):
        load_tensorflow()
        from dcgan_inversion.paper import experiments
        from dcgan_inversion.infra.distribute import make_strategy
        from dcgan_inversion.rundir import load_generator

        strategy = make_strategy(config.distribute.strategy)
        generator = load_generator(paths.root, config.model, strategy)
        args.encoder = None
        if args.image and args.starts is None and config.invert.start == "random" and paths.encoder_weights.exists():
            # A run with an encoder: --image starts at E(x) (measured: the same verdicts at 1/4 of the cost)
            config = config_lib.replace(config, invert={"start": "encoder"})
            print(f"starting each image at {paths.encoder_weights.name}'s guess and {IMAGE_STARTS_WITH_ENCODER - 1} "
                  "random start (give --starts N for N random starts instead)", flush=True)
        if config.invert.start == "encoder":
            from dcgan_inversion.rundir import load_encoder

            args.encoder = load_encoder(paths.root)
        try:
            if args.image:
                _invert_your_images(generator, config, args, paths.results / "images", strategy)
            elif args.complete:
                _complete_images(generator, config, args, paths, strategy)
            elif args.curvature:
                _report_curvature(generator, config, paths.results)
            else:
                discriminator = None
                if "completion" in (args.experiment or ()):
                    from dcgan_inversion.rundir import load_discriminator

                    discriminator = load_discriminator(paths.root)
                experiments.run_experiments(generator, config, paths.results, args.experiment, strategy=strategy,
                                            discriminator=discriminator, encoder=args.encoder)
        except KeyboardInterrupt:
            print(f"\ninterrupted: checkpoints of unfinished inversions (every {config.invert.checkpoint_every} steps) "
                  f"are kept under {paths.results}; run the same command to resume", file=sys.stderr)
            raise

    _guarded(run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _invert_your_images(generator, config, args, output_dir: Path, strategy) -> None:
    """--image: the best of --starts recoveries per image, and the verdict of the run's calibration."""
    from dcgan_inversion.your_images import recover as your_images

    default_starts = IMAGE_STARTS_WITH_ENCODER if args.encoder is not None else IMAGE_STARTS
    args.starts, args.mode = args.starts or default_starts, args.mode or "stochastic"

    calibrated = your_images.calibration(generator, config, args.starts, args.mode, output_dir, strategy, args.encoder)
    rows = your_images.invert_images(generator, config, args.image, output_dir, args.starts, args.mode, calibrated,
                                     strategy, skipped=args.skipped, encoder=args.encoder)
    print(f"threshold {calibrated['threshold']:.1e} (pixel MSE; generated images up to {calibrated['worst_generated']:.1e}, "
          f"unseen real ones from {calibrated['best_real']:.1e})")
    from dcgan_inversion.paper.metrics import random_baseline

    baseline = random_baseline(args.starts, config.model.z_dim, config.seed) if args.starts > 1 else None
    for row in rows:
        spread = (f", spread {row['spread']:.1e} (random pairs: {baseline:.2f})" if row["spread"] is not None else "")
        print(f"{row['file']}: best pixel MSE {row['best_pixel_mse']:.1e}{spread}: {row['verdict']} "
              f"({row['margin_decades']:+.1f} decades from the threshold)")
    print(f"wrote pictures, contact_sheet.png, summary.csv and summary.json to {output_dir}")
    _fail_if_skipped(args.skipped, len(rows), ", and in summary.json")


def _complete_images(generator, config, args, paths, strategy) -> None:
    """--complete: the images under --mask by --method; Amos's outputs, a sheet per image, a summary."""
    from dcgan_inversion.completion.complete import complete
    from dcgan_inversion.completion.outputs import write_completion
    from dcgan_inversion.infra.io_utils import ensure_writable
    from dcgan_inversion.rundir import load_discriminator
    from dcgan_inversion.your_images.recover import read_images

    mask, method = args.mask, args.method if args.method == "ours" else f"amos-{args.approach}"
    output_dir = paths.results / "completion" / f"{mask.name}-{method}"
    ensure_writable(output_dir)
    discriminator = load_discriminator(paths.root) if args.method == "amos" else None
    if args.method == "amos" and discriminator is None:
        print(f"warning: {paths.root} has no discriminator (no discriminator.weights.h5, no training checkpoint): "
              "Amos's loss runs without its perceptual term", file=sys.stderr, flush=True)
    entries, images = read_images(config, args.complete)
    title = f"completing {len(entries)} image{'s' if len(entries) != 1 else ''} ({mask.name}, {mask.hidden_fraction:.0%} hidden)"
    result = complete(generator, discriminator, config, images, mask, args.method, args.approach, args.starts,
                      args.mode, progress=title, strategy=strategy)
    rows = write_completion(output_dir, entries, images, mask, result, config)
    for row in rows:
        psnr = f", hidden region {row['hidden_psnr_db']:.1f} dB PSNR" if row["hidden_psnr_db"] is not None else ""
        print(f"{row['file']}: known-pixel MSE {row['known_pixel_mse']:.1e}{psnr}")
    print(f"{result.method} in {result.seconds:.1f} s; wrote before.png, masked.png, completed.png, hats_imgs/, "
          f"completed/, completion.gif, a sheet per image and summary.csv/json to {output_dir}")
    _fail_if_skipped(args.skipped, len(rows))


def _fail_if_skipped(skipped: list, done: int, also: str = "") -> None:
    """Exit 1 when some inputs could not be read: the good ones are done; a script still learns
    that some inputs were not."""
    if skipped:
        print(f"error: {len(skipped)} of {len(skipped) + done} inputs skipped (named above{also})", file=sys.stderr)
        sys.exit(1)


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


def figures_main(argv=None) -> None:
    parser = _parser("Render the paper's figures and tables from a run's results.", computes=False)
    parser.add_argument("--only", action="append", default=None,
                        choices=["figure1", "figure2", "table1", "table2", "convergence", "training", "protocols", "curvature",
                                 "completion"],
                        help="render only this figure or table (repeatable)")
    _protocol_argument(parser, "draw the results of")
    args = parser.parse_args(argv)

    def run():
        load_tensorflow()  # the training plot reads TensorBoard logs through TensorFlow
        from dcgan_inversion.paper.render import make_figures

        for path in make_figures(_run_dir(args), args.only, args.protocol):
            print(f"wrote {path}")

    _guarded(run)


def generate_main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write images the run's generator draws, with their latents: "
                                                 "test images G can draw, for --image and the API.")
    parser.add_argument("--run", type=Path, default=Path("runs") / DEFAULT_CONFIG, help="a trained run (default: runs/demo)")
    parser.add_argument("-n", type=_positive, default=16, help="how many images (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents z ~ U(-1, 1) (default: 0)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs and .z.npy files (default: <run>/generated)")
    args = parser.parse_args(argv)

    def run():
        from dcgan_inversion.infra.io_utils import ensure_writable
        from dcgan_inversion.rundir import trained_config

        trained_config(args.run)  # before anything is written or loaded
        out = args.out or args.run / "generated"
        ensure_writable(out)  # before the generator loads
        from dcgan_inversion import api
        from dcgan_inversion.data.images import to_uint8
        from dcgan_inversion.infra.io_utils import write_npy, write_png

        z, images = api.generate(api.load_run(args.run), args.n, args.seed)
        for stale in [*out.glob("generated-*.png"), *out.glob("generated-*.z.npy")]:
            stale.unlink()  # a smaller -n than last time leaves no old images beside the new ones
        for index, (latent, image) in enumerate(zip(z, to_uint8(images))):
            write_png(out / f"generated-{index:03d}.png", image)
            write_npy(out / f"generated-{index:03d}.z.npy", latent)
        print(f"wrote {args.n} images G drew (seed {args.seed}) and their latents to {out}/generated-NNN.png, .z.npy")

    _guarded(run)


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

    _guarded(run)

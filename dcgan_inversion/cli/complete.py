"""`dcgan-invert --complete`: the images under a mask by a method; Amos's outputs, a sheet per image
and a summary."""
from __future__ import annotations

import sys

from dcgan_inversion.cli.common import fail_if_skipped
from dcgan_inversion.infra.text import printable


def complete_images(config, paths, files, skipped, mask, args) -> None:
    from dcgan_inversion.completion.complete import complete
    from dcgan_inversion.completion.outputs import write_completion
    from dcgan_inversion.infra.distribute import make_strategy
    from dcgan_inversion.infra.io_utils import ensure_writable
    from dcgan_inversion.run import load_discriminator, load_generator
    from dcgan_inversion.user_images.recover import read_images

    strategy = make_strategy(config.distribute.strategy)
    generator = load_generator(paths.root, config.model, strategy, label=args.label)
    method = args.method if args.method == "ours" else f"amos-{args.approach}"
    output_dir = paths.results / "completion" / f"{mask.name}-{method}"
    ensure_writable(output_dir)
    discriminator = load_discriminator(paths.root) if args.method == "amos" else None
    if args.method == "amos" and discriminator is None:
        print(f"warning: {paths.root} has no discriminator (no discriminator.weights.h5, no training checkpoint): "
              "Amos's loss runs without its perceptual term", file=sys.stderr, flush=True)
    entries, images = read_images(config, files)
    title = f"completing {len(entries)} image{'s' if len(entries) != 1 else ''} ({mask.name}, {mask.hidden_fraction:.0%} hidden)"
    result = complete(generator, discriminator, config, images, mask, args.method, args.approach, args.starts,
                      args.mode, progress=title, strategy=strategy)
    rows = write_completion(output_dir, entries, images, mask, result, config)
    for row in rows:
        psnr = f", hidden region {row['hidden_psnr_db']:.1f} dB PSNR" if row["hidden_psnr_db"] is not None else ""
        print(f"{printable(row['file'])}: known-pixel MSE {row['known_pixel_mse']:.1e}{psnr}")
    print(f"{result.method} in {result.seconds:.1f} s; wrote before.png, masked.png, completed.png, hats_imgs/, "
          f"completed/, completion.gif, a sheet per image and summary.csv/json to {output_dir}")
    fail_if_skipped(skipped, len(rows))

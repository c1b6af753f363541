"""`dcgan-generate`: images a run's generator draws, with their latents (test images G can draw)."""
from __future__ import annotations

import argparse
from pathlib import Path

from dcgan_inversion.cli.common import DEFAULT_CONFIG, guarded, positive


def generate_main(argv=None) -> None:
    args = arguments().parse_args(argv)

    def run():
        from dcgan_inversion.infra.io_utils import ensure_writable
        from dcgan_inversion.run import trained_config

        trained_config(args.run)  # before anything is written or loaded
        out = args.out or args.run / "generated"
        ensure_writable(out)  # before the generator loads
        from dcgan_inversion import api
        from dcgan_inversion.data.images import to_uint8
        from dcgan_inversion.infra.io_utils import write_npy, write_png
        from dcgan_inversion.records import remove_earlier_outputs

        z, images = api.generate(api.load_run(args.run, label=args.label), args.n, args.seed)
        remove_earlier_outputs(out, ("generated-*.png", "generated-*.z.npy"))
        for index, (latent, image) in enumerate(zip(z, to_uint8(images))):
            write_png(out / f"generated-{index:03d}.png", image)
            write_npy(out / f"generated-{index:03d}.z.npy", latent)
        print(f"wrote {args.n} images G drew (seed {args.seed}) and their latents to {out}/generated-NNN.png, .z.npy")

    guarded(run)


def arguments():
    parser = argparse.ArgumentParser(description="Write images the run's generator draws, with their latents: "
                                                 "test images G can draw, for --image and the API.")
    parser.add_argument("--run", type=Path, default=Path("runs") / DEFAULT_CONFIG, help="a trained run (default: runs/demo)")
    parser.add_argument("-n", type=positive, default=16, help="how many images (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents, drawn from the run's prior (default: 0)")
    parser.add_argument("--label", default=None,
                        help="a conditional run: the class (number or name) to draw (default: class 0)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs and .z.npy files (default: <run>/generated)")
    return parser

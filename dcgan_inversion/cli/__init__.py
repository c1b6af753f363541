"""Command-line entry points, one module each, every one a thin parse-and-call:

    train.py      dcgan-train (and --encoder)
    invert.py     dcgan-invert: the paper's experiments, --curvature; --image and --complete hand over to
    images.py     dcgan-invert --image (the verdict)
    complete.py   dcgan-invert --complete (image completion)
    figures.py    dcgan-figures
    generate.py   dcgan-generate
    importer.py   dcgan-import
    common.py     the flags they share, the run folder, and `guarded`: a UserError becomes one line on
                  stderr and exit status 2; Ctrl-C exits 130 after the library has saved what it can
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the way

from dcgan_inversion.cli.figures import figures_main  # noqa: E402
from dcgan_inversion.cli.generate import generate_main  # noqa: E402
from dcgan_inversion.cli.importer import import_main  # noqa: E402
from dcgan_inversion.cli.invert import invert_main  # noqa: E402
from dcgan_inversion.cli.train import train_main  # noqa: E402

from dcgan_inversion.cli import figures, generate, importer, invert, train  # noqa: E402

# Each console script's argument parser (setup.py's entry points; train/, invert/ and figures/ hold the same
# three as scripts), for checking a command without running it.
PARSERS = {"dcgan-train": train.arguments, "dcgan-invert": invert.arguments, "dcgan-figures": figures.arguments,
           "dcgan-generate": generate.arguments, "dcgan-import": importer.arguments}

__all__ = ["PARSERS", "figures_main", "generate_main", "import_main", "invert_main", "train_main"]

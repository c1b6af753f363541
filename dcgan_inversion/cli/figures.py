"""`dcgan-figures`: the paper's figures and tables (and ours) from a run's results."""
from __future__ import annotations

from pathlib import Path

from dcgan_inversion.cli.common import guarded, parser, protocol_argument, run_dir
from dcgan_inversion.infra.tf_startup import load_tensorflow


def figures_main(argv=None) -> None:
    args = arguments().parse_args(argv)

    def run():
        load_tensorflow()  # the training plot reads TensorBoard logs through TensorFlow
        from dcgan_inversion.paper.drawing import make_figures

        source = args.published if args.published is not None else run_dir(args)
        for path in make_figures(source, args.only, args.protocol, published=args.published is not None):
            print(f"wrote {path}")

    guarded(run)


def arguments():
    made = parser("Render the paper's figures and tables from a run's results.", computes=False)
    made.add_argument("--only", action="append", default=None,
                        choices=["figure1", "figure2", "table1", "table2", "convergence", "training", "protocols", "curvature",
                                 "completion"],
                        help="render only this figure or table (repeatable)")
    protocol_argument(made, "draw the results of")
    made.add_argument("--published", type=Path, default=None, metavar="FOLDER",
                      help="instead of a run: a published results folder (make publish's docs/results), its figures "
                           "re-rendered from its JSON and NPZ files beside them (make refigure)")
    return made

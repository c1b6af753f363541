"""`dcgan-figures`: the paper's figures and tables (and ours) from a run's results."""
from __future__ import annotations

from dcgan_inversion.cli.common import guarded, parser, protocol_argument, run_dir
from dcgan_inversion.infra.tf_startup import load_tensorflow


def figures_main(argv=None) -> None:
    args = arguments().parse_args(argv)

    def run():
        load_tensorflow()  # the training plot reads TensorBoard logs through TensorFlow
        from dcgan_inversion.paper.render import make_figures

        for path in make_figures(run_dir(args), args.only, args.protocol):
            print(f"wrote {path}")

    guarded(run)


def arguments():
    made = parser("Render the paper's figures and tables from a run's results.", computes=False)
    made.add_argument("--only", action="append", default=None,
                        choices=["figure1", "figure2", "table1", "table2", "convergence", "training", "protocols", "curvature",
                                 "completion"],
                        help="render only this figure or table (repeatable)")
    protocol_argument(made, "draw the results of")
    return made

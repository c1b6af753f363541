"""The walks-and-arithmetic example's figure (results/edits.json and edits.npz, paper/edits.py)."""
from __future__ import annotations

from pathlib import Path

from dcgan_inversion.infra.plotting import plt, save_figure
from dcgan_inversion.records import load_arrays, load_results
from dcgan_inversion.run import RunPaths
from dcgan_inversion.user_images.latent_edits import show


def edits(paths: RunPaths) -> list[Path]:
    """Three rows: the walk between two generated images' recovered z'; the walk between the two
    portraits' z' (the photos at its ends); the arithmetic's terms (G of each mean z') and its result,
    beside the result of the same arithmetic on the true latents."""
    record, arrays = load_results(paths, "edits"), load_arrays(paths, "edits")
    steps = record["steps"]
    columns = steps + 2
    figure, axes = plt.subplots(3, columns, figsize=(1.1 * columns, 3.9), squeeze=False, layout="constrained")
    for axis in axes.flat:
        axis.set_axis_off()
    path = "spherical" if record["spherical"] else "linear"
    for column, image in enumerate(arrays["walk"]):
        show(axes[0, column + 1], image)
    _row_title(axes[0, 1], f"{path} walk between two generated images' z'")
    show(axes[1, 0], arrays["portraits"][0], record["portraits"][0])
    for column, image in enumerate(arrays["portrait_walk"]):
        show(axes[1, column + 1], image)
    show(axes[1, -1], arrays["portraits"][1], record["portraits"][1])
    _row_title(axes[1, 1], "between the portraits' z' (photos at the ends)")
    signs = ["+" if sign > 0 else "-" for sign in record["signs"]]
    for column, (sign, image) in enumerate(zip(signs, arrays["term_means"])):
        show(axes[2, column], image, f"{sign} mean of 2")
    show(axes[2, len(signs)], arrays["result"][0], "= result")
    show(axes[2, len(signs) + 1], arrays["result_true"][0], "true z's")
    figure.suptitle(f"recovered vs true: walk z within {record['walk_z_difference_max']:.0e}, arithmetic z within "
                    f"{record['arithmetic_z_difference_max']:.0e}", fontsize=8)
    return save_figure(figure, paths.figures / "edits")


def _row_title(axis, text: str) -> None:
    """A title over a row, left-aligned on its first image, that the layout does not make room for."""
    axis.text(0.0, 1.06, text, fontsize=7, transform=axis.transAxes, in_layout=False)

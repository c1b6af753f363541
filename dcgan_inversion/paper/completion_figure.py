"""The completion experiment's figure and table (results/completion.json, paper/completion.py)."""
from __future__ import annotations

from pathlib import Path

from dcgan_inversion.completion.observe import PSNR_CAP_DB, PSNR_FLOOR_MSE
from dcgan_inversion.infra.plotting import plt, save_figure
from dcgan_inversion.paper.labels import model_text
from dcgan_inversion.paper.plot_style import legend_below, mark_cap, plot_mode, plot_positive
from dcgan_inversion.records import load_results
from dcgan_inversion.paper.tables import write_table
from dcgan_inversion.run import RunPaths


def completion(paths: RunPaths) -> list[Path]:
    record = load_results(paths, "completion")
    return completion_plot(paths, record) + completion_table(paths, record)


def completion_plot(paths: RunPaths, record: dict) -> list[Path]:
    """Along the centre-square sweep: latents recovered below 1e-4 and the hidden region's PSNR per
    method, beside the smallest singular value of the known pixels' Jacobian. A PSNR at the cap
    (an exact fill) and a singular value of 0 are marked as such, not drawn as measurements."""
    sweep = sorted((row for row in record["masks"] if row["mask"].startswith("center-")),
                   key=lambda row: row["hidden_fraction"])
    hidden = [100 * row["hidden_fraction"] for row in sweep]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
    for mode in record["modes"]:
        plot_mode(left, hidden, [100 * row["modes"][mode]["below"][0] for row in sweep], mode, f"ours, {mode}")
        plot_mode(middle, hidden, [row["modes"][mode]["hidden_psnr_db"] for row in sweep], mode, f"ours, {mode}")
    amos = {"marker": "s", "linestyle": "--", "color": "black"}
    left.plot(hidden, [100 * row["amos"]["below"][0] for row in sweep], label="Amos (L1 + GAN, Adam)", **amos)
    middle.plot(hidden, [row["amos"]["hidden_psnr_db"] for row in sweep], label="Amos (L1 + GAN, Adam)", **amos)
    if all("real" in row for row in sweep):
        middle.plot(hidden, [row["real"]["ours_psnr_db"] for row in sweep], "^:", color="tab:olive", label="ours, real faces")
        middle.plot(hidden, [row["real"]["amos_psnr_db"] for row in sweep], "v:", color="tab:brown", label="Amos, real faces")
    mark_cap(middle, PSNR_CAP_DB, f"{PSNR_CAP_DB:.0f} dB cap: hole filled exactly (MSE < {PSNR_FLOOR_MSE:g})")
    plot_positive(right, hidden, [row["jacobian"]["sigma_min_median"] for row in sweep],
                  "σ_min = 0 (fewer known values than z_dim)", color="tab:purple", marker="o",
                  label="σ_min (median over targets)")
    right.set_yscale("log")
    left.set_ylabel("latents below 1e-4 (%)")
    middle.set_ylabel("hidden-region PSNR (dB)")
    right.set_ylabel("σ_min of d(known pixels)/dz (median)")
    for axis in (left, middle, right):
        axis.set_xlabel("centre square hidden (% of pixels)")
        axis.grid(True, alpha=0.3)
    legend_below(figure, (left, middle, right))
    figure.suptitle(f"Completion of {record['latents']} generated targets, {model_text(record['config'])} generator, "
                    f"best of {record['starts']} starts", fontsize=9)
    return save_figure(figure, paths.figures / "completion")


def completion_table(paths: RunPaths, record: dict) -> list[Path]:
    modes = record["modes"]
    header = (["mask", "hidden", "known values", "σ_min (median)"]
              + [f"ours {mode}: < 1e-4 / < 1e-8" for mode in modes]
              + ["ours stochastic: PSNR", "Amos: < 1e-4", "Amos: PSNR", "real faces: ours / Amos PSNR"])
    rows = []
    for row in record["masks"]:
        ours = row["modes"].get("stochastic", next(iter(row["modes"].values())))
        real = row.get("real")
        rows.append([row["mask"], f"{row['hidden_fraction']:.0%}", row["known_values"],
                     f"{row['jacobian']['sigma_min_median']:.1e}"]
                    + [f"{row['modes'][mode]['below'][0]:.0%} / {row['modes'][mode]['below'][1]:.0%}" for mode in modes]
                    + [_db(ours["hidden_psnr_db"]), f"{row['amos']['below'][0]:.0%}", _db(row["amos"]["hidden_psnr_db"]),
                       f"{_db(real['ours_psnr_db'])} / {_db(real['amos_psnr_db'])}" if real else "n/a"])
    notes = [f"{record['latents']} generated targets per mask (true z known), our method best of {record['starts']} "
             f"starts per clip mode; Amos: his L1 contextual + {record['config']['completion']['lam']:g} x GAN loss, "
             f"Adam lr {record['config']['completion']['learning_rate']:g}, "
             f"{record['config']['completion']['iterations']} iterations"
             + ("" if record["perceptual_loss"] else " (no discriminator in this run: without the GAN term)")
             + ". PSNR: the hidden pixels of the completion against the truth, median over targets (real faces: mean"
             f" over {', '.join(record['real_images']) or 'none'}; {PSNR_CAP_DB:.0f} dB is the cap, an exact fill). σ_min: smallest singular value of the Jacobian of the"
             " known pixels at the true latent (0: fewer known values than z has dimensions).",
             _centre_square_note(record)]
    return write_table(paths, "completion", header, rows, notes)


def _centre_square_note(record: dict) -> str:
    """Where, along the centre squares, every latent stopped coming back exactly (rows in the table above)."""
    pinned = record["pinned_down"]
    where = (f"a latent was missed already at the smallest hole ({_share(pinned['first_failure_at'])} hidden)"
             if pinned["all_recovered_up_to"] is None else
             f"every latent came back up to {_share(pinned['all_recovered_up_to'])} hidden, the first miss at "
             f"{_share(pinned['first_failure_at'])}")
    return f"Centre squares (Amos's center and the center-N% sweep), below 1e-8 in every clip mode run: {where}."


def _db(value) -> str:
    return "n/a" if value is None else f"{value:.1f} dB"


def _share(value) -> str:
    return "none of the sweep" if value is None else f"{value:.0%}"

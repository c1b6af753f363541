"""`dcgan-invert --image`: the best recovery of each image under the library's search plan, and the
verdict of the run's calibration (user_images/plan.py decides the starts, as for the API)."""
from __future__ import annotations

from dcgan_inversion.cli.common import fail_if_skipped
from dcgan_inversion.infra.text import printable


def invert_image_files(config, paths, files, skipped, starts, mode, label=None) -> None:
    """One class (or an unconditional generator's images), or, for a conditional run without a label,
    every class in turn and then each image's best class."""
    if not config.model.labels or label is not None:
        _invert_images(config, paths, files, skipped, starts, mode, label, paths.results / "images")
        return
    names = config.model.label_names or tuple(str(k) for k in range(config.model.labels))
    by_class = {}
    for index, name in enumerate(names):
        print(f"class {name} ({index + 1} of {len(names)}):", flush=True)
        by_class[name] = _invert_images(config, paths, files, skipped, starts, mode, index,
                                        paths.results / "images" / f"class-{name}")
    print("which class and which z drew each image (best pixel MSE per class):")
    for number, row in enumerate(by_class[names[0]]):
        errors = {name: rows[number]["best_pixel_mse"] for name, rows in by_class.items()}
        best = min(errors, key=errors.get)
        listed = ", ".join(f"{name} {error:.1e}" for name, error in errors.items())
        print(f"{printable(row['file'])}: class {best} ({by_class[best][number]['verdict']}); {listed}; its z' is in "
              f"{paths.results / 'images' / f'class-{best}'}")


def _invert_images(config, paths, files, skipped, starts, mode, label, output_dir) -> list:
    from dcgan_inversion.gan.latents import latent_prior
    from dcgan_inversion.infra.distribute import make_strategy
    from dcgan_inversion.inversion.metrics import random_baseline
    from dcgan_inversion.run import load_encoder, load_generator
    from dcgan_inversion.user_images import recover
    from dcgan_inversion.user_images.plan import search_plan

    strategy = make_strategy(config.distribute.strategy)
    generator = load_generator(paths.root, config.model, strategy, label=label)
    plan = search_plan(config, starts, mode, paths.encoder_weights.exists())
    if plan.note:
        print(plan.note, flush=True)
    encoder = load_encoder(paths.root) if plan.encoder else None
    calibrated = recover.calibration(generator, plan.config, plan.starts, plan.mode, output_dir, strategy, encoder)
    rows = recover.invert_images(generator, plan.config, files, output_dir, plan.starts, plan.mode, calibrated,
                                 strategy, skipped=skipped, encoder=encoder)
    print(f"threshold {calibrated['threshold']:.1e} (pixel MSE; generated images up to {calibrated['worst_generated']:.1e}, "
          f"unseen real ones from {calibrated['best_real']:.1e})")
    baseline = random_baseline(max(plan.starts, 1000), config.model.z_dim, config.seed, latent_prior(config)) \
        if plan.starts > 1 else None
    for row in rows:
        spread = (f", spread {row['spread']:.1e} (random pairs: {baseline:.2f})" if row["spread"] is not None else "")
        print(f"{printable(row['file'])}: best pixel MSE {row['best_pixel_mse']:.1e}{spread}: {row['verdict']} "
              f"({row['margin_decades']:+.1f} decades from the threshold)")
    print(f"wrote pictures, contact_sheet.png, summary.csv and summary.json to {output_dir}")
    fail_if_skipped(skipped, len(rows), ", and in summary.json")
    return rows

"""`dcgan-invert --image a b --interpolate N` and `--arithmetic EXPR`: walks and vector arithmetic on
the recovered latents of the user's images (user_images/latent_edits.py; the API's twins in api.py)."""
from __future__ import annotations

from pathlib import Path

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.text import printable


def _run(config, paths, label):
    """The run as the API sees it, with the command's config (its --set overrides) and class."""
    from dcgan_inversion import api
    from dcgan_inversion.run import load_generator

    return api.Run(paths.root, config, load_generator(paths.root, config.model, label=label))


def interpolate_images(config, paths, files, steps: int, walk_kind: str | None, starts, mode, label) -> None:
    from dcgan_inversion import api
    from dcgan_inversion.infra.io_utils import write_json, write_npy, write_png
    from dcgan_inversion.user_images.latent_edits import strip, write_gif

    if len(files) != 2:
        raise UserError(f"--interpolate walks between two images: give exactly two with --image (got {len(files)})")
    run = _run(config, paths, label)
    images = [api.load_images(run, file)[0] for file in files]
    found = api.interpolate(run, images[0], images[1], steps, None if walk_kind is None else walk_kind == "spherical",
                            starts, mode)
    verdicts = api.verdict(run, found.ends)
    folder = paths.results / "walks" / f"{Path(files[0]).stem}_to_{Path(files[1]).stem}"
    folder.mkdir(parents=True, exist_ok=True)
    write_png(folder / "walk.png", strip(found.images))
    write_gif(folder / "walk.gif", found.images)
    write_npy(folder / "walk.z.npy", found.z)
    ends = [{"file": str(file), "pixel_mse": float(error), "verdict": said.label, "margin_decades": said.margin_decades}
            for file, error, said in zip(files, found.ends.pixel_error, verdicts)]
    write_json(folder / "walk.json", {"steps": steps, "spherical": found.spherical, "ends": ends,
                                      "starts": found.ends.starts, "mode": found.ends.mode, "label": label})
    for end in ends:
        print(f"{printable(end['file'])}: pixel MSE {end['pixel_mse']:.1e}, {end['verdict']}")
    print(f"wrote the {steps}-step {'spherical' if found.spherical else 'linear'} walk to {folder}: walk.png, "
          "walk.gif, walk.z.npy, walk.json")


def arithmetic_images(config, paths, expression: str, starts, mode, label) -> None:
    from dcgan_inversion import api
    from dcgan_inversion.infra.io_utils import write_json, write_npy, write_png
    from dcgan_inversion.infra.plotting import save_figure
    from dcgan_inversion.data.images import to_uint8
    from dcgan_inversion.user_images.latent_edits import arithmetic_grid, parse_expression

    terms = parse_expression(expression)
    run = _run(config, paths, label)
    loaded = [api.load_images(run, term.source) for term in terms]
    made = api.arithmetic(run, [(term.sign, images) for term, (images, _) in zip(terms, loaded)], starts, mode)
    folder = paths.results / "arithmetic"
    folder.mkdir(parents=True, exist_ok=True)
    rows, labels = [], []
    for number, (term, (images, names), found) in enumerate(zip(terms, loaded, made.terms)):
        verdicts = api.verdict(run, found)
        labels.append([f"{error:.0e}, {'in' if said.in_range else 'not in'}" for error, said in
                       zip(found.pixel_error, verdicts)])
        write_npy(folder / f"term{number + 1}.mean_z.npy", made.means[number])
        rows.append({"term": number + 1, "sign": term.sign, "source": term.source,
                     "images": [{"file": name, "pixel_mse": float(error), "verdict": said.label,
                                 "margin_decades": said.margin_decades}
                                for name, error, said in zip(names, found.pixel_error, verdicts)]})
    figure = arithmetic_grid([images for images, _ in loaded], [found.reconstructions for found in made.terms],
                             made.signs, made.image, labels)
    save_figure(figure, folder / "arithmetic")
    write_png(folder / "result.png", to_uint8(made.image))
    write_npy(folder / "result.z.npy", made.z)
    write_json(folder / "arithmetic.json", {"expression": expression, "terms": rows, "starts": made.terms[0].starts,
                                            "mode": made.terms[0].mode, "label": label})
    for row in rows:
        worst = max(image["pixel_mse"] for image in row["images"])
        outside = sum(image["verdict"] != "in G's range" for image in row["images"])
        print(f"term {row['term']} ({'+' if row['sign'] > 0 else '-'} {printable(row['source'])}): "
              f"{len(row['images'])} images, worst pixel MSE {worst:.1e}, {outside} not in G's range")
    print(f"wrote {folder}: arithmetic.png (each term's images over G(z'), then the result), result.png, "
          "result.z.npy, term<k>.mean_z.npy, arithmetic.json")

"""`dcgan-figures`: renders the figures and tables named, from the results that exist."""
from __future__ import annotations

import sys
from pathlib import Path

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import ensure_writable
from dcgan_inversion.run import PublishedPaths, RunPaths
from dcgan_inversion.paper.figures import convergence, curvature, figure1, figure2, training
from dcgan_inversion.paper.tables import protocols_table1, protocols_with_results, write_table1, write_table2
from dcgan_inversion.paper.completion_figure import completion
from dcgan_inversion.paper.edits_figure import edits


FIGURES = {"figure1": figure1, "figure2": figure2, "table1": write_table1, "table2": write_table2,
           "convergence": convergence, "training": training, "protocols": protocols_table1, "curvature": curvature,
           "completion": completion, "edits": edits}


RESULTS = {"figure1": "trajectory", "figure2": "noise", "table1": "table1", "table2": "uniqueness",
           "convergence": "table1", "protocols": "table1", "curvature": "curvature",
           "completion": "completion", "edits": "edits"}
ARRAYS = {"figure1": "trajectory", "convergence": "table1", "curvature": "curvature",
          "edits": "edits"}  # figures drawn from an NPZ too


def make_figures(run_dir, names=None, protocol: str | None = None, published: bool = False) -> list[Path]:
    """Renders the figures and tables named, a missing result being a `UserError`; by default every
    one whose results exist, the others named on stderr.

    Experiments come one at a time (a paper-size Table 1 or a protocol's take hours on a CPU), so a
    run with only some of them still gets their figures; one with none is a `UserError`.
    `published`: `run_dir` is a published results folder (PublishedPaths): its figures re-render
    from its files.
    """
    paths = (PublishedPaths if published else RunPaths)(run_dir, protocol)
    if published and not paths.results.is_dir():
        raise UserError(f"no published results in {paths.results}: `make publish` writes them")
    if not paths.results.is_dir():
        raise _no_results(paths)
    ensure_writable(paths.figures)
    written = []
    for name in names or _default_figures(paths):
        written += FIGURES[name](paths)
    return written


def _no_results(paths: RunPaths) -> UserError:
    """The one line for a run with nothing to draw yet: the command that makes its results."""
    option = f" --protocol {paths.protocol}" if paths.protocol else ""
    return UserError(f"no results in {paths.results}: run `make invert{option.replace(' --protocol ', ' PROTOCOL=')}` "
                     f"(dcgan-invert --run {paths.root}{option}) first")


def _default_figures(paths: RunPaths) -> list[str]:
    if isinstance(paths, PublishedPaths):
        return _published_figures(paths)
    if paths.protocol:
        names = [name for name in FIGURES if name not in ("training", "protocols", "completion", "edits")]
    else:  # protocols, curvature, completion and edits only once there is something to draw, without a word
        names = [name for name in FIGURES if (name != "protocols" or protocols_with_results(paths))
                 and (name not in ("curvature", "completion", "edits") or (paths.results / f"{name}.json").exists())]
    drawn = [name for name in names if name in RESULTS]  # the training figure draws the run itself
    missing = [name for name in drawn if not (paths.results / f"{RESULTS[name]}.json").exists()]
    if missing == drawn:
        raise _no_results(paths)
    for name in missing:
        print(f"skipped {name}: {paths.results / (RESULTS[name] + '.json')} is not there yet", file=sys.stderr)
    return [name for name in names if name not in missing]


def _published_figures(paths: PublishedPaths) -> list[str]:
    """Every figure and table whose result files were published, the others named on stderr."""
    names = _publishable(paths)
    ready = published_figures(paths)
    for name in sorted(set(names) - set(ready), key=names.index):
        print(f"skipped {name}: its results are not published in {paths.results}", file=sys.stderr)
    return ready


def published_figures(paths: PublishedPaths) -> list[str]:
    """The figures and tables that re-render from a published folder: their JSON, and the NPZ of those
    drawn from arrays, are there (the training figure needs the run)."""
    return [name for name in _publishable(paths) if (paths.results / f"{RESULTS[name]}.json").exists()
            and (name not in ARRAYS or (paths.results / f"{ARRAYS[name]}.npz").exists())
            and (name != "protocols" or protocols_with_results(paths))]


def _publishable(paths: PublishedPaths) -> list[str]:
    return [name for name in FIGURES if name != "training"
            and (paths.protocol is None or name not in ("protocols", "completion", "edits"))]

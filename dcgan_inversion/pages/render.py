"""Every page a reader sees is rendered, not typed: `docs/templates/<page>.md.j2` plus the results under
`docs/results/` give `docs/<page>.md` (and `README.md.j2` the README).

A template reads any committed result as `results` (`results.bench.recovery_by_run`, the JSON file
`docs/results/bench.json`; `results["authors/table1"]`, `docs/results/authors/table1.json`) and
formats numbers with the filters of `formats.py`, so a page cannot carry a number its result file
does not. `sources` lists the command that makes each result (sources.py), `paper` the paper's own Tables 1 and 2. `tables.recovery(report)` writes a table as the benchmark's report does;
`result_table("table1.md")` shows a table an experiment wrote, as it is now, and `result_text` all
of such a file; `architecture("celeba")` a shipped config's parameter and FLOP counts, `config("celeba")` its
resolved settings (`config("celeba").search.screen_starts`) and `recovery_settings` what the recovery
benchmark's settings change in it, so a page states the settings the code runs. `make docs` writes the pages; a test renders them and fails when a committed page
differs.
"""
from __future__ import annotations

import functools
import json
import traceback
from pathlib import Path

import jinja2

from dcgan_inversion.config.moved import moved
from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import atomic_write_text
from dcgan_inversion.pages import formats, sources
from dcgan_inversion.paper.labels import PAPER_TABLE1, PAPER_TABLE2

ROOT = Path(__file__).resolve().parents[2]
SUFFIX = ".j2"


def _committed_text(path: Path) -> str:
    """A committed result file's text; one line when it is missing."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"a page shows {path}, which is missing: run the command that writes it") from None


class Results:
    """The committed results, read on first use: `results.bench` or `results["authors/table1"]` is the
    parsed `docs/results/bench.json` or `docs/results/authors/table1.json`, its saved config (if any)
    in today's layout (config/moved.py), so a page reads `record.config.search` from results of any age."""

    def __init__(self, folder: Path):
        self.folder, self._read = Path(folder), {}

    def __getitem__(self, name: str):
        if name not in self._read:
            path = self.folder / f"{name}.json"
            try:
                record = json.loads(_committed_text(path))
            except json.JSONDecodeError as error:
                raise UserError(f"{path} is not valid JSON ({error})") from None
            if isinstance(record, dict) and isinstance(record.get("config"), dict):
                record["config"] = moved(record["config"], str(path), announce=False)
            self._read[name] = record
        return self._read[name]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def partial_environments(self) -> list[str]:
        """The results (names as `results[...]` takes them) whose `environment` lacks the CPU model or the
        lock file's hash, so a page can say which ones record less than the rest."""
        return [name for name, recorded in self._environments() if not {"cpu", "lock_sha256"} <= set(recorded)]

    def recorded(self, key: str) -> list[str]:
        """Each value of `environment[key]` the results record (a CPU, a lock file's hash), the most
        often recorded first, so a page names the machines and lock files its numbers came from."""
        values = [recorded[key] for _, recorded in self._environments() if key in recorded]
        return sorted(set(values), key=lambda value: (-values.count(value), value))

    def _environments(self) -> list[tuple[str, dict]]:
        names = sorted(str(path.relative_to(self.folder).with_suffix("")) for path in self.folder.rglob("*.json"))
        return [(name, self[name]["environment"]) for name in names
                if isinstance(self[name], dict) and isinstance(self[name].get("environment"), dict)]


ASSUMED_GPU_FLOPS = 20e12  # a sustained float32 rate for the pages' GPU estimates: a third of an H100's peak; not measured


def _environment(templates: Path, results_dir: Path) -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, autoescape=False)
    environment.filters.update(formats.FILTERS)
    environment.globals["tables"] = _tables()
    environment.globals["sources"] = sources.SOURCES
    environment.globals["paper"] = {"table1": PAPER_TABLE1, "table2": PAPER_TABLE2}
    environment.globals["result_table"] = lambda name, index=0: _result_table(results_dir, name, index)
    environment.globals["result_text"] = lambda name: _result_text(results_dir, name)
    environment.globals["architecture"] = architecture
    environment.globals["config"] = shipped_config
    environment.globals["recovery_settings"] = _recovery_settings()
    environment.globals["normal_prior"] = _normal_prior
    environment.globals["default_box"] = _default_box()
    environment.globals["verdict_tally"] = verdict_tally
    environment.globals["image_starts"] = _image_starts()
    environment.globals["demo_faces"] = _demo_faces()
    environment.globals["rates_differ"] = _rates_differ
    environment.globals["gpu_flops"] = ASSUMED_GPU_FLOPS
    return environment


def _normal_prior(box: float):
    """N(0, 1) kept in [-box, box] (gan/latents.py), so a page computes what a box cuts off instead of typing it."""
    from dcgan_inversion.gan.latents import LatentPrior

    return LatentPrior.normal(box)


DRAWN_EXACTLY = ("generated, float32 (never saved to a file)", "generated, saved as 8-bit PNG")


def verdict_tally(record: dict) -> dict:
    """A verdict measurement (user_images/measure.py) in two groups: what G drew, exactly or as a
    lossless PNG, and the real images (every category not generated); each group's best pixel MSEs
    and how many images the verdict called right ("in range" for the first, "not in range" for the second)."""
    drawn, real = {"errors": [], "right": 0, "images": 0}, {"errors": [], "right": 0, "images": 0}
    for name, row in record["categories"].items():
        if name in DRAWN_EXACTLY:
            group, right = drawn, row["in_range"]
        elif name.startswith("generated"):
            continue  # degraded copies of G's images: neither group
        else:
            group, right = real, 1 - row["in_range"]
        group["errors"] += row["best_pixel_mse"]
        group["right"] += round(right * row["images"])
        group["images"] += row["images"]
    return {"drawn": drawn, "real": real}


def _default_box() -> dict:
    """model.latent_box when a config leaves it out, per prior (gan/latents.py)."""
    from dcgan_inversion.gan.latents import DEFAULT_BOX

    return DEFAULT_BOX


def _image_starts() -> dict:
    """Starts per image of `--image` (user_images/plan.py): random ones, and E(x) plus random ones."""
    from dcgan_inversion.user_images.plan import IMAGE_STARTS, IMAGE_STARTS_WITH_ENCODER

    return {"random": IMAGE_STARTS, "with_encoder": IMAGE_STARTS_WITH_ENCODER}


def _rates_differ(a: float, b: float, rows: int) -> bool:
    """Two recovery rates told apart by their sample (inversion/metrics.py), for claim (b)'s verdicts."""
    from dcgan_inversion.inversion.metrics import rates_differ

    return rates_differ(a, b, rows)


def _demo_faces() -> int:
    """How many real faces the demo config's data holds (data/pipeline.py), its held-out ones included."""
    from dcgan_inversion.data.pipeline import DEMO_FACES

    return DEMO_FACES


def _recovery_settings() -> dict:
    """What the recovery benchmark's settings change in the celeba config's (bench/recovery.py)."""
    from dcgan_inversion.bench import recovery

    return {"early switch": recovery.EARLY_SWITCH, "long first-order phase": recovery.LONG_FIRST_ORDER_PHASE,
            "screened starts, early switch": recovery.SCREEN_EARLY_SWITCH,
            "nearest of a bank, long phase, polish budget": recovery.NEAREST_OF_A_BANK}


@functools.lru_cache(maxsize=None)
def shipped_config(name: str):
    """A shipped config (`dcgan_inversion/configs/<name>.yaml`, its base resolved), as the code loads it."""
    from dcgan_inversion.config import load_config

    return load_config(name)


def markdown_tables(text: str) -> list[str]:
    """Each run of consecutive Markdown table lines, as one text."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append("\n".join(current))
            current = []
    return tables


def _result_text(results_dir: Path, name: str) -> str:
    """The whole of the committed `docs/results/<name>` (a table and its caption), without its last newline."""
    return _committed_text(results_dir / name).rstrip("\n")


def _result_table(results_dir: Path, name: str, index: int) -> str:
    """The `index`-th table of the committed `docs/results/<name>` (a Markdown file an experiment wrote)."""
    tables = markdown_tables(_committed_text(results_dir / name))
    if index >= len(tables):
        raise UserError(f"a page shows table {index + 1} of {results_dir / name}, which has fewer tables")
    return tables[index]


def _tables() -> dict:
    """Tables a page shows as the module that measured them writes them (one layout for a result)."""
    from dcgan_inversion.bench import polish, recovery

    return {"recovery": lambda report: "\n".join(recovery.markdown(report)),
            "bench_polish": lambda report: "\n".join(polish.markdown(report)).strip()}


@functools.lru_cache(maxsize=None)
def architecture(config_name: str) -> dict:
    """What a shipped config's models are, counted from their layers rather than measured: parameters,
    the FLOPs of one row's forward pass and each polish iteration's counted step-equivalents (cost.py),
    for the pages' estimates of what a run costs."""
    from dcgan_inversion.config import load_config
    from dcgan_inversion.gan.model import make_discriminator, make_generator
    from dcgan_inversion.inversion.cost import InversionCost, forward_flops

    model = load_config(config_name).model
    generator, discriminator = make_generator(model), make_discriminator(model)
    cost = InversionCost.of(generator)
    fresh, updated = cost.broyden_iteration_steps("layerwise_lm")
    return {"generator_parameters": generator.count_params(), "discriminator_parameters": discriminator.count_params(),
            "generator_forward_flops": forward_flops(generator),
            "discriminator_forward_flops": forward_flops(discriminator),
            "iteration_steps": {"layerwise_lm": cost.polish_iteration_steps("layerwise_lm"),
                                "levenberg_marquardt": cost.polish_iteration_steps("levenberg_marquardt"),
                                "broyden_lm fresh": fresh, "broyden_lm updated": updated}}


def _target(template: Path, root: Path) -> Path:
    """docs/templates/README.md.j2 -> README.md; docs/templates/method.md.j2 -> docs/method.md."""
    name = template.name[:-len(SUFFIX)]
    return root / name if name == "README.md" else root / "docs" / name


def rendered_pages(root: Path = ROOT) -> dict[Path, str]:
    """Every page's text as its template and the results in `root` render it."""
    templates = Path(root) / "docs" / "templates"
    results_dir = Path(root) / "docs" / "results"
    environment, results = _environment(templates, results_dir), Results(results_dir)
    pages = {}
    for template in sorted(templates.glob(f"*.md{SUFFIX}")):
        try:
            pages[_target(template, Path(root))] = environment.get_template(template.name).render(results=results)
        except jinja2.TemplateError as error:
            raise UserError(f"{template}: {error}") from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError) as error:
            raise UserError(f"{template}{_template_line(error)}: the results it reads do not fit its text "
                            f"({type(error).__name__}: {error})") from None
    return pages


def _template_line(error: BaseException) -> str:
    """':<line>' of the template line that failed (jinja2 puts the template's frames in the traceback)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.endswith(SUFFIX)]
    return f":{frames[-1].lineno}" if frames else ""


def _differs(path: Path, text: str) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != text


def stale_pages(root: Path = ROOT) -> list[Path]:
    """Pages whose committed text is not their rendering."""
    return [path for path, text in rendered_pages(root).items() if _differs(path, text)]


def write_pages(root: Path = ROOT) -> list[Path]:
    """Renders every page and writes those that changed; returns them."""
    changed = [(path, text) for path, text in rendered_pages(root).items() if _differs(path, text)]
    for path, text in changed:
        atomic_write_text(path, text)
    return [path for path, _ in changed]

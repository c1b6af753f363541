"""The README's and docs' numbers are the committed results' numbers: a re-run that changes a result
and forgets the text fails here, so no number is typed twice without a check."""
import json
import re
from pathlib import Path

from dcgan_inversion.pages.render import markdown_tables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def _json(name):
    return json.loads((RESULTS / name).read_text())


def _claims_row(claim: str, page: Path = ROOT / "docs" / "demo_generator.md", table: int = 0) -> str:
    """A row of a claims table: the demo generator's page, or one of the README's (the real face
    generator: its own N(0, 1) latents first, then the paper's U(-1, 1) ones)."""
    rows = [line for line in page.read_text().splitlines() if line.startswith(f"| ({claim})")]
    return rows[table]


def test_the_face_generator_page_quotes_its_results():
    """Two tables, one per latent draw: the authors' protocol beside our method on each."""
    readme = ROOT / "docs" / "face_generator.md"
    order = ("none", "standard", "stochastic")
    for table, (ours, authors, uniqueness, noise_run) in enumerate([
            ("runs/face_table1_prior/table1.json", "runs/face_paper_prior/authors/table1.json",
             "runs/face_demo/uniqueness.json", "runs/face_noise_prior/noise.json"),
            ("runs/face_table1_uniform/table1.json", "runs/face_paper/authors/table1.json",
             "runs/face_demo_uniform/uniqueness.json", "runs/face_noise_uniform/noise.json")]):
        table1 = _json(ours)
        digits = 1 if table1["latents_per_mode"] >= 100 else 0
        shares = " / ".join(_percent(table1["modes"][m]["final"]["0.0001"], digits) + "%" for m in order)
        row = _claims_row("b", readme, table)
        assert f"| {shares} |" in row
        sticky = " / ".join(_percent(_json(authors)["modes"][m]["sticky"]["0.0001"], 0) + "%" for m in order)
        assert f"| {sticky}; median z error" in row
        distances = _json(uniqueness)["modes"]
        quoted = " / ".join(f"{distances[m]['mean_pairwise_distance']:.1e}" for m in order)
        assert quoted in _claims_row("d", readme, table)
        noise = _json(noise_run)
        assert f"median z error {noise['modes']['none']['median_z_error'][1]:.1e} at variance" in _claims_row("c", readme, table)
        assert f"({noise['latents_per_variance']} latents per level and mode)" in _claims_row("c", readme, table)
    assert _json("runs/face_demo/imported.json")["pretrained"]["package"] in readme.read_text()


def test_the_readme_gives_the_answer_on_the_celeba_dcgan_first():
    """The first 60 lines hold the verdict on make demo's generator, its numbers in the paper's mode order;
    the whole README is at most 200 lines."""
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    first = "\n".join(lines[:60])
    assert _json("runs/celeba_demo/imported.json")["pretrained"]["package"] in first
    table1 = _json("runs/celeba_demo/table1.json")
    order = ("none", "standard", "stochastic")
    assert " / ".join(_percent(table1["modes"][m]["final"]["1e-08"], 0) + "%" for m in order) in first
    distances = _json("runs/celeba_demo/uniqueness.json")["modes"]
    assert " / ".join(f"{distances[m]['mean_pairwise_distance']:.3f}" for m in order) in first
    for claim in "abcd":
        assert f"| ({claim}) " in first
    assert "stochastic / standard / none" not in "\n".join(lines)


def _percent(share: float, digits: int = 1) -> str:
    return f"{100 * share:.{digits}f}" if share < 1 else "100"


def test_claims_a_and_b_quote_the_authors_protocol_and_amos_table1():
    authors = _json("authors/table1.json")["modes"]
    order = ("stochastic", "standard", "none")
    at_1e4 = " / ".join(_percent(authors[m]["sticky"]["0.0001"]) for m in order)
    at_1e3 = " / ".join(_percent(authors[m]["sticky"]["0.001"]) for m in order)
    assert f"{at_1e4}%; at 1e-3 {at_1e3}%" in _claims_row("b")
    assert f"{_percent(authors['stochastic']['sticky']['0.0001'])}% (" in _claims_row("a")
    amos = _json("amos/table1.json")["modes"]
    assert " / ".join(_percent(amos[m]["sticky"]["0.0001"]) for m in order) + "%" in _claims_row("b")


def test_claim_d_quotes_both_table2s():
    authors = _json("authors/uniqueness.json")["modes"]
    order = ("none", "standard", "stochastic")
    assert " / ".join(f"{authors[m]['mean_pairwise_distance']:.3f}" for m in order) in _claims_row("d")
    ours = {row[0]: float(row[1]) for row in (re.findall(r"^\| (\w+) \| ([0-9.e+-]+) \|", (RESULTS / "table2.md")
                                                         .read_text(), re.M))}
    assert " / ".join(f"{ours[m]:.3f}" for m in order) in _claims_row("d")


def test_every_committed_table_a_page_shows_is_shown_verbatim():
    """A docs page that shows a table of docs/results/ (found by its header and first row) shows all of it."""
    pages = {page.name: page.read_text() for page in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]}
    shown = 0
    for path in RESULTS.rglob("*.md"):
        for table in (found.splitlines() for found in markdown_tables(path.read_text())):
            for name, text in pages.items():
                if len(table) > 2 and "\n".join(table[:3]) in text:
                    shown += 1
                    assert "\n".join(table) in text, f"docs/{name} shows an outdated {path.relative_to(ROOT)}"
    assert shown >= 4  # Tables 1-2, the protocols' Table 1, the verdicts at least


def test_every_figure_a_page_shows_re_renders_from_docs_results():
    """`make refigure` redraws every figure a page shows from the result files beside it (its JSON, and
    the NPZ of those drawn from arrays); the training plots and the contact sheet are a run's own."""
    from dcgan_inversion.paper.protocols import available_protocols
    from dcgan_inversion.paper.drawing import published_figures
    from dcgan_inversion.run.paths import PublishedPaths

    a_runs_own = {"training.png", "your_images_contact_sheet.png"}
    shown = set()
    for page in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text()):
            shown.add((page.parent / target).resolve().relative_to(RESULTS))
    checked = [figure for figure in shown if figure.name not in a_runs_own]
    assert len(checked) >= 10
    for figure in checked:
        folder, protocol = figure.parent, None
        if folder.name in available_protocols():
            folder, protocol = folder.parent, folder.name
        drawn = published_figures(PublishedPaths(RESULTS / folder, protocol))
        assert figure.stem in drawn, f"docs/results/{figure} does not re-render from the files beside it"


def test_every_page_the_readme_links_exists():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)", readme):
        assert (ROOT / target).exists(), target


def test_every_link_of_the_docs_pages_exists():
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_coupling_sentence_quotes_the_moving_average_run():
    moving = _json("authors_moving/table1.json")["modes"]
    quoted = " / ".join(_percent(moving[m]["final"]["0.0001"]) for m in ("stochastic", "standard", "none"))
    assert f"{quoted}% below 1e-4" in " ".join((ROOT / "docs" / "demo_generator.md").read_text().split())


def test_the_paper_generators_times_follow_from_the_benchmark_and_the_flops():
    """The paper generator page's times: Table 1 at the paper's size as measured, the authors' protocol at
    their size from bench.json's 64 px step rate, the GPU estimate from the FLOPs of a 64 px step (cost.py)."""
    from dcgan_inversion.config import load_config
    from dcgan_inversion.gan.model import make_generator
    from dcgan_inversion.inversion.cost import forward_flops

    bench = _json("bench.json")
    (rate,) = [row["latent_steps_per_s"] for row in bench["per_step"] if row["model"] == "paper 64px gf64"
               and row["batch"] == 1024]
    table1 = _json("runs/face_table1_prior/table1.json")
    rows, per_row = 3 * table1["latents_per_mode"], table1["counted_step_equivalents"]
    step_flops = 2 * forward_flops(make_generator(load_config("celeba").model))
    page = " ".join((ROOT / "docs" / "paper_generator.md").read_text().split())
    assert f"took {table1['wall_seconds'] / 3600:.1f} hours on its own N(0, 1) latents ({per_row:,.0f} counted" in page
    assert f"({rate:.0f} latent-steps/s;" in page and f"100,000 x 3,072 / {rate:.0f} s, about {1e5 * 3072 / rate / 86400:.1f} days" in page
    assert f"2F = {step_flops / 1e9:.2f} GFLOP" in page
    assert f"Table 1 is {rows * per_row * step_flops:.1e} FLOP".replace("e+", "e") in page
    assert f"about {rows * per_row * step_flops / 20e12:.0f} seconds at a sustained 20 TFLOP/s" in page
    assert f"{1e5 * 3072 * step_flops:.1e} FLOP, about {1e5 * 3072 * step_flops / 20e12 / 3600:.1f} hours".replace("e+", "e") in page


def test_the_completion_sentence_quotes_the_completion_experiment():
    record = _json("completion.json")
    rows = {row["mask"]: row for row in record["masks"]}
    pinned = record["pinned_down"]
    (failed,) = [row for row in record["masks"] if row["hidden_fraction"] == pinned["first_failure_at"]]
    page = " ".join((ROOT / "docs" / "completion.md").read_text().split())
    assert f"**Up to {pinned['all_recovered_up_to']:.0%} of the pixels hidden (a centre square)" in page
    assert f"At {pinned['first_failure_at']:.0%} hidden the first latents are lost" in page
    assert f"and {failed['jacobian']['sigma_min_median']:.2g} ({pinned['first_failure_at']:.0%})" in page
    assert rows["center"]["amos"]["hidden_psnr_db"] > 0
    assert all(row["amos"]["below"][0] == 0 for row in record["masks"] if row["mask"] != "full")



def _pages_text() -> str:
    return "\n".join(page.read_text() for page in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])


def test_one_number_for_one_quantity_across_the_pages():
    """Numbers a reader can check against each other agree: one assumed GPU rate, the authors' Figure 2
    ordering said alike on both pages that quote it, and every printed product equal to its printed factors."""
    text = _pages_text()
    assert len(set(re.findall(r"(\d+) TFLOP/s", text))) == 1
    demo = re.search(r"stochastic lowest at (\d+) of (\d+) noise levels", (ROOT / "docs" / "demo_generator.md").read_text())
    authors = re.search(r"stochastic is lowest at (\d+) of the (\d+) noise levels",
                        (ROOT / "docs" / "authors_protocol.md").read_text())
    assert demo.groups() == authors.groups()
    products = re.findall(r"([\d,]+) x \(([\d,]+) - ([\d,]+)\)\s*= ([\d,]+)", text)
    assert products
    for rows, first, second, product in products:
        number = [int(value.replace(",", "")) for value in (rows, first, second, product)]
        assert number[0] * (number[1] - number[2]) == number[3]


def test_the_reference_names_every_config_section():
    from dataclasses import fields

    from dcgan_inversion.config import Config

    text = (ROOT / "docs" / "reference.md").read_text()
    assert all(f"`{item.name}`" in text for item in fields(Config) if item.name != "seed")

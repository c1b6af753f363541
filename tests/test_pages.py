"""Every page is its template rendered with the committed results: no number is typed by hand."""
import json
import subprocess

import pytest

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.pages import rendered_pages, stale_pages, write_pages
from dcgan_inversion.pages.formats import count, fixed, percent, sci
from dcgan_inversion.pages.render import ROOT


def test_every_committed_page_is_its_rendering():
    stale = stale_pages()
    assert not stale, f"{[str(p) for p in stale]} differ from their templates' rendering: edit docs/templates/ and run `make docs`"


def test_every_page_has_a_template():
    from dcgan_inversion.pages.render import ROOT

    pages = set(rendered_pages())
    assert ROOT / "README.md" in pages and set((ROOT / "docs").glob("*.md")) <= pages


def _site(tmp_path, template: str, results: dict) -> None:
    (tmp_path / "docs" / "templates").mkdir(parents=True)
    (tmp_path / "docs" / "results" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "templates" / "page.md.j2").write_text(template)
    (tmp_path / "docs" / "templates" / "README.md.j2").write_text("# readme\n")
    for name, value in results.items():
        (tmp_path / "docs" / "results" / f"{name}.json").write_text(json.dumps(value))


def test_a_page_shows_the_number_its_result_holds(tmp_path):
    _site(tmp_path, "cost {{ results.bench.cost | count }}, {{ results['sub/t1'].share | percent }}\n",
          {"bench": {"cost": 1752.6}, "sub/t1": {"share": 0.9375}})
    assert set(write_pages(tmp_path)) == {tmp_path / "docs" / "page.md", tmp_path / "README.md"}
    assert (tmp_path / "docs" / "page.md").read_text() == "cost 1,753, 94%\n"
    assert stale_pages(tmp_path) == [] and write_pages(tmp_path) == []  # nothing changed: nothing written
    (tmp_path / "docs" / "results" / "bench.json").write_text(json.dumps({"cost": 10}))
    assert stale_pages(tmp_path) == [tmp_path / "docs" / "page.md"]  # a new result makes the page stale


@pytest.mark.parametrize("template, message", [
    ("{{ results.missing.x }}", "missing.json, which is missing"),
    ("{{ results.bench.nope }}", "'dict object' has no attribute 'nope'"),
    ("{% if %}", "page.md.j2"),
    ("line one\n{{ results.bench.none | percent }}", "page.md.j2:2: the results it reads do not fit its text (TypeError"),
])
def test_a_page_that_cannot_be_rendered_says_why_in_one_line(tmp_path, template, message):
    _site(tmp_path, template, {"bench": {"cost": 1, "none": None}})
    with pytest.raises(UserError) as error:
        rendered_pages(tmp_path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_make_docs_renders_the_project_in_the_current_folder(tmp_path, monkeypatch, capsys):
    from dcgan_inversion.pages.__main__ import main

    _site(tmp_path, "cost {{ results.bench.cost }}\n", {"bench": {"cost": 3}})
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0 and (tmp_path / "docs" / "page.md").read_text() == "cost 3\n"
    assert "docs/page.md" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "docs")
    assert main([]) == 2 and "has no docs/templates: run this in the project's folder" in capsys.readouterr().err


def test_number_styles():
    assert (percent(0.0625), percent(1.0), count(1752.6), count(12), sci(1.34e-13), fixed(0.08164, 3)) == \
        ("6%", "100%", "1,753", "12", "1.3e-13", "0.082")


def test_a_page_shows_an_experiments_table_as_it_is_now(tmp_path):
    _site(tmp_path, 'before\n\n{{ result_table("t.md", 1) }}\n', {})
    (tmp_path / "docs" / "results" / "t.md").write_text("| a |\n|---|\n| 1 |\n\ncaption\n\n| b |\n|---|\n| 2 |\n")
    assert rendered_pages(tmp_path)[tmp_path / "docs" / "page.md"] == "before\n\n| b |\n|---|\n| 2 |\n"
    (tmp_path / "docs" / "templates" / "page.md.j2").write_text('{{ result_text("t.md") }}\n')
    assert rendered_pages(tmp_path)[tmp_path / "docs" / "page.md"] == (tmp_path / "docs" / "results" / "t.md").read_text()
    for call, message in (('result_table("t.md", 2)', "fewer tables"), ('result_table("gone.md")', "gone.md, which is missing"),
                          ('result_text("gone.md")', "gone.md, which is missing")):
        (tmp_path / "docs" / "templates" / "page.md.j2").write_text("{{ %s }}" % call)
        with pytest.raises(UserError, match=message):
            rendered_pages(tmp_path)


def test_a_page_states_the_settings_and_counted_costs_the_code_uses(tmp_path):
    from dcgan_inversion.bench.recovery import LONG_FIRST_ORDER_PHASE
    from dcgan_inversion.config import load_config
    from dcgan_inversion.inversion.cost import InversionCost
    from dcgan_inversion.gan.model import make_generator

    _site(tmp_path, '{{ config("celeba").search.screen_starts }} {{ config("demo").invert.learning_rate }} '
                    '{{ recovery_settings["long first-order phase"].search.stall_min_steps }} '
                    '{{ architecture("demo").iteration_steps.layerwise_lm | fixed(1) }}\n', {})
    celeba, demo = load_config("celeba"), load_config("demo")
    demo_iteration = InversionCost.of(make_generator(demo.model)).polish_iteration_steps("layerwise_lm")
    assert rendered_pages(tmp_path)[tmp_path / "docs" / "page.md"] == (
        f"{celeba.search.screen_starts} {demo.invert.learning_rate} {LONG_FIRST_ORDER_PHASE['search']['stall_min_steps']} "
        f"{fixed(demo_iteration, 1)}\n")


def test_every_committed_result_names_the_command_that_makes_it():
    """Each file under docs/results/ that git tracks is covered by an entry of pages/sources.py, which the
    reproducibility page shows (and test_page_commands dry-runs)."""
    from dcgan_inversion.pages.sources import source_of

    listed = subprocess.run(["git", "ls-files", "docs/results"], cwd=ROOT, capture_output=True, text=True, check=True)
    files = [line.removeprefix("docs/results/") for line in listed.stdout.splitlines()]
    assert len(files) > 20 and [name for name in files if source_of(name) is None] == []
    assert source_of("authors/table1.json").commands[0] == "make invert RUN=runs/demo PROTOCOL=authors"
    assert source_of("not/a/result.json") is None


def test_the_machines_and_lock_files_a_page_names_are_the_ones_the_results_record(tmp_path):
    from dcgan_inversion.pages.render import Results

    full = {"cpu": "CPU A, 2 cores", "lock_sha256": "aaaa"}
    for name, environment in [("table1", full), ("noise", full), ("sub/table1", {**full, "cpu": "CPU B, 2 cores"}),
                              ("old", {"tensorflow": "2.21.0", "device": "CPU (x86_64)"})]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{name}.json").write_text(json.dumps({"environment": environment}))
    (tmp_path / "imported.json").write_text(json.dumps({"package": "p"}))  # no environment: not counted
    results = Results(tmp_path)
    assert results.recorded("cpu") == ["CPU A, 2 cores", "CPU B, 2 cores"]  # the most often recorded first
    assert results.recorded("lock_sha256") == ["aaaa"]
    assert results.partial_environments() == ["old"]


def test_a_verdict_measurement_is_tallied_as_drawn_and_real_images():
    from dcgan_inversion.pages.render import verdict_tally

    row = lambda errors, in_range: {"images": len(errors), "best_pixel_mse": errors, "in_range": in_range}  # noqa: E731
    tally = verdict_tally({"categories": {
        "generated, float32 (never saved to a file)": row([1e-14, 2e-14], 1.0),
        "generated, saved as 8-bit PNG": row([5e-6, 6e-6], 0.5),
        "generated, JPEG quality 95": row([6e-4], 0.0),  # degraded: in neither group
        "LFW faces from scikit-image": row([2e-2, 3e-2, 1e-3, 4e-2], 0.25),
        "photos of other things": row([8e-2], 0.0)}})
    assert tally["drawn"] == {"errors": [1e-14, 2e-14, 5e-6, 6e-6], "right": 3, "images": 4}
    assert tally["real"] == {"errors": [2e-2, 3e-2, 1e-3, 4e-2, 8e-2], "right": 4, "images": 5}

"""The README's and docs' numbers are the committed results' numbers: a re-run that changes a result
and forgets the text fails here, so no number is typed twice without a check."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def _json(name):
    return json.loads((RESULTS / name).read_text())


def _claims_row(claim: str) -> str:
    (row,) = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| ({claim})")]
    return row


def _percent(share: float) -> str:
    return f"{100 * share:.1f}" if share < 1 else "100"


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
    pages = {page.name: page.read_text() for page in (ROOT / "docs").glob("*.md")}
    shown = 0
    for path in RESULTS.rglob("*.md"):
        for table in _tables(path.read_text()):
            for name, text in pages.items():
                if len(table) > 2 and "\n".join(table[:3]) in text:
                    shown += 1
                    assert "\n".join(table) in text, f"docs/{name} shows an outdated {path.relative_to(ROOT)}"
    assert shown >= 4  # Tables 1-2, the protocols' Table 1, the verdicts at least


def test_every_page_the_readme_links_exists():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)", readme):
        assert (ROOT / target).exists(), target


def _tables(text: str) -> list[list[str]]:
    """Each run of consecutive Markdown table lines."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_every_link_of_the_docs_pages_exists():
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_coupling_sentence_quotes_the_moving_average_run():
    moving = _json("authors_moving/table1.json")["modes"]
    quoted = " / ".join(_percent(moving[m]["sticky"]["0.0001"]) for m in ("none", "standard", "stochastic"))
    assert f"{quoted}% below 1e-4" in " ".join((ROOT / "README.md").read_text().split())

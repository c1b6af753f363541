"""The commands the README and docs/ show, read from their bash blocks (test_page_commands checks
each one's flags, test_page_commands_run runs them)."""
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shown_commands() -> list[tuple[str, dict, list[str]]]:
    """(page, environment, words) for every command of every page, in order: `a && b` is two
    commands; `VAR=value` before a command is its environment."""
    commands = []
    for page in PAGES:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words, env = shlex.split(line, comments=True), {}
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    name, value = words.pop(0).split("=", 1)
                    env[name] = value
                while words:
                    cut = words.index("&&") if "&&" in words else len(words)
                    commands.append((page.name, env, words[:cut]))
                    words = words[cut + 1:]
    return commands

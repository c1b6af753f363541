"""`python -m dcgan_inversion.pages` (`make docs`): renders the README and docs pages from their
templates and the committed results; `--check` only says which pages differ (exit 1 if any)."""
import argparse
import sys

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.pages.render import ROOT, stale_pages, write_pages


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Render README.md and docs/*.md from docs/templates and docs/results.")
    parser.add_argument("--check", action="store_true", help="write nothing; list the pages that differ")
    return parser


def main(argv=None) -> int:
    args = arguments().parse_args(argv)
    try:
        if args.check:
            stale = stale_pages()
            for path in stale:
                print(f"{path.relative_to(ROOT)} differs from its rendering: run `make docs`")
            return 1 if stale else 0
        changed = write_pages()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"rendered {len(changed)} changed page(s)" + "".join(f"\n  {p.relative_to(ROOT)}" for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

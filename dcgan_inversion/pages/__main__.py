"""`python -m dcgan_inversion.pages` (`make docs`): renders the README and docs pages of the project in
the current folder (or --root) from their templates and its results; `--check` only says which pages
differ (exit 1 if any). Like every other command's paths, the folder is the current one: `make publish`
in a copy of the project renders that copy's pages from that copy's results."""
import argparse
import sys
from pathlib import Path

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.pages.render import stale_pages, write_pages


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Render README.md and docs/*.md from docs/templates and docs/results.")
    parser.add_argument("--check", action="store_true", help="write nothing; list the pages that differ")
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="the project folder holding docs/templates and docs/results (default: the current one)")
    return parser


def main(argv=None) -> int:
    args = arguments().parse_args(argv)
    root = args.root.resolve()
    try:
        if not (root / "docs" / "templates").is_dir():
            raise UserError(f"{root} has no docs/templates: run this in the project's folder (make docs)")
        if args.check:
            stale = stale_pages(root)
            for path in stale:
                print(f"{path.relative_to(root)} differs from its rendering: run `make docs`")
            return 1 if stale else 0
        changed = write_pages(root)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"rendered {len(changed)} changed page(s)" + "".join(f"\n  {p.relative_to(root)}" for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

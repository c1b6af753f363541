"""The README and the docs pages, rendered from templates and the committed results (`make docs`)."""
from dcgan_inversion.pages.render import rendered_pages, stale_pages, write_pages

__all__ = ["rendered_pages", "stale_pages", "write_pages"]

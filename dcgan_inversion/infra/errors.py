"""The one exception type the command line turns into a one-line message."""


class UserError(Exception):
    """A mistake the user can fix (bad path, bad config, wrong checkpoint): no traceback."""

"""The one exception type the command line turns into a one-line message."""


class UserError(Exception):
    """A mistake the user can fix (bad path, bad config, wrong checkpoint): no traceback."""


def first_line(error: BaseException) -> str:
    """An exception as one line: its message's first line, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

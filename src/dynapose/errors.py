"""The one error type DynaPose raises for bad input.

Its message is a single line that names the file and the problem; the command line prints it as
``error: <message>`` and exits with status 2.
"""

from __future__ import annotations

import os


class DynaPoseError(Exception):
    """Bad input: a file that is missing, malformed, of the wrong shape, or otherwise unusable."""

    def __init__(self, problem: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


#: Set to 1 (``dynapose --debug`` or ``dynapose predict --debug`` set it) to see the traceback of
#: a failure, and the log lines MediaPipe's native code writes (held back otherwise).
DEBUG_ENV = "DYNAPOSE_DEBUG"


def debugging() -> bool:
    """Whether :data:`DEBUG_ENV` asks for debugging output."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")

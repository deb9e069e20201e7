"""The exceptions wf reports as one line, each with the category of problem it is.

Library code raises these. What a category means to a process (its exit status) is the command line's
business: ``wf.cli.exit`` is the single place that maps categories to exit codes.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import ClassVar


class Category(Enum):
    """What kind of problem an error is, independent of how a front end reports it."""

    BAD_INPUT = "bad input"  # bad usage, or an unreadable / malformed bundle or file
    CHECK_FAILED = "check failed"  # a readable thing was checked and found wanting
    ENVIRONMENT = "environment"  # no display, a missing tool, an unwritable or full disk
    INTERRUPTED = "interrupted"  # stopped from outside (Ctrl+C, somebody moved the pointer)


class WfError(Exception):
    """Base of every error wf reports as one line (never a traceback)."""

    category: ClassVar[Category] = Category.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInput(WfError):
    category = Category.BAD_INPUT


class CheckFailed(WfError):
    category = Category.CHECK_FAILED


class EnvironmentProblem(WfError):
    category = Category.ENVIRONMENT


class Interrupted(WfError):
    """Work stopped from outside before it was done (e.g. a person took the pointer during a replay)."""

    category = Category.INTERRUPTED


class BundleError(BadInput):
    """A bundle that cannot be read: names the file, line and field where known."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            where += ": "
        what = f"{message} (field '{field}')" if field else message
        super().__init__(where + what, hint=hint)
        self.path = path
        self.line = line
        self.field = field

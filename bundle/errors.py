"""The one exit-code enum and the exceptions that map onto it.

Library code raises these; ``wf.cli.main`` is the single place that turns them
into a one-line message on stderr and a process exit status.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # validation found a defect, or a replay's fidelity verdict failed
    BAD_INPUT = 2  # bad usage, or an unreadable / malformed bundle
    ENVIRONMENT = 3  # no display, a missing tool, an unwritable or full disk
    INTERRUPTED = 130  # Ctrl+C


class WfError(Exception):
    """Base of every error wf reports as one line (never a traceback)."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInput(WfError):
    exit_code = ExitCode.BAD_INPUT


class CheckFailed(WfError):
    exit_code = ExitCode.CHECK_FAILED


class EnvironmentProblem(WfError):
    exit_code = ExitCode.ENVIRONMENT


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

"""The one exit-code enum of the `wf` command, and the one place errors become exit codes.

The library raises typed errors (``wf.bundle.errors``), each with a category; which status a process ends
with is decided here and nowhere else. README.md documents every code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import assert_never

from wf.bundle.errors import Category, WfError


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # validation found a defect, or a replay's fidelity verdict failed
    BAD_INPUT = 2  # bad usage, or an unreadable / malformed bundle
    ENVIRONMENT = 3  # no display, a missing tool, an unwritable or full disk, a Wayland session
    UNVERIFIED = 4  # a replay ran and nothing failed, but its evidence does not cover every step
    INTERNAL_ERROR = 70  # a bug in wf (EX_SOFTWARE of sysexits.h)
    INTERRUPTED = 130  # Ctrl+C (128 + SIGINT), or replay stopped because somebody else used the pointer


EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 check failed (validation or fidelity) · 2 bad usage or bad input · "
    "3 environment problem (no display, missing tool, disk, Wayland session) · 4 replay unverified (nothing "
    "failed, not every step checked) · 130 interrupted · 70 internal error (a bug)."
)


def for_category(category: Category) -> ExitCode:
    match category:
        case Category.BAD_INPUT:
            return ExitCode.BAD_INPUT
        case Category.CHECK_FAILED:
            return ExitCode.CHECK_FAILED
        case Category.ENVIRONMENT:
            return ExitCode.ENVIRONMENT
        case Category.INTERRUPTED:
            return ExitCode.INTERRUPTED
        case _:
            assert_never(category)


def for_error(exc: WfError) -> ExitCode:
    return for_category(exc.category)

"""The process entry point (`wf`, `python -m wf.cli`): Ctrl+C works from the first instant.

It imports nothing heavy itself, so what it sets up holds before wf's own modules load (about half a second).
"""

from __future__ import annotations

import signal


def honour_sigint() -> None:
    """Make SIGINT interrupt wf even when the process was started with it ignored.

    A shell without job control (a CI script, ``cmd &`` in a script) starts its background jobs with SIGINT
    ignored, and Python then installs no handler of its own: a Ctrl+C or a harness's SIGINT that came before
    a command set up its own handling was lost, and `wf replay` went on injecting input for the whole
    recording (how a CI run's test of Ctrl+C at random moments hung). wf stops on SIGINT however it was
    started: the commands that run long set their own handlers anyway, this covers the moments before.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> None:
    honour_sigint()
    try:
        from wf.cli.main import main as run
    except KeyboardInterrupt:  # Ctrl+C while Python is still loading wf: an interrupt like any other, no traceback
        raise SystemExit(130) from None
    run()

"""Precise waiting against an absolute monotonic schedule.

Sleeping the *relative* gap between events (DuckTrack) lets every late wake-up
push all later events back. We instead wait for ``start + at``: the OS sleep
gets us to about a millisecond before the deadline, then we yield-spin the rest
(``time.sleep(0)`` releases the GIL so capture threads keep running).
"""

from __future__ import annotations

import time
from collections.abc import Callable

SPIN_MARGIN = 0.0012  # seconds left to spin after the coarse sleep; Linux timer slack is ~50-100 µs


def sleep_until(deadline: float, *, now: Callable[[], float] = time.monotonic,
                stop: Callable[[], bool] | None = None) -> float:
    """Return at ``deadline`` (monotonic seconds) or at once if it has passed; returns the lateness.

    ``stop`` is polled during long waits so Ctrl+C and aborts are not held up by an idle gap.
    """
    while True:
        left = deadline - now()
        if left <= SPIN_MARGIN:
            break
        if stop is not None and stop():
            return now() - deadline
        time.sleep(min(left - SPIN_MARGIN, 0.05))
    while now() < deadline:
        time.sleep(0)
    return now() - deadline

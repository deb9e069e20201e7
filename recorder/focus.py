"""The focused window over time: what a poll saw, the history of changes, and exclusion around an instant.

Pure: no display. The window poller (windows.py) feeds :meth:`FocusHistory.observe`; the writer's state
machine (merge.py) reads the changes in time order and asks whether an instant is inside an excluded window.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass

from wf.recorder.exclusion import ExclusionRules


@dataclass(frozen=True, slots=True)
class WindowInfo:
    id: int
    title: str
    wm_class: str | None
    pid: int | None
    x: int
    y: int
    width: int
    height: int

    def same_focus(self, other: WindowInfo | None) -> bool:
        """Same window with the same title (the two changes that make a `window` event)."""
        return other is not None and other.id == self.id and other.title == self.title


@dataclass(frozen=True, slots=True)
class FocusChange:
    t: float
    window: WindowInfo | None  # None: the pointer is over the bare root (no window has focus)
    excluded: bool


class FocusHistory:
    """Every change of focus seen by a poller, for time lookups; one thread observes, any thread reads.

    ``interval`` is the poll period: a change seen at the first poll after an instant may have been in
    force at that instant already.
    """

    def __init__(self, rules: ExclusionRules, *, interval: float = 0.1) -> None:
        self.rules = rules
        self.interval = interval
        self.last_poll = -1.0  # recording time of the latest finished poll
        self.polls = 0
        self._changes: list[FocusChange] = []
        self._times: list[float] = []
        self._lock = threading.Lock()

    def observe(self, t: float, info: WindowInfo | None) -> None:
        """A poll at recording time ``t`` found ``info`` focused."""
        with self._lock:
            last = self._changes[-1].window if self._changes else None
            changed = not self._changes or (info is None) != (last is None) or (
                info is not None and not info.same_focus(last))
            if changed:
                excluded = info is not None and self.rules.matches(info.title, info.wm_class)
                self._changes.append(FocusChange(t, info, excluded))
                self._times.append(t)
            self.last_poll = t
            self.polls += 1

    def changes_between(self, after: float, upto: float) -> list[FocusChange]:
        """Focus changes seen in (after, upto]."""
        with self._lock:
            lo = bisect_right(self._times, after)
            hi = bisect_right(self._times, upto)
            return self._changes[lo:hi]

    def at(self, t: float) -> FocusChange | None:
        """The focus state polled last at or before ``t`` (the first one if ``t`` precedes every poll)."""
        with self._lock:
            i = bisect_right(self._times, t)
            if i == 0:
                return self._changes[0] if self._changes else None
            return self._changes[i - 1]

    def excluded_around(self, t: float) -> bool:
        """Conservative: excluded if the window focused before ``t`` or the one seen right after is."""
        with self._lock:
            i = bisect_right(self._times, t)
            before = self._changes[i - 1] if i else (self._changes[0] if self._changes else None)
            after = self._changes[i] if i < len(self._changes) else None
        if before is not None and before.excluded:
            return True
        return after is not None and after.excluded and after.t - t <= 2 * self.interval

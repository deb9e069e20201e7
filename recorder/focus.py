"""The focused window over time: what a poll saw, the history of changes, and exclusion around an instant.

A change is a new focused window, a new title, or the same window moved or resized (``kind``); the last
minute of changes is kept.

Pure: no display. The window poller (windows.py) feeds :meth:`FocusHistory.observe`; the writer's state
machine (merge.py) reads the changes in time order and asks whether an instant is inside an excluded window.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from wf.recorder.exclusion import ExclusionRules

HISTORY_SECONDS = 60.0  # focus history kept: the writer looks back a few seconds at most (post screens: 3 s)


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
        """Same window with the same title (a change of either is a new focus context)."""
        return other is not None and other.id == self.id and other.title == self.title

    def same_geometry(self, other: WindowInfo) -> bool:
        return (self.x, self.y, self.width, self.height) == (other.x, other.y, other.width, other.height)


ChangeKind = Literal["focus", "title", "geometry"]


def change_kind(last: WindowInfo | None, info: WindowInfo | None, *, first: bool) -> ChangeKind | None:
    """What changed from one poll to the next (None: nothing a `window` event reports)."""
    if first or (info is None) != (last is None):
        return "focus"
    if info is None or last is None:
        return None
    if info.id != last.id:
        return "focus"
    if info.title != last.title:
        return "title"
    if not info.same_geometry(last):
        return "geometry"  # moved or resized: replay anchors pointer actions to where the window was
    return None


@dataclass(frozen=True, slots=True)
class FocusChange:
    t: float
    window: WindowInfo | None  # None: the pointer is over the bare root (no window has focus)
    excluded: bool  # an --exclude-window rule matches: keys redacted, no screens stored
    kind: ChangeKind = "focus"
    masked: bool = False  # a --mask-window rule matches: keys redacted, screens stored with the window painted over

    @property
    def keys_hidden(self) -> bool:
        return self.excluded or self.masked


class FocusHistory:
    """Every change of focus seen by a poller, for time lookups; one thread observes, any thread reads.

    ``interval`` is the poll period: a change seen at the first poll after an instant may have been in
    force at that instant already.
    """

    def __init__(self, rules: ExclusionRules, *, interval: float = 0.1, mask_rules: ExclusionRules | None = None,
                 keep: float = HISTORY_SECONDS) -> None:
        self.rules = rules
        self.mask_rules = mask_rules or ExclusionRules()
        self.interval = interval
        self.keep = keep
        self.last_poll = -1.0  # recording time of the latest finished poll
        self.polls = 0
        self._changes: list[FocusChange] = []
        self._times: list[float] = []
        self._lock = threading.Lock()

    def observe(self, t: float, info: WindowInfo | None) -> None:
        """A poll at recording time ``t`` found ``info`` focused."""
        with self._lock:
            last = self._changes[-1].window if self._changes else None
            kind = change_kind(last, info, first=not self._changes)
            if kind is not None:
                excluded = info is not None and self.rules.matches(info.title, info.wm_class)
                masked = info is not None and self.mask_rules.matches(info.title, info.wm_class)
                self._changes.append(FocusChange(t, info, excluded, kind, masked))
                self._times.append(t)
                self._forget(t - self.keep)
            self.last_poll = t
            self.polls += 1

    def _forget(self, before: float) -> None:
        """Drop changes older than ``before``, keeping the one still in force then (memory stays bounded)."""
        k = bisect_right(self._times, before) - 1
        if k >= 64:  # in chunks: deleting from the front of a list moves the rest
            del self._changes[:k]
            del self._times[:k]

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
        return self._around(t, lambda ch: ch.excluded)

    def keys_hidden_around(self, t: float) -> bool:
        """Whether a key at ``t`` went to an excluded or masked window (erring towards yes, as above)."""
        return self._around(t, lambda ch: ch.keys_hidden)

    def _around(self, t: float, test: Callable[[FocusChange], bool]) -> bool:
        with self._lock:
            i = bisect_right(self._times, t)
            before = self._changes[i - 1] if i else (self._changes[0] if self._changes else None)
            after = self._changes[i] if i < len(self._changes) else None
        if before is not None and test(before):
            return True
        return after is not None and test(after) and after.t - t <= 2 * self.interval

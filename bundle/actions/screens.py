"""The one rule that attaches screens to actions: the reducer's pre/post screens and the replay checkpoints.

A ``pre`` screen belongs to the next action-starting event (:mod:`wf.bundle.actions.starts`) in the stream:
the recorder writes it immediately before the press that begins the action, carrying that press's ``t``
(docs/format.md) — the press itself, or the modifier press before the key of a chord or shifted typing.
Only a ``pre`` screen not so placed, that follows a start without a screen of its own and was captured
before it, belongs to that earlier start instead (a writer that stored the frame late).

:func:`attach_pre_screens` gives that map for a whole stream and the replay plan checks each of those
screens; the reducer gives each action the screen of the first start in its raw range, else the last
screen before the action (docs/actions.md, "Screens").
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Protocol

from wf.bundle.actions.starts import ActionStarts
from wf.bundle.events import Event, KeyDown, MouseDown, MouseMove, Screen, Scroll

_PRESSES = frozenset({MouseDown, Scroll, KeyDown})


class PreScreens:
    """Fed every event in stream order (then ``close``); ``owner`` maps start indices to their ``pre`` screen.

    ``placed[start]`` is the event the screen was placed before: the start itself, or the first modifier
    press of a chord or of shifted typing (the event a replay checks the screen before).
    """

    def __init__(self) -> None:
        self.owner: dict[int, Screen] = {}
        self.placed: dict[int, int] = {}
        self.starts: list[int] = []  # every action-starting event index, in order
        # The start rule of the recorder, with its default thresholds: it placed the screens.
        self._rule = ActionStarts()
        self._fresh: Screen | None = None  # the pre screen just read: what follows it says whose it is
        self._pending: tuple[Screen, int | None] | None = None  # waiting for the next start; placed before
        self._bare: tuple[int, float] | None = None  # (index, t) of the latest start while it has none

    def feed(self, i: int, ev: Event) -> None:
        if self._fresh is not None:
            # Placed for the press right after it (the recorder's lines carry that press's `t`)?
            self._settle(i if type(ev) in _PRESSES and ev.t == self._fresh.t else None)
        if type(ev) is Screen:
            if ev.reason == "pre":
                self._fresh = ev
        elif type(ev) is not MouseMove and self._rule.feed(ev):  # moves start nothing: spare the call
            self.starts.append(i)
            if self._pending is not None:
                screen, before = self._pending
                self._own(i, screen, i if before is None else before)
                self._pending, self._bare = None, None
            else:
                self._bare = (i, ev.t)

    def close(self) -> None:
        """The stream ended."""
        if self._fresh is not None:
            self._settle(None)

    def _own(self, start: int, screen: Screen, before: int) -> None:
        self.owner[start] = screen
        self.placed[start] = before

    def _settle(self, placed_before: int | None) -> None:
        fresh, self._fresh = self._fresh, None
        assert fresh is not None
        if placed_before is None and self._bare is not None and fresh.captured < self._bare[1]:
            start = self._bare[0]
            self._own(start, fresh, start)  # written late, after the start it shows the screen before
            self._bare = None
        else:
            self._pending = (fresh, placed_before)  # of several before one start, the last one is its own

    def first_in(self, first: int, last: int) -> Screen | None:
        """The pre screen of the first start within raw events ``first``…``last`` (None: it has none)."""
        k = bisect_left(self.starts, first)
        if k < len(self.starts) and self.starts[k] <= last:
            return self.owner.get(self.starts[k])
        return None


def attach_pre_screens(events: Iterable[Event]) -> dict[int, Screen]:
    """The replay's checkpoints: each ``pre`` screen, keyed by the index of the event it is checked before.

    That event is the one it was placed before (the start of its action, or the modifier press that
    begins it), else the action-starting event it belongs to.
    """
    pre = PreScreens()
    for i, ev in enumerate(events):
        pre.feed(i, ev)
    pre.close()
    return {pre.placed[start]: screen for start, screen in pre.owner.items()}


class Span(Protocol):
    """What screen assignment needs of an action under construction."""

    kind: str
    first_event: int
    last_event: int


def assign_screens(drafts: Sequence[Span], screens: list[tuple[int, Screen]],
                   pre_screens: PreScreens) -> list[tuple[str | None, str | None]]:
    """(pre, post) screen path for each action (rules: docs/actions.md, "Screens")."""
    idx = [i for i, _ in screens]
    pre: list[str | None] = []
    for d in drafts:
        own = pre_screens.first_in(d.first_event, d.last_event)
        k = bisect_left(idx, d.first_event) - 1
        pre.append(own.path if own is not None else screens[k][1].path if k >= 0 else None)
    real = [n for n, d in enumerate(drafts) if d.kind != "wait"]
    post: list[str | None] = [None] * len(drafts)
    for pos, n in enumerate(real):
        d = drafts[n]
        nxt = real[pos + 1] if pos + 1 < len(real) else None
        lo = bisect_right(idx, d.last_event)
        hi = bisect_left(idx, drafts[nxt].first_event) if nxt is not None else len(idx)
        found = next((screens[k][1].path for k in range(lo, hi) if screens[k][1].reason == "post"), None)
        if found is None and nxt is not None:
            found = pre[nxt]
        if found is None and nxt is None:
            stops = [screens[k][1].path for k in range(lo, hi) if screens[k][1].reason == "stop"]
            found = stops[0] if stops else (screens[hi - 1][1].path if hi > lo else None)
        post[n] = found
    for n, d in enumerate(drafts):
        if d.kind == "wait":  # a wait sits between two actions: it starts and ends on their screens
            pre[n] = post[n - 1] if n > 0 else pre[n]
            post[n] = pre[n + 1] if n + 1 < len(drafts) else post[n]
    return list(zip(pre, post, strict=True))

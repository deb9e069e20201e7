"""What quality measures from the raw events, in the same pass that reduces them to actions.

Each fold keeps O(1) state and sees every event once, in stream order (:class:`StreamFacts.tap` wraps
the event iterator the reducer reads, so the file is read once). Their rules are written down in
docs/quality.md: activity (idle gaps between inputs), pointer travel (path length against displacement
between the places actions happen), hesitation (long pauses inside a step). The facts the effects need —
each stored frame's geometry, the volatile regions, the focused window's geometry — are gathered here too.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from wf.bundle.actions import Action, Thresholds
from wf.bundle.actions.starts import ActionStarts
from wf.bundle.events import (
    Event,
    Header,
    KeyDown,
    KeyUp,
    MouseDown,
    MouseMove,
    MouseUp,
    Pause,
    Redacted,
    Resume,
    Screen,
    Scroll,
    Volatile,
    Window,
)
from wf.bundle.keys import held_modifier, is_lock
from wf.bundle.pixels import Region
from wf.curate.effects import ScreenGeom

INPUT = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp, Redacted)  # what a person did (idle = none of it)
HESITATION_GAP = 0.5  # s: a pause this long inside a step (typists' key gaps are 0.1–0.3 s)
MIN_TRAVEL = 20.0  # px: a shorter displacement counts as this much (a return to the start is still wandering)


@dataclass(slots=True)
class Activity:
    """Input time within segments: the span from first to last input, and the idle gaps inside it."""

    idle_gap: float
    span: float = 0.0
    idle: float = 0.0
    gaps: int = 0
    longest: float = 0.0
    paused: float = 0.0
    _first: float | None = None
    _last: float | None = None
    _paused_at: float | None = None

    def input(self, t: float) -> None:
        if self._last is None:
            self._first = t
        else:
            gap = t - self._last
            if gap >= self.idle_gap:
                self.idle += gap
                self.gaps += 1
                self.longest = max(self.longest, gap)
        self._last = t

    def pause(self, t: float) -> None:
        self._close()
        self._paused_at = t

    def resume(self, t: float) -> None:
        if self._paused_at is not None:
            self.paused += t - self._paused_at
            self._paused_at = None

    def _close(self) -> None:
        if self._first is not None and self._last is not None:
            self.span += self._last - self._first
        self._first = self._last = None

    def finish(self) -> None:
        self._close()

    @property
    def active(self) -> float:
        return max(self.span - self.idle, 0.0)


@dataclass(slots=True)
class Travel:
    """Pointer travel between anchors: presses, releases, wheel notches and rests ≥ ``hover_dwell``.

    Moves while a button is held are the gesture itself (a drag's path), not travel. ``effective`` adds,
    per travel, its displacement (at least ``MIN_TRAVEL``, at most its path): straight travel adds its
    whole path, wandering only a fraction of it.
    """

    hover_dwell: float
    travels: int = 0
    path: float = 0.0
    displacement: float = 0.0
    effective: float = 0.0
    _anchor: tuple[int, int] | None = None
    _pos: tuple[int, int] | None = None
    _run: float = 0.0
    _last_move_t: float | None = None
    _held: int = 0

    def start(self, pointer: tuple[int, int] | None) -> None:
        self._anchor = self._pos = pointer

    def move(self, t: float, x: int, y: int) -> None:
        if self._held:
            self._pos = (x, y)
            return
        if self._last_move_t is not None and t - self._last_move_t >= self.hover_dwell and self._pos is not None:
            self._close(self._pos)  # the pointer rested: that rest is where a `move` step would be
        self._step_to(x, y)
        self._last_move_t = t

    def press(self, x: int, y: int) -> None:
        if not self._held:
            self._step_to(x, y)
            self._close((x, y))
        self._held += 1

    def release(self, x: int, y: int) -> None:
        self._held = max(self._held - 1, 0)
        if not self._held:
            self._anchor = self._pos = (x, y)
            self._run = 0.0
            self._last_move_t = None

    def notch(self, x: int, y: int) -> None:
        if not self._held:
            self._step_to(x, y)
            self._close((x, y))

    def lost(self) -> None:
        """Nothing was recorded for a while (a pause): where the pointer went is unknown."""
        self._anchor = self._pos = None
        self._run = 0.0
        self._held = 0
        self._last_move_t = None

    def _step_to(self, x: int, y: int) -> None:
        if self._pos is not None:
            self._run += math.hypot(x - self._pos[0], y - self._pos[1])
        elif self._anchor is None:
            self._anchor = (x, y)
        self._pos = (x, y)

    def _close(self, at: tuple[int, int]) -> None:
        if self._run > 0 and self._anchor is not None:
            disp = math.hypot(at[0] - self._anchor[0], at[1] - self._anchor[1])
            self.travels += 1
            self.path += self._run
            self.displacement += disp
            self.effective += min(self._run, max(disp, MIN_TRAVEL))
        self._anchor = at
        self._run = 0.0

    @property
    def efficiency(self) -> float | None:
        """Effective displacement over path length (1 = straight lines); None without pointer travel."""
        return min(self.effective / self.path, 1.0) if self.path > 0 else None


@dataclass(slots=True)
class Hesitation:
    """Long pauses inside one step: between the key presses of one run, or while a button is held.

    Which presses continue a run is the start rule every part of wf shares
    (:class:`wf.bundle.actions.starts.ActionStarts`): a press that starts no action continues one.
    """

    gap: float = HESITATION_GAP
    pauses: int = 0
    seconds: float = 0.0
    longest: float = 0.0
    _rule: ActionStarts = field(default_factory=ActionStarts)
    _last_press: float | None = None
    _held_since_input: float | None = None
    _down: set[object] = field(default_factory=set)  # keys held: a press of one of them is autorepeat

    def feed(self, ev: Event) -> None:
        kind = type(ev)
        if self._held_since_input is not None and kind in INPUT:
            self._pause(ev.t - self._held_since_input)
            self._held_since_input = ev.t
        if kind is MouseMove:
            return
        starts = self._rule.feed(ev)
        if type(ev) is KeyDown:
            if held_modifier(ev.key, ev.keysym) is not None or is_lock(ev.key):
                return
            kid = ev.keycode if ev.keycode is not None else ev.key
            # Autorepeat waits ~0.5 s before its first repeat: the key is held, nobody hesitates.
            if not starts and self._last_press is not None and kid not in self._down:
                self._pause(ev.t - self._last_press)
            self._down.add(kid)
            self._last_press = ev.t
        elif type(ev) is KeyUp:
            self._down.discard(ev.keycode if ev.keycode is not None else ev.key)
        elif type(ev) is MouseDown:
            self._held_since_input = ev.t
        elif type(ev) is MouseUp:
            self._held_since_input = None
        elif kind is Pause or kind is Resume:
            self._held_since_input = None
            self._last_press = None
            self._down.clear()

    def _pause(self, gap: float) -> None:
        if gap >= self.gap:
            self.pauses += 1
            self.seconds += gap
            self.longest = max(self.longest, gap)


class StreamFacts:
    """Every fold over the raw stream, plus the frame geometry, volatile regions and windows effects need."""

    def __init__(self, header: Header, thresholds: Thresholds = Thresholds()) -> None:
        self.activity = Activity(thresholds.idle_gap)
        self.travel = Travel(thresholds.hover_dwell)
        self.hesitation = Hesitation()
        self.screens: dict[str, ScreenGeom] = {}
        self.volatile: dict[Region, None] = {}
        self.windows: list[tuple[int, Window]] = []  # (event index, window event): focus changes are rare
        self.events = 0
        start = header.start
        self.travel.start(start.pointer if start is not None else None)
        focus = start.focus if start is not None else None
        self._start_window: Region | None = (focus.x, focus.y, focus.width, focus.height) \
            if focus is not None and focus.width > 0 and focus.height > 0 else None

    def tap(self, events: Iterable[Event]) -> Iterator[Event]:
        """Yield ``events`` unchanged, feeding each to the folds on the way (one read of the stream)."""
        feed = self.feed
        for i, ev in enumerate(events):
            feed(i, ev)
            yield ev

    def feed(self, i: int, ev: Event) -> None:
        self.events += 1
        kind = type(ev)
        if kind in INPUT:
            self.activity.input(ev.t)
        self.hesitation.feed(ev)
        if type(ev) is MouseMove:
            self.travel.move(ev.t, ev.x, ev.y)
        elif type(ev) is MouseDown:
            self.travel.press(ev.x, ev.y)
        elif type(ev) is MouseUp:
            self.travel.release(ev.x, ev.y)
        elif type(ev) is Scroll:
            self.travel.notch(ev.x, ev.y)
        elif type(ev) is Screen:
            if ev.path not in self.screens:
                self.screens[ev.path] = ScreenGeom(ev.x, ev.y, ev.width, ev.height)
        elif type(ev) is Window:
            self.windows.append((i, ev))
        elif type(ev) is Volatile:
            self.volatile.setdefault((ev.x, ev.y, ev.width, ev.height), None)
        elif type(ev) is Pause:
            self.activity.pause(ev.t)
            self.travel.lost()
        elif type(ev) is Resume:
            self.activity.resume(ev.t)

    def finish(self) -> None:
        """The stream ended (call once, after the reducer has consumed :meth:`tap`)."""
        self.activity.finish()

    def window_boxes(self, actions: Sequence[Action]) -> list[Region | None]:
        """The focused window's geometry when each action began (None: unknown, or the bare root)."""
        idx = [i for i, _ in self.windows]
        out: list[Region | None] = []
        for a in actions:
            k = bisect_right(idx, a.first_event) - 1
            if k < 0:
                out.append(self._start_window)
                continue
            w = self.windows[k][1]
            out.append((w.x, w.y, w.width, w.height) if w.width > 0 and w.height > 0 else None)
        return out

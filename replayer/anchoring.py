"""Window-anchored replay, the live half: each pointer event placed relative to its window's live geometry.

``--anchor window`` (the default). The plan's pointer events keep their recorded screen coordinates
(rescaled by ``--scale``); just before one is injected, :meth:`Placer.event` moves it by the distance
between the recorded window it was in (:mod:`wf.replayer.layout`) and the same window on the live display.
A window is looked up once (waiting for it when it has not appeared yet: a dialog that opens late) and
then only its geometry is re-read, at presses and scrolls and every ``REFRESH`` seconds in between, so a
pointer path costs no X round trips. A window that cannot be found is :class:`WindowNotFound`, a named
failure that stops the replay — never a click at the recorded screen pixel beside the window.

Screens are compared in the recorded layout: :class:`AlignedGrabber` hands the checkpoints live frames
with every anchored window that sits elsewhere moved back to where it was recorded; the strip a window
left uncovered shows what the recording had there (nothing live can be compared with it).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

import numpy as np

from wf.bundle.actions import Action
from wf.bundle.errors import CheckFailed
from wf.bundle.events import MouseDown, MouseMove, MouseUp, Screen, Scroll
from wf.bundle.replays import AnchoredWindow
from wf.replayer.compare import Frame, FrameCache, Grabber, RawShot
from wf.replayer.layout import (
    Anchor,
    Layouts,
    LiveWindow,
    RecordedWindow,
    anchor_offset,
    match,
    shifted,
)
from wf.replayer.livedesk import LiveDesktop
from wf.replayer.plan import InputEvent, Step

REFRESH = 0.25  # seconds: how stale a window's live geometry may be for a motion (presses re-read it)
POLL = 0.05  # seconds between looks for a window that has not appeared yet
RETRY = 0.1  # seconds between looks for a window while grabbing screens


class WindowNotFound(CheckFailed):
    """A pointer event belongs to a recorded window that is not on the live display."""

    def __init__(self, window: RecordedWindow, event: int, step: int | None, waited: float) -> None:
        where = f"step {step} (event {event})" if step is not None else f"event {event}"
        super().__init__(f"{window.name()} is not on the display (missing for {waited:.1f} s): {where} "
                         "was recorded in it", hint="start the app that shows it (--launch), or replay with "
                                                    "--anchor screen to use the recorded screen coordinates")
        self.window = window
        self.event = event
        self.step = step


@dataclasses.dataclass
class _Bound:
    live: LiveWindow
    how: str
    read: float  # monotonic time the geometry was read
    events: int = 0
    waited: float = 0.0  # seconds replay waited for it to appear


class Placer:
    """Resolves recorded windows to live ones and moves pointer events by their offset (see the docstring)."""

    def __init__(self, desk: LiveDesktop, layouts: Layouts, anchors: dict[int, Anchor], *,
                 scale: tuple[float, float] = (1.0, 1.0), recorded_managed: bool | None = None, wait: float = 1.0,
                 step_of: Callable[[int], int | None] = lambda _i: None) -> None:
        """``step_of``: the action step an event belongs to (or the next one), to name it in a failure."""
        self.desk = desk
        self.layouts = layouts
        self.anchors = anchors
        self.scale = scale
        self.recorded_managed = recorded_managed
        self.wait = wait
        self.step_of = step_of
        self.live_wm = desk.window_manager()
        self.bound: dict[int, _Bound] = {}  # recorded window key -> the live window standing for it now
        self.found: dict[int, _Bound] = {}  # the same, kept for the report when the window goes away
        self.gone: set[int] = set()
        self.holds: dict[int, tuple[int, int, int | None]] = {}  # hold -> offset and window key of its press
        self.targets = {w.key for a in anchors.values() for w in a.windows}
        classes = [w.wm_class for w in layouts.all()]
        self._shared = {c for c in classes if c is not None and classes.count(c) > 1}
        self._tried: dict[int, float] = {}
        self._waited = 0.0  # seconds spent waiting for windows since take_waited()
        self._missing: dict[int, float] = {}  # recorded window key -> when it was first looked for in vain

    # -- looking windows up ----------------------------------------------------------------------------

    def resolve(self, rec: RecordedWindow, wait: float = 0.0) -> LiveWindow | None:
        """The live window that is ``rec`` (waiting up to ``wait`` s for it to appear), or None."""
        b = self.bound.get(rec.key)
        if b is not None:
            return b.live
        t0 = time.monotonic()
        try:
            while True:
                taken = [x.live.id for x in self.bound.values()]
                found = match(rec, self.desk.windows(), taken=taken, class_shared=rec.wm_class in self._shared)
                if found is not None:
                    self._missing.pop(rec.key, None)
                    before = self.found.get(rec.key)
                    now = time.monotonic()
                    self.bound[rec.key] = self.found[rec.key] = _Bound(
                        found[0], found[1], now, before.events if before else 0,
                        (before.waited if before else 0.0) + now - t0)
                    self.gone.discard(rec.key)
                    return found[0]
                if time.monotonic() - t0 >= wait:
                    self._missing.setdefault(rec.key, t0)
                    return None
                time.sleep(POLL)
        finally:
            if wait > 0:
                self._waited += time.monotonic() - t0

    def take_waited(self) -> float:
        """Seconds spent waiting for windows to appear since the last call (the schedule moves by them)."""
        waited, self._waited = self._waited, 0.0
        return waited

    def prepare(self, windows: Iterable[RecordedWindow], timeout: float) -> list[RecordedWindow]:
        """Wait (up to ``timeout`` s in all) for the windows replay starts with; returns the missing ones."""
        deadline = time.monotonic() + timeout
        missing = []
        for w in windows:
            if w.key in self.targets and self.resolve(w, max(deadline - time.monotonic(), 0.0)) is None:
                missing.append(w)
        return missing

    def _live(self, rec: RecordedWindow, *, fresh: bool, wait: float) -> LiveWindow | None:
        b = self.bound.get(rec.key)
        if b is not None and (fresh or time.monotonic() - b.read > REFRESH):
            now = self.desk.refresh(b.live)
            if now is None:  # it went away (closed, or replaced by a new window of the same app)
                del self.bound[rec.key]
                b = None
            else:
                b.live, b.read = now, time.monotonic()
        if b is not None:
            return b.live
        if rec.key in self.gone:
            wait = 0.0
        live = self.resolve(rec, wait)
        if live is None:
            self.gone.add(rec.key)
        return live

    def offset(self, rec: RecordedWindow, live: LiveWindow) -> tuple[int, int]:
        return anchor_offset(rec, live, scale=self.scale, recorded_managed=self.recorded_managed,
                             live_managed=self.live_wm is not None)

    # -- placing events ------------------------------------------------------------------------------

    def point(self, index: int, x: int, y: int, *, fresh: bool) -> tuple[int, int]:
        """Where the event at raw ``index`` (now at replay pixels ``x``, ``y``) goes on the live display."""
        a = self.anchors.get(index)
        if a is None:
            return x, y
        if a.hold is not None and a.hold in self.holds:
            dx, dy, key = self.holds[a.hold]
        else:
            dx, dy, key = self._offset_of(a, index, fresh=fresh)
            if a.hold is not None:
                self.holds[a.hold] = (dx, dy, key)
        if key is not None:
            self.found[key].events += 1
        return x + dx, y + dy

    def _offset_of(self, a: Anchor, index: int, *, fresh: bool) -> tuple[int, int, int | None]:
        if not a.windows:
            return 0, 0, None
        for n, rec in enumerate(a.windows):
            if n and a.focused:
                break  # it had the focus: it cannot have been closed, so nothing below it can stand in
            live = self._live(rec, fresh=fresh, wait=self.wait if n == 0 else 0.0)
            if live is not None:
                return (*self.offset(rec, live), rec.key)
        first, now = a.windows[0], time.monotonic()
        raise WindowNotFound(first, index, self.step_of(index), now - self._missing.get(first.key, now))

    def event(self, step: Step) -> InputEvent:
        """The step's event as it is injected: pointer events moved by their window's offset."""
        e = step.event
        if not isinstance(e, MouseMove | MouseDown | MouseUp | Scroll):
            return e
        x, y = self.point(step.index, e.x, e.y, fresh=not isinstance(e, MouseMove))
        return e if (x, y) == (e.x, e.y) else shifted(e, x - e.x, y - e.y)

    def action(self, a: Action) -> Action:
        """A reduced action moved by the offset of its first anchored event (a drag keeps one offset)."""
        if a.x is None or a.y is None:
            return a
        index = next((i for i in range(a.first_event, a.last_event + 1) if i in self.anchors), None)
        if index is None:
            return a
        x, y = self.point(index, a.x, a.y, fresh=True)
        dx, dy = x - a.x, y - a.y
        if (dx, dy) == (0, 0):
            return a
        return dataclasses.replace(
            a, x=x, y=y, end_x=None if a.end_x is None else a.end_x + dx,
            end_y=None if a.end_y is None else a.end_y + dy, path=tuple((t, px + dx, py + dy) for t, px, py in a.path))

    # -- screens -------------------------------------------------------------------------------------

    def moves_at(self, t: float) -> list[tuple[RecordedWindow, LiveWindow, tuple[int, int]]]:
        """The anchored windows of the layout at bundle time ``t`` that sit elsewhere now, bottom to top."""
        out = []
        now = time.monotonic()
        for rec in self.layouts.at(t):
            if rec.key not in self.targets:
                continue
            if rec.key not in self.bound and now - self._tried.get(rec.key, -1e9) >= RETRY:
                self._tried[rec.key] = now
                self.resolve(rec)
            live = self._live(rec, fresh=False, wait=0.0) if rec.key in self.bound else None
            if live is not None:
                off = self.offset(rec, live)
                if off != (0, 0):
                    out.append((rec, live, off))
        return out

    def report(self) -> list[AnchoredWindow]:
        """Every window pointer events were anchored to, where it was found and how."""
        out = []
        for rec in self.layouts.all():
            if rec.key not in self.targets:
                continue
            b = self.found.get(rec.key)
            out.append(AnchoredWindow(title=rec.title, wm_class=rec.wm_class, recorded=rec.rect,
                                      live=b.live.rect if b else None, match=b.how if b else None,
                                      events=b.events if b else 0, waited=round(b.waited, 3) if b else 0.0))
        return out


def align(live: np.ndarray, recorded: np.ndarray, origin: tuple[int, int],
          moves: list[tuple[RecordedWindow, LiveWindow, tuple[int, int]]]) -> np.ndarray:
    """``live`` (a frame at ``origin``) with each moved window put back at its recorded place (pure).

    First every rectangle a moved window occupies live is filled with the recorded pixels (what is behind
    a window that moved cannot be compared), then each window's live pixels are pasted, bottom to top, at
    ``live − offset``.
    """
    out = live.copy()
    h, w = out.shape[:2]
    ox, oy = origin

    for _rec, lw, _off in moves:
        x0, y0 = max(lw.x - ox, 0), max(lw.y - oy, 0)
        x1, y1 = min(lw.x - ox + lw.width, w), min(lw.y - oy + lw.height, h)
        if x1 > x0 and y1 > y0:
            out[y0:y1, x0:x1] = recorded[y0:y1, x0:x1]
    for _rec, lw, (dx, dy) in moves:
        # The window's live pixels whose recorded place (− offset) is inside the frame too.
        x0, y0 = max(lw.x - ox, 0, dx), max(lw.y - oy, 0, dy)
        x1, y1 = min(lw.x - ox + lw.width, w, w + dx), min(lw.y - oy + lw.height, h, h + dy)
        if x1 > x0 and y1 > y0:
            out[y0 - dy:y1 - dy, x0 - dx:x1 - dx] = live[y0:y1, x0:x1]
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class AlignedShot(RawShot):
    """A raw grab whose conversion to RGB (on the checkpoint worker) also puts moved windows back."""

    recorded: Frame | None = None
    origin: tuple[int, int] = (0, 0)
    moves: tuple[tuple[RecordedWindow, LiveWindow, tuple[int, int]], ...] = ()

    def frame(self) -> Frame:
        f = RawShot.frame(self)
        if not self.moves or self.recorded is None:
            return f
        if (self.recorded.width, self.recorded.height) != (f.width, f.height):
            return f
        out = align(f.array(), self.recorded.array(), self.origin, list(self.moves))
        return Frame(out.tobytes(), f.width, f.height)


class AlignedGrabber(Grabber):
    """The checkpoints' grabber when replay is window-anchored: live frames in the recorded layout."""

    def __init__(self, display_name: str, placer: Placer, frames: FrameCache) -> None:
        super().__init__(display_name)
        self.placer = placer
        self.frames = frames

    def grab_raw_like(self, screen: Screen | None) -> RawShot:
        raw = super().grab_raw_like(screen)
        if screen is None or self.placer.scale != (1.0, 1.0):
            return raw  # a rescaled replay is compared unaligned (the recorded pixels would need rescaling)
        moves = tuple(self.placer.moves_at(screen.captured))
        if not moves:
            return raw
        return AlignedShot(raw.bgra, raw.width, raw.height, recorded=self.frames.get(screen),
                           origin=(screen.x, screen.y), moves=moves)


"""`wf record --mask-window`: the rectangles of matching windows, painted over in every frame before it is hashed.

So the window's pixels never reach the disk (nor the frame hash). A :class:`WindowMasker` watches the
top-level windows over its own X connection: the root's SubstructureNotify events (windows mapped, moved,
resized, restacked, destroyed) and PropertyNotify on each client (title changes) mark its list stale; the
list is rebuilt from the window tree only then, so an idle desktop costs one round trip per grab.

A window can move while a frame is being grabbed. The grabber therefore asks for the rectangles right
before the grab and right after it (:meth:`WindowMasker.rects` syncs with the server each time) and paints
the union: the window was at one of the positions seen in between while its pixels were read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import Xlib.error
import Xlib.X

from wf.recorder.exclusion import ExclusionRules
from wf.recorder.regions import Box, clip
from wf.recorder.tiles import Pixels
from wf.recorder.windows import WindowProbe

MASK_PIXEL = 0xFF404040  # BGRA dark grey: plainly a mask, not a black window
MARGIN = 2  # px around the window's box: its X border and anti-aliased edges


def local_rects(rects: Iterable[Box], width: int, height: int, origin: tuple[int, int] = (0, 0)) -> list[Box]:
    """Virtual-screen ``rects`` as boxes of a ``width`` × ``height`` frame at ``origin``, clipped to it."""
    out = []
    for x, y, w, h in rects:
        c = clip((x - origin[0], y - origin[1], w, h), width, height)
        if c is not None:
            out.append(c)
    return out


def paint(px: Pixels, rects: Iterable[Box]) -> int:
    """Fill ``rects`` (frame boxes, clipped) of a height × width BGRA pixel array; returns the pixels painted."""
    n = 0
    for cx, cy, cw, ch in rects:
        px[cy:cy + ch, cx:cx + cw] = np.uint32(MASK_PIXEL)
        n += cw * ch
    return n


def mask_patches(rects: Iterable[Box]) -> list[tuple[Box, Pixels]]:
    """Frame boxes as patches of mask pixels (for :meth:`TileImage.patched`)."""
    return [((x, y, w, h), np.full((h, w), MASK_PIXEL, dtype=np.uint32)) for x, y, w, h in rects]


class WindowMasker:
    """The rectangles of the mapped top-level windows whose title or WM class matches ``rules``."""

    def __init__(self, rules: ExclusionRules, display: str | None = None) -> None:
        self.rules = rules
        self.display = display
        self.rebuilds = 0
        self._probe: WindowProbe | None = None
        self._rects: list[Box] = []
        self._stale = True
        self._watched: set[int] = set()
        self._lock = threading.Lock()  # the grabber thread asks; start/stop come from the session thread

    def start(self) -> None:
        with self._lock:
            self._probe = WindowProbe(self.display)
            self._probe.root.change_attributes(event_mask=Xlib.X.SubstructureNotifyMask)
            self._probe.d.sync()
            self._stale = True

    def stop(self) -> None:
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None

    def rects(self) -> list[Box]:
        """The matching windows' rectangles as the server has them now (one round trip when nothing changed)."""
        with self._lock:
            probe = self._probe
            if probe is None:
                return list(self._rects)
            try:
                probe.d.sync()  # every event about changes made before now is in
                while probe.d.pending_events():
                    probe.d.next_event()
                    self._stale = True
                if self._stale:
                    self._rebuild(probe)
            except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
                self._stale = True  # a window vanished mid-walk: walk again next time, keep the last list
            return list(self._rects)

    def _rebuild(self, probe: WindowProbe) -> None:
        rects: list[Box] = []
        for w in probe.stacking():
            if w.id not in self._watched:
                # Title changes arrive as PropertyNotify on the client (which may sit inside a WM frame).
                try:
                    probe.d.create_resource_object("window", w.id).change_attributes(
                        event_mask=Xlib.X.PropertyChangeMask | Xlib.X.StructureNotifyMask)
                    self._watched.add(w.id)
                except Xlib.error.XError:
                    continue
            if self.rules.matches(w.title, w.wm_class):
                rects.append((w.x - MARGIN, w.y - MARGIN, w.width + 2 * MARGIN, w.height + 2 * MARGIN))
        if len(self._watched) > 4096:  # ids of windows long gone: forget them (bounded memory)
            self._watched = {w.id for w in probe.stacking()}
        self._rects = rects
        self._stale = False
        self.rebuilds += 1

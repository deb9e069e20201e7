"""Screen capture driven by the X DAMAGE extension: grab only what changed, and only when it changed.

The X server reports every area drawn on the root window (its children included) as a DamageNotify
rectangle (``DeltaRectangles``: only areas not already reported since the last ``DamageSubtract``). Each
tick (``fps`` times a second) the grabber syncs with the server — so every report about drawing done
before that moment has arrived — and then:

* nothing reported: the newest frame is confirmed as the screen of this instant (a new ring entry sharing
  the same pixels and hash, no grab, no hash): a ticking-clock-free idle desktop costs one round trip;
* areas reported: it subtracts them (later drawing is reported anew), syncs, grabs just those areas
  (merged into a few boxes, regions.py) and patches them, masks painted last, into the newest frame's
  tiles (tiles.py: only the tiles touched are copied): the frame's ``boxes`` are the pixels that really
  changed (a redraw with the same pixels changes nothing), its ``changed`` fraction counts them.

Every :data:`AUDIT_INTERVAL` s one tick grabs the whole screen instead and counts the changed areas no
report covered (``missed``): a safety net for drawing DAMAGE cannot see, which also corrects the frame.
A grab whose window masks differ from the newest frame's (a masked window moved) is whole-screen too.
"""

from __future__ import annotations

import time

import mss.base
import Xlib.display
from Xlib.ext import damage

from wf.recorder.frames import Frame
from wf.recorder.masking import WindowMasker, local_rects, mask_patches
from wf.recorder.regions import Box, as_pixels, clip, merge_boxes, overlaps
from wf.recorder.screens import ScreenCapture
from wf.recorder.tiles import TileImage

AUDIT_INTERVAL = 30.0  # s between whole-screen grabs that check the DAMAGE reports (~10 ms each at 1080p)
MAX_PENDING = 4096  # reported boxes held between two ticks before they are merged down


def has_damage(display: str | None) -> bool:
    d = Xlib.display.Display(display)
    try:
        return bool(d.has_extension("DAMAGE"))
    finally:
        d.close()


class DamageCapture(ScreenCapture):
    """The damage-driven frame source; same ring, same frames as :class:`ScreenCapture`."""

    mode = "damage"

    def __init__(self, clock_origin: float, *, fps: float = 5.0, ring: int = 10, display: str | None = None,
                 masker: WindowMasker | None = None, ring_bytes: int | None = None,
                 audit_interval: float = AUDIT_INTERVAL) -> None:
        super().__init__(clock_origin, fps=fps, ring=ring, display=display, masker=masker, ring_bytes=ring_bytes)
        self.audit_interval = audit_interval
        self.confirmed = 0  # ticks with nothing reported
        self.patched = 0  # frames made from grabbed areas
        self.reported = 0  # DamageNotify rectangles received
        self.missed = 0  # changed areas an audit found that no report covered
        self.audits = 0
        self._d: Xlib.display.Display | None = None
        self._damage = 0
        self._notify_code = -1
        self._pending: list[Box] = []
        self._next_audit = 0.0

    def _setup(self) -> None:
        d = self._d = Xlib.display.Display(self.display)
        d.damage_query_version()  # the server refuses DAMAGE requests from a client that did not negotiate
        # python-xlib registers a copy of the event class, so events are told apart by their code.
        ext = d.query_extension("DAMAGE")
        assert ext is not None, "has_damage() was checked before"
        self._notify_code = ext.first_event + damage.DamageNotifyCode
        self._damage = d.screen().root.damage_create(damage.DamageReportDeltaRectangles)
        d.sync()
        self._collect()  # the creation reports the whole screen once: the first grab covers it
        self._pending.clear()
        d.damage_subtract(self._damage, 0, 0)
        d.sync()
        self._next_audit = time.monotonic() + self.audit_interval

    def _teardown(self) -> None:
        if self._d is not None:
            try:
                self._d.damage_destroy(self._damage)
                self._d.close()
            except Exception:  # the server may be gone already; nothing to free then
                pass
            self._d = None

    def _collect(self) -> None:
        d = self._d
        assert d is not None
        while d.pending_events():
            ev = d.next_event()
            if ev.type & 0x7F == self._notify_code:
                a = ev.area
                self._pending.append((a.x, a.y, a.width, a.height))
                self.reported += 1
        if len(self._pending) > MAX_PENDING:
            self._pending = merge_boxes(self._pending)

    def _tick(self, sct: mss.base.MSS, region: dict[str, int]) -> None:
        d = self._d
        assert d is not None
        d.sync()  # a round trip: every report about drawing done before now has arrived
        self._collect()
        prev = self.frames[-1]
        if time.monotonic() >= self._next_audit:
            self._audit(sct, region)
            return
        if not self._pending:
            self._confirm(prev)
            return
        boxes, self._pending = self._pending, []
        d.damage_subtract(self._damage, 0, 0)  # drawing from now on is reported again ...
        d.sync()  # ... and the server has forgotten the old reports before the grab below
        self._patch(sct, region, prev, boxes)

    def _confirm(self, prev: Frame) -> None:
        self.confirmed += 1
        self._append(Frame(seq=self.grabbed, captured=time.monotonic() - self.origin, bgra=prev.bgra,
                           width=prev.width, height=prev.height, x=prev.x, y=prev.y, raw_hash=prev.raw_hash,
                           changed=0.0))

    def _patch(self, sct: mss.base.MSS, region: dict[str, int], prev: Frame, reported: list[Box]) -> None:
        t0 = time.monotonic()
        ox, oy, w, h = prev.x, prev.y, prev.width, prev.height
        grabs = [c for b in merge_boxes(reported) if (c := clip((b[0] - ox, b[1] - oy, b[2], b[3]), w, h))]
        before = self._mask_rects()
        shots = [(b, sct.grab({"left": b[0] + ox, "top": b[1] + oy, "width": b[2], "height": b[3]}).raw)
                 for b in grabs]
        masks = tuple(dict.fromkeys(before + self._mask_rects()))
        t1 = time.monotonic()
        self.grab_seconds += t1 - t0
        if masks != self._masks or not isinstance(prev.bgra, TileImage):
            self._grab_full(sct, region)  # a masked window moved, appeared or went: repaint everything
            return
        patches = [(b, as_pixels(raw, b[2], b[3])) for b, raw in shots]
        # The masks go in last, before any tile is hashed: the window's pixels never reach a frame.
        img, rel, n = prev.bgra.patched(patches + mask_patches(local_rects(masks, w, h, (ox, oy))))
        self.diff_seconds += time.monotonic() - t1
        if not n:  # redrawn with the same pixels
            self._confirm(prev)
            return
        self.patched += 1
        self._append(Frame(seq=self.grabbed, captured=t1 - self.origin, bgra=img, width=w, height=h, x=ox, y=oy,
                           raw_hash=img.digest, changed=n / max(1, w * h),
                           boxes=tuple((x + ox, y + oy, bw, bh) for x, y, bw, bh in rel)))

    def _audit(self, sct: mss.base.MSS, region: dict[str, int]) -> None:
        """A whole-screen grab; changes that no report covers are counted in ``missed``."""
        d = self._d
        assert d is not None
        reported, self._pending = self._pending, []
        d.damage_subtract(self._damage, 0, 0)
        d.sync()
        frame = self._grab_full(sct, region)
        d.sync()
        self._collect()  # drawn after the subtract: kept for the next tick, and covers what it drew here
        covered = reported + self._pending
        self.missed += sum(1 for b in frame.boxes if not any(overlaps(b, r) for r in covered))
        self.audits += 1
        self._next_audit = time.monotonic() + self.audit_interval

"""How two frames differ: the one pixel measure replay verdicts, step effects and the viewer share.

A pixel *differs* when any of its channels is off by more than ``PIXEL_TOLERANCE`` (rendering noise:
anti-aliasing and dithering stay well below it, any real change of colour is far above it). Every such
pixel counts — a 1 px line, a checkbox tick, a caret moved by one character — except inside *masked*
regions: the bundle's volatile regions (``volatile`` events: what changed while nobody touched anything)
and whatever the caller adds. The pointer is in neither picture (X screen grabs never include it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wf.bundle.events import Event, MouseDown, Scroll, StartState, Volatile, Window, WindowState
from wf.bundle.screens import PIXEL_TOLERANCE

Region = tuple[int, int, int, int]  # x, y, width, height
RGB = npt.NDArray[np.uint8]  # height × width × 3


@dataclass(frozen=True, slots=True)
class PixelDiff:
    differing: int  # pixels off by more than the tolerance, outside the masked regions
    bbox: Region | None  # the box around them (None: no pixel differs)
    similarity: float  # 1 − mean over the compared pixels of their largest channel difference / 255
    compared: int  # pixels compared (the frame minus the masked regions)

    @property
    def same(self) -> bool:
        return self.differing == 0


def as_rgb(data: bytes | bytearray | memoryview, width: int, height: int) -> RGB:
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)


def mask_of(width: int, height: int, regions: Iterable[Region], origin: tuple[int, int] = (0, 0)
            ) -> npt.NDArray[np.bool_] | None:
    """True where a pixel is masked; ``regions`` are in virtual-screen pixels, the frame sits at ``origin``."""
    mask: npt.NDArray[np.bool_] | None = None
    for x, y, w, h in regions:
        x0, y0 = max(x - origin[0], 0), max(y - origin[1], 0)
        x1, y1 = min(x - origin[0] + w, width), min(y - origin[1] + h, height)
        if x1 <= x0 or y1 <= y0:
            continue
        if mask is None:
            mask = np.zeros((height, width), dtype=np.bool_)
        mask[y0:y1, x0:x1] = True
    return mask


def diff(a: RGB, b: RGB, *, tolerance: int = PIXEL_TOLERANCE, mask: npt.NDArray[np.bool_] | None = None
         ) -> PixelDiff:
    """Compare two equally sized RGB frames pixel by pixel (``mask``: True = not compared)."""
    if a.shape != b.shape:
        raise ValueError(f"frames differ in size: {a.shape[1]}×{a.shape[0]} vs {b.shape[1]}×{b.shape[0]}")
    h, w = a.shape[:2]
    compared = h * w - (int(mask.sum()) if mask is not None else 0)
    if compared <= 0:
        return PixelDiff(0, None, 1.0, 0)
    # Only the rows that differ at all get the int16 work (most of a desktop frame is unchanged).
    rows = np.flatnonzero((a != b).any(axis=(1, 2)))
    if rows.size == 0:
        return PixelDiff(0, None, 1.0, compared)
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    # ... and of those only the columns that differ (a 1 px line down the frame stays a 1 px strip).
    cols = np.flatnonzero((a[y0:y1] != b[y0:y1]).any(axis=(0, 2)))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    # |a − b| per channel without widening (max − min of uint8 cannot overflow), then the largest channel
    # by two elementwise maxima: ~10× cheaper than int16 arithmetic and a reduction over the channel axis.
    ra, rb = a[y0:y1, x0:x1], b[y0:y1, x0:x1]
    d3 = np.maximum(ra, rb) - np.minimum(ra, rb)
    d = np.maximum(np.maximum(d3[..., 0], d3[..., 1]), d3[..., 2])
    if mask is not None:
        d[mask[y0:y1, x0:x1]] = 0
    similarity = 1.0 - float(d.sum(dtype=np.int64)) / (compared * 255.0)
    hot = d > tolerance
    n = int(hot.sum())
    if not n:
        return PixelDiff(0, None, similarity, compared)
    ys = np.flatnonzero(hot.any(axis=1))
    xs = np.flatnonzero(hot.any(axis=0))
    bbox = (x0 + int(xs[0]), y0 + int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))
    return PixelDiff(n, bbox, similarity, compared)


def volatile_regions(events: Iterable[Event], start: StartState | None = None) -> list[Region]:
    """The regions a bundle's ``volatile`` events name, each once (in virtual-screen pixels).

    With the header's ``start``, a region inside a *background* window — one of the start's windows that
    never had focus and was never clicked or scrolled in — grows to that whole window: the recorder saw only
    the part that changed while it watched (a clock's second hand sweeping a few degrees), and at any other
    time the rest of it changes too. A window the task touched keeps the learned box only, so its own
    effects stay compared.
    """
    seen: dict[Region, None] = {}
    windows = [w for w in (start.windows if start is not None else []) if w.width > 0 and w.height > 0]
    touched: set[int] = set()
    if start is not None and start.focus is not None:
        touched.update(_ids_of(start.focus, windows))
    for ev in events:
        if isinstance(ev, Volatile):
            seen.setdefault((ev.x, ev.y, ev.width, ev.height), None)
        elif isinstance(ev, Window):
            touched.update(_ids_of(ev, windows))
        elif isinstance(ev, MouseDown | Scroll):
            top = _topmost_at(ev.x, ev.y, windows)
            if top is not None:
                touched.add(top)
    out: dict[Region, None] = {}
    for r in seen:
        grown = r
        for i in reversed(range(len(windows))):  # top to bottom: the window the region is drawn in
            w = windows[i]
            if _inside(r, (w.x, w.y, w.width, w.height)):
                if i not in touched:
                    grown = (w.x, w.y, w.width, w.height)
                break
        out.setdefault(grown, None)
    return list(out)


def _ids_of(focus: Window | WindowState, windows: Sequence[WindowState]) -> list[int]:
    """Indices of the start windows that ``focus`` names (by X id, or by title and class without one)."""
    return [i for i, w in enumerate(windows)
            if (focus.id is not None and w.id == focus.id)
            or (focus.id is None and (w.title, w.wm_class) == (focus.title, focus.wm_class))]


def _topmost_at(x: int, y: int, windows: Sequence[WindowState]) -> int | None:
    for i in reversed(range(len(windows))):
        w = windows[i]
        if w.x <= x < w.x + w.width and w.y <= y < w.y + w.height:
            return i
    return None


def _inside(r: Region, box: Region) -> bool:
    return box[0] <= r[0] and box[1] <= r[1] and r[0] + r[2] <= box[0] + box[2] and r[1] + r[3] <= box[1] + box[3]


def covered(box: Region, regions: Sequence[Region]) -> bool:
    """Whether ``box`` lies entirely inside the union of ``regions`` (checked on the box's own grid)."""
    x, y, w, h = box
    m = mask_of(w, h, regions, origin=(x, y))
    return m is not None and bool(m.all())

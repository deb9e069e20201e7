"""Tolerant comparison of a live screen with a recorded one, and grabbing the live screen.

The cursor is not part of either picture (mss/XGetImage never include it), so
what is left to tolerate is rendering noise and a blinking text caret. A pixel
*differs* when any channel is off by more than ``PIXEL_TOLERANCE`` and it lies
in a horizontal run of at least ``MIN_RUN`` differing pixels: a caret is a bar
one or two pixels wide (measured: Tk's is 2×17 px), while a changed glyph, a
button that appeared or moved text always has wider runs (measured: 'a'→'b'
leaves 35 such pixels, a revealed button ~650). ``diff_fraction`` is the share
of differing pixels; ``similarity`` is 1 − mean absolute difference / 255.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mss
import numpy as np
from PIL import Image

from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import PIXEL_TOLERANCE, bgra_to_rgb, encode_png, load_rgb

MIN_RUN = 3


@dataclass(frozen=True, slots=True)
class FrameDiff:
    similarity: float
    diff_fraction: float
    differing: int
    bbox: tuple[int, int, int, int] | None  # x, y, width, height of the differing pixels


@dataclass(frozen=True, slots=True)
class Frame:
    rgb: bytes
    width: int
    height: int

    def array(self) -> np.ndarray:
        return np.frombuffer(self.rgb, dtype=np.uint8).reshape(self.height, self.width, 3)


Region = tuple[int, int, int, int]  # x, y, width, height in the frame's pixels


def compare(recorded: Frame, live: Frame, *, tolerance: int = PIXEL_TOLERANCE,
            ignore: Sequence[Region] = ()) -> FrameDiff:
    """How close ``live`` is to ``recorded``; frames of different sizes are compared after resizing.

    ``ignore``: regions that are dynamic by nature (a clock, a spinner): they never count as different.
    """
    if ignore:
        live = _mask_regions(recorded, live, ignore)
    total = recorded.width * recorded.height
    if live.rgb == recorded.rgb and (live.width, live.height) == (recorded.width, recorded.height):
        return FrameDiff(1.0, 0.0, 0, None)
    a = recorded.array()
    b = live.array() if (live.width, live.height) == (recorded.width, recorded.height) else \
        _resize(live, recorded.width, recorded.height)
    # Only the rows and columns that differ at all get the costly int16 work (a 1280×800 frame: ~3 ms).
    rows = _differing_rows(a, b)
    if not rows:
        return FrameDiff(1.0, 0.0, 0, None)
    y0, y1 = rows[0], rows[-1] + 1
    cols = np.flatnonzero((a[y0:y1] != b[y0:y1]).any(axis=(0, 2)))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    d = np.abs(a[y0:y1, x0:x1].astype(np.int16) - b[y0:y1, x0:x1].astype(np.int16))
    similarity = 1.0 - float(d.sum(dtype=np.int64)) / (total * 3 * 255.0)
    mask = solid(d.max(axis=2) > tolerance)
    n = int(mask.sum())
    bbox = None
    if n:
        ys = np.flatnonzero(mask.any(axis=1))
        xs = np.flatnonzero(mask.any(axis=0))
        bbox = (x0 + int(xs[0]), y0 + int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))
    return FrameDiff(similarity=similarity, diff_fraction=n / total, differing=n, bbox=bbox)


def _mask_regions(recorded: Frame, live: Frame, regions: Sequence[Region]) -> Frame:
    """``live`` with the recorded pixels pasted into ``regions`` (so they compare equal)."""
    if (live.width, live.height) != (recorded.width, recorded.height):
        live = Frame(_resize(live, recorded.width, recorded.height).tobytes(), recorded.width, recorded.height)
    a, b = recorded.array(), live.array().copy()
    for x, y, w, h in regions:
        x0, y0 = max(x, 0), max(y, 0)
        b[y0:y + h, x0:x + w] = a[y0:y + h, x0:x + w]
    return Frame(b.tobytes(), live.width, live.height)


def _differing_rows(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Row numbers where two frames differ, by plain byte comparison (far cheaper than numpy's !=)."""
    ma, mb = np.ascontiguousarray(a).data.cast("B"), np.ascontiguousarray(b).data.cast("B")
    stride = a.shape[1] * 3
    return [y for y in range(a.shape[0]) if ma[y * stride:(y + 1) * stride] != mb[y * stride:(y + 1) * stride]]


def solid(mask: np.ndarray, run: int = MIN_RUN) -> np.ndarray:
    """The pixels of ``mask`` that belong to a horizontal run of at least ``run`` pixels."""
    if run <= 1:
        return mask
    if mask.shape[1] < run:
        return np.zeros_like(mask)
    w = mask[:, : mask.shape[1] - run + 1].copy()
    for k in range(1, run):  # w[x]: the run of `run` pixels starting at x is all set
        w &= mask[:, k: mask.shape[1] - run + 1 + k]
    out = np.zeros_like(mask)
    for k in range(run):
        out[:, k: k + w.shape[1]] |= w
    return out


def _resize(f: Frame, w: int, h: int) -> np.ndarray:
    img = Image.frombuffer("RGB", (f.width, f.height), f.rgb, "raw", "RGB", 0, 1).resize((w, h))
    return np.asarray(img)


def load_frame(path: Path) -> Frame:
    rgb, w, h = load_rgb(path)
    return Frame(rgb, w, h)


@dataclass(frozen=True, slots=True)
class RawShot:
    bgra: bytes
    width: int
    height: int

    def frame(self) -> Frame:
        return Frame(bgra_to_rgb(self.bgra, self.width, self.height), self.width, self.height)


class FrameCache:
    """Recorded frames decoded once (a bundle references the same frame from many events)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self._frames: dict[str, Frame] = {}

    def preload(self, screens: Iterable[Screen], budget: int = 512 << 20) -> int:
        """Decode frames ahead (PNG decoding is ~20 ms a frame: not something to do on schedule)."""
        used = 0
        for sc in screens:
            if used + sc.width * sc.height * 3 > budget:
                break
            if sc.path not in self._frames:
                used += sc.width * sc.height * 3
                self.get(sc)
        return len(self._frames)

    def get(self, screen: Screen) -> Frame:
        if screen.path not in self._frames:
            self._frames[screen.path] = load_frame(self.bundle.screen_path(screen.path))
        return self._frames[screen.path]


class Grabber:
    """Grabs the live screen (the region a recorded screen covers) with mss."""

    def __init__(self, display_name: str) -> None:
        self.sct = mss.MSS(display=display_name)

    def grab_raw(self, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None) -> RawShot:
        """The pixels as the X server hands them (BGRA): ~1 ms, the conversion is left to the caller."""
        mon = self.sct.monitors[0]
        region = {"left": mon["left"] + x, "top": mon["top"] + y,
                  "width": width or mon["width"] - x, "height": height or mon["height"] - y}
        shot = self.sct.grab(region)
        return RawShot(bytes(shot.raw), shot.width, shot.height)

    def grab(self, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None) -> Frame:
        return self.grab_raw(x, y, width, height).frame()

    def grab_raw_like(self, screen: Screen | None) -> RawShot:
        if screen is None:
            return self.grab_raw()
        return self.grab_raw(screen.x, screen.y, screen.width, screen.height)

    def grab_like(self, screen: Screen | None) -> Frame:
        return self.grab_raw_like(screen).frame()

    def close(self) -> None:
        self.sct.close()


def save_png(frame: Frame, path: Path) -> None:
    path.write_bytes(encode_png(frame.rgb, frame.width, frame.height))

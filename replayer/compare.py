"""Comparison of a live screen with a recorded one (``wf.bundle.pixels``), and grabbing the live screen.

Every differing pixel counts: a pixel differs when any channel is off by more than ``PIXEL_TOLERANCE``
(24 of 255: rendering noise stays well below it, any real change of colour is far above it), wherever it
is and whatever its shape, so a 1 px line, a checkbox tick or a caret moved by one character all count
(an earlier rule counted only horizontal runs of ≥ 3 px and missed exactly those). Nothing is ignored but
the *masked* regions: the bundle's volatile regions (what changed while nobody touched anything) and
``--ignore-region``. The pointer is in neither picture (mss / XGetImage never include it).
``diff_fraction`` is the share of differing pixels; ``similarity`` is 1 − mean over the compared pixels
of their largest channel difference / 255; ``bbox`` the box around the differing pixels.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mss
import numpy as np
from PIL import Image

from wf.bundle import pixels
from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import PIXEL_TOLERANCE, bgra_to_rgb, encode_png, load_rgb


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
    """How close ``live`` is to ``recorded``; a live frame of another size is resized first.

    ``ignore``: masked regions in the frame's pixels (volatile regions, ``--ignore-region``): never compared.
    """
    same_size = (live.width, live.height) == (recorded.width, recorded.height)
    if same_size and live.rgb == recorded.rgb:
        return FrameDiff(1.0, 0.0, 0, None)
    a = recorded.array()
    b = live.array() if same_size else _resize(live, recorded.width, recorded.height)
    mask = pixels.mask_of(recorded.width, recorded.height, ignore) if ignore else None
    d = pixels.diff(a, b, tolerance=tolerance, mask=mask)
    return FrameDiff(similarity=d.similarity, diff_fraction=d.differing / (recorded.width * recorded.height),
                     differing=d.differing, bbox=d.bbox)


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
    """Recorded frames decoded once (a bundle references the same frame from many events).

    At most ``limit`` bytes of decoded frames are kept, least recently used first out, so a day-long
    recording replays in flat memory; preloading decodes the earliest frames ahead of the schedule.
    """

    def __init__(self, bundle: Bundle, limit: int = 1 << 30) -> None:
        self.bundle = bundle
        self.limit = limit
        self._frames: OrderedDict[str, Frame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # the injection thread and the checkpoint worker both read it

    def preload(self, screens: Iterable[Screen], budget: int = 512 << 20) -> int:
        """Decode frames ahead, in the order the replay meets them (PNG decoding is ~20 ms a frame: not
        something to do on schedule)."""
        used = 0
        for sc in sorted(screens, key=lambda s: s.captured):
            if used + sc.width * sc.height * 3 > min(budget, self.limit):
                break
            if sc.path not in self._frames:
                used += sc.width * sc.height * 3
                self.get(sc)
        return len(self._frames)

    def get(self, screen: Screen) -> Frame:
        with self._lock:
            frame = self._frames.get(screen.path)
            if frame is not None:
                self._frames.move_to_end(screen.path)
                return frame
        frame = load_frame(self.bundle.screen_path(screen.path))
        with self._lock:
            if screen.path not in self._frames:
                self._frames[screen.path] = frame
                self._bytes += len(frame.rgb)
                while self._bytes > self.limit and len(self._frames) > 1:
                    _, old = self._frames.popitem(last=False)
                    self._bytes -= len(old.rgb)
        return frame


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

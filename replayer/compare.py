"""Tolerant comparison of a live screen with a recorded one, and grabbing the live screen.

The cursor is not part of either picture (mss/XGetImage never include it), so
what is left to tolerate is rendering noise and small dynamic bits such as a
blinking text caret. A pixel *differs* when any channel is off by more than
``PIXEL_TOLERANCE``; ``diff_fraction`` is the share of differing pixels and
``similarity`` is 1 − mean absolute difference / 255 over all channels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wf.bundle.events import Screen
from wf.bundle.screens import encode_png, load_rgb

PIXEL_TOLERANCE = 24


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


def compare(recorded: Frame, live: Frame, *, tolerance: int = PIXEL_TOLERANCE) -> FrameDiff:
    """How close ``live`` is to ``recorded``; frames of different sizes are compared after resizing."""
    a = recorded.array()
    b = live.array() if (live.width, live.height) == (recorded.width, recorded.height) else \
        _resize(live, recorded.width, recorded.height)
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    mask = d.max(axis=2) > tolerance
    n = int(mask.sum())
    bbox = None
    if n:
        ys = np.flatnonzero(mask.any(axis=1))
        xs = np.flatnonzero(mask.any(axis=0))
        bbox = (int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))
    return FrameDiff(similarity=1.0 - float(d.mean()) / 255.0, diff_fraction=n / mask.size,
                     differing=n, bbox=bbox)


def _resize(f: Frame, w: int, h: int) -> np.ndarray:
    from PIL import Image

    img = Image.frombuffer("RGB", (f.width, f.height), f.rgb, "raw", "RGB", 0, 1).resize((w, h))
    return np.asarray(img)


def load_frame(path: Path) -> Frame:
    rgb, w, h = load_rgb(path)
    return Frame(rgb, w, h)


class FrameCache:
    """Recorded frames decoded once (a bundle references the same frame from many events)."""

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle
        self._frames: dict[str, Frame] = {}

    def get(self, screen: Screen) -> Frame:
        if screen.path not in self._frames:
            self._frames[screen.path] = load_frame(self.bundle.screen_path(screen.path))
        return self._frames[screen.path]


class Grabber:
    """Grabs the live screen (the region a recorded screen covers) with mss."""

    def __init__(self, display_name: str) -> None:
        import mss

        os.environ["DISPLAY"] = display_name
        self.sct = mss.mss()

    def grab(self, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None) -> Frame:
        mon = self.sct.monitors[0]
        region = {"left": mon["left"] + x, "top": mon["top"] + y,
                  "width": width or mon["width"] - x, "height": height or mon["height"] - y}
        shot = self.sct.grab(region)
        return Frame(shot.rgb, shot.width, shot.height)

    def grab_like(self, screen: Screen | None) -> Frame:
        if screen is None:
            return self.grab()
        return self.grab(screen.x, screen.y, screen.width, screen.height)

    def close(self) -> None:
        self.sct.close()


def save_png(frame: Frame, path: Path) -> None:
    path.write_bytes(encode_png(frame.rgb, frame.width, frame.height))

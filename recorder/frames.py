"""Grabbed frames, the ring that keeps the recent ones, and the rules that pick a frame for a screen line.

Pure: no display. The screen grabber (screens.py) fills a ``FrameRing``; the writer's state machine
(merge.py) picks from a snapshot of it with :func:`pre_frame`, :func:`settled_frame` and
:func:`last_frame_between` (docs/recording.md, *Screens*).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wf.bundle.pixels import Region
from wf.recorder.tiles import TileImage

STABLE_FRACTION = 0.01  # a frame differing from its predecessor in fewer pixels than this is "stable"


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    captured: float  # recording time when the grab had completed: the pixels are not newer than this
    bgra: TileImage | bytes | bytearray  # the grabbers make tile images (tiles.py); tests may pass raw BGRA
    width: int
    height: int
    x: int
    y: int
    raw_hash: int  # xxh3-64 identity of the pixels, for change detection and encode de-duplication
    changed: float  # fraction of pixels that differ from the previous frame (1.0 for the first)
    # Where they differ, in virtual-screen pixels (boxes around the changed pixels; empty: no change). The
    # first frame has none: it is not a change.
    boxes: tuple[Region, ...] = ()

    @property
    def stable(self) -> bool:
        return self.changed < STABLE_FRACTION

    @property
    def cost(self) -> int:
        """Memory this frame adds to its predecessor's (tiles it does not share)."""
        return self.bgra.new_bytes if isinstance(self.bgra, TileImage) else len(self.bgra)


@dataclass(frozen=True, slots=True)
class Encoded:
    hash: str  # xxh3-128 of the RGB pixels (the bundle's screen hash)
    png: bytes  # empty once stored (FrameEncoder.forget_png)
    width: int
    height: int
    seconds: float  # convert + hash + encode time


def pre_frame(frames: Sequence[Frame], t: float) -> Frame | None:
    """The last stable frame captured strictly before ``t`` (else the last frame before ``t``)."""
    before = [f for f in frames if f.captured < t]
    for f in reversed(before):
        if f.stable:
            return f
    return before[-1] if before else None


def settled_frame(frames: Sequence[Frame], last_t: float, upto: float, *, timeout: float,
                  counts: Callable[[Frame], bool] | None = None) -> Frame | None:
    """The post screen of an action whose last event was at ``last_t``, judged with frames up to ``upto``.

    The first stable frame after the screen changed since ``last_t``, its predecessor also captured after
    ``last_t`` (the screen changed, then settled); after ``timeout`` seconds without that, the newest frame;
    else None (not decided yet). A screen that has not changed at all is not settled: an app under load
    answers a click hundreds of ms late, and two quiet frames would make its click look dead. ``counts``
    says whether a frame's change can be the action's effect (the merger leaves out known volatile regions).
    """
    after = [f for f in frames if last_t < f.captured <= upto]
    changed = False
    for prev, f in itertools.pairwise(after):
        changed = changed or (prev.changed > 0 and (counts is None or counts(prev)))
        if changed and f.stable:
            return f
    if after and upto - last_t > timeout:
        return after[-1]
    return None


def last_frame_between(frames: Sequence[Frame], lo: float, hi: float) -> Frame | None:
    """The newest frame captured in the open interval (lo, hi)."""
    inside = [f for f in frames if lo < f.captured < hi]
    return inside[-1] if inside else None


class FrameRing:
    """The newest ``size`` frames, and at most ``max_bytes`` of pixels; one thread appends, any reads a snapshot.

    The memory a ring holds is its oldest frame's picture plus what each later frame changed (tiles.py).
    """

    def __init__(self, size: int = 10, *, max_bytes: int | None = None) -> None:
        self.frames: deque[Frame] = deque(maxlen=max(3, size))
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def append(self, frame: Frame) -> None:
        with self._lock:
            self.frames.append(frame)
            if self.max_bytes is not None:
                frames = self.frames
                while len(frames) > 3 and len(frames[0].bgra) + sum(f.cost for f in list(frames)[1:]) > self.max_bytes:
                    frames.popleft()

    def held_bytes(self) -> int:
        """Pixel memory the ring holds (the oldest picture plus the changes after it)."""
        with self._lock:
            frames = list(self.frames)
        return len(frames[0].bgra) + sum(f.cost for f in frames[1:]) if frames else 0

    def snapshot(self) -> list[Frame]:
        with self._lock:
            return list(self.frames)

    def latest(self) -> Frame | None:
        with self._lock:
            return self.frames[-1] if self.frames else None

    def pre_frame(self, t: float) -> Frame | None:
        """:func:`pre_frame` over the frames held now."""
        return pre_frame(self.snapshot(), t)

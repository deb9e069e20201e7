"""Screen boxes: merging the rectangles the X DAMAGE stream reports, and the box around a change.

Pure (numpy for the diff, no display). A box is ``(x, y, width, height)`` in virtual-screen pixels, the same
tuple as :data:`wf.bundle.pixels.Region`. DAMAGE reports many small rectangles (one per drawing request:
a terminal line, a clock hand); grabbing each on its own costs a round trip each, grabbing their bounding box
can cost a whole screen when two far-apart things change. :func:`merge_boxes` joins boxes that overlap or
nearly touch, and stops at a small number of boxes by merging the closest pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from wf.bundle.pixels import Region

Box = Region
MERGE_GAP = 16  # px: boxes closer than this are grabbed as one (a round trip costs more than the pixels)
MAX_BOXES = 8  # more boxes than this are merged pairwise, closest first


def area(b: Box) -> int:
    return b[2] * b[3]


def union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def union_all(boxes: Iterable[Box]) -> Box | None:
    out: Box | None = None
    for b in boxes:
        out = b if out is None else union(out, b)
    return out


def overlaps(a: Box, b: Box, gap: int = 0) -> bool:
    """Whether the boxes intersect, or come within ``gap`` px of each other."""
    return (a[0] < b[0] + b[2] + gap and b[0] < a[0] + a[2] + gap
            and a[1] < b[1] + b[3] + gap and b[1] < a[1] + a[3] + gap)


def contains(outer: Box, inner: Box) -> bool:
    """Whether ``inner`` lies wholly inside ``outer``."""
    return (outer[0] <= inner[0] and outer[1] <= inner[1] and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])


def clip(b: Box, width: int, height: int) -> Box | None:
    """``b`` cut to the screen ``width`` × ``height`` (None when nothing is left)."""
    x0, y0 = max(b[0], 0), max(b[1], 0)
    x1, y1 = min(b[0] + b[2], width), min(b[1] + b[3], height)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def merge_boxes(boxes: Iterable[Box], *, gap: int = MERGE_GAP, limit: int = MAX_BOXES) -> list[Box]:
    """Join boxes that overlap or lie within ``gap`` px, then merge the cheapest pairs until ≤ ``limit`` remain.

    The result covers every input box; boxes in it are pairwise more than ``gap`` apart, sorted by (y, x).
    """
    out: list[Box] = []
    for b in boxes:
        if b[2] <= 0 or b[3] <= 0:
            continue
        # Absorb every box the new one touches; the grown box may touch others, so repeat until stable.
        while True:
            hit = next((i for i, o in enumerate(out) if overlaps(o, b, gap)), None)
            if hit is None:
                break
            b = union(out.pop(hit), b)
        out.append(b)
    while len(out) > max(1, limit):
        # Merge the pair whose union wastes the fewest pixels.
        best: tuple[int, int, int] | None = None
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                waste = area(union(out[i], out[j])) - area(out[i]) - area(out[j])
                if best is None or waste < best[0]:
                    best = (waste, i, j)
        assert best is not None
        _, i, j = best
        merged = union(out[i], out[j])
        out = [o for k, o in enumerate(out) if k not in (i, j)]
        out = merge_boxes([*out, merged], gap=gap, limit=len(out) + 1)
    return sorted(out, key=lambda b: (b[1], b[0]))


def changed_bbox(old: npt.NDArray[np.uint32], new: npt.NDArray[np.uint32]) -> tuple[Box | None, int]:
    """The box around the pixels that differ between two equally shaped 32-bit pixel arrays, and their count."""
    diff = old != new
    n = int(np.count_nonzero(diff))
    if not n:
        return None, 0
    ys = np.flatnonzero(diff.any(axis=1))
    xs = np.flatnonzero(diff.any(axis=0))
    return (int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)), n


def as_pixels(buf: bytes | bytearray | memoryview, width: int, height: int) -> npt.NDArray[np.uint32]:
    """A BGRA frame buffer as a height × width array of 32-bit pixels (a view, no copy)."""
    return np.frombuffer(buf, dtype=np.uint32, count=width * height).reshape(height, width)


def total_area(boxes: Sequence[Box]) -> int:
    return sum(area(b) for b in boxes)

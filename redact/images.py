"""Filling rectangles of stored screens (the pixels are replaced, not blurred: nothing to undo)."""

from __future__ import annotations

import numpy as np

Rect = tuple[int, int, int, int]  # x, y, w, h in the frame's own pixels
FILL = (0, 0, 0)


def to_frame(x: int, y: int, w: int, h: int, origin: tuple[int, int], size: tuple[int, int]) -> Rect | None:
    """A virtual-screen rectangle in a frame's pixels (frame at ``origin``, ``size``), clipped; None if outside."""
    fx, fy = x - origin[0], y - origin[1]
    x0, y0 = max(fx, 0), max(fy, 0)
    x1, y1 = min(fx + w, size[0]), min(fy + h, size[1])
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def fill_rects(rgb: bytes, width: int, height: int, rects: list[Rect]) -> bytes:
    """RGB pixels with every rectangle set to the fill colour."""
    a = np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3).copy()
    for x, y, w, h in rects:
        a[y:y + h, x:x + w] = FILL
    return a.tobytes()

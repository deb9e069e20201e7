"""Coordinate systems of rendered actions (docs/actions.md, "Coordinates").

``pixels`` as recorded; ``unit`` = x / width rounded to 6 decimals (0 ≤ u < 1); ``k1000`` =
round-half-up(1000 · x / width). Back to pixels: round-half-up(u · width) and round-half-up(k · width / 1000).
``unit`` round-trips exactly for screens narrower than 10⁶ px; ``k1000`` is exact up to 1000 px and
otherwise within width / 2000 px.
"""

from __future__ import annotations

import math

from wf.bundle.errors import BadInput

COORDS: tuple[str, ...] = ("pixels", "unit", "k1000")


def half_up(v: float) -> int:
    return math.floor(v + 0.5)


def unknown_coords(coords: str) -> BadInput:
    return BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")


def to_coord(v: int, extent: int, coords: str) -> int | float:
    """A pixel coordinate in ``coords`` given the screen extent (width for x, height for y)."""
    if coords == "pixels":
        return v
    if extent <= 0:
        raise BadInput(f"screen extent must be positive, got {extent}")
    if coords == "unit":
        return round(v / extent, 6)
    if coords == "k1000":
        return half_up(v * 1000 / extent)
    raise unknown_coords(coords)


def from_coord(v: float, extent: int, coords: str) -> int:
    """The inverse of ``to_coord`` (exact for ``unit``; within extent/2000 px for ``k1000``)."""
    if coords == "pixels":
        return int(v)
    if coords == "unit":
        return half_up(v * extent)
    if coords == "k1000":
        return half_up(v * extent / 1000)
    raise unknown_coords(coords)

"""The three coordinate systems exports speak, and exact conversions between them.

- ``pixels``: absolute screen pixels, as recorded (integers).
- ``unit``: 0–1 floats relative to the screen size (AgentNet / OpenCUA), 4 decimals.
- ``k1000``: 0–1000 integers relative to the screen size (UI-TARS, GUI-Odyssey).

Four decimals are enough for ``unit`` to map back to the exact recorded pixel on screens narrower than
10,000 pixels; ``k1000`` is a 1000-bin grid, so it maps back to within half a bin.
"""

from __future__ import annotations

from typing import Literal

from wf.bundle.errors import BadInput

Coords = Literal["pixels", "unit", "k1000"]
COORD_SYSTEMS: tuple[str, ...] = ("pixels", "unit", "k1000")
UNIT_DECIMALS = 4


def check_coords(coords: str) -> Coords:
    if coords not in COORD_SYSTEMS:
        raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORD_SYSTEMS)}")
    return coords  # type: ignore[return-value]


def to_coord(value: int, extent: int, coords: str) -> int | float:
    """One pixel coordinate (``x`` against the width, ``y`` against the height) in ``coords``."""
    if coords == "pixels":
        return int(value)
    if coords == "unit":
        return round(value / extent, UNIT_DECIMALS)
    if coords == "k1000":
        return round(value * 1000 / extent)
    raise BadInput(f"unknown coordinate system {coords!r}")


def to_pixel(value: float, extent: int, coords: str) -> int:
    """The inverse of :func:`to_coord`: back to a screen pixel (nearest)."""
    if coords == "pixels":
        return int(value)
    if coords == "unit":
        return round(value * extent)
    if coords == "k1000":
        return round(value * extent / 1000)
    raise BadInput(f"unknown coordinate system {coords!r}")


def convert_point(x: int, y: int, size: tuple[int, int], coords: str) -> tuple[int | float, int | float]:
    return to_coord(x, size[0], coords), to_coord(y, size[1], coords)

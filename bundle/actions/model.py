"""The numbers the reduction depends on (``Thresholds``) and the action kinds it produces.

Import them from ``wf.bundle.actions``. The gaps that decide where typing and scrolling runs end are the key
vocabulary's (:mod:`wf.bundle.keys`): the recorder places its pre-action screens by the same ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from wf.bundle.errors import BadInput
from wf.bundle.keys import SCROLL_GAP, TYPING_GAP

KINDS: tuple[str, ...] = ("move", "click", "drag", "scroll", "type", "key", "hotkey", "wait", "mark")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every number the reduction depends on (see docs/actions.md for why each default).

    Distances are in screen pixels and measured per axis (Chebyshev: max(|dx|, |dy|)), like GTK does.
    """

    double_click_interval: float = 0.4  # s between presses (GTK gtk-double-click-time, Qt default)
    double_click_distance: int = 5  # px between presses (GTK gtk-double-click-distance)
    max_click_count: int = 3  # a 4th quick press starts a new click (triple click is the toolkits' max)
    drag_distance: int = 5  # px the pointer must leave the press point for a press to be a drag
    typing_gap: float = TYPING_GAP  # s between key presses that still belong to one type/key run
    scroll_gap: float = SCROLL_GAP  # s between wheel notches that still belong to one scroll burst
    idle_gap: float = 2.0  # s without an action that becomes a `wait`
    hover_dwell: float = 0.5  # s the pointer must rest for a `move` (GTK tooltip timeout is 500 ms)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) \
                    or value < 0:
                raise BadInput(f"threshold {f.name} must be a non-negative number, got {value!r}")
        if self.max_click_count < 1:
            raise BadInput("threshold max_click_count must be at least 1")


def cheb(ax: int, ay: int, bx: int, by: int) -> int:
    """The distance thresholds measure: per axis, the larger of the two (Chebyshev)."""
    return max(abs(ax - bx), abs(ay - by))

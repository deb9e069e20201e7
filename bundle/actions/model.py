"""The reduced-action data types: ``Action`` and the ``Thresholds`` that drive the reduction.

Import them from ``wf.bundle.actions``; this module only exists to keep the reducer and the
renderers (``actions_reduce``, ``actions_render``) free of import cycles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from wf.bundle.errors import BadInput

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
    typing_gap: float = 1.0  # s between key presses that still belong to one type/key run
    scroll_gap: float = 0.5  # s between wheel notches that still belong to one scroll burst
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


@dataclass(frozen=True, slots=True)
class Action:
    """One agent-level step reduced from a run of raw events (fields: docs/actions.md)."""

    index: int
    kind: str
    t_start: float
    t_end: float
    first_event: int
    last_event: int
    x: int | None = None
    y: int | None = None
    end_x: int | None = None
    end_y: int | None = None
    button: str | None = None
    count: int = 1
    modifiers: tuple[str, ...] = ()
    path: tuple[tuple[float, int, int], ...] = ()
    dx: int = 0
    dy: int = 0
    text: str | None = None
    keys: tuple[str, ...] = ()
    duration: float = 0.0
    pre_screen: str | None = None
    post_screen: str | None = None
    window: str | None = None
    window_class: str | None = None
    segment: int = 0  # recording segment (0, then +1 after each pause); actions never span two
    monitor: int | None = None  # index into the header's screen.monitors (monitors.py); None: not known

    def describe(self) -> str:
        """One human-readable line, e.g. ``click left ×2 at (412, 88) in 'xterm'``."""
        from wf.bundle.actions.render import describe

        return describe(self)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with every field (tuples become lists)."""
        from wf.bundle.actions.render import action_json

        return action_json(self)

    def to_pyautogui(self, *, coords: str = "pixels", size: tuple[int, int] | None = None) -> str:
        """pyautogui code for this step (one or more lines).

        ``coords``: ``pixels`` (default), ``unit`` (0–1 floats) or ``k1000`` (0–1000 integers); the last
        two need ``size`` = the recorded screen (width, height) and are not directly executable by
        pyautogui — ``to_pyautogui_program`` wraps them so that they are.
        """
        from wf.bundle.actions.render import action_pyautogui

        return action_pyautogui(self, coords=coords, size=size)

"""Which monitor each action happened on (docs/actions.md, "Monitors").

A pointer action is on the monitor that contains its position (the smallest one, if monitors overlap).
A keyboard action has no position: it is on the monitor of the pointer action before it (focus follows the
keyboard's last target there), or, before any, of the pointer position the recording started with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from wf.bundle.actions.action import Action
from wf.bundle.events import Monitor


def monitor_of(x: int, y: int, monitors: Sequence[Monitor]) -> int | None:
    """Index of the monitor containing (x, y) in virtual-screen pixels (None: on none of them)."""
    best: tuple[int, int] | None = None
    for i, m in enumerate(monitors):
        if m.x <= x < m.x + m.width and m.y <= y < m.y + m.height:
            area = m.width * m.height
            if best is None or area < best[0]:
                best = (area, i)
    return best[1] if best else None


def with_monitors(actions: Sequence[Action], monitors: Sequence[Monitor],
                  start_pointer: tuple[int, int] | None = None) -> list[Action]:
    """``actions`` with their ``monitor`` set (a single monitor: 0 everywhere; none known: unchanged)."""
    if not monitors:
        return list(actions)
    if len(monitors) == 1:
        return [replace(a, monitor=0) for a in actions]
    current = monitor_of(*start_pointer, monitors) if start_pointer is not None else None
    out = []
    for a in actions:
        if a.x is not None and a.y is not None:
            current = monitor_of(a.x, a.y, monitors)
        out.append(replace(a, monitor=current))
    return out

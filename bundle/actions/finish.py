"""Actions under construction (``Draft``), the waits between them, and freezing them into ``Action``."""

from __future__ import annotations

from dataclasses import dataclass, field

from wf.bundle.actions.action import Action
from wf.bundle.actions.model import Thresholds
from wf.bundle.events import Window


@dataclass
class Draft:
    """A mutable action under construction; frozen into an ``Action`` at the end."""

    kind: str
    t_start: float
    t_end: float
    first_event: int
    last_event: int
    segment: int
    window: Window | None
    x: int | None = None
    y: int | None = None
    end_x: int | None = None
    end_y: int | None = None
    button: str | None = None
    count: int = 1
    modifiers: tuple[str, ...] = ()
    path: list[tuple[float, int, int]] = field(default_factory=list)
    dx: int = 0
    dy: int = 0
    text: str | None = None
    keys: tuple[str, ...] = ()
    duration: float = 0.0
    last_press_t: float = 0.0  # click runs: time of the latest press; type/key runs: latest key press
    last_press_xy: tuple[int, int] = (0, 0)
    mergeable: bool = True


def with_waits(drafts: list[Draft], th: Thresholds) -> list[Draft]:
    """Insert a ``wait`` for every idle gap ≥ ``idle_gap`` between two actions of one segment."""
    result: list[Draft] = []
    for d in drafts:
        if result:
            prev = result[-1]
            gap = d.t_start - prev.t_end
            if prev.segment == d.segment and gap >= th.idle_gap and gap > 0:
                # The wait owns whatever raw events lie in the gap; the range may be empty.
                result.append(Draft(kind="wait", t_start=prev.t_end, t_end=d.t_start,
                                     first_event=prev.last_event + 1, last_event=d.first_event - 1,
                                     segment=d.segment, window=prev.window, duration=gap))
        result.append(d)
    return result


def freeze(drafts: list[Draft], screens: list[tuple[str | None, str | None]]) -> list[Action]:
    """The finished actions: drafts numbered in order, with their (pre, post) screens."""
    actions: list[Action] = []
    for n, (d, (pre, post)) in enumerate(zip(drafts, screens, strict=True)):
        w = d.window
        actions.append(Action(
            index=n, kind=d.kind, t_start=d.t_start, t_end=d.t_end, first_event=d.first_event,
            last_event=d.last_event, x=d.x, y=d.y, end_x=d.end_x, end_y=d.end_y, button=d.button,
            count=d.count, modifiers=d.modifiers, path=tuple(d.path), dx=d.dx, dy=d.dy, text=d.text,
            keys=d.keys, duration=round(d.duration, 6), pre_screen=pre, post_screen=post,
            window=w.title if w else None, window_class=w.wm_class if w else None, segment=d.segment,
        ))
    return actions

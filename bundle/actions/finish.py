"""The reducer's second half: drafts (actions under construction), waits, and pre/post screens."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from wf.bundle.actions.model import Thresholds
from wf.bundle.events import Screen, Window


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


def assign_screens(drafts: list[Draft], screens: list[tuple[int, Screen]]) -> list[tuple[str | None,
                                                                                          str | None]]:
    """(pre, post) screen path for each draft (rules: docs/actions.md, "Screens")."""
    idx = [i for i, _ in screens]
    pre: list[str | None] = []
    for d in drafts:
        k = bisect_left(idx, d.first_event) - 1
        pre.append(screens[k][1].path if k >= 0 else None)
    real = [n for n, d in enumerate(drafts) if d.kind != "wait"]
    post: list[str | None] = [None] * len(drafts)
    for pos, n in enumerate(real):
        d = drafts[n]
        nxt = real[pos + 1] if pos + 1 < len(real) else None
        lo = bisect_right(idx, d.last_event)
        hi = bisect_left(idx, drafts[nxt].first_event) if nxt is not None else len(idx)
        found = next((screens[k][1].path for k in range(lo, hi) if screens[k][1].reason == "post"), None)
        if found is None and nxt is not None:
            found = pre[nxt]
        if found is None and nxt is None:
            stops = [screens[k][1].path for k in range(lo, hi) if screens[k][1].reason == "stop"]
            found = stops[0] if stops else (screens[hi - 1][1].path if hi > lo else None)
        post[n] = found
    for n, d in enumerate(drafts):
        if d.kind == "wait":  # a wait sits between two actions: it starts and ends on their screens
            pre[n] = post[n - 1] if n > 0 else pre[n]
            post[n] = pre[n + 1] if n + 1 < len(drafts) else post[n]
    return list(zip(pre, post, strict=True))

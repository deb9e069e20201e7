"""The input witness: what reached the X server during each step, against what the step implies (pure).

The recorder's ``InputCapture`` (X RECORD) watches the replay at both levels. Each step owns the captured
events from when its first event was due until the next step's was; they are reduced with the bundle's own
reducer (``wf.bundle.actions``), timing aside — no time gap splits a click run, a typing run or a scroll
burst inside one step — and compared with the step as replayed: a click's button, count, modifiers and
position; a drag's button and both end points; a scroll's notches and position; the typed text character
for character; a key's or hotkey's keys and count; a hover's pointer position. Pointer positions may be
off by ``pointer_px`` (the verdict threshold).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from wf.bundle.actions import Action, Thresholds, reduce_events
from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.bundle.keys import modifier_of
from wf.bundle.replays import WitnessStatus

# Timing aside: nothing inside one step's window is split by time (finite: Thresholds refuses infinity).
TIMING_ASIDE = Thresholds(double_click_interval=1e9, typing_gap=1e9, scroll_gap=1e9, idle_gap=1e9,
                          hover_dwell=1e9)
LEAD = 0.002  # s: a captured event may be stamped this much before the moment its injection was due
_INPUT = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp)


@dataclass(frozen=True, slots=True)
class StepSpan:
    """A replayed step and when it ran: from its first event's due time to the next step's."""

    action: Action  # as replayed (scaled with --scale auto)
    start: float  # seconds since the replay origin
    end: float = math.inf


@dataclass(frozen=True, slots=True)
class Witnessed:
    status: WitnessStatus
    why: str | None = None


def witness(spans: Sequence[StepSpan], captured: Sequence[Event], pointer_px: float
            ) -> tuple[dict[int, Witnessed], list[str]]:
    """Per step: does the input that reached the X server agree with it? Plus input seen before any step."""
    evs = [e for e in captured if isinstance(e, _INPUT)]
    out: dict[int, Witnessed] = {}
    stray: list[str] = []
    held: dict[object, KeyDown] = {}  # modifiers down, carried into the next window (ctrl held over 2 clicks)
    k = 0
    ordered = sorted(spans, key=lambda s: s.start)
    if ordered:
        early = []
        while k < len(evs) and evs[k].t < ordered[0].start - LEAD:
            _track(held, evs[k])
            early.append(evs[k])
            k += 1
        stray = [a.describe() for a in _discrete(reduce_events(early, TIMING_ASIDE))]
    for n, span in enumerate(ordered):
        end = ordered[n + 1].start - LEAD if n + 1 < len(ordered) else math.inf
        prefix: list[Event] = list(held.values())
        window: list[Event] = []
        while k < len(evs) and evs[k].t < end:
            _track(held, evs[k])
            window.append(evs[k])
            k += 1
        seen = _discrete(reduce_events([*prefix, *window], TIMING_ASIDE))
        moves = [e for e in window if isinstance(e, MouseMove)]
        why = judge(span.action, seen, moves, pointer_px)
        out[span.action.index] = Witnessed("agrees") if why is None else Witnessed("differs", why)
    return out, stray


def as_sent(a: Action, sent: Sequence[Event]) -> Action:
    """The step with the positions of the events injected for it (after --scale, anchoring, …)."""
    ptr = [e for e in sent if isinstance(e, MouseMove | MouseDown | MouseUp | Scroll)]
    if not ptr:
        return a
    if a.kind == "move":
        return dataclasses.replace(a, x=ptr[-1].x, y=ptr[-1].y)
    first = next((e for e in ptr if isinstance(e, MouseDown | Scroll)), ptr[0])
    end = next((e for e in reversed(ptr) if isinstance(e, MouseUp)), ptr[-1])
    return dataclasses.replace(a, x=first.x, y=first.y, end_x=end.x if a.end_x is not None else None,
                               end_y=end.y if a.end_y is not None else None)


def _track(held: dict[object, KeyDown], e: Event) -> None:
    if isinstance(e, KeyDown | KeyUp) and modifier_of(e.key) is not None:
        kid = e.keycode if e.keycode is not None else e.key
        if isinstance(e, KeyDown):
            held[kid] = e
        else:
            held.pop(kid, None)


def _discrete(actions: Sequence[Action]) -> list[Action]:
    return [a for a in actions if a.kind not in ("move", "wait", "mark")]


def _plain(a: Action) -> str:
    return dataclasses.replace(a, window=None).describe()


def _near(x: int | None, y: int | None, ex: int | None, ey: int | None, px: float) -> bool:
    if x is None or y is None or ex is None or ey is None:
        return x == ex and y == ey
    return math.dist((x, y), (ex, ey)) <= px


def judge(a: Action, seen: Sequence[Action], moves: Sequence[MouseMove], px: float) -> str | None:
    """None when ``seen`` (the reduced captured input) is what ``a`` implies, else what differs."""
    got = ", ".join(_plain(s) for s in seen[:3]) + (f" and {len(seen) - 3} more" if len(seen) > 3 else "")
    if a.kind in ("move", "wait"):
        if seen:
            return f"expected no button, wheel or key input, the X server saw {got}"
        if a.kind == "move" and not any(_near(m.x, m.y, a.x, a.y, px) for m in moves):
            where = f"it went to ({moves[-1].x}, {moves[-1].y})" if moves else "the X server saw no pointer motion"
            return f"expected the pointer to rest at ({a.x}, {a.y}); {where}"
        return None
    want = _plain(a)
    if not seen:
        return f"expected {want}, the X server saw no button, wheel or key input"
    if _agrees(a, seen, px):
        return None
    return f"expected {want}, the X server saw {got}"


def _agrees(a: Action, seen: Sequence[Action], px: float) -> bool:
    if a.kind == "type":
        return all(s.kind == "type" for s in seen) and "".join(s.text or "" for s in seen) == (a.text or "")
    if a.kind in ("key", "hotkey"):
        return len(seen) == 1 and seen[0].kind == a.kind and seen[0].keys == a.keys and seen[0].count == a.count
    if a.kind == "click":
        return all(s.kind == "click" and s.button == a.button and s.modifiers == a.modifiers
                   and s.keys == a.keys and _near(s.x, s.y, a.x, a.y, px) for s in seen) \
            and sum(s.count for s in seen) == a.count
    if a.kind == "drag":
        s = seen[0]
        return len(seen) == 1 and s.kind == "drag" and s.button == a.button and s.modifiers == a.modifiers \
            and _near(s.x, s.y, a.x, a.y, px) and _near(s.end_x, s.end_y, a.end_x, a.end_y, px)
    if a.kind == "scroll":
        return all(s.kind == "scroll" and s.modifiers == a.modifiers for s in seen) \
            and _near(seen[0].x, seen[0].y, a.x, a.y, px) \
            and (sum(s.dx for s in seen), sum(s.dy for s in seen)) == (a.dx, a.dy)
    return False

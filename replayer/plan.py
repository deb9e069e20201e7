"""Pure transforms from a bundle's events to a replay plan (no display needed).

A plan is a list of ``Step``: one input event to inject and its absolute offset in
the replay schedule, plus the checkpoints: the recorded screen the user saw before
each action, attached by the same rule that gives actions their pre screens
(:mod:`wf.bundle.actions.screens`). The transforms compose like asciinema's: select
a range, cap idle gaps, scale speed, rescale coordinates. The driver sink only ever
sees the result.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import msgspec

from wf.bundle.actions.screens import attach_pre_screens
from wf.bundle.events import (
    Event,
    KeyDown,
    KeyUp,
    MouseDown,
    MouseMove,
    MouseUp,
    Pause,
    Redacted,
    Resume,
    Screen,
    Scroll,
)

InputEvent = MouseMove | MouseDown | MouseUp | Scroll | KeyDown | KeyUp
INPUT_TYPES = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp)


@dataclass(frozen=True, slots=True)
class Step:
    """One event to inject. ``at`` is seconds after replay start (after speed and gap capping)."""

    index: int  # raw event index in the bundle (0-based, after the header)
    at: float
    event: InputEvent


@dataclass(frozen=True, slots=True)
class Check:
    """A screen checkpoint: at ``at`` the live screen should look like ``screen``.

    Placed where the recorded frame was captured on the replay timeline (``captured`` mapped through the
    same speed and gap capping), so the live frame is taken at the same moment relative to the input.
    ``event`` is the action-starting event the screen precedes, or None for the final screen.
    """

    at: float
    screen: Screen
    event: int | None


@dataclass(frozen=True, slots=True)
class Plan:
    steps: list[Step]
    checks: list[Check]  # pre-action checkpoints, in time order (the final screen is separate)
    final_screen: Screen | None  # the last recorded screen: the final checkpoint
    first_screen: Screen | None  # the first recorded screen: what the app looked like before any input
    skipped: int = 0  # events that cannot be replayed (redacted keys)

    @property
    def duration(self) -> float:
        return self.steps[-1].at if self.steps else 0.0


def build_plan(events: Iterable[Event], *, first: int = 0, last: int | None = None,
               speed: float = 1.0, max_gap: float | None = None,
               scale: tuple[float, float] = (1.0, 1.0)) -> Plan:
    """All transforms in order: index → pre-screens → select → retime → rescale."""
    evs = list(events)
    pre = attach_pre_screens(evs)
    screens = [e for e in evs if isinstance(e, Screen)]
    end = len(evs) - 1 if last is None else min(last, len(evs) - 1)
    skipped = sum(1 for e in evs[first:end + 1] if isinstance(e, Redacted))
    items = [(i, e) for i, e in enumerate(evs) if isinstance(e, INPUT_TYPES)]
    items = select_range(items, first, end)
    steps = [Step(i, e.t, e) for i, e in items]
    steps = drop_unmatched_releases(steps)
    paused = paused_intervals(evs)
    steps = skip_paused(steps, paused)
    timed = retime(steps, speed=speed, max_gap=max_gap)
    chosen = {s.index for s in timed}
    checks = [Check(map_time(steps, timed, unpaused(sc.captured, paused), max_gap=max_gap, speed=speed), sc, i)
              for i, sc in sorted(pre.items()) if i in chosen and first <= i <= end]
    if scale != (1.0, 1.0):
        timed = [replace(s, event=rescale(s.event, *scale)) for s in timed]
    last_t = evs[end].t if evs else 0.0
    before_end = [s for s in screens if s.t <= last_t]
    final = before_end[-1] if before_end else (screens[-1] if screens else None)
    return Plan(timed, sorted(checks, key=lambda c: c.at), final, screens[0] if screens else None, skipped)


def map_time(orig: Sequence[Step], timed: Sequence[Step], t: float, *, max_gap: float | None,
             speed: float) -> float:
    """Where (unpaused) bundle time ``t`` falls on the replay timeline (before the first step: 0).

    ``orig`` are the steps before retiming (their ``at`` is the unpaused bundle time), ``timed`` after.
    """
    times = [s.at for s in orig]
    k = bisect.bisect_right(times, t) - 1
    if k < 0:
        return 0.0
    gap = t - times[k]
    if max_gap is not None:
        gap = min(gap, max_gap)
    at = timed[k].at + gap / speed
    # Never after the next step (a pause in between makes the raw gap longer than the replayed one).
    return min(at, timed[k + 1].at) if k + 1 < len(timed) else at


def paused_intervals(events: Sequence[Event]) -> list[tuple[float, float]]:
    """(pause, resume) times: wall time the person spent with recording paused is not part of the task."""
    out: list[tuple[float, float]] = []
    start: float | None = None
    for e in events:
        if isinstance(e, Pause) and start is None:
            start = e.t
        elif isinstance(e, Resume) and start is not None:
            out.append((start, e.t))
            start = None
    return out


def unpaused(t: float, paused: list[tuple[float, float]]) -> float:
    return t - sum(min(r, t) - p for p, r in paused if p < t)


def skip_paused(steps: list[Step], paused: list[tuple[float, float]]) -> list[Step]:
    """Shift each step earlier by the paused time before it (bundle times stay in ``event``)."""
    if not paused:
        return steps
    return [replace(s, at=unpaused(s.event.t, paused)) for s in steps]


def select_range(items: list[tuple[int, InputEvent]], first: int, last: int | None) -> list[tuple[int, InputEvent]]:
    """Keep raw events with ``first <= index <= last``; a pointer move to where the range starts comes first."""
    chosen = [(i, e) for i, e in items if i >= first and (last is None or i <= last)]
    if first > 0 and chosen:
        before = [(i, e) for i, e in items if i < first and isinstance(e, MouseMove | MouseDown | MouseUp | Scroll)]
        if before:
            _, prev = before[-1]
            t0 = chosen[0][1].t
            chosen.insert(0, (before[-1][0], MouseMove(t=t0, x=prev.x, y=prev.y)))
    return chosen


def drop_unmatched_releases(steps: list[Step]) -> list[Step]:
    """A range may start while a key or button is held: its release alone would be a stray event."""
    held_keys: set[object] = set()
    held_buttons: set[str] = set()
    out: list[Step] = []
    for s in steps:
        e = s.event
        if isinstance(e, KeyDown):
            held_keys.add(key_identity(e))
        elif isinstance(e, KeyUp):
            k = key_identity(e)
            if k not in held_keys:
                continue
            held_keys.discard(k)
        elif isinstance(e, MouseDown):
            held_buttons.add(e.button)
        elif isinstance(e, MouseUp):
            if e.button not in held_buttons:
                continue
            held_buttons.discard(e.button)
        out.append(s)
    return out


def key_identity(e: KeyDown | KeyUp) -> object:
    """The physical key: its keycode when recorded (a shifted '!' down and an '1' up are one key)."""
    return e.keycode if e.keycode is not None else e.key.lower()


def retime(steps: list[Step], *, speed: float = 1.0, max_gap: float | None = None) -> list[Step]:
    """Absolute schedule: the first step at 0, each gap capped at ``max_gap`` then divided by ``speed``."""
    if not steps:
        return steps
    if speed <= 0:
        raise ValueError("speed must be positive")
    out: list[Step] = []
    at = 0.0
    prev_t = steps[0].at
    for s in steps:
        gap = s.at - prev_t  # ``at`` holds the step's bundle time here (minus paused time)
        if max_gap is not None and gap > max_gap:
            gap = max_gap
        at += gap / speed
        prev_t = s.at
        out.append(replace(s, at=at))
    return out


def rescale(e: InputEvent, sx: float, sy: float) -> InputEvent:
    """Recorded pixels to replay-screen pixels (``--scale auto`` on a display of another size)."""
    if isinstance(e, MouseMove | MouseDown | MouseUp | Scroll):
        return msgspec.structs.replace(e, x=round(e.x * sx), y=round(e.y * sy))
    return e

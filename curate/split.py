"""Where a long recording splits into tasks: at marks and/or idle gaps (the plan, one streaming pass).

A *cut* is the raw event index where a new part begins:

* at a ``mark`` event (the person pressed the mark hotkey): the mark begins the next part, so its step
  and its ``mark`` screen travel with the task it announces;
* in an idle gap of at least ``idle`` seconds without any input, while no button or key is held: the
  part boundary is the gap's middle — what the screen did right after the last input (its ``post``
  screen) stays with the part before, the ``pre`` screen of the next input goes with the next part.

A part with neither input nor a mark (screens before the first mark, say) joins its neighbour, so no
event is lost and no bundle is empty. The parts are written by :mod:`wf.curate.split_write`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from wf.bundle.errors import BadInput
from wf.bundle.events import Event, KeyDown, KeyUp, Mark, MouseDown, MouseUp, Screen, Stop, Volatile
from wf.bundle.pixels import Region
from wf.bundle.reader import Bundle
from wf.curate.stream import INPUT

CutReason = Literal["start", "mark", "idle"]


@dataclass(frozen=True, slots=True)
class PartPlan:
    """One future bundle: raw events ``first``…``last`` (inclusive) of the original, and why it begins there."""

    first: int
    last: int
    reason: CutReason
    label: str | None = None  # the mark's label when a mark begins the part


@dataclass
class SplitPlan:
    parts: list[PartPlan]
    events: int
    screens: set[str] = field(default_factory=set)  # every screen path the original names
    volatile: list[Region] = field(default_factory=list)  # each once, in order of discovery
    dropped: int = 0  # input events the recorder lost (its `stop` event), wherever they were


@dataclass(slots=True)
class _Part:
    first: int
    reason: CutReason
    label: str | None = None
    busy: bool = False  # holds an input event or a mark


class Planner:
    """Feed every event in order; ``finish`` gives the parts."""

    def __init__(self, *, marks: bool = True, idle: float | None = None) -> None:
        if idle is not None and not (math.isfinite(idle) and idle > 0):
            raise BadInput(f"--idle {idle} must be a positive number of seconds")
        self.marks = marks
        self.idle = idle
        self.parts: list[_Part] = [_Part(0, "start")]
        self.screens: set[str] = set()
        self.volatile: dict[Region, None] = {}
        self.dropped = 0
        self.n = 0
        self._last_input: float | None = None
        self._since_input: list[tuple[int, float]] = []  # (index, t) of the events after the last input
        self._buttons = 0
        self._keys: set[object] = set()

    def feed(self, i: int, ev: Event) -> None:
        self.n = i + 1
        kind = type(ev)
        if kind in INPUT:
            self._input(i, ev)
        elif type(ev) is Mark:
            if self.marks:
                self._cut(i, "mark", ev.label)
            self.parts[-1].busy = True
            self._since_input.append((i, ev.t))
        else:
            if type(ev) is Screen:
                self.screens.add(ev.path)
            elif type(ev) is Volatile:
                self.volatile.setdefault((ev.x, ev.y, ev.width, ev.height), None)
            elif type(ev) is Stop:
                self.dropped = ev.dropped
            self._since_input.append((i, ev.t))

    def _input(self, i: int, ev: Event) -> None:
        last = self._last_input
        if self.idle is not None and last is not None and ev.t - last >= self.idle and self._idle_cut_allowed():
            middle = last + (ev.t - last) / 2
            at = next((k for k, t in self._since_input if t >= middle), i)
            self._cut(at, "idle")
        self._last_input = ev.t
        self._since_input.clear()
        self.parts[-1].busy = True
        if type(ev) is MouseDown:
            self._buttons += 1
        elif type(ev) is MouseUp:
            self._buttons = max(self._buttons - 1, 0)
        elif type(ev) is KeyDown:
            self._keys.add(ev.keycode if ev.keycode is not None else ev.key)
        elif type(ev) is KeyUp:
            self._keys.discard(ev.keycode if ev.keycode is not None else ev.key)

    def _idle_cut_allowed(self) -> bool:
        """Never inside a gesture or a key press: a part would begin with a release of nothing."""
        return not self._buttons and not self._keys

    def _cut(self, at: int, reason: CutReason, label: str | None = None) -> None:
        cur = self.parts[-1]
        if at <= cur.first:  # two cuts at one place (a mark right after an idle gap): the later reason wins
            cur.reason, cur.label = reason, label
            return
        self.parts.append(_Part(at, reason, label))

    def finish(self) -> SplitPlan:
        kept: list[_Part] = []
        carry: int | None = None  # where a part with nothing in it began: it joins the next one
        for p in self.parts:
            if carry is not None:
                p.first, carry = carry, None
            if not p.busy:
                carry = p.first
                continue
            kept.append(p)
        if not kept:  # nothing happened at all: one part
            kept.append(_Part(0, "start"))
        kept[0].reason = "start"  # a trailing empty part needs nothing: the last part runs to the end
        parts = [PartPlan(p.first, (kept[k + 1].first - 1) if k + 1 < len(kept) else self.n - 1, p.reason, p.label)
                 for k, p in enumerate(kept)]
        return SplitPlan(parts, self.n, self.screens, list(self.volatile), self.dropped)


def plan_split(events: Iterable[Event], *, marks: bool = True, idle: float | None = None) -> SplitPlan:
    planner = Planner(marks=marks, idle=idle)
    for i, ev in enumerate(events):
        planner.feed(i, ev)
    return planner.finish()


def plan_bundle(bundle: Bundle, *, marks: bool = True, idle: float | None = None) -> SplitPlan:
    """The plan for ``bundle``; refuses a bundle whose screens are missing (its parts would be invalid)."""
    plan = plan_split(bundle.events(), marks=marks, idle=idle)
    for rel in sorted(plan.screens):
        if not bundle.screen_path(rel).is_file():
            raise BadInput(f"{bundle.path}: screen file {rel} is missing", hint="run `wf validate` on the bundle")
    return plan

"""The reducer's state and bookkeeping, shared by its pointer rules and its keyboard rules.

At most one action is *open* (still growing) at a time; a held mouse button is a *gesture* until its
release; a pointer *rest* may become a ``move``. The rules that change this state live in
:mod:`wf.bundle.actions.pointer` and :mod:`wf.bundle.actions.keyboard`; the whole pass in
:mod:`wf.bundle.actions.reduce`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wf.bundle.actions.finish import Draft
from wf.bundle.actions.model import Thresholds, cheb
from wf.bundle.actions.screens import PreScreens
from wf.bundle.events import MouseDown, Screen, Window
from wf.bundle.keys import chord


@dataclass
class Gesture:
    """A mouse button held down: becomes a click or a drag at its release."""

    down: MouseDown
    index: int  # the press
    first: int  # the press, or the earlier press of a modifier held for it
    modifiers: tuple[str, ...]
    window: Window | None
    run: Draft | None  # the open click run this press may extend (double/triple click)
    last_event: int
    path: list[tuple[float, int, int]]
    spread: int = 0  # farthest per-axis distance from the press point so far
    keys: list[str] = field(default_factory=list)  # keys pressed while the button was held
    dx: int = 0
    dy: int = 0


@dataclass
class Rest:
    """Where the pointer stopped, and since when; ``approach_*``: the first move on its way there."""

    index: int
    t: float
    x: int
    y: int
    approach_index: int
    approach_t: float


@dataclass
class Modifier:
    name: str
    index: int
    t: float
    used: bool = False


def window_key(w: Window | None) -> object:
    """A window's identity: its id, else title and class (a title change alone is the same window)."""
    if w is None:
        return None
    return ("id", w.id) if w.id is not None else ("title", w.title, w.wm_class)


class ReducerState:
    """Everything the reduction remembers between two events."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.th = thresholds
        self.out: list[Draft] = []
        self.open: Draft | None = None
        self.gesture: Gesture | None = None
        self.keys_down: dict[object, Draft | Gesture] = {}  # key identity -> the action its press belongs to
        self.mods: dict[object, Modifier] = {}
        self.window: Window | None = None
        self.segment = 0
        self.pointer: tuple[int, int] | None = None  # where the last action left the pointer
        self.rest: Rest | None = None
        self.approach: tuple[int, float] | None = None  # first move since the last action
        self.screens: list[tuple[int, Screen]] = []
        self.pre_screens = PreScreens()
        self.last_t = 0.0

    @property
    def last_index(self) -> int:
        """Last raw index taken by an emitted or open action (-1 if none)."""
        if self.open is not None:
            return self.open.last_event
        return self.out[-1].last_event if self.out else -1

    def flush(self) -> None:
        if self.open is not None:
            self.out.append(self.open)
            self.open = None

    def emit(self, d: Draft) -> None:
        self.flush()
        self.out.append(d)

    def held(self) -> tuple[str, ...]:
        return chord(m.name for m in self.mods.values()) if self.mods else ()

    def mod_start(self, i: int) -> int:
        """Where an action starting at ``i`` begins: at the press of its held modifiers if still free."""
        free = [m.index for m in self.mods.values() if m.index > self.last_index]
        return min(free, default=i)

    def use_modifiers(self) -> None:
        for m in self.mods.values():
            m.used = True

    def draft(self, kind: str, i: int, t: float) -> Draft:
        return Draft(kind=kind, t_start=t, t_end=t, first_event=i, last_event=i, segment=self.segment,
                     window=self.window)

    def action_started(self) -> None:
        self.rest = None
        self.approach = None

    def end_rest(self, t: float, at: tuple[int, int] | None = None) -> None:
        """The pointer leaves its rest at ``t`` (for a press or scroll at ``at``): maybe a ``move``."""
        r, self.rest = self.rest, None
        if r is None:
            return
        dwell = t - r.t
        dd = self.th.drag_distance
        if dwell < self.th.hover_dwell:
            return
        if self.pointer is not None and cheb(r.x, r.y, *self.pointer) <= dd:
            return
        if at is not None and cheb(r.x, r.y, *at) <= dd:
            return  # the press/scroll that follows happens right here and carries the position
        if r.index <= self.last_index:
            return  # the pointer arrived while another action was still growing
        self.flush()
        first, t0 = r.approach_index, r.approach_t
        if first <= self.last_index:
            first, t0 = r.index, r.t
        self.emit(Draft(kind="move", t_start=t0, t_end=t, first_event=first, last_event=r.index,
                        segment=self.segment, window=self.window, x=r.x, y=r.y, duration=dwell))
        self.pointer = (r.x, r.y)
        self.approach = None  # the next move's approach starts after this rest

    def finish_gesture(self, up_seen: bool) -> None:
        """Close the gesture: a drag if the pointer went far, else a click (maybe extending a click run)."""
        g = self.gesture
        assert g is not None
        self.gesture = None
        d = g.down
        end_t, end_x, end_y = g.path[-1]
        if g.spread > self.th.drag_distance:
            self.emit(Draft(kind="drag", t_start=d.t, t_end=end_t, first_event=g.first, last_event=g.last_event,
                            segment=self.segment, window=g.window, x=d.x, y=d.y, end_x=end_x, end_y=end_y,
                            path=g.path, button=d.button, modifiers=g.modifiers, keys=tuple(g.keys), dx=g.dx,
                            dy=g.dy))
            self.pointer = (end_x, end_y)
            return
        plain = up_seen and not g.keys and not g.dx and not g.dy
        if g.run is not None and plain:
            g.run.count += 1
            g.run.last_event = g.last_event
            g.run.t_end = end_t
            g.run.last_press_t = d.t
            g.run.last_press_xy = (d.x, d.y)
        else:
            self.flush()
            self.open = Draft(kind="click", t_start=d.t, t_end=end_t, first_event=g.first,
                              last_event=g.last_event, segment=self.segment, window=g.window, x=d.x, y=d.y,
                              button=d.button, modifiers=g.modifiers, keys=tuple(g.keys), dx=g.dx, dy=g.dy,
                              last_press_t=d.t, last_press_xy=(d.x, d.y), mergeable=plain)
        self.pointer = (d.x, d.y)

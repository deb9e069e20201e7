"""Which raw events start an action: the one rule, decided event by event in O(1).

The recorder asks it before writing each input event and puts a ``pre`` screen in front of every event that
starts an action (docs/recording.md); the reducer and the replay plan ask it again when they read a bundle,
to find the event each ``pre`` screen was written for (:mod:`wf.bundle.actions.screens`). The rule is the
reduction's (docs/actions.md) as far as it can be known at the event itself:

* every mouse button press starts an action (the reducer may still merge it into a double click);
* a wheel notch starts one unless it continues the scroll burst (:func:`joins_scroll`, shared with the
  reducer);
* a key press starts one unless it continues the type/key/hotkey run (:func:`joins_keys`, shared with the
  reducer); modifier and lock presses never do;
* releases and pointer moves never start one. A run ends where the reducer closes its action: at a mouse
  button release, a lone tap of a modifier other than Shift, a focus change, a mark, a pause or stop, and a
  key typed into an excluded window (``redacted``).

So the starts are a superset of the reducer's action starts but for one case the rule cannot see at the
key: a pointer rest long enough to become a ``move`` in the middle of a typing run (the reducer splits the
run there; the second half then takes the last screen before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from wf.bundle.actions.model import Thresholds, cheb
from wf.bundle.events import (
    Event,
    KeyDown,
    KeyUp,
    Mark,
    MouseDown,
    MouseMove,
    MouseUp,
    Pause,
    Redacted,
    Resume,
    Screen,
    Scroll,
    Stop,
    Window,
)
from wf.bundle.keys import KeyStep, chord, held_modifier, is_lock, key_step


class KeyRun(Protocol):
    """An open type/key/hotkey run: the reducer's draft or the start rule's own record of it."""

    kind: str
    keys: tuple[str, ...]
    last_press_t: float


class ScrollRun(Protocol):
    """An open scroll burst: where it happens, the notches so far and the last one's time."""

    kind: str
    x: int | None
    y: int | None
    dx: int
    dy: int
    t_end: float
    modifiers: tuple[str, ...]


def joins_keys(run: KeyRun | None, step: KeyStep, t: float, th: Thresholds) -> bool:
    """Whether a key press classified as ``step`` at ``t`` continues ``run`` (same kind and chord, in time)."""
    return run is not None and run.kind == step.kind and run.keys == step.keys \
        and t - run.last_press_t <= th.typing_gap


def joins_scroll(run: ScrollRun | None, ev: Scroll, modifiers: tuple[str, ...], th: Thresholds) -> bool:
    """Whether a notch continues the burst: in time, in place, same modifiers, never reversing direction."""
    return run is not None and run.kind == "scroll" and run.modifiers == modifiers \
        and ev.t - run.t_end <= th.scroll_gap \
        and run.x is not None and run.y is not None and cheb(ev.x, ev.y, run.x, run.y) <= th.drag_distance \
        and run.dx * ev.dx >= 0 and run.dy * ev.dy >= 0


@dataclass(slots=True)
class _Run:
    kind: str
    keys: tuple[str, ...] = ()
    last_press_t: float = 0.0
    x: int | None = None
    y: int | None = None
    dx: int = 0
    dy: int = 0
    t_end: float = 0.0
    modifiers: tuple[str, ...] = ()


@dataclass(slots=True)
class _Held:
    name: str
    used: bool = False  # something was pressed while it was held: its release is no step of its own


_ENDS_RUN = frozenset({MouseUp, Window, Mark, Stop})


class ActionStarts:
    """Feed events in stream order; ``feed`` says whether the event starts an action."""

    def __init__(self, thresholds: Thresholds = Thresholds()) -> None:
        self.th = thresholds
        self._mods: dict[object, _Held] = {}  # key identity -> the modifier it holds
        self._run: _Run | None = None  # the run the next key press or notch may continue

    def feed(self, ev: Event) -> bool:
        kind = type(ev)
        if kind is MouseMove or kind is Screen:  # nearly all of a recording: nothing to decide
            return False
        if type(ev) is KeyDown:
            return self._key_down(ev)
        if type(ev) is KeyUp:
            self._key_up(ev)
        elif kind is MouseDown:
            self._use_modifiers()
            self._run = None
            return True
        elif type(ev) is Scroll:
            return self._scroll(ev)
        elif kind in _ENDS_RUN or (type(ev) is Redacted and ev.kind == "key_down"):
            self._run = None
        elif kind is Pause or kind is Resume:
            self._run = None
            self._mods.clear()  # nothing is recorded while paused: releases are missed
        return False

    def new_context(self) -> None:
        """Focus moved to another window: the next key press starts a new action whatever the gap."""
        self._run = None

    def _held(self) -> tuple[str, ...]:
        return chord(m.name for m in self._mods.values()) if self._mods else ()

    def _use_modifiers(self) -> None:
        for m in self._mods.values():
            m.used = True

    def _key_down(self, ev: KeyDown) -> bool:
        kid = ev.keycode if ev.keycode is not None else ev.key
        mod = held_modifier(ev.key, ev.keysym)
        if mod is not None:
            self._mods.setdefault(kid, _Held(mod))  # autorepeat of a held modifier changes nothing
            return False
        if is_lock(ev.key):
            return False
        self._use_modifiers()
        step = key_step(ev.key, ev.char, self._held())
        run = self._run
        if run is not None and joins_keys(run, step, ev.t, self.th):
            run.last_press_t = ev.t
            return False
        self._run = _Run(step.kind, step.keys, last_press_t=ev.t)
        return True

    def _key_up(self, ev: KeyUp) -> None:
        held = self._mods.pop(ev.keycode if ev.keycode is not None else ev.key, None)
        if held is not None and not held.used and held.name != "shift":
            self._run = None  # a lone Alt/Ctrl/Win tap is a step of its own (docs/actions.md)

    def _scroll(self, ev: Scroll) -> bool:
        self._use_modifiers()
        mods = self._held()
        run = self._run
        if run is not None and joins_scroll(run, ev, mods, self.th):
            run.dx += ev.dx
            run.dy += ev.dy
            run.t_end = ev.t
            return False
        self._run = _Run("scroll", x=ev.x, y=ev.y, dx=ev.dx, dy=ev.dy, t_end=ev.t, modifiers=mods)
        return True

"""The reduction of a raw event stream to actions: one streaming pass plus a screen/wait pass.

The rules are written down in docs/actions.md; the short version:

* At most one action is *open* (still growing) at any time: a type run, a key/hotkey run, a click run
  waiting for a double click, or a scroll burst. Anything that starts a different action closes it, so
  actions come out in stream order and their raw ranges never overlap.
* A mouse press is a *gesture* until its release: it becomes a click (merged into a double/triple click
  when quick and close) or, once the pointer left the press point by more than ``drag_distance``, a drag
  (:mod:`wf.bundle.actions.pointer`).
* Keys are classified at their press from the held modifiers: a printable ``char`` with at most Shift
  (or AltGr) held is text; anything else is a ``key`` or, with modifiers, a ``hotkey``
  (:mod:`wf.bundle.actions.keyboard`, vocabulary in :mod:`wf.bundle.keys`).
* A pointer rest of at least ``hover_dwell`` away from where the last action left the pointer, and not
  where the next press happens, is a ``move``; gaps of ``idle_gap`` between actions become ``wait``.
* Screens: :mod:`wf.bundle.actions.screens`, the rule the replay plan uses too.
"""

from __future__ import annotations

from collections.abc import Iterable

from wf.bundle.actions.action import Action
from wf.bundle.actions.finish import Draft, freeze, with_waits
from wf.bundle.actions.keyboard import KeyRules
from wf.bundle.actions.model import Thresholds
from wf.bundle.actions.pointer import PointerRules
from wf.bundle.actions.screens import assign_screens
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
    Screen,
    Scroll,
    Stop,
    Window,
)


class Reducer(PointerRules, KeyRules):
    """Feed events in order with ``feed``; ``finish`` returns the drafts."""

    def feed(self, i: int, ev: Event) -> None:
        self.last_t = ev.t
        self.pre_screens.feed(i, ev)
        # Most frequent first: pointer moves and keys are nearly all of a recording.
        if type(ev) is MouseMove:
            self.on_move(i, ev)
        elif type(ev) is KeyDown:
            self.on_key_down(i, ev)
        elif type(ev) is KeyUp:
            self.on_key_up(i, ev)
        elif type(ev) is MouseDown:
            self.on_down(i, ev)
        elif type(ev) is MouseUp:
            self.on_up(i, ev)
        elif type(ev) is Scroll:
            self.on_scroll(i, ev)
        elif type(ev) is Screen:
            self.screens.append((i, ev))
        elif type(ev) is Window:
            self.window = ev
        elif type(ev) is Redacted:
            self.on_redacted(i, ev)
        elif type(ev) is Mark:
            self.on_mark(i, ev)
        elif type(ev) is Pause:
            self.on_pause(ev)
        elif type(ev) is Stop:
            self.close_segment(ev.t)

    def on_mark(self, i: int, ev: Mark) -> None:
        self.end_rest(ev.t)
        if self.gesture is not None:
            self.finish_gesture(up_seen=False)
        d = self.draft("mark", i, ev.t)
        d.text = ev.label
        self.emit(d)

    def close_segment(self, t: float) -> None:
        self.end_rest(t)
        if self.gesture is not None:
            self.finish_gesture(up_seen=False)
        self.flush()
        self.approach = None

    def on_pause(self, ev: Pause) -> None:
        self.close_segment(ev.t)
        # Nothing is recorded while paused, so releases are missed: treat every key as released.
        self.keys_down.clear()
        self.mods.clear()
        self.segment += 1

    def finish(self) -> list[Draft]:
        self.close_segment(self.last_t)
        self.pre_screens.close()
        return self.out


def reduce_stream(events: Iterable[Event], thresholds: Thresholds) -> list[Action]:
    r = Reducer(thresholds)
    for i, ev in enumerate(events):
        r.feed(i, ev)
    drafts = with_waits(r.finish(), thresholds)
    return freeze(drafts, assign_screens(drafts, r.screens, r.pre_screens))

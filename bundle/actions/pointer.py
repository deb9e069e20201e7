"""The reducer's pointer rules: moves (rests), presses and releases (clicks, drags), wheel notches.

A press is a *gesture* until its release: a click (merged into a double/triple click when quick and close)
or, once the pointer left the press point by more than ``drag_distance``, a drag. Notches form a scroll
burst while they continue it (:func:`wf.bundle.actions.starts.joins_scroll`, the recorder's rule too).
"""

from __future__ import annotations

from wf.bundle.actions.model import cheb
from wf.bundle.actions.starts import joins_scroll
from wf.bundle.actions.state import Gesture, ReducerState, Rest, window_key
from wf.bundle.events import MouseDown, MouseMove, MouseUp, Scroll


class PointerRules(ReducerState):
    def on_move(self, i: int, ev: MouseMove) -> None:
        g = self.gesture
        if g is not None:
            g.path.append((ev.t, ev.x, ev.y))
            g.spread = max(g.spread, cheb(ev.x, ev.y, g.down.x, g.down.y))
            g.last_event = i
            return
        self.end_rest(ev.t)
        if self.approach is None:
            self.approach = (i, ev.t)
        self.rest = Rest(i, ev.t, ev.x, ev.y, *self.approach)

    def on_down(self, i: int, ev: MouseDown) -> None:
        if self.gesture is not None:  # a second button while one is held: close the first as it is
            self.finish_gesture(up_seen=False)
        self.end_rest(ev.t, (ev.x, ev.y))
        self.use_modifiers()
        mods = self.held()
        run = self.open
        th = self.th
        if not (run is not None and run.kind == "click" and run.mergeable and run.button == ev.button
                and run.modifiers == mods and run.segment == self.segment
                and window_key(run.window) == window_key(self.window)
                and run.count < th.max_click_count
                and ev.t - run.last_press_t <= th.double_click_interval
                and cheb(ev.x, ev.y, *run.last_press_xy) <= th.double_click_distance):
            run = None
            self.flush()
        first = self.mod_start(i) if run is None else i
        self.gesture = Gesture(ev, i, first, mods, self.window, run, i, [(ev.t, ev.x, ev.y)])
        self.action_started()

    def on_up(self, i: int, ev: MouseUp) -> None:
        g = self.gesture
        if g is None or g.down.button != ev.button:
            return  # released a button pressed before the recording (or already closed)
        g.path.append((ev.t, ev.x, ev.y))
        g.spread = max(g.spread, cheb(ev.x, ev.y, g.down.x, g.down.y))
        g.last_event = i
        self.finish_gesture(up_seen=True)

    def on_scroll(self, i: int, ev: Scroll) -> None:
        g = self.gesture
        if g is not None:
            g.dx += ev.dx
            g.dy += ev.dy
            g.last_event = i
            return
        self.end_rest(ev.t, (ev.x, ev.y))
        self.use_modifiers()
        mods = self.held()
        b = self.open
        if b is None or b.segment != self.segment or window_key(b.window) != window_key(self.window) \
                or not joins_scroll(b, ev, mods, self.th):  # a reversal starts a new burst
            self.flush()
            b = self.open = self.draft("scroll", self.mod_start(i), ev.t)
            b.x, b.y, b.modifiers = ev.x, ev.y, mods
        b.dx += ev.dx
        b.dy += ev.dy
        b.last_event = i
        b.t_end = ev.t
        self.pointer = (ev.x, ev.y)
        self.action_started()

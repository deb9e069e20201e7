"""The reducer's keyboard rules: type runs, keys and hotkeys, lone modifier taps, redacted keys.

A key is classified at its press from the held modifiers (:func:`wf.bundle.keys.key_step`) and joins the
open run while it continues it (:func:`wf.bundle.actions.starts.joins_keys`, the recorder's rule too) in the
same window and segment. Presses are paired with releases by keycode (key name when there is none).
"""

from __future__ import annotations

from wf.bundle.actions.starts import joins_keys
from wf.bundle.actions.state import Modifier, ReducerState, window_key
from wf.bundle.events import KeyDown, KeyUp, Redacted
from wf.bundle.keys import held_modifier, is_lock, key_step


class KeyRules(ReducerState):
    def on_key_down(self, i: int, ev: KeyDown) -> None:
        kid = ev.keycode if ev.keycode is not None else ev.key
        mod = held_modifier(ev.key, ev.keysym)
        if mod is not None:
            if kid not in self.mods:  # autorepeat of a held modifier changes nothing
                self.mods[kid] = Modifier(mod, i, ev.t)
            g = self.gesture
            if g is not None:  # e.g. Ctrl pressed mid-drag to copy instead of move: it belongs to the drag
                self.mods[kid].used = True
                g.modifiers = self.held()
                g.last_event = i
            return
        if is_lock(ev.key):
            return
        self.use_modifiers()
        g = self.gesture
        if g is not None:
            g.keys.append(ev.key)
            g.last_event = i
            self.keys_down[kid] = g
            return
        self.end_rest(ev.t)
        step = key_step(ev.key, ev.char, self.held())
        run = self.open
        if run is not None and run.segment == self.segment and window_key(run.window) == window_key(self.window) \
                and joins_keys(run, step, ev.t, self.th):
            if step.kind != "type":
                run.count += 1
        else:
            self.flush()
            run = self.open = self.draft(step.kind, self.mod_start(i), ev.t)
            run.keys = step.keys
            if step.kind == "type":
                run.text = ""
        if step.kind == "type" and ev.char:
            run.text = (run.text or "") + ev.char
        run.last_event = i
        run.t_end = ev.t
        run.last_press_t = ev.t
        self.keys_down[kid] = run
        self.action_started()

    def on_key_up(self, i: int, ev: KeyUp) -> None:
        kid = ev.keycode if ev.keycode is not None else ev.key
        m = self.mods.pop(kid, None)
        if m is not None:
            # A modifier pressed and released alone still does something (Alt focuses menu bars,
            # the Windows key opens a launcher); a lone Shift does nothing, so it is not a step.
            if not m.used and m.name != "shift" and self.gesture is None:
                self.flush()
                first, t0 = (m.index, m.t) if m.index > self.last_index else (i, ev.t)
                d = self.draft("key", first, t0)
                d.t_end, d.last_event, d.keys = ev.t, i, (m.name,)
                self.emit(d)
            elif self.gesture is not None and m.index >= self.gesture.first:
                self.gesture.last_event = i
            elif self.open is not None and m.index >= self.open.first_event:
                self.open.last_event = i  # the release of a modifier that belongs to the open action
            return
        owner = self.keys_down.pop(kid, None)
        if owner is not None and owner is self.open:
            owner.last_event = i
            owner.t_end = ev.t
        elif owner is not None and owner is self.gesture:
            owner.last_event = i

    def on_redacted(self, i: int, ev: Redacted) -> None:
        # Keys typed into an excluded window: no action (their identity is gone), but they end any
        # type run so that text typed before and after them is never glued together.
        if ev.kind == "key_down" and self.gesture is None:
            self.end_rest(ev.t)
            self.flush()

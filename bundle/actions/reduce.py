"""The reduction of a raw event stream to actions: one streaming pass plus a screen/wait pass.

The rules are written down in docs/actions.md; the short version:

* At most one action is *open* (still growing) at any time: a type run, a key/hotkey run, a click run
  waiting for a double click, or a scroll burst. Anything that starts a different action closes it, so
  actions come out in stream order and their raw ranges never overlap.
* A mouse press is a *gesture* until its release: it becomes a click (merged into a double/triple click
  when quick and close) or, once the pointer left the press point by more than ``drag_distance``, a drag.
* Keys are classified at their press from the held modifiers: a printable ``char`` with at most Shift
  (or AltGr) held is text; anything else is a ``key`` or, with modifiers, a ``hotkey``.
* A pointer rest of at least ``hover_dwell`` away from where the last action left the pointer, and not
  where the next press happens, is a ``move``; gaps of ``idle_gap`` between actions become ``wait``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wf.bundle.actions.finish import Draft, assign_screens, with_waits
from wf.bundle.actions.model import Action, Thresholds
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

# pyautogui's modifier names (and a few aliases recorders use) → the canonical name in actions.
MODIFIERS: dict[str, str] = {
    "shift": "shift", "shiftleft": "shift", "shiftright": "shift",
    "ctrl": "ctrl", "ctrlleft": "ctrl", "ctrlright": "ctrl", "control": "ctrl",
    "alt": "alt", "altleft": "alt", "altright": "alt", "meta": "alt", "option": "alt", "optionleft": "alt",
    "optionright": "alt",
    "win": "win", "winleft": "win", "winright": "win", "command": "win", "cmd": "win", "super": "win",
    "altgr": "altgr", "alt_gr": "altgr", "iso_level3_shift": "altgr",
}
MODIFIER_ORDER: tuple[str, ...] = ("ctrl", "alt", "shift", "win", "altgr")
# Modifiers that only select which character a key types: with them held a key still types text.
TEXT_MODIFIERS = frozenset({"shift", "altgr"})
# Their effect is already in each key's `char`; replaying them as keys would double it (docs/actions.md).
ALTGR_KEYSYMS = frozenset({0xFE03, 0xFF7E})  # ISO_Level3_Shift, Mode_switch (recorded as "altright")
LOCK_KEYS = frozenset({"capslock", "numlock", "scrolllock"})


def _cheb(ax: int, ay: int, bx: int, by: int) -> int:
    return max(abs(ax - bx), abs(ay - by))


def _is_text(char: str | None) -> bool:
    return bool(char) and char.isprintable()  # type: ignore[union-attr]


@dataclass
class _Gesture:
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
class _Rest:
    index: int
    t: float
    x: int
    y: int
    approach_index: int  # first mouse_move of the approach to this point
    approach_t: float


@dataclass
class _Press:
    owner: Draft | _Gesture | None


@dataclass
class _Modifier:
    name: str
    index: int
    t: float
    used: bool = False


def _window_key(w: Window | None) -> object:
    if w is None:
        return None
    return ("id", w.id) if w.id is not None else ("title", w.title, w.wm_class)


class Reducer:
    """Feed events in order with ``feed``; ``finish`` returns the actions."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.th = thresholds
        self.out: list[Draft] = []
        self.open: Draft | None = None
        self.gesture: _Gesture | None = None
        self.keys_down: dict[object, _Press] = {}
        self.mods: dict[object, _Modifier] = {}
        self.window: Window | None = None
        self.segment = 0
        self.pointer: tuple[int, int] | None = None  # where the last action left the pointer
        self.rest: _Rest | None = None
        self.approach: tuple[int, float] | None = None  # first move since the last action
        self.screens: list[tuple[int, Screen]] = []
        self.last_t = 0.0
        self.handlers: dict[type, Any] = {
            MouseMove: self._move, MouseDown: self._down, MouseUp: self._up, Scroll: self._scroll,
            KeyDown: self._key_down, KeyUp: self._key_up, Redacted: self._redacted,
            Screen: self._screen, Window: self._window, Mark: self._mark, Pause: self._pause,
            Resume: self._noop, Stop: self._stop,
        }

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def last_index(self) -> int:
        """Last raw index taken by an emitted or open action (-1 if none)."""
        if self.open is not None:
            return self.open.last_event
        return self.out[-1].last_event if self.out else -1

    def _flush(self) -> None:
        if self.open is not None:
            self.out.append(self.open)
            self.open = None

    def _emit(self, d: Draft) -> None:
        self._flush()
        self.out.append(d)

    def _held(self) -> tuple[str, ...]:
        names = {m.name for m in self.mods.values()}
        return tuple(n for n in MODIFIER_ORDER if n in names)

    def _mod_start(self, i: int) -> int:
        """Where an action starting at ``i`` begins: at the press of its held modifiers if still free."""
        free = [m.index for m in self.mods.values() if m.index > self.last_index]
        return min(free, default=i)

    def _use_modifiers(self) -> None:
        for m in self.mods.values():
            m.used = True

    def _draft(self, kind: str, i: int, t: float, **kw: Any) -> Draft:
        return Draft(kind=kind, t_start=t, t_end=t, first_event=i, last_event=i, segment=self.segment,
                      window=self.window, **kw)

    # -- pointer rests → move ------------------------------------------------------------------
    def _end_rest(self, t: float, at: tuple[int, int] | None = None) -> None:
        r, self.rest = self.rest, None
        if r is None:
            return
        dwell = t - r.t
        dd = self.th.drag_distance
        if dwell < self.th.hover_dwell:
            return
        if self.pointer is not None and _cheb(r.x, r.y, *self.pointer) <= dd:
            return
        if at is not None and _cheb(r.x, r.y, *at) <= dd:
            return  # the press/scroll that follows happens right here and carries the position
        if r.index <= self.last_index:
            return  # the pointer arrived while another action was still growing
        self._flush()
        first, t0 = r.approach_index, r.approach_t
        if first <= self.last_index:
            first, t0 = r.index, r.t
        self._emit(Draft(kind="move", t_start=t0, t_end=t, first_event=first, last_event=r.index,
                          segment=self.segment, window=self.window, x=r.x, y=r.y, duration=dwell))
        self.pointer = (r.x, r.y)
        self.approach = None  # the next move's approach starts after this rest

    def _action_started(self) -> None:
        self.rest = None
        self.approach = None

    # -- mouse ---------------------------------------------------------------------------------
    def _move(self, i: int, ev: MouseMove) -> None:
        g = self.gesture
        if g is not None:
            g.path.append((ev.t, ev.x, ev.y))
            g.spread = max(g.spread, _cheb(ev.x, ev.y, g.down.x, g.down.y))
            g.last_event = i
            return
        self._end_rest(ev.t)
        if self.approach is None:
            self.approach = (i, ev.t)
        self.rest = _Rest(i, ev.t, ev.x, ev.y, *self.approach)

    def _down(self, i: int, ev: MouseDown) -> None:
        if self.gesture is not None:  # a second button while one is held: close the first as it is
            self._finish_gesture(None)
        self._end_rest(ev.t, (ev.x, ev.y))
        self._use_modifiers()
        mods = self._held()
        run = self.open
        th = self.th
        if not (run is not None and run.kind == "click" and run.mergeable and run.button == ev.button
                and run.modifiers == mods and run.segment == self.segment
                and _window_key(run.window) == _window_key(self.window)
                and run.count < th.max_click_count
                and ev.t - run.last_press_t <= th.double_click_interval
                and _cheb(ev.x, ev.y, *run.last_press_xy) <= th.double_click_distance):
            run = None
            self._flush()
        first = self._mod_start(i) if run is None else i
        self.gesture = _Gesture(ev, i, first, mods, self.window, run, i, [(ev.t, ev.x, ev.y)])
        self._action_started()

    def _up(self, i: int, ev: MouseUp) -> None:
        g = self.gesture
        if g is None or g.down.button != ev.button:
            return  # released a button pressed before the recording (or already closed)
        g.path.append((ev.t, ev.x, ev.y))
        g.spread = max(g.spread, _cheb(ev.x, ev.y, g.down.x, g.down.y))
        g.last_event = i
        self._finish_gesture(ev)

    def _finish_gesture(self, up: MouseUp | None) -> None:
        g = self.gesture
        assert g is not None
        self.gesture = None
        d = g.down
        end_t, end_x, end_y = g.path[-1]
        common = {"button": d.button, "modifiers": g.modifiers, "keys": tuple(g.keys), "dx": g.dx,
                  "dy": g.dy}
        if g.spread > self.th.drag_distance:
            self._emit(Draft(kind="drag", t_start=d.t, t_end=end_t, first_event=g.first,
                              last_event=g.last_event, segment=self.segment, window=g.window, x=d.x, y=d.y,
                              end_x=end_x, end_y=end_y, path=g.path, **common))
            self.pointer = (end_x, end_y)
            return
        plain = up is not None and not g.keys and not g.dx and not g.dy
        if g.run is not None and plain:
            g.run.count += 1
            g.run.last_event = g.last_event
            g.run.t_end = end_t
            g.run.last_press_t = d.t
            g.run.last_press_xy = (d.x, d.y)
        else:
            self._flush()
            self.open = Draft(kind="click", t_start=d.t, t_end=end_t, first_event=g.first,
                               last_event=g.last_event, segment=self.segment, window=g.window, x=d.x, y=d.y,
                               last_press_t=d.t, last_press_xy=(d.x, d.y), mergeable=plain, **common)
        self.pointer = (d.x, d.y)

    def _scroll(self, i: int, ev: Scroll) -> None:
        g = self.gesture
        if g is not None:
            g.dx += ev.dx
            g.dy += ev.dy
            g.last_event = i
            return
        self._end_rest(ev.t, (ev.x, ev.y))
        self._use_modifiers()
        mods = self._held()
        b = self.open
        if not (b is not None and b.kind == "scroll" and b.modifiers == mods and b.segment == self.segment
                and _window_key(b.window) == _window_key(self.window)
                and ev.t - b.t_end <= self.th.scroll_gap
                and _cheb(ev.x, ev.y, b.x, b.y) <= self.th.drag_distance  # type: ignore[arg-type]
                and b.dx * ev.dx >= 0 and b.dy * ev.dy >= 0):  # a reversal starts a new burst
            self._flush()
            b = self.open = self._draft("scroll", self._mod_start(i), ev.t, x=ev.x, y=ev.y, modifiers=mods)
        b.dx += ev.dx
        b.dy += ev.dy
        b.last_event = i
        b.t_end = ev.t
        self.pointer = (ev.x, ev.y)
        self._action_started()

    # -- keyboard ------------------------------------------------------------------------------
    def _key_down(self, i: int, ev: KeyDown) -> None:
        kid = ev.keycode if ev.keycode is not None else ev.key
        name = ev.key.lower()
        mod = "altgr" if ev.keysym in ALTGR_KEYSYMS else MODIFIERS.get(name)
        if mod is not None:
            if kid not in self.mods:  # autorepeat of a held modifier changes nothing
                self.mods[kid] = _Modifier(mod, i, ev.t)
            g = self.gesture
            if g is not None:  # e.g. Ctrl pressed mid-drag to copy instead of move: it belongs to the drag
                self.mods[kid].used = True
                g.modifiers = self._held()
                g.last_event = i
            return
        if name in LOCK_KEYS:
            return
        self._use_modifiers()
        g = self.gesture
        if g is not None:
            g.keys.append(ev.key)
            g.last_event = i
            self.keys_down[kid] = _Press(g)
            return
        self._end_rest(ev.t)
        held = self._held()
        run = self.open
        th = self.th
        same_place = run is not None and run.segment == self.segment \
            and _window_key(run.window) == _window_key(self.window) \
            and ev.t - run.last_press_t <= th.typing_gap
        if _is_text(ev.char) and not set(held) - TEXT_MODIFIERS:
            if not (same_place and run is not None and run.kind == "type"):
                self._flush()
                run = self.open = self._draft("type", self._mod_start(i), ev.t, text="")
            run.text = (run.text or "") + ev.char  # type: ignore[operator]
        else:
            key = ev.key.lower() if len(ev.key) == 1 and ev.key.isalpha() else ev.key
            keys = (*held, key)
            kind = "hotkey" if held else "key"
            if same_place and run is not None and run.kind == kind and run.keys == keys:
                run.count += 1
            else:
                self._flush()
                run = self.open = self._draft(kind, self._mod_start(i), ev.t, keys=keys)
        run.last_event = i
        run.t_end = ev.t
        run.last_press_t = ev.t
        self.keys_down[kid] = _Press(run)
        self._action_started()

    def _key_up(self, i: int, ev: KeyUp) -> None:
        kid = ev.keycode if ev.keycode is not None else ev.key
        m = self.mods.pop(kid, None)
        if m is not None:
            # A modifier pressed and released alone still does something (Alt focuses menu bars,
            # the Windows key opens a launcher); a lone Shift does nothing, so it is not a step.
            if not m.used and m.name != "shift" and self.gesture is None:
                self._flush()
                first, t0 = (m.index, m.t) if m.index > self.last_index else (i, ev.t)
                self._emit(Draft(kind="key", t_start=t0, t_end=ev.t, first_event=first, last_event=i,
                                  segment=self.segment, window=self.window, keys=(m.name,)))
            elif self.gesture is not None and m.index >= self.gesture.first:
                self.gesture.last_event = i
            elif self.open is not None and m.index >= self.open.first_event:
                self.open.last_event = i  # the release of a modifier that belongs to the open action
            return
        press = self.keys_down.pop(kid, None)
        if press is None:
            return
        owner = press.owner
        if owner is not None and owner is self.open:
            owner.last_event = i
            owner.t_end = ev.t
        elif owner is not None and owner is self.gesture:
            owner.last_event = i

    def _redacted(self, i: int, ev: Redacted) -> None:
        # Keys typed into an excluded window: no action (their identity is gone), but they end any
        # type run so that text typed before and after them is never glued together.
        if ev.kind == "key_down" and self.gesture is None:
            self._end_rest(ev.t)
            self._flush()

    # -- the rest ------------------------------------------------------------------------------
    def _screen(self, i: int, ev: Screen) -> None:
        self.screens.append((i, ev))

    def _window(self, i: int, ev: Window) -> None:
        self.window = ev

    def _mark(self, i: int, ev: Mark) -> None:
        self._end_rest(ev.t)
        if self.gesture is not None:
            self._finish_gesture(None)
        self._emit(self._draft("mark", i, ev.t, text=ev.label))

    def _close_segment(self, t: float) -> None:
        self._end_rest(t)
        if self.gesture is not None:
            self._finish_gesture(None)
        self._flush()
        self.approach = None

    def _pause(self, i: int, ev: Pause) -> None:
        self._close_segment(ev.t)
        # Nothing is recorded while paused, so releases are missed: treat every key as released.
        self.keys_down.clear()
        self.mods.clear()
        self.segment += 1

    def _stop(self, i: int, ev: Stop) -> None:
        self._close_segment(ev.t)

    def _noop(self, i: int, ev: Event) -> None:
        pass

    def feed(self, i: int, ev: Event) -> None:
        self.last_t = ev.t
        handler = self.handlers.get(type(ev))
        if handler is not None:
            handler(i, ev)

    def finish(self) -> list[Draft]:
        self._close_segment(self.last_t)
        return self.out


def reduce_stream(events: Iterable[Event], thresholds: Thresholds) -> list[Action]:
    r = Reducer(thresholds)
    for i, ev in enumerate(events):
        r.feed(i, ev)
    drafts = with_waits(r.finish(), thresholds)
    screens = assign_screens(drafts, r.screens)
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



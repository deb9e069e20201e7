"""Restoring the recorded start state (the header's ``start``) before the first event, item by item.

A demonstration depends on state no event shows (docs/format.md, ``start``): without a window manager
focus follows the pointer, so a session typed without touching the mouse only replays if the pointer is
first put back where it was. In order, because each step relies on the one before:

1. **stray holds** — keys and buttons down on the live display that were not down at the start are
   released (a held modifier would change every key that follows);
2. **pointer** — an XTest motion to the recorded position, anchored like every pointer event
   (:mod:`wf.replayer.anchoring`): over the same spot of the same window, wherever it is now;
3. **focus** — the recorded focused window, found like an anchor: with a window manager it is
   activated (EWMH ``_NET_ACTIVE_WINDOW``); without one focus follows the pointer, which step 2 put over
   it, and only when the recording's pointer was elsewhere is the focus set directly (``XSetInputFocus``);
   it is raised when it was the top window;
4. **locks** — Caps/Num/Scroll Lock tapped (XTest) where the live state differs, then read back (and
   on a display people use, turned back after the replay);
5. **held keys and buttons** — pressed by the replay itself, as its first events
   (:func:`with_start_holds`), so the driver holds them like any other (released on Ctrl+C), their
   recorded releases are replayed (the plan drops releases with no press), and the verdict expects both.

Each item is reported ``restored``, ``as recorded`` (nothing to do), ``not restorable`` (and why) or
``not recorded``.
"""

from __future__ import annotations

import bisect
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseUp, StartState
from wf.bundle.replays import StartItem
from wf.replayer.anchoring import Placer, WindowNotFound
from wf.replayer.driver import X_BUTTONS
from wf.replayer.keyboard import KeyMapper
from wf.replayer.layout import Layouts, match
from wf.replayer.livedesk import LOCK_KEYSYMS, LiveDesktop
from wf.replayer.plan import InputEvent, Plan, Step, key_identity

START_INDEX = -1  # the raw index of the replay's own start-state presses (they are no event of the bundle)


def not_recorded() -> list[StartItem]:
    return [StartItem(item="start", status="not recorded",
                      detail="the bundle has no start state (recorded before format 1.1)")]


# -- the plan: held keys and buttons ---------------------------------------------------------------------

def with_start_holds(plan: Plan, events: Sequence[Event], start: StartState | None, *, first: int = 0,
                     scale: tuple[float, float] = (1.0, 1.0), speed: float = 1.0,
                     max_gap: float | None = None) -> tuple[Plan, list[StartItem]]:
    """The plan with the start's held keys and buttons pressed first and their recorded releases back in."""
    if start is None or first > 0 or not (start.keys or start.buttons):
        return plan, []
    t0 = plan.steps[0].event.t if plan.steps else 0.0
    presses: list[InputEvent] = [KeyDown(t=t0, key=k.key, keysym=k.keysym, keycode=k.keycode) for k in start.keys]
    if start.buttons and start.pointer is not None:
        x, y = round(start.pointer[0] * scale[0]), round(start.pointer[1] * scale[1])
        presses += [MouseDown(t=t0, x=x, y=y, button=b) for b in start.buttons]
    held: set[object] = {key_identity(p) for p in presses if isinstance(p, KeyDown)}
    held |= set(start.buttons if start.pointer is not None else [])
    planned = {s.index for s in plan.steps}
    releases: list[tuple[int, InputEvent]] = []
    for i, e in enumerate(events):
        if i < first or not held:
            continue
        if isinstance(e, KeyDown | KeyUp):
            ident: object = key_identity(e)
        elif isinstance(e, MouseDown | MouseUp):
            ident = e.button
        else:
            continue
        if ident not in held:
            continue
        if isinstance(e, KeyUp | MouseUp) and i not in planned:
            releases.append((i, e))
        held.discard(ident)  # pressed or released again: from here on the plan has it right
    steps = [Step(START_INDEX, 0.0, p) for p in presses] + list(plan.steps)
    for i, e in releases:
        steps.insert(_position(steps, i), Step(i, _at(plan.steps, i, e.t, speed, max_gap), e))
    names = [k.key for k in start.keys] + [f"{b} button" for b in start.buttons if start.pointer is not None]
    items = [StartItem(item="held", status="restored",
                       detail=f"{', '.join(names)} pressed before the first event; their recorded releases kept")
             ] if presses else []
    if start.buttons and start.pointer is None:
        items.append(StartItem(item="buttons", status="not restorable",
                               detail="buttons were held but the pointer position is not recorded"))
    return replace(plan, steps=steps), items


def _position(steps: list[Step], index: int) -> int:
    """Where raw event ``index`` goes among steps in stream order (the start presses stay first)."""
    keys = [s.index for s in steps]
    return max(bisect.bisect_right(keys, index), sum(1 for s in steps if s.index == START_INDEX))


def _at(steps: Sequence[Step], index: int, t: float, speed: float, max_gap: float | None) -> float:
    """The replay time of an event left out of the plan, from its planned neighbours in the stream."""
    keys = [s.index for s in steps]
    k = bisect.bisect_right(keys, index)
    if k == 0:
        return 0.0
    prev = steps[k - 1]
    gap = max(t - prev.event.t, 0.0)
    if max_gap is not None:
        gap = min(gap, max_gap)
    at = prev.at + gap / speed
    return min(at, steps[k].at) if k < len(steps) else at


# -- the live display ------------------------------------------------------------------------------------

class Restorer:
    """Puts the live display into the recorded start state (see the module docstring)."""

    def __init__(self, desk: LiveDesktop, start: StartState, layouts: Layouts, placer: Placer | None,
                 mapper: KeyMapper, *, log: Callable[[str], None] = lambda _m: None) -> None:
        self.desk = desk
        self.start = start
        self.layouts = layouts
        self.placer = placer
        self.mapper = mapper
        self.log = log
        self.toggled: dict[str, bool] = {}  # lock -> its live state before the restore turned it over

    def run(self) -> list[StartItem]:
        items = [self.stray(), self.pointer(), self.focus()]
        items += self.locks()
        return [i for i in items if i is not None]

    def stray(self) -> StartItem:
        start = self.start
        keep = {self.mapper.keycode(KeyDown(t=0.0, key=k.key, keysym=k.keysym, keycode=k.keycode))
                for k in start.keys}
        keys = [kc for kc in self.desk.held_keys() if kc not in keep]
        mask = self.desk.pointer()[2]
        recorded_buttons = {X_BUTTONS[b] for b in start.buttons}
        buttons = [n for n in (1, 2, 3, 4, 5) if mask & (1 << (7 + n)) and n not in recorded_buttons]
        for kc in keys:
            self.desk.release_key(kc)
        for b in buttons:
            self.desk.release_button(b)
        if not keys and not buttons:
            return StartItem(item="stray", status="as recorded", detail="nothing held that was not held then")
        what = [f"keycode {kc}" for kc in keys] + [f"button {b}" for b in buttons]
        return StartItem(item="stray", status="restored", detail="released " + ", ".join(what))

    def pointer(self) -> StartItem:
        if self.start.pointer is None:
            return StartItem(item="pointer", status="not recorded")
        x, y = self.start.pointer
        sx, sy = self.placer.scale if self.placer else (1.0, 1.0)
        tx, ty = round(x * sx), round(y * sy)
        where = ""
        anchor = self.placer.anchors.get(START_INDEX) if self.placer is not None else None
        if anchor is not None and self.placer is not None:
            try:
                tx, ty = self.placer.point(START_INDEX, tx, ty, fresh=True)
            except WindowNotFound as exc:
                return StartItem(item="pointer", status="not restorable", detail=exc.message)
            where = f" in {anchor.windows[0].name()}"
        live = self.desk.pointer()[:2]
        if live == (tx, ty):
            return StartItem(item="pointer", status="as recorded", detail=f"at ({tx}, {ty}){where}")
        self.desk.warp(tx, ty)
        now = self.desk.pointer()[:2]
        if now != (tx, ty):
            return StartItem(item="pointer", status="not restorable",
                             detail=f"moved to ({tx}, {ty}) but it is at {now} (off the screen?)")
        return StartItem(item="pointer", status="restored", detail=f"moved from {live} to ({tx}, {ty}){where}")

    def focus(self) -> StartItem | None:
        focus = self.start.focus
        if focus is None:
            return StartItem(item="focus", status="as recorded", detail="no window had the focus (the bare root)")
        rec = self.layouts.recorded(focus)
        if self.placer is not None:
            live = self.placer.resolve(rec, self.placer.wait)
        else:  # --anchor screen: the window is still found the same way, just not followed
            found = match(rec, self.desk.windows())
            live = found[0] if found else None
        if live is None:
            return StartItem(item="focus", status="not restorable", detail=f"{rec.name()} not found on the display")
        top = bool(self.start.windows) and self.layouts.recorded(self.start.windows[-1]).key == rec.key
        if self.desk.window_manager() is not None:
            if self.desk.active_window() == live.id:
                return StartItem(item="focus", status="as recorded", detail=f"{rec.name()} is active")
            if self.desk.activate(live):
                return StartItem(item="focus", status="restored", detail=f"{rec.name()} activated")
            return StartItem(item="focus", status="not restorable",
                             detail=f"the window manager did not activate {rec.name()} within 1 s")
        child = self.desk.pointer()[3]
        if top and child != live.frame:
            self.desk.raise_window(live)
            child = self.desk.pointer()[3]
        follows = self.desk.input_focus() == 1  # PointerRoot: the window under the pointer has it
        if follows and child == live.frame:
            return StartItem(item="focus", status="as recorded",
                             detail=f"{rec.name()}: focus follows the pointer, which is over it")
        self.desk.focus(live)
        return StartItem(item="focus", status="restored", detail=f"{rec.name()} given the input focus")

    def locks(self) -> list[StartItem]:
        recorded = self.start.locks
        if recorded is None:
            return [StartItem(item="locks", status="not recorded")]
        out = []
        live = self.desk.locks()
        for name in ("caps", "num", "scroll"):
            want = bool(getattr(recorded, name))
            item = f"{name}_lock"
            have = live[name]
            if have is None:
                out.append(StartItem(item=item, status="not restorable",
                                     detail=f"{name.title()} Lock drives no modifier or LED here"))
                continue
            if have == want:
                out.append(StartItem(item=item, status="as recorded", detail="on" if want else "off"))
                continue
            kc = self.desk.keycode(LOCK_KEYSYMS[name])
            if kc is None:
                out.append(StartItem(item=item, status="not restorable",
                                     detail=f"no {name.title()}_Lock key in the live keymap"))
                continue
            self.desk.tap(kc)
            self.toggled[name] = have
            now = _settled(functools.partial(self._lock, name), want)
            if now == want:
                out.append(StartItem(item=item, status="restored", detail=f"turned {'on' if want else 'off'}"))
            else:
                out.append(StartItem(item=item, status="not restorable",
                                     detail=f"tapping {name.title()}_Lock did not turn it {'on' if want else 'off'}"))
        return out


    def _lock(self, name: str) -> bool | None:
        return self.desk.locks()[name]

    def put_back(self) -> None:
        """Turn the locks the restore changed back to what they were before the replay (a real desktop's
        owner should not be left with Caps Lock on)."""
        live = self.desk.locks()
        for name, was in self.toggled.items():
            kc = self.desk.keycode(LOCK_KEYSYMS[name])
            if kc is not None and live[name] is not None and live[name] != was:
                self.desk.tap(kc)
        self.toggled.clear()


def _settled(read: Callable[[], bool | None], want: bool, timeout: float = 0.2) -> bool | None:
    """Read until it equals ``want`` or ``timeout`` (the server applies a tap after the request returns)."""
    deadline = time.monotonic() + timeout
    while True:
        now = read()
        if now == want or time.monotonic() > deadline:
            return now
        time.sleep(0.01)

"""Which raw events start an action (and so get a pre-action screen), decided online, event by event.

The rules follow the action reducer's (docs/actions.md), so that each reduced step finds its own `pre`
screen right before its first event: an action starts at a mouse button press; at the first wheel notch of
a burst; at a printable key press (at most Shift/AltGr held) that starts typing — after a pause longer
than the typing gap, after any other kind of action or after a focus change; at a non-text key (Enter,
Tab, Backspace, arrows, Escape, F-keys) or a hotkey (ctrl/alt/win held), the same key or chord repeated
within the typing gap counting once. Lock keys and modifier presses alone never start an action; releases
and pointer moves never do.
"""

from __future__ import annotations

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseUp, Scroll
from wf.recorder.control import modifier_of

TYPING_GAP = 1.0  # seconds of no typing after which the next key press starts a new typing action
SCROLL_GAP = 0.5  # seconds between two wheel notches that still count as one scroll action
LOCK_KEYS = frozenset({"capslock", "numlock", "scrolllock"})  # their effect is in every char already
ALTGR_KEYSYMS = frozenset({0xFE03, 0xFF7E})  # ISO_Level3_Shift, Mode_switch: they select characters


class ActionDetector:
    def __init__(self, *, typing_gap: float = TYPING_GAP, scroll_gap: float = SCROLL_GAP) -> None:
        self.typing_gap = typing_gap
        self.scroll_gap = scroll_gap
        self._mods: dict[int, str] = {}
        self._keys_down: set[int] = set()
        self._run: tuple[str, ...] | None = None  # ("type",) / ("key", name) / ("scroll",) / ("mouse",)
        self._run_t = -1e9
        self.buttons_down = 0

    def starts_action(self, ev: Event) -> bool:
        kind = type(ev)
        if kind is MouseDown:
            self.buttons_down += 1
            self._run, self._run_t = ("mouse",), ev.t
            return True
        if kind is MouseUp:
            self.buttons_down = max(0, self.buttons_down - 1)
            return False
        if kind is Scroll:
            starts = self._run != ("scroll",) or ev.t - self._run_t > self.scroll_gap
            self._run, self._run_t = ("scroll",), ev.t
            return starts
        if kind is KeyUp:
            kc = ev.keycode if ev.keycode is not None else -1
            self._keys_down.discard(kc)
            self._mods.pop(kc, None)
            return False
        if kind is KeyDown:
            return self._key_down(ev)
        return False

    def _key_down(self, ev: KeyDown) -> bool:
        kc = ev.keycode if ev.keycode is not None else -1
        repeat = kc in self._keys_down
        self._keys_down.add(kc)
        mod = modifier_of(ev.key)
        if mod is not None:
            self._mods[kc] = "altgr" if ev.keysym in ALTGR_KEYSYMS else mod
            return False
        if ev.key in LOCK_KEYS:
            return False
        held = sorted(set(self._mods.values()) - {"shift", "altgr"})
        text = not held and ev.char is not None and ev.char.isprintable()
        run: tuple[str, ...] = ("type",) if text else ("key", *held, ev.key)
        starts = not repeat and (run != self._run or ev.t - self._run_t > self.typing_gap)
        self._run, self._run_t = run, ev.t
        return starts

    def new_context(self) -> None:
        """Focus moved to another window: the next key press starts a new action whatever the gap."""
        self._run = None

    def extends_action(self, ev: Event) -> bool:
        """Events after which the action is still going on (so its post screen must wait)."""
        kind = type(ev)
        return kind in (MouseDown, MouseUp, Scroll, KeyDown, KeyUp) or self.buttons_down > 0

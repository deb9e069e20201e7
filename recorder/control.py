"""Control hotkeys (stop, pause, mark) and removing their own keystrokes from the recorded stream.

A chord such as ``ctrl+alt+shift+s`` begins with modifier presses that look like any other until the final
key arrives. So while only modifiers of some control chord are held, events are held back; if the chord
completes, its modifier presses, the final key and all their releases are dropped; otherwise the held
events are released unchanged, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wf.bundle.errors import BadInput
from wf.bundle.events import Event, KeyDown, KeyUp, MouseMove
from wf.bundle.keys import CHORD_MODIFIERS, chord, modifier_of

DEFAULT_STOP_KEY = "ctrl+alt+shift+s"
DEFAULT_PAUSE_KEY = "ctrl+alt+shift+p"
DEFAULT_MARK_KEY = "ctrl+alt+shift+m"


@dataclass(frozen=True, slots=True)
class Hotkey:
    key: str
    modifiers: frozenset[str]

    @classmethod
    def parse(cls, spec: str, *, option: str = "hotkey") -> Hotkey:
        parts = [p.strip().lower() for p in spec.split("+")]
        if not spec or any(not p for p in parts):
            raise BadInput(f"{option} {spec!r} is not a key or a chord",
                           hint="write keys as pyautogui names joined by '+', e.g. 'ctrl+alt+shift+s' or 'f12'")
        *mods, key = parts
        bad = [m for m in mods if modifier_of(m) not in CHORD_MODIFIERS]
        if bad:
            raise BadInput(f"{option} {spec!r}: {bad[0]!r} is not a modifier",
                           hint="modifiers are ctrl, alt, shift and win")
        if modifier_of(key) is not None:
            raise BadInput(f"{option} {spec!r} ends with a modifier",
                           hint="end the chord with an ordinary key, e.g. 'ctrl+alt+shift+s'")
        return cls(key=key, modifiers=frozenset(modifier_of(m) or m for m in mods))

    def __str__(self) -> str:
        return "+".join([*chord(self.modifiers), self.key])


@dataclass(frozen=True, slots=True)
class Control:
    """A control hotkey fired at time ``t``."""

    name: str
    t: float


class ChordFilter:
    """Feeds on the input stream in order; yields the events to record and the control hotkeys fired."""

    def __init__(self, hotkeys: dict[str, Hotkey]) -> None:
        self.hotkeys = hotkeys
        self._chord_mods = [h.modifiers for h in hotkeys.values() if h.modifiers]
        self._mods_down: dict[int, str] = {}  # keycode -> normalised modifier
        self._held: list[Event] = []
        self._swallow: set[int] = set()  # keycodes whose next release belongs to a fired chord

    def feed(self, ev: Event) -> list[Event | Control]:
        if type(ev) is KeyDown:
            return self._down(ev)
        if type(ev) is KeyUp:
            return self._up(ev)
        if self._held:
            if type(ev) is MouseMove:
                self._held.append(ev)
                return []
            return [*self._release(), ev]  # a click or scroll with modifiers held: not a control chord
        return [ev]

    def flush(self) -> list[Event | Control]:
        return list(self._release())

    def _release(self) -> Iterable[Event]:
        held, self._held = self._held, []
        return held

    def _down(self, ev: KeyDown) -> list[Event | Control]:
        kc = ev.keycode if ev.keycode is not None else -1
        mod = modifier_of(ev.key)
        if mod is not None:
            if kc in self._swallow:  # auto-repeat of a chord's modifier
                return []
            self._mods_down[kc] = mod
            down = set(self._mods_down.values())
            if any(down <= m for m in self._chord_mods):
                self._held.append(ev)
                return []
            return [*self._release(), ev]
        if kc in self._swallow:
            return []  # auto-repeat of a chord's final key
        held_mods = frozenset(self._mods_down.values())
        for name, hk in self.hotkeys.items():
            if hk.modifiers == held_mods and hk.key in (ev.key, (ev.char or "").lower()):
                # Drop the chord: its held modifier presses, this key, and every release to come.
                dropped = {e.keycode for e in self._held if type(e) is KeyDown and e.keycode in self._mods_down}
                self._held = [e for e in self._held if type(e) is not KeyDown or e.keycode not in dropped]
                # Modifiers pressed before the chord began were already recorded: keep their releases.
                self._swallow.update(k for k in dropped if k is not None)
                self._swallow.add(kc)
                out: list[Event | Control] = [*self._release()]
                out.append(Control(name, ev.t))
                return out
        return [*self._release(), ev]

    def _up(self, ev: KeyUp) -> list[Event | Control]:
        kc = ev.keycode if ev.keycode is not None else -1
        self._mods_down.pop(kc, None)
        if kc in self._swallow:
            self._swallow.discard(kc)
            return []
        return [*self._release(), ev]

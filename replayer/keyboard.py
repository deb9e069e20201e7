"""Exact key injection on X11: recorded key events to keycodes of the live keymap.

Replaying by keycode (not by character) is what makes shifted characters, AltGr
and dead keys come out exactly as recorded: the recorded Shift events are
replayed too, so the X server and the app do the same translation again. A keysym
absent from the live keymap (non-ASCII text recorded elsewhere) is bound to a
spare keycode before replay starts, so no client sees a mapping change mid-typing.
"""

from __future__ import annotations

from collections.abc import Iterable

from Xlib import XK, X
from Xlib.display import Display

from wf.bundle.events import KeyDown, KeyUp

# pyautogui names whose keysym name differs (enough for the fallback path; letters map to themselves).
NAME_TO_KEYSYM_NAME = {
    "enter": "Return", "return": "Return", "\n": "Return", "tab": "Tab", "\t": "Tab",
    "backspace": "BackSpace", "\b": "BackSpace", "esc": "Escape", "escape": "Escape", "space": "space",
    " ": "space", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home", "end": "End",
    "pageup": "Page_Up", "pgup": "Page_Up", "pagedown": "Page_Down", "pgdn": "Page_Down",
    "left": "Left", "right": "Right", "up": "Up", "down": "Down",
    "shift": "Shift_L", "shiftleft": "Shift_L", "shiftright": "Shift_R",
    "ctrl": "Control_L", "ctrlleft": "Control_L", "ctrlright": "Control_R",
    "alt": "Alt_L", "altleft": "Alt_L", "altright": "Alt_R", "altgr": "ISO_Level3_Shift",
    "win": "Super_L", "winleft": "Super_L", "winright": "Super_R", "super": "Super_L",
    "capslock": "Caps_Lock", "numlock": "Num_Lock", "scrolllock": "Scroll_Lock", "pause": "Pause",
    "printscreen": "Print", "prtsc": "Print", "menu": "Menu", "apps": "Menu",
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
}


class KeyMapper:
    """Resolves recorded key events to live keycodes on one python-xlib display."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.min_kc = display.display.info.min_keycode
        self.max_kc = display.display.info.max_keycode
        rows = display.get_keyboard_mapping(self.min_kc, self.max_kc - self.min_kc + 1)
        self.syms: dict[int, tuple[int, ...]] = {self.min_kc + i: tuple(r) for i, r in enumerate(rows)}
        self._bound: dict[int, int] = {}  # keysym -> spare keycode we bound for this replay
        self._cache: dict[tuple[int | None, int | None, str], int | None] = {}

    def prepare(self, events: Iterable[KeyDown | KeyUp]) -> int:
        """Resolve every key event once, binding spare keycodes for unknown keysyms; returns how many."""
        for e in events:
            self.keycode(e)
        if self._bound:
            self.display.sync()
        return len(self._bound)

    def keycode(self, e: KeyDown | KeyUp) -> int | None:
        key = (e.keycode, e.keysym, e.key)
        if key not in self._cache:
            self._cache[key] = self._resolve(e)
        return self._cache[key]

    def _resolve(self, e: KeyDown | KeyUp) -> int | None:
        kc, ks = e.keycode, e.keysym
        if kc is not None and ks is not None and ks in self.syms.get(kc, ()):
            return kc  # the recorded physical key means the same here: exact
        if ks:
            found = self._find(ks)
            if found is not None:
                return found
        if kc is not None and not ks and kc in self.syms:
            return kc
        if not ks:
            ks = self._keysym_of_name(e.key, e.char)
            if ks:
                found = self._find(ks)
                if found is not None:
                    return found
        return self._bind_spare(ks) if ks else None

    def for_text(self, ks: int) -> tuple[int | None, bool]:
        """A keycode that types keysym ``ks`` and whether Shift must be held (text without recorded modifiers)."""
        for col, shift in ((0, False), (1, True)):
            for kc, row in self.syms.items():
                if len(row) > col and row[col] == ks:
                    return kc, shift
        return self._bind_spare(ks), False

    def _find(self, ks: int) -> int | None:
        for col in range(4):  # prefer the plain column, then shifted, then AltGr
            for kc, row in self.syms.items():
                if len(row) > col and row[col] == ks:
                    return kc
        return self._bound.get(ks)

    def _keysym_of_name(self, name: str, char: str | None) -> int:
        for cand in (NAME_TO_KEYSYM_NAME.get(name.lower()), name, char):
            if cand:
                ks = XK.string_to_keysym(cand)
                if ks:
                    return int(ks)
        text = char or (name if len(name) == 1 else "")
        if len(text) == 1:
            cp = ord(text)
            return cp if cp < 0x100 else 0x01000000 | cp  # X11's Unicode keysym convention
        return 0

    def _bind_spare(self, ks: int) -> int | None:
        if ks in self._bound:
            return self._bound[ks]
        for kc in range(self.max_kc, self.min_kc - 1, -1):
            if not any(self.syms.get(kc, ())) and kc not in self._bound.values():
                self.display.change_keyboard_mapping(kc, [(ks, ks)])
                self._bound[ks] = kc
                return kc
        return None

    def restore(self) -> None:
        """Unbind the spare keycodes again."""
        for kc in self._bound.values():
            self.display.change_keyboard_mapping(kc, [(0, 0)])
        if self._bound:
            self.display.sync()
        self._bound.clear()


class Autorepeat:
    """Turns the X server's key autorepeat off for the replay and restores the previous mode.

    A held key is replayed as the recorded stream of repeats; if the server also
    repeated it, a held key would type more characters than the person did.
    """

    def __init__(self, display: Display) -> None:
        self.display = display
        self.was_on: bool | None = None

    def disable(self) -> None:
        self.was_on = bool(self.display.get_keyboard_control().global_auto_repeat)
        self.display.change_keyboard_control(auto_repeat_mode=X.AutoRepeatModeOff)
        self.display.sync()

    def restore(self) -> None:
        if self.was_on:
            self.display.change_keyboard_control(auto_repeat_mode=X.AutoRepeatModeOn)
            self.display.sync()
        self.was_on = None

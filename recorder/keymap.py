"""The X keyboard map as the recorder reads it: keysyms per keycode, the AltGr and NumLock modifier bits.

Shared by the input listener (every key event is translated with it, kept current by the clients'
ChangeKeyboardMapping requests seen in the RECORD stream) and the start-state reader (keys already held
when recording began get the same names as the events that follow).
"""

from __future__ import annotations

from collections.abc import Sequence

import Xlib.display

from wf.recorder.keys import KeyInfo, translate

ALTGR_KEYSYMS = frozenset({0xFF7E, 0xFE03})  # Mode_switch, ISO_Level3_Shift
NUMLOCK_KEYSYMS = frozenset({0xFF7F})


class Keymap:
    """Keysyms per keycode and the modifier bits that change which keysym a key produces."""

    def __init__(self, rows: Sequence[Sequence[int]] = (), *, min_keycode: int = 8, altgr_mask: int = 0,
                 numlock_mask: int = 0) -> None:
        self.mapping: list[Sequence[int]] = [tuple(r) for r in rows]
        self.min_keycode = min_keycode
        self.altgr_mask = altgr_mask
        self.numlock_mask = numlock_mask

    @classmethod
    def read(cls, d: Xlib.display.Display) -> Keymap:
        km = cls()
        km.reload(d)
        return km

    def reload(self, d: Xlib.display.Display) -> None:
        self.min_keycode = d.display.info.min_keycode
        count = d.display.info.max_keycode - self.min_keycode + 1
        self.mapping = [tuple(row) for row in d.get_keyboard_mapping(self.min_keycode, count)]
        modmap = d.get_modifier_mapping()
        self.altgr_mask = self._mask_of(modmap, ALTGR_KEYSYMS)
        self.numlock_mask = self._mask_of(modmap, NUMLOCK_KEYSYMS)

    def _mask_of(self, modmap: Sequence[Sequence[int]], keysyms: frozenset[int]) -> int:
        mask = 0
        for index, keycodes in enumerate(modmap):
            for kc in keycodes:
                syms = self.keysyms(kc) if kc else ()
                if syms and syms[0] in keysyms:
                    mask |= 1 << index
        return mask

    def keysyms(self, keycode: int) -> Sequence[int]:
        i = keycode - self.min_keycode
        return self.mapping[i] if 0 <= i < len(self.mapping) else ()

    def apply_change(self, first: int, per: int, keysyms: Sequence[int]) -> None:
        """A client's ChangeKeyboardMapping: ``per`` keysyms for each keycode from ``first`` on."""
        for i in range(len(keysyms) // per):
            index = first + i - self.min_keycode
            if 0 <= index < len(self.mapping):
                self.mapping[index] = tuple(keysyms[i * per:(i + 1) * per])

    def key_info(self, keycode: int, state: int) -> KeyInfo:
        return translate(self.keysyms(keycode), state, altgr_mask=self.altgr_mask, numlock_mask=self.numlock_mask)

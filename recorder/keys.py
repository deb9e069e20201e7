"""X11 keycodes and keysyms to the names a bundle stores (pure: no display needed).

A key event carries four views of one key press:

* ``keycode`` — the physical key (X11 keycode, exact, from the event);
* ``keysym``  — the X keysym the key produced under the current Shift/Lock/AltGr/NumLock state;
* ``key``     — the pyautogui name of the symbol the key produced (docs/format.md): shift+1 is
  ``key='!', char='!'``; letters are lowercased because pyautogui's vocabulary has no capitals, so
  shift+a is ``key='a', char='A'`` and a hotkey reads ``ctrl+shift+t``. Keypad keys follow NumLock
  (``num7`` or ``home``). Unknown keysyms are named ``keysym_0x...``;
* ``char``    — the text the keysym stands for (``'!'``, ``'A'``, ``'\\n'`` for Return, ``'\\t'`` for Tab),
  or None for keys that type nothing. Modifiers such as ctrl are not applied: whether ctrl+c "types"
  is the action reducer's decision, it sees the ctrl press.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wf.bundle.keys import ALTGR_KEYSYMS

SHIFT_MASK = 1
LOCK_MASK = 2

# keysym -> pyautogui name for keys that do not type a printable character.
SPECIAL_NAMES: dict[int, str] = {
    0xFF08: "backspace", 0xFF09: "tab", 0xFE20: "tab", 0xFF0D: "enter", 0xFF13: "pause",
    0xFF14: "scrolllock", 0xFF1B: "esc", 0xFFFF: "delete", 0xFF50: "home", 0xFF51: "left",
    0xFF52: "up", 0xFF53: "right", 0xFF54: "down", 0xFF55: "pageup", 0xFF56: "pagedown",
    0xFF57: "end", 0xFF60: "select", 0xFF61: "printscreen", 0xFF62: "execute", 0xFF63: "insert",
    0xFF67: "apps", 0xFF6A: "help", 0xFF7F: "numlock", 0xFFE5: "capslock",
    0xFFE1: "shift", 0xFFE2: "shiftright", 0xFFE3: "ctrl", 0xFFE4: "ctrlright",
    0xFFE9: "alt", 0xFFEA: "altright", 0xFFE7: "alt", 0xFFE8: "altright",  # Meta_L/R
    0xFFEB: "win", 0xFFEC: "winright",
    0xFF8D: "enter", 0xFF80: "space", 0xFF89: "tab",
    0xFFAA: "multiply", 0xFFAB: "add", 0xFFAC: "separator", 0xFFAD: "subtract", 0xFFAE: "decimal",
    0xFFAF: "divide", 0xFFBD: "=",
    0xFF95: "home", 0xFF96: "left", 0xFF97: "up", 0xFF98: "right", 0xFF99: "down", 0xFF9A: "pageup",
    0xFF9B: "pagedown", 0xFF9C: "end", 0xFF9E: "insert", 0xFF9F: "delete",
    0x20: "space",
}
SPECIAL_NAMES.update({ks: "altright" for ks in ALTGR_KEYSYMS})  # AltGr: told from Alt_R by its keysym
SPECIAL_NAMES.update({0xFFBE + i: f"f{i + 1}" for i in range(24)})  # F1..F24
SPECIAL_NAMES.update({0xFFB0 + i: f"num{i}" for i in range(10)})  # KP_0..KP_9

# Keysyms that type something although they are not printable characters.
SPECIAL_CHARS: dict[int, str] = {0xFF0D: "\n", 0xFF0A: "\n", 0xFF8D: "\n", 0xFF09: "\t", 0xFE20: "\t", 0xFF89: "\t",
                                 0xFF80: " ", 0xFFAA: "*", 0xFFAB: "+", 0xFFAD: "-", 0xFFAE: ".",
                                 0xFFAF: "/", 0xFFBD: "="}
SPECIAL_CHARS.update({0xFFB0 + i: str(i) for i in range(10)})

def keysym_char(keysym: int) -> str | None:
    """The character a keysym types, or None."""
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if 0x01000100 <= keysym <= 0x0110FFFF:  # Unicode keysyms
        return chr(keysym - 0x01000000)
    if keysym in SPECIAL_CHARS:
        return SPECIAL_CHARS[keysym]
    return _legacy_char(keysym)


def _legacy_char(keysym: int) -> str | None:
    """Non-Latin-1 legacy keysyms (Cyrillic, Greek, €, ...) via pynput's keysym table, loaded on first use."""
    return _legacy_table().get(keysym)


@functools.cache
def _legacy_table() -> dict[int, str]:
    # The table is a pure data module, but importing it through the `pynput` package would import pynput's
    # X backends, which need a display: load the file on its own.
    table: dict[int, str] = {}
    pkg = importlib.util.find_spec("pynput")
    if pkg is None or not pkg.submodule_search_locations:
        return table
    path = Path(next(iter(pkg.submodule_search_locations))) / "_util" / "xorg_keysyms.py"
    spec = importlib.util.spec_from_file_location("wf_pynput_xorg_keysyms", path)
    if spec is None or spec.loader is None or not path.is_file():
        return table
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for ks, ch in getattr(module, "SYMBOLS", {}).values():
        if isinstance(ch, str) and len(ch) == 1 and ch.isprintable():
            table.setdefault(int(ks), ch)
    return table


def _lower(ks: int) -> int:
    if 0x41 <= ks <= 0x5A or (0xC0 <= ks <= 0xDE and ks != 0xD7):
        return ks + 0x20
    ch = keysym_char(ks) if ks >= 0x01000100 else None
    if ch and ch.lower() != ch and len(ch.lower()) == 1:
        return 0x01000000 + ord(ch.lower())
    return ks


def _upper(ks: int) -> int:
    if 0x61 <= ks <= 0x7A or (0xE0 <= ks <= 0xFE and ks != 0xF7):
        return ks - 0x20
    ch = keysym_char(ks) if ks >= 0x01000100 else None
    if ch and ch.upper() != ch and len(ch.upper()) == 1:
        return 0x01000000 + ord(ch.upper())
    return ks


def _is_cased(ks: int) -> bool:
    return _lower(ks) != _upper(ks)


def level_pair(keysyms: Sequence[int], group: int) -> tuple[int, int]:
    """(unshifted, shifted) keysyms of one group, following the X11 protocol's normalisation rules."""
    syms = list(keysyms)
    while syms and syms[-1] == 0:
        syms.pop()
    if not syms:
        return 0, 0
    if len(syms) == 1:
        syms = [syms[0], 0, syms[0], 0]
    elif len(syms) == 2:
        syms = [syms[0], syms[1], syms[0], syms[1]]
    elif len(syms) == 3:
        syms = [*syms, 0]
    base = 2 * group if len(syms) > 2 * group and any(syms[2 * group:2 * group + 2]) else 0
    lo, hi = syms[base], syms[base + 1] if len(syms) > base + 1 else 0
    if hi == 0:
        if _is_cased(lo):
            lo, hi = _lower(lo), _upper(lo)
        else:
            hi = lo
    return lo, hi


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key: str
    char: str | None
    keysym: int


def key_name(keysym: int) -> str:
    """pyautogui name of the symbol a key produced: letters lowercased (pyautogui has no 'A')."""
    name = SPECIAL_NAMES.get(keysym)
    if name is not None:
        return name
    ch = keysym_char(keysym)
    if ch is not None:
        return ch.lower() if len(ch.lower()) == 1 else ch
    return f"keysym_{keysym:#x}" if keysym else "unknown"


def translate(keysyms: Sequence[int], state: int, *, altgr_mask: int = 0, numlock_mask: int = 0) -> KeyInfo:
    """Name, typed character and effective keysym of a key with ``keysyms`` pressed in modifier ``state``."""
    group = 1 if altgr_mask and state & altgr_mask else 0
    lo, hi = level_pair(keysyms, group)
    shift = bool(state & SHIFT_MASK)
    if numlock_mask and state & numlock_mask and 0xFF80 <= hi <= 0xFFBD:
        ks = lo if shift else hi  # NumLock on: keypad keys type their digit unless shifted
    elif state & LOCK_MASK and _is_cased(lo):
        ks = lo if shift else hi
    else:
        ks = hi if shift else lo
    return KeyInfo(key=key_name(ks), char=keysym_char(ks), keysym=ks)

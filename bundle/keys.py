"""The one key vocabulary: what a recorded key press means, for every part of wf that reads key events.

The recorder's control chords and action starts, the action reducer, the typed-text rebuild of
`wf redact` and the replayer's text typing all decide with these tables and functions, so a key means the
same thing everywhere (the rules: docs/actions.md, "Keyboard").

Key names are pyautogui's, as the recorder stores them (docs/format.md): ``shift``/``shiftright``,
``ctrl``/``ctrlright``, ``alt``/``altright``, ``win``/``winright``. AltGr is recorded as ``altright`` too;
only its keysym (ISO_Level3_Shift or Mode_switch) tells it from a right Alt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Key names (pyautogui's, and the aliases other recorders and people write) → the canonical modifier.
MODIFIERS: dict[str, str] = {
    "shift": "shift", "shiftleft": "shift", "shiftright": "shift",
    "ctrl": "ctrl", "ctrlleft": "ctrl", "ctrlright": "ctrl", "control": "ctrl",
    "alt": "alt", "altleft": "alt", "altright": "alt", "meta": "alt", "option": "alt", "optionleft": "alt",
    "optionright": "alt",
    "win": "win", "winleft": "win", "winright": "win", "command": "win", "cmd": "win", "super": "win",
    "altgr": "altgr", "alt_gr": "altgr", "iso_level3_shift": "altgr",
}
# The order modifiers are written in a chord (``ctrl+alt+shift+s``, ``hotkey ctrl+shift+t``).
MODIFIER_ORDER: tuple[str, ...] = ("ctrl", "alt", "shift", "win", "altgr")
# Modifiers a control hotkey may use: AltGr is no chord key, it selects characters (and is named altright).
CHORD_MODIFIERS = frozenset({"ctrl", "alt", "shift", "win"})
# Modifiers that only select which character a key types: with them held a key still types text.
TEXT_MODIFIERS = frozenset({"shift", "altgr"})
# AltGr's keysyms: ISO_Level3_Shift and Mode_switch (both recorded as "altright"). Their effect is already in
# each key's `char`, so replaying them as keys would apply it twice.
ALTGR_KEYSYMS = frozenset({0xFE03, 0xFF7E})
# Lock keys are no steps: their effect is already in every key's `char` (write('A') with Caps Lock on types 'a').
LOCK_KEYS = frozenset({"capslock", "numlock", "scrolllock"})
# Characters typed with a key whose name is not the character: char -> (keysym, key name).
TEXT_KEYS: dict[str, tuple[int, str]] = {"\n": (0xFF0D, "enter"), "\t": (0xFF09, "tab"), "\b": (0xFF08, "backspace")}

TYPING_GAP = 1.0  # s between key presses that still belong to one type/key run
SCROLL_GAP = 0.5  # s between wheel notches that still belong to one scroll burst


def modifier_of(key: str) -> str | None:
    """The canonical modifier a key name stands for (``shiftright`` → ``shift``), or None."""
    return MODIFIERS.get(key.lower())


def held_modifier(key: str, keysym: int | None) -> str | None:
    """The modifier a recorded key press holds down: like :func:`modifier_of`, but AltGr by its keysym."""
    if keysym is not None and keysym in ALTGR_KEYSYMS:
        return "altgr"
    return modifier_of(key)


def chord(modifiers: Iterable[str]) -> tuple[str, ...]:
    """Canonical modifiers in chord order, each once."""
    held = set(modifiers)
    return tuple(m for m in MODIFIER_ORDER if m in held)


def is_lock(key: str) -> bool:
    return key.lower() in LOCK_KEYS


def is_text(char: str | None) -> bool:
    """Whether a key's ``char`` is text (Enter's "\\n" and Tab's "\\t" are not: they are keys)."""
    return bool(char and char.isprintable())


@dataclass(frozen=True, slots=True)
class KeyStep:
    """What a key press does: ``type`` text, press a ``key``, or a ``hotkey`` chord (``keys``: modifiers first)."""

    kind: str
    keys: tuple[str, ...] = ()


def key_step(key: str, char: str | None, held: tuple[str, ...]) -> KeyStep:
    """Classify a (non-modifier, non-lock) key press given the held modifiers (a :func:`chord`).

    A printable ``char`` with at most Shift/AltGr held is text; anything else is a key or, with modifiers
    held, a hotkey. Letters are lowercase in ``keys`` (pyautogui has no 'A').
    """
    if is_text(char) and not set(held) - TEXT_MODIFIERS:
        return KeyStep("type")
    name = key.lower() if len(key) == 1 and key.isalpha() else key
    return KeyStep("hotkey" if held else "key", (*held, name))

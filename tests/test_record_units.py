"""The recorder's pure parts: key translation, control-chord removal, action starts, exclusion rules."""

from __future__ import annotations

import pytest

from wf.bundle.errors import BadInput
from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.recorder.control import ChordFilter, Control, Hotkey
from wf.recorder.detect import ActionDetector
from wf.recorder.exclusion import ExclusionRules
from wf.recorder.keys import level_pair, translate

# Rows of Xvfb's default US keymap (keycode -> keysyms), as get_keyboard_mapping returns them.
ONE = (0x31, 0x21, 0x31, 0x21)
A = (0x61, 0x41, 0x61, 0x41)
RETURN = (0xFF0D, 0, 0xFF0D, 0)
TAB = (0xFF09, 0xFE20, 0xFF09, 0xFE20)
KP7 = (0xFF95, 0xFFB7, 0xFF95, 0xFFB7)
SHIFT_L = (0xFFE1, 0, 0xFFE1, 0)
F5 = (0xFFC2, 0, 0xFFC2, 0)
ALTGR_E = (0x65, 0x45, 0x20AC, 0)  # e E € (a group-2 level like de/fr layouts)


@pytest.mark.parametrize(("syms", "state", "key", "char"), [
    (ONE, 0, "1", "1"),
    (ONE, 1, "!", "!"),  # shift: the produced symbol, as in docs/format.md
    (A, 0, "a", "a"),
    (A, 1, "a", "A"),  # letters stay lowercase (pyautogui has no 'A'); char keeps the case
    (A, 2, "a", "A"),  # caps lock
    (A, 3, "a", "a"),  # caps lock + shift
    (ONE, 2, "1", "1"),  # caps lock does not shift digits
    (RETURN, 0, "enter", "\n"),
    (TAB, 1, "tab", "\t"),  # ISO_Left_Tab is still tab
    (KP7, 0, "home", None),
    (KP7, 16, "num7", "7"),  # NumLock (mod2 here)
    (SHIFT_L, 0, "shift", None),
    (F5, 0, "f5", None),
])
def test_translate_us_keymap(syms: tuple[int, ...], state: int, key: str, char: str | None) -> None:
    info = translate(syms, state, altgr_mask=0x80, numlock_mask=16)
    assert (info.key, info.char) == (key, char)


def test_translate_altgr_group() -> None:
    info = translate(ALTGR_E, 0x80, altgr_mask=0x80)
    assert info.char == "€" and info.keysym == 0x20AC


def test_level_pair_normalises_single_keysym_letters() -> None:
    assert level_pair((0x61,), 0) == (0x61, 0x41)
    assert level_pair((0xFF0D,), 0) == (0xFF0D, 0xFF0D)
    assert level_pair((), 0) == (0, 0)


def kd(t: float, key: str, kc: int, char: str | None = None) -> KeyDown:
    return KeyDown(t=t, key=key, char=char, keycode=kc)


def ku(t: float, key: str, kc: int, char: str | None = None) -> KeyUp:
    return KeyUp(t=t, key=key, char=char, keycode=kc)


STOP = {"stop": Hotkey.parse("ctrl+alt+shift+s"), "mark": Hotkey.parse("f12")}


def feed_all(f: ChordFilter, events: list) -> list:
    out = []
    for e in events:
        out.extend(f.feed(e))
    return out + f.flush()


def test_chord_is_removed_entirely() -> None:
    evs = [kd(1, "ctrl", 37), kd(1.1, "alt", 64), kd(1.2, "shift", 50), kd(1.3, "s", 39, "S"),
           ku(1.4, "s", 39, "S"), ku(1.5, "shift", 50), ku(1.6, "alt", 64), ku(1.7, "ctrl", 37)]
    out = feed_all(ChordFilter(STOP), evs)
    assert out == [Control("stop", 1.3)]


def test_shifted_typing_passes_through_in_order() -> None:
    evs = [kd(1, "shift", 50), kd(1.1, "h", 43, "H"), ku(1.2, "h", 43, "H"), ku(1.3, "shift", 50),
           MouseMove(t=1.4, x=1, y=2)]
    assert feed_all(ChordFilter(STOP), evs) == evs


def test_ctrl_c_and_ctrl_click_are_kept() -> None:
    evs = [kd(1, "ctrl", 37), MouseMove(t=1.05, x=3, y=3), kd(1.1, "c", 54, "c"), ku(1.2, "c", 54, "c"),
           MouseDown(t=1.3, x=3, y=3, button="left"), MouseUp(t=1.4, x=3, y=3, button="left"),
           ku(1.5, "ctrl", 37)]
    assert feed_all(ChordFilter(STOP), evs) == evs


def test_single_key_hotkey_and_modifier_held_before_chord() -> None:
    evs = [kd(0.5, "shift", 50), kd(0.6, "a", 38, "A"), kd(1, "ctrl", 37), kd(1.1, "alt", 64),
           kd(1.2, "s", 39, "S"), ku(1.3, "s", 39), ku(1.4, "alt", 64), ku(1.5, "ctrl", 37),
           ku(1.6, "shift", 50), kd(2, "f12", 96), ku(2.1, "f12", 96)]
    out = feed_all(ChordFilter(STOP), evs)
    # shift was pressed for typing before the chord began: its press and release both stay
    assert out == [evs[0], evs[1], Control("stop", 1.2), evs[8], Control("mark", 2)]


@pytest.mark.parametrize("spec", ["", "ctrl+", "foo+s", "ctrl+shift"])
def test_bad_hotkeys(spec: str) -> None:
    with pytest.raises(BadInput):
        Hotkey.parse(spec, option="--stop-key")


def test_hotkey_normalises_modifier_names() -> None:
    assert str(Hotkey.parse("Shift+Control+Super+x")) == "ctrl+shift+win+x"


def test_action_starts() -> None:
    d = ActionDetector()
    seq = [
        (MouseMove(t=0, x=1, y=1), False),
        (MouseDown(t=0.1, x=1, y=1, button="left"), True),
        (MouseUp(t=0.2, x=1, y=1, button="left"), False),
        (kd(0.3, "shift", 50), False),
        (kd(0.31, "h", 43, "H"), True),  # typing starts
        (ku(0.32, "h", 43, "H"), False),
        (ku(0.33, "shift", 50), False),
        (kd(0.4, "i", 31, "i"), False),  # same run
        (kd(0.45, "i", 31, "i"), False),  # auto-repeat
        (kd(2.0, "x", 53, "x"), True),  # after a pause: a new typing action
        (kd(2.1, "up", 111), True),  # a navigation key
        (kd(2.2, "down", 116), True),
        (kd(2.3, "down", 116), False),  # auto-repeat of the same key
        (kd(2.4, "ctrl", 37), False),
        (kd(2.5, "c", 54, "c"), True),  # hotkey
        (Scroll(t=3, x=1, y=1, dx=0, dy=1), True),
        (Scroll(t=3.1, x=1, y=1, dx=0, dy=1), False),  # same burst
        (Scroll(t=4, x=1, y=1, dx=0, dy=-1), True),  # a new burst
    ]
    assert [d.starts_action(e) for e, _ in seq] == [want for _, want in seq]


def test_exclusion_rules() -> None:
    rules = ExclusionRules.parse(["vault", "^KeePass"])
    assert rules.matches("My Secret Vault", None)
    assert rules.matches("x", "keepassxc.KeePassXC")
    assert not rules.matches("xterm", "xterm.XTerm")
    assert not ExclusionRules.parse([]).matches("anything", None)
    with pytest.raises(BadInput):
        ExclusionRules.parse(["("])

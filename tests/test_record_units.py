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
        (kd(0.5, "enter", 36, "\n"), True),  # Enter is a key, not text
        (kd(0.6, "j", 44, "j"), True),  # typing again after it
        (kd(0.7, "backspace", 22), True),  # Backspace ends the type run
        (ku(0.71, "backspace", 22), False),
        (kd(0.8, "backspace", 22), False),  # ... and repeats of it are one step
        (kd(2.0, "x", 53, "x"), True),  # after a pause: a new typing action
        (kd(2.1, "up", 111), True),  # a navigation key
        (kd(2.2, "down", 116), True),
        (kd(2.3, "down", 116), False),  # auto-repeat of the same key
        (kd(2.35, "capslock", 66), False),  # lock keys are never steps
        (kd(2.4, "ctrl", 37), False),
        (kd(2.5, "c", 54, "c"), True),  # hotkey
        (ku(2.55, "c", 54, "c"), False),
        (kd(2.6, "c", 54, "c"), False),  # the same chord again within the gap: one step, count 2
        (kd(2.7, "v", 55, "v"), True),  # another chord
        (ku(2.8, "ctrl", 37), False),
        (KeyDown(t=2.9, key="altright", keysym=0xFE03, keycode=92), False),  # AltGr selects characters
        (kd(2.95, "€", 26, "€"), True),  # ... so AltGr+e is text, not a hotkey
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


# -- the input hot path, fed with synthetic RECORD data (no display) ----------------------------------

def _xevent(xtype: int, detail: int, ms: int, x: int = 0, y: int = 0, state: int = 0) -> bytes:
    from wf.recorder.input import _EVENT

    return _EVENT.pack(xtype, detail, 0, ms, 1, 1, 0, x, y, x, y, state, 1)


def _capture(capacity: int = 1000):
    import time

    from wf.recorder.input import InputCapture
    from wf.recorder.keymap import Keymap

    cap = InputCapture(time.monotonic() - 10, capacity=capacity)  # t stays positive when spread back
    cap.keymap = Keymap([A, ONE, SHIFT_L], min_keycode=8)  # keycodes 8, 9, 10
    return cap


def test_batch_is_spread_by_server_time_and_kept_in_order() -> None:
    cap = _capture()
    cap._on_batch(_xevent(6, 0, 1000, 5, 6) + _xevent(4, 1, 1040, 5, 6) + _xevent(5, 1, 1100, 5, 6), False)
    raws = cap.drain_raw()
    assert [r[1] for r in raws] == [6, 4, 5]
    ts = [r[0] for r in raws]
    assert abs((ts[2] - ts[0]) - 0.1) < 1e-6 and abs((ts[1] - ts[0]) - 0.04) < 1e-6
    cap._on_batch(_xevent(6, 0, 900, 1, 1), False)  # a late batch can never go back in time
    assert cap.drain_raw()[0][0] >= ts[2]


def test_full_queue_counts_drops_instead_of_blocking() -> None:
    cap = _capture(capacity=3)
    cap._on_batch(b"".join(_xevent(6, 0, 10 + i, i, i) for i in range(5)), False)
    assert cap.pending() == 3 and cap.dropped == 2
    assert [(e.x, e.y) for e in cap.drain()] == [(0, 0), (1, 1), (2, 2)]


def test_buttons_wheel_and_key_pairing() -> None:
    cap = _capture()
    data = [
        _xevent(4, 3, 1, 7, 8), _xevent(5, 3, 2, 7, 8),  # right click
        _xevent(4, 4, 3, 7, 8), _xevent(5, 4, 4, 7, 8),  # wheel up (release ignored)
        _xevent(4, 7, 5, 7, 8), _xevent(4, 8, 6, 7, 8),  # wheel right, back button
        _xevent(2, 10, 7), _xevent(2, 9, 8, state=1),  # shift down, '1' down with shift held -> '!'
        _xevent(3, 10, 9, state=1), _xevent(3, 9, 10),  # shift up, then '1' up without shift
    ]
    cap._on_batch(b"".join(data), False)
    evs = cap.drain()
    assert [type(e).__name__ for e in evs] == ["MouseDown", "MouseUp", "Scroll", "Scroll", "MouseDown",
                                               "KeyDown", "KeyDown", "KeyUp", "KeyUp"]
    assert (evs[0].button, evs[2].dy, evs[3].dx, evs[4].button) == ("right", 1, 1, "back")
    bang_down, bang_up = evs[6], evs[8]
    assert (bang_down.key, bang_down.char, bang_down.keycode) == ("!", "!", 9)
    assert (bang_up.key, bang_up.char, bang_up.keysym) == ("!", "!", 0x21)  # paired with its press


# -- screens and windows ----------------------------------------------------------------------------

def _frame(seq: int, captured: float, changed: float):
    from wf.recorder.screens import Frame

    return Frame(seq=seq, captured=captured, bgra=b"\0" * 16, width=2, height=2, x=0, y=0, raw_hash=seq,
                 changed=changed)


def test_pre_frame_is_the_last_stable_frame_strictly_before() -> None:
    from wf.recorder.screens import ScreenCapture

    cap = ScreenCapture(0.0)
    for f in (_frame(0, 0.0, 1.0), _frame(1, 0.2, 0.0), _frame(2, 0.4, 0.3), _frame(3, 0.6, 0.0)):
        cap.frames.append(f)
    assert cap.pre_frame(0.6).seq == 1  # frame 3 is not strictly before; frame 2 was mid-change
    assert cap.pre_frame(0.61).seq == 3
    assert cap.pre_frame(0.1).seq == 0  # nothing stable before: the newest frame before
    assert cap.pre_frame(0.0) is None


def test_exclusion_looks_at_both_sides_of_an_event() -> None:
    from wf.recorder.windows import FocusChange, WindowInfo, WindowTracker

    tr = WindowTracker(0.0, ExclusionRules.parse(["vault"]))
    win = WindowInfo(1, "my vault", None, None, 0, 0, 10, 10)
    other = WindowInfo(2, "xterm", None, None, 0, 0, 10, 10)
    for t, w, ex in ((0.0, other, False), (1.0, win, True), (2.0, other, False)):
        tr._changes.append(FocusChange(t, w, ex))
        tr._times.append(t)
    assert not tr.excluded_around(0.5)
    assert tr.excluded_around(0.95)  # the poll right after saw the excluded window: redact
    assert tr.excluded_around(1.5)
    assert not tr.excluded_around(2.5)
    assert [c.window.title for c in tr.changes_between(0.5, 2.0)] == ["my vault", "xterm"]


def test_keymap_change_requests_apply_in_stream_order() -> None:
    import struct

    cap = _capture()

    def mapping(keycode: int, *keysyms: int) -> bytes:  # a client's ChangeKeyboardMapping request
        n = len(keysyms)
        return struct.pack(f"=BBHBBxx{n}I", 100, 1, 2 + n, keycode, n, *keysyms)

    cap._on_mapping_request(mapping(8, 0x20AC), False)  # bind € to keycode 8 (was 'a')
    cap._on_batch(_xevent(2, 8, 1), False)
    cap._on_mapping_request(mapping(8, 0), False)  # unbind before the release, as xdotool does
    cap._on_batch(_xevent(3, 8, 2) + _xevent(2, 9, 3), False)
    down, up, one = cap.drain()
    assert (down.char, down.keysym, up.char) == ("€", 0x20AC, "€")
    assert one.char == "1"


def test_status_line_says_elapsed_events_screens_bytes_and_disk_left() -> None:
    from wf.cli.record import _status_line
    from wf.recorder.session import Status

    line = _status_line(Status(elapsed=3725.0, events=1200, screens=34, bytes=5_000_000,
                               disk_free=12_000_000_000)).plain
    assert line.startswith("● rec 1:02:05 · 1200 events · 34 screens ·") and line.endswith("free")
    assert "free" not in _status_line(Status(elapsed=5.0)).plain  # not measured yet: not shown


def test_focus_history_stays_bounded_and_a_move_is_a_geometry_change() -> None:
    from wf.recorder.exclusion import ExclusionRules
    from wf.recorder.focus import FocusHistory, WindowInfo

    h = FocusHistory(ExclusionRules(), keep=60.0)
    for i in range(10_000):  # a window dragged for ~17 minutes at 10 polls a second
        h.observe(i * 0.1, WindowInfo(1, "term", "xterm.XTerm", 5, i % 500, 0, 100, 100))
    changes = h.changes_between(-1, 1e9)
    assert len(changes) < 700 and all(c.kind == "geometry" for c in changes[1:])
    last = h.at(1e9)
    assert last is not None and last.window is not None and last.window.x == 9999 % 500

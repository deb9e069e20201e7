"""The desktop's state when input capture begins (the header's ``start``): what replay must restore first.

Read once over a short-lived X connection, after the `start` screen and right before the input listener
starts, so that the first recorded event follows it. Each item is read on its own: one that cannot be read
is None (it never means "nothing"). Keys already held are named with the recorder's key translation
(keymap.py) and handed to the input listener, so their releases carry the same identity.

Lock state: Caps Lock is the core Lock modifier and Num Lock the modifier Num_Lock is bound to, i.e. the
state that decides what the next key types (checked on Xvfb by toggling each with XTest:
tests/test_record_start.py). Scroll Lock changes no modifier; its state is the keyboard's third LED, which
XKB's default keymap drives from the keyboard group, not from the Scroll_Lock key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import Xlib.display
import Xlib.error
import Xlib.X

from wf.bundle.events import Button, HeldKey, Locks, StartState, WindowState
from wf.recorder.focus import WindowInfo
from wf.recorder.keymap import Keymap
from wf.recorder.keys import KeyInfo
from wf.recorder.windows import WindowProbe

POINTER_BUTTONS: tuple[tuple[int, Button], ...] = (
    (Xlib.X.Button1Mask, "left"), (Xlib.X.Button2Mask, "middle"), (Xlib.X.Button3Mask, "right"))
SCROLL_LOCK_LED = 1 << 2  # LED 3: "Scroll Lock" in the XKB indicator maps
T = TypeVar("T")


def window_state(w: WindowInfo) -> WindowState:
    return WindowState(title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id, x=w.x, y=w.y, width=w.width,
                       height=w.height)


def held_keycodes(keymap_bits: bytes | list[int]) -> list[int]:
    """Keycodes set in a QueryKeymap reply (32 bytes, bit ``k % 8`` of byte ``k // 8``)."""
    return [i * 8 + b for i, byte in enumerate(keymap_bits) for b in range(8) if byte >> b & 1]


def _try(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
        return None


OnHeld = Callable[[list[tuple[int, KeyInfo]], list[int]], None]  # keys (keycode, identity), X buttons


def read_start_state(display: str | None, on_held: OnHeld | None = None) -> StartState:
    """Pointer, buttons, keys and locks held, focus, window manager and windows, as they are now."""
    probe = WindowProbe(display)
    try:
        d: Xlib.display.Display = probe.d
        pointer = _try(probe.root.query_pointer)
        keymap = _try(lambda: Keymap.read(d))
        bits = _try(d.query_keymap)
        mask = pointer.mask if pointer is not None else 0
        held: list[tuple[int, KeyInfo]] = []
        if keymap is not None and bits is not None:
            held = [(kc, keymap.key_info(kc, mask)) for kc in held_keycodes(list(bits))]
        if on_held is not None:
            on_held(held, [n for n, (bit, _) in enumerate(POINTER_BUTTONS, 1) if mask & bit])
        leds = _try(lambda: d.get_keyboard_control().led_mask)
        locks = None
        if pointer is not None and keymap is not None:
            num = bool(mask & keymap.numlock_mask) if keymap.numlock_mask else bool((leds or 0) & 2)
            locks = Locks(caps=bool(mask & Xlib.X.LockMask), num=num, scroll=bool((leds or 0) & SCROLL_LOCK_LED))
        focus = probe.focused()
        windows = _try(probe.stacking)
        return StartState(
            pointer=(pointer.root_x, pointer.root_y) if pointer is not None else None,
            buttons=[name for bit, name in POINTER_BUTTONS if mask & bit],
            keys=[HeldKey(key=info.key, keysym=info.keysym, keycode=kc) for kc, info in held],
            locks=locks,
            focus=window_state(focus) if focus is not None else None,
            window_manager=_try(probe.window_manager),
            windows=[window_state(w) for w in windows or []],
        )
    finally:
        probe.close()

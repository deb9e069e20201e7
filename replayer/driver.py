"""Driver sinks: where planned input events go.

``XDriver`` injects into a live X display: pointer motion through pyautogui
(PAUSE 0, no tweening, its fail-safe replaced by our own unexpected-input
check); buttons, wheel notches and keys through XTest on our own connection,
keys by exact keycode. (pyautogui's mouseDown/scroll first re-send a motion to
the current position — an event the recording never had — so they are not used.) ``RecordingSink``
keeps the calls (unit tests), ``PrintSink`` writes an event-level pyautogui
program (``--dry-run``). Every sink tracks what it holds so ``release_all``
can let go of it all when replay stops for any reason.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from Xlib import X
from Xlib import display as xdisplay
from Xlib.ext.xtest import fake_input

from wf.bundle.errors import EnvironmentProblem, Interrupted
from wf.bundle.events import Button, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.replayer.keyboard import KeyMapper
from wf.replayer.plan import InputEvent, key_identity

X_BUTTONS = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}


class ReplayAborted(Interrupted):
    """Somebody else used the pointer during a replay on a real display: stop at once."""


class Pyautogui(Protocol):
    """The part of the pyautogui module the driver calls; the module itself is the implementation."""

    def moveTo(self, x: int, y: int, *, _pause: bool = ...) -> None: ...
    def keyDown(self, key: str, *, _pause: bool = ...) -> None: ...
    def keyUp(self, key: str, *, _pause: bool = ...) -> None: ...


@dataclass
class Held:
    """What is pressed right now: keys by identity (with the event to release), buttons by name."""

    keys: dict[object, KeyDown] = field(default_factory=dict)
    buttons: dict[Button, tuple[int, int]] = field(default_factory=dict)

    def note(self, e: InputEvent) -> None:
        if isinstance(e, KeyDown):
            self.keys[key_identity(e)] = e
        elif isinstance(e, KeyUp):
            self.keys.pop(key_identity(e), None)
        elif isinstance(e, MouseDown):
            self.buttons[e.button] = (e.x, e.y)
        elif isinstance(e, MouseUp):
            self.buttons.pop(e.button, None)

    def releases(self) -> list[InputEvent]:
        out: list[InputEvent] = [KeyUp(t=0.0, key=k.key, char=k.char, keysym=k.keysym, keycode=k.keycode)
                                 for k in reversed(list(self.keys.values()))]
        out += [MouseUp(t=0.0, x=x, y=y, button=b) for b, (x, y) in self.buttons.items()]
        return out


class RecordingSink:
    """Keeps every event it is sent, with the monotonic time it arrived (tests, schedule checks)."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, InputEvent]] = []
        self.held = Held()
        self.released: list[InputEvent] = []

    def send(self, e: InputEvent) -> None:
        self.sent.append((time.monotonic(), e))
        self.held.note(e)

    def release_all(self) -> None:
        self.released = self.held.releases()
        self.held = Held()

    def close(self) -> None:
        pass


class PrintSink:
    """Writes the replay as a standalone pyautogui program (``--dry-run`` at the events level)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last_at = 0.0
        self.out.write("import time\nimport pyautogui\n\npyautogui.PAUSE = 0\n\n")

    def wait(self, at: float) -> None:
        gap = at - self.last_at
        if gap >= 0.0005:
            self.out.write(f"time.sleep({gap:.3f})\n")
        self.last_at = at

    def send(self, e: InputEvent) -> None:
        self.out.write(event_code(e) + "\n")

    def release_all(self) -> None:
        pass

    def close(self) -> None:
        self.out.flush()


def event_code(e: InputEvent) -> str:
    """One event as a pyautogui call (key events by pyautogui name; the real driver uses keycodes)."""
    if isinstance(e, MouseMove):
        return f"pyautogui.moveTo({e.x}, {e.y})"
    if isinstance(e, MouseDown):
        return f"pyautogui.mouseDown({e.x}, {e.y}, button={e.button!r})"
    if isinstance(e, MouseUp):
        return f"pyautogui.mouseUp({e.x}, {e.y}, button={e.button!r})"
    if isinstance(e, Scroll):
        parts = []
        if e.dy:
            parts.append(f"pyautogui.scroll({e.dy}, {e.x}, {e.y})")
        if e.dx:
            parts.append(f"pyautogui.hscroll({e.dx}, {e.x}, {e.y})")
        return "; ".join(parts) or f"pyautogui.moveTo({e.x}, {e.y})"
    kind = "keyDown" if isinstance(e, KeyDown) else "keyUp"
    return f"pyautogui.{kind}({e.key!r})"


def open_pyautogui(display_name: str) -> Pyautogui:
    """Import pyautogui bound to ``display_name`` (it opens its X connection at import time, so only here)."""
    os.environ["DISPLAY"] = display_name
    try:
        import pyautogui
        from pyautogui import _pyautogui_x11 as px  # type: ignore[attr-defined]  # private module, not in the stubs
    except Exception as exc:  # Xlib raises assorted errors when the display is unusable
        raise EnvironmentProblem(f"cannot use display {display_name} for input: {exc}",
                                 hint="is an X server running there and is DISPLAY right?") from None
    bound = px._display.get_display_name()
    if bound != display_name:
        raise EnvironmentProblem(f"pyautogui is already bound to display {bound}, not {display_name}",
                                 hint="run each replay in its own process")
    pyautogui.PAUSE = 0
    # Its corner fail-safe would fire on legitimate recorded moves to (0, 0); the replayer aborts
    # on any pointer motion it did not cause instead (see XDriver.check_pointer).
    pyautogui.FAILSAFE = False
    pyautogui.MINIMUM_DURATION = 0
    return pyautogui


class XDriver:
    """Injects events into the X display ``display_name``: pyautogui for the pointer, XTest for keys."""

    def __init__(self, display_name: str) -> None:
        self.pg = open_pyautogui(display_name)
        self.x = xdisplay.Display(display_name)
        if not self.x.has_extension("XTEST"):
            raise EnvironmentProblem(f"display {display_name} has no XTEST extension",
                                     hint="start the X server with +extension XTEST")
        self.keys = KeyMapper(self.x)
        self.held = Held()
        self.down: set[int] = set()  # keycodes we pressed and have not released
        self.pos: tuple[int, int] | None = None
        self.injected_at: list[float] = []  # monotonic time each send() completed (the server had it)

    def send(self, e: InputEvent) -> None:
        self._inject(e)
        self.injected_at.append(time.monotonic())
        self.held.note(e)

    def _inject(self, e: InputEvent) -> None:
        pg = self.pg
        if isinstance(e, MouseMove):
            pg.moveTo(e.x, e.y, _pause=False)
            self.pos = (e.x, e.y)
        elif isinstance(e, MouseDown | MouseUp):
            self._move_if_needed(e.x, e.y)
            fake_input(self.x, X.ButtonPress if isinstance(e, MouseDown) else X.ButtonRelease,
                       X_BUTTONS[e.button])
            self.x.sync()
        elif isinstance(e, Scroll):
            self._move_if_needed(e.x, e.y)
            for button, notches in ((4 if e.dy > 0 else 5, abs(e.dy)), (7 if e.dx > 0 else 6, abs(e.dx))):
                for _ in range(notches):
                    fake_input(self.x, X.ButtonPress, button)
                    fake_input(self.x, X.ButtonRelease, button)
            self.x.sync()
        else:
            kc = self.keys.keycode(e)
            if kc is None:  # no keycode for it anywhere: let pyautogui try its name
                (pg.keyDown if isinstance(e, KeyDown) else pg.keyUp)(e.key, _pause=False)
                return
            if isinstance(e, KeyDown) and kc in self.down:
                # A recorded autorepeat. The X server drops an injected press of a key that is already down
                # (XKB only repeats by its own timer, which is off for the replay), so replay it the way
                # core clients see autorepeat anyway: a release and a press at the recorded time.
                fake_input(self.x, X.KeyRelease, kc)
                fake_input(self.x, X.KeyPress, kc)
            else:
                fake_input(self.x, X.KeyPress if isinstance(e, KeyDown) else X.KeyRelease, kc)
            self.x.sync()
            if isinstance(e, KeyDown):
                self.down.add(kc)
            else:
                self.down.discard(kc)

    def _move_if_needed(self, x: int, y: int) -> None:
        if self.pos != (x, y):
            self.pg.moveTo(x, y, _pause=False)
            self.pos = (x, y)

    def pointer(self) -> tuple[int, int]:
        p = self.x.screen().root.query_pointer()
        return int(p.root_x), int(p.root_y)

    def check_pointer(self, tolerance: int = 2) -> tuple[int, int] | None:
        """Where the pointer is if somebody else moved it away from where we left it, else None."""
        if self.pos is None:
            return None
        px, py = self.pointer()
        if abs(px - self.pos[0]) > tolerance or abs(py - self.pos[1]) > tolerance:
            return px, py
        return None

    def ensure_hands_off(self, tolerance: int = 2) -> None:
        """Stop the replay at once when somebody else moved the pointer (on a display people use)."""
        moved = self.check_pointer(tolerance)
        if moved is not None:
            raise ReplayAborted(f"replay aborted: the pointer was moved to {moved} by someone else",
                                hint="keep hands off the mouse during a replay, or use --xvfb")

    def release_all(self) -> None:
        for e in self.held.releases():
            with contextlib.suppress(Exception):  # releasing the rest matters more than one failure
                self._inject(e)
        self.held = Held()

    def close(self) -> None:
        try:
            self.keys.restore()
        finally:
            self.x.close()

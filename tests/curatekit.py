"""Recorded pairs of sessions doing one task on the fixture app: a direct one, and one with planted noise.

The task: click Increment, click the entry, type "hello", click Open, click Confirm. The noisy session
does the same, plus what the quality measures must catch, each planted a known number of times:
aimless pointer wandering (two tours), clicks on empty background (``DEAD_CLICKS``), a typo corrected
with Backspace, a pause in the middle of typing a word (``HESITATIONS``) and a long idle pause
(``IDLE_SECONDS``). Both end in the same app state.

The entry's caret does not blink (``--steady-caret``): this recorder writes no ``volatile`` events yet, so
a blinking caret would make every step after the entry's click look as if it changed the screen.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from test_record import recording
from xrig import FIXTURES, Display

INCREMENT = (100, 40)
ENTRY = (200, 235)
OPEN = (100, 140)
CONFIRM = (300, 140)  # shown by Open
# Empty background of the fixture app: between the widgets, where a click does nothing.
BACKGROUND = ((300, 95), (100, 95), (100, 192))
DEAD_CLICKS = len(BACKGROUND)
IDLE_SECONDS = 6.0
HESITATIONS = 1  # "he" … "lo": a pause of ~0.65 s, inside one typing run (runs break after 1 s)
WANDER = ((350, 290), (60, 100), (390, 95), (210, 200), (30, 300), (400, 20), (150, 110), (330, 250),
          (50, 200), (260, 100), (120, 300), (380, 180))
SETTLE = 0.7  # s: long enough at --fps 10 for a stable frame before each press and after it


@dataclass(frozen=True)
class Session:
    bundle: Path
    state: dict[str, object]


def _click(d: Display, at: tuple[int, int]) -> None:
    d.xdotool("mousemove", *at)
    time.sleep(SETTLE)
    d.xdotool("click", 1)
    time.sleep(SETTLE)


def _wander(d: Display, points: tuple[tuple[int, int], ...]) -> None:
    for x, y in points:  # 40 ms apart: the pointer never rests long enough to be a hover step
        d.xdotool("mousemove", x, y)
        time.sleep(0.04)


def _type(d: Display, text: str) -> None:
    d.xdotool("type", "--delay", "80", text)
    time.sleep(SETTLE)


@contextmanager
def fixture_app(d: Display, out: Path) -> Iterator[Path]:
    """The fixture app (steady caret) running on ``d``, the pointer in it; yields its state file."""
    state = out.parent / f"{out.name}.state.json"
    app = d.launch([sys.executable, str(FIXTURES / "app.py"), "--state", str(state), "--steady-caret"])
    try:
        d.wait_window("--name", "wf fixture")
        d.xdotool("mousemove", 390, 300)  # into the app: without a window manager focus follows the pointer
        time.sleep(0.8)
        yield state
    finally:
        app.terminate()
        app.wait(10)


def record_task(d: Display, out: Path, *, noisy: bool) -> Session:
    with fixture_app(d, out) as state, recording(d, out, "--fps", "10", "--task", "count, greet, confirm") as rec:
        if noisy:
            _wander(d, WANDER)
            _click(d, BACKGROUND[0])
        _click(d, INCREMENT)
        if noisy:
            _click(d, BACKGROUND[1])
        _click(d, ENTRY)
        if noisy:
            d.xdotool("type", "--delay", "80", "he")
            time.sleep(0.55)
            _type(d, "lo")  # "helo": a typo
            d.xdotool("key", "BackSpace")
            time.sleep(SETTLE)
            _type(d, "lo")
            time.sleep(IDLE_SECONDS)
            _wander(d, WANDER[::-1])
            _click(d, BACKGROUND[2])
        else:
            _type(d, "hello")
        _click(d, OPEN)
        _click(d, CONFIRM)
        assert rec.stop(signal.SIGTERM) == 0, rec.stderr
    return Session(out, json.loads(state.read_text()))


MARK_KEY = "ctrl+alt+shift+m"  # wf record's default mark hotkey


def record_marked(d: Display, out: Path) -> Session:
    """Three tasks in one recording, two marks between them (each step < 2 s from the next: no waits)."""
    with fixture_app(d, out) as state, recording(d, out, "--fps", "10") as rec:
        _click(d, INCREMENT)
        d.xdotool("key", MARK_KEY)
        _click(d, ENTRY)
        _type(d, "hi")
        d.xdotool("key", MARK_KEY)
        _click(d, OPEN)
        _click(d, CONFIRM)
        assert rec.stop(signal.SIGTERM) == 0, rec.stderr
    return Session(out, json.loads(state.read_text()))

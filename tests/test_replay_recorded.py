"""The desktop replay scenarios end to end with the real recorder: `wf record` (its start state, window
events and volatile regions), then a plain `wf replay` — real Xvfb, real apps, xdotool input, with and
without openbox.

The recorder writes what these rely on: the header's ``start``, ``volatile`` events and ``window`` events
for moves (format 1.1).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from desktopkit import (
    NoMarks,
    app_cmd,
    client_origin,
    fixture_session,
    items,
    read_state,
    replay,
    wait_bytes,
    xterm_cat,
)
from reliability_kit import RecorderProc
from xrig import Display, require

from wf.bundle.events import KeyDown, MouseMove, Volatile
from wf.bundle.reader import Bundle

pytestmark = [pytest.mark.display, pytest.mark.slow]


def record(d: Display, out: Path, script: Callable[[], None], *args: str) -> Bundle:
    """`wf record` while ``script`` drives the display; stopped like Ctrl+C would."""
    rec = RecorderProc(out, d.env(), *args)
    time.sleep(0.5)
    try:
        script()
        time.sleep(0.5)
    finally:
        rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    b = Bundle.open(out)
    assert b.header.start is not None, "wf record wrote no start state"
    return b


def test_recorded_typing_without_the_mouse_replays_byte_identical(new_display: Callable[..., Display],
                                                                   tmp_path: Path) -> None:
    require("xterm")
    d = new_display()
    rec_out, rep_out = tmp_path / "rec.txt", tmp_path / "rep.txt"
    d.launch(xterm_cat(rec_out))
    d.wait_window("--class", "xterm")
    time.sleep(0.8)
    d.xdotool("mousemove", 120, 60)
    text = "typed by a person who never touched the mouse"

    def script() -> None:
        d.xdotool("type", "--delay", "30", text)
        d.xdotool("key", "--delay", "30", "Return", "ctrl+d")

    b = record(d, tmp_path / "b", script)
    assert b.header.start is not None and b.header.start.pointer == (120, 60)
    assert not any(isinstance(e, MouseMove) for e in b.events())
    assert wait_bytes(rec_out) == (text + "\n").encode()
    code, report, err = replay(tmp_path / "b", "--launch", xterm_cat(rep_out))
    assert code == 0, err
    assert wait_bytes(rep_out) == (text + "\n").encode()
    assert items(report)["pointer"] == "restored"


@pytest.mark.parametrize("wm", [False, True], ids=["bare", "openbox"])
def test_recorded_window_placed_elsewhere_is_followed(new_display: Callable[..., Display], tmp_path: Path,
                                                      wm: bool) -> None:
    d = new_display(wm=wm)
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.6)
    d.xdotool("mousemove", 100, 100)
    origin = client_origin(d, "wf fixture")
    record(d, tmp_path / "b", lambda: fixture_session(d, NoMarks(), origin))
    recorded = read_state(tmp_path / "rec.json")
    assert (recorded["counter"], recorded["text"], recorded["confirmed"]) == (2, "moved", 1)
    code, report, err = replay(tmp_path / "b", "--launch",
                               app_cmd(tmp_path / "rep.json", geometry="420x320+500+300"),
                               on=new_display(wm=True) if wm else None)
    assert code == 0, err
    assert read_state(tmp_path / "rep.json") == recorded
    assert any(w["live"] and w["live"][:2] == [500, 300] for w in report["desktop"]["windows"])  # type: ignore[index]


def test_recorded_ticking_clock_passes_without_ignore_region(new_display: Callable[..., Display],
                                                            tmp_path: Path) -> None:
    require("xclock")
    d = new_display()
    clock = "xclock -geometry 120x120+600+0 -update 1"
    d.launch(shlex.split(clock))
    d.wait_window("--class", "XClock")
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    d.xdotool("mousemove", 100, 40)
    time.sleep(0.5)

    def script() -> None:
        time.sleep(3.5)  # nobody touches anything: the clock ticks on its own, more than once
        for _ in range(2):
            d.xdotool("click", "1")
            time.sleep(1.5)

    b = record(d, tmp_path / "b", script)
    boxes = [(e.x, e.y, e.width, e.height) for e in b.events() if isinstance(e, Volatile)]
    assert boxes and all(x >= 600 and x + w <= 722 and y + h <= 122 for x, y, w, h in boxes), boxes
    both = shlex.join(["sh", "-c", f"{clock} & exec {app_cmd(tmp_path / 'rep.json')}"])
    code, report, err = replay(tmp_path / "b", "--launch", both)
    assert code == 0, err
    assert read_state(tmp_path / "rep.json")["counter"] == 2
    assert report["desktop"]["volatile_regions"]  # type: ignore[index]


def test_recorded_caps_lock_and_a_key_held_across_the_start(new_display: Callable[..., Display],
                                                            tmp_path: Path) -> None:
    """Caps Lock on, and Shift already down when recording began: 'a' came out 'a' (both), then 'B'."""
    require("xterm")
    d = new_display()
    rec_out, rep_out = tmp_path / "rec.txt", tmp_path / "rep.txt"
    d.launch(xterm_cat(rec_out))
    d.wait_window("--class", "xterm")
    time.sleep(0.8)
    d.xdotool("mousemove", 120, 60)
    d.xdotool("key", "Caps_Lock")
    d.xdotool("keydown", "shift")

    def script() -> None:
        d.xdotool("type", "--delay", "40", "a")  # Caps Lock and Shift: lower case
        d.xdotool("keyup", "shift")
        d.xdotool("type", "--delay", "40", "b")  # Caps Lock alone: upper case
        d.xdotool("key", "--delay", "30", "Return", "ctrl+d")

    try:
        b = record(d, tmp_path / "b", script)
    finally:
        d.xdotool("keyup", "shift")
        d.xdotool("key", "Caps_Lock")
    start = b.header.start
    assert start is not None and start.locks is not None and start.locks.caps
    assert [k.key for k in start.keys] == ["shift"]
    assert not any(isinstance(e, KeyDown) and e.key == "shift" for e in b.events())
    assert wait_bytes(rec_out) == b"aB\n"
    code, report, err = replay(tmp_path / "b", "--launch", xterm_cat(rep_out))
    assert code == 0, err
    assert wait_bytes(rep_out) == b"aB\n"
    assert items(report)["caps_lock"] == "restored" and items(report)["held"] == "restored"


@pytest.mark.parametrize("wm", [False, True], ids=["bare", "openbox"])
def test_recorded_dialog_two_seconds_late_passes_a_plain_replay(new_display: Callable[..., Display],
                                                                tmp_path: Path, wm: bool) -> None:
    d = new_display(wm=wm)
    d.launch(app_cmd(tmp_path / "rec.json", dialog=wm))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    ox, oy = client_origin(d, "wf fixture")
    d.xdotool("mousemove", ox + 100, oy + 140)

    def script() -> None:
        d.xdotool("click", "1")  # Open
        if wm:
            d.wait_window("--name", "wf dialog")
            time.sleep(0.5)
            cx, cy = client_origin(d, "wf dialog")
            d.xdotool("mousemove", cx + 120, cy + 60)
        else:
            time.sleep(0.5)
            d.xdotool("mousemove", ox + 300, oy + 140)
        time.sleep(0.3)
        d.xdotool("click", "1")  # Confirm

    record(d, tmp_path / "b", script)
    assert read_state(tmp_path / "rec.json")["confirmed"] == 1
    code, _, err = replay(tmp_path / "b", "--launch", app_cmd(tmp_path / "rep.json", delay=2.0, dialog=wm),
                          on=new_display(wm=True) if wm else None)
    assert code == 0, err
    assert read_state(tmp_path / "rep.json")["confirmed"] == 1

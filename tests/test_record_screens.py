"""Screens on a real Xvfb: the DAMAGE-driven grabber, volatile regions and --mask-window, with real apps."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from reliability_kit import RecorderProc
from xrig import FIXTURES, Display, wf

from wf.bundle.events import KeyDown, Redacted, Screen, Volatile, Window
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb
from wf.recorder.damage import DamageCapture
from wf.recorder.masking import MASK_PIXEL
from wf.recorder.screens import ScreenCapture
from wf.recorder.tiles import TileImage

pytestmark = pytest.mark.display

APP = [sys.executable, str(FIXTURES / "app.py")]
CLOCK = (1100, 600, 120, 120)  # xclock -geometry 120x120+1100+600: the bottom-right corner of 1280×800
MASK_RGB = ((MASK_PIXEL >> 16) & 0xFF, (MASK_PIXEL >> 8) & 0xFF, MASK_PIXEL & 0xFF)


def rgb_of(frame_bgra: TileImage | bytes | bytearray, w: int, h: int) -> np.ndarray:
    assert isinstance(frame_bgra, TileImage)
    return frame_bgra.to_rgb()


def screen_now(d: Display) -> np.ndarray:
    rgb, w, h = d.screenshot_rgb()
    return np.frombuffer(rgb, dtype=np.uint8).reshape(h, w, 3)


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (outer[0] <= box[0] and outer[1] <= box[1] and box[0] + box[2] <= outer[0] + outer[2]
            and box[1] + box[3] <= outer[1] + outer[3])


def test_damage_grabber_captures_a_change_in_one_corner_and_nothing_while_nothing_changes(
        new_display: Callable[..., Display]) -> None:
    d = new_display()
    d.launch("xterm -geometry 40x10+0+0 -T quiet")
    d.wait_window("--name", "quiet")
    time.sleep(0.5)
    cap = DamageCapture(time.monotonic(), display=d.name, fps=10, ring=64)
    first = cap.start()
    try:
        time.sleep(1.5)  # a still desktop: the grabber only confirms the frame it has
        still = cap.snapshot()
        # (The server may report a redraw with the same pixels — xterm repaints once after mapping: grabbed,
        # compared, nothing new.)
        assert cap.patched == 0 and cap.full_grabs == 1
        assert len(still) >= 10 and all(f.raw_hash == first.raw_hash and not f.boxes for f in still)
        assert all(f.bgra is first.bgra for f in still)  # one picture in memory, however long it stays still
        d.launch(f"xclock -update 1 -geometry {CLOCK[2]}x{CLOCK[3]}+{CLOCK[0]}+{CLOCK[1]}")
        d.wait_window("--name", "xclock")
        time.sleep(2.5)
    finally:
        cap.stop()
    frames = cap.snapshot()
    changed = [f for f in frames if f.boxes]
    assert changed and cap.reported > 0
    grown = (CLOCK[0] - 2, CLOCK[1] - 2, CLOCK[2] + 4, CLOCK[3] + 4)  # with the window's border
    assert all(inside(b, grown) for f in changed for b in f.boxes), [f.boxes for f in changed]
    last = frames[-1]
    assert np.array_equal(rgb_of(last.bgra, last.width, last.height), screen_now(d))  # pixels exact


def test_polling_fallback_finds_the_same_corner_change(new_display: Callable[..., Display]) -> None:
    d = new_display()
    cap = ScreenCapture(time.monotonic(), display=d.name, fps=10, ring=64)
    cap.start()
    try:
        time.sleep(0.5)
        assert not any(f.boxes for f in cap.snapshot())
        d.launch(f"xclock -update 1 -geometry {CLOCK[2]}x{CLOCK[3]}+{CLOCK[0]}+{CLOCK[1]}")
        d.wait_window("--name", "xclock")
        time.sleep(2.5)
    finally:
        cap.stop()
    boxes = [b for f in cap.snapshot() for b in f.boxes]
    assert boxes and all(inside(b, (CLOCK[0] - 2, CLOCK[1] - 2, CLOCK[2] + 4, CLOCK[3] + 4)) for b in boxes)


def test_a_ticking_clock_becomes_volatile_a_dialog_appearing_late_once_does_not(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    d = new_display()
    d.launch([*APP, "--delay", "2.0"])  # Open reveals Confirm 2 s after the click
    d.wait_window("--name", "wf fixture")
    d.launch(f"xclock -update 1 -geometry {CLOCK[2]}x{CLOCK[3]}+{CLOCK[0]}+{CLOCK[1]}")
    d.wait_window("--name", "xclock")
    d.xdotool("mousemove", 100, 140)  # over Open
    time.sleep(0.5)
    rec = RecorderProc(tmp_path / "b", d.env(), "--fps", "5")
    time.sleep(0.3)
    d.xdotool("click", "1")  # Confirm appears at +2 s, with no input in the second before it
    time.sleep(6.0)
    rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    events = list(Bundle.open(tmp_path / "b").events())
    vol = [(e.x, e.y, e.width, e.height) for e in events if type(e) is Volatile]
    assert vol, "the clock never became volatile"
    clock = (CLOCK[0] - 8, CLOCK[1] - 8, CLOCK[2] + 16, CLOCK[3] + 16)
    assert all(inside(v, clock) for v in vol), vol
    confirm = (220, 120, 160, 40)
    assert not any(v[0] < confirm[0] + confirm[2] and confirm[0] < v[0] + v[2] and v[1] < confirm[1] + confirm[3]
                   and confirm[1] < v[1] + v[3] for v in vol)
    b = Bundle.open(tmp_path / "b")
    pre = next(e for e in events if type(e) is Screen and e.reason == "pre")
    stop = next(e for e in events if type(e) is Screen and e.reason == "stop")
    before, after = (np.frombuffer(load_rgb(b.screen_path(s.path))[0], dtype=np.uint8).reshape(800, 1280, 3)
                     for s in (pre, stop))
    assert not np.array_equal(before[120:160, 220:380], after[120:160, 220:380])  # Confirm did appear, late
    assert wf("validate", tmp_path / "b").returncode == 0


def test_mask_window_paints_the_window_over_in_every_screen_and_redacts_its_keys(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    d = new_display()
    d.launch("xterm -geometry 30x8+600+100 -bg red -fg red -T secret-notes")
    wid = d.wait_window("--name", "secret-notes")
    d.launch([*APP])
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    d.xdotool("mousemove", 100, 40)
    rec = RecorderProc(tmp_path / "b", d.env(), "--fps", "5", "--mask-window", "secret")
    time.sleep(0.3)
    d.xdotool("click", "1")  # Increment: a pre and a post screen
    time.sleep(0.8)
    d.xdotool("mousemove", 700, 150)  # into the masked terminal (focus follows the pointer)
    time.sleep(0.4)
    d.xdotool("type", "--delay", "50", "pw")
    time.sleep(0.5)
    d.xdotool("windowmove", wid, 800, 450)  # it moves: the mask follows, the old place shows again
    time.sleep(0.8)
    d.xdotool("mousemove", 100, 40)
    time.sleep(0.4)
    d.xdotool("click", "1")
    time.sleep(0.8)
    rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    b = Bundle.open(tmp_path / "b")
    assert b.header.recorder.options["mask_window"] == ["secret"]
    events = list(b.events())
    assert not [e for e in events if type(e) is KeyDown and e.char in ("p", "w")]
    assert sum(type(e) is Redacted for e in events) >= 4  # p and w, pressed and released
    assert any(type(e) is Window and e.title == "secret-notes" and e.excluded for e in events)
    screens = [e for e in events if type(e) is Screen]
    assert len({s.hash for s in screens}) >= 2
    for s in screens:
        rgb, w, h = load_rgb(b.screen_path(s.path))
        a = np.frombuffer(rgb, dtype=np.uint8).reshape(h, w, 3)
        red = (a[..., 0] > 200) & (a[..., 1] < 60) & (a[..., 2] < 60)
        assert not red.any(), f"{s.reason} screen at {s.t} shows the masked window's pixels"
        masked = (a == MASK_RGB).all(axis=2)
        assert masked.sum() > 100 * 60, f"no mask in the {s.reason} screen"
    last = load_rgb(b.screen_path(screens[-1].path))[0]
    final = np.frombuffer(last, dtype=np.uint8).reshape(800, 1280, 3)
    assert (final[470:520, 820:900] == MASK_RGB).all()  # where the window is now
    assert not (final[110:150, 610:700] == MASK_RGB).all()  # where it was: the desktop shows again
    assert wf("validate", tmp_path / "b").returncode == 0

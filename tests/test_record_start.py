"""The state a recording starts from, windows that move, and the disk floor: `wf record` on a real Xvfb."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import RecorderProc, changing_xterm_cmd
from xrig import Display, wf

from wf.bundle.events import FORMAT_MINOR, KeyUp, Screen, Stop, Window
from wf.bundle.reader import Bundle
from wf.recorder.startstate import read_start_state

pytestmark = pytest.mark.display


@pytest.fixture
def desk(new_display: Callable[..., Display]) -> Iterator[Display]:
    d = new_display()
    d.launch("xterm -geometry 60x10+40+30 -T start-term")
    d.wait_window("--name", "start-term")
    d.xdotool("mousemove", 200, 100)
    time.sleep(0.4)
    yield d
    d.xdotool("keyup", "x", check=False)


def test_each_lock_is_read_after_a_real_toggle(desk: Display) -> None:
    assert read_start_state(desk.name).locks is not None
    for key, lock in (("Caps_Lock", "caps"), ("Num_Lock", "num")):
        before = read_start_state(desk.name).locks
        desk.xdotool("key", key)
        after = read_start_state(desk.name).locks
        desk.xdotool("key", key)
        again = read_start_state(desk.name).locks
        assert before is not None and after is not None and again is not None
        assert (getattr(before, lock), getattr(after, lock), getattr(again, lock)) == (False, True, False), key
    # Scroll Lock: XKB's default keymap gives the key no lock action, so its state is the third LED; it is
    # off and stays off here, whatever the key does.
    desk.xdotool("key", "Scroll_Lock")
    locks = read_start_state(desk.name).locks
    assert locks is not None and not locks.scroll


def test_header_start_has_pointer_caps_lock_a_key_held_across_the_start_and_the_windows(
        desk: Display, tmp_path: Path) -> None:
    subprocess.run(["xset", "r", "off"], env=desk.env(), check=True)  # no autorepeat while the key is held
    desk.xdotool("key", "Caps_Lock")
    desk.xdotool("keydown", "x")
    try:
        rec = RecorderProc(tmp_path / "b", desk.env(), "--fps", "5")
        time.sleep(0.4)
    finally:
        desk.xdotool("keyup", "x")
    desk.xdotool("key", "Caps_Lock")
    time.sleep(0.5)
    rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    b = Bundle.open(tmp_path / "b")
    h = b.header
    assert h.minor == FORMAT_MINOR and h.start is not None
    st = h.start
    assert st.pointer == (200, 100)
    assert st.locks is not None and st.locks.caps and not st.locks.num
    assert [(k.key, k.keysym) for k in st.keys] == [("x", ord("X"))]  # Caps Lock on: it produced X
    assert st.buttons == [] and st.window_manager is None
    assert st.focus is not None and st.focus.title == "start-term"
    assert [w.title for w in st.windows] == ["start-term"]
    events = list(b.events())
    ups = [e for e in events if type(e) is KeyUp and e.key == "x"]
    assert len(ups) == 1 and ups[0].keysym == ord("X") and ups[0].keycode == st.keys[0].keycode
    stop = events[-1]
    assert type(stop) is Stop and stop.unmatched == 0  # the release matched the press held at the start


def test_a_window_moved_or_resized_gets_a_window_event_with_its_new_geometry(desk: Display, tmp_path: Path) -> None:
    wid = desk.wait_window("--name", "start-term")
    rec = RecorderProc(tmp_path / "b", desk.env(), "--fps", "5")
    time.sleep(0.4)
    desk.xdotool("windowmove", wid, 100, 50)  # still under the pointer (200, 100): it keeps the focus
    time.sleep(0.5)
    desk.xdotool("windowsize", wid, 500, 200)
    time.sleep(0.5)
    rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    wins = [e for e in Bundle.open(tmp_path / "b").events() if type(e) is Window]
    assert [(w.title, w.x, w.y) for w in wins][:2] == [("start-term", 41, 31), ("start-term", 101, 51)]
    assert (wins[-1].x, wins[-1].y, wins[-1].width, wins[-1].height) == (101, 51, 500, 200)
    assert len({w.id for w in wins}) == 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB tmpfs (needs root, as the test machines run)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_recording_stops_cleanly_at_the_disk_floor_with_a_valid_bundle(
        new_display: Callable[..., Display], small_disk: Path) -> None:
    d = new_display()
    d.launch(changing_xterm_cmd())  # every frame differs: every click stores new screens
    d.wait_window("--name", "wf-busy")
    (small_disk / "ballast").write_bytes(b"\0" * (18 << 20))  # 30 MB left, the floor at 26: ~4 MB to write
    d.xdotool("mousemove", 300, 200)
    out = small_disk / "b"
    rec = RecorderProc(out, d.env(), "--fps", "10", "--min-free", "26")
    t0 = time.monotonic()
    while rec.proc.poll() is None and time.monotonic() - t0 < 90:
        d.xdotool("click", "1")
        time.sleep(0.05)
    rc = rec.wait(timeout=30)
    assert rc == 3, rec.stderr
    assert "less than 26 MB free" in rec.stderr
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    assert free > 20_000_000  # stopped well before the disk filled
    events = list(Bundle.open(out).events())
    assert type(events[-1]) is Stop and events[-1].reason == "disk-low"
    assert sum(type(e) is Screen for e in events) > 10
    assert wf("validate", out).returncode == 0

"""Replay into real X11 apps where timing and dragging matter: xterm's ctrl+click menu, an xedit drag."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from xrig import Display, require, wf

from wf.replayer.scripted import ScriptedRecording

pytestmark = [pytest.mark.display, pytest.mark.slow]

LOADED = ("--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000")


def wait_file(path: Path, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            time.sleep(0.2)
            return path.read_bytes()
        time.sleep(0.05)
    return path.read_bytes() if path.exists() else b""


def test_xterm_hover_menu_stays_open_long_enough(new_display: Callable[..., Display], tmp_path: Path) -> None:
    """Ctrl+left press opens xterm's Main Options menu; the item is chosen by hovering and releasing.

    Without the recorded dwell (xmacro's failure) the release lands before the menu exists.
    """
    require("xterm")
    d = new_display()

    def xterm(out: Path) -> str:
        # The trap also echoes on the terminal: the step's effect is visible, so the replay can verify it.
        script = f"trap 'echo INT >> {shlex.quote(str(out))}; echo INT' INT; while :; do sleep 0.1; done"
        return shlex.join(["xterm", "-geometry", "80x10+0+0", "-e", "sh", "-c", script])

    rec_out, rep_out = tmp_path / "rec.txt", tmp_path / "rep.txt"
    d.launch(xterm(rec_out))
    d.wait_window("--class", "xterm")
    time.sleep(0.8)
    with ScriptedRecording(d.name, tmp_path / "b", launch=xterm(rep_out)) as rec:
        d.xdotool("mousemove", 200, 60)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("keydown", "ctrl", "mousedown", "1")
        time.sleep(0.5)  # the menu maps under the pointer
        for y in range(80, 420, 20):  # slide down to "Send INT Signal"
            d.xdotool("mousemove", 180, y)
            time.sleep(0.02)
        d.xdotool("mousemove", 180, 413)
        time.sleep(0.4)  # dwell on the item
        d.xdotool("mouseup", "1", "keyup", "ctrl")
        time.sleep(0.5)
    assert wait_file(rec_out) == b"INT\n", "the recording itself did not pick the menu item"
    res = wf("replay", tmp_path / "b", "--xvfb", *LOADED)
    assert res.returncode == 0, res.stderr
    assert wait_file(rep_out) == b"INT\n"


def test_xedit_drag_selection_and_middle_paste(new_display: Callable[..., Display], tmp_path: Path) -> None:
    """Drag-select a word in xedit, paste it with the middle button, Save: the saved file is identical."""
    require("xedit")
    d = new_display()
    text = b"alpha beta gamma\nsecond line here\n"
    for sub in ("rec", "rep"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "x.txt").write_bytes(text)

    def xedit(sub: str) -> str:
        # Same relative file name in both runs, so the window titles (and so the screens) are identical.
        return shlex.join(["sh", "-c", f"cd {shlex.quote(str(tmp_path / sub))} && exec xedit "
                                       "-geometry 500x300+0+0 x.txt"])

    d.launch(xedit("rec"))
    d.wait_window("--class", "Xedit")
    time.sleep(0.8)
    with ScriptedRecording(d.name, tmp_path / "b", launch=xedit("rep")) as rec:
        d.xdotool("mousemove", 54, 119)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("mousedown", "1")
        for x in range(58, 86, 4):  # drag across "beta"
            d.xdotool("mousemove", x, 119)
            time.sleep(0.03)
        d.xdotool("mouseup", "1")
        time.sleep(0.3)
        d.xdotool("mousemove", 200, 132)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("click", "2")  # paste the selection (Xaw inserts it at the insertion point)
        time.sleep(0.3)
        d.xdotool("mousemove", 55, 9)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("click", "1")  # Save
        time.sleep(0.5)
    saved = (tmp_path / "rec" / "x.txt").read_bytes()
    assert saved != text and saved.startswith(b"alpha be"), saved  # a dragged selection was pasted
    res = wf("replay", tmp_path / "b", "--xvfb", *LOADED)
    assert res.returncode == 0, res.stderr
    deadline = time.monotonic() + 5
    while (tmp_path / "rep" / "x.txt").read_bytes() == text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "rep" / "x.txt").read_bytes() == saved

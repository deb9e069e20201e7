"""An app that answers late: `wf record` waits for the click's effect before it takes the post screen.

The fixture app is stopped (SIGSTOP) just before each click and resumed a while later, as a loaded machine
stalls an app. Before the fix, two quiet frames after the release counted as "settled", so the post screen
showed the screen before the app drew anything and the click looked dead (one such step failed a CI run).
A click on empty background is the control: it still comes out dead, its post screen the last frame before
the next action.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_record import recording
from xrig import FIXTURES, display, wf

pytestmark = pytest.mark.display

INCREMENT, ENTRY, BACKGROUND, OPEN = (100, 40), (200, 235), (300, 95), (100, 140)
SETTLE = 0.7  # s before each press and after it, at --fps 10
STALLS = {INCREMENT: 0.5, ENTRY: 1.5, BACKGROUND: 0.5, OPEN: 0.0}  # how long the app is stopped across the click


def test_a_click_the_app_answers_late_is_recorded_with_its_effect(tmp_path: Path) -> None:
    out = tmp_path / "b"
    state = tmp_path / "state.json"
    with display() as d:
        app = d.launch([sys.executable, str(FIXTURES / "app.py"), "--state", str(state), "--steady-caret"])
        d.wait_window("--name", "wf fixture")
        d.xdotool("mousemove", 390, 300)
        time.sleep(0.8)
        with recording(d, out, "--fps", "10") as rec:
            for at, stall in STALLS.items():
                d.xdotool("mousemove", *at)
                time.sleep(SETTLE)
                if stall:
                    os.kill(app.pid, signal.SIGSTOP)
                try:
                    d.xdotool("click", 1)
                    time.sleep(stall)
                finally:
                    if stall:
                        os.kill(app.pid, signal.SIGCONT)
                time.sleep(SETTLE)
            assert rec.stop(signal.SIGTERM) == 0, rec.stderr
        app.terminate()
        app.wait(10)
    saved = json.loads(state.read_text())
    assert (saved["counter"], saved["opened"]) == (1, True)  # the app did answer every click
    res = wf("inspect", out, "--quality", "--actions", "--json")
    assert res.returncode == 0, res.stderr
    clicks: list[dict[str, Any]] = [a for a in json.loads(res.stdout) if a["kind"] == "click"]
    got = {(a["x"], a["y"]): a["screen_effect"]["status"] for a in clicks}
    assert got == {INCREMENT: "changed", ENTRY: "changed", BACKGROUND: "unchanged", OPEN: "changed"}
    background = next(a for a in clicks if (a["x"], a["y"]) == BACKGROUND)
    assert background["screen_effect"]["dead"] is True

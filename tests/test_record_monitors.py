"""Two monitors (RandR 1.5 monitors on one Xvfb screen): record, reduce, export per monitor, replay."""

from __future__ import annotations

import io
import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from reliability_kit import RecorderProc
from xrig import FIXTURES, Display, wf

from wf.bundle.actions import load_actions
from wf.bundle.events import Monitor, MouseDown, Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb

pytestmark = [pytest.mark.display, pytest.mark.slow]

LEFT, RIGHT = (0, 0, 1280, 800), (1280, 0, 1280, 800)


def app(state: Path, geometry: str) -> str:
    return shlex.join([sys.executable, str(FIXTURES / "app.py"), "--state", str(state), "--geometry", geometry])


def test_two_monitors_record_reduce_export_and_replay(new_display: Callable[..., Display], tmp_path: Path) -> None:
    d = new_display(2560, 800)
    d.set_monitors([LEFT, RIGHT])
    s0, s1 = tmp_path / "left.json", tmp_path / "right.json"
    launch = f"sh -c {shlex.quote(app(s0, '420x320+0+0') + ' & exec ' + app(s1, '420x320+1400+100'))}"
    d.xdotool("mousemove", 1800, 600)
    rec = RecorderProc(tmp_path / "b", d.env(), "--fps", "10", "--launch", launch)
    deadline = time.monotonic() + 15
    while not (s0.exists() and s1.exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.8)
    for x, y in ((100, 40), (1500, 140)):  # Increment on the left monitor, then on the right one
        d.xdotool("mousemove", x, y)
        time.sleep(0.4)
        d.xdotool("click", "1")
        time.sleep(0.6)
    d.xdotool("mousemove", 1600, 335)  # the right app's entry
    time.sleep(0.4)
    d.xdotool("click", "1")
    time.sleep(0.3)
    d.xdotool("type", "--delay", "80", "hi")
    time.sleep(0.8)
    rec.signal(15)
    assert rec.wait() == 0, rec.stderr
    recorded = [json.loads(s.read_text()) for s in (s0, s1)]
    assert (recorded[0]["counter"], recorded[1]["counter"], recorded[1]["text"]) == (1, 1, "hi")

    b = Bundle.open(tmp_path / "b")
    assert b.header.screen.width == 2560 and b.header.screen.monitors == [Monitor(*LEFT), Monitor(*RIGHT)]
    events = list(b.events())
    assert [(e.x, e.y) for e in events if type(e) is MouseDown] == [(100, 40), (1500, 140), (1600, 335)]
    assert all(e.width == 2560 for e in events if type(e) is Screen)
    steps = [a for a in load_actions(b) if a.kind in ("click", "type")]
    assert [(a.kind, a.monitor) for a in steps] == [("click", 0), ("click", 1), ("click", 1), ("type", 1)]

    # Export in unit coordinates: each step's image is its monitor, and the numbers are relative to it.
    res = wf("export", tmp_path / "b", "--format", "parquet", "--coords", "unit", "--out", tmp_path / "pq")
    assert res.returncode == 0, res.stderr
    rows = pq.read_table(next((tmp_path / "pq" / "data").glob("*.parquet"))).to_pylist()
    clicks = [r for r in rows if r["action_type"] == "click"]
    right = json.loads(clicks[1]["action"])
    assert (right["x"], right["y"], right["monitor"], right["monitor_box"]) == (round(220 / 1280, 6), 0.175, 1,
                                                                                 list(RIGHT))
    assert json.loads(clicks[0]["action"])["x"] == round(100 / 1280, 6)
    pre = steps[1].pre_screen
    assert pre is not None
    full = np.frombuffer(load_rgb(b.screen_path(pre))[0], dtype=np.uint8).reshape(800, 2560, 3)
    with Image.open(io.BytesIO(clicks[1]["image"]["bytes"])) as img:
        crop = np.asarray(img.convert("RGB"))
    assert crop.shape == (800, 1280, 3) and np.array_equal(crop, full[:, 1280:])  # the right monitor, exact
    # In pixels the coordinates and images stay the whole desktop's.
    res = wf("export", tmp_path / "b", "--format", "parquet", "--out", tmp_path / "px")
    assert res.returncode == 0, res.stderr
    px = [r for r in pq.read_table(next((tmp_path / "px" / "data").glob("*.parquet"))).to_pylist()
          if r["action_type"] == "click"]
    assert json.loads(px[1]["action"])["x"] == 1500 and px[1]["image_width"] == 2560

    # Replay into a fresh 2560×800 display: both apps end as recorded.
    for s in (s0, s1):
        s.unlink()
    res = wf("replay", tmp_path / "b", "--xvfb", "--json", timeout=180)
    report = json.loads(res.stdout) if res.stdout.strip() else {}
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert report["passed"] and report["stats"]["checkpoints"] >= 3 and report["stats"]["sequence_identical"]
    assert [json.loads(s.read_text()) for s in (s0, s1)] == recorded

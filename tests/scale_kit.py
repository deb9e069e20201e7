"""Corpora for the scale tests and benchmark: real sessions on the fixture app, recorded with real input
capture (``ScriptedRecording``) and the launch command a replay starts the app with, then copied."""

from __future__ import annotations

import shlex
import shutil
import sys
import time
from pathlib import Path

import orjson
from xrig import FIXTURES, Display

from wf.replayer.scripted import ScriptedRecording

# No --state: copies of one bundle replay at the same time and must not share a file.
APP = shlex.join([sys.executable, str(FIXTURES / "app.py")])
SIZE = (640, 400)  # small screens: a corpus of many bundles stays quick to copy and compare


def record_clicks(d: Display, out: Path, clicks: int = 2) -> Path:
    """``clicks`` separate clicks on the app's Increment button, a pre-action screen before each."""
    d.launch(APP)
    d.wait_window("--name", "wf fixture")
    time.sleep(0.4)
    with ScriptedRecording(d.name, out, task="Increment the counter", launch=APP) as rec:
        for _ in range(clicks):
            d.xdotool("mousemove", 100, 40)
            time.sleep(0.2)
            rec.pre()
            d.xdotool("click", "1")
            time.sleep(0.7)  # past the double-click interval
    d.kill_apps()
    return out


def copies(src: Path, root: Path, n: int, prefix: str = "b") -> list[Path]:
    out = []
    for i in range(n):
        dst = root / f"{prefix}{i:03d}"
        shutil.copytree(src, dst)
        out.append(dst)
    return out


def shift_pointer(bundle: Path, dx: int) -> Path:
    """Move every recorded pointer event ``dx`` px to the right: the clicks miss the button, so the replay's
    screens stop matching the recording (a bundle whose replay must fail)."""
    events = bundle / "events.jsonl"
    lines = events.read_bytes().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        ev = orjson.loads(line)
        if ev.get("type") in ("mouse_move", "mouse_down", "mouse_up"):
            ev["x"] += dx
        out.append(orjson.dumps(ev))
    events.write_bytes(b"\n".join(out) + b"\n")
    return bundle


def relaunch(bundle: Path, launch: str) -> Path:
    """Rewrite the header's launch command (a bundle whose replay starts a different app)."""
    events = bundle / "events.jsonl"
    first, rest = events.read_bytes().split(b"\n", 1)
    header = orjson.loads(first)
    header["launch"] = launch
    events.write_bytes(orjson.dumps(header) + b"\n" + rest)
    return bundle

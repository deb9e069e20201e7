"""Shared by the replay tests: the fixture app, a scripted session on it, and what a verdict must show."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from xrig import FIXTURES, Display

from wf.replayer.scripted import ScriptedRecording

APP = [sys.executable, str(FIXTURES / "app.py")]


def app_cmd(state: Path, delay: float = 0.0) -> str:
    return shlex.join([*APP, "--state", str(state), "--delay", str(delay)])


def read_state(path: Path, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def record_fixture(d: Display, out: Path, state: Path, script: Callable[[Display, ScriptedRecording], None],
                   *, replay_state: Path) -> dict[str, object]:
    """Launch the fixture app on ``d``, run ``script`` while recording, return the app's final state."""
    d.launch(app_cmd(state))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.4)
    with ScriptedRecording(d.name, out, launch=app_cmd(replay_state)) as rec:
        script(d, rec)
    time.sleep(0.2)
    return read_state(state)


def click(d: Display, rec: ScriptedRecording, x: int, y: int, *args: str) -> None:
    """Move, then click, with the screens the recorder takes: before the click, and once its effect settled
    (before the pointer moves on: the actions level replays no moves between steps)."""
    d.xdotool("mousemove", x, y)
    time.sleep(0.15)
    rec.pre()
    d.xdotool("click", *args)
    time.sleep(0.6)  # 0.25 s was too short once under CI load: Tk had not redrawn the scroll count yet
    rec.post()


# The suite shares 2 cores with other suites and benchmarks: lateness under that load says nothing about
# the replayer (bench/replay_bench.py measures timing on a quiet machine), so the tests judge input and screens.
LOADED = ("--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000")


def report_of(res_stdout: str) -> dict[str, object]:
    return orjson.loads(res_stdout)


def assert_verified(rep: dict[str, object], steps: int | None = None) -> None:
    """The other side of the verdict: a clean session comes out verified, every action step checked."""
    verdict = rep["verdict"]
    assert verdict["status"] == "verified", (verdict, [s for s in rep["steps"] if s["status"] != "verified"])
    assert verdict["coverage"]["percent"] == 100.0 and verdict["coverage"]["steps"] > 0
    if steps is not None:
        assert verdict["coverage"]["steps"] == steps
    assert all(s["status"] == "verified" for s in rep["steps"] if s["counted"])



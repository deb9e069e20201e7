"""The user's story: record a real task with `wf record` on Xvfb, then annotate it from the command line."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xrig import FIXTURES, WF, wf

from wf.bundle.actions import load_actions
from wf.bundle.reader import Bundle

pytestmark = [pytest.mark.display, pytest.mark.slow]


def start_recording(env: dict[str, str], out: Path, timeout: float = 30) -> subprocess.Popen[str]:
    proc = subprocess.Popen([*WF, "record", str(out), "--task", "press Increment twice"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    fd = proc.stderr.fileno()  # raw reads: a buffered readline would hide lines from select()
    notice = ""
    deadline = time.monotonic() + timeout
    while "stop:" not in notice:  # the recorder's start notice says how to stop it
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"wf record did not start: {notice}{proc.communicate()[1]}")
        if select.select([proc.stderr], [], [], left)[0]:
            notice += os.read(fd, 4096).decode(errors="replace")
    return proc


def test_record_then_annotate(new_display, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = new_display()
    state = tmp_path / "state.json"
    d.launch([sys.executable, str(FIXTURES / "app.py"), "--state", str(state)])
    d.wait_window("--class", "WfFixture")
    time.sleep(0.5)
    out = tmp_path / "rec"
    proc = start_recording(d.env(), out)
    try:
        for _ in range(2):
            d.xdotool("mousemove", 100, 40)
            time.sleep(0.4)
            d.xdotool("click", 1)
            time.sleep(0.6)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert json.loads(state.read_text())["counter"] == 2, err  # the task really happened

    events = hashlib.sha256((out / "events.jsonl").read_bytes()).hexdigest()
    clicks = [a.index for a in load_actions(Bundle.open(out)) if a.kind == "click"]
    assert len(clicks) == 2, err
    res = wf("annotate", out, "--outcome", "success", "--step", str(clicks[0]), "--label", "first press")
    assert res.returncode == 0, res.stderr
    res = wf("annotate", out, "--step", str(clicks[1]), "--drop", "--note", "redundant", "--json")
    assert res.returncode == 0, res.stderr
    eff = json.loads(res.stdout)
    assert eff["task"] == "press Increment twice" and eff["outcome"] == "success"
    assert eff["dropped"] == [clicks[1]] and eff["steps"][str(clicks[0])]["label"] == "first press"
    assert hashlib.sha256((out / "events.jsonl").read_bytes()).hexdigest() == events

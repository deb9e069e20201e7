#!/usr/bin/env python3
"""`make demo`: the whole round trip on private virtual displays, no real desktop touched.

1. start an Xvfb and `wf record --launch` the fixture app on it;
2. drive a scripted demonstration with xdotool (clicks, typing with shifted characters, wheel, a panel
   that opens after a delay, a confirm);
3. stop the recorder (SIGINT) and `wf inspect` the bundle;
4. `wf replay BUNDLE --xvfb --sync screen` into a fresh display (the app is launched again from the
   bundle header) and print the verdict; the fixture app's own state file shows it did the same thing.

Exits non-zero if any step fails or the verdict is not a pass.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WF = [sys.executable, "-m", "wf.cli"]


def step(msg: str) -> None:
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print(f"\n{bold}== {msg}{plain}", flush=True)


def xdotool(env: dict[str, str], *args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], env=env, check=True, timeout=30)


def wait_for(pred: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise SystemExit(f"demo: timed out waiting for {what}")


def demonstrate(env: dict[str, str]) -> None:
    """What a person would do in the fixture app, at a human pace."""

    def click(x: int, y: int, *args: object) -> None:
        xdotool(env, "mousemove", x, y)
        time.sleep(0.35)  # hover, as a person does
        xdotool(env, "click", *args)
        time.sleep(0.4)

    click(100, 40, "--repeat", "2", "--delay", "90", "1")  # Increment twice (a double click)
    click(100, 235, "1")  # focus the entry
    xdotool(env, "type", "--delay", "60", "Hello, wf! (demo #1)")
    time.sleep(0.4)
    click(200, 285, "--repeat", "3", "--delay", "80", "4")  # three wheel notches up
    click(100, 140, "1")  # Open: the Confirm button appears after the app's delay
    time.sleep(0.8)
    click(300, 140, "1")  # Confirm
    time.sleep(0.5)


def main() -> int:
    from wf.replayer.xvfb import VirtualDisplay

    work = Path(tempfile.mkdtemp(prefix="wf-demo-"))
    bundle = work / "demo-bundle"
    rec_state, rep_state = work / "recorded-state.json", work / "replayed-state.json"
    app = [sys.executable, str(REPO / "fixtures" / "app.py"), "--delay", "0.3"]
    print(f"demo directory: {work}")
    with VirtualDisplay(1280, 800) as vd:
        env = vd.env()
        step(f"1. recording on private display {vd.display}: wf record --launch <fixture app>")
        ready = work / "ready"
        # The header keeps the launch command; the replay runs it with its own state file (below).
        rec = subprocess.Popen([*WF, "record", str(bundle), "--quiet", "--ready-file", str(ready),
                                "--task", "Increment twice, type a greeting, scroll, open and confirm",
                                "--launch", shlex.join([*app, "--state", str(rec_state)])], env=env)
        wait_for(lambda: ready.exists() or rec.poll() is not None, 30, "the recorder to start")
        if rec.poll() is not None:
            print(f"demo: wf record exited with {rec.returncode}")
            return 1
        wait_for(lambda: rec_state.exists(), 20, "the fixture app")
        time.sleep(1.0)
        step("2. driving the demonstration with xdotool")
        demonstrate(env)
        rec.send_signal(signal.SIGINT)
        if rec.wait(timeout=30) != 0:
            print(f"demo: wf record exited with {rec.returncode}")
            return 1
    recorded = json.loads(rec_state.read_text())
    print(f"app state after recording: {recorded}")

    step(f"3. wf inspect {bundle}")
    if subprocess.run([*WF, "inspect", str(bundle)]).returncode != 0:
        return 1

    step("4. wf replay --xvfb --sync screen into a fresh display")
    report = work / "report.json"
    launch = shlex.join([*app, "--state", str(rep_state)])
    res = subprocess.run([*WF, "replay", str(bundle), "--xvfb", "--sync", "screen", "--launch", launch,
                          "--report", str(report)], env=os.environ.copy())
    replayed = json.loads(rep_state.read_text()) if rep_state.exists() else None
    print(f"app state after replay:    {replayed}")
    print(f"report: {report} (replayed screens in {report.with_name(report.stem + '-screens')})")
    same = replayed == recorded
    print("app states " + ("identical" if same else "DIFFER"))
    if res.returncode != 0 or not same:
        print(f"demo: FAILED (wf replay exit {res.returncode})")
        return 1
    print("demo: round trip passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

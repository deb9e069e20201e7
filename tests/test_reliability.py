"""Faults thrown at wf on purpose: kill -9 mid-input, SIGTERM mid-encoding, a full disk, an app that crashes
during replay. Each test runs against a real Xvfb with real xdotool input (the long variants — 20 kills, the
soak — are in bench/reliability_bench.py)."""

from __future__ import annotations

import json
import random
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_kit import (
    RecorderProc,
    changing_xterm_cmd,
    click_storm,
    kill_during_input,
    screens_complete,
)
from xrig import FIXTURES, WF, Display, require, wf

from wf.bundle.events import Screen, Stop
from wf.bundle.reader import Bundle

pytestmark = pytest.mark.display

APP = [sys.executable, str(FIXTURES / "app.py")]


def held_input(d: Display) -> tuple[list[int], int]:
    """Keycodes the X server has down, and the pointer's button mask (Button1Mask…Button5Mask)."""
    from Xlib import X
    from Xlib import display as xdisplay

    dpy = xdisplay.Display(d.name)
    try:
        keymap = dpy.query_keymap()
        down = [i * 8 + b for i, byte in enumerate(keymap) for b in range(8) if byte & (1 << b)]
        mask = dpy.screen().root.query_pointer().mask
        buttons = mask & (X.Button1Mask | X.Button2Mask | X.Button3Mask | X.Button4Mask | X.Button5Mask)
        return down, buttons
    finally:
        dpy.close()


def test_kill_9_at_random_moments_keeps_valid_bundles_and_loses_at_most_half_a_second(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    require("Xvfb", "xdotool")
    d = new_display()
    rng = random.Random(20261127)
    results = []
    for i in range(5):
        r = kill_during_input(d.env(), tmp_path / f"k{i}", after=rng.uniform(0.4, 2.0))
        results.append(r)
        assert r.rc == -signal.SIGKILL
        assert r.valid, r.validate_output
        assert r.in_order, f"kill {i}: typed text is not a prefix of the injected text"
        assert r.key_events > 0
        # Everything injected up to 0.5 s before the kill is on disk (same clock: the header's wall start).
        # (kill time − last kept event is reported by the bench; it also counts pauses of the injector.)
        assert r.missing == 0, f"kill {i}: {r.missing} characters injected > 0.5 s before the kill are lost"
    held, buttons = held_input(d)
    assert not held and not buttons  # whole xdotool calls only: nothing left pressed


def test_sigterm_during_screen_encoding_finishes_stop_and_every_screen(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    require("Xvfb", "xdotool", "xterm")
    d = new_display(1920, 1080)  # ~12 distinct frames/s to encode at ~50-80 ms each: the encoder never idles
    d.launch(changing_xterm_cmd())
    d.wait_window("--name", "wf-busy")
    for i, after in enumerate((1.2, 2.1)):
        out = tmp_path / f"t{i}"
        stop = threading.Event()
        rec = RecorderProc(out, d.env(), "--fps", "20")
        storm = click_storm(d.env(), stop)
        try:
            time.sleep(after)
            rec.signal(signal.SIGTERM)  # clicks keep coming: every action wants a fresh frame encoded
            rc = rec.wait(timeout=60)
        finally:
            stop.set()
            storm.join(10)
        assert rc == 0, rec.stderr
        events = list(Bundle.open(out).events())
        assert type(events[-1]) is Stop and events[-1].reason == "signal"
        reasons = [e.reason for e in events if type(e) is Screen]
        assert reasons[0] == "start" and reasons[-1] == "stop", reasons
        assert reasons.count("pre") >= 5, reasons  # the encoder had distinct frames to work on
        ok, files, why = screens_complete(out)
        assert ok, why
        assert files >= 5
        res = wf("validate", out)
        assert res.returncode == 0, res.stdout + res.stderr


def test_full_disk_exits_3_with_a_clear_error_and_a_valid_bundle(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    require("Xvfb", "xdotool", "xterm")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        d = new_display()
        d.launch(changing_xterm_cmd())
        d.wait_window("--name", "wf-busy")
        out = mnt / "b"
        stop = threading.Event()
        rec = RecorderProc(out, d.env(), "--fps", "10", "--min-free", "0")  # no floor: the disk fills
        storm = click_storm(d.env(), stop, period=0.1)
        try:
            deadline = time.monotonic() + 40
            while rec.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            rc = rec.wait(timeout=30) if rec.proc.poll() is not None else -1
        finally:
            stop.set()
            storm.join(10)
            if rec.proc.poll() is None:
                rec.signal(signal.SIGKILL)
                rec.wait()
        assert rc == 3, f"rc {rc}: {rec.stderr}"
        lines = [ln for ln in rec.stderr.splitlines() if ln.strip()]
        assert "Traceback" not in rec.stderr
        assert any("disk" in ln.lower() or "space" in ln.lower() for ln in lines), rec.stderr
        assert any("hint" in ln.lower() for ln in lines), rec.stderr
        res = wf("validate", out)
        assert res.returncode == 0, res.stdout + res.stderr
        events = list(Bundle.open(out).events())
        assert len(events) > 3  # something was recorded before the disk filled
        ok, _, why = screens_complete(out)
        assert ok, why
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


CRASHER = textwrap.dedent("""\
    # Runs the fixture app and SIGKILLs it once its counter reaches {limit}: an app crashing mid-replay.
    import json, os, signal, subprocess, sys, time
    state = sys.argv[1]
    app = subprocess.Popen([sys.executable, {app!r}, "--state", state])
    while app.poll() is None:
        try:
            if json.load(open(state))["counter"] >= {limit}:
                time.sleep(0.05)
                app.send_signal(signal.SIGKILL)
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    app.wait()
""")


def test_replay_into_an_app_that_crashes_fails_cleanly_naming_the_step_and_leaves_nothing_held(
        new_display: Callable[..., Display], tmp_path: Path) -> None:
    require("Xvfb", "xdotool")
    d = new_display()
    state = tmp_path / "rec.json"
    d.launch([*APP, "--state", str(state)])
    d.wait_window("--name", "wf fixture")
    time.sleep(0.4)
    out = tmp_path / "b"
    rec = RecorderProc(out, d.env(), "--fps", "10")
    for _ in range(5):  # five clicks on Increment, then shifted typing in the entry and a held drag
        d.xdotool("mousemove", 100, 40)
        time.sleep(0.15)
        d.xdotool("click", "1")
        time.sleep(0.35)
    d.xdotool("mousemove", 100, 235, "click", "1")
    time.sleep(0.3)
    d.xdotool("keydown", "shift", "type", "--delay", "60", "wf")
    d.xdotool("keyup", "shift")
    d.xdotool("mousemove", 40, 235, "mousedown", "1")
    time.sleep(0.3)
    d.xdotool("mousemove", 300, 235)
    time.sleep(0.3)
    d.xdotool("mouseup", "1")
    time.sleep(0.5)
    rec.signal(signal.SIGTERM)
    assert rec.wait() == 0, rec.stderr
    assert json.loads(state.read_text())["counter"] == 5
    d.kill_apps()

    crasher = tmp_path / "crasher.py"
    crasher.write_text(CRASHER.format(app=str(FIXTURES / "app.py"), limit=2))
    live = new_display()
    rep_state = tmp_path / "rep.json"
    report = tmp_path / "report.json"
    launch = shlex.join([sys.executable, str(crasher), str(rep_state)])
    res = subprocess.run([*WF, "replay", str(out), "--launch", launch, "--report", str(report),
                          "--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000"],
                         env=live.env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    crashed_at = json.loads(rep_state.read_text())["counter"]
    assert crashed_at in (2, 3)  # the app really died mid-run (3: the wrapper was slow on a loaded machine)
    rep = json.loads(report.read_text())
    assert rep["passed"] is False
    failures = rep["verdict"]["failures"]
    assert failures and any(f["step"] is not None for f in failures), failures
    first = failures[0]
    # Steps 0 and 1 (two clicks) happened before the crash: the first failure is the click after the crash
    # (step 2, the third click) — its window is gone (`window`: the replay stops there), or, replayed at
    # screen coordinates, its pre-action screen no longer shows the app (`screen`); the summary on stderr
    # names its event.
    assert first["check"] in ("window", "screen") and first["step"] in (crashed_at, crashed_at + 1), failures
    assert f"event {first['event']}" in res.stderr, res.stderr
    held, buttons = held_input(live)
    assert not held, f"keycodes still down after the replay: {held}"
    assert not buttons, f"buttons still down after the replay: mask {buttons:#x}"



def test_linefeed_keysym_types_a_newline() -> None:
    """`xdotool type $'a\\nb'` sends the Linefeed keysym on a borrowed keycode; X (XLookupString) turns it into
    "\\n", like Return, so the recorded `char` should be "\\n" — today it is None and the newline is lost from
    the typed text."""
    from wf.recorder.keys import keysym_char

    assert keysym_char(0xFF0D) == "\n"  # Return
    assert keysym_char(0xFF0A) == "\n"  # Linefeed

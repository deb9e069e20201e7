"""Replay on a desktop as people have one: the recorded start state, windows elsewhere, screens that tick,
an app slower than it was, and Ctrl+C at any moment — real Xvfb, real apps, real input, with and without
a window manager (openbox).

The bundles come from ``ScriptedRecording`` (real X RECORD capture of xdotool input) with the header's
``start`` read from the display the way the recorder reads it (tests/desktopkit.py); the same scenarios
recorded by `wf record` itself are in tests/pending_replay_recorded.py (collected once the recorder writes
the start state).
"""

from __future__ import annotations

import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from desktopkit import (
    FAST_FAIL,
    LOADED,
    app_cmd,
    client_origin,
    desktop_state,
    fixture_session,
    items,
    read_state,
    replay,
    rewrite_bundle,
    status,
    wait_bytes,
    without_start,
    write_bundle,
    xterm_cat,
)
from xrig import WF, Display, require

from wf.bundle.events import Event, HeldKey, KeyDown, KeyUp, Locks, MouseDown, MouseMove, StartState, Volatile
from wf.replayer.scripted import ScriptedRecording

pytestmark = [pytest.mark.display, pytest.mark.slow]


# -- the start state ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("wm", [False, True], ids=["bare", "openbox"])
def test_typing_without_touching_the_mouse_replays_byte_identical(new_display: Callable[..., Display],
                                                                    tmp_path: Path, wm: bool) -> None:
    """The pointer was over the terminal before recording began and never moved: restored, every key lands."""
    require("xterm")
    d = new_display(wm=wm)
    xterm = xterm_cat
    rec_out, rep_out, bare_out = tmp_path / "rec.txt", tmp_path / "rep.txt", tmp_path / "bare.txt"
    d.launch(xterm(rec_out))
    d.wait_window("--class", "xterm")
    time.sleep(0.8)
    d.xdotool("mousemove", 120, 60)
    time.sleep(0.2)
    text = "no mouse: Tab\there ~!@#$%^&*()_+{}|:\"<>?"
    with ScriptedRecording(d.name, tmp_path / "b", launch=xterm(rep_out), start=desktop_state(d)) as rec:
        rec.pre()
        d.xdotool("type", "--delay", "25", text)
        d.xdotool("key", "--delay", "25", "Return", "ctrl+d")
        time.sleep(0.5)
    expected = (text + "\n").encode()
    assert wait_bytes(rec_out) == expected
    assert not any(isinstance(e, MouseMove) for e in _events(tmp_path / "b"))
    on = new_display(wm=True) if wm else None
    code, report, err = replay(tmp_path / "b", on=on)
    assert code == 0, err  # unverified at best: no screen was recorded between the typed steps
    assert wait_bytes(rep_out) == expected
    assert items(report)["pointer"] in ("restored", "as recorded")
    assert items(report)["focus"] in ("restored", "as recorded")
    if not wm:  # without a window manager the pointer decides where keys go: that is what was restored
        assert items(report)["pointer"] == "restored"
        rewrite_bundle(tmp_path / "b", header=without_start)
        code, report, _ = replay(tmp_path / "b", "--launch", xterm(bare_out), *FAST_FAIL)
        assert code == 1 and wait_bytes(bare_out, 1.0) == b""  # the same bundle without its start state
        assert items(report) == {"start": "not recorded"}


def test_caps_lock_on_at_recording_is_switched_on_first(new_display: Callable[..., Display],
                                                        tmp_path: Path) -> None:
    d = new_display()
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    d.xdotool("key", "Caps_Lock")
    d.xdotool("mousemove", 100, 235)
    time.sleep(0.2)
    start = desktop_state(d)
    assert start.locks is not None and start.locks.caps
    with ScriptedRecording(d.name, tmp_path / "b", launch=app_cmd(tmp_path / "rep.json"), start=start) as rec:
        rec.pre()
        d.xdotool("click", "1")
        time.sleep(0.3)
        rec.pre()
        d.xdotool("type", "--delay", "40", "abc")
        time.sleep(0.3)
    assert read_state(tmp_path / "rec.json")["text"] == "ABC"
    code, report, err = replay(tmp_path / "b")
    assert code == 0, err
    assert read_state(tmp_path / "rep.json")["text"] == "ABC"
    assert items(report)["caps_lock"] == "restored"
    rewrite_bundle(tmp_path / "b", header=without_start)
    code, _, _ = replay(tmp_path / "b", "--launch", app_cmd(tmp_path / "bare.json"), *FAST_FAIL)
    assert code == 1 and read_state(tmp_path / "bare.json")["text"] == "abc"


def test_a_key_held_across_the_start_is_held_again(new_display: Callable[..., Display], tmp_path: Path) -> None:
    """Shift was down before recording began and released during it: 'abc' came out 'ABC', then 'd'."""
    require("xterm")
    d = new_display()
    rec_out, rep_out = tmp_path / "rec.txt", tmp_path / "rep.txt"
    d.launch(xterm_cat(rec_out))
    d.wait_window("--class", "xterm")
    time.sleep(0.8)
    d.xdotool("mousemove", 120, 60)
    time.sleep(0.2)
    d.xdotool("keydown", "shift")
    start = desktop_state(d)
    assert [k.key for k in start.keys] == ["shift"]
    with ScriptedRecording(d.name, tmp_path / "b", launch=xterm_cat(rep_out), start=start) as rec:
        rec.pre()
        d.xdotool("type", "--delay", "40", "abc")
        time.sleep(0.2)
        d.xdotool("keyup", "shift")
        rec.pre()
        d.xdotool("type", "--delay", "40", "d")
        d.xdotool("key", "--delay", "25", "Return", "ctrl+d")
        time.sleep(0.5)
    assert wait_bytes(rec_out) == b"ABCd\n"
    evs = _events(tmp_path / "b")
    assert not any(isinstance(e, KeyDown) and e.key == "shift" for e in evs)  # its press predates the recording
    assert any(isinstance(e, KeyUp) and e.key == "shift" for e in evs)
    code, report, err = replay(tmp_path / "b")
    assert code == 0, err
    assert wait_bytes(rep_out) == b"ABCd\n"
    assert items(report)["held"] == "restored"
    assert report["stats"]["sequence_identical"] is True  # type: ignore[index]


# -- windows elsewhere -------------------------------------------------------------------------------------

@pytest.mark.parametrize("wm", [False, True], ids=["bare", "openbox"])
def test_a_window_placed_elsewhere_is_followed(new_display: Callable[..., Display], tmp_path: Path,
                                               wm: bool) -> None:
    d = new_display(wm=wm)
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.6)
    d.xdotool("mousemove", 100, 100)
    elsewhere = app_cmd(tmp_path / "rep.json", geometry="420x320+500+300")
    with ScriptedRecording(d.name, tmp_path / "b", launch=elsewhere, start=desktop_state(d)) as rec:
        fixture_session(d, rec, client_origin(d, "wf fixture"))
    recorded = read_state(tmp_path / "rec.json")
    assert (recorded["counter"], recorded["text"], recorded["confirmed"]) == (2, "moved", 1)
    code, report, err = replay(tmp_path / "b", on=new_display(wm=True) if wm else None)
    assert code == 0 and status(report) == "verified", err  # every step's effect seen, the window elsewhere
    assert read_state(tmp_path / "rep.json") == recorded
    (win,) = report["desktop"]["windows"]  # type: ignore[index]
    assert win["live"][:2] == [500, 300] and win["events"] >= 10 and win["match"] == "class+title"
    assert report["stats"]["pointer_max_px"] == 0.0  # type: ignore[index]
    # Raw screen coordinates click beside the window: nothing happens, and the verdict says so.
    code, _, _ = replay(tmp_path / "b", "--anchor", "screen", "--launch",
                        app_cmd(tmp_path / "screen.json", geometry="420x320+500+300"), *FAST_FAIL,
                        on=new_display(wm=True) if wm else None)
    assert code == 1 and read_state(tmp_path / "screen.json")["counter"] == 0


def test_a_window_that_is_missing_is_a_named_failure(new_display: Callable[..., Display], tmp_path: Path) -> None:
    d = new_display()
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    with ScriptedRecording(d.name, tmp_path / "b", start=desktop_state(d)) as rec:
        fixture_session(d, rec, (0, 0))
    code, report, err = replay(tmp_path / "b", "--launch", "xterm -geometry 40x5+600+600", *FAST_FAIL)
    assert code == 1, err
    first = report["verdict"]["failures"][0]  # type: ignore[index]
    assert first["check"] == "window" and "'wf fixture'" in first["message"] and first["step"] is not None
    assert "not found" in err


# -- screens that tick, apps that are slow -----------------------------------------------------------------

def test_a_ticking_clock_passes_without_ignore_region(new_display: Callable[..., Display], tmp_path: Path) -> None:
    """The recording's volatile region (the clock) is never compared; the rest of the screen still is."""
    require("xclock")
    d = new_display()
    clock = "xclock -geometry 120x120+600+0 -update 1"
    d.launch(shlex.split(clock))
    d.wait_window("--class", "XClock")
    d.launch(app_cmd(tmp_path / "rec.json"))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)

    def both(state: Path) -> str:
        return shlex.join(["sh", "-c", f"{clock} & exec {app_cmd(state)}"])

    with ScriptedRecording(d.name, tmp_path / "b", launch=both(tmp_path / "rep.json"), start=desktop_state(d)) as rec:
        for _ in range(2):
            d.xdotool("mousemove", 100, 40)
            time.sleep(1.2)
            rec.pre()
            d.xdotool("click", "1")
            time.sleep(0.3)
    # What `wf record` writes for a region that changed twice with nobody touching anything; the same
    # bundle with the region beside the clock is the control: the mask hides what it covers and no more.
    shutil.copytree(tmp_path / "b", tmp_path / "beside")
    end = _events(tmp_path / "b")[-1].t
    rewrite_bundle(tmp_path / "b", add=[Volatile(t=end, x=600, y=0, width=122, height=122, changes=2)])
    rewrite_bundle(tmp_path / "beside", add=[Volatile(t=end, x=600, y=200, width=122, height=122, changes=2)])
    code, report, err = replay(tmp_path / "b")
    assert code == 0 and status(report) == "verified", err
    assert read_state(tmp_path / "rep.json")["counter"] == 2
    assert report["desktop"]["volatile_regions"] == [[600, 0, 122, 122]]  # type: ignore[index]
    code, report, _ = replay(tmp_path / "beside", "--launch", both(tmp_path / "beside.json"), *FAST_FAIL)
    assert code == 1 and status(report) == "failed"


@pytest.mark.parametrize("wm", [False, True], ids=["bare", "openbox"])
def test_a_dialog_two_seconds_late_passes_a_plain_replay(new_display: Callable[..., Display], tmp_path: Path,
                                                         wm: bool) -> None:
    """Recorded against an instant app, replayed against one whose dialog opens 2 s later: waited for."""
    d = new_display(wm=wm)
    d.launch(app_cmd(tmp_path / "rec.json", dialog=wm))
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    d.xdotool("mousemove", 60, 60)
    with ScriptedRecording(d.name, tmp_path / "b", start=desktop_state(d),
                           launch=app_cmd(tmp_path / "rep.json", delay=2.0, dialog=wm,
                                          geometry="420x320+300+200" if wm else "420x320+0+0")) as rec:
        ox, oy = client_origin(d, "wf fixture")
        d.xdotool("mousemove", ox + 100, oy + 140)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("click", "1")  # Open
        if wm:
            d.wait_window("--name", "wf dialog")
            time.sleep(0.5)
            cx, cy = client_origin(d, "wf dialog")
            target = (cx + 120, cy + 60)
        else:
            time.sleep(0.4)
            target = (ox + 300, oy + 140)
        d.xdotool("mousemove", *target)
        time.sleep(0.2)
        rec.pre()
        d.xdotool("click", "1")  # Confirm
        time.sleep(0.5)
    assert read_state(tmp_path / "rec.json")["confirmed"] == 1
    code, report, err = replay(tmp_path / "b", on=new_display(wm=True) if wm else None)
    assert code == 0, err
    assert read_state(tmp_path / "rep.json")["confirmed"] == 1
    assert status(report) == "verified", err
    waited = [c["waited"] for c in report["checkpoints"] if c["label"] == "pre"]  # type: ignore[index]
    waited += [s["waited"] or 0.0 for s in report["steps"]]  # type: ignore[attr-defined,index]
    waited += [w["waited"] for w in report["desktop"]["windows"]]  # type: ignore[index]
    assert max(waited) > 1.0  # for the screen (Open's effect), or for the dialog's window to appear
    if wm:  # the dialog was placed by the window manager relative to a main window that is elsewhere too
        assert {w["title"] for w in report["desktop"]["windows"]} == {"wf fixture", "wf dialog"}  # type: ignore[index]


# -- Ctrl+C ------------------------------------------------------------------------------------------------

def test_ctrl_c_at_random_moments_leaves_nothing_held(new_display: Callable[..., Display], tmp_path: Path) -> None:
    """20 replays stopped by SIGINT or SIGTERM at a random moment (starting, launching, restoring the start
    state, holding keys and a button, moving the pointer): every one exits within 1 s with no key or
    button down, autorepeat back on and the Caps Lock the restore turned on turned off again. The SIGINT
    ones start with SIGINT ignored, as a CI script's background jobs do."""
    from test_replay_driver import xkeyboard

    d = new_display()
    start = StartState(pointer=(300, 300), keys=[HeldKey(key="ctrl", keysym=0xFFE3, keycode=37)],
                       locks=Locks(caps=True, num=False, scroll=False))
    evs: list[Event] = [MouseMove(t=0.05, x=100, y=235), MouseDown(t=0.1, x=100, y=235, button="left"),
                        KeyDown(t=0.3, key="shift", keysym=0xFFE1, keycode=50),
                        KeyDown(t=0.35, key="a", char="A", keysym=0x41, keycode=38)]
    evs += [MouseMove(t=0.4 + i * 0.002, x=100 + i % 300, y=235) for i in range(1500)]
    evs += [MouseMove(t=30.0, x=110, y=235), KeyUp(t=30.1, key="ctrl", keysym=0xFFE3, keycode=37)]
    b = write_bundle(tmp_path / "b", evs, start=start, launch=app_cmd(tmp_path / "state.json"))
    rng = random.Random(14)
    took_all = []
    for n in range(20):
        sig = (signal.SIGINT, signal.SIGTERM)[n % 2]
        # Every SIGINT replay starts with SIGINT ignored, as a CI script's background job does: wf must
        # still stop on it, also in the half second before its own handlers are up.
        proc = subprocess.Popen([*WF, "replay", str(b), *LOADED], env=d.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, preexec_fn=_ignore_sigint if sig == signal.SIGINT else None)
        delay = rng.uniform(0.0, 4.5)
        try:
            time.sleep(delay)
            t0 = time.monotonic()
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                took = float("inf")  # reported below with what the replay had printed by then
            else:
                took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode() if proc.stderr else ""
        pressed, buttons, repeat = xkeyboard(d)
        took_all.append(took)
        assert took < 1.0, (n, sig, f"signal {delay:.2f} s after the start", took, err)
        assert proc.returncode in (130, -sig), (n, proc.returncode, err)  # -sig: it came before Python was up
        assert (pressed, buttons, repeat) == ([], 0, True), (n, err)
        assert desktop_state(d).locks == Locks(caps=False, num=False, scroll=False), (n, err)
        assert "Traceback" not in err, err
    print(f"exit after the signal: max {max(took_all):.2f} s, median {sorted(took_all)[10]:.2f} s")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _events(bundle: Path) -> list[Event]:
    from wf.bundle.reader import Bundle

    return list(Bundle.open(bundle).events())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

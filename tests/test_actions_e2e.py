"""Actions end to end on real X: the fixture app, driven for real, reduced, and replayed with pyautogui.

1. ``test_program_reproduces_the_final_state``: a bundle holding the events a person makes doing the
   fixture task is reduced; the generated pyautogui program, run against a fresh fixture app on Xvfb, must
   leave it in the expected state (counter, text, scroll, …) — exercising every renderer for real.
2. ``test_recorded_session_reduces_to_the_script``: the same task driven with xdotool while `wf record`
   records it; the action list must equal the script, and the program must reproduce the recorded app's
   final state in a fresh app. Skipped only while `wf record` does not exist.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from actionkit import Stream
from xrig import FIXTURES, WF, Display, wf

from wf.bundle.actions import load_actions, to_pyautogui_program
from wf.bundle.events import Header, Monitor, PlatformInfo, RecorderInfo, ScreenGeometry, Window
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter

pytestmark = pytest.mark.display

APP = [sys.executable, str(FIXTURES / "app.py")]
EXPECTED_STATE = {"counter": 3, "text": "XBye", "opened": True, "confirmed": 1, "right_clicks": 1, "scroll": 2}
# The task as steps: (kind, description without the window) — what `wf inspect --actions` should read like.
SCRIPT = [
    ("click", "click left at (100, 40)"),
    ("click", "click left ×2 at (100, 40)"),
    ("click", "click left at (200, 235)"),
    ("type", "type 'Helo'"),
    ("key", "key backspace"),
    ("type", "type 'lo World'"),
    ("drag", None),  # select all of the entry's text right to left
    ("type", "type 'Bye'"),
    ("hotkey", "hotkey ctrl+a"),  # Tk entry: go to line start
    ("type", "type 'X'"),
    ("scroll", "scroll up 3 at (200, 285)"),
    ("scroll", "scroll down 1 at (200, 285)"),
    ("click", "click right at (300, 90)"),
    ("click", "click left at (100, 140)"),  # Open: Confirm appears after --delay
    ("click", "click left at (300, 140)"),
]


def launch_app(d: Display, state: Path, delay: float = 0.5) -> None:
    d.launch([*APP, "--state", str(state), "--delay", str(delay)])
    d.wait_window("--class", "WfFixture")
    deadline = time.monotonic() + 10
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)


def read_state(state: Path) -> dict[str, object]:
    return json.loads(state.read_text())  # type: ignore[no-any-return]


def header(d: Display) -> Header:
    return Header(format="wf-bundle", version=1, started="2026-11-27T00:00:00+00:00",
                  recorder=RecorderInfo(name="test", version="0"), platform=PlatformInfo(system="Linux"),
                  screen=ScreenGeometry(width=d.width, height=d.height,
                                        monitors=[Monitor(x=0, y=0, width=d.width, height=d.height)]),
                  task="Use every widget of the fixture app")


def person_events() -> Stream:
    """The fixture task as the events a person's input produces (recorder conventions: key names are
    lowercase, `char` is what was typed, Shift is pressed around capitals)."""
    s = Stream()
    s.events.append(Window(t=0.0, title="wf fixture", wm_class="WfFixture", id=4242))
    s.move(100, 40, dt=0.2)
    s.click(100, 40, dt=0.3)
    s.click(100, 40, dt=0.6)
    s.click(100, 40, dt=0.1)
    s.move(200, 235, dt=0.5)
    s.click(200, 235, dt=0.3)
    s.type("Helo", dt=0.3)
    s.press("backspace", dt=0.3)
    s.type("lo World", dt=0.12)
    s.move(395, 235, dt=0.6)
    s.down(395, 235, dt=0.3)
    for x in (300, 200, 100, 40, 21):
        s.move(x, 235, dt=0.05)
    s.up(21, 235)
    s.type("Bye", dt=0.5)
    s.key_down("ctrl", dt=0.6)
    s.press("a")
    s.key_up("ctrl")
    s.type("X", dt=0.3)
    s.move(200, 285, dt=0.5)
    for _ in range(3):
        s.scroll(200, 285, dy=1, dt=0.1)
    s.scroll(200, 285, dy=-1, dt=0.8)
    s.move(300, 90, dt=0.5)
    s.click(300, 90, button="right", dt=0.3)
    s.move(100, 140, dt=0.5)
    s.click(100, 140, dt=0.3)
    s.move(300, 140, dt=0.5)
    s.click(300, 140, dt=0.5)
    s.stop(dt=1.0)
    return s


def write_bundle(path: Path, hdr: Header, s: Stream) -> None:
    with BundleWriter(path, hdr) as w:
        for ev in s.events:
            w.write(ev)


def run_program(d: Display, program: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    script = tmp / "replay.py"
    script.write_text(program)
    return subprocess.run([sys.executable, str(script)], env=d.env(), capture_output=True, text=True,
                          timeout=120)


def check_script(actions: list) -> None:
    got = [(a.kind, a.describe().removesuffix(f" in {a.window!r}")) for a in actions
           if a.kind not in ("move", "wait")]
    assert [k for k, _ in got] == [k for k, _ in SCRIPT], got
    for (kind, desc), (_, want) in zip(got, SCRIPT, strict=True):
        if want is not None:
            assert desc == want, (kind, desc)


def test_program_reproduces_the_final_state(app_display: Display, tmp_path: Path) -> None:
    bundle = tmp_path / "task"
    write_bundle(bundle, header(app_display), person_events())
    actions = load_actions(Bundle.open(bundle))
    check_script(actions)
    drag = next(a for a in actions if a.kind == "drag")
    assert (drag.x, drag.y, drag.end_x, drag.end_y) == (395, 235, 21, 235)

    res = wf("inspect", bundle, "--pyautogui")  # the CLI path the user takes
    assert res.returncode == 0, res.stderr
    assert res.stdout == to_pyautogui_program(actions, Bundle.open(bundle).header)

    state = tmp_path / "state.json"
    launch_app(app_display, state)
    run = run_program(app_display, res.stdout, tmp_path)
    assert run.returncode == 0, run.stderr
    time.sleep(0.3)
    assert read_state(state) == EXPECTED_STATE


def test_untimed_program_with_unit_coordinates_also_reproduces_it(app_display: Display, tmp_path: Path) -> None:
    bundle = tmp_path / "task"
    write_bundle(bundle, header(app_display), person_events())
    b = Bundle.open(bundle)
    # No recorded gaps (timing=False): an app without the Open delay keeps up with back-to-back steps.
    program = to_pyautogui_program(load_actions(b), b.header, coords="unit", timing=False, pause=0.15)
    assert "X(0.078125), Y(0.05)" in program  # (100, 40) on 1280×800
    assert "time.sleep" not in program
    assert "pyautogui.PAUSE = 0.15" in program
    state = tmp_path / "state.json"
    launch_app(app_display, state, delay=0.0)
    run = run_program(app_display, program, tmp_path)
    assert run.returncode == 0, run.stderr
    time.sleep(0.3)
    assert read_state(state) == EXPECTED_STATE


def test_inspect_actions_table_and_json(tmp_path: Path) -> None:
    bundle = tmp_path / "task"
    hdr = Header(format="wf-bundle", version=1, started="2026-11-27T00:00:00+00:00",
                 recorder=RecorderInfo(name="test", version="0"), platform=PlatformInfo(system="Linux"),
                 screen=ScreenGeometry(width=1280, height=800, monitors=[]))
    write_bundle(bundle, hdr, person_events())
    table = wf("inspect", bundle, "--actions", env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert table.returncode == 0, table.stderr
    assert "type 'lo World'" in table.stdout and "hotkey ctrl+a" in table.stdout
    assert "wf fixture" in table.stdout
    res = wf("inspect", bundle, "--actions", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [a["kind"] for a in data] == [a.kind for a in load_actions(Bundle.open(bundle))]
    assert data[0]["index"] == 0 and "pre_screen" in data[0]
    summary = json.loads(wf("inspect", bundle, "--json").stdout)  # the summary is unchanged
    assert summary["events"] == len(person_events().events)
    bad = wf("inspect", bundle, "--pyautogui", "--coords", "inches")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


# -- with the real recorder --------------------------------------------------------------------
def record_available() -> bool:
    res = wf("record", "--help")
    return res.returncode == 0


def drive(d: Display) -> None:
    """The fixture task with real input (xdotool), paced like a person."""
    x = d.xdotool

    def at(px: int, py: int, pause: float = 0.3) -> None:
        x("mousemove", px, py)
        time.sleep(pause)

    at(100, 40)
    x("click", 1)
    time.sleep(0.6)
    x("click", "--repeat", 2, "--delay", 80, 1)
    time.sleep(0.6)
    at(200, 235)
    x("click", 1)
    time.sleep(0.3)
    x("type", "--delay", 120, "Helo")
    time.sleep(0.3)
    x("key", "BackSpace")
    time.sleep(0.3)
    x("type", "--delay", 120, "lo World")
    time.sleep(0.6)
    at(395, 235)
    x("mousedown", 1)
    for px in (300, 200, 100, 40, 21):
        x("mousemove", px, 235)
        time.sleep(0.05)
    x("mouseup", 1)
    time.sleep(0.5)
    x("type", "--delay", 120, "Bye")
    time.sleep(0.6)
    x("key", "ctrl+a")
    time.sleep(0.3)
    x("type", "X")
    time.sleep(0.5)
    at(200, 285)
    x("click", "--repeat", 3, "--delay", 100, 4)
    time.sleep(0.8)
    x("click", 5)
    time.sleep(0.5)
    at(300, 90)
    x("click", 3)
    time.sleep(0.5)
    at(100, 140)
    x("click", 1)
    time.sleep(1.0)
    at(300, 140)
    x("click", 1)
    time.sleep(1.0)


def start_recording(d: Display, out: Path, timeout: float = 30) -> subprocess.Popen[bytes]:
    """`wf record OUT` on ``d``, returned once its start notice (a line with "stop:") is on stderr."""
    proc = subprocess.Popen([*WF, "record", str(out), "--task", "fixture task"], env=d.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0)
    assert proc.stderr is not None
    notice = b""
    deadline = time.monotonic() + timeout
    while b"stop:" not in notice:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"wf record did not become ready: {notice!r}{proc.communicate()[1]!r}")
        if select.select([proc.stderr], [], [], left)[0]:
            notice += os.read(proc.stderr.fileno(), 4096)  # unbuffered: select must see what is left
    return proc


def record_session(d: Display, out: Path, script: Callable[[Display], None]) -> None:
    """Record ``out`` with `wf record` while ``script`` drives the display; stop it as a person would (^C)."""
    proc = start_recording(d, out)
    try:
        script(d)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert (out / "events.jsonl").exists(), err.decode(errors="replace")


@pytest.mark.slow
def test_recorded_session_reduces_to_the_script(new_display, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not record_available():
        pytest.skip("`wf record` is not available yet")
    d = new_display()
    state = tmp_path / "recorded-state.json"
    launch_app(d, state)
    out = tmp_path / "rec"
    record_session(d, out, drive)
    recorded = read_state(state)
    assert recorded == EXPECTED_STATE  # the person's task really happened
    b = Bundle.open(out)
    actions = load_actions(b)
    check_script(actions)
    assert all(a.window == "wf fixture" for a in actions if a.kind not in ("wait", "mark")), \
        [(a.kind, a.window) for a in actions]
    assert all(a.pre_screen for a in actions), [a for a in actions if not a.pre_screen]

    d.kill_apps()
    fresh = tmp_path / "replayed-state.json"
    launch_app(d, fresh)
    run = run_program(d, to_pyautogui_program(actions, b.header), tmp_path)
    assert run.returncode == 0, run.stderr
    time.sleep(0.5)
    assert read_state(fresh) == recorded

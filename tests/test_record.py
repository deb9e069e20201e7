"""`wf record` end to end: real Xvfb, real apps, input injected with xdotool while the recorder runs."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from xrig import FIXTURES, WF, Display, wf

from wf.bundle.events import KeyDown, KeyUp, MouseDown, Redacted, Screen, Scroll, Stop, Window
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb

pytestmark = pytest.mark.display

APP = [sys.executable, str(FIXTURES / "app.py")]


class Recording:
    """A `wf record` subprocess that has announced it is capturing."""

    def __init__(self, proc: subprocess.Popen[bytes], out: Path, notice: str) -> None:
        self.proc = proc
        self.out = out
        self.notice = notice
        self.stderr = notice
        self.rc: int | None = None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        _, err = self.proc.communicate(timeout=timeout)
        self.stderr += (err or b"").decode(errors="replace")
        self.rc = self.proc.returncode
        return self.rc

    def bundle(self) -> Bundle:
        return Bundle.open(self.out)


@contextmanager
def recording(d: Display, out: Path, *args: str, ready_timeout: float = 20) -> Iterator[Recording]:
    """Start `wf record OUT args` on display ``d``; yields once its start notice says it is capturing."""
    proc = subprocess.Popen([*WF, "record", str(out), *args], env=d.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    notice = b""
    deadline = time.monotonic() + ready_timeout
    while b"stop:" not in notice:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            proc.kill()
            rest = proc.communicate()[1]
            raise AssertionError(f"wf record did not become ready: {(notice + rest).decode()}")
        if select.select([fd], [], [], left)[0]:
            notice += os.read(fd, 4096)
    rec = Recording(proc, out, notice.decode())
    try:
        yield rec
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def events_of(rec: Recording) -> list:
    return list(rec.bundle().events())


def keys_typed(events: list) -> str:
    return "".join(e.char or "" for e in events if type(e) is KeyDown)


def assert_valid(path: Path) -> None:
    res = wf("validate", path)
    assert res.returncode == 0, res.stdout + res.stderr


def pre_screen_before(events: list, i: int) -> Screen:
    """The `pre` screen line right before event ``i``."""
    prev = events[i - 1]
    assert type(prev) is Screen and prev.reason == "pre", f"no pre screen before {events[i]}: {prev}"
    return prev


def crop(path: Path, box: tuple[int, int, int, int]) -> np.ndarray:
    rgb, w, h = load_rgb(path)
    a = np.frombuffer(rgb, dtype=np.uint8).reshape(h, w, 3)
    x0, y0, x1, y1 = box
    return a[y0:y1, x0:x1]


def screen_crop(d: Display, box: tuple[int, int, int, int]) -> np.ndarray:
    rgb, w, h = d.screenshot_rgb()
    x0, y0, x1, y1 = box
    return np.frombuffer(rgb, dtype=np.uint8).reshape(h, w, 3)[y0:y1, x0:x1]


@pytest.fixture
def xterm(app_display: Display) -> Display:
    app_display.launch("xterm -geometry 80x24+0+0 -T wf-xterm")
    app_display.wait_window("--name", "wf-xterm")
    app_display.xdotool("mousemove", 200, 150)  # no window manager: focus follows the pointer
    time.sleep(0.3)
    return app_display


def test_typing_into_xterm_exact_keys_text_and_window(xterm: Display, tmp_path: Path) -> None:
    out = tmp_path / "typing"
    with recording(xterm, out, "--fps", "10") as rec:
        xterm.xdotool("type", "--delay", "30", "Hello, World!")
        xterm.xdotool("key", "Return")
        time.sleep(0.4)
        assert rec.stop(signal.SIGTERM) == 0, rec.stderr
    assert "capturing" in rec.notice and "ctrl+alt+shift+s" in rec.notice
    assert_valid(out)
    events = events_of(rec)
    assert keys_typed(events) == "Hello, World!\n"
    downs = [e for e in events if type(e) is KeyDown]
    ups = [e for e in events if type(e) is KeyUp]
    assert [e.key for e in downs if e.key != "shift"] == list("hello,") + ["space"] + list("world!") + ["enter"]
    assert sum(1 for e in downs if e.key == "shift") == 3  # H, W, !
    # every press has a release of the same physical key carrying the same identity
    for down in downs:
        up = next(u for u in ups if u.keycode == down.keycode and u.t >= down.t)
        assert (up.key, up.char, up.keysym) == (down.key, down.char, down.keysym)
    bang = next(e for e in downs if e.char == "!")
    assert (bang.key, bang.keysym, bang.keycode) == ("!", 0x21, 10)
    wins = [e for e in events if type(e) is Window]
    assert wins and wins[0].title == "wf-xterm" and wins[0].wm_class == "xterm.XTerm"
    assert wins[0].pid and wins[0].width > 400
    # typing starts one action: a pre screen right before the first key press (the first shift)
    first_key = next(i for i, e in enumerate(events) if type(e) is KeyDown)
    assert pre_screen_before(events, first_key).captured < events[first_key].t
    assert type(events[-1]) is Stop and events[-1].reason == "signal" and events[-1].dropped == 0
    assert type(events[0]) is Screen and events[0].reason == "start"
    assert any(type(e) is Screen and e.reason == "stop" for e in events)


def test_clicks_scrolls_and_pre_action_screens_on_fixture_app(app_display: Display, tmp_path: Path) -> None:
    d = app_display
    state = tmp_path / "state.json"
    d.launch([*APP, "--state", str(state)])
    d.wait_window("--name", "wf fixture")
    time.sleep(0.5)
    out = tmp_path / "clicks"
    label = (220, 20, 400, 60)  # the counter label
    seen: list[np.ndarray] = []
    with recording(d, out, "--fps", "10", "--stop-key", "ctrl+alt+shift+q") as rec:
        for _ in range(3):
            d.xdotool("mousemove", 100, 40)
            time.sleep(0.6)  # the screen settles: a stable frame exists before the click
            seen.append(screen_crop(d, label))
            d.xdotool("click", 1)
        d.xdotool("mousemove", 300, 285)
        time.sleep(0.3)
        for _ in range(3):
            d.xdotool("click", 4)
        time.sleep(0.8)
        d.xdotool("click", 5)
        d.xdotool("mousemove", 300, 200, "click", 3)
        time.sleep(0.5)
        d.xdotool("key", "ctrl+alt+shift+q")  # stop hotkey: its keys must not appear
        assert rec.wait() == 0, rec.stderr
    assert json.loads(state.read_text())["counter"] == 3
    assert_valid(out)
    events = events_of(rec)
    assert type(events[-1]) is Stop and events[-1].reason == "hotkey"
    assert not [e for e in events if type(e) in (KeyDown, KeyUp)], "control chord leaked into the data"
    downs = [(i, e) for i, e in enumerate(events) if type(e) is MouseDown]
    assert [(e.x, e.y, e.button) for _, e in downs] == [(100, 40, "left")] * 3 + [(300, 200, "right")]
    scrolls = [e for e in events if type(e) is Scroll]
    assert [(e.x, e.y, e.dx, e.dy) for e in scrolls] == [(300, 285, 0, 1)] * 3 + [(300, 285, 0, -1)]
    assert events[events.index(scrolls[0]) - 1].reason == "pre"  # first notch of a burst
    assert type(events[events.index(scrolls[1]) - 1]) is not Screen
    assert events[events.index(scrolls[3]) - 1].reason == "pre"  # a new burst after a pause
    # The pre screen of each increment click shows the counter exactly as it was before that click.
    pre_paths = []
    for k, (i, ev) in enumerate(downs[:3]):
        pre = pre_screen_before(events, i)
        assert pre.t == ev.t and pre.captured < ev.t
        assert np.array_equal(crop(rec.bundle().screen_path(pre.path), label), seen[k]), f"click {k}"
        pre_paths.append(pre.path)
    assert len(set(pre_paths)) == 3  # three different counter states
    assert any(type(e) is Screen and e.reason == "post" for e in events)


def test_window_events_follow_the_pointer_without_a_window_manager(app_display: Display, tmp_path: Path) -> None:
    d = app_display
    d.launch([*APP, "--geometry", "420x320+0+0"])
    d.wait_window("--name", "wf fixture")
    d.launch("xterm -geometry 60x20+600+300 -T second-window")
    d.wait_window("--name", "second-window")
    d.xdotool("mousemove", 100, 100)
    time.sleep(0.3)
    out = tmp_path / "windows"
    with recording(d, out) as rec:
        d.xdotool("mousemove", 700, 400)
        time.sleep(0.4)
        d.xdotool("mousemove", 1200, 780)  # bare root
        time.sleep(0.4)
        d.xdotool("mousemove", 50, 50)
        time.sleep(0.4)
        assert rec.stop(signal.SIGINT) == 0, rec.stderr
    titles = [e.title for e in events_of(rec) if type(e) is Window]
    assert titles == ["wf fixture", "second-window", "", "wf fixture"]


def test_excluded_window_keeps_timing_only(app_display: Display, tmp_path: Path) -> None:
    d = app_display
    d.launch("xterm -geometry 80x24+0+0 -T my-password-vault")
    d.wait_window("--name", "my-password-vault")
    d.launch("xterm -geometry 60x20+600+300 -T public-term")
    d.wait_window("--name", "public-term")
    d.xdotool("mousemove", 100, 100)
    time.sleep(0.3)
    out = tmp_path / "excluded"
    with recording(d, out, "--exclude-window", "vault", "--fps", "10") as rec:
        d.xdotool("type", "--delay", "20", "hunter2")
        time.sleep(0.3)
        d.xdotool("mousemove", 700, 400)
        time.sleep(0.4)
        d.xdotool("type", "--delay", "20", "ok")
        time.sleep(0.3)
        assert rec.stop() == 0, rec.stderr
    assert_valid(out)
    events = events_of(rec)
    text = (out / "events.jsonl").read_text()
    for secret in ("hunter2", '"h"', '"u"', '"2"'):
        assert secret not in text
    redacted = [e for e in events if type(e) is Redacted]
    assert len(redacted) == 14 and {e.kind for e in redacted} == {"key_down", "key_up"}
    assert keys_typed(events) == "ok"
    wins = [e for e in events if type(e) is Window]
    assert [(w.title, w.excluded) for w in wins] == [("my-password-vault", True), ("public-term", False)]
    # no screen belongs to the excluded typing: the first screen after "start" is the pre screen of "ok"
    first_red = events.index(redacted[0])
    last_red = events.index(redacted[-1])
    assert not [e for e in events[first_red:last_red] if type(e) is Screen]
    ok = next(i for i, e in enumerate(events) if type(e) is KeyDown)
    assert pre_screen_before(events, ok)


def test_pause_resume_and_mark(xterm: Display, tmp_path: Path) -> None:
    out = tmp_path / "pause"
    with recording(xterm, out) as rec:
        xterm.xdotool("type", "--delay", "20", "ab")
        xterm.xdotool("key", "ctrl+alt+shift+p")
        xterm.xdotool("type", "--delay", "20", "secret")
        xterm.xdotool("key", "ctrl+alt+shift+p")
        xterm.xdotool("type", "--delay", "20", "cd")
        xterm.xdotool("key", "ctrl+alt+shift+m")
        time.sleep(0.4)
        assert rec.stop() == 0, rec.stderr
    events = events_of(rec)
    assert keys_typed(events) == "abcd"
    names = [type(e).__name__ for e in events]
    assert names.index("Pause") < names.index("Resume") < names.index("Mark")
    assert not [e for e in events if type(e) in (KeyDown, KeyUp) and e.key in ("ctrl", "alt", "p", "m")]
    resume = names.index("Resume")
    assert [e.reason for e in events[resume:] if type(e) is Screen][:1] == ["resume"]


def test_kill_9_during_input_leaves_a_valid_bundle(xterm: Display, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    with recording(xterm, out, "--fps", "10") as rec:
        typer = subprocess.Popen(["xdotool", "type", "--delay", "25", "abcdefghij" * 20], env=xterm.env())
        time.sleep(1.5)
        killed_at = time.time()
        rec.proc.send_signal(signal.SIGKILL)
        rec.wait()
        typer.kill()
        typer.wait()
        xterm.xdotool("keyup", *"abcdefghij")  # a key left down would auto-repeat into later tests
    assert rec.rc == -signal.SIGKILL
    res = wf("validate", out)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "stop" in res.stdout + res.stderr  # the warning about the missing stop event
    b = Bundle.open(out)
    events = list(b.events())
    keys = [e for e in events if type(e) is KeyDown]
    assert keys and keys_typed(events) == ("abcdefghij" * 20)[:len(keys)]
    started = datetime.fromisoformat(b.header.started).timestamp()
    assert keys[-1].t >= killed_at - started - 0.5 - 0.1  # at most the last ~0.5 s lost


def test_launch_records_command_and_stops_when_the_app_exits(app_display: Display, tmp_path: Path) -> None:
    out = tmp_path / "launched"
    cmd = f"{sys.executable} -c 'import time; time.sleep(1.5)'"
    res = subprocess.run([*WF, "record", str(out), "--launch", cmd, "--quiet", "--task", "wait"],
                         env=app_display.env(), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    b = Bundle.open(out)
    assert b.header.launch == cmd and b.header.task == "wait"
    assert b.header.recorder.options["fps"] == 5
    assert (b.header.screen.width, b.header.screen.height) == (app_display.width, app_display.height)
    stop = list(b.events())[-1]
    assert type(stop) is Stop and stop.reason == "app-exited"
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert oct((out / "events.jsonl").stat().st_mode & 0o777) == "0o600"


def test_duration_stop(app_display: Display, tmp_path: Path) -> None:
    out = tmp_path / "dur"
    t0 = time.monotonic()
    ready = tmp_path / "ready"
    res = subprocess.run([*WF, "record", str(out), "--duration", "1", "--quiet", "--ready-file", str(ready)],
                         env=app_display.env(), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "" and ready.read_text().strip() == str(out)
    assert time.monotonic() - t0 < 10
    events = list(Bundle.open(out).events())
    assert type(events[-1]) is Stop and events[-1].reason == "duration" and 1.0 <= events[-1].t < 1.5
    assert [e.reason for e in events if type(e) is Screen] == ["start", "stop"], events


def test_out_not_empty_is_a_usage_error(app_display: Display, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    res = wf("record", tmp_path, "--duration", "1", env=app_display.env())
    assert res.returncode == 2
    assert "not empty" in res.stderr and "Traceback" not in res.stderr
    assert (tmp_path / "x").read_text() == "keep me"


def test_no_display_is_an_environment_problem(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    res = wf("record", tmp_path / "b", "--duration", "1", env=env)
    assert res.returncode == 3
    assert "DISPLAY" in res.stderr and "hint" in res.stderr and "Traceback" not in res.stderr
    res = wf("record", tmp_path / "w", "--duration", "1", env={**env, "WAYLAND_DISPLAY": "wayland-0"})
    assert res.returncode == 3 and "Wayland" in res.stderr and "XWayland" in res.stderr
    assert "X11 session" in res.stderr and "--allow-xwayland" in res.stderr  # the two ways out, as the guard's
    env["DISPLAY"] = ":987"  # nothing listens there
    res = wf("record", tmp_path / "c", "--duration", "1", env=env)
    assert res.returncode == 3 and "Traceback" not in res.stderr, res.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


@contextmanager
def xvfb_without_record() -> Iterator[str]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "640x480x24", "-nolisten", "tcp",
                             "-extension", "RECORD"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(w)
    try:
        number = b""
        while not number.endswith(b"\n"):
            assert select.select([r], [], [], 15)[0], "Xvfb did not start"
            number += os.read(r, 32)
        yield f":{number.decode().strip()}"
    finally:
        os.close(r)
        proc.terminate()
        proc.wait(timeout=10)


def test_x_server_without_record_extension(tmp_path: Path) -> None:
    with xvfb_without_record() as name:
        env = dict(os.environ, DISPLAY=name)
        res = wf("record", tmp_path / "b", "--duration", "1", env=env)
    assert res.returncode == 3, res.stderr
    assert "RECORD" in res.stderr and "hint" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "b").exists()


def test_full_disk_keeps_what_was_recorded(xterm: Display, tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mnt)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        out = mnt / "b"
        with recording(xterm, out, "--fps", "10", "--min-free", "0") as rec:  # no floor: the disk fills
            for i in range(12):  # each step changes the screen: a new PNG per action
                xterm.xdotool("type", "--delay", "5", f"echo {i} {'#' * 60}\n")
                time.sleep(0.25)
                if rec.proc.poll() is not None:
                    break
            rc = rec.wait(timeout=30) if rec.proc.poll() is not None else rec.stop()
        assert rc == 3, rec.stderr
        assert "disk full" in rec.stderr and "Traceback" not in rec.stderr
        res = wf("validate", out)
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_text_recorded_equals_text_the_app_received(app_display: Display, tmp_path: Path) -> None:
    d = app_display
    state = tmp_path / "state.json"
    d.launch([*APP, "--state", str(state)])
    d.wait_window("--name", "wf fixture")
    d.launch("xcalc -geometry +600+100")
    d.wait_window("--class", "XCalc")
    time.sleep(0.5)
    out = tmp_path / "entry"
    with recording(d, out) as rec:
        d.xdotool("mousemove", 200, 235, "click", 1)  # the Entry
        # Ä and € are not in the keymap: xdotool binds a spare keycode for each keystroke and the
        # recorder must follow that mapping change in stream order to know what was typed.
        d.xdotool("type", "--delay", "15", "Hello, World! ~ÄB€? #1 (ok)")
        time.sleep(0.3)
        d.xdotool("mousemove", 700, 300, "click", 1)  # somewhere on xcalc
        time.sleep(0.4)
        assert rec.stop() == 0, rec.stderr
    typed = json.loads(state.read_text())["text"]
    events = events_of(rec)
    assert typed.startswith("Hello, World! ~") and "€" in typed
    assert keys_typed(events) == typed
    wins = [(w.title, w.wm_class) for w in events_of(rec) if type(w) is Window]
    assert ("wf fixture", "wfFixture.Wffixture") in wins  # Tk capitalises the class name so
    assert any(cls == "xcalc.XCalc" for _, cls in wins)
    down = [e for e in events if type(e) is MouseDown]
    assert [(e.x, e.y) for e in down] == [(200, 235), (700, 300)]


def test_unwritable_out_is_an_environment_problem(app_display: Display, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        res = wf("record", ro / "b", "--duration", "1", env=app_display.env())
        assert res.returncode == 3, res.stderr
        assert "cannot create" in res.stderr and "Traceback" not in res.stderr
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_sigterm_right_after_a_burst_keeps_every_event(xterm: Display, tmp_path: Path) -> None:
    out = tmp_path / "burst"
    text = "abcdefghijklmnopqrstuvwxyz" * 80
    with recording(xterm, out) as rec:
        subprocess.run(["xdotool", "type", "--delay", "0", text], env=xterm.env(), check=True)
        assert rec.stop(signal.SIGTERM) == 0, rec.stderr  # no pause: the X server may still hold a backlog
    events = events_of(rec)
    assert keys_typed(events) == text
    assert type(events[-1]) is Stop and events[-1].dropped == 0


def test_input_capture_stop_delivers_the_backlog(xdisplay: Display, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events the server intercepted before stop() still reach drain(), however far behind the reader is."""
    import threading

    from wf.recorder.input import InputCapture

    monkeypatch.setenv("DISPLAY", xdisplay.name)
    xdisplay.xdotool("mousemove", xdisplay.width - 1, xdisplay.height - 1)  # over the bare root
    cap = InputCapture(time.monotonic(), display=xdisplay.name)
    gate = threading.Event()
    on_batch = cap._on_batch

    def slow_reader(data: bytes, swapped: bool) -> None:
        gate.wait(10)  # the listener stalls: the X server queues the burst for it
        on_batch(data, swapped)

    monkeypatch.setattr(cap, "_on_batch", slow_reader)
    cap.start()
    text = "backlog" * 40
    xdisplay.xdotool("type", "--delay", "0", text)
    stopper = threading.Thread(target=cap.stop)
    stopper.start()
    time.sleep(0.3)
    gate.set()
    stopper.join(20)
    assert keys_typed(cap.drain()) == text


def test_window_probe_prefers_ewmh_active_window_and_survives_a_stale_one(app_display: Display) -> None:
    """What a window manager would publish, set by hand: _NET_ACTIVE_WINDOW wins over the pointer."""
    import Xlib.display

    from wf.recorder.windows import WindowProbe

    d = app_display
    d.launch("xterm -geometry 40x10+0+0 -T ewmh-one")
    one = int(d.wait_window("--name", "ewmh-one"))
    d.launch("xterm -geometry 40x10+500+400 -T ewmh-two")
    d.wait_window("--name", "ewmh-two")
    d.xdotool("mousemove", 600, 450)  # over ewmh-two
    x = Xlib.display.Display(d.name)
    root = x.screen().root
    active = x.intern_atom("_NET_ACTIVE_WINDOW")
    probe = WindowProbe(d.name)
    try:
        assert probe.focused().title == "ewmh-two"  # no WM: the window under the pointer
        root.change_property(active, x.intern_atom("WINDOW"), 32, [one])
        x.sync()
        info = probe.focused()
        assert (info.title, info.wm_class, info.x, info.y) == ("ewmh-one", "xterm.XTerm", 1, 1)  # inside the border
        assert info.pid and info.width > 100
        root.change_property(active, x.intern_atom("WINDOW"), 32, [0x3FFFFF])  # a window that is gone
        x.sync()
        assert probe.focused().title == "ewmh-two"
    finally:
        root.delete_property(active)
        x.sync()
        x.close()
        probe.close()

"""Bundles recorded on a desktop whose start state the test sets up: what the desktop replay tests share."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import msgspec
import orjson
from Xlib import X
from xrig import FIXTURES, Display, wf

from wf.bundle.events import Event, HeldKey, Locks, StartState, WindowState, single_screen_header, to_dict
from wf.bundle.writer import BundleWriter
from wf.recorder.keys import translate
from wf.replayer.keyboard import KeyMapper
from wf.replayer.livedesk import LiveDesktop

APP = [sys.executable, str(FIXTURES / "app.py")]
# The suite shares 2 cores: lateness under load says nothing about the replayer (bench/ measures timing).
LOADED = ("--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000")


def app_cmd(state: Path, *, geometry: str = "420x320+0+0", delay: float = 0.0, dialog: bool = False) -> str:
    extra = ["--dialog"] if dialog else []
    return shlex.join([*APP, "--state", str(state), "--geometry", geometry, "--delay", str(delay), *extra])


def read_state(path: Path, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return dict(json.loads(path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def desktop_state(d: Display) -> StartState:
    """The display's state as the header's ``start`` describes it: pointer, buttons and keys held, locks,
    focus, window manager, windows (until `wf record` writes it, read here the way it reads it)."""
    desk = LiveDesktop(d.name)
    try:
        x, y, mask, _child = desk.pointer()
        locks = desk.locks()
        syms = KeyMapper(desk.d).syms
        keys = []
        for kc in desk.held_keys():
            info = translate(syms.get(kc, ()), 0)
            keys.append(HeldKey(key=info.key, keysym=info.keysym, keycode=kc))
        buttons = [name for bit, name in ((X.Button1Mask, "left"), (X.Button2Mask, "middle"),
                                          (X.Button3Mask, "right")) if mask & bit]
        windows = [WindowState(title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id, x=w.x, y=w.y,
                               width=w.width, height=w.height) for w in desk.windows()]
        info = desk.focused()
        focus = next((w for w in windows if info is not None and w.id == info.id), None)
        return StartState(pointer=(x, y), buttons=buttons, keys=keys,  # type: ignore[arg-type]
                          locks=Locks(caps=bool(locks["caps"]), num=bool(locks["num"]), scroll=bool(locks["scroll"])),
                          focus=focus, window_manager=desk.window_manager(), windows=windows)
    finally:
        desk.close()


def rewrite_bundle(bundle: Path, *, header: Callable[[dict[str, object]], None] | None = None,
                   add: Sequence[Event] = ()) -> None:
    """Change a recorded bundle in place (a test's what-if): edit its header, add events before its stop."""
    path = bundle / "events.jsonl"
    lines = path.read_bytes().splitlines()
    head = orjson.loads(lines[0])
    if header is not None:
        header(head)
    lines[0] = orjson.dumps(head)
    extra = [orjson.dumps(to_dict(e)) for e in add]
    last = lines[-1] if orjson.loads(lines[-1]).get("type") == "stop" else None
    body = lines[1:-1] if last is not None else lines[1:]
    path.write_bytes(b"\n".join([lines[0], *body, *extra, *([last] if last else [])]) + b"\n")


def without_start(head: dict[str, object]) -> None:
    """A header as a format 1.0 recorder wrote it: no start state."""
    head.pop("start", None)
    head["minor"] = 0


def write_bundle(path: Path, events: Sequence[Event], *, start: StartState | None = None,
                 launch: str | None = None, size: tuple[int, int] = (1280, 800)) -> Path:
    """A bundle of hand-written events (format 1.1 when it has a start state)."""
    header = single_screen_header(*size, started="2026-01-01T00:00:00Z", recorder="test", launch=launch)
    header = msgspec.structs.replace(header, start=start, minor=header.minor if start else 0)
    with BundleWriter(path, header) as w:
        for e in events:
            w.write(e)
    return path


FAST_FAIL = ("--sync-timeout", "2")  # for replays that are meant to fail: do not wait 10 s per screen


def replay(bundle: Path, *args: str | Path, on: Display | None = None) -> tuple[int, dict[str, object], str]:
    """`wf replay` on display ``on`` (None: a private Xvfb): exit status, JSON report, stderr.

    With --allow-unverified: exit 0 unless something failed; the tests say which outcome they expect
    (a typed session with no screen between its steps cannot be more than unverified)."""
    where = ("--xvfb",) if on is None else ()
    res = wf("replay", bundle, *where, *LOADED, "--allow-unverified", "--no-save", *args, "--json",
             env=on.env() if on else None, timeout=180)
    return res.returncode, orjson.loads(res.stdout) if res.stdout.strip() else {}, res.stderr


def status(report: dict[str, object]) -> str:
    """The verdict's outcome: verified, failed or unverified."""
    return str(report["verdict"]["status"])  # type: ignore[index]


def items(report: dict[str, object]) -> dict[str, str]:
    """The report's start-state items: item → status."""
    return {i["item"]: i["status"] for i in report["desktop"]["start"]}  # type: ignore[index]


def client_origin(d: Display, title: str) -> tuple[int, int]:
    desk = LiveDesktop(d.name)
    try:
        w = next(w for w in desk.windows() if w.title == title)
        return w.client_x, w.client_y
    finally:
        desk.close()


def xterm_cat(out: Path) -> str:
    """A terminal that saves what is typed into it to ``out`` (until ctrl+d)."""
    return shlex.join(["xterm", "-geometry", "80x10+0+0", "-e", "sh", "-c", f"cat > {shlex.quote(str(out))}"])


def wait_bytes(path: Path, timeout: float = 5.0) -> bytes:
    """The file's bytes once it has some (or as it is after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            time.sleep(0.2)
            break
        time.sleep(0.05)
    return path.read_bytes() if path.exists() else b""


class Marks(Protocol):
    """Where a script says an action is about to start (ScriptedRecording stores a pre screen there)."""

    def pre(self) -> None: ...


class NoMarks:
    """For `wf record`, which stores its own pre-action screens."""

    def pre(self) -> None:
        pass


def fixture_session(d: Display, rec: Marks, origin: tuple[int, int]) -> None:
    """Two clicks on Increment, typing into the entry, Open then Confirm; the app's client area at ``origin``."""
    ox, oy = origin

    def click(x: int, y: int) -> None:
        d.xdotool("mousemove", ox + x, oy + y)
        time.sleep(0.15)
        rec.pre()
        d.xdotool("click", "1")
        time.sleep(0.3)

    click(100, 40)
    click(100, 40)
    click(100, 235)
    rec.pre()
    d.xdotool("type", "--delay", "30", "moved")
    time.sleep(0.3)
    click(100, 140)
    time.sleep(0.3)
    click(300, 140)


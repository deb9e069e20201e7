"""Bundles recorded on a desktop whose start state the test sets up: what the desktop replay tests share."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import orjson
from Xlib import X
from xrig import FIXTURES, Display

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

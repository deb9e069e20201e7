"""Bundles for the export tests, written with the real BundleWriter.

``record_app_session`` drives the real fixture app on an Xvfb with xdotool and stores real screenshots
before and after every action (the shape `wf record` produces); ``synthetic_bundle`` makes many small
bundles quickly for batch, shard and ordering tests.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from xrig import FIXTURES, Display

from wf.bundle.events import (
    Header,
    KeyDown,
    KeyUp,
    Monitor,
    MouseDown,
    MouseMove,
    MouseUp,
    PlatformInfo,
    RecorderInfo,
    ScreenGeometry,
    Scroll,
    Stop,
    Window,
)
from wf.bundle.writer import BundleWriter

TASK = "Increment the counter twice, type hi, scroll up twice"
EXPECTED_STATE = {"counter": 2, "text": "hi", "scroll": 2, "right_clicks": 1}


def header(width: int, height: int, task: str | None, started: str) -> Header:
    return Header(
        format="wf-bundle", version=1, started=started,
        recorder=RecorderInfo(name="wf-test", version="0"), platform=PlatformInfo(system="Linux"),
        screen=ScreenGeometry(width=width, height=height, monitors=[Monitor(0, 0, width, height)]), task=task,
    )


def launch_app(d: Display, state: Path) -> None:
    d.launch([sys.executable, str(FIXTURES / "app.py"), "--state", str(state)])
    d.wait_window("--name", "wf fixture")
    _wait_state(state, lambda s: True)


def _wait_state(state: Path, ok: object, timeout: float = 10) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: dict[str, object] = {}
    while time.monotonic() < deadline:
        try:
            last = json.loads(state.read_text())
            if ok(last):  # type: ignore[operator]
                return last
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"app state never satisfied the condition; last {last}")


def record_app_session(d: Display, path: Path, state: Path) -> dict[str, object]:
    """Perform the TASK on the fixture app with real input; write what happened as a bundle."""
    launch_app(d, state)
    t0 = time.monotonic()

    def now() -> float:
        return round(time.monotonic() - t0, 6)

    w = BundleWriter(path, header(d.width, d.height, TASK, "2026-11-26T23:10:00.000000+00:00"))
    w.screen_event(now(), *d.screenshot_rgb(), "start")
    w.write(Window(t=now(), title="wf fixture", wm_class="WfFixture", width=420, height=320))

    def shot(reason: str) -> None:
        w.screen_event(now(), *d.screenshot_rgb(), reason)

    def click(x: int, y: int, button: str, until: object) -> None:
        d.xdotool("mousemove", x, y)
        w.write(MouseMove(t=now(), x=x, y=y))
        num = {"left": 1, "right": 3}[button]
        w.write(MouseDown(t=now(), x=x, y=y, button=button))  # type: ignore[arg-type]
        d.xdotool("click", num)
        w.write(MouseUp(t=now(), x=x, y=y, button=button))  # type: ignore[arg-type]
        _wait_state(state, until)
        time.sleep(0.1)
        shot("post")

    click(100, 40, "left", lambda s: s["counter"] == 1)
    time.sleep(0.6)  # well past the double-click interval: two separate clicks
    click(100, 40, "left", lambda s: s["counter"] == 2)
    click(200, 235, "left", lambda s: True)
    time.sleep(0.3)
    for ch in "hi":
        w.write(KeyDown(t=now(), key=ch, char=ch))
        d.xdotool("key", ch)
        w.write(KeyUp(t=now(), key=ch, char=ch))
    _wait_state(state, lambda s: s["text"] == "hi")
    shot("post")
    d.xdotool("mousemove", 200, 285)
    w.write(MouseMove(t=now(), x=200, y=285))
    time.sleep(0.6)
    for n in (1, 2):
        w.write(Scroll(t=now(), x=200, y=285, dx=0, dy=1))
        d.xdotool("click", 4)
        _wait_state(state, lambda s, n=n: s["scroll"] == n)
    time.sleep(0.1)
    shot("post")
    time.sleep(0.6)
    click(300, 80, "right", lambda s: s["right_clicks"] == 1)
    shot("stop")
    w.write(Stop(t=now(), reason="test", events=w.lines, dropped=0, screens=w.screens_written))
    w.close()
    return _wait_state(state, lambda s: True)


def _frame(w: int, h: int, seed: int) -> bytes:
    # Noise: incompressible, so image bytes (and shard sizes) are realistic for their pixel count.
    return np.random.default_rng(seed).integers(0, 256, w * h * 3, dtype=np.uint8).tobytes()


def synthetic_bundle(path: Path, steps: int, *, seed: int = 0, size: tuple[int, int] = (64, 48),
                     task: str | None = "synthetic task", started: str | None = None) -> Path:
    """``steps`` separate left clicks, a distinct screen before each and one at the end."""
    wdt, hgt = size
    started = started or f"2026-11-26T23:00:{seed % 60:02d}.{seed:06d}+00:00"
    with BundleWriter(path, header(wdt, hgt, task, started)) as w:
        w.write(Window(t=0.0, title="synthetic", wm_class="Synth", width=wdt, height=hgt))
        t = 0.0
        for i in range(steps):
            w.screen_event(t, _frame(wdt, hgt, seed * 1000 + i), wdt, hgt, "pre" if i else "start")
            x, y = (i * 13) % wdt, (i * 7) % hgt
            w.write(MouseMove(t=t + 0.01, x=x, y=y))
            w.write(MouseDown(t=t + 0.02, x=x, y=y, button="left"))
            w.write(MouseUp(t=t + 0.05, x=x, y=y, button="left"))
            t += 1.0  # far apart: never a double click, never an idle `wait`
        w.screen_event(t, _frame(wdt, hgt, seed * 1000 + steps), wdt, hgt, "stop")
        w.write(Stop(t=t + 0.01, reason="test", events=0, dropped=0, screens=steps + 1))
    return path


def drag_bundle(path: Path, size: tuple[int, int] = (1280, 800)) -> Path:
    """One left drag from (100, 100) to (700, 420) through a few points, then a click."""
    wdt, hgt = size
    with BundleWriter(path, header(wdt, hgt, "drag it", "2026-11-26T23:30:00+00:00")) as w:
        w.screen_event(0.0, _frame(8, 8, 1), 8, 8, "start")
        w.write(MouseMove(t=0.1, x=100, y=100))
        w.write(MouseDown(t=0.2, x=100, y=100, button="left"))
        for i, (x, y) in enumerate([(250, 180), (401, 263), (555, 351), (700, 420)]):
            w.write(MouseMove(t=0.3 + i * 0.1, x=x, y=y))
        w.write(MouseUp(t=0.8, x=700, y=420, button="left"))
        w.screen_event(1.0, _frame(8, 8, 2), 8, 8, "post")
        w.write(MouseDown(t=1.5, x=1279, y=799, button="left"))
        w.write(MouseUp(t=1.55, x=1279, y=799, button="left"))
        w.screen_event(1.8, _frame(8, 8, 3), 8, 8, "stop")
        w.write(Stop(t=2.0, reason="test", events=0, dropped=0, screens=3))
    return path

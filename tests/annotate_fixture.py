"""A small real bundle for the annotation tests, written with the real BundleWriter."""

from __future__ import annotations

from pathlib import Path

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

W, H = 64, 48
TASK = "Increment the counter and type hi"


def _frame(shade: int) -> bytes:
    return bytes([shade, 255 - shade, 128]) * (W * H)


def make_bundle(path: Path) -> Path:
    """A click, typed text, Enter, a scroll and a right click, with screens between them."""
    header = Header(
        format="wf-bundle", version=1, started="2026-11-26T23:00:00.000Z",
        recorder=RecorderInfo(name="wf-test", version="0"), platform=PlatformInfo(system="Linux"),
        screen=ScreenGeometry(width=W, height=H, monitors=[Monitor(0, 0, W, H)]), task=TASK,
    )
    with BundleWriter(path, header) as w:
        w.screen_event(0.0, _frame(10), W, H, "start")
        w.write(Window(t=0.01, title="wf fixture", wm_class="WfFixture", pid=1, id=7, width=W, height=H))
        w.write(MouseMove(t=0.5, x=20, y=20))
        w.screen_event(0.9, _frame(20), W, H, "pre")
        w.write(MouseDown(t=1.0, x=20, y=20, button="left"))
        w.write(MouseUp(t=1.08, x=20, y=20, button="left"))
        w.screen_event(1.3, _frame(30), W, H, "post")
        t = 3.0
        for ch in "hi":
            w.write(KeyDown(t=t, key=ch, char=ch))
            w.write(KeyUp(t=t + 0.05, key=ch, char=ch))
            t += 0.2
        w.write(KeyDown(t=4.0, key="enter"))
        w.write(KeyUp(t=4.05, key="enter"))
        w.screen_event(4.3, _frame(40), W, H, "post")
        w.write(Scroll(t=6.0, x=30, y=40, dx=0, dy=-2))
        w.screen_event(6.3, _frame(50), W, H, "post")
        w.write(MouseDown(t=8.0, x=40, y=10, button="right"))
        w.write(MouseUp(t=8.1, x=40, y=10, button="right"))
        w.screen_event(8.4, _frame(60), W, H, "post")
        w.write(Stop(t=9.0, reason="test", events=20, dropped=0, screens=6))
    return path

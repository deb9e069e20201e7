"""Helpers for the viewer tests: a headless Chromium through playwright, and bundles with real screens."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xrig import FIXTURES, Display

from wf.bundle.events import (
    Header,
    KeyDown,
    KeyUp,
    Mark,
    MouseDown,
    MouseMove,
    MouseUp,
    PlatformInfo,
    Scroll,
    Stop,
    Window,
    single_screen_header,
)
from wf.bundle.replays import (
    Checkpoint,
    EventRow,
    Failure,
    Options,
    PointerSummary,
    ReplayReport,
    ScreensSummary,
    Stats,
    Thresholds,
    TimingSummary,
    Verdict,
)
from wf.bundle.replays import Display as ReportDisplay
from wf.bundle.writer import BundleWriter

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
XSS_TITLE = "<script>alert(1)</script> wf fixture"
XSS_TEXT = "hi</script><img src=x onerror=alert(2)>"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (Debian's, never a downloaded one) driven by playwright."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is missing: run `make setup` (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class PageWatch:
    """Everything a page did that a test must see: console errors, uncaught exceptions, dialogs, requests."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_page(b: Any, url: str, *, width: int = 1440, height: int = 960) -> PageWatch:
    page = b.new_page(viewport={"width": width, "height": height})
    w = PageWatch(page)
    page.on("console", lambda m: w.errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: w.errors.append(f"pageerror: {e}"))

    def dialog(d: Any) -> None:
        w.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.on("request", lambda r: w.requests.append(r.url))
    page.goto(url)
    page.wait_for_selector("html[data-ready='1']", timeout=15000)
    return w


def _header(width: int, height: int, task: str | None) -> Header:
    return single_screen_header(width, height, started="2026-11-26T23:00:00+00:00", recorder="wf-test",
                                platform=PlatformInfo(system="Linux", display=":test"), task=task,
                                launch=f"{sys.executable} {FIXTURES / 'app.py'}")


def _wait_state(state: Path, key: str, want: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(state.read_text()).get(key) == want:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.03)
    raise TimeoutError(f"fixture app never reached {key}={want!r}")


def fixture_bundle(d: Display, path: Path, *, task: str = "Count to one & type <b>hi</b>") -> Path:
    """Drive the real fixture app with xdotool and write what happened as a bundle with real screenshots.

    Steps: click Increment, click the entry, type XSS_TEXT, scroll up 3 on the scroll label, mark.
    The focused window's title is XSS_TITLE, as a hostile app could name itself.
    """
    state = path.parent / f"{path.name}.state.json"
    d.launch([sys.executable, str(FIXTURES / "app.py"), "--state", str(state)])
    d.wait_window("--name", "wf fixture")
    _wait_state(state, "counter", 0)
    w = BundleWriter(path, _header(d.width, d.height, task))
    t = 0.0

    def shot(reason: str) -> None:
        nonlocal t
        rgb, width, height = d.screenshot_rgb()
        w.screen_event(t, rgb, width, height, reason)

    def tick(dt: float = 0.05) -> float:
        nonlocal t
        t = round(t + dt, 6)
        return t

    w.write(Window(t=t, title=XSS_TITLE, wm_class="WfFixture", width=420, height=320))
    shot("start")
    d.xdotool("mousemove", 100, 40)
    w.write(MouseMove(t=tick(0.4), x=100, y=40))
    d.xdotool("click", 1)
    w.write(MouseDown(t=tick(0.1), x=100, y=40, button="left"))
    w.write(MouseUp(t=tick(0.08), x=100, y=40, button="left"))
    _wait_state(state, "counter", 1)
    shot("post")
    d.xdotool("mousemove", 200, 235, "click", 1)
    w.write(MouseMove(t=tick(0.5), x=200, y=235))
    w.write(MouseDown(t=tick(0.1), x=200, y=235, button="left"))
    w.write(MouseUp(t=tick(0.08), x=200, y=235, button="left"))
    time.sleep(0.2)
    shot("post")
    d.xdotool("type", "--delay", "20", XSS_TEXT)
    tick(0.4)
    for ch in XSS_TEXT:
        key = "space" if ch == " " else ch
        w.write(KeyDown(t=tick(0.06), key=key, char=ch))
        w.write(KeyUp(t=tick(0.04), key=key, char=ch))
    _wait_state(state, "text", XSS_TEXT)
    shot("post")
    d.xdotool("mousemove", 200, 285)
    w.write(MouseMove(t=tick(0.6), x=200, y=285))
    d.xdotool("click", "--repeat", "3", "--delay", "30", 4)
    w.write(Scroll(t=tick(0.3), x=200, y=285, dx=0, dy=3))
    _wait_state(state, "scroll", 3)
    shot("post")
    w.write(Mark(t=tick(0.5), label="done <i>here</i>"))
    w.write(Stop(t=tick(0.2), reason="test", events=w.lines, dropped=0, screens=w.screens_written))
    w.close()
    d.kill_apps()
    return path


def synthetic_bundle(path: Path, steps: int, *, width: int = 320, height: int = 200) -> Path:
    """A long bundle (``steps`` clicks, a few distinct small screens) for the scale test."""
    import numpy as np

    w = BundleWriter(path, _header(width, height, f"{steps} clicks"))
    frames = []
    for n in range(8):
        a = np.zeros((height, width, 3), np.uint8)
        a[:, :, 0] = 30 * n
        a[n * 20:n * 20 + 20, :, 1] = 255
        frames.append(a.tobytes())
    w.write(Window(t=0.0, title="clicker", wm_class="Clicker"))
    t = 0.0
    for n in range(steps):
        w.screen_event(t, frames[n % 8], width, height, "pre")
        x, y = 10 + n % 300, 10 + (n * 7) % 180
        w.write(MouseDown(t=t + 0.01, x=x, y=y, button="left"))
        w.write(MouseUp(t=t + 0.02, x=x, y=y, button="left"))
        t += 0.6  # beyond any double-click interval: every press is its own step
    w.write(Stop(t=t, reason="test", events=w.lines, dropped=0, screens=w.screens_written))
    w.close()
    return path


def gestures_bundle(path: Path, *, width: int = 400, height: int = 300) -> Path:
    """One of each gesture the overlay draws: drag, right double click, hotkey, scroll, key, mark."""
    import numpy as np

    w = BundleWriter(path, _header(width, height, "gestures"))
    t = 0.0

    def frame(shade: int) -> None:
        a = np.full((height, width, 3), shade, np.uint8)
        a[::20, :, :] = 90
        w.screen_event(t, a.tobytes(), width, height, "pre")

    w.write(Window(t=t, title="gestures", wm_class="Gestures"))
    frame(240)
    t += 0.5
    w.write(MouseDown(t=t, x=50, y=50, button="left"))
    for n in range(1, 11):
        w.write(MouseMove(t=t + n * 0.02, x=50 + n * 20, y=50 + n * 10))
    w.write(MouseUp(t=t + 0.25, x=250, y=150, button="left"))
    t += 1.0
    frame(220)
    for dt in (0.0, 0.15):
        w.write(MouseDown(t=t + dt, x=300, y=200, button="right"))
        w.write(MouseUp(t=t + dt + 0.05, x=300, y=200, button="right"))
    t += 1.0
    frame(200)
    for n, key in enumerate(("ctrl", "shift", "t")):
        w.write(KeyDown(t=t + n * 0.05, key=key))
    for n, key in enumerate(("t", "shift", "ctrl")):
        w.write(KeyUp(t=t + 0.2 + n * 0.05, key=key))
    t += 1.0
    frame(180)
    w.write(MouseMove(t=t, x=200, y=100))
    w.write(Scroll(t=t + 0.1, x=200, y=100, dx=0, dy=-2))
    w.write(Scroll(t=t + 0.2, x=200, y=100, dx=0, dy=-1))
    t += 1.0
    frame(160)
    w.write(KeyDown(t=t, key="enter"))
    w.write(KeyUp(t=t + 0.05, key="enter"))
    t += 1.0
    w.write(Mark(t=t, label="checkpoint"))
    w.write(Stop(t=t + 0.5, reason="test", events=w.lines, dropped=0, screens=w.screens_written))
    w.close()
    return path


def replay_report(bundle: Path, checkpoints: list[Checkpoint], events: list[EventRow], *,
                  failures: Sequence[Failure] = (), thresholds: Thresholds | None = None) -> ReplayReport:
    """A report in the one schema `wf replay` writes (wf.bundle.replays), around the given rows."""
    checks = [c for c in checkpoints if c.label != "start"]
    passed = not failures
    timing = [r.timing_error * 1000 for r in events if r.timing_error is not None]
    pointer = [r.pointer_error for r in events if r.pointer_error is not None]
    stats = Stats(events=len(events), captured=len(events), sequence_mismatches=0, sequence_identical=True,
                  timing_p50_ms=None, timing_p95_ms=max(timing, default=None), timing_p99_ms=None,
                  timing_max_ms=max(timing, default=None), inject_p50_ms=None, inject_p95_ms=None,
                  inject_p99_ms=None, inject_max_ms=None, pointer_max_px=max(pointer, default=None),
                  pointer_mean_px=None, dropped=0, checkpoints=len(checks), unsynced=0,
                  screen_max_diff=max((c.diff_fraction for c in checks), default=None),
                  screen_min_similarity=min((c.similarity for c in checks), default=None))
    return ReplayReport(
        bundle=str(bundle), passed=passed,
        verdict=Verdict(passed=passed, failures=list(failures), thresholds=thresholds or Thresholds()),
        options=Options(level="events", speed=1.0, max_gap=None, sync="none", sync_timeout=10.0, xvfb=True,
                        launch=None, scale=(1.0, 1.0), first_event=0, last_event=None, ignore_regions=[]),
        display=ReportDisplay(name=":99", width=640, height=480, private=True), duration=1.0, stats=stats,
        timing=TimingSummary(p50_ms=None, p95_ms=stats.timing_p95_ms, max_ms=stats.timing_max_ms, per_step=[]),
        pointer=PointerSummary(max_px=stats.pointer_max_px, mean_px=None, per_step=[]),
        screens=ScreensSummary(checkpoints=len(checks), max_differing_px=max((c.differing for c in checks),
                                                                             default=None),
                               min_similarity=stats.screen_min_similarity, worst=[], directory=None),
        checkpoints=checkpoints, events=events, warnings=[])

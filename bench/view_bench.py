"""`wf view` on long recordings: render time, page size, and time to open and step in headless Chromium."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from wf.bundle.events import (
    Header,
    Monitor,
    MouseDown,
    MouseUp,
    PlatformInfo,
    RecorderInfo,
    ScreenGeometry,
    Stop,
    Window,
)
from wf.bundle.writer import BundleWriter
from wf.view.page import render_view

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def clicks_bundle(path: Path, steps: int, width: int = 1280, height: int = 800) -> Path:
    """``steps`` separate clicks over 16 distinct full-size screens."""
    header = Header(format="wf-bundle", version=1, started="2026-01-01T00:00:00+00:00",
                    recorder=RecorderInfo(name="bench", version="0"), platform=PlatformInfo(system="Linux"),
                    screen=ScreenGeometry(width=width, height=height, monitors=[Monitor(0, 0, width, height)]))
    frames = []
    for n in range(16):
        a = np.full((height, width, 3), 230, np.uint8)
        a[n * 40:n * 40 + 40, :, :] = (40, 90, 200)
        frames.append(a.tobytes())
    with BundleWriter(path, header) as w:
        w.write(Window(t=0.0, title="bench", wm_class="Bench"))
        t = 0.0
        for n in range(steps):
            w.screen_event(t, frames[n % 16], width, height, "pre")
            w.write(MouseDown(t=t + 0.01, x=10 + n % 1000, y=10 + n % 700, button="left"))
            w.write(MouseUp(t=t + 0.02, x=10 + n % 1000, y=10 + n % 700, button="left"))
            t += 0.6
        w.write(Stop(t=t, reason="bench", events=w.lines, dropped=0, screens=16))
    return path


def _browser_times(html: Path, repeats: int) -> tuple[list[float], list[float]] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    opens, steps = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeats):
            page = b.new_page(viewport={"width": 1440, "height": 960})
            t0 = time.perf_counter()
            page.goto(html.as_uri())
            page.wait_for_selector("html[data-ready='1']")
            opens.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(100):
                page.keyboard.press("ArrowRight")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))")
            steps.append((time.perf_counter() - t0) / 100)
            page.close()
        b.close()
    return opens, steps


def run(quick: bool = False) -> list[dict[str, object]]:
    sizes = [1000] if quick else [1000, 5000]
    repeats = 3 if quick else 5
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            bundle = clicks_bundle(Path(tmp) / f"b{n}", n)
            renders = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                res = render_view(bundle)
                renders.append(time.perf_counter() - t0)
            rows.append({"group": "view", "name": f"wf view render, {n:,} steps", "median": round(
                statistics.median(renders), 3), "unit": "s", "spread": f"{min(renders):.3f}–{max(renders):.3f}",
                "runs": repeats, "notes": f"page {res.bytes / 1e6:.2f} MB (screens linked)"})
            times = _browser_times(res.out, repeats)
            if times is None:
                continue
            opens, steps = times
            rows.append({"group": "view", "name": f"open in headless Chromium, {n:,} steps",
                         "median": round(statistics.median(opens), 3), "unit": "s",
                         "spread": f"{min(opens):.3f}–{max(opens):.3f}", "runs": repeats,
                         "notes": "goto → page script done"})
            rows.append({"group": "view", "name": f"one → key step, {n:,} steps",
                         "median": round(statistics.median(steps) * 1000, 2), "unit": "ms",
                         "spread": f"{min(steps) * 1000:.2f}–{max(steps) * 1000:.2f}", "runs": repeats,
                         "notes": "mean of 100 steps incl. full-size screenshots"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)

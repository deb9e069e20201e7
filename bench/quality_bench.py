"""Signal (wf.curate): `wf inspect --quality` on a synthetic 1,000,000-event bundle — one streaming pass — with
its peak memory, against the action reduction it rides on (`load_actions` alone); and the per-step cost of effects
(decoding and comparing 1280×800 frames), which `wf export` now pays for every step it writes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from export_bench import _corpus
from synth import synth_header, write_events

from wf.bundle.events import MouseDown, MouseUp, Stop
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter
from wf.curate.quality import assess

REDUCE_ONLY = ("import sys; from wf.bundle.actions import load_actions; from wf.bundle.reader import Bundle; "
               "load_actions(Bundle.open(sys.argv[1]))")


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process (its own rusage, from wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def _cmd_rows(bundle: Path, n: int, repeats: int) -> list[dict[str, object]]:
    size = (bundle / "events.jsonl").stat().st_size
    rows: list[dict[str, object]] = []
    commands = {
        "wf inspect --quality --json": [sys.executable, "-m", "wf.cli", "inspect", str(bundle), "--quality", "--json"],
        "load_actions alone (the reduction it rides on)": [sys.executable, "-c", REDUCE_ONLY, str(bundle)],
    }
    for label, argv in commands.items():
        runs = [_run(argv) for _ in range(repeats)]
        times = [w for w, _ in runs]
        rss = max(r for _, r in runs)
        med = statistics.median(times)
        quality = "--quality" in argv
        rows.append({
            "group": "quality", "name": f"{label}, {n:,} events ({size / 1e6:.0f} MB)",
            "median": round(med, 3), "unit": "s", "spread": f"{min(times):.3f}–{max(times):.3f}", "runs": repeats,
            "rate": f"{n / med / 1e6:.2f} M events/s",
            "target": "one streaming pass" if quality else "reference",
            "notes": f"peak RSS {rss:.0f} MiB" + (" (the events are never held: what grows is the reduction's "
                                                  "list of actions and their effects)" if quality else ""),
            "peak_rss_mib": round(rss, 1),
        })
    return rows


def _screens_bundle(path: Path, clicks: int) -> Path:
    """``clicks`` clicks, each changing a 1280×800 frame (a box moves): a pre and a post screen per click."""
    w, h = 1280, 800
    writer = BundleWriter(path, synth_header(w, h), flush_interval=1.0)
    base = np.full((h, w, 3), 210, dtype=np.uint8)

    def frame(k: int) -> bytes:
        a = base.copy()
        x, y = 40 + (k * 37) % (w - 120), 40 + (k * 23) % (h - 80)
        a[y:y + 40, x:x + 80] = (20, 90, 200)
        return a.tobytes()

    t = 0.0
    for k in range(clicks):
        t += 1.0
        writer.screen_event(t, frame(k), w, h, "pre", captured=t - 0.1)
        writer.write(MouseDown(t=t, x=100, y=100, button="left"))
        writer.write(MouseUp(t=t + 0.05, x=100, y=100, button="left"))
        writer.screen_event(t + 0.3, frame(k + 1) if k % 5 else frame(k), w, h, "post")  # every 5th click is dead
    writer.write(Stop(t=t + 1, reason="synthetic", events=writer.lines, dropped=0, screens=writer.screens_written))
    writer.close()
    return path


def _effects_row(bundle: Bundle, what: str, clicks: int, repeats: int, planted: int) -> dict[str, object]:
    times, decoded, dead = [], 0, 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = assess(bundle)
        times.append(time.perf_counter() - t0)
        decoded, dead = a.frames_decoded, a.quality.dead.dead
    med = statistics.median(times)
    return {
        "group": "quality", "name": f"assess() with effects, {clicks} clicks, {what}",
        "median": round(med * 1000 / clicks, 2), "unit": "ms/step", "spread":
            f"{min(times) * 1000 / clicks:.2f}–{max(times) * 1000 / clicks:.2f}", "runs": repeats,
        "notes": f"{decoded} frames decoded (each once: a 4-frame cache), {dead} dead steps found of {planted} "
                 "planted; identical files are never decoded",
    }


def run(quick: bool = False) -> list[dict[str, object]]:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    clicks = 60 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = _cmd_rows(write_events(root / "big", n), n, repeats)
        if not quick:  # how memory grows with the recording: the same measure at a tenth of the size
            small = _cmd_rows(write_events(root / "small", n // 10), n // 10, 3)
            rows.insert(1, small[0])
        boxes = Bundle.open(_screens_bundle(root / "screens", clicks))
        rows.append(_effects_row(boxes, "1280×800 frames, a box moves", clicks, 3, clicks // 5))
        (desktop,) = _corpus(root / "corpus", 1, clicks)  # export_bench's desktop-like frames, all distinct
        rows.append(_effects_row(Bundle.open(desktop), "export_bench's desktop-like 1280×800 frames", clicks, 3, 0))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)

"""Export throughput: a 10,000-step synthetic corpus (100 bundles × 100 clicks, 1280×800 screens) to
Parquet with 1 and 2 jobs, and bytes per step. Screens are desktop-like frames (flat panels, widgets and a
text-like band), each bundle using distinct ones; images are copied as stored (no re-encode) unless noted."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from wf.bundle.events import (
    Header,
    Monitor,
    MouseDown,
    MouseMove,
    MouseUp,
    PlatformInfo,
    RecorderInfo,
    Screen,
    ScreenGeometry,
    Stop,
    Window,
)
from wf.bundle.screens import encode_png, frame_hash
from wf.bundle.writer import BundleWriter
from wf.export.pipeline import ExportOptions, export

W, H = 1280, 800


def _frames(n: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """``n`` distinct desktop-like frames as (hash, PNG)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        img = np.full((H, W, 3), 236, dtype=np.uint8)
        img[:32] = (48, 48, 56)  # a title bar
        for _ in range(12):  # windows, buttons, panels
            x, y = int(rng.integers(0, W - 200)), int(rng.integers(32, H - 100))
            w, h = int(rng.integers(60, 400)), int(rng.integers(20, 300))
            img[y:y + h, x:x + w] = rng.integers(0, 256, 3, dtype=np.uint8)
        # text-like band: sparse dark glyph pixels on white lines
        band = rng.random((240, 900)) < 0.12
        img[400:640, 200:1100][band] = (20, 20, 20)
        rgb = img.tobytes()
        out.append((frame_hash(rgb, W, H), encode_png(rgb, W, H)))
    return out


def _corpus(root: Path, bundles: int, steps: int) -> list[Path]:
    pool = _frames(steps + 51)
    paths = []
    for b in range(bundles):
        header = Header(format="wf-bundle", version=1, started=f"2026-11-26T00:{b // 60:02d}:{b % 60:02d}+00:00",
                        recorder=RecorderInfo(name="wf-bench", version="0"), platform=PlatformInfo(system="Linux"),
                        screen=ScreenGeometry(width=W, height=H, monitors=[Monitor(0, 0, W, H)]),
                        task=f"synthetic task {b}")
        path = root / f"bundle-{b:04d}"
        with BundleWriter(path, header, flush_interval=1.0) as w:
            w.write(Window(t=0.0, title="synthetic", wm_class="Synth", width=W, height=H))
            t = 0.0
            for i in range(steps + 1):
                digest, png = pool[(b * 7 + i) % len(pool)]
                rel = w.store_png(digest, png)
                w.write(Screen(t=t, path=rel, width=W, height=H, hash=digest, reason="pre", captured=t))
                if i == steps:
                    break
                x, y = (i * 53) % W, (i * 31) % H
                w.write(MouseMove(t=t + 0.01, x=x, y=y))
                w.write(MouseDown(t=t + 0.02, x=x, y=y, button="left"))
                w.write(MouseUp(t=t + 0.05, x=x, y=y, button="left"))
                t += 1.0
            w.write(Stop(t=t + 0.01, reason="bench", events=0, dropped=0, screens=steps + 1))
        paths.append(path)
    return paths


def _time_export(bundles: list[Path], out: Path, repeats: int, **opts: object) -> tuple[list[float], int, int]:
    times: list[float] = []
    steps = size = 0
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        m = export(bundles, ExportOptions(format="parquet", out=out, **opts))  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
        steps, size = m.steps, m.bytes
    shutil.rmtree(out, ignore_errors=True)
    return times, steps, size


def run(quick: bool = False) -> list[dict[str, object]]:
    n_bundles, per = (10, 100) if quick else (100, 100)
    repeats = 2 if quick else 3
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bundles = _corpus(root / "corpus", n_bundles, per)
        for jobs in (1, 2):
            times, steps, size = _time_export(bundles, root / "out", repeats, jobs=jobs)
            med = statistics.median(times)
            rows.append({
                "group": "export", "name": f"wf export --format parquet --jobs {jobs}, {steps:,} steps",
                "median": round(steps / med), "unit": "steps/s",
                "spread": f"{steps / max(times):.0f}–{steps / min(times):.0f}", "runs": repeats,
                "notes": f"{med:.2f} s; {size / steps / 1024:.1f} KiB/step (pre+post PNG as stored); "
                         f"{size / 1e6:.0f} MB total",
            })
        few = bundles[:2]
        times, steps, size = _time_export(few, root / "out", 1, jobs=2, image_format="webp")
        rows.append({
            "group": "export", "name": f"wf export --format parquet --image-format webp --jobs 2, {steps} steps",
            "median": round(steps / times[0], 1), "unit": "steps/s", "runs": 1,
            "notes": f"{size / steps / 1024:.1f} KiB/step (lossless WebP re-encode)",
        })
    return rows


if __name__ == "__main__":
    for r in run(quick=True):
        print(r)

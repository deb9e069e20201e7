"""`wf redact` cost: scrubbing a long key/mouse stream, and masking every screen of a screen-heavy bundle.

Both runs include the final proof (every byte and every derived text searched), which is part of the
command's price; its share is reported separately."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from synth import synth_header, write_events

from wf.bundle.events import Stop
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter
from wf.redact.proof import prove_gone
from wf.redact.redactor import redact_bundle
from wf.redact.spec import build_spec

W, H = 1280, 800


def _screens_bundle(path: Path, n: int) -> Path:
    rng = np.random.default_rng(3)
    with BundleWriter(path, synth_header(W, H)) as w:
        for i in range(n):
            img = np.full((H, W, 3), 236, dtype=np.uint8)
            for _ in range(10):
                x, y = int(rng.integers(0, W - 300)), int(rng.integers(0, H - 200))
                img[y:y + int(rng.integers(20, 200)), x:x + int(rng.integers(40, 300))] = rng.integers(0, 256, 3)
            w.screen_event(i * 0.2, img.tobytes(), W, H, "post")
        w.write(Stop(t=n * 0.2, reason="synthetic", events=n, dropped=0, screens=n))
    return path


def _time(fn: object, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return times


def run(quick: bool = False) -> list[dict[str, object]]:
    n_events = 100_000 if quick else 1_000_000
    n_screens = 20 if quick else 100
    repeats = 3
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        big = write_events(root / "events", n_events)
        shots = _screens_bundle(root / "shots", n_screens)
        cases = [
            (big, build_spec(presets=["secrets"], scrub=["ab+a"]),
             f"scrub (secrets preset + 1 regex), {n_events:,} events", n_events, "events"),
            (shots, build_spec(rects=["100,100,400,300"]),
             f"mask a rectangle in {n_screens} screens of {W}×{H}", n_screens, "screens"),
        ]
        for src, spec, name, count, unit in cases:
            k = 0

            def once(src: Path = src, spec: object = spec) -> None:
                nonlocal k
                k += 1
                out = root / f"out{k}"
                redact_bundle(Bundle.open(src), out, spec)  # type: ignore[arg-type]
                shutil.rmtree(out)

            times = _time(once, repeats)
            med = statistics.median(times)
            proof = _time(lambda src=src: prove_gone(src, {"Zq9-not-there": "x"}), repeats)
            rows.append({
                "group": "redact", "name": f"wf redact: {name}", "median": round(med, 3), "unit": "s",
                "spread": f"{min(times):.3f}–{max(times):.3f}", "runs": repeats,
                "rate": f"{count / med:,.0f} {unit}/s",
                "notes": f"of which the proof scan ≈ {statistics.median(proof):.3f} s",
            })
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)

"""`wf redact` cost and effect: scrubbing a long key/mouse stream, masking every screen of a screen-heavy bundle,
and — on real recordings — reading the screens with OCR, side by side with rectangle-only redaction.

The recordings: `wf record` on a 1920×1080 Xvfb with openbox while xdotool types a token, a card number and
an e-mail address into an echoing xterm, the token into a narrow xterm (it wraps) and a Tk entry, and the
e-mail into a Tk entry and from there into the window title (`tests/ocr_kit.py`), at three text sizes (DejaVu
faces at 11 and 20 px, xterm's bitmap 9x15 font at 15 px). Each is redacted five ways, in-process:
`--scrub-preset secrets` with OCR (2 worker processes, then 1 engine), `--no-ocr` (text only), and the rectangle-only
alternatives a user has without OCR — `--mask-window` for every window that showed a secret (masked only in
screens taken while it had focus) and `--mask-rect` with each such window's rectangle at all times.
Effect is measured on the last screen of each output against the ink of every planted occurrence: *recall*
(occurrences ≥ 90 % masked), *precision* (masks touching a secret ÷ all masks), and the share of the frame
blacked out; each method's rectangles are checked to be black in the output. *Per distinct frame* is the
run's wall and CPU time (every thread and worker process) ÷ the distinct source screens; *per bundle hour*
multiplies by 1,800 distinct frames (an action every 2 s). Every run includes its proofs (bytes, names,
text; pixels with OCR).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from synth import synth_header, write_events

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from ocr_kit import Scene, coverage, desktop, mask_canvas, plant, recording, stray  # noqa: E402

from wf.bundle.events import Screen, Stop, Window  # noqa: E402
from wf.bundle.reader import Bundle  # noqa: E402
from wf.bundle.screens import load_rgb  # noqa: E402
from wf.bundle.writer import BundleWriter  # noqa: E402
from wf.redact.proof import prove_gone  # noqa: E402
from wf.redact.redactor import RedactReport, redact_bundle  # noqa: E402
from wf.redact.spec import RedactSpec, build_spec  # noqa: E402

W, H = 1280, 800
FRAMES_PER_HOUR = 1800
RECORDINGS = (("DejaVu", 11), ("misc", 15), ("DejaVu", 20))
APPS = ("xterm", "wrap", "tk")


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


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the OCR worker processes)."""
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def _synthetic(root: Path, quick: bool) -> list[dict[str, object]]:
    n_events = 100_000 if quick else 1_000_000
    n_screens = 20 if quick else 100
    repeats = 3
    rows: list[dict[str, object]] = []
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

        def once(src: Path = src, spec: RedactSpec = spec) -> None:
            nonlocal k
            k += 1
            out = root / f"out{k}"
            redact_bundle(Bundle.open(src), out, spec)
            shutil.rmtree(out)

        times = _time(once, repeats)
        med = statistics.median(times)
        proof = _time(lambda src=src: prove_gone(src, {"Zq9-not-there": "x"}), repeats)  # type: ignore[misc]
        rows.append({
            "group": "redact", "name": f"wf redact: {name}", "median": round(med, 3), "unit": "s",
            "spread": f"{min(times):.3f}–{max(times):.3f}", "runs": repeats,
            "rate": f"{count / med:,.0f} {unit}/s",
            "notes": f"of which the proof scan ≈ {statistics.median(proof):.3f} s (no screen text to read here)",
        })
    return rows


# ------------------------------------------------------------------------------------ real recordings


def _record(root: Path, font: str, px: int) -> tuple[Path, Scene]:
    with desktop(px, font) as d, recording(d, root / "raw"):
        scene = plant(d, px, font=font, apps=APPS)
    return root / "raw", scene


def _methods(raw: Path, scene: Scene) -> list[tuple[str, RedactSpec]]:
    """The ways to redact this recording: with OCR, without, and the rectangles a user could give instead —
    those of the windows that showed a secret."""
    shown = {(e.x, e.y, e.width, e.height): e.wm_class or "" for e in Bundle.open(raw).events()
             if isinstance(e, Window) and e.width > 0 and any(
                 bx < e.x + e.width and e.x < bx + bw and by < e.y + e.height and e.y < by + bh
                 for p in scene.planted for bx, by, bw, bh in p.boxes)}
    classes = sorted({f"^{re.escape(c)}$" for c in shown.values() if c})
    return [
        ("OCR (wf default, 2 worker processes)", build_spec(presets=["secrets"])),
        ("OCR, 1 engine", build_spec(presets=["secrets"], jobs=1)),
        ("--no-ocr (typed text only)", build_spec(presets=["secrets"], ocr=False)),
        (f"--no-ocr --mask-window ({len(classes)} window classes that showed a secret)",
         build_spec(presets=["secrets"], ocr=False, mask_windows=classes)),
        (f"--no-ocr --mask-rect ({len(shown)} rectangles of windows that showed a secret, all times)",
         build_spec(presets=["secrets"], ocr=False, rects=[f"{x},{y},{w},{h}" for x, y, w, h in shown])),
    ]


def _rects(raw: Path, out: Path, spec: RedactSpec, rep: RedactReport) -> list[tuple[int, int, int, int]]:
    """The rectangles filled in the last screen, as each method defines them."""
    last_new = [e for e in Bundle.open(out).events() if isinstance(e, Screen)][-1]
    if rep.ocr is not None:
        return list(dict.fromkeys(m.box for m in rep.ocr.masked.get(last_new.path, [])))
    if spec.rects:
        return [(r.x, r.y, r.w, r.h) for r in spec.rects]
    if spec.mask_windows:
        focused = [e for e in Bundle.open(raw).events() if isinstance(e, Window)][-1]
        if spec.mask_windows.matches(focused.title, focused.wm_class):
            return [(focused.x, focused.y, focused.width, focused.height)]
    return []


def _effect(raw: Path, out: Path, scene: Scene, rects: list[tuple[int, int, int, int]]) -> dict[str, float]:
    last_new = [e for e in Bundle.open(out).events() if isinstance(e, Screen)][-1]
    after = np.frombuffer(load_rgb(out / last_new.path)[0], dtype=np.uint8).reshape(scene.height, scene.width, 3)
    canvas = mask_canvas(rects, scene.width, scene.height)
    if after[canvas].any():
        raise AssertionError("a rectangle the method claims is not black in the output")
    covs = [coverage(p, canvas) for p in scene.planted]
    text = sum(b[2] * b[3] for p in scene.planted for b in p.boxes)
    return {"found": sum(c >= 0.9 for c in covs), "full": sum(c >= 1.0 for c in covs), "planted": len(covs),
            "stray": len(stray(rects, scene.planted)), "masks": len(rects),
            "frame_pct": 100 * float(canvas.mean()), "area_x": float(canvas.sum()) / text}


def _real(root: Path, quick: bool) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    recordings = RECORDINGS[1:2] if quick else RECORDINGS
    for font, px in recordings:
        raw, scene = _record(root / f"{font}{px}", font, px)
        distinct = len({e.hash for e in Bundle.open(raw).events() if isinstance(e, Screen)})
        label = f"{px} px {'bitmap xterm' if font == 'misc' else font}"
        for name, spec in _methods(raw, scene):
            if quick and "1 engine" in name:
                continue
            out = root / f"{font}{px}-out-{len(rows)}"
            t0, c0 = time.perf_counter(), _cpu()
            rep: RedactReport = redact_bundle(Bundle.open(raw), out, spec)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            e = _effect(raw, out, scene, _rects(raw, out, spec, rep))
            ocr = rep.ocr
            prec = f"{(e['masks'] - e['stray']) / e['masks']:.0%}" if e["masks"] else "n/a"
            notes = (f"recall {e['found']:.0f}/{e['planted']:.0f} ({e['full']:.0f} fully); precision {prec} "
                     f"({e['stray']:.0f} stray of {e['masks']:.0f} masks); {e['frame_pct']:.2f} % of the frame "
                     f"masked (×{e['area_x']:.1f} the text's boxes); byte proof "
                     f"{'passes' if rep.proof.ok else 'FAILS'}, pixel proof " + (
                         "not run" if rep.pixel_proof is None else "passes" if rep.pixel_proof.ok else "FAILS"))
            if ocr is not None:
                notes += (f"; {ocr.read} readings of {distinct} distinct frames (settling {ocr.read - distinct}), "
                          f"{ocr.rounds} rounds max; per distinct frame {1000 * wall / distinct:.0f} ms wall, "
                          f"{1000 * cpu / distinct:.0f} ms CPU; per bundle hour ≈ "
                          f"{wall * FRAMES_PER_HOUR / distinct / 60:.0f} min wall, "
                          f"{cpu * FRAMES_PER_HOUR / distinct / 60:.0f} CPU min")
            rows.append({"group": "redact", "name": f"real recording, {label}: {name}", "median": round(wall, 2),
                         "unit": "s", "runs": 1, "rate": f"{distinct} distinct frames",
                         "notes": notes})
            shutil.rmtree(out)
    return rows


def run(quick: bool = False) -> list[dict[str, object]]:
    load0 = os.getloadavg()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rows = _synthetic(Path(tmp), quick) + _real(Path(tmp), quick)
    load1 = os.getloadavg()
    rows.append({"group": "redact", "name": "machine load during this module", "median": None, "unit": "",
                 "notes": f"load average before {load0[0]:.2f} / after {load1[0]:.2f} (1 min) on {os.cpu_count()} "
                          f"cores; {time.monotonic() - t0:.0f} s. Wall times stretch under load; CPU times do not"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)

"""Synthetic bundles of any size, written with the real BundleWriter (for benchmarks)."""

from __future__ import annotations

import random
from pathlib import Path

import orjson

from wf.bundle.events import Header, single_screen_header
from wf.bundle.writer import BundleWriter

KEYS = [("a", "a", 97, 38), ("b", "b", 98, 56), ("space", " ", 32, 65), ("enter", None, 65293, 36)]


def synth_header(width: int = 1920, height: int = 1080) -> Header:
    return single_screen_header(width, height, started="2026-11-26T00:00:00+00:00", recorder="wf-bench",
                                task="synthetic")


def write_events(path: Path, n: int, *, seed: int = 1) -> Path:
    """A bundle of ``n`` events: mostly moves, with clicks, keys and scrolls mixed in; no screens."""
    rng = random.Random(seed)
    w = BundleWriter(path, synth_header(), flush_interval=1.0)
    t = 0.0
    lines = []
    i = 0
    while i < n - 1:
        t += rng.random() * 0.002
        r = rng.random()
        tt = round(t, 6)
        if r < 0.7:
            lines.append({"type": "mouse_move", "t": tt, "x": rng.randrange(1920), "y": rng.randrange(1080)})
        elif r < 0.8:
            b = rng.choice(["left", "right"])
            x, y = rng.randrange(1920), rng.randrange(1080)
            lines.append({"type": "mouse_down", "t": tt, "x": x, "y": y, "button": b})
            lines.append({"type": "mouse_up", "t": tt, "x": x, "y": y, "button": b})
            i += 1
        elif r < 0.95:
            key, ch, sym, code = rng.choice(KEYS)
            ev = {"key": key, "char": ch, "keysym": sym, "keycode": code}
            lines.append({"type": "key_down", "t": tt, **ev})
            lines.append({"type": "key_up", "t": tt, **ev})
            i += 1
        else:
            lines.append({"type": "scroll", "t": tt, "x": 5, "y": 5, "dx": 0, "dy": rng.choice([-1, 1])})
        i += 1
        if len(lines) >= 10000:
            for d in lines:
                w.write_dict(d)
            lines.clear()
    for d in lines:
        w.write_dict(d)
    w.write_dict({"type": "stop", "t": round(t, 6), "reason": "synthetic", "events": n, "dropped": 0,
                  "screens": 0})
    w.close()
    return path


if __name__ == "__main__":
    import sys

    write_events(Path(sys.argv[1]), int(sys.argv[2]))
    print(orjson.dumps({"ok": True}).decode())

"""Reading throughput: `wf inspect --json` and `wf validate --json` on a synthetic 1,000,000-event bundle."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth import write_events


def _time_cmd(argv: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def run(quick: bool = False) -> list[dict[str, object]]:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bundle = write_events(Path(tmp) / "big", n)
        size = (bundle / "events.jsonl").stat().st_size
        for cmd in ("inspect", "validate"):
            times = _time_cmd([sys.executable, "-m", "wf.cli", cmd, str(bundle), "--json"], repeats)
            med = statistics.median(times)
            rows.append({
                "group": "read", "name": f"wf {cmd} --json, {n:,} events ({size / 1e6:.0f} MB)",
                "median": round(med, 3), "unit": "s",
                "spread": f"{min(times):.3f}–{max(times):.3f}", "runs": repeats,
                "rate": f"{n / med / 1e6:.2f} M events/s",
                "target": "< 2 s for 1M events (inspect)" if cmd == "inspect" and n == 1_000_000 else "",
            })
    return rows

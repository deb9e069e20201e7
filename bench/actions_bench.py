"""Action reduction throughput: `load_actions` and `wf inspect --actions --json` on a synthetic bundle."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth import write_events

from wf.bundle.actions import load_actions
from wf.bundle.reader import Bundle


def run(quick: bool = False) -> list[dict[str, object]]:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bundle = write_events(Path(tmp) / "big", n)
        times, count = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            count = len(load_actions(Bundle.open(bundle)))
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rows.append({
            "group": "inspect", "name": f"load_actions (read + reduce), {n:,} events → {count:,} actions",
            "median": round(med, 3), "unit": "s", "spread": f"{min(times):.3f}–{max(times):.3f}",
            "runs": repeats, "notes": f"{n / med / 1e6:.2f} M events/s, in process",
        })
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "wf.cli", "inspect", str(bundle), "--actions", "--json"],
                           check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rows.append({
            "group": "inspect", "name": f"wf inspect --actions --json, {n:,} events",
            "median": round(med, 3), "unit": "s", "spread": f"{min(times):.3f}–{max(times):.3f}",
            "runs": repeats, "notes": "includes interpreter start and JSON output",
        })
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)

"""Annotation log: cost of one `annotate()` append (lock, write, fsync, re-fold) and of folding a big log."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from wf.bundle.annotation_log import annotate, load_annotations, to_record
from wf.bundle.annotations import Change
from wf.bundle.events import Header, Monitor, PlatformInfo, RecorderInfo, ScreenGeometry
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter

WRITER = """
import sys
from wf.bundle.annotation_log import annotate
from wf.bundle.annotations import Change
from wf.bundle.reader import Bundle
b = Bundle.open(sys.argv[1])
for i in range(int(sys.argv[2])):
    annotate(b, [Change(step=i % 50, values={"note": f"{sys.argv[3]} {i}"})], author=sys.argv[3], n_actions=50)
"""


def _bundle(path: Path) -> Bundle:
    header = Header(format="wf-bundle", version=1, started="2026-11-27T00:00:00Z",
                    recorder=RecorderInfo(name="bench", version="0"), platform=PlatformInfo(system="Linux"),
                    screen=ScreenGeometry(width=100, height=100, monitors=[Monitor(0, 0, 100, 100)]))
    BundleWriter(path, header).close()
    return Bundle.open(path)


def _row(name: str, times: list[float], unit: str, scale: float, notes: str = "") -> dict[str, object]:
    return {"group": "annotate", "name": name, "median": round(statistics.median(times) * scale, 3),
            "unit": unit, "spread": f"{min(times) * scale:.3f}–{max(times) * scale:.3f}",
            "runs": len(times), "notes": notes}


def run(quick: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        b = _bundle(Path(tmp) / "b")
        times = []
        for i in range(50 if quick else 200):
            t0 = time.perf_counter()
            annotate(b, [Change(step=i % 50, values={"note": f"note {i}"})], author="bench", n_actions=50)
            times.append(time.perf_counter() - t0)
        rows.append(_row("annotate(): one step note appended (lock + write + fsync + re-fold)", times,
                         "ms", 1e3, f"log of up to {len(times)} records"))

        n = 20_000 if quick else 100_000
        big = _bundle(Path(tmp) / "big")
        recs = [to_record(Change(step=i % 500, values={"note": f"n{i}", "dropped": i % 7 == 0}),
                          author=f"a{i % 5}", via="bench") for i in range(n)]
        big.annotations_path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
        times = []
        for _ in range(3 if quick else 5):
            t0 = time.perf_counter()
            ann = load_annotations(big)
            times.append(time.perf_counter() - t0)
        assert ann.records == n
        rows.append(_row(f"load_annotations(): fold of {n:,} records", times, "s", 1.0,
                         f"{big.annotations_path.stat().st_size / 1e6:.1f} MB log"))

        par, each = 4, (25 if quick else 100)
        c = _bundle(Path(tmp) / "c")
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(c.path), str(each), f"w{k}"])
                 for k in range(par)]
        for p in procs:
            p.wait()
        wall = time.perf_counter() - t0
        ann = load_annotations(c)
        assert ann.records == par * each and not ann.warnings
        rows.append({"group": "annotate", "name": f"{par} processes × {each} appends at once",
                     "median": round(wall, 2), "unit": "s", "runs": 1,
                     "notes": f"{par * each} records, none lost or torn (incl. interpreter start-up)"})
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)

"""Soak: `wf record` at 1920×1080 for hours of steady mixed input; RSS slope, peak RSS, CPU, exact text.

Runs only with `make soak` (`bench/run.py --soak --only soak`; `SOAK_MINUTES`, default 120). A private
1920×1080 Xvfb with an xterm, xcalc and a ticking `xclock -update 1`; about once a second xdotool moves
the pointer and types `echo soak N` + Return into the xterm, every 5th round it clicks, every 7th it
scrolls. RSS (VmRSS) is read from /proc/<pid>/status every 10 s by this process (the outside witness) and
appended to bench/results/soak-rss.tsv as it goes, so a soak that is stopped early still shows how long it
ran; the slope is a least-squares fit after a 10-minute warm-up, also given for the last hour and for the
baseline (the lowest RSS of each 5 minutes: freed picture buffers go back to the system at once, so RSS
swings by one PNG encode's worth between samples). The typed
text must come back exactly and `stop.dropped` be 0. With WF_SOAK_HEAP=1 the recorder runs under
tracemalloc (bench/heapwrap.py) and dumps a heap snapshot every 10 minutes next to the RSS file, for
`python bench/heapwrap.py compare DIR` (the method that found the growth this soak checks for).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from record_bench import _cpu_seconds  # noqa: E402
from reliability_bench import _slope, _wait_window  # noqa: E402
from reliability_kit import RecorderProc, soak_round  # noqa: E402

from wf.replayer.xvfb import VirtualDisplay  # noqa: E402

RESULTS = HERE / "results"
WARM_UP = 600.0  # s: allocator arenas, caches and the first PNG buffers settle in the first minutes
SAMPLE_EVERY = 10.0


def _status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    return 60 * _slope(points)


def window_minima(points: list[tuple[float, float]], window: float = 300.0) -> list[tuple[float, float]]:
    """The lowest RSS of each ``window`` seconds: the baseline, without the transient picture buffers
    (freed frame-sized buffers go back to the system at once, so RSS swings by a PNG encode's worth)."""
    out: dict[int, tuple[float, float]] = {}
    for t, v in points:
        k = int(t // window)
        if k not in out or v < out[k][1]:
            out[k] = (t, v)
    return [out[k] for k in sorted(out)]


def soak(minutes: float, tmp: Path) -> list[dict[str, object]]:
    from wf.bundle.events import KeyDown, Stop, Volatile
    from wf.bundle.reader import Bundle

    vd = VirtualDisplay(1920, 1080).start()
    env = vd.env()
    apps = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for cmd in (["xterm", "-geometry", "100x30+0+0", "-T", "wf-soak"], ["xcalc", "-geometry", "+900+400"],
                        ["xclock", "-update", "1", "-geometry", "+1500+700"])]
    log = Path(os.environ.get("WF_SOAK_LOG", RESULTS / "soak-rss.tsv"))
    heap = os.environ.get("WF_SOAK_HEAP")
    try:
        _wait_window(env, "wf-soak")
        subprocess.run(["xdotool", "mousemove", "300", "200"], env=env, check=True)
        time.sleep(0.5)
        wf = None
        if heap:
            heap_dir = RESULTS / "soak-heap"
            shutil.rmtree(heap_dir, ignore_errors=True)
            heap_dir.mkdir(parents=True)
            env = dict(env, WF_HEAP_DIR=str(heap_dir), WF_HEAP_EVERY="600")
            wf = [sys.executable, str(HERE / "heapwrap.py")]
        rec = RecorderProc(tmp / "soak", env, "--fps", "5", wf=wf)
        pid = rec.pid
        samples: list[tuple[float, float]] = []
        typed: list[str] = []
        cpu0, t0 = _cpu_seconds(pid), time.monotonic()
        next_sample, i = 0.0, 0
        with log.open("w") as fh:
            fh.write(f"# wf record soak started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, planned {minutes:g} min\n"
                     "# seconds\trss_mb\tcpu_percent_so_far\trounds\n")
            while (now := time.monotonic() - t0) < minutes * 60:
                if now >= next_sample:
                    rss = _status(pid, "VmRSS")
                    samples.append((now, rss))
                    cpu = (_cpu_seconds(pid) - cpu0) / max(now, 1e-3) * 100
                    fh.write(f"{now:.0f}\t{rss:.2f}\t{cpu:.2f}\t{i}\n")
                    fh.flush()
                    next_sample += SAMPLE_EVERY
                i += 1
                typed.append(soak_round(env, i, wheel=True))
                time.sleep(0.3)
        wall = time.monotonic() - t0
        cpu = (_cpu_seconds(pid) - cpu0) / wall * 100
        hwm = _status(pid, "VmHWM")
        rec.signal(signal.SIGTERM)
        rc = rec.wait(timeout=300)
        events = list(Bundle.open(tmp / "soak").events())
    finally:
        for a in apps:
            a.terminate()
            a.wait()
        vd.stop()
    got = "".join(e.char or "" for e in events if type(e) is KeyDown)
    want = "".join(typed)
    same = got == want
    where = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
    stop = events[-1]
    dropped = stop.dropped if type(stop) is Stop else -1
    warm = [(t, m) for t, m in samples if t >= WARM_UP] or samples
    last_hour = [(t, m) for t, m in samples if t >= wall - 3600] if wall >= 2 * 3600 else warm
    volatile = sum(type(e) is Volatile for e in events)
    base = window_minima(warm)
    diverged = "" if same else f"; first difference at character {where:,}: recorded {got[where:where + 30]!r}, " \
                               f"typed {want[where:where + 30]!r} (bundle kept: {tmp / 'soak'})"
    return [
        {"group": "soak",
         "name": f"soak {wall / 60:.0f} min at 1920×1080: RSS slope after a {WARM_UP / 60:g}-min warm-up",
         "median": round(slope(warm), 4), "unit": "MB/min", "target": "≤ 0.05 MB/min",
         "spread": f"{warm[0][1]:.1f} → {warm[-1][1]:.1f} MB", "runs": len(samples),
         "notes": f"last hour: {slope(last_hour):.4f} MB/min; baseline (lowest RSS of each 5 min): "
                  f"{slope(base):.4f} MB/min, {base[0][1]:.1f} → {base[-1][1]:.1f} MB; RSS sampled every "
                  f"{SAMPLE_EVERY:g} s from /proc/<pid>/status by the bench process"
                  + ("; UNDER TRACEMALLOC (RSS inflated)" if heap else "")},
        {"group": "soak", "name": "soak: peak RSS (VmHWM)", "median": round(hwm, 1), "unit": "MB",
         "target": "≤ 120 MB at 1080p"},
        {"group": "soak", "name": "soak: recorder CPU", "median": round(cpu, 2), "unit": "% of one core",
         "notes": f"{i:,} rounds of typing, moves, clicks and wheel notches, clock ticking"},
        {"group": "soak", "name": "soak: typed text recorded exactly, 0 dropped",
         "median": round(100 * where / max(1, len(want)), 3), "unit": "% of typed text (identical prefix)",
         "target": "100 %, 0 drops",
         "notes": f"{len(want):,} characters; identical: {same}; dropped {dropped}; rc {rc}; {len(events):,} lines; "
                  f"{volatile} volatile lines{diverged}"},
    ]


def run(quick: bool = False) -> list[dict[str, object]] | None:
    if not os.environ.get("WF_BENCH_SOAK"):
        return None  # not part of `make bench`: keep the last soak's figures
    minutes = float(os.environ.get("WF_BENCH_SOAK_MINUTES", "120"))
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wf-soak-") as d:
        rows = soak(minutes, Path(d))
        if any("bundle kept" in str(r.get("notes")) for r in rows):
            keep = Path(tempfile.mkdtemp(prefix="wf-soak-kept-"))
            shutil.copytree(Path(d) / "soak", keep / "soak")
            for r in rows:
                r["notes"] = str(r.get("notes")).replace(str(Path(d) / "soak"), str(keep / "soak"))
    return rows


if __name__ == "__main__":
    os.environ.setdefault("WF_BENCH_SOAK", "1")
    for r in run() or []:
        print(r)

"""Reliability under faults and over time: kill -9 at random moments, SIGTERM while screens are being encoded,
a full disk, and a soak at steady moderate input (RSS sampled from /proc).

*Kill -9*: `wf record` on a private 1280×800 Xvfb while back-to-back xdotool calls each move the pointer and
type a short word (~1,300 key events/s); SIGKILL at a uniformly random moment 0.4–3 s into the input. Loss is
measured on one clock (the header's `started` wall clock is taken next to the recorder's monotonic origin):
*loss* = kill time − time of the last input event kept; *missing* counts characters whose xdotool call had
returned more than 0.5 s before the kill but that are not in the bundle. *SIGTERM*: a 1920×1080 Xvfb with
an xterm printing the time every 20 ms (every frame distinct) and ~6 clicks/s, fps 20, so the PNG encoder is
always busy; SIGTERM at a random moment. *Soak*: an xterm, `echo soak N` typed every ~1 s with a pointer
move and a click every 5th round; the typed text must come back exactly, `stop.dropped` must be 0; RSS is
sampled every 2 s and its slope fitted after a 20 s warm-up (the hours-long soak is `make soak`, soak_bench.py).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from reliability_kit import (  # noqa: E402
    WF,
    RecorderProc,
    changing_xterm_cmd,
    click_storm,
    kill_during_input,
    screens_complete,
    soak_round,
)

from wf.replayer.xvfb import VirtualDisplay  # noqa: E402


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} (1/5 min, {os.cpu_count()} cores)"


def _wait_window(env: dict[str, str], name: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=env,
                             capture_output=True).stdout.strip():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no window {name}")
        time.sleep(0.05)


def kills(tmp: Path, n: int) -> list[dict[str, object]]:
    rng = random.Random(20)
    vd = VirtualDisplay(1280, 800).start()
    try:
        res = [kill_during_input(vd.env(), tmp / f"kill{i}", after=rng.uniform(0.4, 3.0)) for i in range(n)]
    finally:
        vd.stop()
    valid = sum(r.valid for r in res)
    losses = [r.loss * 1000 for r in res]
    missing = sum(r.missing for r in res)
    order = all(r.in_order for r in res)
    rate = statistics.median(r.injected_events / max(r.kill_t, 1e-3) for r in res)
    return [
        {"group": "reliability", "name": f"kill -9 of wf record at {n} random moments: bundles that validate",
         "median": valid, "unit": f"of {n}", "runs": n, "target": f"{n} of {n}",
         "notes": f"heavy xdotool input, ~{rate:,.0f} key events/s plus pointer moves; typed text in order in "
                  f"every bundle: {order}; {_load()}"},
        {"group": "reliability", "name": "kill -9: last event kept → kill (loss)",
         "median": round(statistics.median(losses)), "unit": "ms",
         "spread": f"{min(losses):.0f}–{max(losses):.0f}", "runs": n, "target": "≤ 500 ms",
         "notes": f"characters injected > 0.5 s before the kill but missing: {missing} (target 0)"},
    ]


def sigterms(tmp: Path, n: int) -> list[dict[str, object]]:
    rng = random.Random(21)
    vd = VirtualDisplay(1920, 1080).start()
    env = vd.env()
    term = subprocess.Popen(changing_xterm_cmd(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok, exits, files, pending = 0, [], [], []
    try:
        _wait_window(env, "wf-busy")
        for i in range(n):
            out = tmp / f"term{i}"
            stop = threading.Event()
            rec = RecorderProc(out, env, "--fps", "20")
            storm = click_storm(env, stop)
            time.sleep(rng.uniform(1.0, 3.0))
            t0 = time.monotonic()
            sig_wall = time.time()
            rec.signal(signal.SIGTERM)
            rc = rec.wait(timeout=120)
            exits.append((time.monotonic() - t0) * 1000)
            stop.set()
            storm.join(10)
            from wf.bundle.events import Screen, Stop
            from wf.bundle.reader import Bundle

            b = Bundle.open(out)
            events = list(b.events())
            sig_t = sig_wall - datetime.fromisoformat(b.header.started).timestamp()
            complete, nfiles, _ = screens_complete(out)
            valid = subprocess.run([*WF, "validate", str(out)], env=env, capture_output=True).returncode == 0
            stop_ev = events[-1] if events else None
            stop_screen = any(type(e) is Screen and e.reason == "stop" for e in events)
            ok += int(rc == 0 and valid and complete and stop_screen and type(stop_ev) is Stop)
            files.append(nfiles)
            # Screens whose line comes after the signal: encoded while wf was already stopping.
            pending.append(sum(1 for e in events if type(e) is Screen and e.t >= sig_t))
    finally:
        term.terminate()
        term.wait()
        vd.stop()
    return [
        {"group": "reliability", "name": f"SIGTERM during screen encoding ({n} runs): stop event, stop screen and "
                                          "every referenced screen present, validates",
         "median": ok, "unit": f"of {n}", "runs": n, "target": f"{n} of {n}",
         "notes": f"1920×1080, fps 20, every frame distinct; {statistics.median(files):.0f} screen files per "
                  f"bundle; screen lines written after the signal: median {statistics.median(pending):.0f}"},
        {"group": "reliability", "name": "SIGTERM → exit while encoding", "median": round(statistics.median(exits)),
         "unit": "ms", "spread": f"{min(exits):.0f}–{max(exits):.0f}", "runs": n},
    ]


def full_disk(tmp: Path) -> list[dict[str, object]]:
    mnt = tmp / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        return [{"group": "reliability", "name": "full disk (300 KB tmpfs)", "median": None, "unit": "",
                 "notes": "skipped: cannot mount a tmpfs (needs root)"}]
    vd = VirtualDisplay(1280, 800).start()
    env = vd.env()
    term = subprocess.Popen(changing_xterm_cmd(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_window(env, "wf-busy")
        out = mnt / "b"
        stop = threading.Event()
        rec = RecorderProc(out, env, "--fps", "10", "--min-free", "0")  # no floor: the disk fills
        storm = click_storm(env, stop, period=0.1)
        t0 = time.monotonic()
        while rec.proc.poll() is None and time.monotonic() - t0 < 60:
            time.sleep(0.1)
        if rec.proc.poll() is None:
            rec.signal(signal.SIGKILL)
        rc = rec.wait()
        stop.set()
        storm.join(10)
        valid = subprocess.run([*WF, "validate", str(out)], env=env, capture_output=True).returncode == 0
        msg = next((ln for ln in rec.stderr.splitlines() if "error" in ln), rec.stderr.strip()[:120])
    finally:
        term.terminate()
        term.wait()
        vd.stop()
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    return [{"group": "reliability", "name": "full disk (300 KB tmpfs): exit status, bundle validates",
             "median": rc, "unit": "exit status", "target": "3, valid",
             "notes": f"valid: {valid}; after {time.monotonic() - t0:.1f} s; message: {msg!r}"}]


def soak(tmp: Path, seconds: float, sample_every: float) -> list[dict[str, object]]:
    from wf.bundle.events import KeyDown, Stop
    from wf.bundle.reader import Bundle

    vd = VirtualDisplay(1280, 800).start()
    env = vd.env()
    term = subprocess.Popen(["xterm", "-geometry", "100x30+0+0", "-T", "wf-soak"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_window(env, "wf-soak")
        subprocess.run(["xdotool", "mousemove", "300", "200"], env=env, check=True)
        time.sleep(0.3)
        rec = RecorderProc(tmp / "soak", env, "--fps", "5")
        samples: list[tuple[float, float]] = []
        typed: list[str] = []
        t0 = time.monotonic()
        next_sample = 0.0
        i = 0
        while (now := time.monotonic() - t0) < seconds:
            if now >= next_sample:
                samples.append((now, rec.rss_mb()))
                next_sample += sample_every
            i += 1
            typed.append(soak_round(env, i))
            time.sleep(0.3)
        samples.append((time.monotonic() - t0, rec.rss_mb()))
        hwm = next(int(ln.split()[1]) / 1024 for ln in Path(f"/proc/{rec.pid}/status").read_text().splitlines()
                   if ln.startswith("VmHWM:"))
        rec.signal(signal.SIGTERM)
        rc = rec.wait(timeout=120)
        events = list(Bundle.open(tmp / "soak").events())
    finally:
        term.terminate()
        term.wait()
        vd.stop()
    got = "".join(e.char or "" for e in events if type(e) is KeyDown)
    want = "".join(typed)
    where = _common_prefix(got, want)
    diverged = "" if got == want else (f"; first difference at character {where:,}: recorded "
                                       f"{got[max(0, where - 15):where + 15]!r}, typed "
                                       f"{want[max(0, where - 15):where + 15]!r}")
    stop = events[-1]
    dropped = stop.dropped if type(stop) is Stop else -1
    warm = [(t, m) for t, m in samples if t >= 20] or samples
    slope = _slope(warm) * 60
    first, last = warm[0][1], warm[-1][1]
    return [
        {"group": "reliability", "name": f"soak {seconds / 60:g} min: input events captured exactly, 0 dropped",
         "median": round(100 * where / max(1, len(want)), 2), "unit": "% of typed text (identical prefix)",
         "runs": 1, "target": "100 %, 0 drops",
         "notes": f"{len(want):,} characters in {i} rounds; text identical: {got == want}; dropped {dropped}; "
                  f"rc {rc}; {len(events):,} lines{diverged}"},
        {"group": "reliability", "name": f"soak {seconds / 60:g} min: RSS slope after 20 s warm-up",
         "median": round(slope, 3), "unit": "MB/min", "spread": f"{first:.0f} → {last:.0f} MB",
         "runs": len(samples), "target": "flat (≈ 0)",
         "notes": f"sampled every {sample_every:g} s from /proc/<pid>/status VmRSS; {_load()}"},
        {"group": "reliability", "name": f"soak {seconds / 60:g} min: peak RSS (VmHWM)", "median": round(hwm),
         "unit": "MB", "target": "< 200 MB", "runs": 1},
    ]


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (units per second)."""
    if len(points) < 2:
        return 0.0
    mt = statistics.fmean(t for t, _ in points)
    mv = statistics.fmean(v for _, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / den if den else 0.0


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def run(quick: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="wf-reliability-") as d:
        tmp = Path(d)
        rows += kills(tmp, 6 if quick else 20)
        rows += sigterms(tmp, 2 if quick else 5)
        rows += full_disk(tmp)
        rows += soak(tmp, 60 if quick else 120, 2)  # the long soak is bench/soak_bench.py (`make soak`)
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)

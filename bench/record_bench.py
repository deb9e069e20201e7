"""`wf record`: completeness under xdotool bursts, CPU and memory, per-frame costs, pre-action frame age.

All on a private 1920×1080 Xvfb with xterm, xcalc and xclock on screen. Completeness: xdotool injects key
events (`type --delay 0`) and pointer moves (chained `mousemove`) as fast as it can while `wf record` runs;
a bare pynput listener in the bench process captures the same burst as the peer. CPU is read from
/proc/<pid>/stat of the recorder process (user+system time over wall time, % of one core).
"""

from __future__ import annotations

import itertools
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WF = [sys.executable, "-m", "wf.cli"]
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15 of stat)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Recorder:
    """`wf record` as a subprocess on display ``env``; ready once its start notice is out."""

    def __init__(self, out: Path, env: dict[str, str], *args: str) -> None:
        self.out = out
        self.proc = subprocess.Popen([*WF, "record", str(out), *args], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        notice = b""
        deadline = time.monotonic() + 30
        while b"stop:" not in notice:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise RuntimeError(f"wf record did not start: {notice.decode()}")
            if select.select([fd], [], [], 1)[0]:
                notice += os.read(fd, 4096)

    def stop(self) -> tuple[int, float]:
        """SIGTERM; returns (exit status, peak RSS MB read just before)."""
        rss = _peak_rss_mb(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=60)
        return self.proc.returncode, rss


def _events(out: Path) -> list:
    from wf.bundle.reader import Bundle

    return list(Bundle.open(out).events())


class BarePynput:
    """The peer: plain pynput keyboard and mouse listeners counting what they receive."""

    def __init__(self) -> None:
        from pynput import keyboard, mouse

        self.keys = 0
        self.moves = 0
        self.k = keyboard.Listener(on_press=self._key, on_release=self._key)
        self.m = mouse.Listener(on_move=self._move)
        self.k.start()
        self.m.start()
        self.k.wait()
        self.m.wait()

    def _key(self, *_: object) -> None:
        self.keys += 1

    def _move(self, *_: object) -> None:
        self.moves += 1

    def settle(self, attr: str, expected: int, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        last, still = -1, 0
        while time.monotonic() < deadline and getattr(self, attr) < expected:
            n = getattr(self, attr)
            still = still + 1 if n == last else 0
            if still > 20:
                break
            last = n
            time.sleep(0.1)
        return int(getattr(self, attr))

    def stop(self, env: dict[str, str]) -> None:
        # pynput's stop request sits unflushed on the connection its thread is blocked reading, until the
        # next input event (the recorder works around it, see wf.recorder.input): send one.
        self.k.stop()
        self.m.stop()
        subprocess.run(["xdotool", "mousemove_relative", "1", "0", "key", "shift"], env=env, check=False)
        self.k.join(5)
        self.m.join(5)


def _xdotool(env: dict[str, str], *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(["xdotool", *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _completeness(env: dict[str, str], tmp: Path, seconds: float) -> list[dict[str, object]]:
    from wf.bundle.events import KeyDown, KeyUp, MouseMove, Stop

    rows: list[dict[str, object]] = []
    n_chars = int(3100 * seconds)  # xdotool types ~3,100 chars (6,200 key events) per second here
    text = ("abcdefghijklmnopqrstuvwxyz" * (n_chars // 26 + 1))[:n_chars]
    moves = [(100 + i % 1700, 100 + (i // 1700) % 900) for i in range(int(10_000 * seconds))]
    chunks = [[a for x, y in moves[i:i + 20_000] for a in ("mousemove", str(x), str(y))]
              for i in range(0, len(moves), 20_000)]  # argv stays well under ARG_MAX
    os.environ["DISPLAY"] = env["DISPLAY"]
    peer = BarePynput()
    out = tmp / "burst"
    rec = Recorder(out, env, "--fps", "5")
    cpu0, w0 = _cpu_seconds(rec.proc.pid), time.monotonic()
    key_secs = _xdotool(env, "type", "--delay", "0", text)
    move_secs = sum(_xdotool(env, *chunk) for chunk in chunks)
    time.sleep(1.0)
    cpu = (_cpu_seconds(rec.proc.pid) - cpu0) / (time.monotonic() - w0) * 100
    peer_keys = peer.settle("keys", 2 * n_chars)
    peer_moves = peer.settle("moves", len(moves))
    rc, rss = rec.stop()
    peer.stop(env)
    events = _events(out)
    keys = [e for e in events if type(e) in (KeyDown, KeyUp)]
    got = "".join(e.char or "" for e in keys if type(e) is KeyDown)
    pairs_ok = all(type(a) is KeyDown and type(b) is KeyUp and a.keycode == b.keycode
                   for a, b in zip(keys[::2], keys[1::2], strict=False))
    stop = events[-1]
    dropped = stop.dropped if type(stop) is Stop else -1
    rec_moves = [(e.x, e.y) for e in events if type(e) is MouseMove]
    want_moves = moves  # every step moves the pointer (no two consecutive positions are equal)
    where = {p: i for i, p in enumerate(want_moves)}
    idx = [where[p] for p in rec_moves if p in where]
    in_order = all(b > a for a, b in itertools.pairwise(idx))
    missing = len(want_moves) - len(set(idx))
    n_keys = 2 * n_chars
    rows += [
        {"group": "record", "name": f"key burst: {n_keys:,} key events at {n_keys / key_secs:,.0f}/s",
         "median": round(100 * len(keys) / n_keys, 2), "unit": "% captured",
         "peer": f"bare pynput {100 * peer_keys / n_keys:.2f} %",
         "target": "100 %, in order, 0 drops",
         "notes": f"text exact: {got == text}; press/release paired: {pairs_ok}; dropped {dropped}; rc {rc}"},
        {"group": "record", "name": f"pointer burst: {len(want_moves):,} moves at {len(moves) / move_secs:,.0f}/s",
         "median": round(100 * len(set(idx)) / len(want_moves), 3),
         "unit": "% captured", "peer": f"bare pynput {100 * peer_moves / len(want_moves):.3f} %",
         "target": "100 %, in order",
         "notes": f"in order: {in_order}; {missing} missing (the X server coalesces queued motion events "
                  "when it lags: no client sees those)"},
        {"group": "record", "name": "recorder CPU during the bursts", "median": round(cpu, 1),
         "unit": "% of one core", "notes": f"{(n_keys + len(moves)) / (key_secs + move_secs):,.0f} events/s "
                                           f"average; peak RSS {rss:.0f} MB"},
    ]
    return rows


PYNPUT_IDLE = """
import time
from pynput import keyboard, mouse
k = keyboard.Listener(on_press=lambda *_: None, on_release=lambda *_: None)
m = mouse.Listener(on_move=lambda *_: None, on_click=lambda *_: None, on_scroll=lambda *_: None)
k.start(); m.start(); k.wait(); m.wait()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def _idle_cpu(env: dict[str, str], tmp: Path, seconds: float, runs: int) -> list[dict[str, object]]:
    """wf record (damage, then polling) and a bare pynput listener, at the same time, measured alike.

    Both are separate processes; the witness is this process reading /proc/<pid>/stat (utime+stime) of
    each at the start and the end of the same window.
    """
    rows: list[dict[str, object]] = []
    for capture in ("damage", "poll"):
        wf_cpu, peer_cpu, rss = [], [], []
        for i in range(runs):
            peer = subprocess.Popen([sys.executable, "-c", PYNPUT_IDLE], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            assert peer.stdout is not None
            peer.stdout.readline()  # "ready": both listeners are live
            rec = Recorder(tmp / f"idle-{capture}-{i}", env, "--fps", "5", "--capture", capture)
            time.sleep(2.0)  # start-up work (imports, the start screen's PNG) is not idle cost
            c0 = (_cpu_seconds(rec.proc.pid), _cpu_seconds(peer.pid), time.monotonic())
            time.sleep(seconds)
            wall = time.monotonic() - c0[2]
            wf_cpu.append((_cpu_seconds(rec.proc.pid) - c0[0]) / wall * 100)
            peer_cpu.append((_cpu_seconds(peer.pid) - c0[1]) / wall * 100)
            _, peak = rec.stop()
            rss.append(peak)
            peer.kill()
            peer.wait()
        med, pmed = statistics.median(wf_cpu), statistics.median(peer_cpu)
        rows.append({
            "group": "record",
            "name": f"recorder CPU at idle, 1920×1080, xclock ticking 1/s, fps 5, --capture {capture}",
            "median": round(med, 2), "unit": "% of one core", "spread": f"{min(wf_cpu):.2f}–{max(wf_cpu):.2f}",
            "runs": runs, "peer": f"bare pynput listener {pmed:.2f} %",
            "ratio": round(med / pmed, 1) if pmed > 0 else None,
            "target": "≤ 1 %" if capture == "damage" else "fallback",
            "notes": f"{seconds:.0f} s windows, both processes at once, CPU from /proc/<pid>/stat; "
                     f"peak RSS {max(rss):.0f} MB; {_load()}"})
    return rows


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} (1/5 min, {os.cpu_count()} cores)"


def _frame_costs(env: dict[str, str], repeats: int) -> list[dict[str, object]]:
    """Per-frame costs of both capture paths, on the bench desktop (xterm, xcalc, xclock at 1920×1080)."""
    import mss

    from wf.recorder.regions import as_pixels
    from wf.recorder.screens import encode_frame
    from wf.recorder.tiles import TileImage

    grab, tiles, enc, size, box_grab, patch = [], [], [], [], [], []
    clock = {"left": 1500, "top": 700, "width": 166, "height": 166}  # the xclock window
    with mss.MSS(display=env["DISPLAY"]) as sct:
        mon = dict(sct.monitors[0])
        w, h = mon["width"], mon["height"]
        prev: TileImage | None = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            raw = sct.grab(mon).raw
            t1 = time.perf_counter()
            img, _, _ = TileImage.from_pixels(as_pixels(raw, w, h), prev)  # polling: split + compare + share
            t2 = time.perf_counter()
            e = encode_frame(img, w, h)
            t3 = time.perf_counter()
            small = sct.grab(clock).raw  # DAMAGE: only the reported area ...
            t4 = time.perf_counter()
            box = (clock["left"], clock["top"], clock["width"], clock["height"])
            img.patched([(box, as_pixels(small, clock["width"], clock["height"]))])  # ... patched into the tiles
            t5 = time.perf_counter()
            grab.append(t1 - t0)
            if prev is not None:
                tiles.append(t2 - t1)
            enc.append(t3 - t2)
            box_grab.append(t4 - t3)
            patch.append(t5 - t4)
            size.append(len(e.png))
            prev = img
            time.sleep(0.05)

    def row(name: str, xs: list[float], notes: str = "") -> dict[str, object]:
        return {"group": "record", "name": name, "median": round(statistics.median(xs) * 1000, 2), "unit": "ms",
                "spread": f"{min(xs) * 1000:.2f}–{max(xs) * 1000:.2f}", "runs": len(xs), "notes": notes}

    return [
        row("whole-screen grab (mss XShmGetImage, 1920×1080)", grab, "polling: every frame; DAMAGE: audits only"),
        row("whole frame into shared tiles (compare with the previous, copy+hash changed tiles)", tiles,
            "polling path, every frame"),
        row("DAMAGE: grab of one reported area (the 166×166 xclock)", box_grab, "only when something was drawn"),
        row("DAMAGE: patch that area into the tiles (compare, copy, hash)", patch),
        row("frame encode (tiles→RGB, xxh3-128, PNG level 1)", enc, "only frames an action refers to, once each"),
        {"group": "record", "name": "PNG bytes per 1920×1080 frame (xterm, xcalc, xclock)",
         "median": int(statistics.median(size)), "unit": "bytes", "runs": len(size)},
    ]


def _spin(n: int) -> float:
    """A stand-in for the input thread: many tiny pure-Python steps; returns the seconds it took."""
    from collections import deque

    q: deque[tuple[float, int]] = deque()
    t0 = time.perf_counter()
    for i in range(n):
        q.append((time.monotonic(), i))
        if len(q) > 1000:
            q.clear()
    return time.perf_counter() - t0


def _thread_vs_process(env: dict[str, str], frames: int) -> list[dict[str, object]]:
    """Encode frames in a worker thread or a worker process while the 'input thread' spins."""
    import mss

    from wf.recorder.screens import encode_frame

    with mss.MSS(display=env["DISPLAY"]) as sct:
        mon = dict(sct.monitors[0])
        raw = bytes(sct.grab(mon).raw)
    w, h = mon["width"], mon["height"]
    n = 300_000
    alone = statistics.median(_spin(n) for _ in range(3))

    def with_worker(start: Callable[[], Callable[[], None]]) -> tuple[float, float]:
        wait = start()
        t0 = time.perf_counter()
        spun = _spin(n)
        wait()
        return spun, time.perf_counter() - t0

    def thread_worker() -> Callable[[], None]:
        th = threading.Thread(target=lambda: [encode_frame(raw, w, h) for _ in range(frames)])
        th.start()
        return th.join

    pool = ProcessPoolExecutor(max_workers=1)
    pool.submit(int).result()  # warm the worker up

    def process_worker() -> Callable[[], None]:
        futs = [pool.submit(encode_frame, raw, w, h) for _ in range(frames)]
        return lambda: [f.result() for f in futs] and None

    t_spin, t_total = with_worker(thread_worker)
    p_spin, p_total = with_worker(process_worker)
    pool.shutdown()
    return [
        {"group": "record", "name": "input-thread stand-in slowdown while a worker *thread* encodes",
         "median": round(t_spin / alone, 2), "unit": "× (1 = unaffected)",
         "notes": f"{frames} frames encoded in {t_total:.2f} s wall"},
        {"group": "record", "name": "input-thread stand-in slowdown while a worker *process* encodes",
         "median": round(p_spin / alone, 2), "unit": "× (1 = unaffected)",
         "notes": f"{frames} frames encoded in {p_total:.2f} s wall (8 MB pickled per frame)"},
    ]


def _frame_age(env: dict[str, str], tmp: Path, clicks: int) -> list[dict[str, object]]:
    import random

    from wf.bundle.events import Screen

    app = subprocess.Popen([sys.executable, str(REPO / "fixtures" / "app.py"), "--geometry", "420x320+700+0"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    out = tmp / "ages"
    rec = Recorder(out, env, "--fps", "5")
    rnd = random.Random(7)
    for _ in range(clicks):
        _xdotool(env, "mousemove", "800", "40", "click", "1")
        time.sleep(rnd.uniform(0.2, 1.0))
    time.sleep(0.5)
    rec.stop()
    app.terminate()
    app.wait()
    events = _events(out)
    ages = sorted(e.t - e.captured for e in events if type(e) is Screen and e.reason == "pre")
    files = list((out / "screens").glob("*.png"))
    per = sum(f.stat().st_size for f in files) / max(1, len(files))

    def pct(p: float) -> float:
        return ages[min(len(ages) - 1, int(p * len(ages)))] * 1000

    return [
        {"group": "record", "name": "pre-action frame age (event t − captured), fps 5", "median": round(pct(0.5)),
         "unit": "ms", "spread": f"p99 {pct(0.99):.0f} ms", "runs": len(ages),
         "notes": "clicks 0.2–1 s apart on the fixture app, each changing the screen"},
        {"group": "record", "name": "bytes per stored frame (1920×1080 PNG)", "median": int(per), "unit": "bytes",
         "runs": len(files), "notes": f"{len(files)} distinct frames stored for {len(ages)} pre screens"},
    ]


def run(quick: bool = False) -> list[dict[str, object]]:
    from wf.replayer.xvfb import VirtualDisplay

    rows: list[dict[str, object]] = []
    vd = VirtualDisplay(1920, 1080).start()
    env = vd.env()
    apps = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for cmd in (["xterm", "-geometry", "100x30+0+0"], ["xcalc", "-geometry", "+900+400"],
                        ["xclock", "-update", "1", "-geometry", "+1500+700"])]
    old_display = os.environ.get("DISPLAY")
    try:
        time.sleep(1.5)
        subprocess.run(["xdotool", "mousemove", "300", "200"], env=env, check=True)  # focus the terminal
        with tempfile.TemporaryDirectory() as tmp:
            rows += _completeness(env, Path(tmp), 3 if quick else 10)
            rows += _idle_cpu(env, Path(tmp), 10 if quick else 30, 1 if quick else 3)
            rows += _frame_costs(env, 8 if quick else 20)
            rows += _thread_vs_process(env, 4 if quick else 8)
            rows += _frame_age(env, Path(tmp), 10 if quick else 30)
    finally:
        if old_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old_display
        for a in apps:
            a.terminate()
            a.wait()
        vd.stop()
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)

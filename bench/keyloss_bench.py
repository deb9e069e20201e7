"""Key events under CPU load: what `wf record` wrote against what the application received (an independent witness).

Per run: a private 1920×1080 Xvfb (its stderr kept, to catch the server's own "EQ overflowing" drops), the
witness app (fixtures/keywitness.py: an X client logging every KeyPress/KeyRelease its window receives, by
core event delivery — no code in common with wf's X RECORD capture) under the pointer, two busy-looping
processes (one per core), `wf record`, and `xdotool type --delay 0` of lowercase letters (one press and one
release each, no modifiers). Once the witness has stopped receiving, wf is stopped with SIGTERM and the
two sequences of (press/release, keycode) are compared in order. A bare pynput listener in the bench
process counts the same burst as a second recording client.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from reliability_kit import RecorderProc, changing_xterm_cmd  # noqa: E402

WITNESS = REPO / "fixtures" / "keywitness.py"
HOG = "while True: pass"


class Xvfb:
    """Xvfb on a free display, its stderr in a file (VirtualDisplay discards it; the drops are logged there)."""

    def __init__(self, log: Path, width: int = 1920, height: int = 1080) -> None:
        self.log = log
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
             "-noreset", "+extension", "RECORD", "+extension", "XTEST"],
            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
        os.close(wfd)
        data = b""
        deadline = time.monotonic() + 15
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([rfd], [], [], 1)[0]:
                data += os.read(rfd, 64)
        os.close(rfd)
        self.display = f":{data.decode().strip()}"
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def overflow_lines(self) -> int:
        return sum("EQ overflowing" in line or "dropped" in line.lower() for line in self.log.read_text().splitlines())


def _witness_log(path: Path) -> list[tuple[str, int]]:
    out = []
    for line in path.read_text().splitlines():
        kind, kc, _ = line.split()
        out.append(("down" if kind == "P" else "up", int(kc)))
    return out


def _settled(path: Path, expected: int, timeout: float = 60) -> None:
    """Wait until the witness has logged ``expected`` events, or nothing new for 3 s."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = path.read_text().count("\n") if path.exists() else 0
        if n >= expected:
            return
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 3:
            return
        time.sleep(0.2)


def one_run(tmp: Path, i: int, chars: int, hogs: int) -> dict[str, object]:
    from wf.bundle.events import KeyDown, KeyUp, Stop
    from wf.bundle.reader import Bundle

    x = Xvfb(tmp / f"xvfb{i}.log")
    env = x.env
    wlog = tmp / f"witness{i}.log"
    witness = subprocess.Popen([sys.executable, str(WITNESS), "--log", str(wlog)], env=env, stdout=subprocess.PIPE,
                               text=True)
    # A terminal redrawing every 20 ms: the X server and wf's screen capture are busy too.
    cmd = changing_xterm_cmd()
    cmd[cmd.index("-geometry") + 1] = "80x20+700+0"  # beside the witness, not over it
    busy = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hog_procs: list[subprocess.Popen[bytes]] = []
    peer_count = [0]
    try:
        assert witness.stdout is not None
        witness.stdout.readline()
        subprocess.run(["xdotool", "mousemove", "300", "200"], env=env, check=True)  # focus follows the pointer
        os.environ["DISPLAY"] = x.display
        from pynput import keyboard  # opens $DISPLAY on import

        peer = keyboard.Listener(on_press=lambda *_: peer_count.__setitem__(0, peer_count[0] + 1),
                                 on_release=lambda *_: peer_count.__setitem__(0, peer_count[0] + 1))
        peer.start()
        peer.wait()
        rec = RecorderProc(tmp / f"b{i}", env, "--fps", "5")
        hog_procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(hogs)]
        text = "".join(chr(ord("a") + (k * 7 + i) % 26) for k in range(chars))
        t0 = time.monotonic()
        subprocess.run(["xdotool", "type", "--delay", "0", text], env=env, check=True)  # one burst, full speed
        inject_s = time.monotonic() - t0
        _settled(wlog, 2 * chars)
        deadline = time.monotonic() + 30  # pynput drops its backlog at stop(): let it catch up first
        last, since = -1, time.monotonic()
        while peer_count[0] < 2 * chars and time.monotonic() < deadline and time.monotonic() - since < 3:
            if peer_count[0] != last:
                last, since = peer_count[0], time.monotonic()
            time.sleep(0.2)
        time.sleep(1.0)
        for h in hog_procs:
            h.kill()
        rec.signal(signal.SIGTERM)
        rc = rec.wait(timeout=120)
        received = _witness_log(wlog)  # before the Shift below, which is not part of the burst
        peer.stop()
        subprocess.run(["xdotool", "key", "shift"], env=env, check=False)  # wakes pynput's blocked stop
        peer.join(5)
    finally:
        for h in hog_procs:
            h.kill()
        witness.send_signal(signal.SIGTERM)
        witness.wait(timeout=10)
        busy.terminate()
        busy.wait(timeout=10)
        x.stop()
    events = list(Bundle.open(tmp / f"b{i}").events())
    recorded = [("down" if type(e) is KeyDown else "up", e.keycode) for e in events if type(e) in (KeyDown, KeyUp)]
    stop = events[-1]
    dropped = stop.dropped if type(stop) is Stop else -1
    first_diff = next((k for k, (a, b) in enumerate(zip(recorded, received, strict=False)) if a != b),
                      min(len(recorded), len(received)))
    return {"injected": 2 * chars, "received": len(received), "recorded": len(recorded), "peer": peer_count[0],
            "same": recorded == received, "first_diff": first_diff, "dropped": dropped, "rc": rc,
            "rate": 2 * chars / inject_s, "overflow": x.overflow_lines()}


def run(quick: bool = False) -> list[dict[str, object]]:
    runs, chars = (1, 1500) if quick else (3, 6000)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="wf-keyloss-") as d:
        results = [one_run(Path(d), i, chars, hogs=os.cpu_count() or 2) for i in range(runs)]
    for i, r in enumerate(results):
        rows.append({
            "group": "keyloss",
            "name": f"run {i + 1}: {r['injected']:,} key events typed at {r['rate']:,.0f}/s under {os.cpu_count()} "
                    "busy loops",
            "median": r["recorded"], "unit": "key events recorded",
            "peer": f"application received {r['received']:,}; bare pynput {r['peer']:,}",
            "target": "recorded = received",
            "notes": f"same sequence (press/release, keycode): {r['same']}"
                     + ("" if r["same"] else f" (first difference at event {r['first_diff']:,})")
                     + f"; dropped {r['dropped']}; rc {r['rc']}; Xvfb queue-overflow messages {r['overflow']}"})
    same = sum(bool(r["same"]) for r in results)
    rows.append({"group": "keyloss", "name": "runs where wf recorded exactly what the application received",
                 "median": same, "unit": f"of {len(results)}", "runs": len(results), "target": f"{len(results)} of "
                 f"{len(results)}", "notes": "witness: fixtures/keywitness.py (core KeyPress/KeyRelease delivery)"})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)

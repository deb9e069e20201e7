"""Fault injection against `wf record`, shared by tests/test_reliability.py and bench/reliability_bench.py.

``kill_during_input`` starts `wf record`, drives heavy xdotool input (a pointer move and a short typed word
per xdotool call, back to back), SIGKILLs the recorder at a given moment and measures what was lost. Loss
is judged on one clock: the bundle header's ``started`` wall clock is taken right after the recorder's
monotonic origin, so a wall-clock instant ``w`` is bundle time ``w - started``; every xdotool call that
*returned* more than ``grace`` seconds before the kill must be in the bundle, in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

WF = [sys.executable, "-m", "wf.cli"]


class RecorderProc:
    """`wf record OUT --quiet --ready-file …` as a subprocess; the constructor returns once it captures."""

    def __init__(self, out: Path, env: dict[str, str], *args: str, timeout: float = 30,
                 wf: list[str] | None = None) -> None:
        self.out = out
        ready = out.parent / f".{out.name}.ready"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen([*(wf or WF), "record", str(out), "--quiet", "--ready-file", str(ready), *args],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                err = self.proc.communicate()[1].decode(errors="replace")
                raise RuntimeError(f"wf record did not become ready (rc {self.proc.returncode}): {err}")
            time.sleep(0.02)
        ready.unlink(missing_ok=True)
        self.stderr = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr += (err or b"").decode(errors="replace")
        return self.proc.returncode

    def rss_mb(self) -> float:
        """Current resident set size of the recorder process (MB), from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@dataclass
class Injector:
    """Back-to-back xdotool calls, each a pointer move plus a typed word; logs when each call returned."""

    env: dict[str, str]
    words: list[str] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # wall clock when call i returned
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Injector:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            word = f"k{i}j"  # letters and digits only: nothing a shell or app would act on
            x, y = 100 + (i * 37) % 1000, 100 + (i * 23) % 600
            subprocess.run(["xdotool", "mousemove", str(x), str(y), "type", "--delay", "0", word],
                           env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.words.append(word)
            self.done_at.append(time.time())
            i += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


@dataclass
class KillResult:
    rc: int
    valid: bool
    validate_output: str
    kill_t: float  # bundle time of the kill
    last_event_t: float | None  # bundle time of the last input event kept
    missing: int  # xdotool calls finished > grace before the kill but not (fully) in the bundle
    in_order: bool  # the typed text is a prefix of what was injected
    key_events: int
    injected_events: int  # key events injected before the kill (whole calls)

    @property
    def loss(self) -> float:
        """Seconds between the last kept input event and the kill."""
        return self.kill_t - (self.last_event_t if self.last_event_t is not None else 0.0)


def kill_during_input(env: dict[str, str], out: Path, after: float, *, grace: float = 0.5,
                      fps: float = 5) -> KillResult:
    """Record, inject heavy input, SIGKILL the recorder ``after`` seconds into the input, judge the bundle."""
    from wf.bundle.events import KeyDown, KeyUp, MouseMove
    from wf.bundle.reader import Bundle

    rec = RecorderProc(out, env, "--fps", str(fps))
    inj = Injector(env).start()
    try:
        time.sleep(after)
        killed_at = time.time()
        rec.signal(signal.SIGKILL)
        rc = rec.wait()
    finally:
        inj.stop()
    res = subprocess.run([*WF, "validate", str(out)], env=env, capture_output=True, text=True, timeout=120)
    b = Bundle.open(out)
    started = datetime.fromisoformat(b.header.started).timestamp()
    events = list(b.events())
    keys = [e for e in events if type(e) in (KeyDown, KeyUp)]
    typed = "".join(e.char or "" for e in keys if type(e) is KeyDown)
    text = "".join(inj.words)
    cutoff = killed_at - grace
    must = sum(len(w) for w, t in zip(inj.words, inj.done_at, strict=True) if t <= cutoff)
    before_kill = sum(len(w) for w, t in zip(inj.words, inj.done_at, strict=True) if t <= killed_at)
    inputs = [e for e in events if type(e) in (KeyDown, KeyUp, MouseMove)]
    return KillResult(rc=rc, valid=res.returncode == 0, validate_output=res.stdout + res.stderr,
                      kill_t=killed_at - started, last_event_t=inputs[-1].t if inputs else None,
                      missing=max(0, must - len(typed)), in_order=text.startswith(typed),
                      key_events=len(keys), injected_events=2 * before_kill)


def soak_round(env: dict[str, str], i: int, *, wheel: bool = False) -> str:
    """Round ``i`` of steady mixed input into a terminal under the pointer: a pointer move, a click every
    5th round (a wheel notch every 7th with ``wheel``), ``echo soak i`` typed and Return; returns the text."""
    word = f"echo soak {i}" if i % 200 else "clear"
    cmd = ["xdotool", "mousemove", str(200 + (i * 37) % 400), str(100 + (i * 17) % 300)]
    if i % 5 == 0:
        cmd += ["click", "1"]
    if wheel and i % 7 == 0:
        cmd += ["click", "5"]
    # `type` takes every remaining argument as text, so Return is a second call (and a real Return:
    # xdotool types "\n" as the Linefeed keysym on a borrowed keycode).
    subprocess.run([*cmd, "type", "--delay", "40", word], env=env, check=True)
    subprocess.run(["xdotool", "key", "Return"], env=env, check=True)
    return word + "\n"


def changing_xterm_cmd() -> list[str]:
    """An xterm whose content changes every ~20 ms: every grabbed frame is distinct (encoder busy)."""
    return ["xterm", "-geometry", "100x40+0+0", "-T", "wf-busy", "-e", "sh", "-c",
            "while :; do date +%s.%N; sleep 0.02; done"]


def click_storm(env: dict[str, str], stop: threading.Event, period: float = 0.05) -> threading.Thread:
    """Left clicks all over the busy xterm (each one an action with its own pre/post screens)."""

    def run() -> None:
        i = 0
        while not stop.is_set():
            subprocess.run(["xdotool", "mousemove", str(50 + (i * 53) % 500), str(50 + (i * 31) % 400),
                            "click", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            i += 1
            time.sleep(period)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def screens_complete(out: Path) -> tuple[bool, int, str]:
    """Every `screen` line names a file that exists with the recorded content hash; returns (ok, files, why)."""
    from wf.bundle.events import Screen
    from wf.bundle.reader import Bundle
    from wf.bundle.screens import file_hash

    b = Bundle.open(out)
    seen: dict[str, bool] = {}
    for e in b.events():
        if type(e) is Screen and e.path not in seen:
            p = b.screen_path(e.path)
            seen[e.path] = p.is_file() and file_hash(p) == e.hash
            if not seen[e.path]:
                return False, len(seen), f"screen {e.path} missing or wrong"
    return True, len(seen), ""


def env_with_display(display: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DISPLAY"] = display
    env.pop("WAYLAND_DISPLAY", None)
    return env

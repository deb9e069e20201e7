"""wf against its peers, Xnee (`cnee`) and xmacro (`xmacrorec2` / `xmacroplay`), interleaved in one run.

**Capture.** On a private 1280×800 Xvfb, bursts of a fixed length — N key events typed by xdotool
(`type --delay 0` of a chunk of characters every 50 ms, paced to ~500 / 2,000 / 5,000 events/s on
average; inside a chunk xdotool types as fast as it can), then N pointer
motions injected through XTest at the same rate — while one recorder runs: `wf record`, `cnee --record
--mouse --keyboard` (stopped by `--seconds-to-record`), or `xmacrorec2` (stopped by its quit key, F12).
Each tool's file is parsed back and matched in order against what was injected: *captured* is the share of
injected events found in order, *order* says whether everything captured came in the injected order.
Tools alternate within each repeat (wf, cnee, xmacro, wf, …). Pointer motion is injected with XTest, not
`xdotool mousemove`, because xdotool moves the pointer with XWarpPointer, which produces no XInput device
event: cnee records device events only, so it would record nothing of an xdotool pointer path (checked).

**Replay.** Four fixture-app scenarios (clicks with wheel notches, shifted typing in the entry, a slow
"Open → Confirm" dialog whose button appears 0.6 s after the click, and clicks and typing recorded with
the window at +0+0 and replayed with it at +400+250, as a window manager may place it on another run)
are performed once while all three recorders run at the same time (the F12 that stops xmacrorec2 ends
every recording). Each tool then replays its own recording into a fresh Xvfb with a fresh app,
interleaved, while wf's X RECORD capture watches what reaches the server. All of it twice: on a bare X
server ("bare X") and with the openbox window manager running for both recording and replay ("openbox":
windows framed, placed and focused by it), the desktop a person has. The same yardstick for all: captured
events matched in order to the session's events (wf's recording is the reference); *timing error* =
|(arrival − recorded) − median(arrival − recorded)| so a constant start offset is not counted; *pointer
error* = distance at button presses and wheel notches from where they belong in the app's window (which
the window-elsewhere scenario moves); *fidelity* = the app's final state (its `--state` JSON)
equals the state at the end of the recording. wf replays with its defaults (`--sync screen`,
`--anchor window`).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WF = [sys.executable, "-m", "wf.cli"]
APP = [sys.executable, str(REPO / "fixtures" / "app.py")]
RATES = (500, 2000, 5000)
QUIT_KEYCODE = 96  # F12: xmacrorec2's quit key
Token = tuple[object, ...]


# -- displays and injection -------------------------------------------------------------------------------

@contextlib.contextmanager
def xvfb(width: int = 1280, height: int = 800, *, wm: bool = False) -> Iterator[dict[str, str]]:
    """A private Xvfb (managed by openbox when ``wm``: windows get frames and are placed and focused by it)."""
    from wf.replayer.livedesk import LiveDesktop
    from wf.replayer.xvfb import VirtualDisplay

    vd = VirtualDisplay(width, height).start()
    manager: subprocess.Popen[bytes] | None = None
    try:
        if wm:
            manager = subprocess.Popen(["openbox", "--sm-disable"], env=vd.env(), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            desk, deadline = LiveDesktop(vd.display), time.monotonic() + 15
            try:
                while desk.window_manager() is None:
                    if manager.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("openbox did not start")
                    time.sleep(0.05)
            finally:
                desk.close()
        yield vd.env()
    finally:
        if manager is not None:
            manager.terminate()
            manager.wait(timeout=10)
        vd.stop()


class XTest:
    """Pointer motion and buttons through XTest on our own connection (what a real device produces)."""

    def __init__(self, display: str) -> None:
        from Xlib import display as xdisplay

        self.d = xdisplay.Display(display)

    def move(self, x: int, y: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        xtest.fake_input(self.d, X.MotionNotify, x=x, y=y)

    def flush(self) -> None:
        self.d.flush()

    def sync(self) -> None:
        self.d.sync()

    def path(self, x0: int, y0: int, x1: int, y1: int, steps: int = 15, dt: float = 0.012) -> None:
        """A hand-like move: ``steps`` motions ``dt`` apart."""
        for i in range(1, steps + 1):
            self.move(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps))
            self.sync()
            time.sleep(dt)

    def close(self) -> None:
        self.d.close()


def key_burst(env: dict[str, str], text: str, rate: float) -> float:
    """Type ``text`` at ``rate`` key events/s: one `xdotool type --delay 0` of a chunk every 50 ms (on an
    absolute schedule; `type` takes all its remaining arguments as text, so chunks cannot be chained with
    `sleep` in one xdotool call). Returns the seconds taken."""
    period = 0.05  # one xdotool process costs ~28 ms here, whatever it types
    chunk = max(1, round(rate * period / 2))  # characters per chunk, 2 events each
    t0 = time.perf_counter()
    for k, i in enumerate(range(0, len(text), chunk)):
        due = t0 + k * period
        if (left := due - time.perf_counter()) > 0:
            time.sleep(left)
        subprocess.run(["xdotool", "type", "--delay", "0", text[i:i + chunk]], env=env, check=True)
    return time.perf_counter() - t0


def move_burst(env: dict[str, str], moves: list[tuple[int, int]], rate: float) -> float:
    """Inject ``moves`` with XTest on an absolute schedule at ``rate``/s; returns the seconds taken."""
    x = XTest(env["DISPLAY"])
    try:
        t0 = time.perf_counter()
        for i, (mx, my) in enumerate(moves):
            due = t0 + i / rate
            while (now := time.perf_counter()) < due:
                if due - now > 0.002:
                    x.flush()
                    time.sleep(due - now - 0.001)
            x.move(mx, my)
        x.sync()
        return time.perf_counter() - t0
    finally:
        x.close()


def keycodes(display: str, chars: str) -> dict[str, int]:
    from Xlib import XK
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        return {c: d.keysym_to_keycode(XK.string_to_keysym(c)) for c in set(chars)}
    finally:
        d.close()


# -- the three recorders ----------------------------------------------------------------------------------

@dataclass
class Captured:
    keys: list[Token] = field(default_factory=list)  # ("d"|"u", keycode)
    moves: list[Token] = field(default_factory=list)  # (x, y)
    buttons: list[Token] = field(default_factory=list)  # ("d"|"u", button, x, y)
    note: str = ""


class WfRecorder:
    name = "wf"

    def start(self, env: dict[str, str], work: Path) -> None:
        self.out = work / f"wf-{time.monotonic_ns()}"
        ready = work / f"ready-{time.monotonic_ns()}"
        self.proc = subprocess.Popen([*WF, "record", str(self.out), "--quiet", "--ready-file", str(ready)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"wf record did not start: {self.proc.communicate()[1].decode()}")
            time.sleep(0.02)

    def stop(self) -> Captured:
        from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Stop
        from wf.bundle.reader import Bundle

        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=120)
        cap = Captured()
        for e in Bundle.open(self.out).events():
            if type(e) in (KeyDown, KeyUp):
                cap.keys.append(("d" if type(e) is KeyDown else "u", e.keycode))
            elif type(e) is MouseMove:
                cap.moves.append((e.x, e.y))
            elif type(e) in (MouseDown, MouseUp):
                cap.buttons.append(("d" if type(e) is MouseDown else "u", e.button, e.x, e.y))
            elif type(e) is Stop:
                cap.note = f"rc {self.proc.returncode}, dropped {e.dropped}"
        return cap


class CneeRecorder:
    name = "cnee"
    STARTUP = 2.0  # cnee gives no ready signal; measured start-up is well under 1 s

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def start(self, env: dict[str, str], work: Path) -> None:
        self.out = work / f"cnee-{time.monotonic_ns()}.xnl"
        self.proc = subprocess.Popen(["cnee", "--record", "--mouse", "--keyboard", "-o", str(self.out),
                                      "-e", os.devnull, "--seconds-to-record", str(math.ceil(self.seconds))],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(self.STARTUP)

    def stop(self) -> Captured:
        note = "stopped by --seconds-to-record"
        try:
            self.proc.wait(timeout=self.seconds + 10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            note = "had to be terminated"
        return parse_cnee(self.out.read_text(errors="replace"), note)


def parse_cnee(text: str, note: str = "") -> Captured:
    """cnee's XInput device lines (`7,type,x,y,button,keycode,screen,time,devid,name`) of the XTEST devices;
    the core-device copies of the same events (`6,…,Virtual core …`) are skipped."""
    cap = Captured(note=note)
    for line in text.splitlines():
        f = line.split(",")
        if len(f) < 10 or not f[0].isdigit() or "XTEST" not in f[9]:
            continue
        kind, x, y, button, keycode = int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5])
        if kind in (2, 3):
            cap.keys.append(("d" if kind == 2 else "u", keycode))
        elif kind in (4, 5):
            cap.buttons.append(("d" if kind == 4 else "u", button, x, y))
        elif kind == 6:
            cap.moves.append((x, y))
    return cap


class XmacroRecorder:
    name = "xmacro"

    def start(self, env: dict[str, str], work: Path) -> None:
        self.env = env
        self.out = work / f"xmacro-{time.monotonic_ns()}.txt"
        self.fh = self.out.open("w")
        self.proc = subprocess.Popen(["xmacrorec2", "-k", str(QUIT_KEYCODE)], env=env, stdout=self.fh,
                                     stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        fd, got, deadline = self.proc.stderr.fileno(), b"", time.monotonic() + 15
        while b"Start Of Data" not in got and time.monotonic() < deadline:  # its ready message
            if select.select([fd], [], [], 0.5)[0]:
                got += os.read(fd, 4096)

    def stop(self) -> Captured:
        subprocess.run(["xdotool", "key", "F12"], env=self.env, check=True)
        try:
            self.proc.wait(timeout=15)
            note = "stopped by its quit key"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            note = "did not quit"
        self.fh.close()
        return parse_xmacro(self.out.read_text(errors="replace"), self.env["DISPLAY"], note)


def parse_xmacro(text: str, display: str, note: str = "") -> Captured:
    """xmacrorec2's script: `KeyStrPress a`, `ButtonPress 1`, `MotionNotify x y` (no times)."""
    from Xlib import XK
    from Xlib import display as xdisplay

    cap = Captured(note=note)
    d = xdisplay.Display(display)
    x = y = -1
    try:
        for line in text.splitlines():
            f = line.split()
            if len(f) == 3 and f[0] == "MotionNotify":
                x, y = int(f[1]), int(f[2])
                cap.moves.append((x, y))
            elif len(f) == 2 and f[0] in ("KeyStrPress", "KeyStrRelease"):
                cap.keys.append(("d" if f[0] == "KeyStrPress" else "u",
                                 d.keysym_to_keycode(XK.string_to_keysym(f[1]))))
            elif len(f) == 2 and f[0] in ("ButtonPress", "ButtonRelease"):
                cap.buttons.append(("d" if f[0] == "ButtonPress" else "u", int(f[1]), x, y))
    finally:
        d.close()
    return cap


# -- capture completeness ---------------------------------------------------------------------------------

def in_order_match(expected: list[Token], got: list[Token]) -> tuple[int, bool]:
    """(how many expected tokens were captured in order, whether the captured ones all fit that order).

    Captured tokens that were never injected (a tool's start-up motion, the quit key) are ignored here."""
    known = set(expected)
    got = [t for t in got if t in known]
    sm = difflib.SequenceMatcher(a=expected, b=got, autojunk=False)
    matched = sum(b.size for b in sm.get_matching_blocks())
    return matched, matched == len(got)


def capture_round(tool: object, env: dict[str, str], work: Path, rate: int, n: int) -> dict[str, object]:
    text = ("abcdefghijklmnopqrstuvwxyz" * (n // 52 + 1))[: n // 2]
    codes = keycodes(env["DISPLAY"], text)
    want_keys: list[Token] = [t for c in text for t in (("d", codes[c]), ("u", codes[c]))]
    moves = [(100 + (i * 7) % 1000, 100 + (i * 13) % 600) for i in range(n)]
    subprocess.run(["xdotool", "mousemove", "50", "50"], env=env, check=True)
    tool.start(env, work)  # type: ignore[attr-defined]
    key_s = key_burst(env, text, rate)
    time.sleep(0.2)
    move_s = move_burst(env, moves, rate)
    time.sleep(1.0)
    cap: Captured = tool.stop()  # type: ignore[attr-defined]
    burst_keys = [k for k in cap.keys if k[1] != QUIT_KEYCODE]
    k_match, k_order = in_order_match(want_keys, burst_keys)
    m_match, m_order = in_order_match(moves, cap.moves)
    index = {m: i for i, m in enumerate(moves)}
    last = max((index[m] + 1 for m in cap.moves if m in index), default=0)
    return {"keys": k_match / len(want_keys), "keys_order": k_order, "key_rate": len(want_keys) / key_s,
            "moves": m_match / len(moves), "moves_order": m_order, "moves_last": last, "move_rate": len(moves) / move_s,
            "note": cap.note}


def capture_bench(work: Path, repeats: int, n: int) -> list[dict[str, object]]:
    res: dict[tuple[str, int], list[dict[str, object]]] = {}
    have = {"cnee": shutil.which("cnee") is not None, "xmacro": shutil.which("xmacrorec2") is not None}
    with xvfb() as env:
        for _ in range(repeats):
            for rate in RATES:
                burst = n / rate * 2 + 1.5
                tools: list[object] = [WfRecorder()]
                if have["cnee"]:
                    tools.append(CneeRecorder(CneeRecorder.STARTUP + burst + 1.5))
                if have["xmacro"]:
                    tools.append(XmacroRecorder())
                for tool in tools:  # interleaved: wf, cnee, xmacro at this rate, then the next rate
                    res.setdefault((tool.name, rate), []).append(  # type: ignore[attr-defined]
                        capture_round(tool, env, work, rate, n))
    rows: list[dict[str, object]] = []
    for rate in RATES:
        wf_runs = res[("wf", rate)]
        for kind, label in (("keys", "key events (xdotool)"), ("moves", "pointer motions (XTest)")):
            wf_med = statistics.median(float(r[kind]) for r in wf_runs)  # type: ignore[arg-type]
            actual = statistics.median(float(r[f"{kind[:-1]}_rate"]) for r in wf_runs)  # type: ignore[arg-type]
            for tool in ("wf", "cnee", "xmacro"):
                runs = res.get((tool, rate))
                if not runs:
                    continue
                vals = [100 * float(r[kind]) for r in runs]  # type: ignore[arg-type]
                med = statistics.median(vals)
                order = all(bool(r[f"{kind}_order"]) for r in runs)
                notes = [f"in order: {'yes' if order else 'NO'}", f"actual rate {actual:,.0f}/s"]
                if tool == "xmacro" and kind == "moves":
                    notes.append("xmacrorec2 writes only the pointer position at the next key/button event "
                                 "(motion compressed by design)")
                if kind == "moves" and med < 100:
                    last = statistics.median(int(r["moves_last"]) for r in runs)  # type: ignore[call-overload]
                    notes.append(f"last motion captured: #{last:.0f} of {n:,}")
                notes.append(str(runs[-1]["note"]))
                rows.append({
                    "group": "peers", "name": f"capture {n:,} {label} at ~{rate:,}/s ({tool})",
                    "median": round(med, 2), "unit": "% captured", "spread": f"{min(vals):.1f}–{max(vals):.1f}",
                    "runs": len(runs), "peer": tool if tool != "wf" else "",
                    "ratio": (round(wf_med / (med / 100), 2) if tool != "wf" and med > 0 else
                              ("∞ (peer 0 %)" if tool != "wf" else "")),
                    "target": "100 %, in order" if tool == "wf" else "", "notes": "; ".join(notes)})
    return rows


# -- replay -----------------------------------------------------------------------------------------------

Origin = tuple[int, int]  # where the fixture app's client area is on the screen


@dataclass
class Scenario:
    name: str
    delay: float  # the fixture app's --delay
    script: Callable[[dict[str, str], XTest, Origin], None]
    replayed_at: str = "+0+0"  # where the app is placed for the replays (recorded at +0+0)


START = (640, 600)


def _click(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", "click", *args], env=env, check=True)


def s_clicks(env: dict[str, str], x: XTest, o: Origin) -> None:
    ox, oy = o
    x.path(*START, ox + 100, oy + 40)
    time.sleep(0.2)
    for _ in range(3):
        _click(env, "1")
        time.sleep(0.3)
    x.path(ox + 100, oy + 40, ox + 300, oy + 40)
    _click(env, "3")
    time.sleep(0.3)
    x.path(ox + 300, oy + 40, ox + 200, oy + 285)
    time.sleep(0.2)
    _click(env, "--repeat", "3", "--delay", "120", "4")
    time.sleep(0.3)
    _click(env, "5")
    time.sleep(0.3)


def s_typing(env: dict[str, str], x: XTest, o: Origin) -> None:
    ox, oy = o
    x.path(*START, ox + 100, oy + 235)
    time.sleep(0.2)
    _click(env, "1")
    time.sleep(0.3)
    subprocess.run(["xdotool", "type", "--delay", "60", "Hello, World! 42 <wf> (x|y)"], env=env, check=True)
    time.sleep(0.3)


def s_dialog(env: dict[str, str], x: XTest, o: Origin) -> None:
    ox, oy = o
    x.path(*START, ox + 100, oy + 140)
    time.sleep(0.2)
    _click(env, "1")
    time.sleep(1.0)  # "Confirm" shows up 0.6 s after the click
    x.path(ox + 100, oy + 140, ox + 300, oy + 140)
    time.sleep(0.2)
    _click(env, "1")
    time.sleep(0.3)


def s_moved(env: dict[str, str], x: XTest, o: Origin) -> None:
    ox, oy = o
    for bx, by in ((100, 40), (100, 40), (100, 235)):
        x.path(*START, ox + bx, oy + by)
        time.sleep(0.2)
        _click(env, "1")
        time.sleep(0.3)
    subprocess.run(["xdotool", "type", "--delay", "60", "moved"], env=env, check=True)
    time.sleep(0.3)


SCENARIOS = [Scenario("clicks+wheel", 0.0, s_clicks), Scenario("typing", 0.0, s_typing),
             Scenario("slow dialog", 0.6, s_dialog),
             # Recorded with the window at +0+0, replayed with it at +400+250 (a window manager's placement
             # on another run): only a replayer that follows the window clicks inside it.
             Scenario("window elsewhere", 0.0, s_moved, replayed_at="+400+250")]
CONDITIONS = (("bare X", False), ("openbox", True))  # recorded and replayed without / with a window manager


def client_origin(env: dict[str, str]) -> Origin:
    from wf.replayer.livedesk import LiveDesktop

    desk = LiveDesktop(env["DISPLAY"])
    try:
        w = next(w for w in desk.windows() if w.title == "wf fixture")
        return w.client_x, w.client_y
    finally:
        desk.close()


@contextlib.contextmanager
def fixture_app(env: dict[str, str], state: Path, delay: float, at: str = "+0+0") -> Iterator[Origin]:
    proc = subprocess.Popen([*APP, "--state", str(state), "--delay", str(delay), "--geometry", f"420x320{at}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while not subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "wf fixture"], env=env,
                                 capture_output=True).stdout.strip():
            if time.monotonic() > deadline:
                raise RuntimeError("the fixture app did not show up")
            time.sleep(0.05)
        time.sleep(0.4)
        subprocess.run(["xdotool", "mousemove", str(START[0]), str(START[1])], env=env, check=True)
        time.sleep(0.1)
        yield client_origin(env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_state(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@dataclass
class Recorded:
    scenario: Scenario
    wm: bool  # recorded (and replayed) under openbox
    origin: Origin  # where the app's client area was while recording
    bundle: Path
    xnl: Path | None
    xmacro: Path | None
    state: dict[str, object] | None


def record_scenario(sc: Scenario, work: Path, wm: bool) -> Recorded:
    """Perform ``sc`` once while wf record, cnee --record and xmacrorec2 all run."""
    slug = sc.name.replace(" ", "-").replace("+", "-") + ("-wm" if wm else "")
    state = work / f"{slug}-recorded.json"
    with xvfb(wm=wm) as env, fixture_app(env, state, sc.delay) as origin:
        wfr = WfRecorder()
        wfr.start(env, work)
        xnl = work / f"{slug}.xnl"
        cnee = subprocess.Popen(["cnee", "--record", "--mouse", "--keyboard", "-o", str(xnl), "-e", os.devnull,
                                 "--seconds-to-record", "600"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) if shutil.which("cnee") else None
        xm = XmacroRecorder() if shutil.which("xmacrorec2") else None
        if xm is not None:
            xm.start(env, work)
        time.sleep(CneeRecorder.STARTUP if cnee else 0.2)
        x = XTest(env["DISPLAY"])
        try:
            sc.script(env, x, origin)
        finally:
            x.close()
        time.sleep(0.3)
        if xm is not None:
            xm.stop()  # F12: the last key of every recording
        time.sleep(0.3)
        if cnee is not None:
            cnee.send_signal(signal.SIGTERM)  # its file is complete after SIGTERM (checked)
            cnee.wait(timeout=15)
        wfr.proc.send_signal(signal.SIGTERM)
        wfr.proc.communicate(timeout=60)
        time.sleep(0.2)
        final = read_state(state)
    return Recorded(sc, wm, origin, wfr.out, xnl if cnee else None, xm.out if xm else None, final)


def replay_once(tool: str, rec: Recorded, work: Path) -> dict[str, object]:
    """Replay ``rec`` with ``tool`` into a fresh display and app; measure against the session."""
    from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
    from wf.bundle.reader import Bundle
    from wf.recorder.input import InputCapture

    kinds = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp)
    reference = [e for e in Bundle.open(rec.bundle).events() if isinstance(e, kinds)]
    state = work / f"replay-{tool}-{time.monotonic_ns()}.json"
    out: dict[str, object] = {}
    with xvfb(wm=rec.wm) as env, fixture_app(env, state, rec.scenario.delay, rec.scenario.replayed_at) as origin:
        os.environ["DISPLAY"] = env["DISPLAY"]  # pynput (under InputCapture) reads it at import
        cap = InputCapture(time.monotonic(), display=env["DISPLAY"])
        cap.start()
        try:
            if tool == "wf":
                res = subprocess.run([*WF, "replay", str(rec.bundle), "--launch", "", "--json"], env=env,
                                     capture_output=True, text=True, timeout=300)
                out["exit"] = res.returncode
                out["stderr"] = res.stderr.strip().splitlines()[-1:] if res.returncode else []
                with contextlib.suppress(ValueError):
                    out["verdict"] = json.loads(res.stdout)["passed"]
            elif tool == "cnee":
                res = subprocess.run(["cnee", "--replay", "-f", str(rec.xnl), "-e", os.devnull], env=env,
                                     capture_output=True, text=True, timeout=300)
                out["exit"] = res.returncode
            else:
                assert rec.xmacro is not None
                res = subprocess.run(["xmacroplay", env["DISPLAY"]], stdin=rec.xmacro.open(), env=env,
                                     capture_output=True, text=True, timeout=300)
                out["exit"] = res.returncode
            time.sleep(0.6)
        finally:
            with contextlib.suppress(Exception):
                cap.stop()
        actual = [e for e in cap.drain() if isinstance(e, kinds)]
        out["state"] = read_state(state)
    out["fidelity"] = out["state"] == rec.state and rec.state is not None
    out.update(errors(reference, actual, (origin[0] - rec.origin[0], origin[1] - rec.origin[1])))
    return out


def _token(e: object) -> Token:
    from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseUp, Scroll

    if isinstance(e, KeyDown | KeyUp):
        return ("k", type(e) is KeyDown, e.keycode)
    if isinstance(e, MouseDown | MouseUp):
        return ("b", type(e) is MouseDown, e.button)
    if isinstance(e, Scroll):
        return ("s", e.dx, e.dy)
    return ("m",)


def errors(reference: list[object], actual: list[object], moved: Origin = (0, 0)) -> dict[str, object]:
    """Order-matched timing error (ms) and pointer error at buttons/notches (px) against the session; the
    pointer relative to the app's window, which is ``moved`` from where it was recorded."""
    ref_t, act_t = [_token(e) for e in reference], [_token(e) for e in actual]
    ref_d = [t for t in ref_t if t[0] != "m" and t[-1] != QUIT_KEYCODE]
    act_d = [t for t in act_t if t[0] != "m" and t[-1] != QUIT_KEYCODE]
    sm = difflib.SequenceMatcher(a=ref_t, b=act_t, autojunk=False)
    pairs = [(reference[b.a + k], actual[b.b + k]) for b in sm.get_matching_blocks() for k in range(b.size)]
    out: dict[str, object] = {"sequence_identical": ref_d == act_d, "matched": len(pairs),
                              "reference": len(reference), "captured": len(actual)}
    if not pairs:
        return out
    offset = statistics.median(a.t - r.t for r, a in pairs)  # type: ignore[attr-defined]
    errs = sorted(abs((a.t - r.t) - offset) * 1000 for r, a in pairs)  # type: ignore[attr-defined]
    ptr = [math.dist((r.x + moved[0], r.y + moved[1]), (a.x, a.y)) for r, a in pairs  # type: ignore[attr-defined]
           if _token(r)[0] in ("b", "s")]
    out.update({"p50": _pct(errs, 50), "p95": _pct(errs, 95), "max": errs[-1],
                "ptr_max": max(ptr) if ptr else None})
    return out


def _pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


PEER_NOTES = {
    "cnee": "replays its own .xnl with its timestamps and default synchronisation",
    "xmacro": "xmacro stores no timestamps: xmacroplay sends each line 10 ms after the previous (its -d), so "
              "hover dwell, waits for a slow app and multi-click intervals are lost; pointer paths are only "
              "the positions at keys/buttons",
}


def replay_bench(work: Path, repeats: int) -> list[dict[str, object]]:
    """Every scenario recorded and replayed without a window manager, then all again under openbox."""
    return [row for cond, wm in CONDITIONS for row in replay_condition(work, repeats, cond, wm)]


def replay_condition(work: Path, repeats: int, cond: str, wm: bool) -> list[dict[str, object]]:
    tools = ["wf"] + (["cnee"] if shutil.which("cnee") else []) + (["xmacro"] if shutil.which("xmacroplay") else [])
    recs = [record_scenario(sc, work, wm) for sc in SCENARIOS]
    results: dict[tuple[str, str], list[dict[str, object]]] = {}
    for _ in range(repeats):
        for rec in recs:
            for tool in tools:  # interleaved
                if (tool == "cnee" and rec.xnl is None) or (tool == "xmacro" and rec.xmacro is None):
                    continue
                results.setdefault((tool, rec.scenario.name), []).append(replay_once(tool, rec, work))
    rows: list[dict[str, object]] = []

    def agg(tool: str, key: str, scen: list[str]) -> list[float]:
        return [float(r[key]) for s in scen for r in results.get((tool, s), [])  # type: ignore[arg-type]
                if r.get(key) is not None]

    names = [sc.name for sc in SCENARIOS]
    for sc in names:
        for tool in tools:
            runs = results.get((tool, sc), [])
            if not runs:
                continue
            p50, p95, mx = (agg(tool, k, [sc]) for k in ("p50", "p95", "max"))
            ptr = agg(tool, "ptr_max", [sc])
            fid = sum(bool(r["fidelity"]) for r in runs)
            seq = sum(bool(r["sequence_identical"]) for r in runs)
            notes = [f"p50 {_m(p50)} ms, max {_m(mx)} ms", f"pointer max {_m(ptr)} px at clicks",
                     f"end state as recorded {fid}/{len(runs)}", f"buttons/keys identical {seq}/{len(runs)}"]
            if tool == "wf":
                verdicts = [r.get("verdict") for r in runs]
                notes.append(f"wf verdict passed {sum(v is True for v in verdicts)}/{len(runs)}")
            else:
                notes.append(PEER_NOTES[tool])
            errs = [f"exit {r['exit']}: {' '.join(r.get('stderr') or [])}" for r in runs if r.get("exit")]
            if errs:
                notes.append(f"non-zero exits: {errs[:2]}")
            bad = [r["state"] for r in runs if not r["fidelity"]]
            if bad:
                notes.append(f"ended in {bad[0]} (recorded {next(x for x in recs if x.scenario.name == sc).state})")
            rows.append({"group": "peers", "name": f"replay [{cond}] {sc}: timing error p95 ({tool})",
                         "median": _r(statistics.median(p95)) if p95 else None, "unit": "ms",
                         "spread": f"{min(p95):.1f}–{max(p95):.1f}" if p95 else "", "runs": len(runs),
                         "peer": "" if tool == "wf" else tool, "notes": "; ".join(notes)})
    # Summary rows with ratios wf ÷ peer over the whole scenario set.
    wf_p95 = agg("wf", "p95", names)
    wf_ptr = agg("wf", "ptr_max", names)
    wf_fid = [bool(r["fidelity"]) for s in names for r in results.get(("wf", s), [])]
    for tool in tools:
        p95, ptr = agg(tool, "p95", names), agg(tool, "ptr_max", names)
        p50, mx = agg(tool, "p50", names), agg(tool, "max", names)
        fid = [bool(r["fidelity"]) for s in names for r in results.get((tool, s), [])]
        peer = "" if tool == "wf" else tool
        rows.append({"group": "peers",
                     "name": f"replay [{cond}], all scenarios: timing error p50 / p95 / max ({tool})",
                     "median": _r(statistics.median(p95)) if p95 else None, "unit": "ms (p95)",
                     "spread": f"p50 {_m(p50)} · max {_m(mx)}", "runs": len(p95), "peer": peer,
                     "ratio": _ratio(wf_p95, p95) if peer else "",
                     "target": "p50 ≤ 1 ms, p99 ≤ 5 ms" if tool == "wf" else "",
                     "notes": "median over runs of each run's p95; |arrival − recorded − median offset|"})
        rows.append({"group": "peers", "name": f"replay [{cond}], all scenarios: pointer error at clicks ({tool})",
                     "median": _r(statistics.median(ptr)) if ptr else None, "unit": "px (max per run)",
                     "spread": f"{min(ptr):.0f}–{max(ptr):.0f}" if ptr else "", "runs": len(ptr), "peer": peer,
                     "ratio": _ratio(wf_ptr, ptr) if peer else "", "target": "0 px" if tool == "wf" else ""})
        rows.append({"group": "peers", "name": f"replay [{cond}], all scenarios: end-to-end fidelity ({tool})",
                     "median": round(100 * sum(fid) / len(fid)) if fid else None, "unit": "% runs in recorded state",
                     "runs": len(fid), "peer": peer,
                     "ratio": (_ratio([100 * sum(wf_fid) / len(wf_fid)], [100 * sum(fid) / len(fid)])
                               if peer and fid and wf_fid else ""),
                     "target": "100 %" if tool == "wf" else "",
                     "notes": f"{len(SCENARIOS)} scenarios × {repeats} runs; app state JSON compared"})
    return rows


def _r(v: float) -> float:
    return round(v, 2) if v < 100 else round(v)


def _m(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f}" if xs else "—"


def _ratio(wf: list[float], peer: list[float]) -> str | float:
    if not wf or not peer:
        return ""
    a, b = statistics.median(wf), statistics.median(peer)
    if b == 0:
        return "—" if a == 0 else "∞"
    return round(a / b, 3)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def run(quick: bool = False) -> list[dict[str, object]]:
    saved = os.environ.get("DISPLAY")
    work = Path(tempfile.mkdtemp(prefix="wf-peers-bench-"))
    t0 = time.monotonic()
    before = load()
    try:
        rows = capture_bench(work, repeats=1 if quick else 3, n=600 if quick else 2000)
        rows += replay_bench(work, repeats=1 if quick else 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
    rows.append({"group": "peers", "name": "machine load during this module", "median": None, "unit": "",
                 "notes": f"before: {before}; after: {load()}; {time.monotonic() - t0:.0f} s"})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row, ensure_ascii=False))

"""Replay timing and pointer fidelity: wf replay against Xnee (cnee) and xmacroplay on the same scenarios.

Each scenario is driven once with xdotool on a private Xvfb while two recorders run side by side: wf's input
capture (a bundle, via ``ScriptedRecording``) and ``cnee --record``. Then each tool replays into a fresh
Xvfb while wf's input capture watches what reaches the X server:

* wf: ``wf replay --xvfb`` (its report gives injection and arrival error against the absolute schedule);
* cnee: ``cnee --replay`` of its own recording;
* xmacroplay: the bundle's events as an xmacro script (xmacro keeps no timestamps; its ``Delay`` has
  whole-second resolution, so the script is what xmacrorec would have saved: no delays).

For all three the same yardstick is applied: captured events are matched in order to the recorded ones
and the error of each is |(arrival − recorded) − median(arrival − recorded)|, i.e. how far its timing
drifts from the recording's once the constant start offset is removed; plus the pointer error at each
motion (px) and whether the button/key sequence is identical.

**Verification** (``bench/verify.py``): the fixture-app scenarios of bench/peers_bench.py (clicks with
wheel notches, typing, a slow dialog) plus a checkbox with a 1 px tick, each recorded once with the real
``wf record``, then replayed with ``wf replay --xvfb`` at the events and the actions level and with
``--sync screen``: the verdict, the coverage (% of action steps whose effect was checked) and how many
steps were verified, differed or stayed unchecked. Then the cases that must not verify: each scenario
replayed into a different app (xterm), the checkbox replayed into a build that never draws its tick, the
clicks bundle with one click's button swapped. ``run(quick)`` returns rows for bench/run.py.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll  # noqa: E402
from wf.bundle.reader import Bundle  # noqa: E402
from wf.replayer.fidelity import percentile, tokens_of  # noqa: E402
from wf.replayer.keyboard import NAME_TO_KEYSYM_NAME  # noqa: E402
from wf.replayer.xvfb import VirtualDisplay  # noqa: E402

WF = [sys.executable, "-m", "wf.cli"]
INPUT = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp)


def xdo(env: dict[str, str], *args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], env=env, check=True)


def scenario_typing(env: dict[str, str], n: int) -> None:
    """Typing at ~25 characters a second, shifted characters included."""
    xdo(env, "mousemove", 300, 300)
    text = ("The quick brown fox, 42 jumps! " * 10)[:n]
    xdo(env, "type", "--delay", "40", text)


def scenario_pointer(env: dict[str, str], n: int) -> None:
    """A pointer path of n moves ~8 ms apart with a click every 50 moves (a drawing / drag)."""
    for i in range(n):
        x = 300 + int(200 * math.cos(i / 15))
        y = 300 + int(150 * math.sin(i / 15))
        xdo(env, "mousemove", x, y)
        if i % 50 == 49:
            xdo(env, "click", "1")
        time.sleep(0.004)


SCENARIOS: dict[str, Callable[[dict[str, str], int], None]] = {"typing": scenario_typing,
                                                              "pointer": scenario_pointer}


def capture_during(display: str, action: Callable[[], None]) -> tuple[list[Event], float]:
    """Run ``action`` while wf's input capture watches ``display``; returns events and the origin."""
    os.environ["DISPLAY"] = display  # pynput (under the capture) needs a display at import time
    from wf.recorder.input import InputCapture

    origin = time.monotonic()
    cap = InputCapture(origin, display=display)
    cap.start()
    try:
        action()
        time.sleep(0.3)
    finally:
        with contextlib.suppress(Exception):  # the capture's stop race loses nothing already queued
            cap.stop()
    return [e for e in cap.drain() if isinstance(e, INPUT)], origin


def drift_errors(recorded: list[Event], actual: list[Event]) -> dict[str, object]:
    """Order-matched timing drift (ms) and pointer error (px) of ``actual`` against ``recorded``."""
    rec_tok = [(tokens_of(e) or [("move",)])[0] for e in recorded]
    act_tok = [(tokens_of(e) or [("move",)])[0] for e in actual]
    import difflib

    sm = difflib.SequenceMatcher(a=rec_tok, b=act_tok, autojunk=False)
    pairs = [(recorded[i1 + k], actual[j1 + k]) for op, i1, i2, j1, j2 in sm.get_opcodes() if op == "equal"
             for k in range(i2 - i1)]
    discrete_rec = [t for t in rec_tok if t != ("move",)]
    discrete_act = [t for t in act_tok if t != ("move",)]
    if not pairs:
        return {"matched": 0, "sequence_identical": discrete_rec == discrete_act}
    # Drift around the typical offset (the median), so a tool is not judged by its first event alone.
    offset = statistics.median(a.t - r.t for r, a in pairs)
    errs = sorted(abs((a.t - r.t) - offset) * 1000 for r, a in pairs)
    ptr = [math.dist((r.x, r.y), (a.x, a.y)) for r, a in pairs  # type: ignore[union-attr]
           if isinstance(r, MouseMove | MouseDown | MouseUp | Scroll)]
    return {"matched": len(pairs), "recorded": len(recorded), "captured": len(actual),
            "sequence_identical": discrete_rec == discrete_act,
            "drift_p50_ms": percentile(errs, 50), "drift_p99_ms": percentile(errs, 99),
            "drift_max_ms": errs[-1], "pointer_max_px": max(ptr) if ptr else None,
            "pointer_mean_px": statistics.fmean(ptr) if ptr else None}


def xmacro_script(events: list[Event]) -> str:
    """What xmacrorec2 would have saved for these events (key names, buttons, motions; no time)."""
    from Xlib import XK

    lines = []
    buttons = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}
    for e in events:
        if isinstance(e, MouseMove):
            lines.append(f"MotionNotify {e.x} {e.y}")
        elif isinstance(e, MouseDown | MouseUp):
            lines.append(f"MotionNotify {e.x} {e.y}")
            lines.append(f"Button{'Press' if isinstance(e, MouseDown) else 'Release'} {buttons[e.button]}")
        elif isinstance(e, KeyDown | KeyUp):
            # xmacrorec2 writes the unshifted keysym's name (KeyStrPress 1, not exclam); xmacroplay's
            # KeyCodePress does not take raw keycodes in this build.
            name = NAME_TO_KEYSYM_NAME.get(e.key) or (XK.keysym_to_string(ord(e.key)) if len(e.key) == 1 else None)
            if name:
                lines.append(f"KeyStr{'Press' if isinstance(e, KeyDown) else 'Release'} {name}")
    return "\n".join(lines) + "\n"


def record(work: Path, name: str, n: int) -> tuple[Path, Path | None, list[Event]]:
    """Drive one scenario, recording it with wf's capture (a bundle) and cnee at the same time."""
    from wf.replayer.scripted import ScriptedRecording

    bundle = work / f"{name}-bundle"
    xnl = work / f"{name}.xnl" if shutil.which("cnee") else None
    with VirtualDisplay(1280, 800) as vd:
        env = vd.env()
        cnee = None
        if xnl is not None:
            cnee = subprocess.Popen(["cnee", "--record", "--mouse", "--keyboard", "-o", str(xnl), "-e",
                                     str(work / f"{name}.cnee.err"), "--time", "0", "-etr", "10000000"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        with ScriptedRecording(vd.display, bundle):
            time.sleep(0.2)
            SCENARIOS[name](env, n)
            time.sleep(0.2)
        if cnee is not None:
            cnee.terminate()
            cnee.wait(timeout=10)
    events = [e for e in Bundle.open(bundle).events() if isinstance(e, INPUT)]
    return bundle, xnl, events


def replay_wf(bundle: Path, work: Path) -> dict[str, object]:
    report = work / f"{bundle.name}-report.json"
    res = subprocess.run([*WF, "replay", str(bundle), "--xvfb", "--report", str(report)],
                         capture_output=True, text=True)
    rep = json.loads(report.read_text())
    stats = rep["stats"]
    rec = [e for e in Bundle.open(bundle).events() if isinstance(e, INPUT)]
    # The same drift yardstick as for the others, from the report's per-event captured times.
    fake = []
    for r, e in zip(rep["events"], rec, strict=False):
        if r["captured"] is not None:
            import msgspec

            fake.append(msgspec.structs.replace(e, t=r["captured"]))
    out = drift_errors(rec, fake)
    out.update({"exit": res.returncode, "inject_p50_ms": stats["inject_p50_ms"],
                "inject_p99_ms": stats["inject_p99_ms"], "arrival_p50_ms": stats["timing_p50_ms"],
                "arrival_p99_ms": stats["timing_p99_ms"], "sequence_identical": stats["sequence_identical"],
                "pointer_max_px": stats["pointer_max_px"]})
    return out


def replay_other(argv: list[str], recorded: list[Event], stdin: str | None = None) -> dict[str, object]:
    with VirtualDisplay(1280, 800) as vd:
        def run() -> None:
            subprocess.run([*argv, *([vd.display] if argv[0] == "xmacroplay" else ["-d", vd.display])],
                           input=stdin, text=True, env=vd.env(), capture_output=True, timeout=300)
        actual, _ = capture_during(vd.display, run)
    return drift_errors(recorded, actual)


def run(quick: bool = False) -> list[dict[str, object]]:
    from verify import verification_rows

    before = os.getloadavg()
    rows = timing_rows(quick)
    rows += verification_rows(repeats=1 if quick else 2)
    after = os.getloadavg()
    rows.append({"group": "verification", "name": "machine load during this module", "median": None, "unit": "",
                 "notes": f"load average (1 min) {before[0]:.2f} before, {after[0]:.2f} after, on "
                          f"{os.cpu_count()} cores: timing percentiles above it are the machine's, not wf's"})
    return rows


def timing_rows(quick: bool) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    sizes = {"typing": 60 if quick else 200, "pointer": 150 if quick else 600}
    work = Path(tempfile.mkdtemp(prefix="wf-replay-bench-"))
    saved_display = os.environ.get("DISPLAY")  # the capture and grabs point DISPLAY at our Xvfbs
    try:
        for name, n in sizes.items():
            bundle, xnl, recorded = record(work, name, n)
            results: dict[str, dict[str, object]] = {"wf": replay_wf(bundle, work)}
            if xnl is not None and xnl.exists():
                results["cnee"] = replay_other(["cnee", "--replay", "-f", str(xnl), "-e", os.devnull],
                                               recorded)
            if shutil.which("xmacroplay"):
                results["xmacroplay"] = replay_other(["xmacroplay"], recorded, stdin=xmacro_script(recorded))
            wf_res = results["wf"]
            rows.append({"name": f"replay {name}: injection error vs schedule (wf)", "p50": wf_res["inject_p50_ms"],
                         "p99": wf_res["inject_p99_ms"], "value": wf_res["inject_p50_ms"], "unit": "ms",
                         "notes": f"{len(recorded)} events; target p50 ≤ 1 ms, p99 ≤ 5 ms; time the XTest "
                                  "request returned (server has it) − absolute schedule"})
            rows.append({"name": f"replay {name}: arrival error vs schedule (wf)", "p50": wf_res["arrival_p50_ms"],
                         "p99": wf_res["arrival_p99_ms"], "value": wf_res["arrival_p50_ms"], "unit": "ms",
                         "notes": "as seen by the RECORD capture in the same process"})
            for tool, r in results.items():
                rows.append({"name": f"replay {name}: timing drift vs recording ({tool})",
                             "p50": r.get("drift_p50_ms"), "p99": r.get("drift_p99_ms"),
                             "value": r.get("drift_p50_ms"), "unit": "ms",
                             "notes": f"max {_f(r.get('drift_max_ms'))} ms; pointer max "
                                      f"{_f(r.get('pointer_max_px'))} px; sequence identical: "
                                      f"{r.get('sequence_identical')}; matched {r.get('matched')}/{len(recorded)}"})
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if saved_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved_display
    return rows


def _f(v: object) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row, ensure_ascii=False))

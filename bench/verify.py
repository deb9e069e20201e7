"""Per-step verification on the scenario set: coverage, steps verified, and the cases that must not verify.

Used by bench/replay_bench.py (its docstring says what is measured). Scenarios are recorded once each with
the real `wf record` while the fixture app runs (peers_bench's scripts, plus a checkbox click), then
replayed into fresh private Xvfbs, with wf launching a fresh app (`--launch`).
"""

from __future__ import annotations

import json
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers_bench import APP, SCENARIOS, START, WF, WfRecorder, XTest, fixture_app, xvfb  # noqa: E402

Script = Callable[[dict[str, str], XTest], None]
MODES: dict[str, tuple[str, ...]] = {"events": (), "actions": ("--level", "actions"),
                                     "events, --sync screen": ("--sync", "screen")}
LOADED = ("--threshold", "timing_p95_ms=2000", "--threshold", "timing_max_ms=5000")  # judged: effects, not lateness


def s_checkbox(env: dict[str, str], x: XTest) -> None:
    x.path(*START, 27, 82)
    time.sleep(0.2)
    subprocess.run(["xdotool", "click", "1"], env=env, check=True)
    time.sleep(0.4)
    x.path(27, 82, 100, 40)
    time.sleep(0.2)
    subprocess.run(["xdotool", "click", "1"], env=env, check=True)
    time.sleep(0.3)


@dataclass
class Recorded:
    name: str
    delay: float
    bundle: Path
    state: dict[str, object] | None


def record(name: str, delay: float, script: Script, work: Path) -> Recorded:
    slug = name.replace(" ", "-").replace("+", "-")
    state = work / f"{slug}-recorded.json"
    with xvfb() as env, fixture_app(env, state, delay):
        rec = WfRecorder()
        rec.start(env, work)
        time.sleep(0.3)
        x = XTest(env["DISPLAY"])
        try:
            script(env, x)
        finally:
            x.close()
        time.sleep(0.4)
        rec.stop()
        time.sleep(0.2)
        final = json.loads(state.read_text()) if state.exists() else None
    return Recorded(name, delay, rec.out, final)


def replay(rec: Recorded, work: Path, *args: str, app: list[str] | None = None) -> dict[str, object]:
    state = work / f"replayed-{time.monotonic_ns()}.json"
    cmd = app if app is not None else [*APP, "--state", str(state), "--delay", str(rec.delay)]
    t0 = time.monotonic()
    res = subprocess.run([*WF, "replay", str(rec.bundle), "--xvfb", "--no-save", "--json", *LOADED,
                          "--launch", shlex.join(cmd), *args], capture_output=True, text=True, timeout=600)
    took = time.monotonic() - t0
    try:
        rep = orjson.loads(res.stdout)
    except orjson.JSONDecodeError:
        return {"exit": res.returncode, "status": None, "error": res.stderr.strip().splitlines()[-1:], "took": took}
    steps = [s for s in rep["steps"] if s["counted"]]
    time.sleep(0.3)
    replayed = json.loads(state.read_text()) if state.exists() else None
    return {"exit": res.returncode, "status": rep["verdict"]["status"], "coverage": rep["verdict"]["coverage"],
            "first": rep["verdict"]["first_failed_step"], "took": took,
            "counts": {k: sum(1 for s in steps if s["status"] == k) for k in ("verified", "differs", "unchecked")},
            "unchecked": sorted({s["why"] for s in steps if s["status"] == "unchecked"}),
            "state_ok": replayed == rec.state and rec.state is not None}


def swapped(rec: Recorded, work: Path) -> Recorded:
    """The same bundle with the second click's button changed (press and release)."""
    import shutil

    out = work / f"{rec.bundle.name}-swapped"
    shutil.copytree(rec.bundle, out)
    lines = (out / "events.jsonl").read_bytes().splitlines()
    presses = [n for n, line in enumerate(lines) if orjson.loads(line).get("type") in ("mouse_down", "mouse_up")]
    for n in presses[2:4]:
        ev = orjson.loads(lines[n])
        ev["button"] = "middle" if ev["button"] != "middle" else "left"
        lines[n] = orjson.dumps(ev)
    (out / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return Recorded(rec.name + " (button swapped)", rec.delay, out, rec.state)


def verification_rows(repeats: int) -> list[dict[str, object]]:
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="wf-verify-bench-"))
    scenarios = [(sc.name, sc.delay, sc.script) for sc in SCENARIOS] + [("checkbox", 0.0, s_checkbox)]
    recs = [record(name, delay, script, work) for name, delay, script in scenarios]
    rows: list[dict[str, object]] = []
    verified_runs = total_runs = 0
    for rec in recs:
        for mode, args in MODES.items():
            runs = [replay(rec, work, *args) for _ in range(repeats)]
            total_runs += len(runs)
            verified_runs += sum(r["status"] == "verified" for r in runs)
            cov = [float(r["coverage"]["percent"]) for r in runs if r.get("coverage")]  # type: ignore[index]
            last = runs[-1]
            counts = last.get("counts") or {}
            notes = [f"verdict {', '.join(str(r['status']) for r in runs)}",
                     f"steps {counts.get('verified', 0)} verified · {counts.get('differs', 0)} differ · "
                     f"{counts.get('unchecked', 0)} unchecked",
                     f"app state as recorded {sum(bool(r.get('state_ok')) for r in runs)}/{len(runs)}",
                     f"{statistics.median(float(r['took']) for r in runs):.1f} s per replay"]  # type: ignore[arg-type]
            if last.get("unchecked"):
                notes.append(f"unchecked because: {'; '.join(last['unchecked'])[:200]}")  # type: ignore[arg-type]
            rows.append({"group": "verification", "name": f"verify {rec.name} ({mode}): coverage",
                         "median": statistics.median(cov) if cov else None, "unit": "% steps checked",
                         "runs": len(runs), "target": "100 %, verified", "notes": "; ".join(notes)})
    # The other side: replays that must come out failed or unverified, never verified.
    must_fail: list[tuple[str, dict[str, object]]] = []
    for rec in recs:
        must_fail.append((f"{rec.name} into xterm", replay(rec, work, app=["xterm", "-geometry", "80x24+0+0"])))
    checkbox = next(r for r in recs if r.name == "checkbox")
    must_fail.append(("checkbox, tick never drawn",
                      replay(checkbox, work, app=[*APP, "--state", str(work / "tick0.json"), "--tick", "0"])))
    clicks = swapped(recs[0], work)
    must_fail.append((clicks.name, replay(clicks, work)))
    caught = [name for name, r in must_fail if r["status"] in ("failed", "unverified")]
    rows.append({"group": "verification", "name": "verification, all scenarios: replays verified",
                 "median": round(100 * verified_runs / total_runs) if total_runs else None, "unit": "% runs",
                 "runs": total_runs, "target": "100 %",
                 "notes": f"{len(recs)} scenarios × {len(MODES)} modes × {repeats} runs"})
    rows.append({"group": "verification", "name": "verification: must-fail replays not verified",
                 "median": len(caught), "unit": f"of {len(must_fail)}", "runs": len(must_fail),
                 "target": f"{len(must_fail)} of {len(must_fail)}",
                 "notes": "; ".join(f"{name}: {r['status']}" + (f" (first failing step {r['first']})"
                                                                if r.get("first") is not None else "")
                                    for name, r in must_fail)})
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for row in verification_rows(repeats=1):
        print(json.dumps(row, ensure_ascii=False))

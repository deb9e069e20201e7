"""Reading a `wf replay` report for the viewer, defensively, and drawing checkpoint diffs.

The report schema belongs to the replayer (docs/format.md). The viewer reads the fields it
documents and tolerates a few spellings of each, so a report from a slightly older or newer wf
still renders: whatever it cannot find is simply not shown.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from PIL import Image

from wf.bundle.errors import BadInput
from wf.bundle.reader import Bundle
from wf.bundle.screens import PIXEL_TOLERANCE

# The replayer's own per-channel tolerance, so the red pixels are exactly the ones its verdict counted.
DIFF_TOLERANCE = PIXEL_TOLERANCE

_STEP_KEYS = ("step", "index", "action", "step_index")
_RECORDED_KEYS = ("recorded", "recorded_screen", "expected", "expected_screen", "pre_screen", "screen")
_REPLAYED_KEYS = ("replayed", "replayed_screen", "actual", "actual_screen", "live", "live_screen")
_SIMILARITY_KEYS = ("similarity", "score", "ssim")
_DIFF_KEYS = ("diff_fraction", "differing_fraction", "changed_fraction")
_TIMING_KEYS = ("timing_error", "lateness", "time_error")
_TIMING_MS_KEYS = ("timing_error_ms", "late_ms", "error_ms")
_POINTER_KEYS = ("pointer_error", "pointer_error_px", "pointer_px", "position_error")
_CHECKPOINT_KEYS = ("checkpoints", "screens")
_ROW_KEYS = ("rows", "events", "steps")
MAX_PLOT_POINTS = 2000


@dataclass
class Checkpoint:
    """One compared screen: the recorded frame, what replay showed, and the verdict on it."""

    step: int | None
    event: int | None
    label: str
    recorded: Path | None
    replayed: Path | None
    similarity: float | None = None
    diff_fraction: float | None = None
    differing: int | None = None  # pixels
    passed: bool | None = None
    reason: str | None = None
    timing_error: float | None = None
    pointer_error: float | None = None
    waited: float | None = None
    synced: bool | None = None
    bbox: tuple[int, int, int, int] | None = None  # x, y, width, height of the differing pixels


@dataclass
class Point:
    """One point of an error plot: x is the event (or step) number, ``step`` links it to a step."""

    x: int
    value: float
    step: int | None
    event: int | None


@dataclass
class ReplayReport:
    path: Path
    passed: bool | None
    verdict: str
    summary: list[tuple[str, str]] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    timing: list[Point] = field(default_factory=list)  # seconds, arrival − schedule
    pointer: list[Point] = field(default_factory=list)  # px
    x_axis: str = "event"
    warnings: list[str] = field(default_factory=list)
    timing_limit: float | None = None  # seconds, from the verdict's thresholds
    pointer_limit: float | None = None  # px
    failures: list[tuple[str, int | None, int | None]] = field(default_factory=list)  # (text, step, event)


def _first(d: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _passed(d: dict[str, Any]) -> bool | None:
    for k in ("passed", "ok", "pass", "match", "matched"):
        if isinstance(d.get(k), bool):
            return bool(d[k])
    status = d.get("status", d.get("verdict", d.get("result")))
    if isinstance(status, str):
        s = status.lower()
        if s in ("pass", "passed", "ok", "match", "matched", "success"):
            return True
        if s in ("fail", "failed", "mismatch", "timeout", "error", "failure"):
            return False
    return None


def _bbox(v: Any) -> tuple[int, int, int, int] | None:
    if isinstance(v, list | tuple) and len(v) == 4 and all(_int(n) is not None for n in v):
        return (v[0], v[1], v[2], v[3])
    return None


def _timing(d: dict[str, Any]) -> float | None:
    v = _num(_first(d, _TIMING_KEYS))
    if v is None:
        ms = _num(_first(d, _TIMING_MS_KEYS))
        v = ms / 1000.0 if ms is not None else None
    return v


def _screen_path(v: Any, first: Path, second: Path) -> Path | None:
    """A screen the report names: tried under ``first`` then ``second`` (or absolute)."""
    if isinstance(v, dict):
        v = v.get("path")
    if not isinstance(v, str) or not v:
        return None
    p = Path(v)
    if p.is_absolute():
        return p
    for base in (first, second):
        if (base / p).is_file():
            return (base / p).resolve()
    return (first / p).resolve()


def load_report(path: Path, bundle: Bundle) -> ReplayReport:
    """Parse a replay report (`wf replay --report FILE` / `--json`) into what the viewer shows."""
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise BadInput(f"no such replay report: {path}",
                       hint="write one with `wf replay BUNDLE --report FILE`") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a directory, not a replay report",
                       hint="pass the JSON file written by `wf replay --report`") from None
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"{path}: replay report is not valid JSON ({exc.msg})",
                       hint="pass the file written by `wf replay --report`") from None
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: replay report must be a JSON object",
                       hint="pass the file written by `wf replay --report`")
    report_dir = path.resolve().parent
    bundle_dir = bundle.path.resolve()
    verdict_raw = raw.get("verdict")
    vd = verdict_raw if isinstance(verdict_raw, dict) else raw
    passed = _passed(vd) if isinstance(verdict_raw, dict) else _passed(raw)
    rep = ReplayReport(path=path, passed=passed, verdict="pass" if passed else "fail" if passed is False else "unknown")
    for f in (vd.get("failures") or vd.get("reasons") or [])[:100]:
        if isinstance(f, dict):
            msg = f.get("message") or f.get("reason") or orjson.dumps(f).decode()
            check = f.get("check")
            rep.failures.append((f"{check}: {msg}" if check else str(msg), _int(_first(f, _STEP_KEYS)),
                                 _int(f.get("event"))))
        else:
            rep.failures.append((str(f), None, None))
    rep.summary = _summary_rows(raw)
    named = raw.get("bundle")
    if isinstance(named, str) and named and Path(named).name != bundle_dir.name:
        rep.warnings.append(f"{path.name} was written for bundle {Path(named).name!r}, not {bundle_dir.name!r}")
    limits = vd.get("thresholds") if isinstance(vd.get("thresholds"), dict) else {}
    ms = _num(limits.get("timing_max_ms"))
    rep.timing_limit = ms / 1000.0 if ms is not None else None
    rep.pointer_limit = _num(limits.get("pointer_px"))
    cps = next((raw[k] for k in _CHECKPOINT_KEYS if isinstance(raw.get(k), list)), None)
    if cps is None:  # older/other shapes: per-step rows that carry their screens
        cps = [r for r in raw.get("steps") or [] if isinstance(r, dict) and _first(r, _RECORDED_KEYS + _REPLAYED_KEYS)]
    for n, row in enumerate(cps):
        if not isinstance(row, dict):
            continue
        step, event = _int(_first(row, _STEP_KEYS)), _int(row.get("event"))
        name = str(row.get("label") or row.get("name") or "")
        where = f"step {step}" if step is not None else f"event {event}" if event is not None else ""
        rep.checkpoints.append(Checkpoint(
            step=step, event=event,
            label=f"{name} {where}".strip() if where else f"{name or f'#{n}'} screen",
            recorded=_screen_path(_first(row, _RECORDED_KEYS), bundle_dir, report_dir),
            replayed=_screen_path(_first(row, _REPLAYED_KEYS), report_dir, bundle_dir),
            similarity=_num(_first(row, _SIMILARITY_KEYS)),
            diff_fraction=_num(_first(row, _DIFF_KEYS)),
            differing=_int(row.get("differing")),
            passed=_passed(row),
            reason=str(row["reason"]) if row.get("reason") else None,
            timing_error=_timing(row),
            pointer_error=_num(_first(row, _POINTER_KEYS)),
            waited=_num(row.get("waited") if row.get("waited") is not None else row.get("sync_wait")),
            synced=row.get("synced") if isinstance(row.get("synced"), bool) else None,
            bbox=_bbox(row.get("bbox")),
        ))
    rows = next((raw[k] for k in _ROW_KEYS if isinstance(raw.get(k), list)), None)
    if rows:
        for n, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            event, step = _int(row.get("event")), _int(_first(row, _STEP_KEYS))
            x = event if event is not None else step if step is not None else n
            t, p = _timing(row), _num(_first(row, _POINTER_KEYS))
            if t is not None:
                rep.timing.append(Point(x, t, step, event))
            if p is not None:
                rep.pointer.append(Point(x, p, step, event))
        rep.x_axis = "event" if any(_int(r.get("event")) is not None for r in rows if isinstance(r, dict)) else "step"
    else:  # no per-event rows: plot what the checkpoints carry
        rep.x_axis = "step"
        for n, cp in enumerate(rep.checkpoints):
            x = cp.step if cp.step is not None else n
            if cp.timing_error is not None:
                rep.timing.append(Point(x, cp.timing_error, cp.step, cp.event))
            if cp.pointer_error is not None:
                rep.pointer.append(Point(x, cp.pointer_error, cp.step, cp.event))
    rep.timing = thin(rep.timing)
    rep.pointer = thin(rep.pointer)
    return rep


def thin(points: list[Point], limit: int = MAX_PLOT_POINTS) -> list[Point]:
    """At most ``limit`` points, keeping the largest error of each slice (the ones worth seeing)."""
    if len(points) <= limit:
        return points
    size = len(points) / limit
    return [max(points[int(i * size):max(int((i + 1) * size), int(i * size) + 1)], key=lambda p: abs(p.value))
            for i in range(limit)]


def _summary_rows(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Scalar facts worth a line: top level and two levels down (e.g. ``verdict.stats.timing_p95_ms``)."""
    rows: list[tuple[str, str]] = []

    def add(prefix: str, d: dict[str, Any], depth: int) -> None:
        for k, v in d.items():
            if len(rows) >= 60:
                return
            if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) < 160):
                rows.append((f"{prefix}{k}", _fmt(v)))
            elif isinstance(v, dict) and depth < 2:
                add(f"{prefix}{k}.", v, depth + 1)

    add("", raw, 0)
    return rows


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def diff_png(recorded: Path, replayed: Path, tolerance: int = DIFF_TOLERANCE) -> tuple[bytes, float]:
    """A picture of where two frames differ (changed pixels red over a dimmed recorded frame).

    Returns (PNG bytes, fraction of changed pixels). Frames of different sizes are compared over
    their common top-left area, and everything outside it counts as changed.
    """
    with Image.open(recorded) as a_img, Image.open(replayed) as b_img:
        a = np.asarray(a_img.convert("RGB"), dtype=np.int16)
        b = np.asarray(b_img.convert("RGB"), dtype=np.int16)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    changed = np.ones(a.shape[:2], dtype=bool)
    changed[:h, :w] = (np.abs(a[:h, :w] - b[:h, :w]) > tolerance).any(axis=2)
    gray = (a.mean(axis=2) * 0.35 + 140).astype(np.uint8)  # faded so the red reads at a glance
    out = np.repeat(gray[:, :, None], 3, axis=2)
    out[changed] = (230, 20, 60)
    buf = io.BytesIO()
    Image.fromarray(out, "RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), float(changed.mean()) if changed.size else 0.0

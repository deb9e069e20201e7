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

# A channel difference above this counts as a changed pixel in the diff picture (PNG noise is 0, but
# replayed frames may have a blinking caret or anti-aliasing shifts that are not worth painting).
DIFF_TOLERANCE = 8

_STEP_KEYS = ("step", "index", "action", "step_index")
_RECORDED_KEYS = ("recorded", "recorded_screen", "expected", "expected_screen", "pre_screen", "screen")
_REPLAYED_KEYS = ("replayed", "replayed_screen", "actual", "actual_screen", "live", "live_screen")
_SIMILARITY_KEYS = ("similarity", "score", "ssim")
_DIFF_KEYS = ("diff_fraction", "differing", "differing_fraction", "diff", "changed")
_TIMING_KEYS = ("timing_error", "lateness", "timing_error_ms", "late_ms", "error_ms", "time_error")
_POINTER_KEYS = ("pointer_error", "pointer_error_px", "pointer_px", "position_error")
_LIST_KEYS = ("checkpoints", "steps", "screens", "rows")


@dataclass
class Checkpoint:
    """One compared screen: the recorded frame, what replay showed, and the verdict on it."""

    step: int | None
    label: str
    recorded: Path | None
    replayed: Path | None
    similarity: float | None = None
    diff_fraction: float | None = None
    passed: bool | None = None
    reason: str | None = None
    timing_error: float | None = None
    pointer_error: float | None = None
    waited: float | None = None


@dataclass
class ReplayReport:
    path: Path
    passed: bool | None
    verdict: str
    summary: list[tuple[str, str]] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    timing: list[tuple[int, float]] = field(default_factory=list)  # (step, seconds) — actual − scheduled
    pointer: list[tuple[int, float]] = field(default_factory=list)  # (step, px)
    failures: list[str] = field(default_factory=list)


def _first(d: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


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


def _screen_path(v: Any, report_dir: Path, bundle: Bundle) -> Path | None:
    """A screen named by the report: bundle-relative for recorded frames, report-relative or absolute else."""
    if isinstance(v, dict):
        v = v.get("path")
    if not isinstance(v, str) or not v:
        return None
    p = Path(v)
    if p.is_absolute():
        return p
    for base in (report_dir, bundle.path):
        if (base / p).is_file():
            return (base / p).resolve()
    return (report_dir / p).resolve()


def load_report(path: Path, bundle: Bundle) -> ReplayReport:
    """Parse a replay report (`wf replay --report FILE` / `--json`) into what the viewer shows."""
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise BadInput(f"no such replay report: {path}", hint="write one with `wf replay BUNDLE --report FILE`") \
            from None
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"{path}: replay report is not valid JSON ({exc.msg})",
                       hint="pass the file written by `wf replay --report`") from None
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: replay report must be a JSON object", hint="pass the file written by `wf replay --report`")
    report_dir = path.resolve().parent
    verdict_raw = raw.get("verdict")
    if isinstance(verdict_raw, dict):
        passed = _passed(verdict_raw)
        fails = verdict_raw.get("failures") or verdict_raw.get("reasons") or []
    else:
        passed = _passed(raw)
        fails = raw.get("failures") or raw.get("reasons") or []
    verdict = "pass" if passed else "fail" if passed is False else "unknown"
    rep = ReplayReport(path=path, passed=passed, verdict=verdict,
                       failures=[str(f) if not isinstance(f, dict) else _failure_text(f) for f in fails][:50])
    rep.summary = _summary_rows(raw)
    rows = next((raw[k] for k in _LIST_KEYS if isinstance(raw.get(k), list)), [])
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        step = _first(row, _STEP_KEYS)
        step = int(step) if isinstance(step, int) and not isinstance(step, bool) else None
        cp = Checkpoint(
            step=step,
            label=str(row.get("label") or row.get("name") or (f"step {step}" if step is not None else f"#{n}")),
            recorded=_screen_path(_first(row, _RECORDED_KEYS), report_dir, bundle),
            replayed=_screen_path(_first(row, _REPLAYED_KEYS), report_dir, bundle),
            similarity=_num(_first(row, _SIMILARITY_KEYS)),
            diff_fraction=_num(_first(row, _DIFF_KEYS)),
            passed=_passed(row),
            reason=str(row["reason"]) if row.get("reason") else None,
            timing_error=_num(_first(row, _TIMING_KEYS)),
            pointer_error=_num(_first(row, _POINTER_KEYS)),
            waited=_num(row.get("waited") or row.get("sync_wait")),
        )
        rep.checkpoints.append(cp)
        if step is not None and cp.timing_error is not None:
            rep.timing.append((step, cp.timing_error))
        if step is not None and cp.pointer_error is not None:
            rep.pointer.append((step, cp.pointer_error))
    for key, target in (("timing", rep.timing), ("pointer", rep.pointer)):
        if not target:
            target.extend(_series(raw.get(key)))
    return rep


def _failure_text(f: dict[str, Any]) -> str:
    step = _first(f, _STEP_KEYS)
    msg = f.get("message") or f.get("reason") or orjson.dumps(f).decode()
    return f"step {step}: {msg}" if step is not None else str(msg)


def _series(block: Any) -> list[tuple[int, float]]:
    """A per-step error series given as {"per_step": [...]} / {"errors": [...]} / a plain list."""
    if isinstance(block, dict):
        block = next((block[k] for k in ("per_step", "steps", "errors", "series", "events") if k in block), None)
    out: list[tuple[int, float]] = []
    if not isinstance(block, list):
        return out
    for n, item in enumerate(block):
        if isinstance(item, dict):
            step = _first(item, (*_STEP_KEYS, "event"))
            val = _num(_first(item, ("error", "value", *_TIMING_KEYS, *_POINTER_KEYS)))
        elif isinstance(item, list | tuple) and len(item) == 2:
            step, val = item[0], _num(item[1])
        else:
            step, val = n, _num(item)
        if isinstance(step, int) and val is not None:
            out.append((step, val))
    return out


def _summary_rows(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Scalar facts worth a line in the header: top level and one level into timing/pointer/screens."""
    rows: list[tuple[str, str]] = []

    def add(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if len(rows) >= 40:
                return
            if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) < 120):
                rows.append((f"{prefix}{k}", _fmt(v)))
            elif isinstance(v, dict) and not prefix:
                add(f"{k}.", v)

    add("", raw)
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

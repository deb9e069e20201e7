"""The replay report as JSON (schema: docs/replay.md, ``wf-replay-report`` version 1)."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from wf.replayer.fidelity import CheckpointResult, Row
from wf.replayer.session import ReplayOptions, ReplayResult

REPORT_FORMAT = "wf-replay-report"
REPORT_VERSION = 1
WORST = 5


def _rel(path: str | None, base: Path | None) -> str | None:
    if path is None:
        return None
    if base is None:
        return path
    return os.path.relpath(path, base)


def checkpoint_json(c: CheckpointResult, base: Path | None) -> dict[str, Any]:
    d = asdict(c)
    d["replayed"] = _rel(c.replayed, base)
    d["bbox"] = list(c.bbox) if c.bbox else None
    return d


def row_json(r: Row) -> dict[str, Any]:
    return asdict(r)


def build_report(bundle_path: Path, result: ReplayResult, opts: ReplayOptions,
                 report_path: Path | None = None) -> dict[str, Any]:
    """Everything a machine needs: options, verdict, statistics, per-checkpoint and per-event rows.

    Paths of replayed screens are relative to the report file's directory when there is one.
    """
    base = report_path.resolve().parent if report_path else None
    v = result.verdict
    checks = [c for c in result.checkpoints if c.label != "start"]
    worst = sorted(checks, key=lambda c: (-c.differing, c.similarity))[:WORST]
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "bundle": str(bundle_path),
        "passed": v.passed,
        "verdict": {
            "passed": v.passed,
            "failures": [asdict(f) for f in v.failures],
            "thresholds": v.thresholds.to_json(),
        },
        "options": {
            "level": opts.level, "speed": opts.speed, "max_gap": opts.max_gap, "sync": opts.sync,
            "sync_timeout": opts.sync_timeout, "xvfb": opts.xvfb, "launch": result.launched,
            "scale": list(result.scale), "first_event": opts.first, "last_event": opts.last,
            "ignore_regions": [list(r) for r in opts.ignore],
        },
        "display": {"name": result.target.name, "width": result.target.width, "height": result.target.height,
                    "private": result.target.private},
        "duration": result.duration,
        "stats": v.stats,
        "timing": {
            "p50_ms": v.stats.get("timing_p50_ms"), "p95_ms": v.stats.get("timing_p95_ms"),
            "max_ms": v.stats.get("timing_max_ms"),
            "per_step": [{"event": r.event, "step": r.step, "error": r.timing_error}
                         for r in result.rows if r.timing_error is not None],
        },
        "pointer": {
            "max_px": v.stats.get("pointer_max_px"), "mean_px": v.stats.get("pointer_mean_px"),
            "per_step": [{"event": r.event, "step": r.step, "error": r.pointer_error}
                         for r in result.rows if r.pointer_error is not None],
        },
        "screens": {
            "checkpoints": len(checks),
            "max_differing_px": max((c.differing for c in checks), default=None),
            "min_similarity": min((c.similarity for c in checks), default=None),
            "worst": [{"event": c.event, "step": c.step, "label": c.label, "differing": c.differing,
                       "similarity": c.similarity} for c in worst],
            "directory": _rel(str(result_dir), base) if (result_dir := _screens_dir(result)) else None,
        },
        "checkpoints": [checkpoint_json(c, base) for c in result.checkpoints],
        "events": [row_json(r) for r in result.rows],
        "warnings": result.warnings,
    }


def _screens_dir(result: ReplayResult) -> Path | None:
    for c in result.checkpoints:
        if c.replayed:
            return Path(c.replayed).parent
    return None

"""One replay's result as the typed report of ``wf.bundle.replays`` (schema: docs/replay.md)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from wf.bundle.replays import (
    Checkpoint,
    Display,
    Options,
    PointerSummary,
    ReplayReport,
    ScreensSummary,
    StepEffect,
    StepError,
    TimingSummary,
    Verdict,
    WorstCheckpoint,
)
from wf.replayer.options import ReplayOptions
from wf.replayer.session import ReplayResult

WORST = 5


def _rel(path: str | None, base: Path | None) -> str | None:
    if path is None or base is None:
        return path
    return os.path.relpath(path, base)


def build_report(bundle_path: Path, result: ReplayResult, opts: ReplayOptions,
                 report_path: Path | None = None, *, at: str | None = None,
                 events_hash: str | None = None) -> ReplayReport:
    """The report of one replay. Paths of replayed screens are relative to the report file's directory
    when there is one. ``at``: when the replay began; ``events_hash``: of the events it replayed."""
    base = report_path.resolve().parent if report_path else None
    v = result.verdict
    stats = v.stats
    checks = result.checkpoints
    worst = sorted(checks, key=lambda c: (-c.differing, c.similarity))[:WORST]
    screens_dir = next((str(Path(c.replayed).parent) for c in result.checkpoints if c.replayed), None)
    return ReplayReport(
        bundle=str(bundle_path),
        passed=v.passed,
        verdict=Verdict(passed=v.passed, failures=v.failures, thresholds=v.thresholds, status=v.status,
                        coverage=v.coverage, first_failed_step=v.first_failed_step, unverified=v.unverified),
        options=Options(level=opts.level, speed=opts.speed, max_gap=opts.max_gap, sync=opts.sync,
                        sync_timeout=opts.sync_timeout, xvfb=opts.xvfb, launch=result.launched,
                        scale=result.scale, first_event=opts.first, last_event=opts.last,
                        ignore_regions=list(opts.ignore)),
        display=Display(name=result.target.name, width=result.target.width, height=result.target.height,
                        private=result.target.private),
        duration=result.duration,
        stats=stats,
        timing=TimingSummary(p50_ms=stats.timing_p50_ms, p95_ms=stats.timing_p95_ms, max_ms=stats.timing_max_ms,
                             per_step=[StepError(event=r.event, step=r.step, error=r.timing_error)
                                       for r in result.rows if r.timing_error is not None]),
        pointer=PointerSummary(max_px=stats.pointer_max_px, mean_px=stats.pointer_mean_px,
                               per_step=[StepError(event=r.event, step=r.step, error=r.pointer_error)
                                         for r in result.rows if r.pointer_error is not None]),
        screens=ScreensSummary(
            checkpoints=len(checks),
            max_differing_px=max((c.differing for c in checks), default=None),
            min_similarity=min((c.similarity for c in checks), default=None),
            worst=[WorstCheckpoint(event=c.event, step=c.step, label=c.label, differing=c.differing,
                                   similarity=c.similarity) for c in worst],
            directory=_rel(screens_dir, base),
        ),
        checkpoints=[_relative(c, base) for c in result.checkpoints],
        events=result.rows,
        warnings=result.warnings,
        steps=[_step_relative(e, base) for e in result.steps],
        at=at,
        events_hash=events_hash,
        halted=result.halted,
        desktop=result.desktop,
    )


def _relative(c: Checkpoint, base: Path | None) -> Checkpoint:
    return msgspec.structs.replace(c, replayed=_rel(c.replayed, base))


def _step_relative(e: StepEffect, base: Path | None) -> StepEffect:
    return msgspec.structs.replace(e, replayed=_rel(e.replayed, base))

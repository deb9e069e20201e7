"""Kept replays (a bundle's replays/): append-only, private, stale once the events change; and the exit codes
of the three outcomes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import msgspec

from wf.bundle.events import MouseMove, single_screen_header
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import REPLAYS_DIR, keep_report, kept_paths, last_replay, relocate
from wf.bundle.replays import (
    Coverage,
    Display,
    Options,
    PointerSummary,
    ReplayReport,
    ScreensSummary,
    Stats,
    StepEffect,
    Thresholds,
    TimingSummary,
    Verdict,
    outcome,
)
from wf.bundle.writer import BundleWriter


def make_bundle(path: Path) -> Bundle:
    with BundleWriter(path, single_screen_header(64, 48, started="2026-01-01T00:00:00Z")) as w:
        w.write(MouseMove(t=0.1, x=1, y=1))
    return Bundle.open(path)


def report(status: str | None = "verified", *, at: str = "2026-03-01T10:15:00.000001Z",
           events_hash: str | None = None, replayed: str | None = None) -> ReplayReport:
    stats = Stats(events=1, captured=1, sequence_mismatches=0, sequence_identical=True, timing_p50_ms=None,
                  timing_p95_ms=None, timing_p99_ms=None, timing_max_ms=None, inject_p50_ms=None,
                  inject_p95_ms=None, inject_p99_ms=None, inject_max_ms=None, pointer_max_px=None,
                  pointer_mean_px=None, dropped=0, checkpoints=0, unsynced=0, screen_max_diff=None,
                  screen_min_similarity=None)
    return ReplayReport(
        bundle="b", passed=status == "verified",
        verdict=Verdict(passed=status == "verified", failures=[], thresholds=Thresholds(), status=status,  # type: ignore[arg-type]
                        coverage=Coverage(steps=1, checked=1, verified=1, percent=100.0)),
        options=Options(level="events", speed=1.0, max_gap=None, sync="none", sync_timeout=10.0, xvfb=True,
                        launch=None, scale=(1.0, 1.0), first_event=0, last_event=None, ignore_regions=[]),
        display=Display(name=":9", width=64, height=48, private=True), duration=1.0, stats=stats,
        timing=TimingSummary(p50_ms=None, p95_ms=None, max_ms=None, per_step=[]),
        pointer=PointerSummary(max_px=None, mean_px=None, per_step=[]),
        screens=ScreensSummary(checkpoints=0, max_differing_px=None, min_similarity=None, worst=[], directory=None),
        checkpoints=[], events=[], warnings=[], at=at, events_hash=events_hash,
        steps=[StepEffect(step=0, kind="move", first_event=0, last_event=0, status="verified", replayed=replayed)])


def test_each_replay_gets_a_new_private_file_and_nothing_is_rewritten(tmp_path: Path) -> None:
    from wf.bundle.replay_store import events_hash

    b = make_bundle(tmp_path / "b")
    first = keep_report(b, report("failed", events_hash=events_hash(b)))
    before = first.read_bytes()
    second = keep_report(b, report(events_hash=events_hash(b)))  # the same instant: a second name, not a rewrite
    third = keep_report(b, report(at="2026-03-02T08:00:00.000000Z", events_hash=events_hash(b)))
    assert first.name == "20260301T101500.000001Z.json" and second.name == "20260301T101500.000001Z-2.json"
    assert first.read_bytes() == before
    assert kept_paths(b) == [first, second, third]
    assert stat.S_IMODE((tmp_path / "b" / REPLAYS_DIR).stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (first, second, third)} == {0o600}
    assert not [p for p in (tmp_path / "b" / REPLAYS_DIR).iterdir() if p.name.startswith(".")]  # no temp left
    kept = last_replay(b)
    assert kept is not None and kept.path == third and not kept.stale and outcome(kept.report) == "verified"


def test_a_verdict_about_other_events_is_stale(tmp_path: Path) -> None:
    from wf.bundle.replay_store import events_hash

    b = make_bundle(tmp_path / "b")
    keep_report(b, report(events_hash=events_hash(b)))
    with b.events_path.open("ab") as fh:  # the recording changed after it was replayed (a tampered step)
        fh.write(b'{"t": 0.2, "type": "mouse_move", "x": 2, "y": 2}\n')
    kept = last_replay(b)
    assert kept is not None and kept.stale


def test_an_unreadable_kept_report_is_skipped_with_a_warning(tmp_path: Path) -> None:
    b = make_bundle(tmp_path / "b")
    good = keep_report(b, report())
    (tmp_path / "b" / REPLAYS_DIR / "20990101T000000.000000Z.json").write_text("{not json")
    kept = last_replay(b)
    assert kept is not None and kept.path == good
    assert len(kept.warnings) == 1 and "20990101T000000.000000Z.json" in kept.warnings[0]
    assert last_replay(make_bundle(tmp_path / "empty")) is None


def test_old_reports_without_a_status_are_at_best_unverified() -> None:
    old = msgspec.structs.replace(report(None), passed=True)
    old.verdict.passed = True
    assert outcome(old) == "unverified"
    old.verdict.passed = False
    assert outcome(old) == "failed"


def test_kept_copies_point_at_the_frames_wherever_they_are(tmp_path: Path) -> None:
    frames = tmp_path / "ci" / "report-screens"
    frames.mkdir(parents=True)
    rep = report(replayed="report-screens/step00000-after.png")
    moved = relocate(rep, tmp_path / "ci", tmp_path / "b" / REPLAYS_DIR)
    assert moved.steps[0].replayed == os.path.join("..", "..", "ci", "report-screens", "step00000-after.png")


def test_exit_codes_of_the_three_outcomes() -> None:
    from wf.cli.exit import ExitCode
    from wf.cli.replay import exit_code

    assert exit_code(report("verified"), False) == ExitCode.OK
    assert exit_code(report("failed"), True) == ExitCode.CHECK_FAILED
    assert exit_code(report("unverified"), False) == ExitCode.UNVERIFIED == 4
    assert exit_code(report("unverified"), True) == ExitCode.OK

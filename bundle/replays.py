"""The replay report: one typed schema that `wf replay` writes and every reader (`wf view`, CI) decodes.

Format ``wf-replay-report``, version 1, documented field by field in docs/replay.md. Kept replays become
part of a bundle, so the schema is part of the bundle's contract and lives here, below the replayer
that fills it and the viewer that shows it.

How it grows: fields are only ever added, each with a default, so every version-1 report ever written
still decodes; a reader ignores fields it does not know (msgspec's default), so an older wf still reads
a newer version-1 report. A change that is not additive bumps ``REPORT_VERSION``, and a reader refuses
a version newer than its own with a one-line error instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import msgspec
import orjson

from wf.bundle.errors import BadInput

REPORT_FORMAT = "wf-replay-report"
REPORT_VERSION = 1

Level = Literal["events", "actions"]  # `wf replay --level`
SyncMode = Literal["none", "screen"]  # `wf replay --sync`
CheckpointLabel = Literal["start", "pre", "final"]
AnchorMode = Literal["window", "screen"]  # `wf replay --anchor`
StartStatus = Literal["restored", "as recorded", "not restorable", "not recorded"]
Box = tuple[int, int, int, int]  # x, y, width, height in screen pixels


class Thresholds(msgspec.Struct, frozen=True, kw_only=True):
    """Pass/fail limits of the verdict. Names are what ``--threshold NAME=VALUE`` takes."""

    sequence_mismatches: int = 0  # buttons, wheel notches and keys that differ from the bundle
    pointer_px: float = 2.0  # worst pointer position error at a move, button or wheel event
    timing_p95_ms: float = 100.0  # arrival at the X server − schedule, 95th percentile
    timing_max_ms: float = 1000.0
    screen_diff_px: int = 0  # differing pixels allowed at a checkpoint: every pixel counts (docs/replay.md)
    screen_similarity: float = 0.99  # lowest similarity at any checkpoint
    unsynced: int = 0  # steps whose screen never matched within --sync-timeout (with --sync screen)
    dropped: int = 0  # events the capture could not keep up with

    @classmethod
    def parse(cls, items: Sequence[str]) -> Thresholds:
        """``["pointer_px=0", "timing_p95_ms=20"]`` over the defaults; unknown names are bad input."""
        types = {f.name: f.type for f in msgspec.structs.fields(cls)}
        values: dict[str, float | int] = {}
        for item in items:
            name, sep, raw = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in types:
                raise BadInput(f"bad --threshold {item!r}", hint="use NAME=VALUE with NAME one of: " + ", ".join(types))
            try:
                num = float(raw)
            except ValueError:
                raise BadInput(f"bad --threshold {item!r}: {raw!r} is not a number") from None
            if not math.isfinite(num) or num < 0:
                raise BadInput(f"bad --threshold {item!r}: must be a finite number ≥ 0")
            values[name] = int(num) if types[name] is int else num
        return msgspec.convert(values, cls)


class Failure(msgspec.Struct, kw_only=True):
    """One failed check, naming the raw event and action step where it has one."""

    check: str  # "sequence" | "pointer" | "timing" | "capture" | "sync" | "screen"
    message: str
    event: int | None = None
    step: int | None = None


# -- the verdict's evidence: three outcomes, per-step effects, coverage (issue 15) ---------------------
# Kept together so that other additions to this schema merge beside them, not through them.

VerdictStatus = Literal["verified", "failed", "unverified"]
# A step's effect: observed as recorded, observed to differ, or not observable (and why).
EffectStatus = Literal["verified", "differs", "unchecked"]
# What reached the X server during a step against what the step implies.
WitnessStatus = Literal["agrees", "differs", "unchecked"]


class Coverage(msgspec.Struct, kw_only=True):
    """How much of the replayed task the evidence covers."""

    steps: int  # action steps replayed (waits and marks are not action steps: they have no input)
    checked: int  # steps whose effect was observed (verified or differs)
    verified: int  # steps whose effect was observed as recorded and whose input agrees
    percent: float  # checked / steps × 100; 0 when there are no action steps


class UncheckedStep(msgspec.Struct, kw_only=True):
    step: int | None  # None: about the replay as a whole (e.g. it had no action steps)
    why: str


class StepEffect(msgspec.Struct, kw_only=True):
    """One step of the replayed range: did its recorded effect happen, did its input reach the X server.

    ``status`` is ``verified`` only when both hold: the screen after the step reached the recorded
    post-action state (volatile regions masked) and that state differs visibly from the one before it, and
    the input witness agrees. ``differs`` names what and where; ``unchecked`` says why nothing could be seen.
    """

    step: int
    kind: str
    first_event: int
    last_event: int
    status: EffectStatus
    why: str | None = None
    counted: bool = True  # part of the coverage (false for waits and marks)
    screen: EffectStatus = "unchecked"  # the screen after the step against the recorded post-action screen
    screen_why: str | None = None
    recorded: str | None = None  # the recorded post-action screen (bundle-relative)
    replayed: str | None = None  # the live screen kept for it (relative to the report's directory)
    differing: int | None = None  # pixels, outside the masked regions
    bbox: Box | None = None  # where they are (screen pixels)
    similarity: float | None = None
    waited: float | None = None  # seconds from the step's last event until the screen matched (or gave up)
    input: WitnessStatus = "unchecked"
    input_why: str | None = None


def outcome(report: ReplayReport) -> VerdictStatus:
    """The report's outcome; a report from before the three outcomes never checked step effects, so at
    best it is unverified."""
    v = report.verdict
    if v.status is not None:
        return v.status
    return "unverified" if v.passed else "failed"


class Verdict(msgspec.Struct, kw_only=True):
    passed: bool  # status == "verified" (reports written before `status` existed: the old pass/fail)
    failures: list[Failure]
    thresholds: Thresholds
    # -- the three outcomes (docs/replay.md, "The verdict"); absent from reports of older wf versions --
    status: VerdictStatus | None = None
    coverage: Coverage | None = None
    first_failed_step: int | None = None  # the earliest action step a failure names
    unverified: list[UncheckedStep] = msgspec.field(default_factory=list)  # why the evidence falls short


class Options(msgspec.Struct, kw_only=True):
    """What the replay was asked to do (``scale`` is the coordinate factor that was applied)."""

    level: Level
    speed: float
    max_gap: float | None
    sync: SyncMode
    sync_timeout: float
    xvfb: bool
    launch: str | None
    scale: tuple[float, float]
    first_event: int
    last_event: int | None
    ignore_regions: list[Box]


class Display(msgspec.Struct, kw_only=True):
    name: str
    width: int
    height: int
    private: bool  # a private Xvfb


class Stats(msgspec.Struct, kw_only=True):
    """The verdict's measurements; a figure nothing measured is null."""

    events: int
    captured: int
    sequence_mismatches: int
    sequence_identical: bool
    timing_p50_ms: float | None
    timing_p95_ms: float | None
    timing_p99_ms: float | None
    timing_max_ms: float | None
    inject_p50_ms: float | None
    inject_p95_ms: float | None
    inject_p99_ms: float | None
    inject_max_ms: float | None
    pointer_max_px: float | None
    pointer_mean_px: float | None
    dropped: int
    checkpoints: int
    unsynced: int
    screen_max_diff: float | None
    screen_min_similarity: float | None


class StepError(msgspec.Struct, kw_only=True):
    event: int
    step: int | None
    error: float  # seconds (timing) or pixels (pointer)


class TimingSummary(msgspec.Struct, kw_only=True):
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    per_step: list[StepError]


class PointerSummary(msgspec.Struct, kw_only=True):
    max_px: float | None
    mean_px: float | None
    per_step: list[StepError]


class WorstCheckpoint(msgspec.Struct, kw_only=True):
    event: int | None
    step: int | None
    label: CheckpointLabel
    differing: int
    similarity: float


class ScreensSummary(msgspec.Struct, kw_only=True):
    checkpoints: int  # compared in the verdict (the start screen included)
    max_differing_px: int | None
    min_similarity: float | None
    worst: list[WorstCheckpoint]
    directory: str | None  # the replayed screens, relative to the report's directory


class Checkpoint(msgspec.Struct):
    """One compared screen. ``recorded`` is bundle-relative; ``replayed`` is relative to the report's
    directory in a written report (an absolute path while the replay runs; null when not saved)."""

    event: int | None  # raw event index the checkpoint precedes (None for the start and final screens)
    label: CheckpointLabel
    recorded: str | None
    similarity: float
    diff_fraction: float
    differing: int  # pixels
    bbox: Box | None = None  # of the differing pixels
    synced: bool | None = None  # with --sync screen: did the live screen match before going on
    waited: float = 0.0  # seconds spent waiting for it
    replayed: str | None = None
    step: int | None = None
    passed: bool = True


class EventRow(msgspec.Struct):
    """One replayed input event (times in seconds since the replay origin)."""

    event: int
    type: str  # the event struct's name, e.g. "MouseDown"
    detail: str
    scheduled: float
    injected: float
    captured: float | None = None  # null when the capture did not see it
    timing_error: float | None = None  # captured − scheduled
    inject_error: float | None = None  # injected − scheduled
    pointer_error: float | None = None  # px
    match: bool = True  # false for events in a sequence mismatch
    step: int | None = None


class StartItem(msgspec.Struct, kw_only=True):
    """One item of the recorded start state and what replay did about it before the first event."""

    item: str  # start | stray | pointer | focus | locks | caps_lock | num_lock | scroll_lock | held | buttons
    status: StartStatus
    detail: str = ""


class AnchoredWindow(msgspec.Struct, kw_only=True):
    """A recorded window pointer events were replayed relative to (``--anchor window``)."""

    title: str
    wm_class: str | None
    recorded: Box  # its frame where it was recorded (the last geometry the bundle gives)
    live: Box | None = None  # where it was found (null: never found)
    match: str | None = None  # how it was identified: id, class+title, class+title pattern, class, title
    events: int = 0  # pointer events placed relative to it
    waited: float = 0.0  # seconds the replay waited for it to appear (the schedule moved on by as much)


class Desktop(msgspec.Struct, kw_only=True):
    """Replay on a real desktop (docs/replay.md): the start state, window anchoring, volatile regions."""

    start_recorded: bool = False  # the bundle has a start state (format 1.1)
    start: list[StartItem] = msgspec.field(default_factory=list)
    anchor: AnchorMode = "window"
    window_manager: str | None = None  # the live display's (null: none running)
    windows: list[AnchoredWindow] = msgspec.field(default_factory=list)
    volatile_regions: list[Box] = msgspec.field(default_factory=list)  # from the recording: never compared


class ReplayReport(msgspec.Struct, kw_only=True):
    """Everything a machine needs: options, verdict, statistics, per-checkpoint and per-event rows."""

    format: str = REPORT_FORMAT
    version: int = REPORT_VERSION
    bundle: str
    passed: bool
    verdict: Verdict
    options: Options
    display: Display
    duration: float
    stats: Stats
    timing: TimingSummary
    pointer: PointerSummary
    screens: ScreensSummary
    checkpoints: list[Checkpoint]
    events: list[EventRow]
    warnings: list[str]
    # -- the verdict's evidence (issue 15) --
    steps: list[StepEffect] = msgspec.field(default_factory=list)  # every step of the replayed range
    at: str | None = None  # UTC time the replay began (ISO 8601)
    events_hash: str | None = None  # xxh3-128 of the bundle's events.jsonl: a kept verdict for other events is stale
    halted: int | None = None  # --halt-on-divergence stopped after this step
    desktop: Desktop = msgspec.field(default_factory=Desktop)


class _Head(msgspec.Struct):
    format: str | None = None
    version: int | None = None


_HINT = "pass the JSON file written by `wf replay --report FILE` (or `--json`)"


def encode_report(report: ReplayReport) -> bytes:
    """The report as indented JSON (what `--report FILE` writes and `--json` prints)."""
    return orjson.dumps(msgspec.to_builtins(report), option=orjson.OPT_INDENT_2)


def decode_report(data: bytes, *, source: str = "replay report") -> ReplayReport:
    """Decode and check a report; anything that is not a version-1 report is ``BadInput`` naming why."""
    try:
        head = msgspec.json.decode(data, type=_Head)
    except msgspec.DecodeError as exc:
        raise BadInput(f"{source}: not a wf replay report ({exc})", hint=_HINT) from None
    if head.format != REPORT_FORMAT:
        raise BadInput(f"{source}: not a wf replay report (format {head.format!r}, expected {REPORT_FORMAT!r})",
                       hint=_HINT)
    if head.version is None or head.version < 1:
        raise BadInput(f"{source}: replay report without a valid version", hint=_HINT)
    if head.version > REPORT_VERSION:
        raise BadInput(f"{source}: replay report of version {head.version} (this wf reads version "
                       f"{REPORT_VERSION})", hint="upgrade wf to read it")
    try:
        return msgspec.json.decode(data, type=ReplayReport)
    except msgspec.ValidationError as exc:
        raise BadInput(f"{source}: malformed replay report ({exc})", hint=_HINT) from None


def read_report(path: Path) -> ReplayReport:
    """Read a report file; a missing, unreadable or malformed file is ``BadInput``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"no such replay report: {path}",
                       hint="write one with `wf replay BUNDLE --report FILE`") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a directory, not a replay report", hint=_HINT) from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}", hint=_HINT) from None
    return decode_report(data, source=str(path))

"""A `wf replay` report as the viewer shows it, and pictures of where two frames differ.

The report is decoded with the one schema ``wf.bundle.replays`` defines (the replayer writes it with the
same types); a file that does not decode is refused with a one-line error. What is derived here is only
presentation: screen paths resolved, display labels, plot points, failures linked to steps.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np
from PIL import Image

from wf.bundle.errors import BadInput
from wf.bundle.reader import Bundle
from wf.bundle.replays import Box, CheckpointLabel, ReplayReport, outcome, read_report
from wf.bundle.screens import PIXEL_TOLERANCE

# The replayer's own per-channel tolerance, so the red pixels are exactly the ones its verdict counted.
DIFF_TOLERANCE = PIXEL_TOLERANCE
MAX_PLOT_POINTS = 2000
MAX_SUMMARY_ROWS = 60


@dataclass
class CheckpointView:
    """One compared screen: the recorded frame, what replay showed, and the verdict on it."""

    kind: CheckpointLabel
    title: str  # e.g. "pre event 17", "final screen"
    step: int | None
    event: int | None
    recorded: Path | None
    replayed: Path | None
    similarity: float
    diff_fraction: float
    differing: int  # pixels
    passed: bool
    waited: float
    synced: bool | None
    bbox: Box | None  # x, y, width, height of the differing pixels


@dataclass
class EffectView:
    """One step's effect in the replay: what was expected after it, what the screen showed, what arrived."""

    step: int
    status: str  # verified | differs | unchecked
    why: str | None
    screen: str
    input: str
    input_why: str | None
    recorded: Path | None  # the recorded post-action screen
    replayed: Path | None  # the live screen kept for it
    differing: int | None
    bbox: Box | None
    waited: float | None


@dataclass
class Point:
    """One point of an error plot: x is the event number, ``step`` links it to a step."""

    x: int
    value: float
    step: int | None
    event: int | None


@dataclass
class ReportView:
    path: Path
    passed: bool
    summary: list[tuple[str, str]] = field(default_factory=list)
    checkpoints: list[CheckpointView] = field(default_factory=list)
    timing: list[Point] = field(default_factory=list)  # seconds, arrival − schedule
    pointer: list[Point] = field(default_factory=list)  # px
    warnings: list[str] = field(default_factory=list)
    timing_limit: float = 0.0  # seconds, from the verdict's thresholds
    pointer_limit: float = 0.0  # px
    failures: list[tuple[str, int | None, int | None]] = field(default_factory=list)  # (text, step, event)
    status: str = "failed"  # verified | failed | unverified (wf.bundle.replays.outcome)
    coverage: float | None = None  # % of action steps whose effect was checked
    effects: list[EffectView] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.status


def screen_file(bundle: Bundle, rel: str | None) -> Path | None:
    """A recorded screen the report names, inside the bundle (anything else is not shown)."""
    if not rel:
        return None
    try:
        return bundle.screen_path(rel)
    except BadInput:
        return None


def load_report(path: Path, bundle: Bundle) -> ReportView:
    """Read a replay report (`wf replay --report FILE` / `--json`) into what the viewer shows."""
    rep = read_report(path)
    report_dir = path.resolve().parent
    view = ReportView(path=path, passed=rep.passed, summary=summary_rows(rep),
                      timing_limit=rep.verdict.thresholds.timing_max_ms / 1000.0,
                      pointer_limit=rep.verdict.thresholds.pointer_px, status=outcome(rep),
                      coverage=rep.verdict.coverage.percent if rep.verdict.coverage else None)
    view.effects = [EffectView(step=e.step, status=e.status, why=e.why, screen=e.screen, input=e.input,
                               input_why=e.input_why, recorded=screen_file(bundle, e.recorded),
                               replayed=(report_dir / e.replayed).resolve() if e.replayed else None,
                               differing=e.differing, bbox=e.bbox, waited=e.waited)
                    for e in rep.steps if e.counted]
    view.failures = [(f"{f.check}: {f.message}", f.step, f.event) for f in rep.verdict.failures[:100]]
    named, mine = Path(rep.bundle).name, bundle.path.resolve().name
    if rep.bundle and named != mine:
        view.warnings.append(f"{path.name} was written for bundle {named!r}, not {mine!r}")
    for c in rep.checkpoints:
        where = f"step {c.step}" if c.step is not None else f"event {c.event}" if c.event is not None else "screen"
        view.checkpoints.append(CheckpointView(
            kind=c.label, title=f"{c.label} {where}", step=c.step, event=c.event,
            recorded=screen_file(bundle, c.recorded),
            replayed=(report_dir / c.replayed).resolve() if c.replayed else None,
            similarity=c.similarity, diff_fraction=c.diff_fraction, differing=c.differing, passed=c.passed,
            waited=c.waited, synced=c.synced, bbox=c.bbox))
    for r in rep.events:
        if r.timing_error is not None:
            view.timing.append(Point(r.event, r.timing_error, r.step, r.event))
        if r.pointer_error is not None:
            view.pointer.append(Point(r.event, r.pointer_error, r.step, r.event))
    view.timing = thin(view.timing)
    view.pointer = thin(view.pointer)
    return view


def thin(points: list[Point], limit: int = MAX_PLOT_POINTS) -> list[Point]:
    """At most ``limit`` points, keeping the largest error of each slice (the ones worth seeing)."""
    if len(points) <= limit:
        return points
    size = len(points) / limit
    return [max(points[int(i * size):max(int((i + 1) * size), int(i * size) + 1)], key=lambda p: abs(p.value))
            for i in range(limit)]


def summary_rows(rep: ReplayReport) -> list[tuple[str, str]]:
    """Scalar facts worth a line: top level and two levels down (e.g. ``verdict.thresholds.pointer_px``)."""
    rows: list[tuple[str, str]] = []

    def add(prefix: str, d: dict[str, object], depth: int) -> None:
        for k, v in d.items():
            if len(rows) >= MAX_SUMMARY_ROWS:
                return
            if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) < 160):
                rows.append((f"{prefix}{k}", f"{v:.4g}" if isinstance(v, float) else str(v)))
            elif isinstance(v, dict) and depth < 2:
                add(f"{prefix}{k}.", v, depth + 1)

    add("", msgspec.to_builtins(rep), 0)
    return rows


@dataclass(frozen=True)
class DiffPicture:
    png: bytes
    fraction: float  # of the pixels that changed
    width: int
    height: int


def diff_png(recorded: Path, replayed: Path, tolerance: int = DIFF_TOLERANCE) -> DiffPicture:
    """A picture of where two frames differ (changed pixels red over a dimmed recorded frame).

    Frames of different sizes are compared over their common top-left area, and everything outside it
    counts as changed; the picture has the recorded frame's size.
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
    return DiffPicture(buf.getvalue(), float(changed.mean()) if changed.size else 0.0, a.shape[1], a.shape[0])

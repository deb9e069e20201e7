"""`wf verify`: replay many bundles, each headless in a private display with its recorded launch command.

Every replay runs in a process of its own — pyautogui binds a process to one display for good — on a
pool of ``jobs`` processes here (local engine) or as one Ray task per bundle (``--engine ray``) that asks
for one CPU, so that no node runs more displays than it has cores (``wf.scale.cluster``). Each report is
kept in its bundle (``replays/``) and summed up in one :class:`VerifyRow`; a bundle that cannot be replayed
at all (unreadable, its app will not start) is a row with status ``error`` and the reason, never a crash
of the batch.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec

from wf.bundle.errors import BadInput, WfError
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import events_hash, keep_report, now_stamp
from wf.bundle.replays import Level, ReplayReport, Thresholds, outcome
from wf.scale.cluster import REPLAY_RESOURCES, check_engine, ray_session, run_tasks
from wf.scale.locations import is_url, localized, publish_file

SUMMARY_FORMAT = "wf-verify-summary"
SUMMARY_VERSION = 1
RowStatus = Literal["verified", "failed", "unverified", "error"]
ProgressFn = Callable[["VerifyRow", int, int], None]  # (the row just finished, done, total)


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What each replay is asked (picklable: it travels to the workers)."""

    level: Level = "events"
    speed: float = 1.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    save: bool = True  # keep each report in its bundle's replays/
    jobs: int = 1
    engine: str = "local"
    address: str | None = None


class VerifyRow(msgspec.Struct, kw_only=True):
    """One bundle's outcome, as the table and the JSON summary show it."""

    bundle: str  # as given
    status: RowStatus
    coverage: float | None = None  # % of action steps whose effect was checked (None: not measured)
    first_failing_step: int | None = None
    reason: str | None = None  # the first failure, or why the bundle could not be replayed
    seconds: float = 0.0  # wall time of this replay, app start included
    kept: str | None = None  # the kept report, relative to the bundle
    steps: int = 0  # action steps the verdict counts (its coverage figure is of these)


class VerifySummary(msgspec.Struct, kw_only=True):
    format: str = SUMMARY_FORMAT
    version: int = SUMMARY_VERSION
    engine: str
    nodes: int  # machines the replays ran on (1 for the local engine)
    slots: int  # replays that could run at once
    bundles: int
    verified: int
    failed: int
    unverified: int
    errors: int
    seconds: float
    rows: list[VerifyRow]


def verify_bundle(path: str, opts: VerifyOptions) -> VerifyRow:
    """Replay one bundle (in this process, which it binds to its display) and keep the report."""
    t0 = time.monotonic()
    try:
        with localized(path) as local:
            row = _replay_and_keep(path, local, opts)
    except WfError as exc:
        row = VerifyRow(bundle=path, status="error", reason=exc.message + (f" ({exc.hint})" if exc.hint else ""))
    except Exception as exc:  # one broken bundle must not sink the batch; the reason is kept
        row = VerifyRow(bundle=path, status="error", reason=f"{type(exc).__name__}: {exc}")
    row.seconds = round(time.monotonic() - t0, 3)
    return row


def _replay_and_keep(path: str, local: Path, opts: VerifyOptions) -> VerifyRow:
    # The replayer pulls in Xlib, mss and numpy: loaded in the worker that replays.
    from wf.replayer.options import ReplayOptions
    from wf.replayer.report import build_report
    from wf.replayer.session import replay

    b = Bundle.open(local)
    ropts = ReplayOptions(level=opts.level, speed=opts.speed, xvfb=True, launch=None, thresholds=opts.thresholds)
    at, replayed_events = now_stamp(), events_hash(b)
    result = replay(b, ropts)
    report = build_report(local, result, ropts, None, at=at, events_hash=replayed_events)
    kept, not_kept = None, None
    if opts.save:
        try:
            file = keep_report(b, report)  # appended to the bundle's replays/, as `wf replay` keeps it
            kept = str(file.relative_to(b.path))
            if is_url(path):
                publish_file(file, path, kept)  # the bundle's own copy, where it lives
        except WfError as exc:  # the verdict stands; only keeping it failed
            not_kept = f"report not kept: {exc.message}"
    row = _row(path, report, kept)
    if not_kept:
        row.reason = f"{row.reason}; {not_kept}" if row.reason else not_kept
    return row


def _row(path: str, report: ReplayReport, kept: str | None) -> VerifyRow:
    v = report.verdict
    status = outcome(report)
    failure = next(iter(v.failures), None)
    if failure is not None:
        reason: str | None = f"{failure.check}: {failure.message}"
    elif status == "unverified" and v.unverified:
        u = v.unverified[0]
        reason = u.why if u.step is None else f"step {u.step}: {u.why}"
    else:
        reason = None
    cov = v.coverage
    return VerifyRow(bundle=path, status=status, coverage=cov.percent if cov else None,
                     first_failing_step=v.first_failed_step, reason=reason, kept=kept,
                     steps=cov.steps if cov else 0)


def verify_all(bundles: Sequence[str], opts: VerifyOptions, progress: ProgressFn | None = None) -> VerifySummary:
    """Replay every bundle; rows in input order, whatever order the replays finish in."""
    if not bundles:
        raise BadInput("no bundles to verify", hint="pass one or more bundle directories")
    if opts.jobs < 1:
        raise BadInput(f"--jobs {opts.jobs} must be at least 1")
    engine = check_engine(opts.engine, opts.address)
    t0 = time.monotonic()
    rows: list[VerifyRow | None] = [None] * len(bundles)
    if engine == "ray":
        with ray_session(opts.address) as cluster:
            nodes, slots = cluster.nodes, int(cluster.cpus)
            _fill(rows, _ray(bundles, opts), progress)
    else:
        nodes, slots = 1, min(opts.jobs, len(bundles))
        _fill(rows, _local(bundles, opts), progress)
    done = [r for r in rows if r is not None]
    assert len(done) == len(bundles), "verify lost results"
    count = {s: sum(1 for r in done if r.status == s) for s in ("verified", "failed", "unverified", "error")}
    return VerifySummary(engine=engine, nodes=nodes, slots=slots, bundles=len(done), verified=count["verified"],
                         failed=count["failed"], unverified=count["unverified"], errors=count["error"],
                         seconds=round(time.monotonic() - t0, 3), rows=done)


def _fill(rows: list[VerifyRow | None], results: Iterator[tuple[int, VerifyRow]],
          progress: ProgressFn | None) -> None:
    for n, (i, row) in enumerate(results, start=1):
        rows[i] = row
        if progress:
            progress(row, n, len(rows))


def _local(bundles: Sequence[str], opts: VerifyOptions) -> Iterator[tuple[int, VerifyRow]]:
    # spawn, one replay per process: a fresh interpreter binds pyautogui to the replay's own display.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(opts.jobs, len(bundles)), mp_context=ctx, max_tasks_per_child=1) as pool:
        futures = {pool.submit(verify_bundle, b, opts): i for i, b in enumerate(bundles)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def _verify_task(args: tuple[str, VerifyOptions]) -> VerifyRow:
    return verify_bundle(*args)


def _ray(bundles: Sequence[str], opts: VerifyOptions) -> Iterator[tuple[int, VerifyRow]]:
    yield from run_tasks(_verify_task, [(b, opts) for b in bundles], resources=REPLAY_RESOURCES,
                         fresh_process=True)

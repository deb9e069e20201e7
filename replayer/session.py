"""One replay, start to verdict: environment → plan → timed injection with checkpoints → evaluation.

The loop walks the plan's steps and screen checkpoints in time order against an
absolute schedule ``origin + at + shift``; ``shift`` grows only when ``--sync
screen`` had to wait for the app, so lateness never accumulates otherwise.
Whatever happens (Ctrl+C, an abort, an exception), ``finally`` releases every
held key and button and restores the keyboard's autorepeat and mapping.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wf.bundle.errors import EnvironmentProblem, ExitCode, WfError
from wf.bundle.events import Event, KeyDown, KeyUp, Screen
from wf.bundle.reader import Bundle
from wf.replayer.clock import sleep_until
from wf.replayer.compare import Frame, FrameCache, FrameDiff, Grabber, RawShot, compare, save_png
from wf.replayer.environment import Target, check_scale, launch, open_target
from wf.replayer.fidelity import CheckpointResult, Row, StepTiming, Thresholds, Verdict, evaluate
from wf.replayer.plan import Check, Plan, Step, build_plan

START_LEAD = 0.25  # seconds between starting the capture and the first scheduled event
POLL = 0.03  # seconds between screen grabs while waiting for a screen


class ReplayAborted(WfError):
    """Somebody else used the pointer during a replay on a real display: stop at once."""

    exit_code = ExitCode.INTERRUPTED


@dataclass
class ReplayOptions:
    level: str = "events"  # "events" | "actions"
    speed: float = 1.0
    max_gap: float | None = None
    sync: str = "none"  # "none" | "screen"
    sync_timeout: float = 10.0
    xvfb: bool = False
    launch: str | None = None  # None: the bundle header's launch command; "": launch nothing
    scale: str = "none"
    thresholds: Thresholds = field(default_factory=Thresholds)
    first: int = 0  # raw event range (from --steps)
    last: int | None = None
    screens_dir: Path | None = None  # where replayed checkpoint frames are saved (None: not saved)
    settle: float = 1.5  # how long the final screen may take to settle without --sync screen
    launch_timeout: float = 15.0
    capture: bool = True  # capture what reaches the X server (the fidelity check of input)
    ignore: list[tuple[int, int, int, int]] = field(default_factory=list)  # dynamic screen regions (x, y, w, h)


@dataclass
class ReplayResult:
    rows: list[Row]
    checkpoints: list[CheckpointResult]
    verdict: Verdict
    target: Target
    plan: Plan
    duration: float
    launched: str | None
    scale: tuple[float, float]
    warnings: list[str]


class Checkpointer:
    """Grabs live frames at checkpoints; compares and saves them on a worker thread off the schedule.

    Without sync the injection thread only grabs (~1 ms); the conversion, comparison and PNG encoding
    happen on the worker. With ``--sync screen`` the comparison is inline, because the schedule waits on it.
    """

    def __init__(self, grabber: Grabber, frames: FrameCache, directory: Path | None, max_px: int,
                 ignore: list[tuple[int, int, int, int]] | None = None) -> None:
        self.grabber = grabber
        self.ignore = ignore or []
        self.frames = frames
        self.dir = directory
        self.max_px = max_px
        self.n = 0
        self.q: queue.Queue[tuple[CheckpointResult, Screen, RawShot | Frame] | None] = queue.Queue()
        self.errors: list[BaseException] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._work, name="wf-replay-checkpoints", daemon=True)
        self.thread.start()

    def matches(self, d: FrameDiff) -> bool:
        return d.differing <= self.max_px

    def wait_for(self, screen: Screen, timeout: float, stop: Callable[[], bool] = lambda: False
                 ) -> tuple[Frame, FrameDiff, bool, float]:
        """Grab until the live screen matches ``screen`` or ``timeout``; the best frame wins."""
        recorded = self.frames.get(screen)
        t0 = time.monotonic()
        best: tuple[Frame, FrameDiff] | None = None
        while True:
            live = self.grabber.grab_like(screen)
            d = compare(recorded, live, ignore=self.regions(screen))
            if best is None or (d.differing, -d.similarity) < (best[1].differing, -best[1].similarity):
                best = (live, d)
            if self.matches(d):
                return live, d, True, time.monotonic() - t0
            if time.monotonic() - t0 >= timeout or stop():
                return best[0], best[1], False, time.monotonic() - t0
            time.sleep(POLL)

    def regions(self, screen: Screen) -> list[tuple[int, int, int, int]]:
        """The ignored regions in the coordinates of this (possibly offset) frame."""
        return [(x - screen.x, y - screen.y, w, h) for x, y, w, h in self.ignore]

    def _name(self, label: str, event: int | None) -> Path | None:
        self.n += 1
        if self.dir is None:
            return None
        return self.dir / (f"{self.n:04d}-{label}" + (f"-event{event}" if event is not None else "") + ".png")

    def result(self, screen: Screen, event: int | None, label: str, frame: Frame, d: FrameDiff,
               synced: bool | None, waited: float, step: int | None) -> CheckpointResult:
        """A checkpoint that was compared already (its frame is saved in the background)."""
        path = self._name(label, event)
        res = CheckpointResult(event=event, label=label, recorded=screen.path, similarity=d.similarity,
                               diff_fraction=d.diff_fraction, differing=d.differing, bbox=d.bbox, synced=synced,
                               waited=waited, replayed=str(path) if path else None, step=step)
        if path is not None:
            self.q.put((res, screen, frame))
        return res

    def snapshot(self, screen: Screen, event: int | None, label: str, step: int | None) -> CheckpointResult:
        """Grab now; compare (and save) later on the worker."""
        raw = self.grabber.grab_raw_like(screen)
        path = self._name(label, event)
        res = CheckpointResult(event=event, label=label, recorded=screen.path, similarity=0.0, diff_fraction=1.0,
                               differing=-1, replayed=str(path) if path else None, step=step)
        self.q.put((res, screen, raw))
        return res

    def _work(self) -> None:
        while (item := self.q.get()) is not None:
            res, screen, shot = item
            try:
                frame = shot.frame() if isinstance(shot, RawShot) else shot
                if res.differing < 0:
                    d = compare(self.frames.get(screen), frame, ignore=self.regions(screen))
                    res.similarity, res.diff_fraction, res.differing, res.bbox = \
                        d.similarity, d.diff_fraction, d.differing, d.bbox
                if res.replayed:
                    save_png(frame, Path(res.replayed))
            except BaseException as exc:  # surfaced by finish(): a lost checkpoint must not pass silently
                self.errors.append(exc)

    def finish(self) -> None:
        if self.thread.is_alive():
            self.q.put(None)
            self.thread.join()
        if self.errors:
            raise self.errors[0]


def step_index_map(events: list[Event]) -> Callable[[int], int | None]:
    """Raw event index → action step number, when the actions module can reduce this bundle."""
    try:
        from wf.bundle.actions import reduce_events
    except ImportError:
        return lambda _i: None
    try:
        actions = reduce_events(events)
    except Exception:  # a reducer defect must not take the replay down: rows just lack step numbers
        return lambda _i: None
    starts = [(a.first_event, a.last_event, a.index) for a in actions]
    import bisect

    firsts = [s[0] for s in starts]

    def lookup(i: int) -> int | None:
        k = bisect.bisect_right(firsts, i) - 1
        if k >= 0 and starts[k][0] <= i <= starts[k][1]:
            return starts[k][2]
        return None
    return lookup


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP (a CI timeout, a closed terminal) unwind like Ctrl+C, so held input is released."""
    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old: dict[int, Any] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            old[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def replay(bundle: Bundle, opts: ReplayOptions, *, log: Callable[[str], None] = lambda _m: None) -> ReplayResult:
    """Run one replay and evaluate it. Raises WfError for environment and input problems."""
    with terminate_as_interrupt():
        return _replay(bundle, opts, log)


def _replay(bundle: Bundle, opts: ReplayOptions, log: Callable[[str], None]) -> ReplayResult:
    events = list(bundle.events())
    header = bundle.header
    recorded_size = (header.screen.width, header.screen.height)
    warnings = list(bundle.warnings)
    step_of = step_index_map(events)
    with contextlib.ExitStack() as stack:
        target = open_target(recorded_size, xvfb=opts.xvfb, stack=stack)
        scale = check_scale(recorded_size, (target.width, target.height), opts.scale)
        plan = build_plan(events, first=opts.first, last=opts.last, speed=opts.speed,
                          max_gap=opts.max_gap, scale=scale)
        if plan.skipped:
            warnings.append(f"{plan.skipped} redacted key events cannot be replayed and were skipped")
        cmd = header.launch if opts.launch is None else opts.launch
        app = launch(cmd, target.name, stack) if cmd else None
        grabber = Grabber(target.name)
        stack.callback(grabber.close)
        frames = FrameCache(bundle)
        frames.preload([c.screen for c in plan.checks])
        cp = Checkpointer(grabber, frames, opts.screens_dir, opts.thresholds.screen_diff_px, opts.ignore)
        stack.callback(cp.finish)
        checkpoints: list[CheckpointResult] = []
        if plan.first_screen is not None:
            wait = opts.launch_timeout if app else min(2.0, opts.sync_timeout)
            log(f"waiting up to {wait:g} s for the first recorded screen")
            frame, d, ok, waited = cp.wait_for(plan.first_screen, wait,
                                               stop=lambda: app is not None and not app.running())
            if app is not None and not app.running():
                raise EnvironmentProblem(f"the launched app exited at once: {cmd}",
                                         hint="check the --launch command (or the header's launch)")
            if not ok and app is not None:
                time.sleep(1.0)  # no match: give the app a short settle before input starts
            checkpoints.append(cp.result(plan.first_screen, None, "start", frame, d, None, waited, None))
        if opts.level == "actions":
            from wf.replayer.actions_level import run_actions

            timings, captured, dropped, duration, key_of = run_actions(
                bundle, events, plan, opts, target, cp, checkpoints, stack, step_of, scale, log)
            capture_ran = False
        else:
            timings, captured, dropped, duration, key_of = run_events(
                plan, opts, target, cp, checkpoints, step_of, log)
            capture_ran = opts.capture
        if plan.final_screen is not None:
            settle = opts.sync_timeout if opts.sync == "screen" else opts.settle
            frame, d, ok, waited = cp.wait_for(plan.final_screen, settle)
            checkpoints.append(cp.result(plan.final_screen, None, "final", frame, d,
                                         ok if opts.sync == "screen" else None, waited, None))
        cp.finish()
        rows, verdict = evaluate(timings, captured, [c for c in checkpoints if c.label != "start"],
                                 opts.thresholds, keycode_of=key_of, dropped=dropped, step_of=step_of,
                                 capture=capture_ran)
        return ReplayResult(rows=rows, checkpoints=checkpoints, verdict=verdict, target=target, plan=plan,
                            duration=duration, launched=cmd or None, scale=scale, warnings=warnings)


def run_events(plan: Plan, opts: ReplayOptions, target: Target, cp: Checkpointer,
               checkpoints: list[CheckpointResult], step_of: Callable[[int], int | None],
               log: Callable[[str], None]) -> tuple[list[StepTiming], list[Event], int, float, Any]:
    """The events level: every recorded input event, by its own time."""
    from wf.replayer.driver import XDriver
    from wf.replayer.keyboard import Autorepeat

    driver = XDriver(target.name)
    keys = [s.event for s in plan.steps if isinstance(s.event, KeyDown | KeyUp)]
    bound = driver.keys.prepare(keys)
    if bound:
        log(f"bound {bound} keysym(s) missing from the live keymap to spare keycodes")
        time.sleep(0.1)  # let clients process the MappingNotify before the first key
    autorepeat = Autorepeat(driver.x)
    capture = None
    timings: list[StepTiming] = []
    captured: list[Event] = []
    dropped = 0
    origin = time.monotonic()
    try:
        autorepeat.disable()
        if opts.capture:
            from wf.recorder.input import InputCapture

            capture = InputCapture(origin, display=target.name)
            capture.start()
        start = time.monotonic() - origin + START_LEAD
        log(f"replaying {len(plan.steps)} events, {len(plan.checks)} checkpoints, {plan.duration:.2f} s")
        timings = drive(plan, opts, driver, cp, checkpoints, origin, start, step_of,
                        guard=not target.private)
    finally:
        driver.release_all()
        with contextlib.suppress(Exception):
            autorepeat.restore()
        if capture is not None:
            time.sleep(0.1)  # the last events are still on their way through RECORD
            with contextlib.suppress(Exception):  # a failing stop must not hide what was captured
                capture.stop()
            captured = capture.drain()
            dropped = capture.dropped
        duration = time.monotonic() - origin
        driver.close()
    return timings, captured, dropped, duration, driver.keys.keycode


def drive(plan: Plan, opts: ReplayOptions, driver: Any, cp: Checkpointer, checkpoints: list[CheckpointResult],
          origin: float, start: float, step_of: Callable[[int], int | None], *, guard: bool) -> list[StepTiming]:
    """Inject the plan's steps on schedule, taking (or waiting for) the checkpoints in between."""
    timings: list[StepTiming] = []
    checks = list(plan.checks)
    ci = 0
    shift = 0.0
    for step in plan.steps:
        while ci < len(checks) and checks[ci].at <= step.at:
            shift = take_checkpoint(checks[ci], opts, cp, checkpoints, origin, start, shift, step_of)
            ci += 1
        due = origin + start + step.at + shift
        sleep_until(due)
        if guard:
            moved = driver.check_pointer()
            if moved is not None:
                raise ReplayAborted(f"replay aborted: the pointer was moved to {moved} by someone else",
                                    hint="keep hands off the mouse during a replay, or use --xvfb")
        driver.send(step.event)
        timings.append(StepTiming(step, due - origin, time.monotonic() - origin))
    return timings


def take_checkpoint(check: Check, opts: ReplayOptions, cp: Checkpointer, checkpoints: list[CheckpointResult],
                    origin: float, start: float, shift: float, step_of: Callable[[int], int | None]) -> float:
    """Grab the live screen for one checkpoint; with --sync screen wait for it (returns the new shift)."""
    due = origin + start + check.at + shift
    sleep_until(due)
    step = step_of(check.event) if check.event is not None else None
    if opts.sync == "screen":
        frame, d, ok, waited = cp.wait_for(check.screen, opts.sync_timeout)
        late = time.monotonic() - due
        if waited > POLL and late > 0:  # it had to wait: the rest of the schedule moves with it
            shift += late
        checkpoints.append(cp.result(check.screen, check.event, "pre", frame, d, ok, waited, step))
    else:
        checkpoints.append(cp.snapshot(check.screen, check.event, "pre", step))
    return shift


__all__ = ["ReplayAborted", "ReplayOptions", "ReplayResult", "Step", "replay"]

"""``--level events``: every recorded input event, exactly, by its own time.

Events go through the X driver (keys by keycode, the X server's autorepeat off) on an absolute schedule
``origin + START_LEAD + at + shift``, with the screen checkpoints taken in between; the recorder's input
capture watches what reaches the X server, for the verdict's sequence, pointer and timing checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from wf.bundle.events import Event, KeyDown, KeyUp
from wf.recorder.input import InputCapture
from wf.replayer.checkpoints import take_checkpoint
from wf.replayer.clock import sleep_until
from wf.replayer.driver import XDriver
from wf.replayer.fidelity import StepTiming
from wf.replayer.keyboard import Autorepeat
from wf.replayer.levels import START_LEAD, Driven, LevelRun


def run_events(run: LevelRun) -> Driven:
    plan, opts, log = run.plan, run.opts, run.log
    driver = XDriver(run.target.name)
    keys = [s.event for s in plan.steps if isinstance(s.event, KeyDown | KeyUp)]
    bound = driver.keys.prepare(keys)
    if bound:
        log(f"bound {bound} keysym(s) missing from the live keymap to spare keycodes")
        time.sleep(0.1)  # let clients process the MappingNotify before the first key
    autorepeat = Autorepeat(driver.x)
    capture: InputCapture | None = None
    timings: list[StepTiming] = []
    captured: list[Event] | None = None
    dropped = 0
    origin = time.monotonic()
    try:
        autorepeat.disable()
        if opts.capture:
            capture = InputCapture(origin, display=run.target.name)
            capture.start()
        start = time.monotonic() - origin + START_LEAD
        log(f"replaying {len(plan.steps)} events, {len(plan.checks)} checkpoints, {plan.duration:.2f} s")
        timings = drive(run, driver, origin, start)
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
    return Driven(timings=timings, duration=duration, captured=captured, dropped=dropped,
                  keycode_of=driver.keys.keycode)


def drive(run: LevelRun, driver: XDriver, origin: float, start: float) -> list[StepTiming]:
    """Inject the plan's steps on schedule, taking (or waiting for) the checkpoints in between."""
    timings: list[StepTiming] = []
    checks = list(run.plan.checks)
    ci = 0
    shift = 0.0
    for step in run.plan.steps:
        while ci < len(checks) and checks[ci].at <= step.at:
            shift = take_checkpoint(checks[ci], run.opts, run.checkpointer, run.checkpoints, origin, start, shift,
                                    run.step_of)
            ci += 1
        due = origin + start + step.at + shift
        if run.place is not None:  # --anchor window: where its window is now (looked up before its time)
            step = dataclasses.replace(step, event=run.place.event(step))
            if run.place.take_waited() and (late := time.monotonic() - due) > 0:
                shift += late  # it waited for its window to appear: the rest of the schedule moves with it
                due += late
        sleep_until(due)
        if not run.target.private:
            driver.ensure_hands_off()
        driver.send(step.event)
        timings.append(StepTiming(step, due - origin, time.monotonic() - origin))
    return timings

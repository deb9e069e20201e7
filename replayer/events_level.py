"""``--level events``: every recorded input event, exactly, by its own time.

Events go through the X driver (keys by keycode, the X server's autorepeat off) on an absolute schedule
``origin + START_LEAD + at + shift``, with the screen checkpoints taken in between and each action step's
effect watched after its last event (``wf.replayer.effects``); the recorder's input capture watches what
reaches the X server, for the verdict's sequence, pointer and timing checks and the per-step witness.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from wf.bundle.events import Event, KeyDown, KeyUp
from wf.recorder.input import InputCapture
from wf.replayer.checkpoints import POLL, take_checkpoint
from wf.replayer.clock import sleep_until
from wf.replayer.driver import XDriver
from wf.replayer.fidelity import StepTiming
from wf.replayer.keyboard import Autorepeat
from wf.replayer.levels import START_LEAD, Driven, LevelRun, stop_capture
from wf.replayer.plan import InputEvent
from wf.replayer.witness import StepSpan, as_sent


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
    spans: list[StepSpan] = []
    halted: int | None = None
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
        halted = drive(run, driver, origin, start, timings, spans)
    finally:
        driver.release_all()
        with contextlib.suppress(Exception):
            autorepeat.restore()
        if capture is not None:
            captured, dropped = stop_capture(capture)
        duration = time.monotonic() - origin
        driver.close()
    return Driven(timings=timings, duration=duration, captured=captured, dropped=dropped,
                  keycode_of=driver.keys.keycode, spans=spans, halted=halted)


def step_bounds(run: LevelRun) -> tuple[dict[int, int], dict[int, int]]:
    """Plan positions where an action step's first event goes out, and where its last one does."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for n, st in enumerate(run.plan.steps):
        k = run.step_of(st.index)
        exp = run.expected.get(k) if k is not None else None
        if k is None or exp is None or not exp.counted:
            continue  # between steps (an approach), a wait's idle moves, or outside the range
        first.setdefault(k, n)
        last[k] = n
    return {n: k for k, n in first.items()}, {n: k for k, n in last.items()}


def drive(run: LevelRun, driver: XDriver, origin: float, start: float, timings: list[StepTiming],
          spans: list[StepSpan]) -> int | None:
    """Inject the plan's steps on schedule, taking (or waiting for) the checkpoints in between and watching
    each action step's effect after it. Returns the step it halted after (--halt-on-divergence), or None."""
    opts, effects = run.opts, run.effects
    begins, ends = step_bounds(run)
    sent: dict[int, tuple[float, list[InputEvent]]] = {}  # per step: when it began, what was injected for it
    current: int | None = None
    checks = list(run.plan.checks)
    ci = 0
    shift = 0.0
    waited = False  # an effect wait ran past the next event's time: the schedule moves with it
    halted: int | None = None
    for n, step in enumerate(run.plan.steps):
        if n in begins or effects.due(step.event.t):  # the last step's recorded effect was captured by now
            t0 = time.monotonic()
            ok = effects.wait_pending()
            waited = waited or time.monotonic() - t0 > POLL
            if not ok and opts.halt_on_divergence:
                halted = effects.last_waited
                break
        while ci < len(checks) and checks[ci].at <= step.at:
            effects.idle(origin + start + checks[ci].at + shift)  # the last step's effect, till the checkpoint
            shift = take_checkpoint(checks[ci], opts, run.checkpointer, run.checkpoints, origin, start, shift,
                                    run.step_of)
            ci += 1
        due = origin + start + step.at + shift
        if run.place is not None:  # --anchor window: where its window is now (looked up before its time)
            step = dataclasses.replace(step, event=run.place.event(step))
            waited = run.place.take_waited() > 0 or waited  # it waited for its window to appear
        if waited and (late := time.monotonic() - due) > 0:
            shift += late  # a wait ran past this event's time: the rest of the schedule moves with it
            due += late
        waited = False
        effects.idle(due)
        sleep_until(due)
        if (k := begins.get(n)) is not None:
            if (halted := effects.begin(halt=opts.halt_on_divergence)) is not None:
                break
            current = k
            sent[k] = (due - origin, [])
        if not run.target.private:
            driver.ensure_hands_off()
        driver.send(step.event)
        timings.append(StepTiming(step, due - origin, time.monotonic() - origin))
        if current is not None:
            sent[current][1].append(step.event)
        if (k := ends.get(n)) is not None:
            current = None
            effects.ended(k, defer=True)  # sync: waited for when the replay reaches the screen's moment
    else:
        effects.settle_last()
    spans += [StepSpan(as_sent(run.expected[k].action, evs), at) for k, (at, evs) in sent.items()]
    return halted

"""One replay, start to verdict: environment → plan → start state → the chosen level's timed injection →
evaluation.

Before the first event: the plan gets the start's held keys and buttons (``restore.with_start_holds``),
the recorded windows are looked up (``anchoring``: pointer events follow their window), the display is put
into the recorded start state (``restore``), and the checkpoints mask the recording's volatile regions
plus ``--ignore-region``. The levels (``events_level``, ``actions_level``) walk the plan against an
absolute schedule ``origin + at + shift``; ``shift`` grows only when ``--sync screen`` had to wait for the
app, so lateness never accumulates otherwise. Whatever happens (Ctrl+C, an abort, an exception), each
level releases every held key and button and restores the keyboard's autorepeat and mapping, and a last
check over a connection of its own lets go of anything still down before the display is left.
"""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wf.bundle.actions import Action, reduce_events
from wf.bundle.errors import EnvironmentProblem
from wf.bundle.events import Event, StartState
from wf.bundle.pixels import volatile_regions
from wf.bundle.reader import Bundle
from wf.bundle.replays import Checkpoint, Desktop, EventRow, Failure, StartItem, StepEffect
from wf.replayer.actions_level import run_actions
from wf.replayer.anchoring import AlignedGrabber, Placer, WindowNotFound
from wf.replayer.checkpoints import POLL, Checkpointer
from wf.replayer.compare import FrameCache, Grabber
from wf.replayer.effects import EffectWatcher
from wf.replayer.environment import Target, check_scale, launch, open_target
from wf.replayer.events_level import run_events
from wf.replayer.evidence import assess
from wf.replayer.expectations import Expectation, expectations
from wf.replayer.fidelity import Evaluation
from wf.replayer.keyboard import KeyMapper
from wf.replayer.layout import Layouts, anchor_events, start_anchor
from wf.replayer.levels import Driven, LevelRun
from wf.replayer.livedesk import LiveDesktop
from wf.replayer.options import ReplayOptions
from wf.replayer.plan import Plan, build_plan
from wf.replayer.restore import START_INDEX, Restorer, not_recorded, with_start_holds
from wf.replayer.stopping import InputGuard, Stopper


@dataclass
class ReplayResult:
    rows: list[EventRow]
    checkpoints: list[Checkpoint]
    verdict: Evaluation
    target: Target
    plan: Plan
    duration: float
    launched: str | None
    scale: tuple[float, float]
    warnings: list[str]
    steps: list[StepEffect] = field(default_factory=list)  # per-step effects of the replayed range
    halted: int | None = None
    desktop: Desktop = field(default_factory=Desktop)


def step_index_map(events: list[Event], actions: list[Action] | None = None) -> Callable[[int], int | None]:
    """Raw event index → the number of the action step that contains it (None between steps)."""
    actions = reduce_events(events) if actions is None else actions
    firsts = [a.first_event for a in actions]

    def lookup(i: int) -> int | None:
        k = bisect.bisect_right(firsts, i) - 1
        if k >= 0 and actions[k].first_event <= i <= actions[k].last_event:
            return actions[k].index
        return None
    return lookup


def step_or_next(actions: list[Action], step_of: Callable[[int], int | None]) -> Callable[[int], int | None]:
    """Raw event index → the step that contains it or comes next (what a failure between steps is about)."""
    firsts = [a.first_event for a in actions]

    def lookup(i: int) -> int | None:
        own = step_of(i)
        if own is not None:
            return own
        k = bisect.bisect_right(firsts, i)
        return actions[k].index if k < len(actions) else None
    return lookup


def replay(bundle: Bundle, opts: ReplayOptions, *, log: Callable[[str], None] = lambda _m: None) -> ReplayResult:
    """Run one replay and evaluate it. Raises WfError for environment and input problems.

    SIGINT, SIGTERM and SIGHUP stop it within a second with nothing held (:mod:`wf.replayer.stopping`).
    """
    with Stopper() as stopper:
        return _replay(bundle, opts, log, stopper)


def _replay(bundle: Bundle, opts: ReplayOptions, log: Callable[[str], None], stopper: Stopper) -> ReplayResult:
    events = list(bundle.events())
    header = bundle.header
    start = header.start
    recorded_size = (header.screen.width, header.screen.height)
    warnings = list(bundle.warnings)
    actions = reduce_events(events)
    step_of = step_index_map(events, actions)
    step_near = step_or_next(actions, step_of)
    expected = in_range(expectations(events, actions, opts.level), opts)
    volatile = volatile_regions(events, start)
    with contextlib.ExitStack() as stack:
        target = open_target(recorded_size, xvfb=opts.xvfb, stack=stack, last_resort=stopper.on_hard_stop,
                             allow_xwayland=opts.allow_xwayland)
        if target.x_clients_only:
            warnings.append(f"replayed onto a Wayland session's XWayland ({', '.join(target.session.details())}; "
                            "--allow-xwayland): only X clients got the input, and XWayland's screenshots of "
                            "Wayland windows are black")
            log("Wayland session (--allow-xwayland): driving X clients only")
        guard = InputGuard(target.name)
        stopper.on_hard_stop(guard.release)
        stack.callback(let_go, guard, stopper)
        scale = check_scale(recorded_size, (target.width, target.height), opts.scale)
        plan = build_plan(events, first=opts.first, last=opts.last, speed=opts.speed,
                          max_gap=opts.max_gap, scale=scale)
        held: list[StartItem] = []
        if opts.level == "events":
            plan, held = with_start_holds(plan, events, start, first=opts.first, scale=scale, speed=opts.speed,
                                          max_gap=opts.max_gap)
        elif start is not None and (start.keys or start.buttons):
            held = [StartItem(item="held", status="not restorable",
                              detail="--level actions replays reduced actions, not the recorded releases")]
        if plan.skipped:
            warnings.append(f"{plan.skipped} redacted key events cannot be replayed and were skipped")
        cmd = header.launch if opts.launch is None else opts.launch
        app = launch(cmd, target.name, stack, stopper.on_hard_stop) if cmd else None
        desk = LiveDesktop(target.name)
        stack.callback(desk.close)
        layouts = Layouts(start, events)
        placer = make_placer(desk, layouts, events, start, opts, scale, step_near, recorded_size)
        frames = FrameCache(bundle)
        grabber = AlignedGrabber(target.name, placer, frames) if placer is not None else Grabber(target.name)
        stack.callback(grabber.close)
        frames.preload([*(c.screen for c in plan.checks), *(e.after for e in expected.values() if e.after)])
        cp = Checkpointer(grabber, frames, opts.screens_dir, opts.thresholds.screen_diff_px,
                          [*opts.ignore, *volatile])
        stack.callback(cp.finish)
        effects = EffectWatcher(cp, expected, sync=opts.sync == "screen", timeout=opts.sync_timeout,
                                settle=opts.settle)
        ready_by = time.monotonic() + (opts.launch_timeout if app else min(2.0, opts.sync_timeout))
        if placer is not None:  # the windows the recording began with, before anything is done in them
            placer.prepare(layouts.at(float("-inf")), max(ready_by - time.monotonic(), 0.0))
        items = restore_start(desk, start, layouts, placer, opts, target, stack, stopper, log) + held
        checkpoints: list[Checkpoint] = []
        if plan.first_screen is not None:
            wait = max(ready_by - time.monotonic(), POLL)
            log(f"waiting up to {wait:g} s for the first recorded screen")
            frame, d, ok, waited = cp.wait_for(plan.first_screen, wait,
                                               stop=lambda: app is not None and not app.running())
            if app is not None and not app.running():
                raise EnvironmentProblem(f"the launched app exited at once: {cmd}",
                                         hint="check the --launch command (or the header's launch)")
            if not ok and app is not None:
                time.sleep(1.0)  # no match: give the app a short settle before input starts
            checkpoints.append(cp.result(plan.first_screen, None, "start", frame, d, None, waited, None))
        run = LevelRun(plan=plan, opts=opts, target=target, checkpointer=cp, checkpoints=checkpoints,
                       step_of=step_of, log=log, effects=effects, expected=expected, place=placer)
        lost: WindowNotFound | None = None
        try:
            driven = run_actions(run, bundle, events, scale) if opts.level == "actions" else run_events(run)
        except WindowNotFound as exc:  # the level let go of everything; the verdict names the window
            lost, driven = exc, Driven(timings=[], duration=0.0)
        # A --steps range ends where its last step's recorded effect is checked (its effect watch); the
        # recording's last screen is the final state of the whole task only.
        final = plan.final_screen if opts.last is None else None
        if final is not None and driven.halted is None and lost is None:
            settle = opts.sync_timeout if opts.sync == "screen" else opts.settle
            frame, d, ok, waited = cp.wait_for(final, settle)
            checkpoints.append(cp.result(final, None, "final", frame, d,
                                         ok if opts.sync == "screen" else None, waited, None))
        screens = effects.finish()
        cp.finish()
        # The start checkpoint counts: a replay into the wrong app (or the wrong state) fails right there.
        rows, verdict, steps = assess(driven, checkpoints, expected, screens, opts.thresholds,
                                      sequence_check=opts.level == "events", frames=frames, cp=cp, step_of=step_of)
        if lost is not None:
            window_lost(verdict, lost)
        desktop = Desktop(start_recorded=start is not None, start=items, anchor=opts.anchor,
                          window_manager=desk.window_manager(), windows=placer.report() if placer else [],
                          volatile_regions=volatile)
        return ReplayResult(rows=rows, checkpoints=checkpoints, verdict=verdict, target=target, plan=plan,
                            duration=driven.duration, launched=cmd or None, scale=scale, warnings=warnings,
                            steps=steps, halted=driven.halted, desktop=desktop)


def in_range(exps: list[Expectation], opts: ReplayOptions) -> dict[int, Expectation]:
    """The steps ``--steps`` asked for (all when it was not given), by action index."""
    return {e.step: e for e in exps if e.action.first_event >= opts.first
            and (opts.last is None or e.action.last_event <= opts.last)}


def window_lost(verdict: Evaluation, lost: WindowNotFound) -> None:
    """A recorded window was not on the display: the replay stopped there, and that is its first failure."""
    verdict.failures.insert(0, Failure(check="window", message=lost.message, event=lost.event, step=lost.step))
    verdict.passed, verdict.status = False, "failed"
    if lost.step is not None:
        verdict.first_failed_step = lost.step


def make_placer(desk: LiveDesktop, layouts: Layouts, events: list[Event], start: StartState | None,
                opts: ReplayOptions, scale: tuple[float, float], step_of: Callable[[int], int | None],
                recorded_size: tuple[int, int]) -> Placer | None:
    """The window anchoring of this replay (None with ``--anchor screen``)."""
    if opts.anchor != "window":
        return None
    anchors = anchor_events(events, layouts, start, screen=recorded_size)
    at_start = start_anchor(layouts, start) if start is not None else None
    if at_start is not None:
        anchors[START_INDEX] = at_start
    return Placer(desk, layouts, anchors, scale=scale,
                  recorded_managed=None if start is None else start.window_manager is not None,
                  wait=opts.sync_timeout if opts.sync == "screen" else 1.0, step_of=step_of)


def restore_start(desk: LiveDesktop, start: StartState | None, layouts: Layouts, placer: Placer | None,
                  opts: ReplayOptions, target: Target, stack: contextlib.ExitStack, stopper: Stopper,
                  log: Callable[[str], None]) -> list[StartItem]:
    """Put the display into the recorded start state (what can be), item by item."""
    if start is None:
        return not_recorded()
    if opts.first > 0:
        return [StartItem(item="start", status="not restorable",
                          detail="the replay starts at a later step: the recorded start state is not its state")]
    restorer = Restorer(desk, start, layouts, placer, KeyMapper(desk.d), log=log)
    if not target.private:
        stack.callback(shielded, stopper, restorer.put_back)
    items = restorer.run()
    log("start state: " + "; ".join(f"{i.item} {i.status}" for i in items))
    return items


def let_go(guard: InputGuard, stopper: Stopper) -> None:
    """The last thing before the display goes: nothing may stay held, whatever happened (never interrupted)."""
    shielded(stopper, guard.release)


def shielded(stopper: Stopper, fn: Callable[[], object]) -> None:
    """Cleanup that must run to its end: no interrupt inside it, and its own failure stops nothing else."""
    with stopper.shield(), contextlib.suppress(Exception):
        fn()

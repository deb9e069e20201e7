"""One replay, start to verdict: environment → plan → the chosen level's timed injection → evaluation.

The levels (``events_level``, ``actions_level``) walk the plan against an absolute schedule
``origin + at + shift``; ``shift`` grows only when ``--sync screen`` had to wait for the app, so lateness
never accumulates otherwise. Whatever happens (Ctrl+C, an abort, an exception), each level releases every
held key and button and restores the keyboard's autorepeat and mapping before this returns.
"""

from __future__ import annotations

import bisect
import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType

from wf.bundle.actions import Action, reduce_events
from wf.bundle.errors import EnvironmentProblem
from wf.bundle.events import Event
from wf.bundle.reader import Bundle
from wf.bundle.replays import Checkpoint, EventRow, StepEffect
from wf.replayer.actions_level import run_actions
from wf.replayer.checkpoints import Checkpointer
from wf.replayer.compare import FrameCache, Grabber
from wf.replayer.effects import EffectWatcher
from wf.replayer.environment import Target, check_scale, launch, open_target
from wf.replayer.events_level import run_events
from wf.replayer.evidence import assess
from wf.replayer.expectations import Expectation, expectations
from wf.replayer.fidelity import Evaluation
from wf.replayer.levels import LevelRun
from wf.replayer.options import ReplayOptions
from wf.replayer.plan import Plan, build_plan


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


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP (a CI timeout, a closed terminal) unwind like Ctrl+C, so held input is released."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old: dict[signal.Signals, signal.Handlers | Callable[[int, FrameType | None], object] | int | None] = {}
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
    actions = reduce_events(events)
    step_of = step_index_map(events, actions)
    expected = in_range(expectations(events, actions, opts.level), opts)
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
        frames.preload([*(c.screen for c in plan.checks), *(e.after for e in expected.values() if e.after)])
        cp = Checkpointer(grabber, frames, opts.screens_dir, opts.thresholds.screen_diff_px, opts.ignore)
        stack.callback(cp.finish)
        effects = EffectWatcher(cp, expected, sync=opts.sync == "screen", timeout=opts.sync_timeout,
                                settle=opts.settle)
        checkpoints: list[Checkpoint] = []
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
        run = LevelRun(plan=plan, opts=opts, target=target, checkpointer=cp, checkpoints=checkpoints,
                       step_of=step_of, log=log, effects=effects, expected=expected)
        driven = run_actions(run, bundle, events, scale) if opts.level == "actions" else run_events(run)
        # A --steps range ends where its last step's recorded effect is checked (its effect watch); the
        # recording's last screen is the final state of the whole task only.
        final = plan.final_screen if opts.last is None else None
        if final is not None and driven.halted is None:
            settle = opts.sync_timeout if opts.sync == "screen" else opts.settle
            frame, d, ok, waited = cp.wait_for(final, settle)
            checkpoints.append(cp.result(final, None, "final", frame, d,
                                         ok if opts.sync == "screen" else None, waited, None))
        screens = effects.finish()
        cp.finish()
        # The start checkpoint counts: a replay into the wrong app (or the wrong state) fails right there.
        rows, verdict, steps = assess(driven, checkpoints, expected, screens, opts.thresholds,
                                      sequence_check=opts.level == "events", frames=frames, cp=cp, step_of=step_of)
        return ReplayResult(rows=rows, checkpoints=checkpoints, verdict=verdict, target=target, plan=plan,
                            duration=driven.duration, launched=cmd or None, scale=scale, warnings=warnings,
                            steps=steps, halted=driven.halted)


def in_range(exps: list[Expectation], opts: ReplayOptions) -> dict[int, Expectation]:
    """The steps ``--steps`` asked for (all when it was not given), by action index."""
    return {e.step: e for e in exps if e.action.first_event >= opts.first
            and (opts.last is None or e.action.last_event <= opts.last)}

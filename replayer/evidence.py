"""Everything one replay saw, judged: the checks of ``fidelity``, the per-step effects and the outcome.

Called by the session once the level has run: the input capture, the checkpoints (the ``start`` one
included: a replay into the wrong app fails there), the effect watch of every step and the input witness
are turned into the per-event rows, the per-step ``StepEffect`` list and one ``Evaluation``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from wf.bundle.replays import Checkpoint, EventRow, Failure, StepEffect, Thresholds
from wf.replayer.checkpoints import Checkpointer
from wf.replayer.compare import FrameCache
from wf.replayer.effects import ScreenResult
from wf.replayer.expectations import Expectation, unobservable
from wf.replayer.fidelity import Evaluation, evaluate
from wf.replayer.levels import Driven
from wf.replayer.verdict import decide, step_effects
from wf.replayer.witness import Witnessed, witness


def assess(driven: Driven, checkpoints: Sequence[Checkpoint], expected: Mapping[int, Expectation],
           screens: Mapping[int, ScreenResult], thresholds: Thresholds, *, sequence_check: bool,
           frames: FrameCache, cp: Checkpointer, step_of: Callable[[int], int | None]
           ) -> tuple[list[EventRow], Evaluation, list[StepEffect]]:
    """``sequence_check``: judge the raw input sequence, pointer and timing (the events level)."""
    rows, ev = evaluate(driven.timings, driven.captured or [], checkpoints, thresholds,
                        keycode_of=driven.keycode_of, dropped=driven.dropped, step_of=step_of,
                        capture=sequence_check and driven.captured is not None)
    failures = list(ev.failures)
    testimony: dict[int, Witnessed] = {}
    if driven.captured is not None:
        testimony, stray = witness(driven.spans, driven.captured, thresholds.pointer_px)
        if stray:
            failures.append(Failure(check="input", message="input reached the X server before the first step: "
                                                           + ", ".join(stray[:3])))
    ran = {s.action.index for s in driven.spans}
    not_run = dict(driven.skipped)
    for k, exp in expected.items():
        if exp.counted and k not in ran and k not in not_run:
            not_run[k] = (f"not replayed: the replay halted after step {driven.halted} diverged "
                          "(--halt-on-divergence)") if driven.halted is not None else "not replayed"
    invisible = {k: unobservable(exp, frames.get, cp.regions) for k, exp in expected.items()
                 if exp.counted and screens.get(k) is not None and screens[k].status == "verified"}
    ordered = [expected[k] for k in sorted(expected)]
    effects = step_effects(ordered, screens, testimony, invisible, not_run)
    outcome = decide(effects, failures, {e.step: _plain(e.action.describe(), e.action.window) for e in ordered})
    return rows, Evaluation(passed=outcome.status == "verified", failures=outcome.failures,
                            thresholds=thresholds, stats=ev.stats, status=outcome.status,
                            coverage=outcome.coverage, first_failed_step=outcome.first_failed_step,
                            unverified=outcome.unverified), effects


def _plain(text: str, window: str | None) -> str:
    return text.removesuffix(f" in {window!r}") if window else text

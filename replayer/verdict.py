"""The three outcomes of a replay (pure): verified, failed with the first failing step named, or unverified.

Per step, three pieces of evidence meet (docs/replay.md, "Per-step effects"): did the live screen reach the
recorded post-action state (``wf.replayer.effects``), does that state show anything the step did
(``wf.replayer.expectations``), did the input that reached the X server agree (``wf.replayer.witness``).

* ``failed``: any check failed — a step's effect or input differs, a checkpoint (start, pre-action, final)
  differs, the input sequence, pointer or timing is off, the capture dropped events;
* ``verified``: nothing failed and *every* action step was verified; there was at least one;
* ``unverified``: nothing failed, but the evidence does not cover every step (each listed with why).

Waits and marks are not action steps: they carry no input, so they are listed but not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wf.bundle.replays import Coverage, Failure, StepEffect, UncheckedStep, VerdictStatus
from wf.replayer.effects import ScreenResult
from wf.replayer.expectations import Expectation
from wf.replayer.witness import Witnessed

NOT_LOOKED = ScreenResult("unchecked", "the screen was not looked at after it")
NO_CAPTURE = Witnessed("unchecked", "no input capture ran")


@dataclass(frozen=True)
class Outcome:
    status: VerdictStatus
    coverage: Coverage
    failures: list[Failure]
    first_failed_step: int | None
    unverified: list[UncheckedStep]


def step_effects(expected: Sequence[Expectation], screens: Mapping[int, ScreenResult],
                 testimony: Mapping[int, Witnessed], invisible: Mapping[int, str | None],
                 not_run: Mapping[int, str]) -> list[StepEffect]:
    """One ``StepEffect`` per expected step. ``invisible``: why a step's recorded effect cannot be seen;
    ``not_run``: steps of the range that were not replayed, and why."""
    out: list[StepEffect] = []
    for exp in expected:
        a, k = exp.action, exp.step
        base = {"step": k, "kind": a.kind, "first_event": a.first_event, "last_event": a.last_event,
                "counted": exp.counted}
        if k in not_run:
            out.append(StepEffect(**base, status="unchecked", why=not_run[k]))  # type: ignore[arg-type]
            continue
        sc = screens.get(k, NOT_LOOKED if exp.counted else ScreenResult("unchecked", exp.missing()))
        wi = testimony.get(k, NO_CAPTURE)
        hidden = invisible.get(k)
        if sc.status == "differs":
            status, why = "differs", sc.why
        elif wi.status == "differs":
            status, why = "differs", f"input: {wi.why}"
        elif not exp.counted:
            status, why = "unchecked", exp.missing()
        elif sc.status == "verified" and hidden is None and wi.status == "agrees":
            status, why = "verified", None
        else:
            why = sc.why if sc.status == "unchecked" else hidden if hidden is not None else f"input: {wi.why}"
            status = "unchecked"
        out.append(StepEffect(
            **base, status=status, why=why,  # type: ignore[arg-type]
            screen=sc.status, screen_why=sc.why if sc.status != "verified" else hidden,
            recorded=sc.recorded, replayed=sc.replayed, differing=sc.differing, bbox=sc.bbox,
            similarity=sc.similarity, waited=sc.waited, input=wi.status, input_why=wi.why))
    return out


def decide(effects: Sequence[StepEffect], failures: Sequence[Failure], descriptions: Mapping[int, str]
           ) -> Outcome:
    """The outcome from the other checks' ``failures`` and the per-step ``effects``."""
    all_failures = list(failures)
    for e in effects:
        if e.status == "differs":
            check = "input" if e.screen != "differs" else "effect"
            all_failures.append(Failure(check=check, message=f"step {e.step} ({descriptions.get(e.step, e.kind)})"
                                        f": {e.why}", step=e.step))
    counted = [e for e in effects if e.counted]
    checked = sum(1 for e in counted if e.status != "unchecked")
    verified = sum(1 for e in counted if e.status == "verified")
    coverage = Coverage(steps=len(counted), checked=checked, verified=verified,
                        percent=round(100.0 * checked / len(counted), 2) if counted else 0.0)
    unverified = [UncheckedStep(step=e.step, why=e.why or "not verified") for e in counted
                  if e.status == "unchecked"]
    steps = [f.step for f in all_failures if f.step is not None]
    first = min(steps) if steps else None
    if all_failures:
        status: VerdictStatus = "failed"
    elif not counted:
        status = "unverified"
        unverified = [UncheckedStep(step=None, why="nothing to check: the replay had no action steps")]
    elif verified == len(counted):
        status = "verified"
    else:
        status = "unverified"
    return Outcome(status, coverage, all_failures, first, unverified)

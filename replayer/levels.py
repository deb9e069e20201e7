"""What the two replay levels share: the inputs of one run and what it hands to the verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wf.bundle.events import Event, KeyDown, KeyUp
from wf.bundle.replays import Checkpoint
from wf.replayer.anchoring import Placer
from wf.replayer.checkpoints import Checkpointer
from wf.replayer.environment import Target
from wf.replayer.fidelity import StepTiming
from wf.replayer.options import ReplayOptions
from wf.replayer.plan import Plan

START_LEAD = 0.25  # seconds between starting the clock (and the capture) and the first scheduled event


@dataclass(frozen=True)
class LevelRun:
    """The plan, where to inject it, the checkpoints to take on the way (appended to ``checkpoints``)."""

    plan: Plan
    opts: ReplayOptions
    target: Target
    checkpointer: Checkpointer
    checkpoints: list[Checkpoint]
    step_of: Callable[[int], int | None]
    log: Callable[[str], None]
    place: Placer | None = None  # --anchor window: moves each pointer event to its window's live place


@dataclass
class Driven:
    """What one level's run produced for the verdict."""

    timings: list[StepTiming]
    duration: float
    captured: list[Event] | None = None  # what reached the X server; None when no input capture ran
    dropped: int = 0  # events the capture could not keep up with
    keycode_of: Callable[[KeyDown | KeyUp], int | None] | None = None  # the keycode each key was injected as

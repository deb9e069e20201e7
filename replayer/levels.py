"""What the two replay levels share: the inputs of one run and what it hands to the verdict."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wf.bundle.events import Event, KeyDown, KeyUp
from wf.bundle.replays import Checkpoint
from wf.recorder.input import InputCapture
from wf.replayer.anchoring import Placer
from wf.replayer.checkpoints import Checkpointer
from wf.replayer.effects import EffectWatcher
from wf.replayer.environment import Target
from wf.replayer.expectations import Expectation
from wf.replayer.fidelity import StepTiming
from wf.replayer.options import ReplayOptions
from wf.replayer.plan import Plan
from wf.replayer.witness import StepSpan

START_LEAD = 0.25  # seconds between starting the clock (and the capture) and the first scheduled event


def stop_capture(capture: InputCapture) -> tuple[list[Event], int]:
    """What the capture saw, and how many events it dropped (after the last ones have arrived)."""
    time.sleep(0.1)  # the last events are still on their way through RECORD
    with contextlib.suppress(Exception):  # a failing stop must not hide what was captured
        capture.stop()
    return capture.drain(), capture.dropped


@dataclass(frozen=True)
class LevelRun:
    """The plan, where to inject it, the checkpoints to take on the way (appended to ``checkpoints``), and
    the steps whose effects to watch (``expected``, by action index: the steps of the replayed range)."""

    plan: Plan
    opts: ReplayOptions
    target: Target
    checkpointer: Checkpointer
    checkpoints: list[Checkpoint]
    step_of: Callable[[int], int | None]
    log: Callable[[str], None]
    effects: EffectWatcher
    expected: dict[int, Expectation] = field(default_factory=dict)
    place: Placer | None = None  # --anchor window: moves each pointer event to its window's live place


@dataclass
class Driven:
    """What one level's run produced for the verdict."""

    timings: list[StepTiming]
    duration: float
    captured: list[Event] | None = None  # what reached the X server; None when no input capture ran
    dropped: int = 0  # events the capture could not keep up with
    keycode_of: Callable[[KeyDown | KeyUp], int | None] | None = None  # the keycode each key was injected as
    spans: list[StepSpan] = field(default_factory=list)  # the action steps that ran, and when
    halted: int | None = None  # --halt-on-divergence stopped the replay after this step
    skipped: dict[int, str] = field(default_factory=dict)  # steps of the range not replayed, and why

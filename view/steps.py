"""The viewer's per-step and timeline data, gathered from a bundle in two streaming passes.

Steps come from ``wf.bundle.actions`` — the shared reduction — so the viewer shows exactly the
steps that `wf inspect --actions`, replay and export see, numbered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wf.bundle.actions import Action
from wf.bundle.annotation_log import load_annotations
from wf.bundle.events import KeyDown, Mark, MouseDown, MouseMove, MouseUp, Pause, Resume, Screen, Scroll, Stop
from wf.bundle.reader import Bundle

TIMELINE_BINS = 240
MAX_PATH_POINTS = 200
_INPUT = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown)


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    """A stored screenshot as the viewer needs it: its file and where it sits on the virtual screen."""

    path: str
    width: int
    height: int
    x: int = 0
    y: int = 0


@dataclass
class StreamFacts:
    """Everything the viewer takes from the raw stream (one pass)."""

    duration: float = 0.0
    events: int = 0
    screens: dict[str, ScreenInfo] = field(default_factory=dict)
    input_times: list[float] = field(default_factory=list)
    pauses: list[tuple[float, float | None]] = field(default_factory=list)
    marks: list[tuple[float, str | None]] = field(default_factory=list)
    stopped: str | None = None


def scan_stream(bundle: Bundle) -> StreamFacts:
    facts = StreamFacts()
    times = facts.input_times
    for ev in bundle.events():
        facts.events += 1
        facts.duration = ev.t
        if isinstance(ev, _INPUT):
            times.append(ev.t)
        elif isinstance(ev, Screen):
            if ev.path not in facts.screens:
                facts.screens[ev.path] = ScreenInfo(ev.path, ev.width, ev.height, ev.x, ev.y)
        elif isinstance(ev, Pause):
            facts.pauses.append((ev.t, None))
        elif isinstance(ev, Resume):
            if facts.pauses and facts.pauses[-1][1] is None:
                facts.pauses[-1] = (facts.pauses[-1][0], ev.t)
        elif isinstance(ev, Mark):
            facts.marks.append((ev.t, ev.label))
        elif isinstance(ev, Stop):
            facts.stopped = ev.reason
    return facts


def timeline(facts: StreamFacts, bins: int = TIMELINE_BINS) -> dict[str, Any]:
    """Input-event density in ``bins`` equal slices of the recording, plus pauses and marks."""
    duration = max(facts.duration, 1e-6)
    counts, _ = np.histogram(np.asarray(facts.input_times, dtype=np.float64), bins=bins, range=(0.0, duration))
    return {
        "duration": facts.duration,
        "bins": counts.astype(int).tolist(),
        "pauses": [[a, duration if b is None else b] for a, b in facts.pauses],
        "marks": [{"t": t, "label": label} for t, label in facts.marks],
    }


def load_step_annotations(bundle: Bundle) -> tuple[dict[str, Any], dict[int, dict[str, Any]], list[str]]:
    """(episode-level annotation, per-step annotations by action index, warnings)."""
    ann = load_annotations(bundle)
    episode = {"task": ann.task, "outcome": ann.outcome, "tags": list(ann.tags), "quality": ann.quality}
    steps = {idx: {"note": sa.note, "thought": sa.thought, "label": sa.label, "dropped": sa.dropped}
             for idx, sa in ann.steps.items()}
    return episode, steps, list(ann.warnings)


def step_json(a: Action) -> dict[str, Any]:
    """One action as the page's JSON (short keys: a long recording has thousands of these)."""
    path = [[p[1], p[2]] for p in a.path]
    if len(path) > MAX_PATH_POINTS:  # thin long drags; the overlay only needs the shape
        stride = len(path) / MAX_PATH_POINTS
        path = [path[int(i * stride)] for i in range(MAX_PATH_POINTS)] + [path[-1]]
    return {
        "i": a.index, "kind": a.kind, "desc": a.describe(), "code": a.to_pyautogui(),
        "t0": a.t_start, "t1": a.t_end, "ev": [a.first_event, a.last_event], "seg": a.segment,
        "x": a.x, "y": a.y, "ex": a.end_x, "ey": a.end_y, "button": a.button, "count": a.count,
        "mods": list(a.modifiers), "path": path, "dx": a.dx, "dy": a.dy, "text": a.text, "keys": list(a.keys),
        "duration": a.duration, "pre": a.pre_screen, "post": a.post_screen,
        "window": a.window, "wclass": a.window_class,
    }

"""The viewer's per-step and timeline data, gathered from a bundle in two streaming passes.

Steps come from ``wf.bundle.actions`` (the shared reduction, so the viewer shows exactly the steps
that `wf inspect --actions`, replay and export see). While that module is not installed, a crude
fallback reduction keeps the viewer usable and the page says so.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wf.bundle.events import (
    KeyDown,
    Mark,
    MouseDown,
    MouseMove,
    MouseUp,
    Pause,
    Resume,
    Screen,
    Scroll,
    Stop,
    Window,
)
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
        kind = type(ev)
        if kind in _INPUT:
            times.append(ev.t)
        elif kind is Screen:
            if ev.path not in facts.screens:  # type: ignore[union-attr]
                facts.screens[ev.path] = ScreenInfo(ev.path, ev.width, ev.height, ev.x, ev.y)  # type: ignore[union-attr]
        elif kind is Pause:
            facts.pauses.append((ev.t, None))
        elif kind is Resume:
            if facts.pauses and facts.pauses[-1][1] is None:
                facts.pauses[-1] = (facts.pauses[-1][0], ev.t)
        elif kind is Mark:
            facts.marks.append((ev.t, ev.label))  # type: ignore[union-attr]
        elif kind is Stop:
            facts.stopped = ev.reason  # type: ignore[union-attr]
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


def load_steps(bundle: Bundle) -> tuple[list[Any], bool]:
    """The bundle's actions, and whether they came from the fallback reduction."""
    try:
        actions = importlib.import_module("wf.bundle.actions")
    except ModuleNotFoundError as exc:
        if exc.name != "wf.bundle.actions":
            raise
        return fallback_steps(bundle), True
    return list(actions.load_actions(bundle)), False


def load_step_annotations(bundle: Bundle) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]], list[str]]:
    """(episode-level annotation, per-step annotations, warnings); empty while the module is missing."""
    try:
        mod = importlib.import_module("wf.bundle.annotations")
    except ModuleNotFoundError as exc:
        if exc.name != "wf.bundle.annotations":
            raise
        warns = []
        if bundle.annotations_path.exists():
            warns.append("annotations.jsonl present but this wf cannot read annotations yet")
        return None, {}, warns
    ann = mod.load_annotations(bundle)
    episode = {
        "task": getattr(ann, "task", None),
        "outcome": getattr(ann, "outcome", None),
        "tags": list(getattr(ann, "tags", ()) or ()),
        "quality": getattr(ann, "quality", None),
    }
    steps = {}
    for idx, sa in (getattr(ann, "steps", None) or {}).items():
        steps[int(idx)] = {
            "note": getattr(sa, "note", None),
            "thought": getattr(sa, "thought", None),
            "label": getattr(sa, "label", None),
            "dropped": bool(getattr(sa, "dropped", False)),
        }
    return episode, steps, list(getattr(ann, "warnings", ()) or ())


def step_json(action: Any) -> dict[str, Any]:
    """One action as the page's JSON; read attribute by attribute so older/newer Actions both work."""
    g = lambda name, default=None: getattr(action, name, default)  # noqa: E731
    path = [[int(p[1]), int(p[2])] for p in (g("path") or ())]
    if len(path) > MAX_PATH_POINTS:  # thin long drags; the overlay only needs the shape
        step = len(path) / MAX_PATH_POINTS
        path = [path[int(i * step)] for i in range(MAX_PATH_POINTS)] + [path[-1]]
    describe = g("describe")
    return {
        "i": int(g("index", 0)),
        "kind": str(g("kind", "?")),
        "desc": describe() if callable(describe) else str(g("kind", "")),
        "t0": float(g("t_start", 0.0)),
        "t1": float(g("t_end", 0.0)),
        "ev": [g("first_event"), g("last_event")],
        "x": g("x"), "y": g("y"), "ex": g("end_x"), "ey": g("end_y"),
        "button": g("button"),
        "count": int(g("count", 1) or 1),
        "mods": list(g("modifiers", ()) or ()),
        "path": path,
        "dx": int(g("dx", 0) or 0), "dy": int(g("dy", 0) or 0),
        "text": g("text"),
        "keys": list(g("keys", ()) or ()),
        "duration": float(g("duration", 0.0) or 0.0),
        "pre": g("pre_screen"),
        "post": g("post_screen"),
        "window": g("window"),
        "wclass": g("window_class"),
    }


@dataclass(frozen=True, slots=True)
class FallbackStep:
    """The subset of ``Action`` the fallback reduction fills in."""

    index: int
    kind: str
    t_start: float
    t_end: float
    first_event: int
    last_event: int
    x: int | None = None
    y: int | None = None
    end_x: int | None = None
    end_y: int | None = None
    button: str | None = None
    dx: int = 0
    dy: int = 0
    text: str | None = None
    keys: tuple[str, ...] = ()
    pre_screen: str | None = None
    post_screen: str | None = None
    window: str | None = None
    window_class: str | None = None

    def describe(self) -> str:
        if self.kind == "type":
            return f"type {self.text!r}"
        if self.kind == "key":
            return "key " + "+".join(self.keys)
        if self.kind == "mark":
            return f"mark {self.text or ''}".strip()
        return f"{self.kind} {self.button or ''} at ({self.x}, {self.y})".replace("  ", " ")


def fallback_steps(bundle: Bundle) -> list[FallbackStep]:
    """A crude reduction (press→release = click or drag, key runs = type/key, scrolls, marks).

    Only used until ``wf.bundle.actions`` is installed; it is not the documented reduction.
    """
    raw: list[dict[str, Any]] = []
    last_screen: str | None = None
    win: tuple[str | None, str | None] = (None, None)
    down: dict[str, Any] | None = None
    for i, ev in enumerate(bundle.events()):
        kind = type(ev)
        if kind is Screen:
            last_screen = ev.path  # type: ignore[union-attr]
            for r in reversed(raw):
                if r["post_screen"] is not None:
                    break
                r["post_screen"] = last_screen
            continue
        if kind is Window:
            win = (ev.title, ev.wm_class)  # type: ignore[union-attr]
            continue
        base = {"t_start": ev.t, "t_end": ev.t, "first_event": i, "last_event": i, "pre_screen": last_screen,
                "post_screen": None, "window": win[0], "window_class": win[1]}
        if kind is MouseDown:
            down = base | {"kind": "click", "x": ev.x, "y": ev.y, "button": ev.button}  # type: ignore[union-attr]
        elif kind is MouseUp and down is not None:
            moved = abs(ev.x - down["x"]) + abs(ev.y - down["y"]) > 5  # type: ignore[union-attr]
            down |= {"t_end": ev.t, "last_event": i}
            if moved:
                down |= {"kind": "drag", "end_x": ev.x, "end_y": ev.y}  # type: ignore[union-attr]
            raw.append(down)
            down = None
        elif kind is Scroll:
            raw.append(base | {"kind": "scroll", "x": ev.x, "y": ev.y, "dx": ev.dx, "dy": ev.dy})  # type: ignore[union-attr]
        elif kind is KeyDown:
            prev = raw[-1] if raw else None
            if ev.char and len(ev.char) == 1 and ev.char.isprintable():  # type: ignore[union-attr]
                if prev and prev["kind"] == "type" and prev["post_screen"] is None:
                    prev |= {"text": prev["text"] + ev.char, "t_end": ev.t, "last_event": i}  # type: ignore[union-attr]
                else:
                    raw.append(base | {"kind": "type", "text": ev.char})  # type: ignore[union-attr]
            else:
                raw.append(base | {"kind": "key", "keys": (ev.key,)})  # type: ignore[union-attr]
        elif kind is Mark:
            raw.append(base | {"kind": "mark", "text": ev.label})  # type: ignore[union-attr]
    return [FallbackStep(index=n, **r) for n, r in enumerate(raw)]

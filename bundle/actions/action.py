"""One reduced action (``Action``) and its renderings: a one-line description, JSON, pyautogui code.

The renderings live with the type so that the whole-program renderer (:mod:`wf.bundle.actions.program`)
builds on them without an import cycle. Coordinates: :mod:`wf.bundle.actions.coords`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wf.bundle.actions.coords import COORDS, to_coord, unknown_coords
from wf.bundle.errors import BadInput

PYAUTOGUI_BUTTONS = frozenset({"left", "middle", "right"})
PATH_TOLERANCE = 1.0  # px: a rendered drag path stays this close to the recorded one


@dataclass(frozen=True, slots=True)
class Action:
    """One agent-level step reduced from a run of raw events (fields: docs/actions.md)."""

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
    count: int = 1
    modifiers: tuple[str, ...] = ()
    path: tuple[tuple[float, int, int], ...] = ()
    dx: int = 0
    dy: int = 0
    text: str | None = None
    keys: tuple[str, ...] = ()
    duration: float = 0.0
    pre_screen: str | None = None
    post_screen: str | None = None
    window: str | None = None
    window_class: str | None = None
    segment: int = 0  # recording segment (0, then +1 after each pause); actions never span two
    monitor: int | None = None  # index into the header's screen.monitors (monitors.py); None: not known

    def describe(self) -> str:
        """One human-readable line, e.g. ``click left ×2 at (412, 88) in 'xterm'``."""
        return describe(self)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with every field (tuples become lists)."""
        return action_json(self)

    def to_pyautogui(self, *, coords: str = "pixels", size: tuple[int, int] | None = None) -> str:
        """pyautogui code for this step (one or more lines).

        ``coords``: ``pixels`` (default), ``unit`` (0–1 floats) or ``k1000`` (0–1000 integers); the last
        two need ``size`` = the recorded screen (width, height) and are not directly executable by
        pyautogui — ``to_pyautogui_program`` wraps them so that they are.
        """
        return "\n".join(render(self, formatter(coords, size, wrap=False)))


# -- description -------------------------------------------------------------------------------
def _at(x: int | None, y: int | None) -> str:
    return f"({x}, {y})"


def _scroll_words(dx: int, dy: int) -> str:
    parts = []
    if dy:
        parts.append(f"{'up' if dy > 0 else 'down'} {abs(dy)}")
    if dx:
        parts.append(f"{'right' if dx > 0 else 'left'} {abs(dx)}")
    return ", ".join(parts) or "0"


def describe(a: Action) -> str:
    """One human-readable line, e.g. ``click left ×2 at (412, 88) in 'xterm'``."""
    mods = f" with {'+'.join(a.modifiers)}" if a.modifiers else ""
    extra = f" pressing {'+'.join(a.keys)}" if a.keys and a.kind in ("click", "drag") else ""
    if a.kind == "move":
        s = f"move to {_at(a.x, a.y)}, rest {a.duration:.2f} s"
    elif a.kind == "click":
        times = f" ×{a.count}" if a.count > 1 else ""
        s = f"click {a.button}{times}{mods} at {_at(a.x, a.y)}{extra}"
    elif a.kind == "drag":
        s = (f"drag {a.button}{mods} from {_at(a.x, a.y)} to {_at(a.end_x, a.end_y)}"
             f" ({len(a.path)} points){extra}")
    elif a.kind == "scroll":
        s = f"scroll {_scroll_words(a.dx, a.dy)}{mods} at {_at(a.x, a.y)}"
    elif a.kind == "type":
        s = f"type {a.text!r}"
    elif a.kind in ("key", "hotkey"):
        times = f" ×{a.count}" if a.count > 1 else ""
        s = f"{a.kind} {'+'.join(a.keys)}{times}"
    elif a.kind == "wait":
        s = f"wait {a.duration:.2f} s"
    elif a.kind == "mark":
        s = f"mark {a.text!r}" if a.text else "mark"
    else:
        s = a.kind
    if a.window and a.kind not in ("wait", "mark"):
        s += f" in {a.window!r}"
    return s


def action_json(a: Action) -> dict[str, object]:
    """Every field of ``a``, JSON-ready (tuples become lists)."""
    return {
        "index": a.index, "kind": a.kind, "t_start": a.t_start, "t_end": a.t_end,
        "first_event": a.first_event, "last_event": a.last_event, "x": a.x, "y": a.y,
        "end_x": a.end_x, "end_y": a.end_y, "button": a.button, "count": a.count,
        "modifiers": list(a.modifiers), "path": [list(p) for p in a.path], "dx": a.dx, "dy": a.dy,
        "text": a.text, "keys": list(a.keys), "duration": a.duration, "pre_screen": a.pre_screen,
        "post_screen": a.post_screen, "window": a.window, "window_class": a.window_class,
        "segment": a.segment, "monitor": a.monitor,
    }


# -- pyautogui ---------------------------------------------------------------------------------
def simplify_path(points: Sequence[tuple[int, int]], tolerance: float = PATH_TOLERANCE) -> list[tuple[int, int]]:
    """Ramer–Douglas–Peucker: drop points within ``tolerance`` px of the polyline (ends always kept)."""
    pts = [p for n, p in enumerate(points) if n == 0 or p != points[n - 1]]
    if len(pts) <= 2:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        lo, hi = stack.pop()
        (ax, ay), (bx, by) = pts[lo], pts[hi]
        length = math.hypot(bx - ax, by - ay)
        best, best_d = -1, tolerance
        for k in range(lo + 1, hi):
            px, py = pts[k]
            d = (abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length if length
                 else math.hypot(px - ax, py - ay))
            if d > best_d:
                best, best_d = k, d
        if best >= 0:
            keep[best] = True
            stack += [(lo, best), (best, hi)]
    return [p for p, k in zip(pts, keep, strict=True) if k]


# A point's coordinates as code. Positions are optional in ``Action``; every pointer action has one.
Fmt = Callable[[int | None, int | None], str]


def formatter(coords: str, size: tuple[int, int] | None, wrap: bool) -> Fmt:
    """How a point is written: ``412, 88`` / ``0.321875, 0.11`` / ``X(0.321875), Y(0.11)``."""
    if coords not in COORDS:
        raise unknown_coords(coords)
    if coords == "pixels":
        return lambda x, y: f"{x}, {y}"
    if size is None:
        raise BadInput(f"coordinates {coords!r} need the screen size", hint="pass size=(width, height)")
    w, h = size

    def fmt(x: int | None, y: int | None) -> str:
        if x is None or y is None:
            raise BadInput(f"an action without a position cannot be written in {coords!r} coordinates")
        cx, cy = to_coord(x, w, coords), to_coord(y, h, coords)
        return f"X({cx}), Y({cy})" if wrap else f"{cx}, {cy}"

    return fmt


def _mods_around(a: Action, body: list[str]) -> list[str]:
    down = [f"pyautogui.keyDown({m!r})" for m in a.modifiers]
    up = [f"pyautogui.keyUp({m!r})" for m in reversed(a.modifiers)]
    return [*down, *body, *up]


def _button(a: Action) -> str | None:
    return a.button if a.button in PYAUTOGUI_BUTTONS else None


def _press_body(a: Action, fmt: Fmt) -> list[str]:
    """mouseDown, path, keys/scrolls done while held, mouseUp: for drags and clicks with extras."""
    b = a.button
    lines = [f"pyautogui.mouseDown({fmt(a.x, a.y)}, button={b!r})"]
    if a.kind == "drag":
        pts = simplify_path([(x, y) for _t, x, y in a.path])[1:-1]
        if pts:
            inner = ", ".join(f"({fmt(x, y)})" for x, y in pts)
            lines.append(f"for _x, _y in ({inner},): pyautogui.moveTo(_x, _y, _pause=False)")
    lines += [f"pyautogui.press({k!r})" for k in a.keys]
    lines += _scroll_lines(a, fmt)
    ex, ey = (a.end_x, a.end_y) if a.kind == "drag" else (a.x, a.y)
    lines.append(f"pyautogui.mouseUp({fmt(ex, ey)}, button={b!r})")
    return lines


def _scroll_lines(a: Action, fmt: Fmt) -> list[str]:
    lines = []
    where = fmt(a.x, a.y).split(", ", 1)
    if a.dy:
        lines.append(f"pyautogui.scroll({a.dy}, x={where[0]}, y={where[1]})")
    if a.dx:
        lines.append(f"pyautogui.hscroll({a.dx}, x={where[0]}, y={where[1]})")
    return lines


def sleep_line(seconds: float) -> str:
    return f"time.sleep({round(seconds, 3)})"


def render(a: Action, fmt: Fmt) -> list[str]:
    """The statements of one action."""
    if a.kind in ("click", "drag") and _button(a) is None:
        return [f"# wf: pyautogui cannot press the {a.button!r} mouse button ({a.kind} skipped)"]
    if a.kind == "move":
        return [f"pyautogui.moveTo({fmt(a.x, a.y)})", sleep_line(a.duration)]
    if a.kind == "click":
        if a.keys or a.dx or a.dy:
            return _mods_around(a, _press_body(a, fmt))
        clicks = f", clicks={a.count}" if a.count > 1 else ""
        return _mods_around(a, [f"pyautogui.click({fmt(a.x, a.y)}{clicks}, button={a.button!r})"])
    if a.kind == "drag":
        return _mods_around(a, _press_body(a, fmt))
    if a.kind == "scroll":
        return _mods_around(a, _scroll_lines(a, fmt))
    if a.kind == "type":
        return [f"pyautogui.write({a.text or ''!r})"]
    if a.kind == "key":
        presses = f", presses={a.count}" if a.count > 1 else ""
        return [f"pyautogui.press({a.keys[-1]!r}{presses})"]
    if a.kind == "hotkey":
        call = f"pyautogui.hotkey({', '.join(repr(k) for k in a.keys)})"
        return [call if a.count == 1 else f"for _ in range({a.count}): {call}"]
    if a.kind == "wait":
        return [sleep_line(a.duration)]
    if a.kind == "mark":
        return [f"# mark {a.text!r}" if a.text else "# mark"]
    return [f"# wf: unknown action kind {a.kind!r}"]


"""Renderings of actions: one-line descriptions, JSON, pyautogui code and whole replay programs.

Coordinate systems (docs/actions.md, "Coordinates"): ``pixels`` as recorded; ``unit`` = x / width rounded
to 6 decimals (0 ≤ u < 1); ``k1000`` = round-half-up(1000 · x / width). Back to pixels:
round-half-up(u · width) and round-half-up(k · width / 1000). ``unit`` round-trips exactly for screens
narrower than 10⁶ px; ``k1000`` is exact up to 1000 px and otherwise within width / 2000 px.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from wf.bundle.actions.model import Action
from wf.bundle.errors import BadInput
from wf.bundle.events import Header

COORDS: tuple[str, ...] = ("pixels", "unit", "k1000")
PYAUTOGUI_BUTTONS = frozenset({"left", "middle", "right"})
PATH_TOLERANCE = 1.0  # px: a rendered drag path stays this close to the recorded one


def _half_up(v: float) -> int:
    return math.floor(v + 0.5)


def to_coord(v: int, extent: int, coords: str) -> int | float:
    """A pixel coordinate in ``coords`` given the screen extent (width for x, height for y)."""
    if coords == "pixels":
        return v
    if extent <= 0:
        raise BadInput(f"screen extent must be positive, got {extent}")
    if coords == "unit":
        return round(v / extent, 6)
    if coords == "k1000":
        return _half_up(v * 1000 / extent)
    raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")


def from_coord(v: float, extent: int, coords: str) -> int:
    """The inverse of ``to_coord`` (exact for ``unit``; within extent/2000 px for ``k1000``)."""
    if coords == "pixels":
        return int(v)
    if coords == "unit":
        return _half_up(v * extent)
    if coords == "k1000":
        return _half_up(v * extent / 1000)
    raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")


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


Fmt = Callable[[int, int], str]


def _formatter(coords: str, size: tuple[int, int] | None, wrap: bool) -> Fmt:
    """How a point is written: ``412, 88`` / ``0.321875, 0.11`` / ``X(0.321875), Y(0.11)``."""
    if coords not in COORDS:
        raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")
    if coords == "pixels":
        return lambda x, y: f"{x}, {y}"
    if size is None:
        raise BadInput(f"coordinates {coords!r} need the screen size", hint="pass size=(width, height)")
    w, h = size

    def fmt(x: int, y: int) -> str:
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
    lines = [f"pyautogui.mouseDown({fmt(a.x, a.y)}, button={b!r})"]  # type: ignore[arg-type]
    if a.kind == "drag":
        pts = simplify_path([(x, y) for _t, x, y in a.path])[1:-1]
        if pts:
            inner = ", ".join(f"({fmt(x, y)})" for x, y in pts)
            lines.append(f"for _x, _y in ({inner},): pyautogui.moveTo(_x, _y, _pause=False)")
    lines += [f"pyautogui.press({k!r})" for k in a.keys]
    lines += _scroll_lines(a, fmt)
    ex, ey = (a.end_x, a.end_y) if a.kind == "drag" else (a.x, a.y)
    lines.append(f"pyautogui.mouseUp({fmt(ex, ey)}, button={b!r})")  # type: ignore[arg-type]
    return lines


def _scroll_lines(a: Action, fmt: Fmt) -> list[str]:
    lines = []
    where = fmt(a.x, a.y).split(", ", 1)  # type: ignore[arg-type]
    if a.dy:
        lines.append(f"pyautogui.scroll({a.dy}, x={where[0]}, y={where[1]})")
    if a.dx:
        lines.append(f"pyautogui.hscroll({a.dx}, x={where[0]}, y={where[1]})")
    return lines


def _sleep(seconds: float) -> str:
    return f"time.sleep({round(seconds, 3)})"


def render(a: Action, fmt: Fmt) -> list[str]:
    """The statements of one action."""
    if a.kind in ("click", "drag") and _button(a) is None:
        return [f"# wf: pyautogui cannot press the {a.button!r} mouse button ({a.kind} skipped)"]
    if a.kind == "move":
        return [f"pyautogui.moveTo({fmt(a.x, a.y)})", _sleep(a.duration)]  # type: ignore[arg-type]
    if a.kind == "click":
        if a.keys or a.dx or a.dy:
            return _mods_around(a, _press_body(a, fmt))
        clicks = f", clicks={a.count}" if a.count > 1 else ""
        return _mods_around(a, [f"pyautogui.click({fmt(a.x, a.y)}{clicks}, button={a.button!r})"])  # type: ignore[arg-type]
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
        return [_sleep(a.duration)]
    if a.kind == "mark":
        return [f"# mark {a.text!r}" if a.text else "# mark"]
    return [f"# wf: unknown action kind {a.kind!r}"]


def action_pyautogui(a: Action, *, coords: str = "pixels", size: tuple[int, int] | None = None) -> str:
    return "\n".join(render(a, _formatter(coords, size, wrap=False)))


def program(actions: Sequence[Action], header: Header, *, coords: str = "pixels", timing: bool = True,
            pause: float = 0.05) -> str:
    """A standalone Python script replaying ``actions`` with pyautogui.

    ``timing``: sleep the recorded gap between consecutive actions of a segment (waits and hover dwells
    are actions and always sleep). ``pause``: pyautogui.PAUSE, the settle time after every call.
    """
    w, h = header.screen.width, header.screen.height
    fmt = _formatter(coords, (w, h), wrap=True)
    task = (header.task or "").replace('"""', "'''").replace("\\", "\\\\")
    lines = [
        "#!/usr/bin/env python3",
        '"""Replay of a wf recording, generated by `wf inspect --pyautogui`.',
        "",
        f"Task: {task or '(none)'}",
        f"Recorded {header.started} on a {w}x{h} screen; {len(actions)} steps; coordinates: {coords}.",
        "Move the pointer into a screen corner to abort (pyautogui's fail-safe).",
        '"""',
        "import sys",
        "import time",
        "",
        "import pyautogui",
        "",
        f"pyautogui.PAUSE = {pause}",
        f"REC_W, REC_H = {w}, {h}",
        "W, H = pyautogui.size()",
    ]
    if coords == "pixels":
        lines.append("if (W, H) != (REC_W, REC_H):")
        lines.append("    print(f'warning: screen is {W}x{H}, recorded {REC_W}x{REC_H}', file=sys.stderr)")
    elif coords == "unit":
        lines += ["", "def X(u): return int(u * W + 0.5)", "def Y(v): return int(v * H + 0.5)"]
    else:
        lines += ["", "def X(k): return int(k * W / 1000 + 0.5)", "def Y(k): return int(k * H / 1000 + 0.5)"]
    lines.append("")
    prev: Action | None = None
    for a in actions:
        if timing and prev is not None and prev.segment == a.segment:
            gap = a.t_start - prev.t_end
            if gap >= 0.01:
                lines.append(_sleep(gap))
        lines.append(f"# {a.index}: {describe(a)}".replace("\n", " "))
        lines += render(a, fmt)
        prev = a
    lines.append("")
    return "\n".join(lines)

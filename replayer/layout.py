"""Where the recorded windows were, and which live window is the same one (pure: no display).

Window-anchored replay needs, for every pointer event, the recorded top-level window it was in and that
window's geometry at that moment. The bundle gives both: ``start.windows`` (every mapped top-level when
input capture began, bottom to top) and the ``window`` events (the focused window whenever it changed,
was renamed, moved or resized). :class:`Layouts` replays those into the stacking at any instant; a window
named by a ``window`` event goes to the top, because it has the focus and a focused window is on top under
every stacking window manager, and is the window under the pointer without one (focus follows the
pointer). :func:`anchor_events` then gives each pointer event its :class:`Anchor`.

The identity of a window across two runs (:func:`match`), and why:

- its **X id** (and pid) only survive within one X session: a fresh app on a fresh display gets new ones.
  Equal ids (and class) are the strongest proof there is — replaying on the desktop it was recorded on,
  with the app still open — so they win outright; otherwise they are ignored;
- its **WM_CLASS** (``instance.Class``) is set by the program, not by the window manager, and is the same
  on every run, machine and position: when recorded, it must be equal;
- its **title** often carries a changing part (a file name, a counter, the shell's working directory), so
  it is matched as a pattern: equal is best, then equal once digit runs are masked, then similar
  (``difflib`` ratio ≥ 0.75). A class shared by several recorded windows (a Tk app's main window and its
  dialog) needs at least the pattern, so the dialog never binds to the main window;
- its **size** (window managers place windows, they rarely resize them) breaks ties; after that, the
  window nearest to the recorded position.

Each live window stands for one recorded window at most.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import msgspec

from wf.bundle.events import (
    Event,
    MouseDown,
    MouseMove,
    MouseUp,
    Scroll,
    StartState,
    Window,
    WindowState,
)

Box = tuple[int, int, int, int]  # x, y, width, height
HOLD_AT_START = -1  # the hold index of a button already down when recording began
SIMILAR_TITLE = 0.75


@dataclass(frozen=True, slots=True)
class RecordedWindow:
    """A top-level window as the bundle knows it at one moment (geometry: its frame, in recorded pixels)."""

    key: int  # identity within the bundle: the recorded X id, else a negative number given here
    title: str
    wm_class: str | None
    id: int | None
    x: int
    y: int
    width: int
    height: int

    @property
    def rect(self) -> Box:
        return self.x, self.y, self.width, self.height

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height

    def name(self) -> str:
        cls = f" ({self.wm_class})" if self.wm_class else ""
        return f"window {self.title!r}{cls}"


@dataclass(frozen=True, slots=True)
class LiveWindow:
    """A mapped top-level window of the live display: its frame (what a window manager adds) and client."""

    id: int  # the client window (the one with WM_STATE, the one a window manager activates)
    frame: int  # the root's child that holds it (the client itself without a window manager)
    title: str
    wm_class: str | None
    pid: int | None
    x: int  # frame geometry, root coordinates
    y: int
    width: int
    height: int
    client_x: int  # the client's origin and size, root coordinates
    client_y: int
    client_width: int
    client_height: int

    @property
    def rect(self) -> Box:
        return self.x, self.y, self.width, self.height


@dataclass(frozen=True, slots=True)
class Anchor:
    """The recorded windows under one pointer event, top first: the event happened in the first one."""

    windows: tuple[RecordedWindow, ...]
    focused: bool  # windows[0] had the focus then (so it had not been closed: there is no falling back)
    hold: int | None  # raw index of the press that began the button hold the event is part of (None: no hold)


class Layouts:
    """The recorded stacking of top-level windows over time, from ``start.windows`` and ``window`` events."""

    def __init__(self, start: StartState | None, events: Iterable[Event]) -> None:
        self._synthetic: dict[tuple[str | None, str], int] = {}
        self._is_screen: Callable[[RecordedWindow], bool] = lambda _w: False
        stack = [self.recorded(w) for w in start.windows] if start is not None else []
        self._times: list[float] = [float("-inf")]
        self._stacks: list[tuple[RecordedWindow, ...]] = [tuple(stack)]
        self._focus: list[int | None] = [self.recorded(start.focus).key if start and start.focus else None]
        for ev in events:
            if type(ev) is Window:
                w = self.recorded(ev)
                stack = [s for s in stack if s.key != w.key] + [w]
                self._times.append(ev.t)
                self._stacks.append(tuple(stack))
                self._focus.append(w.key)

    def recorded(self, w: WindowState | Window) -> RecordedWindow:
        """The bundle's window as a :class:`RecordedWindow` (windows without an id keyed by class and title)."""
        key = w.id if w.id is not None else self._synthetic.setdefault((w.wm_class, w.title),
                                                                        -1 - len(self._synthetic))
        return RecordedWindow(key=key, title=w.title, wm_class=w.wm_class, id=w.id, x=w.x, y=w.y,
                              width=w.width, height=w.height)

    def _k(self, t: float) -> int:
        return bisect.bisect_right(self._times, t) - 1

    def at(self, t: float) -> tuple[RecordedWindow, ...]:
        """The windows at bundle time ``t``, bottom to top."""
        return self._stacks[self._k(t)]

    def focused_at(self, t: float) -> int | None:
        """The key of the window that had the focus at ``t`` (None: not known, or the bare root)."""
        return self._focus[self._k(t)]

    def under(self, t: float, x: int, y: int) -> tuple[RecordedWindow, ...]:
        """The windows containing (x, y) at ``t``, top first (down to the first one that is the screen)."""
        out = []
        for w in reversed(self.at(t)):
            if w.width > 0 and w.height > 0 and w.contains(x, y):
                if self._is_screen(w):
                    break
                out.append(w)
        return tuple(out)

    def ignore(self, is_screen: Callable[[RecordedWindow], bool]) -> None:
        """Windows for which ``is_screen`` holds are the screen itself: no event is anchored to them (nor to
        anything below them)."""
        self._is_screen = is_screen

    def all(self) -> list[RecordedWindow]:
        """Every recorded window once (its latest geometry)."""
        seen: dict[int, RecordedWindow] = {}
        for stack in self._stacks:
            for w in stack:
                seen[w.key] = w
        return list(seen.values())


PointerEvent = MouseMove | MouseDown | MouseUp | Scroll


def anchor_events(events: Sequence[Event], layouts: Layouts, start: StartState | None,
                  screen: tuple[int, int] | None = None) -> dict[int, Anchor]:
    """Each pointer event's anchor, by raw event index; events over no recorded window have none.

    While a button is held (a drag, a held click) every event keeps the anchor of the press that began
    the hold and, at replay, that press's offset: a drag is one gesture in one frame of reference, and a
    window dragged by its title bar must not carry its own drag away with it. A window covering the whole
    ``screen`` (a desktop window, a full-screen app) cannot be elsewhere: events over it stay on the screen.
    """
    if screen is not None:
        layouts.ignore(lambda w: w.x <= 0 and w.y <= 0 and w.x + w.width >= screen[0]
                       and w.y + w.height >= screen[1])
    out: dict[int, Anchor] = {}
    held: set[str] = set(start.buttons) if start is not None else set()
    hold: int | None = HOLD_AT_START if held else None
    for i, ev in enumerate(events):
        if not isinstance(ev, MouseMove | MouseDown | MouseUp | Scroll):
            continue
        if isinstance(ev, MouseDown) and not held:
            hold = i
        windows = layouts.under(ev.t, ev.x, ev.y)
        if windows:
            out[i] = Anchor(windows, layouts.focused_at(ev.t) == windows[0].key, hold)
        elif hold is not None:
            out[i] = Anchor((), False, hold)  # outside every window, but part of a hold that began in one
        if isinstance(ev, MouseDown):
            held.add(ev.button)
        elif isinstance(ev, MouseUp):
            held.discard(ev.button)
            if not held:
                hold = None
    return out


def start_anchor(layouts: Layouts, start: StartState) -> Anchor | None:
    """The anchor of the recorded start pointer (the warp before the first event)."""
    if start.pointer is None:
        return None
    windows = layouts.under(float("-inf"), *start.pointer)
    if not windows:
        return None
    return Anchor(windows, layouts.focused_at(float("-inf")) == windows[0].key,
                  HOLD_AT_START if start.buttons else None)


# -- identity ----------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def title_level(recorded: str, live: str) -> int:
    """3 equal, 2 equal with digit runs masked, 1 similar, 0 different."""
    if recorded == live:
        return 3
    a, b = _DIGITS.sub("#", " ".join(recorded.split())), _DIGITS.sub("#", " ".join(live.split()))
    if a == b:
        return 2
    return 1 if difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() >= SIMILAR_TITLE else 0


MATCH_NAMES = {4: "id", 3: "class+title", 2: "class+title pattern", 1: "class+similar title", 0: "class"}


def match(rec: RecordedWindow, live: Sequence[LiveWindow], *, taken: Iterable[int] = (),
          class_shared: bool = False) -> tuple[LiveWindow, str] | None:
    """The live window that is ``rec`` (see the module docstring), and how it was identified."""
    busy = set(taken)
    best: tuple[tuple[int, int, int], LiveWindow, str] | None = None
    for w in live:
        if w.id in busy:
            continue
        if rec.wm_class is not None and w.wm_class != rec.wm_class:
            continue
        if rec.id is not None and rec.id == w.id:
            return w, MATCH_NAMES[4]
        level = title_level(rec.title, w.title)
        if level == 0 and (class_shared or rec.wm_class is None):
            continue
        if rec.wm_class is None and level < 2:
            continue  # without a class only a title can say it is the same window
        same_size = int((w.width, w.height) == (rec.width, rec.height)
                        or (w.client_width, w.client_height) == (rec.width, rec.height))
        distance = abs(w.x - rec.x) + abs(w.y - rec.y)
        score = (level, same_size, -distance)
        if best is None or score > best[0]:
            how = MATCH_NAMES[level] if rec.wm_class is not None else "title"
            best = (score, w, how)
    return (best[1], best[2]) if best is not None else None


# -- geometry ----------------------------------------------------------------------------------------------

def anchor_offset(rec: RecordedWindow, live: LiveWindow, *, scale: tuple[float, float] = (1.0, 1.0),
                  recorded_managed: bool | None = None, live_managed: bool = False) -> tuple[int, int]:
    """How far the live window's content is from where it was recorded (live − recorded, replay pixels).

    Pointer events target the client, so when only one side had a window manager the client's origin is
    what is compared: recorded without one, the recorded frame *is* the client; recorded with one and
    replayed without, the recorded decorations are estimated from the size difference (equal side
    borders, the rest on top — a title bar), which is how window managers decorate.
    """
    sx, sy = scale
    rx, ry = round(rec.x * sx), round(rec.y * sy)
    if recorded_managed is None or recorded_managed == live_managed:
        return live.x - rx, live.y - ry
    if live_managed:  # recorded bare, replayed managed
        return live.client_x - rx, live.client_y - ry
    border = max((round(rec.width * sx) - live.client_width) // 2, 0)
    top = max(round(rec.height * sy) - live.client_height - border, 0)
    return live.client_x - (rx + border), live.client_y - (ry + top)


def shifted(e: PointerEvent, dx: int, dy: int) -> PointerEvent:
    """The same event ``(dx, dy)`` pixels away."""
    return msgspec.structs.replace(e, x=e.x + dx, y=e.y + dy)

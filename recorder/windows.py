"""The focused top-level window: title, WM class, pid and geometry, with or without a window manager.

With a EWMH window manager the answer is ``_NET_ACTIVE_WINDOW``. A bare X server (Xvfb in CI) has no
window manager: keyboard focus is ``PointerRoot`` (focus follows the pointer), so the window that gets the
keys is the top-level window under the pointer; an explicit ``XSetInputFocus`` (``xdotool windowfocus``)
is honoured by walking from the focus window up to the top-level child of the root.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from wf.recorder.exclusion import ExclusionRules


@dataclass(frozen=True, slots=True)
class WindowInfo:
    id: int
    title: str
    wm_class: str | None
    pid: int | None
    x: int
    y: int
    width: int
    height: int

    def same_focus(self, other: WindowInfo | None) -> bool:
        """Same window with the same title (the two changes that make a `window` event)."""
        return other is not None and other.id == self.id and other.title == self.title


class WindowProbe:
    """Reads the focused window over its own X connection (python-xlib); one thread may use it."""

    def __init__(self, display: str | None = None) -> None:
        import Xlib.display

        self.d = Xlib.display.Display(display)
        self.root = self.d.screen().root
        atom = self.d.intern_atom
        self.NET_ACTIVE_WINDOW = atom("_NET_ACTIVE_WINDOW")
        self.NET_WM_NAME = atom("_NET_WM_NAME")
        self.NET_WM_PID = atom("_NET_WM_PID")
        self.UTF8_STRING = atom("UTF8_STRING")
        self.WM_STATE = atom("WM_STATE")

    def close(self) -> None:
        self.d.close()

    def focused(self) -> WindowInfo | None:
        """The focused top-level window, or None (pointer over the bare root, or a window vanished)."""
        import Xlib.error

        try:
            top = self._focused_toplevel()
            if top is None:
                return None
            return self._describe(self._client_of(top), top)
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
            return None  # windows come and go between two requests: the next poll sees the new state

    def _focused_toplevel(self) -> Any | None:
        import Xlib.error
        import Xlib.X

        active = self.root.get_full_property(self.NET_ACTIVE_WINDOW, Xlib.X.AnyPropertyType)
        if active is not None and len(active.value) and active.value[0]:
            try:
                return self._toplevel_of(self.d.create_resource_object("window", int(active.value[0])))
            except Xlib.error.BadWindow:
                pass  # a window manager that exited leaves a stale property: fall back to the X focus
        focus = self.d.get_input_focus().focus
        if isinstance(focus, int) or focus.id == self.root.id:  # PointerRoot / None: follows the pointer
            child = self.root.query_pointer().child
            return None if isinstance(child, int) or not child.id else child
        return self._toplevel_of(focus)

    def _toplevel_of(self, win: Any) -> Any | None:
        for _ in range(64):  # depth bound against a broken tree
            tree = win.query_tree()
            parent = tree.parent
            if isinstance(parent, int) or not parent.id:
                return None
            if parent.id == self.root.id:
                return win
            win = parent
        return win

    def _client_of(self, top: Any) -> Any:
        """A reparenting WM wraps the client in a frame: the client is the descendant with WM_STATE."""
        if top.get_full_property(self.WM_STATE, 0) is not None:
            return top
        stack = list(top.query_tree().children)
        for _ in range(256):
            if not stack:
                break
            w = stack.pop(0)
            if w.get_full_property(self.WM_STATE, 0) is not None:
                return w
            stack.extend(w.query_tree().children)
        return top

    def _describe(self, client: Any, top: Any) -> WindowInfo:
        title = None
        prop = client.get_full_property(self.NET_WM_NAME, self.UTF8_STRING)
        if prop is not None and prop.value:
            title = _text(prop.value)
        if title is None:
            name = client.get_wm_name()
            title = _text(name) if name else ""
        cls = client.get_wm_class()
        wm_class = ".".join(cls) if cls else None
        pid_prop = client.get_full_property(self.NET_WM_PID, 0)
        pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
        geo = top.get_geometry()
        pos = top.translate_coords(self.root, 0, 0)
        return WindowInfo(id=client.id, title=title, wm_class=wm_class, pid=pid,
                          x=-pos.x, y=-pos.y, width=geo.width, height=geo.height)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@dataclass(frozen=True, slots=True)
class FocusChange:
    t: float
    window: WindowInfo | None
    excluded: bool


class WindowTracker:
    """Polls the focused window in its own thread; keeps the history of changes for time lookups."""

    def __init__(self, clock_origin: float, rules: ExclusionRules, *, interval: float = 0.1,
                 display: str | None = None) -> None:
        self.origin = clock_origin
        self.rules = rules
        self.interval = interval
        self.display = display
        self.last_poll = -1.0  # recording time of the latest finished poll
        self.polls = 0
        self._changes: list[FocusChange] = []
        self._times: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._probe: WindowProbe | None = None

    def start(self) -> None:
        self._probe = WindowProbe(self.display)
        self.poll()
        self._thread = threading.Thread(target=self._run, name="wf-windows", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        assert self._probe is not None
        info = self._probe.focused()
        t = time.monotonic() - self.origin
        with self._lock:
            last = self._changes[-1].window if self._changes else None
            changed = not self._changes or (info is None) != (last is None) or (
                info is not None and not info.same_focus(last))
            if changed:
                excluded = info is not None and self.rules.matches(info.title, info.wm_class)
                self._changes.append(FocusChange(t, info, excluded))
                self._times.append(t)
            self.last_poll = t
            self.polls += 1

    def changes_between(self, after: float, upto: float) -> list[FocusChange]:
        """Focus changes seen in (after, upto]."""
        with self._lock:
            lo = bisect_right(self._times, after)
            hi = bisect_right(self._times, upto)
            return self._changes[lo:hi]

    def at(self, t: float) -> FocusChange | None:
        """The focus state polled last at or before ``t`` (the first one if ``t`` precedes every poll)."""
        with self._lock:
            i = bisect_right(self._times, t)
            if i == 0:
                return self._changes[0] if self._changes else None
            return self._changes[i - 1]

    def excluded_around(self, t: float) -> bool:
        """Conservative: excluded if the window focused before ``t`` or the one seen right after is."""
        with self._lock:
            i = bisect_right(self._times, t)
            before = self._changes[i - 1] if i else (self._changes[0] if self._changes else None)
            after = self._changes[i] if i < len(self._changes) else None
        if before is not None and before.excluded:
            return True
        return after is not None and after.excluded and after.t - t <= 2 * self.interval

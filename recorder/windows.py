"""The focused top-level window: title, WM class, pid and geometry, with or without a window manager.

With a EWMH window manager the answer is ``_NET_ACTIVE_WINDOW``. A bare X server (Xvfb in CI) has no
window manager: keyboard focus is ``PointerRoot`` (focus follows the pointer), so the window that gets the
keys is the top-level window under the pointer; an explicit ``XSetInputFocus`` (``xdotool windowfocus``)
is honoured by walking from the focus window up to the top-level child of the root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import Xlib.display
import Xlib.error
import Xlib.X
from Xlib.xobject.drawable import Window as XWindow

from wf.recorder.exclusion import ExclusionRules
from wf.recorder.focus import FocusChange, FocusHistory, WindowInfo

__all__ = ["FocusChange", "FocusHistory", "WindowInfo", "WindowProbe", "WindowTracker"]


_UNKNOWN = -1  # the cached _NET_ACTIVE_WINDOW must be read again
CACHE_MAX = 512  # windows remembered; past that the caches start afresh (memory stays bounded)


class WindowProbe:
    """Reads the focused window over its own X connection (python-xlib); one thread may use it.

    With ``watch`` it listens to the server instead of asking again: the root's SubstructureNotify (a
    top-level mapped, moved, resized, restacked, reparented or destroyed) and PropertyNotify (the active
    window changed), and PropertyNotify on each client it described (its title changed). What it read stays
    cached until such an event says it changed, so a poll of an unchanged desktop costs two round trips
    (the X input focus and, without a window manager, the pointer) instead of a dozen.
    """

    def __init__(self, display: str | None = None, *, watch: bool = False) -> None:
        self.d = Xlib.display.Display(display)
        self.root: XWindow = self.d.screen().root
        self.watch = watch
        self._active = _UNKNOWN
        self._tops: dict[int, XWindow | None] = {}  # window id -> its top-level
        self._clients: dict[int, XWindow] = {}  # top-level id -> the client inside (WM_STATE)
        self._props: dict[int, tuple[str, str | None, int | None]] = {}  # client id -> title, class, pid
        self._geo: dict[int, tuple[int, int, int, int]] = {}  # top-level id -> x, y, width, height
        self._last: WindowInfo | None = None
        self._answered = False
        if watch:
            self.root.change_attributes(event_mask=Xlib.X.SubstructureNotifyMask | Xlib.X.PropertyChangeMask
                                        | Xlib.X.FocusChangeMask)
        atom = self.d.intern_atom
        self.NET_ACTIVE_WINDOW = atom("_NET_ACTIVE_WINDOW")
        self.NET_WM_NAME = atom("_NET_WM_NAME")
        self.NET_WM_PID = atom("_NET_WM_PID")
        self.UTF8_STRING = atom("UTF8_STRING")
        self.WM_STATE = atom("WM_STATE")
        self.NET_SUPPORTING_WM_CHECK = atom("_NET_SUPPORTING_WM_CHECK")

    def close(self) -> None:
        self.d.close()

    def _drain(self) -> bool:
        """Forget what the events since the last call say has changed; whether there were any."""
        if not self.watch:
            self._active = _UNKNOWN
            self._tops.clear()
            self._clients.clear()
            self._props.clear()
            self._geo.clear()
            return True
        seen = False
        while self.d.pending_events():
            ev = self.d.next_event()
            seen = True
            if ev.type in (Xlib.X.FocusIn, Xlib.X.FocusOut):
                continue  # the focus went to or came from the root: ask again, nothing cached is stale
            if ev.type == Xlib.X.PropertyNotify:
                if ev.window.id == self.root.id:
                    self._active = _UNKNOWN
                else:
                    self._props.pop(ev.window.id, None)
            else:  # the window tree or a top-level's geometry changed
                self._tops.clear()
                self._clients.clear()
                self._geo.clear()
        if len(self._props) > CACHE_MAX:
            self._props.clear()
        return seen

    def focused(self, *, input_seen: bool = True) -> WindowInfo | None:
        """The focused top-level window, or None (pointer over the bare root, or a window vanished).

        Watching, with ``input_seen`` False (no input event since the last call) and no event from the server
        either, nothing that decides the focus can have changed — the pointer did not move, no window moved,
        mapped or changed its title, no window manager changed the active window, focus did not go to or
        come from the root — so the last answer stands, without a round trip. (A client moving the focus
        between two windows by itself, with no input, is seen at the next input event.)
        """
        try:
            if self._drain() or input_seen or not self._answered:
                top = self._focused_toplevel()
                self._last = None if top is None else self._describe(self._client_of(top), top)
                self._answered = True
            return self._last
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
            self._answered = False
            return None  # windows come and go between two requests: the next poll sees the new state

    def stacking(self) -> list[WindowInfo]:
        """Every mapped top-level window, bottom to top (the order of the root's children)."""
        self._drain()
        out = []
        for top in self.root.query_tree().children:
            try:
                if top.get_attributes().map_state != Xlib.X.IsViewable:
                    continue
                out.append(self._describe(self._client_of(top), top))
            except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
                continue  # it went away between the two requests
        return out

    def window_manager(self) -> str | None:
        """The EWMH window manager's name (_NET_SUPPORTING_WM_CHECK), or None when none is running."""
        prop = self.root.get_full_property(self.NET_SUPPORTING_WM_CHECK, Xlib.X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        try:
            check = self.d.create_resource_object("window", int(prop.value[0]))
            own = check.get_full_property(self.NET_SUPPORTING_WM_CHECK, Xlib.X.AnyPropertyType)
            if own is None or not len(own.value) or int(own.value[0]) != check.id:
                return None  # a stale property left by a manager that exited
            name = check.get_full_property(self.NET_WM_NAME, self.UTF8_STRING)
        except (Xlib.error.XError, Xlib.error.ConnectionClosedError):
            return None
        return _text(name.value) if name is not None and name.value else ""

    def _focused_toplevel(self) -> XWindow | None:
        if self._active == _UNKNOWN:
            prop = self.root.get_full_property(self.NET_ACTIVE_WINDOW, Xlib.X.AnyPropertyType)
            self._active = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        if self._active:
            try:
                return self._toplevel_of(self.d.create_resource_object("window", self._active))
            except Xlib.error.BadWindow:
                pass  # a window manager that exited leaves a stale property: fall back to the X focus
        focus = self.d.get_input_focus().focus
        if isinstance(focus, int) or focus.id == self.root.id:  # PointerRoot / None: follows the pointer
            child = self.root.query_pointer().child
            return None if isinstance(child, int) or not child.id else child
        return self._toplevel_of(focus)

    def _toplevel_of(self, win: XWindow) -> XWindow | None:
        if win.id in self._tops:
            return self._tops[win.id]
        top = self._walk_up(win)
        self._tops[win.id] = top
        return top

    def _walk_up(self, win: XWindow) -> XWindow | None:
        for _ in range(64):  # depth bound against a broken tree
            tree = win.query_tree()
            parent = tree.parent
            if isinstance(parent, int) or not parent.id:
                return None
            if parent.id == self.root.id:
                return win
            win = parent
        return win

    def _client_of(self, top: XWindow) -> XWindow:
        """A reparenting WM wraps the client in a frame: the client is the descendant with WM_STATE."""
        client = self._clients.get(top.id)
        if client is None:
            client = self._clients[top.id] = self._find_client(top)
        return client

    def _find_client(self, top: XWindow) -> XWindow:
        if top.get_full_property(self.WM_STATE, 0) is not None:
            return top
        stack: list[XWindow] = list(top.query_tree().children)
        for _ in range(256):
            if not stack:
                break
            w = stack.pop(0)
            if w.get_full_property(self.WM_STATE, 0) is not None:
                return w
            stack.extend(w.query_tree().children)
        return top

    def _describe(self, client: XWindow, top: XWindow) -> WindowInfo:
        props = self._props.get(client.id)
        if props is None:
            if self.watch:  # hear about title changes from now on (before reading it: no change is missed)
                client.change_attributes(event_mask=Xlib.X.PropertyChangeMask)
            props = self._props[client.id] = self._read_props(client)
        geo = self._geo.get(top.id)
        if geo is None:
            g = top.get_geometry()
            pos = top.translate_coords(self.root.id, 0, 0)
            geo = self._geo[top.id] = (-pos.x, -pos.y, g.width, g.height)
        title, wm_class, pid = props
        return WindowInfo(id=client.id, title=title, wm_class=wm_class, pid=pid, x=geo[0], y=geo[1],
                          width=geo[2], height=geo[3])

    def _read_props(self, client: XWindow) -> tuple[str, str | None, int | None]:
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
        return title, wm_class, pid


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class WindowTracker(FocusHistory):
    """Polls the focused window in its own thread; keeps the history of changes for time lookups."""

    def __init__(self, clock_origin: float, rules: ExclusionRules, *, interval: float = 0.1,
                 display: str | None = None, mask_rules: ExclusionRules | None = None,
                 activity: Callable[[], int] | None = None) -> None:
        super().__init__(rules, interval=interval, mask_rules=mask_rules)
        # A counter that moves with every input event (the listener's): unchanged, a poll can trust the cache.
        self.activity = activity
        self._seen_activity = -1
        self.origin = clock_origin
        self.display = display
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._probe: WindowProbe | None = None

    def start(self) -> None:
        self._probe = WindowProbe(self.display, watch=True)
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
        assert self._probe is not None, "start() opens the probe"
        act = self.activity() if self.activity is not None else -2
        info = self._probe.focused(input_seen=act != self._seen_activity or act == -2)
        self._seen_activity = act
        self.observe(time.monotonic() - self.origin, info)

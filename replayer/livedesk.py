"""The live desktop a replay runs on, read and set over one X connection of its own (python-xlib + XTest).

What the start-state restore and window anchoring need: the mapped top-level windows (frame and client
geometry, title, class), the window manager, the pointer, the keys and lock states, and the few requests
that change them (an XTest motion, key taps and releases, focusing and raising a window). The window
reading is the recorder's (:class:`wf.recorder.windows.WindowProbe`), so a window is described the same
way on both sides; this adds the frame id and the client's own geometry.
"""

from __future__ import annotations

import time

import Xlib.error
from Xlib import XK, X
from Xlib.ext.xtest import fake_input
from Xlib.protocol import event as xevent
from Xlib.xobject.drawable import Window as XWindow

from wf.recorder.windows import WindowProbe
from wf.replayer.layout import LiveWindow
from wf.replayer.stopping import held_keycodes

X_ERRORS = (Xlib.error.XError, Xlib.error.ConnectionClosedError)
LOCK_KEYSYMS = {"caps": XK.XK_Caps_Lock, "num": XK.XK_Num_Lock, "scroll": XK.XK_Scroll_Lock}
SCROLL_LOCK_LED = 1 << 2  # LED 3 is "Scroll Lock" in the XKB indicator maps
NET_ACTIVE_SOURCE_PAGER = 2  # EWMH: a request from a pager/taskbar, which window managers honour at once


class LiveDesktop(WindowProbe):
    """One display's windows, pointer and keyboard; one thread at a time."""

    def __init__(self, display: str) -> None:
        super().__init__(display)
        self.NET_SUPPORTING_WM_CHECK = self.d.intern_atom("_NET_SUPPORTING_WM_CHECK")

    # -- windows -----------------------------------------------------------------------------------

    def windows(self) -> list[LiveWindow]:
        """Every mapped top-level window, bottom to top (windows that vanish meanwhile are left out)."""
        out: list[LiveWindow] = []
        try:
            children = self.root.query_tree().children
        except X_ERRORS:
            return out
        for top in children:
            try:
                if top.get_attributes().map_state != X.IsViewable:
                    continue
                out.append(self._live(self._client_of(top), top))
            except X_ERRORS:
                continue
        return out

    def refresh(self, w: LiveWindow) -> LiveWindow | None:
        """``w`` with its current geometry; None when it is gone."""
        try:
            frame = self.d.create_resource_object("window", w.frame)
            client = self.d.create_resource_object("window", w.id)
            if frame.get_attributes().map_state != X.IsViewable:
                return None
            fx, fy, fw, fh = self._geometry(frame)
            cx, cy, cw, ch = self._geometry(client)
        except X_ERRORS:
            return None
        return LiveWindow(id=w.id, frame=w.frame, title=w.title, wm_class=w.wm_class, pid=w.pid, x=fx, y=fy,
                          width=fw, height=fh, client_x=cx, client_y=cy, client_width=cw, client_height=ch)

    def _live(self, client: XWindow, top: XWindow) -> LiveWindow:
        info = self._describe(client, top)
        cx, cy, cw, ch = self._geometry(client)
        return LiveWindow(id=client.id, frame=top.id, title=info.title, wm_class=info.wm_class, pid=info.pid,
                          x=info.x, y=info.y, width=info.width, height=info.height, client_x=cx, client_y=cy,
                          client_width=cw, client_height=ch)

    def _geometry(self, w: XWindow) -> tuple[int, int, int, int]:
        geo = w.get_geometry()
        pos = w.translate_coords(self.root.id, 0, 0)
        return -int(pos.x), -int(pos.y), int(geo.width), int(geo.height)

    def window_manager(self) -> str | None:
        """The EWMH window manager's name (_NET_SUPPORTING_WM_CHECK); None when none is running."""
        try:
            prop = self.root.get_full_property(self.NET_SUPPORTING_WM_CHECK, X.AnyPropertyType)
            if prop is None or not len(prop.value):
                return None
            check = self.d.create_resource_object("window", int(prop.value[0]))
            own = check.get_full_property(self.NET_SUPPORTING_WM_CHECK, X.AnyPropertyType)
            if own is None or not len(own.value) or int(own.value[0]) != check.id:
                return None  # a stale property left by a manager that exited
            name = check.get_full_property(self.NET_WM_NAME, self.UTF8_STRING)
        except X_ERRORS:
            return None
        value = name.value if name is not None else b""
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    # -- focus -------------------------------------------------------------------------------------

    def active_window(self) -> int | None:
        prop = self.root.get_full_property(self.NET_ACTIVE_WINDOW, X.AnyPropertyType)
        return int(prop.value[0]) if prop is not None and len(prop.value) and prop.value[0] else None

    def input_focus(self) -> int:
        """The X input focus: a window id, or X.PointerRoot (1) / X.NONE (0)."""
        focus = self.d.get_input_focus().focus
        return focus if isinstance(focus, int) else int(focus.id)

    def activate(self, w: LiveWindow, timeout: float = 1.0) -> bool:
        """Ask the window manager to activate ``w`` (EWMH _NET_ACTIVE_WINDOW); whether it did in time."""
        client = self.d.create_resource_object("window", w.id)
        msg = xevent.ClientMessage(window=client, client_type=self.NET_ACTIVE_WINDOW,
                                   data=(32, [NET_ACTIVE_SOURCE_PAGER, X.CurrentTime, 0, 0, 0]))
        self.root.send_event(msg, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        self.d.sync()
        deadline = time.monotonic() + timeout
        while self.active_window() != w.id:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def focus(self, w: LiveWindow) -> None:
        """Give ``w`` the input focus directly (no window manager to ask); it returns to the pointer after."""
        self.d.set_input_focus(w.id, X.RevertToPointerRoot, X.CurrentTime)
        self.d.sync()

    def raise_window(self, w: LiveWindow) -> None:
        self.d.create_resource_object("window", w.frame).configure(stack_mode=X.Above)
        self.d.sync()

    # -- pointer and keyboard ------------------------------------------------------------------------

    def pointer(self) -> tuple[int, int, int, int]:
        """(x, y, modifier and button mask, id of the top-level under it or 0)."""
        p = self.root.query_pointer()
        child = p.child if not isinstance(p.child, int) else None
        return int(p.root_x), int(p.root_y), int(p.mask), int(child.id) if child else 0

    def warp(self, x: int, y: int) -> None:
        """Move the pointer with an XTest motion (what a real mouse produces, unlike XWarpPointer)."""
        fake_input(self.d, X.MotionNotify, x=x, y=y)
        self.d.sync()

    def held_keys(self) -> list[int]:
        return held_keycodes(list(self.d.query_keymap()))

    def keycode(self, keysym: int) -> int | None:
        kc = int(self.d.keysym_to_keycode(keysym))
        return kc or None

    def tap(self, keycode: int) -> None:
        fake_input(self.d, X.KeyPress, keycode)
        fake_input(self.d, X.KeyRelease, keycode)
        self.d.sync()

    def release_key(self, keycode: int) -> None:
        fake_input(self.d, X.KeyRelease, keycode)
        self.d.sync()

    def release_button(self, button: int) -> None:
        fake_input(self.d, X.ButtonRelease, button)
        self.d.sync()

    def locks(self) -> dict[str, bool | None]:
        """Caps Lock (the Lock modifier), Num Lock (the modifier Num_Lock is bound to; None when it is
        bound to none) and Scroll Lock (keyboard LED 3), as they are now."""
        mask = self.pointer()[2]
        num_mask = self._modifier_of(XK.XK_Num_Lock)
        leds = int(self.d.get_keyboard_control().led_mask)
        return {"caps": bool(mask & X.LockMask), "num": bool(mask & num_mask) if num_mask else None,
                "scroll": bool(leds & SCROLL_LOCK_LED)}

    def _modifier_of(self, keysym: int) -> int:
        for index, keycodes in enumerate(self.d.get_modifier_mapping()):
            if any(kc and self.d.keycode_to_keysym(kc, 0) == keysym for kc in keycodes):
                return 1 << index
        return 0

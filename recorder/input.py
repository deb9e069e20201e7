"""Mouse and keyboard capture through the X RECORD extension (pynput's xorg listener machinery).

Why one listener and not pynput's two: a pynput mouse listener and a keyboard listener each open their own
RECORD context and run in their own thread, so a click and a key press that happen 1 ms apart can reach
Python in either order. Here a single RECORD context asks for key, button and motion events (and clients'
keymap changes) together; the X server delivers them in one stream, in the order they happened, to one
thread. The callback stamps each
event on one monotonic clock (spreading a batch by the X server's own millisecond timestamps, so a delayed
batch does not collapse onto one instant), appends a raw tuple to a bounded deque and returns: no Xlib
parsing, no key translation, no allocation beyond the tuple. Translation to typed events happens in
:meth:`InputCapture.drain`, on the consumer's thread.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import Xlib.display
import Xlib.error
from Xlib.ext import record
from Xlib.protocol import rq

from wf.bundle.errors import EnvironmentProblem
from wf.bundle.events import Button, Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.recorder.keymap import Keymap
from wf.recorder.keys import KeyInfo

# Core X protocol event codes (X.h).
KEY_PRESS, KEY_RELEASE, BUTTON_PRESS, BUTTON_RELEASE, MOTION_NOTIFY = 2, 3, 4, 5, 6
CHANGE_KEYBOARD_MAPPING = 100  # core request opcode
RECORD_FROM_SERVER, RECORD_FROM_CLIENT, RECORD_START_OF_DATA = 0, 1, 4

STOP_STALL = 10.0  # s without a single event before a stopping listener is given up on

BUTTON_NAMES: dict[int, Button] = {1: "left", 2: "middle", 3: "right", 8: "back", 9: "forward"}
# Wheel "buttons": (dx, dy) per notch; dy > 0 scrolls up, dx > 0 right (docs/format.md).
WHEEL = {4: (0, 1), 5: (0, -1), 6: (-1, 0), 7: (1, 0)}

# A core device event as RECORD hands it over: 32 bytes (xEvent in Xproto.h).
_EVENT = struct.Struct("=BBHIIIIhhhhHBx")
_NATIVE_LITTLE = struct.pack("=H", 1) == b"\x01\x00"
_EVENT_SWAPPED = struct.Struct((">" if _NATIVE_LITTLE else "<") + "BBHIIIIhhhhHBx")

# A raw input event as queued: (t, x_type, detail, state, root_x, root_y).
RawEvent = tuple[float, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class KeymapChange:
    """A client's ChangeKeyboardMapping, queued in stream order with the input events it applies to."""

    t: float
    first_keycode: int
    per_keycode: int
    keysyms: tuple[int, ...]


Raw = RawEvent | KeymapChange
OnData = Callable[[bytes, bool], None]  # RECORD data and whether the client's byte order is swapped


class _Listener(Protocol):
    """What InputCapture needs of the RECORD listener thread built by :func:`_listener_class`."""

    live: threading.Event
    failure: str | None

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


class InputCapture:
    """Every key press/release, button press/release, wheel notch and pointer motion, in server order.

    Callbacks only stamp and append a tuple to a bounded deque (O(1)); ``drain()`` turns the queued items
    into typed ``wf.bundle.events`` structs. When the deque is full new events are counted in ``dropped``
    instead of being queued — never lost silently.
    """

    def __init__(self, clock_origin: float, *, capacity: int = 1_000_000, display: str | None = None) -> None:
        self.origin = clock_origin
        self.capacity = capacity
        self.display_name = display
        self.dropped = 0
        self.captured = 0
        self.incomplete = False  # the listener did not confirm the end of the stream when stopped
        self._queue: deque[Raw] = deque()
        self._last_t = 0.0
        self._listener: _Listener | None = None
        self._xdisplay: Xlib.display.Display | None = None
        self.keymap = Keymap()
        self._down: dict[int, KeyInfo] = {}  # keycode -> identity at press, so the release matches it
        self._buttons: set[int] = set()  # X buttons down
        # Releases whose press never arrived (nor was held at the start): events the server did not
        # deliver to us. Counted in the stop event, so a gap in the stream is visible, not silent.
        self.unmatched = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once the X server confirmed the RECORD context is live."""
        self._open_display()
        assert self._xdisplay is not None
        self.keymap.reload(self._xdisplay)
        listener_cls = _listener_class(self.display_name)
        listener = self._listener = listener_cls(self._on_batch, self._on_mapping_request, self.display_name)
        listener.start()
        if not listener.live.wait(timeout):
            failure = listener.failure
            listener.stop()
            raise EnvironmentProblem(f"cannot capture input: {failure or 'X RECORD did not start'}",
                                     hint="the X server must offer the RECORD extension")

    def stop(self) -> None:
        """Stop listening; events already queued stay available to ``drain()``."""
        if self._listener is not None:
            self._listener.stop()
            # The backlog of a burst drains at ~100k events/s, much slower on a loaded machine: wait as long
            # as it keeps coming (a fixed timeout used to cut a slow backlog off, uncounted), and give up
            # only when nothing arrived for STALL seconds: then the server is gone and nothing more will.
            last, still = -1, 0.0
            while self._listener.is_alive() and still < STOP_STALL:
                self._listener.join(timeout=0.5)
                still = 0.0 if self.captured != last else still + 0.5
                last = self.captured
            self.incomplete = self._listener.is_alive()
            self._listener = None
        if self._xdisplay is not None:
            self._xdisplay.close()
            self._xdisplay = None

    @property
    def running(self) -> bool:
        return self._listener is not None and self._listener.is_alive()

    def _open_display(self) -> None:
        try:
            d = Xlib.display.Display(self.display_name)
        except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError) as exc:
            where = self.display_name or os.environ.get("DISPLAY", "")
            raise EnvironmentProblem(f"cannot open X display '{where}': {exc}",
                                     hint="run inside an X11 session (or Xvfb) and check DISPLAY") from None
        if not d.has_extension("RECORD"):
            d.close()
            raise EnvironmentProblem("the X server has no RECORD extension: input cannot be captured",
                                     hint="start the X server with '+extension RECORD' (Xvfb) or enable "
                                          "it (Load \"record\" in xorg.conf)")
        self._xdisplay = d

    # -- hot path (listener thread) ----------------------------------------------------------------

    def _on_batch(self, data: bytes, swapped: bool) -> None:
        """One RECORD reply: several 32-byte events. Stamp, enqueue, return."""
        now = time.monotonic() - self.origin
        parse = _EVENT_SWAPPED.unpack_from if swapped else _EVENT.unpack_from
        n = len(data) // 32
        if n == 0:
            return
        last_ms = parse(data, (n - 1) * 32)[3]
        q = self._queue
        room = self.capacity - len(q)
        floor = self._last_t
        for i in range(n):
            xtype, detail, _seq, ms, _r, _e, _c, rx, ry, _ex, _ey, state, _same = parse(data, i * 32)
            xtype &= 0x7F
            if xtype < KEY_PRESS or xtype > MOTION_NOTIFY:
                continue
            # Spread a batch by server time (ms) back from "now"; never before the previous stamp.
            t = now - ((last_ms - ms) & 0xFFFFFFFF) / 1000.0
            if t < floor:
                t = floor
            floor = t
            if room <= 0:
                self.dropped += 1
                continue
            q.append((t, xtype, detail, state, rx, ry))
            room -= 1
            self.captured += 1
        self._last_t = floor

    def _on_mapping_request(self, data: bytes, swapped: bool) -> None:
        """A client's ChangeKeyboardMapping request: queue it in order with the input events."""
        if len(data) < 8 or data[0] != CHANGE_KEYBOARD_MAPPING:
            return
        count, first, per = data[1], data[4], data[5]
        n = count * per
        if per == 0 or len(data) < 8 + 4 * n:
            return
        keysyms = struct.unpack_from((">" if swapped == _NATIVE_LITTLE else "<") + f"{n}I", data, 8)
        self._queue.append(KeymapChange(self._last_t, first, per, keysyms))

    # -- consumer side -----------------------------------------------------------------------------

    def pending(self) -> int:
        return len(self._queue)

    def drain_raw(self) -> list[Raw]:
        """Everything queued so far, oldest first: event tuples (t, x_type, detail, state, x, y), keymap changes."""
        q = self._queue
        return [q.popleft() for _ in range(len(q))]

    def drain(self) -> list[Event]:
        """Everything queued so far as typed events, oldest first."""
        return [ev for raw in self.drain_raw() if (ev := self.to_event(raw)) is not None]

    def to_event(self, raw: Raw) -> Event | None:
        """Translate one raw item (None for events that carry nothing, e.g. a wheel button release)."""
        if isinstance(raw, KeymapChange):
            self.keymap.apply_change(raw.first_keycode, raw.per_keycode, raw.keysyms)
            return None
        t, xtype, detail, state, x, y = raw
        if xtype == MOTION_NOTIFY:
            return MouseMove(t=t, x=x, y=y)
        if xtype == BUTTON_PRESS:
            if detail in WHEEL:
                dx, dy = WHEEL[detail]
                return Scroll(t=t, x=x, y=y, dx=dx, dy=dy)
            self._buttons.add(detail)
            return MouseDown(t=t, x=x, y=y, button=_button(detail))
        if xtype == BUTTON_RELEASE:
            if detail in WHEEL:
                return None
            if detail not in self._buttons:
                self.unmatched += 1
            self._buttons.discard(detail)
            return MouseUp(t=t, x=x, y=y, button=_button(detail))
        if xtype == KEY_PRESS:
            info = self.key_info(detail, state)
            self._down.setdefault(detail, info)  # auto-repeat keeps the first press's identity
            return KeyDown(t=t, key=info.key, char=info.char, keysym=info.keysym, keycode=detail)
        if xtype == KEY_RELEASE:
            held = self._down.pop(detail, None)
            if held is None:
                self.unmatched += 1  # its press never reached us: a gap in what the server delivered
            info = held if held is not None else self.key_info(detail, state)
            return KeyUp(t=t, key=info.key, char=info.char, keysym=info.keysym, keycode=detail)
        return None

    def key_info(self, keycode: int, state: int) -> KeyInfo:
        if not any(self.keymap.keysyms(keycode)) and self._xdisplay is not None:
            # xdotool maps unusual characters onto a spare keycode just for the keystroke: look again.
            self.keymap.reload(self._xdisplay)
        return self.keymap.key_info(keycode, state)

    def assume_held(self, held: Sequence[tuple[int, KeyInfo]], buttons: Sequence[int] = ()) -> None:
        """Keys (keycode, identity) and buttons already down when capture began: their releases are expected,
        and a key's release carries its identity."""
        for keycode, info in held:
            self._down.setdefault(keycode, info)
        self._buttons.update(buttons)


def _button(detail: int) -> Button:
    return BUTTON_NAMES.get(detail, "left" if detail == 0 else "forward" if detail > 9 else "middle")


ListenerFactory = Callable[[OnData, OnData, str | None], _Listener]
_LISTENER_CLASS: ListenerFactory | None = None


def _listener_class(display_name: str | None = None) -> ListenerFactory:
    """Build the pynput-based listener class lazily: importing pynput opens $DISPLAY, so point it there."""
    global _LISTENER_CLASS
    if _LISTENER_CLASS is not None:
        return _LISTENER_CLASS
    saved = os.environ.get("DISPLAY")
    if display_name:
        os.environ["DISPLAY"] = display_name
    try:
        from pynput._util import AbstractListener

        # types-pynput has no stubs for pynput's private X helpers: display_manager is untyped.
        from pynput._util.xorg import display_manager  # type: ignore[import-not-found]
    finally:
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved

    class RecordListener(AbstractListener):
        """One RECORD context, on pynput's listener-thread machinery, handing raw bytes to ``sinks``.

        The context asks for the device events KeyPress..MotionNotify and for clients' ChangeKeyboardMapping
        requests, so a keycode that xdotool (or an IME) remaps just for one keystroke is translated with
        the mapping in force at that keystroke: both arrive in one stream, in server order.
        """

        _log = logging.getLogger("wf.recorder.input")

        def __init__(self, on_events: OnData, on_mapping: OnData, display_name: str | None) -> None:
            super().__init__()
            self._on_events = on_events
            self._on_mapping = on_mapping
            self._display_name = display_name
            self.live = threading.Event()
            self.failure: str | None = None

        def _run(self) -> None:
            try:
                self._display_record = Xlib.display.Display(self._display_name)
                with display_manager(self._display_record) as dm:
                    self._context = dm.record_create_context(0, [record.AllClients], [{
                        "core_requests": (CHANGE_KEYBOARD_MAPPING, CHANGE_KEYBOARD_MAPPING),
                        "core_replies": (0, 0), "ext_requests": (0, 0, 0, 0), "ext_replies": (0, 0, 0, 0),
                        "delivered_events": (0, 0), "device_events": (KEY_PRESS, MOTION_NOTIFY),
                        "errors": (0, 0), "client_started": False, "client_died": False,
                    }])
                self._mark_ready()
                try:
                    self._display_record.record_enable_context(self._context, self._handler)
                finally:
                    self._display_record.record_free_context(self._context)
                    self._display_record.close()
            except Exception as exc:  # surfaced to start() through `failure`
                self.failure = f"{type(exc).__name__}: {exc}"
                self._mark_ready()

        def _stop_platform(self) -> None:
            # Disabling over the recording connection (pynput's way) leaves the request unflushed while this
            # listener's thread is blocked reading that connection: use a short-lived connection.
            if not hasattr(self, "_context"):
                self.wait()
            if not hasattr(self, "_context"):
                return
            d = Xlib.display.Display(self._display_name)
            d.set_error_handler(lambda *_: None)  # the context may be gone already: nothing to disable
            try:
                d.record_disable_context(self._context)
                d.sync()
            finally:
                d.close()

        # Unlike pynput, keep delivering after stop() until the server's EndOfData: everything the server
        # intercepted before the context was disabled is still in the pipe, and a recorder must keep it.
        @AbstractListener._emitter
        def _handler(self, reply: rq.DictWrapper) -> None:
            category = reply.category
            if category == RECORD_FROM_SERVER:
                if reply.data:
                    self._on_events(reply.data, bool(reply.client_swapped))
            elif category == RECORD_FROM_CLIENT:
                if reply.data:
                    self._on_mapping(reply.data, bool(reply.client_swapped))
            elif category == RECORD_START_OF_DATA:
                self.live.set()

    _LISTENER_CLASS = RecordListener
    return RecordListener

"""Stopping a replay from outside (Ctrl+C, a CI timeout's SIGTERM, a closed terminal's SIGHUP): at once,
with nothing held.

Why not Python's default, a KeyboardInterrupt raised wherever the main thread happens to be: python-xlib
takes its connection locks without try/finally (``Xlib/protocol/display.py``, ``send_and_recv``), so an
exception raised inside a request leaves that connection locked and half-read, and the ``finally`` that
releases the held keys then blocks for ever on the lock. That is how ``wf replay`` once failed to exit 10 s
after SIGINT (reproduced: SIGINT at random moments of a 4,000-motion replay hung 4 runs in 15, every stack
stuck in ``send_and_recv`` under ``XDriver.release_all``).

So :class:`Stopper` raises the interrupt only at a safe point: when the signal finds the main thread inside
python-xlib it re-checks every 2 ms (SIGALRM) and raises once the request has returned. Only the first
signal stops; later ones are ignored while everything is let go. :meth:`Stopper.shield` keeps the
interrupt out of cleanup that must finish. And a watchdog keeps "exits within 1 s" true whatever blocks:
``HARD_STOP`` seconds after the signal, if the replay has not unwound yet, it releases every key and
button over a connection of its own, ends the processes the replay started and exits with 130.

The watchdog hears the signal through :func:`signal.set_wakeup_fd`, not from the Python-level handler: that
handler runs only when the main thread is back in the interpreter, and a main thread stuck inside a C call
(libX11 waiting for a reply) never gets there. The last-resort clean-up gets ``LAST_RESORT`` seconds of its
own, so an X server that no longer answers cannot keep the process alive either.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType

from Xlib import X
from Xlib import display as xdisplay
from Xlib.ext.xtest import fake_input

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
RECHECK = 0.002  # seconds between checks while a deferred stop waits for python-xlib to return
HARD_STOP = 0.75  # seconds after the signal before the watchdog lets go of everything itself and exits
LAST_RESORT = 0.15  # seconds the watchdog's own clean-up may take before it exits regardless
INTERRUPTED_EXIT = 130
POINTER_BUTTONS = ((X.Button1Mask, 1), (X.Button2Mask, 2), (X.Button3Mask, 3), (X.Button4Mask, 4),
                   (X.Button5Mask, 5))

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def in_xlib(frame: FrameType | None) -> bool:
    """Whether the main thread is executing python-xlib code (at any depth of its stack)."""
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if isinstance(name, str) and (name == "Xlib" or name.startswith("Xlib.")):
            return True
        frame = frame.f_back
    return False


def held_keycodes(bits: bytes | list[int]) -> list[int]:
    """Keycodes set in a QueryKeymap reply (bit ``k % 8`` of byte ``k // 8``)."""
    return [i * 8 + b for i, byte in enumerate(bits) for b in range(8) if byte >> b & 1]


class InputGuard:
    """Lets go of every key and button held on one display, over an X connection of its own.

    Its own connection, because the one the driver used may be the thing that is stuck. It also puts the
    X server's autorepeat back as it was when the guard was made (the replay switches it off).
    """

    def __init__(self, display: str) -> None:
        self.display = display
        self.autorepeat_on: bool | None = None
        with contextlib.suppress(Exception):  # an unusable display is reported by whoever opens it next
            d = xdisplay.Display(display)
            try:
                self.autorepeat_on = bool(d.get_keyboard_control().global_auto_repeat)
            finally:
                d.close()

    def release(self) -> tuple[list[int], list[int]]:
        """Release everything held now; returns (keycodes, buttons) released."""
        d = xdisplay.Display(self.display)
        try:
            keys = held_keycodes(list(d.query_keymap()))
            mask = int(d.screen().root.query_pointer().mask)
            buttons = [b for bit, b in POINTER_BUTTONS if mask & bit]
            for kc in reversed(keys):
                fake_input(d, X.KeyRelease, kc)
            for b in buttons:
                fake_input(d, X.ButtonRelease, b)
            if self.autorepeat_on:
                d.change_keyboard_control(auto_repeat_mode=X.AutoRepeatModeOn)
            d.sync()
            return keys, buttons
        finally:
            d.close()


class Stopper:
    """The replay's signal handling (a context manager; the main thread only). See the module docstring."""

    def __init__(self, *, hard_stop: float = HARD_STOP) -> None:
        self.hard_stop = hard_stop
        self.signum: int | None = None  # the signal that stopped the replay
        self._raised = False
        self._shielded = 0
        self._old: dict[int, Handler] = {}
        self._done = threading.Event()
        self._last_resort: list[Callable[[], object]] = []
        self._wake: socket.socket | None = None  # the write end the C-level handler writes signal numbers to
        self._old_wakeup = -1

    @property
    def stopping(self) -> bool:
        return self.signum is not None

    def on_hard_stop(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` (from the watchdog thread) before a forced exit: let go of input, end child processes."""
        self._last_resort.append(fn)

    def __enter__(self) -> Stopper:
        try:
            for sig in (*STOP_SIGNALS, signal.SIGALRM):
                self._old[sig] = signal.signal(sig, self._on_alarm if sig == signal.SIGALRM else self._on_signal)
        except ValueError:  # not the main thread: signals stay as they are
            self._restore()
            return self
        listen, wake = socket.socketpair()
        wake.setblocking(False)  # the C-level handler must never block on it
        self._wake = wake
        self._old_wakeup = signal.set_wakeup_fd(wake.fileno(), warn_on_full_buffer=False)
        threading.Thread(target=self._listen, args=(listen,), name="wf-replay-stop", daemon=True).start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._done.set()
        if self._old:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self._restore()
        if self._wake is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            with contextlib.suppress(OSError):
                self._wake.send(b"\0")  # wakes the listener, which sees the replay is done
            self._wake.close()
            self._wake = None

    def _restore(self) -> None:
        for sig, h in self._old.items():
            signal.signal(sig, h)
        self._old.clear()

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        """No interrupt inside this block; one that came meanwhile is raised when it ends."""
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
        if self._shielded == 0 and self.stopping and not self._raised and not self._done.is_set():
            self._raise()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return  # the first signal is being acted on: a second Ctrl+C must not cut the cleanup short
        self.signum = signum  # the listener thread has heard it already and runs the watchdog
        self._maybe_raise(frame)

    def _on_alarm(self, _signum: int, frame: FrameType | None) -> None:
        if self.stopping and not self._raised:
            self._maybe_raise(frame)

    def _maybe_raise(self, frame: FrameType | None) -> None:
        if self._shielded:
            return  # raised when the shield ends
        if in_xlib(frame):
            signal.setitimer(signal.ITIMER_REAL, RECHECK)  # look again once the X request has returned
            return
        self._raise()

    def _raise(self) -> None:
        self._raised = True
        name = signal.Signals(self.signum).name if self.signum is not None else "signal"
        raise KeyboardInterrupt(name)

    def _listen(self, listen: socket.socket) -> None:
        """The signal numbers the C-level handler wrote; the first stop signal starts the watchdog."""
        stops = {int(sig) for sig in STOP_SIGNALS}
        with listen:
            while not self._done.is_set():
                try:
                    got = listen.recv(64)
                except OSError:
                    return
                if not got or self._done.is_set():
                    return
                if stops.intersection(got):
                    self._watchdog()
                    return

    def _watchdog(self) -> None:
        if self._done.wait(self.hard_stop):
            return
        cleanup = threading.Thread(target=self._run_last_resort, name="wf-replay-last-resort", daemon=True)
        cleanup.start()
        cleanup.join(LAST_RESORT)  # an X server that no longer answers must not keep us alive
        os._exit(INTERRUPTED_EXIT)

    def _run_last_resort(self) -> None:
        for fn in self._last_resort:
            with contextlib.suppress(Exception):
                fn()
        with contextlib.suppress(Exception):  # here too: a full stderr pipe blocks the write, not the exit
            sys.stderr.write("wf: interrupted (the replay did not unwind in time: input released, stopped)\n")
            sys.stderr.flush()

"""Bundles from scripted sessions: real input capture while a script drives a display.

Tests, benchmarks and the demo need bundles whose events are exactly what the X
server saw (real keycodes, real timing). ``ScriptedRecording`` captures input
with the recorder's ``InputCapture`` and the focused window with its
``WindowTracker`` while the caller drives the display (with xdotool, say), and
stores a ``pre`` screen whenever the script says an action is about to start (and
a ``post`` screen when it says one's effect has settled) — the same shape
`wf record` produces.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from types import TracebackType

from wf.bundle.events import (
    FORMAT_MINOR,
    Event,
    Header,
    Monitor,
    PlatformInfo,
    RecorderInfo,
    Screen,
    ScreenGeometry,
    ScreenReason,
    StartState,
    Stop,
    Window,
)
from wf.bundle.writer import BundleWriter
from wf.recorder.exclusion import ExclusionRules
from wf.recorder.input import InputCapture
from wf.recorder.windows import WindowTracker
from wf.replayer.compare import Frame, Grabber
from wf.replayer.environment import display_size


class ScriptedRecording:
    """``with ScriptedRecording(":5", out) as rec: rec.pre(); xdotool(...)`` → a bundle in ``out``."""

    def __init__(self, display: str, out: Path | str, *, task: str | None = None, launch: str | None = None,
                 start: StartState | None = None) -> None:
        self.display = display
        self.start = start  # the header's start state (None: not recorded, as a format 1.0 bundle)
        self.out = Path(out)
        self.task = task
        self.launch = launch
        self.width, self.height = display_size(display)
        self.origin = 0.0
        self.screens: list[tuple[float, Frame, ScreenReason]] = []
        self.capture: InputCapture | None = None
        self.windows: WindowTracker | None = None
        self.grabber: Grabber | None = None
        self.dropped = 0

    def now(self) -> float:
        return time.monotonic() - self.origin

    def __enter__(self) -> ScriptedRecording:
        self.origin = time.monotonic()
        self.grabber = Grabber(self.display)
        self.capture = InputCapture(self.origin, display=self.display)
        self.capture.start()
        self.windows = WindowTracker(self.origin, ExclusionRules(), display=self.display)
        self.windows.start()
        self.shot("start")
        return self

    def shot(self, reason: ScreenReason = "pre") -> None:
        """Store the screen as it is now (``pre``: an action is about to start)."""
        assert self.grabber is not None
        t = self.now()
        self.screens.append((t, self.grabber.grab(), reason))

    pre = shot

    def post(self) -> None:
        """Store the screen as it is now, as an action's settled effect (the recorder's ``post`` screen)."""
        self.shot("post")

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        assert self.capture is not None and self.grabber is not None
        time.sleep(0.3)  # let the app finish drawing the effect of the last action
        self.shot("stop")
        time.sleep(0.05)
        self.capture.stop()
        inputs: list[Event] = list(self.capture.drain())
        if self.windows is not None:
            self.windows.stop()
            inputs += [Window(t=ch.t, title=ch.window.title, wm_class=ch.window.wm_class, pid=ch.window.pid,
                              id=ch.window.id, x=ch.window.x, y=ch.window.y, width=ch.window.width,
                              height=ch.window.height)
                       for ch in self.windows.changes_between(float("-inf"), float("inf")) if ch.window]
        self.dropped = self.capture.dropped
        self.grabber.close()
        if t is not None:
            return
        header = Header(
            format="wf-bundle", version=1, minor=FORMAT_MINOR if self.start is not None else 0, start=self.start,
            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            recorder=RecorderInfo(name="wf.replayer.scripted", version="1"),
            platform=PlatformInfo(system=platform.system(), release=platform.release(), display=self.display,
                                  python=platform.python_version()),
            screen=ScreenGeometry(width=self.width, height=self.height,
                                  monitors=[Monitor(0, 0, self.width, self.height)]),
            task=self.task, launch=self.launch)
        with BundleWriter(self.out, header) as w:
            merged: list[tuple[float, int, Event | tuple[Frame, ScreenReason]]] = \
                [(ev.t, 1, ev) for ev in inputs] + [(st, 0, (f, r)) for st, f, r in self.screens]
            merged.sort(key=lambda m: (m[0], m[1]))
            n = 0
            for ts, _, item in merged:
                if isinstance(item, tuple):
                    frame, reason = item
                    rel, digest = w.store_rgb(frame.rgb, frame.width, frame.height)
                    w.write(Screen(t=ts, path=rel, width=frame.width, height=frame.height, hash=digest,
                                   reason=reason, captured=ts))
                else:
                    w.write(item)
                n += 1
            end = merged[-1][0] if merged else 0.0
            w.write(Stop(t=end, reason="script", events=n, dropped=self.dropped,
                         screens=len(self.screens)))

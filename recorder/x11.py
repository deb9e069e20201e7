"""The X11 desktop: the checks a recording needs before a bundle exists, and the X sources on it."""

from __future__ import annotations

import os

import mss
import mss.exception
import Xlib.display
import Xlib.error
import Xlib.X

from wf.bundle.errors import EnvironmentProblem
from wf.bundle.events import Monitor, ScreenGeometry, StartState
from wf.recorder.damage import DamageCapture, has_damage
from wf.recorder.frames import STABLE_FRACTION
from wf.recorder.input import InputCapture
from wf.recorder.masking import WindowMasker
from wf.recorder.options import RecordSettings
from wf.recorder.screens import FrameEncoder, ScreenCapture
from wf.recorder.sources import Sources
from wf.recorder.startstate import read_start_state
from wf.recorder.wayland import SessionCheck, check_session
from wf.recorder.windows import WindowTracker

# Memory bound of the frame ring: the oldest picture plus the tiles later frames changed (8 MB + 16 MB at
# 1920×1080: a screen changing everywhere keeps 3 frames, a typing session seconds of them).
RING_BYTES = 24 << 20


class X11Desktop:
    """An X display that can be opened, offers RECORD and has a known geometry."""

    def __init__(self, display: str, geometry: ScreenGeometry, session: SessionCheck | None = None) -> None:
        self.display = display
        self.name = f"x11 {display}"
        self.geometry = geometry
        self.session = session if session is not None else SessionCheck(())

    def app_env(self) -> dict[str, str]:
        return dict(os.environ, DISPLAY=self.display)

    def toplevels(self) -> set[int]:
        return mapped_toplevels(self.display)

    def open_sources(self, origin: float, settings: RecordSettings) -> Sources:
        opts = settings.options
        ring = ring_size(opts.fps)
        masker = WindowMasker(settings.masks, self.display) if settings.masks else None
        use_damage = opts.capture == "damage" or (opts.capture == "auto" and has_damage(self.display))
        if opts.capture == "damage" and not has_damage(self.display):
            raise EnvironmentProblem(f"the X server on '{self.display}' has no DAMAGE extension",
                                     hint="use --capture poll (or auto) to grab every frame instead")
        kind = DamageCapture if use_damage else ScreenCapture
        frames = kind(origin, fps=opts.fps, display=self.display, ring=ring, ring_bytes=RING_BYTES, masker=masker)
        inputs = InputCapture(origin, display=self.display)
        return Sources(
            frames=frames,
            focus=WindowTracker(origin, settings.rules, display=self.display, mask_rules=settings.masks,
                                activity=lambda: inputs.captured),
            inputs=inputs,
            encoder=FrameEncoder(),
            header_options={"stable_fraction": STABLE_FRACTION, "input": "x11-record", "encoder": "png",
                            "screens": frames.mode},
            read_start=lambda: self._start_state(inputs),
        )

    def _start_state(self, inputs: InputCapture) -> StartState | None:
        try:
            return read_start_state(self.display, on_held=inputs.assume_held)
        except Exception:  # the start state is a help for replay, never a reason not to record: null = not read
            return None


def connect(display: str | None) -> X11Desktop:
    """The X display ``display`` (default $DISPLAY), checked; EnvironmentProblem with a hint otherwise.

    Its ``session`` says whether it is a Wayland session's XWayland (the environment or the server itself):
    the recorder refuses that unless --allow-xwayland.
    """
    name = display_name(display)
    check_x_server(name)
    return X11Desktop(name, screen_geometry(name), check_session(os.environ, name))


def display_name(display: str | None) -> str:
    name = display or os.environ.get("DISPLAY", "")
    if not name:
        if os.environ.get("WAYLAND_DISPLAY"):
            raise EnvironmentProblem("Wayland session without an X display: wf records X11 only",
                                     hint="log into an X11 session, or set DISPLAY to its XWayland and pass "
                                          "--allow-xwayland to record X clients only")
        raise EnvironmentProblem("no X display: DISPLAY is not set",
                                 hint="run inside an X11 session, or start one with `Xvfb :99 & export DISPLAY=:99`")
    return name


def check_x_server(display: str) -> None:
    """Fail early, before a bundle exists, when the display cannot be opened or cannot report input."""
    try:
        d = Xlib.display.Display(display)
    except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError) as exc:
        raise EnvironmentProblem(f"cannot open X display '{display}': {exc}",
                                 hint="check DISPLAY and that the X server is running (xdpyinfo)") from None
    try:
        if not d.has_extension("RECORD"):
            raise EnvironmentProblem(f"the X server on '{display}' has no RECORD extension: input cannot be "
                                     "captured", hint="start Xvfb with '+extension RECORD', or load the "
                                                      "'record' module in the Xorg configuration")
    finally:
        d.close()


def screen_geometry(display: str) -> ScreenGeometry:
    """The whole virtual screen and each monitor, monitors relative to the virtual screen's corner."""
    try:
        with mss.MSS(display=display) as sct:
            mons = [dict(m) for m in sct.monitors]
    except mss.exception.ScreenShotError as exc:
        raise EnvironmentProblem(f"cannot open X display '{display}': {exc}",
                                 hint="check DISPLAY and that the X server is running") from None
    whole = mons[0]
    monitors = [Monitor(x=m["left"] - whole["left"], y=m["top"] - whole["top"], width=m["width"],
                        height=m["height"]) for m in mons[1:]] or [
        Monitor(x=0, y=0, width=whole["width"], height=whole["height"])]
    return ScreenGeometry(width=whole["width"], height=whole["height"], monitors=monitors, scale=1.0)


def ring_size(fps: float) -> int:
    """Frames of history to keep: ~1.5 s (the writer lags < 0.3 s); RING_BYTES bounds their memory."""
    return max(4, int(fps * 1.5) + 1)


def mapped_toplevels(display: str) -> set[int]:
    """Ids of the viewable children of the root window (empty when the display cannot be read)."""
    try:
        d = Xlib.display.Display(display)
    except Exception:
        return set()
    try:
        out = set()
        for w in d.screen().root.query_tree().children:
            try:
                if w.get_attributes().map_state == Xlib.X.IsViewable:
                    out.add(w.id)
            except Xlib.error.XError:
                continue
        return out
    finally:
        d.close()

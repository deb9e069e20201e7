"""The platform seam: what a recording reads from the desktop, as small interfaces.

The writer's state machine (merge.py) sees only these; the entry point (session.py) gets them from a
:class:`Desktop`, whose one real implementation is X11 (x11.py: mss grabs, python-xlib focus polls,
X RECORD input). Unit tests pass scripted sources instead, and another frame source (X DAMAGE-driven
grabs) or platform plugs in here without touching the state machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from wf.bundle.events import Event, ScreenGeometry, StartState
from wf.recorder.focus import FocusChange
from wf.recorder.frames import Encoded, Frame
from wf.recorder.options import RecordSettings
from wf.recorder.wayland import SessionCheck


class FrameHistory(Protocol):
    """The recent frames, as the state machine reads them (frames.FrameRing)."""

    def snapshot(self) -> list[Frame]:
        """The frames held now, oldest first."""
        ...

    def latest(self) -> Frame | None: ...


class FrameSource(FrameHistory, Protocol):
    """Grabs the screen into a ring of recent frames (screens.ScreenCapture)."""

    error: BaseException | None  # set when grabbing failed; the recording then stops with an error

    def start(self) -> Frame:
        """Start grabbing; returns the first frame, grabbed before any input is accepted."""
        ...

    def stop(self) -> Frame | None:
        """Stop; returns one last frame."""
        ...


class FocusLookup(Protocol):
    """The history of focus changes, as the state machine reads it (focus.FocusHistory)."""

    last_poll: float  # recording time of the latest finished poll

    def changes_between(self, after: float, upto: float) -> list[FocusChange]:
        """Focus changes seen in (after, upto], oldest first."""
        ...

    def excluded_around(self, t: float) -> bool:
        """Whether an excluded window had focus at ``t``, erring towards yes."""
        ...

    def keys_hidden_around(self, t: float) -> bool:
        """Whether an excluded or masked window had focus at ``t`` (its keys are redacted), erring towards yes."""
        ...


class FocusSource(FocusLookup, Protocol):
    """Polls the focused window and keeps the history of changes (windows.WindowTracker)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


class InputQueue(Protocol):
    def drain(self) -> list[Event]:
        """Everything captured since the last call, as typed events, oldest first."""
        ...

    def pending(self) -> int:
        """Events captured and not drained yet."""
        ...


class InputSource(InputQueue, Protocol):
    """Every key, button, wheel and pointer event, in the order the server saw them (input.InputCapture)."""

    dropped: int  # events refused because the queue was full (counted, never lost silently)
    unmatched: int  # releases whose press never arrived: input the server did not deliver (counted too)

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop listening; events captured until then stay available to ``drain()``."""
        ...

    @property
    def running(self) -> bool: ...


class FrameEncoding(Protocol):
    """Encodes the frames that screen lines refer to, off the writer's thread (screens.FrameEncoder)."""

    def submit(self, frame: Frame) -> Future[Encoded]: ...

    def forget_png(self, raw_hash: int, result: Encoded) -> None:
        """The PNG is stored: keep only its hash for later references to the same frame."""
        ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Sources:
    frames: FrameSource
    focus: FocusSource
    inputs: InputSource
    encoder: FrameEncoding
    # What the header's recorder options say about how these capture (e.g. {"input": "x11-record"}), so a
    # different source says so in the bundle it recorded.
    header_options: dict[str, object] = field(default_factory=dict)
    # Reads the desktop's state (the header's `start`) right before input capture starts; None: not offered.
    read_start: Callable[[], StartState | None] = lambda: None


class Desktop(Protocol):
    """A display that answered the checks a recording needs, and the sources that read it."""

    name: str  # for the header's platform.display, e.g. "x11 :99"
    geometry: ScreenGeometry
    session: SessionCheck  # whether this is a Wayland session (wf.recorder.wayland): refused or X clients only

    def app_env(self) -> dict[str, str]:
        """The environment for the program started with --launch."""
        ...

    def toplevels(self) -> set[int]:
        """Ids of the mapped top-level windows (to see a launched program show its window)."""
        ...

    def open_sources(self, origin: float, settings: RecordSettings) -> Sources:
        """Sources stamping on the monotonic clock since ``origin``; not started yet."""
        ...


Connect = Callable[[str | None], Desktop]  # the display option (None: $DISPLAY) -> a checked Desktop

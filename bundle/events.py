"""Typed records of bundle format v1 (see docs/format.md).

Every line of ``events.jsonl`` after the header decodes into exactly one of the
event structs below; the ``type`` field is the tag. Structs are frozen so that
an event read from disk can be shared between the reader, the action reducer
and the replayer without anybody changing it underneath the others.
"""

from __future__ import annotations

from typing import Literal

import msgspec

FORMAT_NAME = "wf-bundle"
FORMAT_VERSION = 1
# Additions an old reader can safely ignore raise the minor number only (docs/format.md, Versioning):
# 1 = header `start` (the desktop's state when recording began), `volatile` events, platform.x_clients_only,
#     `stop.unmatched`.
FORMAT_MINOR = 1

Button = Literal["left", "middle", "right", "back", "forward"]
BUTTONS: tuple[str, ...] = ("left", "middle", "right", "back", "forward")

ScreenReason = Literal["start", "pre", "post", "stop", "mark", "resume", "sync"]


class _Event(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    """Common base: ``t`` is seconds since the recording's monotonic origin."""

    t: float


class MouseMove(_Event, frozen=True, tag="mouse_move"):
    x: int
    y: int


class MouseDown(_Event, frozen=True, tag="mouse_down"):
    x: int
    y: int
    button: Button


class MouseUp(_Event, frozen=True, tag="mouse_up"):
    x: int
    y: int
    button: Button


class Scroll(_Event, frozen=True, tag="scroll"):
    """One wheel notch or a burst of them: ``dy`` > 0 scrolls up, ``dx`` > 0 right."""

    x: int
    y: int
    dx: int
    dy: int


class KeyDown(_Event, frozen=True, tag="key_down"):
    """``key``: pyautogui name; ``char``: typed text or None; ``keysym``/``keycode``: X11's."""

    key: str
    char: str | None = None
    keysym: int | None = None
    keycode: int | None = None


class KeyUp(_Event, frozen=True, tag="key_up"):
    key: str
    char: str | None = None
    keysym: int | None = None
    keycode: int | None = None


class Redacted(_Event, frozen=True, tag="redacted"):
    """A key event kept only for its timing (typed into an excluded window)."""

    kind: Literal["key_down", "key_up"]


class Screen(_Event, frozen=True, tag="screen"):
    """A stored screenshot. ``path`` is relative to the bundle; ``hash`` is xxh3-128 of its RGB pixels."""

    path: str
    width: int
    height: int
    hash: str
    reason: ScreenReason
    captured: float
    x: int = 0
    y: int = 0


class Window(_Event, frozen=True, tag="window"):
    """The focused top-level window."""

    title: str
    wm_class: str | None = None
    pid: int | None = None
    id: int | None = None
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0
    excluded: bool = False


class Volatile(_Event, frozen=True, tag="volatile"):
    """A screen region that changed while nobody gave any input (a clock, a caret, a spinner).

    Written when the region has been seen changing on its own ``changes`` times; replay leaves the union of
    a bundle's volatile regions out of every screen comparison.
    """

    x: int
    y: int
    width: int
    height: int
    changes: int = 2


class Mark(_Event, frozen=True, tag="mark"):
    label: str | None = None


class Pause(_Event, frozen=True, tag="pause"):
    reason: str | None = None


class Resume(_Event, frozen=True, tag="resume"):
    reason: str | None = None


class Stop(_Event, frozen=True, tag="stop"):
    """Last event of a cleanly finished recording."""

    reason: str
    events: int
    dropped: int
    screens: int
    # Releases whose press never reached the recorder (minor 1): input the X server did not deliver to it.
    unmatched: int = 0


Event = (
    MouseMove | MouseDown | MouseUp | Scroll | KeyDown | KeyUp | Redacted
    | Screen | Window | Volatile | Mark | Pause | Resume | Stop
)
EVENT_TYPES: dict[str, type[_Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp, Redacted,
                Screen, Window, Volatile, Mark, Pause, Resume, Stop)
}


class Monitor(msgspec.Struct, frozen=True):
    x: int
    y: int
    width: int
    height: int


class ScreenGeometry(msgspec.Struct, frozen=True):
    """The whole virtual screen plus each monitor; ``scale`` is device pixels per logical pixel."""

    width: int
    height: int
    monitors: list[Monitor]
    scale: float = 1.0


class RecorderInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    options: dict[str, object] = msgspec.field(default_factory=dict)


class PlatformInfo(msgspec.Struct, frozen=True):
    system: str
    release: str = ""
    display: str = ""
    python: str = ""
    # True when recorded in a Wayland session through XWayland (`wf record --allow-xwayland`): only X clients'
    # input was captured, not native Wayland windows', and XWayland's root-window screenshots are black.
    x_clients_only: bool = False


# What `wf inspect`, `wf view` and the `wf export` manifest say about a bundle with platform.x_clients_only.
X_CLIENTS_ONLY_NOTE = ("X clients only: recorded through XWayland in a Wayland session (--allow-xwayland); keys, "
                       "clicks and pixels of native Wayland windows are not in it, and XWayland's screenshots "
                       "of them are black (of the whole screen, under a rootless XWayland as GNOME and KDE run)")


class WindowState(msgspec.Struct, frozen=True, kw_only=True):
    """A top-level window as it was at the start of the recording (the fields of a ``window`` event)."""

    title: str
    wm_class: str | None = None
    pid: int | None = None
    id: int | None = None
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0


class HeldKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key that was already down when recording began (its release may be the first thing recorded)."""

    key: str
    keysym: int | None = None
    keycode: int | None = None


class Locks(msgspec.Struct, frozen=True, kw_only=True):
    caps: bool = False
    num: bool = False
    scroll: bool = False


class StartState(msgspec.Struct, frozen=True, kw_only=True):
    """The desktop's state when input capture began: what replay restores before the first event.

    A field left None could not be read (the report says so); empty lists mean "nothing was held".
    """

    pointer: tuple[int, int] | None = None  # x, y in virtual-screen pixels
    buttons: list[Button] = msgspec.field(default_factory=list)  # mouse buttons held
    keys: list[HeldKey] = msgspec.field(default_factory=list)  # keys held
    locks: Locks | None = None
    focus: WindowState | None = None  # the focused top-level window (None: the bare root)
    window_manager: str | None = None  # the EWMH window manager's name; None: no window manager
    windows: list[WindowState] = msgspec.field(default_factory=list)  # mapped top-levels, bottom to top


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """Where a bundle cut out of another one came from (`wf split`): which recording, which raw events.

    An original recording has none. ``first_event``/``last_event`` are 0-based indices over the original's
    events after its header, inclusive, as action ranges count them; every time in the part is the
    original's minus ``t_offset``.
    """

    bundle: str  # the original bundle's directory name
    started: str  # the original header's `started` (with `bundle`, names the recording)
    first_event: int
    last_event: int
    t_offset: float
    part: int  # 1-based
    parts: int
    reason: str  # why the part begins there: "start", "mark" or "idle"


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """Line 1 of ``events.jsonl``."""

    format: Literal["wf-bundle"]
    version: int
    minor: int = 0
    started: str
    recorder: RecorderInfo
    platform: PlatformInfo
    screen: ScreenGeometry
    task: str | None = None
    launch: str | None = None
    redactions: list[dict[str, object]] = msgspec.field(default_factory=list)
    start: StartState | None = None  # None: not recorded (recorders before format 1.1, synthetic bundles)
    source: Source | None = None  # None: an original recording, not a part of one


def to_dict(obj: msgspec.Struct) -> dict[str, object]:
    """A JSON-ready dict of an event or header, with the ``type`` tag for events."""
    return msgspec.to_builtins(obj)  # type: ignore[no-any-return]


def single_screen_header(
    width: int,
    height: int,
    *,
    started: str,
    recorder: str = "wf",
    recorder_version: str = "0",
    options: dict[str, object] | None = None,
    platform: PlatformInfo | None = None,
    task: str | None = None,
    launch: str | None = None,
) -> Header:
    """A v1 header for one monitor at (0, 0): what samples, synthetic bundles and test kits need."""
    return Header(
        format="wf-bundle", version=FORMAT_VERSION, minor=FORMAT_MINOR, started=started,
        recorder=RecorderInfo(name=recorder, version=recorder_version, options=options or {}),
        platform=platform or PlatformInfo(system="Linux"),
        screen=ScreenGeometry(width=width, height=height, monitors=[Monitor(0, 0, width, height)]),
        task=task, launch=launch,
    )

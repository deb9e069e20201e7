"""Is this a Wayland session? wf must never record half a desktop silently.

On a Wayland desktop (GNOME and KDE Plasma by default) ``DISPLAY`` is set too: it names XWayland, the X server
the compositor runs for old X clients. X RECORD, XGetImage and XTest on it reach those X clients only — keys,
clicks and pixels of native Wayland windows never arrive, and a grab of the (rootless) XWayland root window is
black — so a recording made there looks complete and is not.

Evidence, cheapest first:

- the environment: ``XDG_SESSION_TYPE=wayland`` (set by the display manager / logind for the login session)
  and ``WAYLAND_DISPLAY`` (set by the compositor for the clients it starts);
- the X server itself. Its vendor string proves nothing: Xwayland 22.1.9 and Xvfb 21.1.7 both say
  "The X.Org Foundation" (measured, docs/wayland.md). What does: the ``XWAYLAND`` extension (Xwayland 23.1 and
  later), RandR outputs named ``XWAYLAND<n>`` (every Xwayland release, the check ``xisxwayland`` uses), and
  XInput devices named ``xwayland-pointer:<n>`` / ``xwayland-keyboard:<n>`` (present once the compositor's seat
  has that capability).

:func:`assess` is a pure function over an environment mapping and the facts :func:`probe_x_server` read from
the X server; :func:`check_session` does both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from wf.bundle.errors import EnvironmentProblem

Action = Literal["record", "replay"]


class Evidence(StrEnum):
    """What kind of fact said "Wayland"."""

    SESSION_TYPE = "session-type"  # XDG_SESSION_TYPE=wayland
    WAYLAND_DISPLAY = "wayland-display"  # WAYLAND_DISPLAY is set
    XWAYLAND_EXTENSION = "xwayland-extension"  # the X server offers the XWAYLAND extension
    XWAYLAND_OUTPUT = "xwayland-output"  # a RandR output named XWAYLAND<n>
    XWAYLAND_DEVICE = "xwayland-device"  # an XInput device named xwayland-…


X_SERVER_EVIDENCE = frozenset({Evidence.XWAYLAND_EXTENSION, Evidence.XWAYLAND_OUTPUT, Evidence.XWAYLAND_DEVICE})


@dataclass(frozen=True, slots=True)
class Signal:
    kind: Evidence
    detail: str  # what was seen, for people: "WAYLAND_DISPLAY=wayland-0", "RandR output XWAYLAND0"


@dataclass(frozen=True, slots=True)
class XServerFacts:
    """What the X server says about itself (read by :func:`probe_x_server`)."""

    vendor: str
    extensions: frozenset[str]
    outputs: tuple[str, ...] = ()  # RandR output names
    input_devices: tuple[str, ...] = ()  # XInput device names


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """The verdict: Wayland or not, and every signal that said so."""

    signals: tuple[Signal, ...]
    x_server: XServerFacts | None = None  # None: no X server was reachable (or none was asked)

    @property
    def wayland(self) -> bool:
        return bool(self.signals)

    @property
    def xwayland(self) -> bool:
        """The X server itself is XWayland (not just the environment saying "Wayland")."""
        return any(s.kind in X_SERVER_EVIDENCE for s in self.signals)

    def details(self) -> list[str]:
        return [s.detail for s in self.signals]

    def message(self, action: Action = "record") -> str:
        """One line: what the X route would miss here."""
        seen = ", ".join(self.details())
        if action == "replay":
            missed = ("XTest drives only X (XWayland) clients: native Wayland windows would not get the replayed "
                      "input, and no screen could be checked (grabs of XWayland's root come out black)")
        else:
            missed = ("through XWayland wf sees only X clients: keys, clicks and pixels of native Wayland windows "
                      "would be missing from the bundle, and its screenshots come out black")
        return f"this is a Wayland session ({seen}); {missed}"

    def hint(self, action: Action = "record") -> str:
        """One line: what to do instead."""
        if action == "replay":
            return ("replay with --xvfb (a private X display), or in an X11 session, "
                    "or pass --allow-xwayland to drive X clients only")
        return ("log into an X11 session (e.g. \"GNOME on Xorg\" at the login screen), "
                "or pass --allow-xwayland to record the input of X clients only")

    def refusal(self, action: Action = "record") -> EnvironmentProblem:
        """The error that makes the command exit 3 (category ENVIRONMENT: exit 3)."""
        return EnvironmentProblem(self.message(action), hint=self.hint(action))


def assess(env: Mapping[str, str], x_server: XServerFacts | None = None) -> SessionCheck:
    """Pure: which of the environment's variables and the X server's facts say "Wayland"."""
    signals: list[Signal] = []
    session_type = env.get("XDG_SESSION_TYPE", "").strip()
    if session_type.lower() == "wayland":
        signals.append(Signal(Evidence.SESSION_TYPE, f"XDG_SESSION_TYPE={session_type}"))
    wayland_display = env.get("WAYLAND_DISPLAY", "").strip()
    if wayland_display:
        signals.append(Signal(Evidence.WAYLAND_DISPLAY, f"WAYLAND_DISPLAY={wayland_display}"))
    if x_server is not None:
        signals += _x_server_signals(x_server)
    return SessionCheck(tuple(signals), x_server)


def _x_server_signals(x: XServerFacts) -> list[Signal]:
    out: list[Signal] = []
    if "XWAYLAND" in x.extensions:
        out.append(Signal(Evidence.XWAYLAND_EXTENSION, "the X server has the XWAYLAND extension"))
    for name in x.outputs:
        if name.startswith("XWAYLAND"):
            out.append(Signal(Evidence.XWAYLAND_OUTPUT, f"RandR output {name}"))
            break  # one output is proof enough; a multi-monitor desktop would list them all
    for name in x.input_devices:
        if name.lower().startswith("xwayland-"):
            out.append(Signal(Evidence.XWAYLAND_DEVICE, f"input device {name}"))
            break
    return out


def probe_x_server(display: str) -> XServerFacts | None:
    """Read the facts :func:`assess` needs from the X server ``display``; None when it cannot be opened.

    An X server that cannot be reached is not this module's error to report: the recorder's own display check
    says so with its own hint. Probe the server the process is going to use: python-xlib shares its
    extension-event tables between the connections of one process, so opening a second, different server can
    fail inside Xlib (python-xlib PR #160) — `wf record` and `wf replay` each talk to one.
    """
    import Xlib.display
    import Xlib.error

    try:
        d = Xlib.display.Display(display)
    except (Xlib.error.DisplayError, Xlib.error.ConnectionClosedError, OSError):
        return None
    try:
        extensions = frozenset(d.list_extensions())
        outputs: tuple[str, ...] = ()
        devices: tuple[str, ...] = ()
        # A server that fails one of these queries still gives its other facts (Xlib raises its own errors).
        if "RANDR" in extensions:
            try:
                res = d.screen().root.xrandr_get_screen_resources_current()
                outputs = tuple(str(d.xrandr_get_output_info(o, res.config_timestamp).name) for o in res.outputs)
            except Xlib.error.XError:
                pass
        if "XInputExtension" in extensions:
            try:
                from Xlib.ext import xinput

                d.xinput_query_version()  # XI2 requests are refused before the client announced its version
                devices = tuple(str(dev.name) for dev in d.xinput_query_device(xinput.AllDevices).devices)
            except Xlib.error.XError:
                pass
        vendor = str(d.display.info.vendor)
    finally:
        d.close()
    return XServerFacts(vendor=vendor, extensions=extensions, outputs=outputs, input_devices=devices)


def check_session(env: Mapping[str, str] | None = None, display: str | None = None) -> SessionCheck:
    """Assess the environment (default ``os.environ``) and the X server ``display`` (default its DISPLAY)."""
    env = os.environ if env is None else env
    name = display or env.get("DISPLAY", "")
    return assess(env, probe_x_server(name) if name else None)

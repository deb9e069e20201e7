"""Where a replay runs: the display (live or a private Xvfb), its size, and the launched app."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from Xlib import display as xdisplay
from Xlib import error as xerror

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.recorder.wayland import SessionCheck, check_session
from wf.replayer.options import ScaleMode
from wf.replayer.xvfb import VirtualDisplay


@dataclass
class Target:
    """The display replay injects into."""

    name: str
    width: int
    height: int
    private: bool  # a private Xvfb: nobody else can touch it, so no unexpected-input guard
    session: SessionCheck = field(default_factory=lambda: SessionCheck(()))  # Wayland? (live display only)

    @property
    def x_clients_only(self) -> bool:
        """A Wayland session's XWayland, replayed onto anyway (--allow-xwayland)."""
        return self.session.wayland


LastResort = Callable[[Callable[[], object]], None]  # registers what a forced exit must still do


def open_target(recorded: tuple[int, int], *, xvfb: bool, stack: contextlib.ExitStack,
                last_resort: LastResort = lambda _fn: None, allow_xwayland: bool = False) -> Target:
    """Start a private Xvfb of the recorded size, or use $DISPLAY; exit 3 with a hint if there is none.

    A live display in a Wayland session is refused (exit 3) unless ``allow_xwayland``: XTest there drives X
    clients only. A private Xvfb is never a Wayland session. ``last_resort`` is handed what a forced exit
    (the stop watchdog) must still do: end the Xvfb.
    """
    if xvfb:
        vd = VirtualDisplay(width=recorded[0], height=recorded[1]).start()
        stack.callback(vd.stop)
        proc = vd.proc
        if proc is not None:
            last_resort(lambda: kill_group(proc.pid))
        name = vd.display
    else:
        name = os.environ.get("DISPLAY", "")
        if not name:
            raise EnvironmentProblem("no X display to replay into (DISPLAY is not set)",
                                     hint="run inside an X11 session, or pass --xvfb for a private virtual display")
    width, height = display_size(name)
    if xvfb:
        return Target(name, width, height, private=True)
    session = check_session(os.environ, name)
    if session.wayland and not allow_xwayland:
        raise session.refusal("replay")
    return Target(name, width, height, private=False, session=session)


def display_size(name: str) -> tuple[int, int]:
    try:
        d = xdisplay.Display(name)
    except (xerror.DisplayError, xerror.DisplayConnectionError, xerror.ConnectionClosedError, OSError) as exc:
        raise EnvironmentProblem(f"cannot open X display {name!r}: {exc}",
                                 hint="check DISPLAY, or pass --xvfb for a private virtual display") from None
    try:
        scr = d.screen()
        return int(scr.width_in_pixels), int(scr.height_in_pixels)
    finally:
        d.close()


def check_scale(recorded: tuple[int, int], live: tuple[int, int], mode: ScaleMode) -> tuple[float, float]:
    """Coordinate factors for the live screen; a size mismatch without ``--scale auto`` is an error."""
    if mode not in ("auto", "none"):
        raise BadInput(f"bad --scale {mode!r}", hint="use --scale auto or --scale none")
    if recorded == live:
        return 1.0, 1.0
    if mode == "none":
        raise EnvironmentProblem(
            f"the screen is {live[0]}×{live[1]} but the bundle was recorded at {recorded[0]}×{recorded[1]}",
            hint="pass --xvfb to replay on a virtual display of the recorded size, or --scale auto to rescale")
    return live[0] / recorded[0], live[1] / recorded[1]


class LaunchedApp:
    """The app started for the replay (its own process group, ended when the replay is over)."""

    def __init__(self, cmd: str, display: str) -> None:
        env = dict(os.environ)
        env["DISPLAY"] = display
        env.pop("WAYLAND_DISPLAY", None)
        try:
            argv = shlex.split(cmd)
        except ValueError as exc:
            raise BadInput(f"bad --launch command: {exc}") from None
        if not argv:
            raise BadInput("empty --launch command")
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            raise EnvironmentProblem(f"cannot launch {argv[0]!r}: not found",
                                     hint="install it or pass another --launch command") from None
        self.cmd = cmd

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """End it at once (a forced exit: no time to wait)."""
        if self.proc.poll() is None:
            kill_group(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def launch(cmd: str, display: str, stack: contextlib.ExitStack, last_resort: LastResort = lambda _fn: None
           ) -> LaunchedApp:
    app = LaunchedApp(cmd, display)
    stack.callback(app.stop)
    last_resort(app.kill)
    return app

"""Headless Wayland compositors from Debian, with XWayland, for the tests and bench/wayland_probe.py.

Each compositor gets a private XDG_RUNTIME_DIR (its Wayland socket lives there) and an XWayland display of its
own. wlroots compositors (sway, cage) refuse to run as root ("Unable to drop root"), so as root they run as
``nobody``; weston and mutter run as whoever starts them. Clients that talk to a compositor running as
``nobody`` must run as ``nobody`` too (its XWayland admits only its own user): use :meth:`Compositor.argv`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Compositor:
    name: str
    proc: subprocess.Popen[bytes]
    runtime: Path
    socket: str
    log: Path
    user: str | None  # run clients as this user (None: as ourselves)
    started: float  # seconds from spawn until the Wayland socket existed
    x_display: str = ""
    env: dict[str, str] = field(default_factory=dict)
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # its session bus, PipeWire…

    def argv(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` as the compositor's own user (setpriv when we are root and it is not)."""
        return as_user(self.user, cmd)

    def run(self, cmd: Sequence[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(cmd), env=self.env, capture_output=True, text=True, timeout=timeout)

    def popen(self, cmd: Sequence[str], *, stdout: int | None = subprocess.DEVNULL,
              stderr: int | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(cmd), env=self.env, stdout=stdout, stderr=stderr, start_new_session=True)

    def start_helper(self, cmd: Sequence[str], ready: Path | None = None, timeout: float = 10,
                     log: Path | None = None) -> subprocess.Popen[bytes]:
        """Run a session service (PipeWire, WirePlumber…) beside the compositor, ended with it."""
        with open(log or os.devnull, "wb") as out:
            proc = self.popen(cmd, stdout=out.fileno(), stderr=out.fileno())
        self.helpers.append(proc)
        if ready is not None:
            _wait_for(ready, proc, timeout)
        return proc

    def session_bus(self) -> None:
        """A private D-Bus session bus for the compositor's clients (portals, PipeWire's helpers)."""
        if "DBUS_SESSION_BUS_ADDRESS" not in self.env:
            self.helpers.append(start_bus(self.runtime, self.env, self.user))

    def stop(self) -> None:
        for proc in [self.proc, *reversed(self.helpers)]:
            _end(proc)
        # mutter leaves its two X displays' lock files and sockets behind when it is terminated
        for lock in Path("/tmp").glob(".X*-lock"):
            if _names(lock, self.proc.pid):
                Path(f"/tmp/.X11-unix/X{lock.name[2:-5]}").unlink(missing_ok=True)
                lock.unlink(missing_ok=True)


def as_user(user: str | None, cmd: Sequence[str]) -> list[str]:
    return list(cmd) if user is None else ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *cmd]


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def _command(name: str, runtime: Path, socket: str, width: int, height: int) -> list[str]:
    if name == "weston":
        return ["weston", "--backend=headless-backend.so", f"--width={width}", f"--height={height}",
                f"--socket={socket}", "--xwayland", "--idle-time=0", "--no-config", f"--log={runtime}/log"]
    if name == "sway":
        conf = runtime / "sway.conf"
        conf.write_text(f"output HEADLESS-1 resolution {width}x{height}\nxwayland enable\n")
        return ["sway", "-c", str(conf)]
    if name == "cage":
        return ["cage", "-d", "--", "sleep", "infinity"]
    if name == "mutter":
        return ["mutter", "--headless", "--virtual-monitor", f"{width}x{height}", "--wayland",
                f"--wayland-display={socket}"]
    raise ValueError(f"unknown compositor {name!r}")


def base_env(runtime: Path, socket: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "SWAYSOCK", "XAUTHORITY")}
    env.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime), WAYLAND_DISPLAY=socket,
               # wlroots: no GPU, no input devices, no DRM here: render with pixman on a headless output
               WLR_BACKENDS="headless", WLR_LIBINPUT_NO_DEVICES="1", WLR_RENDERER="pixman")
    return env


@contextmanager
def compositor(name: str, *, width: int = 1280, height: int = 800, timeout: float = 20) -> Iterator[Compositor]:
    """Start compositor ``name`` headless; yields once its Wayland socket exists."""
    if shutil.which(name) is None:
        raise RuntimeError(f"{name} is not installed: apt-get install {name} (see docs/wayland.md)")
    # Straight under /tmp, not in a test's tmp_path: a compositor running as nobody must reach it.
    runtime = Path(tempfile.mkdtemp(prefix=f"wf-{name}-"))
    wlroots = name in ("sway", "cage")
    user = "nobody" if wlroots and os.geteuid() == 0 else None
    socket = "wayland-1" if wlroots else f"wl-{name}"  # wlroots picks wayland-N itself (N from 1 up)
    cmd = _command(name, runtime, socket, width, height)
    env = base_env(runtime, socket)
    env.pop("WAYLAND_DISPLAY")
    if user is not None:
        shutil.chown(runtime, user, "nogroup")
        for p in runtime.iterdir():
            shutil.chown(p, user, "nogroup")
    log = runtime / ("log" if name == "weston" else "stderr.log")
    bus: list[subprocess.Popen[bytes]] = []
    if name == "mutter":  # mutter aborts without a session bus; give it a private one
        bus.append(start_bus(runtime, env, None))
    with open(runtime / "stderr.log", "wb") as err:
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(as_user(user, cmd), env=env, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
        except OSError:
            for b in bus:
                _end(b)
            raise
    comp = Compositor(name, proc, runtime, socket, log, user, 0.0, helpers=bus)
    try:
        deadline = t0 + timeout
        while not _socket_ready(runtime, comp):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {(runtime / 'stderr.log').read_text()[-600:]}")
            time.sleep(0.01)
        comp.started = time.monotonic() - t0
        comp.env = base_env(runtime, comp.socket)
        if "DBUS_SESSION_BUS_ADDRESS" in env:
            comp.env["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
        comp.x_display = _xwayland_display(comp, deadline)
        comp.env["DISPLAY"] = comp.x_display
        auth = next(runtime.glob(".mutter-Xwaylandauth.*"), None)  # mutter's XWayland wants its cookie
        if auth is not None:
            comp.env["XAUTHORITY"] = str(auth)
        sock = next(runtime.glob("sway-ipc.*.sock"), None)
        if sock is not None:
            comp.env["SWAYSOCK"] = str(sock)
        yield comp
    finally:
        comp.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def start_bus(runtime: Path, env: dict[str, str], user: str | None) -> subprocess.Popen[bytes]:
    """dbus-daemon on ``runtime``/bus; sets DBUS_SESSION_BUS_ADDRESS in ``env``."""
    address = f"unix:path={runtime}/bus"
    cmd = as_user(user, ["dbus-daemon", "--session", f"--address={address}", "--nofork", "--nopidfile"])
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    _wait_for(runtime / "bus", proc)
    return proc


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} did not appear")
        time.sleep(0.01)


def _socket_ready(runtime: Path, comp: Compositor) -> bool:
    if comp.name in ("sway", "cage"):
        found = sorted(p.name for p in runtime.glob("wayland-*") if not p.name.endswith(".lock"))
        if found:
            comp.socket = found[0]
        return bool(found)
    return (runtime / comp.socket).exists()


def _xwayland_display(comp: Compositor, deadline: float) -> str:
    """The X display of the compositor's XWayland: every compositor here opens the X sockets itself (starting
    Xwayland on the first connection) and writes its own pid into ``/tmp/.X<n>-lock``. mutter takes two
    displays, the public one first."""
    while time.monotonic() < deadline:
        mine = sorted(int(lock.name[2:-5]) for lock in Path("/tmp").glob(".X*-lock") if _names(lock, comp.proc.pid))
        # An Xvfb started at the same moment elsewhere can read a lock file before its pid is written, take it
        # for stale and claim the number: only a socket the compositor itself listens on is its XWayland.
        mine = [n for n in mine if _listener_pid(n) == comp.proc.pid]
        if mine:
            return f":{mine[0]}"
        time.sleep(0.02)
    tail = (comp.runtime / "stderr.log").read_text(errors="replace")[-600:]
    raise RuntimeError(f"{comp.name} did not open an XWayland display: {tail}")


def _listener_pid(display: int) -> int | None:
    """The pid of the process listening on X display ``display``'s socket (SO_PEERCRED), or None."""
    import socket
    import struct

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(f"/tmp/.X11-unix/X{display}")
        except OSError:
            return None
        pid, _uid, _gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        return int(pid)


def _names(lock: Path, pid: int) -> bool:
    try:
        return int(lock.read_text().strip(" \n\0")) == pid  # wlroots ends its pid with a NUL, Xorg with \n
    except (OSError, ValueError):
        return False

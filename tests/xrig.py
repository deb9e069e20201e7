"""The virtual-display test rig: real Xvfb, real apps, real input injected with xdotool."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from wf.replayer.xvfb import VirtualDisplay

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
WF = [sys.executable, "-m", "wf.cli"]


class Display:
    """A running Xvfb plus helpers to launch apps and inject input on it."""

    def __init__(self, vd: VirtualDisplay) -> None:
        self.vd = vd
        self.name = vd.display
        self.width = vd.width
        self.height = vd.height
        self._procs: list[subprocess.Popen[bytes]] = []
        self.wm: subprocess.Popen[bytes] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = self.vd.env()
        env.update(extra)
        return env

    def xdotool(self, *args: str | int, check: bool = True, timeout: float = 30) -> str:
        res = subprocess.run(["xdotool", *map(str, args)], env=self.env(), capture_output=True,
                             text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"xdotool {args} failed: {res.stderr.strip()}")
        return res.stdout.strip()

    def launch(self, cmd: str | Sequence[str], **popen: object) -> subprocess.Popen[bytes]:
        argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        proc = subprocess.Popen(argv, env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, **popen)  # type: ignore[call-overload]
        self._procs.append(proc)
        return proc

    def wait_window(self, *search: str, timeout: float = 15) -> str:
        """Block until a window matching ``xdotool search`` args is visible; return its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.xdotool("search", "--onlyvisible", *search, check=False)
            if out:
                return out.splitlines()[-1]
            time.sleep(0.05)
        raise TimeoutError(f"no window {search} on {self.name}")

    def set_monitors(self, monitors: Sequence[tuple[int, int, int, int]]) -> None:
        """Split the screen into RandR 1.5 monitors (x, y, width, height): what mss and python-xlib read.

        (Xvfb's own ``-screen`` pairs under ``+xinerama`` overlap at (0, 0) here, so they cannot stand in for
        two monitors side by side.) The first monitor takes the screen's output, the others none.
        """
        for i, (x, y, w, h) in enumerate(monitors):
            geometry = f"{w}/{max(1, w // 4)}x{h}/{max(1, h // 4)}+{x}+{y}"
            subprocess.run(["xrandr", "--setmonitor", f"WF{i}", geometry, "screen" if i == 0 else "none"],
                           env=self.env(), check=True, capture_output=True, timeout=30)

    def pointer(self) -> tuple[int, int]:
        out = self.xdotool("getmouselocation", "--shell")
        vals = dict(line.split("=", 1) for line in out.splitlines())
        return int(vals["X"]), int(vals["Y"])

    def screenshot_rgb(self) -> tuple[bytes, int, int]:
        import mss

        with mss.MSS(display=self.name) as sct:
            shot = sct.grab(sct.monitors[0])
            return shot.rgb, shot.width, shot.height

    def start_wm(self, timeout: float = 15) -> subprocess.Popen[bytes]:
        """Start openbox on this display and wait until it manages it (EWMH _NET_SUPPORTING_WM_CHECK)."""
        require("openbox")
        proc = subprocess.Popen(["openbox", "--sm-disable"], env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.wm = proc
        deadline = time.monotonic() + timeout
        while self.window_manager() is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"openbox did not start on {self.name}")
            time.sleep(0.05)
        return proc

    def window_manager(self) -> str | None:
        """The running EWMH window manager's name, or None."""
        from wf.replayer.livedesk import LiveDesktop

        desk = LiveDesktop(self.name)
        try:
            return desk.window_manager()
        finally:
            desk.close()

    def stop_wm(self) -> None:
        if self.wm is not None and self.wm.poll() is None:
            self.wm.terminate()
            try:
                self.wm.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.wm.kill()
        self.wm = None

    def kill_apps(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        self._procs.clear()


@contextmanager
def display(width: int = 1280, height: int = 800, *, wm: bool = False) -> Iterator[Display]:
    """A fresh Xvfb (with openbox managing it when ``wm``), torn down with everything started on it."""
    vd = VirtualDisplay(width=width, height=height).start()
    d = Display(vd)
    try:
        if wm:
            d.start_wm()
        yield d
    finally:
        d.kill_apps()
        d.stop_wm()
        vd.stop()


def wf(*args: str | os.PathLike[str], env: dict[str, str] | None = None, timeout: float = 120,
       input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `wf` command line in a subprocess."""
    return subprocess.run([*WF, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=timeout, input=input.decode() if input else None)


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise RuntimeError(f"missing tools {missing}: run `make setup`")

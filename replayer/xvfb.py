"""A private virtual X display (Xvfb), used by `wf replay --xvfb`, `make demo` and the tests.

``-displayfd`` lets Xvfb pick a free display number and tell us when it is ready,
so parallel runs never collide and nobody polls for a lock file.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from types import TracebackType

from wf.bundle.errors import EnvironmentProblem


@dataclass
class VirtualDisplay:
    width: int = 1280
    height: int = 800
    depth: int = 24
    timeout: float = 15.0
    display: str = ""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> VirtualDisplay:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise EnvironmentProblem("Xvfb is not installed", hint="apt-get install xvfb (or run `make setup`)")
        rfd, wfd = os.pipe()
        cmd = [
            exe, "-displayfd", str(wfd), "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
            "-nolisten", "tcp", "-noreset", "+extension", "RECORD", "+extension", "XTEST",
        ]
        self.proc = subprocess.Popen(cmd, pass_fds=(wfd,), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(wfd)
        try:
            number = self._read_display_number(rfd)
        finally:
            os.close(rfd)
        self.display = f":{number}"
        return self

    def _read_display_number(self, rfd: int) -> str:
        deadline = time.monotonic() + self.timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc and self.proc.poll() is not None):
                self.stop()
                raise EnvironmentProblem("Xvfb did not start", hint="check that Xvfb runs: Xvfb -displayfd 1")
            ready, _, _ = select.select([rfd], [], [], left)
            if ready:
                chunk = os.read(rfd, 64)
                if not chunk:
                    continue
                data += chunk
        return data.decode().strip()

    def env(self) -> dict[str, str]:
        """The process environment with DISPLAY pointing here (and no Wayland)."""
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        # A private X server is no Wayland session, whatever the caller's session is (wf.recorder.wayland).
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("XDG_SESSION_TYPE", None)
        return env

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

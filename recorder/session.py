"""One recording session, orchestrated: checks, signals, the writer loop, a clean stop.

Threads: the sources (input listener, screen grabber, window poller, PNG encoder; sources.py) run their
own; the writer loop runs on the calling (main) thread, so that signal handlers only set a flag. The
loop only ticks the state machine (merge.py) every ~30 ms and watches for reasons to stop. The desktop
is injected (``connect``; x11.py by default), as asciinema's ``record(writer=…)`` injects its parts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wf.bundle.errors import BadInput, EnvironmentProblem, WfError
from wf.bundle.paths import check_new_directory
from wf.bundle.writer import BundleWriter
from wf.recorder import x11
from wf.recorder.memory import Trimmer, keep_big_buffers_out_of_the_heap
from wf.recorder.merge import Merger, StopFlag
from wf.recorder.options import RecordSettings, build_header
from wf.recorder.sources import Connect, Desktop, Sources
from wf.recorder.wayland import SessionCheck

LOOP_INTERVAL = 0.03  # writer loop period while there is something to write
IDLE_INTERVAL = 0.1  # ... and while nothing is held (idle cost; the kill -9 loss bound stays < 0.5 s)
FLUSH_INTERVAL = 0.1  # BundleWriter flush period: a SIGKILL loses at most ~MAX_HOLD + this
LAUNCH_WAIT = 10.0  # seconds to wait for a launched program's first window
STATUS_INTERVAL = 0.25  # the live status line is refreshed 4×/s: it must not cost the loop anything


@dataclass
class Status:
    """What the live status line shows; updated by the writer loop."""

    elapsed: float = 0.0
    events: int = 0
    screens: int = 0
    bytes: int = 0
    paused: bool = False
    dropped: int = 0
    disk_free: int | None = None  # bytes free where the bundle is (None: not known yet)


@dataclass
class RecordResult:
    path: Path
    reason: str
    events: int
    dropped: int
    screens: int
    duration: float
    bytes: int
    error: WfError | None = None
    unmatched: int = 0  # releases whose press never arrived (see Stop.unmatched)


@dataclass(frozen=True)
class _Live:
    """What one running recording is made of."""

    origin: float
    sources: Sources
    writer: BundleWriter
    merger: Merger


class Recorder:
    """Records one bundle. ``run()`` blocks until the recording stops and returns what happened."""

    def __init__(self, settings: RecordSettings, *, connect: Connect = x11.connect,
                 on_ready: Callable[[Recorder], None] | None = None,
                 on_tick: Callable[[Status], None] | None = None) -> None:
        self.settings = settings
        self.connect = connect
        self.on_ready = on_ready
        self.on_tick = on_tick
        self.status = Status()
        self.stop_flag = StopFlag()
        self._proc: subprocess.Popen[bytes] | None = None
        self._disk = DiskFloor(settings.out, settings.options.min_free_mb)
        self._trim = Trimmer()
        self.session = SessionCheck(())  # set by run(): what the desktop said about Wayland

    def request_stop(self, reason: str) -> None:
        self.stop_flag.request(reason)

    @property
    def x_clients_only(self) -> bool:
        """A Wayland session recorded anyway (--allow-xwayland): the bundle holds only X clients."""
        return self.session.wayland

    @property
    def stopping(self) -> bool:
        return self.stop_flag.is_set

    def run(self) -> RecordResult:
        check_new_directory(self.settings.out)
        self._disk.check_start()
        keep_big_buffers_out_of_the_heap()
        desktop = self.connect(self.settings.options.display)
        self._check_session(desktop)
        restore = self._install_signals()
        try:
            self._launch(desktop)
            return self._record(desktop)
        finally:
            restore()

    # -- setup ------------------------------------------------------------------------------------

    def _check_session(self, desktop: Desktop) -> None:
        """A Wayland session is refused (exit 3, before the bundle exists) unless --allow-xwayland."""
        check = desktop.session
        if check.wayland and not self.settings.options.allow_xwayland:
            raise check.refusal("record")
        self.session = check

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, _frame: object) -> None:
            self.request_stop("signal")

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}

        def restore() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return restore

    def _launch(self, desktop: Desktop) -> None:
        argv = self.settings.launch_argv
        if argv is None:
            return
        before = desktop.toplevels()
        try:
            self._proc = subprocess.Popen(argv, env=desktop.app_env(), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)
        except OSError as exc:
            raise BadInput(f"--launch: cannot start {argv[0]!r}: {exc.strerror}",
                           hint="check the command and that it is installed") from None
        # Start recording once the app shows a window, so the first screen shows it.
        deadline = time.monotonic() + LAUNCH_WAIT
        while time.monotonic() < deadline and self._proc.poll() is None and not self.stopping:
            if desktop.toplevels() - before:
                time.sleep(0.3)  # let it paint
                return
            time.sleep(0.05)

    # -- recording --------------------------------------------------------------------------------

    def _record(self, desktop: Desktop) -> RecordResult:
        origin = time.monotonic()
        started = datetime.now(UTC).isoformat()
        sources = desktop.open_sources(origin, self.settings)
        try:
            first = sources.frames.start()
        except RuntimeError as exc:
            raise EnvironmentProblem(f"cannot grab the screen: {sources.frames.error or exc}",
                                     hint="check DISPLAY and that the X server is running") from None
        try:
            sources.focus.start()
            # The state the demonstration starts from, read after the start screen and right before input
            # capture starts (the header holds it, so the bundle is created only now).
            start = sources.read_start()
            header = build_header(self.settings, display=desktop.name, geometry=desktop.geometry,
                                  started=started, capture=sources.header_options, start=start,
                                  x_clients_only=self.x_clients_only)
            writer = BundleWriter(self.settings.out, header, flush_interval=FLUSH_INTERVAL)
        except BaseException:
            sources.frames.stop()
            sources.focus.stop()
            raise
        merger = Merger(hotkeys=self.settings.hotkeys, exclusions=bool(self.settings.rules),
                        masks=bool(self.settings.masks), frames=sources.frames, focus=sources.focus,
                        inputs=sources.inputs, encoder=sources.encoder, sink=writer, stop=self.stop_flag)
        live = _Live(origin, sources, writer, merger)
        error: WfError | None = None
        try:
            sources.inputs.start()
            merger.begin(first)
            if self.on_ready:
                self.on_ready(self)
            self._loop(live)
        except WfError as exc:
            error = exc
            self.request_stop("error")
        finally:
            result = self._finish(live, error)
        return result

    def _loop(self, live: _Live) -> None:
        deadline = self.settings.options.duration
        inputs, frames = live.sources.inputs, live.sources.frames
        while not self.stopping:
            time.sleep(IDLE_INTERVAL if live.merger.idle and not inputs.pending() else LOOP_INTERVAL)
            now = time.monotonic() - live.origin
            if deadline is not None and now >= deadline:
                self.request_stop("duration")
            if self._proc is not None and self._proc.poll() is not None:
                self.request_stop("app-exited")
            if not inputs.running:
                raise EnvironmentProblem("input capture stopped (the X server went away?)",
                                         hint="what was recorded so far is kept")
            if frames.error is not None:
                raise EnvironmentProblem(f"screen capture failed: {frames.error}",
                                         hint="what was recorded so far is kept")
            live.merger.step(now)
            if now - self.status.elapsed >= STATUS_INTERVAL:
                self._tick(live, now)
            if self._disk.low(now):
                self.request_stop("disk-low")
            self._trim.maybe(now)

    def _tick(self, live: _Live, now: float) -> None:
        st, writer = self.status, live.writer
        st.elapsed = now
        st.events = writer.lines
        st.screens = writer.screens_written
        st.paused = live.merger.paused
        with contextlib.suppress(OSError):
            st.bytes = os.path.getsize(writer.events_path) + live.merger.out.png_bytes
        st.dropped = live.sources.inputs.dropped
        st.disk_free = self._disk.free
        if self.on_tick:
            self.on_tick(st)

    def _finish(self, live: _Live, error: WfError | None) -> RecordResult:
        reason = self.stop_flag.reason or "error"
        writer, sources = live.writer, live.sources
        sources.inputs.stop()  # delivers everything the server intercepted up to now
        last = sources.frames.stop()
        try:
            if error is None or writer.failed is None:
                live.merger.finish(time.monotonic() - live.origin, last, reason=reason,
                                   dropped=sources.inputs.dropped, unmatched=sources.inputs.unmatched)
        except WfError as exc:
            error = error or exc
        finally:
            sources.focus.stop()
            sources.encoder.shutdown()
            try:
                writer.close()
            except WfError as exc:
                error = error or exc
        size = _bundle_bytes(self.settings.out)
        self.status.bytes = size
        if reason == "disk-low" and error is None:
            error = EnvironmentProblem(
                f"stopped: less than {self.settings.options.min_free_mb:g} MB free on the disk holding "
                f"{self.settings.out}", hint="free some space or record elsewhere; the bundle is complete and valid")
        return RecordResult(path=self.settings.out, reason=reason, events=writer.lines,
                            dropped=sources.inputs.dropped, screens=writer.screens_written,
                            duration=time.monotonic() - live.origin, bytes=size, error=error,
                            unmatched=sources.inputs.unmatched)


class DiskFloor:
    """Free space where the bundle is written, checked about once a second (a statvfs costs ~2 µs)."""

    CHECK_EVERY = 1.0

    def __init__(self, path: Path, min_free_mb: float) -> None:
        self.path = path
        self.floor = int(min_free_mb * 1_000_000)
        self.free: int | None = None
        self._next = 0.0

    def low(self, now: float) -> bool:
        if now < self._next:
            return False
        self._next = now + self.CHECK_EVERY
        self.free = _free_bytes(self.path)
        return self.free is not None and self.free < self.floor

    def check_start(self) -> None:
        """Refuse to start below the floor (a recording that would stop at once helps nobody)."""
        free = _free_bytes(self.path, writable_only=True)
        if free is not None and free < self.floor:
            raise EnvironmentProblem(f"only {free / 1e6:.0f} MB free where {self.path} would be written "
                                     f"(the floor is {self.floor / 1e6:g} MB)",
                                     hint="free some space, record elsewhere, or lower --min-free")


def _free_bytes(path: Path, *, writable_only: bool = False) -> int | None:
    """Bytes available to us on the filesystem of ``path`` (or of its nearest existing parent).

    With ``writable_only`` a read-only filesystem says None: "cannot create" is the better error there.
    """
    for p in (path, *path.absolute().parents):
        try:
            st = os.statvfs(p)
        except OSError:
            continue
        if writable_only and st.f_flag & os.ST_RDONLY:
            return None
        return st.f_bavail * st.f_frsize
    return None


def _bundle_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, f))
    return total


__all__ = ["RecordResult", "Recorder", "Status"]

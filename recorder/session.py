"""One recording session: sets up capture, runs the writer loop, stops cleanly.

Threads: the X RECORD listener (input), the screen grabber, the window poller and the PNG encoder feed
this module's writer loop, which runs on the calling (main) thread so that signal handlers only set a
flag. Every ~30 ms the loop drains the input queue and merges input and focus changes in time order up to
a *watermark* (input is complete up to "now − slack" and the window poller has looked after that point, so
an excluded window is known on both sides of a key press); it inserts `screen` lines for pre-action and
post-action frames and holds later lines back in memory until the PNG they follow is on disk.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import platform
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from wf.bundle.errors import BadInput, EnvironmentProblem, WfError
from wf.bundle.events import (
    Event,
    Header,
    KeyDown,
    KeyUp,
    Mark,
    Monitor,
    Pause,
    PlatformInfo,
    RecorderInfo,
    Resume,
    ScreenGeometry,
    Stop,
    Window,
    to_dict,
)
from wf.bundle.paths import check_new_directory
from wf.bundle.reader import SCREENS_DIR
from wf.bundle.version import wf_version
from wf.bundle.writer import BundleWriter
from wf.recorder.control import (
    DEFAULT_MARK_KEY,
    DEFAULT_PAUSE_KEY,
    DEFAULT_STOP_KEY,
    ChordFilter,
    Control,
    Hotkey,
    modifier_of,
)
from wf.recorder.detect import ActionDetector
from wf.recorder.exclusion import ExclusionRules
from wf.recorder.input import InputCapture
from wf.recorder.screens import Encoded, Frame, FrameEncoder, ScreenCapture
from wf.recorder.windows import FocusChange, WindowTracker

LOOP_INTERVAL = 0.03  # writer loop period
INPUT_SLACK = 0.05  # input stamped up to this much in the past may still arrive (server batches)
MAX_HOLD = 0.25  # never hold input back longer than this waiting for the window poller
SETTLE_TIMEOUT = 3.0  # an action whose screen never settles gets the latest frame as its post screen
RING_BYTES = 64 << 20  # memory bound of the raw frame ring (7 frames at 1920×1080)
FLUSH_INTERVAL = 0.1  # BundleWriter flush period: a SIGKILL loses at most ~MAX_HOLD + this


@dataclass
class RecordOptions:
    out: Path
    task: str | None = None
    duration: float | None = None
    launch: str | None = None
    fps: float = 5.0
    stop_key: str = DEFAULT_STOP_KEY
    pause_key: str = DEFAULT_PAUSE_KEY
    mark_key: str = DEFAULT_MARK_KEY
    exclude_window: list[str] = field(default_factory=list)
    config: str | None = None  # the config file the defaults came from, recorded in the header
    display: str | None = None  # default: $DISPLAY


@dataclass
class Status:
    """What the live status line shows; updated by the writer loop."""

    elapsed: float = 0.0
    events: int = 0
    screens: int = 0
    bytes: int = 0
    paused: bool = False
    dropped: int = 0


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


@dataclass
class _PostPending:
    action_t: float
    last_t: float  # the action's latest event: its post screen is the screen once settled after this
    excluded: bool


class _Out:
    """Lines waiting to be written, in order; a screen line waits for its PNG."""

    def __init__(self) -> None:
        self.items: deque[dict[str, object] | tuple[Future[Encoded], Frame, dict[str, object]]] = deque()


class Recorder:
    """Records one bundle. ``run()`` blocks until the recording stops and returns what happened."""

    def __init__(self, opts: RecordOptions, *, on_ready: Callable[[Recorder], None] | None = None,
                 on_tick: Callable[[Status], None] | None = None) -> None:
        self.opts = opts
        self.on_ready = on_ready
        self.on_tick = on_tick
        if not opts.fps or opts.fps <= 0 or opts.fps > 60:
            raise BadInput(f"--fps {opts.fps} is out of range", hint="use a rate between 0.1 and 60 frames/s")
        if opts.duration is not None and opts.duration <= 0:
            raise BadInput(f"--duration {opts.duration} must be positive", hint="give seconds, e.g. --duration 60")
        self.hotkeys = {
            "stop": Hotkey.parse(opts.stop_key, option="--stop-key"),
            "pause": Hotkey.parse(opts.pause_key, option="--pause-key"),
            "mark": Hotkey.parse(opts.mark_key, option="--mark-key"),
        }
        if len({str(h) for h in self.hotkeys.values()}) < 3:
            raise BadInput("--stop-key, --pause-key and --mark-key must differ",
                           hint="give each control its own key")
        self.rules = ExclusionRules.parse(opts.exclude_window)
        self.status = Status()
        self._stop_reason: str | None = None
        self._stop_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._t_written = 0.0
        self._last_window: FocusChange | None = None
        self._window_upto = -1.0
        self._paused = False
        self._post: _PostPending | None = None
        self._pending_input: deque[Event] = deque()
        self._out = _Out()
        self._stored: dict[int, tuple[str, str]] = {}  # raw frame hash -> (relative path, rgb hash)
        self.frame_ages: list[float] = []  # pre-action frame ages (for the benchmark)
        self._chords = ChordFilter(self.hotkeys)
        self._detector = ActionDetector()
        self._hotkey_stop_t: float | None = None
        self._prefix: list[Event] = []  # modifier presses held until we know whether they begin an action
        self._png_bytes = 0

    # -- public control ----------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        with self._stop_lock:
            if self._stop_reason is None:
                self._stop_reason = reason

    @property
    def stopping(self) -> bool:
        return self._stop_reason is not None

    # -- setup ------------------------------------------------------------------------------------

    def _check_out(self) -> None:
        check_new_directory(self.opts.out)

    def _check_display(self) -> str:
        name = self.opts.display or os.environ.get("DISPLAY", "")
        if not name:
            if os.environ.get("WAYLAND_DISPLAY"):
                raise EnvironmentProblem("Wayland session without an X display: wf records X11 only",
                                         hint="run under XWayland (DISPLAY set) or an X11 session")
            raise EnvironmentProblem("no X display: DISPLAY is not set",
                                     hint="run inside an X11 session, or start one with "
                                          "`Xvfb :99 & export DISPLAY=:99`")
        return name

    def _geometry(self, display: str) -> ScreenGeometry:
        import mss
        import mss.exception

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

    def _header(self, display: str, geometry: ScreenGeometry, started: str) -> Header:
        options: dict[str, object] = {
            "fps": self.opts.fps,
            "stop_key": str(self.hotkeys["stop"]),
            "pause_key": str(self.hotkeys["pause"]),
            "mark_key": str(self.hotkeys["mark"]),
            "exclude_window": self.rules.specs,
            "config": self.opts.config,
            "duration": self.opts.duration,
            "stable_fraction": 0.01,
            "input": "x11-record",
            "encoder": "png",
        }
        return Header(
            format="wf-bundle", version=1, started=started,
            recorder=RecorderInfo(name="wf", version=wf_version(), options=options),
            platform=PlatformInfo(system=platform.system(), release=platform.release(),
                                  display=f"x11 {display}", python=platform.python_version()),
            screen=geometry, task=self.opts.task, launch=self.opts.launch,
        )

    def _launch(self, display: str) -> None:
        cmd = self.opts.launch
        if not cmd:
            return
        try:
            argv = shlex.split(cmd)
        except ValueError as exc:
            raise BadInput(f"--launch {cmd!r} cannot be parsed: {exc}", hint="quote it as for a shell") from None
        if not argv:
            raise BadInput("--launch needs a command", hint="e.g. --launch 'xterm -geometry 80x24+0+0'")
        env = dict(os.environ, DISPLAY=display)
        before = _mapped_toplevels(display)
        try:
            self._proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise BadInput(f"--launch: cannot start {argv[0]!r}: {exc.strerror}",
                           hint="check the command and that it is installed") from None
        # Start recording once the app shows a window, so the first screen shows it (up to 10 s).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._proc.poll() is None and not self.stopping:
            if _mapped_toplevels(display) - before:
                time.sleep(0.3)  # let it paint
                return
            time.sleep(0.05)

    # -- main --------------------------------------------------------------------------------------

    def run(self) -> RecordResult:
        self._check_out()
        display = self._check_display()
        check_x_server(display)
        geometry = self._geometry(display)
        restore = self._install_signals()
        try:
            self._launch(display)
            return self._record_session(display, geometry)
        finally:
            restore()

    def _record_session(self, display: str, geometry: ScreenGeometry) -> RecordResult:
        origin = time.monotonic()
        started = datetime.now(UTC).isoformat()
        writer = BundleWriter(self.opts.out, self._header(display, geometry, started),
                              flush_interval=FLUSH_INTERVAL)
        self.writer = writer
        self.origin = origin
        capture = ScreenCapture(origin, fps=self.opts.fps, display=display,
                                ring=ring_size(self.opts.fps, geometry.width * geometry.height * 4))
        windows = WindowTracker(origin, self.rules, display=display)
        inputs = InputCapture(origin, display=display)
        encoder = FrameEncoder()
        self.capture, self.windows, self.inputs, self.encoder = capture, windows, inputs, encoder
        error: WfError | None = None
        try:
            try:
                first = capture.start()
            except RuntimeError as exc:
                raise EnvironmentProblem(f"cannot grab the screen: {capture.error or exc}",
                                         hint="check DISPLAY and that the X server is running") from None
            windows.start()
            inputs.start()
            self._screen(first, "start", first.captured, excluded=self._excluded_now(first.captured))
            self._emit_window_changes(windows.last_poll)
            if self.on_ready:
                self.on_ready(self)
            self._loop()
        except WfError as exc:
            error = exc
            self.request_stop("error")
        finally:
            result = self._finish(error)
        return result

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

    def _now(self) -> float:
        return time.monotonic() - self.origin

    def _loop(self) -> None:
        deadline = self.opts.duration
        while not self.stopping:
            time.sleep(LOOP_INTERVAL)
            now = self._now()
            if deadline is not None and now >= deadline:
                self.request_stop("duration")
            if self._proc is not None and self._proc.poll() is not None:
                self.request_stop("app-exited")
            if not self.inputs.running:
                raise EnvironmentProblem("input capture stopped (the X server went away?)",
                                         hint="what was recorded so far is kept")
            if self.capture.error is not None:
                raise EnvironmentProblem(f"screen capture failed: {self.capture.error}",
                                         hint="what was recorded so far is kept")
            self._step(now, final=False)
            self._tick(now)

    def _tick(self, now: float) -> None:
        st = self.status
        st.elapsed = now
        st.events = self.writer.lines
        st.screens = self.writer.screens_written
        st.paused = self._paused
        with contextlib.suppress(OSError):
            st.bytes = os.path.getsize(self.writer.events_path) + self._png_bytes
        st.dropped = self.inputs.dropped
        if self.on_tick:
            self.on_tick(st)

    # -- the writer loop's step --------------------------------------------------------------------

    def _step(self, now: float, *, final: bool) -> None:
        inputs = self.inputs
        for raw in inputs.drain_raw():
            ev = inputs.to_event(raw)
            if ev is not None:
                self._pending_input.append(ev)
        last_poll = self.windows.last_poll
        upto = float("inf") if final else max(min(now - INPUT_SLACK, last_poll), now - MAX_HOLD)
        pending = self._pending_input
        while pending and pending[0].t <= upto:
            ev = pending.popleft()
            self._emit_window_changes(ev.t)
            self._input(ev)
            if self.stopping and not final:
                break
        if not self.stopping or final:
            self._emit_window_changes(min(upto, last_poll))
        self._maybe_post(upto if not final else now)
        self._drain_out(wait=final)
        self.writer.flush()

    def _clamp(self, t: float) -> float:
        """Round `t` to the µs and keep it non-decreasing (a late server batch may be stamped slightly back)."""
        t = round(t, 6)
        if t < self._t_written:
            return self._t_written
        self._t_written = t
        return t

    def _emit_window_changes(self, upto: float) -> None:
        for ch in self.windows.changes_between(self._window_upto, upto):
            self._window_upto = ch.t
            self._last_window = ch
            self._detector.new_context()
            if self._paused:
                continue
            w = ch.window
            if w is None:
                ev = Window(t=self._clamp(ch.t), title="", excluded=False)
            else:
                ev = Window(t=self._clamp(ch.t), title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id,
                            x=w.x, y=w.y, width=w.width, height=w.height, excluded=ch.excluded)
            self._line(to_dict(ev))
        self._window_upto = max(self._window_upto, upto)

    def _excluded_now(self, t: float) -> bool:
        return bool(self.rules) and self.windows.excluded_around(t)

    def _input(self, ev: Event) -> None:
        if self._hotkey_stop_t is not None and ev.t > self._hotkey_stop_t:
            return  # after the stop hotkey: not part of the demonstration
        for item in self._chords.feed(ev):
            if type(item) is Control:
                self._control(item)
            else:
                self._record(item)  # type: ignore[arg-type]

    def _control(self, c: Control) -> None:
        t = self._clamp(c.t)
        if c.name == "stop":
            self._hotkey_stop_t = c.t
            self.request_stop("hotkey")
        elif c.name == "pause":
            if self._paused:
                self._paused = False
                self._line(to_dict(Resume(t=t, reason="hotkey")))
                self._emit_current_window(t)
                frame = self.capture.latest()
                if frame is not None:
                    self._screen(frame, "resume", t, excluded=self._excluded_now(t))
            else:
                self._flush_prefix()
                self._resolve_post(t)
                self._line(to_dict(Pause(t=t, reason="hotkey")))
                self._paused = True
        elif c.name == "mark" and not self._paused:
            self._line(to_dict(Mark(t=t, label=None)))
            frame = self.capture.pre_frame(c.t)
            if frame is not None:
                self._screen(frame, "mark", t, excluded=self._excluded_now(c.t))

    def _emit_current_window(self, t: float) -> None:
        ch = self._last_window
        if ch is None or ch.window is None:
            return
        w = ch.window
        self._line(to_dict(Window(t=t, title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id, x=w.x, y=w.y,
                                  width=w.width, height=w.height, excluded=ch.excluded)))

    def _record(self, ev: Event) -> None:
        detector = self._detector
        starts = detector.starts_action(ev)  # also while paused: it tracks which keys are held
        if self._paused:
            return
        if type(ev) is KeyDown and modifier_of(ev.key) is not None:
            # A modifier press may begin a hotkey or shifted typing: hold it so the action's pre screen
            # can go before it (the action starts with the modifier, not with the key that follows).
            self._prefix.append(ev)
            return
        prefix, self._prefix = self._prefix, []
        if prefix and starts:
            self._begin_action(prefix[0].t, prefix[0])
            starts = False
        for p in prefix:
            self._write_input(p)
        if starts:
            self._begin_action(ev.t, ev)
        elif self._post is not None and detector.extends_action(ev):
            self._post.last_t = ev.t
            self._post.excluded = self._post.excluded or self._excluded_now(ev.t)
        self._write_input(ev)

    def _flush_prefix(self) -> None:
        prefix, self._prefix = self._prefix, []
        for p in prefix:
            self._write_input(p)

    def _begin_action(self, t0: float, first: Event) -> None:
        """An action starts with event ``first`` at ``t0``: close the previous one, insert the pre screen."""
        self._resolve_post(t0)
        excluded = self._excluded_now(t0)
        if not excluded:
            frame = self.capture.pre_frame(t0)
            if frame is not None:
                self.frame_ages.append(t0 - frame.captured)
                self._screen(frame, "pre", t0, excluded=False)
        self._post = _PostPending(action_t=t0, last_t=t0, excluded=excluded)

    def _write_input(self, ev: Event) -> None:
        t = self._clamp(ev.t)
        if type(ev) in (KeyDown, KeyUp) and self._excluded_now(ev.t):
            self._line({"t": t, "type": "redacted", "kind": "key_down" if type(ev) is KeyDown else "key_up"})
            return
        self._line(_event_dict(ev, t))

    # -- screens -----------------------------------------------------------------------------------

    def _maybe_post(self, upto: float) -> None:
        """Emit the pending action's post screen once the screen has settled after it."""
        post = self._post
        if post is None:
            return
        frames = [f for f in self.capture.snapshot() if f.captured <= upto]
        after = [f for f in frames if f.captured > post.last_t]
        chosen = None
        for prev, f in itertools.pairwise(after):
            if f.stable and prev.captured > post.last_t:
                chosen = f
                break
        if chosen is None and after and upto - post.last_t > SETTLE_TIMEOUT:
            chosen = after[-1]
        if chosen is not None:
            self._post = None
            if not post.excluded and not self._excluded_now(chosen.captured):
                self._screen(chosen, "post", self._clamp(chosen.captured), excluded=False)

    def _resolve_post(self, t: float) -> None:
        """The next action starts at ``t``: the previous one's post screen is the last frame before it."""
        post = self._post
        if post is None:
            return
        self._post = None
        if post.excluded:
            return
        frames = [f for f in self.capture.snapshot() if post.last_t < f.captured < t]
        if frames and not self._excluded_now(frames[-1].captured):
            f = frames[-1]
            self._screen(f, "post", self._clamp(f.captured), excluded=False)

    def _screen(self, frame: Frame, reason: str, t: float, *, excluded: bool) -> None:
        if excluded:
            return
        fields: dict[str, object] = {"t": self._clamp(t), "type": "screen", "width": frame.width,
                                     "height": frame.height, "reason": reason,
                                     "captured": round(frame.captured, 6), "x": frame.x, "y": frame.y}
        known = self._stored.get(frame.raw_hash)
        if known is not None:
            fields["path"], fields["hash"] = known
            self._line(fields)
            return
        self._out.items.append((self.encoder.submit(frame), frame, fields))

    def _line(self, d: dict[str, object]) -> None:
        if self._out.items:
            self._out.items.append(d)
        else:
            self.writer.write_dict(d)

    def _drain_out(self, *, wait: bool) -> None:
        items = self._out.items
        while items:
            head = items[0]
            if isinstance(head, dict):
                self.writer.write_dict(head)
                items.popleft()
                continue
            job, frame, fields = head
            if not job.done():
                if not wait:
                    return
                job.result(timeout=60)
            enc = job.result()
            known = self._stored.get(frame.raw_hash)
            if known is None:
                rel = self.writer.store_png(enc.hash, enc.png) if enc.png else f"{SCREENS_DIR}/{enc.hash}.png"
                self._png_bytes += len(enc.png)
                known = (rel, enc.hash)
                self._stored[frame.raw_hash] = known
                self.encoder.forget_png(frame.raw_hash, enc)
            fields["path"], fields["hash"] = known
            self.writer.write_dict(fields)
            items.popleft()

    # -- stop --------------------------------------------------------------------------------------

    def _finish(self, error: WfError | None) -> RecordResult:
        reason = self._stop_reason or "error"
        writer = self.writer
        inputs, capture, windows = self.inputs, self.capture, self.windows
        inputs.stop()
        final = capture.stop()
        try:
            if error is None or getattr(writer, "failed", None) is None:
                now = self._now()
                self._step(now, final=True)
                for item in self._chords.flush():
                    if type(item) is not Control:
                        self._record(item)  # type: ignore[arg-type]
                self._flush_prefix()
                self._resolve_post(now)
                if final is not None and not self._paused:
                    self._screen(final, "stop", max(now, final.captured),
                                 excluded=self._excluded_now(final.captured))
                self._drain_out(wait=True)
                stop = Stop(t=self._clamp(now), reason=reason, events=writer.lines,
                            dropped=inputs.dropped, screens=writer.screens_written)
                writer.write_dict(to_dict(stop))
                writer.flush()
        except WfError as exc:
            error = error or exc
        finally:
            windows.stop()
            self.encoder.shutdown()
            try:
                writer.close()
            except WfError as exc:
                error = error or exc
        size = _bundle_bytes(self.opts.out)
        self.status.bytes = size
        return RecordResult(path=self.opts.out, reason=reason, events=writer.lines, dropped=inputs.dropped,
                            screens=writer.screens_written, duration=self._now(), bytes=size, error=error)


def check_x_server(display: str) -> None:
    """Fail early, before a bundle exists, when the display cannot be opened or cannot report input."""
    import Xlib.display
    import Xlib.error

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


def ring_size(fps: float, frame_bytes: int) -> int:
    """Frames of history to keep: ~1.5 s (the writer lags < 0.3 s), at most RING_BYTES of distinct frames."""
    return max(4, min(int(fps * 1.5) + 1, RING_BYTES // max(1, frame_bytes)))


def _event_dict(ev: Event, t: float) -> dict[str, object]:
    d = to_dict(ev)
    d["t"] = t
    return d


def _bundle_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, f))
    return total


def _mapped_toplevels(display: str) -> set[int]:
    """Ids of the viewable children of the root window."""
    import Xlib.display
    import Xlib.error
    import Xlib.X

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


def describe_capture(rec: Recorder, *, exclusions: str | None = None) -> str:
    """The start notice: what is captured and how to control the recording.

    ``exclusions`` replaces the list of exclusion regexes (the built-in list is long) with a summary.
    """
    hk = rec.hotkeys
    lines = [
        f"wf: recording to {rec.opts.out}",
        f"  capturing: every key press and mouse event, the screen {rec.opts.fps:g}×/s (stored around "
        "actions), focused window titles",
    ]
    if rec.rules:
        shown = exclusions or ", ".join(rec.rules.specs)
        lines.append(f"  excluded windows (keys redacted, no screens): {shown}")
    stop = f"  stop: {hk['stop']} or Ctrl+C"
    if rec.opts.duration:
        stop += f" (or after {rec.opts.duration:g} s)"
    if rec.opts.launch:
        stop += " (or when the launched app exits)"
    lines.append(stop + f" · pause/resume: {hk['pause']} · mark: {hk['mark']}")
    return "\n".join(lines)


__all__ = ["RecordOptions", "RecordResult", "Recorder", "Status", "describe_capture"]

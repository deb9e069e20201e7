"""The writer's state machine: input and focus changes merged in time order, with screens around actions.

Every ~30 ms the entry point calls :meth:`Merger.step`. It drains the input source and processes input
events and focus changes in time order up to a *watermark* (input is complete up to "now − slack", and the
window poller has looked after that point, so an excluded window is known on both sides of a key press).
Each event goes through the control chords (stop / pause / mark never reach the bundle), the action-start
rule (a `pre` screen before the action, the held modifier presses of a hotkey included), exclusion (keys
become `redacted` placeholders, no screens) and the post-screen rule (the first settled frame after the
action). Frames are looked at in time order with the input too: what changed with no input before it
feeds the volatile regions (volatile.py). Lines leave through an :class:`OutQueue`, which holds them until
the PNG they follow is on disk.

Pure apart from its sources and sink: unit-tested with scripted sources (tests/test_recorder_merge.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from msgspec.structs import replace

from wf.bundle.events import Event, KeyDown, KeyUp, Mark, Pause, Redacted, Resume, ScreenReason, Stop, Window
from wf.bundle.keys import modifier_of
from wf.recorder.control import ChordFilter, Control, Hotkey
from wf.recorder.detect import ActionDetector
from wf.recorder.focus import FocusChange
from wf.recorder.frames import Frame, last_frame_between, pre_frame, settled_frame
from wf.recorder.outqueue import EventSink, OutQueue
from wf.recorder.sources import FocusLookup, FrameEncoding, FrameHistory, InputQueue
from wf.recorder.volatile import VolatileTracker, unprompted

INPUT_SLACK = 0.05  # input stamped up to this much in the past may still arrive (server batches)
MAX_HOLD = 0.25  # never hold input back longer than this waiting for the window poller
SETTLE_TIMEOUT = 3.0  # s: an action whose screen has not changed and settled by then gets the newest frame


class StopFlag:
    """Why the recording stops; the first reason given wins.

    Set only on the thread that runs the loop (signal handlers run there too), so it needs no lock — a
    lock would deadlock a handler that interrupts the loop while it holds it.
    """

    def __init__(self) -> None:
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    @property
    def is_set(self) -> bool:
        return self.reason is not None


@dataclass
class _PostPending:
    action_t: float
    last_t: float  # the action's latest event: its post screen is the screen once settled after this
    excluded: bool


class Merger:
    """Turns the sources' streams into bundle lines; one thread (the entry point's loop) drives it."""

    def __init__(self, *, hotkeys: dict[str, Hotkey], exclusions: bool, frames: FrameHistory, focus: FocusLookup,
                 inputs: InputQueue, encoder: FrameEncoding, sink: EventSink, stop: StopFlag,
                 masks: bool = False) -> None:
        self.frames = frames
        self.focus = focus
        self.inputs = inputs
        self.sink = sink
        self.out = OutQueue(sink, encoder)
        self.stop = stop
        self.paused = False
        self._exclusions = exclusions  # any rules at all: without them no lookup is needed
        self._hidden_keys = exclusions or masks  # --mask-window hides the keys too
        self.volatile = VolatileTracker()
        self._frame_seq = -1  # the newest frame whose changes were looked at
        self._last_input_t: float | None = None
        self._chords = ChordFilter(hotkeys)
        self._detector = ActionDetector()
        self._pending: deque[Event] = deque()  # drained input not yet below the watermark
        self._prefix: list[Event] = []  # modifier presses held until we know whether they begin an action
        self._post: _PostPending | None = None
        self._t_written = 0.0
        self._last_window: FocusChange | None = None
        self._window_upto = -1.0
        self._hotkey_stop_t: float | None = None

    # -- driven by the entry point -----------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing held: no input waiting, no action waiting for its post screen, no line waiting for a PNG."""
        return not self._pending and not self._prefix and self._post is None and not len(self.out)

    def begin(self, first: Frame) -> None:
        """The `start` screen and the focused window, before any input is accepted."""
        self._screen(first, "start", first.captured, excluded=self._excluded_now(first.captured))
        self._emit_window_changes(self.focus.last_poll)

    def step(self, now: float, *, final: bool = False) -> None:
        """Process everything below the watermark (everything at all when ``final``) and write it out."""
        self._pending.extend(self.inputs.drain())
        last_poll = self.focus.last_poll
        upto = float("inf") if final else max(min(now - INPUT_SLACK, last_poll), now - MAX_HOLD)
        pending = self._pending
        frames = [f for f in self.frames.snapshot() if f.seq > self._frame_seq and f.captured <= upto]
        fi = 0
        while pending and pending[0].t <= upto:
            ev = pending.popleft()
            while fi < len(frames) and frames[fi].captured < ev.t:  # changes in time order with the input
                self._frame_changes(frames[fi])
                fi += 1
            self._emit_window_changes(ev.t)
            self._last_input_t = ev.t
            self._input(ev)
            if self.stop.is_set and not final:
                break
        for f in frames[fi:]:
            self._frame_changes(f)
        if not self.stop.is_set or final:
            self._emit_window_changes(min(upto, last_poll))
        self._maybe_post(upto if not final else now)
        self.out.drain(wait=final)
        self.sink.flush()

    def finish(self, now: float, last: Frame | None, *, reason: str, dropped: int, unmatched: int = 0) -> None:
        """After the sources stopped: everything still held, the `stop` screen and the `stop` line."""
        self.step(now, final=True)
        for item in self._chords.flush():
            if not isinstance(item, Control):
                self._record(item)
        self._flush_prefix()
        self._resolve_post(now)
        for v in self.volatile.flush(now):
            self.out.line(replace(v, t=self._clamp(v.t)))
        if last is not None and not self.paused:
            self._screen(last, "stop", max(now, last.captured), excluded=self._excluded_now(last.captured))
        self.out.drain(wait=True)
        sink = self.sink
        sink.write(Stop(t=self._clamp(now), reason=reason, events=sink.lines, dropped=dropped,
                        screens=sink.screens_written, unmatched=unmatched))
        sink.flush()

    # -- merging -----------------------------------------------------------------------------------

    def _clamp(self, t: float) -> float:
        """Round `t` to the µs and keep it non-decreasing (a late server batch may be stamped slightly back)."""
        t = round(t, 6)
        if t < self._t_written:
            return self._t_written
        self._t_written = t
        return t

    def _frame_changes(self, f: Frame) -> None:
        """A frame's changed boxes: unprompted ones feed the volatile regions (volatile.py)."""
        self._frame_seq = f.seq
        if not f.boxes or self.paused:
            return
        if unprompted(f.captured, self._last_input_t, post_pending=self._post is not None):
            for v in self.volatile.observe(f.captured, f.boxes):
                self.out.line(replace(v, t=self._clamp(v.t)))

    def _emit_window_changes(self, upto: float) -> None:
        for ch in self.focus.changes_between(self._window_upto, upto):
            self._window_upto = ch.t
            self._last_window = ch
            if ch.kind != "geometry":  # moving a window does not end the typing in it
                self._detector.new_context()
            if not self.paused:
                self.out.line(_window_line(ch, self._clamp(ch.t)))
        self._window_upto = max(self._window_upto, upto)

    def _excluded_now(self, t: float) -> bool:
        return self._exclusions and self.focus.excluded_around(t)

    def _keys_hidden_now(self, t: float) -> bool:
        return self._hidden_keys and self.focus.keys_hidden_around(t)

    def _input(self, ev: Event) -> None:
        if self._hotkey_stop_t is not None and ev.t > self._hotkey_stop_t:
            return  # after the stop hotkey: not part of the demonstration
        for item in self._chords.feed(ev):
            if isinstance(item, Control):
                self._control(item)
            else:
                self._record(item)

    def _control(self, c: Control) -> None:
        t = self._clamp(c.t)
        if c.name == "stop":
            self._hotkey_stop_t = c.t
            self.stop.request("hotkey")
        elif c.name == "pause":
            if self.paused:
                self.paused = False
                self.out.line(Resume(t=t, reason="hotkey"))
                ch = self._last_window
                if ch is not None and ch.window is not None:
                    self.out.line(_window_line(ch, t))
                frame = self.frames.latest()
                if frame is not None:
                    self._screen(frame, "resume", t, excluded=self._excluded_now(t))
            else:
                self._flush_prefix()
                self._resolve_post(t)
                self.out.line(Pause(t=t, reason="hotkey"))
                self.paused = True
        elif c.name == "mark" and not self.paused:
            self.out.line(Mark(t=t, label=None))
            frame = pre_frame(self.frames.snapshot(), c.t)
            if frame is not None:
                self._screen(frame, "mark", t, excluded=self._excluded_now(c.t))

    def _record(self, ev: Event) -> None:
        detector = self._detector
        starts = detector.starts_action(ev)  # also while paused: it tracks which keys are held
        if self.paused:
            return
        if type(ev) is KeyDown and modifier_of(ev.key) is not None:
            # A modifier press may begin a hotkey or shifted typing: hold it so the action's pre screen
            # can go before it (the action starts with the modifier, not with the key that follows).
            self._prefix.append(ev)
            return
        prefix, self._prefix = self._prefix, []
        if prefix and starts:
            self._begin_action(prefix[0].t)
            starts = False
        for p in prefix:
            self._write_input(p)
        if starts:
            self._begin_action(ev.t)
        elif self._post is not None and detector.extends_action(ev):
            self._post.last_t = ev.t
            self._post.excluded = self._post.excluded or self._excluded_now(ev.t)
        self._write_input(ev)

    def _flush_prefix(self) -> None:
        prefix, self._prefix = self._prefix, []
        for p in prefix:
            self._write_input(p)

    def _begin_action(self, t0: float) -> None:
        """An action starts at ``t0``: close the previous one, insert the pre screen."""
        self._resolve_post(t0)
        excluded = self._excluded_now(t0)
        if not excluded:
            frame = pre_frame(self.frames.snapshot(), t0)
            if frame is not None:
                self._screen(frame, "pre", t0, excluded=False)
        self._post = _PostPending(action_t=t0, last_t=t0, excluded=excluded)

    def _write_input(self, ev: Event) -> None:
        t = self._clamp(ev.t)
        kind = type(ev)
        if (kind is KeyDown or kind is KeyUp) and self._keys_hidden_now(ev.t):
            self.out.line(Redacted(t=t, kind="key_down" if kind is KeyDown else "key_up"))
            return
        self.out.line(ev if t == ev.t else replace(ev, t=t))

    # -- screens -----------------------------------------------------------------------------------

    def _maybe_post(self, upto: float) -> None:
        """Emit the pending action's post screen once the screen has settled after it."""
        post = self._post
        if post is None:
            return
        chosen = settled_frame(self.frames.snapshot(), post.last_t, upto, timeout=SETTLE_TIMEOUT,
                               counts=self._may_be_effect)
        if chosen is not None:
            self._post = None
            if not post.excluded and not self._excluded_now(chosen.captured):
                self._screen(chosen, "post", self._clamp(chosen.captured), excluded=False)

    def _may_be_effect(self, f: Frame) -> bool:
        """A frame's change can be an action's effect unless it is all inside known volatile regions (a clock)."""
        return not self.volatile.covers(f.boxes)

    def _resolve_post(self, t: float) -> None:
        """The next action starts at ``t``: the previous one's post screen is the last frame before it."""
        post = self._post
        if post is None:
            return
        self._post = None
        if post.excluded:
            return
        f = last_frame_between(self.frames.snapshot(), post.last_t, t)
        if f is not None and not self._excluded_now(f.captured):
            self._screen(f, "post", self._clamp(f.captured), excluded=False)

    def _screen(self, frame: Frame, reason: ScreenReason, t: float, *, excluded: bool) -> None:
        if not excluded:
            self.out.screen(frame, reason, self._clamp(t))


def _window_line(ch: FocusChange, t: float) -> Window:
    w = ch.window
    if w is None:
        return Window(t=t, title="", excluded=False)
    return Window(t=t, title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id, x=w.x, y=w.y, width=w.width,
                  height=w.height, excluded=ch.keys_hidden)

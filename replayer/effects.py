"""Watching each step's effect during a replay: did the screen reach the recorded post-action state?

After a step's last event the live screen is compared, volatile regions masked, with the step's recorded
``after`` screen (``wf.replayer.expectations``), until it matches or the watch ends:

* ``--sync screen``: the injection thread waits for it (up to ``--sync-timeout``); the schedule moves by
  the time waited, as it does for pre-action screens;
* ``--sync none`` (strict timing): nothing waits. The injection thread grabs the screen in the idle time
  before each later event, while at least ``margin`` is left before that event is due (a grab is ~4 ms),
  and the worker thread compares the grabs; the watch ends when the next step is due to begin (the effect
  must have happened by then), after the last step when the screen has had ``settle`` seconds.

``--halt-on-divergence``: a step whose effect did not happen stops the replay before the next step begins
(with sync none the pending comparisons are finished first).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from wf.bundle.events import Screen
from wf.bundle.replays import Box, EffectStatus
from wf.replayer.checkpoints import POLL, Checkpointer
from wf.replayer.compare import Frame, FrameDiff, RawShot, compare, save_png
from wf.replayer.expectations import EPSILON, Expectation

MARGIN = 0.008  # s left before the next event when a grab may start (raised to 2× the slowest grab seen)
MAX_MARGIN = 0.05
MAX_PENDING = 2  # grabs waiting for the worker; more would only cost memory (4 MB each)


@dataclass
class ScreenResult:
    """The live screen after one step against its recorded post-action screen."""

    status: EffectStatus  # verified: matched; differs: never matched; unchecked: not looked at
    why: str | None = None
    recorded: str | None = None
    replayed: str | None = None
    differing: int | None = None
    bbox: Box | None = None
    similarity: float | None = None
    waited: float | None = None


@dataclass
class _Watch:
    step: int
    target: Screen
    opened: float
    best: tuple[FrameDiff, Frame | RawShot] | None = None
    matched_at: float | None = None
    pending: int = 0
    polls: int = 0
    last_poll: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class EffectWatcher:
    """Per-step effect checks for one replay (``expected``: the steps of the replayed range, by index)."""

    def __init__(self, cp: Checkpointer, expected: dict[int, Expectation], *, sync: bool, timeout: float,
                 settle: float) -> None:
        self.cp = cp
        self.expected = expected
        self.sync = sync
        self.timeout = timeout
        self.settle = settle
        self.margin = MARGIN
        self.results: dict[int, ScreenResult] = {}
        self.open: _Watch | None = None
        self.diverged = False  # a step's effect did not happen (sync: later waits are shorter)
        self.pending: tuple[int, Screen, float] | None = None  # sync: (step, its screen, when it ended)
        self.last_waited: int | None = None

    # -- driven by the levels ---------------------------------------------------------------------------

    def ended(self, step: int, *, defer: bool = False) -> bool:
        """The step's last event was sent. Returns False when its effect did not happen (sync only).

        ``defer`` (sync, events level): do not wait yet — the recorded post-action screen may have been
        captured after later pointer moves; ``wait_pending`` waits when the replay reaches its moment."""
        self.close()
        exp = self.expected.get(step)
        if exp is None:
            return True
        if exp.unwatchable() is not None or exp.after is None:
            self.results[step] = ScreenResult("unchecked", exp.unwatchable())
            return True
        if self.sync:
            self.pending = (step, exp.after, time.monotonic())
            return self.wait_pending() if not defer else True
        self.open = _Watch(step, exp.after, time.monotonic())
        return True

    def due(self, t: float) -> bool:
        """Whether a pending wait must happen before an event of bundle time ``t`` is sent."""
        return self.pending is not None and t > self.pending[1].captured + EPSILON

    def wait_pending(self) -> bool:
        """Sync: wait for the pending step's post-action screen. Returns False when it never came."""
        if self.pending is None:
            return True
        step, target, since = self.pending
        self.pending = None
        # Once a step has diverged the verdict is failed: later steps get the settle time, not the whole
        # --sync-timeout each (a replay into the wrong app must not take steps × timeout to end).
        timeout = self.timeout if not self.diverged else min(self.timeout, self.settle)
        frame, d, ok, _ = self.cp.wait_for(target, timeout)
        self.results[step] = self._result(step, target, d, frame, ok, time.monotonic() - since if ok else None,
                                          inline=False)
        self.diverged = self.diverged or not ok
        self.last_waited = step
        return ok

    def idle(self, until: float) -> None:
        """Sync none: look at the screen while the next event (due at monotonic ``until``) leaves time."""
        w = self.open
        while w is not None and w.matched_at is None:
            now = time.monotonic()
            left = until - now - self.margin
            if left <= 0:
                return
            if w.pending >= MAX_PENDING or (w.polls and now - w.last_poll < POLL):
                time.sleep(min(left, max(POLL - (now - w.last_poll), 0.002)))
                continue
            raw = self.cp.grabber.grab_raw_like(w.target)
            took = time.monotonic() - now
            self.margin = min(max(self.margin, 2 * took), MAX_MARGIN)
            with w.lock:
                w.polls += 1
                w.pending += 1
            w.last_poll = now
            self.cp.later(functools.partial(self._judge, w, raw, now))

    def begin(self, *, halt: bool) -> int | None:
        """A step's first event is about to be sent: the previous step's watch ends. With ``halt``, returns
        that previous step when its effect did not happen (its comparisons are finished first)."""
        w = self.open
        ok = self.close(wait=halt)
        return w.step if halt and w is not None and not ok else None

    def close(self, *, wait: bool = False) -> bool:
        """End the open watch. With ``wait`` its comparisons are finished first and the return value says
        whether its effect happened."""
        w, self.open = self.open, None
        if w is None:
            return True
        if w.polls == 0:
            gap = (time.monotonic() - w.opened) * 1000
            self.results[w.step] = ScreenResult(
                "unchecked", f"the next step followed {gap:.0f} ms later: no time to look without moving the "
                "schedule (--sync screen waits for it)", recorded=w.target.path)
            return True
        if wait:
            self.cp.drain()
            self._conclude(w)
            return w.matched_at is not None
        self.cp.later(lambda: self._conclude(w))
        return True

    def settle_last(self) -> None:
        """After the last event: a pending wait happens now; an open watch gets up to ``settle`` seconds."""
        self.wait_pending()
        w = self.open
        if w is None:
            return
        self.open = None
        self.cp.drain()
        if w.matched_at is None:
            frame, d, ok, _ = self.cp.wait_for(w.target, self.settle)
            if ok or w.best is None or d.differing < w.best[0].differing:
                w.best = (d, frame)
            if ok:
                w.matched_at = time.monotonic()
        self._conclude(w)

    def finish(self) -> dict[int, ScreenResult]:
        self.settle_last()
        self.cp.drain()
        return self.results

    # -- on the worker thread ---------------------------------------------------------------------------

    def _judge(self, w: _Watch, raw: RawShot, at: float) -> None:
        frame = raw.frame()
        d = compare(self.cp.frames.get(w.target), frame, ignore=self.cp.regions(w.target))
        with w.lock:
            w.pending -= 1
            if w.matched_at is not None:
                return
            if self.cp.matches(d):
                w.matched_at = at
                w.best = (d, frame)
            elif w.best is None or d.differing < w.best[0].differing:
                w.best = (d, frame)

    def _conclude(self, w: _Watch) -> None:
        if w.best is None:
            self.results[w.step] = ScreenResult("unchecked", "the screen could not be looked at in time",
                                                recorded=w.target.path)
            return
        d, shot = w.best
        ok = w.matched_at is not None
        waited = (w.matched_at - w.opened) if w.matched_at is not None else None
        frame = shot.frame() if isinstance(shot, RawShot) else shot
        self.results[w.step] = self._result(w.step, w.target, d, frame, ok, waited, inline=True)

    def _result(self, step: int, target: Screen, d: FrameDiff, frame: Frame, ok: bool,
                waited: float | None, *, inline: bool) -> ScreenResult:
        """``inline``: already on the worker (or off the schedule), so the frame is saved right here."""
        path = None
        if self.cp.dir is not None:
            file = Path(self.cp.dir) / f"step{step:05d}-after.png"
            path = str(file)
            if inline:
                save_png(frame, file)
            else:
                self.cp.later(lambda: save_png(frame, file))
        box = None if d.bbox is None else (d.bbox[0] + target.x, d.bbox[1] + target.y, d.bbox[2], d.bbox[3])
        why = None
        if not ok:
            where = f" in {box[2]}×{box[3]} at ({box[0]}, {box[1]})" if box else ""
            why = f"the screen never reached the recorded post-action state: {d.differing} px differ{where}"
        return ScreenResult("verified" if ok else "differs", why, recorded=target.path, replayed=path,
                            differing=d.differing, bbox=box, similarity=d.similarity, waited=waited)

"""Screen checkpoints during a replay: grab the live screen, compare it with the recorded one, save it.

Without sync the injection thread only grabs (~1 ms) and a worker thread compares and saves off the
schedule; with ``--sync screen`` the comparison is inline, because the schedule waits on it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wf.bundle.events import Screen
from wf.bundle.replays import Box, Checkpoint, CheckpointLabel
from wf.replayer.clock import sleep_until
from wf.replayer.compare import Frame, FrameCache, FrameDiff, Grabber, RawShot, compare, save_png
from wf.replayer.options import ReplayOptions
from wf.replayer.plan import Check

POLL = 0.03  # seconds between screen grabs while waiting for a screen


class Checkpointer:
    """Grabs live frames at checkpoints; compares and saves them on a worker thread off the schedule."""

    def __init__(self, grabber: Grabber, frames: FrameCache, directory: Path | None, max_px: int,
                 ignore: list[Box] | None = None) -> None:
        self.grabber = grabber
        self.ignore = ignore or []
        self.frames = frames
        self.dir = directory
        self.max_px = max_px
        self.n = 0
        self.q: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.errors: list[BaseException] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._work, name="wf-replay-checkpoints", daemon=True)
        self.thread.start()

    def matches(self, d: FrameDiff) -> bool:
        return d.differing <= self.max_px

    def wait_for(self, screen: Screen, timeout: float, stop: Callable[[], bool] = lambda: False
                 ) -> tuple[Frame, FrameDiff, bool, float]:
        """Grab until the live screen matches ``screen`` or ``timeout``; the best frame wins."""
        recorded = self.frames.get(screen)
        t0 = time.monotonic()
        best: tuple[Frame, FrameDiff] | None = None
        while True:
            live = self.grabber.grab_like(screen)
            d = compare(recorded, live, ignore=self.regions(screen))
            if best is None or (d.differing, -d.similarity) < (best[1].differing, -best[1].similarity):
                best = (live, d)
            if self.matches(d):
                return live, d, True, time.monotonic() - t0
            if time.monotonic() - t0 >= timeout or stop():
                return best[0], best[1], False, time.monotonic() - t0
            time.sleep(POLL)

    def regions(self, screen: Screen) -> list[Box]:
        """The ignored regions in the coordinates of this (possibly offset) frame."""
        return [(x - screen.x, y - screen.y, w, h) for x, y, w, h in self.ignore]

    def _name(self, label: CheckpointLabel, event: int | None) -> Path | None:
        self.n += 1
        if self.dir is None:
            return None
        return self.dir / (f"{self.n:04d}-{label}" + (f"-event{event}" if event is not None else "") + ".png")

    def result(self, screen: Screen, event: int | None, label: CheckpointLabel, frame: Frame, d: FrameDiff,
               synced: bool | None, waited: float, step: int | None) -> Checkpoint:
        """A checkpoint that was compared already (its frame is saved in the background)."""
        path = self._name(label, event)
        res = Checkpoint(event=event, label=label, recorded=screen.path, similarity=d.similarity,
                               diff_fraction=d.diff_fraction, differing=d.differing, bbox=d.bbox, synced=synced,
                               waited=waited, replayed=str(path) if path else None, step=step)
        if path is not None:
            self.q.put(lambda: self._finish(res, screen, frame))
        return res

    def snapshot(self, screen: Screen, event: int | None, label: CheckpointLabel, step: int | None) -> Checkpoint:
        """Grab now; compare (and save) later on the worker."""
        raw = self.grabber.grab_raw_like(screen)
        path = self._name(label, event)
        res = Checkpoint(event=event, label=label, recorded=screen.path, similarity=0.0, diff_fraction=1.0,
                               differing=-1, replayed=str(path) if path else None, step=step)
        self.q.put(lambda: self._finish(res, screen, raw))
        return res

    def later(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the worker thread, off the schedule (its exception surfaces in ``finish``)."""
        self.q.put(job)

    def _finish(self, res: Checkpoint, screen: Screen, shot: RawShot | Frame) -> None:
        frame = shot.frame() if isinstance(shot, RawShot) else shot
        if res.differing < 0:
            d = compare(self.frames.get(screen), frame, ignore=self.regions(screen))
            res.similarity, res.diff_fraction, res.differing, res.bbox = \
                d.similarity, d.diff_fraction, d.differing, d.bbox
        if res.replayed:
            save_png(frame, Path(res.replayed))

    def _work(self) -> None:
        while (job := self.q.get()) is not None:
            try:
                job()
            except BaseException as exc:  # surfaced by finish(): a lost checkpoint must not pass silently
                self.errors.append(exc)

    def drain(self) -> None:
        """Wait until every job queued so far has run."""
        if self.thread.is_alive():
            done = threading.Event()
            self.q.put(done.set)
            done.wait()

    def finish(self) -> None:
        if self.thread.is_alive():
            self.q.put(None)
            self.thread.join()
        if self.errors:
            raise self.errors[0]


def take_checkpoint(check: Check, opts: ReplayOptions, cp: Checkpointer, checkpoints: list[Checkpoint],
                    origin: float, start: float, shift: float, step_of: Callable[[int], int | None]) -> float:
    """Grab the live screen for one checkpoint; with --sync screen wait for it (returns the new shift)."""
    due = origin + start + check.at + shift
    sleep_until(due)
    step = step_of(check.event) if check.event is not None else None
    if opts.sync == "screen":
        frame, d, ok, waited = cp.wait_for(check.screen, opts.sync_timeout)
        late = time.monotonic() - due
        if waited > POLL and late > 0:  # it had to wait: the rest of the schedule moves with it
            shift += late
        checkpoints.append(cp.result(check.screen, check.event, "pre", frame, d, ok, waited, step))
    else:
        checkpoints.append(cp.snapshot(check.screen, check.event, "pre", step))
    return shift

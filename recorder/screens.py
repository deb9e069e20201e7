"""Screen capture: mss grabs at a fixed rate into a small ring of raw frames; encoding happens elsewhere.

Grabbing (~3 ms at 1920×1080) and hashing the raw BGRA bytes (xxh3, <1 ms) are cheap, so every frame is
grabbed and hashed; a frame identical to its predecessor shares its buffer, so an idle screen costs one
buffer however long it stays idle. A changed frame is compared with its predecessor pixel by pixel
(numpy) to tell whether the screen is *stable* (AgentNet's rule: < 1 % of pixels differ). Only the frames
that actions reference get converted and PNG-encoded, by :class:`FrameEncoder`, off the input path.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import mss
import mss.base
import numpy as np
import xxhash

from wf.bundle.screens import bgra_to_rgb, encode_png, frame_hash
from wf.recorder.frames import Encoded, Frame, FrameRing

__all__ = ["Encoded", "Frame", "FrameEncoder", "ScreenCapture", "changed_fraction", "encode_frame"]


def changed_fraction(a: bytes | bytearray, b: bytes | bytearray) -> float:
    """Fraction of 4-byte pixels that differ between two equally sized BGRA buffers."""
    pa = np.frombuffer(a, dtype=np.uint32)
    pb = np.frombuffer(b, dtype=np.uint32)
    if pa.shape != pb.shape:
        return 1.0
    return float(np.count_nonzero(pa != pb)) / max(1, pa.size)


class ScreenCapture(FrameRing):
    """A thread grabbing the whole virtual screen ``fps`` times a second into a ring of frames."""

    def __init__(self, clock_origin: float, *, fps: float = 5.0, ring: int = 10, display: str | None = None,
                 region: dict[str, int] | None = None) -> None:
        super().__init__(ring)
        self.origin = clock_origin
        self.interval = 1.0 / fps
        self.display = display
        self.region = region
        self.grabbed = 0
        self.grab_seconds = 0.0  # cumulative, for the benchmark
        self.diff_seconds = 0.0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread: threading.Thread | None = None
        self.final: Frame | None = None

    def start(self, timeout: float = 10.0) -> Frame:
        """Start grabbing; returns the first frame (grabbed before anything else is recorded)."""
        self._thread = threading.Thread(target=self._run, name="wf-screens", daemon=True)
        self._thread.start()
        if not self._first.wait(timeout) or self.error is not None:
            self._stop.set()
            raise RuntimeError(f"screen capture did not start: {self.error!r}")
        return self.frames[-1]

    def stop(self) -> Frame | None:
        """Stop; grabs one last frame and returns it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.final

    def _run(self) -> None:
        try:
            with mss.MSS(display=self.display) if self.display else mss.MSS() as sct:
                region = self.region or dict(sct.monitors[0])
                next_at = time.monotonic()
                while True:
                    stopping = self._stop.is_set()
                    self._grab(sct, region)
                    self._first.set()
                    if stopping:
                        self.final = self.frames[-1]
                        return
                    next_at += self.interval
                    delay = next_at - time.monotonic()
                    if delay < 0:  # fell behind (a loaded machine): skip ahead instead of bursting
                        next_at = time.monotonic()
                        delay = 0
                    self._stop.wait(delay)
        except BaseException as exc:  # surfaced through `error`; the recorder keeps input going
            self.error = exc
            self._first.set()

    def _grab(self, sct: mss.base.MSS, region: dict[str, int]) -> None:
        t0 = time.monotonic()
        shot = sct.grab(region)
        t1 = time.monotonic()
        raw: bytes | bytearray = shot.raw  # a fresh bytearray per grab (mss copies out of its shared memory)
        digest = xxhash.xxh3_64_intdigest(raw)
        prev = self.frames[-1] if self.frames else None
        if prev is not None and prev.raw_hash == digest and len(prev.bgra) == len(raw):
            raw, changed = prev.bgra, 0.0  # share the buffer: an idle screen costs one frame of memory
        else:
            changed = changed_fraction(prev.bgra, raw) if prev is not None else 1.0
        self.diff_seconds += time.monotonic() - t1
        self.grab_seconds += t1 - t0
        self.append(Frame(seq=self.grabbed, captured=t1 - self.origin, bgra=raw, width=shot.width,
                          height=shot.height, x=region["left"], y=region["top"], raw_hash=digest,
                          changed=changed))
        self.grabbed += 1


def encode_frame(bgra: bytes | bytearray, width: int, height: int) -> Encoded:
    t0 = time.perf_counter()
    rgb = bgra_to_rgb(memoryview(bgra), width, height)
    digest = frame_hash(rgb, width, height)
    png = encode_png(rgb, width, height)
    return Encoded(digest, png, width, height, time.perf_counter() - t0)


class FrameEncoder:
    """Encodes referenced frames in a worker thread, once per distinct raw frame.

    A thread, not a process: Pillow's zlib and numpy's copy release the GIL, so the input listener keeps
    running while a frame encodes, and no 8 MB frame has to be pickled to another process
    (docs/recording.md has the measurement).
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wf-encode")
        self._jobs: dict[int, Future[Encoded]] = {}
        self.encoded = 0
        self.encode_seconds: list[float] = []

    def submit(self, frame: Frame) -> Future[Encoded]:
        job = self._jobs.get(frame.raw_hash)
        if job is None:
            job = self._pool.submit(encode_frame, frame.bgra, frame.width, frame.height)
            job.add_done_callback(self._done)
            self._jobs[frame.raw_hash] = job
        return job

    def _done(self, job: Future[Encoded]) -> None:
        if job.exception() is None:
            self.encoded += 1
            self.encode_seconds.append(job.result().seconds)

    def forget_png(self, frame_hash_: int, result: Encoded) -> None:
        """Once stored, keep only a light record (the hash) so later references need no re-encode."""
        light: Future[Encoded] = Future()
        light.set_result(Encoded(result.hash, b"", result.width, result.height, 0.0))
        self._jobs[frame_hash_] = light

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

"""Screen capture into a small ring of raw frames (the polling path), and the encoder for the frames stored.

The polling path grabs the whole screen with mss ``fps`` times a second (~3 ms at 1920×1080) and hashes
the raw BGRA bytes (xxh3, <1 ms); a frame identical to its predecessor shares its buffer, so an idle screen
costs one buffer however long it stays idle. A changed frame is compared with its predecessor pixel by
pixel (numpy) to find the boxes that changed and whether the screen is *stable* (AgentNet's rule: < 1 %
of pixels differ). The X DAMAGE path (damage.py) grabs only what changed and is the default; this one is
the fallback. Only the frames that actions reference get converted and PNG-encoded, by
:class:`FrameEncoder`, off the input path.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import mss
import mss.base
import xxhash

from wf.bundle.screens import bgra_to_rgb, encode_png, frame_hash
from wf.recorder.frames import Encoded, Frame, FrameRing
from wf.recorder.masking import WindowMasker, local_rects, paint
from wf.recorder.regions import Box, as_pixels
from wf.recorder.tiles import TileImage

__all__ = ["Encoded", "Frame", "FrameEncoder", "ScreenCapture", "encode_frame"]


class ScreenCapture(FrameRing):
    """A thread grabbing the whole virtual screen ``fps`` times a second into a ring of frames (the polling path).

    :class:`wf.recorder.damage.DamageCapture` replaces the per-tick grab with one driven by X DAMAGE; this
    class is the fallback when the server lacks the extension. ``masker`` paints windows over before a
    frame is hashed (masking.py).
    """

    mode = "poll"

    def __init__(self, clock_origin: float, *, fps: float = 5.0, ring: int = 10, display: str | None = None,
                 region: dict[str, int] | None = None, masker: WindowMasker | None = None,
                 ring_bytes: int | None = None) -> None:
        super().__init__(ring, max_bytes=ring_bytes)
        self.origin = clock_origin
        self.interval = 1.0 / fps
        self.display = display
        self.region = region
        self.masker = masker
        self.grabbed = 0  # frames appended (a frame the damage path confirms unchanged counts too)
        self.full_grabs = 0  # whole-screen grabs
        self.grab_seconds = 0.0  # cumulative, for the benchmark
        self.diff_seconds = 0.0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread: threading.Thread | None = None
        self._masks: tuple[Box, ...] = ()  # the rectangles painted over in the newest frame
        # xxh3-64 of the newest whole-screen grab (masks painted) and the picture it gave; the damage path may
        # have patched newer pictures since, so the hash only says "unchanged" about that very picture.
        self._last_full: tuple[int, Callable[[], TileImage | None]] = (-1, lambda: None)
        self.final: Frame | None = None

    def start(self, timeout: float = 10.0) -> Frame:
        """Start grabbing; returns the first frame (grabbed before anything else is recorded)."""
        if self.masker is not None:
            self.masker.start()
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
        if self.masker is not None:
            self.masker.stop()
        return self.final

    def _run(self) -> None:
        try:
            with mss.MSS(display=self.display) if self.display else mss.MSS() as sct:
                region = self.region or dict(sct.monitors[0])
                self._setup()
                self._grab_full(sct, region)
                self._first.set()
                next_at = time.monotonic()
                while not self._stop.is_set():
                    next_at += self.interval
                    delay = next_at - time.monotonic()
                    if delay < 0:  # fell behind (a loaded machine): skip ahead instead of bursting
                        next_at = time.monotonic()
                        delay = 0
                    self._stop.wait(delay)
                    self._tick(sct, region)
                self.final = self.frames[-1]
        except BaseException as exc:  # surfaced through `error`; the recorder keeps input going
            self.error = exc
            self._first.set()
        finally:
            self._teardown()

    def _setup(self) -> None:
        """Before the first grab (the damage path opens its X connection here)."""

    def _teardown(self) -> None:
        """After the last grab."""

    def _tick(self, sct: mss.base.MSS, region: dict[str, int]) -> None:
        self._grab_full(sct, region)

    def _mask_rects(self) -> tuple[Box, ...]:
        return tuple(self.masker.rects()) if self.masker is not None else ()

    def _grab_full(self, sct: mss.base.MSS, region: dict[str, int]) -> Frame:
        """Grab the whole region, paint the masks, and append the frame with what changed."""
        t0 = time.monotonic()
        before = self._mask_rects()
        shot = sct.grab(region)
        masks = tuple(dict.fromkeys(before + self._mask_rects()))  # where the windows were around the grab
        t1 = time.monotonic()
        w, h, origin = shot.width, shot.height, (region["left"], region["top"])
        px = as_pixels(shot.raw, w, h)  # mss copied the pixels out of its shared memory: ours to paint
        paint(px, local_rects(masks, w, h, origin))
        self._masks = masks
        prev = self.frames[-1] if self.frames else None
        base = prev.bgra if prev is not None and isinstance(prev.bgra, TileImage) else None
        raw_hash = xxhash.xxh3_64_intdigest(shot.raw)  # 0.5 ms at 1080p: skips the tile work when idle
        rel: list[Box] = []
        n = 0
        if base is not None and self._last_full[0] == raw_hash and self._last_full[1]() is base:
            img = base  # the same pixels as the grab that made the newest frame: the same picture object
        else:
            img, rel, n = TileImage.from_pixels(px, base)
            if base is not None and n == 0:
                img = base
        self._last_full = (raw_hash, weakref.ref(img))
        boxes = tuple((x + origin[0], y + origin[1], bw, bh) for x, y, bw, bh in rel)
        changed = 1.0 if base is None else n / max(1, w * h)
        self.diff_seconds += time.monotonic() - t1
        self.grab_seconds += t1 - t0
        self.full_grabs += 1
        return self._append(Frame(seq=self.grabbed, captured=t1 - self.origin, bgra=img, width=w, height=h,
                                  x=origin[0], y=origin[1], raw_hash=img.digest, changed=changed, boxes=boxes))

    def _append(self, frame: Frame) -> Frame:
        self.append(frame)
        self.grabbed += 1
        return frame


def encode_frame(bgra: TileImage | bytes | bytearray, width: int, height: int) -> Encoded:
    t0 = time.perf_counter()
    # A tile image is assembled straight into RGB: no 8 MB BGRA copy on the way.
    rgb = bgra.to_rgb() if isinstance(bgra, TileImage) else bgra_to_rgb(memoryview(bgra), width, height)
    digest = frame_hash(rgb, width, height)
    png = encode_png(rgb, width, height)
    return Encoded(digest, png, width, height, time.perf_counter() - t0)


class FrameEncoder:
    """Encodes referenced frames in a worker thread, once per distinct raw frame.

    A thread, not a process: Pillow's zlib and numpy's copy release the GIL, so the input listener keeps
    running while a frame encodes, and no 8 MB frame has to be pickled to another process
    (docs/recording.md has the measurement). A job is forgotten once its PNG is stored (the line queue
    remembers stored frames, outqueue.py), so memory does not grow with the length of the recording.
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wf-encode")
        self._jobs: dict[int, Future[Encoded]] = {}
        self.encoded = 0
        self.encode_seconds: deque[float] = deque(maxlen=512)  # the latest, for the benchmark

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
        """The PNG is stored: drop the job (and its bytes); the line queue knows the file from now on."""
        self._jobs.pop(frame_hash_, None)

    def pending(self) -> int:
        return len(self._jobs)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

"""Lines on their way to the bundle: a screen line waits for its PNG, and every later line waits behind it.

So a screen file is always on disk before the line naming it, and the file stays in time order, while the
encoder works off the writer's thread. Each distinct frame is encoded and stored once; later screen lines
showing the same pixels name the stored file.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import msgspec

from wf.bundle.events import Event, Screen, ScreenReason
from wf.recorder.frames import Encoded, Frame
from wf.recorder.sources import FrameEncoding

ENCODE_TIMEOUT = 60.0  # seconds to wait for one PNG at the end of a recording
STORED_KEPT = 1024  # stored frames remembered by identity; an older one shown again is re-encoded (and deduped)


class EventSink(Protocol):
    """Where lines and screen files go (bundle.writer.BundleWriter)."""

    lines: int  # lines written after the header
    screens_written: int  # screen files stored

    def write(self, event: msgspec.Struct) -> None: ...

    def store_png(self, digest: str, png: bytes) -> str:
        """Store an encoded frame under its content hash; returns the bundle-relative path."""
        ...

    def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _PendingScreen:
    job: Future[Encoded]
    frame: Frame
    t: float
    reason: ScreenReason


def screen_line(frame: Frame, t: float, reason: ScreenReason, path: str, digest: str) -> Screen:
    return Screen(t=t, path=path, width=frame.width, height=frame.height, hash=digest, reason=reason,
                  captured=round(frame.captured, 6), x=frame.x, y=frame.y)


class OutQueue:
    """Writes lines through ``sink`` in the order given, holding them while a screen's PNG is encoding."""

    def __init__(self, sink: EventSink, encoder: FrameEncoding) -> None:
        self.sink = sink
        self.encoder = encoder
        self._items: deque[Event | _PendingScreen] = deque()
        # raw frame hash -> (relative path, RGB hash), least recently used first; bounded (STORED_KEPT)
        self._stored: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self.png_bytes = 0  # bytes of PNG stored so far (the status line adds the events file)

    def __len__(self) -> int:
        """Lines held back, waiting for a PNG."""
        return len(self._items)

    def line(self, ev: Event) -> None:
        if self._items:
            self._items.append(ev)
        else:
            self.sink.write(ev)

    def screen(self, frame: Frame, reason: ScreenReason, t: float) -> None:
        """A screen line at ``t`` showing ``frame``; encodes the frame unless it is stored already."""
        known = self._stored.get(frame.raw_hash)
        if known is not None:
            self._stored.move_to_end(frame.raw_hash)
            self.line(screen_line(frame, t, reason, *known))
            return
        self._items.append(_PendingScreen(self.encoder.submit(frame), frame, t, reason))

    def drain(self, *, wait: bool) -> None:
        """Write every line that is ready; with ``wait``, wait for the encoder until nothing is held."""
        items = self._items
        while items:
            head = items[0]
            if not isinstance(head, _PendingScreen):
                self.sink.write(head)
                items.popleft()
                continue
            if not head.job.done():
                if not wait:
                    return
                head.job.result(timeout=ENCODE_TIMEOUT)
            path, digest = self._store(head.frame, head.job.result())
            self.sink.write(screen_line(head.frame, head.t, head.reason, path, digest))
            items.popleft()

    def _store(self, frame: Frame, enc: Encoded) -> tuple[str, str]:
        known = self._stored.get(frame.raw_hash)
        if known is None:
            rel = self.sink.store_png(enc.hash, enc.png)  # the writer skips pixels it stored before
            self.png_bytes += len(enc.png)
            known = (rel, enc.hash)
            self._stored[frame.raw_hash] = known
            if len(self._stored) > STORED_KEPT:
                self._stored.popitem(last=False)
            self.encoder.forget_png(frame.raw_hash, enc)
        return known

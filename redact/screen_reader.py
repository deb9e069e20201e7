"""One run's view of OCR: the hits of its literals and patterns on each frame, read once per content hash.

The words an engine reads off a frame are its text, secrets included, and for a screen full of text they
run to megabytes (a 1920×1080 terminal of 13 px text: 6,480 words, 35,104 character boxes, 6.8 MB in
Python objects; a typical desktop frame ~0.25 MB), so a long bundle cannot keep them. They are matched as
soon as they are read and dropped; what stays, per frame hash, is the hits — literal number or pattern
name, and boxes, never text — which is all the settling rounds (:mod:`wf.redact.screen_ocr`) and the pixel
proof (:mod:`wf.redact.pixel_proof`) ask for. In memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wf.redact.ocr import OcrCache, OcrEngine
from wf.redact.onscreen import Hit, find_on_screen
from wf.redact.presets import ScrubPattern

Pixels = tuple[bytes, int, int]  # RGB, width, height


@dataclass
class ScreenReader:
    """``literals`` in the order that numbers them (the proof's: sorted; hit index + 1 is the number)."""

    cache: OcrCache
    literals: tuple[str, ...]
    patterns: tuple[ScrubPattern, ...]
    found: dict[str, tuple[Hit, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, engine: OcrEngine, literals: Sequence[str], patterns: Sequence[ScrubPattern]) -> ScreenReader:
        return cls(OcrCache(engine, keep=False), tuple(sorted(literals)), tuple(patterns))

    @property
    def engine(self) -> OcrEngine:
        return self.cache.engine

    def hits(self, digest: str, pixels: Callable[[], Pixels]) -> tuple[Hit, ...]:
        """The hits on the frame whose pixels hash to ``digest`` (``pixels`` is called only when it is new)."""
        with self._lock:
            known = self.found.get(digest)
            if known is not None:
                self.cache.hits += 1
                return known
        rgb, width, height = pixels()
        words = self.cache.get(digest, lambda: (rgb, width, height))
        result = tuple(find_on_screen(words, self.literals, self.patterns, frame=(width, height)))
        with self._lock:
            self.found[digest] = result
        return result

    def merge(self, found: dict[str, tuple[Hit, ...]], reads: int, seconds: float) -> None:
        """What a worker process found (:mod:`wf.redact.workers`): its hits per frame and its reading counts."""
        with self._lock:
            self.found.update(found)
            self.cache.reads += reads
            self.cache.seconds += seconds

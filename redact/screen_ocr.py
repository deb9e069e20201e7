"""`wf redact` pass 1c: read the stored screens and mask every scrubbed literal or pattern shown on them.

Runs once the literals and the rectangles of the plan are known. Every distinct source frame kept in the
new bundle (not dropped, not wholly masked already) is read once, by the hash of its pixels
(:class:`wf.redact.screen_reader.ScreenReader`: the words are matched as they are read, and only the hits
are kept); their boxes join the screen's rectangles. Then each masked result is **settled**: filled, read
again (a new hash, so a new reading), and whatever is still found is masked too — up to
:data:`MAX_ROUNDS` times. Masking can change what the engine reads next to the mask (a token half hidden
by a window edge, a neighbour word now standing alone), and the frame that was read last is exactly the
one written, so the pixel proof finds its hits already known and only confirms.

Frames are read :data:`~wf.redact.spec.RedactSpec.jobs` at a time, in forked worker processes
(:mod:`wf.redact.workers`). A frame is decoded in the worker that reads it and dropped afterwards, and only
hits outlive a reading: memory stays at a few frames whatever the bundle's length. Nothing is written to
disk here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash, load_rgb
from wf.redact.images import Rect, fill_rects
from wf.redact.ocr import OcrEngine
from wf.redact.onscreen import Hit
from wf.redact.screen_reader import ScreenReader
from wf.redact.workers import read_all

MAX_ROUNDS = 3  # re-reads of a masked frame before its remaining hits are left to the pixel proof
Pixels = tuple[bytes, int, int]


@dataclass(frozen=True, slots=True)
class MaskedBox:
    """One box OCR masked: literal number (1-based, the proof's numbering) or pattern name, never the text."""

    literal: int | None
    pattern: str | None
    box: Rect
    partial: bool = False

    def to_json(self) -> dict[str, object]:
        return {"literal": self.literal, "pattern": self.pattern, "box": list(self.box), "partial": self.partial}


@dataclass
class ScreenOcr:
    """What the OCR pass did: counts, times and boxes — never the text read."""

    engine: str = ""
    jobs: int = 1
    screens: int = 0  # screen events whose pixels were read
    distinct: int = 0  # distinct source frames among them
    read: int = 0  # OCR readings: source frames, then masked frames while settling
    rounds: int = 0  # the most re-reads any frame needed
    unsettled: int = 0  # screens still showing a hit after MAX_ROUNDS re-reads (the pixel proof names them)
    unreadable: int = 0  # frames that could not be decoded (the write pass leaves them out)
    masked_frames: int = 0  # distinct screens written with boxes of OCR's (one per frame and rectangle set)
    boxes: int = 0  # the boxes OCR added, summed over those screens
    seconds: float = 0.0  # wall time of the pass
    ocr_seconds: float = 0.0  # engine time, summed over the workers
    hits: dict[int, tuple[Hit, ...]] = field(default_factory=dict)  # screen event index -> hits masked
    masked: dict[str, list[MaskedBox]] = field(default_factory=dict)  # new screen path -> what was masked

    def to_json(self) -> dict[str, object]:
        return {"engine": self.engine, "jobs": self.jobs, "screens": self.screens, "distinct": self.distinct,
                "read": self.read, "rounds": self.rounds, "unsettled": self.unsettled,
                "unreadable": self.unreadable, "seconds": round(self.seconds, 3),
                "ocr_seconds": round(self.ocr_seconds, 3), "screens_masked": self.masked_frames,
                "boxes": self.boxes,
                "masked": [{"screen": k, "found": [m.to_json() for m in v]} for k, v in self.masked.items()]}

    def header_entry(self) -> dict[str, object]:
        """The header's record of the pass (its keys are in wf.redact.structure.REDACTION_KEYS)."""
        return {"engine": self.engine, "screens_read": self.distinct, "screens_masked": self.masked_frames,
                "boxes": self.boxes}

    def note_written(self, index: int, new_path: str) -> None:
        """The write pass stored screen event ``index`` as ``new_path``: list what OCR masked there."""
        hits = self.hits.get(index)
        if not hits or new_path in self.masked:
            return
        found = {MaskedBox(None if h.literal is None else h.literal + 1, h.pattern, b, h.partial)
                 for h in hits for b in h.boxes}
        self.masked[new_path] = sorted(found, key=lambda m: (m.box[1], m.box[0], str(m.literal), str(m.pattern)))


@dataclass(frozen=True, slots=True)
class _Frame:
    digest: str  # as the screen events name it
    path: Path
    size: tuple[int, int]
    bases: tuple[tuple[Rect, ...], ...]  # the distinct rectangle sets screens of this frame already have


@dataclass(frozen=True, slots=True)
class _Settled:
    added: tuple[Rect, ...]
    hits: tuple[Hit, ...]
    rounds: int
    clean: bool


def mask_shown_secrets(src: Bundle, screens: Sequence[tuple[int, Screen]], skip: set[int],
                       screen_rects: dict[int, list[Rect]], reader: ScreenReader,
                       make_engine: Callable[[], OcrEngine], jobs: int) -> ScreenOcr:
    """Add to ``screen_rects`` (event index -> rectangles, changed in place) the boxes of every literal and
    pattern match of ``reader`` found on ``screens`` (the source's screen events with their indices), except
    those in ``skip`` (dropped)."""
    t0 = time.perf_counter()
    cache = reader.cache
    reads0, seconds0 = cache.reads, cache.seconds
    out = ScreenOcr(engine=reader.engine.name, jobs=jobs)
    groups: dict[str, dict[tuple[Rect, ...], list[int]]] = {}
    paths: dict[str, tuple[Path, tuple[int, int]]] = {}
    for i, ev in screens:
        base = tuple(screen_rects.get(i, ()))
        if i in skip or any(_covers(r, ev.width, ev.height) for r in base):
            continue
        out.screens += 1
        groups.setdefault(ev.hash, {}).setdefault(base, []).append(i)
        paths.setdefault(ev.hash, (src.screen_path(ev.path), (ev.width, ev.height)))
    frames = [_Frame(h, *paths[h], tuple(g)) for h, g in groups.items()]
    out.distinct = len(frames)
    for frame, result in zip(frames, read_all(_read_frame, frames, reader, make_engine, jobs), strict=True):
        if result is None:
            out.unreadable += 1
            continue
        for base, settled in result.items():
            out.rounds = max(out.rounds, settled.rounds)
            if settled.added:
                out.masked_frames += 1
                out.boxes += len(settled.added)
            for i in groups[frame.digest][base]:
                if settled.added:
                    screen_rects[i] = [*base, *settled.added]
                if settled.hits:
                    out.hits[i] = settled.hits
                if not settled.clean:
                    out.unsettled += 1
    out.read = cache.reads - reads0
    out.ocr_seconds = cache.seconds - seconds0
    out.seconds = time.perf_counter() - t0
    return out


def _read_frame(reader: ScreenReader, frame: _Frame) -> dict[tuple[Rect, ...], _Settled] | None:
    """One distinct frame: read it, then settle the masks of each rectangle set its screens have."""
    try:
        rgb, width, height = load_rgb(frame.path)
    except Exception:  # missing or undecodable: the write pass leaves the screen out, with a warning
        return None
    first = reader.hits(frame_hash(rgb, width, height), _given(rgb, width, height))
    return {base: _settle(reader, (rgb, width, height), base, first) for base in frame.bases}


def _settle(reader: ScreenReader, pixels: Pixels, base: tuple[Rect, ...], first: tuple[Hit, ...]) -> _Settled:
    """Mask what ``first`` found, then re-read and mask again until nothing more is found."""
    rgb, width, height = pixels
    rects = list(base)
    hits: list[Hit] = []

    def add(found: tuple[Hit, ...]) -> int:
        new = 0
        for h in found:
            boxes = [b for b in h.boxes if not any(_inside(b, r) for r in base)]
            if boxes:
                hits.append(h)
            for b in boxes:
                if b not in rects:
                    rects.append(b)
                    new += 1
        return new

    add(first)
    if not rects:
        return _Settled((), (), 0, True)
    for n in range(1, MAX_ROUNDS + 1):
        filled = fill_rects(rgb, width, height, rects)
        found = reader.hits(frame_hash(filled, width, height), _given(filled, width, height))
        if not add(found):
            return _Settled(tuple(rects[len(base):]), tuple(hits), n, not found)
    return _Settled(tuple(rects[len(base):]), tuple(hits), MAX_ROUNDS, False)


def _given(rgb: bytes, width: int, height: int) -> Callable[[], Pixels]:
    return lambda: (rgb, width, height)


def _covers(r: Rect, width: int, height: int) -> bool:
    x, y, w, h = r
    return x <= 0 and y <= 0 and x + w >= width and y + h >= height


def _inside(b: Rect, r: Rect) -> bool:
    return r[0] <= b[0] and r[1] <= b[1] and b[0] + b[2] <= r[0] + r[2] and b[1] + b[3] <= r[1] + r[3]

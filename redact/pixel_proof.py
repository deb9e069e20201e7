"""The proof in pixels: OCR a bundle's screens and report every scrubbed literal or pattern still readable.

:func:`prove_pixels` reads each distinct screen (by content hash, through the run's
:class:`~wf.redact.screen_reader.ScreenReader`, so a screen already read during redaction is not read
again) for the same literals and patterns the redaction removed. Any hit is a *survivor*:
which screen, which literal (by number, as :mod:`wf.redact.proof` numbers them: 1-based over the sorted
literals, never the text) or pattern, and where. ``ok`` is False when there is one.

A clean result means: the engine, reading every stored screen, found none of them. It does not mean no
pixel shows a secret. OCR does not see text that is tiny (under ~8 px), stylised, rotated, very low in
contrast, drawn over a busy image or partly hidden, and the matcher tolerates only a few misread
characters — for those, mask the area explicitly (``--mask-window``, ``--mask-rect``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wf.bundle.reader import SCREENS_DIR
from wf.bundle.screens import frame_hash, load_rgb
from wf.redact.images import Rect
from wf.redact.screen_reader import ScreenReader

Pixels = tuple[bytes, int, int]  # RGB, width, height
PIXEL_LIMITS = ("OCR finds only text it can read: tiny (under ~8 px), stylised, rotated, low-contrast or partly "
                "covered text may stay unseen; mask such areas with --mask-window or --mask-rect")


@dataclass(frozen=True, slots=True)
class PixelFinding:
    """A literal (number) or pattern (name) still readable at ``box`` of screen ``screen``."""

    screen: str
    literal: int | None
    pattern: str | None
    box: Rect
    errors: int = 0
    partial: bool = False

    def to_json(self) -> dict[str, object]:
        return {"screen": self.screen, "literal": self.literal, "pattern": self.pattern, "box": list(self.box),
                "errors": self.errors, "partial": self.partial}


@dataclass(slots=True)
class PixelProof:
    ok: bool = True
    engine: str = ""
    screens: int = 0  # screens checked (files or frames given)
    distinct: int = 0  # distinct contents among them
    read: int = 0  # read by OCR in this pass; the others came from the cache
    seconds: float = 0.0  # OCR time of this pass
    survivors: list[PixelFinding] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "engine": self.engine, "screens": self.screens, "distinct": self.distinct,
                "read": self.read, "seconds": round(self.seconds, 3),
                "survivors": [f.to_json() for f in self.survivors], "limits": PIXEL_LIMITS}


def prove_pixels(screens: Iterable[tuple[str, Callable[[], Pixels]]], reader: ScreenReader) -> PixelProof:
    """Check ``screens`` — (name, loader of its pixels) — for every literal and pattern of ``reader``.

    Frames are identified by the hash of their pixels, computed here (never taken from a file name),
    so the reader can only answer with what it found on the very same picture.
    """
    proof = PixelProof(engine=reader.engine.name)
    cache = reader.cache
    reads0, seconds0 = cache.reads, cache.seconds
    seen: set[str] = set()
    for name, load in screens:
        rgb, width, height = load()
        digest = frame_hash(rgb, width, height)
        proof.screens += 1
        seen.add(digest)
        for hit in reader.hits(digest, lambda rgb=rgb, width=width, height=height: (rgb, width, height)):  # type: ignore[misc]
            number = None if hit.literal is None else hit.literal + 1
            for box in hit.boxes:
                proof.survivors.append(PixelFinding(name, number, hit.pattern, box, hit.errors, hit.partial))
    proof.distinct = len(seen)
    proof.read = cache.reads - reads0
    proof.seconds = cache.seconds - seconds0
    proof.ok = not proof.survivors
    return proof


def bundle_screens(root: Path) -> Iterator[tuple[str, Callable[[], Pixels]]]:
    """Every PNG under ``root/screens`` (referenced by an event or not), named by its bundle-relative path."""
    for path in sorted((root / SCREENS_DIR).rglob("*.png")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), lambda path=path: load_rgb(path)  # type: ignore[misc]

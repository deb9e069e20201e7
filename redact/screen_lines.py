"""OCR'd words as the matcher searches them: visual lines, three views of each, and joins of wrapped lines.

* **lines** — the engine's lines, merged when they sit on one row close together (sparse-text
  segmentation cuts a title bar or a command line into several), never across readings;
* **views** — each line as read (words joined by single spaces), *tight* (a gap much narrower than the
  line's usual space is taken for an OCR cut and closed) and *compact* (no whitespace at all); every
  character keeps its (word, character) position, so a match maps back to pixels;
* **chains** — a line followed by the line just below it that overlaps it horizontally, and the next
  (up to ``MAX_JOIN``): text wrapped by a terminal or a field. A match counts in a chain only if it
  crosses the joins (:func:`crosses`), so nothing is found twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from wf.redact.ocr import Box, Word

MAX_JOIN = 3  # lines joined when looking for wrapped text
Pos = tuple[int, int]  # (word index, character index) on the screen
Window = tuple[str, tuple[Pos | None, ...], int, int]  # text, positions, first and last join offsets


@dataclass(frozen=True, slots=True)
class Line:
    """One visual line of one reading, in three views: as read, tight (OCR cuts closed), compact."""

    reading: int
    words: tuple[int, ...]  # word indices, left to right
    box: Box
    spaced: str  # words joined by single spaces, as read
    spaced_pos: tuple[Pos | None, ...]  # None for the joining spaces
    tight: str  # words joined by a space only where the gap looks like one (see _tight_gaps)
    tight_pos: tuple[Pos | None, ...]
    compact: str  # no whitespace at all
    compact_pos: tuple[Pos, ...]


def visual_lines(words: Sequence[Word]) -> list[Line]:
    """Visual lines: the engine's lines, merged when they sit on one row close together (sparse-text
    segmentation cuts a title bar or a command line into several "lines")."""
    groups: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        groups.setdefault(w.line, []).append(i)
    rows = sorted(groups.values(), key=lambda g: min(words[i].box[0] for i in g))
    merged: list[list[int]] = []
    for g in rows:
        gx, gy, _, gh = extent(words, g)
        for m in merged:
            if words[m[0]].reading != words[g[0]].reading:
                continue
            mx, my, mw, mh = extent(words, m)
            overlap = min(gy + gh, my + mh) - max(gy, my)
            gap = gx - (mx + mw)
            if overlap >= min(gh, mh) / 2 and -min(gh, mh) <= gap <= 2 * max(gh, mh):
                m.extend(g)
                break
        else:
            merged.append(list(g))
    out = [_line(words, sorted(g, key=lambda i: words[i].box[0])) for g in merged]
    out.sort(key=lambda ln: (ln.box[1], ln.box[0]))
    return out


def extent(words: Sequence[Word], idx: Iterable[int]) -> Box:
    boxes = [words[i].box for i in idx]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def _line(words: Sequence[Word], idx: list[int]) -> Line:
    glued = _tight_gaps(words, idx)
    views: dict[str, tuple[list[str], list[Pos | None]]] = {"spaced": ([], []), "tight": ([], [])}
    compact: list[str] = []
    compact_pos: list[Pos] = []
    for k, wi in enumerate(idx):
        for name, (chars, pos) in views.items():
            if k and not (name == "tight" and glued[k - 1]):
                chars.append(" ")
                pos.append(None)
            for ci, ch in enumerate(words[wi].text):
                chars.append(ch)
                pos.append((wi, ci))
        for ci, ch in enumerate(words[wi].text):
            if not ch.isspace():
                compact.append(ch)
                compact_pos.append((wi, ci))
    (sp, sp_pos), (ti, ti_pos) = views["spaced"], views["tight"]
    return Line(words[idx[0]].reading, tuple(idx), extent(words, idx), "".join(sp), tuple(sp_pos),
                 "".join(ti), tuple(ti_pos), "".join(compact), tuple(compact_pos))


def _tight_gaps(words: Sequence[Word], idx: list[int]) -> list[bool]:
    """For each pair of neighbours, whether OCR probably cut one token in two: a gap well under the
    line's typical (median) gap, which is what a real space looks like in that font at that size."""
    gaps = [words[b].box[0] - (words[a].box[0] + words[a].box[2]) for a, b in pairwise(idx)]
    if len(gaps) < 2:
        return [False] * len(gaps)
    typical = sorted(gaps)[len(gaps) // 2]
    return [g < 0.6 * typical for g in gaps]


def _below(a: Line, lines: list[Line]) -> Line | None:
    """The nearest line under ``a`` that starts within a line height and overlaps it horizontally."""
    ax, ay, aw, ah = a.box
    best: Line | None = None
    for b in lines:
        bx, by, bw, _ = b.box
        if b is a or b.reading != a.reading or not (ay + ah / 2 < by <= ay + 2 * ah) or bx >= ax + aw \
                or ax >= bx + bw:
            continue
        if best is None or (by, abs(bx - ax)) < (best.box[1], abs(best.box[0] - ax)):
            best = b
    return best


def line_chains(lines: list[Line]) -> list[list[Line]]:
    """Each line alone, then with the lines wrapped below it (up to ``MAX_JOIN`` lines)."""
    out: list[list[Line]] = []
    for a in lines:
        chain = [a]
        out.append([a])
        while len(chain) < MAX_JOIN:
            nxt = _below(chain[-1], lines)
            if nxt is None or nxt in chain:
                break
            chain = [*chain, nxt]
            out.append(chain)
    return out


def chain_windows(chains: list[list[Line]], view: str) -> list[Window]:
    """(text, positions, first join offset, last join offset) of each chain in one view ("compact" or
    "tight"), lines glued without a space; for a single line both offsets are 0 (any match counts)."""
    out: list[Window] = []
    for chain in chains:
        texts = [getattr(c, view) for c in chain]
        pos = tuple(p for c in chain for p in getattr(c, f"{view}_pos"))
        if len(chain) == 1:
            out.append((texts[0], pos, 0, 0))
        else:
            out.append(("".join(texts), pos, len(texts[0]), sum(len(t) for t in texts[:-1])))
    return out


def crosses(start: int, end: int, first: int, last: int) -> bool:
    """A match in a joined window counts only if it begins in its first line and ends in its last."""
    return first == 0 or (start < first and end > last)

"""Where secrets are on a screen: scrubbed literals and scrub patterns found in OCR'd words, as pixel boxes.

OCR splits and garbles text in ways the byte search never sees, so the matcher works on a normalised,
space-free view of the words and searches more than single words:

* **split tokens** — a line's words are joined without their spaces (``4111 1111 …`` and a token the
  engine cut in two read as one run), so a literal is found across any number of OCR tokens, and glued
  punctuation (``key=TOKEN,``) is simply not part of the match;
* **wrapped text** — each line is also joined to the lines wrapped below it (up to three lines of a
  terminal or text field, :mod:`wf.redact.screen_lines`); only matches that cross a join count there;
* **confusions** — letters are case-folded and the shapes OCR engines mix up on screen fonts are one
  class each (``o 0``, ``l 1 i | !``, ``s 5 $``, ``b 8``, ``z 2``, ``g 9``, and symbols read for letters
  of bitmap fonts: ``y ¥``, ``e €``…). On top of that a literal of *n* characters may differ by ``n // 8``
  edits (insertions, deletions, substitutions: 5 for a 40-character token, none below 10 characters,
  none for digits only — one digit off is another number). Half of Tesseract's readings of a
  40-character token in TrueType faces at 11–20 px had 1–2 such misreads (``BoEQuQi``, ``N1lmRx``), and
  xterm's 6x13 bitmap font 5 (``LpW2sYc9`` read ``Lpl2sY¥cS``, ``0uQi`` read ``Ouli``); a random string
  within that tolerance of a 16+ character literal is vanishingly unlikely, and a false match only masks
  a little more;
* **fragments** — a literal of 16+ characters (not digits only) is also searched as overlapping
  fragments of 60 % of its length (at least 12 characters), each with a budget of one edit per 10
  characters (per 8, "alice.martin at examp…" matched a fragment of ``alice.martin@example…``). A fragment
  found is masked over the whole literal's expected width: this covers a token cut off by the edge of
  a field, and glyphs the engine did not read at all (``ice.martin@example-corp.`` read from a title
  bar that shows ``alice.martin@example-corp.com``) (``partial``);
* **patterns** — the scrub regexes (``--scrub``, the presets of :mod:`wf.redact.presets`) run exactly
  (a regex has no edit distance) on each line as read, and on a *tight* view where a gap much narrower
  than the line's usual space is taken for an OCR cut and closed, alone and across the joins. Not the
  space-free view: an open-ended pattern (``ghp_[A-Za-z0-9]{36,}``) would run on into the next words.
  What they match on screen need not have been typed anywhere.

Every hit becomes one box per text line it covers: horizontally from its first to its last
character (the engine's character boxes, or the word box divided evenly), vertically the full height of
the characters it covers, plus a margin of an eighth of that height (at least 2 px). What OCR misses, this
cannot find: see :mod:`wf.redact.ocr` for what OCR cannot promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from wf.redact.images import Rect
from wf.redact.ocr import Box, Word
from wf.redact.presets import ScrubPattern
from wf.redact.screen_lines import Line, Pos, Window, chain_windows, crosses, line_chains, visual_lines

MIN_FUZZY = 10  # literals shorter than this must be read exactly (after the confusion classes)
ERROR_DIVISOR = 8  # one edit tolerated per this many characters of a literal…
FRAGMENT_ERROR_DIVISOR = 10  # …and of a fragment (at 8, "alice.martin@examp" matched "alice.martin at examp")
MIN_FRAGMENTED = 16  # literals from this length on are also searched by fragments
FRAGMENT_PERCENT = 60  # a fragment's share of the literal (integers: no float rounding in a length)
MIN_FRAGMENT = 12
_CLASSES = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s", "$": "s", "8": "b",
                          "2": "z", "9": "g",
                          # Symbols Tesseract reads for letters of small bitmap fonts (xterm's 6x13: Y → ¥).
                          "¥": "y", "€": "e", "§": "s", "¢": "c", "©": "c", "®": "r", "°": "o"})


def normalise(text: str) -> str:
    """Whitespace removed, case-folded, OCR confusion classes merged."""
    return fold("".join(text.split()))


def fold(text: str) -> str:
    """Case-folded with the confusion classes merged, one character for one (indices stay valid)."""
    return "".join(c.casefold()[0] for c in text).translate(_CLASSES)


def allowed_errors(n: int, *, digits: bool = False, fragment: bool = False) -> int:
    """Edits tolerated for a literal of ``n`` characters: ``n // 8`` from 10 characters on (``n // 10`` for a
    fragment: a shorter needle in more places); none for a literal of digits only (one digit off is another
    number — an order id next to the card — and OCR reads digits best)."""
    if n < MIN_FUZZY or digits:
        return 0
    return n // (FRAGMENT_ERROR_DIVISOR if fragment else ERROR_DIVISOR)


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of literal number ``literal`` (index into the caller's list) or of ``pattern``."""

    literal: int | None
    pattern: str | None
    boxes: tuple[Rect, ...]
    errors: int = 0
    partial: bool = False

    def to_json(self) -> dict[str, object]:
        return {"literal": self.literal, "pattern": self.pattern, "boxes": [list(b) for b in self.boxes],
                "errors": self.errors, "partial": self.partial}


@dataclass(frozen=True, slots=True)
class _Needle:
    literal: int
    text: str  # normalised
    errors: int
    partial: bool
    around: tuple[int, int]  # characters of the literal before and after this fragment
    pieces: tuple[tuple[int, str], ...]  # (offset, exact piece): any match within `errors` holds one
    fuzzy: regex.Pattern[str]


def find_on_screen(words: Sequence[Word], literals: Sequence[str],
                   patterns: Iterable[ScrubPattern] = (), *, frame: tuple[int, int] | None = None) -> list[Hit]:
    """Every occurrence of each literal and each pattern match in ``words`` (one screen), with boxes to mask.

    ``frame`` (width, height) clips the boxes. Hits of different needles may overlap; masking them all
    is what is wanted.
    """
    lines = visual_lines(words)
    chains = line_chains(lines)
    compact, tight = chain_windows(chains, "compact"), chain_windows(chains, "tight")
    line_of = {wi: n for n, ln in enumerate(lines) for wi in ln.words}
    hits: list[Hit] = []
    for needle in _needles(literals):
        for f in _search_needle(needle, compact):
            missing = (f.missing[0] + needle.around[0], f.missing[1] + needle.around[1])
            hits.append(Hit(needle.literal, None, _boxes(f.positions, words, line_of, frame, missing),
                            f.errors, needle.partial))
    hits = _merge_partials(hits)
    for p in patterns:
        for positions in _search_pattern(p, lines, tight):
            hits.append(Hit(None, p.name, _boxes(positions, words, line_of, frame)))
    return hits


def mask_rects(hits: Iterable[Hit]) -> list[Rect]:
    """The rectangles to fill for a set of hits (duplicates removed, order kept)."""
    return list(dict.fromkeys(b for h in hits for b in h.boxes))


# ------------------------------------------------------------------------------------ literals


def _needles(literals: Sequence[str]) -> list[_Needle]:
    out: list[_Needle] = []
    for i, lit in enumerate(literals):
        norm = normalise(lit)
        if not norm:
            continue
        digits = "".join(lit.split()).isdigit()
        out.append(_needle(i, norm, (0, 0), digits=digits))
        n = len(norm)
        if n >= MIN_FRAGMENTED and not digits:  # part of a card number is a bank's prefix, not the card
            size = max(MIN_FRAGMENT, -(-n * FRAGMENT_PERCENT // 100))
            step = max(1, (n - size) // 6)
            for off in sorted({*range(0, n - size, step), n - size}):
                out.append(_needle(i, norm[off:off + size], (off, n - off - size), digits=digits))
    return out


def _needle(literal: int, text: str, around: tuple[int, int], *, digits: bool) -> _Needle:
    k = allowed_errors(len(text), digits=digits, fragment=around != (0, 0))
    # Pigeonhole: k edits touch at most k of k+1 disjoint pieces, so one piece is read exactly. Exact
    # piece look-ups are cheap; the fuzzy regex then runs only around them (it costs ~1 ms per line).
    size = len(text) // (k + 1)
    pieces = tuple((j * size, text[j * size:(j + 1) * size if j < k else len(text)]) for j in range(k + 1))
    fuzzy = regex.compile(f"(?:{regex.escape(text)}){{e<={k}}}", regex.ENHANCEMATCH) if k else \
        regex.compile(regex.escape(text))
    return _Needle(literal, text, k, around != (0, 0), around, pieces, fuzzy)


@dataclass(frozen=True, slots=True)
class _Found:
    positions: tuple[Pos, ...]
    errors: int
    missing: tuple[int, int]  # literal characters not read before the first / after the last one read


def _search_needle(needle: _Needle, windows: list[Window]) -> list[_Found]:
    found: list[_Found] = []
    seen: set[tuple[Pos, ...]] = set()
    n, k = len(needle.text), needle.errors
    for raw, pos, first, last in windows:
        text = fold(raw)
        spans: list[tuple[int, int]] = []
        for off, piece in needle.pieces:
            at = text.find(piece)
            while at >= 0:
                spans.append((max(0, at - off - k), min(len(text), at - off + n + k)))
                at = text.find(piece, at + 1)
        for lo, hi in _merge(sorted(spans)):
            for m in needle.fuzzy.finditer(text, lo, hi):
                a, b = m.span()
                missing = (0, 0)
                if k:
                    a, b, missing = _trim(a, b, m.fuzzy_changes)
                if b <= a or not crosses(a, b, first, last):
                    continue
                key = tuple(q for q in pos[a:b] if q is not None)
                if key not in seen:
                    seen.add(key)
                    found.append(_Found(key, sum(m.fuzzy_counts) if k else 0, missing))
    return found


def _trim(a: int, b: int, changes: tuple[list[int], list[int], list[int]]) -> tuple[int, int, tuple[int, int]]:
    """Drop substituted characters at the ends of a fuzzy match (they belong to a neighbour: "bo|ice.m…"
    read for "alice.m…") and count them, with deleted ones, as literal characters not read there, so
    the mask can be widened over glyphs the engine did not see. A deletion counts on the side of the
    match it is nearer to: with confusion classes the alignment is ambiguous ("ice" against "alice"
    aligns as a-deleted, i=l, l-deleted), but the missing glyphs are on that side."""
    subs, _, dels = changes
    sub = set(subs)
    left = right = 0
    while a < b and a in sub:
        a, left = a + 1, left + 1
    while b > a and b - 1 in sub:
        b, right = b - 1, right + 1
    middle = (a + b) / 2
    left += sum(1 for d in dels if d < middle)
    right += sum(1 for d in dels if d >= middle)
    return a, b, (left, right)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _merge_partials(hits: list[Hit]) -> list[Hit]:
    """Fragments of one literal found mostly inside a whole occurrence add nothing; overlapping
    fragments of one occurrence become one hit (their boxes joined line by line)."""
    whole = [h for h in hits if not h.partial]
    parts = [h for h in hits if h.partial and not any(
        w.literal == h.literal and all(_mostly_inside(b, w.boxes) for b in h.boxes) for w in whole)]
    merged: list[Hit] = []
    for h in parts:
        for k, m in enumerate(merged):
            if m.literal == h.literal and _overlap(m.boxes, h.boxes):
                merged[k] = Hit(m.literal, None, _join(m.boxes + h.boxes), min(m.errors, h.errors), True)
                break
        else:
            merged.append(h)
    return whole + merged


def _overlap(a: tuple[Rect, ...], b: tuple[Rect, ...]) -> bool:
    return any(min(x + w, bx + bw) > max(x, bx) and min(y + h, by + bh) > max(y, by)
               for x, y, w, h in a for bx, by, bw, bh in b)


def _join(boxes: tuple[Rect, ...]) -> tuple[Rect, ...]:
    """Union of boxes that overlap, repeated until none do."""
    out = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if _overlap((out[i],), (out[j],)):
                    (x, y, w, h), (bx, by, bw, bh) = out[i], out[j]
                    x0, y0 = min(x, bx), min(y, by)
                    out[i] = (x0, y0, max(x + w, bx + bw) - x0, max(y + h, by + bh) - y0)
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return tuple(out)


def _mostly_inside(b: Rect, boxes: tuple[Rect, ...]) -> bool:
    x, y, w, h = b
    for bx, by, bw, bh in boxes:
        ix = min(x + w, bx + bw) - max(x, bx)
        iy = min(y + h, by + bh) - max(y, by)
        if ix > 0 and iy > 0 and ix * iy * 2 >= w * h:
            return True
    return False


# ------------------------------------------------------------------------------------ patterns


def _search_pattern(p: ScrubPattern, lines: list[Line], windows: list[Window]) -> list[tuple[Pos, ...]]:
    found: list[tuple[Pos, ...]] = []
    seen: set[tuple[Pos, ...]] = set()

    def add(key: tuple[Pos, ...]) -> None:
        if key and key not in seen:
            seen.add(key)
            found.append(key)

    for ln in lines:
        for a, b in p.matches(ln.spaced):
            add(tuple(q for q in ln.spaced_pos[a:b] if q is not None))
    joined = []
    for text, pos, first, last in windows:  # the tight view, alone and joined across wrapped lines
        for a, b in p.matches(text):
            key = tuple(q for q in pos[a:b] if q is not None)
            if not first:
                add(key)
            elif crosses(a, b, first, last):
                joined.append(key)
    # A match across a join that overlaps a match of one line alone is that line's hit running on into
    # its neighbours ("…0uQi" + "card:", "1486" + an e-mail line + "Token"), not text wrapped in two.
    single = set().union(*map(set, found)) if found else set()
    for key in joined:
        if single.isdisjoint(key):
            add(key)
    return _drop_contained(found)


def _drop_contained(found: list[tuple[Pos, ...]]) -> list[tuple[Pos, ...]]:
    """The same text matched in the spaced and the compact view: keep only the larger match."""
    sets = [set(f) for f in found]
    return [f for i, f in enumerate(found) if not any(j != i and sets[i] < sets[j] for j in range(len(found)))]


# ------------------------------------------------------------------------------------ boxes


def _char_box(w: Word, ci: int) -> Box:
    if w.chars:
        return w.chars[ci]
    x, y, bw, bh = w.box
    n = max(len(w.text), 1)
    x0, x1 = x + bw * ci // n, x + -(-bw * (ci + 1) // n)
    return x0, y, x1 - x0, bh


def _boxes(positions: tuple[Pos, ...], words: Sequence[Word], line_of: dict[int, int],
           frame: tuple[int, int] | None, missing: tuple[int, int] = (0, 0)) -> tuple[Rect, ...]:
    """One box per visual line the positions cover, widened by ``missing`` characters (left of the
    first line, right of the last), with the margin, clipped to ``frame``.

    Heights come from the character boxes when the engine gives them (ink-tight, ascenders and
    descenders included), else from the word boxes, which can include a field's border.
    """
    by_line: dict[int, list[Pos]] = {}
    for wi, ci in positions:
        by_line.setdefault(line_of[wi], []).append((wi, ci))
    order = list(by_line)
    out: list[Rect] = []
    for n, line in enumerate(order):
        group = by_line[line]
        xs = [_char_box(words[wi], ci) for wi, ci in group]
        x0 = min(b[0] for b in xs)
        x1 = max(b[0] + b[2] for b in xs)
        tall = xs if all(words[wi].chars for wi, _ in group) else [words[wi].box for wi, _ in group]
        y0 = min(b[1] for b in tall)
        y1 = max(b[1] + b[3] for b in tall)
        width = (x1 - x0) / len(group)
        if n == 0:
            x0 -= round(missing[0] * width)
        if n == len(order) - 1:
            x1 += round(missing[1] * width)
        pad = max(2, -(-(y1 - y0) // 8))
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        if frame is not None:
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, frame[0]), min(y1, frame[1])
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return tuple(out)

"""The proof that scrubbed text is gone: search every name, every byte, and every text wf can derive, of a bundle.

Given the literals found during redaction (held in memory only, never written), :func:`prove_gone`

* looks for each literal in the **name** of every file and directory;
* reads **every file** as raw bytes and looks for each literal, in UTF-8 and in its JSON-escaped form,
  and in the decompressed text chunks of every PNG (zTXt, iTXt, iCCP: :mod:`wf.redact.png`);
* decodes every event and annotation and looks in its strings (a title, a mark, a note), and rebuilds the
  typed text (both views of :mod:`wf.redact.typed`) and looks there.

Every hit is a **survivor** (the proof fails) unless it is provably not the secret, and then it is reported
as *incidental*, never hidden: a hit wholly inside a structure token of a JSON line
(:mod:`wf.redact.structure`: a number, a field name, a closed-vocabulary value, a verified screen hash —
a scrubbed PIN "1234" inside ``"t": 3.123456``); a hit inside a PNG's compressed pixel data (IDAT), where
a short byte string occurs by chance (the pixels themselves are read by :mod:`wf.redact.pixel_proof`); a
screen file named by the content hash of its own pixels.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from wf.bundle.events import Event, Mark, Pause, Resume, Stop, Window, to_dict
from wf.bundle.reader import ANNOTATIONS_FILE, EVENTS_FILE, SCREENS_DIR, Bundle
from wf.bundle.screens import file_hash
from wf.redact import png
from wf.redact.structure import (
    Classifier,
    Token,
    annotation_structure,
    event_structure,
    header_structure,
    text_strings,
    tokens,
)
from wf.redact.typed import TypedTextBuilder

_FIXED_NAMES = frozenset({EVENTS_FILE, ANNOTATIONS_FILE, SCREENS_DIR})
_HASH_NAME = re.compile(rf"{SCREENS_DIR}/([0-9a-f]{{32}})\.png")


@dataclass(frozen=True, slots=True)
class Finding:
    """Where literal number ``literal`` (1-based, see ``Proof.literal_kinds``) was found."""

    file: str
    where: str
    literal: int


@dataclass(slots=True)
class Proof:
    ok: bool = True
    files: int = 0
    bytes: int = 0
    literals: int = 0
    literal_kinds: dict[int, str] = field(default_factory=dict)  # number -> pattern name, never the text
    survivors: list[Finding] = field(default_factory=list)
    incidental: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok, "checked": self.literals > 0, "files": self.files, "bytes": self.bytes,
            "literals": self.literals, "literal_kinds": {str(k): v for k, v in self.literal_kinds.items()},
            "survivors": [_fd(f) for f in self.survivors],
            "incidental": [_fd(f) for f in self.incidental],
        }


def _fd(f: Finding) -> dict[str, object]:
    return {"file": f.file, "where": f.where, "literal": f.literal}


class _ScreenNames:
    """Whether a screen file's name is the content hash of its own pixels (decoded once per file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[str, bool] = {}

    def structure(self, rel: str) -> bool:
        """A name of the format's own (events.jsonl, screens/…), or a verified screen name."""
        return rel in _FIXED_NAMES or self.verified(rel)

    def verified(self, rel: str, digest: str | None = None) -> bool:
        m = _HASH_NAME.fullmatch(rel)
        if m is None or (digest is not None and digest != m.group(1)):
            return False
        if rel not in self._known:
            try:
                self._known[rel] = file_hash(self.root / rel) == m.group(1)
            except Exception:  # missing or undecodable: not a proof of anything
                self._known[rel] = False
        return self._known[rel]


def prove_gone(root: Path, literals: dict[str, str]) -> Proof:
    """Search bundle ``root`` for every key of ``literals`` (literal -> pattern name)."""
    ordered = sorted(literals)
    number = {lit: i for i, lit in enumerate(ordered, 1)}
    proof = Proof(literals=len(ordered), literal_kinds={number[x]: literals[x] for x in ordered})
    files = [p for p in sorted(root.rglob("*")) if not p.is_symlink()]
    for path in files:
        if path.is_file():
            proof.files += 1
            proof.bytes += path.stat().st_size
    if not ordered:
        return proof
    forms: dict[bytes, str] = {}
    for lit in ordered:
        forms.setdefault(lit.encode("utf-8"), lit)
        forms.setdefault(orjson.dumps(lit)[1:-1], lit)
    rx = re.compile(b"|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    names = _ScreenNames(root)
    seen: set[tuple[str, str, int]] = set()

    def report(survivor: bool, file: str, where: str, lit: str) -> None:
        key = (file, where, number[lit])
        if key not in seen:
            seen.add(key)
            (proof.survivors if survivor else proof.incidental).append(Finding(file, where, number[lit]))

    for path in files:
        rel = path.relative_to(root).as_posix()
        for lit in ordered:
            if lit in rel:
                report(not names.structure(rel), rel, "file name" if path.is_file() else "directory name", lit)
        if not path.is_file() or path.stat().st_size == 0:
            continue
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for survivor, where, lit in _classify(rel, data, rx, forms, names):
                report(survivor, rel, where, lit)
    for file, where, lit in _decoded_hits(root, ordered):
        report(True, file, where, lit)
    proof.ok = not proof.survivors
    return proof


def _classify(rel: str, data: mmap.mmap, rx: re.Pattern[bytes], forms: dict[bytes, str],
              names: _ScreenNames) -> Iterator[tuple[bool, str, str]]:
    """(survivor?, where, literal) for each hit in one file's bytes."""
    is_png = data[:8] == png.SIGNATURE
    if is_png:
        for kind, start, text in png.compressed_texts(data):
            for m in rx.finditer(text):
                yield True, f"PNG {kind} chunk at byte {start} (decompressed)", forms[m.group()]
    hits = [(m.start(), m.end(), forms[m.group()]) for m in rx.finditer(data)]
    if not hits:
        return
    if rel in (EVENTS_FILE, ANNOTATIONS_FILE):
        lines: dict[int, tuple[list[Token] | None, Classifier]] = {}
        for pos, end, lit in hits:
            start = data.rfind(b"\n", 0, pos) + 1
            stop = data.find(b"\n", pos)
            stop = len(data) if stop < 0 else stop
            lineno = data[:start].count(b"\n") + 1
            if start not in lines:
                lines[start] = _line_rule(data[start:stop], rel, lineno, names)
            toks, structure = lines[start]
            inside = None if toks is None or end > stop else next(
                (t for t in toks if t.start <= pos - start and end - start <= t.end), None)
            yield inside is None or not structure(inside.path, inside.role, inside.value), f"line {lineno}", lit
    elif is_png:
        chunks = list(png.chunks(data))
        for pos, end, lit in hits:
            _, b, kind = next(c for c in chunks if c[0] <= pos < c[1])
            yield kind != "IDAT" or end > b, f"PNG {kind} at byte {pos}", lit
    else:
        for pos, _, lit in hits:
            yield True, f"byte {pos}", lit


def _line_rule(line: bytes, rel: str, lineno: int, names: _ScreenNames) -> tuple[list[Token] | None, Classifier]:
    """A line's tokens and the rule that says which are structure."""
    toks = tokens(line)
    if rel == ANNOTATIONS_FILE:
        return toks, annotation_structure
    if lineno == 1:
        return toks, header_structure
    values = {t.path[0]: t.value for t in toks or () if t.role == "value" and len(t.path) == 1}
    kind = values.get("type")
    ref_ok = kind == "screen" and isinstance(values.get("path"), str) and isinstance(values.get("hash"), str) \
        and names.verified(str(values["path"]), str(values["hash"]))

    def structure(path: tuple[str | int, ...], role: str, value: object) -> bool:
        if path in (("hash",), ("path",)) and role == "value" and kind == "screen":
            return ref_ok
        return event_structure(path, "key" if role == "key" else "value", value, kind)

    return toks, structure


def _decoded_hits(root: Path, literals: list[str]) -> Iterator[tuple[str, str, str]]:
    """Hits in decoded strings and in the typed text rebuilt from key events."""
    bundle = Bundle.open(root)
    header_texts = list(text_strings(to_dict(bundle.header), header_structure))
    for lit in literals:
        if any(lit in s for s in header_texts):
            yield EVENTS_FILE, "header (decoded)", lit
    builder = TypedTextBuilder()
    for i, ev in enumerate(bundle.events()):
        builder.feed(i, ev)
        texts = _event_texts(ev)
        if texts:
            for lit in literals:
                if any(lit in s for s in texts):
                    yield EVENTS_FILE, f"line {i + 2} (decoded)", lit
    typed = builder.result()
    for view, segments in (("edited", typed.edited), ("raw", typed.raw)):
        for seg in segments:
            text = seg.text
            for lit in literals:
                if lit in text:
                    yield EVENTS_FILE, f"typed text ({view} view) at line {seg.events[0] + 2}", lit
    ann = bundle.annotations_path
    if ann.is_file():
        for lineno, line in enumerate(ann.read_bytes().split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                texts = list(text_strings(orjson.loads(line), annotation_structure))
            except orjson.JSONDecodeError:  # not JSON: search its decoded text
                texts = [line.decode("utf-8", "replace")]
            for lit in literals:
                if any(lit in s for s in texts):
                    yield ANNOTATIONS_FILE, f"line {lineno} (decoded)", lit


def _event_texts(ev: Event) -> list[str]:
    if isinstance(ev, Window):
        return [s for s in (ev.title, ev.wm_class) if s]
    if isinstance(ev, Mark):
        return [ev.label] if ev.label else []
    if isinstance(ev, Pause | Resume | Stop):
        return [ev.reason] if ev.reason else []
    return []


"""The proof that scrubbed text is gone: search every byte, and every text wf can derive, of a bundle.

Given the literals found during redaction (held in memory only, never written), :func:`prove_gone`

* reads **every file** under the bundle directory as raw bytes and looks for each literal, in UTF-8 and
  in its JSON-escaped form;
* decodes every event and annotation and looks in its strings (a title, a mark, a note), and rebuilds the
  typed text (both views of :mod:`wf.redact.typed`) and looks there.

A raw-byte hit is a **survivor** (the proof fails) unless it lies somewhere that cannot carry the text:
inside a number, hash, timestamp or file name of an event line whose decoded text does not contain it
(e.g. a scrubbed PIN "1234" inside ``"t": 3.123456``), or inside a PNG's compressed pixel data (IDAT),
where a short byte string occurs by chance. Such hits are reported as *incidental*, never hidden.
Pixels themselves are not read: text *shown* on screen is only gone if its rectangle was masked.
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

from wf.bundle.events import Event, Header, Mark, Pause, Resume, Stop, Window
from wf.bundle.reader import ANNOTATIONS_FILE, EVENTS_FILE, Bundle
from wf.redact.text import strings_in
from wf.redact.typed import TypedTextBuilder

# Event types whose every field is structure (names of keys, coordinates, hashes), not free text.
_STRUCTURAL_TYPES = frozenset({"mouse_move", "mouse_down", "mouse_up", "scroll", "key_down", "key_up",
                               "redacted", "screen"})
_PNG_SIG = b"\x89PNG\r\n\x1a\n"


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
            "ok": self.ok, "files": self.files, "bytes": self.bytes, "literals": self.literals,
            "literal_kinds": {str(k): v for k, v in self.literal_kinds.items()},
            "survivors": [_fd(f) for f in self.survivors],
            "incidental": [_fd(f) for f in self.incidental],
        }


def _fd(f: Finding) -> dict[str, object]:
    return {"file": f.file, "where": f.where, "literal": f.literal}


def prove_gone(root: Path, literals: dict[str, str]) -> Proof:
    """Search bundle ``root`` for every key of ``literals`` (literal -> pattern name)."""
    ordered = sorted(literals)
    number = {lit: i for i, lit in enumerate(ordered, 1)}
    proof = Proof(literals=len(ordered), literal_kinds={number[x]: literals[x] for x in ordered})
    if not ordered:
        for path in _files(root):
            proof.files += 1
            proof.bytes += path.stat().st_size
        return proof
    forms: dict[bytes, str] = {}
    for lit in ordered:
        forms.setdefault(lit.encode("utf-8"), lit)
        forms.setdefault(orjson.dumps(lit)[1:-1], lit)
    rx = re.compile(b"|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    seen: set[tuple[str, str, int]] = set()

    def report(survivor: bool, file: str, where: str, lit: str) -> None:
        key = (file, where, number[lit])
        if key in seen:
            return
        seen.add(key)
        (proof.survivors if survivor else proof.incidental).append(Finding(file, where, number[lit]))

    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        proof.files += 1
        size = path.stat().st_size
        proof.bytes += size
        if size == 0:
            continue
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for survivor, where, lit in _classify(rel, data, rx, forms):
                report(survivor, rel, where, lit)
    for file, where, lit in _decoded_hits(root, ordered):
        report(True, file, where, lit)
    proof.ok = not proof.survivors
    return proof


def _files(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            yield p


def _classify(rel: str, data: mmap.mmap, rx: re.Pattern[bytes],
              forms: dict[bytes, str]) -> Iterator[tuple[bool, str, str]]:
    """(survivor?, where, literal) for each raw hit in one file."""
    hits = [(m.start(), forms[m.group()]) for m in rx.finditer(data)]
    if not hits:
        return
    if rel in (EVENTS_FILE, ANNOTATIONS_FILE):
        for pos, lit in hits:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            line = data[start:end if end >= 0 else len(data)]
            lineno = data[:start].count(b"\n") + 1
            texts = _line_texts(line, header=(rel == EVENTS_FILE and lineno == 1),
                                annotations=(rel == ANNOTATIONS_FILE))
            survivor = texts is None or any(lit in t for t in texts)
            yield survivor, f"line {lineno}", lit
    elif data[:8] == _PNG_SIG:
        chunks = list(_png_chunks(data))
        for pos, lit in hits:
            kind = next((k for a, b, k in chunks if a <= pos < b), "outside chunks")
            yield kind != "IDAT", f"PNG {kind} at byte {pos}", lit
    else:
        for pos, lit in hits:
            yield True, f"byte {pos}", lit


def _line_texts(line: bytes, *, header: bool, annotations: bool) -> list[str] | None:
    """The free-text strings of one JSON line; None when the line cannot be decoded (then any hit counts)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return list(strings_in(obj))
    if annotations:
        return list(strings_in({k: v for k, v in obj.items() if k != "at"}))
    if header:
        return list(strings_in({k: v for k, v in obj.items() if k not in ("format", "started")}))
    kind = obj.get("type")
    if kind in _STRUCTURAL_TYPES:
        return []
    return list(strings_in({k: v for k, v in obj.items() if k != "type"}))


def _png_chunks(data: mmap.mmap) -> Iterator[tuple[int, int, str]]:
    """(start, end, type) of every chunk, the 8-byte length/type prefix and CRC included."""
    pos = 8
    n = len(data)
    yield 0, 8, "signature"
    while pos + 8 <= n:
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8].decode("latin-1")
        end = min(pos + 12 + length, n)
        yield pos, end, kind
        pos = end


def _decoded_hits(root: Path, literals: list[str]) -> Iterator[tuple[str, str, str]]:
    """Hits in decoded strings and in the typed text rebuilt from key events."""
    bundle = Bundle.open(root)
    for lit in literals:
        if any(lit in s for s in _header_texts(bundle.header)):
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
            decoded = _line_texts(line, header=False, annotations=True) if line.strip() else []
            # Not JSON: search its decoded text.
            texts = decoded if decoded is not None else [line.decode("utf-8", "replace")]
            for lit in literals:
                if any(lit in s for s in texts):
                    yield ANNOTATIONS_FILE, f"line {lineno} (decoded)", lit


def _header_texts(h: Header) -> list[str]:
    return list(strings_in({"task": h.task, "launch": h.launch, "recorder": msgspec.to_builtins(h.recorder),
                            "platform": msgspec.to_builtins(h.platform), "redactions": h.redactions}))


def _event_texts(ev: Event) -> list[str]:
    if isinstance(ev, Window):
        return [s for s in (ev.title, ev.wm_class) if s]
    if isinstance(ev, Mark):
        return [ev.label] if ev.label else []
    if isinstance(ev, Pause | Resume | Stop):
        return [ev.reason] if ev.reason else []
    return []

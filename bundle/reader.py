"""Streaming, validating reader of bundle format v1.

``Bundle.open`` checks the directory and the header; ``Bundle.events`` yields
typed events one by one, so a multi-hour recording is never held in memory.
Every defect is reported as a ``BundleError`` naming file, line and field.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

from wf.bundle.errors import BundleError
from wf.bundle.events import (
    EVENT_TYPES,
    FORMAT_NAME,
    FORMAT_VERSION,
    Event,
    Header,
    Screen,
)
from wf.bundle.paths import check_relative, resolve_inside

EVENTS_FILE = "events.jsonl"
SCREENS_DIR = "screens"
ANNOTATIONS_FILE = "annotations.jsonl"

_CHUNK = 1 << 22
_FIELD_RE = re.compile(r"at `\$\.?([^`]*)`")
_DECODER = msgspec.json.Decoder(Event)
_HEADER_DECODER = msgspec.json.Decoder(Header)


class TruncatedLineWarning(UserWarning):
    """The last line was cut short (the recorder was killed mid-write); it is ignored."""


@dataclass
class Bundle:
    """An opened bundle directory. Cheap to create: only the header is read."""

    path: Path
    header: Header
    warnings: list[str] = field(default_factory=list)

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def annotations_path(self) -> Path:
        return self.path / ANNOTATIONS_FILE

    @classmethod
    def open(cls, path: Path | str) -> Bundle:
        root = Path(path)
        if not root.exists():
            raise BundleError("no such bundle", path=root, hint="pass the directory `wf record` wrote")
        if not root.is_dir():
            raise BundleError("not a bundle directory (it is a file)", path=root,
                              hint="a bundle is a directory holding events.jsonl and screens/")
        events = root / EVENTS_FILE
        if not events.is_file():
            raise BundleError(f"no {EVENTS_FILE} in this directory", path=root,
                              hint="is this a wf bundle? `wf record OUT` creates one")
        with events.open("rb") as fh:
            first = fh.readline()
        return cls(root, parse_header(first, events))

    def events(self) -> Iterator[Event]:
        """Yield every event after the header, validated; unknown types are skipped."""
        yield from iter_events(self.events_path, self.warnings)

    def screen_path(self, rel: str) -> Path:
        """The file of a ``screen`` event, guaranteed to lie inside the bundle."""
        return resolve_inside(self.path, rel)


def parse_header(line: bytes, where: Path) -> Header:
    if not line.strip():
        raise BundleError("empty file: missing header line", path=where, line=1)
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"header is not valid JSON ({exc.msg})", path=where, line=1) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise BundleError(f"missing header: line 1 is not a '{FORMAT_NAME}' header", path=where, line=1,
                          field="format")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError("header version must be an integer", path=where, line=1, field="version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"bundle format version {version} is not supported (this wf reads version {FORMAT_VERSION})",
            path=where, line=1, field="version",
            hint="upgrade wf to read newer bundles" if version > FORMAT_VERSION else None,
        )
    try:
        return _HEADER_DECODER.decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _validation_error(exc, where, 1, "header") from None


def iter_events(path: Path, warns: list[str] | None = None) -> Iterator[Event]:
    """Stream events from ``path`` (an ``events.jsonl``), skipping the header line."""
    decode = _DECODER.decode
    prev_t = 0.0
    lineno = 0
    tail = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            for line in lines:
                lineno += 1
                if lineno == 1:
                    continue
                try:
                    ev = decode(line)
                except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
                    if _is_unknown_type(line):
                        continue
                    raise _line_error(exc, line, path, lineno) from None
                t = ev.t
                if not t >= prev_t:  # also catches NaN
                    raise _time_error(t, prev_t, path, lineno)
                prev_t = t
                if type(ev) is Screen:
                    check_relative(ev.path, where=path, line=lineno)
                yield ev
    if tail.strip():
        lineno += 1
        if lineno == 1:
            return
        try:
            ev = decode(tail)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            msg = f"{path}:{lineno}: last line is truncated (recording was interrupted); ignored"
            if warns is not None:
                warns.append(msg)
            warnings.warn(msg, TruncatedLineWarning, stacklevel=2)
            return
        if not ev.t >= prev_t:
            raise _time_error(ev.t, prev_t, path, lineno)
        if type(ev) is Screen:
            check_relative(ev.path, where=path, line=lineno)
        yield ev


def _is_unknown_type(line: bytes) -> bool:
    """Readers skip event types they don't know, if the line is otherwise a well-formed event."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(raw, dict):
        return False
    kind, t = raw.get("type"), raw.get("t")
    return (isinstance(kind, str) and kind not in EVENT_TYPES
            and isinstance(t, int | float) and not isinstance(t, bool))


def _time_error(t: float, prev_t: float, path: Path, lineno: int) -> BundleError:
    if t < 0:
        return BundleError(f"negative time {t}", path=path, line=lineno, field="t")
    return BundleError(f"time goes backwards ({t} after {prev_t})", path=path, line=lineno, field="t",
                       hint="events must be in non-decreasing time order")


def _line_error(exc: Exception, line: bytes, path: Path, lineno: int) -> BundleError:
    if not line.strip():
        return BundleError("empty line", path=path, line=lineno)
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as jexc:
        return BundleError(f"corrupt JSON ({jexc.msg})", path=path, line=lineno)
    if not isinstance(raw, dict):
        return BundleError(f"expected an event object, got {type(raw).__name__}", path=path, line=lineno)
    if "type" not in raw:
        return BundleError("event has no 'type'", path=path, line=lineno, field="type")
    return _validation_error(exc, path, lineno, f"'{raw.get('type')}' event")


def _validation_error(exc: Exception, path: Path, lineno: int, what: str) -> BundleError:
    text = str(exc)
    m = _FIELD_RE.search(text)
    fld = m.group(1) if m else None
    msg = _FIELD_RE.sub("", text).rstrip(" -")
    return BundleError(f"invalid {what}: {msg}", path=path, line=lineno, field=fld or None)

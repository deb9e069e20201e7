"""``annotations.jsonl``: the append-only log of annotation records, read, appended to and imported.

Every change is a new record appended at the end; nothing is ever rewritten, so the history is kept and
the raw recording is never touched. Appends take an exclusive ``flock`` and go out in one ``write`` on an
``O_APPEND`` descriptor, so concurrent annotators never interleave or lose records; a reader takes the
shared lock, so it never sees half a batch. The format is specified in docs/annotations.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from wf.bundle.annotations import Annotations, Change, LogRecord, change_from_json, check_range, fold
from wf.bundle.errors import BadInput, BundleError, EnvironmentProblem
from wf.bundle.reader import Bundle

ANNOTATION_VERSION = 1
FILE_MODE = 0o600


class NewerAnnotationsError(BundleError):
    """The log holds a record written by a newer wf: refusing to guess at its meaning."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_author() -> str:
    """``$USER``, else the login name, else "unknown"."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def to_record(change: Change, *, author: str, via: str, at: str | None = None) -> dict[str, object]:
    """The JSON object appended for one change (see docs/annotations.md)."""
    rec: dict[str, object] = {"v": ANNOTATION_VERSION, "at": at or now_iso(),
                              "author": change.author or author, "via": via}
    if change.step is not None:
        rec["step"] = change.step
    if change.values:
        rec["set"] = dict(change.values)
    if change.tags_add:
        rec["tags_add"] = list(change.tags_add)
    if change.tags_remove:
        rec["tags_remove"] = list(change.tags_remove)
    return rec


def _check_version(raw: dict[str, object], path: Path, lineno: int) -> None:
    v = raw.get("v")
    if v is None:
        raise ValueError("record has no version field 'v'")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"'v' must be a positive integer, got {v!r}")
    if v > ANNOTATION_VERSION:
        raise NewerAnnotationsError(
            f"annotation record of format version {v} (this wf reads version {ANNOTATION_VERSION})",
            path=path, line=lineno,
            hint="upgrade wf to read these annotations; the file was left unchanged")


def _lock(fd: int, kind: int) -> None:
    # Filesystems without flock (some network mounts): O_APPEND alone still applies.
    with contextlib.suppress(OSError):
        fcntl.flock(fd, kind)


def read_log(path: Path) -> tuple[list[LogRecord], list[str]]:
    """Every valid record of ``annotations.jsonl``, plus warnings for skipped lines.

    A corrupt line is skipped with a warning naming it and is never rewritten; a record from a
    newer format version raises ``NewerAnnotationsError``. A missing file is an empty log.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        raise BundleError(f"cannot read annotations: {exc.strerror}", path=path,
                          hint="annotations.jsonl must be a regular file inside the bundle") from None
    with os.fdopen(fd, "rb") as fh:
        _lock(fd, fcntl.LOCK_SH)  # a writer holds LOCK_EX: never read a half-appended batch
        data = fh.read()
    records: list[LogRecord] = []
    warns: list[str] = []
    lines = data.split(b"\n")
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        truncated = lineno == len(lines)  # no newline after it: the writer died mid-line
        try:
            raw = orjson.loads(line)
            if not isinstance(raw, dict):
                raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
            _check_version(raw, path, lineno)
            at, author, via = raw.get("at"), raw.get("author"), raw.get("via", "")
            if not isinstance(at, str) or not isinstance(author, str) or not isinstance(via, str):
                raise ValueError("record needs string fields 'at' and 'author'")
            change = change_from_json(raw, strict=False)
        except NewerAnnotationsError:
            raise
        except (orjson.JSONDecodeError, ValueError) as exc:
            why = "truncated last line" if truncated else str(exc)
            warns.append(f"{path}:{lineno}: corrupt annotation record skipped ({why})")
            continue
        records.append(LogRecord(lineno, at, author, via, change))
    return records, warns


def load_annotations(bundle: Bundle) -> Annotations:
    """Fold of the bundle's ``annotations.jsonl`` (later wins); an absent log is "unknown" outcome."""
    records, warns = read_log(bundle.annotations_path)
    return fold(records, header_task=bundle.header.task, warnings=warns)


def append_records(path: Path, records: Sequence[Mapping[str, object]]) -> None:
    """Append records atomically: one exclusive lock, one ``write`` on an O_APPEND descriptor.

    A previous writer that died mid-line leaves a line without its newline; we start on a fresh
    line so that only the torn line is lost (readers skip it with a warning), never ours.
    """
    if not records:
        return
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot open {path} for appending: {exc.strerror}",
                                 hint="is the bundle writable, annotations.jsonl a regular file?") from None
    try:
        _lock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot append to {path}: {exc.strerror}",
                                 hint="free some space; records already in the file are intact") from None
    finally:
        os.close(fd)  # closing releases the lock


def annotate(bundle: Bundle, changes: Sequence[Change], *, author: str | None = None, via: str = "cli",
             n_actions: int | None = None) -> Annotations:
    """Validate ``changes`` (all or nothing), append them as records, return the new fold.

    ``n_actions`` bounds step numbers; pass it when any change is about a step.
    """
    changes = [c for c in changes if not c.is_empty()]
    if any(c.step is not None for c in changes):
        if n_actions is None:
            raise ValueError("n_actions is required to annotate steps")
        check_range(changes, n_actions)
    read_log(bundle.annotations_path)  # refuse to append after records we cannot read
    who = author or default_author()
    at = now_iso()
    append_records(bundle.annotations_path, [to_record(c, author=who, via=via, at=at) for c in changes])
    return load_annotations(bundle)


def parse_import(path: Path) -> list[Change]:
    """Read a batch of changes (``--from``): every line must be valid, or nothing is imported.

    Lines are log records (with ``set``) or the flat shorthand, e.g. ``{"step": 3, "note": "…"}``,
    ``{"task": "…", "outcome": "success", "tags": ["demo"]}``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"no such file {path}",
                       hint="--from takes a JSONL file of annotation records") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    changes: list[Change] = []
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
            if not isinstance(raw, dict):
                raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
            if "v" in raw:
                _check_version(raw, path, lineno)
            change = change_from_json(raw, strict=True)
        except NewerAnnotationsError:
            raise
        except orjson.JSONDecodeError as exc:
            raise BundleError(f"not valid JSON ({exc.msg}); nothing was imported", path=path,
                              line=lineno) from None
        except (ValueError, KeyError) as exc:
            raise BundleError(f"{exc}; nothing was imported", path=path, line=lineno) from None
        if change.is_empty():
            raise BundleError("record changes nothing; nothing was imported", path=path, line=lineno)
        changes.append(change)
    if not changes:
        raise BadInput(f"{path} holds no annotation records", hint="one JSON object per line")
    return changes

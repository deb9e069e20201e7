"""Human annotations of a bundle: an append-only log folded into one effective view.

``annotations.jsonl`` sits next to ``events.jsonl``. Every change is a new record appended at the
end; nothing is ever rewritten, so the history is kept and the raw recording is never touched.
The effective annotation is the fold of the log in file order (later wins). Appends take an
exclusive ``flock`` and go out in one ``write`` on an ``O_APPEND`` descriptor, so concurrent
annotators never interleave or lose records. The format is specified in docs/annotations.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from wf.bundle.errors import BadInput, BundleError, EnvironmentProblem
from wf.bundle.reader import Bundle

ANNOTATION_VERSION = 1
OUTCOMES: tuple[str, ...] = ("success", "failure", "partial", "unknown")
EPISODE_TEXT = ("task",)
STEP_TEXT = ("note", "thought", "label")
MAX_TEXT = 32 * 1024  # characters per text field: keeps the log readable and each record small
MAX_TAG = 100
FILE_MODE = 0o600


class NewerAnnotationsError(BundleError):
    """The log holds a record written by a newer wf: refusing to guess at its meaning."""


@dataclass(frozen=True)
class StepAnnotation:
    """What people said about one action (by action index)."""

    note: str | None = None
    thought: str | None = None
    label: str | None = None
    dropped: bool = False

    def to_json(self) -> dict[str, object]:
        return {"note": self.note, "thought": self.thought, "label": self.label, "dropped": self.dropped}


@dataclass(frozen=True)
class Annotations:
    """The effective annotation of a bundle: the fold of its ``annotations.jsonl``.

    ``steps`` holds every step any record touched (even one only marked "keep"), so a step
    missing from it has never been reviewed. ``task`` falls back to the header's task.
    """

    task: str | None
    outcome: str
    tags: tuple[str, ...]
    quality: int | None
    steps: dict[int, StepAnnotation]
    warnings: tuple[str, ...]
    records: int = 0
    authors: tuple[str, ...] = ()
    updated: str | None = None  # wall time of the last record
    task_annotated: bool = False  # False when ``task`` is the header's

    @property
    def dropped(self) -> frozenset[int]:
        return frozenset(i for i, s in self.steps.items() if s.dropped)

    def step(self, index: int) -> StepAnnotation:
        return self.steps.get(index, _EMPTY_STEP)

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict (step keys become strings, as JSON requires)."""
        return {
            "task": self.task,
            "task_annotated": self.task_annotated,
            "outcome": self.outcome,
            "tags": list(self.tags),
            "quality": self.quality,
            "dropped": sorted(self.dropped),
            "steps": {str(i): s.to_json() for i, s in sorted(self.steps.items())},
            "records": self.records,
            "authors": list(self.authors),
            "updated": self.updated,
            "warnings": list(self.warnings),
        }


_EMPTY_STEP = StepAnnotation()


@dataclass(frozen=True)
class Change:
    """One validated change: episode-level when ``step`` is None, else about one action.

    ``values`` maps a field to its new value; ``None`` clears a text field or the quality.
    """

    step: int | None = None
    values: Mapping[str, object] = field(default_factory=dict)
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()
    author: str | None = None  # overrides the caller's author (e.g. a model named in an import)

    def is_empty(self) -> bool:
        return not (self.values or self.tags_add or self.tags_remove)


# ---------------------------------------------------------------- validation


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"'{name}' must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"'{name}' contains a NUL character")
    if len(value) > MAX_TEXT:
        raise ValueError(f"'{name}' is {len(value)} characters long (limit {MAX_TEXT})")
    return value if value.strip() else None  # empty clears


def check_tag(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"a tag must be a non-empty string, got {value!r}")
    tag = value.strip()
    if len(tag) > MAX_TAG or any(ord(c) < 32 for c in tag):
        raise ValueError(f"tag {tag[:40]!r} is too long or contains control characters")
    return tag


def _outcome(value: object) -> str:
    if value is None:
        return "unknown"
    if value not in OUTCOMES:
        raise ValueError(f"unknown outcome {value!r} (expected one of {', '.join(OUTCOMES)})")
    return str(value)


def _quality(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise ValueError(f"quality must be an integer from 1 to 5, got {value!r}")
    return value


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{name}' must be true or false, got {value!r}")
    return value


def _step_index(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"'step' must be a non-negative integer, got {value!r}")
    return value


def _tags(name: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"'{name}' must be a list of strings")
    return tuple(dict.fromkeys(check_tag(v) for v in value))


def check_values(step: int | None, values: Mapping[str, object], *, strict: bool = True) -> dict[str, object]:
    """Validate and normalise the fields of one change; unknown fields raise when ``strict``."""
    out: dict[str, object] = {}
    for name, value in values.items():
        if step is None and name == "task":
            out[name] = _text(name, value)
        elif step is None and name == "outcome":
            out[name] = _outcome(value)
        elif step is None and name == "quality":
            out[name] = _quality(value)
        elif step is not None and name in STEP_TEXT:
            out[name] = _text(name, value)
        elif step is not None and name == "dropped":
            out[name] = _bool(name, value)
        elif strict:
            where = f"step {step}" if step is not None else "the episode"
            allowed = ("note, thought, label, dropped" if step is not None
                       else "task, outcome, quality, tags, untags")
            raise ValueError(f"unknown field {name!r} for {where} (expected {allowed})")
    return out


def check_range(changes: Iterable[Change], n_actions: int) -> None:
    """Step numbers must name an existing action (0-based)."""
    for c in changes:
        if c.step is not None and not 0 <= c.step < n_actions:
            last = f"0..{n_actions - 1}" if n_actions else "none: the bundle has no actions"
            raise BadInput(f"step {c.step} is out of range (this bundle has {n_actions} actions: {last})",
                           hint="`wf inspect --actions BUNDLE` lists the steps with their numbers")


# ---------------------------------------------------------------- records


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


def _change_from_record(raw: object, *, strict: bool) -> Change:
    """Parse a log record (or an import line) into a ``Change``; raises ValueError."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    step = _step_index(raw["step"]) if raw.get("step") is not None else None
    flat = {k: v for k, v in raw.items() if k not in _ENVELOPE and k not in _TAG_KEYS and k != "set"}
    if "set" in raw:
        if not isinstance(raw["set"], dict):
            raise ValueError("'set' must be an object")
        if strict and flat:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, flat))} beside 'set'")
        values = raw["set"]
    else:  # the flat shorthand accepted by --from: {"step": 3, "note": "..."}
        values = flat
    author = raw.get("author")
    if author is not None and (not isinstance(author, str) or not author.strip() or len(author) > 200):
        raise ValueError("'author' must be a non-empty string of at most 200 characters")
    tags_add = _tags("tags_add", raw.get("tags_add")) + _tags("tags", raw.get("tags"))
    tags_remove = _tags("tags_remove", raw.get("tags_remove")) + _tags("untags", raw.get("untags"))
    if step is not None and (tags_add or tags_remove):
        raise ValueError("tags belong to the episode, not to a step")
    return Change(step=step, values=check_values(step, values, strict=strict), tags_add=tags_add,
                  tags_remove=tags_remove, author=author)


_ENVELOPE = frozenset({"v", "at", "author", "via", "step"})
_TAG_KEYS = frozenset({"tags", "untags", "tags_add", "tags_remove"})


def _check_version(raw: dict[str, Any], path: Path, lineno: int) -> None:
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


# ---------------------------------------------------------------- the log


@dataclass(frozen=True)
class LogRecord:
    line: int
    at: str
    author: str
    via: str
    change: Change


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
            change = _change_from_record(raw, strict=False)
        except NewerAnnotationsError:
            raise
        except (orjson.JSONDecodeError, ValueError) as exc:
            why = "truncated last line" if truncated else str(exc)
            warns.append(f"{path}:{lineno}: corrupt annotation record skipped ({why})")
            continue
        records.append(LogRecord(lineno, at, author, via, change))
    return records, warns


def fold(records: Iterable[LogRecord], *, header_task: str | None = None,
         warnings: Sequence[str] = ()) -> Annotations:
    """The effective annotation: apply records in file order, later wins."""
    task: str | None = None
    task_set = False
    outcome = "unknown"
    quality: int | None = None
    tags: dict[str, None] = {}
    steps: dict[int, dict[str, object]] = {}
    authors: dict[str, None] = {}
    n = 0
    updated = None
    for rec in records:
        n += 1
        updated = rec.at
        authors.setdefault(rec.author, None)
        c = rec.change
        if c.step is not None:
            steps.setdefault(c.step, {}).update(c.values)
            continue
        if "task" in c.values:
            task, task_set = c.values["task"], c.values["task"] is not None  # type: ignore[assignment]
        if "outcome" in c.values:
            outcome = str(c.values["outcome"])
        if "quality" in c.values:
            quality = c.values["quality"]  # type: ignore[assignment]
        for t in c.tags_add:
            tags.setdefault(t, None)
        for t in c.tags_remove:
            tags.pop(t, None)
    return Annotations(
        task=task if task_set else header_task,
        outcome=outcome,
        tags=tuple(tags),
        quality=quality,
        steps={i: StepAnnotation(**v) for i, v in sorted(steps.items())},  # type: ignore[arg-type]
        warnings=tuple(warnings),
        records=n,
        authors=tuple(authors),
        updated=updated,
        task_annotated=task_set,
    )


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
            change = _change_from_record(raw, strict=True)
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


# ---------------------------------------------------------------- display


def _clip(text: str, n: int = 120) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def step_summary(s: StepAnnotation) -> str:
    """One line: ``dropped · label: … · note: … · thought: …`` (empty when nothing is set)."""
    parts = ["dropped"] if s.dropped else []
    parts += [f"{k}: {_clip(v)}" for k, v in (("label", s.label), ("note", s.note), ("thought", s.thought))
              if v]
    return " · ".join(parts)


def annotation_rows(ann: Annotations) -> list[tuple[str, str]]:
    """(label, value) rows for `wf inspect`: plain text, the caller escapes markup."""
    if ann.records == 0:
        rows = [("annotations", "none (`wf annotate BUNDLE` adds them)")]
    else:
        n = f"{ann.records} record{'s' if ann.records != 1 else ''}"
        rows = [("annotations", f"{n} by {', '.join(ann.authors)}; last {ann.updated}")]
    if ann.task_annotated:
        rows.append(("instruction", ann.task or "—"))
    rows.append(("outcome", ann.outcome))
    if ann.quality is not None:
        rows.append(("quality", f"{ann.quality}/5"))
    if ann.tags:
        rows.append(("tags", ", ".join(ann.tags)))
    if ann.dropped:
        rows.append(("dropped steps", ", ".join(map(str, sorted(ann.dropped)))))
    for i, s in ann.steps.items():
        text = step_summary(s)
        if text and text != "dropped":
            rows.append((f"step {i}", text))
    return rows

"""Human annotations of a bundle: what a change is, how changes are checked, and their fold.

The annotations of a bundle are an append-only log of changes (``annotations.jsonl``, read and written by
``wf.bundle.annotation_log``; format in docs/annotations.md). The effective annotation is the fold of the
log in file order, later wins. Everything here is pure: no file is touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from wf.bundle.errors import BadInput

Outcome = Literal["success", "failure", "partial", "unknown"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
STEP_TEXT = ("note", "thought", "label")
MAX_TEXT = 32 * 1024  # characters per text field: keeps the log readable and each record small
MAX_TAG = 100


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
    outcome: Outcome
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


def _outcome(value: object) -> Outcome:
    if value is None:
        return "unknown"
    for known in OUTCOMES:
        if value == known:
            return known
    raise ValueError(f"unknown outcome {value!r} (expected one of {', '.join(OUTCOMES)})")


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


def change_from_json(raw: object, *, strict: bool) -> Change:
    """A log record (or an import line) as a validated ``Change``; raises ValueError."""
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


# Keys of a record that are not changes: the envelope, and the tag lists.
_ENVELOPE = frozenset({"v", "at", "author", "via", "step"})
_TAG_KEYS = frozenset({"tags", "untags", "tags_add", "tags_remove"})


# ---------------------------------------------------------------- the fold


@dataclass(frozen=True)
class LogRecord:
    """One valid record of the log: where it is, who wrote it when, and the change it makes."""

    line: int
    at: str
    author: str
    via: str
    change: Change


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def fold(records: Iterable[LogRecord], *, header_task: str | None = None,
         warnings: Sequence[str] = ()) -> Annotations:
    """The effective annotation: apply records in file order, later wins (values are checked already)."""
    task: str | None = None
    task_set = False
    outcome: Outcome = "unknown"
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
            task = _str(c.values["task"])
            task_set = task is not None
        if "outcome" in c.values:
            outcome = _outcome(c.values["outcome"])
        if "quality" in c.values:
            quality = _quality(c.values["quality"])
        for t in c.tags_add:
            tags.setdefault(t, None)
        for t in c.tags_remove:
            tags.pop(t, None)
    return Annotations(
        task=task if task_set else header_task,
        outcome=outcome,
        tags=tuple(tags),
        quality=quality,
        steps={i: StepAnnotation(note=_str(v.get("note")), thought=_str(v.get("thought")),
                                 label=_str(v.get("label")), dropped=v.get("dropped") is True)
               for i, v in sorted(steps.items())},
        warnings=tuple(warnings),
        records=n,
        authors=tuple(authors),
        updated=updated,
        task_annotated=task_set,
    )


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

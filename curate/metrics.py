"""Pure measures over a demonstration's actions and their effects: dead steps, corrections, repeats, score.

No file is read here: the caller passes the actions, their :class:`~wf.curate.effects.Effect` and, for
reverted steps, a ``same(a, b)`` test of two screens. Every rule is written down in docs/quality.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from wf.bundle.actions import Action, Thresholds
from wf.bundle.actions.model import cheb
from wf.curate.effects import DEADABLE, Effect

# Keys that take back what was typed: each press is one correction.
DELETE_KEYS = frozenset({"backspace", "delete"})
WORD_DELETE_HOTKEYS = frozenset({("ctrl", "backspace"), ("ctrl", "delete"), ("alt", "backspace")})
UNDO_HOTKEYS = frozenset({("ctrl", "z"), ("ctrl", "shift", "z"), ("ctrl", "y")})
NOT_STEPS = frozenset({"wait", "mark"})  # no input: not counted among a demonstration's steps

# How much each component weighs in the score (docs/quality.md, "Score"). Components that could not be
# measured drop out and the others are renormalised.
WEIGHTS: dict[str, float] = {
    "activity": 0.20,
    "dead": 0.25,
    "corrections": 0.15,
    "pointer": 0.15,
    "hesitation": 0.10,
    "repeats": 0.05,
    "replay": 0.10,
}


def steps_of(actions: Sequence[Action]) -> int:
    """The demonstration's steps: every action but waits and marks."""
    return sum(1 for a in actions if a.kind not in NOT_STEPS)


@dataclass(frozen=True, slots=True)
class DeadCount:
    judged: int  # deadable steps whose effect is known
    dead: int
    unknown: int  # deadable steps whose effect could not be seen
    by_kind: dict[str, int]
    steps: tuple[int, ...]  # the dead steps' indices


def count_dead(actions: Sequence[Action], effects: Sequence[Effect]) -> DeadCount:
    judged = unknown = 0
    by_kind: Counter[str] = Counter()
    dead: list[int] = []
    for a, e in zip(actions, effects, strict=True):
        if a.kind not in DEADABLE:
            continue
        if e.dead is None:
            unknown += 1
            continue
        judged += 1
        if e.dead:
            by_kind[a.kind] += 1
            dead.append(a.index)
    return DeadCount(judged, len(dead), unknown, dict(sorted(by_kind.items())), tuple(dead))


def deletions(a: Action) -> int:
    """Presses of a key that deletes what was typed (backspace, delete, ctrl+backspace …)."""
    if a.kind == "key" and a.keys and a.keys[-1] in DELETE_KEYS:
        return a.count
    if a.kind == "hotkey" and tuple(a.keys) in WORD_DELETE_HOTKEYS:
        return a.count
    return 0


def undos(a: Action) -> int:
    return a.count if a.kind == "hotkey" and tuple(a.keys) in UNDO_HOTKEYS else 0


def is_revert(prev: Action, prev_effect: Effect, cur: Action, cur_effect: Effect,
              same: Callable[[str | None, str | None], bool]) -> bool:
    """``cur`` undid ``prev``: both changed the screen, and after ``cur`` it is back to what it was before ``prev``."""
    return prev_effect.status == "changed" and cur_effect.status == "changed" \
        and prev.segment == cur.segment and same(prev.pre_screen, cur.post_screen)


def revert_candidate(a: Action) -> bool:
    """Steps that can revert or be reverted; moves and waits in between do not break adjacency."""
    return a.kind in DEADABLE


@dataclass(frozen=True, slots=True)
class CorrectionCount:
    deletions: int  # presses of backspace/delete and word deletions
    undos: int  # undo/redo hotkey presses
    reverted: int  # steps that immediately undid the step before them
    total: int  # deletions + undos + reverts not already counted as a deletion or an undo
    reverted_steps: tuple[tuple[int, int], ...]  # (step, the step that reverted it)


def count_corrections(actions: Sequence[Action], reverts: Sequence[tuple[int, int]]) -> CorrectionCount:
    by_index = {a.index: a for a in actions}
    dels = sum(deletions(a) for a in actions)
    und = sum(undos(a) for a in actions)
    extra = sum(1 for _, b in reverts if not deletions(by_index[b]) and not undos(by_index[b]))
    return CorrectionCount(dels, und, len(reverts), dels + und + extra, tuple(reverts))


def _sign(v: int) -> int:
    return (v > 0) - (v < 0)


def same_step(a: Action, b: Action, th: Thresholds = Thresholds()) -> bool:
    """Whether ``b`` repeats ``a``: same kind and input, at the same place (within ``drag_distance``)."""
    if (a.kind, a.button, a.count, a.modifiers, a.keys, a.text, _sign(a.dx), _sign(a.dy)) != \
            (b.kind, b.button, b.count, b.modifiers, b.keys, b.text, _sign(b.dx), _sign(b.dy)):
        return False
    for p, q in (((a.x, a.y), (b.x, b.y)), ((a.end_x, a.end_y), (b.end_x, b.end_y))):
        if (p[0] is None) != (q[0] is None):
            return False
        if p[0] is not None and p[1] is not None and q[0] is not None and q[1] is not None \
                and cheb(p[0], p[1], q[0], q[1]) > th.drag_distance:
            return False
    return True


@dataclass(frozen=True, slots=True)
class RepeatCount:
    repeats: int  # steps identical to the step before them (waits between them ignored)
    retries: int  # repeats of a dead step: trying again what did nothing
    steps: tuple[int, ...] = field(default=())


def count_repeats(actions: Sequence[Action], effects: Sequence[Effect], th: Thresholds = Thresholds()) -> RepeatCount:
    prev: tuple[Action, Effect] | None = None
    found: list[int] = []
    retries = 0
    for a, e in zip(actions, effects, strict=True):
        if a.kind == "wait":
            continue
        if a.kind == "mark":
            prev = None
            continue
        if prev is not None and a.kind in DEADABLE and prev[0].segment == a.segment and same_step(prev[0], a, th):
            found.append(a.index)
            retries += prev[1].dead is True
        prev = (a, e)
    return RepeatCount(len(found), retries, tuple(found))


def rate_component(count: float, out_of: float) -> float | None:
    """1 − count / out_of, clipped to 0–1; None when there is nothing to measure against."""
    if out_of <= 0:
        return None
    return round(max(0.0, 1.0 - count / out_of), 4)


def combine(components: Mapping[str, float | None], weights: Mapping[str, float] = WEIGHTS) -> float | None:
    """The weighted mean of the measured components (None: nothing could be measured)."""
    total = sum(weights[k] for k, v in components.items() if v is not None)
    if total <= 0:
        return None
    return round(sum(weights[k] * v for k, v in components.items() if v is not None) / total, 4)

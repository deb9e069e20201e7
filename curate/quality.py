"""Is this demonstration worth training on: one streaming pass, per-step effects, components and a score.

:func:`assess` reads the bundle once — the reducer and the raw-event folds (:mod:`wf.curate.stream`) share
the pass — then compares each step's screens (:mod:`wf.curate.effects`) and measures (:mod:`wf.curate.metrics`).
The JSON schema is :class:`Quality` (``wf inspect --quality --json`` prints it as ``quality``); every field
and every component is explained in docs/quality.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from wf.bundle.actions import Action, Thresholds, reduce_events
from wf.bundle.pixels import Region
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import replay_evidence
from wf.curate.effects import Effect, ScreenComparer, effect_of
from wf.curate.metrics import (
    WEIGHTS,
    combine,
    count_corrections,
    count_dead,
    count_repeats,
    is_revert,
    rate_component,
    revert_candidate,
    steps_of,
)
from wf.curate.stream import StreamFacts

QUALITY_VERSION = 1


class ActivityReport(msgspec.Struct, kw_only=True):
    span: float  # s from the first to the last input of each segment (paused time left out)
    active: float  # span − idle
    idle: float  # s in gaps of ≥ idle_gap without any input
    idle_gaps: int
    longest_idle: float
    paused: float  # s between pause and resume (not part of the span)
    ratio: float | None  # active / span


class DeadReport(msgspec.Struct, kw_only=True):
    judged: int  # steps that can be dead and whose effect is known
    dead: int
    unknown: int  # steps that can be dead whose effect could not be seen (no screen before or after)
    by_kind: dict[str, int]
    steps: list[int]


class CorrectionReport(msgspec.Struct, kw_only=True):
    deletions: int
    undos: int
    reverted: int
    total: int
    reverted_steps: list[tuple[int, int]]


class PointerReport(msgspec.Struct, kw_only=True):
    travels: int
    path_px: float
    displacement_px: float
    efficiency: float | None  # 0–1, 1 = every travel a straight line
    ratio: float | None  # path length / displacement


class HesitationReport(msgspec.Struct, kw_only=True):
    pauses: int
    seconds: float
    longest: float


class RepeatReport(msgspec.Struct, kw_only=True):
    repeats: int
    retries: int
    steps: list[int]


class KeptVerdict(msgspec.Struct, kw_only=True):
    """The bundle's last kept replay, as far as quality is concerned."""

    status: str  # verified | failed | unverified | stale
    coverage: float | None  # % of steps whose effect the replay checked
    stale: bool  # the events changed since: the verdict no longer applies
    file: str

    @classmethod
    def of(cls, bundle: Bundle) -> KeptVerdict | None:
        """From the bundle's replays/ (None: never replayed, or the report was not kept)."""
        ev = replay_evidence(bundle)
        if ev.file is None:
            return None
        return cls(status=ev.status, coverage=ev.coverage, stale=ev.status == "stale", file=ev.file)


class Quality(msgspec.Struct, kw_only=True):
    version: int = QUALITY_VERSION
    score: float | None  # 0–1: the weighted mean of the measured components
    components: dict[str, float | None]  # each 0–1 (1 = no sign of noise), None = not measurable
    weights: dict[str, float]
    steps: int  # actions other than waits and marks
    activity: ActivityReport
    dead: DeadReport
    corrections: CorrectionReport
    pointer: PointerReport
    hesitation: HesitationReport
    repeats: RepeatReport
    replay: KeptVerdict | None


@dataclass(frozen=True)
class Assessment:
    """A bundle's actions with their effects, the windows they happened in, and the demonstration's quality."""

    actions: list[Action]
    effects: list[Effect]
    windows: list[Region | None]  # the focused window's geometry when each action began
    quality: Quality
    frames_decoded: int


def assess(bundle: Bundle, thresholds: Thresholds = Thresholds(),
           replay: KeptVerdict | Literal["kept"] | None = "kept") -> Assessment:
    """Read ``bundle`` once and judge it. ``replay``: the evidence of a replay; by default the bundle's last
    kept one (``replays/``), None to leave replay verification out."""
    if replay == "kept":
        replay = KeptVerdict.of(bundle)
    facts = StreamFacts(bundle.header, thresholds)
    header = bundle.header
    start = header.start.pointer if header.start is not None else None
    actions = reduce_events(facts.tap(bundle.events()), thresholds, monitors=header.screen.monitors,
                            start_pointer=start)
    facts.finish()
    screens = ScreenComparer(bundle, facts.screens, list(facts.volatile))
    effects, reverts = _effects(actions, screens)
    quality = measure(actions, effects, reverts, facts, thresholds, replay)
    return Assessment(actions, effects, facts.window_boxes(actions), quality, screens.decoded)


def _effects(actions: Sequence[Action], screens: ScreenComparer) -> tuple[list[Effect], list[tuple[int, int]]]:
    """Each step's effect, and the steps that reverted the one before them — in one walk, so the frames
    a revert check needs are still in the comparer's cache."""
    effects: list[Effect] = []
    reverts: list[tuple[int, int]] = []
    prev: int | None = None
    for n, a in enumerate(actions):
        e = effect_of(a, screens)
        effects.append(e)
        if a.kind == "mark":
            prev = None
        elif revert_candidate(a):
            if prev is not None and is_revert(actions[prev], effects[prev], a, e, screens.same):
                reverts.append((actions[prev].index, a.index))
            prev = n
    return effects, reverts


def replay_component(ev: KeptVerdict | None) -> float | None:
    """Verified 1, failed 0; unverified or stale evidence counts for nothing either way."""
    if ev is None or ev.stale:
        return None
    return {"verified": 1.0, "failed": 0.0}.get(ev.status)


def measure(actions: Sequence[Action], effects: Sequence[Effect], reverts: Sequence[tuple[int, int]],
            facts: StreamFacts, thresholds: Thresholds = Thresholds(),
            replay: KeptVerdict | None = None) -> Quality:
    """The components and score from what :func:`assess` gathered (pure)."""
    steps = steps_of(actions)
    act, travel, hes = facts.activity, facts.travel, facts.hesitation
    dead = count_dead(actions, effects)
    corr = count_corrections(actions, reverts)
    reps = count_repeats(actions, effects, thresholds)
    ratio = round(act.active / act.span, 4) if act.span > 0 else None
    efficiency = round(travel.efficiency, 4) if travel.efficiency is not None else None
    components: dict[str, float | None] = {
        "activity": ratio,
        "dead": rate_component(dead.dead, dead.judged),
        "corrections": rate_component(corr.total, steps),
        "pointer": efficiency,
        "hesitation": rate_component(hes.seconds, act.active),
        "repeats": rate_component(reps.repeats, steps),
        "replay": replay_component(replay),
    }
    return Quality(
        score=combine(components),
        components=components,
        weights=dict(WEIGHTS),
        steps=steps,
        activity=ActivityReport(span=round(act.span, 6), active=round(act.active, 6), idle=round(act.idle, 6),
                                idle_gaps=act.gaps, longest_idle=round(act.longest, 6),
                                paused=round(act.paused, 6), ratio=ratio),
        dead=DeadReport(judged=dead.judged, dead=dead.dead, unknown=dead.unknown, by_kind=dead.by_kind,
                        steps=list(dead.steps)),
        corrections=CorrectionReport(deletions=corr.deletions, undos=corr.undos, reverted=corr.reverted,
                                     total=corr.total, reverted_steps=list(corr.reverted_steps)),
        pointer=PointerReport(travels=travel.travels, path_px=round(travel.path, 1),
                              displacement_px=round(travel.displacement, 1), efficiency=efficiency,
                              ratio=round(travel.path / travel.displacement, 4) if travel.displacement > 0 else None),
        hesitation=HesitationReport(pauses=hes.pauses, seconds=round(hes.seconds, 6), longest=round(hes.longest, 6)),
        repeats=RepeatReport(repeats=reps.repeats, retries=reps.retries, steps=list(reps.steps)),
        replay=replay,
    )


# What each component's 1.0 means (docs/quality.md explains each).
MEANING: dict[str, str] = {
    "activity": "share of the task span with input",
    "dead": "steps that changed the screen",
    "corrections": "steps without a correction",
    "pointer": "pointer travel that went straight",
    "hesitation": "active time without pauses mid-step",
    "repeats": "steps that were not repeats",
    "replay": "last kept replay verified",
}


def explain(q: Quality) -> dict[str, str]:
    """What each component measured, in words (the table of `wf inspect --quality`, the viewer's panel)."""
    a, d, c, p, h, r = q.activity, q.dead, q.corrections, q.pointer, q.hesitation, q.repeats
    kinds = f" ({', '.join(f'{k} {v}' for k, v in d.by_kind.items())})" if d.by_kind else ""
    return {
        "activity": f"active {a.active:.1f} s of {a.span:.1f} s; {a.idle_gaps} idle gap(s), {a.idle:.1f} s",
        "dead": f"{d.dead} dead of {d.judged} judged steps{kinds}" + (f"; {d.unknown} unknown" if d.unknown else ""),
        "corrections": f"{c.deletions} deletion(s), {c.undos} undo(s), {c.reverted} reverted step(s) "
                       f"in {q.steps} steps",
        "pointer": f"{p.travels} travel(s): {p.path_px:,.0f} px path for {p.displacement_px:,.0f} px displacement",
        "hesitation": f"{h.pauses} pause(s) mid-step, {h.seconds:.1f} s (longest {h.longest:.1f} s)",
        "repeats": f"{r.repeats} repeat(s), {r.retries} of a dead step",
        "replay": "no kept replay" if q.replay is None else
                  q.replay.status + (" (stale: the events changed since)" if q.replay.stale else ""),
    }

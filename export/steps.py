"""One bundle → one :class:`Episode` of exportable steps (runs inside the export workers).

Everything a format writer needs is computed here, in parallel, per bundle: the reduced actions, the
annotations, each step's action as JSON and as pyautogui code in the chosen coordinates, the previous
actions as text, and the images (prepared, not read). Writers then only lay the episode out on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import xxhash

from wf.bundle.actions import Action, to_coord, to_pyautogui_program
from wf.bundle.annotation_log import load_annotations
from wf.bundle.events import X_CLIENTS_ONLY_NOTE
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import replay_evidence
from wf.curate.filters import Filters
from wf.curate.quality import assess
from wf.export.images import ImagePreparer, ImageRef, ImageSpec

# Actions that are not something an agent does (recorder marks) are not training steps.
NON_STEP_KINDS = frozenset({"mark"})
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """What a worker needs to know (picklable)."""

    coords: str
    include_dropped: bool = False
    history: int = 5
    images: ImageSpec = field(default_factory=ImageSpec)
    want_images: bool = True
    want_program: bool = False
    filters: Filters = field(default_factory=Filters)  # --min-quality, --drop-dead-steps (wf.curate)
    require_verified: bool = False  # only episodes whose last replay verified every step (docs/export.md)


@dataclass(frozen=True, slots=True)
class StepRow:
    """One exported step; ``step`` is the action index in the bundle (what annotations refer to)."""

    step: int
    position: int
    kind: str
    action: dict[str, Any]
    code: str
    description: str
    previous: str
    window_title: str | None
    window_class: str | None
    note: str | None
    thought: str | None
    label: str | None
    dropped: bool
    t_start: float
    t_end: float
    pre: ImageRef | None
    post: ImageRef | None
    screen_effect: dict[str, Any] | None = None  # what the step did to the recorded screen (wf.curate)
    effect: str = "unreplayed"  # the step's effect in the episode's last replay: verified|differs|unchecked

    @property
    def action_json(self) -> str:
        return orjson.dumps(self.action, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True, slots=True)
class Episode:
    episode_id: str
    bundle: str
    name: str
    started: str
    instruction: str | None
    outcome: str
    tags: tuple[str, ...]
    quality: int | None
    screen: tuple[int, int]
    coords: str
    steps: tuple[StepRow, ...]
    actions_total: int
    dropped: int
    program: str | None = None
    warnings: tuple[str, ...] = ()
    verdict: str = "unreplayed"  # the last kept replay's: verified|failed|unverified, stale, or unreplayed
    coverage: float | None = None  # of that replay, in %
    # -- signal (wf.curate): the demonstration's quality, and the dead steps --drop-dead-steps left out --
    quality_score: float | None = None
    quality_components: dict[str, float | None] | None = None
    dead_dropped: tuple[int, ...] = ()
    x_clients_only: bool = False  # the header's platform.x_clients_only: recorded through XWayland


@dataclass(frozen=True, slots=True)
class Skipped:
    bundle: str
    reason: str


@dataclass(frozen=True, slots=True)
class Filtered:
    """A readable bundle left out on purpose by a filter (--min-quality, --require-verified): not an error."""

    bundle: str
    episode_id: str
    filter: str  # the option that left it out
    reason: str
    score: float | None = None  # its quality score, when that is why


def episode_id(path: Path, started: str) -> str:
    """Stable id: the bundle directory name plus a short hash of the header's start time."""
    name = _ID_UNSAFE.sub("_", path.name).strip("_") or "bundle"
    return f"{name}-{xxhash.xxh3_64_hexdigest(started.encode())[:8]}"


def collect_episode(path: str, opts: CollectOptions, tmpdir: str, eid: str | None = None) -> Episode | Filtered:
    """Read one bundle into an :class:`Episode`; raises ``WfError`` for a bundle that cannot be exported."""
    bundle = Bundle.open(path)
    header = bundle.header
    eid = eid or episode_id(bundle.path, header.started)
    last = replay_evidence(bundle)
    verdict, coverage, replayed, why_not = last.status, last.coverage, last.effects, last.why
    if opts.require_verified and verdict != "verified":
        return Filtered(str(bundle.path), eid, "require-verified", f"not verified: {why_not}")
    size = (header.screen.width, header.screen.height)
    assessed = assess(bundle)
    actions = assessed.actions
    quality = assessed.quality
    left_out = opts.filters.episode(quality)
    if left_out is not None:
        return Filtered(str(bundle.path), eid, "min-quality", left_out, quality.score)
    screen_effects = {a.index: e for a, e in zip(actions, assessed.effects, strict=True)}
    dead_dropped = {a.index for a in actions if opts.filters.step(screen_effects[a.index]) is not None}
    ann = load_annotations(bundle)
    dropped_ids = frozenset(ann.dropped)
    images = ImagePreparer(bundle, opts.images, Path(tmpdir) / eid, eid) if opts.want_images else None

    rows: list[StepRow] = []
    history: list[str] = []
    dropped = 0
    # Normalised coordinates describe a point on the image an agent sees; with several monitors that image
    # is the action's monitor (cropped out of the whole-desktop screen) and the numbers are relative to it.
    monitors = header.screen.monitors if opts.coords != "pixels" and len(header.screen.monitors) > 1 else []
    for act in actions:
        is_dropped = act.index in dropped_ids
        if is_dropped:
            dropped += 1
        if act.kind in NON_STEP_KINDS or (is_dropped and not opts.include_dropped) or act.index in dead_dropped:
            continue
        sa = ann.steps.get(act.index)
        description = act.describe()
        local, local_size, crop = act, size, None
        if monitors and act.monitor is not None:
            m = monitors[act.monitor]
            local, local_size, crop = shifted(act, m.x, m.y), (m.width, m.height), (m.x, m.y, m.width, m.height)
        rows.append(StepRow(
            step=act.index,
            position=len(rows),
            kind=act.kind,
            action={**action_json(local, local_size, opts.coords), "monitor_box": list(crop) if crop else None},
            code=local.to_pyautogui(coords=opts.coords, size=local_size),
            description=description,
            previous="\n".join(history[-opts.history:]) if opts.history > 0 else "",
            window_title=act.window,
            window_class=act.window_class,
            note=sa.note if sa else None,
            thought=sa.thought if sa else None,
            label=sa.label if sa else None,
            dropped=is_dropped,
            t_start=act.t_start,
            t_end=act.t_end,
            pre=images.get(act.pre_screen, crop) if images else None,
            post=images.get(act.post_screen, crop) if images else None,
            screen_effect=screen_effects[act.index].to_json(),
            effect=replayed.get(act.index, "unreplayed"),
        ))
        history.append(description)

    program = None
    if opts.want_program:
        kept = [a for a in actions if (opts.include_dropped or a.index not in dropped_ids)
                and a.index not in dead_dropped]
        program = to_pyautogui_program(kept, header, coords=opts.coords)
    instruction = ann.task if ann.task is not None else header.task
    x_clients_warning = (X_CLIENTS_ONLY_NOTE,) if header.platform.x_clients_only else ()
    return Episode(
        episode_id=eid, bundle=str(bundle.path), name=bundle.path.name, started=header.started,
        instruction=instruction, outcome=ann.outcome, tags=tuple(ann.tags),
        quality=ann.quality, screen=size, coords=opts.coords, steps=tuple(rows),
        actions_total=len(actions), dropped=dropped, program=program,
        warnings=tuple(bundle.warnings) + tuple(ann.warnings) + x_clients_warning, verdict=verdict, coverage=coverage,
        quality_score=quality.score, quality_components=dict(quality.components),
        dead_dropped=tuple(sorted(dead_dropped)), x_clients_only=header.platform.x_clients_only,
    )


_COORD_KEYS = (("x", 0), ("y", 1), ("end_x", 0), ("end_y", 1))


def shifted(act: Action, ox: int, oy: int) -> Action:
    """``act`` with its positions relative to (ox, oy): a monitor's top-left corner."""
    def sub(v: int | None, o: int) -> int | None:
        return None if v is None else v - o

    return replace(act, x=sub(act.x, ox), y=sub(act.y, oy), end_x=sub(act.end_x, ox), end_y=sub(act.end_y, oy),
                   path=tuple((t, x - ox, y - oy) for t, x, y in act.path))


def action_json(act: Action, size: tuple[int, int], coords: str) -> dict[str, Any]:
    """``Action.to_json()`` with its screen positions in ``coords`` (and ``coords`` named in it)."""
    d = dict(act.to_json())
    for key, axis in _COORD_KEYS:
        v = d.get(key)
        if isinstance(v, int) and not isinstance(v, bool):
            d[key] = to_coord(v, size[axis], coords)
    if act.path:
        d["path"] = [[t, to_coord(x, size[0], coords), to_coord(y, size[1], coords)] for t, x, y in act.path]
    d["coords"] = coords
    return d


def step_metadata(ep: Episode, s: StepRow) -> dict[str, Any]:
    """A step's fields as plain JSON (everything but the image bytes), as WebDataset's ``.json``."""
    return {
        "episode_id": ep.episode_id,
        "bundle": ep.name,
        "step": s.step,
        "position": s.position,
        "instruction": ep.instruction,
        "outcome": ep.outcome,
        "action_type": s.kind,
        "action": s.action,
        "pyautogui": s.code,
        "coords": ep.coords,
        "description": s.description,
        "previous_actions": s.previous,
        "window_title": s.window_title,
        "window_class": s.window_class,
        "note": s.note,
        "thought": s.thought,
        "label": s.label,
        "dropped": s.dropped,
        "t_start": s.t_start,
        "t_end": s.t_end,
        "screen_width": ep.screen[0],
        "screen_height": ep.screen[1],
        "image": s.pre.name if s.pre else None,
        "post_image": s.post.name if s.post else None,
        "image_width": s.pre.width if s.pre else None,
        "image_height": s.pre.height if s.pre else None,
        "tags": list(ep.tags),
        "quality": ep.quality,
        "effect": s.effect,
        "verdict": ep.verdict,
        "screen_effect": s.screen_effect,
        "quality_score": ep.quality_score,
        "quality_components": ep.quality_components,
    }

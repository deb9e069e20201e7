"""`wf redact`: write a new bundle with secrets scrubbed, windows and rectangles masked, steps dropped.

The source bundle is only read. Two passes over its events:

1. **plan** — rebuild the typed text (:mod:`wf.redact.typed`), find every scrub match in it and in
   window titles, marks, header text and annotations; note when masked windows had focus; pair every
   key press with its release; turn dropped steps into event indices. The result is a set of event
   indices to turn into ``redacted`` placeholders, a set to remove, the rectangles of every screen to
   fill, and the *literals* (the matched text), kept in memory only.
2. **write** — stream the events into a new bundle (``BundleWriter``: 0700/0600), converting, scrubbing
   and masking; copy screens untouched or store masked copies under their new content hashes (the old
   files of masked screens are not copied); copy ``annotations.jsonl`` scrubbed, step numbers remapped.

Then :func:`wf.redact.proof.prove_gone` searches the new bundle for every literal. A key press
is redacted together with its release, so a replay never holds a key down forever.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.events import (
    Event,
    Header,
    KeyDown,
    KeyUp,
    Mark,
    Pause,
    Redacted,
    Resume,
    Screen,
    Stop,
    Window,
    to_dict,
)
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb
from wf.bundle.writer import FILE_MODE, BundleWriter
from wf.redact.images import Rect, fill_rects, to_frame
from wf.redact.presets import ScrubPattern
from wf.redact.proof import Proof, prove_gone
from wf.redact.spec import RedactSpec
from wf.redact.text import scrub_json, scrub_text, strings_in
from wf.redact.typed import Segment, TypedText, TypedTextBuilder

MIN_WINDOW_LITERAL = 6  # text typed into a masked window is searched for elsewhere from this length on
_KEEP_WHEN_DROPPED = (Window, Pause, Resume, Stop)  # focus/recording state the rest of the stream needs
_HEADER_STRUCTURE = frozenset({"format", "version", "started", "screen", "redactions"})
_ANNOTATION_STRUCTURE = frozenset({"v", "at", "step"})

WindowRect = tuple[int, int, int, int] | None  # None: geometry unknown, mask the whole frame


@dataclass
class RedactReport:
    """What one run did (counts only: never the secret)."""

    source: str
    out: str
    events_in: int = 0
    events_out: int = 0
    keys_redacted: int = 0
    literals: int = 0
    texts_scrubbed: int = 0
    windows_masked: int = 0
    screens_masked: int = 0
    screens_written: int = 0
    steps_dropped: int = 0
    events_removed: int = 0
    annotations_scrubbed: int = 0
    annotations_removed: int = 0
    screens_may_show_text: int = 0
    warnings: list[str] = field(default_factory=list)
    proof: Proof = field(default_factory=Proof)

    def to_json(self) -> dict[str, object]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "proof"}
        d["proof"] = self.proof.to_json()
        return d


@dataclass
class _Plan:
    events: int = 0
    redact: set[int] = field(default_factory=set)  # key event indices -> placeholders
    drop: set[int] = field(default_factory=set)  # event indices removed (state events excepted)
    masked_windows: set[int] = field(default_factory=set)  # window event indices matching --mask-window
    screen_rects: dict[int, list[Rect]] = field(default_factory=dict)
    literals: dict[str, str] = field(default_factory=dict)  # literal -> name of what found it
    scrub_keys: int = 0
    window_keys: int = 0
    steps_dropped: int = 0
    may_show: int = 0
    old_actions: list | None = None  # type: ignore[type-arg]


@dataclass
class _Scan:
    """What pass 1 remembers about the stream (all small except ``key_downs``/``pair``)."""

    typed: TypedText
    key_downs: list[int]
    pair: dict[int, int]  # key_down index -> its key_up index
    key_times: dict[int, float]
    window_changes: list[tuple[float, int]]  # (t, index) of every focus change
    masked_periods: list[tuple[float, float, WindowRect]]
    masked_keys: set[int]
    masked_windows: set[int]
    screens: list[tuple[int, Screen]]
    texts: list[str]  # free text of titles, marks, reasons
    events: int


def redact_bundle(src: Bundle, out: Path, spec: RedactSpec, *, wf_version: str = "") -> RedactReport:
    """Write the redacted copy of ``src`` to ``out`` (new or empty directory) and prove the result."""
    _check_out(src.path, out)
    report = RedactReport(source=str(src.path), out=str(out))
    scan = _scan(src, spec)
    plan = _plan(src, spec, scan, report)
    annotations = _read_annotations(src)
    header = _new_header(src.header, spec, plan, scan, report, annotations, wf_version)
    new_index = _write(src, out, header, plan, report)
    if annotations is not None:
        _write_annotations(src, out, annotations, plan, new_index, report)
    report.literals = len(plan.literals)
    report.proof = prove_gone(out, plan.literals)
    return report


# ------------------------------------------------------------------------------------ pass 1: scan


def _check_out(src: Path, out: Path) -> None:
    s, o = src.resolve(), out.resolve()
    if o == s or o.is_relative_to(s) or s.is_relative_to(o):
        raise BadInput(f"--out {out} overlaps the source bundle {src}",
                       hint="write the redacted bundle to a new directory outside the source")


def _scan(src: Bundle, spec: RedactSpec) -> _Scan:
    builder = TypedTextBuilder()
    key_downs: list[int] = []
    pair: dict[int, int] = {}
    key_times: dict[int, float] = {}
    pending: dict[object, list[int]] = {}
    window_changes: list[tuple[float, int]] = []
    periods: list[tuple[float, float, WindowRect]] = []
    masked_keys: set[int] = set()
    masked_windows: set[int] = set()
    screens: list[tuple[int, Screen]] = []
    texts: list[str] = []
    current: tuple[float, WindowRect] | None = None
    focused: object = None
    n = 0
    for i, ev in enumerate(src.events()):
        n = i + 1
        builder.feed(i, ev)
        kind = type(ev)
        if kind is KeyDown:
            key_downs.append(i)
            key_times[i] = ev.t
            pending.setdefault(ev.keycode if ev.keycode is not None else ev.key, []).append(i)  # type: ignore[union-attr]
            if current is not None:
                masked_keys.add(i)
        elif kind is KeyUp:
            for d in pending.pop(ev.keycode if ev.keycode is not None else ev.key, []):  # type: ignore[union-attr]
                pair[d] = i
        elif kind is Screen:
            screens.append((i, ev))  # type: ignore[arg-type]
        elif kind is Window:
            ident = ev.id if ev.id is not None else (ev.title, ev.wm_class)  # type: ignore[union-attr]
            if ident != focused:  # a focus change, not just a new title of the same window
                window_changes.append((ev.t, i))
                focused = ident
            texts.extend(s for s in (ev.title, ev.wm_class) if s)  # type: ignore[union-attr]
            if current is not None:
                periods.append((current[0], ev.t, current[1]))
                current = None
            # A window the recorder already excluded is masked too: defence in depth against key
            # events or screens a recorder should not have written for it.
            if ev.excluded or (spec.mask_windows and _matches(spec.mask_windows, ev)):  # type: ignore[union-attr, arg-type]
                rect = (ev.x, ev.y, ev.width, ev.height) if ev.width > 0 and ev.height > 0 else None  # type: ignore[union-attr]
                current = (ev.t, rect)
                masked_windows.add(i)
        elif kind is Mark and ev.label:  # type: ignore[union-attr]
            texts.append(ev.label)  # type: ignore[union-attr]
        elif kind in (Pause, Resume, Stop) and ev.reason:  # type: ignore[union-attr]
            texts.append(ev.reason)  # type: ignore[union-attr]
    if current is not None:
        periods.append((current[0], float("inf"), current[1]))
    return _Scan(builder.result(), key_downs, pair, key_times, window_changes, periods, masked_keys,
                 masked_windows, screens, texts, n)


def _matches(patterns: tuple, ev: Window) -> bool:  # type: ignore[type-arg]
    return any(p.search(ev.title) or (ev.wm_class and p.search(ev.wm_class)) for p in patterns)


# ------------------------------------------------------------------------------------ pass 1: plan


def _plan(src: Bundle, spec: RedactSpec, scan: _Scan, report: RedactReport) -> _Plan:
    plan = _Plan(events=scan.events, masked_windows=scan.masked_windows)
    report.events_in = scan.events
    # Literals: regex matches in typed text, titles, header, annotations; text typed in masked windows.
    for seg in scan.typed.segments():
        _add_literals(plan, seg.text, spec.scrub)
    for text in scan.texts:
        _add_literals(plan, text, spec.scrub)
    h = src.header
    for text in strings_in({"task": h.task, "launch": h.launch, "recorder": msgspec.to_builtins(h.recorder),
                            "platform": msgspec.to_builtins(h.platform)}):
        _add_literals(plan, text, spec.scrub)
    ann_path = src.annotations_path
    if ann_path.is_file():
        for line in ann_path.read_bytes().split(b"\n"):
            try:
                obj = orjson.loads(line) if line.strip() else None
            except orjson.JSONDecodeError:
                continue
            for text in strings_in({k: v for k, v in obj.items() if k not in _ANNOTATION_STRUCTURE}
                                   if isinstance(obj, dict) else obj):
                _add_literals(plan, text, spec.scrub)
    for seg in scan.typed.edited:
        if len(seg.chars) >= MIN_WINDOW_LITERAL and seg.events[0] in scan.masked_keys:
            plan.literals.setdefault(seg.text, "mask-window typed text")

    # Key events: everything typed in a masked window, and every typed occurrence of a literal.
    plan.redact |= scan.masked_keys
    plan.window_keys = len(scan.masked_keys)
    scrubbed: set[int] = set()
    for seg in scan.typed.segments():
        for a, b in _occurrences(seg, plan.literals):
            lo, hi = seg.events[a], seg.events[b - 1]
            j = bisect.bisect_left(scan.key_downs, lo)
            while j < len(scan.key_downs) and scan.key_downs[j] <= hi:
                scrubbed.add(scan.key_downs[j])
                j += 1
    plan.scrub_keys = len(scrubbed - scan.masked_keys)
    plan.redact |= scrubbed
    plan.redact |= {scan.pair[d] for d in list(plan.redact) if d in scan.pair}
    report.windows_masked = len(scan.masked_periods)

    if spec.drop_steps:
        _plan_drops(src, spec, scan, plan)
    plan.redact -= plan.drop
    report.keys_redacted = len(plan.redact)
    report.steps_dropped = plan.steps_dropped

    # Screens: rectangles to fill in each.
    for i, ev in scan.screens:
        if i in plan.drop:
            continue
        rects = _screen_rects(ev, spec, scan.masked_periods)
        if rects:
            plan.screen_rects[i] = rects
    report.screens_masked = len(plan.screen_rects)
    plan.may_show = _screens_after_scrubbed_typing(scan, scrubbed, plan)
    report.screens_may_show_text = plan.may_show
    if plan.may_show:
        report.warnings.append(
            f"{plan.may_show} screen(s) were captured while the window that scrubbed text was typed into "
            "still had focus: the text may be visible in their pixels, which wf cannot read; mask them "
            "with --mask-window or --mask-rect")
    return plan


def _add_literals(plan: _Plan, text: str, patterns: tuple[ScrubPattern, ...]) -> None:
    for p in patterns:
        for a, b in p.matches(text):
            plan.literals.setdefault(text[a:b], p.name)


def _occurrences(seg: Segment, literals: dict[str, str]) -> list[tuple[int, int]]:
    text = seg.text
    spans = []
    for lit in literals:
        start = text.find(lit)
        while start >= 0:
            spans.append((start, start + len(lit)))
            start = text.find(lit, start + 1)
    return spans


def _plan_drops(src: Bundle, spec: RedactSpec, scan: _Scan, plan: _Plan) -> None:
    from wf.bundle.actions import load_actions

    actions = load_actions(src)
    plan.old_actions = actions
    steps: set[int] = set()
    for a, b in spec.drop_steps:
        end = len(actions) if b is None else b
        if a >= len(actions) or end > len(actions):
            raise BadInput(f"--drop-steps {a}:{'' if b is None else b}: the bundle has {len(actions)} steps "
                           f"(0 … {len(actions) - 1})", hint="see the step numbers with `wf inspect --actions BUNDLE`")
        steps.update(range(a, end))
    for s in steps:
        plan.drop.update(range(actions[s].first_event, actions[s].last_event + 1))
    plan.drop |= {scan.pair[d] for d in plan.drop if d in scan.pair}  # a dropped press takes its release along
    plan.steps_dropped = len(steps)


def _screen_rects(ev: Screen, spec: RedactSpec,
                  periods: list[tuple[float, float, WindowRect]]) -> list[Rect]:
    origin, size = (ev.x, ev.y), (ev.width, ev.height)
    rects: list[Rect] = []
    for r in spec.rects:
        if r.applies(ev.t, ev.captured):
            fr = to_frame(r.x, r.y, r.w, r.h, origin, size)
            if fr:
                rects.append(fr)
    for t0, t1, wr in periods:
        if t0 <= ev.captured < t1 or t0 <= ev.t < t1:
            fr = (0, 0, ev.width, ev.height) if wr is None else to_frame(*wr, origin, size)
            if fr:
                rects.append(fr)
    return rects


def _screens_after_scrubbed_typing(scan: _Scan, scrubbed: set[int], plan: _Plan) -> int:
    """Screens captured after a scrubbed key, before the next focus change, and not masked."""
    if not scrubbed:
        return 0
    changes = [t for t, _ in scan.window_changes]
    spans: list[tuple[float, float]] = []
    for t in sorted(scan.key_times[d] for d in scrubbed):
        k = bisect.bisect_right(changes, t)
        end = changes[k] if k < len(changes) else float("inf")
        if spans and t <= spans[-1][1]:  # same focus period: merge
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((t, end))
    starts = [a for a, _ in spans]
    count = 0
    for i, ev in scan.screens:
        if i in plan.drop or i in plan.screen_rects:
            continue
        k = bisect.bisect_left(starts, ev.captured) - 1
        if k >= 0 and spans[k][0] < ev.captured < spans[k][1]:
            count += 1
    return count


# ------------------------------------------------------------------------------------ pass 2: write


def _new_header(h: Header, spec: RedactSpec, plan: _Plan, scan: _Scan, report: RedactReport,
                annotations: list[object] | None, wf_version: str) -> Header:
    raw = to_dict(h)
    new = scrub_json(raw, plan.literals, skip=_HEADER_STRUCTURE)
    assert isinstance(new, dict)
    if new != raw:
        report.texts_scrubbed += 1
    entry: dict[str, object] = {
        "by": "wf redact", "version": wf_version,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if spec.scrub:
        entry["scrub"] = {"patterns": spec.user_scrubs, "presets": list(spec.presets),
                          "literals": len([v for v in plan.literals.values() if v != "mask-window typed text"]),
                          "key_events": plan.scrub_keys}
    if spec.mask_windows:
        entry["mask_window"] = {"patterns": len(spec.mask_windows), "windows": len(scan.masked_periods),
                                "key_events": plan.window_keys}
    if spec.rects:
        entry["mask_rect"] = [r.to_json() for r in spec.rects]
    if plan.screen_rects:
        entry["screens_masked"] = len(plan.screen_rects)
    if spec.drop_steps:
        entry["drop_steps"] = [f"{a}:{'' if b is None else b}" for a, b in spec.drop_steps]
        entry["events_removed"] = len(plan.drop)
    new["redactions"] = [*h.redactions, entry]
    return msgspec.convert(new, Header)


def _write(src: Bundle, out: Path, header: Header, plan: _Plan, report: RedactReport) -> array:  # type: ignore[type-arg]
    new_index = array("q")
    masked_cache: dict[tuple[str, tuple[Rect, ...]], tuple[str, str]] = {}
    lits = plan.literals
    n_out = 0
    with BundleWriter(out, header) as w:
        for i, ev in enumerate(src.events()):
            kind = type(ev)
            if i in plan.drop and not isinstance(ev, _KEEP_WHEN_DROPPED):
                new_index.append(-1)
                report.events_removed += 1
                continue
            if i in plan.redact and kind in (KeyDown, KeyUp):
                ev = Redacted(t=ev.t, kind="key_down" if kind is KeyDown else "key_up")
            elif kind is Screen:
                ev = _copy_screen(src, w, ev, plan.screen_rects.get(i), masked_cache, report)  # type: ignore[arg-type]
                if ev is None:
                    new_index.append(-1)
                    continue
            elif kind is Window:
                ev = _scrub_struct(ev, ("title", "wm_class"), lits, report)
                if i in plan.masked_windows and not ev.excluded:  # type: ignore[union-attr]
                    ev = msgspec.structs.replace(ev, excluded=True)
            elif kind is Mark:
                ev = _scrub_struct(ev, ("label",), lits, report)
            elif kind in (Pause, Resume, Stop):
                ev = _scrub_struct(ev, ("reason",), lits, report)
            w.write(ev)
            new_index.append(n_out)
            n_out += 1
        report.screens_written = w.screens_written
    report.events_out = n_out
    return new_index


def _scrub_struct(ev: Event, names: tuple[str, ...], literals: dict[str, str], report: RedactReport) -> Event:
    changes = {}
    for name in names:
        value = getattr(ev, name)
        if value:
            new = scrub_text(value, literals)
            if new != value:
                changes[name] = new
    if not changes:
        return ev
    report.texts_scrubbed += 1
    return msgspec.structs.replace(ev, **changes)


def _copy_screen(src: Bundle, w: BundleWriter, ev: Screen, rects: list[Rect] | None,
                 cache: dict[tuple[str, tuple[Rect, ...]], tuple[str, str]],
                 report: RedactReport) -> Screen | None:
    try:
        path = src.screen_path(ev.path)
        if not rects:
            if not w.has_screen(ev.hash):
                w.store_png(ev.hash, path.read_bytes())
            return ev
        key = (ev.hash, tuple(rects))
        if key not in cache:
            rgb, width, height = load_rgb(path)
            cache[key] = w.store_rgb(fill_rects(rgb, width, height, rects), width, height)
    except EnvironmentProblem:
        raise
    except Exception as exc:  # missing or undecodable file: the screen cannot be carried over
        report.warnings.append(f"screen {ev.path} left out: {exc.__class__.__name__} (run `wf validate` "
                               "on the source)")
        return None
    rel, digest = cache[key]
    return msgspec.structs.replace(ev, path=rel, hash=digest)


# ------------------------------------------------------------------------------------ annotations


def _read_annotations(src: Bundle) -> list[object] | None:
    """Every line of the source's annotations.jsonl as decoded JSON (None for a torn line)."""
    path = src.annotations_path
    if not path.is_file():
        return None
    out: list[object] = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            out.append(None)
    return out


def _write_annotations(src: Bundle, out: Path, records: list[object], plan: _Plan, new_index: array,  # type: ignore[type-arg]
                       report: RedactReport) -> None:
    remap = _step_remap(src, out, records, plan, new_index)
    lines: list[bytes] = []
    for rec in records:
        if not isinstance(rec, dict):
            report.annotations_removed += 1  # a torn or foreign line: readers skip it, we do not copy it
            continue
        new = scrub_json(rec, plan.literals, skip=_ANNOTATION_STRUCTURE)
        assert isinstance(new, dict)
        if new != rec:
            report.annotations_scrubbed += 1
        step = rec.get("step")
        if remap is not None and isinstance(step, int) and not isinstance(step, bool):
            target = remap.get(step)
            if target is None:
                report.annotations_removed += 1
                continue
            new["step"] = target
        lines.append(orjson.dumps(new) + b"\n")
    if report.annotations_removed:
        report.warnings.append(f"{report.annotations_removed} annotation record(s) not copied (about dropped "
                               "steps, steps that no longer exist, or unreadable lines)")
    fd = os.open(out / "annotations.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        data = memoryview(b"".join(lines))
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _step_remap(src: Bundle, out: Path, records: list[object], plan: _Plan,
                new_index: array) -> dict[int, int] | None:  # type: ignore[type-arg]
    """Old step number -> new one, by following each old action's events into the new stream.

    None when no record is about a step (nothing to remap). Steps whose events were all removed map
    to nothing, so their records are not copied.
    """
    if not any(isinstance(r, dict) and "step" in r for r in records):
        return None
    from wf.bundle.actions import load_actions

    old = plan.old_actions if plan.old_actions is not None else load_actions(src)
    new = load_actions(Bundle.open(out))
    starts = [a.first_event for a in new]
    remap: dict[int, int] = {}
    for a in old:
        for e in range(a.first_event, a.last_event + 1):
            j = new_index[e] if e < len(new_index) else -1
            if j < 0:
                continue
            k = bisect.bisect_right(starts, j) - 1
            if k >= 0 and new[k].first_event <= j <= new[k].last_event:
                remap[a.index] = new[k].index
                break
    return remap

"""`wf redact` pass 1: read the source once and decide everything the write pass will do.

Rebuild the typed text (:mod:`wf.redact.typed`), find every scrub match in it and in window titles, marks,
header text and annotations; note when masked windows had focus; pair every key press with its release;
turn dropped steps into event indices. The result (``Plan``) is a set of event indices to turn into
``redacted`` placeholders, a set to remove, the rectangles of every screen to fill, and the *literals* (the
matched text), kept in memory only.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from wf.bundle.actions import Action, load_actions
from wf.bundle.errors import BadInput
from wf.bundle.events import KeyDown, KeyUp, Mark, Pause, Resume, Screen, Stop, Window, to_dict
from wf.bundle.reader import Bundle
from wf.redact.images import Rect, to_frame
from wf.redact.presets import ScrubPattern
from wf.redact.report import RedactReport
from wf.redact.spec import RedactSpec
from wf.redact.structure import annotation_structure, header_structure, text_strings
from wf.redact.typed import Segment, TypedText, TypedTextBuilder

MIN_WINDOW_LITERAL = 6  # text typed into a masked window is searched for elsewhere from this length on

WindowRect = tuple[int, int, int, int] | None  # None: geometry unknown, mask the whole frame


@dataclass
class Plan:
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
    old_actions: list[Action] | None = None  # the source's actions, when steps are dropped


@dataclass
class Scan:
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


def scan_source(src: Bundle, spec: RedactSpec) -> Scan:
    """Pass 1a: one read of the source, remembering what the plan needs."""
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
        if isinstance(ev, KeyDown):
            key_downs.append(i)
            key_times[i] = ev.t
            pending.setdefault(ev.keycode if ev.keycode is not None else ev.key, []).append(i)
            if current is not None:
                masked_keys.add(i)
        elif isinstance(ev, KeyUp):
            for d in pending.pop(ev.keycode if ev.keycode is not None else ev.key, []):
                pair[d] = i
        elif isinstance(ev, Screen):
            screens.append((i, ev))
        elif isinstance(ev, Window):
            ident = ev.id if ev.id is not None else (ev.title, ev.wm_class)
            if ident != focused:  # a focus change, not just a new title of the same window
                window_changes.append((ev.t, i))
                focused = ident
            texts.extend(s for s in (ev.title, ev.wm_class) if s)
            if current is not None:
                periods.append((current[0], ev.t, current[1]))
                current = None
            # A window the recorder already excluded is masked too: defence in depth against key
            # events or screens a recorder should not have written for it.
            if ev.excluded or spec.mask_windows.matches(ev.title, ev.wm_class):
                rect = (ev.x, ev.y, ev.width, ev.height) if ev.width > 0 and ev.height > 0 else None
                current = (ev.t, rect)
                masked_windows.add(i)
        elif isinstance(ev, Mark) and ev.label:
            texts.append(ev.label)
        elif isinstance(ev, Pause | Resume | Stop) and ev.reason:
            texts.append(ev.reason)
    if current is not None:
        periods.append((current[0], float("inf"), current[1]))
    return Scan(builder.result(), key_downs, pair, key_times, window_changes, periods, masked_keys,
                 masked_windows, screens, texts, n)


def plan_redaction(src: Bundle, spec: RedactSpec, scan: Scan, report: RedactReport,
                   annotations: list[object] | None) -> Plan:
    """Pass 1b: the literals, the key events to redact, the events to drop and the screens to mask.

    ``annotations``: the source's annotation records (:func:`wf.redact.annotations.read_annotations`).
    """
    plan = Plan(events=scan.events, masked_windows=scan.masked_windows)
    report.events_in = scan.events
    # Literals: regex matches in typed text, titles, header, annotations; text typed in masked windows.
    for seg in scan.typed.segments():
        _add_literals(plan, seg.text, spec.scrub)
    for text in scan.texts:
        _add_literals(plan, text, spec.scrub)
    # The header's and the annotations' text: every string the scrubber will scrub (wf.redact.structure).
    for text in text_strings(to_dict(src.header), header_structure):
        _add_literals(plan, text, spec.scrub)
    for obj in annotations or ():
        for text in text_strings(obj, annotation_structure):
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
    if not spec.ocr:  # with OCR the pixels are read and what they show is masked (wf.redact.screen_ocr)
        plan.may_show = _screens_after_scrubbed_typing(scan, scrubbed, plan)
        report.screens_may_show_text = plan.may_show
        if plan.may_show:
            report.warnings.append(
                f"{plan.may_show} screen(s) were captured while the window that scrubbed text was typed into "
                "still had focus: the text may be visible in their pixels, which --no-ocr left unread; mask "
                "them with --mask-window or --mask-rect, or run without --no-ocr")
    return plan


def _add_literals(plan: Plan, text: str, patterns: tuple[ScrubPattern, ...]) -> None:
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


def _plan_drops(src: Bundle, spec: RedactSpec, scan: Scan, plan: Plan) -> None:
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


def _screens_after_scrubbed_typing(scan: Scan, scrubbed: set[int], plan: Plan) -> int:
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

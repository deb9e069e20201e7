"""The fidelity verdict: what replay did against what the bundle says (pure; no display).

Inputs are the plan's steps with their scheduled and injection times, the events
the input capture saw reach the X server, and the screen checkpoints. Outputs are
the per-step rows, the summary statistics and a pass/fail verdict against
``Thresholds`` (defaults documented in docs/replay.md; ``--threshold`` overrides).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace

from wf.bundle.errors import BadInput
from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.replayer.plan import InputEvent, Step


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail limits. Names are what ``--threshold NAME=VALUE`` takes."""

    sequence_mismatches: int = 0  # buttons, wheel notches and keys that differ from the bundle
    pointer_px: float = 2.0  # worst pointer position error at a move, button or wheel event
    timing_p95_ms: float = 100.0  # arrival at the X server − schedule, 95th percentile
    timing_max_ms: float = 1000.0
    screen_diff_px: int = 16  # differing pixels allowed at a checkpoint (a changed glyph is ~35)
    screen_similarity: float = 0.99  # lowest similarity at any checkpoint
    unsynced: int = 0  # steps whose screen never matched within --sync-timeout (with --sync screen)
    dropped: int = 0  # events the capture could not keep up with

    @classmethod
    def parse(cls, items: Sequence[str]) -> Thresholds:
        """``["pointer_px=0", "timing_p95_ms=20"]`` over the defaults; unknown names are bad input."""
        names = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        for item in items:
            name, sep, raw = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in names:
                raise BadInput(f"bad --threshold {item!r}",
                               hint="use NAME=VALUE with NAME one of: " + ", ".join(names))
            try:
                num = float(raw)
            except ValueError:
                raise BadInput(f"bad --threshold {item!r}: {raw!r} is not a number") from None
            if not math.isfinite(num) or num < 0:
                raise BadInput(f"bad --threshold {item!r}: must be a finite number ≥ 0")
            values[name] = int(num) if names[name] in ("int", int) else num
        return replace(cls(), **values)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class StepTiming:
    """When one planned step was due and when it was injected (seconds since replay start)."""

    step: Step
    scheduled: float
    injected: float


@dataclass
class CheckpointResult:
    event: int | None  # raw event index the checkpoint precedes (None for the final screen)
    label: str  # "pre" | "final" | "launch"
    recorded: str | None  # bundle-relative path of the recorded frame
    similarity: float
    diff_fraction: float
    differing: int
    bbox: tuple[int, int, int, int] | None = None
    synced: bool | None = None  # with --sync screen: did the live screen match before going on
    waited: float = 0.0  # seconds spent waiting for it
    replayed: str | None = None  # path of the saved live frame (relative to the report)
    step: int | None = None
    passed: bool = True


@dataclass
class Row:
    """One replayed input event in the report."""

    event: int
    type: str
    detail: str
    scheduled: float
    injected: float
    captured: float | None = None
    timing_error: float | None = None  # captured − scheduled (s)
    inject_error: float | None = None  # injected − scheduled (s)
    pointer_error: float | None = None  # px
    match: bool = True
    step: int | None = None


@dataclass
class Failure:
    check: str
    message: str
    event: int | None = None
    step: int | None = None


@dataclass
class Verdict:
    passed: bool
    failures: list[Failure]
    thresholds: Thresholds
    stats: dict[str, object] = field(default_factory=dict)


def describe(e: InputEvent) -> str:
    if isinstance(e, MouseMove):
        return f"move to ({e.x}, {e.y})"
    if isinstance(e, MouseDown | MouseUp):
        verb = "down" if isinstance(e, MouseDown) else "up"
        return f"{e.button} {verb} at ({e.x}, {e.y})"
    if isinstance(e, Scroll):
        return f"scroll dx={e.dx} dy={e.dy} at ({e.x}, {e.y})"
    verb = "down" if isinstance(e, KeyDown) else "up"
    shown = e.char if e.char and e.char.isprintable() and e.char != " " else e.key
    code = f", keycode {e.keycode}" if e.keycode is not None else ""
    return f"key {verb} {shown!r}{code}"


# -- event sequence ---------------------------------------------------------------------------------

Token = tuple[object, ...]


def tokens_of(e: Event, key_of: Callable[[KeyDown | KeyUp], object] | None = None) -> list[Token]:
    """The discrete, order-relevant parts of an event: buttons, single wheel notches, keys.

    ``key_of`` says what identifies a key (default: its keycode, else its name).
    """
    if isinstance(e, MouseDown | MouseUp):
        return [(type(e).__name__, e.button)]
    if isinstance(e, Scroll):
        toks: list[Token] = []
        toks += [("Scroll", 0, 1 if e.dy > 0 else -1)] * abs(e.dy)
        toks += [("Scroll", 1 if e.dx > 0 else -1, 0)] * abs(e.dx)
        return toks
    if isinstance(e, KeyDown | KeyUp):
        if key_of is not None:
            return [(type(e).__name__, key_of(e))]
        return [(type(e).__name__, e.keycode if e.keycode is not None else e.key.lower())]
    return []


def _token_text(tok: Token) -> str:
    kind = tok[0]
    if kind == "Scroll":
        return f"scroll dx={tok[1]} dy={tok[2]}"
    if kind in ("KeyDown", "KeyUp"):
        what = _key_text(tok[1])
        return f"{'key down' if kind == 'KeyDown' else 'key up'} {what}"
    return f"{tok[1]} {'down' if kind == 'MouseDown' else 'up'}"


def _key_text(k: object) -> str:
    if isinstance(k, tuple) and len(k) == 2 and k[0] == "keysym":
        ks = int(k[1])
        ch = chr(ks) if 0x20 < ks < 0x7F or 0xA0 <= ks <= 0xFF else chr(ks - 0x01000000) \
            if 0x01000100 <= ks <= 0x0110FFFF else None
        return repr(ch) if ch else f"keysym {ks:#x}"
    if isinstance(k, tuple) and len(k) == 2 and k[0] == "keycode":
        return f"keycode {k[1]}"
    return repr(k)


def key_identities(steps: Sequence[Step], keycode_of: Callable[[KeyDown | KeyUp], int | None] | None
                   ) -> tuple[Callable[[KeyDown | KeyUp], object], Callable[[KeyDown | KeyUp], object]]:
    """How expected and captured keys are compared: by keysym (what the key means) when the bundle has
    keysyms for every key event, else by the keycode the driver injected, else by name."""
    keys = [s.event for s in steps if isinstance(s.event, KeyDown | KeyUp)]
    if keys and all(k.keysym for k in keys):
        def by_sym(e: KeyDown | KeyUp) -> object:
            return ("keysym", e.keysym)
        return by_sym, by_sym

    def expected(e: KeyDown | KeyUp) -> object:
        kc = keycode_of(e) if keycode_of is not None else e.keycode
        return ("keycode", kc) if kc is not None else e.key.lower()

    def actual(e: KeyDown | KeyUp) -> object:
        return ("keycode", e.keycode) if e.keycode is not None else e.key.lower()
    return expected, actual


def evaluate(timings: Sequence[StepTiming], captured: Sequence[Event], checkpoints: Sequence[CheckpointResult],
             thresholds: Thresholds, *, keycode_of: Callable[[KeyDown | KeyUp], int | None] | None = None,
             dropped: int = 0, step_of: Callable[[int], int | None] = lambda _i: None,
             capture: bool = True) -> tuple[list[Row], Verdict]:
    """Compare, fill per-event rows, and decide pass/fail. ``capture=False``: no input capture ran."""
    rows = [Row(event=st.step.index, type=type(st.step.event).__name__, detail=describe(st.step.event),
                scheduled=st.scheduled, injected=st.injected, inject_error=st.injected - st.scheduled,
                step=step_of(st.step.index)) for st in timings]
    failures: list[Failure] = []
    mismatches = 0
    if capture:
        exp_key, act_key = key_identities([t.step for t in timings], keycode_of)
        mismatches = _match_sequence(timings, captured, rows, exp_key, act_key, failures)
        _match_moves(timings, captured, rows)
    timing_ms = sorted(r.timing_error * 1000 for r in rows if r.timing_error is not None)
    inject_ms = sorted(r.inject_error * 1000 for r in rows if r.inject_error is not None)
    pointer = [r.pointer_error for r in rows if r.pointer_error is not None]
    stats: dict[str, object] = {
        "events": len(rows),
        "captured": len([e for e in captured if tokens_of(e) or isinstance(e, MouseMove)]),
        "sequence_mismatches": mismatches,
        "sequence_identical": capture and mismatches == 0,
        "timing_p50_ms": percentile(timing_ms, 50), "timing_p95_ms": percentile(timing_ms, 95),
        "timing_p99_ms": percentile(timing_ms, 99), "timing_max_ms": timing_ms[-1] if timing_ms else None,
        "inject_p50_ms": percentile(inject_ms, 50), "inject_p95_ms": percentile(inject_ms, 95),
        "inject_p99_ms": percentile(inject_ms, 99), "inject_max_ms": inject_ms[-1] if inject_ms else None,
        "pointer_max_px": max(pointer) if pointer else None,
        "pointer_mean_px": sum(pointer) / len(pointer) if pointer else None,
        "dropped": dropped,
    }
    th = thresholds
    if mismatches > th.sequence_mismatches:
        failures.append(Failure("sequence", f"{mismatches} input events differ from the bundle "
                                            f"(allowed {th.sequence_mismatches})"))
    worst_ptr = max(((r.pointer_error or 0.0, r) for r in rows), default=(0.0, None), key=lambda p: p[0])
    if worst_ptr[1] is not None and worst_ptr[0] > th.pointer_px:
        r = worst_ptr[1]
        failures.append(Failure("pointer", f"pointer off by {worst_ptr[0]:.1f} px at {r.detail} "
                                           f"(allowed {th.pointer_px:g})", r.event, r.step))
    p95 = stats["timing_p95_ms"]
    if isinstance(p95, float) and p95 > th.timing_p95_ms:
        failures.append(Failure("timing", f"timing error p95 {p95:.1f} ms (allowed {th.timing_p95_ms:g} ms)"))
    if timing_ms and timing_ms[-1] > th.timing_max_ms:
        r = max((r for r in rows if r.timing_error is not None), key=lambda r: r.timing_error or 0.0)
        failures.append(Failure("timing", f"event late by {timing_ms[-1]:.1f} ms at {r.detail} "
                                          f"(allowed {th.timing_max_ms:g} ms)", r.event, r.step))
    if dropped > th.dropped:
        failures.append(Failure("capture", f"input capture dropped {dropped} events"))
    unsynced = [c for c in checkpoints if c.synced is False]
    if len(unsynced) > th.unsynced:
        c = unsynced[0]
        failures.append(Failure("sync", f"{len(unsynced)} step(s) never matched the recorded screen; "
                                        f"first before event {c.event}", c.event, c.step))
    for c in checkpoints:
        c.passed = c.differing <= th.screen_diff_px and c.similarity >= th.screen_similarity \
            and c.synced is not False
        if not c.passed:
            where = "final screen" if c.label == "final" else f"screen before event {c.event}"
            box = f" in {c.bbox[2]}×{c.bbox[3]} at ({c.bbox[0]}, {c.bbox[1]})" if c.bbox else ""
            failures.append(Failure("screen", f"{where} differs: {c.differing} px{box} "
                                              f"(allowed {th.screen_diff_px}), similarity {c.similarity:.4f}",
                                    c.event, c.step))
    stats["checkpoints"] = len(checkpoints)
    stats["unsynced"] = len(unsynced)
    stats["screen_max_diff"] = max((c.diff_fraction for c in checkpoints), default=None)
    stats["screen_min_similarity"] = min((c.similarity for c in checkpoints), default=None)
    return rows, Verdict(passed=not failures, failures=failures, thresholds=th, stats=stats)


def _match_sequence(timings: Sequence[StepTiming], captured: Sequence[Event], rows: list[Row],
                    exp_key: Callable[[KeyDown | KeyUp], object], act_key: Callable[[KeyDown | KeyUp], object],
                    failures: list[Failure]) -> int:
    exp: list[Token] = []
    exp_row: list[int] = []
    down: set[object] = set()
    for n, st in enumerate(timings):
        e = st.step.event
        toks = tokens_of(e, exp_key)
        if isinstance(e, KeyDown | KeyUp):
            k = toks[0][1]
            if isinstance(e, KeyDown) and k in down:  # a recorded autorepeat is replayed as release + press
                toks = [("KeyUp", k), *toks]
            (down.add if isinstance(e, KeyDown) else down.discard)(k)
        for tok in toks:
            exp.append(tok)
            exp_row.append(n)
    act: list[Token] = []
    act_ev: list[Event] = []
    for e in captured:
        for tok in tokens_of(e, act_key):
            act.append(tok)
            act_ev.append(e)
    mismatches = 0
    sm = difflib.SequenceMatcher(a=exp, b=act, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                row, ev = rows[exp_row[i1 + k]], act_ev[j1 + k]
                if row.captured is None:
                    row.captured = ev.t
                    row.timing_error = ev.t - row.scheduled
                if isinstance(ev, MouseDown | MouseUp | Scroll):
                    e = timings[exp_row[i1 + k]].step.event
                    row.pointer_error = math.dist((e.x, e.y), (ev.x, ev.y))  # type: ignore[union-attr]
            continue
        mismatches += max(i2 - i1, j2 - j1)
        for k in range(i1, i2):
            rows[exp_row[k]].match = False
        got = ", ".join(_token_text(t) for t in act[j1:j2][:3]) or "nothing"
        if i1 < i2:
            row = rows[exp_row[i1]]
            want = ", ".join(_token_text(t) for t in exp[i1:i2][:3])
            failures.append(Failure("sequence", f"event {row.event} ({row.detail}): expected {want}, got {got}",
                                    row.event, row.step))
        else:
            after = rows[exp_row[i1 - 1]] if i1 > 0 else None
            where = f"after event {after.event}" if after else "before the first event"
            failures.append(Failure("sequence", f"unexpected input {where}: {got}",
                                    after.event if after else None, after.step if after else None))
    return mismatches


def _match_moves(timings: Sequence[StepTiming], captured: Sequence[Event], rows: list[Row],
                 lookahead: int = 8) -> None:
    """Pair each injected move with the captured motion that reports it (in order, exact position first)."""
    moves = [e for e in captured if isinstance(e, MouseMove)]
    j = 0
    for n, st in enumerate(timings):
        e = st.step.event
        if not isinstance(e, MouseMove) or j >= len(moves):
            continue
        window = moves[j:j + lookahead]
        hit = next((k for k, m in enumerate(window) if (m.x, m.y) == (e.x, e.y)), None)
        if hit is None:  # not seen (or seen elsewhere): report the nearest, consume nothing
            rows[n].pointer_error = min(math.dist((e.x, e.y), (m.x, m.y)) for m in window)
            continue
        m = window[hit]
        rows[n].pointer_error = 0.0
        rows[n].captured = m.t
        rows[n].timing_error = m.t - rows[n].scheduled
        j += hit + 1


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank-interpolated percentile of already sorted values."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))

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
from dataclasses import dataclass, field

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Scroll
from wf.bundle.replays import Checkpoint, Coverage, EventRow, Failure, Stats, Thresholds, UncheckedStep, VerdictStatus
from wf.replayer.plan import InputEvent, Step


@dataclass
class StepTiming:
    """When one planned step was due and when it was injected (seconds since replay start)."""

    step: Step
    scheduled: float
    injected: float


@dataclass
class Evaluation:
    """The verdict on one replay and the measurements behind it (the outcome: ``wf.replayer.verdict``)."""

    passed: bool
    failures: list[Failure]
    thresholds: Thresholds
    stats: Stats
    status: VerdictStatus = "failed"
    coverage: Coverage | None = None
    first_failed_step: int | None = None
    unverified: list[UncheckedStep] = field(default_factory=list)


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


def evaluate(timings: Sequence[StepTiming], captured: Sequence[Event], checkpoints: Sequence[Checkpoint],
             thresholds: Thresholds, *, keycode_of: Callable[[KeyDown | KeyUp], int | None] | None = None,
             dropped: int = 0, step_of: Callable[[int], int | None] = lambda _i: None,
             capture: bool = True) -> tuple[list[EventRow], Evaluation]:
    """Compare, fill per-event rows, and decide pass/fail. ``capture=False``: no input capture ran."""
    rows = [EventRow(event=st.step.index, type=type(st.step.event).__name__, detail=describe(st.step.event),
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
    th = thresholds
    if mismatches > th.sequence_mismatches:
        failures.append(Failure(check="sequence", message=f"{mismatches} input events differ from the bundle "
                                                          f"(allowed {th.sequence_mismatches})"))
    worst_ptr = max(((r.pointer_error or 0.0, r) for r in rows), default=(0.0, None), key=lambda p: p[0])
    if worst_ptr[1] is not None and worst_ptr[0] > th.pointer_px:
        r = worst_ptr[1]
        failures.append(Failure(check="pointer", message=f"pointer off by {worst_ptr[0]:.1f} px at {r.detail} "
                                                         f"(allowed {th.pointer_px:g})", event=r.event, step=r.step))
    p95 = percentile(timing_ms, 95)
    if p95 is not None and p95 > th.timing_p95_ms:
        failures.append(Failure(check="timing",
                                message=f"timing error p95 {p95:.1f} ms (allowed {th.timing_p95_ms:g} ms)"))
    if timing_ms and timing_ms[-1] > th.timing_max_ms:
        r = max((r for r in rows if r.timing_error is not None), key=lambda r: r.timing_error or 0.0)
        failures.append(Failure(check="timing", message=f"event late by {timing_ms[-1]:.1f} ms at {r.detail} "
                                                        f"(allowed {th.timing_max_ms:g} ms)", event=r.event,
                                step=r.step))
    if dropped > th.dropped:
        failures.append(Failure(check="capture", message=f"input capture dropped {dropped} events"))
    unsynced = [c for c in checkpoints if c.synced is False]
    if len(unsynced) > th.unsynced:
        c = unsynced[0]
        failures.append(Failure(check="sync", message=f"{len(unsynced)} step(s) never matched the recorded screen; "
                                                      f"first before event {c.event}", event=c.event, step=c.step))
    for c in checkpoints:
        c.passed = c.differing <= th.screen_diff_px and c.similarity >= th.screen_similarity \
            and c.synced is not False
        if not c.passed:
            where = {"final": "final screen", "start": "start screen (before any input: is this the recorded app "
                     "in its recorded state?)"}.get(c.label, f"screen before event {c.event}")
            box = f" in {c.bbox[2]}×{c.bbox[3]} at ({c.bbox[0]}, {c.bbox[1]})" if c.bbox else ""
            failures.append(Failure(check="screen", message=f"{where} differs: {c.differing} px{box} "
                                                            f"(allowed {th.screen_diff_px}), similarity "
                                                            f"{c.similarity:.4f}", event=c.event, step=c.step))
    stats = Stats(
        events=len(rows),
        captured=len([e for e in captured if tokens_of(e) or isinstance(e, MouseMove)]),
        sequence_mismatches=mismatches,
        sequence_identical=capture and mismatches == 0,
        timing_p50_ms=percentile(timing_ms, 50), timing_p95_ms=p95,
        timing_p99_ms=percentile(timing_ms, 99), timing_max_ms=timing_ms[-1] if timing_ms else None,
        inject_p50_ms=percentile(inject_ms, 50), inject_p95_ms=percentile(inject_ms, 95),
        inject_p99_ms=percentile(inject_ms, 99), inject_max_ms=inject_ms[-1] if inject_ms else None,
        pointer_max_px=max(pointer) if pointer else None,
        pointer_mean_px=sum(pointer) / len(pointer) if pointer else None,
        dropped=dropped,
        checkpoints=len(checkpoints),
        unsynced=len(unsynced),
        screen_max_diff=max((c.diff_fraction for c in checkpoints), default=None),
        screen_min_similarity=min((c.similarity for c in checkpoints), default=None),
    )
    return rows, Evaluation(passed=not failures, failures=failures, thresholds=th, stats=stats)


def _match_sequence(timings: Sequence[StepTiming], captured: Sequence[Event], rows: list[EventRow],
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
    for got_ev in captured:
        for tok in tokens_of(got_ev, act_key):
            act.append(tok)
            act_ev.append(got_ev)
    mismatches = 0
    sm = difflib.SequenceMatcher(a=exp, b=act, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                row, ev = rows[exp_row[i1 + k]], act_ev[j1 + k]
                if row.captured is None:
                    row.captured = ev.t
                    row.timing_error = ev.t - row.scheduled
                want_ev = timings[exp_row[i1 + k]].step.event
                if isinstance(ev, MouseDown | MouseUp | Scroll) and isinstance(want_ev, MouseDown | MouseUp | Scroll):
                    row.pointer_error = math.dist((want_ev.x, want_ev.y), (ev.x, ev.y))
            continue
        mismatches += max(i2 - i1, j2 - j1)
        for k in range(i1, i2):
            rows[exp_row[k]].match = False
        got = ", ".join(_token_text(t) for t in act[j1:j2][:3]) or "nothing"
        if i1 < i2:
            row = rows[exp_row[i1]]
            want = ", ".join(_token_text(t) for t in exp[i1:i2][:3])
            failures.append(Failure(check="sequence", message=f"event {row.event} ({row.detail}): expected {want}, "
                                                              f"got {got}", event=row.event, step=row.step))
        else:
            after = rows[exp_row[i1 - 1]] if i1 > 0 else None
            where = f"after event {after.event}" if after else "before the first event"
            failures.append(Failure(check="sequence", message=f"unexpected input {where}: {got}",
                                    event=after.event if after else None, step=after.step if after else None))
    return mismatches


def _match_moves(timings: Sequence[StepTiming], captured: Sequence[Event], rows: list[EventRow],
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

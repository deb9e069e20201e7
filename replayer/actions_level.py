"""``--level actions``: replay the reduced actions with pyautogui's high-level calls.

Each action runs the pyautogui code the actions module renders for it (one
source of truth with `wf export` and ``--dry-run``), started on the same
absolute schedule as the events level, with the same checkpoints and screen
sync before it. Text is the exception: pyautogui.write silently skips
characters outside its US keymap, so typed text goes through the exact XTest
key path (keysyms bound to spare keycodes when needed). Steps dropped in the
annotations are skipped. The strict input-sequence check is left to the events
level (high-level calls legitimately press keys in another order: write('A')
adds its own Shift); here the input capture feeds the per-step witness instead
(``wf.replayer.witness``: each action's button, position, text, keys), and each
step's effect is watched after it like at the events level.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

from wf.bundle.actions import Action, reduce_events
from wf.bundle.annotation_log import load_annotations
from wf.bundle.errors import WfError
from wf.bundle.events import Event, KeyDown, KeyUp, Screen
from wf.bundle.keys import TEXT_KEYS as SPECIAL
from wf.bundle.reader import Bundle
from wf.recorder.input import InputCapture
from wf.replayer.checkpoints import POLL, take_checkpoint
from wf.replayer.clock import sleep_until
from wf.replayer.driver import XDriver
from wf.replayer.fidelity import StepTiming
from wf.replayer.keyboard import Autorepeat, KeyMapper
from wf.replayer.levels import START_LEAD, Driven, LevelRun, stop_capture
from wf.replayer.plan import INPUT_TYPES, Check, Step
from wf.replayer.witness import StepSpan


def dropped_steps(bundle: Bundle) -> frozenset[int]:
    """Steps people marked as dropped in ``annotations.jsonl`` (none when there is no log)."""
    try:
        return load_annotations(bundle).dropped
    except WfError:  # unreadable annotations (e.g. from a newer wf) must not stop a replay: replay every step
        return frozenset()


def scaled(a: Action, sx: float, sy: float) -> Action:
    def px(v: int | None, f: float) -> int | None:
        return None if v is None else round(v * f)

    return dataclasses.replace(a, x=px(a.x, sx), y=px(a.y, sy), end_x=px(a.end_x, sx), end_y=px(a.end_y, sy),
                               path=tuple((t, round(x * sx), round(y * sy)) for t, x, y in a.path))


def text_keys(mapper: KeyMapper, text: str, t: float) -> list[KeyDown | KeyUp]:
    """Key events (exact keycodes, Shift where the keymap needs it) that type ``text``."""
    shift_kc, _ = mapper.for_text(0xFFE1)
    out: list[KeyDown | KeyUp] = []
    for ch in text:
        if ch in SPECIAL:
            ks, name = SPECIAL[ch]
        else:
            cp = ord(ch)
            ks, name = (cp if 0x20 <= cp < 0x100 else 0x01000000 | cp), ch
        kc, shifted = mapper.for_text(ks)
        if kc is None:
            continue
        if shifted:
            out.append(KeyDown(t=t, key="shift", keysym=0xFFE1, keycode=shift_kc))
        out += [KeyDown(t=t, key=name, char=ch, keysym=ks, keycode=kc),
                KeyUp(t=t, key=name, char=ch, keysym=ks, keycode=kc)]
        if shifted:
            out.append(KeyUp(t=t, key="shift", keysym=0xFFE1, keycode=shift_kc))
    return out


def run_actions(run: LevelRun, bundle: Bundle, events: list[Event], scale: tuple[float, float]) -> Driven:
    opts, log = run.opts, run.log
    actions = [a for a in reduce_events(events)
               if a.first_event >= opts.first and (opts.last is None or a.last_event <= opts.last)]
    drop = dropped_steps(bundle)
    skipped = {a.index: "dropped in the annotations: not replayed" for a in actions if a.index in drop}
    if skipped:
        log(f"skipping {len(skipped)} step(s) dropped in the annotations")
    actions = [a for a in actions if a.index not in drop]
    if scale != (1.0, 1.0):
        actions = [scaled(a, *scale) for a in actions]
    screens = {e.path: e for e in events if isinstance(e, Screen)}
    driver = XDriver(run.target.name)
    pg = driver.pg
    typed = {id(a): text_keys(driver.keys, a.text or "", a.t_start) for a in actions if a.kind == "type"}
    driver.x.sync()  # spare keycodes bound for the text: before any client needs them
    autorepeat = Autorepeat(driver.x)
    t0 = actions[0].t_start if actions else 0.0
    timings: list[StepTiming] = []
    spans: list[StepSpan] = []
    capture: InputCapture | None = None
    captured: list[Event] | None = None
    dropped = 0
    halted: int | None = None
    origin = time.monotonic()
    shift = 0.0
    prev_t = t0
    last_end = prev_end = float("-inf")
    at = 0.0
    waited = False
    try:
        autorepeat.disable()
        if opts.capture:
            capture = InputCapture(origin, display=run.target.name)
            capture.start()
        log(f"replaying {len(actions)} actions")
        for a in actions:
            gap = a.t_start - prev_t
            if opts.max_gap is not None:
                gap = min(gap, opts.max_gap)
            at += max(gap, 0.0) / opts.speed
            prev_t = a.t_start
            prev_end, last_end = last_end, a.t_end
            pre = screens.get(a.pre_screen) if a.pre_screen else None
            if pre is not None and pre.captured >= prev_end:  # a frame from before the previous action: stale
                lead = min(max(a.t_start - pre.captured, 0.0), 1.0) / opts.speed
                check = Check(max(at - lead, 0.0), pre, a.first_event)
                run.effects.idle(origin + START_LEAD + check.at + shift)  # the last step's effect, till then
                shift = take_checkpoint(check, opts, run.checkpointer, run.checkpoints, origin, START_LEAD, shift,
                                        run.step_of)
            due = origin + START_LEAD + at + shift
            if run.place is not None and a.kind != "type":  # where its window is now; typed text follows the focus
                a = run.place.action(a)
                waited = run.place.take_waited() > 0 or waited  # it waited for its window to appear
            if waited and (late := time.monotonic() - due) > 0:
                shift += late  # a wait ran past this action's time: the rest of the schedule moves with it
                due += late
            waited = False
            counted = a.index in run.expected and run.expected[a.index].counted
            run.effects.idle(due)
            sleep_until(due)
            if counted:
                if (halted := run.effects.begin(halt=opts.halt_on_divergence)) is not None:
                    break
                spans.append(StepSpan(a, due - origin))
            if not run.target.private:
                driver.ensure_hands_off()
            if a.kind == "type":
                for k in typed[id(a)]:
                    driver.send(k)
            elif a.kind not in ("wait", "mark"):
                exec(a.to_pyautogui(), {"pyautogui": pg, "time": time})  # code rendered by wf.bundle.actions
                driver.pos = driver.pointer()
            first = events[a.first_event]
            if isinstance(first, INPUT_TYPES):
                timings.append(StepTiming(Step(a.first_event, at, first), due - origin, time.monotonic() - origin))
            if counted:
                t_wait = time.monotonic()
                ok = run.effects.ended(a.index)
                waited = time.monotonic() - t_wait > POLL
                if not ok and opts.halt_on_divergence:
                    halted = a.index
                    break
        else:
            run.effects.settle_last()
    finally:
        driver.release_all()
        with contextlib.suppress(Exception):
            for mod in ("shift", "ctrl", "alt", "win"):
                pg.keyUp(mod, _pause=False)
        with contextlib.suppress(Exception):
            autorepeat.restore()
        if capture is not None:
            captured, dropped = stop_capture(capture)
        duration = time.monotonic() - origin
        driver.close()
    return Driven(timings=timings, duration=duration, captured=captured, dropped=dropped, spans=spans,
                  halted=halted, skipped=skipped)

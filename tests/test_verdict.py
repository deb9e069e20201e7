"""The verdict's pure parts: the comparison's smallest catch, what each step is expected to leave on screen,
the input witness, the three outcomes and coverage (no display needed)."""

from __future__ import annotations

import numpy as np

from wf.bundle.actions import reduce_events
from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Screen, Scroll, Window
from wf.bundle.replays import Failure, StepEffect
from wf.replayer.compare import Frame, compare
from wf.replayer.effects import ScreenResult
from wf.replayer.expectations import Expectation, expectations, unobservable
from wf.replayer.verdict import decide, step_effects
from wf.replayer.witness import StepSpan, Witnessed, as_sent, witness

W, H = 64, 48


def frame(paint: tuple[int, int, int, int, int] | None = None, base: int = 200) -> Frame:
    a = np.full((H, W, 3), base, dtype=np.uint8)
    if paint is not None:
        x, y, w, h, v = paint
        a[y:y + h, x:x + w] = v
    return Frame(a.tobytes(), W, H)


# -- the comparison: every pixel counts ------------------------------------------------------------------

def test_the_smallest_change_caught_is_one_pixel_one_channel_off_by_25() -> None:
    a = np.full((H, W, 3), 200, dtype=np.uint8)
    b = a.copy()
    b[7, 9, 1] = 200 - 25  # one channel of one pixel, just past the tolerance (24)
    d = compare(Frame(a.tobytes(), W, H), Frame(b.tobytes(), W, H))
    assert d.differing == 1 and d.bbox == (9, 7, 1, 1)
    b[7, 9, 1] = 200 - 24  # rendering noise: at the tolerance it does not count
    assert compare(Frame(a.tobytes(), W, H), Frame(b.tobytes(), W, H)).differing == 0


def test_a_one_pixel_tick_counts_where_a_run_length_rule_saw_nothing() -> None:
    a = np.full((H, W, 3), 255, dtype=np.uint8)
    b = a.copy()
    for i in range(8):  # a diagonal 1 px stroke, like the fixture checkbox's tick: no horizontal run > 1
        b[20 - i, 10 + i] = 0
    d = compare(Frame(a.tobytes(), W, H), Frame(b.tobytes(), W, H))
    assert d.differing == 8 and d.bbox == (10, 13, 8, 8)


def test_masked_regions_never_count() -> None:
    d = compare(frame(), frame((40, 0, 10, 10, 0)), ignore=[(38, 0, 20, 12)])
    assert d.differing == 0
    d = compare(frame(), frame((40, 0, 10, 10, 0)), ignore=[(0, 30, 10, 10)])
    assert d.differing == 100 and d.bbox == (40, 0, 10, 10)


# -- expectations: which recorded screens frame each step ----------------------------------------------

def scr(t: float, path: str, reason: str = "pre", captured: float | None = None) -> Screen:
    return Screen(t=t, path=path, width=W, height=H, hash=path, reason=reason,  # type: ignore[arg-type]
                  captured=t if captured is None else captured)


def click(t: float, x: int = 10, y: int = 10, button: str = "left") -> list[Event]:
    return [MouseDown(t=t, x=x, y=y, button=button), MouseUp(t=t + 0.05, x=x, y=y, button=button)]  # type: ignore[arg-type]


def test_after_is_captured_after_the_step_and_before_the_next() -> None:
    evs: list[Event] = [scr(0.0, "s0", "start"), *click(0.5), scr(0.8, "s1"), *click(1.0, 30, 30),
                        *click(1.2, 50, 10), scr(1.5, "s3", "stop")]
    acts = reduce_events(evs)
    exps = expectations(evs, acts)
    assert [(e.before.path if e.before else None, e.after.path if e.after else None) for e in exps] == \
        [("s0", "s1"), ("s1", None), (None, "s3")]
    assert exps[1].unwatchable() == "no screen was recorded after it (before the next step began)"
    assert exps[2].unwatchable() is None and "cannot be told apart" in (exps[2].missing() or "")


def test_a_stale_pre_screen_is_not_the_previous_steps_effect() -> None:
    # The pre screen of the second click was grabbed before the first click ended (fps too low): it shows
    # the state before the first click, so it is neither the first's effect nor the second's start.
    evs: list[Event] = [scr(0.0, "s0", "start"), *click(0.5), scr(0.6, "old", captured=0.4), *click(0.7, 30, 30),
                        scr(1.0, "s2", "stop")]
    exps = expectations(evs, reduce_events(evs))
    assert exps[0].after is None and exps[1].before is None and exps[1].after is not None


def test_the_whole_effect_at_the_events_level_the_settled_one_at_the_actions_level() -> None:
    # A settled post screen, then the pointer moves on (an approach the actions level does not replay), then
    # the next pre screen (a slow dialog may only show there).
    evs: list[Event] = [Window(t=0.0, title="secret", excluded=True), scr(0.0, "s0", "start"), *click(0.5),
                        scr(0.7, "p", "post"), MouseMove(t=0.8, x=30, y=30), scr(0.9, "n"), *click(1.0, 30, 30),
                        scr(1.5, "s2", "stop")]
    acts = reduce_events(evs)
    events_level, actions_level = expectations(evs, acts), expectations(evs, acts, "actions")
    assert events_level[0].after is not None and events_level[0].after.path == "n"
    assert actions_level[0].after is not None and actions_level[0].after.path == "p"
    assert events_level[0].excluded and "excluded window" in (events_level[0].unwatchable() or "")
    no_post = [e for e in evs if not (isinstance(e, Screen) and e.path == "p") and not isinstance(e, Window)]
    late = expectations(no_post, reduce_events(no_post), "actions")[0]
    assert late.after is None and late.late and "pointer moved on" in (late.unwatchable() or "")


def test_a_step_whose_screens_are_identical_is_unobservable() -> None:
    frames = {"a": frame(), "b": frame((40, 0, 10, 10, 0)), "same": frame()}
    exp = Expectation(reduce_events(click(0.5))[0], scr(0.4, "a"), scr(0.6, "b"))
    assert unobservable(exp, lambda s: frames[s.path], lambda s: []) is None
    masked = unobservable(exp, lambda s: frames[s.path], lambda s: [(38, 0, 20, 12)])
    assert masked == "its recorded change lies entirely inside volatile (masked) regions"
    still = Expectation(exp.action, scr(0.4, "a"), scr(0.6, "same"))
    assert "no visible change" in (unobservable(still, lambda s: frames[s.path], lambda s: []) or "")


# -- the input witness -----------------------------------------------------------------------------------

def keys(t: float, text: str) -> list[Event]:
    out: list[Event] = []
    for n, ch in enumerate(text):
        out += [KeyDown(t=t + n * 0.05, key=ch, char=ch, keysym=ord(ch), keycode=38 + n),
                KeyUp(t=t + n * 0.05 + 0.02, key=ch, char=ch, keysym=ord(ch), keycode=38 + n)]
    return out


def judge_one(expected: list[Event], seen: list[Event], px: float = 2.0) -> Witnessed:
    a = reduce_events(expected)[0]
    return witness([StepSpan(a, 0.0)], seen, px)[0][a.index]


def test_a_click_agrees_only_with_its_button_count_and_place() -> None:
    double = [MouseMove(t=0.0, x=10, y=10), *click(0.1), *click(0.2)]
    assert judge_one(double, double).status == "agrees"
    swapped = [MouseMove(t=0.0, x=10, y=10), *click(0.1, button="right"), *click(0.2, button="right")]
    t = judge_one(double, swapped)
    assert t.status == "differs" and "click left ×2" in (t.why or "") and "click right ×2" in (t.why or "")
    assert judge_one(double, [*click(0.1)]).status == "differs"  # one press of two
    assert judge_one(double, [*click(0.1, 15, 10), *click(0.2, 15, 10)]).status == "differs"  # 5 px off
    assert "saw no button" in (judge_one(double, []).why or "")


def test_typed_text_keys_scroll_and_drag_are_witnessed() -> None:
    assert judge_one(keys(0.0, "hi"), keys(3.0, "hi")).status == "agrees"  # timing aside
    assert judge_one(keys(0.0, "hi"), keys(0.0, "ho")).status == "differs"
    ctrl_c = [KeyDown(t=0.0, key="ctrlleft", keysym=0xFFE3, keycode=37),
              KeyDown(t=0.1, key="c", char="c", keysym=0x63, keycode=54),
              KeyUp(t=0.15, key="c", char="c", keysym=0x63, keycode=54),
              KeyUp(t=0.2, key="ctrlleft", keysym=0xFFE3, keycode=37)]
    assert judge_one(ctrl_c, ctrl_c).status == "agrees"
    assert judge_one(ctrl_c, ctrl_c[1:3]).status == "differs"  # the c without its ctrl is typed text
    wheel = [Scroll(t=0.0, x=5, y=5, dx=0, dy=1), Scroll(t=0.1, x=5, y=5, dx=0, dy=1)]
    assert judge_one(wheel, wheel).status == "agrees"
    assert judge_one(wheel, wheel[:1]).status == "differs"  # one notch short
    drag = [MouseDown(t=0.0, x=10, y=10, button="left"), MouseMove(t=0.1, x=30, y=10),
            MouseUp(t=0.2, x=30, y=10, button="left")]
    assert judge_one(drag, drag).status == "agrees"
    short = [*drag[:1], MouseMove(t=0.1, x=24, y=10), MouseUp(t=0.2, x=24, y=10, button="left")]
    assert judge_one(drag, short).status == "differs"


def test_windows_split_input_by_step_and_carry_held_modifiers() -> None:
    evs = [KeyDown(t=0.0, key="ctrlleft", keysym=0xFFE3, keycode=37), *click(0.1), *click(1.0, 30, 30),
           KeyUp(t=1.2, key="ctrlleft", keysym=0xFFE3, keycode=37)]
    acts = reduce_events(evs)
    assert [a.modifiers for a in acts] == [("ctrl",), ("ctrl",)]
    spans = [StepSpan(acts[0], 0.0), StepSpan(acts[1], 0.9)]
    out, stray = witness(spans, evs, 2.0)
    assert {k: t.status for k, t in out.items()} == {0: "agrees", 1: "agrees"} and not stray
    out, stray = witness(spans[1:], evs, 2.0)  # input before the first replayed step is named
    assert stray == ["click left with ctrl at (10, 10)"]


def test_positions_are_judged_as_injected() -> None:
    a = reduce_events([MouseMove(t=0.0, x=10, y=10), *click(0.1)])[0]
    sent = as_sent(a, [MouseMove(t=0.0, x=20, y=20), *click(0.1, 20, 20)])  # --scale auto 2×
    assert (sent.x, sent.y) == (20, 20)


# -- the three outcomes ----------------------------------------------------------------------------------

def effects_for(screens: dict[int, ScreenResult], inputs: dict[int, Witnessed], *, hidden: str | None = None
                ) -> list[StepEffect]:
    evs: list[Event] = [*click(0.5), *click(1.5, 30, 30)]
    exps = [Expectation(a, scr(0.0, "x"), scr(2.0, "y")) for a in reduce_events(evs)]
    invisible = {e.step: hidden for e in exps}
    return step_effects(exps, screens, inputs, invisible, {})


OK = ScreenResult("verified", recorded="y", differing=0)
AGREES = Witnessed("agrees")


def test_every_step_verified_is_verified_with_full_coverage() -> None:
    effects = effects_for({0: OK, 1: OK}, {0: AGREES, 1: AGREES})
    out = decide(effects, [], {})
    assert out.status == "verified" and out.coverage.percent == 100.0 and out.coverage.verified == 2


def test_one_unchecked_step_makes_it_unverified_and_says_why() -> None:
    effects = effects_for({0: OK, 1: ScreenResult("unchecked", "no screen was recorded after it")},
                          {0: AGREES, 1: AGREES})
    out = decide(effects, [], {})
    assert out.status == "unverified" and out.coverage.percent == 50.0
    assert [(u.step, u.why) for u in out.unverified] == [(1, "no screen was recorded after it")]


def test_an_invisible_effect_or_an_unwitnessed_input_is_never_verified() -> None:
    out = decide(effects_for({0: OK, 1: OK}, {0: AGREES, 1: AGREES}, hidden="no visible change"), [], {})
    assert out.status == "unverified" and out.coverage.checked == 0
    out = decide(effects_for({0: OK, 1: OK}, {}), [], {})  # no input capture ran
    assert out.status == "unverified" and "no input capture ran" in out.unverified[0].why


def test_a_failure_names_the_first_failing_step() -> None:
    bad = ScreenResult("differs", "the screen never reached the recorded post-action state: 8 px differ")
    out = decide(effects_for({0: OK, 1: bad}, {0: AGREES, 1: AGREES}), [], {1: "click left at (30, 30)"})
    assert out.status == "failed" and out.first_failed_step == 1
    assert out.failures[0].message.startswith("step 1 (click left at (30, 30)): the screen never reached")
    wrong = Witnessed("differs", "expected click left, the X server saw click right")
    out = decide(effects_for({0: OK, 1: OK}, {0: wrong, 1: AGREES}), [], {})
    assert out.status == "failed" and out.first_failed_step == 0 and out.failures[0].check == "input"


def test_zero_checks_never_pass() -> None:
    out = decide([], [], {})
    assert out.status == "unverified" and out.coverage.steps == 0
    assert out.unverified[0].why.startswith("nothing to check")
    out = decide([], [Failure(check="screen", message="start screen differs")], {})
    assert out.status == "failed" and out.first_failed_step is None

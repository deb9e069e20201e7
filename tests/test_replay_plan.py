"""The replay transforms, the verdict logic, the frame comparison and the clock — no display needed."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from wf.bundle.errors import BadInput
from wf.bundle.events import KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Screen, Scroll
from wf.bundle.replays import Checkpoint, Thresholds
from wf.replayer.clock import sleep_until
from wf.replayer.compare import Frame, compare
from wf.replayer.driver import PrintSink, RecordingSink
from wf.replayer.fidelity import StepTiming, evaluate, percentile
from wf.replayer.plan import attach_pre_screens, build_plan, retime


def screen(t: float, reason: str = "pre", path: str = "screens/a.png") -> Screen:
    return Screen(t=t, path=path, width=4, height=4, hash="h", reason=reason, captured=t)  # type: ignore[arg-type]


def key(t: float, down: bool, ch: str, kc: int) -> KeyDown | KeyUp:
    cls = KeyDown if down else KeyUp
    return cls(t=t, key=ch, char=ch, keysym=ord(ch), keycode=kc)


EVENTS = [
    screen(0.0, "start", "screens/s.png"),
    MouseMove(t=0.5, x=10, y=10),
    screen(0.9, "pre", "screens/p1.png"),
    MouseDown(t=1.0, x=10, y=10, button="left"),
    MouseUp(t=1.1, x=10, y=10, button="left"),
    key(11.1, True, "a", 38),  # its pre screen is written *after* it, captured before it
    screen(11.2, "pre", "screens/p2.png"),
    key(11.2, False, "a", 38),
    Scroll(t=11.5, x=5, y=5, dx=0, dy=-2),
    screen(12.0, "stop", "screens/end.png"),
]


def test_pre_screens_attach_to_the_next_action_by_capture_time() -> None:
    evs = list(EVENTS)
    evs[6] = Screen(t=11.2, path="screens/p2.png", width=4, height=4, hash="h", reason="pre", captured=11.05)
    pre = attach_pre_screens(evs)
    assert pre[3].path == "screens/p1.png"
    assert pre[5].path == "screens/p2.png"  # written after the key_down, captured before it
    assert 8 not in pre


def test_retime_speed_and_gap_cap_are_absolute() -> None:
    plan = build_plan(EVENTS, speed=2.0, max_gap=1.0)
    ats = [round(s.at, 6) for s in plan.steps]
    # gaps 0.5, 0.1, 10 (capped to 1), 0.1, 0.3, all halved
    assert ats == [0.0, 0.25, 0.3, 0.8, 0.85, 1.0]
    assert plan.first_screen is not None and plan.first_screen.reason == "start"
    assert plan.final_screen is not None and plan.final_screen.path == "screens/end.png"


def test_checkpoints_sit_where_the_frame_was_captured() -> None:
    plan = build_plan(EVENTS)
    (c1,) = [c for c in plan.checks if c.event == 3]
    assert c1.at == pytest.approx(0.4)  # captured 0.1 s before the click, which is at 0.5
    with pytest.raises(ValueError):
        retime(plan.steps, speed=0)


def test_step_range_skips_orphan_releases_and_starts_at_the_pointer() -> None:
    plan = build_plan(EVENTS, first=4, last=8)
    kinds = [type(s.event).__name__ for s in plan.steps]
    # mouse_up at 4 has no replayed mouse_down: dropped; a move to the last pointer position comes first.
    assert kinds == ["MouseMove", "KeyDown", "KeyUp", "Scroll"]
    assert (plan.steps[0].event.x, plan.steps[0].event.y) == (10, 10)  # type: ignore[union-attr]


def test_rescale_rounds_coordinates() -> None:
    plan = build_plan(EVENTS, scale=(0.5, 2.0))
    e = plan.steps[0].event
    assert (e.x, e.y) == (5, 20)  # type: ignore[union-attr]


def test_thresholds_parse_and_reject() -> None:
    th = Thresholds.parse(["pointer_px=0", "screen-diff-px=5"])
    assert th.pointer_px == 0 and th.screen_diff_px == 5 and isinstance(th.screen_diff_px, int)
    for bad in ("nope=1", "pointer_px", "pointer_px=x", "pointer_px=-1"):
        with pytest.raises(BadInput):
            Thresholds.parse([bad])


def timings_for(events: list) -> list[StepTiming]:  # type: ignore[type-arg]
    plan = build_plan(events)
    return [StepTiming(s, s.at, s.at + 0.0005) for s in plan.steps]


def test_identical_capture_passes_with_errors_measured() -> None:
    timings = timings_for(EVENTS)
    captured = [s.step.event for s in timings]
    # the wheel event of dy=-2 arrives as two notches
    captured = [e for e in captured if not isinstance(e, Scroll)] + \
        [Scroll(t=1.4, x=5, y=5, dx=0, dy=-1), Scroll(t=1.4, x=5, y=5, dx=0, dy=-1)]
    rows, v = evaluate(timings, captured, [], Thresholds(timing_p95_ms=1e9, timing_max_ms=1e9))
    assert v.passed, v.failures
    assert v.stats.sequence_identical is True
    assert v.stats.pointer_max_px == 0.0
    assert all(r.match for r in rows)


def test_changed_key_fails_naming_the_event() -> None:
    timings = timings_for(EVENTS)
    captured = [s.step.event for s in timings]
    captured[3] = key(11.1, True, "b", 56)
    _, v = evaluate(timings, captured, [], Thresholds(timing_p95_ms=1e9, timing_max_ms=1e9))
    assert not v.passed
    seq = [f for f in v.failures if f.check == "sequence"]
    assert seq[0].event == 5 and "'a'" in seq[0].message and "'b'" in seq[0].message


def test_extra_input_and_pointer_error_fail() -> None:
    timings = timings_for(EVENTS[:5])
    captured = [s.step.event for s in timings]
    captured.insert(1, KeyDown(t=0.2, key="q", char="q", keysym=ord("q"), keycode=24))
    captured[-1] = MouseUp(t=1.1, x=13, y=14, button="left")
    _, v = evaluate(timings, captured, [], Thresholds(timing_p95_ms=1e9, timing_max_ms=1e9))
    checks = {f.check for f in v.failures}
    assert checks == {"sequence", "pointer"}
    assert v.stats.pointer_max_px == 5.0


def test_screen_checkpoints_and_sync_decide() -> None:
    ok = Checkpoint(event=3, label="pre", recorded="a", similarity=1.0, diff_fraction=0.0, differing=0)
    bad = Checkpoint(event=5, label="pre", recorded="b", similarity=0.999, diff_fraction=1e-4, differing=40,
                           bbox=(1, 2, 8, 10))
    unsynced = Checkpoint(event=8, label="pre", recorded="c", similarity=1.0, diff_fraction=0.0, differing=0,
                                synced=False)
    _, v = evaluate([], [], [ok, bad, unsynced], Thresholds(), capture=False)
    assert [f.check for f in v.failures] == ["sync", "screen", "screen"]
    assert v.failures[1].event == 5 and "40 px" in v.failures[1].message
    assert ok.passed and not bad.passed and not unsynced.passed


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0


def frame(a: np.ndarray) -> Frame:
    return Frame(a.tobytes(), a.shape[1], a.shape[0])


def test_compare_counts_a_caret_and_a_glyph_unless_masked() -> None:
    base = np.full((60, 80, 3), 217, np.uint8)
    caret = base.copy()
    caret[20:37, 30:32] = 0  # a 2×17 text caret: a caret that moved is a change (volatile regions mask blinks)
    glyph = base.copy()
    glyph[20:28, 40:47] = 0  # a 7×8 block of ink
    assert compare(frame(base), frame(base)).differing == 0
    d = compare(frame(base), frame(caret))
    assert d.differing == 34 and d.bbox == (30, 20, 2, 17)
    assert compare(frame(base), frame(caret), ignore=[(28, 18, 6, 22)]).differing == 0
    d = compare(frame(base), frame(glyph))
    assert d.differing == 56 and d.bbox == (40, 20, 7, 8)
    noise = base.copy()
    noise[:, :] += 10  # below the per-channel tolerance
    assert compare(frame(base), frame(noise)).differing == 0


def test_sleep_until_is_precise_and_absolute() -> None:
    start = time.monotonic()
    late = []
    for k in range(1, 21):
        if k == 5:
            time.sleep(0.025)  # a hiccup: the later deadlines must not move with it
        late.append(sleep_until(start + 0.01 * k))
    assert min(late) >= 0.0  # never early
    assert sorted(late)[10] < 0.005  # median (lenient: the test machine is shared)
    assert late[8] < 0.005  # back on the absolute schedule after the hiccup
    assert sleep_until(start - 1.0) > 0.9  # a past deadline returns at once, reporting the lateness


def test_recording_sink_tracks_and_releases_held_input() -> None:
    sink = RecordingSink()
    for s in build_plan(EVENTS[:4] + [key(1.2, True, "!", 10), KeyDown(t=1.3, key="shift", keysym=0xFFE1,
                                                                       keycode=50)]).steps:
        sink.send(s.event)
    sink.release_all()
    kinds = [(type(e).__name__, getattr(e, "keycode", None) or getattr(e, "button", None)) for e in sink.released]
    assert kinds == [("KeyUp", 50), ("KeyUp", 10), ("MouseUp", "left")]


def test_print_sink_writes_a_runnable_program() -> None:
    buf = io.StringIO()
    sink = PrintSink(buf)
    for s in build_plan(EVENTS).steps:
        sink.wait(s.at)
        sink.send(s.event)
    code = buf.getvalue()
    assert "pyautogui.mouseDown(10, 10, button='left')" in code
    assert "pyautogui.scroll(-2, 5, 5)" in code
    assert "time.sleep(10.000)" in code
    compile(code, "<dry-run>", "exec")


def test_docs_report_example_matches_the_real_report() -> None:
    """docs/replay.md is the schema: its example decodes as a report and has exactly a real report's keys."""
    import re
    from pathlib import Path

    import msgspec
    import orjson

    from wf.bundle.replays import Coverage, StepEffect, decode_report, encode_report
    from wf.replayer.environment import Target
    from wf.replayer.options import ReplayOptions
    from wf.replayer.report import build_report
    from wf.replayer.session import ReplayResult

    doc = (Path(__file__).resolve().parent.parent / "docs" / "replay.md").read_text()
    text = re.findall(r"```json\n(.*?)```", doc, flags=re.S)[0]
    decode_report(text.encode())  # the documented example is a valid report
    example = orjson.loads(text)
    plan = build_plan(EVENTS)
    timings = [StepTiming(s, s.at, s.at) for s in plan.steps]
    cps = [Checkpoint(event=3, label="pre", recorded="screens/p1.png", similarity=1.0, diff_fraction=0.0,
                      differing=0)]
    rows, verdict = evaluate(timings, [s.step.event for s in timings], cps, Thresholds())
    steps = [StepEffect(step=0, kind="click", first_event=0, last_event=2, status="verified")]
    result = ReplayResult(rows=rows, checkpoints=cps, verdict=verdict, target=Target(":1", 4, 4, True), plan=plan,
                          duration=1.0, launched=None, scale=(1.0, 1.0), warnings=[], steps=steps)
    written = encode_report(build_report(Path("b"), result, ReplayOptions()))
    real = orjson.loads(written)
    assert decode_report(written) == build_report(Path("b"), result, ReplayOptions())  # round trip
    assert set(example) == set(real)
    for key in ("verdict", "options", "display", "stats", "timing", "pointer", "screens", "desktop"):
        assert set(example[key]) == set(real[key]), key
    assert set(example["checkpoints"][0]) == set(real["checkpoints"][0])
    assert set(example["events"][0]) == set(real["events"][0])
    assert set(example["steps"][0]) == set(real["steps"][0])
    assert set(example["verdict"]["coverage"]) == {f.name for f in msgspec.structs.fields(Coverage)}
    names = [f.name for f in msgspec.structs.fields(Thresholds)]
    assert set(example["verdict"]["thresholds"]) == set(names)
    for name in names:
        assert f"| `{name}` | {getattr(Thresholds(), name):g} |" in doc, name


def test_paused_time_is_not_replayed() -> None:
    from wf.bundle.events import Pause, Resume

    evs = [MouseMove(t=1.0, x=1, y=1), Pause(t=2.0), Resume(t=62.0), screen(62.5),
           MouseDown(t=63.0, x=1, y=1, button="left"), MouseUp(t=63.1, x=1, y=1, button="left")]
    plan = build_plan(evs)
    assert [round(s.at, 6) for s in plan.steps] == [0.0, 2.0, 2.1]
    (c,) = plan.checks
    assert c.at == pytest.approx(1.5)  # 0.5 s before the click, as recorded


class FakeKeyboardDisplay:
    """The slice of python-xlib's Display that KeyMapper uses: a tiny US keymap with two free keycodes."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.display = SimpleNamespace(info=SimpleNamespace(min_keycode=8, max_keycode=14))
        self.rows = {8: [0xFF1B, 0], 9: [0x31, 0x21], 10: [0x61, 0x41], 11: [0xFFE1, 0], 12: [0xFF0D, 0],
                     13: [0, 0], 14: [0, 0]}
        self.changes: list[tuple[int, list[tuple[int, int]]]] = []

    def get_keyboard_mapping(self, first: int, count: int) -> list[list[int]]:
        return [self.rows[k] for k in range(first, first + count)]

    def change_keyboard_mapping(self, first: int, syms: list[tuple[int, int]]) -> None:
        self.changes.append((first, syms))
        self.rows[first] = list(syms[0])

    def sync(self) -> None:
        pass


def test_key_mapper_prefers_the_exact_key_then_the_keysym_then_a_spare_keycode() -> None:
    from wf.replayer.keyboard import KeyMapper

    fake = FakeKeyboardDisplay()
    m = KeyMapper(fake)
    assert m.keycode(KeyDown(t=0, key="1", char="!", keysym=0x21, keycode=9)) == 9  # shifted: same physical key
    assert m.keycode(KeyDown(t=0, key="a", char="a", keysym=0x61, keycode=99)) == 10  # other machine's keycode
    assert m.keycode(KeyUp(t=0, key="enter", char="\n")) == 12  # no codes at all: by pyautogui name
    assert m.keycode(KeyDown(t=0, key="shift", keysym=0xFFE1, keycode=None)) == 11
    assert m.for_text(0x41) == (10, True)  # 'A' needs Shift
    two = [KeyDown(t=0, key="é", char="é", keysym=0xE9), KeyDown(t=0, key="€", char="€", keysym=0x20AC)]
    assert m.prepare(two) == 2
    assert fake.changes == [(14, [(0xE9, 0xE9)]), (13, [(0x20AC, 0x20AC)])]
    assert m.keycode(KeyUp(t=0, key="é", char="é", keysym=0xE9)) == 14  # the release finds the same key
    assert m.prepare([KeyDown(t=0, key="ж", char="ж", keysym=0x01000436)]) == 2  # no spare left: not typed
    assert m.keycode(KeyDown(t=0, key="ж", char="ж", keysym=0x01000436)) is None
    m.restore()
    assert fake.rows[13] == [0, 0] and fake.rows[14] == [0, 0]


def test_compare_skips_ignored_regions() -> None:
    base = np.full((60, 80, 3), 217, np.uint8)
    clock = base.copy()
    clock[5:15, 60:75] = 0  # a clock that ticked
    assert compare(frame(base), frame(clock)).differing == 150
    d = compare(frame(base), frame(clock), ignore=[(58, 0, 22, 20)])
    assert d.differing == 0 and d.similarity == 1.0

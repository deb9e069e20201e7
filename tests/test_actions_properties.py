"""Property tests: whatever the stream, the reduction loses no press, typed character or scroll notch,
and the actions' raw ranges are disjoint and in order."""

from __future__ import annotations

from actionkit import Stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wf.bundle.actions import Action, Thresholds, from_coord, reduce_events, to_coord, to_pyautogui_program
from wf.bundle.events import (
    Event,
    Header,
    KeyDown,
    Monitor,
    MouseDown,
    PlatformInfo,
    RecorderInfo,
    ScreenGeometry,
    Scroll,
)

HEADER = Header(format="wf-bundle", version=1, started="2026-11-27T00:00:00+00:00",
                recorder=RecorderInfo(name="test", version="0"), platform=PlatformInfo(system="Linux"),
                screen=ScreenGeometry(width=1280, height=800, monitors=[Monitor(0, 0, 1280, 800)]),
                task='a """tricky""" task \\ with quotes')

GAPS = st.sampled_from([0.0, 0.01, 0.05, 0.05, 0.2, 0.3, 0.45, 0.7, 1.2, 2.5])
XY = st.sampled_from([(100, 100), (102, 103), (110, 100), (300, 200)])
KEYS = st.sampled_from([("a", "a"), ("a", "A"), ("b", "b"), ("space", " "), ("1", "!"), ("enter", "\n"),
                        ("tab", "\t"), ("backspace", None), ("left", None), ("shift", None), ("ctrl", None),
                        ("alt", None), ("capslock", None), ("q", "@")])
BUTTONS = st.sampled_from(["left", "left", "right", "middle", "back"])

# Weighted toward the ops that interact (presses, keys, scrolls) so that short lists still mix them.
OPS = st.one_of(
    st.tuples(st.just("move"), XY, GAPS),
    st.tuples(st.just("down"), XY, GAPS, BUTTONS),
    st.tuples(st.just("up"), XY, GAPS, BUTTONS),
    st.tuples(st.just("key_down"), KEYS, GAPS),
    st.tuples(st.just("key_up"), KEYS, GAPS),
    st.tuples(st.just("scroll"), XY, GAPS, st.sampled_from([(0, 1), (0, -1), (1, 0), (-2, 0)])),
    st.tuples(st.just("down"), XY, GAPS, BUTTONS),
    st.tuples(st.just("up"), XY, GAPS, BUTTONS),
    st.tuples(st.just("scroll"), XY, GAPS, st.sampled_from([(0, 1), (0, -1), (0, -3), (1, 0), (-2, 0),
                                                            (1, 1), (0, 0)])),
    st.tuples(st.just("key_down"), KEYS, GAPS),
    st.tuples(st.just("key_up"), KEYS, GAPS),
    st.tuples(st.just("redacted"), st.sampled_from(["key_down", "key_up"]), GAPS),
    st.tuples(st.just("window"), st.sampled_from([1, 2]), GAPS),
    st.tuples(st.just("screen"), st.sampled_from(["pre", "post", "sync", "start"]), GAPS),
    st.tuples(st.just("mark"), GAPS),
    st.tuples(st.just("pause"), GAPS),
)


def build(ops: list[tuple]) -> list[Event]:  # type: ignore[type-arg]
    s = Stream()
    paused = False
    for n, op in enumerate(ops):
        kind = op[0]
        dt = op[-1] if kind not in ("down", "up", "scroll") else op[2]
        if kind == "pause":
            if paused:
                s.resume(dt=dt)
            else:
                s.pause(dt=dt)
            paused = not paused
        elif kind == "move":
            s.move(*op[1], dt=dt)
        elif kind == "down":
            s.down(*op[1], button=op[3], dt=dt)
        elif kind == "up":
            s.up(*op[1], button=op[3], dt=dt)
        elif kind == "scroll":
            s.scroll(*op[1], dx=op[3][0], dy=op[3][1], dt=dt)
        elif kind == "key_down":
            s.key_down(op[1][0], op[1][1], dt=dt)
        elif kind == "key_up":
            s.key_up(op[1][0], op[1][1], dt=dt)
        elif kind == "redacted":
            s.redacted(op[1], dt=dt)
        elif kind == "window":
            s.window(f"w{op[1]}", op[1], dt=dt)
        elif kind == "screen":
            s.screen(f"s{n}", reason=op[1], dt=dt)
        elif kind == "mark":
            s.mark(dt=dt)
    if paused:
        s.resume()
    if len(ops) % 3 == 0:
        s.stop()
    return s.events


def covering(actions: list[Action], i: int) -> list[Action]:
    return [a for a in actions if a.first_event <= i <= a.last_event]


def check(events: list[Event], actions: list[Action]) -> None:
    # Ranges: ordered, disjoint; only a wait may be empty (last = first - 1).
    prev_last = -1
    for n, a in enumerate(actions):
        assert a.index == n
        assert a.first_event <= a.last_event + (1 if a.kind == "wait" else 0), a
        assert a.first_event > prev_last, (a, actions[n - 1])
        assert a.t_start <= a.t_end
        prev_last = max(prev_last, a.last_event)
    # No mouse press is lost: each lies in exactly one click/drag, whose count matches its presses.
    for a in actions:
        presses = sum(1 for i in range(a.first_event, a.last_event + 1) if type(events[i]) is MouseDown)
        if a.kind == "click":
            assert presses == a.count >= 1
        elif a.kind == "drag":
            assert presses == 1
        else:
            assert presses == 0, a
    # No typed character is lost: each type action's text is exactly the characters pressed in its range,
    # and every text-producing press lies inside a type, hotkey, click or drag.
    for i, ev in enumerate(events):
        if type(ev) is KeyDown and ev.char and ev.char.isprintable():
            [owner] = covering(actions, i)
            assert owner.kind in ("type", "hotkey", "click", "drag")
    for a in actions:
        if a.kind == "type":
            chars = [events[i].char for i in range(a.first_event, a.last_event + 1)
                     if type(events[i]) is KeyDown and events[i].char and events[i].char.isprintable()]  # type: ignore[union-attr]
            assert a.text == "".join(chars)  # type: ignore[arg-type]
    # No scroll notch is lost or cancelled: per action, notches add up without sign changes.
    for a in actions:
        evs = [events[i] for i in range(a.first_event, a.last_event + 1) if type(events[i]) is Scroll]
        assert a.dx == sum(e.dx for e in evs)  # type: ignore[union-attr]
        assert a.dy == sum(e.dy for e in evs)  # type: ignore[union-attr]
        if a.kind == "scroll":
            assert abs(a.dy) == sum(abs(e.dy) for e in evs)  # type: ignore[union-attr]
            assert abs(a.dx) == sum(abs(e.dx) for e in evs)  # type: ignore[union-attr]
    for i, ev in enumerate(events):
        if type(ev) is Scroll and (ev.dx or ev.dy):
            assert len(covering(actions, i)) == 1
    # Every action renders, and its code compiles.
    for a in actions:
        a.describe()
        compile(a.to_pyautogui(), "<action>", "exec")


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=2, max_size=60))
def test_reduction_loses_nothing_and_ranges_are_disjoint(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    events = build(ops)
    actions = reduce_events(events)
    check(events, actions)
    for coords in ("pixels", "unit", "k1000"):
        compile(to_pyautogui_program(actions, HEADER, coords=coords), "<program>", "exec")


@settings(max_examples=150, deadline=None)
@given(st.lists(OPS, max_size=40),
       st.builds(Thresholds, double_click_interval=st.sampled_from([0.0, 0.4, 5.0]),
                 drag_distance=st.sampled_from([0, 5, 500]), typing_gap=st.sampled_from([0.0, 1.0, 9.0]),
                 idle_gap=st.sampled_from([0.0, 2.0]), hover_dwell=st.sampled_from([0.0, 0.5]),
                 max_click_count=st.sampled_from([1, 3])))
def test_properties_hold_for_any_thresholds(ops: list[tuple], th: Thresholds) -> None:  # type: ignore[type-arg]
    events = build(ops)
    check(events, reduce_events(events, th))


@given(st.integers(1, 20000), st.data())
def test_unit_coordinates_round_trip_exactly(extent: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, extent - 1))
    u = to_coord(x, extent, "unit")
    assert 0.0 <= u < 1.0
    assert from_coord(u, extent, "unit") == x


@given(st.integers(1, 20000), st.data())
def test_k1000_coordinates_are_within_half_a_bucket(extent: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, extent - 1))
    k = to_coord(x, extent, "k1000")
    assert isinstance(k, int) and 0 <= k <= 1000
    back = from_coord(k, extent, "k1000")
    assert abs(back - x) <= extent / 2000 + 0.5
    if extent <= 1000:
        assert back == x

"""Window anchoring, the start-state plan and the stop handling, without a display (bundles built here)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from wf.bundle.events import (
    HeldKey,
    KeyDown,
    KeyUp,
    MouseDown,
    MouseMove,
    MouseUp,
    Screen,
    StartState,
    Window,
    WindowState,
)
from wf.bundle.replays import Desktop, StartItem
from wf.replayer.anchoring import Placer, WindowNotFound, align
from wf.replayer.desktop_summary import desktop_rows
from wf.replayer.layout import (
    HOLD_AT_START,
    Layouts,
    LiveWindow,
    RecordedWindow,
    anchor_events,
    anchor_offset,
    match,
    start_anchor,
    title_level,
)
from wf.replayer.plan import build_plan
from wf.replayer.restore import START_INDEX, with_start_holds
from wf.replayer.stopping import in_xlib

APP = WindowState(title="wf fixture", wm_class="wfFixture.Wffixture", id=11, x=0, y=0, width=420, height=320)
TERM = WindowState(title="xterm", wm_class="xterm.XTerm", id=12, x=500, y=0, width=484, height=316)


def live(title: str = "wf fixture", wm_class: str | None = "wfFixture.Wffixture", *, id: int = 900, x: int = 0,
         y: int = 0, width: int = 420, height: int = 320, client: tuple[int, int] | None = None) -> LiveWindow:
    cx, cy = client or (x, y)
    return LiveWindow(id=id, frame=id + 1, title=title, wm_class=wm_class, pid=None, x=x, y=y, width=width,
                      height=height, client_x=cx, client_y=cy, client_width=width, client_height=height)


def rec(w: WindowState = APP, key: int | None = None) -> RecordedWindow:
    return RecordedWindow(key=key if key is not None else w.id or -1, title=w.title, wm_class=w.wm_class, id=w.id,
                          x=w.x, y=w.y, width=w.width, height=w.height)


# -- the recorded layout ------------------------------------------------------------------------------------

def test_layout_starts_with_the_start_windows_and_a_window_event_raises_and_moves() -> None:
    start = StartState(pointer=(10, 10), focus=APP, windows=[APP, TERM])
    moved = Window(t=2.0, title="wf fixture", wm_class=APP.wm_class, id=11, x=300, y=200, width=420, height=320)
    layouts = Layouts(start, [moved])
    assert [w.key for w in layouts.at(0.0)] == [11, 12]  # bottom to top, as recorded
    assert layouts.focused_at(0.0) == 11
    assert [w.title for w in layouts.under(0.0, 510, 10)] == ["xterm"]
    assert layouts.under(1.0, 600, 400) == ()  # nothing there before it moved
    after = layouts.at(2.0)
    assert [w.key for w in after] == [12, 11] and after[-1].rect == (300, 200, 420, 320)
    assert [w.key for w in layouts.under(2.5, 510, 210)] == [11, 12]  # the moved window is on top now


def test_windows_without_an_id_are_told_apart_by_class_and_title() -> None:
    a = Window(t=1.0, title="one", wm_class="c.C", x=0, y=0, width=10, height=10)
    b = Window(t=2.0, title="two", wm_class="c.C", x=0, y=0, width=10, height=10)
    layouts = Layouts(None, [a, b, a])
    keys = [w.key for w in layouts.at(3.0)]
    assert len(keys) == 2 and all(k < 0 for k in keys) and layouts.focused_at(3.0) == keys[-1]


def test_a_drag_keeps_the_anchor_of_its_press() -> None:
    start = StartState(pointer=(10, 10), focus=APP, windows=[APP])
    evs = [MouseMove(t=0.1, x=50, y=10), MouseDown(t=0.2, x=50, y=10, button="left"),
           MouseMove(t=0.3, x=600, y=600), MouseUp(t=0.4, x=600, y=600, button="left"),
           MouseMove(t=0.5, x=600, y=600)]
    anchors = anchor_events(evs, Layouts(start, evs), start)
    assert anchors[0].hold is None and anchors[0].windows[0].key == 11 and anchors[0].focused
    assert anchors[1].hold == 1 and anchors[2].hold == 1 and anchors[3].hold == 1
    assert anchors[2].windows == ()  # outside every window, but still the press's gesture
    assert 4 not in anchors  # after the release, outside any window: screen coordinates


def test_a_desktop_window_covering_the_screen_anchors_nothing() -> None:
    desktop = WindowState(title="Desktop", wm_class="desktop.Desktop", id=5, x=0, y=0, width=1280, height=800)
    start = StartState(pointer=(10, 10), focus=APP, windows=[desktop, APP])
    evs = [MouseDown(t=0.1, x=900, y=600, button="left"), MouseUp(t=0.2, x=900, y=600, button="left"),
           MouseDown(t=0.3, x=50, y=50, button="left")]
    anchors = anchor_events(evs, Layouts(start, evs), start, screen=(1280, 800))
    assert not anchors[0].windows and not anchors[1].windows  # a click on the desktop: screen coordinates
    assert [w.key for w in anchors[2].windows] == [11]  # and the desktop is no fallback below the app


def test_a_button_held_across_the_start_is_one_hold_from_the_start() -> None:
    start = StartState(pointer=(20, 20), buttons=["left"], focus=APP, windows=[APP])
    evs = [MouseMove(t=0.1, x=30, y=20), MouseUp(t=0.2, x=30, y=20, button="left")]
    anchors = anchor_events(evs, Layouts(start, evs), start)
    assert anchors[0].hold == HOLD_AT_START == anchors[1].hold
    a = start_anchor(Layouts(start, evs), start)
    assert a is not None and a.hold == HOLD_AT_START and a.windows[0].key == 11


# -- identity -------------------------------------------------------------------------------------------------

def test_title_levels() -> None:
    assert title_level("wf fixture", "wf fixture") == 3
    assert title_level("report 12.txt — Editor", "report 7.txt — Editor") == 2
    assert title_level("user@host: ~/src/wf", "user@host: ~/src/wf2") == 1
    assert title_level("wf fixture", "wf dialog") == 0


def test_match_needs_the_class_prefers_the_title_and_binds_each_live_window_once() -> None:
    r = rec()
    other_class = live(wm_class="xterm.XTerm", id=1)
    renamed = live(title="something else", id=2, x=700)
    same = live(id=3, x=300, y=200)
    assert match(r, [other_class]) is None
    assert match(r, [other_class, renamed]) == (renamed, "class")  # the only window of its class
    assert match(r, [renamed, same]) == (same, "class+title")
    assert match(r, [renamed, same], taken=[3]) == (renamed, "class")
    # A class two recorded windows share (a main window and its dialog) needs at least a similar title.
    assert match(r, [renamed], class_shared=True) is None
    # Equal X ids (the very window, on the desktop it was recorded on) win over everything.
    by_id = live(title="other", id=11, x=999)
    assert match(r, [same, by_id]) == (by_id, "id")


def test_match_breaks_ties_by_size_then_by_distance() -> None:
    r = rec()
    far, near, resized = live(id=1, x=800, y=400), live(id=2, x=40, y=10), live(id=3, width=300)
    assert match(r, [far, resized, near])[0] is near  # type: ignore[index]
    assert match(r, [resized, far])[0] is far  # type: ignore[index]


def test_without_a_class_only_the_title_identifies() -> None:
    r = RecordedWindow(key=-1, title="Notes", wm_class=None, id=None, x=0, y=0, width=100, height=100)
    assert match(r, [live(title="Other", wm_class=None)]) is None
    w = live(title="Notes", wm_class=None)
    assert match(r, [w]) == (w, "title")


def test_offset_is_the_frame_move_or_the_client_move_across_window_managers() -> None:
    r = rec()
    managed = live(x=300, y=200, client=(301, 220))
    assert anchor_offset(r, managed, recorded_managed=True, live_managed=True) == (300, 200)
    assert anchor_offset(r, managed, recorded_managed=False, live_managed=True) == (301, 220)
    assert anchor_offset(r, managed, scale=(0.5, 0.5)) == (300, 200)
    # Recorded in a 422×341 frame (1 px borders, a 20 px title bar), replayed bare: the client was at (1, 20).
    framed = RecordedWindow(key=1, title="t", wm_class="c", id=None, x=0, y=0, width=422, height=341)
    assert anchor_offset(framed, live(x=50, y=60), recorded_managed=True, live_managed=False) == (49, 40)


# -- the live half, with the display seam replaced ----------------------------------------------------------

class FakeDesk:
    """The slice of LiveDesktop the Placer reads: windows that can appear and move."""

    def __init__(self, windows: list[LiveWindow], wm: str | None = None) -> None:
        self.live = windows
        self.wm = wm
        self.scans = 0

    def windows(self) -> list[LiveWindow]:
        self.scans += 1
        return list(self.live)

    def refresh(self, w: LiveWindow) -> LiveWindow | None:
        return next((x for x in self.live if x.id == w.id), None)

    def window_manager(self) -> str | None:
        return self.wm


def placer(desk: FakeDesk, events: list, start: StartState, wait: float = 0.0) -> Placer:
    layouts = Layouts(start, events)
    return Placer(desk, layouts, anchor_events(events, layouts, start), wait=wait,  # type: ignore[arg-type]
                  step_of=lambda i: i // 2)


def test_placer_moves_events_with_their_window_and_a_drag_with_its_press() -> None:
    from wf.replayer.plan import Step

    start = StartState(pointer=(10, 10), focus=APP, windows=[APP])
    evs = [MouseDown(t=0.1, x=50, y=10, button="left"), MouseMove(t=0.2, x=90, y=10),
           MouseUp(t=0.3, x=90, y=10, button="left"), MouseMove(t=0.4, x=800, y=700)]
    desk = FakeDesk([live(x=300, y=200)])
    p = placer(desk, evs, start)
    placed = [p.event(Step(i, e.t, e)) for i, e in enumerate(evs)]
    assert [(e.x, e.y) for e in placed] == [(350, 210), (390, 210), (390, 210), (800, 700)]  # type: ignore[union-attr]
    desk.live = [live(x=0, y=0)]  # the window jumps mid-drag: the drag keeps its offset
    assert (p.event(Step(1, 0.2, evs[1])).x, p.report()[0].events) == (390, 4)  # type: ignore[union-attr]


def test_a_window_that_never_appears_is_a_named_failure() -> None:
    from wf.replayer.plan import Step

    start = StartState(pointer=(10, 10), focus=APP, windows=[APP])
    evs = [MouseDown(t=0.1, x=50, y=10, button="left")]
    p = placer(FakeDesk([live(wm_class="xterm.XTerm")]), evs, start, wait=0.12)
    with pytest.raises(WindowNotFound) as err:
        p.event(Step(0, 0.1, evs[0]))
    assert "'wf fixture'" in err.value.message and "step 0 (event 0)" in err.value.message
    assert err.value.event == 0 and err.value.step == 0
    assert p.report()[0].live is None


def test_a_closed_window_that_had_lost_the_focus_falls_back_to_the_one_below() -> None:
    from wf.replayer.plan import Step

    start = StartState(pointer=(10, 10), focus=APP, windows=[APP])
    dialog = Window(t=1.0, title="wf dialog", wm_class=APP.wm_class, id=20, x=100, y=100, width=240, height=120)
    back = Window(t=2.0, title="wf fixture", wm_class=APP.wm_class, id=11, x=0, y=0, width=420, height=320)
    click = MouseDown(t=1.5, x=150, y=150, button="left")
    later = MouseMove(t=3.0, x=150, y=150)  # over the closed dialog's place, the main window on top again
    evs = [dialog, click, back, later]
    desk = FakeDesk([live(x=300, y=200)])
    p = placer(desk, evs, start)
    assert p.anchors[3].windows[0].key == 11  # the main window was raised over the dialog's place
    with pytest.raises(WindowNotFound):  # the dialog had the focus when it was clicked: no falling back
        p.event(Step(1, 1.5, click))
    assert (p.event(Step(3, 3.0, later)).x, p.event(Step(3, 3.0, later)).y) == (450, 350)  # type: ignore[union-attr]


def test_align_puts_a_moved_window_back_and_fills_what_it_uncovered_from_the_recording() -> None:
    rng = np.random.default_rng(1)
    recorded = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    window = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    recorded[5:25, 10:40] = window  # recorded at (10, 5)
    live_frame = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)  # another background
    live_frame[30:50, 45:75] = window  # live at (45, 30)
    r = RecordedWindow(key=1, title="t", wm_class="c", id=None, x=10, y=5, width=30, height=20)
    lw = live(x=45, y=30, width=30, height=20)
    out = align(live_frame, recorded, (0, 0), [(r, lw, (35, 25))])
    assert np.array_equal(out[5:25, 10:40], window)
    assert np.array_equal(out[30:50, 45:75], recorded[30:50, 45:75])  # uncovered: not comparable, recorded
    outside = np.ones((60, 80), dtype=bool)
    outside[5:25, 10:40] = outside[30:50, 45:75] = False
    assert np.array_equal(out[outside], live_frame[outside])  # the rest is the live screen, untouched


# -- the start state in the plan -----------------------------------------------------------------------------

SHIFT = {"key": "shift", "keysym": 0xFFE1, "keycode": 50}


def test_keys_held_at_the_start_are_pressed_first_and_their_releases_come_back() -> None:
    evs = [Screen(t=0.0, path="screens/s.png", width=4, height=4, hash="h", reason="start", captured=0.0),
           KeyDown(t=0.5, key="a", char="A", keysym=0x41, keycode=38),
           KeyUp(t=0.6, key="a", char="A", keysym=0x41, keycode=38),
           KeyUp(t=1.0, char=None, **SHIFT),  # type: ignore[arg-type]
           KeyDown(t=1.5, key="b", char="b", keysym=0x62, keycode=56)]
    plain = build_plan(evs, speed=2.0)
    assert [s.index for s in plain.steps] == [1, 2, 4]  # the stray release is dropped: no press in the plan
    start = StartState(pointer=(1, 1), keys=[HeldKey(**SHIFT)])  # type: ignore[arg-type]
    plan, items = with_start_holds(plain, evs, start, speed=2.0)
    assert [(s.index, type(s.event).__name__) for s in plan.steps] == [
        (START_INDEX, "KeyDown"), (1, "KeyDown"), (2, "KeyUp"), (3, "KeyUp"), (4, "KeyDown")]
    assert plan.steps[0].at == 0.0 and plan.steps[3].at == pytest.approx(0.05 + 0.4 / 2)
    assert items[0].status == "restored" and "shift" in items[0].detail
    assert with_start_holds(plain, evs, start, first=2)[0] is plain  # a later step: not the start state
    assert with_start_holds(plain, evs, None)[0] is plain


def test_a_button_held_at_the_start_is_pressed_where_the_pointer_was() -> None:
    evs = [MouseMove(t=0.2, x=40, y=40), MouseUp(t=0.3, x=40, y=40, button="left")]
    start = StartState(pointer=(30, 30), buttons=["left"])
    plan, _ = with_start_holds(build_plan(evs), evs, start, scale=(2.0, 2.0))
    first = plan.steps[0].event
    assert isinstance(first, MouseDown) and (first.x, first.y, first.button) == (60, 60, "left")
    assert [type(s.event).__name__ for s in plan.steps] == ["MouseDown", "MouseMove", "MouseUp"]


# -- stopping and the summary ----------------------------------------------------------------------------------

def test_in_xlib_looks_at_every_frame_of_the_stack() -> None:
    scope: dict[str, object] = {"__name__": "Xlib.protocol.display", "sys": sys}
    exec("def inside(f):\n    return f(sys._getframe())\n", scope)
    assert scope["inside"](in_xlib) is True  # type: ignore[operator]
    assert scope["inside"](lambda frame: in_xlib(frame.f_back)) is False  # type: ignore[operator]
    assert in_xlib(sys._getframe()) is False


def test_summary_rows_say_what_was_restored_and_what_could_not_be() -> None:
    assert desktop_rows(Desktop())[0] == ("start state", "not recorded (a bundle from before format 1.1): "
                                                         "nothing restored")
    d = Desktop(start_recorded=True, start=[StartItem(item="pointer", status="restored", detail="moved"),
                                            StartItem(item="caps_lock", status="as recorded", detail="off"),
                                            StartItem(item="scroll_lock", status="not restorable", detail="no LED")],
                volatile_regions=[(600, 0, 120, 120)])
    rows = dict(desktop_rows(d))
    assert rows["start state"] == "1 restored, 1 as recorded, 1 not restorable"
    assert rows["  pointer"] == "restored: moved" and rows["  scroll_lock"] == "not restorable: no LED"
    assert "120×120 at (600, 0)" in rows["volatile"]

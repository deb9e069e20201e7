"""Reduction rules over hand-written event streams: one test per rule and per edge (docs/actions.md)."""

from __future__ import annotations

import pytest
from actionkit import Stream, apply_text_edits

from wf.bundle.actions import Action, Thresholds, reduce_events
from wf.bundle.errors import BadInput


def kinds(actions: list[Action]) -> list[str]:
    return [a.kind for a in actions]


def only(actions: list[Action], kind: str) -> list[Action]:
    return [a for a in actions if a.kind == kind]


# -- clicks ------------------------------------------------------------------------------------
def test_single_click_keeps_position_button_range_and_window() -> None:
    s = Stream()
    s.window("xterm", 7, "xterm.XTerm")
    s.move(400, 80)
    first = s.down(412, 88)
    last = s.up(412, 88)
    [a] = reduce_events(s.events)
    assert (a.kind, a.x, a.y, a.button, a.count) == ("click", 412, 88, "left", 1)
    assert (a.first_event, a.last_event) == (first, last)
    assert (a.window, a.window_class) == ("xterm", "xterm.XTerm")
    assert a.t_start == s.events[first].t and a.t_end == s.events[last].t
    assert a.to_pyautogui() == "pyautogui.click(412, 88, button='left')"
    assert a.describe() == "click left at (412, 88) in 'xterm'"


def test_double_click_with_a_small_move_in_between_is_one_double_click() -> None:
    s = Stream()
    s.click(100, 100)
    s.move(102, 101, dt=0.02)
    s.move(103, 103, dt=0.02)
    s.click(103, 103, dt=0.05)
    [a] = reduce_events(s.events)
    assert (a.kind, a.count, a.x, a.y) == ("click", 2, 100, 100)
    assert a.to_pyautogui() == "pyautogui.click(100, 100, clicks=2, button='left')"
    assert "×2" in a.describe()


def test_second_click_moved_beyond_the_double_click_distance_is_a_new_click() -> None:
    s = Stream()
    s.click(100, 100)
    s.move(120, 100, dt=0.02)
    s.click(120, 100, dt=0.05)
    assert [(a.kind, a.count, a.x) for a in reduce_events(s.events)] == [("click", 1, 100), ("click", 1, 120)]


def test_slow_second_click_is_a_new_click() -> None:
    s = Stream()
    s.click(100, 100)
    s.click(100, 100, dt=0.5)
    assert [a.count for a in reduce_events(s.events)] == [1, 1]


def test_click_count_stops_at_three() -> None:
    s = Stream()
    for _ in range(4):
        s.click(50, 50, dt=0.05)
    assert [a.count for a in reduce_events(s.events)] == [3, 1]


def test_clicks_of_different_buttons_do_not_merge() -> None:
    s = Stream()
    s.click(50, 50)
    s.click(50, 50, button="right", dt=0.05)
    assert [(a.button, a.count) for a in reduce_events(s.events)] == [("left", 1), ("right", 1)]


def test_jitter_within_drag_distance_is_still_a_click() -> None:
    s = Stream()
    s.down(200, 200)
    s.move(203, 198)
    s.move(205, 201)
    s.up(204, 200)
    [a] = reduce_events(s.events)
    assert (a.kind, a.x, a.y) == ("click", 200, 200)


def test_ctrl_click_carries_the_modifier() -> None:
    s = Stream()
    first = s.key_down("ctrl")
    s.click(30, 40)
    last = s.key_up("ctrl")
    [a] = reduce_events(s.events)
    assert (a.kind, a.modifiers) == ("click", ("ctrl",))
    assert (a.first_event, a.last_event) == (first, last)
    assert a.to_pyautogui().splitlines() == [
        "pyautogui.keyDown('ctrl')", "pyautogui.click(30, 40, button='left')", "pyautogui.keyUp('ctrl')"]


def test_back_button_is_kept_but_not_rendered_as_a_left_click() -> None:
    s = Stream()
    s.click(30, 40, button="back")
    [a] = reduce_events(s.events)
    assert a.button == "back"
    assert a.to_pyautogui().startswith("#")


# -- drags -------------------------------------------------------------------------------------
def test_drag_that_ends_where_it_started_is_a_drag() -> None:
    s = Stream()
    first = s.down(100, 100)
    for x in (110, 130, 150, 130, 110):
        s.move(x, 100)
    last = s.up(100, 100)
    [a] = reduce_events(s.events)
    assert a.kind == "drag"
    assert (a.x, a.y, a.end_x, a.end_y) == (100, 100, 100, 100)
    assert [p[1] for p in a.path] == [100, 110, 130, 150, 130, 110, 100]
    assert (a.first_event, a.last_event) == (first, last)
    code = a.to_pyautogui()
    assert code.splitlines()[0] == "pyautogui.mouseDown(100, 100, button='left')"
    assert "(150, 100)" in code  # the far point survives path simplification
    assert code.splitlines()[-1] == "pyautogui.mouseUp(100, 100, button='left')"


def test_drag_path_and_end() -> None:
    s = Stream()
    s.down(10, 10)
    s.move(60, 12)
    s.move(120, 80)
    s.up(121, 80)
    [a] = reduce_events(s.events)
    assert (a.kind, a.end_x, a.end_y, a.button) == ("drag", 121, 80, "left")
    assert a.describe() == "drag left from (10, 10) to (121, 80) (4 points)"


def test_key_pressed_during_a_drag_stays_inside_the_drag() -> None:
    s = Stream()
    s.down(10, 10)
    s.move(80, 10)
    s.press("esc")
    s.up(80, 10)
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys) == ("drag", ("esc",))
    lines = a.to_pyautogui().splitlines()
    assert lines[-2:] == ["pyautogui.press('esc')", "pyautogui.mouseUp(80, 10, button='left')"]


# -- scrolls -----------------------------------------------------------------------------------
def test_scroll_direction_signs_and_bursts() -> None:
    s = Stream()
    for _ in range(3):
        s.scroll(600, 400, dy=-1)
    s.scroll(600, 400, dy=1)  # reversal: a new burst, so no notch cancels another
    s.scroll(600, 400, dx=2, dt=1.0)
    s.scroll(600, 400, dx=-1)
    a, b, c, d = reduce_events(s.events)
    assert (a.dy, b.dy, c.dx, d.dx) == (-3, 1, 2, -1)
    assert a.to_pyautogui() == "pyautogui.scroll(-3, x=600, y=400)"
    assert b.to_pyautogui() == "pyautogui.scroll(1, x=600, y=400)"
    assert c.to_pyautogui() == "pyautogui.hscroll(2, x=600, y=400)"
    assert a.describe() == "scroll down 3 at (600, 400)"
    assert b.describe() == "scroll up 1 at (600, 400)"
    assert d.describe() == "scroll left 1 at (600, 400)"


def test_scroll_gap_and_position_split_bursts() -> None:
    s = Stream()
    s.scroll(100, 100, dy=-1)
    s.scroll(100, 100, dy=-1, dt=0.6)
    s.scroll(300, 100, dy=-1, dt=0.05)
    assert [a.dy for a in reduce_events(s.events)] == [-1, -1, -1]


# -- typing ------------------------------------------------------------------------------------
def test_shift_held_across_several_characters_types_text_not_hotkeys() -> None:
    s = Stream()
    first = s.key_down("shift")
    for ch in "HELLO":
        s.press(ch.lower(), ch)
    last = s.key_up("shift")
    [a] = reduce_events(s.events)
    assert (a.kind, a.text, a.first_event, a.last_event) == ("type", "HELLO", first, last)
    assert a.to_pyautogui() == "pyautogui.write('HELLO')"


def test_mixed_case_words_and_punctuation_are_one_type_run() -> None:
    s = Stream()
    s.type("Hello World")
    s.key_down("shift")
    s.press("1", "!")
    s.key_up("shift")
    [a] = reduce_events(s.events)
    assert a.text == "Hello World!"


def test_ctrl_shift_t_is_a_hotkey() -> None:
    s = Stream()
    s.key_down("ctrl")
    s.key_down("shift")
    s.press("t", "T")
    s.key_up("shift")
    s.key_up("ctrl")
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys, a.first_event, a.last_event) == ("hotkey", ("ctrl", "shift", "t"), 0, 5)
    assert a.to_pyautogui() == "pyautogui.hotkey('ctrl', 'shift', 't')"
    assert a.describe() == "hotkey ctrl+shift+t"


def test_hotkey_between_typing_splits_the_text() -> None:
    s = Stream()
    s.type("ab")
    s.key_down("ctrl")
    s.press("c")
    s.key_up("ctrl")
    s.type("d")
    assert [(a.kind, a.text or a.keys) for a in reduce_events(s.events)] == [
        ("type", "ab"), ("hotkey", ("ctrl", "c")), ("type", "d")]


def test_repeated_hotkey_counts() -> None:
    s = Stream()
    s.key_down("ctrl")
    s.press("z")
    s.press("z")
    s.key_up("ctrl")
    [a] = reduce_events(s.events)
    assert (a.keys, a.count) == (("ctrl", "z"), 2)
    assert a.to_pyautogui() == "for _ in range(2): pyautogui.hotkey('ctrl', 'z')"


def test_key_repeat_of_a_text_key_types_every_repeat() -> None:
    s = Stream()
    for _ in range(4):  # autorepeat: presses of one keycode without releases
        s.key_down("a", dt=0.04)
    s.key_up("a")
    [a] = reduce_events(s.events)
    assert (a.kind, a.text, a.last_event) == ("type", "aaaa", 4)


def test_key_repeat_of_backspace_counts_presses() -> None:
    s = Stream()
    for _ in range(3):
        s.key_down("backspace", dt=0.04)
    s.key_up("backspace")
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys, a.count) == ("key", ("backspace",), 3)
    assert a.to_pyautogui() == "pyautogui.press('backspace', presses=3)"
    assert a.describe() == "key backspace ×3"


def test_backspace_ends_the_type_run_and_replays_faithfully() -> None:
    s = Stream()
    s.type("helo")
    s.press("backspace")
    s.type("lo")
    actions = reduce_events(s.events)
    assert [(a.kind, a.text or a.keys) for a in actions] == [
        ("type", "helo"), ("key", ("backspace",)), ("type", "lo")]
    assert apply_text_edits(actions) == "hello"  # what the person's field held


def test_enter_and_tab_are_keys_not_text() -> None:
    s = Stream()
    s.type("ls")
    s.press("enter")
    s.press("tab")
    assert [(a.kind, a.text or a.keys) for a in reduce_events(s.events)] == [
        ("type", "ls"), ("key", ("enter",)), ("key", ("tab",))]


def test_shift_with_a_non_text_key_is_a_hotkey() -> None:
    s = Stream()
    s.key_down("shift")
    s.press("tab")
    s.key_up("shift")
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys) == ("hotkey", ("shift", "tab"))


def test_a_key_released_after_focus_changed_belongs_to_its_press() -> None:
    s = Stream()
    s.window("dialog opener", 1)
    s.type("x")
    down = s.key_down("enter")
    s.window("dialog", 2, dt=0.02)  # Enter opened a dialog which took focus before the release
    up = s.key_up("enter")
    s.type("y", dt=0.1)
    x, enter, y = reduce_events(s.events)
    assert (enter.kind, enter.keys, enter.window) == ("key", ("enter",), "dialog opener")
    assert (enter.first_event, enter.last_event) == (down, up)
    assert (y.kind, y.text, y.window) == ("type", "y", "dialog")
    assert x.text == "x"


def test_focus_change_splits_typing() -> None:
    s = Stream()
    s.window("a", 1)
    s.type("ab")
    s.window("b", 2)
    s.type("cd")
    assert [(a.text, a.window) for a in reduce_events(s.events)] == [("ab", "a"), ("cd", "b")]


def test_title_change_of_the_same_window_does_not_split_typing() -> None:
    s = Stream()
    s.window("doc", 1)
    s.type("ab")
    s.window("*doc", 1)
    s.type("cd")
    [a] = reduce_events(s.events)
    assert (a.text, a.window) == ("abcd", "doc")


def test_typing_gap_splits_runs() -> None:
    s = Stream()
    s.type("ab")
    s.type("c", dt=1.5)
    s.type("d")
    assert [a.text for a in only(reduce_events(s.events), "type")] == ["ab", "cd"]


def test_lone_alt_tap_is_a_key_but_lone_shift_is_nothing() -> None:
    s = Stream()
    s.press("alt")
    s.press("shift", dt=0.5)
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys, a.first_event, a.last_event) == ("key", ("alt",), 0, 1)


def test_caps_lock_is_not_a_step_because_chars_carry_it() -> None:
    s = Stream()
    s.press("capslock")
    s.press("a", "A")
    s.press("capslock")
    s.press("b", "b")
    [a] = reduce_events(s.events)
    assert (a.kind, a.text) == ("type", "Ab")


def test_altgr_typed_characters_are_text() -> None:
    from wf.bundle.events import KeyDown, KeyUp

    s = Stream()
    s.events.append(KeyDown(t=s.tick(0.05), key="altright", keysym=0xFE03, keycode=108))
    s.press("q", "@")
    s.events.append(KeyUp(t=s.tick(0.05), key="altright", keysym=0xFE03, keycode=108))
    [a] = reduce_events(s.events)
    assert (a.kind, a.text) == ("type", "@")


def test_release_without_press_is_ignored() -> None:
    s = Stream()
    s.key_up("a")
    s.up(5, 5)
    s.type("b")
    [a] = reduce_events(s.events)
    assert a.text == "b"


def test_redacted_keys_are_skipped_and_split_the_text_around_them() -> None:
    s = Stream()
    s.type("ab")
    r1 = s.redacted("key_down")
    r2 = s.redacted("key_up")
    s.type("cd")
    actions = reduce_events(s.events)
    assert [a.text for a in actions] == ["ab", "cd"]
    assert all(not (a.first_event <= r <= a.last_event) for a in actions for r in (r1, r2))


# -- moves, waits, marks, segments -------------------------------------------------------------
def test_hover_rest_becomes_a_move_with_its_dwell() -> None:
    s = Stream()
    s.click(10, 10)
    approach = s.move(100, 100)
    arrive = s.move(200, 150)
    s.click(600, 400, dt=1.2)  # rested 1.2 s at (200, 150), then clicked elsewhere
    _click1, move, click2 = reduce_events(s.events)
    assert (move.kind, move.x, move.y, move.duration) == ("move", 200, 150, pytest.approx(1.2))
    assert (move.first_event, move.last_event) == (approach, arrive)
    assert move.to_pyautogui() == "pyautogui.moveTo(200, 150)\ntime.sleep(1.2)"
    assert click2.x == 600


def test_rest_where_the_next_click_happens_is_not_a_move() -> None:
    s = Stream()
    s.move(200, 150)
    s.click(201, 150, dt=2.5)
    assert kinds(reduce_events(s.events)) == ["click"]


def test_short_rest_is_not_a_move_and_final_rest_is() -> None:
    s = Stream()
    s.move(200, 150)
    s.click(600, 400, dt=0.2)
    s.move(700, 700)
    s.stop(dt=1.0)
    assert kinds(reduce_events(s.events)) == ["click", "move"]


def test_idle_gap_becomes_a_wait() -> None:
    s = Stream()
    a_last = s.click(10, 10)
    scr = s.screen("mid", reason="post", dt=0.3)
    b_first = s.down(10, 300, dt=3.0)
    s.up(10, 300)
    c1, w, c2 = reduce_events(s.events)
    assert (w.kind, w.duration) == ("wait", pytest.approx(3.3, abs=1e-6))
    assert (w.first_event, w.last_event) == (a_last + 1, b_first - 1) == (scr, scr)
    assert (w.t_start, w.t_end) == (c1.t_end, c2.t_start)
    assert w.to_pyautogui() == f"time.sleep({round(w.duration, 3)})"
    assert [a.index for a in (c1, w, c2)] == [0, 1, 2]


def test_pause_never_merges_and_never_waits_across_segments() -> None:
    s = Stream()
    s.type("ab")
    s.click(50, 50)
    s.pause()
    s.resume(dt=10)
    s.click(50, 50, dt=0.05)
    s.type("cd")
    actions = reduce_events(s.events)
    assert [(a.kind, a.count, a.segment) for a in actions] == [
        ("type", 1, 0), ("click", 1, 0), ("click", 1, 1), ("type", 1, 1)]


def test_modifier_held_across_a_pause_is_released() -> None:
    s = Stream()
    s.key_down("ctrl")
    s.pause()
    s.resume()
    s.type("x")
    [a] = reduce_events(s.events)
    assert (a.kind, a.text) == ("type", "x")


def test_mark_is_an_action_and_a_boundary() -> None:
    s = Stream()
    s.type("ab")
    m = s.mark("halfway")
    s.type("cd")
    actions = reduce_events(s.events)
    assert [(a.kind, a.text) for a in actions] == [("type", "ab"), ("mark", "halfway"), ("type", "cd")]
    assert (actions[1].first_event, actions[1].last_event) == (m, m)
    assert actions[1].to_pyautogui() == "# mark 'halfway'"


# -- screens -----------------------------------------------------------------------------------
def test_action_at_t0_before_any_screen_is_kept() -> None:
    s = Stream()
    s.down(5, 5, dt=0.0)
    s.up(5, 5)
    s.screen("after", reason="post", dt=0.1)
    [a] = reduce_events(s.events)
    assert (a.kind, a.t_start, a.pre_screen, a.post_screen) == ("click", 0.0, None, "screens/after.png")


def test_pre_and_post_screens() -> None:
    s = Stream()
    s.screen("start", reason="start")
    s.screen("pre1", reason="pre", dt=0.5)
    s.click(10, 10, dt=0.0)
    s.screen("post1", reason="post", dt=0.3)
    s.screen("sync", reason="sync", dt=0.1)
    s.screen("pre2", reason="pre", dt=0.5)
    s.type("a", dt=0.0)
    s.screen("pre3", reason="pre", dt=0.1)  # no post for the typing: the next action's pre stands in
    s.press("enter", dt=0.0)
    s.screen("final", reason="stop", dt=0.5)
    s.stop()
    click, typed, enter = reduce_events(s.events)
    assert (click.pre_screen, click.post_screen) == ("screens/pre1.png", "screens/post1.png")
    assert (typed.pre_screen, typed.post_screen) == ("screens/pre2.png", "screens/pre3.png")
    assert (enter.pre_screen, enter.post_screen) == ("screens/pre3.png", "screens/final.png")


def test_wait_starts_and_ends_on_its_neighbours_screens() -> None:
    s = Stream()
    s.screen("pre1")
    s.click(10, 10)
    s.screen("post1", reason="post", dt=0.2)
    s.screen("pre2", dt=3.0)
    s.click(10, 200, dt=0.0)
    _, w, _ = reduce_events(s.events)
    assert (w.pre_screen, w.post_screen) == ("screens/post1.png", "screens/pre2.png")


# -- thresholds, renderings --------------------------------------------------------------------
def test_thresholds_are_parameters() -> None:
    s = Stream()
    s.click(100, 100)
    s.click(100, 100, dt=0.5)
    assert [a.count for a in reduce_events(s.events, Thresholds(double_click_interval=0.6))] == [2]
    with pytest.raises(BadInput):
        Thresholds(drag_distance=-1)
    with pytest.raises(BadInput):
        Thresholds(idle_gap=float("nan"))


def test_json_has_every_field_and_is_serialisable() -> None:
    import orjson

    s = Stream()
    s.down(1, 1)
    s.move(50, 50)
    s.up(50, 50)
    [a] = reduce_events(s.events)
    j = a.to_json()
    assert set(j) == set(Action.__dataclass_fields__)
    assert j["path"] == [[p[0], p[1], p[2]] for p in a.path]
    assert orjson.loads(orjson.dumps(j)) == j


def test_coordinate_systems_in_pyautogui_code() -> None:
    s = Stream()
    s.click(640, 200)
    [a] = reduce_events(s.events)
    assert a.to_pyautogui(coords="unit", size=(1280, 800)) == "pyautogui.click(0.5, 0.25, button='left')"
    assert a.to_pyautogui(coords="k1000", size=(1280, 800)) == "pyautogui.click(500, 250, button='left')"
    with pytest.raises(BadInput):
        a.to_pyautogui(coords="unit")
    with pytest.raises(BadInput):
        a.to_pyautogui(coords="inches", size=(1, 1))


def test_text_with_quotes_renders_as_valid_python() -> None:
    s = Stream()
    s.type("it's")
    s.key_down("shift")
    s.press("'", '"')
    s.key_up("shift")
    s.press("\\", "\\")
    [a] = reduce_events(s.events)
    code = a.to_pyautogui()
    ns: dict[str, object] = {}

    class Fake:
        @staticmethod
        def write(text: str) -> None:
            ns["text"] = text

    exec(code, {"pyautogui": Fake})
    assert ns["text"] == "it's\"\\"


def test_reduction_is_deterministic_and_indices_are_positions() -> None:
    s = Stream()
    s.type("ab")
    s.click(3, 3, dt=3)
    s.scroll(3, 3, dy=2)
    one, two = reduce_events(s.events), reduce_events(list(s.events))
    assert one == two
    assert [a.index for a in one] == list(range(len(one)))


def test_rest_that_began_inside_a_key_press_does_not_overlap_it() -> None:
    s = Stream()
    s.key_down("a")
    s.move(500, 500)  # the pointer arrives while "a" is still held
    s.key_up("a", dt=0.05)
    s.press("b", dt=1.0)  # 1 s rest, ended by the next key
    actions = reduce_events(s.events)
    assert [a.kind for a in actions] == ["type", "type"]
    assert actions[0].last_event < actions[1].first_event


def test_autorepeating_modifier_is_not_a_lone_tap() -> None:
    s = Stream()
    s.key_down("ctrl")
    s.press("c")
    s.key_down("ctrl", dt=0.5)  # autorepeat of the held modifier
    s.key_up("ctrl")
    [a] = reduce_events(s.events)
    assert (a.kind, a.keys) == ("hotkey", ("ctrl", "c"))


def test_two_rests_in_a_row_are_two_moves_with_their_own_approaches() -> None:
    s = Stream()
    s.move(100, 100)
    s.move(200, 200, dt=0.05)
    second_approach = s.move(300, 300, dt=1.0)
    s.move(400, 400, dt=0.05)
    s.stop(dt=1.0)
    a, b = reduce_events(s.events)
    assert [(m.kind, m.x, m.first_event, m.last_event) for m in (a, b)] == [
        ("move", 200, 0, 1), ("move", 400, second_approach, second_approach + 1)]
    assert b.duration == pytest.approx(1.0)


def test_modifier_pressed_during_a_drag_belongs_to_the_drag() -> None:
    s = Stream()
    s.down(10, 10)
    s.move(60, 10)
    s.key_down("ctrl")
    s.move(90, 10)
    s.up(90, 10)
    s.key_up("ctrl", dt=0.3)
    [a] = reduce_events(s.events)
    assert (a.kind, a.modifiers) == ("drag", ("ctrl",))

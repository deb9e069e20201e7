"""One rule attaches screens to actions: the reducer's pre screens and the replay plan's checkpoints agree.

The recorder places a ``pre`` screen before every event the start rule flags; the reducer gives each action
the screen of the first start in its range; the replay plan checks each ``pre`` screen before the event it
belongs to. On a real recording (``wf record`` of the fixture app driven with xdotool, with the fast and
chorded actions where separate rules used to part), every action has its own checkpoint and the
checkpoint's screen is the action's ``pre_screen``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from actionkit import Stream
from test_actions_e2e import launch_app, record_session
from xrig import FIXTURES, Display

from wf.bundle.actions import Action, reduce_events
from wf.bundle.actions.screens import attach_pre_screens
from wf.bundle.events import Event, Screen
from wf.bundle.reader import Bundle
from wf.replayer.plan import build_plan

POINTER_AND_KEY_KINDS = ("click", "drag", "scroll", "type", "key", "hotkey")


def checkpoint_screens(events: list[Event], actions: list[Action]) -> dict[int, list[Screen]]:
    """The replay plan's pre-action checkpoints, grouped by the step their event belongs to, in order."""
    firsts = [a.first_event for a in actions]
    by_step: dict[int, list[tuple[int, Screen]]] = {}
    for c in build_plan(events).checks:
        assert c.event is not None
        k = bisect.bisect_right(firsts, c.event) - 1
        assert k >= 0 and actions[k].first_event <= c.event <= actions[k].last_event, c
        by_step.setdefault(k, []).append((c.event, c.screen))
    return {k: [s for _, s in sorted(v, key=lambda p: p[0])] for k, v in by_step.items()}


def assert_screens_agree(events: list[Event], actions: list[Action]) -> dict[int, list[Screen]]:
    checks = checkpoint_screens(events, actions)
    for k, screens in checks.items():
        a = actions[k]
        assert screens[0].path == a.pre_screen, (a.index, a.describe(), screens[0].path, a.pre_screen)
        assert screens[0].captured <= a.t_start, (a.describe(), screens[0])  # a screen from before it
    return checks


def test_sample_bundle_pre_screens_are_the_checkpoints() -> None:
    b = Bundle.open(FIXTURES / "samples" / "valid")
    events = list(b.events())
    actions = reduce_events(events)
    checks = assert_screens_agree(events, actions)
    assert [actions[k].kind for k in sorted(checks)] == ["click"]  # the one pre screen of the sample


def test_a_late_pre_screen_belongs_to_the_start_it_shows_the_screen_before() -> None:
    """A writer that stored the frame after the event: captured before it, not placed for the next press."""
    s = Stream()
    s.screen("start", reason="start")
    s.click(10, 10, dt=0.5)
    down = s.key_down("a", dt=1.0)
    s.events.append(Screen(t=s.tick(0.02), path="screens/late.png", width=1280, height=800, hash="late",
                           reason="pre", captured=s.t - 0.05))
    s.key_up("a")
    s.press("enter", dt=2.0)
    actions = reduce_events(s.events)
    assert attach_pre_screens(s.events) == {down: s.events[down + 1]}
    typed = next(a for a in actions if a.kind == "type")
    assert typed.pre_screen == "screens/late.png"
    assert_screens_agree(s.events, actions)


def drive(d: Display) -> None:
    """Actions in quick succession (their pre frames are older than the previous action) and chords."""
    x = d.xdotool
    x("mousemove", 100, 40)
    time.sleep(0.4)
    x("click", 1)
    time.sleep(0.5)
    x("mousemove", 200, 235)
    time.sleep(0.3)
    x("click", 1)
    x("type", "--delay", 40, "Ab")  # right after the click: one frame interval for both
    x("key", "ctrl+a")
    x("key", "ctrl+shift+a")  # another chord than ctrl+a: its own step, its own screen
    x("click", "--repeat", 2, "--delay", 60, 1)
    time.sleep(0.4)
    x("mousemove", 200, 285)
    time.sleep(0.3)
    x("click", "--repeat", 2, "--delay", 80, 4)
    x("click", 5)  # reverses within the scroll gap: a burst of its own
    time.sleep(0.6)


@pytest.mark.display
@pytest.mark.slow
def test_recorded_pre_screens_are_the_replay_checkpoints(new_display: Callable[..., Display], tmp_path: Path) -> None:
    d = new_display()
    launch_app(d, tmp_path / "state.json")
    out = tmp_path / "rec"
    record_session(d, out, drive)
    events = list(Bundle.open(out).events())
    actions = reduce_events(events)
    kinds = [a.kind for a in actions if a.kind in POINTER_AND_KEY_KINDS]
    assert kinds == ["click", "click", "type", "hotkey", "hotkey", "click", "scroll", "scroll"], \
        [a.describe() for a in actions]
    checks = assert_screens_agree(events, actions)
    missing = [a.describe() for a in actions if a.kind in POINTER_AND_KEY_KINDS and a.index not in checks]
    assert not missing, missing  # every step got its own pre screen from the recorder

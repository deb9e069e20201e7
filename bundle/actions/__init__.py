"""Agent actions reduced from a bundle's raw events (vocabulary and rules: docs/actions.md).

Pure functions, no display needed::

    from wf.bundle.actions import Action, Thresholds, load_actions, reduce_events, to_pyautogui_program

    actions = load_actions(Bundle.open("my-task"))
    for a in actions:
        print(a.index, a.describe(), a.to_pyautogui())
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wf.bundle.actions.action import Action
from wf.bundle.actions.coords import COORDS, from_coord, to_coord
from wf.bundle.actions.model import KINDS, Thresholds
from wf.bundle.actions.monitors import monitor_of, with_monitors
from wf.bundle.actions.program import program
from wf.bundle.actions.reduce import reduce_stream
from wf.bundle.events import Event, Header, Monitor
from wf.bundle.reader import Bundle

__all__ = [
    "COORDS",
    "KINDS",
    "Action",
    "Thresholds",
    "from_coord",
    "load_actions",
    "monitor_of",
    "reduce_events",
    "to_coord",
    "to_pyautogui_program",
]


def reduce_events(events: Iterable[Event], thresholds: Thresholds = Thresholds(), *,
                  monitors: Sequence[Monitor] = (), start_pointer: tuple[int, int] | None = None) -> list[Action]:
    """Reduce events (in stream order, as ``Bundle.events()`` yields them) to actions.

    Deterministic: the same events and thresholds always give the same actions. Action ``first_event`` /
    ``last_event`` are 0-based indices into ``events`` (line number in events.jsonl = index + 2). With the
    header's ``monitors`` each action also gets its ``monitor`` (monitors.py).
    """
    return with_monitors(reduce_stream(events, thresholds), monitors, start_pointer)


def load_actions(bundle: Bundle, thresholds: Thresholds = Thresholds()) -> list[Action]:
    """The actions of an opened bundle (one streaming pass over its events), each with its monitor."""
    header = bundle.header
    start = header.start.pointer if header.start is not None else None
    return reduce_events(bundle.events(), thresholds, monitors=header.screen.monitors, start_pointer=start)


def to_pyautogui_program(actions: Sequence[Action], header: Header, *, coords: str = "pixels",
                         timing: bool = True, pause: float = 0.05) -> str:
    """A standalone Python script that replays ``actions`` with pyautogui.

    With ``timing`` it sleeps the recorded gaps between actions; ``unit``/``k1000`` coordinates are scaled
    to the replaying screen's size at run time; ``pause`` is ``pyautogui.PAUSE`` (settle time per call).
    """
    return program(actions, header, coords=coords, timing=timing, pause=pause)

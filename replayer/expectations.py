"""What each action step of a replay is expected to leave on screen (pure; frames are decoded by the caller).

For every step the recording gives two screens, chosen by *capture time*, not by stream position alone:

* ``after`` — the recorded post-action state: the latest screen captured after the step's last event and
  before the next input step began (often the next step's ``pre``; after the last step, the ``stop``
  screen): the step's whole effect, a dialog that took a while included. At the events level the replay
  looks for it at its own moment on the timeline, after any pointer moves that came before it. The
  actions level replays no moves between steps, so there ``after`` is the latest screen captured before any
  later input; when every screen after the step came later, there is nothing it can compare (``late``).
  None when nothing was captured in between;
* ``before`` — the state the step started from: the latest screen captured after the previous input step
  ended and before this one began.

A step's effect is *observable* only when both exist and differ outside the masked regions. A step whose
screens are identical (a hover over nothing, Ctrl+C, a right click that opens nothing) left no visible
trace: the replay can still catch it doing something else (the live screen then differs), but it cannot
show that it did what the recording did, so such a step is never counted as verified.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wf.bundle.actions import Action
from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, Screen, Scroll, Window
from wf.bundle.replays import Level
from wf.replayer.compare import Frame, Region, compare

NOT_ACTIONS = frozenset({"wait", "mark"})  # no input of their own: not action steps, not in the coverage
_INPUT = (MouseMove, MouseDown, MouseUp, Scroll, KeyDown, KeyUp)
EPSILON = 1e-4  # s: a frame stamped at the same instant as an event was grabbed after it (clock resolution)


@dataclass(frozen=True, slots=True)
class Expectation:
    action: Action
    before: Screen | None
    after: Screen | None
    excluded: bool = False  # the step happened in an excluded window: no screens were kept for it
    late: bool = False  # (actions level) screens exist after it, but only from after later input

    @property
    def counted(self) -> bool:
        return self.action.kind not in NOT_ACTIONS

    @property
    def step(self) -> int:
        return self.action.index

    def unwatchable(self) -> str | None:
        """Why there is no recorded post-action state to compare the live screen with (None: there is)."""
        if not self.counted:
            return f"a {self.action.kind}, not an input action: nothing of its own to observe"
        if self.excluded:
            return "in an excluded window: no screens were recorded for it"
        if self.after is None and self.late:
            return "the screens after it were recorded after the pointer moved on, which the actions level " \
                   "does not replay (the events level checks it)"
        if self.after is None:
            return "no screen was recorded after it (before the next step began)"
        return None

    def missing(self) -> str | None:
        """Why the effect cannot be told apart before any pixel is looked at (None: it may be). Without
        ``before`` the live screen is still compared with ``after`` (and can differ), but a match cannot
        show what this step itself did."""
        if (why := self.unwatchable()) is not None:
            return why
        if self.before is None:
            return "no screen was recorded between the previous step and this one, so its own effect " \
                   "cannot be told apart"
        return None


def expectations(events: Sequence[Event], actions: Sequence[Action], level: Level = "events") -> list[Expectation]:
    """One ``Expectation`` per action, in order, for a replay at ``level``."""
    screens = [(i, e) for i, e in enumerate(events) if isinstance(e, Screen)]
    positions = [i for i, _ in screens]
    input_times = [(i, e.t) for i, e in enumerate(events) if isinstance(e, _INPUT)]
    input_index = [i for i, _ in input_times]
    inputs = [a for a in actions if a.kind not in NOT_ACTIONS]
    order = {a.index: n for n, a in enumerate(inputs)}
    out: list[Expectation] = []
    for a in actions:
        n = order.get(a.index)
        prev = inputs[n - 1] if n is not None and n > 0 else None
        nxt = inputs[n + 1] if n is not None and n + 1 < len(inputs) else None
        lo = bisect.bisect_right(positions, a.last_event)
        hi = bisect.bisect_left(positions, nxt.first_event) if nxt is not None else len(screens)
        t_next = nxt.t_start if nxt is not None else float("inf")
        done = _ended(events, a)
        later = [s for _, s in screens[lo:hi]
                 if s.reason != "start" and done - EPSILON <= s.captured <= t_next + EPSILON]
        late = False
        if level == "actions" and later:
            k = bisect.bisect_right(input_index, a.last_event)
            moved = input_times[k][1] if k < len(input_times) else float("inf")
            settled = [s for s in later if s.captured <= moved + EPSILON]
            late = not settled
            later = settled
        after = later[-1] if later else None
        first = bisect.bisect_left(positions, a.first_event)
        t_prev = _ended(events, prev) if prev is not None else float("-inf")
        earlier = [s for _, s in screens[:first] if t_prev - EPSILON <= s.captured <= a.t_start + EPSILON]
        before = earlier[-1] if earlier else None
        out.append(Expectation(a, before, after, _excluded(events, a.first_event), late))
    return out


def _ended(events: Sequence[Event], a: Action) -> float:
    """When the step's last event happened (a hover's ``t_end`` is when the pointer moved on: later)."""
    return events[a.last_event].t if 0 <= a.last_event < len(events) else a.t_end


def _excluded(events: Sequence[Event], first_event: int) -> bool:
    for e in reversed(events[:first_event + 1]):
        if isinstance(e, Window):
            return e.excluded
    return False


def unobservable(exp: Expectation, frame: Callable[[Screen], Frame], masks: Callable[[Screen], list[Region]]
                 ) -> str | None:
    """Why the step's recorded effect cannot be seen (None: its screens differ outside the masks)."""
    why = exp.missing()
    if why is not None or exp.before is None or exp.after is None:
        return why
    b, a = exp.before, exp.after
    if (b.x, b.y, b.width, b.height) != (a.x, a.y, a.width, a.height):
        return None  # grabs of different regions: the step changed what there was to see
    if b.path != a.path:  # paths are content hashes: the same path is the same pixels
        if compare(frame(b), frame(a), ignore=masks(a)).differing:
            return None
        if compare(frame(b), frame(a)).differing:
            return "its recorded change lies entirely inside volatile (masked) regions"
    return "the recording shows no visible change (the screens before and after it are identical)"

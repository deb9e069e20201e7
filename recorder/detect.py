"""Which raw events start an action (and so get a pre-action screen), decided online, event by event.

The rule is the contract's (:class:`wf.bundle.actions.starts.ActionStarts`), the one the reducer and the
replay plan use to find the event each ``pre`` screen was written for. The recorder adds what only it needs:
whether an event keeps the current action going, so that its post screen waits.
"""

from __future__ import annotations

from wf.bundle.actions.starts import ActionStarts
from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseUp, Scroll


class ActionDetector(ActionStarts):
    def __init__(self) -> None:
        super().__init__()
        self.buttons_down = 0

    def starts_action(self, ev: Event) -> bool:
        if isinstance(ev, MouseDown):
            self.buttons_down += 1
        elif isinstance(ev, MouseUp):
            self.buttons_down = max(0, self.buttons_down - 1)
        return self.feed(ev)

    def extends_action(self, ev: Event) -> bool:
        """Events after which the action is still going on (so its post screen must wait)."""
        return isinstance(ev, MouseDown | MouseUp | Scroll | KeyDown | KeyUp) or self.buttons_down > 0

"""The text a person typed, rebuilt from key events, with the key event behind every character.

Two views, because neither alone is right every time:

* **edited** — applies Backspace (removes the last character) and starts a new segment whenever the
  caret may have moved or text was inserted some other way: a mouse press, a non-typing key (arrows,
  Home, Delete, Escape…), a shortcut with Ctrl/Alt/Super held (Ctrl+V pastes), a window change, a
  pause, or a key already redacted. Typing "hunterX⌫2" yields "hunter2".
* **raw** — every typed character in key-press order, Backspace ignored, broken only at window
  changes, pauses and redacted keys. It catches a secret typed in order but "fixed" with the arrow
  keys, which the edited view cannot follow.

``char`` of a key event already includes Shift, Caps Lock and AltGr (the recorder resolves the keysym),
so no case reconstruction is needed. Limits (docs/privacy.md): text that never went through key events
(paste, autocomplete, drag and drop, input methods) is invisible here, and caret moves by mouse or
arrow keys make the edited view approximate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, Pause, Redacted, Resume, Window
from wf.bundle.keys import TEXT_MODIFIERS, held_modifier, is_lock


@dataclass(slots=True)
class Segment:
    """A run of typed characters; ``events[k]`` is the index of the key_down that typed ``chars[k]``."""

    chars: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chars)


@dataclass(slots=True)
class TypedText:
    edited: list[Segment]
    raw: list[Segment]

    def segments(self) -> Iterable[Segment]:
        yield from self.edited
        yield from self.raw


class TypedTextBuilder:
    """Fed events in stream order with their 0-based index; ``result()`` returns both views."""

    def __init__(self) -> None:
        self.edited: list[Segment] = [Segment()]
        self.raw: list[Segment] = [Segment()]
        self._held: dict[str, str] = {}  # key name -> the modifier it holds
        self._focus: object = None  # (id, title) of the focused window: a `window` event for a move is no break

    def _break(self, which: list[Segment]) -> None:
        if which[-1].chars:
            which.append(Segment())

    def feed(self, index: int, ev: Event) -> None:
        if isinstance(ev, KeyDown):
            self._key_down(index, ev)
        elif isinstance(ev, KeyUp):
            self._held.pop(ev.key, None)
        elif isinstance(ev, MouseDown):
            self._break(self.edited)
        elif isinstance(ev, Window) and (ev.id, ev.title) == self._focus:
            pass  # the same window moved or was resized (format 1.1): typing goes on in it
        elif isinstance(ev, Window | Pause | Resume | Redacted):
            if isinstance(ev, Window):
                self._focus = (ev.id, ev.title)
            self._break(self.edited)
            self._break(self.raw)
            if not isinstance(ev, Redacted):
                self._held.clear()  # key releases are not recorded across a focus change or pause

    def _key_down(self, index: int, ev: KeyDown) -> None:
        key = ev.key
        mod = held_modifier(key, ev.keysym)
        if mod is not None:
            self._held[key] = mod
            return
        if is_lock(key):
            return
        if set(self._held.values()) - TEXT_MODIFIERS:  # Ctrl/Alt/Super held: a shortcut (Ctrl+V pastes)
            self._break(self.edited)
            return
        if key == "backspace":
            seg = self.edited[-1]
            if seg.chars:
                seg.chars.pop()
                seg.events.pop()
            return
        if ev.char is None or ev.char == "":
            self._break(self.edited)
            return
        for seg in (self.edited[-1], self.raw[-1]):
            seg.chars.append(ev.char)
            seg.events.append(index)

    def result(self) -> TypedText:
        return TypedText([s for s in self.edited if s.chars], [s for s in self.raw if s.chars])


def typed_text(events: Iterable[Event]) -> TypedText:
    """Both views of the text typed in ``events`` (indices count from 0)."""
    b = TypedTextBuilder()
    for i, ev in enumerate(events):
        b.feed(i, ev)
    return b.result()

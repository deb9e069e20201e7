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

_MODIFIERS = frozenset({"shift", "shiftright", "ctrl", "ctrlright", "alt", "altright", "win", "winright"})
# Held modifiers that turn a key into a shortcut. AltGr (altright) types characters on many layouts.
_SHORTCUT_MODS = frozenset({"ctrl", "ctrlright", "alt", "win", "winright"})
_INERT = frozenset({"capslock", "numlock", "scrolllock"})


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
        self._held: set[str] = set()
        self._focus: object = None  # (id, title) of the focused window: a `window` event for a move is no break

    def _break(self, which: list[Segment]) -> None:
        if which[-1].chars:
            which.append(Segment())

    def feed(self, index: int, ev: Event) -> None:
        kind = type(ev)
        if kind is KeyDown:
            self._key_down(index, ev)  # type: ignore[arg-type]
        elif kind is KeyUp:
            self._held.discard(ev.key)  # type: ignore[union-attr]
        elif kind is MouseDown:
            self._break(self.edited)
        elif kind is Window and (ev.id, ev.title) == self._focus:  # type: ignore[union-attr]
            pass  # the same window moved or was resized (format 1.1): typing goes on in it
        elif kind in (Window, Pause, Resume, Redacted):
            if kind is Window:
                self._focus = (ev.id, ev.title)  # type: ignore[union-attr]
            self._break(self.edited)
            self._break(self.raw)
            if kind is not Redacted:
                self._held.clear()  # key releases are not recorded across a focus change or pause

    def _key_down(self, index: int, ev: KeyDown) -> None:
        key = ev.key
        if key in _MODIFIERS:
            self._held.add(key)
            return
        if key in _INERT:
            return
        if self._held & _SHORTCUT_MODS:
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

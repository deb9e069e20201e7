"""Hand-written event streams for the action tests: a tiny builder over wf.bundle.events structs."""

from __future__ import annotations

from wf.bundle.events import (
    Event,
    KeyDown,
    KeyUp,
    Mark,
    MouseDown,
    MouseMove,
    MouseUp,
    Pause,
    Redacted,
    Resume,
    Screen,
    Scroll,
    Stop,
    Window,
)

# X11 keycodes of a US keyboard, enough for the tests (the reducer pairs presses by keycode).
KEYCODES = {"shift": 50, "ctrl": 37, "alt": 64, "win": 133, "altright": 108, "enter": 36, "tab": 23,
            "backspace": 22, "esc": 9, "space": 65, "left": 113, "right": 114, "capslock": 66, "1": 10}
KEYCODES.update({c: 24 + n for n, c in enumerate("qwertyuiop")})
KEYCODES.update({c: 38 + n for n, c in enumerate("asdfghjkl")})
KEYCODES.update({c: 52 + n for n, c in enumerate("zxcvbnm")})
CHARS = {"enter": "\n", "tab": "\t", "space": " "}


class Stream:
    """Appends events with increasing times; every helper advances the clock by ``dt`` first."""

    def __init__(self, t: float = 0.0) -> None:
        self.events: list[Event] = []
        self.t = t

    def _add(self, ev: Event) -> int:
        self.events.append(ev)
        return len(self.events) - 1

    def tick(self, dt: float) -> float:
        self.t = round(self.t + dt, 6)
        return self.t

    def move(self, x: int, y: int, dt: float = 0.01) -> int:
        return self._add(MouseMove(t=self.tick(dt), x=x, y=y))

    def down(self, x: int, y: int, button: str = "left", dt: float = 0.01) -> int:
        return self._add(MouseDown(t=self.tick(dt), x=x, y=y, button=button))  # type: ignore[arg-type]

    def up(self, x: int, y: int, button: str = "left", dt: float = 0.05) -> int:
        return self._add(MouseUp(t=self.tick(dt), x=x, y=y, button=button))  # type: ignore[arg-type]

    def click(self, x: int, y: int, button: str = "left", dt: float = 0.01) -> int:
        self.down(x, y, button, dt)
        return self.up(x, y, button)

    def scroll(self, x: int, y: int, dx: int = 0, dy: int = 0, dt: float = 0.05) -> int:
        return self._add(Scroll(t=self.tick(dt), x=x, y=y, dx=dx, dy=dy))

    def key_down(self, key: str, char: str | None = None, dt: float = 0.05) -> int:
        if char is None:
            char = CHARS.get(key, key if len(key) == 1 else None)
        return self._add(KeyDown(t=self.tick(dt), key=key, char=char, keycode=KEYCODES.get(key.lower())))

    def key_up(self, key: str, char: str | None = None, dt: float = 0.03) -> int:
        if char is None:
            char = CHARS.get(key, key if len(key) == 1 else None)
        return self._add(KeyUp(t=self.tick(dt), key=key, char=char, keycode=KEYCODES.get(key.lower())))

    def press(self, key: str, char: str | None = None, dt: float = 0.05) -> int:
        self.key_down(key, char, dt)
        return self.key_up(key, char)

    def type(self, text: str, dt: float = 0.08) -> None:
        """Type text like a person: Shift held around each capital (recorded key names are lowercase)."""
        for ch in text:
            if ch.isupper():
                self.key_down("shift", dt=dt)
                self.press(ch.lower(), ch, dt=0.02)
                self.key_up("shift", dt=0.02)
            elif ch == " ":
                self.press("space", " ", dt=dt)
            else:
                self.press(ch, ch, dt=dt)

    def redacted(self, kind: str = "key_down", dt: float = 0.05) -> int:
        return self._add(Redacted(t=self.tick(dt), kind=kind))  # type: ignore[arg-type]

    def window(self, title: str, wid: int, wm_class: str | None = None, dt: float = 0.0) -> int:
        return self._add(Window(t=self.tick(dt), title=title, wm_class=wm_class or title, id=wid))

    def screen(self, name: str, reason: str = "pre", dt: float = 0.0) -> int:
        t = self.tick(dt)
        return self._add(Screen(t=t, path=f"screens/{name}.png", width=1280, height=800, hash=name,
                                reason=reason, captured=t))  # type: ignore[arg-type]

    def mark(self, label: str | None = None, dt: float = 0.05) -> int:
        return self._add(Mark(t=self.tick(dt), label=label))

    def pause(self, dt: float = 0.05) -> int:
        return self._add(Pause(t=self.tick(dt), reason="hotkey"))

    def resume(self, dt: float = 0.05) -> int:
        return self._add(Resume(t=self.tick(dt), reason="hotkey"))

    def stop(self, dt: float = 0.05) -> int:
        return self._add(Stop(t=self.tick(dt), reason="hotkey", events=len(self.events), dropped=0, screens=0))


def apply_text_edits(actions: list[object]) -> str:
    """What a plain text field ends up holding after the type/key actions (write, backspace)."""
    buf = ""
    for a in actions:
        kind = a.kind  # type: ignore[attr-defined]
        if kind == "type":
            buf += a.text or ""  # type: ignore[attr-defined]
        elif kind == "key" and a.keys == ("backspace",):  # type: ignore[attr-defined]
            buf = buf[: max(0, len(buf) - a.count)]  # type: ignore[attr-defined]
    return buf

"""Building small bundles for the redaction tests with the real BundleWriter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wf.bundle.events import (
    Header,
    KeyDown,
    KeyUp,
    Mark,
    MouseDown,
    MouseUp,
    Stop,
    Window,
    single_screen_header,
)
from wf.bundle.writer import BundleWriter

W, H = 320, 200
_SHIFTED = {'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
            '_': '-', '+': '=', '{': '[', '}': ']', ':': ';', '"': "'", '<': ',', '>': '.', '?': '/', '|': '\\',
            '~': '`'}


def header(task: str | None = "demo") -> Header:
    return single_screen_header(W, H, started="2026-11-26T12:00:00.000000+00:00", recorder_version="test",
                                options={"fps": 5}, task=task)


def keycode(key: str) -> int:
    return 8 + (ord(key[0]) % 200) if len(key) == 1 else 8 + (sum(map(ord, key)) % 200)


class Recording:
    """A stream written straight into a bundle; ``t`` advances with every event."""

    def __init__(self, path: Path, task: str | None = "demo") -> None:
        self.w = BundleWriter(path, header(task))
        self.path = path
        self.t = 0.0
        self.shade = 0

    def tick(self, dt: float = 0.02) -> float:
        self.t = round(self.t + dt, 6)
        return self.t

    def window(self, title: str, wm_class: str = "app.App", x: int = 0, y: int = 0, w: int = W,
               h: int = H) -> None:
        self.w.write(Window(t=self.tick(), title=title, wm_class=wm_class, x=x, y=y, width=w, height=h))

    def press(self, key: str, char: str | None) -> None:
        code = keycode(key)
        self.w.write(KeyDown(t=self.tick(), key=key, char=char, keycode=code))
        self.w.write(KeyUp(t=self.tick(), key=key, char=char, keycode=code))

    def type(self, text: str) -> None:
        """Type like a person: Shift held around capitals and shifted symbols."""
        for ch in text:
            if ch == "\b":
                self.press("backspace", None)
                continue
            base = _SHIFTED.get(ch, ch.lower())
            shifted = ch in _SHIFTED or ch != ch.lower()
            if shifted:
                self.w.write(KeyDown(t=self.tick(), key="shift", char=None, keycode=50))
            name = {"\n": "enter", " ": "space", "\t": "tab"}.get(base, base)
            self.press(name, ch)
            if shifted:
                self.w.write(KeyUp(t=self.tick(), key="shift", char=None, keycode=50))

    def click(self, x: int, y: int) -> None:
        self.w.write(MouseDown(t=self.tick(), x=x, y=y, button="left"))
        self.w.write(MouseUp(t=self.tick(), x=x, y=y, button="left"))

    def mark(self, label: str | None) -> None:
        self.w.write(Mark(t=self.tick(), label=label))

    def screen(self, reason: str = "post") -> str:
        """A distinct frame (white with a grey band that moves each time); returns its hash."""
        self.shade += 1
        a = np.full((H, W, 3), 255, dtype=np.uint8)
        a[10 * self.shade % H: 10 * self.shade % H + 8, :, :] = 90
        t = self.tick()
        return self.w.screen_event(t, a.tobytes(), W, H, reason, captured=t).hash

    def close(self) -> Path:
        self.w.write(Stop(t=self.tick(), reason="test", events=0, dropped=0, screens=0))
        self.w.close()
        return self.path


def all_bytes(root: Path) -> bytes:
    """Every byte of every file under ``root`` (grep -r, in bytes)."""
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())

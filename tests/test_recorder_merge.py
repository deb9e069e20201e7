"""The recorder's writer state machine (wf.recorder.merge), without a display.

Scripted sources feed it: input events as the X listener would deliver them, frames as the grabber's ring
would hold them, focus changes as the window poller would see them. The lines land in a real bundle
through the real BundleWriter, and each test asserts the exact lines written, in order. (That recording
works on a real desktop is proven on Xvfb by tests/test_record.py and tests/test_privacy_record.py.)
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from wf.bundle.events import Event, KeyDown, KeyUp, MouseDown, MouseMove, MouseUp, ScreenGeometry, single_screen_header
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter
from wf.recorder.control import Hotkey
from wf.recorder.exclusion import ExclusionRules
from wf.recorder.focus import FocusHistory, WindowInfo
from wf.recorder.frames import Encoded, Frame, FrameRing
from wf.recorder.merge import Merger, StopFlag
from wf.recorder.options import RecordOptions, check_options
from wf.recorder.screens import encode_frame
from wf.recorder.session import Recorder
from wf.recorder.sources import Sources
from wf.recorder.wayland import SessionCheck, assess

HOTKEYS = {"stop": Hotkey.parse("ctrl+alt+shift+s"), "pause": Hotkey.parse("ctrl+alt+shift+p"),
           "mark": Hotkey.parse("ctrl+alt+shift+m")}
XTERM = WindowInfo(1, "xterm", "xterm.XTerm", 10, 0, 0, 100, 100)
VAULT = WindowInfo(2, "my vault", "vault.Vault", 11, 0, 0, 100, 100)
KEYCODES = {"ctrl": 37, "alt": 64, "shift": 50, "s": 39, "p": 33, "m": 58, "a": 38, "b": 56, "c": 54}


def frame(seq: int, captured: float, changed: float = 0.0) -> Frame:
    """A 2×2 frame whose pixels (and raw hash) are unique to ``seq``."""
    return Frame(seq=seq, captured=captured, bgra=bytes([seq]) * 16, width=2, height=2, x=0, y=0,
                 raw_hash=seq, changed=changed)


def down(t: float, key: str) -> KeyDown:
    return KeyDown(t=t, key=key, char=key if len(key) == 1 else None, keycode=KEYCODES[key])


def up(t: float, key: str) -> KeyUp:
    return KeyUp(t=t, key=key, char=key if len(key) == 1 else None, keycode=KEYCODES[key])


def chord(t: float, key: str) -> list[Event]:
    """ctrl+alt+shift+``key`` pressed and released, 10 ms per event."""
    mods = ["ctrl", "alt", "shift"]
    evs: list[Event] = [down(t + 0.01 * i, m) for i, m in enumerate(mods)]
    evs += [down(t + 0.03, key), up(t + 0.04, key)]
    evs += [up(t + 0.05 + 0.01 * i, m) for i, m in enumerate(reversed(mods))]
    return evs


class ScriptedInput:
    """What the X listener delivered since the last drain."""

    def __init__(self) -> None:
        self.queue: list[Event] = []

    def feed(self, *events: Event) -> None:
        self.queue.extend(events)

    def drain(self) -> list[Event]:
        out, self.queue = self.queue, []
        return out

    def pending(self) -> int:
        return len(self.queue)


class GatedEncoder:
    """Encodes for real (Pillow PNG) but finishes a job only when the test opens the gate."""

    def __init__(self, *, auto: bool = True) -> None:
        self.auto = auto
        self.waiting: list[tuple[Future[Encoded], Frame]] = []
        self.submitted: list[int] = []

    def submit(self, f: Frame) -> Future[Encoded]:
        self.submitted.append(f.seq)
        job: Future[Encoded] = Future()
        self.waiting.append((job, f))
        if self.auto:
            self.release()
        return job

    def release(self) -> None:
        for job, f in self.waiting:
            job.set_result(encode_frame(f.bgra, f.width, f.height))
        self.waiting.clear()

    def forget_png(self, raw_hash: int, result: Encoded) -> None:
        pass

    def shutdown(self) -> None:
        pass


class Rig:
    """A Merger over scripted sources, writing a real bundle."""

    def __init__(self, out: Path, *, rules: list[str] | None = None, auto_encode: bool = True) -> None:
        self.out = out
        self.frames = FrameRing(50)
        self.focus = FocusHistory(ExclusionRules.parse(rules or []))
        self.inputs = ScriptedInput()
        self.encoder = GatedEncoder(auto=auto_encode)
        self.writer = BundleWriter(out, single_screen_header(2, 2, started="2026-01-01T00:00:00+00:00"))
        self.stop = StopFlag()
        self.merger = Merger(hotkeys=HOTKEYS, exclusions=bool(rules), frames=self.frames, focus=self.focus,
                             inputs=self.inputs, encoder=self.encoder, sink=self.writer, stop=self.stop)

    def start(self, window: WindowInfo = XTERM) -> None:
        """The start frame at 0.0 and the window focused at the first poll."""
        first = frame(0, 0.0, 1.0)
        self.frames.append(first)
        self.focus.observe(0.0, window)
        self.merger.begin(first)

    def step(self, now: float) -> None:
        """One writer tick at ``now``; the window poller has polled up to ``now`` without a change."""
        last = self.focus.changes_between(-1, now)[-1].window
        self.focus.observe(now, last)
        self.merger.step(now)

    def finish(self, now: float, reason: str = "signal") -> None:
        self.stop.request(reason)
        self.merger.finish(now, None, reason=self.stop.reason or reason, dropped=0)
        self.writer.close()

    def lines(self) -> list[tuple[object, ...]]:
        """The lines on disk after the header, each as a short tuple that says what matters about it."""
        raw = (self.out / "events.jsonl").read_text().splitlines()[1:]
        return [shape(json.loads(line)) for line in raw]


def shape(d: dict[str, object]) -> tuple[object, ...]:
    kind = d["type"]
    if kind == "screen":
        return ("screen", d["reason"], d["t"], d["captured"])
    if kind in ("key_down", "key_up"):
        return (kind, d["key"], d["t"])
    if kind in ("mouse_down", "mouse_up", "mouse_move"):
        return (kind, d["t"])
    if kind == "window":
        return ("window", d["title"], d["excluded"])
    if kind == "redacted":
        return ("redacted", d["kind"], d["t"])
    if kind == "stop":
        return ("stop", d["reason"])
    return (kind, d["t"])


START = [("screen", "start", 0.0, 0.0), ("window", "xterm", False)]


def test_pre_screen_is_the_last_stable_frame_before_the_action_and_post_waits_for_the_screen_to_settle(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.frames.append(frame(1, 0.2))  # stable
    rig.frames.append(frame(2, 0.4, changed=0.3))  # mid-change: not a pre screen
    rig.inputs.feed(MouseMove(t=0.45, x=5, y=5), MouseDown(t=0.5, x=5, y=5, button="left"),
                    MouseUp(t=0.55, x=5, y=5, button="left"))
    rig.frames.append(frame(3, 0.6, changed=0.5))  # the click's effect is still drawing ...
    rig.frames.append(frame(4, 0.7, changed=0.2))  # ... and still
    rig.step(1.0)
    assert rig.lines() == [*START, ("mouse_move", 0.45), ("screen", "pre", 0.5, 0.2), ("mouse_down", 0.5),
                           ("mouse_up", 0.55)]  # no post yet: nothing stable after the click
    rig.frames.append(frame(5, 0.8))  # settled (its predecessor is after the click too)
    rig.step(1.2)
    assert rig.lines()[-1] == ("screen", "post", 0.8, 0.8)
    rig.finish(1.3)
    assert rig.lines()[-1] == ("stop", "signal")


def test_next_action_closes_the_previous_one_with_the_last_frame_between_them(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.frames.append(frame(1, 0.2))
    rig.frames.append(frame(2, 0.6, changed=0.5))  # after the first click, never settled
    rig.inputs.feed(MouseDown(t=0.5, x=1, y=1, button="left"), MouseUp(t=0.52, x=1, y=1, button="left"),
                    MouseDown(t=0.7, x=2, y=2, button="left"), MouseUp(t=0.72, x=2, y=2, button="left"))
    rig.step(1.0)
    assert rig.lines() == [*START, ("screen", "pre", 0.5, 0.2), ("mouse_down", 0.5), ("mouse_up", 0.52),
                           ("screen", "post", 0.6, 0.6), ("screen", "pre", 0.7, 0.2), ("mouse_down", 0.7),
                           ("mouse_up", 0.72)]


def test_modifier_presses_are_held_so_the_hotkeys_pre_screen_goes_before_them(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.frames.append(frame(1, 0.5))
    rig.inputs.feed(down(1.0, "ctrl"), down(1.05, "c"), up(1.1, "c"), up(1.15, "ctrl"))
    rig.step(1.5)
    assert rig.lines() == [*START, ("screen", "pre", 1.0, 0.5), ("key_down", "ctrl", 1.0),
                           ("key_down", "c", 1.05), ("key_up", "c", 1.1), ("key_up", "ctrl", 1.15)]


def test_stop_hotkey_is_stripped_and_nothing_after_it_is_recorded(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.inputs.feed(down(0.5, "a"), up(0.55, "a"), *chord(1.0, "s"), down(1.2, "b"), up(1.25, "b"))
    rig.step(1.6)
    assert rig.stop.reason == "hotkey"
    rig.merger.finish(1.7, None, reason="hotkey", dropped=0)
    rig.writer.close()
    keys = [line for line in rig.lines() if line[0] in ("key_down", "key_up")]
    assert keys == [("key_down", "a", 0.5), ("key_up", "a", 0.55)]
    assert rig.lines()[-1] == ("stop", "hotkey")
    assert list(Bundle.open(rig.out).events())[-1].events == len(rig.lines()) - 1  # stop counts the lines


def test_pause_records_nothing_until_resume_which_restates_window_and_screen(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.frames.append(frame(1, 0.3))
    rig.inputs.feed(down(0.5, "a"), up(0.55, "a"), *chord(1.0, "p"), down(1.5, "b"), up(1.55, "b"),
                    MouseDown(t=1.6, x=1, y=1, button="left"), MouseUp(t=1.65, x=1, y=1, button="left"))
    rig.step(1.9)
    rig.frames.append(frame(2, 1.95))  # the screen while paused
    rig.inputs.feed(*chord(2.0, "p"), down(2.5, "c"), up(2.55, "c"))
    rig.step(3.0)
    lines = rig.lines()
    assert [line[0] for line in lines].count("pause") == 1
    i_pause = lines.index(("pause", 1.03))
    assert lines[i_pause + 1:i_pause + 4] == [("resume", 2.03), ("window", "xterm", False),
                                              ("screen", "resume", 2.03, 1.95)]
    typed = [line[1] for line in lines if line[0] == "key_down"]
    assert typed == ["a", "c"]  # b and the click were typed while paused
    assert "mouse_down" not in [line[0] for line in lines]


def test_excluded_window_keys_become_redacted_placeholders_and_no_screen_is_stored(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b", rules=["vault"])
    rig.start(window=VAULT)
    rig.frames.append(frame(1, 0.3))
    rig.inputs.feed(down(0.5, "a"), up(0.55, "a"), MouseDown(t=0.7, x=1, y=1, button="left"),
                    MouseUp(t=0.75, x=1, y=1, button="left"))
    rig.frames.append(frame(2, 0.8))
    rig.frames.append(frame(3, 1.0))
    rig.step(1.5)
    rig.finish(1.6)
    assert rig.lines() == [("window", "my vault", True), ("redacted", "key_down", 0.5),
                           ("redacted", "key_up", 0.55), ("mouse_down", 0.7), ("mouse_up", 0.75),
                           ("stop", "signal")]
    assert rig.encoder.submitted == []  # not a single frame of the excluded window was even encoded
    assert not any((rig.out / "screens").iterdir())


def test_lines_wait_behind_a_screen_whose_png_is_still_encoding(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b", auto_encode=False)
    rig.start()
    rig.step(0.3)
    assert rig.lines() == []  # even the window line waits behind the start screen
    rig.encoder.release()
    rig.step(0.4)
    assert rig.lines() == START
    rig.frames.append(frame(1, 0.4))
    rig.inputs.feed(MouseDown(t=0.5, x=1, y=1, button="left"), MouseUp(t=0.55, x=1, y=1, button="left"))
    rig.step(1.0)
    assert rig.lines() == START  # the click is held behind its pre screen
    assert rig.encoder.submitted == [0, 1]
    png = list((rig.out / "screens").iterdir())
    assert len(png) == 1  # only the start screen's file so far
    rig.encoder.release()
    rig.step(1.1)
    assert rig.lines() == [*START, ("screen", "pre", 0.5, 0.4), ("mouse_down", 0.5), ("mouse_up", 0.55)]
    b = Bundle.open(rig.out)
    pre = next(e for e in b.events() if getattr(e, "reason", None) == "pre")
    assert b.screen_path(pre.path).is_file()


def test_same_pixels_are_encoded_once_and_later_lines_name_the_stored_file(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "b")
    rig.start()
    rig.frames.append(frame(1, 0.4))
    rig.inputs.feed(MouseDown(t=0.5, x=1, y=1, button="left"), MouseUp(t=0.52, x=1, y=1, button="left"))
    rig.step(1.0)
    rig.inputs.feed(MouseDown(t=2.0, x=1, y=1, button="left"), MouseUp(t=2.02, x=1, y=1, button="left"))
    rig.step(2.5)
    pres = [e for e in Bundle.open(rig.out).events() if getattr(e, "reason", None) == "pre"]
    assert len(pres) == 2 and pres[0].path == pres[1].path
    assert rig.encoder.submitted == [0, 1]


# -- the entry point, wired to scripted sources ------------------------------------------------------

class ScriptedFrames(FrameRing):
    error: BaseException | None = None

    def start(self) -> Frame:
        self.append(frame(0, 0.0, 1.0))
        return self.frames[-1]

    def stop(self) -> Frame | None:
        return self.latest()


class ScriptedFocus(FocusHistory):
    def start(self) -> None:
        self.observe(0.0, XTERM)

    def stop(self) -> None:
        pass


class ScriptedListener(ScriptedInput):
    dropped = 0
    unmatched = 0
    running = True

    def start(self) -> None:
        self.feed(MouseDown(t=0.01, x=1, y=1, button="left"), MouseUp(t=0.02, x=1, y=1, button="left"))

    def stop(self) -> None:
        pass


class ScriptedDesktop:
    name = "scripted"
    geometry = ScreenGeometry(width=2, height=2, monitors=[])
    session = SessionCheck(())  # not a Wayland session

    def app_env(self) -> dict[str, str]:
        return {}

    def toplevels(self) -> set[int]:
        return set()

    def open_sources(self, origin: float, settings: object) -> Sources:
        return Sources(frames=ScriptedFrames(), focus=ScriptedFocus(ExclusionRules()), inputs=ScriptedListener(),
                       encoder=GatedEncoder())


def test_recorder_orchestrates_injected_sources_to_a_valid_bundle(tmp_path: Path) -> None:
    settings = check_options(RecordOptions(out=tmp_path / "b", duration=0.2))
    ready = threading.Event()
    rec = Recorder(settings, connect=lambda _display: ScriptedDesktop(), on_ready=lambda _r: ready.set())
    result = rec.run()
    assert ready.is_set() and result.error is None and result.reason == "duration"
    b = Bundle.open(tmp_path / "b")
    assert b.header.platform.display == "scripted" and b.header.platform.x_clients_only is False
    kinds = [(type(e).__name__, getattr(e, "reason", None)) for e in b.events()]
    assert kinds == [("Screen", "start"), ("Window", None), ("Screen", "pre"), ("MouseDown", None),
                     ("MouseUp", None), ("Screen", "stop"), ("Stop", "duration")]
    assert result.events == len(kinds)  # every line after the header, the stop line included


class WaylandDesktop(ScriptedDesktop):
    session = assess({"WAYLAND_DISPLAY": "wayland-0"})


def test_a_wayland_desktop_is_refused_before_the_bundle_exists_unless_allowed(tmp_path: Path) -> None:
    from wf.bundle.errors import EnvironmentProblem

    settings = check_options(RecordOptions(out=tmp_path / "b", duration=0.2))
    with pytest.raises(EnvironmentProblem, match="Wayland session"):
        Recorder(settings, connect=lambda _display: WaylandDesktop()).run()
    assert not (tmp_path / "b").exists()
    allowed = check_options(RecordOptions(out=tmp_path / "b", duration=0.2, allow_xwayland=True))
    rec = Recorder(allowed, connect=lambda _display: WaylandDesktop())
    assert rec.run().error is None and rec.x_clients_only
    assert Bundle.open(tmp_path / "b").header.platform.x_clients_only is True


@pytest.mark.parametrize("fps", [0, 61])
def test_options_are_checked_before_anything_touches_the_desktop(tmp_path: Path, fps: float) -> None:
    from wf.bundle.errors import BadInput

    with pytest.raises(BadInput, match="--fps"):
        check_options(RecordOptions(out=tmp_path / "b", fps=fps))

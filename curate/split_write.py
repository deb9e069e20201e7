"""`wf split`: write each planned part (:mod:`wf.curate.split`) as a bundle of its own, in one more pass.

Each part is a valid bundle (`wf validate` passes) that holds only what it needs and says where it came
from:

* its events are the original's ``first``…``last`` events, times shifted so the part begins at 0
  (``source.t_offset`` in the header gives them back); the first part keeps the original times;
* its ``screens/`` holds copies of exactly the frames its events name — copies, not hard links, so
  deleting or redacting one bundle never touches another;
* a part after the first begins, at t = 0, with the screen and the focused window as they last were
  before it (a ``start`` screen and a ``window`` event restating them) and the original's volatile regions;
  its header ``start`` is derived from the events before the cut (pointer, held keys and buttons, lock
  keys, focus);
* a part before the last ends with a ``stop`` screen (the last frame before the cut) and a ``stop`` event
  with reason ``split``; the last part keeps the original's ``stop``, its counts made the part's own.
  ``dropped`` is the original's in every part: where the lost events were is not known;
* ``header.source`` names the original bundle, its ``started``, the event range and the part number.

Annotations and kept replays are not carried over: they refer to the original's step numbers.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.events import (
    Button,
    Event,
    Header,
    HeldKey,
    KeyDown,
    KeyUp,
    Locks,
    MouseDown,
    MouseMove,
    MouseUp,
    Screen,
    Scroll,
    Source,
    StartState,
    Stop,
    Volatile,
    Window,
    WindowState,
)
from wf.bundle.paths import check_new_directory
from wf.bundle.reader import Bundle
from wf.bundle.writer import DIR_MODE, FILE_MODE, BundleWriter
from wf.curate.split import PartPlan, SplitPlan, plan_bundle

LOCK_FIELDS = {"capslock": "caps", "numlock": "num", "scrolllock": "scroll"}


@dataclass(frozen=True)
class WrittenPart:
    path: Path
    part: int
    first_event: int
    last_event: int
    t_offset: float
    duration: float
    events: int  # lines after the header
    screens: int  # files copied
    reason: str
    label: str | None


@dataclass
class SplitResult:
    parts: list[WrittenPart]
    warnings: list[str] = field(default_factory=list)


class _Desktop:
    """What the events say about the desktop so far: the facts a part's start state and prologue restate."""

    def __init__(self, header: Header) -> None:
        start = header.start
        self.pointer = start.pointer if start else None
        self.buttons: list[Button] = list(start.buttons) if start else []
        self.keys: dict[object, HeldKey] = {(k.keycode if k.keycode is not None else k.key): k
                                            for k in start.keys} if start else {}
        self.locks = msgspec.structs.asdict(start.locks) if start and start.locks else None
        self.window: Window | None = None
        self.screen: Screen | None = None

    def feed(self, ev: Event) -> None:
        if type(ev) is MouseMove or type(ev) is Scroll:
            self.pointer = (ev.x, ev.y)
        elif type(ev) is MouseDown:
            self.pointer = (ev.x, ev.y)
            self.buttons.append(ev.button)
        elif type(ev) is MouseUp:
            self.pointer = (ev.x, ev.y)
            if ev.button in self.buttons:
                self.buttons.remove(ev.button)
        elif type(ev) is KeyDown:
            kid = ev.keycode if ev.keycode is not None else ev.key
            lock = LOCK_FIELDS.get(ev.key.lower())
            if lock and self.locks is not None and kid not in self.keys:  # a press toggles, a repeat does not
                self.locks[lock] = not self.locks[lock]
            self.keys[kid] = HeldKey(key=ev.key, keysym=ev.keysym, keycode=ev.keycode)
        elif type(ev) is KeyUp:
            self.keys.pop(ev.keycode if ev.keycode is not None else ev.key, None)
        elif type(ev) is Window:
            self.window = ev
        elif type(ev) is Screen:
            self.screen = ev

    def start_state(self, original: StartState | None) -> StartState | None:
        if original is None:
            return None  # not recorded: deriving half of it would claim what nobody read
        focus = original.focus
        w = self.window
        if w is not None:
            focus = None if not w.title and w.id is None else WindowState(
                title=w.title, wm_class=w.wm_class, pid=w.pid, id=w.id, x=w.x, y=w.y, width=w.width, height=w.height)
        return StartState(pointer=self.pointer, buttons=list(self.buttons), keys=list(self.keys.values()),
                          locks=msgspec.convert(self.locks, Locks) if self.locks is not None else None,
                          focus=focus, window_manager=original.window_manager,
                          windows=[focus] if focus is not None else [])


def shifted(started: str, seconds: float) -> str:
    """``started`` plus ``seconds`` (kept as given when it is not ISO 8601)."""
    try:
        when = dt.datetime.fromisoformat(started)
    except ValueError:
        return started
    return (when + dt.timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _rebase(ev: Event, t0: float) -> Event:
    if not t0:
        return ev
    if type(ev) is Screen:
        return msgspec.structs.replace(ev, t=round(ev.t - t0, 6), captured=round(ev.captured - t0, 6))
    return msgspec.structs.replace(ev, t=round(ev.t - t0, 6))


class _PartWriter:
    def __init__(self, src: Bundle, path: Path, header: Header, t0: float) -> None:
        self.src = src
        self.root = path
        self.t0 = t0
        self.w = BundleWriter(path, header, flush_interval=1.0)
        self.copied: set[str] = set()
        self.last_t = 0.0

    def write(self, ev: Event) -> None:
        if type(ev) is Screen and ev.path not in self.copied:
            self._copy(ev.path)
        self.w.write(ev)
        self.last_t = ev.t

    def original(self, ev: Event) -> None:
        self.write(_rebase(ev, self.t0))

    def _copy(self, rel: str) -> None:
        src = self.src.screen_path(rel)
        dst = self.root / rel
        dst.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        try:
            with src.open("rb") as fin:
                fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                with os.fdopen(fd, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot copy {rel} into {self.root}: {exc.strerror or exc}",
                                     hint="check free space and permissions") from None
        self.copied.add(rel)


def _name(bundle: Bundle, k: int, total: int) -> str:
    width = max(2, len(str(total)))
    return f"{bundle.path.resolve().name}-part{k:0{width}d}"


def split_bundle(bundle: Bundle, out: Path, *, marks: bool = True, idle: float | None = None) -> SplitResult:
    """Split ``bundle`` at its marks and/or idle gaps into new bundles under the new directory ``out``."""
    if not marks and idle is None:
        raise BadInput("nothing to split at: --no-marks without --idle", hint="pass --idle SEC, or keep the marks")
    plan = plan_bundle(bundle, marks=marks, idle=idle)
    if len(plan.parts) < 2:
        gap = f"idle gap of ≥ {idle:g} s" if idle is not None else ""
        what = ("mark" + (f" and no {gap}" if gap else "")) if marks else gap
        raise BadInput(f"nothing to split: {bundle.path} has no {what} to split at",
                       hint="mark task boundaries while recording (ctrl+alt+shift+m) or pass --idle SEC")
    check_new_directory(out, what="--out directory")
    try:
        out.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create {out}: {exc.strerror}", hint="choose a writable location") from None
    return _write(bundle, out, plan)


def _write(bundle: Bundle, out: Path, plan: SplitPlan) -> SplitResult:
    h = bundle.header
    desk = _Desktop(h)
    result = SplitResult([])
    if (bundle.path / "annotations.jsonl").exists():
        result.warnings.append("annotations are not carried into the parts (their step numbers change)")
    if (bundle.path / "replays").is_dir():
        result.warnings.append("kept replays are not carried into the parts (they replayed the whole recording)")
    total = len(plan.parts)
    k = 0
    cur: _PartWriter | None = None
    for i, ev in enumerate(bundle.events()):
        part = plan.parts[k]
        if i == part.first:
            cur = _open(bundle, out, plan, k, ev.t if k else 0.0, desk)
        assert cur is not None
        if i == part.last and type(ev) is Stop:
            cur.write(msgspec.structs.replace(_rebase(ev, cur.t0), events=cur.w.lines, screens=len(cur.copied)))
        else:
            cur.original(ev)
        desk.feed(ev)
        if i == part.last:
            if k + 1 < total:
                _close_cut(cur, desk, plan)
            result.parts.append(_done(cur, part, k, total))
            cur.w.close()
            k += 1
            if k == total:
                break
    return result


def _open(bundle: Bundle, out: Path, plan: SplitPlan, k: int, t0: float, desk: _Desktop) -> _PartWriter:
    h = bundle.header
    part = plan.parts[k]
    source = Source(bundle=bundle.path.resolve().name, started=h.started, first_event=part.first,
                    last_event=part.last, t_offset=round(t0, 6), part=k + 1, parts=len(plan.parts),
                    reason=part.reason)
    header = msgspec.structs.replace(h, started=shifted(h.started, t0) if k else h.started,
                                     task=part.label or h.task, source=source,
                                     start=desk.start_state(h.start) if k else h.start)
    w = _PartWriter(bundle, out / _name(bundle, k + 1, len(plan.parts)), header, t0)
    if k and desk.screen is not None:
        s = desk.screen
        w.write(msgspec.structs.replace(s, t=0.0, reason="start", captured=round(s.captured - t0, 6)))
    if k and desk.window is not None:
        w.write(msgspec.structs.replace(desk.window, t=0.0))
    for x, y, width, height in plan.volatile:
        w.write(Volatile(t=0.0, x=x, y=y, width=width, height=height))
    return w


def _close_cut(w: _PartWriter, desk: _Desktop, plan: SplitPlan) -> None:
    if desk.screen is not None:
        s = desk.screen
        w.write(msgspec.structs.replace(s, t=w.last_t, reason="stop", captured=round(s.captured - w.t0, 6)))
    w.write(Stop(t=w.last_t, reason="split", events=w.w.lines, dropped=plan.dropped, screens=len(w.copied)))


def _done(w: _PartWriter, part: PartPlan, k: int, total: int) -> WrittenPart:
    return WrittenPart(path=w.root, part=k + 1, first_event=part.first, last_event=part.last, t_offset=w.t0,
                       duration=round(w.last_t, 6), events=w.w.lines, screens=len(w.copied), reason=part.reason,
                       label=part.label)

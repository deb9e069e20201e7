"""What `wf inspect` reports about a bundle, computed in one streaming pass."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import msgspec

from wf.bundle.events import X_CLIENTS_ONLY_NOTE, Event, Mark, Screen, Stop, Window
from wf.bundle.reader import Bundle


class MarkInfo(msgspec.Struct, frozen=True):
    t: float
    label: str | None


class Summary(msgspec.Struct, kw_only=True):
    path: str
    version: int
    minor: int  # the header's minor format number (0: a version-1.0 bundle)
    started: str
    duration: float
    screen: dict[str, object]
    task: str | None
    launch: str | None
    counts: dict[str, int]
    events: int
    screens: int
    screen_events: int
    bytes: int
    marks: list[MarkInfo]
    windows: list[str]
    stopped: str | None
    dropped: int
    warnings: list[str]
    platform: dict[str, object] = msgspec.field(default_factory=dict)  # the header's platform
    x_clients_only: bool = False  # recorded through XWayland (--allow-xwayland): native Wayland windows missing


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def summarize(bundle: Bundle) -> Summary:
    counts: Counter[type[Event]] = Counter()
    files: set[str] = set()
    marks: list[MarkInfo] = []
    titles: dict[str, None] = {}
    last_t = 0.0
    stop: Stop | None = None
    n = 0
    for ev in bundle.events():
        n += 1
        counts[type(ev)] += 1
        last_t = ev.t
        if isinstance(ev, Screen):
            files.add(ev.path)
        elif isinstance(ev, Mark):
            marks.append(MarkInfo(ev.t, ev.label))
        elif isinstance(ev, Window):
            if ev.title:  # '' is the bare root: no window under the pointer
                titles.setdefault(ev.title, None)
        elif isinstance(ev, Stop):
            stop = ev
    h = bundle.header
    return Summary(
        path=str(bundle.path),
        version=h.version,
        minor=h.minor,
        started=h.started,
        duration=round(last_t, 6),
        screen=msgspec.to_builtins(h.screen),
        task=h.task,
        launch=h.launch,
        counts={str(k.__struct_config__.tag): v for k, v in counts.items()},
        events=n,
        screens=len(files),
        screen_events=counts[Screen],
        bytes=disk_bytes(bundle.path),
        marks=marks,
        windows=list(titles),
        stopped=stop.reason if stop else None,
        dropped=stop.dropped if stop else 0,
        warnings=list(bundle.warnings) + ([X_CLIENTS_ONLY_NOTE] if h.platform.x_clients_only else []),
        platform=msgspec.to_builtins(h.platform),
        x_clients_only=h.platform.x_clients_only,
    )

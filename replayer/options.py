"""What one replay is asked to do (`wf replay`'s options, validated by the command line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wf.bundle.replays import AnchorMode, Box, Level, SyncMode, Thresholds

ScaleMode = Literal["none", "auto"]  # `--scale`: a different live screen size is an error, or rescaled


@dataclass
class ReplayOptions:
    level: Level = "events"
    speed: float = 1.0
    max_gap: float | None = None
    # Waiting by default: with the recording's volatile regions masked, a screen that is slower to appear
    # than it was while recording is waited for instead of failing the replay (`--sync none`: strict timing).
    sync: SyncMode = "screen"
    sync_timeout: float = 10.0
    xvfb: bool = False
    launch: str | None = None  # None: the bundle header's launch command; "": launch nothing
    scale: ScaleMode = "none"
    thresholds: Thresholds = field(default_factory=Thresholds)
    first: int = 0  # raw event range (from --steps)
    last: int | None = None
    screens_dir: Path | None = None  # where replayed checkpoint frames are saved (None: not saved)
    settle: float = 1.5  # how long the final screen may take to settle without --sync screen
    launch_timeout: float = 15.0
    capture: bool = True  # capture what reaches the X server (the fidelity check of input)
    ignore: list[Box] = field(default_factory=list)  # dynamic screen regions (x, y, w, h), from --ignore-region
    halt_on_divergence: bool = False  # stop at the first step whose effect did not happen
    anchor: AnchorMode = "window"  # pointer events relative to their recorded window's live geometry
    allow_xwayland: bool = False  # replay onto a Wayland session's XWayland anyway (X clients only)

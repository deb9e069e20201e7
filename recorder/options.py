"""`wf record`'s options: as given, checked in one place, and as the bundle header and start notice say them."""

from __future__ import annotations

import platform
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from wf.bundle.errors import BadInput
from wf.bundle.events import (
    FORMAT_MINOR,
    FORMAT_VERSION,
    Header,
    PlatformInfo,
    RecorderInfo,
    ScreenGeometry,
    StartState,
)
from wf.bundle.version import wf_version
from wf.recorder.control import DEFAULT_MARK_KEY, DEFAULT_PAUSE_KEY, DEFAULT_STOP_KEY, Hotkey
from wf.recorder.exclusion import ExclusionRules

MAX_FPS = 60.0
CAPTURES = ("auto", "damage", "poll")
# Stop cleanly when the disk holding the bundle has less than this much free: the writer needs room to
# finish (the last PNGs, the stop line) and the rest of the system needs room to keep working.
DEFAULT_MIN_FREE_MB = 200.0


@dataclass
class RecordOptions:
    """What the user asked for (command line over config file), not checked yet: see :func:`check_options`."""

    out: Path
    task: str | None = None
    duration: float | None = None
    launch: str | None = None
    fps: float = 5.0
    stop_key: str = DEFAULT_STOP_KEY
    pause_key: str = DEFAULT_PAUSE_KEY
    mark_key: str = DEFAULT_MARK_KEY
    exclude_window: list[str] = field(default_factory=list)
    mask_window: list[str] = field(default_factory=list)  # windows painted over in every screen, keys redacted
    capture: str = "auto"  # screens: "damage" (X DAMAGE), "poll" (grab every frame), "auto" (damage if offered)
    min_free_mb: float = DEFAULT_MIN_FREE_MB  # the disk floor
    config: str | None = None  # the config file the defaults came from, recorded in the header
    display: str | None = None  # default: $DISPLAY
    # Record in a Wayland session anyway (X clients only, and the header says so); refused otherwise.
    allow_xwayland: bool = False


@dataclass(frozen=True)
class RecordSettings:
    """Options that passed every check, with their parsed forms."""

    options: RecordOptions
    hotkeys: dict[str, Hotkey]  # "stop", "pause", "mark"
    rules: ExclusionRules
    launch_argv: list[str] | None  # --launch, shell-split; None when not given
    masks: ExclusionRules = field(default_factory=ExclusionRules)  # --mask-window

    @property
    def out(self) -> Path:
        return self.options.out


def check_options(opts: RecordOptions) -> RecordSettings:
    """Every usage error (BadInput) the options can have, found before anything touches the desktop."""
    if not opts.fps or opts.fps <= 0 or opts.fps > MAX_FPS:
        raise BadInput(f"--fps {opts.fps} is out of range", hint="use a rate between 0.1 and 60 frames/s")
    if opts.duration is not None and opts.duration <= 0:
        raise BadInput(f"--duration {opts.duration} must be positive", hint="give seconds, e.g. --duration 60")
    hotkeys = {
        "stop": Hotkey.parse(opts.stop_key, option="--stop-key"),
        "pause": Hotkey.parse(opts.pause_key, option="--pause-key"),
        "mark": Hotkey.parse(opts.mark_key, option="--mark-key"),
    }
    if len({str(h) for h in hotkeys.values()}) < len(hotkeys):
        raise BadInput("--stop-key, --pause-key and --mark-key must differ", hint="give each control its own key")
    rules = ExclusionRules.parse(opts.exclude_window)
    if opts.capture not in CAPTURES:
        raise BadInput(f"--capture {opts.capture!r} is not one of {', '.join(CAPTURES)}",
                       hint="'auto' uses X DAMAGE when the server has it and polls otherwise")
    if not opts.min_free_mb >= 0:
        raise BadInput(f"--min-free {opts.min_free_mb} must be zero or more", hint="give MB, e.g. --min-free 500")
    return RecordSettings(options=opts, hotkeys=hotkeys, rules=rules, launch_argv=_launch_argv(opts.launch),
                          masks=_mask_rules(opts.mask_window))


def _mask_rules(specs: list[str]) -> ExclusionRules:
    for spec in specs:
        if not spec:
            raise BadInput("--mask-window needs a non-empty regular expression", hint="e.g. --mask-window 'Mail|Slack'")
        try:
            re.compile(spec)
        except re.error as exc:
            raise BadInput(f"--mask-window {spec!r} is not a valid regular expression: {exc}",
                           hint="use Python regular-expression syntax, e.g. 'Thunderbird|Signal'") from None
    return ExclusionRules.parse(specs)


def _launch_argv(cmd: str | None) -> list[str] | None:
    if not cmd:
        return None
    try:
        argv = shlex.split(cmd)
    except ValueError as exc:
        raise BadInput(f"--launch {cmd!r} cannot be parsed: {exc}", hint="quote it as for a shell") from None
    if not argv:
        raise BadInput("--launch needs a command", hint="e.g. --launch 'xterm -geometry 80x24+0+0'")
    return argv


def build_header(settings: RecordSettings, *, display: str, geometry: ScreenGeometry, started: str,
                 capture: dict[str, object], start: StartState | None = None,
                 x_clients_only: bool = False) -> Header:
    """The bundle's first line; ``display`` names the desktop (``x11 :99``), ``capture`` how its sources work.

    ``x_clients_only``: the desktop is a Wayland session recorded through XWayland (``--allow-xwayland``).
    """
    opts, hk = settings.options, settings.hotkeys
    options: dict[str, object] = {
        "fps": opts.fps,
        "stop_key": str(hk["stop"]),
        "pause_key": str(hk["pause"]),
        "mark_key": str(hk["mark"]),
        "exclude_window": settings.rules.specs,
        # Windows painted over in every screen as it was grabbed (before hashing and encoding: their pixels
        # are not in the bundle) and whose keys are redacted.
        "mask_window": settings.masks.specs,
        "min_free_mb": opts.min_free_mb,
        "config": opts.config,
        "duration": opts.duration,
        **capture,
    }
    return Header(
        format="wf-bundle", version=FORMAT_VERSION, minor=FORMAT_MINOR, started=started, start=start,
        recorder=RecorderInfo(name="wf", version=wf_version(), options=options),
        platform=PlatformInfo(system=platform.system(), release=platform.release(), display=display,
                              python=platform.python_version(), x_clients_only=x_clients_only),
        screen=geometry, task=opts.task, launch=opts.launch,
    )


def describe_capture(settings: RecordSettings, *, exclusions: str | None = None) -> str:
    """The start notice: what is captured and how to control the recording.

    ``exclusions`` replaces the list of exclusion regexes (the built-in list is long) with a summary.
    """
    opts, hk = settings.options, settings.hotkeys
    lines = [
        f"wf: recording to {opts.out}",
        f"  capturing: every key press and mouse event, the screen {opts.fps:g}×/s (stored around "
        "actions), focused window titles",
    ]
    if settings.rules:
        shown = exclusions or ", ".join(settings.rules.specs)
        lines.append(f"  excluded windows (keys redacted, no screens): {shown}")
    if settings.masks:
        masked = ", ".join(settings.masks.specs)
        lines.append(f"  masked windows (painted over in every screen, keys redacted): {masked}")
    stop = f"  stop: {hk['stop']} or Ctrl+C"
    if opts.duration:
        stop += f" (or after {opts.duration:g} s)"
    if opts.launch:
        stop += " (or when the launched app exits)"
    lines.append(stop + f" · pause/resume: {hk['pause']} · mark: {hk['mark']}")
    return "\n".join(lines)

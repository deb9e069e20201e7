"""`wf record`: capture a task demonstration into a new bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from wf.cli.console import err, human_bytes, warn
from wf.cli.exit import ExitCode
from wf.recorder.config import load_config
from wf.recorder.control import DEFAULT_MARK_KEY, DEFAULT_PAUSE_KEY, DEFAULT_STOP_KEY
from wf.recorder.options import DEFAULT_MIN_FREE_MB, RecordOptions, check_options, describe_capture
from wf.recorder.session import Recorder, Status

HELP = f"""Record what you do on the X11 desktop into a new bundle directory OUT.

Captures every key press/release (key name, typed character, X keysym and keycode) and mouse event with
its time, the screen before and after each action (grabbed --fps times a second, stored as lossless PNG
only when an action refers to it), and the focused window's title, class, pid and geometry.

Stop with {DEFAULT_STOP_KEY} (--stop-key), Ctrl+C / SIGTERM, --duration, or when the --launch'ed app
exits (an app still running at the stop is left running). {DEFAULT_PAUSE_KEY} pauses and resumes
(nothing is recorded in between), {DEFAULT_MARK_KEY} writes a mark. Control keys never appear in the
data. Keys typed into a window matching --exclude-window (regex on title or WM class) or the built-in list of
secret prompts (password dialogs, pinentry, polkit, password managers; `wf config show`) are stored as
timing only, with no screens; a window matching --mask-window is painted over in every screen as it is
grabbed and its keys are redacted. Recording stops cleanly when the disk has less than --min-free MB
left. Defaults for --fps, the hotkeys and exclusions come from
~/.config/wf/config.toml when it exists; options given here win.

In a Wayland session (XDG_SESSION_TYPE=wayland, WAYLAND_DISPLAY set, or an X server that is XWayland) wf
refuses to record (exit 3): through XWayland it reaches only X clients, and XWayland's screenshots of
Wayland windows are black. --allow-xwayland records the X clients anyway; the bundle says "X clients only".

Exit status 0 when the recording finished cleanly (also on Ctrl+C), 1 when input events were dropped,
2 for bad usage (OUT not empty), 3 for environment problems (no display, no RECORD extension, a Wayland
session, disk full: what was recorded up to then stays a valid bundle)."""


def command(
    out: Path = typer.Argument(..., help="New (or empty) bundle directory to create."),
    task: str | None = typer.Option(None, "--task", help="The instruction being demonstrated."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
    launch: str | None = typer.Option(None, "--launch",
                                      help="Start this command (shell-split) first; stop when it exits."),
    fps: float | None = typer.Option(None, "--fps", help="Screen grabs per second (default 5, or the config file's)."),
    stop_key: str | None = typer.Option(None, "--stop-key",
                                        help=f"Hotkey that stops recording (default {DEFAULT_STOP_KEY})."),
    pause_key: str | None = typer.Option(None, "--pause-key",
                                         help=f"Hotkey that pauses/resumes (default {DEFAULT_PAUSE_KEY})."),
    mark_key: str | None = typer.Option(None, "--mark-key",
                                        help=f"Hotkey that writes a mark (default {DEFAULT_MARK_KEY})."),
    exclude_window: list[str] = typer.Option([], "--exclude-window",
                                             help="Regex on window title or WM class whose keys and screens "
                                                  "are not recorded (repeatable)."),
    mask_window: list[str] = typer.Option([], "--mask-window",
                                          help="Regex on window title or WM class: the window is painted over in "
                                               "every screen as it is grabbed (its pixels never reach the disk) "
                                               "and its keys are redacted (repeatable)."),
    capture: str = typer.Option("auto", "--capture",
                                help="Screens: 'damage' grabs only what the X server reports changed, 'poll' "
                                     "grabs the whole screen every frame, 'auto' (default) uses damage when "
                                     "the server offers it."),
    min_free: float = typer.Option(DEFAULT_MIN_FREE_MB, "--min-free",
                                   help=f"Stop cleanly when the disk has less than this many MB free "
                                        f"(default {DEFAULT_MIN_FREE_MB:g})."),
    no_default_exclusions: bool = typer.Option(False, "--no-default-exclusions",
                                               help="Record secret prompts too (skip the built-in exclusion list)."),
    allow_xwayland: bool = typer.Option(False, "--allow-xwayland",
                                        help="In a Wayland session, record the X clients (through XWayland) "
                                             "anyway; the bundle is marked 'X clients only'."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No start notice or live status (CI)."),
    ready_file: Path | None = typer.Option(None, "--ready-file",
                                           help="Create this file once input is being captured (for scripts)."),
) -> int:
    cfg = load_config()
    use_defaults = False if no_default_exclusions else None
    patterns = cfg.exclusion_patterns(exclude_window, use_defaults=use_defaults)
    opts = RecordOptions(out=out, task=task, duration=duration, launch=launch,
                         fps=fps if fps is not None else cfg.fps,
                         stop_key=stop_key or cfg.hotkeys.stop, pause_key=pause_key or cfg.hotkeys.pause,
                         mark_key=mark_key or cfg.hotkeys.mark, exclude_window=list(patterns),
                         mask_window=list(mask_window), capture=capture, min_free_mb=min_free,
                         config=str(cfg.source) if cfg.source else None, allow_xwayland=allow_xwayland)
    settings = check_options(opts)
    exclusions = cfg.describe_exclusions(exclude_window, use_defaults=use_defaults)
    live: Live | None = None

    def ready(rec: Recorder) -> None:
        nonlocal live
        if ready_file is not None:
            try:
                ready_file.write_text(f"{rec.settings.out}\n")
            except OSError as exc:
                warn(f"cannot write --ready-file {ready_file}: {exc.strerror}")
        if rec.x_clients_only:  # shown even with --quiet: the bundle is not the whole desktop
            warn(escape(x_clients_notice(rec)))
        if quiet:
            return
        err.print(escape(describe_capture(rec.settings, exclusions=exclusions)))
        if err.is_terminal:
            live = Live(Text(""), console=err, refresh_per_second=4, transient=True)
            live.start()

    def tick(st: Status) -> None:
        if live is not None:
            live.update(_status_line(st))

    rec = Recorder(settings, on_ready=ready, on_tick=tick)
    try:
        result = rec.run()
    finally:
        if live is not None:
            live.stop()
    if result.error is not None and not (result.events or result.screens):
        raise result.error
    if not quiet:
        err.print(f"wf: recorded {result.events} events and {result.screens} screens in "
                  f"{result.duration:.1f} s ({human_bytes(result.bytes)}) to {escape(str(result.path))} "
                  f"[dim](stopped: {result.reason})[/]")
    if result.error is not None:
        raise result.error
    if result.unmatched:
        warn(f"{result.unmatched} key or button releases arrived without their press (the X server did not "
             "deliver those presses to wf); the 'stop' event records the count")
    if result.dropped:
        warn(f"{result.dropped} input events were dropped (the writer could not keep up); "
             "the 'stop' event records the count")
        return int(ExitCode.CHECK_FAILED)
    sys.stderr.flush()
    return 0


def x_clients_notice(rec: Recorder) -> str:
    seen = ", ".join(rec.session.details())
    return (f"Wayland session ({seen}), recording anyway (--allow-xwayland): X clients only — keys, clicks "
            "and pixels of native Wayland windows are not recorded, and XWayland's screenshots of them are "
            "black; the bundle is marked 'X clients only'")


def _status_line(st: Status) -> Text:
    state = "[yellow]paused[/]" if st.paused else "[red]● rec[/]"
    m, s = divmod(int(st.elapsed), 60)
    h, m = divmod(m, 60)
    clock = f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    line = f"{state} {clock} · {st.events} events · {st.screens} screens · {human_bytes(st.bytes)}"
    if st.disk_free is not None:
        line += f" · {human_bytes(st.disk_free)} free"
    if st.dropped:
        line += f" · [red]{st.dropped} dropped[/]"
    return Text.from_markup(line)

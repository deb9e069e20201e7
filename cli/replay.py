"""`wf replay`: replay a bundle into a live or private X display and judge how faithful it was."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.actions import reduce_events, to_pyautogui_program
from wf.bundle.errors import BadInput, EnvironmentProblem, WfError
from wf.bundle.reader import Bundle
from wf.bundle.replay_store import events_hash, keep_report, now_stamp
from wf.bundle.replays import AnchorMode, Box, Level, ReplayReport, SyncMode, Thresholds, encode_report, outcome
from wf.cli.console import err, print_json, warn
from wf.cli.exit import ExitCode
from wf.replayer.desktop_summary import desktop_rows
from wf.replayer.driver import PrintSink
from wf.replayer.options import ReplayOptions, ScaleMode
from wf.replayer.plan import build_plan

HELP = """Replay a bundle with pyautogui/XTest on an exact schedule and give a verdict that cannot lie.

Events are injected at start + t/speed (never drifting), keys by exact keycode, with the X server's
autorepeat off. While replaying, the input reaching the X server is captured and checked against every
step, the screen is compared with the recorded one at the start, before each action and at the end, and
after every step wf waits (bounded) for the screen to reach the recorded post-action state.

The verdict is one of three: verified (every action step's effect was observed as recorded and its input
agrees: exit 0), failed (a check failed; the first failing step is named: exit 1), unverified (nothing
failed, but some steps could not be checked, each listed with why: exit 4, or 0 with --allow-unverified).
The summary and the JSON give the coverage: the share of action steps whose effect was checked. The report
is kept in the bundle under replays/ (unless --no-save). Exit 3 when there is no display (use --xvfb), and
when the live display belongs to a Wayland session: XTest through XWayland drives X clients only (use
--xvfb, an X11 session, or --allow-xwayland to replay onto the X clients anyway).
CI: `wf replay BUNDLE --xvfb --json > report.json`."""


def parse_steps(spec: str | None) -> tuple[int | None, int | None] | None:
    """``A:B`` (B exclusive, either side optional) or ``N`` (just step N)."""
    if spec is None:
        return None
    try:
        if ":" in spec:
            a, b = spec.split(":", 1)
            first, end = (int(a) if a.strip() else None), (int(b) if b.strip() else None)
        else:
            first = int(spec)
            end = first + 1
    except ValueError:
        raise BadInput(f"bad --steps {spec!r}", hint="use A:B (step numbers from `wf inspect --actions`)") from None
    if (first is not None and first < 0) or (end is not None and end < 0) or \
            (first is not None and end is not None and end <= first):
        raise BadInput(f"bad --steps {spec!r}: empty or negative range")
    return first, end


def parse_region(spec: str) -> Box:
    try:
        x, y, w, h = (int(v) for v in spec.split(","))
    except ValueError:
        raise BadInput(f"bad --ignore-region {spec!r}", hint="use X,Y,WIDTH,HEIGHT in screen pixels") from None
    if w <= 0 or h <= 0:
        raise BadInput(f"bad --ignore-region {spec!r}: width and height must be positive")
    return x, y, w, h


def event_range(bundle: Bundle, steps: tuple[int | None, int | None] | None) -> tuple[int, int | None]:
    """Action steps ``[A, B)`` → the raw event range they cover (inclusive)."""
    if steps is None:
        return 0, None
    actions = reduce_events(bundle.events())
    if not actions:
        raise BadInput("--steps: this bundle has no actions")
    a = steps[0] or 0
    b = len(actions) if steps[1] is None else min(steps[1], len(actions))
    if a >= len(actions):
        raise BadInput(f"--steps: the bundle has {len(actions)} steps (0..{len(actions) - 1})")
    return actions[a].first_event, actions[b - 1].last_event


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    level: Annotated[Level, typer.Option("--level", help="events: the raw stream, exact; actions: the reduced "
                                         "actions with pyautogui's high-level calls.")] = "events",
    speed: Annotated[float, typer.Option("--speed", metavar="F", help="Time scale: 2 replays twice as fast.")] = 1.0,
    max_gap: Annotated[float | None, typer.Option("--max-gap", metavar="SEC",
                                                  help="Cap idle stretches at this many seconds.")] = None,
    sync: Annotated[SyncMode, typer.Option("--sync", help="screen: before each action wait until the live screen "
                                           "matches the recorded pre-action screen (waiting shifts the schedule); "
                                           "none: strict recorded timing.")] = "screen",
    sync_timeout: Annotated[float, typer.Option("--sync-timeout", metavar="SEC",
                                                help="Longest wait for a screen.")] = 10.0,
    xvfb: Annotated[bool, typer.Option("--xvfb", help="Replay on a private virtual display of the recorded size."
                                       )] = False,
    launch: Annotated[str | None, typer.Option("--launch", metavar="CMD", help="Start this app first and wait for "
                                               "its first recorded screen (default: the launch command in the "
                                               "bundle; '' for none).")] = None,
    scale: Annotated[ScaleMode, typer.Option("--scale", help="auto: rescale coordinates when the screen size "
                                             "differs; none: a different size is an error.")] = "none",
    threshold: Annotated[list[str] | None, typer.Option("--threshold", metavar="NAME=VALUE", help="Override a "
                                                        "verdict threshold (repeatable; names in docs/replay.md)."
                                                        )] = None,
    report: Annotated[Path | None, typer.Option("--report", metavar="FILE", help="Write the JSON report here; "
                                                "replayed screens go to a directory next to it.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the JSON report on stdout.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the pyautogui program instead of running it."
                                          )] = False,
    steps: Annotated[str | None, typer.Option("--steps", metavar="A:B",
                                              help="Replay only action steps A to B-1.")] = None,
    ignore_region: Annotated[list[str] | None, typer.Option("--ignore-region", metavar="X,Y,W,H", help="A screen "
                                                            "region that changes by itself (a clock): never "
                                                            "compared (repeatable).")] = None,
    allow_unverified: Annotated[bool, typer.Option("--allow-unverified", help="Exit 0 when the verdict is "
                                                   "unverified (nothing failed, not every step could be "
                                                   "checked).")] = False,
    halt_on_divergence: Annotated[bool, typer.Option("--halt-on-divergence", help="Stop at the first step whose "
                                                     "effect did not happen (everything held is released).")
                                  ] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not keep the report in the bundle's replays/."
                                          )] = False,
    allow_xwayland: Annotated[bool, typer.Option("--allow-xwayland", help="Replay onto the live display of a "
                                                 "Wayland session anyway (XTest reaches X clients only).")
                              ] = False,
    anchor: Annotated[AnchorMode, typer.Option("--anchor", help="window: pointer events inside a recorded window "
                                               "follow that window to where it is now; screen: the recorded "
                                               "screen coordinates.")] = "window",
) -> int:
    if speed <= 0:
        raise BadInput("--speed must be positive")
    if max_gap is not None and max_gap < 0:
        raise BadInput("--max-gap must be ≥ 0")
    thresholds = Thresholds.parse(threshold or [])
    regions = [parse_region(r) for r in ignore_region or []]
    b = Bundle.open(bundle)
    step_range = parse_steps(steps)
    first, last = event_range(b, step_range)
    if dry_run:
        sys.stdout.write(dry_run_program(b, level, step_range, first, last, speed, max_gap))
        return int(ExitCode.OK)

    # The replayer pulls in Xlib, mss, numpy and the recorder's capture: loaded only when replaying.
    from wf.replayer.report import build_report
    from wf.replayer.session import replay

    screens_dir = report.with_name(report.stem + "-screens") if report else None
    opts = ReplayOptions(level=level, speed=speed, max_gap=max_gap, sync=sync, sync_timeout=sync_timeout,
                         xvfb=xvfb, launch=launch, scale=scale, thresholds=thresholds, first=first, last=last,
                         screens_dir=screens_dir, ignore=regions, halt_on_divergence=halt_on_divergence,
                         anchor=anchor, allow_xwayland=allow_xwayland)
    at, replayed_events = now_stamp(), events_hash(b)
    result = replay(b, opts, log=lambda m: err.print(f"[dim]wf replay: {escape(m)}[/]"))
    data = build_report(bundle, result, opts, report, at=at, events_hash=replayed_events)
    if report:
        write_private(report, encode_report(data))
    if not no_save:
        keep(b, data, report)
    for w in result.warnings:
        warn(w)
    render(data)
    if json:
        print_json(data)
    return int(exit_code(data, allow_unverified))


def write_private(path: Path, data: bytes) -> None:
    """The report holds typed characters: 0600, like the bundle it came from."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the report to {path}: {exc.strerror}",
                                 hint="choose a writable --report path") from None


def exit_code(data: ReplayReport, allow_unverified: bool) -> ExitCode:
    status = outcome(data)
    if status == "verified" or (status == "unverified" and allow_unverified):
        return ExitCode.OK
    return ExitCode.UNVERIFIED if status == "unverified" else ExitCode.CHECK_FAILED


def keep(b: Bundle, data: ReplayReport, report: Path | None) -> None:
    """Append the report to the bundle's replays/; a bundle that cannot take it is a warning, not a verdict."""
    try:
        kept = keep_report(b, data, base=report.resolve().parent if report else None)
    except WfError as exc:
        warn(escape(exc.message) + (f" ({escape(exc.hint)})" if exc.hint else ""))
        return
    err.print(f"[dim]wf replay: report kept in {escape(str(kept))}[/]")


def dry_run_program(b: Bundle, level: Level, step_range: tuple[int | None, int | None] | None, first: int,
                    last: int | None, speed: float, max_gap: float | None) -> str:
    """The pyautogui program the replay would run."""
    if level == "actions":
        actions = reduce_events(b.events())
        if step_range is not None:
            actions = actions[step_range[0] or 0: step_range[1]]
        return to_pyautogui_program(actions, b.header)
    plan = build_plan(b.events(), first=first, last=last, speed=speed, max_gap=max_gap)
    buf = io.StringIO()
    buf.write(f"# wf replay --dry-run (events level): {len(plan.steps)} events from {b.path}\n")
    sink = PrintSink(buf)
    for s in plan.steps:
        sink.wait(s.at)
        sink.send(s.event)
    return buf.getvalue()


def _ms(v: float | None) -> str:
    return f"{v:.2f} ms" if v is not None else "—"


def render(data: ReplayReport) -> None:
    """The summary for people, on stderr (stdout is reserved for --json)."""
    stats, screens, verdict = data.stats, data.screens, data.verdict
    t = Table(title=f"wf replay {escape(data.bundle)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    seq = stats.sequence_identical
    if data.options.level == "actions":  # high-level calls press keys in their own order: judged per step
        sequence = "not compared at the actions level (each step's input is)"
    else:
        sequence = "[green]identical[/]" if seq else "[red]differs[/]" if stats.captured else "not checked"
    t.add_row("events", f"{stats.events} replayed, {stats.captured} captured, sequence {sequence}")
    t.add_row("timing", f"p50 {_ms(stats.timing_p50_ms)} · p95 {_ms(stats.timing_p95_ms)} · "
              f"max {_ms(stats.timing_max_ms)} (injection p50 {_ms(stats.inject_p50_ms)})")
    ptr = stats.pointer_max_px
    t.add_row("pointer", f"max error {ptr:.1f} px" if ptr is not None else "—")
    t.add_row("screens", f"{screens.checkpoints} checkpoints, worst {screens.max_differing_px} px differ, "
              f"min similarity {screens.min_similarity or 0.0:.4f}" if screens.checkpoints else "no checkpoints")
    if stats.unsynced:
        t.add_row("sync", f"[red]{stats.unsynced} unsynced[/]")
    for w in screens.worst[:3]:
        if w.differing:
            t.add_row("  worst", f"{w.label} before event {w.event}: {w.differing} px")
    cov = verdict.coverage
    if cov is not None:
        t.add_row("steps", f"{cov.steps} action steps: {cov.verified} verified, "
                  f"{cov.checked - cov.verified} differ, {cov.steps - cov.checked} unchecked")
        t.add_row("coverage", f"{cov.percent:.0f} % of action steps had their effect checked")
    shown = 0
    for e in data.steps:
        if e.counted and e.status != "verified" and shown < 8:
            colour = "red" if e.status == "differs" else "yellow"
            t.add_row(f"  step {e.step}", f"[{colour}]{e.status}[/] {escape(e.kind)}: {escape(e.why or '')}")
            shown += 1
    for label, text in desktop_rows(data.desktop):
        t.add_row(label, escape(text))
    for f in verdict.failures[:8]:
        t.add_row("[red]failure[/]", escape(f"{f.check}: {f.message}"))
    t.add_row("verdict", _verdict_line(data))
    err.print(t)


def _verdict_line(data: ReplayReport) -> str:
    v, status = data.verdict, outcome(data)
    if status == "verified":
        return "[bold green]VERIFIED[/]"
    if status == "failed":
        first = f" (first failing step: {v.first_failed_step})" if v.first_failed_step is not None else ""
        return f"[bold red]FAILED[/]{first}"
    reasons = "; ".join(escape(u.why if u.step is None else f"step {u.step}: {u.why}") for u in v.unverified[:3])
    return f"[bold yellow]UNVERIFIED[/] — {reasons}" if reasons else "[bold yellow]UNVERIFIED[/]"

"""`wf inspect`: summarise a bundle (and, with --actions, list its steps)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.actions import Action, load_actions, to_pyautogui_program
from wf.bundle.annotation_log import NewerAnnotationsError, load_annotations
from wf.bundle.annotations import Annotations, annotation_rows, step_summary
from wf.bundle.reader import Bundle
from wf.bundle.summary import Summary, summarize
from wf.cli.choices import Coords
from wf.cli.console import human_bytes, out, print_json, warn
from wf.cli.inspect_quality import effect_cell, print_quality_json, render_quality
from wf.curate.quality import Assessment, assess

HELP = """Summarise a bundle: duration, screen size, event counts, screens, size on disk, task and marks.

--json prints a machine-readable summary (version, duration, counts, screens, bytes, …).
--actions lists the reduced agent steps (click, type, hotkey, …; see docs/actions.md) as a table, or with
--json as a list of action objects. --pyautogui prints a standalone pyautogui script replaying the steps.
--quality judges the demonstration (docs/quality.md): idle time, dead steps, corrections, pointer path,
hesitation, repeats and a 0–1 score; with --json an object `quality`; with --actions each step's effect."""


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")] = False,
    actions: Annotated[bool, typer.Option("--actions", help="List the reduced agent actions (steps).")] = False,
    pyautogui: Annotated[bool, typer.Option("--pyautogui",
                                            help="Print a pyautogui replay script of the steps.")] = False,
    coords: Annotated[Coords, typer.Option("--coords", help="Coordinates for --pyautogui: pixels, unit (0–1) or "
                                           "k1000 (0–1000).")] = "pixels",
    timing: Annotated[bool, typer.Option("--timing/--no-timing",
                                         help="With --pyautogui: sleep the recorded gaps between steps.")] = True,
    quality: Annotated[bool, typer.Option("--quality", help="Judge the demonstration: effects, noise, a 0–1 "
                                          "score (docs/quality.md).")] = False,
) -> int:
    b = Bundle.open(bundle)
    if quality:
        return _quality(b, json=json, actions=actions)
    if pyautogui:
        steps = load_actions(b)
        sys.stdout.write(to_pyautogui_program(steps, b.header, coords=coords, timing=timing))
        sys.stdout.flush()
        return 0
    ann = _annotations(b)
    if actions:
        steps = load_actions(b)
        if json:
            print_json([_with_annotation(a.to_json(), ann, a.index) for a in steps])
            return 0
        for w in b.warnings:
            warn(w)
        render_actions(b, steps, ann)
        return 0
    summary = summarize(b)
    if json:
        print_json({**msgspec.to_builtins(summary), "annotations": ann.to_json() if ann else None})
        return 0
    for w in summary.warnings:
        warn(w)
    render(summary, ann)
    return 0


def _quality(b: Bundle, *, json: bool, actions: bool) -> int:
    """--quality, alone or with --actions (each step with its effect)."""
    assessed = assess(b)
    ann = _annotations(b)
    if actions and json:
        print_json([_with_annotation({**a.to_json(), "screen_effect": e.to_json()}, ann, a.index)
                    for a, e in zip(assessed.actions, assessed.effects, strict=True)])
    elif json:
        print_quality_json(b, assessed)
    else:
        for w in b.warnings:
            warn(escape(w))
        if actions:
            render_actions(b, assessed.actions, ann, assessed)
        render_quality(b, assessed.quality)
    return 0


def _annotations(b: Bundle) -> Annotations | None:
    """The effective annotation, or None (with a warning) when the log is from a newer wf."""
    try:
        ann = load_annotations(b)
    except NewerAnnotationsError as exc:
        warn(escape(exc.message))
        return None
    for w in ann.warnings:
        warn(escape(w))
    return ann


def _with_annotation(obj: dict[str, object], ann: Annotations | None, index: int) -> dict[str, object]:
    if ann is not None and index in ann.steps:
        obj["annotation"] = ann.steps[index].to_json()
    return obj


def render_actions(b: Bundle, steps: list[Action], ann: Annotations | None = None,
                   assessed: Assessment | None = None) -> None:
    t = Table(title=f"wf steps {escape(str(b.path))} — {len(steps)} actions", title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("time", justify="right")
    t.add_column("kind", style="bold")
    t.add_column("description")
    t.add_column("window", style="dim")
    t.add_column("annotation", style="italic")
    if assessed is not None:
        t.add_column("screen effect", justify="right")
    for n, a in enumerate(steps):
        desc = a.describe()
        if a.window:  # the window has its own column
            desc = desc.removesuffix(f" in {a.window!r}")
        note = step_summary(ann.steps[a.index]) if ann and a.index in ann.steps else ""
        style = "strike dim" if ann and a.index in ann.dropped else None
        cells = [str(a.index), f"{a.t_start:.2f}", a.kind, escape(desc), escape(a.window or ""), escape(note)]
        if assessed is not None:
            cells.append(effect_cell(assessed, n))
        t.add_row(*cells, style=style)
    out.print(t)


def render(s: Summary, ann: Annotations | None = None) -> None:
    t = Table(title=f"wf bundle {escape(s.path)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("format", f"v{s.version}")
    t.add_row("started", s.started)
    t.add_row("duration", f"{s.duration:.3f} s")
    t.add_row("screen", f"{s.screen['width']}×{s.screen['height']}")
    t.add_row("task", escape(s.task or "—"))
    if s.launch:
        t.add_row("launch", escape(s.launch))
    t.add_row("events", f"{s.events:,}")
    for kind, n in sorted(s.counts.items(), key=lambda kv: -kv[1]):
        t.add_row(f"  {kind}", f"{n:,}")
    t.add_row("screens", f"{s.screens} files ({s.screen_events} screen events)")
    t.add_row("size on disk", human_bytes(s.bytes))
    t.add_row("stopped", s.stopped or "[yellow]no stop event (interrupted?)[/]")
    if s.dropped:
        t.add_row("dropped", f"[red]{s.dropped}[/]")
    for m in s.marks:
        t.add_row("mark", f"{m.t:.3f} s {escape(m.label or '')}")
    if s.windows:
        t.add_row("windows", escape(", ".join(s.windows[:8]) + (" …" if len(s.windows) > 8 else "")))
    if ann is not None:
        for label, value in annotation_rows(ann):
            t.add_row(escape(label), escape(value))
    out.print(t)

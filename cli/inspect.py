"""`wf inspect`: summarise a bundle (and, with --actions, list its steps)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
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
from wf.bundle.replay_store import KeptReplay, last_replay
from wf.bundle.replays import outcome
from wf.bundle.summary import Summary, summarize
from wf.cli.choices import Coords
from wf.cli.console import human_bytes, out, print_json, warn
from wf.cli.inspect_quality import effect_cell, print_quality_json, render_quality
from wf.curate.quality import Assessment, assess

HELP = """Summarise a bundle: duration, screen size, event counts, screens, size on disk, task and marks,
and the verdict of its last kept replay (verified / failed / unverified, coverage; stale when the events
changed since).

--json prints a machine-readable summary (version, duration, counts, screens, bytes, …).
--actions lists the reduced agent steps (click, type, hotkey, …; see docs/actions.md) as a table, or with
--json as a list of action objects, each with its effect in the last kept replay. --pyautogui prints a
standalone pyautogui script replaying the steps.
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
    kept = last_replay(b)
    effects = _replay_effects(kept)
    if actions:
        steps = load_actions(b)
        if json:
            print_json([{**_with_annotation(a.to_json(), ann, a.index), "effect": effects.get(a.index)}
                        for a in steps])
            return 0
        for w in b.warnings:
            warn(w)
        render_actions(b, steps, ann, effects)
        return 0
    summary = summarize(b)
    if json:
        print_json({**msgspec.to_builtins(summary), "annotations": ann.to_json() if ann else None,
                    "last_replay": replay_json(b, kept)})
        return 0
    for w in summary.warnings + (kept.warnings if kept else []):
        warn(escape(w))
    render(summary, ann, kept)
    return 0


def _quality(b: Bundle, *, json: bool, actions: bool) -> int:
    """--quality, alone or with --actions (each step with its effect)."""
    assessed = assess(b)
    ann = _annotations(b)
    if actions:
        effects = _replay_effects(last_replay(b))
        if json:
            print_json([_with_annotation({**a.to_json(), "screen_effect": e.to_json(),
                                          "effect": effects.get(a.index)}, ann, a.index)
                        for a, e in zip(assessed.actions, assessed.effects, strict=True)])
            return 0
        for w in b.warnings:
            warn(escape(w))
        render_actions(b, assessed.actions, ann, effects, assessed)
    elif json:
        print_quality_json(b, assessed)
        return 0
    else:
        for w in b.warnings:
            warn(escape(w))
    render_quality(b, assessed.quality)
    return 0


def _replay_effects(kept: KeptReplay | None) -> dict[int, str]:
    """Each step's effect status in the last kept replay (none when it is stale or there is none)."""
    return {e.step: e.status for e in kept.report.steps} if kept and not kept.stale else {}


def replay_json(b: Bundle, kept: KeptReplay | None) -> dict[str, object] | None:
    """The last kept replay in brief (None: never replayed with the report kept)."""
    if kept is None:
        return None
    v = kept.report.verdict
    return {"status": outcome(kept.report), "stale": kept.stale, "at": kept.report.at,
            "level": kept.report.options.level, "coverage": msgspec.to_builtins(v.coverage),
            "first_failed_step": v.first_failed_step, "file": str(kept.path.relative_to(b.path))}


def replay_row(kept: KeptReplay) -> str:
    rep = kept.report
    status = outcome(rep)
    colour = {"verified": "green", "failed": "red"}.get(status, "yellow")
    text = f"[{colour}]{status}[/]"
    cov = rep.verdict.coverage
    if cov is not None:
        text += f", {cov.percent:.0f} % of {cov.steps} steps checked"
    if rep.verdict.first_failed_step is not None:
        text += f", first failing step {rep.verdict.first_failed_step}"
    text += f" ({rep.options.level} level, {escape(rep.at or 'time unknown')})"
    if kept.stale:
        text += " [red]— stale: the events changed since this replay[/]"
    return text


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
                   effects: Mapping[int, str] | None = None, assessed: Assessment | None = None) -> None:
    t = Table(title=f"wf steps {escape(str(b.path))} — {len(steps)} actions", title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("time", justify="right")
    t.add_column("kind", style="bold")
    t.add_column("description")
    t.add_column("window", style="dim")
    t.add_column("annotation", style="italic")
    if effects:
        t.add_column("last replay")
    if assessed is not None:
        t.add_column("screen effect", justify="right")
    for n, a in enumerate(steps):
        desc = a.describe()
        if a.window:  # the window has its own column
            desc = desc.removesuffix(f" in {a.window!r}")
        note = step_summary(ann.steps[a.index]) if ann and a.index in ann.steps else ""
        style = "strike dim" if ann and a.index in ann.dropped else None
        cells = [str(a.index), f"{a.t_start:.2f}", a.kind, escape(desc), escape(a.window or ""), escape(note)]
        if effects:
            status = effects.get(a.index, "")
            cells.append({"verified": "[green]verified[/]", "differs": "[red]differs[/]"}.get(status, status))
        if assessed is not None:
            cells.append(effect_cell(assessed, n))
        t.add_row(*cells, style=style)
    out.print(t)


def platform_row(s: Summary) -> str:
    p = s.platform
    text = escape(" ".join(str(p[k]) for k in ("system", "release") if p.get(k)) or "—")
    if p.get("display"):
        text += escape(f" · {p['display']}")
    if s.x_clients_only:
        text += " · [bold yellow]X clients only[/] (XWayland: native Wayland windows not recorded)"
    return text


def render(s: Summary, ann: Annotations | None = None, kept: KeptReplay | None = None) -> None:
    t = Table(title=f"wf bundle {escape(s.path)}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("format", f"v{s.version}.{s.minor}")
    t.add_row("started", s.started)
    t.add_row("duration", f"{s.duration:.3f} s")
    t.add_row("screen", f"{s.screen['width']}×{s.screen['height']}")
    t.add_row("platform", platform_row(s))
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
    t.add_row("last replay", replay_row(kept) if kept else "never replayed (or not kept: `wf replay` keeps it)")
    out.print(t)

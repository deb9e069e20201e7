"""`wf inspect`: summarise a bundle (and, with --actions, list its steps)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.reader import Bundle
from wf.bundle.summary import Summary, summarize
from wf.cli.console import human_bytes, out, print_json, warn

HELP = """Summarise a bundle: duration, screen size, event counts, screens, size on disk, task and marks.

--json prints a machine-readable summary (version, duration, counts, screens, bytes, …)."""


def command(
    bundle: Path = typer.Argument(..., help="Bundle directory."),
    json: bool = typer.Option(False, "--json", help="Print JSON on stdout instead of a table."),
) -> int:
    b = Bundle.open(bundle)
    summary = summarize(b)
    if json:
        print_json(summary)
        return 0
    for w in summary.warnings:
        warn(w)
    render(summary)
    return 0


def render(s: Summary) -> None:
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
    out.print(t)

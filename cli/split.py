"""`wf split`: cut a long recording into one bundle per task, at marks and/or idle gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.reader import Bundle
from wf.cli.console import err, out, print_json, warn
from wf.curate.split_write import SplitResult, split_bundle

HELP = """Split a bundle into one bundle per task: at every mark (the mark hotkey, on by default) and, with
--idle SEC, in the middle of every gap of at least SEC seconds without input.

Each part is a valid bundle in DIR (new or empty) named BUNDLE-partNN, holding copies of only the screens
it uses; its header's `source` names the original bundle and the event range it came from (docs/format.md).
Times in a part start at 0. Annotations and kept replays are not carried over (they refer to the whole recording).
--json prints the parts as JSON. Exits 2 when there is nothing to split at."""


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output directory (new or empty).")],
    idle: Annotated[float | None, typer.Option("--idle", metavar="SEC",
                                               help="Also split in idle gaps of at least SEC seconds.")] = None,
    marks: Annotated[bool, typer.Option("--marks/--no-marks", help="Split at marks.")] = True,
    json: Annotated[bool, typer.Option("--json", help="Print the parts as JSON on stdout.")] = False,
) -> int:
    result = split_bundle(Bundle.open(bundle), out_dir, marks=marks, idle=idle)
    for w in result.warnings:
        warn(escape(w))
    if json:
        print_json([{"path": str(p.path), "part": p.part, "first_event": p.first_event, "last_event": p.last_event,
                     "t_offset": p.t_offset, "duration": p.duration, "events": p.events, "screens": p.screens,
                     "reason": p.reason, "label": p.label} for p in result.parts])
    else:
        render(result)
    return 0


def render(result: SplitResult) -> None:
    t = Table(title=f"wf split — {len(result.parts)} parts", title_justify="left")
    for col, justify in (("part", "right"), ("bundle", "left"), ("events", "right"), ("from", "left"),
                         ("at", "right"), ("duration", "right"), ("screens", "right")):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]  # rich's JustifyMethod literal
    for p in result.parts:
        why = p.reason + (f" {p.label!r}" if p.label else "")
        t.add_row(str(p.part), escape(p.path.name), f"{p.first_event}–{p.last_event}", escape(why),
                  f"{p.t_offset:.2f} s", f"{p.duration:.2f} s", str(p.screens))
    out.print(t)
    err.print(f"[green]split[/] into {len(result.parts)} bundles in {escape(str(result.parts[0].path.parent))}")

"""`wf view`: write a self-contained HTML trace viewer for a bundle (and a replay report)."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from wf.cli.console import err, human_bytes, warn
from wf.view.page import render_view

HELP = """Write one HTML page to look at a bundle: a film strip of its steps, before/after screenshots with
the action drawn on them, window, times, raw event range, annotations and a timeline (←/→ or j/k to step).

With --report (a `wf replay --report` file) it also shows recorded vs replayed screens with a diff for
every checkpoint, failing steps first, and timing and pointer error plots. The page needs no network;
screenshots are linked relatively (default output: BUNDLE.html beside the bundle) or inlined with --embed."""


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    report: Annotated[Path | None, typer.Option("--report", "-r", metavar="FILE",
                                                help="Replay report JSON (from `wf replay --report`).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE",
                                             help="HTML file to write (default: BUNDLE.html beside it).")] = None,
    embed: Annotated[bool, typer.Option("--embed", help="Inline the screenshots (one shareable file).")] = False,
    open_: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> int:
    res = render_view(bundle, out=out, report_path=report, embed=embed)
    for w in res.warnings:
        warn(escape(w))
    extra = f", {res.diffs} diff pictures" if res.diffs else ""
    err.print(f"wrote {escape(str(res.out))} ({res.steps} steps, {human_bytes(res.bytes)}{extra})")
    print(res.out)
    if open_:
        webbrowser.open(res.out.as_uri())
    return 0

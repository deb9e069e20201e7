"""`wf validate`: check every line and every referenced screen of a bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from wf.bundle.reader import Bundle
from wf.bundle.validate import validate
from wf.cli.console import err, print_json, warn
from wf.cli.exit import ExitCode

HELP = """Check a bundle: every event line against format v1, every screen file against its hash.

Exits 0 when the bundle is valid, 1 when a readable bundle has defects (missing or altered screens),
2 when the bundle cannot be read at all (corrupt line, wrong version, not a bundle)."""


def command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="Bundle directory.")],
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
) -> int:
    b = Bundle.open(bundle)
    report = validate(b)
    if json:
        print_json(report)
    else:
        for w in report.warnings:
            warn(w)
        for d in report.defects:
            err.print(f"[red]defect[/] {escape(str(b.events_path))}:{d.line}: {escape(d.message)}")
        if report.ok:
            err.print(f"[green]valid[/]: {report.events} events, {report.screens_checked} screens checked")
        else:
            err.print(f"[red]invalid[/]: {len(report.defects)} defect(s) in {escape(str(bundle))}")
    return int(ExitCode.OK if report.ok else ExitCode.CHECK_FAILED)

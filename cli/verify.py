"""`wf verify`: replay many bundles headless and give one verdict for the lot (a CI gate for a corpus)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wf.bundle.errors import BadInput
from wf.bundle.replays import Level, Thresholds
from wf.cli.console import err, print_json
from wf.cli.exit import ExitCode
from wf.replayer.batch import VerifyOptions, VerifyRow, VerifySummary, verify_all
from wf.scale.cluster import Engine

HELP = """Replay every BUNDLE headless, each in its own private display (Xvfb) with its recorded launch
command, keep each report in its bundle (replays/), and print a table: bundle, status, coverage, first
failing step.

Statuses are those of `wf replay`: verified, failed (the first failing step named), unverified (nothing
failed but not every step's effect could be checked); error when a bundle could not be replayed at all.
Exit 0 only if every bundle is verified; 1 if any failed or could not be replayed; 4 if none failed but
some are unverified.

--engine local runs --jobs replays at a time on this machine; --engine ray runs one Ray task per bundle,
each holding one CPU, so a node never runs more displays than it has cores (docs/scale.md). Without
--address it starts, and stops, a private local Ray instance. Every node needs Xvfb and the recorded apps."""

_STYLE = {"verified": "green", "failed": "red", "unverified": "yellow", "error": "red"}


def command(
    bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE...", help="Bundle directories or URLs.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N",
                                      help="Replays at a time (local engine).")] = 1,
    engine: Annotated[Engine, typer.Option("--engine", help="local: a pool of processes here; ray: one Ray task "
                                           "per bundle.")] = "local",
    address: Annotated[str | None, typer.Option("--address", metavar="ADDR", help="With --engine ray: the cluster "
                                                "to join, e.g. 10.0.0.5:6379 (default: a private local Ray).")
                       ] = None,
    level: Annotated[Level, typer.Option("--level", help="Replay level, as `wf replay --level`.")] = "events",
    speed: Annotated[float, typer.Option("--speed", metavar="F", help="Time scale, as `wf replay --speed`.")] = 1.0,
    threshold: Annotated[list[str] | None, typer.Option("--threshold", metavar="NAME=VALUE",
                                                        help="Override a verdict threshold (repeatable).")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not keep the reports in the bundles.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
) -> int:
    if speed <= 0:
        raise BadInput("--speed must be positive")
    opts = VerifyOptions(level=level, speed=speed, thresholds=Thresholds.parse(threshold or []), save=not no_save,
                         jobs=jobs, engine=engine, address=address)
    summary = verify_all(bundles, opts, progress=None if json else _progress)
    render(summary)
    if json:
        print_json(summary)
    return int(exit_code(summary))


def exit_code(s: VerifySummary) -> ExitCode:
    if s.failed or s.errors:
        return ExitCode.CHECK_FAILED
    if s.unverified:
        return ExitCode.UNVERIFIED
    return ExitCode.OK


def _progress(row: VerifyRow, done: int, total: int) -> None:
    """One line per finished replay: long runs show where they are."""
    colour = _STYLE[row.status]
    err.print(f"[dim]wf verify: {done}/{total}[/] [{colour}]{row.status}[/] {escape(row.bundle)} "
              f"[dim]({row.seconds:.1f} s)[/]")


def _coverage(row: VerifyRow) -> str:
    return f"{row.coverage:.0f} %" if row.coverage is not None else "—"


def render(s: VerifySummary) -> None:
    t = Table(title=f"wf verify: {s.bundles} bundle(s), {s.engine} engine ({s.nodes} node(s), {s.slots} at a time)",
              title_justify="left")
    for col in ("bundle", "status", "coverage", "first failing step", "seconds"):
        t.add_column(col, justify="right" if col in ("coverage", "seconds") else "left",
                     overflow="fold" if col == "bundle" else "ellipsis")
    for r in s.rows:
        first = str(r.first_failing_step) if r.first_failing_step is not None else "—"
        status = f"[{_STYLE[r.status]}]{r.status}[/]"
        t.add_row(escape(r.bundle), status, _coverage(r), first, f"{r.seconds:.1f}")
    err.print(t)
    for r in s.rows:
        if r.reason:
            err.print(f"[{_STYLE[r.status]}]{r.status}[/] {escape(r.bundle)}: {escape(r.reason)}")
    err.print(f"{s.verified} verified · {s.failed} failed · {s.unverified} unverified · {s.errors} error(s) "
              f"in {s.seconds:.1f} s")

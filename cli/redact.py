"""`wf redact`: write a new, scrubbed bundle and prove the scrubbed text is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.markup import escape

from wf.bundle.reader import Bundle
from wf.bundle.version import wf_version
from wf.cli.choices import ScrubPreset
from wf.cli.console import err, print_json, warn
from wf.cli.exit import ExitCode
from wf.redact.batch import BatchOptions, BatchResult, redact_all, run_time
from wf.redact.redactor import RedactReport, redact_bundle
from wf.redact.spec import build_spec
from wf.scale.cluster import Engine
from wf.scale.locations import is_url

HELP = (
    "Write a redacted copy of BUNDLE to --out (the source is never modified).\n\n"
    "--scrub REGEX (repeatable) and --scrub-preset secrets (API keys and tokens, JWTs, e-mail addresses, "
    "card numbers) find secrets in the typed text rebuilt from key events (Backspace applied), in window "
    "titles, marks, the header and annotations: the keys that typed them become `redacted` placeholders "
    "(timing kept), the text becomes [REDACTED]. --mask-window REGEX fills the matching window's rectangle "
    "in screens taken while it had focus and redacts the keys typed into it. --mask-rect X,Y,W,H\\[@T1-T2] "
    "fills a rectangle (virtual-screen pixels) in every screen captured in that time range (seconds). "
    "--drop-steps A:B removes steps A … B-1 (B exclusive, as in `wf replay --steps`; 0-based, as "
    "`wf inspect --actions` numbers them).\n\n"
    "The header's `redactions` records what was done, never the secret. Finally every byte of the new "
    "bundle and every text derivable from it is searched for each scrubbed literal: exit 1 if any "
    "survives. Text visible in screenshot pixels is not searched; mask it with --mask-window/--mask-rect.\n\n"
    "Several BUNDLEs (or URLs): each copy goes to OUT/<name>, --jobs at a time, or as a Ray Data pipeline "
    "with --engine ray; the output is the same either way (docs/scale.md). Exit 1 if any copy is not clean."
)


def command(
    bundles: Annotated[list[str], typer.Argument(metavar="BUNDLE...", help="Source bundle directories or URLs "
                                                 "(only read).")],
    out: Annotated[str, typer.Option("--out", "-o", metavar="NEW", help="New bundle directory (must not exist or be "
                                     "empty); with several bundles, a new directory receiving OUT/<name> each.")],
    mask_window: Annotated[list[str] | None, typer.Option(
        "--mask-window", metavar="REGEX",
        help="Regex on window title or WM class: mask it and redact its keys (repeatable).")] = None,
    mask_rect: Annotated[list[str] | None, typer.Option(
        "--mask-rect", metavar="X,Y,W,H[@T1-T2]",
        help="Fill this rectangle in the screens (captured from T1 to T2 s, if given; repeatable).")] = None,
    scrub: Annotated[list[str] | None, typer.Option(
        "--scrub", metavar="REGEX", help="Regex of text to scrub (repeatable).")] = None,
    scrub_preset: Annotated[list[ScrubPreset] | None, typer.Option(
        "--scrub-preset", help="Named set of scrub patterns (repeatable).")] = None,
    drop_steps: Annotated[list[str] | None, typer.Option(
        "--drop-steps", metavar="A:B", help="A:B (B exclusive) or N: remove these steps (repeatable).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N", help="Bundles redacted at a time (local "
                                      "engine).")] = 1,
    engine: Annotated[Engine, typer.Option("--engine", help="local: processes here; ray: a Ray Data pipeline "
                                           "(docs/scale.md).")] = "local",
    address: Annotated[str | None, typer.Option("--address", metavar="ADDR", help="With --engine ray: the cluster "
                                                "to join (default: a private local Ray).")] = None,
) -> int:
    spec = build_spec(scrub=scrub or [], presets=[p.value for p in scrub_preset or []], mask_windows=mask_window or [],
                      rects=mask_rect or [], drop_steps=drop_steps or [])
    if len(bundles) > 1 or engine != "local" or any(is_url(x) for x in (*bundles, out)):
        return _batch(bundles, out, BatchOptions(spec=spec, at=run_time(), wf_version=wf_version(), jobs=jobs,
                                                 engine=engine, address=address), json)
    src = Bundle.open(bundles[0])
    report = redact_bundle(src, Path(out), spec, wf_version=wf_version())
    if json:
        print_json(report.to_json())
    else:
        _render(report)
    return int(ExitCode.OK if report.proof.ok else ExitCode.CHECK_FAILED)


def _batch(bundles: list[str], out: str, opts: BatchOptions, json: bool) -> int:
    def progress(r: BatchResult, done: int, total: int) -> None:
        if r.error:
            err.print(f"[red]{done}/{total} error[/] {escape(r.source)}: {escape(r.error)}")
        else:
            state = "[green]clean[/]" if r.ok else "[bold red]NOT clean[/] (proof failed)"
            err.print(f"{done}/{total} {escape(r.source)} → {escape(r.out)}: {state}")

    results = redact_all(bundles, out, opts, progress=None if json else progress)
    if json:
        print_json([msgspec.to_builtins(r) for r in results])
    bad = [r for r in results if not r.ok]
    if not json:
        err.print(f"redacted {len(results) - len(bad)} of {len(results)} bundle(s) clean"
                  + (f"; [red]{len(bad)} not[/]" if bad else ""))
    return int(ExitCode.CHECK_FAILED if bad else ExitCode.OK)


def _render(r: RedactReport) -> None:
    for w in r.warnings:
        warn(escape(w))
    err.print(f"wrote {escape(r.out)}: {r.events_out} events (of {r.events_in}), {r.screens_written} screen "
              f"files; {r.keys_redacted} key events redacted, {r.texts_scrubbed + r.annotations_scrubbed} "
              f"texts scrubbed, {r.screens_masked} screens masked, {r.steps_dropped} steps dropped "
              f"({r.events_removed} events removed)")
    p = r.proof
    for f in p.incidental:
        err.print(f"[dim]incidental: literal #{f.literal} ({escape(p.literal_kinds[f.literal])}) in "
                  f"{escape(f.file)} {escape(f.where)} (not text)[/]")
    if p.ok:
        err.print(f"[green]proof: none of {p.literals} scrubbed literal(s) found[/] in {p.files} files "
                  f"({p.bytes} bytes) or their derived text")
        return
    for f in p.survivors:
        err.print(f"[red]survivor[/]: literal #{f.literal} ({escape(p.literal_kinds[f.literal])}) in "
                  f"{escape(f.file)} {escape(f.where)}")
    err.print(f"[bold red]proof failed[/]: {len(p.survivors)} place(s) still hold scrubbed text; "
              f"{escape(r.out)} is NOT clean")

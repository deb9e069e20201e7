"""`wf redact`: write a new, scrubbed bundle and prove the scrubbed text is gone."""

from __future__ import annotations

import dataclasses
from collections import Counter
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
from wf.redact.pixel_proof import PIXEL_LIMITS
from wf.redact.redactor import RedactReport, redact_bundle
from wf.redact.screen_ocr import ScreenOcr
from wf.redact.spec import DEFAULT_JOBS, build_spec
from wf.scale.cluster import Engine
from wf.scale.locations import is_url

MAX_LISTED = 20  # screens listed one per line; --json has them all

HELP = (
    "Write a redacted copy of BUNDLE to --out (the source is never modified).\n\n"
    "--scrub REGEX (repeatable) and --scrub-preset secrets (API keys and tokens, JWTs, e-mail addresses, "
    "card numbers) find secrets in the typed text rebuilt from key events (Backspace applied), in window "
    "titles, marks, the header and annotations: the keys that typed them become `redacted` placeholders "
    "(timing kept), the text becomes [REDACTED]. Every stored screen is then read with OCR (Tesseract) and "
    "every scrubbed text or pattern match it shows is filled black, with a margin (--no-ocr: not read). "
    "--mask-window REGEX fills the matching window's rectangle in screens taken while it had focus and "
    "redacts the keys typed into it. --mask-rect X,Y,W,H\\[@T1-T2] fills a rectangle (virtual-screen pixels) "
    "in every screen captured in that time range (seconds). --drop-steps A:B removes steps A … B-1 (B "
    "exclusive, as in `wf replay --steps`; 0-based, as `wf inspect --actions` numbers them).\n\n"
    "The header's `redactions` records what was done, never the secret. Finally every name, byte and "
    "derivable text of the new bundle is searched for each scrubbed literal, and its screens are read "
    "again: exit 1 if anything survives. OCR misses tiny, stylised or low-contrast text: mask such areas "
    "with --mask-window/--mask-rect.\n\n"
    "Several BUNDLEs (or URLs): each copy goes to OUT/<name>, --jobs at a time (each reading its screens in "
    "its own process), or as a Ray Data pipeline with --engine ray; the output is the same either way "
    "(docs/scale.md). Exit 1 if any copy is not clean."
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
    no_ocr: Annotated[bool, typer.Option(
        "--no-ocr", help="Do not read the screens' pixels (text shown on them stays unless masked).")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", metavar="N", help=f"Worker processes: screens read at once (default {DEFAULT_JOBS}); with "
                      "several bundles, bundles redacted at once (default 1).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    engine: Annotated[Engine, typer.Option("--engine", help="local: processes here; ray: a Ray Data pipeline "
                                           "(docs/scale.md).")] = "local",
    address: Annotated[str | None, typer.Option("--address", metavar="ADDR", help="With --engine ray: the cluster "
                                                "to join (default: a private local Ray).")] = None,
) -> int:
    spec = build_spec(scrub=scrub or [], presets=[p.value for p in scrub_preset or []], mask_windows=mask_window or [],
                      rects=mask_rect or [], drop_steps=drop_steps or [], ocr=not no_ocr, jobs=jobs)
    if len(bundles) > 1 or engine != "local" or any(is_url(x) for x in (*bundles, out)):
        # One bundle per worker (or Ray task) reads its screens in that process: no pools inside pools.
        per_bundle = spec if engine == "local" and (jobs or 1) == 1 else dataclasses.replace(spec, jobs=1)
        return _batch(bundles, out, BatchOptions(spec=per_bundle, at=run_time(), wf_version=wf_version(),
                                                 jobs=jobs or 1, engine=engine, address=address), json)
    src = Bundle.open(bundles[0])
    report = redact_bundle(src, Path(out), spec, wf_version=wf_version())
    if json:
        print_json(report.to_json())
    else:
        _render(report)
    return int(ExitCode.OK if report.ok else ExitCode.CHECK_FAILED)


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
    if r.ocr is not None:
        _render_ocr(r.ocr)
    _render_bytes(r)
    _render_pixels(r)
    if not r.ok:
        err.print(f"[bold red]proof failed[/]: {escape(r.out)} is NOT clean")


def _kind(literal: int | None, pattern: str | None, kinds: dict[int, str]) -> str:
    if literal is not None:
        return f"literal #{literal} ({escape(kinds.get(literal, '?'))})"
    return f"pattern {escape(pattern or '?')}"


def _box(box: tuple[int, int, int, int]) -> str:
    x, y, w, h = box
    return f"{w}×{h} at {x},{y}"


def _render_ocr(o: ScreenOcr) -> None:
    err.print(f"ocr: {escape(o.engine)}: {o.distinct} distinct screens of {o.screens} read, {o.read} readings "
              f"(settling re-reads included) in {o.seconds:.1f} s, {o.jobs} at a time; "
              f"{o.boxes} boxes masked in {o.masked_frames} screens")


def _render_bytes(r: RedactReport) -> None:
    p = r.proof
    if not p.literals:
        err.print(f"proof: nothing to check in {p.files} files (no scrubbed text was found)")
        return
    for f in p.incidental:
        err.print(f"[dim]incidental: literal #{f.literal} ({escape(p.literal_kinds[f.literal])}) in "
                  f"{escape(f.file)} {escape(f.where)} (structure, not text)[/]")
    for f in p.survivors:
        err.print(f"[red]survivor[/]: literal #{f.literal} ({escape(p.literal_kinds[f.literal])}) in "
                  f"{escape(f.file)} {escape(f.where)}")
    if p.ok:
        err.print(f"[green]proof: none of {p.literals} scrubbed literal(s) found[/] in {p.files} files "
                  f"({p.bytes} bytes), their names or their derived text")
    else:
        err.print(f"[red]proof: {len(p.survivors)} place(s) still hold scrubbed text[/]")


def _render_pixels(r: RedactReport) -> None:
    kinds = r.proof.literal_kinds
    if r.ocr is not None:
        listed = list(r.ocr.masked.items())
        for screen, found in listed[:MAX_LISTED]:
            counts = Counter(_kind(m.literal, m.pattern, kinds) for m in found)
            what = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counts.items())
            err.print(f"[dim]masked in {escape(screen)}: {what}[/]")
        if len(listed) > MAX_LISTED:
            err.print(f"[dim]… and {len(listed) - MAX_LISTED} more screens (--json lists every box)[/]")
    pp = r.pixel_proof
    if pp is None:
        err.print(f"pixel proof: not run — {escape(r.pixels_not_read)}")
        err.print(f"pixel proof limits: {escape(PIXEL_LIMITS)}")
        return
    by_screen: dict[str, list[str]] = {}
    for f in pp.survivors:
        by_screen.setdefault(f.screen, []).append(f"{_kind(f.literal, f.pattern, kinds)} {_box(f.box)}")
    for screen, readable in by_screen.items():
        err.print(f"[red]still readable[/] in {escape(screen)}: {'; '.join(readable)}")
    verdict = "[green]pixel proof: nothing readable[/]" if pp.ok else \
        f"[red]pixel proof: {len(pp.survivors)} box(es) still readable in {len(by_screen)} screen(s)[/]"
    err.print(f"{verdict} — {pp.screens} screens ({pp.distinct} distinct) checked by {escape(pp.engine)}, "
              f"{pp.read} read now, the rest from this run's cache")
    err.print(f"pixel proof limits: {escape(PIXEL_LIMITS)}")

"""`wf redact`: write a new bundle with secrets scrubbed, windows and rectangles masked, steps dropped.

The source bundle is only read. Two passes over its events:

1. **plan** (:mod:`wf.redact.plan`) — decide which key events become ``redacted`` placeholders, which
   events are removed, which rectangles of which screens are filled, and the *literals* to scrub
   (the matched text, kept in memory only); then read the screens (:mod:`wf.redact.screen_ocr`, unless
   ``--no-ocr`` or nothing is to be scrubbed) and add the boxes of every literal or pattern they show.
2. **write** (here) — stream the events into a new bundle (``BundleWriter``: 0700/0600), converting,
   scrubbing and masking; copy screens untouched or store masked copies under their new content hashes
   (the old files of masked screens are not copied); copy ``annotations.jsonl`` scrubbed, step numbers
   remapped (:mod:`wf.redact.annotations`).

Then :func:`wf.redact.proof.prove_gone` searches the new bundle's names, bytes and derived text for every
literal, and :func:`wf.redact.pixel_proof.prove_pixels` reads its screens again (through the same cache:
only frames not read while settling cost a reading). A key press is redacted together with its release,
so a replay never holds a key down forever. Nothing but the new bundle is written: OCR reads pixels from
memory and its cache of words lives in memory only.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.events import Event, Header, KeyDown, KeyUp, Mark, Pause, Redacted, Resume, Screen, Stop, Window, to_dict
from wf.bundle.reader import Bundle
from wf.bundle.screens import load_rgb
from wf.bundle.writer import BundleWriter
from wf.redact.annotations import read_annotations, write_annotations
from wf.redact.images import Rect, fill_rects
from wf.redact.ocr import OcrEngine, TesseractEngine
from wf.redact.pixel_proof import bundle_screens, prove_pixels
from wf.redact.plan import Plan, Scan, plan_redaction, scan_source
from wf.redact.png import has_only_pixels
from wf.redact.proof import prove_gone
from wf.redact.report import RedactReport
from wf.redact.screen_ocr import mask_shown_secrets
from wf.redact.screen_reader import ScreenReader
from wf.redact.spec import RedactSpec
from wf.redact.structure import header_structure, scrub_tree
from wf.redact.text import scrub_text

__all__ = ["RedactReport", "redact_bundle"]

_KEEP_WHEN_DROPPED = (Window, Pause, Resume, Stop)  # focus/recording state the rest of the stream needs
E = TypeVar("E", bound=Event)


def redact_bundle(src: Bundle, out: Path, spec: RedactSpec, *, wf_version: str = "",
                  at: str | None = None, engine: Callable[[], OcrEngine] = TesseractEngine) -> RedactReport:
    """Write the redacted copy of ``src`` to ``out`` (new or empty directory) and prove the result.

    ``at``: the time the header's ``redactions`` entry records (default: now); one batch gives one.
    ``engine`` makes the OCR engines (one per worker) when the screens are read.
    """
    _check_out(src.path, out)
    report = RedactReport(source=str(src.path), out=str(out))
    scan = scan_source(src, spec)
    annotations = read_annotations(src)
    plan = plan_redaction(src, spec, scan, report, annotations)
    reader = _read_screens(src, spec, scan, plan, report, engine)
    header = _new_header(src.header, spec, plan, scan, report, wf_version, at)
    new_index = _write(src, out, header, plan, report)
    if annotations is not None:
        write_annotations(src, out, annotations, plan, new_index, report)
    report.literals = len(plan.literals)
    report.proof = prove_gone(out, plan.literals)
    if reader is not None:
        report.pixel_proof = prove_pixels(bundle_screens(out), reader)
    return report


def _read_screens(src: Bundle, spec: RedactSpec, scan: Scan, plan: Plan, report: RedactReport,
                  engine: Callable[[], OcrEngine]) -> ScreenReader | None:
    """Pass 1c: OCR the screens and mask what they show (wf.redact.screen_ocr); the reader, for the proof."""
    if not spec.ocr:
        report.pixels_not_read = "--no-ocr: the screens' pixels were not read"
        return None
    if not (spec.scrub or plan.literals):
        report.pixels_not_read = "nothing to scrub: no literal or pattern to look for in the screens"
        return None
    if not scan.screens:
        report.pixels_not_read = "the bundle has no screens"
        return None
    try:
        reader = ScreenReader.of(engine(), list(plan.literals), spec.scrub)
    except EnvironmentProblem as exc:
        raise EnvironmentProblem(exc.message, hint=f"{exc.hint}; or pass --no-ocr to leave the screens unread "
                                 "(then mask them with --mask-window / --mask-rect)") from None
    report.ocr = mask_shown_secrets(src, scan.screens, plan.drop, plan.screen_rects, reader, engine, spec.jobs)
    report.screens_masked = len(plan.screen_rects)
    return reader


def _check_out(src: Path, out: Path) -> None:
    s, o = src.resolve(), out.resolve()
    if o == s or o.is_relative_to(s) or s.is_relative_to(o):
        raise BadInput(f"--out {out} overlaps the source bundle {src}",
                       hint="write the redacted bundle to a new directory outside the source")


def _new_header(h: Header, spec: RedactSpec, plan: Plan, scan: Scan, report: RedactReport,
                wf_version: str, at: str | None = None) -> Header:
    """The source header with its free text scrubbed and this run's entry in ``redactions``."""
    raw = to_dict(h)
    new = scrub_tree(raw, list(plan.literals), header_structure)
    assert isinstance(new, dict)
    if new != raw:
        report.texts_scrubbed += 1
    entry: dict[str, object] = {
        "by": "wf redact", "version": wf_version,
        "at": at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if spec.scrub:
        entry["scrub"] = {"patterns": spec.user_scrubs, "presets": list(spec.presets),
                          "literals": len([v for v in plan.literals.values() if v != "mask-window typed text"]),
                          "key_events": plan.scrub_keys}
    if spec.mask_windows:
        entry["mask_window"] = {"patterns": len(spec.mask_windows), "windows": len(scan.masked_periods),
                                "key_events": plan.window_keys}
    if spec.rects:
        entry["mask_rect"] = [r.to_json() for r in spec.rects]
    if plan.screen_rects:
        entry["screens_masked"] = len(plan.screen_rects)
    if report.ocr is not None:
        entry["ocr"] = report.ocr.header_entry()
    if spec.drop_steps:
        entry["drop_steps"] = [f"{a}:{'' if b is None else b}" for a, b in spec.drop_steps]
        entry["events_removed"] = len(plan.drop)
    new["redactions"] = [*h.redactions, entry]
    return msgspec.convert(new, Header)


def _write(src: Bundle, out: Path, header: Header, plan: Plan, report: RedactReport) -> array[int]:
    """Pass 2: stream the events into the new bundle; returns each old event's new index (-1: removed)."""
    new_index = array("q")
    masked_cache: dict[tuple[str, tuple[Rect, ...]], tuple[str, str]] = {}
    lits = plan.literals
    n_out = 0
    with BundleWriter(out, header) as w:
        for i, ev in enumerate(src.events()):
            if i in plan.drop and not isinstance(ev, _KEEP_WHEN_DROPPED):
                new_index.append(-1)
                report.events_removed += 1
                continue
            if i in plan.redact and isinstance(ev, KeyDown | KeyUp):
                ev = Redacted(t=ev.t, kind="key_down" if isinstance(ev, KeyDown) else "key_up")
            elif isinstance(ev, Screen):
                copied = _copy_screen(src, w, ev, plan.screen_rects.get(i), masked_cache, report)
                if copied is None:
                    new_index.append(-1)
                    continue
                ev = copied
                if report.ocr is not None:
                    report.ocr.note_written(i, ev.path)
            elif isinstance(ev, Window):
                ev = _scrub_struct(ev, ("title", "wm_class"), lits, report)
                if i in plan.masked_windows and not ev.excluded:
                    ev = msgspec.structs.replace(ev, excluded=True)
            elif isinstance(ev, Mark):
                ev = _scrub_struct(ev, ("label",), lits, report)
            elif isinstance(ev, Pause | Resume | Stop):
                ev = _scrub_struct(ev, ("reason",), lits, report)
            w.write(ev)
            new_index.append(n_out)
            n_out += 1
        report.screens_written = w.screens_written
    report.events_out = n_out
    return new_index


def _scrub_struct(ev: E, names: tuple[str, ...], literals: dict[str, str], report: RedactReport) -> E:
    changes: dict[str, str] = {}
    for name in names:
        value = getattr(ev, name)
        if value:
            new = scrub_text(value, literals)
            if new != value:
                changes[name] = new
    if not changes:
        return ev
    report.texts_scrubbed += 1
    return msgspec.structs.replace(ev, **changes)


def _copy_screen(src: Bundle, w: BundleWriter, ev: Screen, rects: list[Rect] | None,
                 cache: dict[tuple[str, tuple[Rect, ...]], tuple[str, str]],
                 report: RedactReport) -> Screen | None:
    try:
        path = src.screen_path(ev.path)
        if not rects:
            if not w.has_screen(ev.hash):
                data = path.read_bytes()
                if has_only_pixels(data):
                    w.store_png(ev.hash, data)
                else:  # text chunks (tEXt, zTXt, iTXt…) may hold anything: keep the pixels only
                    rgb, width, height = load_rgb(path)
                    w.store_rgb(rgb, width, height)
                    report.screens_reencoded += 1
            return ev
        key = (ev.hash, tuple(rects))
        if key not in cache:
            rgb, width, height = load_rgb(path)
            cache[key] = w.store_rgb(fill_rects(rgb, width, height, rects), width, height)
    except EnvironmentProblem:
        raise
    except Exception as exc:  # missing or undecodable file: the screen cannot be carried over
        report.warnings.append(f"screen {ev.path} left out: {exc.__class__.__name__} (run `wf validate` "
                               "on the source)")
        return None
    rel, digest = cache[key]
    return msgspec.structs.replace(ev, path=rel, hash=digest)

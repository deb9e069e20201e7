"""Copying ``annotations.jsonl`` into the redacted bundle: scrubbed, step numbers followed to the new stream."""

from __future__ import annotations

import bisect
import os
from array import array
from pathlib import Path

import orjson

from wf.bundle.actions import load_actions
from wf.bundle.reader import Bundle
from wf.bundle.writer import FILE_MODE
from wf.redact.plan import Plan
from wf.redact.report import RedactReport
from wf.redact.structure import annotation_structure, scrub_tree


def read_annotations(src: Bundle) -> list[object] | None:
    """Every line of the source's annotations.jsonl as decoded JSON (None for a torn line)."""
    path = src.annotations_path
    if not path.is_file():
        return None
    out: list[object] = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            out.append(None)
    return out


def write_annotations(src: Bundle, out: Path, records: list[object], plan: Plan, new_index: array[int],
                      report: RedactReport) -> None:
    """``annotations.jsonl`` of the new bundle: records scrubbed, steps renumbered, dropped steps' left out."""
    remap = _step_remap(src, out, records, plan, new_index)
    lines: list[bytes] = []
    for rec in records:
        if not isinstance(rec, dict):
            report.annotations_removed += 1  # a torn or foreign line: readers skip it, we do not copy it
            continue
        new = scrub_tree(rec, list(plan.literals), annotation_structure)
        assert isinstance(new, dict)
        if new != rec:
            report.annotations_scrubbed += 1
        step = rec.get("step")
        if remap is not None and isinstance(step, int) and not isinstance(step, bool):
            target = remap.get(step)
            if target is None:
                report.annotations_removed += 1
                continue
            new["step"] = target
        lines.append(orjson.dumps(new) + b"\n")
    if report.annotations_removed:
        report.warnings.append(f"{report.annotations_removed} annotation record(s) not copied (about dropped "
                               "steps, steps that no longer exist, or unreadable lines)")
    fd = os.open(out / "annotations.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        data = memoryview(b"".join(lines))
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _step_remap(src: Bundle, out: Path, records: list[object], plan: Plan,
                new_index: array[int]) -> dict[int, int] | None:
    """Old step number -> new one, by following each old action's events into the new stream.

    None when no record is about a step (nothing to remap). Steps whose events were all removed map
    to nothing, so their records are not copied.
    """
    if not any(isinstance(r, dict) and "step" in r for r in records):
        return None
    old = plan.old_actions if plan.old_actions is not None else load_actions(src)
    new = load_actions(Bundle.open(out))
    starts = [a.first_event for a in new]
    remap: dict[int, int] = {}
    for a in old:
        for e in range(a.first_event, a.last_event + 1):
            j = new_index[e] if e < len(new_index) else -1
            if j < 0:
                continue
            k = bisect.bisect_right(starts, j) - 1
            if k >= 0 and new[k].first_event <= j <= new[k].last_event:
                remap[a.index] = new[k].index
                break
    return remap

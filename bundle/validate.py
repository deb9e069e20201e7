"""Deep check of a bundle: every line, and every referenced screen's file and hash."""

from __future__ import annotations

import msgspec

from wf.bundle.errors import BundleError
from wf.bundle.events import Screen, Stop
from wf.bundle.reader import Bundle
from wf.bundle.screens import file_hash


class Defect(msgspec.Struct, frozen=True):
    line: int
    message: str


class Report(msgspec.Struct, kw_only=True):
    path: str
    ok: bool
    events: int
    screens_checked: int
    defects: list[Defect]
    warnings: list[str]


def validate(bundle: Bundle) -> Report:
    """Raises ``BundleError`` for an unreadable stream; returns defects of a readable one."""
    defects: list[Defect] = []
    checked: dict[str, str | None] = {}
    n = 0
    stopped = False
    for n, ev in enumerate(bundle.events(), start=2):
        if type(ev) is Screen:
            problem = checked.get(ev.path, "")
            if problem == "":
                problem = _check_screen(bundle, ev)
                checked[ev.path] = problem
            if problem:
                defects.append(Defect(n, problem))
        elif type(ev) is Stop:
            stopped = True
    if not stopped:
        bundle.warnings.append("no 'stop' event: the recording did not finish cleanly")
    return Report(path=str(bundle.path), ok=not defects, events=max(n - 1, 0),
                  screens_checked=len(checked), defects=defects, warnings=list(bundle.warnings))


def _check_screen(bundle: Bundle, ev: Screen) -> str | None:
    try:
        target = bundle.screen_path(ev.path)
    except BundleError as exc:
        return exc.message
    if not target.is_file():
        return f"screen file {ev.path} is missing"
    try:
        actual = file_hash(target)
    except Exception as exc:  # Pillow raises many types for a damaged image
        return f"screen file {ev.path} cannot be decoded ({exc.__class__.__name__})"
    if actual != ev.hash:
        return f"screen file {ev.path} has hash {actual}, expected {ev.hash}"
    return None

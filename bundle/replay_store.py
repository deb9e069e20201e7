"""``replays/``: the replay reports kept in a bundle, one file per replay, never rewritten.

`wf replay` appends its report here (unless ``--no-save``), so a bundle carries the evidence of every
replay next to the recording: `wf inspect` shows the last verdict, `wf view` its per-step effects and
`wf export` puts it on every row. Like ``annotations.jsonl`` the store is append-only: a new report gets
a new file named by the time the replay began (``20260301T101500.123456Z.json``); nothing is ever
overwritten or edited. Reports hold typed characters, so the directory is 0700 and each file 0600.

A report is written to a hidden temporary name and linked to its final name only when complete, so a
crash never leaves half a report where readers look; ``os.link`` refuses an existing name, so two replays
finishing in the same microsecond both keep theirs (the second gets ``-2``).

Each report records the xxh3-128 of the bundle's ``events.jsonl``: a kept verdict about events that have
since changed (a tampered step, an edited recording) is *stale* and counts for nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import xxhash

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.reader import Bundle
from wf.bundle.replays import ReplayReport, decode_report, encode_report, outcome

REPLAYS_DIR = "replays"
DIR_MODE = 0o700
FILE_MODE = 0o600
_CHUNK = 1 << 22


def events_hash(bundle: Bundle) -> str:
    """xxh3-128 of ``events.jsonl`` as it is on disk (streamed: a day's recording is never loaded whole)."""
    h = xxhash.xxh3_128()
    with bundle.events_path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def now_stamp(when: dt.datetime | None = None) -> str:
    """``2026-03-01T10:15:00.123456Z``: what a report's ``at`` holds."""
    when = when or dt.datetime.now(dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _file_name(at: str) -> str:
    return at.replace("-", "").replace(":", "") + ".json"  # 20260301T101500.123456Z.json: sorts by time


def relocate(report: ReplayReport, old: Path | None, new: Path) -> ReplayReport:
    """The report with its replayed-screen paths relative to directory ``new`` instead of ``old`` (None:
    they are absolute), so a kept copy still points at the frames wherever ``--report`` put them."""
    def move(path: str | None) -> str | None:
        if path is None:
            return None
        absolute = (old / path) if old is not None else Path(path)
        return os.path.relpath(absolute.resolve(), new.resolve())

    return msgspec.structs.replace(
        report, checkpoints=[msgspec.structs.replace(c, replayed=move(c.replayed)) for c in report.checkpoints],
        steps=[msgspec.structs.replace(e, replayed=move(e.replayed)) for e in report.steps],
        screens=msgspec.structs.replace(report.screens, directory=move(report.screens.directory)))


def keep_report(bundle: Bundle, report: ReplayReport, *, base: Path | None = None) -> Path:
    """Append ``report`` to the bundle's ``replays/`` as a new file; returns its path. ``base``: the
    directory the report's screen paths are relative to (None: absolute, or none saved)."""
    root = bundle.path / REPLAYS_DIR
    report = relocate(report, base, root)
    try:
        root.mkdir(mode=DIR_MODE, exist_ok=True)
        if root.is_symlink() or not root.is_dir():
            raise BadInput(f"{root} is not a directory", hint="replays/ inside a bundle holds replay reports")
        data = encode_report(report) + b"\n"
        stem = _file_name(report.at or now_stamp()).removesuffix(".json")
        tmp = root / f".{stem}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            for n in range(1, 1000):
                target = root / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
                try:
                    os.link(tmp, target)
                    return target
                except FileExistsError:
                    continue
            raise EnvironmentProblem(f"cannot find a free report name in {root}")
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        raise EnvironmentProblem(f"cannot keep the replay report in {root}: {exc.strerror or exc}",
                                 hint="is the bundle writable? `wf replay --no-save` skips keeping it") from None


def kept_paths(bundle: Bundle) -> list[Path]:
    """The kept reports, oldest first (hidden temporary files are not reports)."""
    root = bundle.path / REPLAYS_DIR
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.suffix == ".json" and not p.name.startswith(".") and p.is_file()),
                  key=_order)


def _order(path: Path) -> tuple[str, int]:
    """By time, then by the ``-N`` a second report of the same microsecond got."""
    base, sep, n = path.stem.rpartition("-")
    return (base, int(n)) if sep and n.isdigit() else (path.stem, 1)


@dataclass
class KeptReplay:
    """The newest readable kept report, and whether it still describes the bundle's events."""

    path: Path
    report: ReplayReport
    stale: bool  # the events changed since this replay: its verdict no longer applies
    warnings: list[str] = field(default_factory=list)


def last_replay(bundle: Bundle) -> KeptReplay | None:
    """The newest kept report that decodes (unreadable ones are skipped with a warning); None if none."""
    warns: list[str] = []
    current: str | None = None
    for path in reversed(kept_paths(bundle)):
        try:
            report = decode_report(path.read_bytes(), source=str(path))
        except BadInput as exc:
            warns.append(f"kept replay report skipped: {exc.message}")
            continue
        except OSError as exc:
            warns.append(f"kept replay report skipped: cannot read {path}: {exc.strerror}")
            continue
        if current is None:
            current = events_hash(bundle)
        stale = report.events_hash is None or report.events_hash != current
        return KeptReplay(path, report, stale, warns)
    return None


@dataclass(frozen=True)
class ReplayEvidence:
    """What the last kept replay says about the bundle as it is now (export rows, quality, verify).

    ``status``: verified | failed | unverified | stale (the events changed since: it says nothing about
    them) | unreplayed (never replayed, or the report was not kept). A replay of part of the task
    (``--steps``) cannot verify the episode: at best it is unverified.
    """

    status: str
    coverage: float | None  # % of action steps whose effect that replay checked
    effects: dict[int, str]  # step -> verified | differs | unchecked (none when stale or unreplayed)
    why: str | None  # why it is not verified (None when it is)
    file: str | None  # the kept report, relative to the bundle


def replay_evidence(bundle: Bundle) -> ReplayEvidence:
    kept = last_replay(bundle)
    if kept is None:
        return ReplayEvidence("unreplayed", None, {}, "never replayed (or its report was not kept)", None)
    rel = str(kept.path.relative_to(bundle.path))
    rep = kept.report
    if kept.stale:
        return ReplayEvidence("stale", None, {}, f"the events changed since the last replay ({kept.path.name})", rel)
    status = outcome(rep)
    partial = rep.options.first_event > 0 or rep.options.last_event is not None
    if partial and status == "verified":
        status = "unverified"
    cov = rep.verdict.coverage.percent if rep.verdict.coverage else None
    why = None
    if status != "verified":
        why = f"last replay {status}" + (f" (coverage {cov:.0f} %)" if cov is not None else "") + \
            (", of part of the task (--steps)" if partial else "")
    return ReplayEvidence(status, cov, {e.step: e.status for e in rep.steps}, why, rel)

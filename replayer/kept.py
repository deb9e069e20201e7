"""What `wf verify` reads from a replay report and where it keeps it: the two calls it makes into the
verdict (issue 15), in one place.

- :func:`outcome` — status, coverage and first failing step. A report whose verdict has no three-way
  ``status`` checked no step effects, so at best it is ``unverified`` (the rule the verdict's own
  ``outcome`` applies to such reports); coverage is then not measured.
- :func:`keep` — append the report to the bundle's ``replays/``: a new file named by the time it was
  kept, written to a hidden name and linked into place complete, never overwriting one (0700 / 0600: a
  report holds typed characters). When the verdict's report store lands this becomes one call to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Literal

from wf.bundle.errors import EnvironmentProblem
from wf.bundle.reader import Bundle
from wf.bundle.replays import ReplayReport, encode_report

REPLAYS_DIR = "replays"
Status = Literal["verified", "failed", "unverified"]


def outcome(report: ReplayReport) -> tuple[Status, float | None, int | None]:
    """``(status, coverage %, first failing step)`` of a report."""
    v = report.verdict
    given = getattr(v, "status", None)
    status: Status = given if given in ("verified", "failed", "unverified") else \
        ("unverified" if v.passed else "failed")
    first = getattr(v, "first_failed_step", None)
    if not isinstance(first, int):
        first = min((f.step for f in v.failures if f.step is not None), default=None)
    percent = getattr(getattr(v, "coverage", None), "percent", None)
    return status, (float(percent) if isinstance(percent, int | float) else None), first


def keep(bundle: Bundle, report: ReplayReport) -> Path:
    """Append ``report`` to ``bundle``'s ``replays/``; returns the new file."""
    root = bundle.path / REPLAYS_DIR
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    data = encode_report(report) + b"\n"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        tmp = root / f".{stamp}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            for n in range(1, 1000):
                target = root / (f"{stamp}.json" if n == 1 else f"{stamp}-{n}.json")
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, target)  # refuses an existing name: nothing kept is ever replaced
                    return target
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        raise EnvironmentProblem(f"cannot keep the replay report in {root}: {exc.strerror or exc}",
                                 hint="is the bundle writable? `wf verify --no-save` skips keeping it") from None
    raise EnvironmentProblem(f"cannot find a free report name in {root}")

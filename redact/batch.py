"""`wf redact` over many bundles: the same redaction of each, here (``--jobs`` processes) or on Ray.

Given several bundles, ``--out`` is a directory and each redacted copy is written to ``OUT/<name>``
(names must be distinct). With ``--engine ray`` the bundles go through a Ray Data pipeline, one bundle
per block: each task downloads its bundle if it is at a URL, redacts it, proves the result, and writes
(or uploads) the copy; the reports come back to the driver in input order. Every bundle of one run
records the same ``at`` in its header's ``redactions`` (the run's start, or ``SOURCE_DATE_EPOCH``), so
the output is byte for byte the same on either engine and for any number of jobs.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import orjson

from wf.bundle.errors import BadInput, WfError
from wf.bundle.reader import Bundle
from wf.redact.redactor import redact_bundle
from wf.redact.spec import RedactSpec
from wf.scale.cluster import check_engine, ray_data, ray_session, require_ray
from wf.scale.locations import destination, identity, is_url, localized, name_of

ProgressFn = Callable[["BatchResult", int, int], None]  # (the result just finished, done, total)


class BatchResult(msgspec.Struct, kw_only=True):
    source: str
    out: str
    ok: bool  # redacted and proven clean
    report: dict[str, Any] | None = None  # RedactReport.to_json()
    error: str | None = None  # why the bundle could not be redacted


@dataclass(frozen=True, slots=True)
class BatchOptions:
    spec: RedactSpec
    at: str  # what every header's redactions entry records
    wf_version: str = ""
    jobs: int = 1
    engine: str = "local"
    address: str | None = None


def run_time() -> str:
    """When this run happened, as the header records it: ``SOURCE_DATE_EPOCH`` (reproducible builds'
    convention) when set, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    except ValueError:
        raise BadInput(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
                       hint="unset it, or give seconds since 1970") from None
    return when.isoformat(timespec="seconds")


def plan_outputs(bundles: Sequence[str], out: str) -> list[tuple[str, str]]:
    """``(source, destination)`` pairs: one bundle → ``out`` itself; several → ``out/<name>``."""
    if not bundles:
        raise BadInput("no bundles to redact", hint="pass one or more bundle directories")
    if len(bundles) == 1:
        return [(bundles[0], out)]
    seen: dict[str, str] = {}
    ids: set[str] = set()
    pairs = []
    for b in bundles:
        if identity(b) in ids:
            raise BadInput(f"{b} is given twice", hint="pass each bundle once")
        ids.add(identity(b))
        name = name_of(b)
        if name in seen:
            raise BadInput(f"two bundles are both named {name!r} ({seen[name]} and {b})",
                           hint="with several bundles each is written to OUT/<name>: rename one, or redact them apart")
        seen[name] = b
        pairs.append((b, f"{out.rstrip('/')}/{name}" if is_url(out) else str(Path(out) / name)))
    return pairs


def redact_one(source: str, out: str, opts: BatchOptions) -> BatchResult:
    """Redact one bundle (downloading it first / uploading the copy when at URLs)."""
    try:
        with localized(source) as local, destination(out) as dst:
            report = redact_bundle(Bundle.open(local), dst, opts.spec, wf_version=opts.wf_version, at=opts.at)
        data = report.to_json()
        data["source"], data["out"] = source, out  # as given, not the local copies
        return BatchResult(source=source, out=out, ok=report.ok, report=data)
    except WfError as exc:
        return BatchResult(source=source, out=out, ok=False,
                           error=exc.message + (f" ({exc.hint})" if exc.hint else ""))


def redact_all(bundles: Sequence[str], out: str, opts: BatchOptions,
               progress: ProgressFn | None = None) -> list[BatchResult]:
    """Redact every bundle; results in input order."""
    engine = check_engine(opts.engine, opts.address)
    if opts.jobs < 1:
        raise BadInput(f"--jobs {opts.jobs} must be at least 1")
    pairs = plan_outputs(bundles, out)
    if engine == "ray":
        require_ray()  # before anything is written
    if len(pairs) > 1:
        _make_parent(out)
    results: list[BatchResult] = []
    stream = _ray(pairs, opts) if engine == "ray" else _local(pairs, opts)
    for n, result in enumerate(stream, start=1):
        results.append(result)
        if progress:
            progress(result, n, len(pairs))
    return results


def _make_parent(out: str) -> None:
    if is_url(out):
        return  # a remote prefix needs no directory
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BadInput(f"--out {out} exists and is not an empty directory",
                       hint="with several bundles --out is a new directory that receives one copy per bundle")
    path.mkdir(parents=True, exist_ok=True)


def _one(pair: tuple[str, str], opts: BatchOptions) -> BatchResult:
    return redact_one(pair[0], pair[1], opts)


def _local(pairs: list[tuple[str, str]], opts: BatchOptions) -> Iterator[BatchResult]:
    if opts.jobs <= 1 or len(pairs) <= 1:
        for pair in pairs:
            yield _one(pair, opts)
        return
    # fork: the workers start with the redaction modules (and the OCR engine's library) already loaded.
    with multiprocessing.get_context("fork").Pool(min(opts.jobs, len(pairs))) as pool:
        yield from pool.imap(functools.partial(_one, opts=opts), pairs)


def _ray_batch(batch: dict[str, Any], opts: BatchOptions) -> dict[str, Any]:
    results = [_one((s, o), opts) for s, o in zip(batch["source"], batch["out"], strict=True)]
    return {"result": [orjson.dumps(msgspec.to_builtins(r)) for r in results]}


def _ray(pairs: list[tuple[str, str]], opts: BatchOptions) -> Iterator[BatchResult]:
    with ray_session(opts.address):
        rd = ray_data()
        ds = rd.from_items([{"source": s, "out": o} for s, o in pairs], override_num_blocks=len(pairs))
        ds = ds.map_batches(functools.partial(_ray_batch, opts=opts), batch_size=1, batch_format="numpy")
        for row in ds.iter_rows():
            yield msgspec.json.decode(bytes(row["result"]), type=BatchResult)

"""`wf export`: many bundles → one training dataset, in parallel, in a deterministic order.

Workers (processes) turn bundles into :class:`~wf.export.steps.Episode` records; this process
feeds them, in the order the bundles were given, to one format writer (``wf.export.formats``), so the
output is the same whatever ``jobs`` is. A bundle that cannot be read is skipped and listed, with the
reason, in ``manifest.json`` next to the files, bundles and step counts.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from wf.bundle.actions import COORDS
from wf.bundle.errors import BadInput, EnvironmentProblem, WfError
from wf.bundle.paths import check_new_directory
from wf.bundle.reader import Bundle
from wf.curate.filters import Filters
from wf.export.formats import FORMATS, REGISTRY, ExportFormat
from wf.export.images import ImageSpec, check_spec
from wf.export.steps import CollectOptions, Episode, Filtered, Skipped, collect_episode, episode_id
from wf.export.writer import MIB, OutputFile, WriterConfig
from wf.scale.cluster import check_engine, require_ray
from wf.scale.locations import destination, identity, is_url, local_path, localized, name_of, read_header

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
DEFAULT_SHARD_MB = 256.0

ProgressFn = Callable[[int, int, int], None]  # (bundles done, bundles total, steps written)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Everything `wf export` was asked for; validated by :func:`export`."""

    format: str
    out: Path | str  # a directory, or a URL (file://, s3://…: written locally, then uploaded)
    coords: str | None = None
    include_dropped: bool = False
    shard_mb: float = DEFAULT_SHARD_MB
    jobs: int = 1
    image_format: str | None = None
    max_side: int | None = None
    history: int = 5
    min_quality: float | None = None  # leave out demonstrations scoring below (wf.curate, docs/quality.md)
    drop_dead_steps: bool = False  # leave out steps that changed nothing on screen
    require_verified: bool = False  # only episodes whose last kept replay was verified (docs/export.md)
    engine: str = "local"  # local: --jobs processes here; ray: a Ray Data pipeline (wf.export.ray_engine)
    address: str | None = None  # the Ray cluster to join (None: a private local instance)


class BundleEntry(msgspec.Struct, kw_only=True):
    path: str
    episode_id: str
    steps: int
    actions: int
    dropped: int
    instruction: str | None
    outcome: str
    warnings: list[str]
    quality_score: float | None = None
    dead_dropped: list[int] = msgspec.field(default_factory=list)  # steps --drop-dead-steps left out
    verdict: str = "unreplayed"  # of the bundle's last kept replay (docs/export.md)
    coverage: float | None = None
    # platform.x_clients_only: recorded through XWayland (--allow-xwayland), native Wayland windows missing
    x_clients_only: bool = False


class FilteredEntry(msgspec.Struct, kw_only=True):
    """A readable bundle a filter left out (--min-quality, --require-verified), and why."""

    path: str
    episode_id: str
    filter: str  # the option: min-quality | require-verified
    reason: str
    quality_score: float | None = None


class SkippedEntry(msgspec.Struct, kw_only=True):
    path: str
    reason: str


class FileEntry(msgspec.Struct, kw_only=True):
    path: str
    bytes: int
    steps: int
    episodes: int


class Manifest(msgspec.Struct, kw_only=True):
    """``manifest.json``: what was exported, from which bundles, and what was skipped and why."""

    version: int
    format: str
    coords: str
    image_format: str
    max_side: int | None
    include_dropped: bool
    history: int
    shard_bytes: int
    episodes: int
    steps: int
    bytes: int
    bundles: list[BundleEntry]
    skipped: list[SkippedEntry]
    files: list[FileEntry]
    min_quality: float | None = None
    drop_dead_steps: bool = False
    require_verified: bool = False
    filtered: list[FilteredEntry] = msgspec.field(default_factory=list)  # readable bundles left out, with why


def export(bundles: Sequence[Path | str], opts: ExportOptions, progress: ProgressFn | None = None) -> Manifest:
    """Export ``bundles`` as ``opts.format`` into the new directory ``opts.out``; returns the manifest."""
    fmt = REGISTRY.get(opts.format)
    if fmt is None:
        raise BadInput(f"unknown export format {opts.format!r}", hint=f"use one of {', '.join(FORMATS)}")
    coords = opts.coords or fmt.coords
    if coords not in COORDS:
        raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")
    spec = check_spec(opts.image_format, opts.max_side)
    if not opts.shard_mb > 0:
        raise BadInput(f"--shard-size {opts.shard_mb} must be positive", hint="a size in MiB, e.g. 256")
    if opts.jobs < 1:
        raise BadInput(f"--jobs {opts.jobs} must be at least 1")
    if opts.history < 0:
        raise BadInput(f"--history {opts.history} must not be negative")
    if not bundles:
        raise BadInput("no bundles to export", hint="pass one or more bundle directories")
    filters = Filters(opts.min_quality, opts.drop_dead_steps)
    engine = check_engine(opts.engine, opts.address)
    if engine == "ray":
        require_ray()  # before anything is written
    with destination(opts.out) as local_out:
        return _export(bundles, opts, fmt, coords, spec, filters, engine, local_out, progress)


def _export(bundles: Sequence[Path | str], opts: ExportOptions, fmt: ExportFormat, coords: str, spec: ImageSpec,
            filters: Filters, engine: str, local_out: Path, progress: ProgressFn | None) -> Manifest:
    out = _prepare_out(local_out)
    shard_bytes = max(int(opts.shard_mb * MIB), 1)
    copts = CollectOptions(coords=coords, include_dropped=opts.include_dropped, history=opts.history,
                           images=spec, want_images=fmt.images, want_program=fmt.program, filters=filters,
                           require_verified=opts.require_verified)
    jobs, skipped = _plan(bundles)

    entries: list[BundleEntry] = []
    skips: list[SkippedEntry] = []
    filtered: list[FilteredEntry] = []
    steps = 0
    tmp = Path(tempfile.mkdtemp(prefix=".wf-export-", dir=out))
    try:
        results = _collect(jobs, skipped, copts, tmp, opts.jobs, engine, opts.address)
        writer = fmt.make(WriterConfig(out, shard_bytes))
        if progress:
            progress(0, len(bundles), 0)
        for done, result in enumerate(results, start=1):
            if isinstance(result, Skipped):
                skips.append(SkippedEntry(path=result.bundle, reason=result.reason))
            elif isinstance(result, Filtered):
                filtered.append(FilteredEntry(path=result.bundle, episode_id=result.episode_id, filter=result.filter,
                                              reason=result.reason, quality_score=result.score))
            else:
                writer.add(result)
                shutil.rmtree(tmp / result.episode_id, ignore_errors=True)  # re-encoded images, now written
                steps += len(result.steps)
                entries.append(_entry(result))
            if progress:
                progress(done, len(bundles), steps)
        files = writer.close()
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the export to {out}: {exc.strerror or exc}",
                                 hint="check free space and permissions") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    manifest = Manifest(
        version=MANIFEST_VERSION, format=opts.format, coords=coords,
        image_format=("stored" if spec.as_is else spec.ext), max_side=spec.max_side,
        include_dropped=opts.include_dropped, history=opts.history, shard_bytes=shard_bytes,
        episodes=len(entries), steps=steps, bytes=sum(f.bytes for f in files),
        bundles=entries, skipped=skips, files=[_file(f) for f in files],
        min_quality=opts.min_quality, drop_dead_steps=opts.drop_dead_steps, require_verified=opts.require_verified,
        filtered=filtered,
    )
    (out / MANIFEST).write_bytes(orjson.dumps(msgspec.to_builtins(manifest), option=orjson.OPT_INDENT_2) + b"\n")
    return manifest


def _prepare_out(out: Path) -> Path:
    check_new_directory(out, what="--out directory")
    if not out.exists():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create {out}: {exc.strerror}",
                                     hint="choose a writable location") from None
    return out


@dataclass(frozen=True, slots=True)
class _Job:
    index: int
    path: str
    episode_id: str


def _plan(bundles: Sequence[Path | str]) -> tuple[list[_Job], dict[int, Skipped]]:
    """Open every header here (cheap) so episode ids are unique and assigned in input order."""
    jobs: list[_Job] = []
    skipped: dict[int, Skipped] = {}
    seen_paths: set[str] = set()
    seen_ids: set[str] = set()
    for i, p in enumerate(bundles):
        real = identity(p)
        if real in seen_paths:
            skipped[i] = Skipped(str(p), "duplicate: this bundle was already given earlier in the list")
            continue
        seen_paths.add(real)
        try:
            local = local_path(p)
            header = Bundle.open(local).header if local is not None else read_header(str(p))
        except WfError as exc:
            skipped[i] = Skipped(str(p), exc.message)
            continue
        base = eid = episode_id(Path(name_of(p)) if local is None else local, header.started)
        n = 2
        while eid in seen_ids:
            eid = f"{base}-{n}"
            n += 1
        seen_ids.add(eid)
        jobs.append(_Job(i, str(p), eid))
    return jobs, skipped


def plan_jobs(bundles: Sequence[Path | str]) -> tuple[list[tuple[int, str, str]], dict[int, Skipped]]:
    """``(index, path, episode id)`` per readable bundle (ids exactly as the export assigns them), and the
    bundles skipped already, by index (for ``wf.data``)."""
    jobs, skipped = _plan(bundles)
    return [(j.index, j.path, j.episode_id) for j in jobs], skipped


def _work(job: _Job, opts: CollectOptions, tmp: str) -> Episode | Skipped | Filtered:
    try:
        # A bundle at a URL is downloaded next to its re-encoded images (removed once written).
        with localized(job.path, Path(tmp) / job.episode_id / ".bundle") as local:
            ep = collect_episode(str(local), opts, tmp, job.episode_id)
        return dataclasses.replace(ep, bundle=job.path) if is_url(job.path) else ep  # Episode or Filtered
    except WfError as exc:
        return Skipped(job.path, exc.message)
    except Exception as exc:  # one broken bundle must not sink a batch of thousands; the reason is kept
        return Skipped(job.path, f"cannot be exported ({type(exc).__name__}: {exc})")


def _work_indexed(args: tuple[_Job, CollectOptions, str]) -> tuple[int, Episode | Skipped | Filtered]:
    job, opts, tmp = args
    return job.index, _work(job, opts, tmp)


def _collect(jobs: list[_Job], skipped: dict[int, Skipped], opts: CollectOptions, tmp: Path,
             workers: int, engine: str = "local", address: str | None = None
             ) -> Iterator[Episode | Skipped | Filtered]:
    """Yield one result per input bundle, in input order, however the workers finish."""
    total = len(jobs) + len(skipped)
    ready: dict[int, Episode | Skipped | Filtered] = dict(skipped)
    nxt = 0

    def drain() -> Iterator[Episode | Skipped | Filtered]:
        nonlocal nxt
        while nxt in ready:
            yield ready.pop(nxt)
            nxt += 1

    if engine == "ray":
        from wf.export.ray_engine import run_ray  # Ray is loaded only when asked for

        for index, result in run_ray([(j.index, j.path, j.episode_id) for j in jobs], opts, address):
            ready[index] = result
            yield from drain()
    elif workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            ready[job.index] = _work(job, opts, str(tmp))
            yield from drain()
    else:
        # fork: workers start at once with the modules already loaded (no re-import of pyarrow & co).
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(jobs))) as pool:
            tasks = [(job, opts, str(tmp)) for job in jobs]
            for index, result in pool.imap_unordered(_work_indexed, tasks):
                ready[index] = result
                yield from drain()
    yield from drain()
    assert nxt == total, f"export lost results ({nxt} of {total})"


def _entry(ep: Episode) -> BundleEntry:
    return BundleEntry(path=ep.bundle, episode_id=ep.episode_id, steps=len(ep.steps),
                       actions=ep.actions_total, dropped=ep.dropped, instruction=ep.instruction,
                       outcome=ep.outcome, warnings=list(ep.warnings), quality_score=ep.quality_score,
                       dead_dropped=list(ep.dead_dropped), verdict=ep.verdict, coverage=ep.coverage,
                       x_clients_only=ep.x_clients_only)


def _file(f: OutputFile) -> FileEntry:
    return FileEntry(path=f.path, bytes=f.bytes, steps=f.steps, episodes=f.episodes)


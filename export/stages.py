"""The export as stages over Arrow tables, for Ray Data (`wf export --engine ray`, ``wf.data.read_steps``).

1. :func:`read_stage` — per bundle (on the node that reads it): open it (downloading it first when it is at
   a URL), reduce it to steps (``collect_episode`` without images) and read each step's stored screens;
   one row for the episode, then one per step.
2. :func:`image_stage` — per batch of rows, anywhere: check or re-encode each screen
   (``prepare_bytes``: the same checks, names and bytes as the local engine's ``ImagePreparer``).
3. :func:`regroup` — in the driver, in input order: rows back into ``Episode`` records (or ``Skipped``
   with the first error in step order, as the local engine reports it) for the one format writer.

Rows carry the episode and step records as msgpack (msgspec: typed and exact for every float), so the
writer gets field for field what a local worker would have given it; only the image bytes travel with them
instead of file names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from wf.bundle.errors import BundleError, WfError
from wf.bundle.reader import Bundle
from wf.export.images import ImageRef, ImageSpec, prepare_bytes
from wf.export.steps import CollectOptions, Episode, Filtered, Skipped, StepRow, collect_episode
from wf.scale.locations import is_url, localized

_FIELDS: list[pa.Field[Any]] = [
    pa.field("index", pa.int64()),  # the bundle's position in the input
    pa.field("path", pa.string()),  # as given (a path or URL)
    pa.field("episode_id", pa.string()),
    pa.field("kind", pa.string()),  # "episode" | "step" | "skipped" | "filtered"
    pa.field("episode", pa.binary()),  # msgpack Episode (its steps left out), or Filtered
    pa.field("step", pa.binary()),  # msgpack StepRow (images left out)
    pa.field("error", pa.string()),  # why the bundle was skipped
    pa.field("pre_rel", pa.string()), pa.field("pre_data", pa.binary()), pa.field("pre_error", pa.string()),
    pa.field("post_rel", pa.string()), pa.field("post_data", pa.binary()), pa.field("post_error", pa.string()),
    pa.field("pre_ref", pa.binary()), pa.field("post_ref", pa.binary()),  # msgpack ImageRef, bytes inside
    pa.field("crop", pa.list_(pa.int64())),  # the action's monitor, cut out of both screens (or null)
]
STAGE_SCHEMA = pa.schema(_FIELDS)
_SIDES = ("pre", "post")
_EMPTY_ROW: dict[str, Any] = dict.fromkeys(STAGE_SCHEMA.names)
_ENCODE = msgspec.msgpack.Encoder()
_EPISODE = msgspec.msgpack.Decoder(Episode)
_STEP = msgspec.msgpack.Decoder(StepRow)
_REF = msgspec.msgpack.Decoder(ImageRef)
_FILTERED = msgspec.msgpack.Decoder(Filtered)


def job_table(jobs: Iterable[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """The input rows: ``(index, path, episode id)`` per bundle to read."""
    return [{"index": i, "path": p, "episode_id": e} for i, p, e in jobs]


def read_stage(batch: pa.Table, opts: CollectOptions) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for job in batch.to_pylist():
        rows += bundle_rows(int(job["index"]), str(job["path"]), str(job["episode_id"]), opts)
    return pa.Table.from_pylist(rows, schema=STAGE_SCHEMA)


def bundle_rows(index: int, path: str, eid: str, opts: CollectOptions) -> list[dict[str, Any]]:
    base = {**_EMPTY_ROW, "index": index, "path": path, "episode_id": eid}
    try:
        with localized(path) as local:
            ep = collect_episode(str(local), dataclasses.replace(opts, want_images=False), "", eid)
            if is_url(path):
                ep = dataclasses.replace(ep, bundle=path)
            if isinstance(ep, Filtered):  # left out by --min-quality: not an error
                return [{**base, "kind": "filtered", "episode": _ENCODE.encode(ep)}]
            bundle = Bundle.open(local)
            header = _ENCODE.encode(dataclasses.replace(ep, steps=()))
            rows = [{**base, "kind": "episode", "episode": header}]
            for s in ep.steps:
                row = {**base, "kind": "step", "episode": header, "step": _ENCODE.encode(s)}
                if opts.want_images:
                    row["crop"] = s.action.get("monitor_box")
                    for side in _SIDES:
                        rel = s.action.get(f"{side}_screen")
                        if isinstance(rel, str):
                            row[f"{side}_rel"] = rel
                            row[f"{side}_data"], row[f"{side}_error"] = _stored(bundle, rel)
                rows.append(row)
            return rows
    except WfError as exc:
        return [{**base, "kind": "skipped", "error": exc.message}]
    except Exception as exc:  # one broken bundle must not sink a batch of thousands (as the local engine)
        return [{**base, "kind": "skipped", "error": f"cannot be exported ({type(exc).__name__}: {exc})"}]


def _stored(bundle: Bundle, rel: str) -> tuple[bytes | None, str | None]:
    try:
        src = bundle.screen_path(rel)
        if not src.is_file():
            raise BundleError(f"screen file {rel} is missing", path=bundle.path,
                              hint="run `wf validate` on this bundle")
        return src.read_bytes(), None
    except WfError as exc:
        return None, exc.message


def image_stage(batch: pa.Table, spec: ImageSpec) -> pa.Table:
    """Prepare every screen of the batch (each distinct one once); errors stay on their row."""
    cache: dict[tuple[int, str, tuple[int, ...] | None], bytes | str] = {}
    rows = batch.to_pylist()
    for row in rows:
        for side in _SIDES:
            rel, data = row[f"{side}_rel"], row[f"{side}_data"]
            if rel is None or data is None:
                continue
            box = row["crop"]
            crop = (box[0], box[1], box[2], box[3]) if box else None
            key = (row["index"], rel, crop)
            if key not in cache:
                where = row["path"] if is_url(row["path"]) else str(Path(row["path"]))  # as Bundle.path
                try:
                    cache[key] = _ENCODE.encode(prepare_bytes(data, rel, spec, row["episode_id"], where, crop))
                except WfError as exc:
                    cache[key] = exc.message
            got = cache[key]
            row[f"{side}_data"] = None  # the prepared bytes travel in the ref
            if isinstance(got, bytes):
                row[f"{side}_ref"] = got
            else:
                row[f"{side}_error"] = got
    return pa.Table.from_pylist(rows, schema=STAGE_SCHEMA)


def episode_of(row: dict[str, Any]) -> Episode:
    ep: Episode = _EPISODE.decode(row["episode"])
    return ep


def step_of(row: dict[str, Any]) -> StepRow:
    """The step with its images, or ``BadInput`` naming the first screen that failed."""
    s: StepRow = _STEP.decode(row["step"])
    refs: dict[str, ImageRef | None] = {}
    for side in _SIDES:
        if row[f"{side}_error"] is not None:
            raise BundleError(row[f"{side}_error"])
        ref = row[f"{side}_ref"]
        refs[side] = _REF.decode(ref) if ref is not None else None
    return dataclasses.replace(s, pre=refs["pre"], post=refs["post"])


Result = Episode | Skipped | Filtered


def regroup(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[int, Result]]:
    """Stage rows (in input order) → ``(bundle index, Episode, Skipped or Filtered)``, one per bundle."""
    current: int | None = None
    header: Episode | None = None
    steps: list[StepRow] = []
    failure: Skipped | Filtered | None = None

    def finish() -> tuple[int, Result]:
        assert current is not None
        if failure is not None:
            return current, failure
        assert header is not None
        return current, dataclasses.replace(header, steps=tuple(steps))

    for row in rows:
        index = int(row["index"])
        if index != current:
            if current is not None:
                yield finish()
            current, header, steps, failure = index, None, [], None
        if row["kind"] == "skipped":
            failure = Skipped(row["path"], row["error"])
        elif row["kind"] == "filtered":
            failure = _FILTERED.decode(row["episode"])
        elif row["kind"] == "episode":
            header = episode_of(row)
        elif failure is None:
            try:
                steps.append(step_of(row))
            except BundleError as exc:
                failure = Skipped(row["path"], exc.message)
    if current is not None:
        yield finish()

"""``wf.data``: bundles as a Ray Dataset of training steps, for pipelines that already run on Ray Data.

    import wf.data
    ds = wf.data.read_steps(["runs/a", "s3://bucket/runs/b"])   # one row per step, lazily
    for batch in ds.iter_batches(batch_format="pyarrow"): ...
    img = wf.data.decode_image(row["image"])                    # PIL.Image of the screen before the step

Rows have exactly the columns and types of the Parquet export (``wf.export.parquet.SCHEMA``, listed in
docs/export.md) and the same values, as ``wf export --format parquet`` would write them; the image
columns hold the stored PNG bytes and their path, decoded only when you ask (:func:`decode_image`).
Nothing is read until the dataset is consumed. Ray Data starts a local Ray if none is running: call
``ray.init(address=...)`` first to use a cluster. Needs the Ray extra (``pip install 'wf[ray]'``).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wf.bundle.actions import COORDS
from wf.bundle.errors import BadInput, BundleError
from wf.curate.filters import Filters
from wf.export.images import check_spec
from wf.export.steps import CollectOptions

__all__ = ["decode_image", "read_steps"]


def read_steps(paths: Sequence[str | Path] | str | Path, *, coords: str = "pixels", include_dropped: bool = False,
               history: int = 5, image_format: str | None = None, max_side: int | None = None,
               min_quality: float | None = None, drop_dead_steps: bool = False, skip_invalid: bool = True) -> Any:
    """A ``ray.data.Dataset`` with one row per exported step of the bundles at ``paths`` (in order).

    The options are `wf export`'s (``min_quality`` and ``drop_dead_steps``: docs/quality.md).
    ``skip_invalid``: leave out bundles (and steps whose screen cannot be read) that `wf export` would
    skip, instead of failing when the dataset is consumed.
    """
    from wf.export.parquet import SCHEMA  # pyarrow: loaded with the dataset, not with `import wf.data`
    from wf.export.pipeline import plan_jobs
    from wf.export.ray_engine import step_dataset
    from wf.scale.cluster import require_ray

    require_ray()
    bundles = [str(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    if not bundles:
        raise BadInput("no bundles to read", hint="pass one or more bundle directories or URLs")
    if coords not in COORDS:
        raise BadInput(f"unknown coordinate system {coords!r}", hint=f"use one of {', '.join(COORDS)}")
    if history < 0:
        raise BadInput(f"history {history} must not be negative")
    jobs, skipped = plan_jobs(bundles)
    if skipped and not skip_invalid:
        first = skipped[min(skipped)]
        raise BadInput(f"cannot read {first.bundle}: {first.reason}", hint="pass skip_invalid=True to leave it out")
    opts = CollectOptions(coords=coords, include_dropped=include_dropped, history=history,
                          images=check_spec(image_format, max_side), filters=Filters(min_quality, drop_dead_steps))
    ds = step_dataset(jobs, opts) if jobs else _empty()
    return ds.map_batches(functools.partial(_rows, schema=SCHEMA, skip_invalid=skip_invalid), batch_size=None,
                          batch_format="pyarrow")


def _empty() -> Any:
    from wf.scale.cluster import ray_data

    return ray_data().from_items([])


def _rows(batch: Any, schema: Any, skip_invalid: bool) -> Any:
    import pyarrow as pa

    from wf.export.parquet import step_row
    from wf.export.stages import episode_of, step_of

    rows = []
    for row in batch.to_pylist() if batch.num_rows else []:
        if row.get("kind") == "skipped" and not skip_invalid:
            raise BadInput(f"cannot read {row['path']}: {row['error']}")
        if row.get("kind") != "step":
            continue
        try:
            rows.append(step_row(episode_of(row), step_of(row)))
        except BundleError:
            if not skip_invalid:
                raise
    return pa.Table.from_pylist(rows, schema=schema)


def decode_image(value: dict[str, Any] | None) -> Any:
    """A row's ``image`` / ``post_image`` value as a ``PIL.Image`` (None stays None)."""
    if value is None:
        return None
    from PIL import Image

    return Image.open(io.BytesIO(value["bytes"]))

"""`wf export --engine ray`: the export as a Ray Data pipeline — read bundles → steps → images → shards.

Reading and reducing a bundle and preparing its screens (``wf.export.stages``) run as Ray tasks on the
cluster, one bundle per block; the shards are written here, by the same single format writer as the local
engine, from rows that Ray Data delivers in input order. That is what makes the output byte for byte the
local engine's: where a shard ends depends on the size of every row before it, a sequential decision, while
the work that costs (reduction, PNG checks, WebP encoding, reading from remote storage) is spread out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from wf.export.stages import Result, image_stage, job_table, read_stage, regroup
from wf.export.steps import CollectOptions
from wf.scale.cluster import ray_data, ray_session

# One bundle per block (and task), so a slow bundle never holds others back; capped for huge inputs.
MAX_BLOCKS = 4096


def step_dataset(jobs: Sequence[tuple[int, str, str]], opts: CollectOptions) -> Any:
    """The Ray Dataset of stage rows for ``(index, path, episode id)`` jobs, in input order."""
    rd = ray_data()
    ds = rd.from_items(job_table(jobs), override_num_blocks=max(1, min(len(jobs), MAX_BLOCKS)))
    ds = ds.map_batches(functools.partial(read_stage, opts=opts), batch_size=1, batch_format="pyarrow")
    if opts.want_images:
        ds = ds.map_batches(functools.partial(image_stage, spec=opts.images), batch_size=None,
                            batch_format="pyarrow")
    return ds


def run_ray(jobs: Sequence[tuple[int, str, str]], opts: CollectOptions,
            address: str | None) -> Iterator[tuple[int, Result]]:
    """``(bundle index, Episode, Skipped or Filtered)`` for every job, in input order, computed on Ray."""
    if not jobs:
        return
    with ray_session(address):
        ds = step_dataset(jobs, opts)
        rows = (row for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow")
                for row in batch.to_pylist())
        yield from regroup(rows)

"""Parquet export: one row per step, Hugging Face ``Image``-compatible columns, small row groups.

Files are ``data/train-NNNNN-of-MMMMM.parquet`` (the layout ``datasets.load_dataset(DIR)`` detects).
Images go in ``struct{bytes: binary, path: string}`` columns and the schema carries the ``huggingface``
features metadata, so ``datasets`` decodes them as ``Image`` without being told. The column list is
documented in docs/export.md; :data:`SCHEMA` is the source of truth.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from wf.export.steps import Episode, StepRow, step_metadata
from wf.export.writer import MIB, OutputFile, WriterConfig, finalize_shards

IMAGE_TYPE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])

_FIELDS: list[pa.Field[Any]] = [
    pa.field("episode_id", pa.string(), nullable=False),
    pa.field("bundle", pa.string(), nullable=False),
    pa.field("step", pa.int32(), nullable=False),
    pa.field("position", pa.int32(), nullable=False),
    pa.field("instruction", pa.string()),
    pa.field("outcome", pa.string(), nullable=False),
    pa.field("image", IMAGE_TYPE),
    pa.field("post_image", IMAGE_TYPE),
    pa.field("action_type", pa.string(), nullable=False),
    pa.field("action", pa.string(), nullable=False),
    pa.field("pyautogui", pa.string(), nullable=False),
    pa.field("coords", pa.string(), nullable=False),
    pa.field("description", pa.string(), nullable=False),
    pa.field("previous_actions", pa.string(), nullable=False),
    pa.field("window_title", pa.string()),
    pa.field("window_class", pa.string()),
    pa.field("note", pa.string()),
    pa.field("thought", pa.string()),
    pa.field("label", pa.string()),
    pa.field("dropped", pa.bool_(), nullable=False),
    pa.field("t_start", pa.float64(), nullable=False),
    pa.field("t_end", pa.float64(), nullable=False),
    pa.field("screen_width", pa.int32(), nullable=False),
    pa.field("screen_height", pa.int32(), nullable=False),
    pa.field("image_width", pa.int32()),
    pa.field("image_height", pa.int32()),
    pa.field("tags", pa.list_(pa.string())),
    pa.field("quality", pa.int32()),
    pa.field("effect", pa.string(), nullable=False),
    pa.field("verdict", pa.string(), nullable=False),
    # signal (wf.curate, docs/quality.md): the step's effect on the recorded screens as JSON, the episode's
    # quality score and its components as JSON
    pa.field("screen_effect", pa.string()),
    pa.field("quality_score", pa.float64()),
    pa.field("quality_components", pa.string()),
]
SCHEMA = pa.schema(_FIELDS)

_HF_DTYPES = {pa.string(): "string", pa.int32(): "int32", pa.float64(): "float64", pa.bool_(): "bool"}


def hf_features() -> dict[str, Any]:
    """The ``datasets`` Features of :data:`SCHEMA` (``Image`` for the two image columns)."""
    feats: dict[str, Any] = {}
    for f in SCHEMA:
        if f.type == IMAGE_TYPE:
            feats[f.name] = {"_type": "Image"}
        elif pa.types.is_list(f.type):
            feats[f.name] = {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"}
        else:
            feats[f.name] = {"dtype": _HF_DTYPES[f.type], "_type": "Value"}
    return {"info": {"features": feats}}


SCHEMA_WITH_METADATA = SCHEMA.with_metadata({"huggingface": json.dumps(hf_features())})

# Small row groups: readers (datasets streaming, DuckDB, Ray) fetch images a group at a time.
ROW_GROUP_ROWS = 64
ROW_GROUP_BYTES = 16 * MIB
# Images are already compressed (PNG/WebP); compressing them again only costs time.
Codec = Literal["gzip", "brotli", "lz4", "zstd", "snappy", "none"]
ZSTD: Codec = "zstd"
NONE: Codec = "none"
COMPRESSION: dict[str, Codec] = {f.name: ZSTD for f in SCHEMA} | {
    "image.bytes": NONE, "post_image.bytes": NONE, "image.path": ZSTD, "post_image.path": ZSTD}
# Dictionary encoding only where values repeat; trying it on image bytes costs time for nothing.
DICTIONARY_COLUMNS = ["episode_id", "bundle", "instruction", "outcome", "action_type", "coords",
                      "window_title", "window_class", "label", "effect", "verdict"]
SHARD_STEM = "data/train"
# Counted against --shard-size up front: the footer (schema, features metadata, row-group index).
FOOTER_RESERVE = 8192 + len(SCHEMA_WITH_METADATA.metadata[b"huggingface"])
PER_GROUP_RESERVE = 2048


class ParquetExport:
    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        (cfg.out / "data").mkdir(parents=True, exist_ok=True)
        self.files: list[OutputFile] = []
        self._writer: pq.ParquetWriter | None = None
        self._current: OutputFile | None = None
        self._rows: list[dict[str, Any]] = []
        self._rows_bytes = 0
        self._shard_bytes = FOOTER_RESERVE  # estimated upper bound of the shard's size so far
        self._rows_in_shard = 0
        self._episodes_in_shard: set[str] = set()
        self._group_bytes = min(ROW_GROUP_BYTES, max(cfg.shard_bytes // 4, 1))

    def add(self, episode: Episode) -> None:
        for step in episode.steps:
            row, nbytes = _row(episode, step)
            cost = nbytes + (0 if self._rows else PER_GROUP_RESERVE)
            if self._rows_in_shard and self._shard_bytes + cost > self.cfg.shard_bytes:
                self._close_shard()
                cost = nbytes + PER_GROUP_RESERVE
            self._rows.append(row)
            self._rows_bytes += nbytes
            self._shard_bytes += cost
            self._rows_in_shard += 1
            self._episodes_in_shard.add(episode.episode_id)
            if len(self._rows) >= ROW_GROUP_ROWS or self._rows_bytes >= self._group_bytes:
                self._flush()

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            rel = f"{SHARD_STEM}-{len(self.files):05d}.parquet"
            self._current = OutputFile(rel)
            self._writer = pq.ParquetWriter(self.cfg.out / rel, SCHEMA_WITH_METADATA, compression=COMPRESSION,
                                            # a list of columns works; the stubs only know a bool
                                            use_dictionary=DICTIONARY_COLUMNS,  # type: ignore[arg-type]
                                            write_statistics=False,
                                            store_schema=True)
        return self._writer

    def _flush(self) -> None:
        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=SCHEMA_WITH_METADATA)
        self._open().write_table(table, row_group_size=len(self._rows))
        assert self._current is not None
        self._current.steps += len(self._rows)
        self._rows = []
        self._rows_bytes = 0

    def _close_shard(self) -> None:
        self._flush()
        if self._writer is not None and self._current is not None:
            self._writer.close()
            self._current.bytes = (self.cfg.out / self._current.path).stat().st_size
            self._current.episodes = len(self._episodes_in_shard)
            self.files.append(self._current)
        self._writer = None
        self._current = None
        self._shard_bytes = FOOTER_RESERVE
        self._rows_in_shard = 0
        self._episodes_in_shard = set()

    def close(self) -> list[OutputFile]:
        self._close_shard()
        return finalize_shards(self.cfg.out, self.files, SHARD_STEM, "parquet")


def _image(ref: Any) -> tuple[dict[str, Any] | None, int]:
    if ref is None:
        return None, 0
    data = ref.read()
    return {"bytes": data, "path": ref.name}, len(data)


def _json(obj: object) -> str | None:
    return None if obj is None else orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


def step_row(ep: Episode, s: StepRow) -> dict[str, Any]:
    """One step as a row of :data:`SCHEMA` (what ``wf.data.read_steps`` yields)."""
    return _row(ep, s)[0]


def _row(ep: Episode, s: StepRow) -> tuple[dict[str, Any], int]:
    pre, pre_n = _image(s.pre)
    post, post_n = _image(s.post)
    action = s.action_json
    # Same fields as WebDataset's .json; here the images are bytes and the action a JSON string.
    row = step_metadata(ep, s) | {"image": pre, "post_image": post, "action": action,
                                  "screen_effect": _json(s.screen_effect),
                                  "quality_components": _json(ep.quality_components)}
    texts = (action, s.code, s.description, s.previous, ep.instruction, s.window_title, s.window_class,
             s.note, s.thought, s.label, ep.episode_id, ep.name, *ep.tags)
    # Bytes before compression, plus slack for fixed-width columns and page headers: an upper bound.
    text = sum(len(x.encode()) for x in texts if x) + 2 * (len(ep.episode_id) + 40) + 256
    return row, pre_n + post_n + text


"""WebDataset export: tar shards (standard library ``tarfile``) of bounded size, one sample per step.

A sample is the members sharing a key ``{episode_id}/{step:06d}``: ``.png`` (or ``.webp``) = the screen
before the action, ``.post.png`` = the screen after it, ``.json`` = every other field. Members are written
with fixed ownership and times, so the same input gives byte-identical shards.
"""

from __future__ import annotations

import io
import tarfile
from typing import IO

import orjson

from wf.export.steps import Episode, step_metadata
from wf.export.writer import OutputFile, WriterConfig

SHARD_DIR = "shards"
_BLOCK = 512
# What close() may still add: two zero blocks, padding to a full record, and slack for PAX headers.
_CLOSE_OVERHEAD = 2 * _BLOCK + tarfile.RECORDSIZE
_PER_MEMBER = 3 * _BLOCK


def sample_key(episode_id: str, step: int) -> str:
    return f"{episode_id}/{step:06d}"


class WebDatasetExport:
    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        (cfg.out / SHARD_DIR).mkdir(parents=True, exist_ok=True)
        self.files: list[OutputFile] = []
        self._tar: tarfile.TarFile | None = None
        self._fh: IO[bytes] | None = None
        self._current: OutputFile | None = None
        self._episodes: set[str] = set()

    def add(self, episode: Episode) -> None:
        for s in episode.steps:
            key = sample_key(episode.episode_id, s.step)
            members: list[tuple[str, bytes]] = []
            if s.pre is not None:
                members.append((f"{key}.{s.pre.ext}", s.pre.read()))
            if s.post is not None:
                members.append((f"{key}.post.{s.post.ext}", s.post.read()))
            meta = orjson.dumps(step_metadata(episode, s), option=orjson.OPT_SORT_KEYS)
            members.append((f"{key}.json", meta))
            need = sum(_PER_MEMBER + _padded(len(data)) for _, data in members)
            if self._fh is not None and self._fh.tell() + need + _CLOSE_OVERHEAD > self.cfg.shard_bytes:
                self._close_shard()
            tar = self._open()
            for name, data in members:
                tar.addfile(_info(name, len(data)), io.BytesIO(data))
            self._episodes.add(episode.episode_id)
            assert self._current is not None
            self._current.steps += 1

    def _open(self) -> tarfile.TarFile:
        if self._tar is None:
            rel = f"{SHARD_DIR}/shard-{len(self.files):06d}.tar"
            self._current = OutputFile(rel)
            self._fh = (self.cfg.out / rel).open("wb")
            # The writer outlives this call (one shard spans many add()s); _close_shard closes it.
            self._tar = tarfile.open(fileobj=self._fh, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        return self._tar

    def _close_shard(self) -> None:
        if self._tar is None or self._fh is None or self._current is None:
            return
        self._tar.close()
        self._fh.close()
        self._current.bytes = (self.cfg.out / self._current.path).stat().st_size
        self._current.episodes = len(self._episodes)
        self.files.append(self._current)
        self._tar = self._fh = self._current = None
        self._episodes = set()

    def close(self) -> list[OutputFile]:
        self._close_shard()
        return self.files


def _padded(n: int) -> int:
    return -(-n // _BLOCK) * _BLOCK


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info

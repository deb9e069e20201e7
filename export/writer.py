"""What every export format writer provides, and shard bookkeeping they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from wf.export.images import ImageRef
from wf.export.steps import Episode

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class WriterConfig:
    out: Path
    shard_bytes: int


@dataclass(slots=True)
class OutputFile:
    """One file of the export, for the manifest (``path`` relative to the output directory)."""

    path: str
    bytes: int = 0
    steps: int = 0
    episodes: int = 0


class FormatWriter(Protocol):
    """Receives episodes in their final order, one at a time, in a single process."""

    def add(self, episode: Episode) -> None: ...

    def close(self) -> list[OutputFile]: ...


class ImageFiles:
    """Screens written as files under ``DIR/images/`` (AgentNet, ADP): each distinct one once, counted in
    one manifest entry."""

    def __init__(self, out: Path, entry: OutputFile, folder: str = "images") -> None:
        self.out = out
        self.entry = entry
        self.folder = folder
        self._written: set[str] = set()

    def write(self, ref: ImageRef | None) -> str | None:
        """The image's path relative to the output directory (written the first time it is seen)."""
        if ref is None:
            return None
        rel = f"{self.folder}/{ref.name}"
        if rel not in self._written:
            dst = self.out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = ref.read()
            dst.write_bytes(data)
            self._written.add(rel)
            self.entry.bytes += len(data)
        return rel


class JsonlWithImages:
    """One JSON line per episode in ``DIR/{JSONL}`` and its screens as files under ``DIR/images/``
    (AgentNet, ADP): subclasses name the file and build the line."""

    JSONL = "episodes.jsonl"

    def __init__(self, cfg: WriterConfig) -> None:
        self.cfg = cfg
        self._fh = (cfg.out / self.JSONL).open("wb")
        self._file = OutputFile(self.JSONL)
        self._images = OutputFile("images/")
        self._image = ImageFiles(cfg.out, self._images, "images").write

    def write_line(self, line: dict[str, Any], episode: Episode) -> None:
        data = orjson.dumps(line) + b"\n"
        self._fh.write(data)
        self._file.bytes += len(data)
        for f in (self._file, self._images):
            f.steps += len(episode.steps)
            f.episodes += 1

    def close(self) -> list[OutputFile]:
        self._fh.close()
        return [self._file, self._images]


def finalize_shards(out: Path, files: list[OutputFile], stem: str, ext: str) -> list[OutputFile]:
    """Rename ``{stem}-00000.{ext}`` shards to the Hugging Face ``{stem}-00000-of-00003.{ext}`` pattern."""
    total = len(files)
    done: list[OutputFile] = []
    for i, f in enumerate(files):
        new = f"{stem}-{i:05d}-of-{total:05d}.{ext}"
        (out / f.path).rename(out / new)
        f.path = new
        done.append(f)
    return done

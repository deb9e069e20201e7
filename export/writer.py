"""What every export format writer provides, and shard bookkeeping they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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

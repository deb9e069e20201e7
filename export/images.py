"""Screenshots for exports: the stored PNG as-is, or re-encoded (lossless WebP, downscaled) with Pillow.

Workers prepare images and hand back small :class:`ImageRef` records naming a file; the single writer
process reads the bytes when it writes the shard, so no image ever travels between processes and memory
stays bounded by one row group.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, get_args

from PIL import Image

from wf.bundle.errors import BadInput, BundleError
from wf.bundle.reader import Bundle

ImageFormat = Literal["png", "webp"]  # `wf export --image-format` (lossless both)
IMAGE_FORMATS: tuple[ImageFormat, ...] = get_args(ImageFormat)
Crop = tuple[int, int, int, int]  # x, y, width, height in the stored screen's pixels
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """How images are wanted: ``fmt`` None keeps the stored file byte for byte."""

    fmt: str | None = None
    max_side: int | None = None

    @property
    def as_is(self) -> bool:
        return self.fmt in (None, "png") and self.max_side is None

    @property
    def ext(self) -> str:
        return self.fmt or "png"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One exported image: ``file`` holds its bytes; ``name`` is the name it gets in the dataset."""

    file: str
    name: str
    hash: str
    width: int
    height: int
    ext: str
    data: bytes | None = None  # the bytes themselves, when they travel to the writer (``--engine ray``)

    def read(self) -> bytes:
        return self.data if self.data is not None else Path(self.file).read_bytes()


def check_spec(fmt: str | None, max_side: int | None) -> ImageSpec:
    if fmt is not None and fmt not in IMAGE_FORMATS:
        raise BadInput(f"unknown image format {fmt!r}", hint=f"use one of {', '.join(IMAGE_FORMATS)}")
    if max_side is not None and max_side < 16:
        raise BadInput(f"--max-side {max_side} is too small", hint="use at least 16 pixels")
    return ImageSpec(fmt, max_side)


class ImagePreparer:
    """Per-bundle cache: each distinct screen is checked (and re-encoded) once."""

    def __init__(self, bundle: Bundle, spec: ImageSpec, tmpdir: Path, episode_id: str) -> None:
        self.bundle = bundle
        self.spec = spec
        self.tmpdir = tmpdir
        self.episode_id = episode_id
        self._cache: dict[tuple[str, Crop | None], ImageRef] = {}

    def get(self, rel: str | None, crop: Crop | None = None) -> ImageRef | None:
        """The prepared image of screen ``rel``; ``crop`` (x, y, width, height) cuts one monitor out of it."""
        if rel is None:
            return None
        ref = self._cache.get((rel, crop))
        if ref is None:
            ref = self._prepare(rel, crop)
            self._cache[(rel, crop)] = ref
        return ref

    def _prepare(self, rel: str, crop: Crop | None = None) -> ImageRef:
        src = self.bundle.screen_path(rel)
        if not src.is_file():
            raise BundleError(f"screen file {rel} is missing", path=self.bundle.path,
                              hint="run `wf validate` on this bundle")
        def head() -> bytes:
            with src.open("rb") as fh:
                return fh.read(8)

        ref, data = _prepare(src, head, rel, self.spec, self.episode_id, self.bundle.path, crop)
        if data is None:
            return ref
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        dst = self.tmpdir / f"{ref.hash}.{ref.ext}"
        dst.write_bytes(data)
        return dataclasses.replace(ref, file=str(dst))


def prepare_bytes(stored: bytes, rel: str, spec: ImageSpec, episode_id: str, where: Path | str,
                  crop: Crop | None = None) -> ImageRef:
    """The exported image of a stored screen given as bytes (the Ray engine reads them on the node that
    holds the bundle); the same checks, names and bytes as :class:`ImagePreparer`, carried in the ref."""
    ref, data = _prepare(io.BytesIO(stored), lambda: stored[:8], rel, spec, episode_id, where, crop)
    return dataclasses.replace(ref, data=stored if data is None else data)


def _prepare(src: Path | IO[bytes], head: Callable[[], bytes], rel: str, spec: ImageSpec, episode_id: str,
             where: Path | str, crop: Crop | None = None) -> tuple[ImageRef, bytes | None]:
    """The ref of one screen and, when re-encoded (or cut to one monitor), its new bytes (None: the
    stored file as it is)."""
    digest = Path(rel).stem
    name = digest if crop is None else f"{digest}-{crop[0]}_{crop[1]}_{crop[2]}x{crop[3]}"
    try:
        with Image.open(src) as img:
            if spec.as_is and crop is None:
                # Opening reads only the header: a cheap check that the file is the PNG it claims to be.
                if img.format != "PNG" or head() != _PNG_SIGNATURE:
                    raise BundleError(f"screen file {rel} is not a PNG", path=where)
                return ImageRef(str(src) if isinstance(src, Path) else "", f"{episode_id}/{digest}.png",
                                digest, img.width, img.height, "png"), None
            data, w, h = _reencode(img, spec, crop)
    except BundleError:
        raise
    except Exception as exc:  # Pillow raises many types for a damaged image
        raise BundleError(f"screen file {rel} cannot be decoded ({exc.__class__.__name__})",
                          path=where, hint="run `wf validate` on this bundle") from None
    return ImageRef("", f"{episode_id}/{name}.{spec.ext}", name, w, h, spec.ext), data


def _reencode(img: Image.Image, spec: ImageSpec, crop: Crop | None = None) -> tuple[bytes, int, int]:
    img.load()
    rgb = img.convert("RGB")
    if crop is not None:
        x, y, w, h = crop
        rgb = rgb.crop((x, y, x + w, y + h))
    if spec.max_side is not None and max(rgb.size) > spec.max_side:
        scale = spec.max_side / max(rgb.size)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if spec.ext == "webp":
        # Lossless keeps the pixels exact; quality (= effort when lossless) 50 is ~25 % faster than the
        # default 80 for <2 % more bytes on desktop frames (measured with bench/export_bench.py frames).
        rgb.save(out, format="WEBP", lossless=True, quality=50, method=4)
    else:
        rgb.save(out, format="PNG", compress_level=6)
    return out.getvalue(), rgb.width, rgb.height

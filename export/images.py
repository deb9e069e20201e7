"""Screenshots for exports: the stored PNG as-is, or re-encoded (lossless WebP, downscaled) with Pillow.

Workers prepare images and hand back small :class:`ImageRef` records naming a file; the single writer
process reads the bytes when it writes the shard, so no image ever travels between processes and memory
stays bounded by one row group.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

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

    def read(self) -> bytes:
        return Path(self.file).read_bytes()


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
        digest = Path(rel).stem
        ext = self.spec.ext
        name = digest if crop is None else f"{digest}-{crop[0]}_{crop[1]}_{crop[2]}x{crop[3]}"
        try:
            with Image.open(src) as img:
                if self.spec.as_is and crop is None:
                    # Opening reads only the header: a cheap check that the file is the PNG it claims to be.
                    if img.format != "PNG":
                        raise BundleError(f"screen file {rel} is not a PNG", path=self.bundle.path)
                    with src.open("rb") as fh:
                        if fh.read(8) != _PNG_SIGNATURE:
                            raise BundleError(f"screen file {rel} is not a PNG", path=self.bundle.path)
                    return ImageRef(str(src), f"{self.episode_id}/{digest}.png", digest,
                                    img.width, img.height, "png")
                data, w, h = _reencode(img, self.spec, crop)
        except BundleError:
            raise
        except Exception as exc:  # Pillow raises many types for a damaged image
            raise BundleError(f"screen file {rel} cannot be decoded ({exc.__class__.__name__})",
                              path=self.bundle.path, hint="run `wf validate` on this bundle") from None
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        dst = self.tmpdir / f"{name}.{ext}"
        dst.write_bytes(data)
        return ImageRef(str(dst), f"{self.episode_id}/{name}.{ext}", name, w, h, ext)


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

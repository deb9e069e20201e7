"""A frame's pixels as a grid of tiles that consecutive frames share: memory grows with what changed, not with time.

A 1920×1080 BGRA frame is 8 MB; the recorder keeps ~1.5 s of frames and a typing session changes the screen
several times a second, so whole-frame copies cost tens of MB for a few changed characters. Here a frame is
a grid of 64×64-pixel tiles (16 KB each); the next frame reuses every tile whose pixels did not change and
owns copies of the others only. Each tile carries its xxh3-64 hash; the frame's identity is the hash of the
grid of tile hashes (so equal pixels give equal identities, cheaply). The contiguous picture is assembled only
when a frame is stored (the encoder, off the input path), straight into RGB.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import xxhash

from wf.recorder.regions import Box, changed_bbox, merge_boxes

TILE = 64
Pixels = npt.NDArray[np.uint32]  # height × width, one BGRA pixel per word


def _hash(tile: Pixels) -> int:
    return xxhash.xxh3_64_intdigest(tile.data)


class TileImage:
    """Immutable once built; tiles (C-contiguous uint32 arrays) may be shared with other images."""

    __slots__ = ("__weakref__", "cols", "digest", "hashes", "height", "new_bytes", "rows", "tiles", "width")

    def __init__(self, width: int, height: int, tiles: list[Pixels], hashes: list[int], new_bytes: int) -> None:
        self.width, self.height = width, height
        self.cols, self.rows = -(-width // TILE), -(-height // TILE)
        self.tiles, self.hashes = tiles, hashes
        self.new_bytes = new_bytes  # bytes of the tiles not shared with the image this one was made from
        grid = np.array(hashes, dtype=np.uint64)
        self.digest = xxhash.xxh3_64_intdigest(b"%dx%d" % (width, height) + grid.tobytes())

    def __len__(self) -> int:
        """Bytes of the picture (as a contiguous BGRA buffer)."""
        return self.width * self.height * 4

    def _span(self, i: int) -> tuple[int, int, int, int]:
        r, c = divmod(i, self.cols)
        x0, y0 = c * TILE, r * TILE
        return x0, y0, min(x0 + TILE, self.width), min(y0 + TILE, self.height)

    @classmethod
    def from_pixels(cls, px: Pixels, prev: TileImage | None = None) -> tuple[TileImage, list[Box], int]:
        """An image of the whole ``px`` (height × width); with ``prev`` of the same size, unchanged tiles are shared.

        Returns the image, the boxes around the pixels that differ from ``prev`` (merged) and their count.
        """
        h, w = px.shape
        same = prev is not None and (prev.width, prev.height) == (w, h)
        img_tiles: list[Pixels] = []
        hashes: list[int] = []
        boxes: list[Box] = []
        changed = new = 0
        cols = -(-w // TILE)
        for i in range(cols * -(-h // TILE)):
            r, c = divmod(i, cols)
            x0, y0 = c * TILE, r * TILE
            view = px[y0:y0 + TILE, x0:x0 + TILE]
            if same:
                assert prev is not None
                old = prev.tiles[i]
                inner, n = changed_bbox(old, view)
                if inner is None:
                    img_tiles.append(old)
                    hashes.append(prev.hashes[i])
                    continue
                boxes.append((x0 + inner[0], y0 + inner[1], inner[2], inner[3]))
                changed += n
            tile = np.ascontiguousarray(view)
            img_tiles.append(tile)
            hashes.append(_hash(tile))
            new += tile.nbytes
        return cls(w, h, img_tiles, hashes, new), merge_boxes(boxes, gap=1), changed

    def patched(self, patches: Iterable[tuple[Box, Pixels]]) -> tuple[TileImage, list[Box], int]:
        """A new image with each ``(box, pixels)`` written in (boxes in image pixels, already clipped).

        Returns the image (tiles no patch changed are shared), the boxes around the pixels that really
        changed (a redraw with the same pixels changes nothing) and their count.
        """
        tiles = list(self.tiles)
        owned: dict[int, Pixels] = {}
        for (bx, by, bw, bh), pixels in patches:
            c0, c1 = bx // TILE, (bx + bw - 1) // TILE
            r0, r1 = by // TILE, (by + bh - 1) // TILE
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    i = r * self.cols + c
                    tx0, ty0, tx1, ty1 = self._span(i)
                    x0, y0 = max(bx, tx0), max(by, ty0)
                    x1, y1 = min(bx + bw, tx1), min(by + bh, ty1)
                    if x1 <= x0 or y1 <= y0:
                        continue
                    tile = owned.get(i)
                    if tile is None:
                        tile = owned[i] = tiles[i].copy()
                    tile[y0 - ty0:y1 - ty0, x0 - tx0:x1 - tx0] = pixels[y0 - by:y1 - by, x0 - bx:x1 - bx]
        hashes = list(self.hashes)
        boxes: list[Box] = []
        changed = new = 0
        for i, tile in owned.items():
            inner, n = changed_bbox(self.tiles[i], tile)
            if inner is None:
                continue  # same pixels: keep sharing the old tile
            tx0, ty0, _, _ = self._span(i)
            boxes.append((tx0 + inner[0], ty0 + inner[1], inner[2], inner[3]))
            changed += n
            tiles[i] = tile
            hashes[i] = _hash(tile)
            new += tile.nbytes
        if not changed:
            return self, [], 0
        return TileImage(self.width, self.height, tiles, hashes, new), merge_boxes(boxes, gap=1), changed

    def painted(self, rects: Iterable[Box], value: int) -> TileImage:
        """A copy with ``rects`` (image pixels) filled with the BGRA word ``value`` (window masks)."""
        patches = []
        for x, y, w, h in rects:
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + w, self.width), min(y + h, self.height)
            if x1 > x0 and y1 > y0:
                patches.append(((x0, y0, x1 - x0, y1 - y0), np.full((y1 - y0, x1 - x0), value, dtype=np.uint32)))
        return self.patched(patches)[0] if patches else self

    def to_pixels(self) -> Pixels:
        """The whole picture as one height × width array (a new 4-bytes-per-pixel buffer)."""
        out = np.empty((self.height, self.width), dtype=np.uint32)
        for i, tile in enumerate(self.tiles):
            x0, y0, x1, y1 = self._span(i)
            out[y0:y1, x0:x1] = tile
        return out

    def to_rgb(self) -> npt.NDArray[np.uint8]:
        """The whole picture as height × width × 3 RGB bytes, converted one row of tiles at a time (a 64-pixel
        strip of BGRA at most is ever held besides the result)."""
        out = np.empty((self.height, self.width, 3), dtype=np.uint8)
        for r in range(self.rows):
            strip = np.concatenate(self.tiles[r * self.cols:(r + 1) * self.cols], axis=1)
            y0 = r * TILE
            out[y0:y0 + strip.shape[0]] = strip.view(np.uint8).reshape(strip.shape[0], self.width, 4)[:, :, 2::-1]
        return out

    def tobytes(self) -> bytes:
        return self.to_pixels().tobytes()

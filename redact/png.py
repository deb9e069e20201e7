"""PNG chunks as the proof and the screen copy see them: where each chunk lies, and the text some carry.

A stored screen is pixels (IDAT, compressed) plus a few fixed-format chunks; anything else — tEXt, and
zTXt/iTXt/iCCP whose payload is zlib-compressed, so a byte search never sees it — could carry text
written by another tool. The proof decompresses those and searches them; `wf redact` copies a screen
byte for byte only when it has no such chunk (else it re-encodes the pixels, dropping them).
"""

from __future__ import annotations

import mmap
import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks with a fixed numeric layout: they cannot hold text. Everything else is treated as possible text.
PIXEL_CHUNKS = frozenset({"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "pHYs", "sBIT", "bKGD"})
Data = bytes | memoryview | mmap.mmap
_MAX_TEXT = 64 << 20  # a decompressed text chunk larger than this is cut (a zip bomb must not exhaust memory)


def chunks(data: Data) -> Iterator[tuple[int, int, str]]:
    """(start, end, type) of every chunk, the 8-byte length/type prefix and CRC included; bytes after the
    last whole chunk come out as type ``"outside chunks"``."""
    view = memoryview(data)
    pos, n = 8, len(view)
    yield 0, 8, "signature"
    while pos + 8 <= n:
        (length,) = struct.unpack(">I", view[pos:pos + 4])
        kind = bytes(view[pos + 4:pos + 8]).decode("latin-1")
        end = min(pos + 12 + length, n)
        yield pos, end, kind
        pos = end
    if pos < n:
        yield pos, n, "outside chunks"


def has_only_pixels(data: bytes) -> bool:
    """True when every chunk of the PNG ``data`` is one that cannot hold text."""
    return data[:8] == SIGNATURE and all(kind in PIXEL_CHUNKS for _, _, kind in list(chunks(data))[1:])


def compressed_texts(data: Data) -> Iterator[tuple[str, int, bytes]]:
    """(chunk type, chunk start, decompressed payload) of every zTXt, compressed iTXt and iCCP chunk.

    A payload that does not decompress is returned raw (it is searched as it is).
    """
    view = memoryview(data)
    for start, end, kind in chunks(view):
        if kind not in ("zTXt", "iTXt", "iCCP"):
            continue
        body = bytes(view[start + 8:max(start + 8, end - 4)])
        name_end = body.find(b"\0")
        if name_end < 0:
            yield kind, start, body
            continue
        if kind == "iTXt":  # keyword \0 flag method language \0 translated keyword \0 text
            flag = body[name_end + 1:name_end + 2]
            lang_end = body.find(b"\0", name_end + 3)
            tr_end = body.find(b"\0", lang_end + 1) if lang_end >= 0 else -1
            if tr_end < 0:
                yield kind, start, body
                continue
            head, payload = body[:tr_end + 1], body[tr_end + 1:]
            if flag != b"\1":
                continue  # uncompressed: the raw byte search already reads it
        else:  # keyword \0 method compressed-data
            head, payload = body[:name_end + 2], body[name_end + 2:]
        yield kind, start, head + _inflate(payload)


def _inflate(payload: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        return d.decompress(payload, _MAX_TEXT)
    except zlib.error:
        return payload

"""Frame-sized buffers go back to the system when freed (glibc's allocator keeps them otherwise).

glibc serves a request above M_MMAP_THRESHOLD (128 KB at first) with its own mmap, returned to the system
on free — but its threshold is *dynamic*: freeing such a block raises it to the block's size (up to 32 MB),
so from then on the recorder's 6–8 MB buffers (a grab, an RGB picture for the PNG encoder, Pillow's copy)
come from the heaps of whichever thread allocated them and stay resident after they are freed. Measured
with `make soak`'s harness: ~110 MB and slowly climbing without this setting, ~90 MB and flat with it
(docs/benchmarks.md). Fixing the threshold (which turns the dynamic adjustment off) costs a few page
faults per large buffer, a fraction of a millisecond next to the 40 ms a PNG takes.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # malloc.h
BIG_BUFFER = 1 << 20  # bytes: frames and pictures are far above, tiles (16 KB) and events far below
TRIM_EVERY = 60.0  # s between two malloc_trim calls (each costs about a millisecond)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return None
    return libc


_LIBC = _libc()


def keep_big_buffers_out_of_the_heap() -> bool:
    """Set glibc's mmap threshold to :data:`BIG_BUFFER`; False where there is no glibc (nothing to do)."""
    return _LIBC is not None and bool(_LIBC.mallopt(M_MMAP_THRESHOLD, BIG_BUFFER))


class Trimmer:
    """Hands free heap pages back to the system now and then (``malloc_trim``).

    The 16 KB tiles and the grabbed areas of every size churn through the grabber's and the encoder's thread
    heaps; their free space fragments and, untrimmed, stays resident: ~0.05 MB/min in a soak, with the
    bytes in use flat (glibc's mallinfo2, smaps: one thread heap growing, its free part growing with it).
    ``malloc_trim`` returns the free pages inside every heap, not only at its end.
    """

    def __init__(self, every: float = TRIM_EVERY) -> None:
        self.every = every
        self._next = every

    def maybe(self, now: float) -> None:
        if _LIBC is None or now < self._next:
            return
        self._next = now + self.every
        _LIBC.malloc_trim(0)

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


def keep_big_buffers_out_of_the_heap() -> bool:
    """Set glibc's mmap threshold to :data:`BIG_BUFFER`; False where there is no glibc (nothing to do)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, BIG_BUFFER))

"""Reading frames in parallel: forked worker processes, each with its own OCR engine and reader.

Processes rather than threads. Measured here (bench/ocr_bench.py, "workers": the same frames read by one
engine, by two threads with an engine each, and by two processes): at load 0.9, 1.95× one engine for
processes and 1.87× for threads; on this shared 2-core machine under load the two trade places from run to
run (0.96–1.6×, neither ahead), because other sessions take the cores. What decides it: Tesseract releases
the GIL while it recognises, but the matcher (:func:`wf.redact.onscreen.find_on_screen`) is pure Python —
1.6 s beside an 18.8 s reading of a 1080p screen full of text — and runs in parallel only in processes.
The workers are **forked**: the engine factory and the literals and patterns looked for are
inherited with the parent's memory — never pickled, never sent through a pipe. A task is a frame's path and
rectangles; a result is boxes and hits (literal numbers, pattern names: no text) and the worker's reading
counts, which are merged into the parent's reader so the pixel proof knows what each frame showed.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from wf.redact.ocr import OcrCache, OcrEngine
from wf.redact.onscreen import Hit
from wf.redact.presets import ScrubPattern
from wf.redact.screen_reader import ScreenReader

T = TypeVar("T")
R = TypeVar("R")
Task = Callable[[ScreenReader, T], R]

# Set in each worker by the pool's initializer (inherited through fork, not pickled).
_setup: tuple[Callable[[], OcrEngine], tuple[str, ...], tuple[ScrubPattern, ...]] | None = None
_reader: ScreenReader | None = None


def _init(make: Callable[[], OcrEngine], literals: tuple[str, ...], patterns: tuple[ScrubPattern, ...]) -> None:
    global _setup, _reader
    _setup, _reader = (make, literals, patterns), None


def _run(fn: Task[T, R], item: T) -> tuple[R, dict[str, tuple[Hit, ...]], int, float]:
    """In a worker: ``fn(reader, item)`` with the worker's own reader (made on its first task)."""
    global _reader
    if _reader is None:
        assert _setup is not None, "the pool's initializer did not run"
        make, literals, patterns = _setup
        _reader = ScreenReader(OcrCache(make(), keep=False), literals, patterns)
    known = set(_reader.found)
    reads, seconds = _reader.cache.reads, _reader.cache.seconds
    result = fn(_reader, item)
    new = {d: h for d, h in _reader.found.items() if d not in known}
    return result, new, _reader.cache.reads - reads, _reader.cache.seconds - seconds


def read_all(fn: Task[T, R], items: Sequence[T], reader: ScreenReader, make_engine: Callable[[], OcrEngine],
             jobs: int) -> Iterator[R]:
    """``fn(reader, item)`` for every item, results in order: here with ``reader`` when ``jobs`` is 1 or there
    is one item, else in ``min(jobs, len(items))`` forked workers whose findings are merged into ``reader``.
    ``fn`` must be a module-level function (it is pickled by name)."""
    workers = min(jobs, len(items))
    if workers <= 1:
        for item in items:
            yield fn(reader, item)
        return
    # fork, explicitly: the factory may be a closure, and the secrets must not be pickled (see above).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                             initargs=(make_engine, reader.literals, reader.patterns)) as pool:
        for result, found, reads, seconds in pool.map(_run, [fn] * len(items), items):
            reader.merge(found, reads, seconds)
            yield result

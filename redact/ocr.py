"""Reading text off stored screens: an OCR seam, its Tesseract implementation, and a per-hash cache.

The engine is **Tesseract** 5 driven in-process through **tesserocr** (its wheel bundles libtesseract;
Debian's ``tesseract-ocr-eng`` supplies the language data). Chosen on figures measured here
(``bench/ocr_bench.py``, docs/benchmarks.md): secrets typed into real apps — an echoing xterm (light,
dark, wrapping; TrueType faces and xterm's own bitmap fonts), a Tk entry, an openbox title bar — on a
1920×1080 Xvfb, 10 screens at 11–20 px, four secret sets, 80 planted occurrences, the last two screens
(other secrets, Noto and bitmap 7x13) chosen after the readings were fixed:

* this engine with its three readings (:data:`DEFAULT_PASSES`): 80/80 found, 1 stray mask (a decoy card
  number misread into one that passes Luhn), masks 1.3–1.5× the text's area, ~0.73 s of one core per
  distinct frame; the former two readings 73/80 (xterm's 6x13 and 9x15 bitmap text lost) at ~0.49 s;
* RapidOCR (onnxruntime, PP-OCRv4 models inside its wheel — no download at run time): 80/80 found, but
  masks 1.7–2.5× the text (its boxes are per line, taller), ~3.2 s CPU per frame (4.4×), and ~290 MB
  of wheels (opencv, onnxruntime) against ~35 MB;
* the same Tesseract through pytesseract (Debian's 5.3 CLI): 63/80 with its one reading, a temporary
  PNG of every screen — secrets included — on disk, no character boxes, one subprocess per reading;
* EasyOCR (measured by the module's first author): needs PyTorch (a 5.9 GB venv here) and downloads its
  models at run time, which fails here ("Downloading detection model" → URLError): ruled out.

What OCR cannot promise (say it wherever its verdict is shown): text smaller than ~8 px, stylised,
rotated, low-contrast, anti-aliased into a busy background, partly covered or drawn as images may be
misread or not seen at all, so "no text found" is evidence, not proof, that a secret is not visible.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

from PIL import Image, ImageOps

from wf.bundle.errors import EnvironmentProblem

if TYPE_CHECKING:  # imported when an engine is made: a missing or broken wheel becomes a clear error
    from tesserocr import RIL, PyResultIterator

Box = tuple[int, int, int, int]  # x, y, w, h in the frame's own pixels

# Where distributions put Tesseract's language data (Debian/Ubuntu versioned, then Fedora/Arch, then /usr/local).
_TESSDATA_GLOBS = ("/usr/share/tesseract-ocr/*/tessdata", "/usr/share/tessdata", "/usr/local/share/tessdata")


@dataclass(frozen=True, slots=True)
class Word:
    """One word as the engine read it: its text, box, the line it is on, and its characters.

    ``chars`` holds one box per character of ``text`` when the engine gives them (empty otherwise: the
    matcher then divides ``box`` evenly). ``conf`` is the engine's confidence, 0–100. ``reading``
    numbers the engine's passes over the frame: words of different readings of the same text overlap,
    and are never joined into one line.
    """

    text: str
    box: Box
    line: int
    conf: float = 0.0
    chars: tuple[Box, ...] = ()
    reading: int = 0


class OcrEngine(Protocol):
    """Reads RGB pixels into words. ``name`` identifies engine, version and settings (cache keys use it)."""

    @property
    def name(self) -> str: ...

    def read(self, rgb: bytes, width: int, height: int) -> list[Word]: ...


def find_tessdata(lang: str = "eng") -> str:
    """The tessdata directory holding ``<lang>.traineddata`` ($TESSDATA_PREFIX first), with a trailing slash."""
    candidates = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else []
    for pattern in _TESSDATA_GLOBS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))  # the newest versioned directory first
    for d in candidates:
        if os.path.isfile(os.path.join(d, f"{lang}.traineddata")):
            return d.rstrip("/") + "/"
    raise EnvironmentProblem(f"no Tesseract language data for {lang!r} found",
                             hint="apt-get install tesseract-ocr (or run `make setup`), or set TESSDATA_PREFIX")


@dataclass(frozen=True, slots=True)
class Pass:
    """One Tesseract reading: upscale factor, page segmentation mode, thresholding method, and whether
    the grey levels are inverted first (light text on dark: title bars, dark terminals and themes)."""

    scale: int = 2
    psm: int = 11  # sparse text: a screen is scattered labels, not a column of prose
    thresholding: int = 2  # 0 Otsu (global), 1 Leptonica adaptive Otsu, 2 Sauvola (local)
    invert: bool = False
    resample: str = "bicubic"  # how the frame is upscaled: a Pillow Resampling name

    def __str__(self) -> str:
        return f"x{self.scale}/psm{self.psm}/thr{self.thresholding}" + ("/inv" if self.invert else "") + \
            ("" if self.resample == "bicubic" else f"/{self.resample}")


# Three readings, chosen on measurements (every 1- to 3-reading combination of 14 settings, scored on 8 screens
# and 64 planted occurrences: TrueType faces at 11–20 px and xterm's own bitmap fonts, 6x13 to 10x20):
# Sauvola at 2× (bilinear: bicubic's ringing turns bitmap glyphs into other letters) reads bitmap terminal
# text, which the former Otsu-at-2× reading lost entirely at 6x13; Sauvola at 1× reads text inside a focused
# entry's dark border, which the 2× readings drop with the border; Otsu at 1× reads light-on-dark title bars.
# Together 64/64 at ~0.8 s of CPU per frame (the best two readings: 61/64 at ~0.6 s); on the two test
# screens chosen afterwards, 16/16 (bench/ocr_bench.py).
DEFAULT_PASSES = (Pass(1, 11, 0), Pass(1, 11, 2), Pass(2, 11, 2, resample="bilinear"))


class TesseractEngine:
    """Tesseract through tesserocr, tuned for screens rather than scanned pages.

    Each :class:`Pass` reads the frame in grey levels, upscaled (bicubic: screen text is 10–20 px high,
    Tesseract's LSTM is trained on ~30 px glyphs), with its page segmentation and thresholding; the
    words of all passes are returned together (the matcher finds a literal in whichever reading has it,
    and masks are merged). Sauvola's local threshold copes with white-on-blue title bars next to black
    text on white; no single setting reads every app (bench), hence passes.

    One instance holds one loaded Tesseract and is not re-entrant: ``read`` takes a lock, so threads
    share it safely but serially (frames are read in parallel by worker processes, each with its own
    engine: :mod:`wf.redact.workers`).
    """

    def __init__(self, *, passes: tuple[Pass, ...] = DEFAULT_PASSES, lang: str = "eng",
                 tessdata: str | None = None) -> None:
        try:
            import tesserocr
        except ImportError as exc:  # a broken install, not a missing feature: tesserocr is a dependency
            raise EnvironmentProblem(f"tesserocr cannot be imported: {exc}",
                                     hint="reinstall wf (`make setup`)") from None
        self._tr = tesserocr
        self.passes = passes
        path = tessdata or find_tessdata(lang)
        try:
            self._api = tesserocr.PyTessBaseAPI(path=path, lang=lang)
        except RuntimeError as exc:
            raise EnvironmentProblem(f"Tesseract did not start with {path}{lang}.traineddata: {exc}",
                                     hint="apt-get install --reinstall tesseract-ocr-eng") from None
        self._lock = threading.Lock()
        version = tesserocr.PyTessBaseAPI.Version().split()[0]
        self._name = f"tesseract {version} {lang} " + "+".join(map(str, passes))

    @property
    def name(self) -> str:
        return self._name

    def read(self, rgb: bytes, width: int, height: int) -> list[Word]:
        grey = Image.frombuffer("RGB", (width, height), rgb, "raw", "RGB", 0, 1).convert("L")
        images: dict[tuple[int, str, bool], Image.Image] = {}
        words: list[Word] = []
        with self._lock:
            for n, p in enumerate(self.passes):
                how = p.resample if p.scale > 1 else ""
                if (p.scale, how, False) not in images:
                    images[p.scale, how, False] = grey if p.scale == 1 else grey.resize(
                        (width * p.scale, height * p.scale), Image.Resampling[how.upper()])
                if (p.scale, how, p.invert) not in images:
                    images[p.scale, how, True] = ImageOps.invert(images[p.scale, how, False])
                img = images[p.scale, how, p.invert]
                self._api.SetPageSegMode(p.psm)  # type: ignore[arg-type]  # PSM members are plain ints
                self._api.SetVariable("thresholding_method", str(p.thresholding))
                self._api.SetSourceResolution(96 * p.scale)  # sizes its heuristics; silences a warning
                self._api.SetImageBytes(img.tobytes(), img.width, img.height, 1, img.width)  # type: ignore[arg-type]  # stub says str
                self._api.Recognize()
                words.extend(self._collect(p.scale, n, first_line=words[-1].line + 1 if words else 0))
        return words

    def _collect(self, s: int, reading: int, first_line: int) -> list[Word]:
        """Walk the result at character level, grouping characters into words and words into lines."""
        # The stubs declare the RIL members as `...`; at run time they are the ints the C API wants.
        word, line_level, symbol = (cast("RIL", v) for v in (self._tr.RIL.WORD, self._tr.RIL.TEXTLINE,
                                                               self._tr.RIL.SYMBOL))
        it: PyResultIterator | None = self._api.GetIterator()  # None when nothing was recognised
        words: list[Word] = []
        line = first_line - 1
        text, box, conf, chars = "", (0, 0, 0, 0), 0.0, list[Box]()

        def flush() -> None:
            if text.strip():
                words.append(Word(text, box, line, conf, tuple(chars) if len(chars) == len(text) else (), reading))

        if it is None or it.Empty(symbol):
            return words
        while True:
            if it.IsAtBeginningOf(word):
                flush()
                if it.IsAtBeginningOf(line_level):
                    line += 1
                try:
                    text = it.GetUTF8Text(word)
                except RuntimeError:  # "No text returned": a blob Tesseract could not read
                    text = ""
                box = _scaled(it.BoundingBox(word), s)
                conf = float(it.Confidence(word))
                chars = []
            bb = it.BoundingBox(symbol)
            if bb is not None:
                chars.append(_scaled(bb, s))
            if not it.Next(symbol):
                break
        flush()
        return words


def _scaled(bb: tuple[int, int, int, int] | None, s: int) -> Box:
    """Tesseract's (x0, y0, x1, y1) in upscaled pixels → (x, y, w, h) in frame pixels, rounded outwards."""
    if bb is None:
        return (0, 0, 0, 0)
    x0, y0, x1, y1 = bb
    fx, fy = x0 // s, y0 // s
    return fx, fy, -(-x1 // s) - fx, -(-y1 // s) - fy


@dataclass
class OcrCache:
    """Words per screen content hash: each distinct frame is read once per run.

    Bundle screens are named by the xxh3 hash of their pixels, so the hash *is* the content: the same
    picture stored twice, a screen shared by several steps, and an unmasked screen copied into the
    redacted bundle are all read once, and the proof re-reads only the screens whose pixels changed.

    In memory only, on purpose: the words of a screen are the secrets on it, in plain text. Writing
    them to a cache directory would put a second, searchable copy of every secret outside the 0700
    bundle (docs/privacy.md promises the recording lives only there), to save a re-run
    ~0.8 s per distinct frame (bench). ``keep=False`` counts readings but keeps no words: a screen full
    of text reads into megabytes of them, so `wf redact` keeps only what it found in them
    (:class:`wf.redact.screen_reader.ScreenReader`).
    """

    engine: OcrEngine
    words: dict[str, tuple[Word, ...]] = field(default_factory=dict)
    keep: bool = True
    reads: int = 0
    hits: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, digest: str, pixels: Callable[[], tuple[bytes, int, int]]) -> tuple[Word, ...]:
        """The words of the screen with content hash ``digest``; ``pixels`` is called only on a miss."""
        with self._lock:
            found = self.words.get(digest)
            if found is not None:
                self.hits += 1
                return found
        rgb, width, height = pixels()
        t0 = time.perf_counter()
        result = tuple(self.engine.read(rgb, width, height))
        with self._lock:
            self.seconds += time.perf_counter() - t0
            self.reads += 1
            if self.keep:
                self.words[digest] = result
        return result

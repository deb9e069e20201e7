"""Reading secrets off screens: the matcher on hand-made OCR words, the Tesseract engine on rendered text,
and — on a real 1920×1080 Xvfb with openbox — secrets typed by xdotool into an echoing xterm, a Tk entry
and a window title, found, masked, and proven gone by an independent OCR pass."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ocr_kit import NAMES, TUNED, Scene, coverage, desktop, excess, mask_canvas, plant, strong_reader

from wf.bundle.errors import EnvironmentProblem
from wf.bundle.events import Stop, single_screen_header
from wf.bundle.writer import BundleWriter
from wf.redact.images import fill_rects
from wf.redact.ocr import OcrCache, Pass, TesseractEngine, Word, find_tessdata
from wf.redact.onscreen import allowed_errors, find_on_screen, fold, mask_rects, normalise
from wf.redact.pixel_proof import bundle_screens, prove_pixels
from wf.redact.presets import SECRETS
from wf.redact.screen_reader import ScreenReader

TOKEN, EMAIL, CARD = TUNED.literals
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def words(*rows: str, x0: int = 10, y0: int = 10, cw: int = 8, lh: int = 20) -> list[Word]:
    """OCR words as a monospace engine would return them: row n at y0 + n*lh, each character cw wide."""
    out = []
    for n, row in enumerate(rows):
        col = 0
        for token in row.split(" "):
            if token:
                x = x0 + col * cw
                chars = tuple((x + i * cw, y0 + n * lh, cw, 14) for i in range(len(token)))
                out.append(Word(token, (x, y0 + n * lh, cw * len(token), 14), n, 90.0, chars))
            col += len(token) + 1
    return out


def literal_hits(ws: list[Word], literals: tuple[str, ...] = TUNED.literals) -> dict[int, int]:
    found: dict[int, int] = {}
    for h in find_on_screen(ws, literals):
        if h.literal is not None and not h.partial:
            found[h.literal] = found.get(h.literal, 0) + 1
    return found


# ------------------------------------------------------------------------------------ the matcher


def test_normalising_keeps_one_character_per_character() -> None:
    assert fold("O0oIl1|!S5$B8Z2G9") == "oooll" "lllsssbbzzgg"
    assert normalise(" ghp_ AB\t") == "ghp_ab"
    assert len(fold("Straße")) == len("Straße")


def test_error_budget() -> None:
    assert allowed_errors(9) == 0 and allowed_errors(10) == 1 and allowed_errors(40) == 5
    assert allowed_errors(40, fragment=True) == 4 and allowed_errors(18, fragment=True) == 1
    assert allowed_errors(16, digits=True) == 0


def test_a_literal_split_into_words_glued_to_punctuation_is_found() -> None:
    ws = words(f"export API_KEY={TOKEN[:17]} {TOKEN[17:]}; card {CARD}, mail <{EMAIL}>")
    assert literal_hits(ws) == {0: 1, 1: 1, 2: 1}


def test_a_token_wrapped_over_two_and_three_lines_is_found_once() -> None:
    ws = words("tok=" + TOKEN[:20], TOKEN[20:])
    hits = [h for h in find_on_screen(ws, [TOKEN]) if not h.partial]
    assert len(hits) == 1 and len(hits[0].boxes) == 2  # one box per line
    ws3 = words("x" + TOKEN[:12], TOKEN[12:26], TOKEN[26:])
    assert [len(h.boxes) for h in find_on_screen(ws3, [TOKEN]) if not h.partial] == [3]


def test_lines_side_by_side_are_not_taken_for_a_wrap() -> None:
    left = words(TOKEN[:20])
    right = [Word(w.text, (w.box[0] + 600, w.box[1] + 20, w.box[2], w.box[3]), 5) for w in words(TOKEN[20:])]
    assert not [h for h in find_on_screen(left + right, [TOKEN]) if not h.partial]


def test_ocr_confusions_and_a_few_misread_characters_are_tolerated() -> None:
    read = TOKEN.replace("0", "O").replace("1", "l")  # classes: no edit spent
    assert literal_hits(words(read)) == {0: 1}
    garbled = read[:10] + "#" + read[11:25] + read[26:]  # one substitution, one deletion
    hit = [h for h in find_on_screen(words(garbled), [TOKEN]) if not h.partial]
    assert len(hit) == 1 and hit[0].errors == 2
    too_many = "".join("#" if i % 7 == 3 else c for i, c in enumerate(TOKEN))  # 6 edits > 5
    assert not [h for h in find_on_screen(words(too_many), [TOKEN]) if not h.partial]


def test_a_near_miss_spelled_out_is_not_a_fragment_of_the_address() -> None:
    # "alice.martin at examp…" is 2 edits from the fragment "alice.martin@examp": fragments allow 1 per 10
    assert literal_hits(words("mail alice.martin at example-corp dot com")) == {}
    assert not find_on_screen(words("mail alice.martin at example-corp dot com"), [EMAIL])


def test_bitmap_font_misreads_of_symbols_fold_to_letters() -> None:
    read = TOKEN.replace("Y", "¥")  # Tesseract on xterm's 6x13 font
    assert literal_hits(words(read)) == {0: 1} and normalise(read) == normalise(TOKEN)


def test_digits_must_be_read_exactly() -> None:
    assert literal_hits(words("order 4539 5787 6362 1487")) == {}
    assert literal_hits(words("card 4539 5787 6362 1486")) == {2: 1}


def test_a_token_cut_off_by_a_field_edge_is_masked_as_a_partial_hit() -> None:
    ws = words(TOKEN[:28])
    hits = find_on_screen(ws, [TOKEN])
    assert hits and all(h.partial for h in hits)
    x, _, w, _ = hits[0].boxes[0]
    assert x + w >= 10 + 8 * 28  # covers everything read (and the expected rest)


def test_unread_characters_at_the_ends_widen_the_mask() -> None:
    ws = words("Inbox - " + EMAIL[2:])  # "al" not read, as Tesseract did on a title bar
    hit = next(h for h in find_on_screen(ws, [EMAIL]) if not h.partial)
    assert hit.boxes[0][0] <= 10 + 8 * 8 - 2 * 8  # two characters to the left of "ice"


def test_boxes_hug_the_characters_with_a_small_margin_and_stay_in_the_frame() -> None:
    ws = words(f"key={TOKEN};", x0=0, y0=0)
    (box,) = next(h for h in find_on_screen(ws, [TOKEN], frame=(1000, 300)) if not h.partial).boxes
    assert box == (4 * 8 - 2, 0, 40 * 8 + 2 * 2, 14 + 2)  # margin 2 px, clipped at the top edge


def test_patterns_find_secrets_never_typed_but_do_not_run_on_into_the_next_line() -> None:
    ws = words(f"token {TOKEN}", "card: 4539 5787 6362 1486", f"{EMAIL}", "Token")
    by = {h.pattern: h for h in find_on_screen(ws, [], SECRETS)}
    assert set(by) == {"github-token", "email", "card-number"}
    assert all(len(h.boxes) == 1 for h in by.values())  # "…0uQi" + "card:" is not a wrapped token


def test_literal_indices_and_no_secret_text_in_hits() -> None:
    (hit,) = [h for h in find_on_screen(words(EMAIL), [TOKEN, EMAIL]) if not h.partial]
    assert hit.literal == 1
    assert EMAIL not in str(hit.to_json())


# ------------------------------------------------------------------------------------ engine and cache


def render(text: str, px: int = 15, size: tuple[int, int] = (900, 60)) -> tuple[bytes, int, int]:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(img).text((10, 15), text, fill=(0, 0, 0), font=ImageFont.truetype(MONO, px))
    return img.tobytes(), img.width, img.height


def test_tesseract_reads_words_with_character_boxes() -> None:
    rgb, w, h = render(f"export API_KEY={TOKEN}")
    engine = TesseractEngine()
    ws = engine.read(rgb, w, h)
    assert literal_hits(ws) == {0: len(engine.passes)}  # one hit per reading
    assert all(len(word.chars) in (0, len(word.text)) for word in ws)
    token_word = next(word for word in ws if "Z8qk" in word.text)
    assert token_word.chars and all(token_word.box[0] <= c[0] <= token_word.box[0] + token_word.box[2]
                                    for c in token_word.chars)


def test_blank_frames_have_no_words() -> None:
    e = TesseractEngine(passes=(Pass(1, 11, 2),))
    assert e.read(bytes(3 * 200 * 100), 200, 100) == []
    assert e.read(b"\xff" * (3 * 200 * 100), 200, 100) == []


def test_missing_language_data_is_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    with pytest.raises(EnvironmentProblem, match="language data"):
        find_tessdata("xx-no-such-language")


class CountingEngine:
    """A unit seam: counts reads and returns a fixed word."""

    name = "counting"

    def __init__(self) -> None:
        self.reads = 0

    def read(self, rgb: bytes, width: int, height: int) -> list[Word]:
        self.reads += 1
        return [Word("w", (0, 0, 1, 1), 0)]


def test_the_cache_reads_each_distinct_frame_once() -> None:
    engine = CountingEngine()
    cache = OcrCache(engine)
    loads: list[str] = []

    def loader(tag: str) -> Callable[[], tuple[bytes, int, int]]:
        def load() -> tuple[bytes, int, int]:
            loads.append(tag)
            return b"\0\0\0", 1, 1

        return load

    for digest in ("a", "b", "a", "a", "b"):
        cache.get(digest, loader(digest))
    assert engine.reads == 2 and loads == ["a", "b"] and cache.hits == 3


# ------------------------------------------------------------------------------------ real apps on Xvfb


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    """Secrets typed with xdotool into an echoing xterm (plain, dark, narrow), a Tk entry and a title."""
    with desktop(15) as d:
        yield plant(d, 15)


@pytest.mark.slow
@pytest.mark.display
def test_typed_secrets_are_found_masked_and_gone(scene: Scene, tmp_path: Path) -> None:
    apps = {(NAMES[p.literal], p.app) for p in scene.planted}
    assert {("token", "xterm"), ("token", "tk entry"), ("email", "title bar"), ("token", "wrapped xterm"),
            ("card", "xterm"), ("token", "dark xterm"), ("email", "tk entry")} <= apps

    independent = strong_reader()
    seen = find_on_screen(independent.read(scene.rgb, scene.width, scene.height), TUNED.literals)
    seen_canvas = mask_canvas(mask_rects(seen), scene.width, scene.height)
    unseen = [f"{NAMES[p.literal]} in {p.app}" for p in scene.planted if coverage(p, seen_canvas) < 0.9]
    assert not unseen, f"the independent pass must see every planted occurrence on the input: {unseen}"

    hits = find_on_screen(TesseractEngine().read(scene.rgb, scene.width, scene.height), TUNED.literals, SECRETS,
                          frame=(scene.width, scene.height))
    rects = mask_rects(hits)
    canvas = mask_canvas(rects, scene.width, scene.height)
    for p in scene.planted:
        assert coverage(p, canvas) == 1.0, f"{NAMES[p.literal]} in {p.app} not fully masked"
    ratios = [excess(p, [b for h in hits if h.literal == p.literal for b in h.boxes]) for p in scene.planted]
    print(f"\nmasked area ÷ text box, per occurrence: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.2f}")
    assert statistics.median(ratios) <= 1.8 and max(ratios) <= 2.5, "masks must cover the text and little else"

    masked = fill_rects(scene.rgb, scene.width, scene.height, rects)
    after = find_on_screen(strong_reader().read(masked, scene.width, scene.height), TUNED.literals, SECRETS)
    assert after == [], f"still readable after masking: {[h.to_json() for h in after]}"


@pytest.mark.slow
@pytest.mark.display
def test_pixel_proof_names_the_screens_that_still_show_a_secret(scene: Scene, tmp_path: Path) -> None:
    engine = TesseractEngine()
    hits = find_on_screen(engine.read(scene.rgb, scene.width, scene.height), TUNED.literals, SECRETS,
                          frame=(scene.width, scene.height))
    masked = fill_rects(scene.rgb, scene.width, scene.height, mask_rects(hits))
    root = tmp_path / "b"
    with BundleWriter(root, single_screen_header(scene.width, scene.height, started="2026-11-27T00:00:00+00:00")) as w:
        w.screen_event(0.1, scene.rgb, scene.width, scene.height, "pre")
        w.screen_event(0.2, masked, scene.width, scene.height, "post")
        w.screen_event(0.3, masked, scene.width, scene.height, "post")  # same pixels: one read
        w.write(Stop(t=0.4, reason="test", events=3, dropped=0, screens=3))
    literals = {lit: name for lit, name in zip(TUNED.literals, TUNED.patterns, strict=True)}
    reader = ScreenReader.of(engine, list(literals), SECRETS)
    proof = prove_pixels(bundle_screens(root), reader)
    assert proof.screens == 2 and proof.distinct == 2 and proof.read == 2  # two files: input and masked
    assert not proof.ok
    shown = {f.screen for f in proof.survivors}
    assert len(shown) == 1, "only the unmasked screen still shows secrets"
    numbers = {f.literal for f in proof.survivors if f.literal is not None}
    assert numbers == {1, 2, 3}  # every literal, by its number in sorted order
    assert all(lit not in str(proof.to_json()) for lit in TUNED.literals)
    again = prove_pixels(bundle_screens(root), reader)
    assert again.read == 0 and again.survivors == proof.survivors  # the reader answers the second time
    assert not reader.cache.words, "no words are kept: only the hits"

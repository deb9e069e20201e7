"""The proof's closed gaps: names are searched, a hit in a JSON line counts unless it is provably structure, PNG text
chunks are decompressed; and the OCR pass's settling and verdicts, with a scripted engine as the unit seam."""

from __future__ import annotations

import io
import json
import threading
from functools import partial
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image, PngImagePlugin
from redact_kit import H, Recording, W, all_bytes

from wf.bundle.events import Mark, Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash, load_rgb
from wf.cli.main import run
from wf.redact.ocr import Word
from wf.redact.png import compressed_texts, has_only_pixels
from wf.redact.proof import prove_gone
from wf.redact.redactor import redact_bundle
from wf.redact.screen_reader import ScreenReader
from wf.redact.spec import build_spec
from wf.redact.structure import REDACTION_KEYS, header_structure, text_strings, tokens
from wf.redact.workers import read_all

TOKEN = "ghp_" + "Zx9Qw3Er5Ty7Ui1Op2As4Df6Gh8Jk0LmNbVc"


def wheres(proof_findings: list) -> set[str]:  # type: ignore[type-arg]
    return {f"{f.file}: {f.where}" for f in proof_findings}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    r = Recording(tmp_path / "src")
    r.window("term", "xterm.XTerm")
    r.screen("start")
    r.type("T=" + TOKEN + "\n")
    r.screen()
    r.t = 3.123456
    r.w.write(Mark(t=r.t, label=None))
    return r.close()


# ------------------------------------------------------------------------------- names


def test_file_and_directory_names_are_searched(bundle: Path) -> None:
    (bundle / f"notes-{TOKEN}").mkdir()
    (bundle / f"notes-{TOKEN}" / "x.txt").write_text("nothing here")
    proof = prove_gone(bundle, {TOKEN: "github-token"})
    found = wheres(proof.survivors)
    assert f"notes-{TOKEN}: directory name" in found and f"notes-{TOKEN}/x.txt: file name" in found


def test_a_screen_named_by_its_own_pixels_is_incidental_a_renamed_one_is_not(bundle: Path) -> None:
    screen = next(e for e in Bundle.open(bundle).events() if isinstance(e, Screen))
    piece = screen.hash[3:11]  # a hex "secret" that happens to be in a content hash
    proof = prove_gone(bundle, {piece: "scrub#1"})
    assert proof.ok, proof.survivors
    assert f"{screen.path}: file name" in wheres(proof.incidental)
    assert any(f.file == "events.jsonl" for f in proof.incidental)  # the screen line's hash and path
    # The same name on other pixels proves nothing: a survivor, in the name and in the line that names it.
    other = bundle / screen.path
    img = Image.open(other).convert("RGB")
    img.putpixel((0, 0), (1, 2, 3))
    img.save(other)
    proof = prove_gone(bundle, {piece: "scrub#1"})
    assert f"{screen.path}: file name" in wheres(proof.survivors)
    assert any(f.file == "events.jsonl" and f.where.startswith("line") for f in proof.survivors)


# ------------------------------------------------------------------------------- event lines


def test_a_hit_inside_a_number_is_incidental(bundle: Path) -> None:
    proof = prove_gone(bundle, {"123456": "scrub#1"})  # the mark's "t": 3.123456
    assert proof.ok and any(f.where.startswith("line") for f in proof.incidental)


@pytest.mark.parametrize("line, why", [
    ({"type": "key_down", "t": 9.0, "key": "x", "char": "Q7-secret-Q7"}, "a typed character (an input method)"),
    ({"type": "mouse_move", "t": 9.0, "x": 1, "y": 2, "note": "Q7-secret-Q7"}, "an unknown field of a known type"),
    ({"type": "clipboard", "t": 9.0, "text": "Q7-secret-Q7"}, "an unknown event type"),
])
def test_a_hit_in_any_text_of_an_event_line_is_a_survivor(bundle: Path, line: dict[str, object], why: str) -> None:
    with (bundle / "events.jsonl").open("ab") as f:
        f.write(orjson.dumps(line) + b"\n")
    proof = prove_gone(bundle, {"Q7-secret-Q7": "scrub#1"})
    assert not proof.ok, why  # the old rule called all three "incidental": their types were structural


def test_named_keys_and_timestamps_are_structure_a_hit_across_tokens_is_not(tmp_path: Path) -> None:
    r = Recording(tmp_path / "b")
    r.window("w")
    r.press("enter", "\n")
    root = r.close()
    assert prove_gone(root, {"enter": "scrub#1"}).ok  # the key's name, not typed text
    assert prove_gone(root, {"2026-11-26": "scrub#1"}).ok  # the header's "started"
    # `"x":0` spans a field name, punctuation and a number: not inside one structure token, so it counts.
    assert not prove_gone(root, {'"x":0': "scrub#1"}).ok


def test_tokens_give_byte_spans_and_refuse_what_is_not_json() -> None:
    line = '{"type":"window","title":"café ☕ TOK","t":1.5}'.encode()
    toks = tokens(line)
    assert toks is not None
    title = next(t for t in toks if t.path == ("title",) and t.role == "value")
    assert line[title.start:title.end] == '"café ☕ TOK"'.encode()
    assert tokens(b'{"a": 1') is None and tokens(b"\xff") is None and tokens(b'{"a":1} x') is None


def test_every_key_wf_redact_writes_is_structure_and_so_are_its_words(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    redact_bundle(Bundle.open(bundle), out, build_spec(presets=["secrets"], mask_windows=["nothing"],
                                                       rects=["0,0,5,5@0-1"], drop_steps=["0"]),
                  wf_version="0.1.0")
    entry = Bundle.open(out).header.redactions[-1]

    def keys(obj: object) -> set[str]:
        if isinstance(obj, dict):
            return set(obj) | {k for v in obj.values() for k in keys(v)}
        return {k for v in obj for k in keys(v)} if isinstance(obj, list) else set()

    assert {"scrub", "mask_window", "mask_rect", "drop_steps", "ocr"} <= keys(entry) <= REDACTION_KEYS
    assert list(text_strings({"redactions": [entry]}, header_structure)) == []


# ------------------------------------------------------------------------------- PNG text chunks


def _with_text_chunks(path: Path, text: str) -> None:
    img = Image.open(path)
    img.load()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text, zip=True)  # zTXt: compressed, invisible to a byte search
    info.add_itxt("Description", text, zip=True)  # compressed iTXt
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    path.write_bytes(buf.getvalue())


def test_compressed_text_chunks_are_decompressed_and_searched(bundle: Path, tmp_path: Path) -> None:
    screen = next(e for e in Bundle.open(bundle).events() if isinstance(e, Screen))
    _with_text_chunks(bundle / screen.path, "left by another tool: " + TOKEN)
    data = (bundle / screen.path).read_bytes()
    assert TOKEN.encode() not in data and not has_only_pixels(data)
    assert {k for k, _, t in compressed_texts(data) if TOKEN.encode() in t} == {"zTXt", "iTXt"}
    proof = prove_gone(bundle, {TOKEN: "github-token"})
    assert {w.split(" chunk")[0] for w in wheres(proof.survivors) if "chunk" in w} == \
        {f"{screen.path}: PNG zTXt", f"{screen.path}: PNG iTXt"}
    # wf redact keeps only the pixels of such a screen (same content hash), so the new bundle is clean.
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(bundle), out, build_spec(presets=["secrets"], ocr=False))
    assert rep.ok and rep.screens_reencoded == 1
    assert has_only_pixels((out / screen.path).read_bytes())
    assert load_rgb(out / screen.path)[0] == load_rgb(bundle / screen.path)[0]


# ------------------------------------------------------------------------------- annotations


def test_annotation_keys_outside_the_format_are_scrubbed(bundle: Path, tmp_path: Path) -> None:
    (bundle / "annotations.jsonl").write_bytes(orjson.dumps(
        {"v": 1, "at": "2026-11-26T12:00:00.000Z", "author": "a", "set": {"note": "ok"}, f"x-{TOKEN}": 1}) + b"\n")
    out = tmp_path / "out"
    rep = redact_bundle(Bundle.open(bundle), out, build_spec(presets=["secrets"], ocr=False))
    assert rep.ok and TOKEN.encode() not in all_bytes(out)
    (rec,) = [json.loads(x) for x in (out / "annotations.jsonl").read_text().splitlines()]
    assert rec["set"] == {"note": "ok"} and "x-[REDACTED]" in rec


# ------------------------------------------------------------------------------- the OCR pass, scripted


class ScriptedEngine:
    """A unit seam: "reads" a word wherever a scripted box is not yet black, and a second word that only
    becomes readable once the first is masked (as a neighbour's segmentation can change)."""

    name = "scripted"
    first = (20, 20, 120, 14)
    second = (20, 60, 120, 14)

    def __init__(self, literal: str, *, endless: bool = False) -> None:
        self.literal, self.endless, self.reads = literal, endless, 0
        self.lock = threading.Lock()

    def read(self, rgb: bytes, width: int, height: int) -> list[Word]:
        with self.lock:
            self.reads += 1
        a = np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3)

        def shown(box: tuple[int, int, int, int]) -> bool:
            x, y, w, h = box
            return bool(a[y:y + h, x:x + w].any())

        if shown(self.first):
            return [Word(self.literal, self.first, 0)]
        if self.endless:  # never settles: a new place every reading
            y = 90 + 3 * (self.reads % 30)
            return [Word(self.literal, (150, y, 120, 14), 1)]
        return [Word(self.literal, self.second, 1)] if shown(self.second) else []


def _white_bundle(root: Path) -> Path:
    r = Recording(root)
    r.window("term")
    r.type("T=" + TOKEN)
    t = r.tick()
    r.w.screen_event(t, np.full((H, W, 3), 255, dtype=np.uint8).tobytes(), W, H, "post")
    return r.close()


def test_settling_masks_what_masking_reveals_and_the_proof_reads_nothing_new(tmp_path: Path) -> None:
    src = _white_bundle(tmp_path / "src")
    engines: list[ScriptedEngine] = []

    def make() -> ScriptedEngine:
        engines.append(ScriptedEngine(TOKEN))
        return engines[-1]

    rep = redact_bundle(Bundle.open(src), tmp_path / "out", build_spec(presets=["secrets"]), engine=make)
    assert rep.ocr is not None and rep.pixel_proof is not None
    assert rep.ok and rep.ocr.rounds == 2 and rep.ocr.boxes == 2 and rep.ocr.unsettled == 0
    assert rep.ocr.read == 3 and rep.pixel_proof.read == 0  # the source, then two masked versions
    (shot,) = [e for e in Bundle.open(tmp_path / "out").events() if isinstance(e, Screen)]
    rgb, w, h = load_rgb(tmp_path / "out" / shot.path)
    a = np.frombuffer(rgb, dtype=np.uint8).reshape(h, w, 3)
    for x, y, bw, bh in (ScriptedEngine.first, ScriptedEngine.second):
        assert not a[y:y + bh, x:x + bw].any()
    assert a[150:, 280:].all()  # elsewhere untouched
    assert [(m.literal, m.pattern) for m in rep.ocr.masked[shot.path]][:2] == [(1, None), (None, "github-token")]


def test_a_frame_that_never_settles_fails_the_pixel_proof_and_exits_1(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    src = _white_bundle(tmp_path / "src")
    rep = redact_bundle(Bundle.open(src), tmp_path / "o1", build_spec(presets=["secrets"]),
                        engine=lambda: ScriptedEngine(TOKEN, endless=True))
    assert rep.ocr is not None and rep.pixel_proof is not None
    assert rep.ocr.unsettled == 1 and rep.ocr.rounds == 3 and rep.proof.ok
    assert not rep.pixel_proof.ok and not rep.ok
    import wf.cli.redact as cli

    endless = partial(redact_bundle, engine=lambda: ScriptedEngine(TOKEN, endless=True))
    monkeypatch.setattr(cli, "redact_bundle", endless)
    assert run(["redact", str(src), "--out", str(tmp_path / "o2"), "--scrub-preset", "secrets"]) == 1
    err = capsys.readouterr().err
    assert "still readable" in err and "pixel proof limits" in err and "NOT clean" in err and TOKEN not in err


def test_nothing_to_scrub_reads_no_pixels_and_says_so(bundle: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["redact", str(bundle), "--out", str(tmp_path / "o"), "--mask-rect", "0,0,4,4"]) == 0
    err = capsys.readouterr().err
    assert "proof: nothing to check" in err and "pixel proof: not run — nothing to scrub" in err


def _count_hits(reader: ScreenReader, n: int) -> tuple[int, int]:
    """A worker task (module level: pickled by name): the hits on a white frame with a scripted word."""
    rgb = np.full((H, W, 3), 255, dtype=np.uint8)
    rgb[150 + n, 300] = 0  # a different picture per item, away from the scripted boxes
    data = rgb.tobytes()
    return n, len(reader.hits(frame_hash(data, W, H), lambda: (data, W, H)))


def test_worker_processes_keep_order_and_report_what_they_found_to_the_parent() -> None:
    made: list[int] = []

    def make() -> ScriptedEngine:  # a closure: fine, the workers are forked, not spawned
        made.append(1)
        return ScriptedEngine(TOKEN)

    reader = ScreenReader.of(make(), [TOKEN], ())
    out = list(read_all(_count_hits, list(range(6)), reader, make, 2))
    assert out == [(n, 1) for n in range(6)]  # in order, each frame read and its word found
    assert reader.cache.reads == 6 and len(reader.found) == 6 and len(made) == 1  # the workers made theirs
    assert list(read_all(_count_hits, [0], reader, make, 2)) == [(0, 1)] and reader.cache.reads == 6  # known


def test_no_language_data_is_an_environment_problem_with_the_way_out(bundle: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import wf.redact.ocr as ocr

    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "empty"))
    monkeypatch.setattr(ocr, "_TESSDATA_GLOBS", ())
    out = tmp_path / "o"
    assert run(["redact", str(bundle), "--out", str(out), "--scrub-preset", "secrets"]) == 3
    err = capsys.readouterr().err
    assert "no Tesseract language data" in err and "--no-ocr" in err and "Traceback" not in err
    assert not out.exists()  # nothing written
    assert run(["redact", str(bundle), "--out", str(out), "--scrub-preset", "secrets", "--no-ocr"]) == 0

"""Secrets shown on screen, in a real recording: `wf record` on a 1920×1080 Xvfb with openbox while xdotool types
an API token, a card number and an e-mail address into an xterm that echoes them (xterm's own bitmap font), the
token into a narrow xterm where it wraps and into a Tk entry, and the e-mail into a Tk entry whose Return puts it
into the window title. Then `wf redact --scrub-preset secrets`, and an independent OCR pass (more readings, its
own engine and no cache shared with wf) over the input and the output."""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ocr_kit import NAMES, Scene, coverage, desktop, excess, mask_canvas, plant, recording, stray, strong_reader
from redact_kit import all_bytes
from xrig import WF, wf

from wf.bundle.events import Screen, Window
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash, load_rgb
from wf.redact.onscreen import Hit, find_on_screen, mask_rects
from wf.redact.presets import SECRETS

pytestmark = [pytest.mark.display, pytest.mark.slow]
FONT_PX = 15


@dataclass
class Recorded:
    raw: Path
    scene: Scene  # the last frame as the test grabbed it, and where each secret's ink is on it


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp = tmp_path_factory.mktemp("shown")
    with desktop(FONT_PX, "misc") as d, recording(d, tmp / "raw"):
        scene = plant(d, FONT_PX, font="misc", apps=("xterm", "wrap", "tk"))
    yield Recorded(tmp / "raw", scene)


@pytest.fixture(scope="module")
def redacted(recorded: Recorded, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], Path]:
    """`wf redact --scrub-preset secrets --json`, run with its temporary, cache and home directories pointed at
    empty ones, and from an empty working directory; returns (new bundle, report, the sandbox)."""
    box = tmp_path_factory.mktemp("sandbox")
    dirs = {name: box / name for name in ("tmp", "home", "cache", "cwd")}
    for p in dirs.values():
        p.mkdir()
    out = box / "clean"
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(dirs["tmp"]), "HOME": str(dirs["home"]),
           "XDG_CACHE_HOME": str(dirs["cache"]), "LANG": "C.UTF-8"}
    res = subprocess.run([*WF, "redact", str(recorded.raw), "--out", str(out), "--scrub-preset", "secrets", "--json"],
                         env=env, cwd=dirs["cwd"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    for lit in recorded.scene.secrets.literals:
        assert lit not in res.stdout + res.stderr
    return out, json.loads(res.stdout), box


def distinct_screens(root: Path) -> dict[str, Path]:
    return {e.hash: root / e.path for e in Bundle.open(root).events() if isinstance(e, Screen)}


def independent_hits(path: Path, literals: tuple[str, ...]) -> tuple[list[Hit], tuple[bytes, int, int]]:
    rgb, w, h = load_rgb(path)
    return find_on_screen(strong_reader().read(rgb, w, h), literals, SECRETS, frame=(w, h)), (rgb, w, h)


def test_the_recording_shows_every_secret_to_the_independent_reader(recorded: Recorded) -> None:
    scene = recorded.scene
    apps = {(NAMES[p.literal], p.app) for p in scene.planted}
    assert {("token", "xterm"), ("token", "wrapped xterm"), ("token", "tk entry"), ("email", "title bar"),
            ("email", "tk entry"), ("card", "xterm"), ("email", "xterm")} <= apps
    screens = distinct_screens(recorded.raw)
    last = frame_hash(scene.rgb, scene.width, scene.height)
    assert last in screens, "the final frame the test grabbed was recorded (the stop screen)"
    hits, _ = independent_hits(screens[last], scene.secrets.literals)
    canvas = mask_canvas(mask_rects(hits), scene.width, scene.height)
    unseen = [f"{NAMES[p.literal]} in {p.app}" for p in scene.planted if coverage(p, canvas) < 0.9]
    assert not unseen, f"the independent pass must read every planted occurrence in the input: {unseen}"
    titles = [e.title for e in Bundle.open(recorded.raw).events() if isinstance(e, Window)]
    assert any(scene.secrets.literals[1] in t for t in titles)  # the e-mail is in the title, as bytes too


def test_redact_reads_masks_and_proves_the_pixels(recorded: Recorded,
                                                  redacted: tuple[Path, dict[str, object], Path]) -> None:
    out, report, _ = redacted
    ocr, proof = report["ocr"], report["pixel_proof"]
    assert isinstance(ocr, dict) and isinstance(proof, dict)
    assert report["ok"] and proof["checked"] and proof["ok"] and not proof["survivors"]
    n_in, n_out = len(distinct_screens(recorded.raw)), len(distinct_screens(out))
    assert ocr["distinct"] == n_in and proof["distinct"] == n_out
    assert proof["read"] == 0, "every written screen was read while settling: the proof answers from the cache"
    assert ocr["boxes"] > 0 and ocr["screens_masked"] > 0 and "limits" in proof
    header = Bundle.open(out).header.redactions[-1]
    assert header["ocr"]["screens_read"] == n_in and header["ocr"]["boxes"] == ocr["boxes"]
    blob = all_bytes(out)
    for lit in recorded.scene.secrets.literals:
        assert lit.encode() not in blob
    assert report["proof"]["ok"] and report["proof"]["literals"] == 3  # token, e-mail, card: as typed


def test_the_independent_reader_finds_nothing_in_the_output(recorded: Recorded,
                                                            redacted: tuple[Path, dict[str, object], Path]) -> None:
    out, _, _ = redacted
    screens = distinct_screens(out)
    with ThreadPoolExecutor(2) as ex:  # one engine per call: Tesseract reads two frames at once
        found = ex.map(lambda p: independent_hits(p, recorded.scene.secrets.literals)[0], screens.values())
        left = {digest: [h.to_json() for h in hits] for digest, hits in zip(screens, found, strict=True) if hits}
    assert not left, f"still readable by the independent pass: {left}"


def test_masks_cover_the_text_and_little_else(recorded: Recorded,
                                              redacted: tuple[Path, dict[str, object], Path]) -> None:
    out, report, _ = redacted
    scene = recorded.scene
    old = [e for e in Bundle.open(recorded.raw).events() if isinstance(e, Screen)]
    new = [e for e in Bundle.open(out).events() if isinstance(e, Screen)]
    last = frame_hash(scene.rgb, scene.width, scene.height)
    k = max(i for i, e in enumerate(old) if e.hash == last)
    masked = {m["screen"]: m["found"] for m in report["ocr"]["masked"]}  # type: ignore[index]
    found = masked[new[k].path]
    rects = list(dict.fromkeys(tuple(f["box"]) for f in found))
    number = {lit: n for n, lit in enumerate(sorted(scene.secrets.literals), 1)}  # the report's numbering

    def own(literal: int) -> list[tuple[int, int, int, int]]:  # the boxes of one secret: its literal, its pattern
        return [tuple(f["box"]) for f in found if f["literal"] == number[scene.secrets.literals[literal]]
                or f["pattern"] == scene.secrets.patterns[literal]]
    # The output differs from the input only inside the boxes the report lists.
    a = np.frombuffer(scene.rgb, dtype=np.uint8).reshape(scene.height, scene.width, 3)
    b = np.frombuffer(load_rgb(out / new[k].path)[0], dtype=np.uint8).reshape(scene.height, scene.width, 3)
    canvas = mask_canvas(rects, scene.width, scene.height)  # type: ignore[arg-type]
    changed = np.any(a != b, axis=2)
    assert not (changed & ~canvas).any() and (b[canvas] == 0).all()
    for p in scene.planted:
        assert coverage(p, canvas) == 1.0, f"{NAMES[p.literal]} in {p.app} not fully masked"
    ratios = [excess(p, own(p.literal)) for p in scene.planted]
    text_area = sum(bx[2] * bx[3] for p in scene.planted for bx in p.boxes)
    total = int(canvas.sum()) / text_area
    strays = stray(rects, scene.planted)  # type: ignore[arg-type]
    print(f"\nmasked area ÷ text box per occurrence: {', '.join(f'{r:.2f}' for r in ratios)} (median "
          f"{statistics.median(ratios):.2f}); all masks ÷ all text boxes {total:.2f}; {len(strays)} stray masks; "
          f"{100 * canvas.mean():.2f} % of the frame masked")
    assert statistics.median(ratios) <= 1.8 and max(ratios) <= 2.5, "masks must hug the text"
    assert total <= 2.5 and not strays, "nothing but the secrets is masked (the decoys stay readable)"


def test_nothing_is_written_outside_the_new_bundle(redacted: tuple[Path, dict[str, object], Path]) -> None:
    out, _, box = redacted
    for name in ("tmp", "home", "cache", "cwd"):
        assert not list((box / name).rglob("*")), f"wf redact left files in its {name} directory"
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert names == {"events.jsonl", "screens"} | {n for n in names if n.startswith("screens/") and n.endswith(".png")}


def test_without_ocr_the_screens_are_copied_unread_and_the_report_says_so(
        recorded: Recorded, tmp_path: Path) -> None:
    res = wf("redact", recorded.raw, "--out", tmp_path / "c", "--scrub-preset", "secrets", "--no-ocr", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["ocr"] is None and report["pixel_proof"] == {
        "ok": True, "checked": False, "why": "--no-ocr: the screens' pixels were not read"}
    assert report["screens_may_show_text"] > 0 and "may be visible" in report["warnings"][0]
    assert distinct_screens(tmp_path / "c").keys() == distinct_screens(recorded.raw).keys()  # pixels untouched

"""`wf view` without a browser: safe data embedding, output placement, report parsing, diff pictures."""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from viewkit import replay_report, synthetic_bundle
from xrig import FIXTURES, wf

from wf.bundle.errors import BadInput
from wf.bundle.reader import Bundle
from wf.bundle.replays import Checkpoint, EventRow, Failure, encode_report
from wf.view import page as view
from wf.view.page import _StepFinder, default_out, render_view, script_json
from wf.view.report import Point, diff_png, load_report, thin

_SCALARS = st.text() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.none()


@given(st.recursive(_SCALARS,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12))
def test_script_json_round_trips_and_cannot_close_the_script(data: object) -> None:
    text = str(script_json(data))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == data


def test_script_json_neutralises_a_closing_tag() -> None:
    text = str(script_json({"title": "</script><script>alert(1)</script><!--"}))
    assert "</" not in text.lower() and "<!--" not in text
    assert json.loads(text)["title"] == "</script><script>alert(1)</script><!--"
    odd = str(script_json({"t": "\ud800</script>"}))  # a lone surrogate, as a \ud800 escape can decode to
    assert "<" not in odd and json.loads(odd)["t"] == "\ud800</script>"


def test_default_out_is_beside_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_out(tmp_path / "rec") == tmp_path / "rec.html"
    (tmp_path / "rec").mkdir()
    monkeypatch.chdir(tmp_path / "rec")
    assert default_out(Path(".")) == tmp_path / "rec.html"


def _png(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb, "RGB").save(path)
    return path


def test_diff_png_paints_exactly_the_changed_pixels(tmp_path: Path) -> None:
    a = np.full((40, 60, 3), 200, np.uint8)
    b = a.copy()
    b[10:20, 30:35] = (0, 0, 0)  # 50 changed pixels
    b[0, 0] = (204, 200, 200)  # within tolerance: not a change
    pic = diff_png(_png(tmp_path / "a.png", a), _png(tmp_path / "b.png", b))
    assert pic.fraction == pytest.approx(50 / (40 * 60)) and (pic.width, pic.height) == (60, 40)
    out = np.asarray(Image.open(io.BytesIO(pic.png)).convert("RGB"))
    red = (out == (230, 20, 60)).all(axis=2)
    assert red.sum() == 50 and red[10:20, 30:35].all()


def test_diff_png_counts_a_size_mismatch_as_changed(tmp_path: Path) -> None:
    a = np.zeros((10, 10, 3), np.uint8)
    assert diff_png(_png(tmp_path / "a.png", a), _png(tmp_path / "b.png", a[:5])).fraction == pytest.approx(0.5)


def _checkpoint(**kw: object) -> Checkpoint:
    base: dict[str, object] = {"event": 1, "label": "pre", "recorded": "screens/x.png", "similarity": 0.9,
                               "diff_fraction": 0.1, "differing": 40, "passed": False, "waited": 1.5,
                               "synced": False, "replayed": "live.png", "step": None}
    return msgspec.convert({**base, **kw}, Checkpoint)


def test_report_loader_reads_the_report_the_replayer_writes(tmp_path: Path) -> None:
    bundle = Bundle.open(synthetic_bundle(tmp_path / "b", 3))
    rep = replay_report(bundle.path, [_checkpoint(), _checkpoint(event=None, label="final", replayed=None)],
                        [EventRow(1, "MouseDown", "x", 0.1, 0.1, timing_error=0.002, pointer_error=1.0, step=0),
                         EventRow(2, "MouseUp", "x", 0.2, 0.2)],
                        failures=[Failure(check="screen", message="differs", event=4)])
    path = tmp_path / "r.json"
    path.write_bytes(encode_report(rep))
    view = load_report(path, bundle)
    assert view.passed is False and view.verdict == "failed"
    assert view.failures == [("screen: differs", None, 4)]
    cp = view.checkpoints[0]
    assert (cp.event, cp.step, cp.passed, cp.similarity, cp.waited, cp.synced) == (1, None, False, 0.9, 1.5, False)
    assert cp.title == "pre event 1" and view.checkpoints[1].title == "final screen"
    assert view.checkpoints[1].kind == "final" and view.checkpoints[1].replayed is None
    assert cp.replayed == (tmp_path / "live.png").resolve()
    assert cp.recorded == bundle.path.resolve() / "screens/x.png"
    assert [(p.x, p.value, p.step) for p in view.timing] == [(1, 0.002, 0)]
    assert ("stats.timing_p95_ms", "2") in view.summary and ("verdict.passed", "False") in view.summary
    assert view.timing_limit == 1.0 and view.pointer_limit == 2.0
    assert view.warnings == []
    path.write_bytes(encode_report(msgspec.structs.replace(rep, bundle="/somewhere/other")))
    assert load_report(path, bundle).warnings == ["r.json was written for bundle 'other', not 'b'"]


def test_report_loader_keeps_recorded_screens_inside_the_bundle(tmp_path: Path) -> None:
    bundle = Bundle.open(synthetic_bundle(tmp_path / "b", 1))
    path = tmp_path / "r.json"
    path.write_bytes(encode_report(replay_report(bundle.path, [_checkpoint(recorded="../../etc/passwd")], [])))
    assert load_report(path, bundle).checkpoints[0].recorded is None


def test_a_report_from_a_newer_wf_with_extra_fields_still_reads(tmp_path: Path) -> None:
    """The growth rule of wf.bundle.replays: fields are added with defaults, unknown fields are ignored."""
    bundle = Bundle.open(synthetic_bundle(tmp_path / "b", 1))
    raw = msgspec.to_builtins(replay_report(bundle.path, [_checkpoint()], []))
    raw["verdict"]["status"] = "unverified"
    raw["checkpoints"][0]["effect"] = {"status": "unchecked"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(raw))
    assert load_report(path, bundle).checkpoints[0].similarity == 0.9


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a wf replay report (JSON is malformed"),
    ("[1, 2]", "not a wf replay report (Expected `object`, got `array`)"),
    ('{"status": "passed", "steps": []}', "not a wf replay report (format None"),
    ('{"format": "wf-replay-report", "version": 2}', "replay report of version 2 (this wf reads version 1)"),
    ('{"format": "wf-replay-report", "version": 1, "passed": true}', "malformed replay report (Object missing"),
    (None, "no such replay report")])
def test_reports_that_do_not_decode_are_refused(tmp_path: Path, content: str | None, message: str) -> None:
    bundle = synthetic_bundle(tmp_path / "b", 1)
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BadInput, match=re.escape(message)):
        load_report(path, Bundle.open(bundle))
    res = wf("view", bundle, "--report", path, "--out", tmp_path / "v.html")
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 2  # the error line and its hint
    assert not (tmp_path / "v.html").exists()


def test_a_wrongly_typed_field_is_named(tmp_path: Path) -> None:
    bundle = Bundle.open(synthetic_bundle(tmp_path / "b", 1))
    raw = msgspec.to_builtins(replay_report(bundle.path, [_checkpoint()], []))
    raw["checkpoints"][0]["similarity"] = "high"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(BadInput, match=re.escape("Expected `float`, got `str` - at `$.checkpoints[0].similarity`")):
        load_report(path, bundle)


def test_cli_rejects_a_missing_bundle_and_an_impossible_out(tmp_path: Path) -> None:
    res = wf("view", tmp_path / "nope")
    assert res.returncode == 2 and "no such bundle" in res.stderr
    bundle = synthetic_bundle(tmp_path / "b", 1)
    res = wf("view", bundle, "--out", tmp_path / "missing-dir" / "v.html")
    assert res.returncode == 2 and "does not exist" in res.stderr
    res = wf("view", bundle, "--out", tmp_path)
    assert res.returncode == 2 and "is a directory" in res.stderr


def test_thin_keeps_the_worst_point_of_each_slice() -> None:
    pts = [Point(n, 100.0 if n == 777 else 1.0, None, n) for n in range(10_000)]
    out = thin(pts, 100)
    assert len(out) == 100 and any(p.value == 100.0 for p in out)


def test_step_finder_maps_events_to_steps() -> None:
    find = _StepFinder([{"ev": [0, 3]}, {"ev": [6, 9]}, {"ev": [10, 10]}])
    assert [find(None, e) for e in (0, 3, 4, 6, 10, 11)] == [0, 0, 1, 1, 2, None]
    assert find(1, 99) == 1 and find(7, None) is None and find(None, None) is None


def test_embed_inlines_once_and_warns_when_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = synthetic_bundle(tmp_path / "b", 40)  # 8 distinct screens, each referenced 5 times
    res = render_view(bundle, out=tmp_path / "v.html", embed=True)
    html = res.out.read_text()
    assert html.count("data:image/png;base64,") == 8
    assert res.embedded_bytes == sum(p.stat().st_size for p in (bundle / "screens").iterdir())
    assert not any("heavy" in w for w in res.warnings)
    monkeypatch.setattr(view, "EMBED_WARN_BYTES", 1000)
    res = render_view(bundle, out=tmp_path / "v.html", embed=True)
    assert any("--embed inlined" in w for w in res.warnings)


def test_page_allows_only_its_own_script(tmp_path: Path) -> None:
    bundle = synthetic_bundle(tmp_path / "b", 2)
    html = render_view(bundle).out.read_text()
    policy = html.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    js = html.split("<script>", 1)[1].split("</script>", 1)[0]
    assert view.script_hash(js) in policy


@pytest.mark.parametrize("sample, code", [("valid", 0), ("truncated", 0), ("missing-screen", 0), ("corrupt", 2),
                                          ("path-escape", 2), ("wrong-version", 2)])
def test_sample_bundles(sample: str, code: int, tmp_path: Path) -> None:
    res = wf("view", FIXTURES / "samples" / sample, "--out", tmp_path / "v.html")
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    assert (tmp_path / "v.html").exists() == (code == 0)


def test_open_hands_the_page_to_the_browser(tmp_path: Path) -> None:
    opener = tmp_path / "opener"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > {tmp_path / 'opened'}\n")
    opener.chmod(0o755)
    bundle = synthetic_bundle(tmp_path / "b", 1)
    res = wf("view", bundle, "--open", env={**os.environ, "BROWSER": f"{opener} %s"})
    assert res.returncode == 0, res.stderr
    deadline = time.monotonic() + 10
    while not (tmp_path / "opened").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "opened").read_text().strip() == (tmp_path / "b.html").as_uri()

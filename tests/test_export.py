"""`wf export` on bundles written with the real BundleWriter: every format read back and checked."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pty
import re
import subprocess
import tarfile
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from export_fixture import drag_bundle, synthetic_bundle
from PIL import Image
from xrig import WF

from wf.bundle.actions import from_coord as to_pixel
from wf.bundle.actions import to_coord
from wf.bundle.annotation_log import annotate
from wf.bundle.annotations import Change
from wf.bundle.events import Screen
from wf.bundle.reader import Bundle
from wf.bundle.screens import frame_hash, load_rgb
from wf.cli.main import run
from wf.export.pipeline import ExportOptions, export

STEPS = 6


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    """Three bundles; the second is annotated (task, outcome, a note, a thought, a dropped step)."""
    bundles = [synthetic_bundle(tmp_path / f"b{i}", STEPS, seed=i + 1) for i in range(3)]
    b = Bundle.open(bundles[1])
    annotate(b, [Change(values={"task": "Click the six squares", "outcome": "success"}, tags_add=("demo",)),
                 Change(step=1, values={"note": "first real click", "thought": "aim at the corner"}),
                 Change(step=2, values={"dropped": True})], n_actions=STEPS, author="test")
    return bundles


def screens_by_path(bundle: Path) -> dict[str, Screen]:
    return {ev.path: ev for ev in Bundle.open(bundle).events() if isinstance(ev, Screen)}


def decoded_hash(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
        return frame_hash(rgb.tobytes(), rgb.width, rgb.height)


def parquet_rows(out: Path) -> list[dict]:
    rows: list[dict] = []
    for f in sorted((out / "data").glob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- coordinates


@pytest.mark.parametrize("extent", [64, 800, 1280, 1920, 2560, 3840])
def test_coordinates_convert_exactly_between_the_three_systems(extent: int) -> None:
    for px in range(extent + 1):
        unit = to_coord(px, extent, "unit")
        k = to_coord(px, extent, "k1000")
        assert 0 <= unit <= 1 and 0 <= k <= 1000
        assert to_pixel(unit, extent, "unit") == px  # exact
        assert k == math.floor(Fraction(px, extent) * 1000 + Fraction(1, 2))  # exact, half rounds up
        assert abs(to_pixel(k, extent, "k1000") - px) <= extent / 2000 + 0.5  # within half a bin
        assert to_pixel(to_coord(px, extent, "pixels"), extent, "pixels") == px


# ---------------------------------------------------------------- parquet


def test_parquet_round_trip(corpus: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "pq"
    m = export(corpus, ExportOptions(format="parquet", out=out))
    rows = parquet_rows(out)
    # One row per kept step, episodes in the order given; bundle 1 lost its dropped step 2.
    assert len(rows) == m.steps == 3 * STEPS - 1
    assert [r["bundle"] for r in rows] == ["b0"] * STEPS + ["b1"] * (STEPS - 1) + ["b2"] * STEPS
    b1 = [r for r in rows if r["bundle"] == "b1"]
    assert [r["step"] for r in b1] == [0, 1, 3, 4, 5]
    assert [r["position"] for r in b1] == [0, 1, 2, 3, 4]
    assert {r["instruction"] for r in b1} == {"Click the six squares"}
    assert {r["outcome"] for r in b1} == {"success"}
    assert b1[1]["note"] == "first real click" and b1[1]["thought"] == "aim at the corner"
    assert b1[0]["tags"] == ["demo"]
    assert {r["instruction"] for r in rows if r["bundle"] == "b0"} == {"synthetic task"}
    assert len({r["episode_id"] for r in rows}) == 3

    for bundle in corpus:
        screens = screens_by_path(bundle)
        for r in (r for r in rows if r["bundle"] == bundle.name):
            action = json.loads(r["action"])
            pre, post = screens[action["pre_screen"]], screens[action["post_screen"]]
            # The image bytes are the stored PNG untouched, and decode to the recorded pixels.
            assert r["image"]["bytes"] == (bundle / pre.path).read_bytes()
            assert decoded_hash(r["image"]["bytes"]) == pre.hash
            assert decoded_hash(r["post_image"]["bytes"]) == post.hash
            rgb, w, h = load_rgb(bundle / pre.path)
            with Image.open(io.BytesIO(r["image"]["bytes"])) as img:
                assert img.convert("RGB").tobytes() == rgb
            assert (r["screen_width"], r["screen_height"]) == (64, 48) == (w, h)
            assert r["image"]["path"].endswith(f"{pre.hash}.png")
            assert r["pyautogui"].startswith("pyautogui.")
            assert r["coords"] == "pixels"

    # Previous actions as text: the history of kept steps (up to 5).
    assert b1[0]["previous_actions"] == ""
    assert len(b1[4]["previous_actions"].splitlines()) == 4

    meta = pq.read_schema(next((out / "data").glob("*.parquet"))).metadata
    features = json.loads(meta[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"} and features["post_image"] == {"_type": "Image"}

    manifest = json.loads((out / "manifest.json").read_text())
    assert [b["path"] for b in manifest["bundles"]] == [str(p) for p in corpus]
    assert [b["steps"] for b in manifest["bundles"]] == [STEPS, STEPS - 1, STEPS]
    assert manifest["bundles"][1]["dropped"] == 1
    assert manifest["skipped"] == []
    assert sum(f["steps"] for f in manifest["files"]) == len(rows)


def test_include_dropped_keeps_the_step_and_flags_it(corpus: list[Path], tmp_path: Path) -> None:
    export(corpus, ExportOptions(format="parquet", out=tmp_path / "pq", include_dropped=True))
    rows = [r for r in parquet_rows(tmp_path / "pq") if r["bundle"] == "b1"]
    assert [r["step"] for r in rows] == list(range(STEPS))
    assert [r["dropped"] for r in rows] == [False, False, True, False, False, False]


@pytest.mark.parametrize("coords", ["unit", "k1000"])
def test_action_json_and_code_use_the_chosen_coordinates(corpus: list[Path], tmp_path: Path,
                                                         coords: str) -> None:
    px_rows = export_rows(corpus, tmp_path / "px", "pixels")
    rows = export_rows(corpus, tmp_path / coords, coords)
    for px, r in zip(px_rows, rows, strict=True):
        a_px, a = json.loads(px["action"]), json.loads(r["action"])
        assert a["coords"] == coords
        w, h = r["screen_width"], r["screen_height"]
        assert a["x"] == to_coord(a_px["x"], w, coords) and a["y"] == to_coord(a_px["y"], h, coords)
        if coords == "unit":
            assert (to_pixel(a["x"], w, coords), to_pixel(a["y"], h, coords)) == (a_px["x"], a_px["y"])
        # The pyautogui code carries the same numbers as the JSON.
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", r["pyautogui"])]
        assert float(a["x"]) in nums and float(a["y"]) in nums


@pytest.mark.parametrize("coords", ["unit", "k1000"])
def test_drag_end_and_path_convert_too(tmp_path: Path, coords: str) -> None:
    bundle = drag_bundle(tmp_path / "drag")
    px_rows = export_rows([bundle], tmp_path / "px", "pixels")
    rows = export_rows([bundle], tmp_path / coords, coords)
    assert [r["action_type"] for r in rows] == ["drag", "click"]
    a_px, a = json.loads(px_rows[0]["action"]), json.loads(rows[0]["action"])
    assert (a_px["end_x"], a_px["end_y"]) == (700, 420) and len(a["path"]) == len(a_px["path"]) >= 2
    assert (a["end_x"], a["end_y"]) == (to_coord(700, 1280, coords), to_coord(420, 800, coords))
    for (t0, x0, y0), (t1, x1, y1) in zip(a_px["path"], a["path"], strict=True):
        assert t0 == t1 and (x1, y1) == (to_coord(x0, 1280, coords), to_coord(y0, 800, coords))
        if coords == "unit":
            assert (to_pixel(x1, 1280, coords), to_pixel(y1, 800, coords)) == (x0, y0)
    corner = json.loads(rows[1]["action"])
    assert (corner["x"], corner["y"]) == ((0.999219, 0.99875) if coords == "unit" else (999, 999))


def export_rows(bundles: list[Path], out: Path, coords: str) -> list[dict]:
    export(bundles, ExportOptions(format="parquet", out=out, coords=coords))
    return parquet_rows(out)


def test_output_is_identical_whatever_the_number_of_jobs(tmp_path: Path) -> None:
    bundles = [synthetic_bundle(tmp_path / f"b{i}", 3 + i % 4, seed=i) for i in range(8)]
    for fmt in ("parquet", "webdataset", "agentnet", "osworld", "adp"):
        one = export(bundles, ExportOptions(format=fmt, out=tmp_path / f"{fmt}1", jobs=1, shard_mb=0.05))
        two = export(bundles, ExportOptions(format=fmt, out=tmp_path / f"{fmt}2", jobs=2, shard_mb=0.05))
        assert one.steps == two.steps == sum(3 + i % 4 for i in range(8))
        assert tree_digest(tmp_path / f"{fmt}1") == tree_digest(tmp_path / f"{fmt}2"), fmt


def test_parquet_shards_are_bounded_and_row_groups_small(tmp_path: Path) -> None:
    bundles = [synthetic_bundle(tmp_path / f"b{i}", 40, seed=i) for i in range(3)]
    limit_mb = 0.25
    m = export(bundles, ExportOptions(format="parquet", out=tmp_path / "pq", shard_mb=limit_mb, jobs=2))
    files = sorted((tmp_path / "pq" / "data").glob("*.parquet"))
    assert len(files) == len(m.files) >= 3
    n = len(files)
    assert [f.name for f in files] == [f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    for f in files:
        assert f.stat().st_size <= limit_mb * (1 << 20), f
        pf = pq.ParquetFile(f)
        assert all(pf.metadata.row_group(g).num_rows <= 64 for g in range(pf.metadata.num_row_groups))
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == 120


# ---------------------------------------------------------------- webdataset


def test_webdataset_shards_group_members_by_key_and_stay_bounded(corpus: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "wds"
    limit_mb = 0.03
    m = export(corpus, ExportOptions(format="webdataset", out=out, shard_mb=limit_mb))
    shards = sorted((out / "shards").glob("*.tar"))
    assert len(shards) == len(m.files) > 1
    samples: list[tuple[str, dict[str, bytes]]] = []
    for shard in shards:
        assert shard.stat().st_size <= limit_mb * (1 << 20)
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                key, _, ext = member.name.partition(".")
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                if samples and samples[-1][0] == key:
                    samples[-1][1][ext] = data
                else:
                    assert key not in {k for k, _ in samples}, "a sample's members must be adjacent"
                    samples.append((key, {ext: data}))
    assert len(samples) == m.steps == 3 * STEPS - 1
    screens = {p: s for b in corpus for p, s in screens_by_path(b).items()}
    for key, parts in samples:
        assert set(parts) == {"png", "post.png", "json"}
        meta = json.loads(parts["json"])
        assert key == f"{meta['episode_id']}/{meta['step']:06d}"
        assert decoded_hash(parts["png"]) == screens[meta["action"]["pre_screen"]].hash
        assert decoded_hash(parts["post.png"]) == screens[meta["action"]["post_screen"]].hash
    assert 2 not in [json.loads(p["json"])["step"] for k, p in samples if k.startswith("b1-")]


# ---------------------------------------------------------------- agentnet, osworld, pyautogui


def test_agentnet_episode_jsonl_has_unit_code_and_the_screen_before(corpus: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "an"
    export(corpus, ExportOptions(format="agentnet", out=out))
    lines = [json.loads(x) for x in (out / "agentnet.jsonl").read_text().splitlines()]
    assert [ln["task_id"].split("-")[0] for ln in lines] == ["b0", "b1", "b2"]
    ep = lines[1]
    assert ep["instruction"] == "Click the six squares" and ep["coords"] == "unit"
    # Five kept steps plus AgentNet's closing terminate step (the episode succeeded).
    assert len(ep["traj"]) == STEPS
    assert [t["index"] for t in ep["traj"]] == list(range(STEPS))
    assert ep["traj"][-1]["value"]["code"] == "computer.terminate(status='success')"
    assert ep["traj"][1]["value"]["thought"] == "aim at the corner"
    screens = screens_by_path(corpus[1])
    px_rows = export_rows(corpus[1:2], tmp_path / "px", "pixels")
    for t, row in zip(ep["traj"], px_rows, strict=False):
        pre = screens[json.loads(row["action"])["pre_screen"]]
        assert decoded_hash((out / t["image"]).read_bytes()) == pre.hash
        for v in re.findall(r"\d+\.\d+|\d+", t["value"]["code"]):
            assert 0 <= float(v) <= 1
    assert len(lines[0]["traj"]) == STEPS  # unknown outcome: no terminate step


def test_osworld_traj_has_the_screen_after_each_action(corpus: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "osw"
    m = export(corpus, ExportOptions(format="osworld", out=out))
    eid = m.bundles[1].episode_id
    traj = [json.loads(x) for x in (out / eid / "traj.jsonl").read_text().splitlines()]
    assert [t["step_num"] for t in traj] == [1, 2, 3, 4, 5]
    assert [t["done"] for t in traj] == [False] * 4 + [True]
    assert (out / eid / "result.txt").read_text() == "1.0\n"
    assert json.loads((out / eid / "example.json").read_text())["instruction"] == "Click the six squares"
    screens = screens_by_path(corpus[1])
    px_rows = export_rows(corpus[1:2], tmp_path / "px", "pixels")
    for t, row in zip(traj, px_rows, strict=True):
        assert re.fullmatch(r"step_\d+_\d{8}@\d{6}\.png", t["screenshot_file"])
        post = screens[json.loads(row["action"])["post_screen"]]
        assert decoded_hash((out / eid / t["screenshot_file"]).read_bytes()) == post.hash
        assert t["action"] == row["pyautogui"]
    assert not (out / m.bundles[0].episode_id / "result.txt").exists()  # outcome unknown


def test_pyautogui_writes_one_script_per_bundle(corpus: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "py"
    m = export(corpus, ExportOptions(format="pyautogui", out=out))
    scripts = sorted(out.glob("*.py"))
    assert len(scripts) == 3 and [f.path for f in m.files] == [f"{b.episode_id}.py" for b in m.bundles]
    for b in m.bundles:
        text = (out / f"{b.episode_id}.py").read_text()
        compile(text, b.episode_id, "exec")
        # One click per kept step: bundle b1's dropped step is not in its script.
        assert text.count("pyautogui.click(") == (STEPS - 1 if b.path.endswith("b1") else STEPS)


# ---------------------------------------------------------------- images


def test_webp_is_lossless_and_max_side_downscales(corpus: list[Path], tmp_path: Path) -> None:
    export(corpus[:1], ExportOptions(format="parquet", out=tmp_path / "webp", image_format="webp"))
    screens = screens_by_path(corpus[0])
    for r in parquet_rows(tmp_path / "webp"):
        assert r["image"]["bytes"][8:12] == b"WEBP" and r["image"]["path"].endswith(".webp")
        assert decoded_hash(r["image"]["bytes"]) == screens[json.loads(r["action"])["pre_screen"]].hash
    export(corpus[:1], ExportOptions(format="parquet", out=tmp_path / "small", max_side=32))
    for r in parquet_rows(tmp_path / "small"):
        with Image.open(io.BytesIO(r["image"]["bytes"])) as img:
            assert img.size == (32, 24) == (r["image_width"], r["image_height"])
        assert (r["screen_width"], r["screen_height"]) == (64, 48)


# ---------------------------------------------------------------- the command line and bad bundles


def test_a_batch_with_invalid_bundles_reports_them(corpus: list[Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = synthetic_bundle(tmp_path / "corrupt", 3, seed=9)
    with (corrupt / "events.jsonl").open("a") as fh:
        fh.write('{"type": "mouse_down", "t": 99.0, "x": "oops"}\n{"type": "stop"}\n')
    missing = synthetic_bundle(tmp_path / "missing", 3, seed=8)
    next((missing / "screens").glob("*.png")).unlink()
    batch = [corpus[0], corrupt, corpus[1], tmp_path / "nope", missing, corpus[2]]

    code = run(["export", *map(str, batch), "--format", "parquet", "--out", str(tmp_path / "a"),
                "--jobs", "2", "--json"])
    assert code == 1
    m = json.loads(capsys.readouterr().out)
    assert [b["path"] for b in m["bundles"]] == [str(corpus[0]), str(corpus[1]), str(corpus[2])]
    assert [s["path"] for s in m["skipped"]] == [str(corrupt), str(tmp_path / "nope"), str(missing)]
    reasons = [s["reason"] for s in m["skipped"]]
    assert "events.jsonl:" in reasons[0] and "no such bundle" in reasons[1] and "missing" in reasons[2]
    assert len(parquet_rows(tmp_path / "a")) == 3 * STEPS - 1
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["skipped"] == m["skipped"]

    code = run(["export", *map(str, batch), "--format", "parquet", "--out", str(tmp_path / "b"),
                "--skip-invalid"])
    assert code == 0
    assert "skipped" in capsys.readouterr().err


def test_bad_usage_is_one_line_and_exit_2(corpus: list[Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export", str(corpus[0]), "--format", "csv", "--out", str(tmp_path / "x")]) == 2
    assert "'csv' is not one of 'parquet'" in capsys.readouterr().err
    assert run(["export", str(corpus[0]), "--format", "parquet", "--out", str(tmp_path / "x"),
                "--coords", "inches"]) == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    assert run(["export", str(corpus[0]), "--format", "parquet", "--out", str(tmp_path / "full")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_hugging_face_datasets_loads_the_parquet(corpus: list[Path], tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    export(corpus, ExportOptions(format="parquet", out=tmp_path / "pq"))
    ds = datasets.load_dataset(str(tmp_path / "pq"), split="train")
    assert len(ds) == 3 * STEPS - 1
    assert ds[0]["image"].size == (64, 48)


def _stderr_on_a_tty(args: list[str]) -> tuple[int, str]:
    """Run the real CLI with stderr on a pseudo-terminal (where the progress bar is drawn)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*WF, *args], stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ,
                            "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_bar_only_on_a_terminal_and_never_with_json(corpus: list[Path], tmp_path: Path) -> None:
    code, err = _stderr_on_a_tty(["export", *map(str, corpus), "-f", "parquet", "-o", str(tmp_path / "a")])
    assert code == 0
    assert "bundles ·" in err and "exported" in err
    code, err = _stderr_on_a_tty(["export", *map(str, corpus), "-f", "parquet", "-o", str(tmp_path / "b"),
                                  "--json"])
    assert code == 0
    assert "bundles ·" not in err

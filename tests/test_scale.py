"""Bundles wherever they live, the engines' guard rails, and the exports read by other tools.

The Ray cluster runs are in test_scale_cluster.py; here: `--engine ray` without Ray, a plain `wf` that never
loads Ray, `file://` URLs for reading bundles and writing exports, one-line errors for bad URLs, and the
exported Parquet / WebDataset loaded unchanged by Hugging Face `datasets` and DuckDB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from export_fixture import synthetic_bundle
from test_export import parquet_rows, tree_digest

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.export.pipeline import ExportOptions, export
from wf.scale import locations

STEPS = 4


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    return [synthetic_bundle(tmp_path / f"b{i}", STEPS, seed=i + 1) for i in range(3)]


def run_wf_without_ray(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The real command line in a Python where `import ray` fails, as where the extra is not installed."""
    code = ("import sys; sys.modules['ray'] = None; sys.modules['ray.data'] = None\n"
            "from wf.cli.main import run\nsys.exit(run(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["export", "redact", "verify"])
def test_engine_ray_without_ray_is_one_line_naming_the_extra(corpus: list[Path], tmp_path: Path,
                                                             command: str) -> None:
    args = {"export": ["export", str(corpus[0]), "-f", "parquet", "-o", str(tmp_path / "x")],
            "redact": ["redact", str(corpus[0]), str(corpus[1]), "--scrub", "x", "-o", str(tmp_path / "x")],
            "verify": ["verify", str(corpus[0])]}[command]
    res = run_wf_without_ray([*args, "--engine", "ray"])
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines == ["wf: error: --engine ray needs Ray, which is not installed",
                     "hint: install the Ray extra: pip install 'wf[ray]'"], res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_the_local_engine_never_loads_ray(corpus: list[Path], tmp_path: Path) -> None:
    code = ("import sys\nfrom wf.cli.main import run\n"
            "rc = run(sys.argv[1:])\nassert 'ray' not in sys.modules, 'ray was imported'\nsys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, "export", *map(str, corpus), "-f", "webdataset", "-o",
                          str(tmp_path / "w"), "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["steps"] == 3 * STEPS


def test_address_without_engine_ray_is_a_usage_error(corpus: list[Path], tmp_path: Path) -> None:
    res = run_wf_without_ray(["export", str(corpus[0]), "-f", "parquet", "-o", str(tmp_path / "x"),
                              "--address", "127.0.0.1:1"])
    assert res.returncode == 2
    assert "--address needs --engine ray" in res.stderr


# ------------------------------------------------------------------ file:// URLs and bad locations


def test_file_urls_read_bundles_and_receive_the_export(corpus: list[Path], tmp_path: Path) -> None:
    plain = export(corpus, ExportOptions(format="parquet", out=tmp_path / "plain"))
    urls = [b.as_uri() for b in corpus]
    out = (tmp_path / "via-url").as_uri()
    m = export(urls, ExportOptions(format="parquet", out=out, jobs=2))
    assert m.skipped == [] and m.steps == plain.steps == 3 * STEPS
    assert [b.path for b in m.bundles] == urls  # the manifest names the bundles as they were given
    assert parquet_rows(tmp_path / "via-url") == parquet_rows(tmp_path / "plain")
    digest, plain_digest = tree_digest(tmp_path / "via-url"), tree_digest(tmp_path / "plain")
    digest.pop("manifest.json")
    plain_digest.pop("manifest.json")
    assert digest == plain_digest


def test_a_url_and_a_path_to_the_same_bundle_are_one_bundle(corpus: list[Path], tmp_path: Path) -> None:
    m = export([corpus[0], corpus[0].as_uri()], ExportOptions(format="webdataset", out=tmp_path / "w"))
    assert len(m.bundles) == 1
    assert m.skipped[0].reason.startswith("duplicate")


@pytest.mark.parametrize("url, error, words", [
    ("nosuch://bucket/b", BadInput, ("bad URL 'nosuch://bucket/b'", "Protocol not known")),
    ("file://otherhost/tmp/b", BadInput, ("bad file URL", "host 'otherhost'")),
])
def test_bad_urls_are_one_line_errors(url: str, error: type[Exception], words: tuple[str, ...]) -> None:
    with pytest.raises(error) as info, locations.localized(url):
        pass
    assert all(w in str(info.value) for w in words)


def test_s3_without_its_package_names_what_to_install(corpus: list[Path], tmp_path: Path) -> None:
    try:
        import s3fs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("s3fs is installed here; the hint is for machines without it")
    with pytest.raises(EnvironmentProblem) as info:
        locations.filesystem("s3://bucket/runs/b")
    assert "s3:// protocol needs a package" in info.value.message
    assert info.value.hint == "install s3fs (pip install 'wf[s3]')"
    # Through the command line: the bundle is skipped with that reason, the others exported.
    res = subprocess.run([sys.executable, "-m", "wf.cli", "export", str(corpus[0]), "s3://bucket/runs/b", "-f",
                          "parquet", "-o", str(tmp_path / "o"), "--json"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 1, res.stderr
    skipped = json.loads(res.stdout)["skipped"]
    assert [s["path"] for s in skipped] == ["s3://bucket/runs/b"]
    assert "s3:// protocol needs a package" in skipped[0]["reason"]


def test_a_missing_remote_bundle_and_an_unreachable_out_are_reported(corpus: list[Path], tmp_path: Path) -> None:
    """`memory://` is fsspec's in-process filesystem: a real remote-style location without a network."""
    m = export([corpus[0], "memory://nowhere/b"], ExportOptions(format="parquet", out=tmp_path / "o"))
    assert [s.path for s in m.skipped] == ["memory://nowhere/b"]
    assert "no such bundle" in m.skipped[0].reason


def test_a_bundle_at_a_remote_url_is_downloaded_and_the_export_uploaded(corpus: list[Path], tmp_path: Path) -> None:
    """Through fsspec's memory:// filesystem: the remote code path (download, upload), no network."""
    import fsspec

    fs = fsspec.filesystem("memory")
    for b in corpus:
        fs.put(str(b) + "/", f"/corpus/{b.name}/", recursive=True)
    urls = [f"memory://corpus/{b.name}" for b in corpus]
    m = export(urls, ExportOptions(format="parquet", out="memory://exports/pq"))
    assert m.skipped == [] and m.steps == 3 * STEPS
    local = export(corpus, ExportOptions(format="parquet", out=tmp_path / "pq"))
    names = sorted(p.split("/exports/pq/", 1)[1] for p in fs.find("/exports/pq"))
    assert names == sorted(str(p.relative_to(tmp_path / "pq")) for p in (tmp_path / "pq").rglob("*") if p.is_file())
    for f in local.files:
        assert fs.cat(f"/exports/pq/{f.path}") == (tmp_path / "pq" / f.path).read_bytes()
    with pytest.raises(BadInput, match="exists and is not empty"):
        export(urls, ExportOptions(format="parquet", out="memory://exports/pq"))
    fs.rm("/corpus", recursive=True)
    fs.rm("/exports", recursive=True)


# ------------------------------------------------------------------ other tools read the exports


def test_hugging_face_datasets_and_duckdb_read_the_parquet(corpus: list[Path], tmp_path: Path) -> None:
    import datasets
    import duckdb

    export(corpus, ExportOptions(format="parquet", out=tmp_path / "pq", shard_mb=0.02))
    assert len(list((tmp_path / "pq" / "data").glob("*.parquet"))) > 1
    ds = datasets.load_dataset(str(tmp_path / "pq"), split="train")
    assert len(ds) == 3 * STEPS
    assert isinstance(ds.features["image"], datasets.Image)
    assert ds[0]["image"].size == (64, 48) and ds[0]["step"] == 0
    con = duckdb.connect()
    glob = str(tmp_path / "pq" / "data" / "*.parquet")
    rows = con.execute(f"SELECT episode_id, count(*), min(step), max(step) FROM '{glob}' GROUP BY 1 ORDER BY 1"
                       ).fetchall()
    assert [r[1:] for r in rows] == [(STEPS, 0, STEPS - 1)] * 3
    kinds = con.execute(f"SELECT action_type, count(*) FROM '{glob}' GROUP BY 1").fetchall()
    assert kinds == [("click", 3 * STEPS)]
    # The image bytes are the stored PNGs, readable as such by a SQL engine too.
    assert con.execute(f"SELECT left(hex(image.bytes), 16) FROM '{glob}' LIMIT 1").fetchone() == ("89504E470D0A1A0A",)


def test_hugging_face_datasets_and_duckdb_read_the_webdataset(corpus: list[Path], tmp_path: Path) -> None:
    import datasets
    import duckdb

    export(corpus, ExportOptions(format="webdataset", out=tmp_path / "wds", shard_mb=0.05))
    shards = sorted(str(p) for p in (tmp_path / "wds" / "shards").glob("*.tar"))
    assert len(shards) > 1
    ds = datasets.load_dataset("webdataset", data_files={"train": shards}, split="train")
    assert len(ds) == 3 * STEPS
    first = ds[0]
    assert first["png"].size == (64, 48) and first["post.png"].size == (64, 48)
    assert first["json"]["action_type"] == "click" and first["__key__"].endswith("/000000")
    # DuckDB reads the samples' JSON metadata (the members named KEY.json) once extracted by tar.
    meta = tmp_path / "meta"
    meta.mkdir()
    for s in shards:
        subprocess.run(["tar", "-xf", s, "-C", str(meta), "--wildcards", "*.json"], check=True)
    glob = str(meta / "**" / "*.json")
    n, steps = duckdb.connect().execute(f"SELECT count(*), count(DISTINCT episode_id) FROM read_json_auto('{glob}')"
                                        ).fetchone()
    assert (n, steps) == (3 * STEPS, 3)


# ------------------------------------------------------------------ wf verify without a display


def test_verify_reports_an_unreplayable_bundle_as_an_error_row(corpus: list[Path], tmp_path: Path) -> None:
    """A missing and a corrupt bundle are rows with status error and the reason; the batch still ends."""
    samples = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
    res = subprocess.run([sys.executable, "-m", "wf.cli", "verify", str(tmp_path / "nope"),
                          str(samples / "corrupt"), "--json", "-j", "2"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout)
    assert (summary["bundles"], summary["errors"], summary["verified"]) == (2, 2, 0)
    nope, corrupt = summary["rows"]
    assert nope["status"] == corrupt["status"] == "error"
    assert "no such bundle" in nope["reason"] and "corrupt JSON" in corrupt["reason"]
    assert "error" in res.stderr and "Traceback" not in res.stderr


def test_verify_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (["verify"], ["verify", str(tmp_path), "--jobs", "0"], ["verify", str(tmp_path), "--speed", "0"],
                 ["verify", str(tmp_path), "--address", "127.0.0.1:1"]):
        res = subprocess.run([sys.executable, "-m", "wf.cli", *args], capture_output=True, text=True, timeout=120)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr

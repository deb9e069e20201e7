"""The built wheel, not the editable install: it carries every part and `wf view` finds its templates.

The editable install maps `wf.*` onto the source folders, so templates missing from the wheel would never
show up in the rest of the suite. Here a wheel is built from a copy of the sources (the worktree gets no
build/ litter), installed with --no-deps into a fresh venv that borrows this venv's third-party packages
(a .pth line: the venv's own site-packages comes first, so `wf` can only come from the wheel), and run
outside the source tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from xrig import FIXTURES, REPO

pytestmark = pytest.mark.slow


def _project() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    package_dir = _project()["tool"]["setuptools"]["package-dir"]  # type: ignore[index]
    for folder in {p.split("/")[0] for p in package_dir.values()}:
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", str(src), "-w", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    log = res.stdout + res.stderr  # -v: the build backend's own output, where setuptools warns
    for noise in ("BuildBackendWarning", "SetuptoolsDeprecationWarning", "is deprecated", "would be ignored"):
        assert noise not in log, noise
    (built,) = out.glob("wf-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed (its dependencies borrowed from this venv)."""
    env = tmp_path_factory.mktemp("venv") / "v"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return env


def test_the_wheel_holds_every_part_and_the_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for package in _project()["tool"]["setuptools"]["packages"]:  # type: ignore[index]
        folder = package.replace(".", "/")
        assert any(n.startswith(folder + "/") for n in names), package
    for template in ("view.html.j2", "view.js", "view.css"):
        assert f"wf/view/templates/{template}" in names


def test_wf_view_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    where = subprocess.run([python, "-c", "import wf.view.page as p; print(p.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(installed), where  # not the editable source tree
    out = tmp_path / "view.html"
    res = subprocess.run([installed / "bin" / "wf", "view", FIXTURES / "samples" / "valid", "--out", out],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    js = (REPO / "view" / "templates" / "view.js").read_text()
    css = (REPO / "view" / "templates" / "view.css").read_text()
    assert js.strip() in html and css.strip()[:200] in html  # the shipped static files, inlined
    assert re.search(r'<script type="application/json" id="wf-data">', html)
    assert '"steps":[' in html and "Content-Security-Policy" in html

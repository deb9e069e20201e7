"""The layers hold: every import of every product module, read from its source (function-local ones too).

bundle ← scale ← recorder, replayer, export, redact, view ← data, cli. The bundle is the contract and imports
nothing above it; wf.scale (Ray sessions, URLs) sits right above it and imports only the bundle; the recorder
never imports the replayer; nothing but the command line imports the command line.
curate (effects, quality, splitting) stands on the bundle alone; export, view and cli may use it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PARTS = ("bundle", "cli", "curate", "data", "export", "recorder", "redact", "replayer", "scale", "view")
ABOVE_BUNDLE = ("wf.recorder", "wf.replayer", "wf.export", "wf.redact", "wf.view", "wf.cli", "wf.curate", "wf.scale",
                "wf.data")
ABOVE_SCALE = ("wf.recorder", "wf.replayer", "wf.export", "wf.redact", "wf.view", "wf.cli", "wf.curate", "wf.data")


def module_name(path: Path, root: Path = REPO) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["wf", *parts])


def product_modules() -> list[Path]:
    return sorted(p for part in PARTS for p in (REPO / part).rglob("*.py"))


def imports(path: Path, root: Path = REPO) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import statement anywhere in the file."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = ".".join(package[: len(package) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            yield node.lineno, mod
            for alias in node.names:  # `from wf import cli` imports wf.cli
                yield node.lineno, f"{mod}.{alias.name}"


def within(mod: str, prefixes: tuple[str, ...]) -> bool:
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def violations(path: Path, root: Path = REPO) -> list[str]:
    me = module_name(path, root)
    out = []
    for line, mod in imports(path, root):
        if within(me, ("wf.bundle",)) and within(mod, ABOVE_BUNDLE):
            why = "the bundle imports a layer above it"
        elif within(me, ("wf.scale",)) and within(mod, ABOVE_SCALE):
            why = "wf.scale sits below the parts that schedule work on it"
        elif within(me, ("wf.recorder",)) and within(mod, ("wf.replayer",)):
            why = "the recorder imports the replayer"
        elif within(me, ("wf.curate",)) and within(mod, ABOVE_BUNDLE) and not within(mod, ("wf.curate",)):
            why = "curate stands on the bundle alone"
        elif not within(me, ("wf.cli",)) and within(mod, ("wf.cli",)):
            why = "only the command line may import the command line"
        else:
            continue
        out.append(f"{path.relative_to(root)}:{line}: {me} imports {mod}: {why}")
    return out


def test_the_walk_sees_every_part() -> None:
    found = {module_name(p).split(".")[1] for p in product_modules()}
    assert found == set(PARTS)
    assert len(product_modules()) > 50


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_layers(path: Path) -> None:
    assert violations(path) == []


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """Each rule on a file that breaks it, including a function-local and a relative import."""
    cases = {
        "bundle/bad.py": "def f():\n    from wf.replayer.session import replay\n",
        "bundle/actions/bad.py": "from ...view import page\n",
        "recorder/bad.py": "import wf.replayer.plan\n",
        "view/bad.py": "from wf import cli\n",
        "scale/bad.py": "def f():\n    from wf.export.stages import regroup\n",
        "replayer/fine.py": "from wf.recorder.input import InputCapture\nfrom wf.bundle import events\n",
        "curate/bad.py": "from wf.export.steps import Episode\n",
        "export/fine.py": "from wf.curate.quality import assess\n",
        "cli/fine.py": "from wf.cli.console import err\nfrom wf.replayer import session\n",
    }
    found = {}
    for rel, text in cases.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        found[rel] = violations(path, tmp_path)
    assert "wf.bundle.bad imports wf.replayer.session" in found["bundle/bad.py"][0]
    assert "imports wf.view.page" in found["bundle/actions/bad.py"][-1]
    assert "the recorder imports the replayer" in found["recorder/bad.py"][0]
    assert "wf.view.bad imports wf.cli" in found["view/bad.py"][-1]
    assert "wf.scale sits below" in found["scale/bad.py"][0]
    assert "curate stands on the bundle alone" in found["curate/bad.py"][0]
    assert found["replayer/fine.py"] == [] and found["cli/fine.py"] == [] and found["export/fine.py"] == []

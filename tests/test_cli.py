"""The command line as a user meets it: version, help with exit codes, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

from xrig import REPO, wf


def test_version() -> None:
    res = wf("--version")
    assert res.returncode == 0 and re.fullmatch(r"wf \S+\n", res.stdout)


def test_help_lists_exit_codes_and_commands() -> None:
    res = wf("--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    for code in ("0 ok", "1 check failed", "2 bad usage", "3 environment problem", "130 interrupted"):
        assert code in text
    for cmd in ("validate", "inspect"):
        assert cmd in text


def test_readme_documents_every_exit_code_and_command() -> None:
    readme = (REPO / "README.md").read_text()
    for code in ("| 0 ", "| 1 ", "| 2 ", "| 3 ", "| 130 "):
        assert code in readme
    from wf.cli.main import app

    for cmd in (c.name for c in app.registered_commands):
        assert f"wf {cmd}" in readme, f"README does not show `wf {cmd}`"


def test_usage_error_is_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (["inspect"], ["no-such-command"], ["inspect", str(tmp_path), "--bogus"]):
        res = wf(*args)
        assert res.returncode == 2, args
        assert "Traceback" not in res.stderr

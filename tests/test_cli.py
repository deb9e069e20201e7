"""The command line as a user meets it: version, help with exit codes, one-line errors."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import get_args

import pytest
from xrig import REPO, wf


def test_version() -> None:
    res = wf("--version")
    assert res.returncode == 0 and re.fullmatch(r"wf \S+\n", res.stdout)


def test_help_lists_exit_codes_and_commands() -> None:
    res = wf("--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    for code in ("0 ok", "1 check failed", "2 bad usage", "3 environment problem", "4 replay unverified",
                 "130 interrupted"):
        assert code in text
    for cmd in ("validate", "inspect"):
        assert cmd in text


def test_readme_documents_every_exit_code_and_command() -> None:
    readme = (REPO / "README.md").read_text()
    for code in ("| 0 ", "| 1 ", "| 2 ", "| 3 ", "| 4 ", "| 130 "):
        assert code in readme
    from wf.cli.main import app

    for cmd in (c.name for c in app.registered_commands):
        assert f"wf {cmd}" in readme, f"README does not show `wf {cmd}`"


def test_usage_error_is_exit_2_without_traceback(tmp_path: Path) -> None:
    for args in (["inspect"], ["no-such-command"], ["inspect", str(tmp_path), "--bogus"]):
        res = wf(*args)
        assert res.returncode == 2, args
        assert "Traceback" not in res.stderr


COMMANDS = ("record", "replay", "verify", "validate", "inspect", "annotate", "view", "redact", "export", "split",
            "config")


def test_every_command_is_registered_explicitly() -> None:
    from wf.cli.main import app

    assert tuple(c.name for c in app.registered_commands) == COMMANDS


def _help(*cmd: str) -> str:
    res = wf(*cmd, "--help", env={**os.environ, "COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    assert res.returncode == 0, res.stderr
    return res.stdout


def _choices() -> dict[tuple[str, str], str]:
    """Every enumerated option, with the values the library itself accepts."""
    from wf.bundle.actions import COORDS
    from wf.bundle.annotations import OUTCOMES
    from wf.bundle.replays import Level, SyncMode
    from wf.export.formats import FORMATS
    from wf.export.images import IMAGE_FORMATS
    from wf.redact.presets import PRESETS
    from wf.replayer.options import ScaleMode

    return {
        ("replay", "--level"): "|".join(get_args(Level)),
        ("replay", "--sync"): "|".join(get_args(SyncMode)),
        ("replay", "--scale"): "|".join(get_args(ScaleMode)),
        ("inspect", "--coords"): "|".join(COORDS),
        ("export", "--format"): "|".join(FORMATS),
        ("export", "--coords"): "|".join(COORDS),
        ("export", "--image-format"): "|".join(IMAGE_FORMATS),
        ("annotate", "--outcome"): "|".join(OUTCOMES),
        ("redact", "--scrub-preset"): f"list[{'|'.join(PRESETS)}]",
        ("config", "ACTION"): "show|path",
    }


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_lists_choices_and_puts_no_placeholder_on_flags(cmd: str) -> None:
    import typer

    from wf.cli.main import app

    text = _help(cmd)
    assert "<bool>" not in text
    click_cmd = typer.main.get_command(app).commands[cmd]  # type: ignore[attr-defined]
    flags = [o for p in click_cmd.params if getattr(p, "is_flag", False) for o in [*p.opts, *p.secondary_opts]]
    assert flags, cmd
    for flag in [*flags, "--help"]:
        row = next(line for line in text.splitlines() if re.search(rf"\s{re.escape(flag)}(\s|,)", line))
        after = row.split(flag, 1)[1]
        assert not re.match(r"[\s,\-a-z]*<", after), f"{cmd} {flag}: {row.strip()}"
    for (where, option), values in _choices().items():
        if where == cmd:
            assert re.search(rf"{re.escape(option)}\s.*<{re.escape(values)}>", text), f"{cmd} {option}"


def test_the_cli_choice_types_match_the_library() -> None:
    from wf.bundle.actions import COORDS
    from wf.cli.choices import Coords, ScrubPreset
    from wf.redact.presets import PRESETS

    assert get_args(Coords) == COORDS
    assert [p.value for p in ScrubPreset] == list(PRESETS)


@pytest.mark.parametrize("args, bad, valid", [
    (["replay", "{bundle}", "--level", "fast"], "'fast'", "'events', 'actions'"),
    (["export", "{bundle}", "--format", "csv", "--out", "{tmp}/x"], "'csv'",
     "'parquet', 'webdataset', 'agentnet', 'osworld', 'pyautogui', 'adp'"),
    (["inspect", "{bundle}", "--pyautogui", "--coords", "inches"], "'inches'", "'pixels', 'unit', 'k1000'"),
    (["redact", "{bundle}", "--out", "{tmp}/r", "--scrub-preset", "all"], "'all'", "'secrets'"),
])
def test_a_bad_choice_is_one_line_naming_the_valid_ones(tmp_path: Path, args: list[str], bad: str,
                                                        valid: str) -> None:
    sample = str(REPO / "fixtures" / "samples" / "valid")
    res = wf(*(a.format(bundle=sample, tmp=tmp_path) for a in args))
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2, res.stderr
    assert lines[0].startswith("wf: error: ") and f"{bad} is not one of {valid}" in lines[0]
    assert lines[1].startswith(f"hint: see `wf {args[0]} --help`")
    assert not list(tmp_path.iterdir())  # nothing was written


def test_exit_codes_are_decided_in_one_place() -> None:
    from wf.bundle.annotation_log import NewerAnnotationsError
    from wf.bundle.errors import BadInput, BundleError, Category, CheckFailed, EnvironmentProblem, Interrupted
    from wf.cli.exit import ExitCode, for_category, for_error
    from wf.replayer.driver import ReplayAborted

    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 70, 130]
    # UNVERIFIED is no error: `wf replay` returns it for a verdict that is neither verified nor failed.
    assert {for_category(c) for c in Category} == set(ExitCode) - {ExitCode.OK, ExitCode.INTERNAL_ERROR,
                                                                    ExitCode.UNVERIFIED}
    expected = {BadInput: 2, BundleError: 2, NewerAnnotationsError: 2, CheckFailed: 1, EnvironmentProblem: 3,
                Interrupted: 130, ReplayAborted: 130}
    assert {cls: int(for_error(cls("x"))) for cls in expected} == expected

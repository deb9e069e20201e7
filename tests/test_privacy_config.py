"""The config file (where it is found, what it may say) and the built-in exclusion list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wf.bundle.errors import BadInput
from wf.cli.main import run
from wf.recorder.config import Config, Hotkeys, check_hotkey, config_location, load_config
from wf.recorder.exclusion import ExclusionRules
from wf.recorder.privacy_defaults import DEFAULT_RULES, default_patterns
from wf.redact.spec import build_spec


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------- locations


def test_location_order_wf_config_then_xdg_then_home(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert config_location({"HOME": home}) == (Path(home) / ".config/wf/config.toml", "default")
    xdg = str(tmp_path / "xdg")
    assert config_location({"HOME": home, "XDG_CONFIG_HOME": xdg})[0] == Path(xdg) / "wf/config.toml"
    # a relative XDG_CONFIG_HOME is invalid per the spec and ignored
    assert config_location({"HOME": home, "XDG_CONFIG_HOME": "rel"})[0] == Path(home) / ".config/wf/config.toml"
    env = {"HOME": home, "XDG_CONFIG_HOME": xdg, "WF_CONFIG": str(tmp_path / "x.toml")}
    assert config_location(env) == (tmp_path / "x.toml", "WF_CONFIG")


def test_missing_default_file_means_defaults_but_missing_wf_config_is_an_error(tmp_path: Path) -> None:
    cfg = load_config(env={"HOME": str(tmp_path)})
    assert cfg == Config() and cfg.source is None
    assert cfg.hotkeys == Hotkeys("ctrl+alt+shift+s", "ctrl+alt+shift+p", "ctrl+alt+shift+m") and cfg.fps == 5
    with pytest.raises(BadInput, match="does not exist"):
        load_config(env={"HOME": str(tmp_path), "WF_CONFIG": str(tmp_path / "nope.toml")})


def test_full_file_is_read(tmp_path: Path) -> None:
    f = write(tmp_path / "xdg/wf/config.toml", """
[record]
fps = 2.5
[hotkeys]
stop = "Ctrl+F12"
pause = "alt+ctrl+p"
mark = "super+m"
[privacy]
exclude_windows = ["Online Banking", "^Secret "]
skip_defaults = ["keepassxc"]
""")
    cfg = load_config(env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert cfg.source == f and cfg.fps == 2.5
    assert cfg.hotkeys == Hotkeys("ctrl+f12", "ctrl+alt+p", "win+m")
    pats = cfg.exclusion_patterns(["cli-extra"])
    assert pats[-3:] == ("Online Banking", "^Secret ", "cli-extra")
    assert not any("keepass" in p for p in pats)
    assert len(pats) == len(DEFAULT_RULES) - 1 + 3
    assert cfg.exclusion_patterns(use_defaults=False) == ("Online Banking", "^Secret ")
    off = load_config(write(tmp_path / "off.toml", "[privacy]\ndefault_exclusions = false\n"))
    assert off.exclusion_patterns() == ()


@pytest.mark.parametrize("text, message", [
    ("[record\n", "invalid TOML"),
    ("[recorder]\nfps = 5\n", "unknown table"),
    ("[record]\nfsp = 5\n", "record.fsp: unknown key"),
    ("record = 5\n", "must be a table"),
    ("[record]\nfps = 0\n", "record.fps"),
    ("[record]\nfps = \"fast\"\n", "record.fps"),
    ("[hotkeys]\nstop = \"ctrl+alt\"\n", "ends with a modifier"),
    ("[hotkeys]\nstop = \"hyper+s\"\n", "not a modifier"),
    ("[hotkeys]\nstop = \"ctrl+nosuchkey\"\n", "unknown key name"),
    ("[hotkeys]\npause = \"ctrl+alt+shift+s\"\n", "must differ"),
    ("[privacy]\nexclude_windows = [\"(unclosed\"]\n", "bad regular expression"),
    ("[privacy]\nexclude_windows = \"Bank\"\n", "list of strings"),
    ("[privacy]\ndefault_exclusions = \"no\"\n", "true or false"),
    ("[privacy]\nskip_defaults = [\"nope\"]\n", "unknown rule name"),
])
def test_bad_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    f = write(tmp_path / "c.toml", text)
    with pytest.raises(BadInput, match=re.escape(message)) as info:
        load_config(f)
    assert str(f) in info.value.message


def test_cli_exclude_window_is_checked_too() -> None:
    with pytest.raises(BadInput, match="--exclude-window"):
        Config().exclusion_patterns(["(bad"])


def test_check_hotkey_normalises() -> None:
    assert check_hotkey(" Ctrl + Shift + F5 ") == "ctrl+shift+f5"
    assert check_hotkey("pause") == "pause"
    assert check_hotkey("super+shift+x") == "shift+win+x"  # the recorder's canonical order and names
    with pytest.raises(ValueError):
        check_hotkey("ctrl++a")


# ------------------------------------------------------------------------------- wf config


def test_wf_config_show_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("WF_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert run(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "xdg/wf/config.toml")
    assert run(["config", "show"]) == 0
    assert "built-in defaults" in capsys.readouterr().out
    write(tmp_path / "xdg/wf/config.toml", "[record]\nfps = 3\n[privacy]\nexclude_windows = [\"Bank\"]\n")
    assert run(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == str(tmp_path / "xdg/wf/config.toml") and data["from"] == "default"
    assert data["record"]["fps"] == 3 and data["effective_exclusions"][-1] == "Bank"
    assert data["effective_exclusions"][: len(DEFAULT_RULES)] == list(default_patterns())
    monkeypatch.setenv("WF_CONFIG", str(write(tmp_path / "bad.toml", "[nope]\n")))
    assert run(["config", "show"]) == 2
    assert "unknown table" in capsys.readouterr().err
    assert run(["config", "frobnicate"]) == 2


# ------------------------------------------------------------------------------- the default list


SECRET_PROMPTS = [
    ("Password", None), ("Enter Passphrase", None), ("Authentication Required", "polkit-gnome-authentication-agent-1"),
    ("Authenticate", "lxpolkit.Lxpolkit"), ("Unlock Login Keyring", "gcr-prompter.Gcr-prompter"),
    ("", "pinentry-gtk-2.Pinentry-gtk-2"), ("OpenSSH Authentication Passphrase request", "ssh-askpass.Ssh-askpass"),
    ("Passwords.kdbx - KeePassXC", "keepassxc.KeePassXC"), ("1Password", "1password.1Password"),
    ("Bitwarden", "bitwarden.Bitwarden"), ("Unlock Database - KeePassXC", None), ("sudo password for alice", None),
    ("KDE Wallet Service", "kwalletd5.kwalletd5"), ("Enter PIN for smart card", None),
]
ORDINARY = [
    ("xterm", "xterm.XTerm"), ("wf fixture", "WfFixture.WfFixture"), ("Untitled - Gedit", "gedit.Gedit"),
    ("Inbox - Mozilla Thunderbird", "Mail.thunderbird"), ("passenger list.ods - LibreOffice Calc", None),
    ("Compass", None), ("Unlocked achievements", None), ("PINE mail", None), ("authentic recipes", None),
]


@pytest.mark.parametrize("title, wm_class", SECRET_PROMPTS)
def test_defaults_exclude_secret_prompts(title: str, wm_class: str | None) -> None:
    rules = ExclusionRules.parse(default_patterns())  # the recorder's own matcher
    assert rules.matches(title, wm_class)
    # `wf redact --mask-window` applies the very same rules to a finished bundle.
    assert build_spec(mask_windows=list(default_patterns())).mask_windows.matches(title, wm_class)


@pytest.mark.parametrize("title, wm_class", ORDINARY)
def test_defaults_leave_ordinary_windows_alone(title: str, wm_class: str | None) -> None:
    assert not ExclusionRules.parse(default_patterns()).matches(title, wm_class)


def test_every_rule_has_a_unique_name_and_a_reason() -> None:
    names = [r.name for r in DEFAULT_RULES]
    assert len(names) == len(set(names))
    assert all(r.why and r.compiled() for r in DEFAULT_RULES)


def test_describe_exclusions_for_the_start_notice() -> None:
    assert Config().describe_exclusions(["vault"]) == (
        f"built-in secret prompts ({len(DEFAULT_RULES)} rules, see `wf config show`), 'vault'")
    assert Config(default_exclusions=False).describe_exclusions() == "none"
    assert Config(exclude_windows=("Bank",)).describe_exclusions(use_defaults=False) == "'Bank'"

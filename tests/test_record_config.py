"""`wf record` takes its defaults from the config file, and the command line wins over it."""

from __future__ import annotations

from pathlib import Path

from xrig import Display, wf

from wf.bundle.reader import Bundle


def test_config_file_sets_fps_hotkeys_and_exclusions(xdisplay: Display, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[record]\nfps = 2\n[hotkeys]\nstop = "f12"\n[privacy]\nexclude_windows = ["^Secret notes$"]\n')
    env = xdisplay.env(WF_CONFIG=str(cfg))
    res = wf("record", tmp_path / "a", "--duration", "0.5", "--quiet", env=env)
    assert res.returncode == 0, res.stderr
    opts = Bundle.open(tmp_path / "a").header.recorder.options
    assert opts["fps"] == 2 and opts["stop_key"] == "f12" and opts["config"] == str(cfg)
    assert "^Secret notes$" in opts["exclude_window"]  # type: ignore[operator]
    assert len(opts["exclude_window"]) > 1  # type: ignore[arg-type]  # the built-in secret prompts too

    res = wf("record", tmp_path / "b", "--duration", "0.5", "--quiet", "--fps", "4", "--stop-key", "f11",
             "--no-default-exclusions", env=env)
    assert res.returncode == 0, res.stderr
    opts = Bundle.open(tmp_path / "b").header.recorder.options
    assert opts["fps"] == 4 and opts["stop_key"] == "f11"
    assert opts["exclude_window"] == ["^Secret notes$"]


def test_bad_config_file_is_exit_2_naming_the_key(xdisplay: Display, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[record]\nfps = -1\n")
    res = wf("record", tmp_path / "a", "--duration", "0.5", "--quiet", env=xdisplay.env(WF_CONFIG=str(cfg)))
    assert res.returncode == 2 and "record.fps" in res.stderr
    assert not (tmp_path / "a").exists()

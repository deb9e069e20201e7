"""The user's wf configuration: ``config.toml`` with recording defaults (fps, hotkeys, exclusions).

Where it is looked for, first hit wins:

1. the ``path`` argument of :func:`load_config` (a missing file is an error);
2. ``$WF_CONFIG`` (a missing file is an error: somebody asked for it explicitly);
3. ``$XDG_CONFIG_HOME/wf/config.toml``, else ``~/.config/wf/config.toml`` (a missing file means
   "use the built-in defaults").

Every key is optional; unknown tables or keys, wrong types and bad regexes are errors naming the
file and the key, so a typo never silently turns a privacy setting off. The schema::

    [record]
    fps = 5                               # screenshots per second (0 < fps <= 60)

    [hotkeys]
    stop = "ctrl+alt+shift+s"
    pause = "ctrl+alt+shift+p"
    mark = "ctrl+alt+shift+m"

    [privacy]
    exclude_windows = ["(?i)online banking"]   # added to the built-in list
    default_exclusions = true             # false: do not use the built-in list at all
    skip_defaults = ["keepassxc"]         # built-in rules to leave out, by name
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wf.bundle.errors import BadInput
from wf.bundle.windowrules import check_regex
from wf.recorder.control import Hotkey
from wf.recorder.keys import SPECIAL_NAMES
from wf.recorder.privacy_defaults import DEFAULT_RULES, RULES_BY_NAME, default_patterns

CONFIG_ENV = "WF_CONFIG"
MAX_FPS = 60.0
DEFAULT_FPS = 5.0

_SCHEMA: dict[str, tuple[str, ...]] = {
    "record": ("fps",),
    "hotkeys": ("stop", "pause", "mark"),
    "privacy": ("exclude_windows", "default_exclusions", "skip_defaults"),
}


@dataclass(frozen=True, slots=True)
class Hotkeys:
    """Control hotkeys as ``+``-joined pyautogui key names; their keystrokes are never recorded."""

    stop: str = "ctrl+alt+shift+s"
    pause: str = "ctrl+alt+shift+p"
    mark: str = "ctrl+alt+shift+m"


@dataclass(frozen=True, slots=True)
class Config:
    """The effective configuration. ``source`` is the file it came from (None: built-in defaults)."""

    fps: float = DEFAULT_FPS
    hotkeys: Hotkeys = field(default_factory=Hotkeys)
    exclude_windows: tuple[str, ...] = ()
    default_exclusions: bool = True
    skip_defaults: tuple[str, ...] = ()
    source: Path | None = None

    def exclusion_patterns(self, extra: tuple[str, ...] | list[str] = (), *,
                           use_defaults: bool | None = None) -> tuple[str, ...]:
        """Every window-exclusion regex for a recording, in order: built-in, config file, ``extra``.

        ``extra`` are the ``--exclude-window`` values of the command line (checked here too);
        ``use_defaults`` overrides the file's ``default_exclusions`` (e.g. ``--no-default-exclusions``).
        Duplicates are removed; each pattern is matched with ``re.search`` on title and on WM class.
        """
        for p in extra:
            check_regex(p, "--exclude-window")
        builtin = self.default_exclusions if use_defaults is None else use_defaults
        base = default_patterns(frozenset(self.skip_defaults)) if builtin else ()
        return tuple(dict.fromkeys((*base, *self.exclude_windows, *extra)))

    def describe_exclusions(self, extra: tuple[str, ...] | list[str] = (), *,
                            use_defaults: bool | None = None) -> str:
        """One line for the recorder's start notice, without spelling out the long built-in regexes."""
        builtin = self.default_exclusions if use_defaults is None else use_defaults
        n = len(default_patterns(frozenset(self.skip_defaults))) if builtin else 0
        parts = [f"built-in secret prompts ({n} rules, see `wf config show`)"] if n else []
        parts += [repr(p) for p in dict.fromkeys((*self.exclude_windows, *extra))]
        return ", ".join(parts) if parts else "none"

    def to_json(self) -> dict[str, object]:
        return {
            "source": str(self.source) if self.source else None,
            "record": {"fps": self.fps},
            "hotkeys": {"stop": self.hotkeys.stop, "pause": self.hotkeys.pause, "mark": self.hotkeys.mark},
            "privacy": {
                "exclude_windows": list(self.exclude_windows),
                "default_exclusions": self.default_exclusions,
                "skip_defaults": list(self.skip_defaults),
            },
            "effective_exclusions": list(self.exclusion_patterns()),
        }


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/wf/config.toml`` or ``~/.config/wf/config.toml`` (ignores ``$WF_CONFIG``)."""
    e = os.environ if env is None else env
    xdg = e.get("XDG_CONFIG_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path(e.get("HOME") or Path.home()) / ".config"
    return base / "wf" / "config.toml"


def config_location(env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The file :func:`load_config` would read and why: ``"WF_CONFIG"`` or ``"default"``."""
    e = os.environ if env is None else env
    if e.get(CONFIG_ENV):
        return Path(e[CONFIG_ENV]).expanduser(), CONFIG_ENV
    return default_config_path(e), "default"


def load_config(path: Path | str | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration; a missing *default* file yields the built-in defaults."""
    if path is not None:
        where, required = Path(path).expanduser(), True
    else:
        where, why = config_location(env)
        required = why == CONFIG_ENV
    try:
        data = where.read_bytes()
    except FileNotFoundError:
        if required:
            raise BadInput(f"config file {where} does not exist",
                           hint=f"create it, or unset ${CONFIG_ENV} to use {default_config_path(env)}") from None
        return Config()
    except IsADirectoryError:
        raise BadInput(f"config file {where} is a directory", hint="point at a config.toml file") from None
    except OSError as exc:
        raise BadInput(f"cannot read config file {where}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput(f"{where}: not UTF-8 text", hint="TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{where}: invalid TOML: {exc}", hint="see `wf config show` for the schema") from None
    return parse_config(raw, where)


def parse_config(raw: dict[str, object], where: Path) -> Config:
    """Check a decoded TOML document against the schema and build the ``Config``."""
    def bad(key: str, msg: str, hint: str | None = None) -> BadInput:
        return BadInput(f"{where}: {key}: {msg}", hint=hint)

    for table, value in raw.items():
        if table not in _SCHEMA:
            raise bad(table, "unknown table", hint=f"known tables: {', '.join(f'[{t}]' for t in _SCHEMA)}")
        if not isinstance(value, dict):
            raise bad(table, f"must be a table ([{table}]), got {type(value).__name__}")
        for key in value:
            if key not in _SCHEMA[table]:
                raise bad(f"{table}.{key}", "unknown key", hint=f"[{table}] takes: {', '.join(_SCHEMA[table])}")

    rec, hk, pv = (_table(raw, name) for name in ("record", "hotkeys", "privacy"))

    fps = rec.get("fps", DEFAULT_FPS)
    if not isinstance(fps, int | float) or isinstance(fps, bool) or not 0 < fps <= MAX_FPS:
        raise bad("record.fps", f"must be a number in (0, {MAX_FPS:g}], got {fps!r}")

    keys = {}
    for name in _SCHEMA["hotkeys"]:
        value = hk.get(name, getattr(Hotkeys(), name))
        try:
            keys[name] = check_hotkey(value)
        except ValueError as exc:
            raise bad(f"hotkeys.{name}", str(exc), hint="e.g. \"ctrl+alt+shift+s\" (pyautogui key names)") from None
    if len(set(keys.values())) < len(keys):
        raise bad("hotkeys", f"stop, pause and mark must differ, got {keys}")

    excl = _str_list(pv.get("exclude_windows", []), "privacy.exclude_windows", bad)
    for p in excl:
        try:
            check_regex(p, "privacy.exclude_windows")
        except BadInput as exc:
            raise BadInput(f"{where}: {exc.message}", hint=exc.hint) from None
    defaults_on = pv.get("default_exclusions", True)
    if not isinstance(defaults_on, bool):
        raise bad("privacy.default_exclusions", f"must be true or false, got {defaults_on!r}")
    skip = _str_list(pv.get("skip_defaults", []), "privacy.skip_defaults", bad)
    unknown = [s for s in skip if s not in RULES_BY_NAME]
    if unknown:
        raise bad("privacy.skip_defaults", f"unknown rule name(s): {', '.join(unknown)}",
                  hint=f"rule names: {', '.join(r.name for r in DEFAULT_RULES)}")
    return Config(fps=float(fps), hotkeys=Hotkeys(**keys), exclude_windows=tuple(excl),
                  default_exclusions=defaults_on, skip_defaults=tuple(skip), source=where)


def _table(raw: dict[str, object], name: str) -> dict[str, object]:
    value = raw.get(name, {})
    assert isinstance(value, dict)  # parse_config checked every table first
    return value


def _str_list(value: object, key: str, bad: Callable[[str, str], BadInput]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(key, f"must be a list of strings, got {value!r}")
    return list(value)


def check_hotkey(value: object) -> str:
    """Normalise ``"Ctrl+Alt+S"`` to ``"ctrl+alt+s"`` with the recorder's own parser (so the file and
    ``--stop-key`` accept the same chords); also refuse final keys no keyboard has (typo protection).
    Raises ``ValueError``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, got {value!r}")
    try:
        hk = Hotkey.parse(value)
    except BadInput as exc:
        raise ValueError(exc.message.removeprefix("hotkey ")) from None
    key = hk.key
    if not (len(key) == 1 and key.isprintable() and not key.isspace()) and key not in set(SPECIAL_NAMES.values()):
        raise ValueError(f"unknown key name {key!r}")
    return str(hk)

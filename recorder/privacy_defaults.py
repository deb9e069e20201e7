"""The built-in list of windows `wf record` never records keys or screens of (docs/privacy.md).

Each rule is a regular expression searched (``re.search``) in the focused window's title and,
separately, in its WM_CLASS (``instance.Class``); one hit excludes the window. The patterns carry
``(?i)`` so they match whatever case a toolkit uses. The list aims at prompts whose *only* purpose is
a secret: over-matching (a browser tab titled "Change your password") is the safe failure, and a
user turns a rule off by name in the config file (``[privacy] skip_defaults = ["password-title"]``)
or all of them (``default_exclusions = false``).

Known hole, stated here because it matters: ``sudo``/``ssh``/``gpg`` asking for a password *inside a
terminal* does not change the terminal's title, so no title rule can see it. The remedies are the
pause hotkey before typing, an exclusion of the terminal itself, or ``wf redact --scrub`` afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExclusionRule:
    """One default exclusion: a stable ``name`` (to skip it in the config), the regex and why."""

    name: str
    pattern: str
    why: str

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


DEFAULT_RULES: tuple[ExclusionRule, ...] = (
    ExclusionRule("password-title", r"(?i)\b(pass(word|phrase|code)s?|passwort|mot de passe|contraseña)\b",
                  "dialogs titled 'Password', 'Enter passphrase', 'Passcode' (and a few translations)"),
    ExclusionRule("pin-title", r"(?i)\b(enter|unlock|smart ?card)\b.*\bPIN\b|\bPIN (entry|required)\b",
                  "PIN prompts of smart cards and tokens"),
    ExclusionRule("authentication-title", r"(?i)\bauthentication (required|is needed)\b|\bauthenticate\b",
                  "polkit / PolicyKit 'Authentication Required' and 'Authenticate' dialogs"),
    ExclusionRule("unlock-title", r"(?i)\bunlock\b.*\b(keyring|wallet|vault|database|login|private key)\b",
                  "'Unlock Keyring', 'Unlock Login Keyring', 'Unlock Database', wallet unlock prompts"),
    ExclusionRule("pinentry", r"(?i)pinentry", "GnuPG's pinentry (gpg, ssh-agent via gpg-agent)"),
    ExclusionRule("polkit", r"(?i)polkit|policykit|lxpolkit|lxqt-policykit",
                  "PolicyKit authentication agents (GNOME, KDE, LXQt, MATE, xfce)"),
    ExclusionRule("ssh-askpass", r"(?i)ssh-askpass|sshaskpass|ksshaskpass|openssh authentication",
                  "ssh-askpass and its GTK/KDE/x11 variants"),
    ExclusionRule("keyring", r"(?i)gnome-keyring|gcr-prompter|seahorse|kwallet|kde wallet",
                  "GNOME keyring prompts (gcr-prompter), Seahorse, KWallet"),
    ExclusionRule("keepassxc", r"(?i)keepass", "KeePassXC / KeePass windows"),
    ExclusionRule("1password", r"(?i)1password", "1Password"),
    ExclusionRule("bitwarden", r"(?i)bitwarden", "Bitwarden"),
    ExclusionRule("other-managers", r"(?i)\b(lastpass|dashlane|enpass|proton pass|passwordsafe|pass-?menu)\b",
                  "other password managers"),
)

RULES_BY_NAME: dict[str, ExclusionRule] = {r.name: r for r in DEFAULT_RULES}


def default_patterns(skip: tuple[str, ...] | frozenset[str] = ()) -> tuple[str, ...]:
    """The default exclusion regexes, minus the rules named in ``skip``."""
    return tuple(r.pattern for r in DEFAULT_RULES if r.name not in skip)


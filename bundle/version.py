"""wf's own version, as the installed distribution reports it (written into every header)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def wf_version() -> str:
    try:
        return version("wf")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"

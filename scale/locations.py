"""Bundles and exports wherever they live: local paths, ``file://`` and any fsspec URL (``s3://`` …).

A bundle at a URL is copied to a local directory before it is read (:func:`localized`), and an export or a
redacted bundle bound for a URL is written locally and then uploaded (:func:`publish`). Why copy rather
than read through fsspec: every reader of a bundle (the streaming event reader, the screen loader, the
replayer, redaction) works on files, a bundle is read several times (header, events, screens), and one
transfer per bundle is what a worker on another machine needs anyway. ``file://`` URLs and plain paths
are used in place, never copied.

fsspec (the ``ray`` extra) and a protocol's package (``s3fs`` for ``s3://``, the ``s3`` extra) are loaded
only when a URL asks for them; a missing one is a one-line error naming what to install.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from wf.bundle.errors import BadInput, BundleError, EnvironmentProblem
from wf.bundle.events import Header
from wf.bundle.reader import EVENTS_FILE, parse_header

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Packages that provide a protocol, for the hint when one is missing.
_PROTOCOL_PACKAGES = {"s3": "s3fs (pip install 'wf[s3]')", "s3a": "s3fs (pip install 'wf[s3]')",
                      "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}


def is_url(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and _SCHEME.match(location) is not None


def protocol(location: str) -> str:
    m = _SCHEME.match(location)
    return m.group(1).lower() if m else "file"


def local_path(location: str | os.PathLike[str]) -> Path | None:
    """The local path of a plain path or ``file://`` URL; None for a remote URL."""
    if not is_url(location):
        return Path(location)
    loc = str(location)
    if protocol(loc) != "file":
        return None
    parsed = urlparse(loc)
    if parsed.netloc not in ("", "localhost"):
        raise BadInput(f"bad file URL {loc!r}: host {parsed.netloc!r}",
                       hint="use file:///absolute/path (three slashes)")
    return Path(unquote(parsed.path))


def name_of(location: str | os.PathLike[str]) -> str:
    """The last path component (a bundle's directory name) of a path or URL."""
    text = str(location).rstrip("/")
    return text.rsplit("/", 1)[-1] if is_url(text) else Path(text).name


def identity(location: str | os.PathLike[str]) -> str:
    """What makes two spellings of one bundle the same (for the duplicate check)."""
    path = local_path(location)
    return str(path.resolve()) if path is not None else str(location).rstrip("/")


def filesystem(location: str) -> tuple[Any, str]:
    """``(fsspec filesystem, path within it)`` for a URL; one-line errors for what is missing."""
    try:
        fsspec = importlib.import_module("fsspec")
    except ImportError:
        raise EnvironmentProblem(f"{location}: reading URLs needs fsspec, which is not installed",
                                 hint="pip install 'wf[ray]' (or pip install fsspec)") from None
    proto = protocol(location)
    try:
        fs, path = fsspec.core.url_to_fs(location)
    except ImportError:
        package = _PROTOCOL_PACKAGES.get(proto, f"the fsspec package for {proto}://")
        raise EnvironmentProblem(f"{location}: the {proto}:// protocol needs a package that is not installed",
                                 hint=f"install {package}") from None
    except ValueError as exc:
        raise BadInput(f"bad URL {location!r}: {exc}",
                       hint="use a local path, file:///path or a URL fsspec knows (s3://bucket/key)") from None
    return fs, str(path)


@contextlib.contextmanager
def localized(location: str | os.PathLike[str], scratch: Path | None = None) -> Iterator[Path]:
    """A local directory holding the bundle at ``location`` (the place itself when it is local).

    A remote bundle is downloaded into ``scratch`` (a new temporary directory when None, removed on exit)
    under its own name, so names derived from it (the episode id) are the same as for a local copy.
    """
    path = local_path(location)
    if path is not None:
        yield path
        return
    loc = str(location)
    fs, remote = filesystem(loc)
    own = scratch is None
    base = Path(tempfile.mkdtemp(prefix="wf-bundle-")) if scratch is None else scratch
    dest = base / name_of(loc)
    try:
        try:
            if not fs.isdir(remote):
                raise BadInput(f"{loc}: no such bundle", hint="check the URL (a directory holding events.jsonl)")
            fs.get(remote.rstrip("/") + "/", str(dest), recursive=True)
        except (OSError, PermissionError) as exc:
            raise EnvironmentProblem(f"cannot download {loc}: {exc}",
                                     hint="check the URL and your credentials for it") from None
        yield dest
    finally:
        if own:
            shutil.rmtree(base, ignore_errors=True)


def check_new_destination(location: str) -> None:
    """A remote ``--out`` must not exist yet or be empty (as for local directories)."""
    fs, path = filesystem(location)
    try:
        if fs.exists(path) and (not fs.isdir(path) or fs.ls(path)):
            raise BadInput(f"--out {location} exists and is not empty", hint="choose a new location")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot reach {location}: {exc}", hint="check the URL and your credentials") from None


def publish(local: Path, location: str) -> None:
    """Upload the directory ``local`` to the remote ``location`` (its files, under the same names)."""
    fs, path = filesystem(location)
    try:
        fs.makedirs(path, exist_ok=True)
        fs.put(str(local).rstrip("/") + "/", path.rstrip("/") + "/", recursive=True)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot upload to {location}: {exc}",
                                 hint="check the URL and your credentials for it") from None


def publish_file(local: Path, location: str, rel: str) -> None:
    """Upload one file to ``location/rel`` (a kept replay report going back into a remote bundle)."""
    fs, path = filesystem(location)
    try:
        target = f"{path.rstrip('/')}/{rel}"
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(local), target)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot upload to {location}: {exc}",
                                 hint="check the URL and your credentials") from None


@contextlib.contextmanager
def destination(location: str | os.PathLike[str]) -> Iterator[Path]:
    """A local directory to write an output into: the place itself, or a staging directory uploaded to the
    remote ``location`` when the block ends without an error."""
    path = local_path(location)
    if path is not None:
        yield path
        return
    loc = str(location)
    check_new_destination(loc)
    base = Path(tempfile.mkdtemp(prefix="wf-out-"))
    try:
        out = base / name_of(loc)
        yield out
        if out.exists():
            publish(out, loc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def read_header(location: str) -> Header:
    """The header of the bundle at a remote URL: only the first line of its events.jsonl is fetched."""
    fs, path = filesystem(location)
    where = f"{location.rstrip('/')}/{EVENTS_FILE}"
    try:
        with fs.open(f"{path.rstrip('/')}/{EVENTS_FILE}", "rb") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise BundleError("no such bundle (no events.jsonl there)", path=location,
                          hint="pass the URL of the directory `wf record` wrote") from None
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {where}: {exc}", hint="check the URL and your credentials") from None
    return parse_header(first, Path(where))

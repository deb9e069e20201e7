"""Keeping every path a bundle names inside the bundle."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from wf.bundle.errors import BadInput, BundleError


def check_relative(rel: str, *, where: Path | None = None, line: int | None = None) -> None:
    """Reject a stored path that is absolute, climbs with ``..`` or uses backslashes."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel or rel.startswith("~"):
        raise BundleError(
            f"screen path {rel!r} leaves the bundle",
            path=where,
            line=line,
            field="path",
            hint="screen paths must be relative paths inside the bundle directory",
        )


def resolve_inside(root: Path, rel: str) -> Path:
    """``root/rel`` with symlinks resolved, refusing anything that ends up outside ``root``."""
    check_relative(rel)
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BundleError(f"screen path {rel!r} resolves outside the bundle (to {target})", path=root)
    return target


def check_new_directory(path: Path, *, what: str = "bundle path") -> None:
    """``path`` may become a new output directory: absent, or an empty directory (nothing gets overwritten)."""
    if not path.exists():
        return
    if not path.is_dir():
        raise BadInput(f"{path} exists and is not a directory", hint=f"choose a new {what}")
    if any(path.iterdir()):
        raise BadInput(f"{path} exists and is not empty", hint=f"choose a new {what} or remove it")

"""The bundle: wf's on-disk contract between recorder, replayer, annotator and exporters."""

from wf.bundle.errors import BadInput, BundleError, Category, CheckFailed, EnvironmentProblem, Interrupted, WfError
from wf.bundle.events import FORMAT_VERSION, Event, Header
from wf.bundle.reader import Bundle
from wf.bundle.writer import BundleWriter

__all__ = [
    "FORMAT_VERSION",
    "BadInput",
    "Bundle",
    "BundleError",
    "BundleWriter",
    "Category",
    "CheckFailed",
    "EnvironmentProblem",
    "Event",
    "Header",
    "Interrupted",
    "WfError",
]

"""Ray for the commands that run over many bundles (`wf verify|export|redact --engine ray`, ``wf.data``).

The one module that imports Ray, starts or joins a cluster, declares what a task needs and stops what it
started. It lives in ``wf.scale``, right above the bundle contract and below the replayer, export and
redact, because all three schedule their work the same way and none may import another; the command line
only names the engine. Nothing imports Ray at import time: without ``--engine ray`` wf stays a plain local
tool, and without Ray installed ``--engine ray`` is one line naming the extra to install.

Resources: a replay runs a private Xvfb, the app and the replayer, so a verify task asks for one CPU and
Ray, which counts a node's cores as its CPUs, never runs more displays on a node than it has cores.
Export and redact tasks take Ray Data's default of one CPU per task.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from wf.bundle.errors import BadInput, EnvironmentProblem

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = get_args(Engine)
INSTALL_HINT = "install the Ray extra: pip install 'wf[ray]'"
# One display per core: what a replay (Xvfb + app + replayer) holds while it runs.
REPLAY_RESOURCES: dict[str, float] = {"num_cpus": 1}
# Loggers Ray and Ray Data write progress chatter to; wf draws its own progress.
_QUIET_LOGGERS = ("ray", "ray.data", "ray._private", "ray.data._internal.execution.streaming_executor")

T = TypeVar("T")
R = TypeVar("R")


def check_engine(engine: str, address: str | None = None) -> Engine:
    if engine not in ENGINES:
        raise BadInput(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    if address is not None and engine != "ray":
        raise BadInput("--address needs --engine ray", hint="add --engine ray, or drop --address")
    return "ray" if engine == "ray" else "local"


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the extra to install. (Any: Ray's own types are not
    checked here; only this module and the engines' small adapters touch them.)"""
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
    except ImportError:
        raise EnvironmentProblem("--engine ray needs Ray, which is not installed", hint=INSTALL_HINT) from None
    return ray


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    address: str
    nodes: int
    cpus: float
    started: bool  # this process started the instance (and stops it)


def _quiet() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def ray_session(address: str | None = None) -> Iterator[ClusterInfo]:
    """Join the cluster at ``address``, or start a private local Ray instance and stop it on exit.

    An already initialised Ray (a caller's own ``ray.init``) is used as it is and left running.
    """
    if not address and "ray" not in sys.modules:
        _private_token()  # read by Ray when it is imported, so set first
    ray = require_ray()
    if ray.is_initialized():
        yield _info(ray, started=False)
        return
    temp: str | None = None
    common: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False, "configure_logging": True}
    try:
        if address:
            ray.init(address=address, **common)
        else:
            # "local": a new instance even if another one runs on this machine; its own temp dir keeps it
            # apart from any other Ray here (sockets and logs live there).
            temp = tempfile.mkdtemp(prefix="wf-ray-")
            ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False,
                     _temp_dir=temp, **common)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        _cleanup(temp)
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise EnvironmentProblem(f"cannot start or join {where}: {str(exc).splitlines()[0] if str(exc) else exc}",
                                 hint="start one with `ray start --head` and pass --address HOST:PORT"
                                 if address else "check `ray start --head` works on this machine") from None
    _quiet()
    try:
        yield _info(ray, started=not address, address=address)
    finally:
        ray.shutdown()
        _cleanup(temp)


def _private_token() -> None:
    """A private instance still listens on the node's address: Ray's token authentication guards it, with a
    fresh token in this process's environment (inherited by the instance) rather than Ray's default of
    writing one to ~/.ray, which would switch on authentication for every later `ray start` of the user.
    It stays for the life of the process: Ray reads its settings once, when it is imported."""
    if os.environ.get("RAY_AUTH_MODE") is None and not os.environ.get("RAY_AUTH_TOKEN"):
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)




def _cleanup(temp: str | None) -> None:
    if temp:
        shutil.rmtree(temp, ignore_errors=True)


def _info(ray: Any, *, started: bool, address: str | None = None) -> ClusterInfo:
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    cpus = float(sum(n.get("Resources", {}).get("CPU", 0.0) for n in nodes))
    ctx = ray.get_runtime_context()
    addr = address or str(getattr(ctx, "gcs_address", "") or "local")
    return ClusterInfo(address=addr, nodes=len(nodes), cpus=cpus, started=started)


def run_tasks(fn: Callable[[T], R], items: Iterable[T], *, resources: dict[str, float],
              fresh_process: bool = False) -> Iterator[tuple[int, R]]:
    """Run ``fn`` on each item as one Ray task; yield ``(index, result)`` as tasks finish.

    ``fresh_process``: each task gets a worker process of its own (``max_calls=1``), for work that binds
    process-wide state, as pyautogui binds to one display.
    """
    ray = require_ray()
    task = ray.remote(**resources, max_calls=1 if fresh_process else 0)(fn)
    pending = {task.remote(item): i for i, item in enumerate(items)}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            yield pending.pop(ref), ray.get(ref)


def data_context() -> Any:
    """Ray Data's context set for wf: rows keep their input order (the output is the local engine's, byte
    for byte), and no progress bars of its own (the command draws one)."""
    require_ray()
    data = importlib.import_module("ray.data")
    ctx = data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    _quiet()
    return ctx


def ray_data() -> Any:
    """The ``ray.data`` module, with :func:`data_context` applied."""
    data_context()
    return importlib.import_module("ray.data")

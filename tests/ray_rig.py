"""A real Ray cluster on this machine for the tests and the benchmark: a head and extra nodes, each
started with `ray start --block` in a session of its own, and stopped by ending exactly those process
groups (never `ray stop`, which would end every Ray on the machine, other people's too).

Every cluster gets its own --temp-dir and ports, so two of them (or somebody else's Ray) never meet.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RayCluster:
    """``with RayCluster(nodes=2) as c: c.address`` — ``nodes`` machines of ``cpus`` CPUs each."""

    def __init__(self, nodes: int = 2, cpus: int = 1) -> None:
        self.nodes = nodes
        self.cpus = cpus
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Short: Ray's unix sockets live under it and a socket path has at most 107 characters.
        self.temp = Path(tempfile.mkdtemp(prefix="wfray-", dir="/tmp"))
        self.procs: list[subprocess.Popen[bytes]] = []
        # Token authentication with a token of its own, handed to the nodes and to every driver through the
        # environment (never ~/.ray, where it would change how the machine's other Ray clusters start).
        self.token = secrets.token_hex(32)
        self.env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token, "RAY_USAGE_STATS_ENABLED": "0"}

    def _start(self, args: list[str], log: str) -> None:
        env = {**os.environ, **self.env}
        with (self.temp / log).open("wb") as fh:
            self.procs.append(subprocess.Popen([RAY, "start", *args, f"--num-cpus={self.cpus}",
                                                "--disable-usage-stats", "--block"], stdout=fh,
                                               stderr=subprocess.STDOUT, start_new_session=True, env=env))

    def start(self) -> RayCluster:
        self._start(["--head", f"--port={self.port}", "--include-dashboard=false", f"--temp-dir={self.temp}",
                     f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}"], "head.log")
        self._wait_port()
        for n in range(1, self.nodes):
            self._start([f"--address={self.address}", f"--node-manager-port={free_port()}",
                         f"--object-manager-port={free_port()}"], f"node{n}.log")
        self._wait_nodes()
        return self

    def _wait_port(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[0].poll() is not None:
                raise RuntimeError(f"ray head exited: {(self.temp / 'head.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("ray head did not open its port")

    def _wait_nodes(self, timeout: float = 90) -> None:
        """Until the cluster's GCS counts every node alive."""
        probe = ("import sys, ray; ray.init(address=sys.argv[1], log_to_driver=False, logging_level='ERROR'); "
                 "print(sum(1 for n in ray.nodes() if n['Alive']))")
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            res = subprocess.run([sys.executable, "-c", probe, self.address], capture_output=True, text=True,
                                 timeout=60, env={**os.environ, **self.env})
            out = res.stdout.strip() + res.stderr[-500:]
            if res.returncode == 0 and int(res.stdout.split()[-1]) >= self.nodes:
                return
            time.sleep(1)
        raise RuntimeError(f"the ray cluster never had {self.nodes} nodes: {out}")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            for p in self.procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, sig)
            deadline = time.monotonic() + wait
            for p in self.procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(max(0.1, deadline - time.monotonic()))
            if not self.alive():
                break
        self.procs.clear()
        if not self.alive():
            shutil.rmtree(self.temp, ignore_errors=True)

    def alive(self) -> list[int]:
        """Processes still running from this cluster's sessions (its process groups or its temp dir)."""
        groups = {p.pid for p in self.procs}
        left = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                pgid = os.getpgid(int(proc.name))
                cmd = (proc / "cmdline").read_bytes()
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
            if pgid in groups or str(self.temp).encode() in cmd:
                left.append(int(proc.name))
        return left

    def __enter__(self) -> RayCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The replay's stop on a signal (wf.replayer.stopping) when the main thread cannot take it.

A Python signal handler runs only when the main thread is back in the interpreter. These child processes
enter a real ``Stopper`` and then block the main thread inside a C call that never returns (a second lock of
a default pthread mutex: the futex wait resumes after every signal), as a libX11 call waiting for a reply
that never comes would. The watchdog must still let go and exit with 130 within the second, and a
last-resort clean-up that itself blocks (an X server that no longer answers) must not keep the process up.
(The signal at random moments of a real replay is tests/test_replay_desktop.py.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CHILD = textwrap.dedent("""
    import ctypes, sys, time
    from pathlib import Path
    from wf.replayer.stopping import Stopper

    marker, cleanup = Path(sys.argv[1]), sys.argv[2]
    libc = ctypes.CDLL(None)
    mutex = ctypes.create_string_buffer(64)
    libc.pthread_mutex_init(mutex, None)
    with Stopper() as stopper:
        if cleanup == "blocks":
            stopper.on_hard_stop(lambda: time.sleep(60))
        stopper.on_hard_stop(lambda: marker.write_text("released"))
        print("ready", flush=True)
        libc.pthread_mutex_lock(mutex)
        libc.pthread_mutex_lock(mutex)  # never returns: the main thread is stuck in C
""")


def _stop_stuck_child(tmp_path: Path, cleanup: str, sig: signal.Signals) -> tuple[int, float, str]:
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), cleanup], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.2)  # well inside the second lock by now
        t0 = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    return rc, took, (marker.read_text() if marker.exists() else "") + "|" + err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_main_thread_stuck_in_c_still_lets_go_and_exits_within_the_second(tmp_path: Path,
                                                                            sig: signal.Signals) -> None:
    rc, took, out = _stop_stuck_child(tmp_path, "returns", sig)
    assert rc == 130 and took < 1.0, (rc, took, out)
    released, err = out.split("|", 1)
    assert released == "released" and "did not unwind in time" in err, out


def test_a_clean_up_that_blocks_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    rc, took, out = _stop_stuck_child(tmp_path, "blocks", signal.SIGTERM)
    assert rc == 130 and took < 1.0, (rc, took, out)
    assert out.split("|", 1)[0] == ""  # the clean-up after the blocking one never ran: the exit did not wait

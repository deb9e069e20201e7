"""The writer: private permissions, refusal to clobber, crash tolerance, full disk."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wf.bundle.errors import BadInput, EnvironmentProblem
from wf.bundle.events import MouseMove, Stop
from wf.bundle.reader import Bundle
from wf.bundle.validate import validate
from wf.bundle.writer import BundleWriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from make_samples import header


def test_private_modes_and_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with BundleWriter(out, header()) as w:
        w.write(MouseMove(t=0.5, x=3, y=4))
        w.screen_event(0.6, bytes(32 * 20 * 3), 32, 20, "pre", captured=0.55)
        w.write(Stop(t=1.0, reason="test", events=3, dropped=0, screens=1))
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "screens").stat().st_mode) == 0o700
    for f in out.rglob("*"):
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    b = Bundle.open(out)
    assert [type(e).__name__ for e in b.events()] == ["MouseMove", "Screen", "Stop"]
    assert validate(b).ok


def test_identical_frames_are_stored_once(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "rec", header()) as w:
        for i in range(5):
            w.screen_event(float(i), bytes(32 * 20 * 3), 32, 20, "pre")
        w.screen_event(6.0, b"\x01" * (32 * 20 * 3), 32, 20, "post")
    assert len(list((tmp_path / "rec" / "screens").iterdir())) == 2


def test_refuses_non_empty_or_file_target(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(BadInput, match="not empty"):
        BundleWriter(tmp_path / "full", header())
    assert (tmp_path / "full" / "x").read_text() == "keep me"
    (tmp_path / "f").write_text("")
    with pytest.raises(BadInput, match="not a directory"):
        BundleWriter(tmp_path / "f", header())


WRITER_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {fixtures!r})
    from make_samples import header
    from wf.bundle.writer import BundleWriter
    from wf.bundle.events import MouseMove
    w = BundleWriter(sys.argv[1], header())
    t0 = time.monotonic()
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        w.write(MouseMove(t=round(time.monotonic() - t0, 6), x=i % 1000, y=i % 700))
        if i % 50 == 0:
            time.sleep(0.001)
""")


def test_kill_9_leaves_a_valid_bundle_missing_at_most_half_a_second(tmp_path: Path) -> None:
    fixtures = str(Path(__file__).resolve().parent.parent / "fixtures")
    for n in range(3):
        out = tmp_path / f"k{n}"
        proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT.format(fixtures=fixtures), str(out)],
                                stdout=subprocess.PIPE)
        assert proc.stdout and proc.stdout.readline().strip() == b"ready"
        started = time.monotonic()
        time.sleep(0.7 + 0.37 * n)
        killed_after = time.monotonic() - started
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        b = Bundle.open(out)
        events = list(b.events())
        assert validate(b).ok
        assert events, "nothing was flushed"
        assert killed_after - events[-1].t <= 0.5, (killed_after, events[-1].t)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_disk_is_a_clean_environment_error(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    try:
        w = BundleWriter(mnt / "rec", header(), flush_interval=0.0)
        with pytest.raises(EnvironmentProblem, match="disk full"):
            for i in range(100_000):
                w.write(MouseMove(t=i / 1000, x=i % 100, y=1))
        b = Bundle.open(mnt / "rec")
        events = list(b.events())  # every line that made it is whole and readable
        assert len(events) > 100
        assert b.warnings == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_writer_stays_failed_after_disk_error_and_closes_quietly(tmp_path: Path) -> None:
    w = BundleWriter(tmp_path / "rec", header())
    w.failed = EnvironmentProblem("disk full while writing x")
    with pytest.raises(EnvironmentProblem):
        w.flush()
    w.close()  # must not raise again: what was written stays valid
    assert Bundle.open(tmp_path / "rec").header.version == 1

"""The test rig itself: a private Xvfb that accepts connections and real xdotool input."""

from __future__ import annotations

import subprocess

from xrig import Display, display


def test_private_displays_do_not_collide(xdisplay: Display) -> None:
    with display(640, 480) as other:
        assert other.name != xdisplay.name
        info = subprocess.run(["xdpyinfo", "-display", other.name], capture_output=True, text=True)
        assert "640x480" in info.stdout and "RECORD" in info.stdout and "XTEST" in info.stdout


def test_xdotool_moves_the_real_pointer(xdisplay: Display) -> None:
    xdisplay.xdotool("mousemove", 123, 45)
    assert xdisplay.pointer() == (123, 45)


def test_screenshot_sees_a_launched_app(app_display: Display) -> None:
    before, w, h = app_display.screenshot_rgb()
    app_display.launch(["xterm", "-geometry", "40x10+0+0", "-bg", "white"])
    app_display.wait_window("--class", "xterm")
    import time

    for _ in range(50):
        after, _, _ = app_display.screenshot_rgb()
        if after != before:
            break
        time.sleep(0.1)
    assert (w, h) == (1280, 800) and after != before

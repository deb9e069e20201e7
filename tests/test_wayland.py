"""Wayland detection (wf.recorder.wayland): the environment rules, and real X servers — Xvfb is not XWayland,
the XWayland of a headless weston is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from wayland_rig import compositor
from xrig import Display

from wf.bundle.errors import EnvironmentProblem
from wf.cli.exit import ExitCode, for_error
from wf.recorder.wayland import (
    Evidence,
    SessionCheck,
    XServerFacts,
    assess,
    check_session,
    probe_x_server,
)

XVFB_LIKE = XServerFacts(vendor="The X.Org Foundation", extensions=frozenset({"RANDR", "XInputExtension"}),
                         outputs=("screen",), input_devices=("Virtual core pointer", "Xvfb keyboard"))


def kinds(check: SessionCheck) -> list[Evidence]:
    return [s.kind for s in check.signals]


# -- the environment ------------------------------------------------------------------------------------------

def test_a_plain_x11_environment_is_not_wayland() -> None:
    check = assess({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, XVFB_LIKE)
    assert not check.wayland and not check.xwayland and check.signals == ()


@pytest.mark.parametrize("env, expected", [
    ({"XDG_SESSION_TYPE": "wayland"}, [Evidence.SESSION_TYPE]),
    ({"XDG_SESSION_TYPE": "Wayland "}, [Evidence.SESSION_TYPE]),  # as sloppy scripts export it
    ({"WAYLAND_DISPLAY": "wayland-0"}, [Evidence.WAYLAND_DISPLAY]),
    ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
     [Evidence.SESSION_TYPE, Evidence.WAYLAND_DISPLAY]),
])
def test_each_environment_signal_is_named(env: dict[str, str], expected: list[Evidence]) -> None:
    check = assess(env)
    assert check.wayland and kinds(check) == expected
    assert not check.xwayland  # the environment alone says nothing about the X server


@pytest.mark.parametrize("env", [{"WAYLAND_DISPLAY": ""}, {"WAYLAND_DISPLAY": "  "}, {"XDG_SESSION_TYPE": "tty"},
                                 {"XDG_SESSION_TYPE": ""}, {}])
def test_empty_or_other_values_are_no_signal(env: dict[str, str]) -> None:
    assert not assess(env).wayland


def test_the_details_say_what_was_seen() -> None:
    check = assess({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"})
    assert check.details() == ["XDG_SESSION_TYPE=wayland", "WAYLAND_DISPLAY=wayland-0"]


# -- the X server's facts -------------------------------------------------------------------------------------

def test_the_xwayland_extension_is_proof() -> None:
    facts = XServerFacts(vendor="The X.Org Foundation", extensions=frozenset({"XWAYLAND", "RANDR"}),
                         outputs=("DP-1",))  # newer XWaylands may name outputs after the compositor's
    check = assess({}, facts)
    assert check.xwayland and kinds(check) == [Evidence.XWAYLAND_EXTENSION]


def test_xwayland_outputs_and_devices_are_proof_once_each() -> None:
    facts = XServerFacts(vendor="The X.Org Foundation", extensions=frozenset({"RANDR", "XInputExtension"}),
                         outputs=("XWAYLAND0", "XWAYLAND1"),
                         input_devices=("Virtual core pointer", "xwayland-pointer:17", "xwayland-keyboard:17"))
    check = assess({}, facts)
    assert kinds(check) == [Evidence.XWAYLAND_OUTPUT, Evidence.XWAYLAND_DEVICE]
    assert check.details() == ["RandR output XWAYLAND0", "input device xwayland-pointer:17"]


def test_the_vendor_string_alone_proves_nothing() -> None:
    # Xwayland and Xvfb both call themselves "The X.Org Foundation" (measured, docs/wayland.md).
    assert not assess({}, XVFB_LIKE).wayland


def test_environment_and_server_signals_add_up() -> None:
    facts = XServerFacts(vendor="v", extensions=frozenset({"XWAYLAND"}), outputs=("XWAYLAND0",))
    check = assess({"WAYLAND_DISPLAY": "wayland-0"}, facts)
    assert kinds(check) == [Evidence.WAYLAND_DISPLAY, Evidence.XWAYLAND_EXTENSION, Evidence.XWAYLAND_OUTPUT]


# -- the message ----------------------------------------------------------------------------------------------

def test_the_refusal_is_one_line_naming_what_is_missed_and_what_to_do() -> None:
    check = assess({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"})
    err = check.refusal("record")
    assert isinstance(err, EnvironmentProblem) and for_error(err) is ExitCode.ENVIRONMENT and int(for_error(err)) == 3
    assert "\n" not in err.message and err.hint is not None and "\n" not in err.hint
    assert "XDG_SESSION_TYPE=wayland, WAYLAND_DISPLAY=wayland-0" in err.message
    for missed in ("keys", "clicks", "pixels", "native Wayland windows"):
        assert missed in err.message
    assert "X11 session" in err.hint and "--allow-xwayland" in err.hint


def test_the_replay_refusal_talks_about_replay() -> None:
    err = assess({"WAYLAND_DISPLAY": "wayland-0"}).refusal("replay")
    assert "XTest" in err.message and "replayed input" in err.message
    assert err.hint is not None and "--xvfb" in err.hint and "--allow-xwayland" in err.hint


# -- real X servers -------------------------------------------------------------------------------------------

def test_xvfb_is_not_xwayland(xdisplay: Display) -> None:
    facts = probe_x_server(xdisplay.name)
    assert facts is not None
    assert "RANDR" in facts.extensions and facts.outputs  # the probe did read the outputs…
    assert any(d.startswith("Xvfb") for d in facts.input_devices)  # …and the devices
    assert not assess({}, facts).wayland
    # Xvfb's own environment (no Wayland variables) is not a Wayland session either.
    assert not check_session(xdisplay.env()).wayland


def test_wayland_variables_over_xvfb_are_still_reported(xdisplay: Display) -> None:
    check = check_session(xdisplay.env(WAYLAND_DISPLAY="wayland-0", XDG_SESSION_TYPE="wayland"))
    assert check.wayland and not check.xwayland and check.x_server is not None


def test_an_unreachable_display_gives_no_facts() -> None:
    assert probe_x_server(":987") is None  # nothing listens there; the recorder reports it its own way
    assert not check_session({"DISPLAY": ":987"}).wayland


# In a fresh interpreter, as `wf record` would run: python-xlib shares its extension-event tables between the
# connections of one process, and opening a second server with other event bases fails (python-xlib PR #160).
PROBE = """
import json, os
from wf.recorder.wayland import check_session
check = check_session(dict(os.environ))
print(json.dumps({"kinds": [s.kind for s in check.signals], "details": check.details(),
                  "xwayland": check.xwayland, "message": check.refusal().message,
                  "outputs": list(check.x_server.outputs) if check.x_server else None}))
"""


def probe_in(env: dict[str, str]) -> dict[str, object]:
    res = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_the_xwayland_of_a_headless_weston_is_detected() -> None:
    with compositor("weston") as weston:
        # Only DISPLAY, as if just that had leaked into a script: the X server itself gives XWayland away.
        alone = {k: v for k, v in weston.env.items() if k != "WAYLAND_DISPLAY"}
        seen = probe_in(alone)
        assert seen["outputs"] == ["XWAYLAND0"], seen
        assert seen["kinds"] == [Evidence.XWAYLAND_OUTPUT] and seen["xwayland"] is True
        assert str(seen["message"]).startswith("this is a Wayland session (RandR output XWAYLAND0)")
        # With the variables a desktop session exports, every signal is named.
        full = probe_in({**weston.env, "XDG_SESSION_TYPE": "wayland"})
        assert full["kinds"] == [Evidence.SESSION_TYPE, Evidence.WAYLAND_DISPLAY, Evidence.XWAYLAND_OUTPUT]

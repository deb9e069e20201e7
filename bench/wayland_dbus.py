#!/usr/bin/python3
"""The D-Bus side of bench/wayland_probe.py: screen casts over PipeWire and remote-desktop input, headless.

Runs under Debian's /usr/bin/python3 (python3-dbus, python3-gi, gir1.2-gstreamer-1.0, gstreamer1.0-pipewire):
the measurement needs GLib's main loop and GStreamer's pipewiresrc, which wf's own venv does not carry.

``mutter-*`` talk to mutter's own services, org.gnome.Mutter.ScreenCast and org.gnome.Mutter.RemoteDesktop —
the backend that xdg-desktop-portal-gnome puts its consent dialog in front of (the portal's ScreenCast and
RemoteDesktop calls end up there) — so a headless run needs no person to click "Share". ``portal-cast`` goes
through the real portal (org.freedesktop.portal.ScreenCast), as an application would.

    mutter-cast SECONDS     stream mutter's virtual monitor over PipeWire; print frames, sizes, CPU as JSON
    mutter-keys TEXT [WARMUP]  type TEXT (ASCII letters) through RemoteDesktop keysyms, after a Shift press
                            and WARMUP seconds when given
    mutter-click X Y        move the pointer to (X, Y) and click the left button
    mutter-latency N        time N pointer-motion calls
    portal-cast SECONDS     a monitor stream asked of xdg-desktop-portal (CreateSession, SelectSources, Start)
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

import dbus
import gi
from dbus.mainloop.glib import DBusGMainLoop

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

MONITOR = "Meta-0"  # the name mutter gives its first --virtual-monitor
BTN_LEFT = 0x110  # RemoteDesktop takes evdev button codes


def white_fraction(bgrx: bytes, step: int = 997) -> float:
    """Share of (sampled) pixels that are white: how much of a white native window a frame shows."""
    px = range(0, len(bgrx) - 3, 4 * step)
    white = sum(1 for i in px if min(bgrx[i], bgrx[i + 1], bgrx[i + 2]) >= 250)
    return round(white / max(1, len(px)), 4)


def consume(source: str, seconds: float, loop: GLib.MainLoop) -> dict[str, object]:
    """Pull frames from a PipeWire node for ``seconds``: count, size, whiteness, and this process's CPU."""
    Gst.init(None)
    pipe = Gst.parse_launch(f"pipewiresrc {source} always-copy=true ! video/x-raw ! "
                            "appsink name=sink emit-signals=true sync=false max-buffers=2 drop=true")
    frames: list[float] = []
    info: dict[str, object] = {}

    def on_sample(sink: Gst.Element) -> Gst.FlowReturn:
        sample = sink.emit("pull-sample")
        frames.append(time.monotonic())
        if not info:
            buf = sample.get_buffer()
            ok, mapped = buf.map(Gst.MapFlags.READ)
            if ok:
                data = bytes(mapped.data)
                buf.unmap(mapped)
                info["bytes"] = len(data)
                info["white_fraction"] = white_fraction(data)
            info["caps"] = sample.get_caps().to_string()
        return Gst.FlowReturn.OK

    pipe.get_by_name("sink").connect("new-sample", on_sample)
    pipe.set_state(Gst.State.PLAYING)
    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()
    r1, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - w0
    pipe.set_state(Gst.State.NULL)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"frames": len(frames), "seconds": round(wall, 3), "fps": round(len(frames) / wall, 2),
            "consumer_cpu_s": round(cpu, 4), **info}


class Mutter:
    """A RemoteDesktop session with a linked ScreenCast stream of the virtual monitor."""

    def __init__(self, bus: dbus.SessionBus, loop: GLib.MainLoop) -> None:
        self.bus, self.loop = bus, loop
        t0 = time.monotonic()
        path = self._iface("RemoteDesktop", "/org/gnome/Mutter/RemoteDesktop", "").CreateSession()
        self.rd = self._iface("RemoteDesktop", path, ".Session")
        props = dbus.Interface(bus.get_object("org.gnome.Mutter.RemoteDesktop", path),
                               "org.freedesktop.DBus.Properties")
        session_id = props.Get("org.gnome.Mutter.RemoteDesktop.Session", "SessionId")
        sc = self._iface("ScreenCast", "/org/gnome/Mutter/ScreenCast", "")
        self.sc = self._iface("ScreenCast", sc.CreateSession({"remote-desktop-session-id": session_id}), ".Session")
        # A stream is needed even to inject: absolute pointer positions are relative to a stream.
        self.stream = self.sc.RecordMonitor(MONITOR, {"cursor-mode": dbus.UInt32(1)})  # 1: cursor in the frames
        self.node: int | None = None
        bus.add_signal_receiver(self._added, "PipeWireStreamAdded", "org.gnome.Mutter.ScreenCast.Stream",
                                path=self.stream)
        self.rd.Start()
        GLib.timeout_add_seconds(10, loop.quit)
        loop.run()
        self.setup_s = time.monotonic() - t0

    def _iface(self, service: str, path: str, suffix: str) -> dbus.Interface:
        name = f"org.gnome.Mutter.{service}"
        return dbus.Interface(self.bus.get_object(name, path), name + suffix)

    def _added(self, node: int) -> None:
        self.node = int(node)
        self.loop.quit()

    def keys(self, text: str, warmup: float) -> None:
        if warmup:  # a first event that creates the seat's keyboard, and time for clients to bind it
            for pressed in (True, False):
                self.rd.NotifyKeyboardKeysym(dbus.UInt32(0xFFE1), pressed)  # Shift_L: types nothing
            time.sleep(warmup)
        for ch in text:
            for pressed in (True, False):
                self.rd.NotifyKeyboardKeysym(dbus.UInt32(ord(ch)), pressed)  # Latin-1 keysyms equal the code
                time.sleep(0.02)

    def click(self, x: float, y: float) -> None:
        self.rd.NotifyPointerMotionAbsolute(self.stream, float(x), float(y))
        time.sleep(0.05)
        for pressed in (True, False):
            self.rd.NotifyPointerButton(BTN_LEFT, pressed)
            time.sleep(0.05)

    def latency(self, n: int) -> dict[str, object]:
        """Round trip of one blocking NotifyPointerMotionAbsolute call (what a replay driver pays per event)."""
        times = []
        for i in range(n):
            t0 = time.monotonic()
            self.rd.NotifyPointerMotionAbsolute(self.stream, float(100 + i % 500), 300.0)
            times.append(time.monotonic() - t0)
        times.sort()
        return {"calls": n, "median_ms": round(times[n // 2] * 1000, 3),
                "p99_ms": round(times[min(n - 1, n * 99 // 100)] * 1000, 3)}

    def close(self) -> None:
        self.rd.Stop()


def portal_cast(bus: dbus.SessionBus, loop: GLib.MainLoop, seconds: float) -> dict[str, object]:
    """What an application does: ask org.freedesktop.portal.ScreenCast for a monitor, then read the stream."""
    obj = bus.get_object("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop")
    sc = dbus.Interface(obj, "org.freedesktop.portal.ScreenCast")
    props = dbus.Interface(obj, "org.freedesktop.DBus.Properties")
    xml = str(dbus.Interface(obj, "org.freedesktop.DBus.Introspectable").Introspect())
    offered = {i: f'"org.freedesktop.portal.{i}"' in xml for i in ("ScreenCast", "RemoteDesktop", "InputCapture")}
    screencast = {k: int(props.Get("org.freedesktop.portal.ScreenCast", k))
                  for k in ("version", "AvailableSourceTypes", "AvailableCursorModes")}
    sender = bus.get_unique_name()[1:].replace(".", "_")
    steps: dict[str, int] = {}

    def request(method: str, *args: object, **opts: object) -> dict[str, Any]:
        token = f"wf{len(steps)}"
        path = f"/org/freedesktop/portal/desktop/request/{sender}/{token}"
        reply: dict[str, Any] = {"code": -1, "results": {}}

        def on_response(code: int, results: dict[str, object]) -> None:
            reply.update(code=int(code), results=results)
            loop.quit()

        bus.add_signal_receiver(on_response, "Response", "org.freedesktop.portal.Request", path=path)
        getattr(sc, method)(*args, {**opts, "handle_token": token})
        GLib.timeout_add_seconds(20, loop.quit)
        loop.run()
        steps[method] = int(reply["code"])  # 0 ok, 1 cancelled, 2 failed
        return dict(reply["results"])

    t0 = time.monotonic()
    session = request("CreateSession", session_handle_token="wfs")["session_handle"]
    request("SelectSources", session, types=dbus.UInt32(1), multiple=False)
    started = request("Start", session, "")
    out: dict[str, object] = {"interfaces": offered, "screencast": screencast, "steps": steps,
                              "setup_s": round(time.monotonic() - t0, 4)}
    streams = started.get("streams")
    if not streams:
        return out
    node = int(streams[0][0])
    fd = sc.OpenPipeWireRemote(session, {}).take()
    return {**out, "node": node, **consume(f"fd={fd} path={node}", seconds, loop)}


def main(argv: list[str]) -> int:
    DBusGMainLoop(set_as_default=True)
    bus, loop = dbus.SessionBus(), GLib.MainLoop()
    command, arg = argv[0], argv[1:]
    if command == "portal-cast":
        print(json.dumps(portal_cast(bus, loop, float(arg[0]))))
        return 0
    m = Mutter(bus, loop)
    try:
        if command == "mutter-cast":
            print(json.dumps({"setup_s": round(m.setup_s, 4), **consume(f"path={m.node}", float(arg[0]), loop)}))
        elif command == "mutter-keys":
            m.keys(arg[0], float(arg[1]) if len(arg) > 1 else 0.0)
            print(json.dumps({"setup_s": round(m.setup_s, 4), "keys": len(arg[0])}))
        elif command == "mutter-latency":
            print(json.dumps(m.latency(int(arg[0]))))
        elif command == "mutter-click":
            m.click(float(arg[0]), float(arg[1]))
            print(json.dumps({"setup_s": round(m.setup_s, 4), "clicked": [float(arg[0]), float(arg[1])]}))
        else:
            raise SystemExit(f"unknown command {command!r}")
    finally:
        m.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

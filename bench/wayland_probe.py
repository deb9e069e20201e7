#!/usr/bin/env python3
"""Can a headless Wayland desktop run here, and what do capture and injection cost on it? (docs/wayland.md)

    .venv/bin/python bench/wayland_probe.py [--quick] [--only startup,frames,pipewire,portal,input]

writes bench/results/wayland.json and prints it. Every figure comes from the code below, on this machine.
CPU is read from /proc/<pid>/stat (utime + stime) of every process involved, before and after; wall times
from time.monotonic(). Debian packages needed: see PACKAGES. Not part of `make bench`: those packages are not
in `make setup` (docs/wayland.md says which a CI for a Wayland route would add).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import site
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from wayland_rig import Compositor, compositor  # noqa: E402

PACKAGES = ("weston sway cage mutter xwayland grim wtype wev x11-utils xdotool pipewire wireplumber "
            "xdg-desktop-portal xdg-desktop-portal-wlr gstreamer1.0-pipewire gstreamer1.0-plugins-bad "
            "gstreamer1.0-tools python3-dbus python3-gi gir1.2-gstreamer-1.0 dbus-daemon")
VERSIONS = ("weston", "sway", "cage", "mutter", "xwayland", "xvfb", "grim", "wtype", "pipewire",
            "xdg-desktop-portal", "xdg-desktop-portal-wlr")
W, H = 1920, 1080
TICK = os.sysconf("SC_CLK_TCK")
DBUS_HELPER = str(HERE / "wayland_dbus.py")


# -- processes ------------------------------------------------------------------------------------------------

def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class CpuMeter:
    """CPU seconds used by a set of processes between start() and stop()."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.before = {k: cpu_s(p) for k, p in pids.items()}

    def stop(self) -> dict[str, float]:
        return {k: round(cpu_s(p) - self.before[k], 4) for k, p in self.pids.items()}


def xwayland_pid(c: Compositor) -> int:
    """The compositor's Xwayland (wlroots double-forks it, so look it up by its display, not as a child)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"Xwayland") and c.x_display.encode() in argv:
            return int(cmdline.parent.name)
    return 0


def wf_python(c: Compositor) -> list[str]:
    """A Python that can import wf as the compositor's user (nobody cannot read root's pyenv: use Debian's)."""
    if c.user is None:
        return [sys.executable]
    boot = (f"import runpy, site, sys; site.addsitedir({site.getsitepackages()[0]!r}); sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    return ["/usr/bin/python3", "-c", boot]


def child(c: Compositor, *args: str, timeout: float = 60) -> dict[str, object]:
    res = c.run([*wf_python(c), __file__, "--child", *args], timeout=timeout)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:] or [f"exit {res.returncode}"]}
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def dbus_helper(c: Compositor, *args: str, timeout: float = 60) -> dict[str, object]:
    res = c.run(["/usr/bin/python3", DBUS_HELPER, *args], timeout=timeout)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-3:]}
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def wev_typed(log: str) -> str:
    """The characters of the key presses wev logged."""
    return "".join(re.findall(r"state: 1 \(pressed\)\s+sym: \S+\s+\(\d+\), utf8: '(.)'", log))


def white_fraction(bgrx: bytes | bytearray, step: int = 997) -> float:
    px = range(0, len(bgrx) - 3, 4 * step)  # the same sampling as wayland_dbus.white_fraction
    return round(sum(1 for i in px if min(bgrx[i], bgrx[i + 1], bgrx[i + 2]) >= 250) / max(1, len(px)), 4)


# -- children: run inside the compositor's session, as its user ---------------------------------------------

def child_main(args: list[str]) -> int:
    what = args[0]
    if what == "probe":
        from wf.recorder.wayland import check_session

        check = check_session(dict(os.environ))
        x = check.x_server
        out: dict[str, object] = {"wayland": check.wayland, "xwayland": check.xwayland,
                                  "signals": check.details(), "vendor": x.vendor if x else None,
                                  "outputs": list(x.outputs) if x else None,
                                  "xwayland_extension": bool(x and "XWAYLAND" in x.extensions)}
    elif what == "xgetimage":  # what X screenshots (mss: XGetImage / MIT-SHM) see of the desktop
        import mss

        with mss.MSS(display=os.environ["DISPLAY"]) as sct:
            t0 = time.monotonic()
            shot = sct.grab(sct.monitors[0])
            raw = shot.raw
            out = {"ms": round((time.monotonic() - t0) * 1000, 2), "size": [shot.width, shot.height],
                   "white_fraction": white_fraction(raw),
                   "nonblack_fraction": round(sum(1 for i in range(0, len(raw) - 3, 4 * 997) if any(raw[i:i + 3]))
                                              / len(range(0, len(raw) - 3, 4 * 997)), 4)}
        if len(args) > 1:  # GetImage of that X window itself (its own contents, not the root's)
            import Xlib.display
            import Xlib.X

            d = Xlib.display.Display(os.environ["DISPLAY"])
            win = d.create_resource_object("window", int(args[1]))
            g = win.get_geometry()
            img = win.get_image(0, 0, g.width, g.height, Xlib.X.ZPixmap, 0xFFFFFFFF)
            out["window"] = {"size": [g.width, g.height], "white_fraction": white_fraction(img.data)}
            d.close()
    elif what == "xrecord":  # what X RECORD (wf's input capture) sees for SECONDS
        from wf.recorder.input import InputCapture

        cap = InputCapture(time.monotonic(), display=os.environ["DISPLAY"])
        cap.start()
        Path(args[2]).write_text("ready")
        time.sleep(float(args[1]))
        cap.stop()
        counts: dict[str, int] = {}
        typed = ""
        for ev in cap.drain():
            name = type(ev).__name__
            counts[name] = counts.get(name, 0) + 1
            if name == "KeyDown":
                typed += getattr(ev, "char", None) or "?"
        out = {"events": counts, "typed": typed}
    else:
        raise SystemExit(f"unknown child {what!r}")
    print(json.dumps(out))
    return 0


# -- the measurements -----------------------------------------------------------------------------------------

def startup(runs: int) -> dict[str, object]:
    """Spawn → Wayland socket; → first X connection to its XWayland (lazily started); detection; idle cost."""
    out: dict[str, object] = {}
    for name in ("weston", "sway", "cage", "mutter"):
        rows = []
        for _ in range(runs):
            try:
                with compositor(name, width=W, height=H) as c:
                    t0 = time.monotonic()
                    while c.run(["xdpyinfo"], timeout=20).returncode != 0 and time.monotonic() - t0 < 20:
                        time.sleep(0.02)
                    x_s = c.started + time.monotonic() - t0
                    detection = child(c, "probe")
                    xw = xwayland_pid(c)
                    meter = CpuMeter(compositor=c.proc.pid, xwayland=xw)
                    time.sleep(2.0)
                    idle = meter.stop()
                    rows.append({"socket_s": round(c.started, 4), "xwayland_first_connection_s": round(x_s, 4),
                                 "detection": detection, "idle_cpu_s_per_2s": idle,
                                 "rss_mib": {"compositor": rss_mib(c.proc.pid),
                                             "xwayland": rss_mib(xw) if xw else None},
                                 "runs_as": c.user or "root"})
            except RuntimeError as exc:
                rows.append({"error": str(exc)[:300]})
        ok = [r for r in rows if "error" not in r]
        out[name] = {"runs": rows, "median_socket_s": _median(ok, "socket_s"),
                     "median_xwayland_s": _median(ok, "xwayland_first_connection_s")}
    return out


def _median(rows: list[dict[str, object]], key: str) -> float | None:
    vals = [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]  # type: ignore[arg-type]
    return round(statistics.median(vals), 4) if vals else None


def frames(n: int) -> dict[str, object]:
    """1920×1080 grabs: XGetImage on Xvfb (today's route) and wlroots screencopy (grim) on sway."""
    import mss

    from wf.replayer.xvfb import VirtualDisplay

    out: dict[str, object] = {}
    vd = VirtualDisplay(width=W, height=H).start()
    try:
        assert vd.proc is not None
        with mss.MSS(display=vd.display) as sct:
            mon = sct.monitors[0]
            sct.grab(mon)
            meter, self0, walls = CpuMeter(xserver=vd.proc.pid), time.process_time(), []
            for _ in range(n):
                t0 = time.monotonic()
                sct.grab(mon)
                walls.append(time.monotonic() - t0)
            cpu = {**meter.stop(), "grabber": round(time.process_time() - self0, 4)}
        out["xvfb_mss"] = _per_frame(walls, cpu, n)
    finally:
        vd.stop()
    with compositor("sway", width=W, height=H) as c:
        app = c.popen(["gst-launch-1.0", "-q", "videotestsrc", "pattern=white", "!", "video/x-raw,framerate=1/1", "!",
                       "waylandsink"])  # one new frame a second: the compositor is (nearly) idle
        time.sleep(2.0)  # sway tiles the only window over the whole output
        for fmt in ("ppm", "png"):
            meter, walls = CpuMeter(compositor=c.proc.pid), []
            kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs = n if fmt == "ppm" else max(3, n // 5)
            for _ in range(runs):  # one grim process per frame: spawn + connect + copy + encode + write
                t0 = time.monotonic()
                subprocess.run(c.argv(["grim", "-t", fmt, "-"]), env=c.env, stdout=subprocess.DEVNULL, check=True)
                walls.append(time.monotonic() - t0)
            kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            grim_cpu = kids1.ru_utime - kids0.ru_utime + kids1.ru_stime - kids0.ru_stime
            out[f"sway_grim_{fmt}"] = _per_frame(walls, {**meter.stop(), "grim": round(grim_cpu, 4)}, runs)
        ppm = c.runtime / "frame.ppm"
        c.run(["grim", "-t", "ppm", str(ppm)])
        rgb = ppm.read_bytes()[len(f"P6\n{W} {H}\n255\n"):]
        px = range(0, len(rgb) - 2, 3 * 997)
        grim_white = round(sum(1 for i in px if min(rgb[i:i + 3]) >= 250) / max(1, len(px)), 4)
        out["native_window_white_fraction"] = {"grim_screencopy": grim_white,
                                               "x_getimage_on_xwayland": child(c, "xgetimage")}
        app.terminate()
        out["x_window_white_fraction"] = x_window_pixels(c)
    return out


def x_window_pixels(c: Compositor) -> dict[str, object]:
    """A white X client (xterm) on XWayland: what the root grab, the window's own GetImage and grim see."""
    xterm = c.popen(["xterm", "-bg", "white", "-fg", "white", "-geometry", "160x50+0+0"])
    wid = ""
    for _ in range(200):
        found = c.run(["xdotool", "search", "--onlyvisible", "--class", "xterm"]).stdout.split()
        wid = found[0] if found else ""
        if wid:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # drawn
    ppm = c.runtime / "xframe.ppm"
    c.run(["grim", "-t", "ppm", str(ppm)])
    rgb = ppm.read_bytes()[len(f"P6\n{W} {H}\n255\n"):] if ppm.exists() else b""
    px = range(0, len(rgb) - 2, 3 * 997)
    out = {"grim_screencopy": round(sum(1 for i in px if min(rgb[i:i + 3]) >= 250) / max(1, len(px)), 4),
           "x_getimage": child(c, "xgetimage", wid) if wid else {"error": "no xterm window"}}
    xterm.terminate()
    return out


def _per_frame(walls: list[float], cpu: dict[str, float], n: int) -> dict[str, object]:
    return {"frames": n, "wall_ms_median": round(statistics.median(walls) * 1000, 2),
            "wall_ms_max": round(max(walls) * 1000, 2),
            "cpu_ms_per_frame": {k: round(v * 1000 / n, 2) for k, v in cpu.items()},
            "cpu_ms_per_frame_total": round(sum(cpu.values()) * 1000 / n, 2)}


def pipewire(seconds: float) -> dict[str, object]:
    """mutter's ScreenCast over PipeWire (GNOME's route), 1920×1080, with a native client animating at 30 fps."""
    out: dict[str, object] = {}
    with compositor("mutter", width=W, height=H) as c:
        pw = c.start_helper(["pipewire"], ready=c.runtime / "pipewire-0")
        wp = c.start_helper(["wireplumber"])
        time.sleep(1.0)
        app = c.popen(["gst-launch-1.0", "-q", "videotestsrc", "pattern=ball", "is-live=true", "!",
                       "video/x-raw,framerate=30/1,width=320,height=240", "!", "waylandsink"])
        time.sleep(2.0)
        pids = {"compositor": c.proc.pid, "pipewire": pw.pid, "wireplumber": wp.pid, "client": app.pid}
        meter = CpuMeter(**pids)
        time.sleep(seconds)
        out["baseline_no_cast"] = {"seconds": seconds, "cpu_s": meter.stop()}
        meter = CpuMeter(**pids)
        cast = dbus_helper(c, "mutter-cast", str(seconds))
        used = meter.stop()
        out["cast"] = {**cast, "cpu_s": used}
        frames_n = int(cast.get("frames", 0) or 0)  # type: ignore[call-overload]
        if frames_n:
            base = out["baseline_no_cast"]["cpu_s"]  # type: ignore[index]
            extra = sum(used.values()) - sum(base.values()) + float(cast["consumer_cpu_s"])  # type: ignore[arg-type]
            out["cast_cpu_ms_per_frame"] = round(extra * 1000 / frames_n, 2)
        app.terminate()
        white = c.popen(["gst-launch-1.0", "-q", "videotestsrc", "pattern=white", "!",
                         "video/x-raw,width=1920,height=1080,framerate=1/1", "!", "waylandsink", "fullscreen=true"])
        time.sleep(2.0)
        out["native_window_white_fraction"] = {"screencast": dbus_helper(c, "mutter-cast", "1"),
                                               "x_getimage_on_xwayland": child(c, "xgetimage")}
        white.terminate()
    return out


def portal(seconds: float) -> dict[str, object]:
    """The real portal on sway: xdg-desktop-portal + xdg-desktop-portal-wlr (chooser off), as an app asks."""
    with compositor("sway", width=W, height=H) as c:
        c.env["XDG_CURRENT_DESKTOP"] = "sway"
        conf = c.runtime / ".config" / "xdg-desktop-portal-wlr"
        conf.mkdir(parents=True)
        (conf / "config").write_text("[screencast]\nchooser_type=none\noutput_name=HEADLESS-1\nmax_fps=30\n")
        if c.user:
            subprocess.run(["chown", "-R", f"{c.user}:nogroup", str(c.runtime / ".config")], check=True)
        c.session_bus()
        c.start_helper(["pipewire"], ready=c.runtime / "pipewire-0")
        c.start_helper(["wireplumber"])
        log = c.runtime / "xdpw.log"
        c.start_helper(["/usr/libexec/xdg-desktop-portal-wlr", "-l", "DEBUG"], log=log)
        time.sleep(1.0)
        result = dbus_helper(c, "portal-cast", str(seconds))
        lines = [ln.split("] - ", 1)[-1] for ln in log.read_text(errors="replace").splitlines()
                 if "format" in ln or "ERROR" in ln]
        return {**result, "xdpw_log": lines[-3:]}


def input_routes() -> dict[str, object]:
    """Who sees injected input: native Wayland clients (wev), X clients (xev), and X RECORD (wf's capture)."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with compositor("mutter", width=W, height=H) as c:
            c.start_helper(["pipewire"], ready=c.runtime / "pipewire-0")
            c.start_helper(["wireplumber"])
            xev_log, wev_log, ready = Path(tmp) / "xev", Path(tmp) / "wev", Path(tmp) / "ready"
            xev = c.start_helper(["xev", "-geometry", "400x300+100+100", "-event", "keyboard", "-event", "button"],
                                 log=xev_log)
            wid = ""
            for _ in range(200):
                found = c.run(["xdotool", "search", "--onlyvisible", "--name", "Event Tester"]).stdout.split()
                wid = found[0] if found else ""
                if wid:
                    break
                time.sleep(0.05)
            rec = subprocess.Popen([*wf_python(c), __file__, "--child", "xrecord", "6", str(ready)], env=c.env,
                                   stdout=subprocess.PIPE, text=True)
            while not ready.exists() and rec.poll() is None:
                time.sleep(0.02)
            wev = c.start_helper(["stdbuf", "-oL", "wev"], log=wev_log)  # mapped last: it gets the focus
            time.sleep(1.0)
            native = dbus_helper(c, "mutter-keys", "wayland")
            native_warm = dbus_helper(c, "mutter-keys", "native", "0.3")
            time.sleep(0.3)
            wev.terminate()
            time.sleep(0.7)  # the X window gets the focus back
            geo = c.run(["xdotool", "getwindowgeometry", "--shell", wid]).stdout if wid else ""
            g = dict(line.split("=", 1) for line in geo.split())
            x_keys = dbus_helper(c, "mutter-keys", "xclient", "0.3")
            click = dbus_helper(c, "mutter-click", str(int(g.get("X", 0)) + 50), str(int(g.get("Y", 0)) + 50))
            seen, _ = rec.communicate(timeout=30)
            latency = dbus_helper(c, "mutter-latency", "500")
            xev.terminate()
            time.sleep(0.2)
            out["mutter_remote_desktop"] = {
                "injected": {"native_window_focused": "wayland (cold), native (after 0.3 s warm-up)",
                             "x_window_focused": "xclient (after 0.3 s warm-up)", "clicks_on_x_window": 1},
                "calls": {"native": native, "native_warm": native_warm, "x": x_keys, "click": click},
                "native_wev_typed": wev_typed(wev_log.read_text()),
                "x_xev_typed": "".join(re.findall(r'KeyPress event.*?XLookupString gives 1 bytes: \(..\) "(.)"',
                                                  xev_log.read_text(), re.S)),
                "x_xev_button_presses": xev_log.read_text().count("ButtonPress event"),
                "x_record": json.loads(seen) if seen.strip() else {"error": "no output"},
                "call_latency": latency,
            }
        with compositor("sway", width=W, height=H) as c:
            wev_log = Path(tmp) / "wev-sway"
            c.start_helper(["stdbuf", "-oL", "wev"], log=wev_log)
            time.sleep(1.0)
            t0 = time.monotonic()
            typed = c.run(["wtype", "hello"])  # cold: wtype's virtual keyboard is the seat's first keyboard
            wtype_s = time.monotonic() - t0
            time.sleep(0.3)
            c.run(["wtype", "-s", "300", "world"])  # the same, waiting 300 ms before the first key
            pointer = c.run(["swaymsg", "seat", "seat0", "cursor", "press", "button1"])
            c.run(["swaymsg", "seat", "seat0", "cursor", "release", "button1"])
            time.sleep(0.3)
            swaymsg_buttons = wev_log.read_text().count("wl_pointer] button")
            vpointer = c.run(["/usr/bin/python3", str(HERE / "wayland_vpointer.py"), "960", "540", str(W), str(H)])
            time.sleep(0.5)
            text = wev_log.read_text()
            out["sway_virtual_keyboard"] = {
                "wtype_rc": typed.returncode, "wtype_s": round(wtype_s, 4),
                "injected": "hello (cold), world (after -s 300)",
                "native_wev_typed": wev_typed(text),
                "swaymsg_cursor_press_rc": pointer.returncode, "wev_buttons_after_swaymsg": swaymsg_buttons,
                "virtual_pointer_rc": vpointer.returncode,
                "wev_buttons_after_virtual_pointer": text.count("wl_pointer] button") - swaymsg_buttons,
                "wev_pointer_button_lines": [ln.strip() for ln in text.splitlines() if "wl_pointer] button" in ln],
            }
    return out


SECTIONS: dict[str, Callable[[bool], dict[str, object]]] = {
    "startup": lambda quick: startup(1 if quick else 3),
    "frames": lambda quick: frames(10 if quick else 30),
    "pipewire": lambda quick: pipewire(2.0 if quick else 5.0),
    "portal": lambda quick: portal(2.0),
    "input": lambda quick: input_routes(),
}


def versions() -> dict[str, str]:
    out = {}
    for pkg in VERSIONS:
        res = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
        out[pkg] = res.stdout.strip() or "not installed"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child_main(args.child)
    result: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "kernel": os.uname().release, "euid": os.geteuid(),
                    "dev_dri": Path("/dev/dri").exists(), "dev_input": Path("/dev/input").exists(),
                    "dev_uinput": Path("/dev/uinput").exists()},
        "versions": versions(), "quick": args.quick,
    }
    for name in args.only.split(","):
        t0 = time.monotonic()
        try:
            result[name] = SECTIONS[name](args.quick)
        except Exception as exc:  # one section failing (a package missing) must not lose the others' figures
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[:400]}
        print(f"wayland_probe: {name} done in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    out = HERE / "results" / "wayland.json"
    if out.exists() and args.only != ",".join(SECTIONS):  # a partial run keeps the other sections' figures
        result = {**json.loads(out.read_text()), **result}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

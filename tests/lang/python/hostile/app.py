"""Hostile Python plugin: one attack per tool (see healthplug.toml)."""

import os
import socket

from healthplug import DataType, NotGranted, Plugin, export, health, log, reason_id, tool


def attempt(fn):
    """What happened when trying `fn`: the exception's type, or the value."""
    try:
        return {"ok": repr(fn())[:200]}
    except BaseException as e:  # noqa: BLE001 - reporting what the sandbox did
        return {"refused": type(e).__name__}


class Hostile(Plugin):
    @tool("spin", "An endless loop")
    def spin(self):
        n = 0
        while True:
            n += 1

    @tool("grow", "Allocates until something stops it")
    def grow(self):
        hoard = []
        while True:
            hoard.append(bytearray(1 << 20))

    @tool("probe", "Files, environment, sockets, subprocesses")
    def probe(self):
        return {
            "read_passwd": attempt(lambda: open("/etc/passwd").read()),
            "list_root": attempt(lambda: os.listdir("/")),
            "write_file": attempt(lambda: open("/tmp/x", "w").write("x")),
            "environ": dict(os.environ),
            "socket": attempt(lambda: socket.create_connection(("93.184.216.34", 80), timeout=1)),
            "resolve": attempt(lambda: socket.getaddrinfo("example.com", 443)),
            "spawn": attempt(lambda: os.system("id")),
        }

    @tool("ungranted", "Reads a type the user did not grant")
    def ungranted(self):
        try:
            health.query([DataType.BODY_MASS]).last_days(30).fetch()
            return {"read": True}
        except NotGranted as e:
            return {"refused": reason_id(e.reason)}

    @tool("steps", "A benign read")
    def steps(self):
        return {"steps": sum(s.value for s in health.query([DataType.STEPS]).last_days(30).fetch())}

    @tool("huge", "A result far over the output cap")
    def huge(self):
        return {"blob": "x" * (8 << 20)}

    @tool("flood", "Logs far over the log cap, with escapes")
    def flood(self):
        # Under the host-call cap (10,000), far over the 64 KiB log cap.
        for i in range(5_000):
            log.info(f"FLOOD {i} \x1b]0;pwned\x07 " + "x" * 100)
        return {"logged": 5_000}


WitWorld = export(Hostile)

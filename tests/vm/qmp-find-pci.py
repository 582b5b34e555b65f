#!/usr/bin/python3
"""Ask a QEMU, over its QMP unix socket, where a PCI device sits.

    qmp-find-pci.py SOCKET VENDOR:DEVICE [--quit]

Prints one line per match: "PARENT SLOT FUNCTION QDEV_ID", where PARENT is
"root" for the root bus or the qdev id of the bridge or port the device sits
behind (bus numbers depend on the firmware; the tree does not).  SLOT and
FUNCTION are hexadecimal (0x5 0x0).  query-pci lists what is behind a bridge
only once the firmware has given the bridge a bus number: when the device
is not found in a QEMU started with -S, this sends "cont" and asks again
until the firmware has done so (60 s at most).  With --quit, sends "quit"
afterwards.  Exit 1 when nothing matches.
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise RuntimeError(f"not a QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command):
        self.sock.sendall(json.dumps({"execute": command}).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error']}")
            return reply["return"]


def walk(devices, parent, want, found):
    for dev in devices:
        ids = dev.get("id", {})
        if (ids.get("vendor"), ids.get("device")) == want:
            found.append((parent, dev["slot"], dev["function"],
                          dev.get("qdev_id", "")))
        bridge = dev.get("pci_bridge")
        if bridge:
            walk(bridge.get("devices", []), dev.get("qdev_id") or
                 f"{dev['bus']:02x}:{dev['slot']:02x}.{dev['function']}",
                 want, found)


def main():
    args = [a for a in sys.argv[1:] if a != "--quit"]
    if len(args) != 2 or ":" not in args[1]:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    vendor, device = (int(x, 16) for x in args[1].split(":"))
    qmp = Qmp(args[0])
    deadline = time.monotonic() + 60
    resumed = False
    while True:
        found = []
        for bus in qmp.execute("query-pci"):
            walk(bus["devices"], "root", (vendor, device), found)
        if found or time.monotonic() > deadline:
            break
        if not resumed and not qmp.execute("query-status")["running"]:
            qmp.execute("cont")
            resumed = True
        time.sleep(0.2)
    if "--quit" in sys.argv:
        try:
            qmp.execute("quit")
        except RuntimeError:
            pass        # QEMU may close the socket before it answers
    for parent, slot, function, qdev_id in found:
        print(f"{parent} {slot:#x} {function:#x} {qdev_id}")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""An independent client of virt-hostdev-backend's protocol (Python's json
and socket.send_fds, not the project's C client), run as root in the test
bed: hands the group and container fds over the socket, then checks that
bad requests get error replies and the backend carries on, that fds sent
with anything but "handover" are not kept, and that quit ends it with 0.

    backend-client.py BACKEND ADDRESS GROUP
"""
import json
import os
import socket
import subprocess
import sys

backend, address, group = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(what, cond, got):
    print(("ok      " if cond else "FAILED  ") + what + ": " + repr(got)[:300])
    if not cond:
        failures.append(what)


group_fd = os.open(f"/dev/vfio/{group}", os.O_RDWR)
container_fd = os.open("/dev/vfio/vfio", os.O_RDWR)
mine, theirs = socket.socketpair()
proc = subprocess.Popen(
    [backend, f"--socket-fd={theirs.fileno()}", f"--device={address}",
     "--uid=65534", "--gid=65534"],
    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL)
theirs.close()
replies = mine.makefile("rb")


def call(line, fds=None):
    data = line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode()
    if fds:
        socket.send_fds(mine, [data], fds)
    else:
        mine.sendall(data)
    return json.loads(replies.readline())


r = call({"id": 1, "cmd": "handover", "group": int(group)}, [group_fd, container_fd])
check("handover of group and container fds (SCM_RIGHTS)", r.get("ok") is True, r)
os.close(group_fd)
os.close(container_fd)

bad = [
    (b"nonsense\n", "request is not JSON"),
    (b"[1,2,3]\n", "not a JSON object"),
    (b'{"id":2}\n', 'no string "cmd"'),
    (b'{"id":3,"cmd":"launch-missiles"}\n', 'unknown command'),
    (b'{"id":4,"cmd":"region-read","region":99,"offset":0}\n', "region 99 does not exist"),
    (b'{"id":5,"cmd":"region-read","region":0,"offset":0,"size":3}\n', '"size" must be'),
    (b'{"id":6,"cmd":"region-read","region":0,"offset":1048576}\n', "do not fit"),
    (b'{"id":7,"cmd":"config-read","offset":0,"bogus":1}\n', 'unknown field "bogus"'),
    (b'{"id":8,"cmd":"dma-test","length":4096}\n', "1 to 4095 bytes"),
    (b"x" * 70000 + b"\n", "longer than 65536 bytes"),
]
for line, message in bad:
    r = call(line)
    check(f"refused: {line[:50]!r}", r.get("ok") is False and message in r.get("error", ""), r)

r = call({"id": 20, "cmd": "region-read", "region": 0, "offset": 0, "size": 4})
check("still serving: edu ID register", r.get("ok") and r.get("value") == 0x010000ED, r)

# A second handover is refused; its fds are not kept.
g2 = os.open("/dev/vfio/vfio", os.O_RDWR)
r = call({"id": 21, "cmd": "handover"}, [g2])
check("second handover refused", r.get("ok") is False and "open already" in r.get("error", ""), r)
os.close(g2)

# fds that come with another request are closed.
rd, wr = os.pipe()
r = call({"id": 22, "cmd": "status"}, [rd])
os.close(rd)
os.close(wr)
held = {int(n): os.readlink(f"/proc/{proc.pid}/fd/{n}") for n in os.listdir(f"/proc/{proc.pid}/fd")}
check("a pipe sent with \"status\" is not kept",
      r.get("ok") and not any(t.startswith("pipe:") for n, t in held.items() if n > 2), held)
check("status: uid 65534, no_new_privs 1", r.get("uid") == 65534 and r.get("no_new_privs") == 1, r)

r = call({"id": "last", "cmd": "quit"})
check("quit", r == {"id": "last", "ok": True}, r)
check("backend exit status", proc.wait(timeout=10) == 0, proc.returncode)

if failures:
    print(f"backend-client.py: {len(failures)} FAILED: {failures}")
    sys.exit(1)
print("backend-client.py: all passed")

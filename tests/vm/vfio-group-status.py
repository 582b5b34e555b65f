#!/usr/bin/python3
"""Open /dev/vfio/GROUP and print what VFIO_GROUP_GET_STATUS says:
"viable" or "not viable" (linux/vfio.h: VFIO_GROUP_FLAGS_VIABLE).

    vfio-group-status.py GROUP
"""
import fcntl
import os
import struct
import sys

VFIO_TYPE = ord(";")
VFIO_BASE = 100
# _IO(VFIO_TYPE, VFIO_BASE + 3): no size or direction bits.
VFIO_GROUP_GET_STATUS = (VFIO_TYPE << 8) | (VFIO_BASE + 3)
VFIO_GROUP_FLAGS_VIABLE = 1 << 0


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    fd = os.open(f"/dev/vfio/{sys.argv[1]}", os.O_RDWR)
    try:
        status = bytearray(struct.pack("=II", 8, 0))    # argsz, flags
        fcntl.ioctl(fd, VFIO_GROUP_GET_STATUS, status, True)
        _, flags = struct.unpack("=II", status)
    finally:
        os.close(fd)
    print("viable" if flags & VFIO_GROUP_FLAGS_VIABLE else "not viable")
    return 0


if __name__ == "__main__":
    sys.exit(main())

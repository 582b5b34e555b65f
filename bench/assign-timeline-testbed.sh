#!/usr/bin/env bash
# A timeline of ours in the assign test bed (bench/README.rst, "assign"):
# udevd and libvirtd running as in the comparison, udev settled before each
# detach, then `strace -f -ttt --seccomp-bpf` of one `nodedev-detach` of
# the 9 devices tracing only execve, the writes, fsync/rename and
# exit_group, 5 times (each given back, untimed).  The traces go to
# $TESTBED_RESULTS/timeline.N.
#
#   DEVS=$(python3 -c 'from importlib.machinery import SourceFileLoader as L;
#          print(L("a", "bench/assign").load_module().testbed_devices(8))')
#   VIRT_HOSTDEV_BUILD_DIR=/path/build tests/vm/testbed --timeout 900 \
#     --results DIR --devices "$DEVS" bench/assign-timeline-testbed.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"

cli=${VIRT_HOSTDEV_BUILD_DIR:?}/tools/virt-hostdev
devs="0000:02:00.0 0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:06:00.0 0000:07:00.0 0000:08:00.0 0000:09:00.0 0000:01:01.0"
tb_start_libvirt
settle() { SYSTEMD_IGNORE_CHROOT=1 udevadm settle --timeout=60; }
"$cli" nodedev-detach $devs >/dev/null && "$cli" nodedev-reattach $devs >/dev/null ||
    tb_fail "warm-up detach/reattach failed"
for n in 1 2 3 4 5; do
    settle
    strace -f -ttt --seccomp-bpf -e trace=execve,write,fsync,fdatasync,rename,exit_group \
        -o "$TESTBED_RESULTS/timeline.$n" "$cli" nodedev-detach $devs >/dev/null ||
        tb_fail "detach $n failed"
    settle
    "$cli" nodedev-reattach $devs >/dev/null || tb_fail "reattach $n failed"
done
echo "timeline: done"

#!/usr/bin/env bash
# Where ours waits, per thread, in the assign test bed (bench/README.rst,
# "assign"): udevd and libvirtd running as in the comparison, udev settled
# before each detach, then the kernel's scheduler events (ftrace: switches
# with the stack of every task that blocks, wake-ups, forks, execs, exits)
# during one `virt-hostdev-cli nodedev-detach` of the 9 devices, 3 times
# (each given back, untimed).  The traces go to $TESTBED_RESULTS/trace.N;
# `bench/sched-report DIR/trace.N` reads them.  Tracing slows the guest:
# the times are for comparing threads and phases, not for ratios.
#
#   DEVS=$(python3 -c 'from importlib.machinery import SourceFileLoader as L;
#          print(L("a", "bench/assign").load_module().testbed_devices(8))')
#   VIRT_HOSTDEV_BUILD_DIR=/path/build tests/vm/testbed --timeout 900 \
#     --results DIR --devices "$DEVS" bench/assign-sched-testbed.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"

cli=${VIRT_HOSTDEV_BUILD_DIR:?}/tools/virt-hostdev-cli
devs="0000:02:00.0 0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:06:00.0 0000:07:00.0 0000:08:00.0 0000:09:00.0 0000:01:01.0"
T=/sys/kernel/tracing
tb_start_libvirt
settle() { SYSTEMD_IGNORE_CHROOT=1 udevadm settle --timeout=60; }
mountpoint -q $T || mount -t tracefs nodev $T || tb_fail "cannot mount tracefs on $T"
"$cli" nodedev-detach $devs >/dev/null && "$cli" nodedev-reattach $devs >/dev/null ||
    tb_fail "warm-up detach/reattach failed"
echo 0 >$T/tracing_on
echo 32768 >$T/buffer_size_kb
for e in sched_switch sched_wakeup sched_wakeup_new sched_process_fork \
    sched_process_exec sched_process_exit; do
    echo 1 >$T/events/sched/$e/enable
done
echo 'stacktrace if prev_state & 3' >$T/events/sched/sched_switch/trigger
for n in 1 2 3; do
    settle
    echo >$T/trace
    echo 1 >$T/tracing_on
    echo "BEGIN $n" >$T/trace_marker
    "$cli" nodedev-detach $devs >/dev/null || tb_fail "detach $n failed"
    echo "END $n" >$T/trace_marker
    echo 0 >$T/tracing_on
    cat $T/trace >"$TESTBED_RESULTS/trace.$n"
    settle
    "$cli" nodedev-reattach $devs >/dev/null || tb_fail "reattach $n failed"
done
echo 'stacktrace if prev_state & 3' | sed 's/^/!/' >$T/events/sched/sched_switch/trigger
echo "sched: done"
